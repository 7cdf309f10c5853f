package slack_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/slack"
)

func TestValidateSettings(t *testing.T) {
	t.Parallel()

	const hook = "https://hooks.slack.com/services/T000/B000/XXXX"
	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		wantErr bool
	}{
		{name: "disabled and empty", enabled: false},
		{name: "enabled and empty", enabled: true, wantErr: true},
		{name: "enabled with webhook", enabled: true, patch: map[string]any{"outbound_webhook_url": hook}},
		{name: "enabled with token", enabled: true, patch: map[string]any{"access_token": "xoxb-1"}},
		{name: "enabled with token kept", enabled: true, current: map[string]any{"access_token": "xoxb-1"}},
		{name: "enabled with blank token", enabled: true, patch: map[string]any{"access_token": "  "}, wantErr: true},
		{
			name: "enabled with only other settings", enabled: true,
			patch: map[string]any{"signing_secret": "s", "app_token": "xapp-1"}, wantErr: true,
		},
		{
			name: "enabled after resetting the only way to deliver", enabled: true,
			current: map[string]any{"access_token": "xoxb-1"}, patch: map[string]any{"access_token": nil},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(slack.New(slack.Options{}), tc.enabled, tc.current, tc.patch)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			var fe *providers.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, &providers.FieldError{
				Field:   "settings",
				Message: "You must enter either an outbound webhook URL, or an access token",
			}, fe)
		})
	}
}

func TestOutboundWebhookURLPattern(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T000/B000/XXXX", true},
		{"https://hooks.slack.com/workflows/T000/A000/123/abc", true},
		{"https://hooks.slack.com/services/", false},
		{"http://hooks.slack.com/services/T000/B000/XXXX", false},
		{"https://hooks.slack.com.evil.example/services/T000", false},
		{"https://example.com/services/T000", false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(slack.New(slack.Options{}), false, nil,
				map[string]any{"outbound_webhook_url": tc.url})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "settings.outbound_webhook_url")
		})
	}
}

// apiTarget is a channel reached through the Web API of the fake at base.
func apiTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "general",
		Data:     map[string]string{"identifier": "#" + fakeChannelName},
		Settings: providers.Settings{"access_token": fakeToken, "api_base_url": base, "excerpt_length": 400},
	}
}

// webhookTarget is a channel reached through the incoming webhook of the
// fake at base.
func webhookTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 2, ChannelName: "hook",
		Data:     map[string]string{"identifier": "#" + fakeChannelName},
		Settings: providers.Settings{"outbound_webhook_url": fakeHookURL, "api_base_url": base},
	}
}

func harness(target func(string) *providers.Target) providertest.Harness {
	return providertest.Harness{
		New: func(c *http.Client) providers.Notifier { return slack.New(slack.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake {
			return newFakeSlack(t)
		},
		Target:         target,
		Secrets:        []string{fakeToken, fakeHookSecret, fakeHookURL},
		ThreadOf:       providertest.ThreadField("thread_ts"),
		ThreadRoot:     func(f providertest.Fake) string { return f.(*fakeSlack).postOutside() },
		EditEndpoint:   "POST /api/chat.update",
		DeleteEndpoint: "POST /api/chat.delete",
	}
}

func TestConformanceWebAPI(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness(apiTarget))
}

func TestConformanceIncomingWebhook(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness(webhookTarget))
}

// bundle is one test's provider and fake.
type bundle struct {
	p    *slack.Provider
	fake *fakeSlack
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: slack.New(slack.Options{HTTPClient: providers.NewHTTPClient()}), fake: newFakeSlack(t)}
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), n)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{
		MessageID: "1700000001.000001",
		ThreadID:  "1700000001.000001",
		Extra:     map[string]string{"channel": fakeChannelID},
	}, r)

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /api/chat.postMessage", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))
	require.Equal(t, "application/json; charset=utf-8", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	body := req.JSON(t)
	require.Equal(t, fakeChannelName, body["channel"], "'#' is removed for the Web API")
	require.NotContains(t, body, "thread_ts")
	require.NotContains(t, body, "token", "the token travels in the header, never in the body")
	require.Equal(t, "Upgrading to 2.0 &amp; beyond [Support/Installation] upgrade, help - Jane Doe (@jane)", body["text"])
	require.Len(t, body["blocks"], 3)
	require.Equal(t, "Example Forum", body["username"])
}

func TestThreadReplyReportsParent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.fake.postOutside()
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", root
	r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), n)
	require.NoError(t, err)
	require.Equal(t, "1700000001.000002", r.MessageID)
	require.Equal(t, root, r.ThreadID, "later replies go to the parent, not to this reply")
	require.Equal(t, root, b.fake.RequireLast(t).JSON(t)["thread_ts"])
}

