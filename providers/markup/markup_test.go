package markup

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const base = "https://forum.example.org"

// Cooked HTML shared by the per-function tables, shaped like Discourse's
// own output.
const (
	cookedRelative   = `<p>Please read the <a href="/t/slug/7">guidelines</a> first.</p>`
	cookedAbsolute   = `<p>see <a href="https://example.com/a?b=1&amp;c=2">example</a></p>`
	cookedMailto     = `<p><a href="mailto:a@example.com">mail me</a> or <a href="mailto:a@example.com">a@example.com</a></p>`
	cookedBareLink   = `<p><a href="https://example.com/">https://example.com/</a></p>`
	cookedParensURL  = `<p><a href="https://en.wikipedia.org/wiki/Go_(game) x">Go</a></p>`
	cookedJavascript = `<p><a href="javascript:alert(1)">click</a> <a href="JaVaScRiPt:alert(1)">x</a> <a href="data:text/html,hi">d</a></p>`
	cookedScript     = `<p>a<script>alert("x")</script>b</p><style>p{}</style>`
	cookedHostile    = "<p>**bold** [x](y) &lt;script&gt;alert(1)&lt;/script&gt; _u_ \\ ~~s~~ `c` &amp;copy;</p>"
	cookedLineStart  = `<p># not a heading</p><p>- not a list<br>1. nor this<br>+ or this</p>`
	cookedEmoji      = `<p>Hello <img src="/images/emoji/twitter/wave.png?v=12" title=":wave:" class="emoji" alt=":wave:" loading="lazy" width="20" height="20"> <img class="emoji emoji-custom" alt=":party_parrot:" title=":party_parrot:" src="/c.gif"></p>`
	cookedCode       = "<p>Run <code>./launcher rebuild app</code>:</p><pre><code class=\"lang-sh\">FAILED\n  exit 1 &lt;x&gt;\n</code></pre>"
	cookedFence      = "<pre><code>a ``` b\n```</code></pre><p><code>a`b</code></p>"
	cookedQuote      = `<aside class="quote no-group" data-username="jane" data-post="2" data-topic="7"><div class="title"><div class="quote-controls"></div><img alt="" width="24" height="24" src="/u/jane.png" class="avatar"> jane:</div><blockquote><p>Hello everyone</p></blockquote></aside><p>Replying.</p>`
	cookedBlockquote = `<blockquote><p>outer</p><blockquote><p>inner <code>x</code></p></blockquote></blockquote>`
	cookedOnebox     = `<aside class="onebox allowlistedgeneric" data-onebox-src="https://example.com/page"><header class="source"><img src="/favicon.png" class="site-icon"><a href="https://example.com/page">example.com</a></header><article class="onebox-body"><h3><a href="https://example.com/page">Page title</a></h3><p>Long preview</p></article></aside>`
	cookedMention    = `<p>Thanks <a class="mention" href="/u/jane">@jane</a> and <a class="mention-group" href="/groups/team">@team</a>!</p>`
	cookedHashtag    = `<p>see <a class="hashtag-cooked" href="/c/dev/5" data-type="category"><span class="hashtag-icon-placeholder"><svg><use href="#square-full"></use></svg></span><span>dev</span></a></p>`
	cookedList       = `<ul><li>one <strong>bold</strong></li><li>two<ul><li>nested</li></ul></li></ul><ol start="3"><li>three</li></ol>`
	cookedNested     = `<p><strong>bold <em>both <a href="/x">link <code>c</code></a></em></strong> <s>gone</s> <ins>new</ins></p>`
	cookedLightbox   = `<div class="lightbox-wrapper"><a class="lightbox" href="/uploads/a.png" title="a.png"><img src="/uploads/optimized/a_2_690x500.png" alt="chart" width="690" height="500"><div class="meta"><span class="filename">a.png</span><span class="informations">800×600 12 KB</span></div></a></div>`
	cookedImage      = `<p><img src="https://cdn.example.com/i.png" width="10"></p>`
	cookedSpoiler    = `<p>end: <span class="spoiler">he <b>dies</b></span>.</p>`
	cookedHeading    = `<h2><a name="x" class="anchor" href="#x"></a>Title</h2><p>text</p>`
	cookedWhitespace = "<p>  one\n  two<br>\n three  <br><br><br>four </p>"
	cookedPlainInput = "Hello *world*, 1 < 2 & 3 > 2\nline two\n\nnext"
	cookedTable      = `<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>`
	cookedDetails    = `<details><summary>Open me</summary><p>hidden</p></details>`
	cookedLong       = `<p>go <a href="/x">somewhere far</a> now</p>`
	cookedLongCode   = `<p>run <code>make everything</code> now</p>`
	cookedLongBlock  = "<pre><code>line one\nline two\nline three</code></pre>"
)

