package zulip

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func goldenTarget() *providers.Target {
	return &providers.Target{
		Data: map[string]string{"stream": "general", "subject": "forum updates"},
		Settings: providers.Settings{
			"server": "https://example.zulipchat.com", "bot_email_address": "bot@example.com", "bot_api_key": "k",
			"excerpt_length": 400,
		},
	}
}

// TestFormatGolden pins the form fields of POST /api/v1/messages.
func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Zulip adds to the shared cases: a code block holding Zulip's
	// other fence, text with Zulip's own specials (@**all**, #**stream**),
	// and one Zulip topic per forum topic.
	extra := map[string]func(n *providers.Notification, tg *providers.Target){
		providertest.GoldenTagsParentCategory: func(n *providers.Notification, _ *providers.Target) {
			n.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
~~~
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* @**all** #**general**"
			n.Topic.Tags = []string{"a&b", "c_d"}
			n.Post.URL = "https://forum.example.org/t/q-a-(draft)/43/1"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ <code>a*b</code> @**everyone**</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		},
		"topic_per_forum_topic": func(n *providers.Notification, tg *providers.Target) {
			tg.Settings["topic_per_forum_topic"] = true
			n.Topic.Title = "A title that is far too long for a Zulip topic, which keeps sixty characters"
		},
	}
	cases := append(providertest.GoldenCases(),
		providertest.GoldenCase{Name: "topic_per_forum_topic", Notification: providertest.GoldenNotification()})
	providertest.RunGoldenTweaked(t, cases, goldenTarget, extra, func(n *providers.Notification, tg *providers.Target) any {
		return format(n, optionsFor(tg, n))
	})
}

func TestTopicFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		title    string
		subject  string
		perTopic bool
		thread   string
		want     string
	}{
		{"subject", "Title", "forum updates", false, "", "forum updates"},
		{"title", "Title", "forum updates", true, "", "Title"},
		{"whitespace collapsed", "  Two\tspaces  here ", "s", true, "", "Two spaces here"},
		{"blank title keeps subject", "   ", "forum updates", true, "", "forum updates"},
		{"exactly sixty", strings.Repeat("x", 60), "s", true, "", strings.Repeat("x", 60)},
		{"cut", strings.Repeat("x", 61), "s", true, "", strings.Repeat("x", 59) + "…"},
		{"cut counts runes", strings.Repeat("é", 70), "s", true, "", strings.Repeat("é", 59) + "…"},
		{"cut drops a trailing space", strings.Repeat("x", 58) + " yz", "s", true, "", strings.Repeat("x", 58) + "…"},
		{"long subject is cut too", "t", strings.Repeat("s", 70), false, "", strings.Repeat("s", 59) + "…"},
		{"thread wins over the title", "Renamed", "s", true, "Old title", "Old title"},
		{"thread wins over the subject", "Title", "s", false, "release planning", "release planning"},
		{"long thread is cut", "t", "s", true, strings.Repeat("t", 61), strings.Repeat("t", 59) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := providertest.GoldenNotification()
			n.Topic.Title = tc.title
			require.Equal(t, tc.want, topicFor(n, formatOptions{Subject: tc.subject, PerTopic: tc.perTopic, Thread: tc.thread}))
		})
	}
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n, tg := providertest.GoldenNotification(), goldenTarget()
	require.Equal(t, formatOptions{Stream: "general", Subject: "forum updates", ExcerptLength: 400}, optionsFor(tg, n))
	n.Filter, n.ThreadID = "thread", " release planning "
	require.True(t, optionsFor(tg, n).PerTopic, "a thread rule gets the forum topic's Zulip topic")
	require.Equal(t, "release planning", optionsFor(tg, n).Thread, "or the thread it knows")
	n.Filter = "follow"
	require.Empty(t, optionsFor(tg, n).Thread, "only a thread rule posts into a known thread")
	tg.Settings["topic_per_forum_topic"] = true
	require.True(t, optionsFor(tg, n).PerTopic)
	tg.Settings["excerpt_length"] = 0
	require.Equal(t, 400, optionsFor(tg, n).ExcerptLength)
}

func TestFormatWithoutAuthorOrExcerpt(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Author = providers.Author{}
	n.Topic.Category = nil
	n.Post.URL, n.Post.Cooked = "", ""
	require.Equal(t, "**[Welcome to the forum](https://forum.example.org/t/welcome/42)**",
		formatContent(n, formatOptions{ExcerptLength: 400}))
}

func TestQuoteFenceOutlastsTheExcerpt(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Post.Cooked = "<pre><code>a\n~~~~\nb</code></pre>"
	c := formatContent(n, formatOptions{ExcerptLength: 400})
	require.Contains(t, c, "\n~~~~~quote\n")
	require.True(t, strings.HasSuffix(c, "\n~~~~~"), c)
}
