// Package teams is the Microsoft Teams provider that posts MessageCards to
// Office 365 connector ("Incoming Webhook") URLs, as the reference does.
//
// Microsoft has retired Office 365 connectors; new installs should use the
// powerautomate provider (Teams Workflows). This one stays for the
// reference's channels that still point at a connector URL.
//
// A connector answers HTTP 200 with the body "1" when it delivered the
// card. It also answers 200 (or 400) when Teams itself refused the card,
// with a text such as "Webhook message delivery failed with error:
// Microsoft Teams endpoint returned HTTP error 429 with ContextId …":
// Microsoft wraps errors so that third-party systems do not disable the
// webhook (msteams-docs #402, #1810, #9698). So a 2xx alone is not
// success; the inner status in that text is classified as if Teams had
// answered it, and a 2xx without a count is a retryable failure. A removed
// connector answers 410 Gone.
//
// The connector returns no message id, so messages cannot be threaded on,
// edited or deleted, and the webhook cannot be checked without posting.
//
// api_base_url replaces the webhook URL's origin and keeps its path, which
// holds the webhook's ids, so tests reach a fake with realistic URLs.
package teams

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Notifier = (*Provider)(nil)
)

// Error keys the Teams provider records on a channel.
const (
	// KeyInvalidChannel is the reference's key for a connector that says
	// "Invalid webhook URL". It is also used when the connector was
	// removed (404, 410) or refuses the URL (401, 403): in every case the
	// admin has to create a new webhook URL.
	KeyInvalidChannel = "chat_integration.provider.teams.errors.invalid_channel"
	// KeyNotConfigured is the sidecar's: the webhook URL or api_base_url
	// does not parse.
	KeyNotConfigured = "chat_integration.provider.teams.errors.not_configured"
)

// defaultExcerptLength is the reference's teams_excerpt_length.
const defaultExcerptLength = 400

// Options are the Teams provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is the legacy Teams connector. Build it with New; the zero value
// has no parameters, settings or client. It is immutable after New and
// therefore safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Teams provider. The regular expressions are compiled here,
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
				// Connector URLs live on tenant-specific hosts, so only the
				// scheme is checked. The URL carries its own credentials.
				Pattern: regexp.MustCompile(`^https://\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://contoso.webhook.office.com/webhookb2/0a1b2c3d@4e5f6a7b/IncomingWebhook/8c9d0e1f/2a3b4c5d",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "teams", the identifier stored with every Teams channel.
func (p *Provider) ID() string { return "teams" }

// Name returns the platform's name for the admin UI, marked legacy so admins
// pick Power Automate for new channels.
func (p *Provider) Name() string { return "Microsoft Teams (legacy connector)" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Notify posts n as a MessageCard to the channel's connector. The Receipt
// is empty: a connector returns no message id.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	return providers.PostWebhook(ctx, p.client, t.Data["webhook_url"], t.Settings.String("api_base_url"),
		format(n, t.Settings.Int("excerpt_length", defaultExcerptLength)), KeyNotConfigured, check)
}

// statusKeys: every refusal of the URL itself means "make a new webhook".
// Other rejections (400 bad payload, 413 too large) keep the generic key,
// as the reference records none for them.
func statusKeys() providers.StatusKeys {
	return providers.StatusKeys{Unauthorized: KeyInvalidChannel, Forbidden: KeyInvalidChannel, NotFound: KeyInvalidChannel}
}

// wrapped finds the status Teams answered the connector, in the text the
// connector wraps it in.
func wrapped(body string) (int, bool) {
	const marker = "Microsoft Teams endpoint returned HTTP error "
	_, rest, ok := strings.Cut(body, marker)
	if !ok {
		return 0, false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	code, err := strconv.Atoi(rest[:end])
	return code, err == nil && code >= 100 && code <= 599
}

// check classifies a connector's reply; nil means Teams took the card.
func check(r *providers.Response) error {
	body := strings.TrimSpace(string(r.Body))
	if strings.Contains(body, "Invalid webhook URL") {
		return &providers.Error{Key: KeyInvalidChannel, Permanent: true, Status: r.Status, Err: providers.ErrChannelNotFound,
			Message: "the Teams connector answered Invalid webhook URL"}
	}
	// The connector's newer JSON envelope carries Teams' status the same way.
	var env struct {
		StatusCode          int   `json:"statusCode"`
		IsSuccessStatusCode *bool `json:"isSuccessStatusCode"`
	}
	inner, isWrapped := wrapped(body)
	if !isWrapped && json.Unmarshal(r.Body, &env) == nil && env.IsSuccessStatusCode != nil {
		if *env.IsSuccessStatusCode && r.Status/100 == 2 {
			return nil
		}
		inner, isWrapped = env.StatusCode, env.StatusCode >= 300
	}
	if isWrapped {
		err := providers.CheckStatus(&providers.Response{Status: inner, Header: r.Header}, "Microsoft Teams", "", statusKeys())
		var pe *providers.Error
		if errors.As(err, &pe) {
			pe.Status = r.Status
			pe.Message = "the Teams connector answered HTTP " + strconv.Itoa(r.Status) +
				": Microsoft Teams returned HTTP error " + strconv.Itoa(inner)
		}
		return err
	}
	if err := providers.CheckStatus(r, "the Teams connector", "", statusKeys()); err != nil {
		return err
	}
	// A count of delivered messages ("1") is the only sign of success.
	if n, err := strconv.Atoi(body); err == nil && n > 0 {
		return nil
	}
	return &providers.Error{Status: r.Status, Message: "the Teams connector answered HTTP " + strconv.Itoa(r.Status) + " without confirming delivery"}
}
