package discord

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Discord adds to the shared cases: a protocol-relative avatar,
	// the webhook's content, name and avatar, and text with Discord's own
	// specials (~~, @everyone, a ')' in a link, a colour that is not one).
	extra := map[string]func(n *providers.Notification, o *formatOptions){
		providertest.GoldenReply: func(n *providers.Notification, _ *formatOptions) {
			n.Author.AvatarURL = "//cdn.example.org/bob.png"
		},
		providertest.GoldenTagsParentCategory: func(_ *providers.Notification, o *formatOptions) {
			o.Content, o.Username, o.AvatarURL = "<@&123456> new support question", "Forum bot", "/images/bot.png"
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *formatOptions) {
			n.Topic.Title = "Q&A: *bold* _it_ `code` ~~gone~~ <b> [link](x) # h"
			n.Topic.Tags = []string{"a_b", "c*d"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D [lab]", Color: "zzzzzz"}
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~~x~~ ` + "`tick`" + ` @everyone</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a> <a href="https://example.com/a)b">paren</a></p>`
			n.Author.DisplayName = "Jane *Doe* (@jane)"
		},
	}
	options := func() *formatOptions { return &formatOptions{ExcerptLength: 400} }
	providertest.RunGoldenTweaked(t, providertest.GoldenCases(), options, extra, func(n *providers.Notification, o *formatOptions) any {
		return format(n, *o)
	})
}

func TestFormatLimits(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Topic.Title = strings.Repeat("*", 300)
	n.Topic.Tags = []string{strings.Repeat("t", 100)}
	n.Author.DisplayName = strings.Repeat("a", 300)
	n.Site.Title = strings.Repeat("s", 3000)
	n.Post.Cooked = strings.Repeat(`<a href="https://example.com/a/very/long/path/to/somewhere">x</a> `, 2000)
	m := format(n, formatOptions{ExcerptLength: providers.ExcerptLengthMax, Content: strings.Repeat("c", 2500), Username: strings.Repeat("u", 100)})
	e := m.Embeds[0]
	require.LessOrEqual(t, utf8.RuneCountInString(m.Content), maxContent)
	require.LessOrEqual(t, utf8.RuneCountInString(m.Username), maxUsername)
	require.LessOrEqual(t, utf8.RuneCountInString(e.Title), maxTitle)
	require.True(t, strings.HasSuffix(e.Title, "…"))
	require.False(t, strings.HasSuffix(strings.TrimSuffix(e.Title, "…"), `\`), "never cut inside an escape")
	require.LessOrEqual(t, utf8.RuneCountInString(e.Description), maxDescription)
	require.Greater(t, utf8.RuneCountInString(e.Description), maxDescription/2, "the excerpt uses the room it has")
	require.LessOrEqual(t, utf8.RuneCountInString(e.Author.Name), maxAuthorName)
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) +
		utf8.RuneCountInString(e.Author.Name) + utf8.RuneCountInString(e.Footer.Text)
	require.LessOrEqual(t, total, 6000, "Discord's limit on all embed text")
}

func TestFormatWithoutAuthorOrExcerpt(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Author = providers.Author{}
	n.Site = providers.Site{}
	n.Topic.Category = nil
	n.Post.Cooked = ""
	n.Post.URL = ""
	n.Post.CreatedAt = time.Time{}
	m := format(n, formatOptions{ExcerptLength: 400})
	require.Equal(t, []embed{{Title: "Welcome to the forum", URL: "https://forum.example.org/t/welcome/42"}}, m.Embeds)
}

func TestColor(t *testing.T) {
	t.Parallel()
	c := func(hex string) *providers.Category { return &providers.Category{Color: hex} }
	v := func(i int) *int { return &i }
	tests := []struct {
		cat  *providers.Category
		want *int
	}{
		{nil, nil},
		{c(""), nil},
		{c("0088CC"), v(0x0088CC)},
		{c("#0088cc"), v(0x0088CC)},
		{c("000000"), v(0)},
		{c("F00"), v(0xFF0000)},
		{c("nothex"), nil},
		{c("12345"), nil},
		{&providers.Category{Parent: c("25AAE2")}, v(0x25AAE2)},
		{&providers.Category{Color: "F1592A", Parent: c("25AAE2")}, v(0xF1592A)},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, color(tc.cat))
	}
}

func TestAbsURL(t *testing.T) {
	t.Parallel()
	const base = "https://forum.example.org"
	require.Equal(t, "", absURL("", base))
	require.Equal(t, "https://x.org/a", absURL("https://x.org/a", base))
	require.Equal(t, "http://x.org/a", absURL("http://x.org/a", base))
	require.Equal(t, "https://cdn.example.org/a.png", absURL("//cdn.example.org/a.png", base))
	require.Equal(t, "https://forum.example.org/a.png", absURL("/a.png", base))
	require.Equal(t, "", absURL("/a.png", ""))
	require.Equal(t, "", absURL("javascript:alert(1)", base))
	require.Equal(t, "", absURL("a.png", base))
}

func TestThreadName(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	require.Equal(t, "Welcome to the forum", threadName(n))
	n.Topic.Title = "*not escaped* <x>"
	require.Equal(t, "*not escaped* <x>", threadName(n), "thread names are plain text")
	n.Topic.Title = " "
	require.Equal(t, "Topic 42", threadName(n))
}

func TestFitEscaped(t *testing.T) {
	t.Parallel()
	require.Equal(t, `a\*b`, fitEscaped("a*b", 10))
	got := fitEscaped(strings.Repeat("*", 20), 9)
	require.LessOrEqual(t, utf8.RuneCountInString(got), 9)
	require.Equal(t, `\*\*\*\*…`, got)
	require.Equal(t, "abcd…", fitEscaped("abcdefgh", 5))
}
