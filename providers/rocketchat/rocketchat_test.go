package rocketchat_test

import (
	"encoding/json"
	"fmt"
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
		New:     func(c *http.Client) providers.Notifier { return newProvider(c) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeRocketChat(t) },
		Target:  target,
		Secrets: []string{fakeToken, fakeHookSecret},
		ThreadOf: func(r providertest.Request) string {
			var body struct {
				TMID string `json:"tmid"`
			}
			_ = json.Unmarshal(r.Body, &body)
			return body.TMID
		},
		EditEndpoint:   "POST /api/v1/chat.update",
		DeleteEndpoint: "POST /api/v1/chat.delete",
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

func (b *bundle) last(t *testing.T) providertest.Request {
	t.Helper()
	r, ok := b.fake.Last()
	require.True(t, ok, "no request was sent")
	return r
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	return m
}

// requireKey checks a permanent error with key and sentinel.
func requireKey(t *testing.T, err error, key string, sentinel error) {
	t.Helper()
	require.Error(t, err)
	permanent, limited, _ := providers.Classify(err)
	require.True(t, permanent, "%v", err)
	require.False(t, limited)
	require.Equal(t, key, providers.ErrorKey(err))
	if sentinel != nil {
		require.ErrorIs(t, err, sentinel)
	}
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

	req := b.last(t)
	require.Equal(t, "POST /api/v1/chat.postMessage", req.Endpoint())
	require.Equal(t, fakeUserID, req.Header.Get("X-User-Id"))
	require.Equal(t, fakeToken, req.Header.Get("X-Auth-Token"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	body := decode(t, req.Body)
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
	require.NotContains(t, decode(t, b.last(t).Body), "tmid", "the first post starts the thread")
	require.Equal(t, root.MessageID, root.ThreadID, "and is its root")

	reply := providertest.Notification()
	reply.Post.ID, reply.Filter, reply.ThreadID = 1002, "thread", root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, decode(t, b.last(t).Body)["tmid"])
	require.Equal(t, root.MessageID, r.ThreadID, "later replies still go to the root")
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Equal(t, root.MessageID, m.TMID, "the reply is in the root's thread")

	reply.Filter = "watch"
	_, err = b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.NotContains(t, decode(t, b.last(t).Body), "tmid", "a watch rule posts to the room")
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
	body := decode(t, b.last(t).Body)
	require.Equal(t, fakeRoomID, body["roomId"], "the room id Rocket.Chat resolved, not the name")
	require.Equal(t, r.MessageID, body["msgId"])
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Contains(t, m.Text, "Edited text", "the edit replaced the message's text")
	require.NotContains(t, m.Text, "launcher")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	require.Equal(t, map[string]any{"roomId": fakeRoomID, "msgId": r.MessageID}, decode(t, b.last(t).Body))
	_, ok = b.fake.Message(r.MessageID)
	require.False(t, ok, "the message is gone")
}

func TestEditNeedsAPIAndIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	full := &providers.Receipt{MessageID: "m", Extra: map[string]string{"room_id": fakeRoomID}}
	requireKey(t, b.p.Edit(t.Context(), webhookTarget(b.fake.URL()), full, n), rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	requireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{}), generic, nil)
	requireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{MessageID: "m"}), generic, nil)
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

	req := b.last(t)
	require.Equal(t, "POST "+fakeHookPath, req.Endpoint(), "api_base_url replaces only the origin")
	require.Empty(t, req.Header.Get("X-Auth-Token"))
	body := decode(t, req.Body)
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
	require.Equal(t, "POST /api/v1/chat.postMessage", b.last(t).Endpoint())
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
	requireKey(t, err, rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	requireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

type want struct {
	key       string
	sentinel  error
	permanent bool
	limited   bool
	after     time.Duration
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	invalid := want{key: rocketchat.KeyInvalidChannel, sentinel: providers.ErrChannelNotFound, permanent: true}
	forbidden := want{key: rocketchat.KeyForbidden, sentinel: providers.ErrForbidden, permanent: true}
	unauthorized := want{key: rocketchat.KeyInvalidToken, sentinel: providers.ErrUnauthorized, permanent: true}
	reset := func(d time.Duration) http.Header {
		return http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(fakeNow().Add(d).UnixMilli(), 10)}}
	}
	tests := []struct {
		status int
		header http.Header
		body   string
		want   want
	}{
		{400, nil, `{"success":false,"error":"[invalid-channel]","errorType":"invalid-channel"}`, invalid},
		{400, nil, `{"success":false,"error":"invalid-channel"}`, invalid},
		{400, nil, `{"success":false,"error":"The required \"roomId\" param provided does not match any channel [error-room-not-found]","errorType":"error-room-not-found"}`, invalid},
		{400, nil, `{"success":false,"error":"error-not-allowed"}`, forbidden},
		{400, nil, `{"success":false,"error":"Not allowed [error-action-not-allowed]","errorType":"error-action-not-allowed"}`, forbidden},
		{403, nil, `{"success":false,"error":"unauthorized"}`, forbidden},
		{401, nil, `{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}`, unauthorized},
		{400, nil, `{"success":false,"error":"error-message-size-exceeded"}`, want{key: generic, permanent: true}},
		{400, nil, `{"success":false,"error":"Some sentence about ` + fakeToken + `"}`, want{key: generic, permanent: true}},
		{200, nil, `{"success":false,"error":"unknown-error"}`, want{key: generic, permanent: true}},
		{429, reset(3 * time.Second), `{"success":false,"error":"Error, too many requests. [error-too-many-requests]"}`, want{key: generic, limited: true, after: 3 * time.Second}},
		{429, http.Header{"Retry-After": {"5"}, "X-Ratelimit-Reset": {"1"}}, `{}`, want{key: generic, limited: true, after: 5 * time.Second}},
		{429, reset(-time.Second), ``, want{key: generic, limited: true}},
		{400, reset(2 * time.Second), `{"success":false,"error":"wait [error-too-many-requests]"}`, want{key: generic, limited: true, after: 2 * time.Second}},
		{500, nil, `{"success":false,"error":"Internal server error"}`, want{key: generic}},
		{503, nil, `<html>unavailable</html>`, want{key: generic}},
		{200, nil, `<html>captive portal</html>`, want{key: generic}},
		{404, nil, `{"success":false,"error":"Resource not found"}`, invalid},
		{302, http.Header{"Location": {"https://elsewhere.example/"}}, ``, want{key: generic, permanent: true}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), providertest.Notification())
			require.Nil(t, r)
			requireWant(t, err, tc.want)
			require.Len(t, b.fake.Requests(), 1)
		})
	}
}

