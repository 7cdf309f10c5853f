package teams_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/teams"
)

func target(base string) *providers.Target { return providertest.WebhookTarget(fakeURL, base) }

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

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /webhookb2/"+fakeGroup+"/IncomingWebhook/"+fakeHook+"/"+fakeOwner, req.Endpoint())
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	card := req.JSON(t)
	require.Equal(t, "MessageCard", card["@type"])
	require.Equal(t, "Upgrading to 2.0 & beyond [Support/Installation] upgrade, help", card["summary"])
}

// TestReplies pins how connector replies are classified, including the
// errors Microsoft wraps behind a 2xx.
func TestReplies(t *testing.T) {
	t.Parallel()
	type want = providertest.Classified
	generic := "chat_integration.channel_exception"
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   *want // nil: delivered
	}{
		{"delivered", 200, nil, "1", nil},
		{"delivered with newline", 200, nil, "1\n", nil},
		{"json envelope delivered", 200, nil, `{"version":"1.1","statusCode":200,"reasonPhrase":"OK","isSuccessStatusCode":true}`, nil},
		{"json envelope throttled", 200, nil, `{"version":"1.1","statusCode":429,"reasonPhrase":"Too Many Requests","isSuccessStatusCode":false}`, &want{Limited: true, Key: generic}},
		{"200 wrapping 429", 200, nil, wrappedError("429"), &want{Limited: true, Key: generic}},
		{"400 wrapping 429", 400, nil, wrappedError("429"), &want{Limited: true, Key: generic}},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"30"}}, wrappedError("429"), &want{Limited: true, After: 30 * time.Second, Key: generic}},
		{"200 wrapping 413", 200, nil, wrappedError("413"), &want{Permanent: true, Key: generic}},
		{"200 wrapping 400", 200, nil, wrappedError("400"), &want{Permanent: true, Key: generic}},
		{"200 wrapping 401", 200, nil, wrappedError("401"), &want{Permanent: true, Sentinel: providers.ErrUnauthorized, Key: teams.KeyInvalidChannel}},
		{"200 wrapping 404", 200, nil, wrappedError("404"), &want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: teams.KeyInvalidChannel}},
		{"200 wrapping 502", 200, nil, wrappedError("502"), &want{Key: generic}},
		{"invalid webhook URL", 400, nil, "Invalid webhook URL", &want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: teams.KeyInvalidChannel}},
		{"removed connector", 410, nil, "", &want{Permanent: true, Sentinel: providers.ErrChannelNotFound, Key: teams.KeyInvalidChannel}},
		{"summary missing", 400, nil, "Summary or Text is required.", &want{Permanent: true, Key: generic}},
		{"200 without a count", 200, nil, "", &want{Key: generic}},
		{"200 with other text", 200, nil, "OK", &want{Key: generic}},
		{"server error", 503, nil, "Service Unavailable", &want{Key: generic}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			if tc.want == nil {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			require.Nil(t, r)
			// The connector's text (ContextId …) is never quoted.
			providertest.RequireClassified(t, err, *tc.want, "ContextId", fakeHook)
			var pe *providers.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.status, pe.Status, "the status the connector answered")
		})
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	providertest.RequireNotConfigured(t, teams.New(teams.Options{}), teams.KeyNotConfigured,
		&providers.Target{Data: map[string]string{"name": "x", "webhook_url": ""}},
		&providers.Target{Data: map[string]string{"name": "x", "webhook_url": "ftp://example.com/x"}},
		target("::bad"),
	)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(teams.New(teams.Options{})))
}
