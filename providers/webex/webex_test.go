package webex_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/webex"
)

func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "announcements",
		Data:     map[string]string{"name": "announcements", "webhook_url": fakeURL},
		Settings: providers.Settings{"excerpt_length": 400, "api_base_url": base},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return webex.New(webex.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeWebex(t) },
		Target:  target,
		Secrets: []string{fakeHookID},
	})
}

type bundle struct {
	p    *webex.Provider
	fake *fakeWebex
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: webex.New(webex.Options{}), fake: newFakeWebex(t)}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "an incoming webhook returns no message id")
	req, ok := b.fake.Last()
	require.True(t, ok)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	var body map[string]string
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Contains(t, body["markdown"], "**Upgrading to 2.0 & beyond**:")
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		ok          bool
		permanent   bool
		rateLimited bool
		retryAfter  time.Duration
		sentinel    error
		key         string
	}{
		{name: "no content", status: 204, ok: true},
		{name: "ok", status: 200, body: "{}", ok: true},
		{name: "invalid webhook URL", status: 400, body: `{"message":"Invalid webhook URL","trackingId":"x"}`, permanent: true, sentinel: providers.ErrChannelNotFound, key: webex.KeyInvalidChannel},
		{name: "bad request", status: 400, body: `{"message":"Message too long"}`, permanent: true, key: generic},
		{name: "gone", status: 404, body: `{"message":"The requested resource could not be found."}`, permanent: true, sentinel: providers.ErrChannelNotFound, key: webex.KeyInvalidChannel},
		{name: "rate limited", status: 429, header: http.Header{"Retry-After": {"42"}}, rateLimited: true, retryAfter: 42 * time.Second, key: generic},
		{name: "unavailable", status: 503, body: `{"message":"Service Unavailable"}`, key: generic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			if tc.ok {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			require.Error(t, err)
			permanent, limited, after := providers.Classify(err)
			require.Equal(t, tc.permanent, permanent, "%v", err)
			require.Equal(t, tc.rateLimited, limited, "%v", err)
			require.Equal(t, tc.retryAfter, after)
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
		})
	}
}

func TestWebhookURLPattern(t *testing.T) {
	t.Parallel()
	p := webex.New(webex.Options{})
	for url, ok := range map[string]bool{
		fakeURL: true,
		"https://webexapis.com/v1/webhooks/incoming/":                false,
		"http://webexapis.com/v1/webhooks/incoming/Y2lz":             false,
		"https://webexapis.com.evil.example/v1/webhooks/incoming/Y2": false,
		"https://webexapis.com/v1/messages":                          false,
	} {
		_, err := providers.ValidateChannelData(p, "data", map[string]any{"name": "x", "webhook_url": url})
		require.Equal(t, ok, err == nil, url)
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	p := webex.New(webex.Options{})
	for _, tg := range []*providers.Target{
		{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		require.ErrorIs(t, err, providers.ErrNotConfigured)
		require.Equal(t, webex.KeyNotConfigured, providers.ErrorKey(err))
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(webex.New(webex.Options{})))
}