// TestThreadRootGone: Slack posts a reply whose parent it does not know
// (deleted since) at the top level, and says so only by leaving
// message.thread_ts out; the receipt then reports the new message as the
// thread's root, so later posts follow it.
func TestThreadRootGone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "1690000000.000001"
	r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), n)
	require.NoError(t, err)
	require.Equal(t, "1690000000.000001", b.fake.RequireLast(t).JSON(t)["thread_ts"])
	require.Equal(t, &providers.Receipt{MessageID: "1700000001.000001", ThreadID: "1700000001.000001", Extra: r.Extra}, r)
}

func TestTokenPreferredOverWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	tg.Settings["outbound_webhook_url"] = fakeHookURL
	require.True(t, b.p.Threads(tg))
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "POST /api/chat.postMessage", b.fake.RequireLast(t).Endpoint())
}

func TestIncomingWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := webhookTarget(b.fake.URL())
	require.False(t, b.p.Threads(tg))
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "1690000000.000001"
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "a webhook returns no ts")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakeHookPath, req.Endpoint(), "api_base_url replaces only the origin")
	require.Empty(t, req.Header.Get("Authorization"))
	body := req.JSON(t)
	require.Equal(t, "#general", body["channel"])
	require.NotContains(t, body, "thread_ts")
	require.Len(t, body["blocks"], 3)
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := &providers.Target{
		Data:     map[string]string{"identifier": "#general"},
		Settings: providers.Settings{"api_base_url": b.fake.URL(), "access_token": "  "},
	}
	require.False(t, b.p.Threads(tg))
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, slack.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), slack.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

func TestEmptyIdentifierNeedsWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	tg.Data["identifier"] = ""
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, slack.KeyChannelNotFound, providers.ErrChannelNotFound)
	require.Empty(t, b.fake.Requests())

	tg = webhookTarget(b.fake.URL())
	tg.Data["identifier"] = ""
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err, "a webhook posts to its own channel")
	require.NotContains(t, b.fake.RequireLast(t).JSON(t), "channel")
}

