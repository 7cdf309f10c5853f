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
