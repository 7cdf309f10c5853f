// Package rocketchat is the Rocket.Chat provider: its channel parameter,
// its provider settings, and the delivery of notifications.
//
// Rocket.Chat can be reached in two ways:
//
//   - As in the reference, through one site-wide incoming integration
//     (webhook_url) whose channel is overridden per message, with the
//     reference's Slack-style attachment. The integration must allow
//     overriding the destination channel. It returns no message id, so its
//     messages cannot be threaded on, edited or deleted.
//   - New here, through the REST API (chat.postMessage) as a bot user,
//     authenticated with the X-User-Id and X-Auth-Token headers (server_url,
//     user_id and auth_token, a personal access token). It is preferred
//     when configured, as the reference prefers Slack's API to its webhook.
//     It returns the message id and room id, which give threads (tmid),
//     edits (chat.update) and deletions (chat.delete).
//
// chat.update replaces a message's text and nothing else, so a message
// sent through the REST API is Markdown text rather than an attachment:
// an edit then shows exactly what a new message would.
//
// Either way the identifier is "#channel" or "@user", as Rocket.Chat takes
// both. api_base_url replaces server_url for the REST API and the origin of
// the webhook URL (its path, which holds the integration's token, is kept);
// this is how tests reach a fake.
//
// Error keys recorded on a channel are the Key* constants; only
// KeyInvalidChannel is the reference's.
package rocketchat

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

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

// Error keys the Rocket.Chat provider records on a channel. The first is
// the reference's (client.en.yml); the others are the sidecar's and need
// translations in the admin UI.
const (
	// KeyInvalidChannel: the room or user does not exist
	// (Rocket.Chat's "invalid-channel").
	KeyInvalidChannel = "chat_integration.provider.rocketchat.errors.invalid_channel"
	// KeyInvalidToken: the user id and token, or the integration URL, were
	// rejected.
	KeyInvalidToken = "chat_integration.provider.rocketchat.errors.invalid_token"
	// KeyForbidden: the credentials are valid but may not post there (not
	// a member of a private room, read-only room, muted).
	KeyForbidden = "chat_integration.provider.rocketchat.errors.forbidden"
	// KeyNotConfigured: neither way to deliver is configured, or a URL
	// setting does not parse.
	KeyNotConfigured = "chat_integration.provider.rocketchat.errors.not_configured"
)

// extraRoom is the Receipt.Extra key of the room id Rocket.Chat resolved
// when posting; chat.update and chat.delete need the id, not a name.
const extraRoom = "room_id"

// Options are the Rocket.Chat provider's dependencies.
type Options struct {
	// HTTPClient sends every request to Rocket.Chat. nil means a client
	// from providers.NewHTTPClient; http.DefaultClient is never used
	// because it has no timeout.
	HTTPClient *http.Client
	// NowFunc is the clock a rate limit's reset time is measured against
	// (Rocket.Chat sends the time it resets, not a wait). nil means
	// time.Now.
	NowFunc func() time.Time
}

// Provider is Rocket.Chat. Build it with New; the zero value has no
// parameters, settings or client. It is immutable after New and therefore
// safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
	now      func() time.Time
}

// New returns the Rocket.Chat provider. The regular expressions are
// compiled here, once, rather than in package variables, so that importing
// the package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	now := opts.NowFunc
	if now == nil {
		now = time.Now
	}
	return &Provider{
		client: client,
		now:    now,
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
				Key:    "webhook_url",
				Label:  "Incoming webhook URL",
				Type:   providers.SettingURL,
				Secret: true,
				// Rocket.Chat serves integrations at
				// <site>/hooks/<integration id>/<token>.
				Pattern:     regexp.MustCompile(`^https?://[^\s/]+(/\S*)?/hooks/[^\s/]+/\S+$`),
				Description: "Site-wide Rocket.Chat incoming integration URL; the integration must allow overriding the channel.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "server_url",
				Label:       "Server URL",
				Type:        providers.SettingURL,
				Description: "Base URL of the Rocket.Chat server, for REST API calls as the bot user.",
			},
			{
				Key:         "user_id",
				Label:       "Bot user id",
				Type:        providers.SettingString,
				Pattern:     regexp.MustCompile(`^\S+$`),
				Description: "User id of the bot account, sent as X-User-Id with every REST API call.",
			},
			{
				Key:         "auth_token",
				Label:       "Bot access token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Personal access token of the bot account, sent as X-Auth-Token; with it messages thread and follow edits.",
			},
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

// restSetting is one of the settings the REST API needs, all of them.
type restSetting struct{ key, label string }

func restSettings() []restSetting {
	return []restSetting{
		{"server_url", "a server URL"},
		{"user_id", "a bot user id"},
		{"auth_token", "a bot access token"},
	}
}

