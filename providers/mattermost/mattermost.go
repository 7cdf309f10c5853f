// Package mattermost is the Mattermost provider: its channel parameter, its
// provider settings, and the delivery of notifications.
//
// Mattermost can be reached in two ways:
//
//   - As in the reference, through one site-wide incoming webhook
//     (webhook_url) whose channel is overridden per message, so a channel is
//     a channel name ("#town-square") or a user ("@alice"). A webhook returns
//     no post id, so its messages cannot be threaded on, edited or deleted.
//   - New here, through the REST API v4 with a bot account's access token
//     (server_url and bot_token). POST /api/v4/posts needs a channel id, and
//     resolving a name would cost a second request per message (and a team
//     setting), so a channel reached this way names the channel by its id:
//     "#" followed by the 26 characters Mattermost shows under the
//     channel's "View Info". The REST API returns the post id, which gives
//     threads (root_id), edits (PUT /api/v4/posts/{id}/patch) and deletions
//     (DELETE /api/v4/posts/{id}).
//
// The identifier decides: "#<channel id>" goes through the REST API when a
// bot token is configured, anything else through the webhook. Both ways can
// be configured at once, so DMs and name-addressed channels keep working
// next to threaded ones.
//
// api_base_url replaces server_url for the REST API and the origin of the
// webhook URL (its path, which holds the webhook's secret id, is kept); this
// is how tests reach a fake.
//
// Error keys recorded on a channel are the Key* constants; only
// KeyChannelNotFound is the reference's.
package mattermost

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider          = (*Provider)(nil)
	_ providers.SettingsValidator = (*Provider)(nil)
	_ providers.Notifier          = (*Provider)(nil)
	_ providers.Threader          = (*Provider)(nil)
	_ providers.Editor            = (*Provider)(nil)
	_ providers.ChannelTester     = (*Provider)(nil)
)

// Error keys the Mattermost provider records on a channel. The first is the
// reference's (client.en.yml); the others are the sidecar's and need
// translations in the admin UI.
const (
	// KeyChannelNotFound: the channel, user or post does not exist
	// (Mattermost's "Couldn't find the channel").
	KeyChannelNotFound = "chat_integration.provider.mattermost.errors.channel_not_found"
	// KeyInvalidToken: the bot token or the incoming webhook was rejected
	// (expired or revoked token, deleted webhook).
	KeyInvalidToken = "chat_integration.provider.mattermost.errors.invalid_token"
	// KeyForbidden: the credentials are valid but may not post there (a
	// bot outside a private channel, a webhook locked to another channel,
	// incoming webhooks disabled on the server).
	KeyForbidden = "chat_integration.provider.mattermost.errors.forbidden"
	// KeyNotConfigured: neither way to deliver is configured for this
	// channel's identifier, or a URL setting does not parse.
	KeyNotConfigured = "chat_integration.provider.mattermost.errors.not_configured"
)

// Options are the Mattermost provider's dependencies.
type Options struct {
	// HTTPClient sends every request to Mattermost. nil means a client
	// from providers.NewHTTPClient; http.DefaultClient is never used
	// because it has no timeout.
	HTTPClient *http.Client
}

// Provider is Mattermost. Build it with New; the zero value has no
// parameters, settings or client. It is immutable after New and therefore
// safe for concurrent use.
type Provider struct {
	params    []providers.Param
	settings  []providers.Setting
	client    *http.Client
	channelID *regexp.Regexp // "#" and a Mattermost id
}

