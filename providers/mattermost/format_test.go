package mattermost

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// goldenTarget has both ways configured; each golden file holds the
// webhook body and the REST post for the same notification.
func goldenTarget() *providers.Target {
	return &providers.Target{
		Data: map[string]string{"identifier": "#4xp9fdt3pbgqzqzf1a4m2o7yhc"},
		Settings: providers.Settings{
			"webhook_url": "https://chat.example.com/hooks/abc", "server_url": "https://chat.example.com",
			"bot_token": "t", "excerpt_length": 400,
		},
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Mattermost adds to the shared cases: the webhook's icon, text
	// with Mattermost's own specials (@channel), and a reply in a thread.
	extra := map[string]func(n *providers.Notification, tg *providers.Target){
		providertest.GoldenTagsParentCategory: func(_ *providers.Notification, tg *providers.Target) {
			tg.Settings["icon_url"] = "/images/bot.png"
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *providers.Target) {
			n.Topic.Title = "Q&A: <script> & *bold* claims"
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ ~x~ [not](a link) <code>a*b</code> @channel</p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
		},
	}
	thread := providertest.GoldenThreadReply()
	thread.Post.Cooked = `<p>Replying in the thread.</p>`
	thread.Filter, thread.ThreadID = "thread", "post0000000000000000000001"
	cases := append(providertest.GoldenCases(), providertest.GoldenCase{Name: "thread_reply", Notification: thread})
	// Each golden file holds the webhook body and the REST post.
	providertest.RunGoldenTweaked(t, cases, goldenTarget, extra, func(n *providers.Notification, tg *providers.Target) any {
		return map[string]any{
			"webhook": formatWebhook(n, optionsFor(tg, n, modeWebhook)),
			"post":    formatPost(n, optionsFor(tg, n, modeAPI)),
		}
	})
}

func TestFormatPatchMatchesPost(t *testing.T) {
	t.Parallel()
	n, tg := providertest.GoldenNotification(), goldenTarget()
	o := optionsFor(tg, n, modeAPI)
	require.Equal(t, formatPost(n, o).Props, formatPatch(n, o).Props, "an edit shows what a new post would")
	wire, err := providers.EncodeJSON(formatPatch(n, o))
	require.NoError(t, err)
	require.NotContains(t, string(wire), "channel_id", "a patch cannot move a post")
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	n, tg := providertest.GoldenNotification(), goldenTarget()
	o := optionsFor(tg, n, modeAPI)
	require.Equal(t, "4xp9fdt3pbgqzqzf1a4m2o7yhc", o.Channel)
	require.Empty(t, o.RootID)
	require.Empty(t, o.Username, "the REST API posts as the bot")

	n.Filter, n.ThreadID = "thread", "root"
	require.Equal(t, "root", optionsFor(tg, n, modeAPI).RootID)
	require.Empty(t, optionsFor(tg, n, modeWebhook).RootID, "a webhook cannot reply into a thread")
	n.Filter = "follow"
	require.Empty(t, optionsFor(tg, n, modeAPI).RootID, "only thread rules reply into threads")

	w := optionsFor(tg, n, modeWebhook)
	require.Equal(t, "#4xp9fdt3pbgqzqzf1a4m2o7yhc", w.Channel, "the webhook gets the identifier as entered")
	require.Equal(t, "Example Forum", w.Username)
	require.Equal(t, n.Site.LogoURL, w.IconURL)
	tg.Settings["icon_url"] = "https://cdn.example.org/bot.png"
	require.Equal(t, "https://cdn.example.org/bot.png", optionsFor(tg, n, modeWebhook).IconURL)
	tg.Settings["icon_url"] = "images/bot.png"
	require.Equal(t, "https://forum.example.org/images/bot.png", optionsFor(tg, n, modeWebhook).IconURL)
	tg.Settings["excerpt_length"] = 0
	require.Equal(t, 400, optionsFor(tg, n, modeWebhook).ExcerptLength)
}

func TestFormatWithoutAuthorOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Author = providers.Author{}
	n.Topic.Category = nil
	n.Post.URL = ""
	a := formatAttachment(n, formatOptions{ExcerptLength: 400})
	require.Equal(t, "Welcome to the forum", a.Fallback)
	require.Empty(t, a.AuthorName)
	require.Empty(t, a.Color)
	require.Equal(t, n.Topic.URL, a.TitleLink, "the topic's link when the post has none")
}

func TestExcerptLength(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
	n.Post.Cooked = "<p>" + strings.Repeat("word ", 100) + "</p>"
	a := formatAttachment(n, formatOptions{ExcerptLength: 20})
	require.LessOrEqual(t, len([]rune(a.Text)), 21)
	require.True(t, strings.HasSuffix(a.Text, "…"), a.Text)
}

func TestQuietMentions(t *testing.T) {
	t.Parallel()
	const wj = "\u2060"
	tests := []struct{ in, want string }{
		{"hello @channel", "hello @" + wj + "channel"},
		{"@all: read this", "@" + wj + "all: read this"},
		{"@HERE.", "@" + wj + "HERE."},
		{"@channel", "@" + wj + "channel"},
		{"[@here](https://e.com/u/here)", "[@" + wj + "here](https://e.com/u/here)"},
		{"@allison and @jane", "@allison and @jane"},
		{"mail team@all.example.com", "mail team@all.example.com"},
		{"https://e.com/@all", "https://e.com/@all"},
		{"no mentions", "no mentions"},
		{"@", "@"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, quietMentions(tc.in), tc.in)
	}
}
