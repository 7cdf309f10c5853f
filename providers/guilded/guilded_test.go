package guilded_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/guilded"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func target(base string) *providers.Target { return providertest.WebhookTarget(fakeURL, base) }

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	return providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return guilded.New(guilded.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeGuilded(t) },
		Target:  target,
		Secrets: []string{fakeToken},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
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
	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	require.Empty(t, req.Query, "no wait parameter, as in the reference")
	require.NotContains(t, req.JSON(t), "content", "the reference sends only the embed")
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	type want = providertest.Classified
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		// The wait is in the body, or in Retry-After, which wins.
		{Status: 429, Body: `{"code":"TooManyRequests","retry_after":2.5}`, Want: want{Limited: true, After: 2500 * time.Millisecond, Key: generic}},
		{Status: 429, Header: http.Header{"Retry-After": {"4"}}, Body: `{"retry_after":9}`, Want: want{Limited: true, After: 4 * time.Second, Key: generic}},
		{Status: 404, Body: `{"code":"NotFound","message":"x"}`, Want: want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: guilded.KeyInvalidWebhook}},
		{Status: 400, Body: `{"code":"BadRequest","message":"x"}`, Want: want{Permanent: true, Key: generic}},
		{Status: 502, Body: `<html>`, Want: want{Key: generic}},
	}, fakeToken)
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	providertest.RequireNotConfigured(t, guilded.New(guilded.Options{}), guilded.KeyNotConfigured,
		&providers.Target{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(guilded.New(guilded.Options{})))
}
