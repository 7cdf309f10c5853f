package discord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// updateGolden rewrites the golden files:
// CHATSIDECAR_UPDATE_GOLDEN=1 go test ./providers/discord.
func updateGolden() bool { return os.Getenv("CHATSIDECAR_UPDATE_GOLDEN") == "1" }

// goldenNotification is the base of the golden cases: a first post in a
// top-level category.
func goldenNotification() *providers.Notification {
	return &providers.Notification{
		Kind: providers.PostCreated,
		Site: providers.Site{Title: "Example Forum", BaseURL: "https://forum.example.org", LogoURL: "https://forum.example.org/uploads/logo-small.png"},
		Topic: providers.Topic{
			ID: 42, Title: "Welcome to the forum", URL: "https://forum.example.org/t/welcome/42",
			Category: &providers.Category{ID: 3, Name: "General", Slug: "general", Color: "0088CC"},
		},
		Post: providers.Post{
			ID: 100, Number: 1, Version: 1, URL: "https://forum.example.org/t/welcome/42/1",
			Cooked:    `<p>Hello everyone <img src="/images/emoji/twitter/wave.png?v=12" title=":wave:" class="emoji" alt=":wave:" loading="lazy" width="20" height="20"></p><p>Please read the <a href="/guidelines">guidelines</a> first.</p>`,
			CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		},
		Author: providers.Author{
			Username: "jane", Name: "Jane Doe", DisplayName: "Jane Doe (@jane)",
			AvatarURL:  "https://forum.example.org/user_avatar/forum.example.org/jane/48/1_2.png",
			ProfileURL: "https://forum.example.org/u/jane",
		},
		Filter: "watch",
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(n *providers.Notification, o *formatOptions)
	}{
		{name: "new_topic", modify: func(*providers.Notification, *formatOptions) {}},
		{name: "reply", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Post.ID, n.Post.Number, n.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
			n.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
			n.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob", AvatarURL: "//cdn.example.org/bob.png"}
		}},
		{name: "tags_parent_category", modify: func(n *providers.Notification, o *formatOptions) {
			n.Topic.Title = "Upgrade fails on 2.0"
			n.Topic.Tags = []string{"upgrade", "docker", "help-wanted"}
			n.Topic.Category = &providers.Category{
				ID: 7, Name: "Installation", Slug: "installation", Color: "F1592A",
				Parent: &providers.Category{ID: 2, Name: "Support", Slug: "support", Color: "25AAE2"},
			}
			n.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
			o.Content, o.Username, o.AvatarURL = "<@&123456> new support question", "Forum bot", "/images/bot.png"
		}},
		{name: "escaping", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Topic.Title = "Q&A: *bold* _it_ `code` ~~gone~~ <b> [link](x) # h"
			n.Topic.Tags = []string{"a_b", "c*d"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D [lab]", Color: "zzzzzz"}
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~~x~~ ` + "`tick`" + ` @everyone</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a> <a href="https://example.com/a)b">paren</a></p>`
			n.Author.DisplayName = "Jane *Doe* (@jane)"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := goldenNotification()
			o := formatOptions{ExcerptLength: 400}
			tc.modify(n, &o)
			got, err := json.MarshalIndent(format(n, o), "", "  ")
			require.NoError(t, err)
			got = unescapeHTML(got)
			path := filepath.Join("testdata", tc.name+".golden.json")
			if updateGolden() {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run CHATSIDECAR_UPDATE_GOLDEN=1 go test ./providers/discord to create it")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// unescapeHTML undoes json.Marshal's \u003c escapes so golden files show
// what Discord receives, as providers.EncodeJSON sends it.
func unescapeHTML(b []byte) []byte {
	r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	return []byte(r.Replace(string(b)))
}

func TestFormatMatchesWire(t *testing.T) {
	t.Parallel()
	m := format(goldenNotification(), formatOptions{ExcerptLength: 400})
	wire, err := providers.EncodeJSON(m)
	require.NoError(t, err)
	indented, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.JSONEq(t, string(indented), string(wire))
}

func TestFormatLimits(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
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
	n := goldenNotification()
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
	n := goldenNotification()
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
