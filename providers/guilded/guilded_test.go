package guilded_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/guilded"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
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
		New:     func(c *http.Client) providers.Notifier { return guilded.New(guilded.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeGuilded(t) },
		Target:  target,
		Secrets: []string{fakeToken},
	})
}

type bundle struct {
	p    *guilded.Provider
	fake *fakeGuilded
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: guilded.New(guilded.Options{}), fake: newFakeGuilded(t)}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: "00000000-0000-4000-8000-000000000001"}, r)
	req, ok := b.fake.Last()
	require.True(t, ok)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	require.Empty(t, req.Query, "no wait parameter, as in the reference")
	var body map[string]any
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.NotContains(t, body, "content", "the reference sends only the embed")
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		permanent   bool
		rateLimited bool
		retryAfter  time.Duration
		sentinel    error
		key         string
	}{
		{name: "retry_after in the body", status: 429, body: `{"code":"TooManyRequests","retry_after":2.5}`, rateLimited: true, retryAfter: 2500 * time.Millisecond, key: generic},
		{name: "Retry-After wins", status: 429, header: http.Header{"Retry-After": {"4"}}, body: `{"retry_after":9}`, rateLimited: true, retryAfter: 4 * time.Second, key: generic},
		{name: "not found", status: 404, body: `{"code":"NotFound","message":"x"}`, permanent: true, sentinel: providers.ErrChannelNotFound, key: guilded.KeyInvalidWebhook},
		{name: "bad request", status: 400, body: `{"code":"BadRequest","message":"x"}`, permanent: true, key: generic},
		{name: "gateway", status: 502, body: `<html>`, key: generic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
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

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	p := guilded.New(guilded.Options{})
	for _, tg := range []*providers.Target{
		{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		require.ErrorIs(t, err, providers.ErrNotConfigured)
		require.Equal(t, guilded.KeyNotConfigured, providers.ErrorKey(err))
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(guilded.New(guilded.Options{})))
}
