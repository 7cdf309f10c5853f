package powerautomate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	providertest.RunGolden(t, providertest.GoldenCases(), func(c providertest.GoldenCase) any {
		return format(c.Notification, defaultExcerptLength)
	})
}

func TestFormatWithoutAuthor(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags, n.Author, n.Post.URL, n.Post.Cooked = nil, nil, providers.Author{}, "", ""
	c := format(n, defaultExcerptLength).Attachments[0].Content
	require.Len(t, c.Body, 1, "no author and no excerpt leave only the title")
	require.Equal(t, "[Upgrading to 2.0 & beyond](https://forum.example.org/t/upgrading-to-2-0/42)", c.Body[0].Text, "the topic is linked when the post has no URL")

	n.Author = providers.Author{Username: "bob"}
	c = format(n, defaultExcerptLength).Attachments[0].Content
	require.Len(t, c.Body[1].Columns, 1, "no avatar, no image column")
}
