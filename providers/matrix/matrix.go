// Package matrix describes the Matrix provider: its channel parameters and
// its provider settings. It holds no transport yet.
//
// The bot either uses an ordinary account (homeserver plus access_token) or
// runs as an application service on the admin's own homeserver (as_token and
// hs_token, see the registration printed by chatsidecar matrix-registration).
package matrix

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Matrix. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Matrix provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
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
				Key:   "room_id",
				Label: "Room ID or alias",
				// The reference accepts only room ids (!id:server). Aliases
				// (#alias:server) are accepted too and resolved by the
				// transport. The reference marks the field hidden, which only
				// kept it off the channel card: a room id grants nothing, so
				// it is not secret.
				Pattern: regexp.MustCompile(`^[!#]\S+:\S+$`),
				Unique:  true,
				Example: "!cURbafjkfsMDVwdRDQ:matrix.org",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "homeserver",
				Label:       "Homeserver",
				Type:        providers.SettingURL,
				Default:     "https://matrix.org",
				Description: "Base URL of the homeserver the bot account lives on.",
			},
			{
				Key:         "access_token",
				Label:       "Access token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Access token of the bot account, sent as a Bearer token.",
			},
			{
				Key:         "use_notice",
				Label:       "Send as notice",
				Type:        providers.SettingBool,
				Default:     true,
				Description: "Send notifications as m.notice, which clients and other bots treat as bot output.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "as_token",
				Label:       "Application service token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Token the sidecar presents to the homeserver when it runs as an application service.",
			},
			{
				Key:         "hs_token",
				Label:       "Homeserver token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Token the homeserver must present when it pushes application service transactions.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "matrix", the identifier stored with every Matrix channel.
func (p *Provider) ID() string { return "matrix" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Matrix" }

// Params returns a label and the room. The slice is a copy, so callers may
// not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