func limit(n int) Options { return Options{Limit: n} }

// convertCase is one row of a per-function table; BaseURL defaults to
// base.
type convertCase struct {
	name   string
	cooked string
	opts   Options
	want   string
}

func runCases(t *testing.T, convert func(string, Options) string, tests []convertCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.opts
			if o.BaseURL == "" {
				o.BaseURL = base
			}
			require.Equal(t, tc.want, convert(tc.cooked, o))
		})
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	runCases(t, Markdown, []convertCase{
		{"empty", "", Options{}, ""},
		{"relative link", cookedRelative, Options{}, "Please read the [guidelines](https://forum.example.org/t/slug/7) first."},
		{"relative link without base", cookedRelative, Options{BaseURL: "not a url"}, "Please read the guidelines first."},
		{"absolute link", cookedAbsolute, Options{}, "see [example](https://example.com/a?b=1&c=2)"},
		{"mailto", cookedMailto, Options{}, "[mail me](mailto:a@example.com) or [a@example.com](mailto:a@example.com)"},
		{"bare link", cookedBareLink, Options{}, "[https://example.com/](https://example.com/)"},
		{"url percent-encoded", cookedParensURL, Options{}, "[Go](https://en.wikipedia.org/wiki/Go_%28game%29%20x)"},
		{"javascript href is text", cookedJavascript, Options{}, "click x d"},
		{"script dropped", cookedScript, Options{}, "ab"},
		{"hostile text escaped", cookedHostile, Options{}, "\\*\\*bold\\*\\* \\[x\\](y) \\<script\\>alert(1)\\</script\\> \\_u\\_ \\\\ \\~\\~s\\~\\~ \\`c\\` \\&copy;"},
		{"line starts escaped", cookedLineStart, Options{}, "\\# not a heading\n\n\\- not a list\n1\\. nor this\n\\+ or this"},
		{"emoji shortcode", cookedEmoji, Options{}, "Hello :wave: :party_parrot:"},
		{"emoji unicode", cookedEmoji, Options{Emoji: EmojiUnicode}, "Hello 👋 :party_parrot:"},
		{"emoji without code is escaped text", `<img class="emoji" alt="**x** &lt;y&gt;">`, Options{}, "\\*\\*x\\*\\* \\<y\\>"},
		{"code", cookedCode, Options{}, "Run `./launcher rebuild app`:\n\n```sh\nFAILED\n  exit 1 <x>\n```"},
		{"backticks in code", cookedFence, Options{}, "````\na ``` b\n```\n````\n\n``a`b``"},
		{"discourse quote", cookedQuote, Options{}, "> jane:\n> Hello everyone\n\nReplying."},
		{"nested blockquote", cookedBlockquote, Options{}, "> outer\n>\n> > inner `x`"},
		{"onebox", cookedOnebox, Options{}, "[Page title](https://example.com/page)"},
		{"mentions", cookedMention, Options{}, "Thanks @jane and @team!"},
		{"hashtag", cookedHashtag, Options{}, "see [#dev](https://forum.example.org/c/dev/5)"},
		{"lists", cookedList, Options{}, "- one **bold**\n- two\n  - nested\n\n3. three"},
		{"nested formatting", cookedNested, Options{}, "**bold *both [link `c`](https://forum.example.org/x)*** ~~gone~~ new"},
		{"lightbox image", cookedLightbox, Options{}, "[chart](https://forum.example.org/uploads/a.png)"},
		{"image without alt", cookedImage, Options{}, "[image](https://cdn.example.com/i.png)"},
		{"spoiler hidden", cookedSpoiler, Options{}, "end: (spoiler)."},
		{"heading bold", cookedHeading, Options{}, "**Title**\n\ntext"},
		{"whitespace", cookedWhitespace, Options{}, "one two\nthree\n\nfour"},
		{"plain text input", cookedPlainInput, Options{}, "Hello \\*world\\*, 1 \\< 2 & 3 \\> 2\nline two\n\nnext"},
		{"table", cookedTable, Options{}, "a | b\n1 | 2"},
		{"details collapsed", cookedDetails, Options{}, "Open me"},
		{"bang before link", `<p>wow!<a href="/x">x</a></p>`, Options{}, "wow\\![x](https://forum.example.org/x)"},
		{"emphasis hugs text", `<p>a<strong> b </strong>c</p>`, Options{}, "a **b** c"},
		{"no blank line inside a link", `<p><a href="/x">a<br><br>b</a></p>`, Options{}, "[a b](https://forum.example.org/x)"},
		{"no blank line inside emphasis", `<p><em>a<br><br>b</em></p>`, Options{}, "*a\nb*"},
		{"doubled emphasis not doubled", `<p><em>a <i>b</i></em> <strong><b>c</b></strong></p>`, Options{}, "*a b* **c**"},
		{"cut in link", cookedLong, limit(8), "go [some](https://forum.example.org/x)…"},
		{"cut in code", cookedLongCode, limit(9), "run `make`…"},
		{"cut in code block", cookedLongBlock, limit(12), "```\nline one\nli\n```\n\n…"},
		{"cut in emphasis", `<p><strong>very important</strong></p>`, limit(7), "**very i…**"},
		{"cut at a paragraph end", `<p>abc</p><p>defgh</p>`, limit(4), "abc…"},
		{"cut escapes", `<p>a*b*c*d</p>`, limit(4), "a\\*b…"},
		{"limit fits exactly", `<p>abcde</p>`, limit(5), "abcde"},
		{"limit 1", `<p>abc</p>`, limit(1), "…"},
	})
}

