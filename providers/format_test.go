package providers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

func TestTopicHeading(t *testing.T) {
	t.Parallel()
	parent := &providers.Category{Name: "Support"}
	tests := []struct {
		topic providers.Topic
		want  string
	}{
		{providers.Topic{Title: "PM"}, "PM"},
		{providers.Topic{Title: "T", Category: &providers.Category{Name: "General"}}, "T [General]"},
		{providers.Topic{Title: "T", Category: &providers.Category{Name: "Install", Parent: parent}}, "T [Support/Install]"},
		{providers.Topic{Title: "T", Tags: []string{"a", "b"}}, "T a, b"},
		{providers.Topic{Title: "T", Tags: []string{"a"}, Category: &providers.Category{Name: "C"}}, "T [C] a"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, providers.TopicHeading(tc.topic))
	}
	require.Empty(t, providers.CategoryLabel(nil))
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Jane Doe (@jane)", providers.DisplayName(providers.Author{Username: "jane", DisplayName: "Jane Doe (@jane)"}))
	require.Equal(t, "@jane", providers.DisplayName(providers.Author{Username: "jane", Name: "Jane Doe"}))
	require.Empty(t, providers.DisplayName(providers.Author{}))
}

func TestPostURL(t *testing.T) {
	t.Parallel()
	n := &providers.Notification{Topic: providers.Topic{URL: "https://f.example/t/x/1"}, Post: providers.Post{URL: "https://f.example/t/x/1/2"}}
	require.Equal(t, "https://f.example/t/x/1/2", providers.PostURL(n))
	n.Post.URL = ""
	require.Equal(t, "https://f.example/t/x/1", providers.PostURL(n), "the topic when the post has no link")
}
