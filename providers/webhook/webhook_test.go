package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/webhook"
)

// updateGolden rewrites the golden files: go test ./providers/webhook -update.
var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "ci",
		Data:     map[string]string{"name": "ci-bot", "url": fakeURL},
		Settings: providers.Settings{"signing_secret": fakeSecret, "api_base_url": base},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return webhook.New(webhook.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeReceiver(t) },
		Target:  target,
		Secrets: []string{fakeToken, fakeSecret},
	})
}

type bundle struct {
	p    *webhook.Provider
	fake *fakeReceiver
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: webhook.New(webhook.Options{}), fake: newFakeReceiver(t)}
}

func (b *bundle) last(t *testing.T) providertest.Request {
	t.Helper()
	r, ok := b.fake.Last()
	require.True(t, ok, "no request was sent")
	return r
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: "delivery-1"}, r)

	req := b.last(t)
	require.Equal(t, "POST /discourse", req.Endpoint())
	require.Equal(t, "token="+fakeToken, req.Query, "api_base_url replaces the origin and keeps path and query")
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, "chatsidecar", req.Header.Get("User-Agent"))
	require.Equal(t, "post_created", req.Header.Get(webhook.HeaderEvent))
	require.True(t, strings.HasPrefix(req.Header.Get(webhook.HeaderSignature), "sha256="))
}

func TestPayloadGolden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	got := b.last(t).Body

	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, got, "", "  "))
	indented.WriteByte('\n')
	path := filepath.Join("testdata", "post_created.golden.json")
	if *updateGolden {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, indented.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./providers/webhook -update to create it")
	require.JSONEq(t, string(want), string(got))
	require.NotContains(t, string(got), `\u003c`, "bodies are not HTML-escaped")
}

func TestPayloadWithoutCategoryOrTags(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags = nil, nil
	n.Kind = providers.PostEdited
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), n)
	require.NoError(t, err)
	req := b.last(t)
	require.Equal(t, "post_edited", req.Header.Get(webhook.HeaderEvent))

	var body struct {
		Event string `json:"event"`
		Topic struct {
			Tags     []string        `json:"tags"`
			Category json.RawMessage `json:"category"`
		} `json:"topic"`
		Text string `json:"text"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Equal(t, "post_edited", body.Event)
	require.NotNil(t, body.Topic.Tags, "tags is always an array")
	require.Empty(t, body.Topic.Tags)
	require.Equal(t, "null", string(body.Topic.Category))
	require.Equal(t, "Upgrading to 2.0 & beyond - Jane Doe (@jane)\nhttps://forum.example.org/t/upgrading-to-2-0/42/2", body.Text)
}

func TestSignatureVerifies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	req := b.last(t)

	// Verify as a receiver would, independently of the provider's code:
	// HMAC-SHA256 of the raw body keyed by the secret, lowercase hex,
	// compared in constant time (Discourse's scheme).
	got, ok := strings.CutPrefix(req.Header.Get(webhook.HeaderSignature), "sha256=")
	require.True(t, ok)
	gotMAC, err := hex.DecodeString(got)
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(got), got)
	mac := hmac.New(sha256.New, []byte(fakeSecret))
	mac.Write(req.Body)
	require.True(t, hmac.Equal(mac.Sum(nil), gotMAC), "the signature must verify")

	// A tampered body or another secret does not verify.
	mac = hmac.New(sha256.New, []byte(fakeSecret))
	mac.Write(append(bytes.Clone(req.Body), ' '))
	require.False(t, hmac.Equal(mac.Sum(nil), gotMAC))
	mac = hmac.New(sha256.New, []byte("another-secret"))
	mac.Write(req.Body)
	require.False(t, hmac.Equal(mac.Sum(nil), gotMAC))
}

func TestUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	delete(tg.Settings, "signing_secret")
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Empty(t, b.last(t).Header.Values(webhook.HeaderSignature))
}

func TestReplyID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want string
	}{
		{`{"id":"abc"}`, "abc"},
		{`{"id":12345678901234567890}`, "12345678901234567890"},
		{`{"id":null}`, ""},
		{`{"id":{"nested":1}}`, ""},
		{`{"other":1}`, ""},
		{`ok`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(200, nil, tc.body)
			r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			require.NoError(t, err)
			require.Equal(t, tc.want, r.MessageID)
		})
	}
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		key       string
		sentinel  error
		permanent bool
	}{
		{401, webhook.KeyUnauthorized, providers.ErrUnauthorized, true},
		{403, webhook.KeyForbidden, providers.ErrForbidden, true},
		{404, webhook.KeyNotFound, providers.ErrChannelNotFound, true},
		{410, webhook.KeyNotFound, providers.ErrChannelNotFound, true},
		{400, webhook.KeyRejected, nil, true},
		{422, webhook.KeyRejected, nil, true},
		{301, webhook.KeyRejected, nil, true}, // redirects are not followed
		{408, "chat_integration.channel_exception", nil, false},
		{502, "chat_integration.channel_exception", nil, false},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, http.Header{"Location": {"https://elsewhere.example/?token=" + fakeToken}}, "echo "+fakeToken)
			_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			require.Error(t, err)
			permanent, limited, _ := providers.Classify(err)
			require.Equal(t, tc.permanent, permanent, "%v", err)
			require.False(t, limited)
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			require.NotContains(t, err.Error(), fakeToken)
			require.Len(t, b.fake.Requests(), 1, "one request, no redirect followed")
		})
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	p := webhook.New(webhook.Options{})
	for _, tg := range []*providers.Target{
		{Data: map[string]string{"name": "x", "url": ""}},
		{Data: map[string]string{"name": "x", "url": "ftp://example.com/x"}},
		target("::bad"),
	} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		require.ErrorIs(t, err, providers.ErrNotConfigured)
		require.Equal(t, webhook.KeyNotConfigured, providers.ErrorKey(err))
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(webhook.New(webhook.Options{})))
}