func TestGoogleChatText(t *testing.T) {
	t.Parallel()
	runCases(t, GoogleChatText, []convertCase{
		{"empty", "", Options{}, ""},
		{"relative link", cookedRelative, Options{}, "Please read the <https://forum.example.org/t/slug/7|guidelines> first."},
		{"absolute link", cookedAbsolute, Options{}, "see <https://example.com/a?b=1&c=2|example>"},
		{"mailto", cookedMailto, Options{}, "<mailto:a@example.com|mail me> or <mailto:a@example.com|a@example.com>"},
		{"bare link", cookedBareLink, Options{}, "https://example.com/"},
		{"url percent-encoded", `<a href="https://e.com/a|b c">x &gt; y</a>`, Options{}, "<https://e.com/a%7Cb%20c|x › y>"},
		{"javascript href is text", cookedJavascript, Options{}, "click x d"},
		{"angle brackets defused", `<p>&lt;users/all&gt; &lt;https://evil.example|x&gt;</p>`, Options{}, "<\u200busers/all> <\u200bhttps://evil.example|x>"},
		{"emoji unicode", cookedEmoji, Options{Emoji: EmojiUnicode}, "Hello 👋 :party_parrot:"},
		{"code", cookedCode, Options{}, "Run `./launcher rebuild app`:\n\n```\nFAILED\n  exit 1 <x>\n```"},
		{"quote", cookedQuote, Options{}, "> jane:\n> Hello everyone\n\nReplying."},
		{"onebox", cookedOnebox, Options{}, "<https://example.com/page|Page title>"},
		{"mentions", cookedMention, Options{}, "Thanks @jane and @team!"},
		{"lists", cookedList, Options{}, "• one *bold*\n• two\n  • nested\n\n3. three"},
		{"nested formatting", cookedNested, Options{}, "*bold _both <https://forum.example.org/x|link c>_* ~gone~ new"},
		{"heading", cookedHeading, Options{}, "*Title*\n\ntext"},
		{"cut in link", cookedLong, limit(8), "go <https://forum.example.org/x|some>…"},
		{"cut in code", cookedLongCode, limit(9), "run `make`…"},
	})
}

