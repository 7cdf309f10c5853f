package mattermost_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/mattermost"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

const generic = "chat_integration.channel_exception"

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	const hook = "https://chat.example.com/hooks/abc123"
	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		field   string // "" for success
	}{
		{name: "disabled and empty"},
		{name: "disabled with half the REST pair", patch: map[string]any{"bot_token": "t"}},
		{name: "enabled and empty", enabled: true, field: "settings"},
		{name: "enabled with webhook", enabled: true, patch: map[string]any{"webhook_url": hook}},
		{name: "enabled with REST", enabled: true, patch: map[string]any{"server_url": "https://chat.example.com", "bot_token": "t"}},
		{name: "enabled with both", enabled: true, patch: map[string]any{"webhook_url": hook, "server_url": "https://chat.example.com", "bot_token": "t"}},
		{name: "token without server", enabled: true, patch: map[string]any{"webhook_url": hook, "bot_token": "t"}, field: "settings.server_url"},
		{name: "server without token", enabled: true, patch: map[string]any{"server_url": "https://chat.example.com"}, field: "settings.bot_token"},
		{name: "blank token", enabled: true, patch: map[string]any{"server_url": "https://chat.example.com", "bot_token": " "}, field: "settings.bot_token"},
		{
			name: "resetting the webhook leaves nothing", enabled: true,
			current: map[string]any{"webhook_url": hook}, patch: map[string]any{"webhook_url": nil}, field: "settings",
		},
		{name: "only the slash command token", enabled: true, patch: map[string]any{"incoming_webhook_token": "x"}, field: "settings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(mattermost.New(mattermost.Options{}), tc.enabled, tc.current, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			var fe *providers.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestWebhookURLPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://chat.example.com/hooks/xf6ddhm5abcdefghijklmnopqr", true},
		{"https://example.com/mattermost/hooks/abc", true},
		{"http://10.0.0.5:8065/hooks/abc", true},
		{"https://chat.example.com/hooks/", false},
		{"https://chat.example.com/api/v4/posts", false},
		{"https://chat.example.com/hooks/abc/extra", false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(mattermost.New(mattermost.Options{}), false, nil, map[string]any{"webhook_url": tc.url})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "settings.webhook_url")
		})
	}
}

// apiTarget is a channel reached through the REST API of the fake at base.
// server_url is the fake too, so the target works with or without
// api_base_url.
func apiTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "town square",
		Data:     map[string]string{"identifier": "#" + fakeChannelID},
		Settings: providers.Settings{"server_url": base, "bot_token": fakeToken, "api_base_url": base, "excerpt_length": 400},
	}
}

// webhookTarget is a channel reached through the incoming webhook of the
// fake at base.
func webhookTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 2, ChannelName: "town square hook",
		Data:     map[string]string{"identifier": "#" + fakeChannelName},
		Settings: providers.Settings{"webhook_url": fakeHookURL, "api_base_url": base, "excerpt_length": 400},
	}
}

func harness(target func(string) *providers.Target) providertest.Harness {
	return providertest.Harness{
		New:        func(c *http.Client) providers.Notifier { return mattermost.New(mattermost.Options{HTTPClient: c}) },
		NewFake:    func(t *testing.T) providertest.Fake { return newFakeMattermost(t) },
		Target:     target,
		Secrets:    []string{fakeToken, fakeHookID},
		ThreadOf:   providertest.ThreadField("root_id"),
		ThreadRoot: func(f providertest.Fake) string { return f.(*fakeMattermost).postOutside() },
		// Every subtest has a fresh fake, so the first post has this id.
		EditEndpoint:   "PUT /api/v4/posts/post0000000000000000000001/patch",
		DeleteEndpoint: "DELETE /api/v4/posts/post0000000000000000000001",
		LimitScope:     providers.LimitAccount, // the 429 holds back the whole account
	}
}

func TestConformanceRESTAPI(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness(apiTarget))
}

func TestConformanceIncomingWebhook(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness(webhookTarget))
}

