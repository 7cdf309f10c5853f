package discord_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/discord"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

const generic = "chat_integration.channel_exception"

// firstMessage is the id the fake gives its first message.
const firstMessage = "1300000000000000001"

// target is a channel whose webhook is the fake at base.
func target(base string) *providers.Target { return providertest.WebhookTarget(fakeHookURL, base) }

// threadOf reads the thread a request posts into.
func threadOf(r providertest.Request) string {
	q, _ := url.ParseQuery(r.Query)
	return q.Get("thread_id")
}

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	return providertest.Harness{
		New:      func(c *http.Client) providers.Notifier { return discord.New(discord.Options{HTTPClient: c}) },
		NewFake:  func(t *testing.T) providertest.Fake { return newFakeDiscord(t) },
		Target:   target,
		Secrets:  []string{fakeHookSecret, fakeHookURL},
		ThreadOf: threadOf,
		// A thread a member started in the channel: the fake answers
		// Unknown Channel for a thread_id it does not hold, as Discord
		// does.
		ThreadRoot:     func(f providertest.Fake) string { return f.(*fakeDiscord).memberThread("Release chat") },
		EditEndpoint:   "PATCH " + fakeHookPath + "/messages/" + firstMessage,
		DeleteEndpoint: "DELETE " + fakeHookPath + "/messages/" + firstMessage,
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
}

// bundle is one test's provider and fake.
type bundle struct {
	p    *discord.Provider
	fake *fakeDiscord
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: discord.New(discord.Options{}), fake: newFakeDiscord(t)}
}

func setupForum(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: discord.New(discord.Options{}), fake: newForum(t)}
}

// since returns the requests after the first n.
func (b *bundle) since(n int) []providertest.Request { return b.fake.Requests()[n:] }

func query(t *testing.T, r providertest.Request) url.Values {
	t.Helper()
	q, err := url.ParseQuery(r.Query)
	require.NoError(t, err)
	return q
}

func TestExecuteWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Settings["message_content"] = "<@&123> new post"
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: firstMessage, ThreadID: firstMessage}, r,
		"a thread started on the message would have its id")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakeHookPath, req.Endpoint(), "api_base_url replaces only the origin")
	require.Equal(t, url.Values{"wait": {"true"}}, query(t, req))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	body := req.JSON(t)
	require.Equal(t, "<@&123> new post", body["content"])
	require.NotContains(t, body, "username", "empty keeps the webhook's own name")
	require.NotContains(t, body, "thread_name")
	embeds := body["embeds"].([]any)
	require.Len(t, embeds, 1)
	e := embeds[0].(map[string]any)
	require.Equal(t, "Upgrading to 2.0 & beyond \\[Support/Installation\\] upgrade, help", e["title"])
	require.Equal(t, "https://forum.example.org/t/upgrading-to-2-0/42/2", e["url"])
	require.Equal(t, float64(0xF1592A), e["color"])
	require.Equal(t, map[string]any{
		"name": "Jane Doe (@jane)", "url": "https://forum.example.org/u/jane",
		"icon_url": "https://forum.example.org/user_avatar/forum.example.org/jane/45/1_2.png",
	}, e["author"])
	require.Contains(t, e["description"], "launcher rebuild app")
}

func TestAdminQueryIsKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	pinned := b.fake.memberThread("Announcements")
	tg.Data["webhook_url"] = fakeHookURL + "?thread_id=" + pinned + "&wait=false&with_components=true"
	require.False(t, b.p.Threads(tg), "a URL pinned to a thread leaves no thread per topic")

	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "777"
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, url.Values{"thread_id": {pinned}, "wait": {"true"}, "with_components": {"true"}}, query(t, b.fake.RequireLast(t)),
		"the admin's query is kept, wait is forced to true, and the topic's root does not override the admin's thread")
	require.Equal(t, &providers.Receipt{MessageID: firstMessage}, r)

	n.Kind = providers.PostEdited
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	require.Equal(t, "PATCH "+fakeHookPath+"/messages/"+firstMessage, b.fake.RequireLast(t).Endpoint())
	require.Equal(t, url.Values{"thread_id": {pinned}, "with_components": {"true"}}, query(t, b.fake.RequireLast(t)))
	require.NoError(t, b.p.Delete(t.Context(), tg, r))
}