// New returns the Mattermost provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
		// Mattermost ids are 26 characters of lowercase base32.
		channelID: regexp.MustCompile(`^#[a-z0-9]{26}$`),
		params: []providers.Param{{
			Key:   "identifier",
			Label: "Channel (#name or @user; #<channel id> for the REST API)",
			// The reference's pattern: the prefix is required because the
			// webhook's channel override needs it. A channel id for the REST
			// API fits it as "#<id>", so no second parameter is needed.
			Pattern: regexp.MustCompile(`^[@#]\S*$`),
			Unique:  true,
			Example: "#town-square",
		}},
		settings: []providers.Setting{
			{
				Key:    "webhook_url",
				Label:  "Incoming webhook URL",
				Type:   providers.SettingURL,
				Secret: true,
				// Mattermost serves incoming webhooks at <site>/hooks/<id>,
				// possibly under a subpath.
				Pattern:     regexp.MustCompile(`^https?://[^\s/]+(/\S*)?/hooks/[A-Za-z0-9]+$`),
				Description: "Site-wide Mattermost incoming webhook that notifications to #name and @user channels are posted to.",
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
				Description: "URL or forum path of the bot's avatar on webhook posts; empty means the forum's small logo.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "server_url",
				Label:       "Server URL",
				Type:        providers.SettingURL,
				Description: "Base URL of the Mattermost server, for REST API calls with the bot token.",
			},
			{
				Key:         "bot_token",
				Label:       "Bot token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Bot account access token for the REST API, which threads and edits posts.",
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

// ValidateSettings refuses to enable Mattermost without a way to deliver:
// an incoming webhook URL, or a server URL and a bot token. The REST pair
// must be complete, since one without the other can never work. A disabled
// provider may be saved half-configured so an admin can fill it in over
// several steps.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	server, token := nonEmpty(settings["server_url"]), nonEmpty(settings["bot_token"])
	switch {
	case server && !token:
		return &providers.FieldError{Field: "settings.bot_token", Message: "A bot token is needed to use the server URL"}
	case token && !server:
		return &providers.FieldError{Field: "settings.server_url", Message: "A server URL is needed to use the bot token"}
	case server || nonEmpty(settings["webhook_url"]):
		return nil
	}
	return &providers.FieldError{
		Field:   "settings",
		Message: "You must enter either an incoming webhook URL, or a server URL and a bot token",
	}
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

// mode is how a target reaches Mattermost.
type mode int

const (
	modeNone    mode = iota // the identifier has no configured way
	modeAPI                 // REST API v4 with the bot token
	modeWebhook             // incoming webhook
)

// modeOf picks the REST API for "#<channel id>" when a bot token and a
// server are set, and the webhook for anything else when it is set.
func (p *Provider) modeOf(t *providers.Target) mode {
	api := strings.TrimSpace(t.Settings.String("bot_token")) != "" &&
		(strings.TrimSpace(t.Settings.String("server_url")) != "" || strings.TrimSpace(t.Settings.String("api_base_url")) != "")
	if api && p.channelID.MatchString(t.Data["identifier"]) {
		return modeAPI
	}
	if strings.TrimSpace(t.Settings.String("webhook_url")) != "" {
		return modeWebhook
	}
	return modeNone
}

// errNotConfigured explains why the identifier has no way to Mattermost.
func (p *Provider) errNotConfigured(t *providers.Target) error {
	if p.channelID.MatchString(t.Data["identifier"]) {
		return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"Mattermost needs a server URL and a bot token for a channel id, or an incoming webhook URL")
	}
	return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
		"Mattermost needs an incoming webhook URL for a channel name or user; the REST API takes #<channel id>")
}

// Notify posts n to the target's channel through the REST API or the
// incoming webhook (see modeOf). Only the REST API returns a Receipt with
// a MessageID; a webhook's Receipt is empty, which rules out threads and
// edits.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	switch p.modeOf(t) {
	case modeAPI:
		return p.createPost(ctx, t, n)
	case modeWebhook:
		return p.postWebhook(ctx, t, n)
	}
	return nil, p.errNotConfigured(t)
}

// Threads reports whether t can reply into threads: only through the REST
// API, since an incoming webhook returns no post id to thread on.
func (p *Provider) Threads(t *providers.Target) bool { return p.modeOf(t) == modeAPI }

// Edit replaces the post r names with n's content (PUT
// /api/v4/posts/{id}/patch). It needs the REST API and a receipt with a
// MessageID; without either it fails permanently and sends nothing.
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	if err := p.editable(t, r); err != nil {
		return err
	}
	return p.patchPost(ctx, t, r.MessageID, n)
}

// Delete removes the post r names (DELETE /api/v4/posts/{id}). A post
// that is already gone counts as deleted. Like Edit it needs the REST API
// and a MessageID.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	if err := p.editable(t, r); err != nil {
		return err
	}
	return p.deletePost(ctx, t, r.MessageID)
}

// editable returns why r cannot be changed, or nil.
func (p *Provider) editable(t *providers.Target, r *providers.Receipt) error {
	if r == nil || r.MessageID == "" {
		return providers.Permanent("", nil, "the message has no Mattermost post id; messages sent through an incoming webhook cannot be changed")
	}
	if p.modeOf(t) != modeAPI {
		return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"changing a Mattermost post needs a server URL, a bot token and a #<channel id> identifier")
	}
	return nil
}

// TestChannel checks the bot token (GET /api/v4/users/me) and that the
// bot can see the channel (GET /api/v4/channels/{id}), posting nothing.
// An incoming webhook cannot be checked without posting, so for one only
// the configuration is checked and no request is sent.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	switch p.modeOf(t) {
	case modeAPI:
		if err := p.getMe(ctx, t); err != nil {
			return err
		}
		return p.getChannel(ctx, t)
	case modeWebhook:
		return nil
	}
	return p.errNotConfigured(t)
}

// channelIDOf is the channel id of a REST target, the identifier without
// its '#'.
func channelIDOf(t *providers.Target) string {
	return strings.TrimPrefix(t.Data["identifier"], "#")
}

// iconURL resolves the icon_url setting, an absolute URL or a path on the
// forum (the reference's UrlHelper.absolute). Empty means the forum's logo.
func iconURL(setting string, site providers.Site) string {
	switch {
	case setting == "":
		return site.LogoURL
	case strings.HasPrefix(setting, "https://") || strings.HasPrefix(setting, "http://"):
		return setting
	case site.BaseURL == "":
		return ""
	case strings.HasPrefix(setting, "/"):
		return site.BaseURL + setting
	}
	return site.BaseURL + "/" + setting
}
