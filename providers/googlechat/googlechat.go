// Package googlechat describes the Google Chat provider: its channel
// parameters and its provider settings. It holds no transport yet.
//
// Each Google Chat channel is one space's incoming webhook; the reference
// calls this provider "google", the sidecar uses the clearer id googlechat.
package googlechat

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Google Chat. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Google Chat provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
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
				// The reference leaves the dots unescaped; they are escaped
				// here so that only chat.googleapis.com matches. The key and
				// token query parameters make the URL a secret.
				Pattern: regexp.MustCompile(`^https://chat\.googleapis\.com/v1/\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://chat.googleapis.com/v1/spaces/AAAAbCdEfGh/messages?key=AIzaKey&token=AbCdToken",
			},
		},
		settings: []providers.Setting{
			// Google Chat cards are small, hence the reference's lower default.
			providers.ExcerptLengthSetting(100),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "googlechat", the identifier stored with every Google Chat
// channel.
func (p *Provider) ID() string { return "googlechat" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Google Chat" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
