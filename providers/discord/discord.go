// Package discord describes the Discord provider: its channel parameters and
// its provider settings. It holds no transport yet.
//
// Each Discord channel is one channel webhook, so the webhook URL is the
// channel parameter and there is no bot token.
package discord

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes Discord. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Discord provider. The regular expressions are compiled
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
				// A prefix check, as in the reference: the rest of the URL
				// (webhook id, token, and query parameters such as thread_id)
				// is kept as entered. The token in the URL makes it a secret.
				Pattern: regexp.MustCompile(`^https://discord\.com/api/webhooks/`),
				Unique:  true,
				Secret:  true,
				Example: "https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_jkl",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "message_content",
				Label:       "Message content",
				Type:        providers.SettingString,
				Description: "Text placed above the embed in every message, for example a role mention.",
			},
			providers.ExcerptLengthSetting(400),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "discord", the identifier stored with every Discord channel.
func (p *Provider) ID() string { return "discord" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Discord" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
