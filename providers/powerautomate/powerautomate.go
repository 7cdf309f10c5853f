// Package powerautomate describes the Power Automate provider, which posts
// Adaptive Cards to a Teams Workflows ("Post to a channel when a webhook
// request is received") URL: its channel parameters and its provider
// settings. It holds no transport yet.
//
// This is the replacement for the retired Office 365 connectors used by the
// teams provider.
package powerautomate

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Power Automate / Teams Workflows. Build it with New;
// the zero value has no parameters or settings. It is immutable after New
// and therefore safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Power Automate provider. The regular expressions are
// compiled here, once, rather than in package variables, so that importing
// the package has no side effects.
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
			providers.ExcerptLengthSetting(400),
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
