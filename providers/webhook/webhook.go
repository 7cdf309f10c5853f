// Package webhook describes the generic webhook provider, which is the
// sidecar's own and not in the reference: each channel is a URL that
// receives every notification as a JSON body, for platforms without a
// dedicated provider and for automation. It holds no transport yet.
//
// Bodies are signed with signing_secret so that receivers can check they
// come from this sidecar.
package webhook

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes the generic webhook. Build it with New; the zero value
// has no parameters or settings. It is immutable after New and therefore
// safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the generic webhook provider. The regular expressions are
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