func TestTelegramHTML(t *testing.T) {
	t.Parallel()
	runCases(t, TelegramHTML, []convertCase{
		{"empty", "", Options{}, ""},
		{"relative link", cookedRelative, Options{}, `Please read the <a href="https://forum.example.org/t/slug/7">guidelines</a> first.`},
		{"absolute link", cookedAbsolute, Options{}, `see <a href="https://example.com/a?b=1&amp;c=2">example</a>`},
		{"mailto", cookedMailto, Options{}, `<a href="mailto:a@example.com">mail me</a> or <a href="mailto:a@example.com">a@example.com</a>`},
		{"url with space", cookedParensURL, Options{}, `<a href="https://en.wikipedia.org/wiki/Go_%28game%29%20x">Go</a>`},
		{"javascript href is text", cookedJavascript, Options{}, "click x d"},
		{"script dropped", cookedScript, Options{}, "ab"},
		{"hostile text escaped", cookedHostile, Options{}, "**bold** [x](y) &lt;script&gt;alert(1)&lt;/script&gt; _u_ \\ ~~s~~ `c` &amp;copy;"},
		{"quote in attribute", `<a href="https://e.com/?q=&quot;x&quot;">"q"</a>`, Options{}, `<a href="https://e.com/?q=%22x%22">&quot;q&quot;</a>`},
		{"emoji shortcode", cookedEmoji, Options{}, "Hello :wave: :party_parrot:"},
		{"emoji unicode", cookedEmoji, Options{Emoji: EmojiUnicode}, "Hello 👋 :party_parrot:"},
		{"code", cookedCode, Options{}, "Run <code>./launcher rebuild app</code>:\n\n<pre><code class=\"language-sh\">FAILED\n  exit 1 &lt;x&gt;</code></pre>"},
		{"discourse quote", cookedQuote, Options{}, "<blockquote>jane:\nHello everyone</blockquote>\n\nReplying."},
		{"nested blockquote flattened", cookedBlockquote, Options{}, "<blockquote>outer\n\ninner x</blockquote>"},
		{"onebox", cookedOnebox, Options{}, `<a href="https://example.com/page">Page title</a>`},
		{"mentions", cookedMention, Options{}, "Thanks @jane and @team!"},
		{"hashtag", cookedHashtag, Options{}, `see <a href="https://forum.example.org/c/dev/5">#dev</a>`},
		{"lists", cookedList, Options{}, "• one <b>bold</b>\n• two\n  • nested\n\n3. three"},
		{"nested formatting", cookedNested, Options{}, `<b>bold <i>both <a href="https://forum.example.org/x">link c</a></i></b> <s>gone</s> <u>new</u>`},
		{"lightbox image", cookedLightbox, Options{}, `<a href="https://forum.example.org/uploads/a.png">chart</a>`},
		{"spoiler", cookedSpoiler, Options{}, "end: <tg-spoiler>he <b>dies</b></tg-spoiler>."},
		{"heading", cookedHeading, Options{}, "<b>Title</b>\n\ntext"},
		{"whitespace", cookedWhitespace, Options{}, "one two\nthree\n\nfour"},
		{"plain text input", cookedPlainInput, Options{}, "Hello *world*, 1 &lt; 2 &amp; 3 &gt; 2\nline two\n\nnext"},
		{"cut in link", cookedLong, limit(8), `go <a href="https://forum.example.org/x">some</a>…`},
		{"cut in code", cookedLongCode, limit(9), "run <code>make</code>…"},
		{"cut in code block", cookedLongBlock, limit(12), "<pre>line one\nli</pre>\n\n…"},
		{"cut counts an entity as one", `<p>a &amp; b &lt; c</p>`, limit(4), "a &amp;…"},
		{"cut in spoiler", cookedSpoiler, limit(9), "end: <tg-spoiler>he</tg-spoiler>…"},
		{"cut in quote", cookedQuote, limit(10), "<blockquote>jane:\nHell…</blockquote>"},
	})
}