// bundle is one test's provider and fake.
type bundle struct {
	p    *mattermost.Provider
	fake *fakeMattermost
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: mattermost.New(mattermost.Options{HTTPClient: providers.NewHTTPClient()}), fake: newFakeMattermost(t)}
}

func TestCreatePost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	delete(tg.Settings, "api_base_url") // server_url alone reaches the API
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: "post0000000000000000000001", ThreadID: "post0000000000000000000001"}, r)

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /api/v4/posts", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	body := req.JSON(t)
	require.Equal(t, fakeChannelID, body["channel_id"], "the identifier without '#'")
	require.NotContains(t, body, "root_id")
	require.NotContains(t, body, "username", "the bot posts under its own name")
	atts := body["props"].(map[string]any)["attachments"].([]any)
	require.Len(t, atts, 1)
	att := atts[0].(map[string]any)
	require.Equal(t, "Upgrading to 2.0 & beyond [Support/Installation] upgrade, help", att["title"])
	require.Equal(t, "#F1592A", att["color"])

	p, ok := b.fake.Post(r.MessageID)
	require.True(t, ok)
	require.Contains(t, p.Text(), "launcher rebuild app")
}

// TestThreadRootAndReply is the issue's "topic's first post starts a
// thread per channel and a reply lands in it", played the way the engine
// plays it: the first delivery of a thread rule has no ThreadID, and the
// receipt's ThreadID is handed to the next one.
func TestThreadRootAndReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	require.True(t, b.p.Threads(tg))

	first := providertest.Notification()
	first.Post.Number, first.Filter = 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "root_id", "the first post starts the thread")
	require.Equal(t, root.MessageID, root.ThreadID, "and is its root")

	reply := providertest.Notification()
	reply.Post.ID, reply.Post.Number, reply.Filter, reply.ThreadID = 1002, 2, "thread", root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, b.fake.RequireLast(t).JSON(t)["root_id"])
	require.NotEqual(t, root.MessageID, r.MessageID)
	require.Equal(t, root.MessageID, r.ThreadID, "later replies still go to the root")
	p, ok := b.fake.Post(r.MessageID)
	require.True(t, ok)
	require.Equal(t, root.MessageID, p.RootID, "the reply is in the root's thread")

	// A watch rule posts to the channel even when the topic has a thread.
	reply.Filter = "watch"
	_, err = b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "root_id")
}

func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)

	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited text</p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	req := b.fake.RequireLast(t)
	require.Equal(t, "PUT /api/v4/posts/"+r.MessageID+"/patch", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))
	p, ok := b.fake.Post(r.MessageID)
	require.True(t, ok)
	require.Equal(t, "Edited text", p.Text(), "the edit replaced the post's attachment")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	req = b.fake.RequireLast(t)
	require.Equal(t, "DELETE /api/v4/posts/"+r.MessageID, req.Endpoint())
	require.Empty(t, req.Body)
	_, ok = b.fake.Post(r.MessageID)
	require.False(t, ok, "the post is gone")

	require.NoError(t, b.p.Delete(t.Context(), tg, r), "a post that is already gone counts as deleted")
}

func TestEditNeedsAPIAndPostID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	r := &providers.Receipt{MessageID: "post0000000000000000000001"}
	providertest.RequireKey(t, b.p.Edit(t.Context(), webhookTarget(b.fake.URL()), r, n), mattermost.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{}), generic, nil)
	require.Empty(t, b.fake.Requests())
}

func TestIncomingWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := webhookTarget(b.fake.URL())
	require.False(t, b.p.Threads(tg))
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "post0000000000000000000009"
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "a webhook returns no post id")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /hooks/"+fakeHookID, req.Endpoint(), "api_base_url replaces only the origin")
	require.Empty(t, req.Header.Get("Authorization"))
	body := req.JSON(t)
	require.Equal(t, "#"+fakeChannelName, body["channel"])
	require.Equal(t, "Example Forum", body["username"], "as the reference: the forum's title")
	require.Equal(t, "https://forum.example.org/logo.png", body["icon_url"])
	require.NotContains(t, body, "root_id")

	tg.Data["identifier"] = "@" + fakeUser
	_, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, "@"+fakeUser, b.fake.RequireLast(t).JSON(t)["channel"])
}

