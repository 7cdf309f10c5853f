// Package gitter describes the Gitter provider: its channel parameters and
// its provider settings. It holds no transport yet.
//
// Since 2020 every public Gitter room is a Matrix room on the gitter.im
// homeserver (gitter.im/org/repo is #org_repo:gitter.im), and in 2023 the
// legacy Gitter API and its activity webhooks were shut down. So a Gitter
// channel names a room, not a webhook as in the reference, and the bot
// reaches it through a Matrix homeserver. The legacy_* settings remain for
// self-hosted Gitter installs that still run the old API.
package gitter

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Gitter. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Gitter provider. The regular expressions are compiled
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
				Key:   "room",
				Label: "Room",
				// A Gitter room name (org/repo, as in gitter.im URLs) or a
				// Matrix room id or alias. A room name is mapped to its alias
				// #org_repo:gitter.im by the transport. Rooms are public and
				// not secret.
				Pattern: regexp.MustCompile(`^([!#]\S+:\S+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$`),
				Unique:  true,
				Example: "nodejs/node",
			},
		},
		settings: []providers.Setting{
			{
				Key:   "homeserver",
				Label: "Matrix homeserver",
				Type:  providers.SettingURL,
				// Gitter rooms are reached over federation from the bot's own
				// homeserver; gitter.im does not host third-party bots.
				Default:     "https://matrix.org",
				Description: "Base URL of the Matrix homeserver the bot account lives on; Gitter rooms are reached through it.",
			},
			{
				Key:         "access_token",
				Label:       "Access token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Access token of the bot's Matrix account, sent as a Bearer token.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "legacy_api_url",
				Label:       "Legacy Gitter API URL",
				Type:        providers.SettingURL,
				Description: "Base URL of a self-hosted legacy Gitter API; empty means rooms are reached through Matrix.",
			},
			{
				Key:         "legacy_token",
				Label:       "Legacy Gitter token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "OAuth token for the self-hosted legacy Gitter API.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "gitter", the identifier stored with every Gitter channel.
func (p *Provider) ID() string { return "gitter" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Gitter" }

// Params returns a label and the room. The slice is a copy, so callers may
// not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
