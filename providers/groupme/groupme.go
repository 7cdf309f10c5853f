// Package groupme describes the GroupMe provider: its channel parameter and
// its provider settings. It holds no transport yet.
//
// GroupMe bots are configured provider-wide, as in the reference: bot_ids
// and instance_names are parallel comma-separated lists, and a channel names
// one instance (or "all" to post through every bot).
package groupme

import (
	"regexp"
	"slices"

	"github.com/chatsidecar/chatsidecar/providers"
)

var _ providers.Provider = (*Provider)(nil)

// Provider describes GroupMe. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the GroupMe provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New() *Provider {
	return &Provider{
		params: []providers.Param{{
			Key:   "groupme_instance_name",
			Label: "Instance name",
			// The reference accepts anything, even an empty string, which
			// can never name an instance. The value must be one non-empty
			// line that starts with a non-space character; later spaces are
			// allowed because instance names are free text.
			Pattern: regexp.MustCompile(`^\S.*$`),
			Unique:  true,
			Example: "all",
		}},
		settings: []providers.Setting{
			{
				Key:         "bot_ids",
				Label:       "Bot IDs",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Comma-separated GroupMe bot ids; anyone holding a bot id can post as that bot.",
			},
			{
				Key:         "instance_names",
				Label:       "Instance names",
				Type:        providers.SettingString,
				Description: "Comma-separated names for the bots, in the same order as the bot ids.",
			},
			providers.ExcerptLengthSetting(400),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "groupme", the identifier stored with every GroupMe channel.
func (p *Provider) ID() string { return "groupme" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "GroupMe" }

// Params returns the single channel parameter, the instance name. The slice
// is a copy, so callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }
