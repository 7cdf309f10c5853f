package telegram

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Telegram adds to the shared cases: HTML specials in every text
	// and attribute, and a reply in a thread (to message 17).
	escaping := func(n *providers.Notification) {
		n.Topic.Title = `Q&A: <script> & "quotes" <b>bold</b>`
		n.Topic.Tags = []string{"a&b", "<tag>"}
		n.Post.URL = `https://forum.example.org/t/q-a/43/1?x="><b>`
		n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, <b>bold</b> <i>it</i> <u>u</u> <span class="x">span</span></p>` +
			`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> <a href="javascript:alert(1)">not a link</a></p>`
		n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
	}
	cases := append(providertest.GoldenCases(), providertest.GoldenCase{Name: "thread_reply", Notification: providertest.GoldenThreadReply()})
	providertest.RunGolden(t, cases, func(c providertest.GoldenCase) any {
		n, root := c.Notification, ""
		switch c.Name {
		case providertest.GoldenEscaping:
			escaping(n)
		case "thread_reply":
			root = "17"
		}
		return newSend(chatRef("-1001234567890"), n, root, formatOptions{ExcerptLength: 400})
	})
}

func TestHeaderEscapes(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Topic.Title = `<i>x</i> & y`
	n.Post.URL = `https://e.com/?a=1&b="2"`
	n.Author.DisplayName = "<b>"
	require.Equal(t,
		`<b>&lt;b&gt;</b> posted in <a href="https://e.com/?a=1&amp;b=&quot;2&quot;">&lt;i&gt;x&lt;/i&gt; &amp; y</a> [General]`,
		header(n))

	n.Author, n.Post.URL, n.Topic.Category = providers.Author{Username: "bob"}, "", nil
	require.Equal(t, `<b>@bob</b> posted in <b>&lt;i&gt;x&lt;/i&gt; &amp; y</b>`, header(n))
	n.Author = providers.Author{}
	require.Equal(t, `<b>&lt;i&gt;x&lt;/i&gt; &amp; y</b>`, header(n))
}

func TestTextWithoutExcerpt(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Post.Cooked = ""
	require.Equal(t, header(n), text(n, formatOptions{ExcerptLength: 400}), "no blank line without an excerpt")
}

func TestTextFitsTelegramsLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cooked string
	}{
		{"ascii", "<p>" + strings.Repeat("word ", 3000) + "</p>"},
		// An emoji outside the BMP is one character for the converter and
		// two UTF-16 code units for Telegram.
		{"emoji", "<p>" + strings.Repeat("😀", 5000) + "</p>"},
		{"entities", "<p>" + strings.Repeat("a &lt; b &amp; ", 1000) + "</p>"},
		{"links", strings.Repeat(`<a href="https://example.com/very/long/path">x</a> `, 2000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := providertest.GoldenNotification()
			n.Topic.Title = strings.Repeat("T", 1000)
			n.Topic.Tags = []string{strings.Repeat("tag", 200)}
			n.Post.Cooked = tc.cooked
			got := text(n, formatOptions{ExcerptLength: providers.ExcerptLengthMax})
			require.LessOrEqual(t, visibleLen(got), maxText)
			require.Greater(t, visibleLen(got), maxText/2, "the excerpt uses the room it has")
		})
	}
}

func TestExcerptLength(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Post.Cooked = "<p>" + strings.Repeat("a", 1000) + "</p>"
	got := text(n, formatOptions{ExcerptLength: 10})
	require.LessOrEqual(t, visibleLen(got), visibleLen(header(n))+2+11, "at most 10 characters and an ellipsis")
}

func TestVisibleLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"<b>abc</b>", 3},
		{`<a href="https://e.com/?a=1&amp;b=2">x</a>`, 1},
		{"a &lt; b &amp; c", 9},
		{"&#128512;", 2},
		{"😀", 2},
		{"é", 1},
		{"<pre><code class=\"language-go\">x\ny</code></pre>", 3},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, visibleLen(tc.in), tc.in)
	}
}

func TestReplyTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		root string
		ok   bool
	}{
		{"17", true},
		{"9223372036854775807", true},
		{"1700000000.000100", false}, // a Slack ts is no Telegram message id
		{"", false},
		{"0", false},
		{"-17", false},
		{"+17", false},
		{"017", false},
		{"9223372036854775808", false},
		{"abc", false},
		{"true", false},
		{"17 ", false},
		{"1e", false},
		{"$event:server", false},
	}
	for _, tc := range tests {
		id, ok := replyTo(tc.root)
		require.Equal(t, tc.ok, ok, "%q", tc.root)
		if ok {
			require.Equal(t, tc.root, id.String())
		}
	}
}

func TestChatRef(t *testing.T) {
	t.Parallel()
	require.Equal(t, json.Number("-1001234567890"), chatRef("-1001234567890"))
	require.Equal(t, json.Number("42"), chatRef("42"))
	require.Equal(t, "@channel", chatRef("@channel"))
	require.Equal(t, "-", chatRef("-"))
}

// TestBadRequestReason pins the only free-text matching in the provider:
// Telegram's 400 descriptions as it sends them.
func TestBadRequestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		description string
		want        badRequest
	}{
		{"Bad Request: chat not found", badRequestChatNotFound},
		{"chat not found", badRequestChatNotFound},
		{"Bad Request: CHAT NOT FOUND", badRequestChatNotFound},
		{"Bad Request: not enough rights to send text messages to the chat", badRequestNoRights},
		{"Bad Request: need administrator rights in the channel chat", badRequestNoRights},
		{"Bad Request: have no rights to send a message", badRequestNoRights},
		{"Bad Request: CHAT_WRITE_FORBIDDEN", badRequestNoRights},
		{"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", badRequestNotModified},
		{"Bad Request: message to edit not found", badRequestMessageGone},
		{"Bad Request: message to delete not found", badRequestMessageGone},
		{"Bad Request: message can't be deleted for everyone", badRequestOther},
		{"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3", badRequestOther},
		{"Bad Request: message is too long", badRequestOther},
		{"Bad Request: message to be replied not found", badRequestOther},
		{"", badRequestOther},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, badRequestReason(tc.description), tc.description)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const token = "123:SECRETpart"
	require.Equal(t, "Bad Request: chat not found", redact(" Bad Request: chat not found ", token))
	require.Empty(t, redact("see /bot123:SECRETpart/sendMessage", token))
	require.Empty(t, redact("echo SECRETpart", token))
	require.Equal(t, "a b", redact("a\nb", token))
	long := redact(strings.Repeat("x", 500), token)
	require.Equal(t, maxDescription+1, len([]rune(long)))
}
