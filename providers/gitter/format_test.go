package gitter

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// legacyPayloads is what the golden files pin: the REST API's JSON body
// and the activity webhook's form, for one notification.
type legacyPayloads struct {
	REST    restMessage       `json:"rest"`
	Webhook map[string]string `json:"webhook"`
}

func TestLegacyFormatGolden(t *testing.T) {
	t.Parallel()
	// What Gitter adds to the shared cases: text with Gitter's own
	// specials (mentions, an email address, brackets in a URL) and a
	// message without category or author.
	extra := map[string]func(n *providers.Notification){
		providertest.GoldenEscaping: func(n *providers.Notification) {
			n.Topic.Title = "Q&A: *bold* _claims_ [brackets](x) <b>html</b> `tick`"
			n.Topic.Tags = []string{"a_b", "c*d"}
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D [lab]"}
			n.Post.URL = "https://forum.example.org/t/q-a/9/1?a=(1)&b=2 3"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; *not bold* @everyone ask team@example.org or ` +
				`<a href="mailto:team@example.org">mail us</a> <a href="https://example.com/search?q=a&amp;b=c">search</a></p>`
			n.Author.DisplayName = "Jane *Doe* (@jane)"
		},
	}
	bare := providertest.GoldenNotification()
	bare.Topic.Category, bare.Author, bare.Post.Cooked = nil, providers.Author{}, ""
	cases := append(providertest.GoldenCases(), providertest.GoldenCase{Name: "no_category_no_author", Notification: bare})
	providertest.RunGolden(t, cases, func(c providertest.GoldenCase) any {
		n := c.Notification
		if f := extra[c.Name]; f != nil {
			f(n)
		}
		return legacyPayloads{
			REST:    restMessage{Text: restText(n, 400)},
			Webhook: map[string]string{"message": webhookMessage(n)},
		}
	})
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
	n := providertest.GoldenNotification()
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
