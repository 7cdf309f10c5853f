package slack_test

import (
	"encoding/json"
	"fmt"
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
		Target:  target,
		Secrets: []string{fakeToken, fakeHookSecret, fakeHookURL},
		ThreadOf: func(r providertest.Request) string {
			var body struct {
				ThreadTS string `json:"thread_ts"`
			}
			_ = json.Unmarshal(r.Body, &body)
			return body.ThreadTS
		},
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

	req := b.last(t)
	require.Equal(t, "POST /api/chat.postMessage", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))
	require.Equal(t, "application/json; charset=utf-8", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	body := decode(t, req.Body)
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
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "1690000000.000001"
	r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), n)
	require.NoError(t, err)
	require.Equal(t, "1700000001.000001", r.MessageID)
	require.Equal(t, "1690000000.000001", r.ThreadID, "later replies go to the parent, not to this reply")
	require.Equal(t, "1690000000.000001", decode(t, b.last(t).Body)["thread_ts"])
}

func TestTokenPreferredOverWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	tg.Settings["outbound_webhook_url"] = fakeHookURL
	require.True(t, b.p.Threads(tg))
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "POST /api/chat.postMessage", b.last(t).Endpoint())
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

	req := b.last(t)
	require.Equal(t, "POST "+fakeHookPath, req.Endpoint(), "api_base_url replaces only the origin")
	require.Empty(t, req.Header.Get("Authorization"))
	body := decode(t, req.Body)
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
	requireKey(t, err, slack.KeyNotConfigured, providers.ErrNotConfigured)
	requireKey(t, b.p.TestChannel(t.Context(), tg), slack.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

func TestEmptyIdentifierNeedsWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := apiTarget(b.fake.URL())
	tg.Data["identifier"] = ""
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	requireKey(t, err, slack.KeyChannelNotFound, providers.ErrChannelNotFound)
	require.Empty(t, b.fake.Requests())

	tg = webhookTarget(b.fake.URL())
	tg.Data["identifier"] = ""
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err, "a webhook posts to its own channel")
	require.NotContains(t, decode(t, b.last(t).Body), "channel")
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

func TestWebAPIErrors(t *testing.T) {
	t.Parallel()
	const generic = "chat_integration.channel_exception"
	type want struct {
		key       string
		sentinel  error
		permanent bool
		limited   bool
	}
	notFound := want{slack.KeyChannelNotFound, providers.ErrChannelNotFound, true, false}
	unauthorized := want{slack.KeyInvalidToken, providers.ErrUnauthorized, true, false}
	prohibited := want{slack.KeyActionProhibited, providers.ErrForbidden, true, false}
	retry := want{key: generic}
	tests := []struct {
		status int
		header http.Header
		body   string
		want   want
	}{
		{200, nil, `{"ok":false,"error":"channel_not_found"}`, notFound},
		{200, nil, `{"ok":false,"error":"is_archived"}`, notFound},
		{200, nil, `{"ok":false,"error":"channel_is_archived"}`, notFound},
		{200, nil, `{"ok":false,"error":"not_authed"}`, unauthorized},
		{200, nil, `{"ok":false,"error":"invalid_auth"}`, unauthorized},
		{200, nil, `{"ok":false,"error":"account_inactive"}`, unauthorized},
		{200, nil, `{"ok":false,"error":"token_revoked"}`, unauthorized},
		{200, nil, `{"ok":false,"error":"not_in_channel"}`, prohibited},
		{200, nil, `{"ok":false,"error":"restricted_action"}`, prohibited},
		{200, nil, `{"ok":false,"error":"restricted_action_read_only_channel"}`, prohibited},
		{200, nil, `{"ok":false,"error":"missing_scope","needed":"chat:write"}`, prohibited},
		{200, nil, `{"ok":false,"error":"invalid_blocks"}`, want{key: generic, permanent: true}},
		{200, nil, `{"ok":false,"error":"msg_too_long"}`, want{key: generic, permanent: true}},
		{200, nil, `{"ok":false}`, want{key: generic, permanent: true}},
		{200, nil, `{"ok":false,"error":"internal_error"}`, retry},
		{200, nil, `{"ok":false,"error":"fatal_error"}`, retry},
		{200, http.Header{"Retry-After": {"30"}}, `{"ok":false,"error":"ratelimited"}`, want{key: generic, limited: true}},
		{429, http.Header{"Retry-After": {"7"}}, `{"ok":false,"error":"ratelimited"}`, want{key: generic, limited: true}},
		{429, nil, ``, want{key: generic, limited: true}},
		{500, nil, `<html>oops</html>`, retry},
		{503, nil, `{"ok":false,"error":"service_unavailable"}`, retry},
		{200, nil, `<html>captive portal</html>`, retry},
		{401, nil, `{"ok":false,"error":"invalid_auth"}`, unauthorized},
		{401, nil, `Unauthorized`, unauthorized},
		{404, nil, `not found`, notFound},
		{400, nil, `{"ok":false,"error":"invalid_arguments"}`, want{key: generic, permanent: true}},
		{302, http.Header{"Location": {"https://elsewhere.example/"}}, ``, want{key: generic, permanent: true}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			r, err := b.p.Notify(t.Context(), apiTarget(b.fake.URL()), providertest.Notification())
			require.Nil(t, r)
			require.Error(t, err)
			permanent, limited, after := providers.Classify(err)
			require.Equal(t, tc.want.permanent, permanent, "permanent: %v", err)
			require.Equal(t, tc.want.limited, limited, "rate limited: %v", err)
			require.Equal(t, tc.want.key, providers.ErrorKey(err))
			if tc.want.sentinel != nil {
				require.ErrorIs(t, err, tc.want.sentinel)
			}
			if limited {
				want, _ := providers.ParseRetryAfter(tc.header.Get("Retry-After"), time.Now())
				require.Equal(t, want, after)
			}
			require.NotContains(t, err.Error(), fakeToken)
			require.NotContains(t, err.Error(), "<html>", "bodies are never quoted")
			require.Len(t, b.fake.Requests(), 1)
		})
	}
}