// TestForumChannel is the 220001 path: a forum refuses a message without a
// thread, so the provider posts it again, once, with thread_name; the
// forum post it creates is the topic's thread, and a reply lands in it.
func TestForumChannel(t *testing.T) {
	t.Parallel()
	b := setupForum(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Post.Number, n.Filter = 1, "thread"

	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2, "one refused post and one with thread_name")
	require.NotContains(t, reqs[0].JSON(t), "thread_name")
	second := reqs[1].JSON(t)
	require.Equal(t, n.Topic.Title, second["thread_name"], "the forum post is named after the topic")
	require.Equal(t, reqs[0].JSON(t)["embeds"], second["embeds"], "the same message, only with a thread name")
	require.Equal(t, firstMessage, root.MessageID)
	require.Equal(t, root.MessageID, root.ThreadID, "a forum post's thread has its first message's id")
	require.Equal(t, map[string]string{"thread": root.ThreadID}, root.Extra)
	require.Equal(t, n.Topic.Title, b.fake.threadName(root.ThreadID))

	n.Post.Number, n.Post.ID, n.ThreadID = 2, 1002, root.ThreadID
	reply, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Len(t, b.since(2), 1, "a reply into a known thread is one request")
	require.Equal(t, root.ThreadID, threadOf(b.fake.RequireLast(t)))
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "thread_name")
	require.Equal(t, root.ThreadID, reply.ThreadID)
	_, channel, ok := b.fake.message(reply.MessageID)
	require.True(t, ok)
	require.Equal(t, root.ThreadID, channel, "the reply is in the topic's forum post")

	// Editing the reply edits the message in the thread.
	n.Kind, n.Post.Cooked = providers.PostEdited, "<p>Edited reply</p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, reply, n))
	require.Equal(t, "PATCH "+fakeHookPath+"/messages/"+reply.MessageID, b.fake.RequireLast(t).Endpoint())
	require.Equal(t, url.Values{"thread_id": {root.ThreadID}}, query(t, b.fake.RequireLast(t)))
	body, _, _ := b.fake.message(reply.MessageID)
	require.Contains(t, fmt.Sprint(body["embeds"]), "Edited reply")

	require.NoError(t, b.p.Delete(t.Context(), tg, reply))
	_, _, ok = b.fake.message(reply.MessageID)
	require.False(t, ok)
}

func TestForumThreadNameIsTruncated(t *testing.T) {
	t.Parallel()
	b := setupForum(t)
	n := providertest.Notification()
	n.Topic.Title = strings.Repeat("é", 150)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), n)
	require.NoError(t, err)
	name := b.fake.RequireLast(t).JSON(t)["thread_name"].(string)
	require.Equal(t, 100, len([]rune(name)))
	require.True(t, strings.HasSuffix(name, "…"))
}

func TestForumWatchRulePostsEachMessageAsAForumPost(t *testing.T) {
	t.Parallel()
	b := setupForum(t)
	n := providertest.Notification()
	n.ThreadID = "1300000000000000099"
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), n)
	require.NoError(t, err)
	require.Empty(t, threadOf(b.fake.Requests()[0]), "only thread rules reply into the topic's thread")
	require.Equal(t, r.MessageID, r.ThreadID)
}

