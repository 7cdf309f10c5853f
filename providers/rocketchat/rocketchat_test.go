package rocketchat_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/rocketchat"
)

const generic = "chat_integration.channel_exception"

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	const hook = "https://chat.example.com/hooks/abc/def"
	rest := map[string]any{"server_url": "https://chat.example.com", "user_id": "u", "auth_token": "t"}
	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		field   string // "" for success
	}{
		{name: "disabled and empty"},
		{name: "disabled with part of REST", patch: map[string]any{"user_id": "u"}},
		{name: "enabled and empty", enabled: true, field: "settings"},
		{name: "enabled with webhook", enabled: true, patch: map[string]any{"webhook_url": hook}},
		{name: "enabled with REST", enabled: true, patch: rest},
		{name: "missing token", enabled: true, patch: map[string]any{"server_url": "https://chat.example.com", "user_id": "u", "webhook_url": hook}, field: "settings.auth_token"},
		{name: "missing server", enabled: true, patch: map[string]any{"user_id": "u", "auth_token": "t"}, field: "settings.server_url"},
		{name: "missing user", enabled: true, patch: map[string]any{"server_url": "https://chat.example.com", "auth_token": " "}, field: "settings.user_id"},
		{
			name: "resetting the webhook leaves nothing", enabled: true,
			current: map[string]any{"webhook_url": hook}, patch: map[string]any{"webhook_url": nil}, field: "settings",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(rocketchat.New(rocketchat.Options{}), tc.enabled, tc.current, tc.patch)
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

func TestSettingPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"webhook_url", "https://chat.example.com/hooks/abc/def", true},
		{"webhook_url", "https://example.com/rocket/hooks/abc/user/def", true},
		{"webhook_url", "https://chat.example.com/hooks/abc", false},
		{"webhook_url", "https://chat.example.com/api/v1/chat.postMessage", false},
		{"user_id", "abc123", true},
		{"user_id", "two words", false},
	}
	for _, tc := range tests {
		t.Run(tc.key+" "+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(rocketchat.New(rocketchat.Options{}), false, nil, map[string]any{tc.key: tc.value})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "settings."+tc.key)
		})
	}
}

// apiTarget is a channel reached through the REST API of the fake at base.
func apiTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "general",
		Data: map[string]string{"identifier": "#" + fakeRoom},
		Settings: providers.Settings{
			"server_url": base, "user_id": fakeUserID, "auth_token": fakeToken,
			"api_base_url": base, "excerpt_length": 400,
		},
	}
}

// webhookTarget is a channel reached through the incoming integration of
// the fake at base.
func webhookTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 2, ChannelName: "general hook",
		Data:     map[string]string{"identifier": "#" + fakeRoom},
		Settings: providers.Settings{"webhook_url": fakeHookURL, "api_base_url": base, "excerpt_length": 400},
	}
}

func newProvider(c *http.Client) *rocketchat.Provider {
	return rocketchat.New(rocketchat.Options{HTTPClient: c, NowFunc: fakeNow})
}

func harness(target func(string) *providers.Target) providertest.Harness {
	return providertest.Harness{
		New:            func(c *http.Client) providers.Notifier { return newProvider(c) },
		NewFake:        func(t *testing.T) providertest.Fake { return newFakeRocketChat(t) },
		Target:         target,
		Secrets:        []string{fakeToken, fakeHookSecret},
		ThreadOf:       providertest.ThreadField("tmid"),
		ThreadRoot:     func(f providertest.Fake) string { return f.(*fakeRocketChat).postOutside() },
		EditEndpoint:   "POST /api/v1/chat.update",
		DeleteEndpoint: "POST /api/v1/chat.delete",
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
	p    *rocketchat.Provider
	fake *fakeRocketChat
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: newProvider(providers.NewHTTPClient()), fake: newFakeRocketChat(t)}
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	delete(tg.Settings, "api_base_url") // server_url alone reaches the API
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{
		MessageID: "msgIdDDDD00000001", ThreadID: "msgIdDDDD00000001",
		Extra: map[string]string{"room_id": fakeRoomID},
	}, r)

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /api/v1/chat.postMessage", req.Endpoint())
	require.Equal(t, fakeUserID, req.Header.Get("X-User-Id"))
	require.Equal(t, fakeToken, req.Header.Get("X-Auth-Token"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	body := req.JSON(t)
	require.Equal(t, "#"+fakeRoom, body["channel"])
	require.NotContains(t, body, "tmid")
	require.NotContains(t, body, "attachments", "chat.update could not change an attachment")
	require.NotContains(t, body, "alias", "aliases need the message-impersonate permission")
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Contains(t, m.Text, "[Upgrading to 2.0 & beyond](https://forum.example.org/t/upgrading-to-2-0/42/2)")
}

// TestThreadRootAndReply is the issue's "topic's first post starts a
// thread per channel and a reply lands in it", played the way the engine
// plays it.
func TestThreadRootAndReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	require.True(t, b.p.Threads(tg))

	first := providertest.Notification()
	first.Post.Number, first.Filter = 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "tmid", "the first post starts the thread")
	require.Equal(t, root.MessageID, root.ThreadID, "and is its root")

	reply := providertest.Notification()
	reply.Post.ID, reply.Filter, reply.ThreadID = 1002, "thread", root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, b.fake.RequireLast(t).JSON(t)["tmid"])
	require.Equal(t, root.MessageID, r.ThreadID, "later replies still go to the root")
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Equal(t, root.MessageID, m.TMID, "the reply is in the root's thread")

	reply.Filter = "watch"
	_, err = b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "tmid", "a watch rule posts to the room")
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
	body := b.fake.RequireLast(t).JSON(t)
	require.Equal(t, fakeRoomID, body["roomId"], "the room id Rocket.Chat resolved, not the name")
	require.Equal(t, r.MessageID, body["msgId"])
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Contains(t, m.Text, "Edited text", "the edit replaced the message's text")
	require.NotContains(t, m.Text, "launcher")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	require.Equal(t, map[string]any{"roomId": fakeRoomID, "msgId": r.MessageID}, b.fake.RequireLast(t).JSON(t))
	_, ok = b.fake.Message(r.MessageID)
	require.False(t, ok, "the message is gone")
}

func TestEditNeedsAPIAndIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	full := &providers.Receipt{MessageID: "m", Extra: map[string]string{"room_id": fakeRoomID}}
	providertest.RequireKey(t, b.p.Edit(t.Context(), webhookTarget(b.fake.URL()), full, n), rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{}), generic, nil)
	providertest.RequireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{MessageID: "m"}), generic, nil)
	require.Empty(t, b.fake.Requests())
}

func TestIncomingWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := webhookTarget(b.fake.URL())
	require.False(t, b.p.Threads(tg))
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "msgIdDDDD00000009"
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "an integration returns no message id")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakeHookPath, req.Endpoint(), "api_base_url replaces only the origin")
	require.Empty(t, req.Header.Get("X-Auth-Token"))
	body := req.JSON(t)
	require.Equal(t, "#"+fakeRoom, body["channel"])
	require.NotContains(t, body, "tmid")
	require.Len(t, body["attachments"], 1)
}

func TestRESTPreferredOverWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	tg.Settings["webhook_url"] = fakeHookURL
	require.True(t, b.p.Threads(tg))
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "POST /api/v1/chat.postMessage", b.fake.RequireLast(t).Endpoint())
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := &providers.Target{
		Data:     map[string]string{"identifier": "#general"},
		Settings: providers.Settings{"api_base_url": b.fake.URL(), "user_id": fakeUserID}, // no token
	}
	require.False(t, b.p.Threads(tg))
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

