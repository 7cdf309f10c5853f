package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// update rewrites the golden files: go test ./providers/slack -update.
var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json")

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

func goldenTarget() *providers.Target {
	return &providers.Target{
		Data:     map[string]string{"identifier": "#general"},
		Settings: providers.Settings{"access_token": "xoxb-test", "excerpt_length": 400},
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(n *providers.Notification, tg *providers.Target)
	}{
		{name: "new_topic", modify: func(*providers.Notification, *providers.Target) {}},
		{name: "reply", modify: func(n *providers.Notification, _ *providers.Target) {
			n.Post.ID, n.Post.Number, n.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
			n.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
			n.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob"}
		}},
		{name: "tags_parent_category", modify: func(n *providers.Notification, tg *providers.Target) {
			n.Topic.Title = "Upgrade fails on 2.0"
			n.Topic.Tags = []string{"upgrade", "docker", "help-wanted"}
			n.Topic.Category = &providers.Category{
				ID: 7, Name: "Installation", Slug: "installation", Color: "F1592A",
				Parent: &providers.Category{ID: 2, Name: "Support", Slug: "support", Color: "25AAE2"},
			}
			n.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
			tg.Settings["username"] = "Forum bot"
			tg.Settings["icon_url"] = "/images/bot.png"
		}},
		{name: "escaping", modify: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* claims"
			n.Topic.Tags = []string{"a&b"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>"}
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~x~</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="//cdn.example.com/x.png">cdn</a> <a href="mailto:team@example.org">mail us</a> ` +
				`<a href="javascript:alert(1)">not a link</a> <a href="https://example.com/a|b">pipe</a> ` +
				`<a href="https://example.com/bare">https://example.com/bare</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		}},
		{name: "thread_reply", modify: func(n *providers.Notification, _ *providers.Target) {
			n.Post.ID, n.Post.Number, n.Post.URL = 102, 3, "https://forum.example.org/t/welcome/42/3"
			n.Post.Cooked = `<aside class="quote no-group" data-username="jane"><div class="title">jane:</div><blockquote><p>Hello everyone</p></blockquote></aside><p>Replying in the thread.</p>`
			n.Filter, n.ThreadID = "thread", "1700000000.000100"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, tg := goldenNotification(), goldenTarget()
			tc.modify(n, tg)
			got, err := json.MarshalIndent(format(n, optionsFor(tg, n, modeAPI)), "", "  ")
			require.NoError(t, err)
			got = unescapeHTML(got)
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *updateGolden {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./providers/slack -update to create it")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// unescapeHTML undoes json.Marshal's \u003c escapes so golden files show
// what Slack receives, as providers.EncodeJSON sends it.
func unescapeHTML(b []byte) []byte {
	r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	return []byte(r.Replace(string(b)))
}

func TestFormatMatchesWire(t *testing.T) {
	t.Parallel()
	// The golden files use MarshalIndent; the wire uses EncodeJSON. Both
	// must describe the same document.
	n, tg := goldenNotification(), goldenTarget()
	m := format(n, optionsFor(tg, n, modeAPI))
	wire, err := providers.EncodeJSON(m)
	require.NoError(t, err)
	indented, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.JSONEq(t, string(indented), string(wire))
	require.False(t, bytes.Contains(wire, []byte(`\u003c`)))
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n := goldenNotification()

	tg := goldenTarget()
	o := optionsFor(tg, n, modeAPI)
	require.Equal(t, "general", o.Channel, "the Web API gets the identifier without '#'")
	require.Equal(t, "Example Forum", o.Username, "the bot is named after the forum by default")
	require.Equal(t, n.Site.LogoURL, o.IconURL)
	require.Empty(t, o.ThreadTS)

	n.Filter, n.ThreadID = "thread", "1.2"
	require.Equal(t, "1.2", optionsFor(tg, n, modeAPI).ThreadTS)
	require.Empty(t, optionsFor(tg, n, modeWebhook).ThreadTS, "a webhook cannot reply into a thread")
	require.Equal(t, "#general", optionsFor(tg, n, modeWebhook).Channel, "legacy webhooks take the channel as entered")
	n.Filter = "follow"
	require.Empty(t, optionsFor(tg, n, modeAPI).ThreadTS, "only thread rules reply into threads")

	tg.Settings["icon_url"] = "https://cdn.example.org/bot.png"
	require.Equal(t, "https://cdn.example.org/bot.png", optionsFor(tg, n, modeAPI).IconURL)
	tg.Settings["icon_url"] = "images/bot.png"
	require.Equal(t, "https://forum.example.org/images/bot.png", optionsFor(tg, n, modeAPI).IconURL)
	tg.Settings["excerpt_length"] = 0
	require.Equal(t, 400, optionsFor(tg, n, modeAPI).ExcerptLength)
}

func TestFormatWithoutAuthorOrExcerpt(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	n.Author = providers.Author{}
	n.Post.Cooked = `<p><img src="/uploads/photo.jpg" alt="photo"></p>`
	n.Topic.Category = nil
	m := format(n, formatOptions{ExcerptLength: 400})
	require.Len(t, m.Blocks, 1, "empty sections are invalid_blocks, so they are left out")
	require.Equal(t, "*<https://forum.example.org/t/welcome/42/1|Welcome to the forum>*", m.Blocks[0].Text.Text)
	require.Equal(t, "Welcome to the forum", m.Text)
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	const base = "https://forum.example.org"
	tests := []struct {
		name   string
		cooked string
		limit  int
		want   string
	}{
		{"text", `<p>Hello world</p>`, 400, "Hello world"},
		{"entities escaped", `<p>a &lt; b &amp;&amp; c &gt; d</p>`, 400, "a &lt; b &amp;&amp; c &gt; d"},
		{"whitespace collapsed", "<p>  one\n\n  two\tthree </p>", 400, "one two three"},
		{"paragraphs", `<p>one</p><p>two</p>`, 400, "one\n\ntwo"},
		{"line break", `<p>one<br>two</p>`, 400, "one\ntwo"},
		{"list", `<ul><li>a</li><li>b</li></ul>`, 400, "• a\n• b"},
		{"pre keeps lines", "<pre><code>a  b\nc</code></pre>", 400, "a  b\nc"},
		{"relative link", `<a href="/t/x/1">topic</a>`, 400, "<https://forum.example.org/t/x/1|topic>"},
		{"protocol-relative link", `<a href="//cdn.example.com/f">f</a>`, 400, "<https://cdn.example.com/f|f>"},
		{"absolute link", `<a href="http://example.com/">ex</a>`, 400, "<http://example.com/|ex>"},
		{"bare link", `<a href="https://example.com/">https://example.com/</a>`, 400, "<https://example.com/>"},
		{"link without text", `<a href="https://example.com/"></a>`, 400, "<https://example.com/>"},
		{"mailto", `<a href="mailto:a@example.com">mail</a>`, 400, "<mailto:a@example.com|mail>"},
		{"javascript is text", `<a href="javascript:alert(1)">click</a>`, 400, "click"},
		{"no href is text", `<a>test</a>`, 400, "test"},
		{"ampersand in url", `<a href="https://e.com/?a=1&amp;b=2">q</a>`, 400, "<https://e.com/?a=1&amp;b=2|q>"},
		{"link text escaped", `<a href="https://e.com/">a &lt;b&gt;</a>`, 400, "<https://e.com/|a &lt;b&gt;>"},
		{"emoji", `<p>hi <img class="emoji" title=":smile:" alt=":smile:" src="/e.png"></p>`, 400, "hi :smile:"},
		{"emoji alt only", `<img class="emoji only-emoji" alt=":+1:" src="/e.png">`, 400, ":+1:"},
		{"emoji in link", `<a href="/x"><img class="emoji" alt=":star:"> star</a>`, 400, "<https://forum.example.org/x|:star: star>"},
		{"image dropped", `<p>see <img src="/uploads/a.png" alt="chart"></p>`, 400, "see"},
		{"lightbox meta dropped", `<div class="lightbox-wrapper"><a class="lightbox" href="/uploads/a.png"><img src="/uploads/a.png"><div class="meta"><span class="filename">a.png</span><span class="informations">800×600 12 KB</span></div></a></div>`, 400, "<https://forum.example.org/uploads/a.png>"},
		{"quote dropped", `<aside class="quote"><div class="title">bob:</div><blockquote>old</blockquote></aside><p>new</p>`, 400, "new"},
		{"spoiler dropped", `<p>the end: <span class="spoiler">he dies</span></p>`, 400, "the end:"},
		{"script dropped", `<p>a</p><script>alert(1)</script>`, 400, "a"},
		{
			"onebox keeps its source",
			`<aside class="onebox allowlistedgeneric"><header class="source"><a href="http://somesource.com">meta.discourse.org</a></header><article class="onebox-body"><h3>Title</h3><p>Long preview</p></article></aside>`,
			400, "<http://somesource.com|meta.discourse.org>",
		},
		{"cut at limit", `<p>abcdefgh</p>`, 5, "abcde…"},
		{"exact limit", `<p>abcde</p>`, 5, "abcde"},
		{"cut on a rune boundary", `<p>héllo wörld</p>`, 8, "héllo wö…"},
		{"cut counts an escape as one", `<p>a&amp;b&amp;c</p>`, 3, "a&amp;b…"},
		{"cut inside link text", `<p>go <a href="/x">somewhere far</a> now</p>`, 7, "go <https://forum.example.org/x|some>…"},
		{"cut before a link", `<p>abc <a href="/x">d</a></p>`, 3, "abc…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, excerpt(tc.cooked, base, tc.limit))
		})
	}
}

func TestExcerptWithoutBaseURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "topic <https://e.com/|abs>", excerpt(`<a href="/t/1">topic</a> <a href="https://e.com/">abs</a>`, "", 400))
}

func TestExcerptFitsASection(t *testing.T) {
	t.Parallel()
	// Long URLs behind short texts: 400 visible characters could be far
	// more than Slack's 3000-character section limit.
	var b strings.Builder
	for range 200 {
		b.WriteString(`<a href="https://example.com/` + strings.Repeat("x", 60) + `">a</a> `)
	}
	got := excerpt(b.String(), "", 10000)
	require.LessOrEqual(t, utf8.RuneCountInString(got), maxSectionText)
	require.True(t, strings.HasSuffix(got, ">…"), "cut between links, never inside one: %q", got[len(got)-20:])
}

func TestEscapeMrkdwn(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a &amp; b &lt;c&gt; *d* _e_", escapeMrkdwn("a & b <c> *d* _e_"))
	require.Equal(t, "<https://e.com/a%7Cb?x=1&amp;y=2|t &lt;x&gt;>", mrkdwnLink("https://e.com/a|b?x=1&y=2", "t <x>"))
}
