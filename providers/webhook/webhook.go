// Package webhook is the generic webhook provider, which is the sidecar's
// own and not in the reference: each channel is a URL that receives every
// notification as a JSON body, for platforms without a dedicated provider
// and for automation.
//
// Each notification is one POST of the JSON document described by payload
// (event, delivery id, site, topic, post, author, and a rendered plain
// text) with these
// headers:
//
//	Content-Type: application/json
//	User-Agent: chatsidecar
//	X-Chatsidecar-Event: post_created (the notification's kind)
//	X-Chatsidecar-Delivery: chatsidecar.<32 hex> (the same on every resend)
//	X-Chatsidecar-Signature: sha256=<hex> (only when signing_secret is set)
//
// The signature mirrors Discourse's X-Discourse-Event-Signature: the
// lowercase hex HMAC-SHA256 of the raw body keyed by signing_secret, so a
// receiver that already verifies Discourse webhooks can verify these the
// same way (compare in constant time). Like Discourse's, it carries no
// timestamp and does not stop replays.
//
// Delivery is at least once: the engine resends after a timeout or a 5xx,
// and after a crash between the receiver's answer and the commit of the
// outcome. Every resend of one event to one channel carries the same
// delivery_id (and X-Chatsidecar-Delivery), so a receiver that remembers
// the ids it has processed sees each notification once.
//
// Any 2xx is success; when the reply is a JSON object with an "id" (string
// or number) it becomes the Receipt's MessageID. Other statuses are
// classified by providers.CheckStatus with the Key* constants. The
// receiver's body is never quoted in an error: a generic receiver has no
// error vocabulary and may echo the token in its URL.
//
// api_base_url replaces the URL's origin (scheme and host) and keeps its
// path and query, so tests can reach a fake with realistic channel data.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Notifier = (*Provider)(nil)
)

// Headers the provider sets besides Content-Type and User-Agent.
const (
	// HeaderEvent carries the notification's kind, so a receiver can route
	// without parsing the body.
	HeaderEvent = "X-Chatsidecar-Event"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of the
	// body, when signing_secret is set.
	HeaderSignature = "X-Chatsidecar-Signature"
	// HeaderDelivery carries the body's delivery_id, which stays the same
	// when the engine sends the notification again, so a receiver can
	// drop a resend without parsing the body.
	HeaderDelivery = "X-Chatsidecar-Delivery"
)

// Error keys the generic webhook records on a channel. They are the
// sidecar's own (the reference has no generic webhook) and need
// translations in the admin UI.
const (
	// KeyUnauthorized: the receiver answered 401.
	KeyUnauthorized = "chat_integration.provider.webhook.errors.unauthorized"
	// KeyForbidden: the receiver answered 403.
	KeyForbidden = "chat_integration.provider.webhook.errors.forbidden"
	// KeyNotFound: the receiver answered 404 or 410; the URL is wrong or
	// was removed.
	KeyNotFound = "chat_integration.provider.webhook.errors.not_found"
	// KeyRejected: the receiver refused the request with another 4xx, or
	// redirected it (redirects are not followed).
	KeyRejected = "chat_integration.provider.webhook.errors.rejected"
	// KeyNotConfigured: the channel's URL or api_base_url does not parse.
	KeyNotConfigured = "chat_integration.provider.webhook.errors.not_configured"
)

// Options are the generic webhook's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is the generic webhook. Build it with New; the zero value has
// no parameters, settings or client. It is immutable after New and
// therefore safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the generic webhook provider. The regular expressions are
// compiled here, once, rather than in package variables, so that importing
// the package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
		params: []providers.Param{
			{
				Key:     "name",
				Label:   "Name",
				Pattern: regexp.MustCompile(`^\S+$`),
				Unique:  true,
				Example: "ci-bot",
			},
			{
				Key:   "url",
				Label: "URL",
				// Plain http is allowed for receivers on a private network;
				// whether private addresses may be reached is decided by the
				// outbound policy, not here. URLs often embed a token, so the
				// value is a secret.
				Pattern: regexp.MustCompile(`^https?://\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://hooks.example.com/discourse?token=AbCdEf",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "signing_secret",
				Label:       "Signing secret",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Secret used to sign every request body so receivers can verify it came from this sidecar.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "webhook", the identifier stored with every generic webhook
// channel.
func (p *Provider) ID() string { return "webhook" }

// Name returns the provider's name for the admin UI.
func (p *Provider) Name() string { return "Generic webhook" }

// Params returns a label and the target URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Notify POSTs n as JSON to the channel's URL, signed when signing_secret
// is set, and returns a Receipt whose MessageID is the receiver's "id"
// when it sent one.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	endpoint, err := providers.Rebase(t.Data["url"], t.Settings.String("api_base_url"))
	if err != nil || t.Data["url"] == "" {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the webhook URL or api_base_url is not valid")
	}
	payload := newPayload(t.ChannelID, n)
	body, err := providers.EncodeJSON(payload)
	if err != nil {
		return nil, providers.Permanent("", nil, "encoding the webhook payload: %v", err)
	}
	req, err := providers.NewJSONRequest(ctx, endpoint, body)
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the webhook URL is not valid")
	}
	req.Header.Set(HeaderEvent, string(n.Kind))
	req.Header.Set(HeaderDelivery, payload.DeliveryID)
	if secret := t.Settings.String("signing_secret"); secret != "" {
		req.Header.Set(HeaderSignature, sign(secret, body))
	}
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	if err := providers.CheckStatus(resp, "webhook receiver", "", providers.StatusKeys{
		Unauthorized: KeyUnauthorized,
		Forbidden:    KeyForbidden,
		NotFound:     KeyNotFound,
		Rejected:     KeyRejected,
	}); err != nil {
		return nil, err
	}
	return &providers.Receipt{MessageID: replyID(resp.Body)}, nil
}

// sign returns the X-Chatsidecar-Signature value for body: "sha256=" and
// the lowercase hex HMAC-SHA256 keyed by secret, as Discourse signs.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// replyID returns the "id" of a JSON object reply, a string or a number,
// or "" when the reply has none.
func replyID(body []byte) string {
	var reply struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &reply) != nil || len(reply.ID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(reply.ID, &s) == nil {
		return s
	}
	var num json.Number
	if json.Unmarshal(reply.ID, &num) == nil {
		return strings.TrimSpace(num.String())
	}
	return ""
}