func TestIdentifierChoosesTheWay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	both := apiTarget(b.fake.URL())
	both.Settings["webhook_url"] = fakeHookURL

	both.Data["identifier"] = "#" + fakeChannelName
	require.False(t, b.p.Threads(both), "a channel name goes through the webhook")
	_, err := b.p.Notify(t.Context(), both, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "POST /hooks/"+fakeHookID, b.fake.RequireLast(t).Endpoint())

	both.Data["identifier"] = "#" + fakeChannelID
	require.True(t, b.p.Threads(both), "a channel id goes through the REST API")
	_, err = b.p.Notify(t.Context(), both, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "POST /api/v4/posts", b.fake.RequireLast(t).Endpoint())

	// Without a token a channel id is sent to the webhook as a name: it
	// may be one.
	hook := webhookTarget(b.fake.URL())
	hook.Data["identifier"] = "#" + fakeChannelID
	require.False(t, b.p.Threads(hook))
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	onlyAPI := apiTarget(b.fake.URL())
	onlyAPI.Data["identifier"] = "@" + fakeUser
	_, err := b.p.Notify(t.Context(), onlyAPI, providertest.Notification())
	providertest.RequireKey(t, err, mattermost.KeyNotConfigured, providers.ErrNotConfigured)
	require.ErrorContains(t, err, "#<channel id>")

	none := &providers.Target{Data: map[string]string{"identifier": "#" + fakeChannelID}, Settings: providers.Settings{"bot_token": " "}}
	require.False(t, b.p.Threads(none))
	_, err = b.p.Notify(t.Context(), none, providertest.Notification())
	providertest.RequireKey(t, err, mattermost.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), none), mattermost.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	type want = providertest.Classified
	notFound := want{Key: mattermost.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	appErr := func(status int, id string) string {
		return fmt.Sprintf(`{"id":%q,"message":"m","detailed_error":"token=%s","request_id":"r","status_code":%d}`, id, fakeToken, status)
	}
	providertest.RunNotifyReplies(t, harness(apiTarget), []providertest.ReplyCase{
		{Status: 401, Body: appErr(401, "api.context.session_expired.app_error"), Want: want{Key: mattermost.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 403, Body: appErr(403, "api.context.permissions.app_error"), Want: want{Key: mattermost.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 404, Body: appErr(404, "app.channel.get.existing.app_error"), Want: notFound},
		{Status: 400, Body: appErr(400, "model.post.is_valid.channel_id.app_error"), Want: notFound},
		{Status: 400, Body: appErr(400, "api.post.create_post.message.app_error"), Want: want{Key: generic, Permanent: true}},
		// Not a reply, so not a thread gone (see TestThreadRootGone).
		{Status: 400, Body: appErr(400, "api.post.create_post.root_id.app_error"), Want: want{Key: generic, Permanent: true}},
		{Status: 413, Body: `<html>too large</html>`, Want: want{Key: generic, Permanent: true}},
		{Status: 429, Header: http.Header{"Retry-After": {"3"}, "X-Ratelimit-Reset": {"9"}}, Body: "limit exceeded\n", Want: want{Key: generic, Limited: true, After: 3 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Header: http.Header{"X-Ratelimit-Reset": {"9"}}, Body: "limit exceeded\n", Want: want{Key: generic, Limited: true, After: 9 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Want: want{Key: generic, Limited: true, Scope: providers.LimitAccount}},
		{Status: 500, Body: appErr(500, "app.post.save.app_error"), Want: want{Key: generic}},
		{Status: 502, Body: `<html>bad gateway</html>`, Want: want{Key: generic}},
		{Status: 200, Body: `<html>captive portal</html>`, Want: want{Key: generic}},
		{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}, Want: want{Key: generic, Permanent: true}},
	}, fakeToken, "<html>")
}

func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	appErr := func(status int, id string) string {
		return fmt.Sprintf(`{"id":%q,"message":"m","detailed_error":"hook_id=%s","status_code":%d}`, id, fakeHookID, status)
	}
	type want = providertest.Classified
	h := http.Header{"Content-Type": {"application/json"}}
	providertest.RunNotifyReplies(t, harness(webhookTarget), []providertest.ReplyCase{
		{Status: 400, Header: h, Body: appErr(400, "web.incoming_webhook.invalid.app_error"), Want: want{Key: mattermost.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 404, Header: h, Body: appErr(404, "web.incoming_webhook.channel.app_error"), Want: want{Key: mattermost.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 400, Header: h, Body: appErr(400, "web.incoming_webhook.user.app_error"), Want: want{Key: mattermost.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 404, Header: h, Body: appErr(404, "app.channel.get.existing.app_error"), Want: want{Key: mattermost.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 403, Header: h, Body: appErr(403, "web.incoming_webhook.channel_locked.app_error"), Want: want{Key: mattermost.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 403, Header: h, Body: appErr(403, "web.incoming_webhook.permissions.app_error"), Want: want{Key: mattermost.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 501, Header: h, Body: appErr(501, "web.incoming_webhook.disabled.app_error"), Want: want{Key: mattermost.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 400, Header: h, Body: appErr(400, "web.incoming_webhook.text.app_error"), Want: want{Key: generic, Permanent: true}},
		{Status: 404, Header: h, Body: `404 page not found`, Want: want{Key: mattermost.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 500, Header: h, Body: appErr(500, "web.incoming_webhook.channel.app_error"), Want: want{Key: generic}},
		{Status: 500, Header: h, Body: appErr(500, "app.post.save.app_error"), Want: want{Key: generic}},
	}, fakeHookID)
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), apiTarget(b.fake.URL())))
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "GET /api/v4/users/me", reqs[0].Endpoint())
	require.Equal(t, "GET /api/v4/channels/"+fakeChannelID, reqs[1].Endpoint())
	require.Empty(t, reqs[1].Header.Get("Content-Type"), "a GET has no body")
	require.Equal(t, "Bearer "+fakeToken, reqs[1].Header.Get("Authorization"))

	tg := apiTarget(b.fake.URL())
	tg.Settings["bot_token"] = "wrongtoken"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), mattermost.KeyInvalidToken, providers.ErrUnauthorized)

	tg = apiTarget(b.fake.URL())
	tg.Data["identifier"] = "#zzzzzzzzzzzzzzzzzzzzzzzzzz"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), mattermost.KeyForbidden, providers.ErrForbidden)

	b.fake.Fail(providertest.FailChannelNotFound)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), apiTarget(b.fake.URL())), mattermost.KeyChannelNotFound, providers.ErrChannelNotFound)
	b.fake.Fail(providertest.Succeed)

	sent := len(b.fake.Requests())
	require.NoError(t, b.p.TestChannel(t.Context(), webhookTarget(b.fake.URL())))
	require.Len(t, b.fake.Requests(), sent, "a webhook cannot be tested without posting, so nothing is sent")
}

func TestInvalidURLs(t *testing.T) {
	t.Parallel()
	p := mattermost.New(mattermost.Options{})
	for _, tg := range []*providers.Target{apiTarget("::not a url"), webhookTarget("::not a url")} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		providertest.RequireKey(t, err, mattermost.KeyNotConfigured, providers.ErrNotConfigured)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(mattermost.New(mattermost.Options{})))
}

// TestThreadRootGone: Mattermost refuses a reply to a root it does not
// hold (deleted since) with a 400, which nothing retried can fix; the
// engine posts outside the thread on providers.ErrThreadNotFound.
func TestThreadRootGone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "gone000000000000000000000a"
	r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), n)
	require.Nil(t, r)
	providertest.RequireClassified(t, err, providertest.Classified{Key: "chat_integration.channel_exception",
		Sentinel: providers.ErrThreadNotFound, Permanent: true}, fakeToken)
}
