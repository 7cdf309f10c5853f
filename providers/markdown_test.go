package providers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

func TestMarkdownHeading(t *testing.T) {
	t.Parallel()
	n := &providers.Notification{
		Topic: providers.Topic{
			Title: "Q&A *now*", URL: "https://f.example/t/q/1", Tags: []string{"a_b"},
			Category: &providers.Category{Name: "Install", Parent: &providers.Category{Name: "Support"}},
		},
		Post:   providers.Post{URL: "https://f.example/t/q-(a)/1/2"},
		Author: providers.Author{Username: "jane", DisplayName: "Jane *Doe* (@jane)"},
	}
	require.Equal(t, `**Jane \*Doe\* (@jane)** posted in **[Q&A \*now\*](https://f.example/t/q-%28a%29/1/2)** \[Support/Install\] a\_b`,
		providers.MarkdownHeading(n))

	n.Author, n.Post.URL, n.Topic.URL, n.Topic.Category, n.Topic.Tags = providers.Author{}, "", "", nil, nil
	require.Equal(t, `**Q&A \*now\***`, providers.MarkdownHeading(n), "no author, no link, no category, no tags")
}

func TestMarkdownLinkURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://e.org/a%20b%28c%29%3Cd%3E", providers.MarkdownLinkURL("https://e.org/a b(c)<d>"))
}