func requireWant(t *testing.T, err error, w want) {
	t.Helper()
	require.Error(t, err)
	permanent, limited, after := providers.Classify(err)
	require.Equal(t, w.permanent, permanent, "permanent: %v", err)
	require.Equal(t, w.limited, limited, "rate limited: %v", err)
	require.Equal(t, w.after, after)
	require.Equal(t, w.key, providers.ErrorKey(err))
	if w.sentinel != nil {
		require.ErrorIs(t, err, w.sentinel)
	}
	require.NotContains(t, err.Error(), fakeToken)
	require.NotContains(t, err.Error(), fakeHookSecret)
	require.NotContains(t, err.Error(), "<html>")
}

func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		want   want
	}{
		{400, `{"success":false,"error":"invalid-channel"}`, want{key: rocketchat.KeyInvalidChannel, sentinel: providers.ErrChannelNotFound, permanent: true}},
		{404, `{"success":false,"error":"Invalid integration id or token provided."}`, want{key: rocketchat.KeyInvalidToken, sentinel: providers.ErrUnauthorized, permanent: true}},
		{401, `{"success":false,"error":"You must be logged in to do this."}`, want{key: rocketchat.KeyInvalidToken, sentinel: providers.ErrUnauthorized, permanent: true}},
		{400, `{"success":false,"error":"error-not-allowed"}`, want{key: rocketchat.KeyForbidden, sentinel: providers.ErrForbidden, permanent: true}},
		{400, `{"success":false,"error":"overriding destination channel is disabled for this integration"}`, want{key: generic, permanent: true}},
		{200, `{"success":false,"error":"unknown-error"}`, want{key: generic, permanent: true}},
		{503, `{"success":false,"error":"Service Unavailable"}`, want{key: generic}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, http.Header{"Content-Type": {"application/json"}}, tc.body)
			_, err := b.p.Notify(t.Context(), webhookTarget(b.fake.URL()), providertest.Notification())
			requireWant(t, err, tc.want)
		})
	}
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
	require.Equal(t, "GET /api/v1/users.info", b.last(t).Endpoint())
	require.Equal(t, "username="+fakeUser, b.last(t).Query)

	tg.Data["identifier"] = "@nobody"
	requireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidChannel, providers.ErrChannelNotFound)
	tg.Data["identifier"] = "#random"
	requireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidChannel, providers.ErrChannelNotFound)

	tg = apiTarget(b.fake.URL())
	tg.Settings["auth_token"] = "wrong"
	requireKey(t, b.p.TestChannel(t.Context(), tg), rocketchat.KeyInvalidToken, providers.ErrUnauthorized)

	sent := len(b.fake.Requests())
	require.NoError(t, b.p.TestChannel(t.Context(), webhookTarget(b.fake.URL())))
	require.Len(t, b.fake.Requests(), sent, "an integration cannot be tested without posting, so nothing is sent")
}

func TestInvalidURLs(t *testing.T) {
	t.Parallel()
	p := rocketchat.New(rocketchat.Options{})
	for _, tg := range []*providers.Target{apiTarget("::not a url"), webhookTarget("::not a url")} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		requireKey(t, err, rocketchat.KeyNotConfigured, providers.ErrNotConfigured)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true},
		providers.CapabilitiesOf(rocketchat.New(rocketchat.Options{})))
}
