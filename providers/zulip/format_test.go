package zulip

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
		Data: map[string]string{"stream": "general", "subject": "forum updates"},
		Settings: providers.Settings{
			"server": "https://example.zulipchat.com", "bot_email_address": "bot@example.com", "bot_api_key": "k",
			"excerpt_length": 400,
		},
	}
}

// golden compares got with testdata/name.golden.json;
// CHATSIDECAR_UPDATE_GOLDEN=1 rewrites it.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	data = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(data)))
	path := filepath.Join("testdata", name+".golden.json")
	if os.Getenv("CHATSIDECAR_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with CHATSIDECAR_UPDATE_GOLDEN=1 to create it")
	require.JSONEq(t, string(want), string(data))
}

// TestFormatGolden pins the form fields of POST /api/v1/messages.
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
~~~
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
		}},
		{name: "escaping", modify: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* @**all** #**general**"
			n.Topic.Tags = []string{"a&b", "c_d"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>"}
			n.Post.URL = "https://forum.example.org/t/q-a-(draft)/43/1"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ <code>a*b</code> @**everyone**</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		}},
		{name: "topic_per_forum_topic", modify: func(n *providers.Notification, tg *providers.Target) {
			tg.Settings["topic_per_forum_topic"] = true
			n.Topic.Title = "A title that is far too long for a Zulip topic, which keeps sixty characters"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, tg := goldenNotification(), goldenTarget()
			tc.modify(n, tg)
			golden(t, tc.name, format(n, optionsFor(tg, n)))
		})
	}
}

func TestTopicFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		title    string
		subject  string
		perTopic bool
		want     string
	}{
		{"subject", "Title", "forum updates", false, "forum updates"},
		{"title", "Title", "forum updates", true, "Title"},
		{"whitespace collapsed", "  Two\tspaces  here ", "s", true, "Two spaces here"},
		{"blank title keeps subject", "   ", "forum updates", true, "forum updates"},
		{"exactly sixty", strings.Repeat("x", 60), "s", true, strings.Repeat("x", 60)},
		{"cut", strings.Repeat("x", 61), "s", true, strings.Repeat("x", 59) + "…"},
		{"cut counts runes", strings.Repeat("é", 70), "s", true, strings.Repeat("é", 59) + "…"},
		{"cut drops a trailing space", strings.Repeat("x", 58) + " yz", "s", true, strings.Repeat("x", 58) + "…"},
		{"long subject is cut too", "t", strings.Repeat("s", 70), false, strings.Repeat("s", 59) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := goldenNotification()
			n.Topic.Title = tc.title
			require.Equal(t, tc.want, topicFor(n, formatOptions{Subject: tc.subject, PerTopic: tc.perTopic}))
		})
	}
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n, tg := goldenNotification(), goldenTarget()
	require.Equal(t, formatOptions{Stream: "general", Subject: "forum updates", ExcerptLength: 400}, optionsFor(tg, n))
	n.Filter = "thread"
	require.True(t, optionsFor(tg, n).PerTopic, "a thread rule gets the forum topic's Zulip topic")
	n.Filter = "follow"
	tg.Settings["topic_per_forum_topic"] = true
	require.True(t, optionsFor(tg, n).PerTopic)
	tg.Settings["excerpt_length"] = 0
	require.Equal(t, 400, optionsFor(tg, n).ExcerptLength)
}

func TestFormatWithoutAuthorOrExcerpt(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	n.Author = providers.Author{}
	n.Topic.Category = nil
	n.Post.URL, n.Post.Cooked = "", ""
	require.Equal(t, "**[Welcome to the forum](https://forum.example.org/t/welcome/42)**",
		formatContent(n, formatOptions{ExcerptLength: 400}))
}

func TestQuoteFenceOutlastsTheExcerpt(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	n.Post.Cooked = "<pre><code>a\n~~~~\nb</code></pre>"
	c := formatContent(n, formatOptions{ExcerptLength: 400})
	require.Contains(t, c, "\n~~~~~quote\n")
	require.True(t, strings.HasSuffix(c, "\n~~~~~"), c)
}
