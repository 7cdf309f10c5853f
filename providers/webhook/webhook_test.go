package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/webhook"
)

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

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: "delivery-1"}, r)

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /discourse", req.Endpoint())
	require.Equal(t, "token="+fakeToken, req.Query, "api_base_url replaces the origin and keeps path and query")
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, "chatsidecar", req.Header.Get("User-Agent"))
	require.Equal(t, "post_created", req.Header.Get(webhook.HeaderEvent))
	require.True(t, strings.HasPrefix(req.Header.Get(webhook.HeaderSignature), "sha256="))
}

// TestDeliveryIDIsTheSameOnEveryResend: a resend (a retry, or the send a
// killed process could not record) carries the first attempt's id, in
// the signed body and in the header; another channel or a new version of
// the post is a new id.
func TestDeliveryIDIsTheSameOnEveryResend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	send := func(tg *providers.Target, n *providers.Notification) (header, body string) {
		t.Helper()
		_, err := b.p.Notify(t.Context(), tg, n)
		require.NoError(t, err)
		req := b.fake.RequireLast(t)
		var doc struct {
			DeliveryID string `json:"delivery_id"`
		}
		require.NoError(t, json.Unmarshal(req.Body, &doc))
		return req.Header.Get(webhook.HeaderDelivery), doc.DeliveryID
	}
	n := providertest.Notification()
	first, inBody := send(target(b.fake.URL()), n)
	require.Equal(t, providers.SendKey(1, n), first)
	require.Equal(t, first, inBody)
	again, _ := send(target(b.fake.URL()), providertest.Notification())
	require.Equal(t, first, again)

	other := target(b.fake.URL())
	other.ChannelID = 2
	otherChannel, _ := send(other, n)
	require.NotEqual(t, first, otherChannel)
	edited := providertest.Notification()
	edited.Kind, edited.Post.Version = providers.PostEdited, 2
	newVersion, _ := send(target(b.fake.URL()), edited)
	require.NotEqual(t, first, newVersion)
}

func TestPayloadGolden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	got := b.fake.RequireLast(t).Body
	providertest.RequireGolden(t, providertest.GoldenPath("post_created"), got)
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
	req := b.fake.RequireLast(t)
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
	req := b.fake.RequireLast(t)

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
	require.Empty(t, b.fake.RequireLast(t).Header.Values(webhook.HeaderSignature))
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
	type want = providertest.Classified
	generic := want{Key: "chat_integration.channel_exception"}
	rejected := want{Key: webhook.KeyRejected, Permanent: true}
	providertest.RunReplies(t, []providertest.ReplyCase{
		{Status: 401, Want: want{Key: webhook.KeyUnauthorized, Sentinel: providers.ErrUnauthorized, Permanent: true}},
		{Status: 403, Want: want{Key: webhook.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 404, Want: want{Key: webhook.KeyNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 410, Want: want{Key: webhook.KeyNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 400, Want: rejected},
		{Status: 422, Want: rejected},
		{Status: 301, Want: rejected}, // redirects are not followed
		{Status: 408, Want: generic},
		{Status: 502, Want: generic},
	}, func(t *testing.T, c providertest.ReplyCase) error {
		b := setup(t)
		// The receiver echoes the token, in the body and a redirect.
		b.fake.Reply(c.Status, http.Header{"Location": {"https://elsewhere.example/?token=" + fakeToken}}, "echo "+fakeToken)
		_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
		require.Len(t, b.fake.Requests(), 1, "one request, no redirect followed")
		return err
	}, fakeToken)
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	providertest.RequireNotConfigured(t, webhook.New(webhook.Options{}), webhook.KeyNotConfigured,
		&providers.Target{Data: map[string]string{"name": "x", "url": ""}},
		&providers.Target{Data: map[string]string{"name": "x", "url": "ftp://example.com/x"}},
		target("::bad"),
	)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(webhook.New(webhook.Options{})))
}
