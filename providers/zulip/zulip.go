// Package zulip describes the Zulip provider: its channel parameters and its
// provider settings. It holds no transport yet.
//
// A channel is a stream and a fixed subject (Zulip's topic), as in the
// reference; the bot authenticates with its email address and API key.
package zulip

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Zulip. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Zulip provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
func New() *Provider {
	return &Provider{
		params: []providers.Param{
			{
				Key:   "stream",
				Label: "Stream",
				// The reference only checks the first character, so stream
				// names with spaces ("general chat") are accepted.
				Pattern: regexp.MustCompile(`^\S+`),
				Unique:  true,
				Example: "general",
			},
			{
				Key:     "subject",
				Label:   "Subject",
				Pattern: regexp.MustCompile(`^\S+`),
				Unique:  true,
				Example: "forum updates",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "server",
				Label:       "Server URL",
				Type:        providers.SettingURL,
				Description: "Base URL of the Zulip organisation, for example https://example.zulipchat.com.",
			},
			{
				Key:         "bot_email_address",
				Label:       "Bot email address",
				Type:        providers.SettingString,
				Description: "Email address of the Zulip bot, the user name of HTTP basic authentication.",
			},
			{
				Key:         "bot_api_key",
				Label:       "Bot API key",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "API key of the Zulip bot, the password of HTTP basic authentication.",
			},
			providers.ExcerptLengthSetting(400),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "zulip", the identifier stored with every Zulip channel.
func (p *Provider) ID() string { return "zulip" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Zulip" }

// Params returns the stream and subject. The slice is a copy, so callers may
// not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
