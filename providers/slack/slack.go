// Package slack is the Slack provider: its channel parameter, its provider
// settings, and the delivery of notifications. Slash commands, Socket Mode
// and transcripts are added later on top of it.
//
// Slack can deliver in two ways, as in the reference: through the Web API
// with a bot token (access_token), which is preferred when set, or through
// an incoming webhook (outbound_webhook_url). One of the two is required
// before the provider can be enabled, which is why this package implements
// providers.SettingsValidator. Only the Web API returns a message ts, so
// only it can reply into threads and edit or delete messages.
//
// api_base_url replaces the platform's public API origin: the Web API is
// reached at <api_base_url>/api/<method> instead of https://slack.com, and
// an incoming webhook's scheme and host are replaced by it (its path, which
// holds the webhook's secret, is kept). This is how tests reach a fake while
// outbound_webhook_url keeps the reference's strict hooks.slack.com pattern.
//
// Error keys recorded on a channel (see the Key* constants) follow the
// reference's chat_integration.provider.slack.errors.* names; failures
// Slack does not explain (invalid_blocks, msg_too_long, …) are permanent
// and keep the generic chat_integration.channel_exception, as the
// reference records no key for them.
package slack

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

// Error keys the Slack provider records on a channel. The first two are
// the reference's (client.en.yml); the others are the sidecar's and need
// translations in the admin UI.
const (
	// KeyChannelNotFound: "The specified channel does not exist on slack".
	// Also used for an archived channel and a removed webhook.
	KeyChannelNotFound = "chat_integration.provider.slack.errors.channel_not_found"
	// KeyActionProhibited: "The bot does not have permission to post to
	// that channel".
	KeyActionProhibited = "chat_integration.provider.slack.errors.action_prohibited"
	// KeyInvalidToken: the access token or the incoming webhook was
	// rejected (revoked, expired, or the app was uninstalled).
	KeyInvalidToken = "chat_integration.provider.slack.errors.invalid_token"
	// KeyNotConfigured: neither an access token nor an incoming webhook
	// URL is set, or api_base_url does not parse.
	KeyNotConfigured = "chat_integration.provider.slack.errors.not_configured"
)

// defaultAPIBase is Slack's public Web API origin.
const defaultAPIBase = "https://slack.com"

// Options are the Slack provider's dependencies.
type Options struct {
	// HTTPClient sends every request to Slack. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because
	// it has no timeout.
	HTTPClient *http.Client
}

// Provider is Slack. Build it with New; the zero value has no parameters,
// settings or client. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Slack provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
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

// mode is how a target reaches Slack.
type mode int

const (
	modeNone    mode = iota // neither way is configured
	modeAPI                 // Web API with the bot token
	modeWebhook             // incoming webhook
)

// modeOf picks the Web API when a token is set, as the reference does, and
// the incoming webhook otherwise.
func modeOf(t *providers.Target) mode {
	switch {
	case strings.TrimSpace(t.Settings.String("access_token")) != "":
		return modeAPI
	case strings.TrimSpace(t.Settings.String("outbound_webhook_url")) != "":
		return modeWebhook
	}
	return modeNone
}

func errNotConfigured() error {
	return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
		"Slack needs an access token or an incoming webhook URL")
}

// Notify posts n to the target's channel through the Web API when an
// access token is set, and through the incoming webhook otherwise. Only
// the Web API returns a Receipt with a MessageID; a webhook's Receipt is
// empty, which rules out threads and edits.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	switch modeOf(t) {
	case modeAPI:
		return p.postMessage(ctx, t, n)
	case modeWebhook:
		return p.postWebhook(ctx, t, n)
	}
	return nil, errNotConfigured()
}

// Threads reports whether t can reply into threads: only through the Web
// API, since an incoming webhook returns no ts to thread on.
func (p *Provider) Threads(t *providers.Target) bool { return modeOf(t) == modeAPI }

// Edit replaces the message r names with n's content (chat.update). It
// needs the Web API and a receipt with a MessageID; without either it
// fails permanently and sends nothing.
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	channel, err := editable(t, r)
	if err != nil {
		return err
	}
	m := format(n, optionsFor(t, n, modeAPI))
	_, err = p.call(ctx, t, "chat.update", update{Channel: channel, TS: r.MessageID, Text: m.Text, Blocks: m.Blocks})
	return err
}

// Delete removes the message r names (chat.delete). A message that is
// already gone counts as deleted. Like Edit it needs the Web API and a
// MessageID.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	channel, err := editable(t, r)
	if err != nil {
		return err
	}
	reply, err := p.call(ctx, t, "chat.delete", remove{Channel: channel, TS: r.MessageID})
	if err != nil && reply != nil && reply.Error == "message_not_found" {
		return nil
	}
	return err
}

// editable returns the channel id to edit r in, or why r cannot be
// edited. The channel Slack resolved at posting time is preferred: the
// identifier may be a name (#general) and chat.update wants an id.
func editable(t *providers.Target, r *providers.Receipt) (string, error) {
	if r == nil || r.MessageID == "" {
		return "", providers.Permanent("", nil, "the message has no Slack ts; messages sent through an incoming webhook cannot be changed")
	}
	if modeOf(t) != modeAPI {
		return "", providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "changing a Slack message needs an access token")
	}
	if c := r.Extra[extraChannel]; c != "" {
		return c, nil
	}
	return apiChannel(t), nil
}

// TestChannel checks the access token with auth.test, which posts nothing.
// An incoming webhook cannot be checked without posting, so for one only
// the configuration is checked and no request is sent.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	switch modeOf(t) {
	case modeAPI:
		_, err := p.call(ctx, t, "auth.test", struct{}{})
		return err
	case modeWebhook:
		return nil
	}
	return errNotConfigured()
}

// optionsFor reads the formatter's options from t: the bot name (default
// the forum's title, as in the reference), the icon (a path on the forum,
// default its logo), the excerpt length, and for the Web API the channel
// without '#' and the thread to reply into when the rule is a thread rule.
func optionsFor(t *providers.Target, n *providers.Notification, m mode) formatOptions {
	o := formatOptions{
		Username:      t.Settings.String("username"),
		IconURL:       iconURL(t.Settings.String("icon_url"), n.Site),
		ExcerptLength: t.Settings.Int("excerpt_length", 400),
	}
	if o.Username == "" {
		o.Username = n.Site.Title
	}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = 400
	}
	switch m {
	case modeAPI:
		o.Channel = apiChannel(t)
		if n.Filter == "thread" {
			o.ThreadTS = n.ThreadID
		}
	default:
		// Legacy webhooks honour the channel as entered; app webhooks
		// ignore it.
		o.Channel = t.Data["identifier"]
	}
	return o
}

// apiChannel is the identifier with every '#' removed, as the reference
// sends it: chat.postMessage takes a name or an id, never "#name".
func apiChannel(t *providers.Target) string {
	return strings.ReplaceAll(t.Data["identifier"], "#", "")
}

// iconURL resolves the icon_url setting, a path on the forum in the
// reference; an absolute URL is accepted as it is. Empty means the
// forum's logo.
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
