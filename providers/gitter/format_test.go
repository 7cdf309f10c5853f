package gitter

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// updateGolden rewrites the golden files: go test ./providers/gitter -update.
var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// goldenNotification is the base of the golden cases: a first post in a
// top-level category.
func goldenNotification() *providers.Notification {
	return &providers.Notification{
		Kind: providers.PostCreated,
		Site: providers.Site{Title: "Example Forum", BaseURL: "https://forum.example.org"},
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
			ProfileURL: "https://forum.example.org/u/jane",
		},
		Filter: "watch",
	}
}

// legacyPayloads is what the golden files pin: the REST API's JSON body
// and the activity webhook's form, for one notification.
type legacyPayloads struct {
	REST    restMessage       `json:"rest"`
	Webhook map[string]string `json:"webhook"`
}

func TestLegacyFormatGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(n *providers.Notification)
	}{
		{name: "new_topic", modify: func(*providers.Notification) {}},
		{name: "reply", modify: func(n *providers.Notification) {
			n.Post.ID, n.Post.Number, n.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
			n.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
			n.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob"}
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
			n.Topic.Title = "Q&A: *bold* _claims_ [brackets](x) <b>html</b> `tick`"
			n.Topic.Tags = []string{"a_b", "c*d"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D [lab]"}
			n.Post.URL = "https://forum.example.org/t/q-a/9/1?a=(1)&b=2 3"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; *not bold* @everyone ask team@example.org or ` +
				`<a href="mailto:team@example.org">mail us</a> <a href="https://example.com/search?q=a&amp;b=c">search</a></p>`
			n.Author.DisplayName = "Jane *Doe* (@jane)"
		}},
		{name: "no_category_no_author", modify: func(n *providers.Notification) {
			n.Topic.Category = nil
			n.Author = providers.Author{}
			n.Post.Cooked = ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := goldenNotification()
			tc.modify(n)
			wire, err := providers.EncodeJSON(legacyPayloads{
				REST:    restMessage{Text: restText(n, 400)},
				Webhook: map[string]string{"message": webhookMessage(n)},
			})
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, json.Indent(&got, wire, "", "  "))
			got.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *updateGolden {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./providers/gitter -update to create it")
			require.JSONEq(t, string(want), got.String())
		})
	}
}

func TestNoMentions(t *testing.T) {
	t.Parallel()
	const z = zeroWidthSpace
	tests := []struct{ in, want string }{
		{"@jane", "@" + z + "jane"},
		{"Jane Doe (@jane)", "Jane Doe (@" + z + "jane)"},
		{"[@jane](https://forum.example.org/u/jane)", "[@" + z + "jane](https://forum.example.org/u/jane)"},
		{"[__@bob__ - title](https://x.org)", "[__@" + z + "bob__ - title](https://x.org)"},
		{"mail team@example.org", "mail team@example.org"},
		{"[mail](mailto:team@example.org)", "[mail](mailto:team@example.org)"},
		{"https://social.example/@jane", "https://social.example/@jane"},
		{"no at sign", "no at sign"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, noMentions(tc.in), tc.in)
	}
}

func TestRestTextExcerptLength(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	n.Post.Cooked = "<p>" + string(bytes.Repeat([]byte("abcdefghij"), 10)) + "</p>"
	require.Contains(t, restText(n, 15), "\n\n> abcdefghijabcd…")
	require.Contains(t, restText(n, 0), "abcdefghij", "an unset length is the default")
}

func TestMarkdownURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://e.org/a%20b%28c%29", mdURL("https://e.org/a b(c)"))
	require.Empty(t, mdURL("javascript:alert(1)"))
	require.Equal(t, "title", mdLink("", "title"))
}
