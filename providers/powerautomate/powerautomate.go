// Package powerautomate is the Power Automate provider, which posts
// Adaptive Cards to a Teams Workflows ("Post to a channel when a webhook
// request is received") URL. It replaces the retired Office 365 connectors
// of the teams provider.
//
// A workflow URL is a Logic Apps HTTP trigger: it answers 202 Accepted with
// an empty body once the flow run is queued, and posting the card to Teams
// happens later, inside the run, so its failures show only in the flow's
// run history. The trigger's own failures come back as Azure JSON,
// {"error":{"code":"…","message":"…"}}: 401 for a missing or wrong sig=
// (the URL's credential), 404 for a deleted flow, 429 when the flow is
// throttled. Only the code is quoted in errors, never the message, which
// may echo the URL.
//
// No message id comes back, so messages cannot be threaded on, edited or
// deleted, and the URL cannot be checked without starting the flow.
//
// api_base_url replaces the URL's origin and keeps its path and query (the
// sig), so tests reach a fake with realistic URLs.
package powerautomate

import (
	"context"
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

// Error keys the Power Automate provider records on a channel.
const (
	// KeyInvalidWebhook is the reference's key for a URL answered with
	// "Invalid webhook URL"; it is also used when the trigger rejects the
	// signature (401, 403) or the flow is gone (404, 410): in every case
	// the admin has to copy the workflow's URL again.
	KeyInvalidWebhook = "chat_integration.provider.powerautomate.errors.invalid_webhook"
	// KeyNotConfigured is the sidecar's: the URL or api_base_url does not
	// parse.
	KeyNotConfigured = "chat_integration.provider.powerautomate.errors.not_configured"
)

// defaultExcerptLength is the reference's powerautomate_excerpt_length.
const defaultExcerptLength = 400

// Options are the Power Automate provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is Power Automate / Teams Workflows. Build it with New; the zero
// value has no parameters, settings or client. It is immutable after New
// and therefore safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Power Automate provider. The regular expressions are
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
				Example: "announcements",
			},
			{
				Key:   "webhook_url",
				Label: "Workflow URL",
				// Workflow URLs live on several Microsoft hosts, so only the
				// scheme is checked. The sig= query parameter is the
				// credential, which makes the URL a secret.
				Pattern: regexp.MustCompile(`^https://\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://prod-01.westeurope.logic.azure.com:443/workflows/0a1b2c3d/triggers/manual/paths/invoke?api-version=2016-06-01&sig=AbCdEf",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "powerautomate", the identifier stored with every Power
// Automate channel.
func (p *Provider) ID() string { return "powerautomate" }

// Name returns the platform's name for the admin UI; it names Teams
// Workflows too because that is what admins see in Teams.
func (p *Provider) Name() string { return "Power Automate / Teams Workflows" }

// Params returns a label and the workflow URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Notify posts n as an Adaptive Card to the channel's workflow. The Receipt
// is empty: the trigger returns no message id.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	return providers.PostWebhook(ctx, p.client, t.Data["webhook_url"], t.Settings.String("api_base_url"),
		format(n, t.Settings.Int("excerpt_length", defaultExcerptLength)), KeyNotConfigured, check)
}

// check classifies the trigger's reply; nil means the run was queued.
func check(r *providers.Response) error {
	if r.Status/100 == 2 {
		return nil
	}
	if strings.Contains(string(r.Body), "Invalid webhook URL") {
		return &providers.Error{Key: KeyInvalidWebhook, Permanent: true, Status: r.Status, Err: providers.ErrChannelNotFound,
			Message: "Power Automate answered Invalid webhook URL"}
	}
	var reply struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &reply) // a body that is not Azure JSON has no code
	return providers.CheckStatus(r, "Power Automate", providers.SafeCode(reply.Error.Code), providers.StatusKeys{
		Unauthorized: KeyInvalidWebhook, Forbidden: KeyInvalidWebhook, NotFound: KeyInvalidWebhook,
	})
}
