// Package teams describes the Microsoft Teams provider that posts
// MessageCards to Office 365 connector webhooks: its channel parameters and
// its provider settings. It holds no transport yet.
//
// Microsoft has retired Office 365 connectors; new installs should use the
// powerautomate provider (Teams Workflows). This one stays for the
// reference's channels that still point at a connector URL.
package teams

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes the legacy Teams connector. Build it with New; the zero
// value has no parameters or settings. It is immutable after New and
// therefore safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Teams provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
func New() *Provider {
	return &Provider{
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
			providers.ExcerptLengthSetting(400),
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
