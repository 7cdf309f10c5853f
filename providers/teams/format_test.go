package teams

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

func TestFormatWithoutUserOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags, n.Author, n.Post.URL = nil, nil, providers.Author{}, ""
	c := format(n, defaultExcerptLength)
	require.Empty(t, c.ThemeColor)
	require.Empty(t, c.Sections[0].Facts, "no author, no fact")
	require.Equal(t, "[Upgrading to 2.0 & beyond](https://forum.example.org/t/upgrading-to-2-0/42)", c.Sections[0].ActivityTitle, "the topic is linked when the post has no URL")
}
