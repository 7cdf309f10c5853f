package powerautomate_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/powerautomate"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func target(base string) *providers.Target { return providertest.WebhookTarget(fakeURL, base) }

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New: func(c *http.Client) providers.Notifier {
			return powerautomate.New(powerautomate.Options{HTTPClient: c})
		},
		NewFake: func(t *testing.T) providertest.Fake { return newFakeWorkflow(t) },
		Target:  target,
		Secrets: []string{fakeSig},
	})
}

type bundle struct {
	p    *powerautomate.Provider
	fake *fakeWorkflow
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: powerautomate.New(powerautomate.Options{}), fake: newFakeWorkflow(t)}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "the trigger returns no message id")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	require.Contains(t, req.Query, "sig="+fakeSig, "the query with the signature is kept")
	var body struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			ContentURL  json.RawMessage `json:"contentUrl"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Equal(t, "message", body.Type)
	require.Len(t, body.Attachments, 1)
	require.Equal(t, "application/vnd.microsoft.card.adaptive", body.Attachments[0].ContentType)
	require.Equal(t, "null", string(body.Attachments[0].ContentURL))
	require.Equal(t, "AdaptiveCard", body.Attachments[0].Content.Type)
	require.Equal(t, "1.4", body.Attachments[0].Content.Version)
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	tests := []struct {
		name      string
		status    int
		body      string
		ok        bool
		permanent bool
		sentinel  error
		key       string
		code      string
	}{
		{name: "accepted", status: 202, ok: true},
		{name: "ok", status: 200, body: `{}`, ok: true},
		{name: "invalid webhook URL", status: 400, body: "Invalid webhook URL", permanent: true, sentinel: providers.ErrChannelNotFound, key: powerautomate.KeyInvalidWebhook},
		{name: "missing signature", status: 401, body: `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`,
			permanent: true, sentinel: providers.ErrUnauthorized, key: powerautomate.KeyInvalidWebhook, code: "DirectApiAuthorizationRequired"},
		{name: "flow deleted", status: 404, body: `{"error":{"code":"WorkflowNotFound","message":"The workflow 'x' could not be found."}}`,
			permanent: true, sentinel: providers.ErrChannelNotFound, key: powerautomate.KeyInvalidWebhook, code: "WorkflowNotFound"},
		{name: "bad request", status: 400, body: `{"error":{"code":"InvalidRequestContent","message":"sig=leak"}}`, permanent: true, key: generic, code: "InvalidRequestContent"},
		{name: "flow disabled", status: 409, body: `{"error":{"code":"WorkflowDisabled","message":"The workflow is disabled."}}`, permanent: true, key: generic, code: "WorkflowDisabled"},
		{name: "gateway", status: 502, body: `<html>Bad Gateway</html>`, key: generic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, nil, tc.body)
			r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			if tc.ok {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			require.Nil(t, r)
			// The Azure message is not quoted.
			providertest.RequireClassified(t, err, providertest.Classified{Key: tc.key, Sentinel: tc.sentinel, Permanent: tc.permanent}, "leak")
			if tc.code != "" {
				require.Contains(t, err.Error(), tc.code, "the Azure error code is reported")
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	providertest.RequireNotConfigured(t, powerautomate.New(powerautomate.Options{}), powerautomate.KeyNotConfigured,
		&providers.Target{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(powerautomate.New(powerautomate.Options{})))
}
