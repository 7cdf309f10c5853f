package webex_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/webex"
)

func target(base string) *providers.Target { return providertest.WebhookTarget(fakeURL, base) }

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	return providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return webex.New(webex.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeWebex(t) },
		Target:  target,
		Secrets: []string{fakeHookID},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
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
	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	require.Contains(t, req.JSON(t)["markdown"], "**Upgrading to 2.0 & beyond**:")
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	type want = providertest.Classified
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		{Status: 204},
		{Status: 200, Body: "{}"},
		{Status: 400, Body: `{"message":"Invalid webhook URL","trackingId":"x"}`, Want: want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: webex.KeyInvalidChannel}},
		{Status: 400, Body: `{"message":"Message too long"}`, Want: want{Permanent: true, Key: generic}},
		{Status: 404, Body: `{"message":"The requested resource could not be found."}`, Want: want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: webex.KeyInvalidChannel}},
		{Status: 429, Header: http.Header{"Retry-After": {"42"}}, Want: want{Limited: true, After: 42 * time.Second, Key: generic}},
		{Status: 503, Body: `{"message":"Service Unavailable"}`, Want: want{Key: generic}},
	})
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
	providertest.RequireNotConfigured(t, webex.New(webex.Options{}), webex.KeyNotConfigured,
		&providers.Target{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(webex.New(webex.Options{})))
}
