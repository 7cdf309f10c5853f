package rocketchat

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func goldenTarget() *providers.Target {
	return &providers.Target{
		Data: map[string]string{"identifier": "#general"},
		Settings: providers.Settings{
			"webhook_url": "https://chat.example.com/hooks/abc/def", "server_url": "https://chat.example.com",
			"user_id": "u", "auth_token": "t", "excerpt_length": 400,
		},
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Rocket.Chat adds to the shared cases: a direct message, text
	// with Rocket.Chat's own specials (@all, brackets in a URL), and a
	// reply in a thread.
	extra := map[string]func(n *providers.Notification, tg *providers.Target){
		providertest.GoldenTagsParentCategory: func(_ *providers.Notification, tg *providers.Target) {
			tg.Data["identifier"] = "@alice"
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* [claims](x)"
			n.Topic.Tags = []string{"a&b", "c_d"}
			n.Post.URL = "https://forum.example.org/t/q-a-(draft)/43/1"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~x~ <code>a*b</code> @all and @here, mail me@example.com</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		},
	}
	thread := providertest.GoldenThreadReply()
	thread.Post.Cooked = `<p>Replying in the thread.</p>`
	thread.Filter, thread.ThreadID = "thread", "msgIdDDDD00000001"
	cases := append(providertest.GoldenCases(), providertest.GoldenCase{Name: "thread_reply", Notification: thread})
	// Each golden file holds both bodies: the integration's attachment (the
	// reference's payload) and the REST API's text.
	providertest.RunGoldenTweaked(t, cases, goldenTarget, extra, func(n *providers.Notification, tg *providers.Target) any {
		return map[string]any{
			"webhook": formatWebhook(n, optionsFor(tg, n, modeWebhook)),
			"message": formatMessage(n, optionsFor(tg, n, modeAPI)),
		}
	})
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n, tg := providertest.GoldenNotification(), goldenTarget()
	require.Equal(t, formatOptions{Channel: "#general", ExcerptLength: 400}, optionsFor(tg, n, modeAPI))
	n.Filter, n.ThreadID = "thread", "root"
	require.Equal(t, "root", optionsFor(tg, n, modeAPI).TMID)
	require.Empty(t, optionsFor(tg, n, modeWebhook).TMID, "an integration cannot reply into a thread")
	n.Filter = "follow"
	require.Empty(t, optionsFor(tg, n, modeAPI).TMID, "only thread rules reply into threads")
	tg.Settings["excerpt_length"] = -3
	require.Equal(t, 400, optionsFor(tg, n, modeAPI).ExcerptLength)
}

func TestFormatWithoutAuthorOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Author = providers.Author{}
	n.Topic.Category = nil
	n.Post.URL, n.Post.Cooked = "", ""
	o := formatOptions{Channel: "#general", ExcerptLength: 400}
	require.Equal(t, "**[Welcome to the forum](https://forum.example.org/t/welcome/42)**", formatText(n, o))
	a := formatWebhook(n, o).Attachments[0]
	require.Equal(t, "Welcome to the forum", a.Fallback)
	require.Empty(t, a.Color)
	require.Equal(t, n.Topic.URL, a.TitleLink)
}

func TestQuietMentions(t *testing.T) {
	t.Parallel()
	const wj = "\u2060"
	tests := []struct{ in, want string }{
		{"hi @all", "hi @" + wj + "all"},
		{"(@jane)", "(@" + wj + "jane)"},
		{"[@jane](https://forum.example.org/u/jane)", "[@" + wj + "jane](https://forum.example.org/u/jane)"},
		{"me@example.com", "me@example.com"},
		{"https://e.com/@jane?u=@bob", "https://e.com/@jane?u=@bob"},
		{"@ alone", "@ alone"},
		{"end @", "end @"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, quietMentions(tc.in), tc.in)
	}
}