func TestMatrixHTML(t *testing.T) {
	t.Parallel()
	runCases(t, MatrixHTML, []convertCase{
		{"empty", "", Options{}, ""},
		{"relative link", cookedRelative, Options{}, `<p>Please read the <a href="https://forum.example.org/t/slug/7">guidelines</a> first.</p>`},
		{"absolute link", cookedAbsolute, Options{}, `<p>see <a href="https://example.com/a?b=1&amp;c=2">example</a></p>`},
		{"mailto", cookedMailto, Options{}, `<p><a href="mailto:a@example.com">mail me</a> or <a href="mailto:a@example.com">a@example.com</a></p>`},
		{"javascript href is text", cookedJavascript, Options{}, "<p>click x d</p>"},
		{"attributes dropped", `<p class="x" style="color:red" onclick="evil()"><span data-x="1">hi</span> <font color="red">there</font></p>`, Options{}, "<p>hi there</p>"},
		{"hostile text escaped", cookedHostile, Options{}, "<p>**bold** [x](y) &lt;script&gt;alert(1)&lt;/script&gt; _u_ \\ ~~s~~ `c` &amp;copy;</p>"},
		{"emoji unicode", cookedEmoji, Options{Emoji: EmojiUnicode}, "<p>Hello 👋 :party_parrot:</p>"},
		{"code", cookedCode, Options{}, "<p>Run <code>./launcher rebuild app</code>:</p><pre><code>FAILED\n  exit 1 &lt;x&gt;</code></pre>"},
		{"discourse quote", cookedQuote, Options{}, "<blockquote><p>jane:<br>Hello everyone</p></blockquote><p>Replying.</p>"},
		{"nested blockquote", cookedBlockquote, Options{}, "<blockquote><p>outer</p><blockquote><p>inner <code>x</code></p></blockquote></blockquote>"},
		{"onebox", cookedOnebox, Options{}, `<p><a href="https://example.com/page">Page title</a></p>`},
		{"mentions", cookedMention, Options{}, "<p>Thanks @jane and @team!</p>"},
		{"lists", cookedList, Options{}, "<ul><li>one <strong>bold</strong></li><li>two<ul><li>nested</li></ul></li></ul><ol><li>three</li></ol>"},
		{"loose list item", `<ol><li><p>first</p><p>second</p></li></ol>`, Options{}, "<ol><li>first<p>second</p></li></ol>"},
		{"nested formatting", cookedNested, Options{}, `<p><strong>bold <em>both <a href="https://forum.example.org/x">link <code>c</code></a></em></strong> <del>gone</del> <u>new</u></p>`},
		{"image becomes a link", cookedImage, Options{}, `<p><a href="https://cdn.example.com/i.png">image</a></p>`},
		{"mxc image kept", `<p><img src="mxc://example.org/abc" alt="pic" onerror="x()"></p>`, Options{}, `<p><img src="mxc://example.org/abc"></p>`},
		{"spoiler hidden", cookedSpoiler, Options{}, "<p>end: (spoiler).</p>"},
		{"rule and table", `<hr>` + cookedTable, Options{}, "<hr><p>a | b<br>1 | 2</p>"},
		{"whitespace", cookedWhitespace, Options{}, "<p>one two<br>three<br><br>four</p>"},
		{"plain text input", cookedPlainInput, Options{}, "<p>Hello *world*, 1 &lt; 2 &amp; 3 &gt; 2<br>line two</p><p>next</p>"},
		{"cut in link", cookedLong, limit(8), `<p>go <a href="https://forum.example.org/x">some</a>…</p>`},
		{"cut in code block", cookedLongBlock, limit(12), "<pre><code>line one\nli</code></pre><p>…</p>"},
		{"cut in list", `<ul><li>one</li><li>two</li><li>three</li></ul>`, limit(7), "<ul><li>one</li><li>two…</li></ul>"},
	})
}

