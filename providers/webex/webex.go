// Package webex describes the Webex provider: its channel parameters and its
// provider settings. It holds no transport yet.
//
// Each Webex channel is one space's incoming webhook.
package webex

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Webex. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Webex provider. The regular expressions are compiled here,
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
				// The reference's pattern with its Ruby escapes of "/"
				// dropped. The webhook id in the URL is its only credential.
				Pattern: regexp.MustCompile(`^https://webexapis\.com/v1/webhooks/incoming/[A-Za-z0-9\-@/]+\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://webexapis.com/v1/webhooks/incoming/Y2lzY29zcGFyazovL3VzL1dFQkhPT0svMGExYjJjM2Q",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(400),
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