// ValidateSettings refuses to enable Rocket.Chat without a way to deliver:
// an incoming webhook URL, or a server URL, user id and token. A partly
// entered REST configuration names what is missing, since it can never
// work. A disabled provider may be saved half-configured so an admin can
// fill it in over several steps.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	rest := restSettings()
	set := 0
	for _, s := range rest {
		if nonEmpty(settings[s.key]) {
			set++
		}
	}
	if set > 0 && set < len(rest) {
		for _, s := range rest {
			if !nonEmpty(settings[s.key]) {
				return &providers.FieldError{Field: "settings." + s.key, Message: "The REST API also needs " + s.label}
			}
		}
	}
	if set == len(rest) || nonEmpty(settings["webhook_url"]) {
		return nil
	}
	return &providers.FieldError{
		Field:   "settings",
		Message: "You must enter either an incoming webhook URL, or a server URL, a bot user id and a bot access token",
	}
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

// mode is how a target reaches Rocket.Chat.
type mode int

const (
	modeNone    mode = iota // neither way is configured
	modeAPI                 // REST API as the bot user
	modeWebhook             // incoming integration
)

// modeOf prefers the REST API when it is fully configured.
func modeOf(t *providers.Target) mode {
	set := func(k string) bool { return strings.TrimSpace(t.Settings.String(k)) != "" }
	switch {
	case (set("server_url") || set("api_base_url")) && set("user_id") && set("auth_token"):
		return modeAPI
	case set("webhook_url"):
		return modeWebhook
	}
	return modeNone
}

func errNotConfigured() error {
	return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
		"Rocket.Chat needs an incoming webhook URL, or a server URL, a bot user id and a bot access token")
}

// Notify posts n to the target's channel through the REST API when it is
// configured, and through the incoming webhook otherwise. Only the REST
// API returns a Receipt with a MessageID; a webhook's Receipt is empty,
// which rules out threads and edits.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	switch modeOf(t) {
	case modeAPI:
		return p.postMessage(ctx, t, n)
	case modeWebhook:
		return p.postWebhook(ctx, t, n)
	}
	return nil, errNotConfigured()
}

// Threads reports whether t can reply into threads: only through the REST
// API, since an incoming webhook returns no message id to thread on.
func (p *Provider) Threads(t *providers.Target) bool { return modeOf(t) == modeAPI }

// Edit replaces the text of the message r names with n's (chat.update).
// It needs the REST API and a receipt with a MessageID and room id;
// without them it fails permanently and sends nothing.
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	room, err := editable(t, r)
	if err != nil {
		return err
	}
	_, err = p.call(ctx, t, http.MethodPost, "chat.update", nil,
		update{RoomID: room, MsgID: r.MessageID, Text: formatText(n, optionsFor(t, n, modeAPI))}, false)
	return err
}

// Delete removes the message r names (chat.delete). Like Edit it needs
// the REST API, a MessageID and a room id.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	room, err := editable(t, r)
	if err != nil {
		return err
	}
	_, err = p.call(ctx, t, http.MethodPost, "chat.delete", nil, remove{RoomID: room, MsgID: r.MessageID}, false)
	return err
}

// editable returns the room id to change r in, or why r cannot be changed.
func editable(t *providers.Target, r *providers.Receipt) (string, error) {
	if r == nil || r.MessageID == "" {
		return "", providers.Permanent("", nil, "the message has no Rocket.Chat id; messages sent through an incoming webhook cannot be changed")
	}
	if modeOf(t) != modeAPI {
		return "", providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"changing a Rocket.Chat message needs a server URL, a bot user id and a bot access token")
	}
	room := r.Extra[extraRoom]
	if room == "" {
		return "", providers.Permanent("", nil, "the receipt has no Rocket.Chat room id")
	}
	return room, nil
}

// TestChannel checks the credentials (GET /api/v1/me) and that the room or
// user exists (rooms.info or users.info), posting nothing. An incoming
// webhook cannot be checked without posting, so for one only the
// configuration is checked and no request is sent.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	switch modeOf(t) {
	case modeAPI:
		if _, err := p.call(ctx, t, http.MethodGet, "me", nil, nil, false); err != nil {
			return err
		}
		id := t.Data["identifier"]
		q := make(map[string]string, 1)
		method := "rooms.info"
		if name, ok := strings.CutPrefix(id, "@"); ok {
			method, q["username"] = "users.info", name
		} else {
			q["roomName"] = strings.TrimPrefix(id, "#")
		}
		_, err := p.call(ctx, t, http.MethodGet, method, q, nil, true)
		return err
	case modeWebhook:
		return nil
	}
	return errNotConfigured()
}