func TestForumPostDeletedStartsANewOne(t *testing.T) {
	t.Parallel()
	b := setupForum(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Filter = "thread"
	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	b.fake.deleteThread(root.ThreadID)

	sent := len(b.fake.Requests())
	n.ThreadID = root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	reqs := b.since(sent)
	require.Len(t, reqs, 3, "Unknown Channel, then 220001, then a new forum post")
	require.Equal(t, root.ThreadID, threadOf(reqs[0]))
	require.Empty(t, threadOf(reqs[1]))
	require.Equal(t, n.Topic.Title, reqs[2].JSON(t)["thread_name"])
	require.NotEqual(t, root.ThreadID, r.ThreadID)
	require.Equal(t, r.MessageID, r.ThreadID)
}

// TestTextChannelThread: a webhook cannot create threads in a text
// channel, but a member can start one on the topic's first message, and
// replies then land in it.
func TestTextChannelThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Post.Number, n.Filter = 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, root.ThreadID)

	// No thread yet: Unknown Channel, and the reply goes to the channel.
	n.Post.Number, n.ThreadID = 2, root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	reqs := b.since(1)
	require.Len(t, reqs, 2)
	require.Equal(t, root.ThreadID, threadOf(reqs[0]))
	require.Empty(t, threadOf(reqs[1]))
	require.NotContains(t, reqs[1].JSON(t), "thread_name", "a text channel cannot create threads")
	require.Equal(t, root.ThreadID, r.ThreadID, "the topic keeps its root")
	require.Nil(t, r.Extra)

	b.fake.startThread(root.MessageID)
	n.Post.Number = 3
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Len(t, b.since(3), 1)
	require.Equal(t, root.ThreadID, threadOf(b.fake.RequireLast(t)))
	_, channel, _ := b.fake.message(r.MessageID)
	require.Equal(t, root.MessageID, channel, "the reply is in the thread started on the root")
	require.Equal(t, map[string]string{"thread": root.ThreadID}, r.Extra)
}

func TestPinnedThreadGone(t *testing.T) {
	t.Parallel()
	b := setupForum(t)
	tg := target(b.fake.URL())
	root, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	b.fake.deleteThread(root.ThreadID)

	tg.Data["webhook_url"] = fakeHookURL + "?thread_id=" + root.ThreadID
	sent := len(b.fake.Requests())
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, discord.KeyUnknownThread, providers.ErrChannelNotFound, fakeHookSecret)
	require.Len(t, b.since(sent), 1, "the admin's thread is not negotiated away")
}

// TestEditEditsTheMessage is the issue's "editing a post edits the chat
// message".
func TestEditEditsTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Settings["message_content"] = "New post"
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)

	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited <strong>text</strong></p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	req := b.fake.RequireLast(t)
	require.Equal(t, "PATCH "+fakeHookPath+"/messages/"+r.MessageID, req.Endpoint())
	require.Empty(t, req.Query)
	body := req.JSON(t)
	require.Equal(t, "New post", body["content"])
	require.NotContains(t, body, "username", "an edit cannot change the author")
	stored, _, _ := b.fake.message(r.MessageID)
	require.Contains(t, fmt.Sprint(stored["embeds"]), "Edited **text**")

	tg.Settings["message_content"] = ""
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	require.Equal(t, "", b.fake.RequireLast(t).JSON(t)["content"], "a cleared content is cleared on edit")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	req = b.fake.RequireLast(t)
	require.Equal(t, "DELETE "+fakeHookPath+"/messages/"+r.MessageID, req.Endpoint())
	require.Empty(t, req.Body)
	require.Empty(t, req.Header.Get("Content-Type"))
	require.NoError(t, b.p.Delete(t.Context(), tg, r), "deleting a message that is gone is done")
	providertest.RequireKey(t, b.p.Edit(t.Context(), tg, r, n), generic, nil, fakeHookSecret)
}

func TestEditNeedsAMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	providertest.RequireKey(t, b.p.Edit(t.Context(), tg, &providers.Receipt{}, providertest.Notification()), generic, nil, fakeHookSecret)
	providertest.RequireKey(t, b.p.Delete(t.Context(), tg, &providers.Receipt{MessageID: "../../x"}), generic, nil, fakeHookSecret)
	require.Empty(t, b.fake.Requests())
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	require.NoError(t, b.p.TestChannel(t.Context(), tg))
	req := b.fake.RequireLast(t)
	require.Equal(t, "GET "+fakeHookPath, req.Endpoint())
	require.Empty(t, req.Query)
	require.Empty(t, req.Body, "nothing is posted")

	tg.Data["webhook_url"] = "https://discord.com/api/webhooks/" + fakeHookID + "/wrong-token"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), discord.KeyInvalidWebhook, providers.ErrUnauthorized, fakeHookSecret)
	tg.Data["webhook_url"] = "https://discord.com/api/webhooks/1/" + fakeHookSecret
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), discord.KeyUnknownWebhook, providers.ErrChannelNotFound, fakeHookSecret)
}

func TestWebhookURLShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, u := range []string{
		"https://discord.com/api/webhooks/",
		"https://discord.com/api/webhooks/123",
		"https://discord.com/api/webhooks/abc/token",
		"https://discord.com/api/webhooks/123/token/slack",
		"",
	} {
		tg := target(b.fake.URL())
		tg.Data["webhook_url"] = u
		_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
		providertest.RequireKey(t, err, discord.KeyNotConfigured, providers.ErrNotConfigured, fakeHookSecret)
		require.False(t, b.p.Threads(tg))
	}
	tg := target("::not a url")
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, discord.KeyNotConfigured, providers.ErrNotConfigured, fakeHookSecret)
	require.Empty(t, b.fake.Requests())

	// A versioned URL and a trailing slash are fine.
	tg = target(b.fake.URL())
	tg.Data["webhook_url"] = "https://discord.com/api/v10/webhooks/" + fakeHookID + "/" + fakeHookSecret + "/"
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	require.Error(t, err, "the fake serves only the unversioned path")
	require.Equal(t, "POST /api/v10/webhooks/"+fakeHookID+"/"+fakeHookSecret, b.fake.RequireLast(t).Endpoint())
}

// TestErrors pins the classification of Discord's answers in its own
// words.
func TestErrors(t *testing.T) {
	t.Parallel()
	type want = providertest.Classified
	rejected := want{Key: generic, Permanent: true}
	retry := want{Key: generic}
	limited := func(d time.Duration) want { return want{Key: generic, Limited: true, After: d} }
	global := func(d time.Duration) want {
		return want{Key: generic, Limited: true, After: d, Scope: providers.LimitAccount}
	}
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		{Status: 401, Body: `{"message": "Invalid Webhook Token", "code": 50027}`, Want: want{Key: discord.KeyInvalidWebhook, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 403, Body: `{"message": "Missing Permissions", "code": 50013}`, Want: want{Key: discord.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 404, Body: `{"message": "Unknown Webhook", "code": 10015}`, Want: want{Key: discord.KeyUnknownWebhook, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 404, Body: `404: Not Found`, Want: want{Key: discord.KeyUnknownWebhook, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 400, Body: `{"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {"0": {"url": {"_errors": [{"code": "URL_TYPE_INVALID_URL", "message": "Not a well formed URL."}]}}}}}`, Want: rejected},
		{Status: 400, Body: `{"message": "Cannot send an empty message", "code": 50006}`, Want: rejected},
		{Status: 429, Body: `{"message": "You are being rate limited.", "retry_after": 64.57, "global": false}`, Want: limited(64570 * time.Millisecond)},
		{Status: 429, Body: `{"message": "You are being rate limited.", "retry_after": 0.3, "global": true}`, Want: global(300 * time.Millisecond)},
		{Status: 429, Header: http.Header{"X-Ratelimit-Reset-After": {"2.5"}, "Retry-After": {"3"}}, Body: `{"message": "You are being rate limited."}`, Want: limited(2500 * time.Millisecond)},
		{Status: 429, Header: http.Header{"X-Ratelimit-Scope": {"shared"}}, Body: `{"message": "You are being rate limited.", "retry_after": 1}`, Want: limited(time.Second)},
		{Status: 429, Header: http.Header{"X-Ratelimit-Scope": {"global"}}, Body: `{"message": "You are being rate limited.", "retry_after": 1}`, Want: global(time.Second)},
		{Status: 429, Header: http.Header{"X-Ratelimit-Global": {"true"}}, Body: `{"message": "You are being rate limited.", "retry_after": 1}`, Want: global(time.Second)},
		{Status: 429, Header: http.Header{"Retry-After": {"30"}}, Body: `<html>Cloudflare: you are being rate limited</html>`, Want: global(30 * time.Second)},
		{Status: 500, Body: `{"message": "500: Internal Server Error", "code": 0}`, Want: retry},
		{Status: 502, Body: `<html>502 Bad Gateway</html>`, Want: retry},
		{Status: 503, Want: retry},
		{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}, Want: rejected},
	}, fakeHookSecret, "<html>")
}

func TestPersistentForumErrorIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A persistent 220001 is negotiated once, then reported.
	b.fake.Reply(400, nil, `{"message": "Webhooks posted to forum channels must have a thread_name or thread_id", "code": 220001}`)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.Nil(t, r)
	providertest.RequireKey(t, err, generic, nil, fakeHookSecret)
	require.Len(t, b.fake.Requests(), 2)
}

func TestUnreadableSuccessIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(http.StatusNoContent, nil, "")
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err, "the message was posted; posting it again would duplicate it")
	require.Equal(t, &providers.Receipt{}, r)
}

func TestErrorMessageEchoingTheTokenIsNotQuoted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(400, nil, `{"message": "bad webhook `+fakeHookSecret+`", "code": 50035}`)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.EqualError(t, err, "Discord answered HTTP 400 code 50035")

	b.fake.Reply(400, nil, `{"message": "see https://discord.com/api/webhooks/1/x", "code": 50035}`)
	_, err = b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.EqualError(t, err, "Discord answered HTTP 400 code 50035")
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch map[string]any
		field string // "" means valid
	}{
		{name: "empty"},
		{name: "content", patch: map[string]any{"message_content": "<@&123> new post"}},
		{name: "content too long", patch: map[string]any{"message_content": strings.Repeat("x", 2001)}, field: "settings.message_content"},
		{name: "username", patch: map[string]any{"username": "Forum bot"}},
		{name: "username with discord", patch: map[string]any{"username": "My Discord bot"}, field: "settings.username"},
		{name: "username with clyde", patch: map[string]any{"username": "Clyde"}, field: "settings.username"},
		{name: "username everyone", patch: map[string]any{"username": "everyone"}, field: "settings.username"},
		{name: "username with @", patch: map[string]any{"username": "bot@forum"}, field: "settings.username"},
		{name: "username blank", patch: map[string]any{"username": "   "}, field: "settings.username"},
		{name: "username too long", patch: map[string]any{"username": strings.Repeat("x", 81)}, field: "settings.username"},
		{name: "avatar", patch: map[string]any{"avatar_url": "https://forum.example.org/logo.png"}},
		{name: "avatar not a URL", patch: map[string]any{"avatar_url": "logo.png"}, field: "settings.avatar_url"},
		{name: "base", patch: map[string]any{"api_base_url": "http://127.0.0.1:9000/discord"}},
		{name: "base with query", patch: map[string]any{"api_base_url": "https://proxy.example.org/?a=1"}, field: "settings.api_base_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(discord.New(discord.Options{}), true, nil, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.field)
		})
	}
}

func TestWebhookURLPattern(t *testing.T) {
	t.Parallel()
	p := discord.New(discord.Options{})
	for u, ok := range map[string]bool{
		"https://discord.com/api/webhooks/123/abc":              true,
		"https://discord.com/api/webhooks/123/abc?thread_id=42": true,
		"http://discord.com/api/webhooks/123/abc":               false,
		"https://discordapp.com/api/webhooks/123/abc":           false,
		"https://discord.com.evil.example/api/webhooks/1/abc":   false,
	} {
		_, err := providers.ValidateChannelData(p, "data", map[string]any{"name": "x", "webhook_url": u})
		require.Equal(t, ok, err == nil, "%s: %v", u, err)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(discord.New(discord.Options{})))
}
