// Package mattermost describes the Mattermost provider: its channel
// parameter and its provider settings. It holds no transport yet.
//
// As in the reference, notifications go through one site-wide incoming
// webhook whose channel is overridden per message, so a channel is just a
// channel or user name. The REST API settings (server_url, bot_token) are new:
// they let later work thread, edit and read history, which a webhook cannot.
package mattermost

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Mattermost. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Mattermost provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New() *Provider {
	return &Provider{
		params: []providers.Param{{
			Key:   "identifier",
			Label: "Channel",
			// "#channel" or "@user"; the prefix is required because the
			// webhook's channel override needs it.
			Pattern: regexp.MustCompile(`^[@#]\S*$`),
			Unique:  true,
			Example: "#town-square",
		}},
		settings: []providers.Setting{
			{
				Key:         "webhook_url",
				Label:       "Incoming webhook URL",
				Type:        providers.SettingURL,
				Secret:      true,
				Description: "Site-wide Mattermost incoming webhook that every notification is posted to.",
			},
			{
				Key:         "incoming_webhook_token",
				Label:       "Slash command token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Token Mattermost sends with the custom slash command, checked on every command.",
			},
			{
				Key:         "icon_url",
				Label:       "Icon URL",
				Type:        providers.SettingString,
				Description: "URL or forum path of the bot's avatar; empty means the forum's small logo.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "server_url",
				Label:       "Server URL",
				Type:        providers.SettingURL,
				Description: "Base URL of the Mattermost server, used for REST API calls.",
			},
			{
				Key:         "bot_token",
				Label:       "Bot token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Bot account access token for the REST API.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "mattermost", the identifier stored with every Mattermost
// channel.
func (p *Provider) ID() string { return "mattermost" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Mattermost" }

// Params returns the single channel parameter, the channel identifier. The
// slice is a copy, so callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
