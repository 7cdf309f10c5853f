package telegram

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// updateGolden rewrites the golden files:
// CHATSIDECAR_UPDATE_GOLDEN=1 go test ./providers/telegram.
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
		modify func(n *providers.Notification)
		root   string
	}{
		{name: "new_topic", modify: func(*providers.Notification) {}},
		{name: "reply", modify: func(n *providers.Notification) {
			n.Post.ID, n.Post.Number, n.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
			n.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
			n.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob"}
		}},
		{name: "thread_reply", root: "17", modify: func(n *providers.Notification) {
			n.Post.ID, n.Post.Number, n.Post.URL = 102, 3, "https://forum.example.org/t/welcome/42/3"
			n.Post.Cooked = `<aside class="quote no-group" data-username="jane"><div class="title">jane:</div><blockquote><p>Hello everyone</p></blockquote></aside><p>Replying in the thread.</p>`
		}},
		{name: "tags_parent_category", modify: func(n *providers.Notification) {
			n.Topic.Title = "Upgrade fails on 2.0"
			n.Topic.Tags = []string{"upgrade", "docker", "help-wanted"}
			n.Topic.Category = &providers.Category{
				ID: 7, Name: "Installation", Slug: "installation", Color: "F1592A",
				Parent: &providers.Category{ID: 2, Name: "Support", Slug: "support", Color: "25AAE2"},
			}
			n.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
		}},
		{name: "escaping", modify: func(n *providers.Notification) {
			n.Topic.Title = `Q&A: <script> & "quotes" <b>bold</b>`
			n.Topic.Tags = []string{"a&b", "<tag>"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>"}
			n.Post.URL = `https://forum.example.org/t/q-a/43/1?x="><b>`
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, <b>bold</b> <i>it</i> <u>u</u> <span class="x">span</span></p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> <a href="javascript:alert(1)">not a link</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := goldenNotification()
			tc.modify(n)
			got, err := json.MarshalIndent(newSend(chatRef("-1001234567890"), n, tc.root, formatOptions{ExcerptLength: 400}), "", "  ")
			require.NoError(t, err)
			got = unescapeHTML(got)
			path := filepath.Join("testdata", tc.name+".golden.json")
			if updateGolden() {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run CHATSIDECAR_UPDATE_GOLDEN=1 go test ./providers/telegram to create it")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// unescapeHTML undoes json.Marshal's \u003c escapes so golden files show
// what Telegram receives, as providers.EncodeJSON sends it.
func unescapeHTML(b []byte) []byte {
	r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	return []byte(r.Replace(string(b)))
}

func TestHeaderEscapes(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
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
	n := goldenNotification()
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
			n := goldenNotification()
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
	n := goldenNotification()
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
		{"1700000000.000100", true}, // a number, passed as is for Telegram to judge
		{"", false},
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
