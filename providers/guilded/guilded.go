// Package guilded describes the Guilded provider: its channel parameters and
// its provider settings. It holds no transport yet.
//
// Each Guilded channel is one channel webhook, so the webhook URL is the
// channel parameter and there is no bot token.
package guilded

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Guilded. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Guilded provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New() *Provider {
	return &Provider{
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
			providers.ExcerptLengthSetting(400),
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