func TestIncomingWebhookErrors(t *testing.T) {
	t.Parallel()
	const generic = "chat_integration.channel_exception"
	tests := []struct {
		status    int
		body      string
		key       string
		sentinel  error
		permanent bool
	}{
		{403, "action_prohibited", slack.KeyActionProhibited, providers.ErrForbidden, true},
		{403, "posting_to_general_channel_denied", slack.KeyActionProhibited, providers.ErrForbidden, true},
		{403, "something_new", slack.KeyActionProhibited, providers.ErrForbidden, true}, // the reference maps any 403
		{403, "invalid_token", slack.KeyInvalidToken, providers.ErrUnauthorized, true},
		{404, "channel_not_found", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{410, "channel_is_archived", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{404, "no_service", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{410, "no_active_hooks", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{404, "", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{400, "channel_not_found", slack.KeyChannelNotFound, providers.ErrChannelNotFound, true},
		{400, "invalid_payload", generic, nil, true},
		{400, "no_text", generic, nil, true},
		{500, "channel_not_found", generic, nil, false}, // a 5xx is retried whatever it says
		{502, "<html>bad gateway</html>", generic, nil, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, http.Header{"Content-Type": {"text/plain"}}, tc.body)
			_, err := b.p.Notify(t.Context(), webhookTarget(b.fake.URL()), providertest.Notification())
			require.Error(t, err)
			permanent, limited, _ := providers.Classify(err)
			require.Equal(t, tc.permanent, permanent, "%v", err)
			require.False(t, limited)
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			require.NotContains(t, err.Error(), fakeHookSecret)
			require.NotContains(t, err.Error(), "<html>")
		})
	}
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
	req := b.last(t)
	require.Equal(t, "POST /api/chat.update", req.Endpoint())
	body := decode(t, req.Body)
	require.Equal(t, fakeChannelID, body["channel"], "the channel id Slack resolved, not the name")
	require.Equal(t, r.MessageID, body["ts"])
	require.NotContains(t, body, "thread_ts")
	require.Contains(t, string(req.Body), "Edited text")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	body = decode(t, b.last(t).Body)
	require.Equal(t, map[string]any{"channel": fakeChannelID, "ts": r.MessageID}, body)

	// A receipt from before Extra was stored falls back to the identifier.
	require.NoError(t, b.p.Delete(t.Context(), tg, &providers.Receipt{MessageID: r.MessageID}))
	require.Equal(t, fakeChannelName, decode(t, b.last(t).Body)["channel"])
}

func TestDeleteOfMissingMessageSucceeds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(200, nil, `{"ok":false,"error":"message_not_found"}`)
	tg := apiTarget(b.fake.URL())
	r := &providers.Receipt{MessageID: "1.2", Extra: map[string]string{"channel": fakeChannelID}}
	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	err := b.p.Edit(t.Context(), tg, r, providertest.Notification())
	requireKey(t, err, "chat_integration.channel_exception", nil)
}

func TestEditNeedsTokenAndTS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	r := &providers.Receipt{MessageID: "1.2"}
	requireKey(t, b.p.Edit(t.Context(), webhookTarget(b.fake.URL()), r, n), slack.KeyNotConfigured, providers.ErrNotConfigured)
	requireKey(t, b.p.Delete(t.Context(), apiTarget(b.fake.URL()), &providers.Receipt{}), "chat_integration.channel_exception", nil)
	require.Empty(t, b.fake.Requests())
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), apiTarget(b.fake.URL())))
	req := b.last(t)
	require.Equal(t, "POST /api/auth.test", req.Endpoint())
	require.Equal(t, "Bearer "+fakeToken, req.Header.Get("Authorization"))

	tg := apiTarget(b.fake.URL())
	tg.Settings["access_token"] = "xoxb-wrong"
	requireKey(t, b.p.TestChannel(t.Context(), tg), slack.KeyInvalidToken, providers.ErrUnauthorized)

	require.NoError(t, b.p.TestChannel(t.Context(), webhookTarget(b.fake.URL())))
	require.Len(t, b.fake.Requests(), 2, "a webhook cannot be tested without posting, so nothing is sent")
}

func TestInvalidAPIBaseURL(t *testing.T) {
	t.Parallel()
	p := slack.New(slack.Options{})
	for _, tg := range []*providers.Target{apiTarget("::not a url"), webhookTarget("::not a url")} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		requireKey(t, err, slack.KeyNotConfigured, providers.ErrNotConfigured)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true},
		providers.CapabilitiesOf(slack.New(slack.Options{})))
}
