// Package rocketchat describes the Rocket.Chat provider: its channel
// parameter and its provider settings. It holds no transport yet.
//
// As in the reference, notifications go through one site-wide incoming
// integration whose channel is overridden per message, so a channel is just
// a channel or user name.
package rocketchat

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Rocket.Chat. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Rocket.Chat provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New() *Provider {
	return &Provider{
		params: []providers.Param{{
			Key:   "identifier",
			Label: "Channel",
			// "#channel" or "@user"; the prefix is required because the
			// integration's channel override needs it.
			Pattern: regexp.MustCompile(`^[@#]\S*$`),
			Unique:  true,
			Example: "#general",
		}},
		settings: []providers.Setting{
			{
				Key:         "webhook_url",
				Label:       "Incoming webhook URL",
				Type:        providers.SettingURL,
				Secret:      true,
				Description: "Site-wide Rocket.Chat incoming integration URL that every notification is posted to.",
			},
			providers.ExcerptLengthSetting(400),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "rocketchat", the identifier stored with every Rocket.Chat
// channel.
func (p *Provider) ID() string { return "rocketchat" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Rocket.Chat" }

// Params returns the single channel parameter, the channel identifier. The
// slice is a copy, so callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
