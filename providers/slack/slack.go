// Package slack describes the Slack provider: its channel parameter and its
// provider settings. It holds no transport yet; delivery, slash commands,
// Socket Mode and transcripts are added later on top of this description.
//
// Slack can deliver in two ways, as in the reference: through an incoming
// webhook (outbound_webhook_url) or through the Web API with a bot token
// (access_token). One of the two is required before the provider can be
// enabled, which is why this package implements providers.SettingsValidator.
package slack

import (
	"regexp"
	"slices"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider          = (*Provider)(nil)
	_ providers.SettingsValidator = (*Provider)(nil)
)

// Provider describes Slack. Build it with New; the zero value has no
// parameters or settings. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
}

// New returns the Slack provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
func New() *Provider {
	return &Provider{
		params: []providers.Param{{
			Key:   "identifier",
			Label: "Channel",
			// The reference allows an empty identifier: with an incoming
			// webhook Slack ignores the channel and posts to the webhook's
			// own channel, so an empty value is meaningful there.
			Pattern: regexp.MustCompile(`^[@#]?\S*$`),
			Unique:  true,
			Example: "#general",
		}},
		settings: []providers.Setting{
			{
				Key:         "access_token",
				Label:       "Bot access token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "OAuth bot token (xoxb-…) used for the Web API; when set it is preferred over the incoming webhook.",
			},
			{
				Key:         "incoming_webhook_token",
				Label:       "Verification token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Slack's legacy verification token, accepted on slash commands from apps that do not sign requests.",
			},
			{
				Key:    "outbound_webhook_url",
				Label:  "Incoming webhook URL",
				Type:   providers.SettingURL,
				Secret: true,
				// Tests reach fakes through api_base_url, so the pattern can
				// stay as strict as the reference's.
				Pattern:     regexp.MustCompile(`^https://hooks\.slack\.com/(services|workflows)/.+$`),
				Description: "Slack incoming webhook used to post when no access token is set.",
			},
			{
				Key:         "username",
				Label:       "Bot name",
				Type:        providers.SettingString,
				Description: "Display name of the bot's messages; empty means the forum's title.",
			},
			{
				Key:         "icon_url",
				Label:       "Icon path",
				Type:        providers.SettingString,
				Description: "Path on the forum of the bot's avatar; empty means the forum's small logo.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "transcript_quote",
				Label:       "Quote transcripts",
				Type:        providers.SettingBool,
				Default:     true,
				Description: "Wrap transcripts posted to the forum in a quote.",
			},
			{
				Key:         "signing_secret",
				Label:       "Signing secret",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Secret Slack uses to sign slash commands, interactivity and Events API requests.",
			},
			{
				Key:         "app_token",
				Label:       "App-level token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "App-level token (xapp-…) with connections:write, used to listen over Socket Mode without a public URL.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "slack", the identifier stored with every Slack channel.
func (p *Provider) ID() string { return "slack" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Slack" }

// Params returns the single channel parameter, the channel identifier. The
// slice is a copy, so callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// ValidateSettings refuses to enable Slack without a way to deliver, as the
// reference's enabled-setting validator does: either an incoming webhook URL
// or a bot access token must be set. A disabled provider may be saved
// half-configured so an admin can fill it in over several steps.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	if nonEmpty(settings["outbound_webhook_url"]) || nonEmpty(settings["access_token"]) {
		return nil
	}
	return &providers.FieldError{
		Field:   "settings",
		Message: "You must enter either an outbound webhook URL, or an access token",
	}
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}
