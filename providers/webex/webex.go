// Package webex is the Webex provider: each channel is one space's incoming
// webhook, to which it posts a Markdown message, as the reference does.
//
// Webex answers 204 No Content (or another 2xx) when the message was
// posted. Failures are Webex's JSON, {"message":"…","errors":[…],
// "trackingId":"…"}; its message is never quoted, since it may echo the
// URL. A 429 carries Retry-After in seconds. An unknown or deleted webhook
// is reported as "Invalid webhook URL" or a 404.
//
// An incoming webhook returns no message id, so messages cannot be threaded
// on, edited or deleted, and it cannot be checked without posting. (A bot
// token would allow both, through /v1/messages and GET /v1/rooms/{id}; the
// reference has none and neither has this provider.)
//
// api_base_url replaces the webhook URL's origin and keeps its path, which
// holds the webhook's id, so tests reach a fake with realistic URLs.
package webex

import (
	"context"
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

// Error keys the Webex provider records on a channel.
const (
	// KeyInvalidChannel is the reference's key for a webhook answered with
	// "Invalid webhook URL"; it is also used when Webex rejects (401, 403)
	// or no longer knows (404, 410) the webhook: the admin has to create a
	// new one.
	KeyInvalidChannel = "chat_integration.provider.webex.errors.invalid_channel"
	// KeyNotConfigured is the sidecar's: the webhook URL or api_base_url
	// does not parse.
	KeyNotConfigured = "chat_integration.provider.webex.errors.not_configured"
)

// defaultExcerptLength is the reference's webex_excerpt_length.
const defaultExcerptLength = 400

// Options are the Webex provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is Webex. Build it with New; the zero value has no parameters,
// settings or client. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Webex provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
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
				Example: "announcements",
			},
			{
				Key:   "webhook_url",
				Label: "Webhook URL",
				// The reference's pattern with its Ruby escapes of "/"
				// dropped. The webhook id in the URL is its only credential.
				Pattern: regexp.MustCompile(`^https://webexapis\.com/v1/webhooks/incoming/[A-Za-z0-9\-@/]+\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://webexapis.com/v1/webhooks/incoming/Y2lzY29zcGFyazovL3VzL1dFQkhPT0svMGExYjJjM2Q",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "webex", the identifier stored with every Webex channel.
func (p *Provider) ID() string { return "webex" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Webex" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Notify posts n as Markdown to the channel's incoming webhook. The Receipt
// is empty: the webhook returns no message id.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	return providers.PostWebhook(ctx, p.client, t.Data["webhook_url"], t.Settings.String("api_base_url"),
		format(n, t.Settings.Int("excerpt_length", defaultExcerptLength)), KeyNotConfigured, check)
}

// check classifies Webex's reply; nil means the message was posted.
func check(r *providers.Response) error {
	if r.Status/100 != 2 && strings.Contains(string(r.Body), "Invalid webhook URL") {
		return &providers.Error{Key: KeyInvalidChannel, Permanent: true, Status: r.Status, Err: providers.ErrChannelNotFound,
			Message: "Webex answered Invalid webhook URL"}
	}
	return providers.CheckStatus(r, "Webex", "", providers.StatusKeys{
		Unauthorized: KeyInvalidChannel, Forbidden: KeyInvalidChannel, NotFound: KeyInvalidChannel,
	})
}
