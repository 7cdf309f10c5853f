package slack

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func goldenTarget() *providers.Target {
	return &providers.Target{
		Data:     map[string]string{"identifier": "#general"},
		Settings: providers.Settings{"access_token": "xoxb-test", "excerpt_length": 400},
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Slack adds to the shared cases: the bot's name and icon, text
	// with mrkdwn's own specials, and a reply in a thread.
	extra := map[string]func(n *providers.Notification, tg *providers.Target){
		providertest.GoldenTagsParentCategory: func(_ *providers.Notification, tg *providers.Target) {
			tg.Settings["username"] = "Forum bot"
			tg.Settings["icon_url"] = "/images/bot.png"
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* claims"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~x~</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="//cdn.example.com/x.png">cdn</a> <a href="mailto:team@example.org">mail us</a> ` +
				`<a href="javascript:alert(1)">not a link</a> <a href="https://example.com/a|b">pipe</a> ` +
				`<a href="https://example.com/bare">https://example.com/bare</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		},
	}
	thread := providertest.GoldenThreadReply()
	thread.Filter, thread.ThreadID = "thread", "1700000000.000100"
	cases := append(providertest.GoldenCases(), providertest.GoldenCase{Name: "thread_reply", Notification: thread})
	providertest.RunGoldenTweaked(t, cases, goldenTarget, extra, func(n *providers.Notification, tg *providers.Target) any {
		return format(n, optionsFor(tg, n, modeAPI))
	})
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()

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
	n := providertest.GoldenNotification()
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