func TestPlainText(t *testing.T) {
	t.Parallel()
	runCases(t, PlainText, []convertCase{
		{"empty", "", Options{}, ""},
		{"relative link", cookedRelative, Options{}, "Please read the guidelines (https://forum.example.org/t/slug/7) first."},
		{"mailto", cookedMailto, Options{}, "mail me (a@example.com) or a@example.com"},
		{"bare link", cookedBareLink, Options{}, "https://example.com/"},
		{"javascript href is text", cookedJavascript, Options{}, "click x d"},
		{"hostile text kept", cookedHostile, Options{}, "**bold** [x](y) <script>alert(1)</script> _u_ \\ ~~s~~ `c` &copy;"},
		{"emoji unicode", cookedEmoji, Options{Emoji: EmojiUnicode}, "Hello 👋 :party_parrot:"},
		{"code", cookedCode, Options{}, "Run ./launcher rebuild app:\n\nFAILED\n  exit 1 <x>"},
		{"quote", cookedQuote, Options{}, "> jane:\n> Hello everyone\n\nReplying."},
		{"onebox", cookedOnebox, Options{}, "Page title (https://example.com/page)"},
		{"mentions", cookedMention, Options{}, "Thanks @jane and @team!"},
		{"lists", cookedList, Options{}, "• one bold\n• two\n  • nested\n\n3. three"},
		{"nested formatting", cookedNested, Options{}, "bold both link c (https://forum.example.org/x) gone new"},
		{"spoiler hidden", cookedSpoiler, Options{}, "end: (spoiler)."},
		{"plain text input", cookedPlainInput, Options{}, "Hello *world*, 1 < 2 & 3 > 2\nline two\n\nnext"},
		{"cut in link text drops the url", cookedLong, limit(8), "go some…"},
		{"url never cut", `<p>see <a href="https://e.com/u">docs</a> ok</p>`, limit(20), "see docs…"},
		{"url kept when it fits", `<p>see <a href="https://e.com/u">docs</a> ok</p>`, limit(28), "see docs (https://e.com/u)…"},
		{"cut in code", cookedLongCode, limit(9), "run make…"},
		{"cut an emoji whole", `<p>ab <img class="emoji" alt=":smile:"> cd</p>`, Options{Limit: 6}, "ab…"},
		{"cut a unicode emoji whole", `<p>ab <img class="emoji" alt=":smile:"> cd</p>`, Options{Limit: 6, Emoji: EmojiUnicode}, "ab 😄…"},
	})
}

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"Plain title", "Plain title"},
		{"**bold** and _it_", "\\*\\*bold\\*\\* and \\_it\\_"},
		{"[x](y)", "\\[x\\](y)"},
		{"<script>", "\\<script\\>"},
		{"# 1 tip", "\\# 1 tip"},
		{"1. first", "1\\. first"},
		{"2024) year", "2024\\) year"},
		{"- dash", "\\- dash"},
		{"a - b", "a - b"},
		{"~~x~~ `y` \\", "\\~\\~x\\~\\~ \\`y\\` \\\\"},
		{"AT&T &amp; co", "AT&T \\&amp; co"},
		{"Hello!", "Hello\\!"},
		{"line\n# two", "line\n\\# two"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, EscapeMarkdown(tc.in), tc.in)
	}
}

func TestEscapeHTML(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{`<a href="x">&amp;</a>`, "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;"},
		{"it's", "it's"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, EscapeHTML(tc.in), tc.in)
	}
}

func TestEmojiUnicode(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"smile", "😄"},
		{"+1", "👍"},
		{"thumbsup", "👍"},
		{"-1", "👎"},
		{"heart", "❤️"},
		{"tada", "🎉"},
		{"white_check_mark", "✅"},
		{"slightly_smiling_face", "🙂"},
		{"100", "💯"},
		{"party_parrot", ""},
		{"smile:t2", ""},
		{"", ""},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, emojiUnicode(tc.name), tc.name)
	}
}

// TestLimitEveryTarget cuts one rich post at every length and checks each
// output against the limit and for balance.
func TestLimitEveryTarget(t *testing.T) {
	t.Parallel()
	cooked := cookedQuote + cookedList + cookedNested + cookedCode + cookedSpoiler + cookedOnebox + cookedEmoji
	for n := 1; n <= 200; n++ {
		o := Options{BaseURL: base, Limit: n}
		checkOutputs(t, cooked, o)
	}
}

func TestLimitOff(t *testing.T) {
	t.Parallel()
	long := "<p>" + strings.Repeat("word ", 500) + "</p>"
	for _, n := range []int{0, -1} {
		require.NotContains(t, Markdown(long, Options{Limit: n}), ellipsis)
	}
}