func TestWebAPIErrors(t *testing.T) {
	t.Parallel()
	const generic = "chat_integration.channel_exception"
	type want = providertest.Classified
	notFound := want{Key: slack.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	unauthorized := want{Key: slack.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}
	prohibited := want{Key: slack.KeyActionProhibited, Sentinel: providers.ErrForbidden, Permanent: true}
	retry := want{Key: generic}
	providertest.RunNotifyReplies(t, harness(apiTarget), []providertest.ReplyCase{
		{Status: 200, Body: `{"ok":false,"error":"channel_not_found"}`, Want: notFound},
		{Status: 200, Body: `{"ok":false,"error":"is_archived"}`, Want: notFound},
		{Status: 200, Body: `{"ok":false,"error":"channel_is_archived"}`, Want: notFound},
		{Status: 200, Body: `{"ok":false,"error":"not_authed"}`, Want: unauthorized},
		{Status: 200, Body: `{"ok":false,"error":"invalid_auth"}`, Want: unauthorized},
		{Status: 200, Body: `{"ok":false,"error":"account_inactive"}`, Want: unauthorized},
		{Status: 200, Body: `{"ok":false,"error":"token_revoked"}`, Want: unauthorized},
		{Status: 200, Body: `{"ok":false,"error":"not_in_channel"}`, Want: prohibited},
		{Status: 200, Body: `{"ok":false,"error":"restricted_action"}`, Want: prohibited},
		{Status: 200, Body: `{"ok":false,"error":"restricted_action_read_only_channel"}`, Want: prohibited},
		{Status: 200, Body: `{"ok":false,"error":"missing_scope","needed":"chat:write"}`, Want: prohibited},
		{Status: 200, Body: `{"ok":false,"error":"invalid_blocks"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 200, Body: `{"ok":false,"error":"msg_too_long"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 200, Body: `{"ok":false}`, Want: want{Key: generic, Permanent: true}},
		{Status: 200, Body: `{"ok":false,"error":"internal_error"}`, Want: retry},
		{Status: 200, Body: `{"ok":false,"error":"fatal_error"}`, Want: retry},
		{Status: 200, Header: http.Header{"Retry-After": {"30"}}, Body: `{"ok":false,"error":"ratelimited"}`, Want: want{Key: generic, Limited: true, After: 30 * time.Second}},
		{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: `{"ok":false,"error":"ratelimited"}`, Want: want{Key: generic, Limited: true, After: 7 * time.Second}},
		{Status: 429, Want: want{Key: generic, Limited: true}},
		{Status: 500, Body: `<html>oops</html>`, Want: retry},
		{Status: 503, Body: `{"ok":false,"error":"service_unavailable"}`, Want: retry},
		{Status: 200, Body: `<html>captive portal</html>`, Want: retry},
		{Status: 401, Body: `{"ok":false,"error":"invalid_auth"}`, Want: unauthorized},
		{Status: 401, Body: `Unauthorized`, Want: unauthorized},
		{Status: 404, Body: `not found`, Want: notFound},
		{Status: 400, Body: `{"ok":false,"error":"invalid_arguments"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}, Want: want{Key: generic, Permanent: true}},
	}, fakeToken, "<html>")
}

func TestIncomingWebhookErrors(t *testing.T) {
	t.Parallel()
	const generic = "chat_integration.channel_exception"
	type want = providertest.Classified
	text := http.Header{"Content-Type": {"text/plain"}}
	prohibited := want{Key: slack.KeyActionProhibited, Sentinel: providers.ErrForbidden, Permanent: true}
	unauthorized := want{Key: slack.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}
	notFound := want{Key: slack.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	providertest.RunNotifyReplies(t, harness(webhookTarget), []providertest.ReplyCase{
		{Status: 403, Header: text, Body: "action_prohibited", Want: prohibited},
		{Status: 403, Header: text, Body: "posting_to_general_channel_denied", Want: prohibited},
		{Status: 403, Header: text, Body: "something_new", Want: prohibited}, // the reference maps any 403
		{Status: 403, Header: text, Body: "invalid_token", Want: unauthorized},
		{Status: 404, Header: text, Body: "channel_not_found", Want: notFound},
		{Status: 410, Header: text, Body: "channel_is_archived", Want: notFound},
		{Status: 404, Header: text, Body: "no_service", Want: notFound},
		{Status: 410, Header: text, Body: "no_active_hooks", Want: notFound},
		{Status: 404, Header: text, Want: notFound},
		{Status: 400, Header: text, Body: "channel_not_found", Want: notFound},
		{Status: 400, Header: text, Body: "invalid_payload", Want: want{Key: generic, Permanent: true}},
		{Status: 400, Header: text, Body: "no_text", Want: want{Key: generic, Permanent: true}},
		{Status: 500, Header: text, Body: "channel_not_found", Want: want{Key: generic}}, // a 5xx is retried whatever it says
		{Status: 502, Header: text, Body: "<html>bad gateway</html>", Want: want{Key: generic}},
	}, fakeHookSecret, "<html>")
}

func TestWebhookBodyEchoingSecretIsNotQuoted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(400, nil, "bad hook "+fakeHookURL)
	_, err := b.p.Notify(t.Context(), webhookTarget(b.fake.URL()), providertest.Notification())
	require.Error(t, err)
	require.NotContains(t, err.Error(), fakeHookSecret)
	require.NotContains(t, err.Error(), "hooks.slack.com")
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
	require.Equal(t, "POST /api/chat.update", req.Endpoint())
	body := req.JSON(t)
	require.Equal(t, fakeChannelID, body["channel"], "the channel id Slack resolved, not the name")
	require.Equal(t, r.MessageID, body["ts"])
	require.NotContains(t, body, "thread_ts")
	require.Contains(t, string(req.Body), "Edited text")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	body = b.fake.RequireLast(t).JSON(t)
	require.Equal(t, map[string]any{"channel": fakeChannelID, "ts": r.MessageID}, body)

	// A receipt from before Extra was stored falls back to the identifier.
	require.NoError(t, b.p.Delete(t.Context(), tg, &providers.Receipt{MessageID: r.MessageID}))
	require.Equal(t, fakeChannelName, b.fake.RequireLast(t).JSON(t)["channel"])
}

func TestDeleteOfMissingMessageSucceeds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(200, nil, `{"ok":false,"error":"message_not_found"}`)
	tg := apiTarget(b.fake.URL())
	r := &providers.Receipt{MessageID: "1.2", Extra: map[string]string{"channel": fakeChannelID}}
	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	err := b.p.Edit(t.Context(), tg, r, providertest.Notification())
	providertest.RequireKey(t, err, "chat_integration.channel_exception", nil)
}

func TestEditNeedsTokenAndTS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	r := &providers.Receipt{MessageID: "1.2"}
	providertest.RequireKey(t, b.p.Edit(t.Context(), webhookTarget(b.fake.URL()), r, n), slack.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{}), "chat_integration.channel_exception", nil)
	require.Empty(t, b.fake.Requests())
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), apiTarget(b.fake.URL())))
	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /api/auth.test", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))

	tg := apiTarget(b.fake.URL())
	tg.Settings["access_token"] = "xoxb-wrong"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), slack.KeyInvalidToken, providers.ErrUnauthorized)

	require.NoError(t, b.p.TestChannel(t.Context(), webhookTarget(b.fake.URL())))
	require.Len(t, b.fake.Requests(), 2, "a webhook cannot be tested without posting, so nothing is sent")
}

func TestInvalidAPIBaseURL(t *testing.T) {
	t.Parallel()
	p := slack.New(slack.Options{})
	for _, tg := range []*providers.Target{apiTarget("::not a url"), webhookTarget("::not a url")} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		providertest.RequireKey(t, err, slack.KeyNotConfigured, providers.ErrNotConfigured)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(slack.New(slack.Options{})))
}
