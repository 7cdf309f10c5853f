package teams_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/teams"
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
		New:     func(c *http.Client) providers.Notifier { return teams.New(teams.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeConnector(t) },
		Target:  target,
		Secrets: []string{fakeHook, fakeGroup, fakeOwner},
	})
}

type bundle struct {
	p    *teams.Provider
	fake *fakeConnector
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: teams.New(teams.Options{}), fake: newFakeConnector(t)}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "a connector returns no message id")

	req, ok := b.fake.Last()
	require.True(t, ok)
	require.Equal(t, "POST /webhookb2/"+fakeGroup+"/IncomingWebhook/"+fakeHook+"/"+fakeOwner, req.Endpoint())
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	var card map[string]any
	require.NoError(t, json.Unmarshal(req.Body, &card))
	require.Equal(t, "MessageCard", card["@type"])
	require.Equal(t, "Upgrading to 2.0 & beyond [Support/Installation] upgrade, help", card["summary"])
}

// TestReplies pins how connector replies are classified, including the
// errors Microsoft wraps behind a 2xx.
func TestReplies(t *testing.T) {
	t.Parallel()
	type want struct {
		ok          bool
		permanent   bool
		rateLimited bool
		retryAfter  time.Duration
		sentinel    error
		key         string
	}
	generic := "chat_integration.channel_exception"
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   want
	}{
		{"delivered", 200, nil, "1", want{ok: true}},
		{"delivered with newline", 200, nil, "1\n", want{ok: true}},
		{"json envelope delivered", 200, nil, `{"version":"1.1","statusCode":200,"reasonPhrase":"OK","isSuccessStatusCode":true}`, want{ok: true}},
		{"json envelope throttled", 200, nil, `{"version":"1.1","statusCode":429,"reasonPhrase":"Too Many Requests","isSuccessStatusCode":false}`, want{rateLimited: true, key: generic}},
		{"200 wrapping 429", 200, nil, wrappedError("429"), want{rateLimited: true, key: generic}},
		{"400 wrapping 429", 400, nil, wrappedError("429"), want{rateLimited: true, key: generic}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"30"}}, wrappedError("429"), want{rateLimited: true, retryAfter: 30 * time.Second, key: generic}},
		{"200 wrapping 413", 200, nil, wrappedError("413"), want{permanent: true, key: generic}},
		{"200 wrapping 400", 200, nil, wrappedError("400"), want{permanent: true, key: generic}},
		{"200 wrapping 401", 200, nil, wrappedError("401"), want{permanent: true, sentinel: providers.ErrUnauthorized, key: teams.KeyInvalidChannel}},
		{"200 wrapping 404", 200, nil, wrappedError("404"), want{permanent: true, sentinel: providers.ErrChannelNotFound, key: teams.KeyInvalidChannel}},
		{"200 wrapping 502", 200, nil, wrappedError("502"), want{key: generic}},
		{"invalid webhook URL", 400, nil, "Invalid webhook URL", want{permanent: true, sentinel: providers.ErrChannelNotFound, key: teams.KeyInvalidChannel}},
		{"removed connector", 410, nil, "", want{permanent: true, sentinel: providers.ErrChannelNotFound, key: teams.KeyInvalidChannel}},
		{"summary missing", 400, nil, "Summary or Text is required.", want{permanent: true, key: generic}},
		{"200 without a count", 200, nil, "", want{key: generic}},
		{"200 with other text", 200, nil, "OK", want{key: generic}},
		{"server error", 503, nil, "Service Unavailable", want{key: generic}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			if tc.want.ok {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			require.Error(t, err)
			require.Nil(t, r)
			permanent, limited, after := providers.Classify(err)
			require.Equal(t, tc.want.permanent, permanent, "%v", err)
			require.Equal(t, tc.want.rateLimited, limited, "%v", err)
			require.Equal(t, tc.want.retryAfter, after)
			require.Equal(t, tc.want.key, providers.ErrorKey(err))
			if tc.want.sentinel != nil {
				require.ErrorIs(t, err, tc.want.sentinel)
			}
			require.NotContains(t, err.Error(), "ContextId", "the connector's text is not quoted")
			require.NotContains(t, err.Error(), fakeHook)
			var pe *providers.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.status, pe.Status, "the status the connector answered")
		})
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	p := teams.New(teams.Options{})
	for _, tg := range []*providers.Target{
		{Data: map[string]string{"name": "x", "webhook_url": ""}},
		{Data: map[string]string{"name": "x", "webhook_url": "ftp://example.com/x"}},
		target("::bad"),
	} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		require.ErrorIs(t, err, providers.ErrNotConfigured)
		require.Equal(t, teams.KeyNotConfigured, providers.ErrorKey(err))
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(teams.New(teams.Options{})))
}
