// Package guilded is the Guilded provider: each channel is one channel
// webhook, to which it posts an embed, as the reference does. Guilded
// webhooks take a Discord-like body; the reference sends no content and no
// ?wait parameter.
//
// A webhook answers 200 with the created message, whose id becomes the
// Receipt's MessageID. Errors are Guilded's JSON, {"code":"…",
// "message":"…"}; only the code is quoted. A 429 asks the engine to wait
// for the Retry-After header or, failing that, the Discord-style
// retry_after (seconds) in the body.
//
// Webhooks cannot edit or delete their messages and cannot be checked
// without posting, and the reference has no threads for Guilded, so this
// provider only notifies.
//
// api_base_url replaces the webhook URL's origin and keeps its path, which
// holds the webhook's token, so tests reach a fake with realistic URLs.
package guilded

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Notifier = (*Provider)(nil)
)

// Error keys the Guilded provider records on a channel. The reference
// records none for Guilded; these are the sidecar's and need translations
// in the admin UI.
const (
	// KeyInvalidWebhook: Guilded rejected the webhook's token (401, 403)
	// or no longer knows the webhook (404, 410).
	KeyInvalidWebhook = "chat_integration.provider.guilded.errors.invalid_webhook"
	// KeyNotConfigured: the webhook URL or api_base_url does not parse.
	KeyNotConfigured = "chat_integration.provider.guilded.errors.not_configured"
)

// defaultExcerptLength is the reference's guilded_excerpt_length.
const defaultExcerptLength = 400

// Options are the Guilded provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is Guilded. Build it with New; the zero value has no parameters,
// settings or client. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Guilded provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
		params: []providers.Param{
			{
				Key:   "name",
				Label: "Name",
				// The reference's pattern only checks that the name starts
				// with a non-space character; the name is a label only.
				Pattern: regexp.MustCompile(`^\S+`),
				Example: "announcements",
			},
			{
				Key:   "webhook_url",
				Label: "Webhook URL",
				// A prefix check, as in the reference. The token in the URL
				// makes it a secret.
				Pattern: regexp.MustCompile(`^https://media\.guilded\.gg/webhooks/`),
				Unique:  true,
				Secret:  true,
				Example: "https://media.guilded.gg/webhooks/0f3c2a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f/AbCdEfGh",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "guilded", the identifier stored with every Guilded channel.
func (p *Provider) ID() string { return "guilded" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Guilded" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Notify posts n as an embed to the channel's webhook and returns the
// message's id when Guilded sent one.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	resp, err := providers.PostJSON(ctx, p.client, t.Data["webhook_url"], t.Settings.String("api_base_url"),
		format(n, t.Settings.Int("excerpt_length", defaultExcerptLength)), KeyNotConfigured)
	if err != nil {
		return nil, err
	}
	if err := check(resp); err != nil {
		return nil, err
	}
	var sent struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp.Body, &sent) // posted either way; the id is a bonus
	return &providers.Receipt{MessageID: sent.ID}, nil
}

// check classifies Guilded's reply; nil means the message was posted.
func check(r *providers.Response) error {
	if r.Status/100 == 2 {
		return nil
	}
	var reply struct {
		Code       string  `json:"code"`
		RetryAfter float64 `json:"retry_after"`
	}
	_ = json.Unmarshal(r.Body, &reply) // a body that is not Guilded JSON has no code
	err := providers.CheckStatus(r, "Guilded", providers.SafeCode(reply.Code), providers.StatusKeys{
		Unauthorized: KeyInvalidWebhook, Forbidden: KeyInvalidWebhook, NotFound: KeyInvalidWebhook,
	})
	var pe *providers.Error
	if errors.As(err, &pe) && pe.RateLimited && r.Header.Get("Retry-After") == "" && reply.RetryAfter > 0 {
		pe.RetryAfter = time.Duration(reply.RetryAfter * float64(time.Second))
	}
	return err
}