type want = providertest.Classified

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	invalid := want{Key: rocketchat.KeyInvalidChannel, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	forbidden := want{Key: rocketchat.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}
	unauthorized := want{Key: rocketchat.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}
	reset := func(d time.Duration) http.Header {
		return http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(fakeNow().Add(d).UnixMilli(), 10)}}
	}
	providertest.RunNotifyReplies(t, harness(apiTarget), []providertest.ReplyCase{
		{Status: 400, Body: `{"success":false,"error":"[invalid-channel]","errorType":"invalid-channel"}`, Want: invalid},
		{Status: 400, Body: `{"success":false,"error":"invalid-channel"}`, Want: invalid},
		{Status: 400, Body: `{"success":false,"error":"The required \"roomId\" param provided does not match any channel [error-room-not-found]","errorType":"error-room-not-found"}`, Want: invalid},
		{Status: 400, Body: `{"success":false,"error":"error-not-allowed"}`, Want: forbidden},
		{Status: 400, Body: `{"success":false,"error":"Not allowed [error-action-not-allowed]","errorType":"error-action-not-allowed"}`, Want: forbidden},
		{Status: 403, Body: `{"success":false,"error":"unauthorized"}`, Want: forbidden},
		{Status: 401, Body: `{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}`, Want: unauthorized},
		{Status: 400, Body: `{"success":false,"error":"error-message-size-exceeded"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 400, Body: `{"success":false,"error":"Some sentence about ` + fakeToken + `"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 200, Body: `{"success":false,"error":"unknown-error"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 429, Header: reset(3 * time.Second), Body: `{"success":false,"error":"Error, too many requests. [error-too-many-requests]"}`, Want: want{Key: generic, Limited: true, After: 3 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Header: http.Header{"Retry-After": {"5"}, "X-Ratelimit-Reset": {"1"}}, Body: `{}`, Want: want{Key: generic, Limited: true, After: 5 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Header: reset(-time.Second), Want: want{Key: generic, Limited: true, Scope: providers.LimitAccount}},
		{Status: 400, Header: reset(2 * time.Second), Body: `{"success":false,"error":"wait [error-too-many-requests]"}`, Want: want{Key: generic, Limited: true, After: 2 * time.Second, Scope: providers.LimitAccount}},
		{Status: 500, Body: `{"success":false,"error":"Internal server error"}`, Want: want{Key: generic}},
		{Status: 503, Body: `<html>unavailable</html>`, Want: want{Key: generic}},
		{Status: 200, Body: `<html>captive portal</html>`, Want: want{Key: generic}},
		{Status: 404, Body: `{"success":false,"error":"Resource not found"}`, Want: invalid},
		{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}, Want: want{Key: generic, Permanent: true}},
	}, fakeToken, fakeHookSecret, "<html>")
}

func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	h := http.Header{"Content-Type": {"application/json"}}
	providertest.RunNotifyReplies(t, harness(webhookTarget), []providertest.ReplyCase{
		{Status: 400, Header: h, Body: `{"success":false,"error":"invalid-channel"}`, Want: want{Key: rocketchat.KeyInvalidChannel, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 404, Header: h, Body: `{"success":false,"error":"Invalid integration id or token provided."}`, Want: want{Key: rocketchat.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 401, Header: h, Body: `{"success":false,"error":"You must be logged in to do this."}`, Want: want{Key: rocketchat.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 400, Header: h, Body: `{"success":false,"error":"error-not-allowed"}`, Want: want{Key: rocketchat.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 400, Header: h, Body: `{"success":false,"error":"overriding destination channel is disabled for this integration"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 200, Header: h, Body: `{"success":false,"error":"unknown-error"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 503, Header: h, Body: `{"success":false,"error":"Service Unavailable"}`, Want: want{Key: generic}},
	}, fakeToken, fakeHookSecret, "<html>")
}

func TestWebhookSuccessWithoutJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(200, nil, "ok")
	r, err := b.p.Notify(t.Context(), webhookTarget(b.fake.URL()), providertest.Notification())
	require.NoError(t, err, "a 2xx is a posted message unless it says success:false")
	require.Equal(t, &providers.Receipt{}, r)
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), apiTarget(b.fake.URL())))
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "GET /api/v1/me", reqs[0].Endpoint())
	require.Equal(t, "GET /api/v1/rooms.info", reqs[1].Endpoint())
	require.Equal(t, "roomName="+fakeRoom, reqs[1].Query)
	require.Equal(t, fakeToken, reqs[1].Header.Get("X-Auth-Token"))
	require.Empty(t, reqs[1].Header.Get("Content-Type"), "a GET has no body")

	tg := apiTarget(b.fake.URL())
	tg.Data["identifier"] = "@" + fakeUser
	require.NoError(t, b.p.TestChannel(t.Context(), tg))
	require.Equal(t, "GET /api/v1/users.info", b.fake.RequireLast(t).Endpoint())
	require.Equal(t, "username="+fakeUser, b.fake.RequireLast(t).Query)

	tg.Data["identifier"] = "@nobody"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidChannel, providers.ErrChannelNotFound)
	tg.Data["identifier"] = "#random"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidChannel, providers.ErrChannelNotFound)

	tg = apiTarget(b.fake.URL())
	tg.Settings["auth_token"] = "wrong"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidToken, providers.ErrUnauthorized)

	sent := len(b.fake.Requests())
	require.NoError(t, b.p.TestChannel(t.Context(), webhookTarget(b.fake.URL())))
	require.Len(t, b.fake.Requests(), sent, "an integration cannot be tested without posting, so nothing is sent")
}

func TestInvalidURLs(t *testing.T) {
	t.Parallel()
	p := rocketchat.New(rocketchat.Options{})
	for _, tg := range []*providers.Target{apiTarget("::not a url"), webhookTarget("::not a url")} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		providertest.RequireKey(t, err, rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(rocketchat.New(rocketchat.Options{})))
}

// TestThreadRootIsAReply: Rocket.Chat has no nested threads; a reply to a
// reply goes to that reply's thread, and the receipt reports its root.
func TestThreadRootIsAReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	root := b.fake.postOutside()
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", root
	reply, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root, reply.ThreadID)

	n.ThreadID = reply.MessageID
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root, r.ThreadID, "later posts go to the thread's root")
}
