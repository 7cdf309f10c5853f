package groupme

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	providertest.RunGolden(t, providertest.GoldenCases(), func(c providertest.GoldenCase) any {
		return post{BotID: "0123456789abcdef01234567", Text: format(c.Notification, defaultExcerptLength)}
	})
}

func TestFormatWithoutAuthorOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags, n.Author, n.Post.URL, n.Post.Cooked = nil, nil, providers.Author{}, "", ""
	require.Equal(t, "Posted to Example Forum\n\nTopic: Upgrading to 2.0 & beyond\n(Read More: https://forum.example.org/t/upgrading-to-2-0/42)", format(n, defaultExcerptLength))
}

func TestCut(t *testing.T) {
	t.Parallel()
	require.Equal(t, "abc", cut("abc", 3))
	require.Equal(t, "ab…", cut("abcd", 3))
	require.Equal(t, "hé…", cut("héllo", 3))
}

func TestFormatLongTitle(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Title = strings.Repeat("t", 2000)
	got := format(n, defaultExcerptLength)
	require.Equal(t, maxText, utf8.RuneCountInString(got))
	require.True(t, strings.HasSuffix(got, "…"))
}
