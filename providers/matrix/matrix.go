// Package matrix is the Matrix provider: its channel parameters, its
// provider settings, and the delivery of notifications through the
// client-server API. Its transport (Client) is exported because Gitter
// rooms are Matrix rooms: the gitter package reuses it rather than keep a
// second Matrix implementation.
//
// The bot either uses an ordinary account (homeserver plus access_token)
// or runs as an application service on the admin's own homeserver: with
// as_token set and access_token empty, as_token is the Bearer token, as
// the application service API has appservices authenticate, and messages
// come from the registration's sender_localpart user. hs_token is the
// token the homeserver presents when it pushes transactions to the
// sidecar; it is stored here for the push endpoint
// (PUT /_matrix/app/v1/transactions/{txnId}) that arrives with the chat
// listeners, and no request this package sends uses it.
//
// api_base_url replaces the homeserver URL, for tests and for a
// homeserver reached through a proxy.
//
// Every message is an m.room.message (m.notice by default, m.text with
// use_notice off) with a plain body and an org.matrix.custom.html
// formatted_body. The room is a room id or an alias, which is resolved
// once and cached; a bot that is not in the room joins it before its
// first message. Threads use m.thread relations, edits m.replace and
// deletions redactions, so the provider implements providers.Threader,
// providers.Editor and providers.ChannelTester.
package matrix

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

// Error keys the Matrix provider records on a channel. The first two are
// the reference's (client.en.yml); the others are the sidecar's and need
// translations in the admin UI.
const (
	// KeyUnknownToken: "Access token is invalid".
	KeyUnknownToken = "chat_integration.provider.matrix.errors.unknown_token"
	// KeyUnknownRoom: "Room ID is invalid". Also an alias that resolves
	// to nothing.
	KeyUnknownRoom = "chat_integration.provider.matrix.errors.unknown_room"
	// KeyForbidden: the bot may not post in, join or redact in the room
	// (power levels, an invite-only room, a ban).
	KeyForbidden = "chat_integration.provider.matrix.errors.forbidden"
	// KeyNotInRoom: the channel test found the bot outside the room.
	KeyNotInRoom = "chat_integration.provider.matrix.errors.not_in_room"
	// KeyNotConfigured: neither access_token nor as_token is set, or the
	// homeserver URL does not parse.
	KeyNotConfigured = "chat_integration.provider.matrix.errors.not_configured"
)

// DefaultHomeserver is the reference's default homeserver.
const DefaultHomeserver = "https://matrix.org"

// Options are the Matrix provider's dependencies.
type Options struct {
	// HTTPClient sends every request to the homeserver. nil means a
	// client from providers.NewHTTPClient; http.DefaultClient is never
	// used because it has no timeout.
	HTTPClient *http.Client
}

// Provider is Matrix. Build it with New; the zero value has no
// parameters, settings or client. Its configuration is immutable after
// New and its client's alias cache is guarded, so it is safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *Client
}

// New returns the Matrix provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	return &Provider{
		client: NewClient(ClientOptions{
			HTTPClient: opts.HTTPClient,
			Platform:   "Matrix",
			Keys: Keys{
				UnknownToken:  KeyUnknownToken,
				UnknownRoom:   KeyUnknownRoom,
				Forbidden:     KeyForbidden,
				NotInRoom:     KeyNotInRoom,
				NotConfigured: KeyNotConfigured,
			},
		}),
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
				// transport, and so are the room ids of room version 12
				// (spec v1.16), which are "!" and 43 unpadded URL-safe
				// base64 characters without a server part. The reference
				// marks the field hidden, which only kept it off the
				// channel card: a room id grants nothing, so it is not
				// secret.
				Pattern: RoomPattern(),
				Unique:  true,
				Example: "!cURbafjkfsMDVwdRDQ:matrix.org",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "homeserver",
				Label:       "Homeserver",
				Type:        providers.SettingURL,
				Default:     DefaultHomeserver,
				Description: "Base URL of the client-server API of the homeserver the bot account lives on.",
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
			providers.ExcerptLengthSetting(defaultExcerptLength),
			{
				Key:         "as_token",
				Label:       "Application service token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Token the sidecar presents to the homeserver when it runs as an application service; used when no access token is set.",
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

// RoomPattern returns the pattern of a Matrix room id or alias: an alias
// or a room id of room versions 1–11 ("#name:server", "!opaque:server"),
// or a room id of room version 12 ("!" and 43 URL-safe base64
// characters). It is exported for Gitter, whose rooms may be named the
// same way.
func RoomPattern() *regexp.Regexp {
	return regexp.MustCompile(RoomPatternSource)
}

// RoomPatternSource is RoomPattern's expression, for patterns that embed
// it.
const RoomPatternSource = `^(![A-Za-z0-9_-]{43}|[!#]\S+:\S+)$`

// ID returns "matrix", the identifier stored with every Matrix channel.
func (p *Provider) ID() string { return "matrix" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Matrix" }

// Params returns a label and the room. The slice is a copy, so callers may
// not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// ValidateSettings refuses to enable Matrix without a token to send with:
// an access token, or the as_token of an application service
// registration. hs_token alone is half a registration, refused too. A
// disabled provider may be saved half-configured so an admin can fill it
// in over several steps.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	if nonEmpty(settings["hs_token"]) && !nonEmpty(settings["as_token"]) {
		return &providers.FieldError{
			Field:   "settings.as_token",
			Message: "An application service registration has an as_token as well as an hs_token; enter both",
		}
	}
	if !nonEmpty(settings["access_token"]) && !nonEmpty(settings["as_token"]) {
		return &providers.FieldError{
			Field:   "settings.access_token",
			Message: "You must enter an access token, or the as_token of an application service registration",
		}
	}
	return nil
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

// destination reads t: the homeserver (api_base_url over homeserver), the
// token (access_token, else as_token) and the room.
func (p *Provider) destination(t *providers.Target) (Destination, error) {
	token := strings.TrimSpace(t.Settings.String("access_token"))
	if token == "" {
		token = strings.TrimSpace(t.Settings.String("as_token"))
	}
	if token == "" {
		return Destination{}, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"Matrix needs an access token or an application service token")
	}
	room := strings.TrimSpace(t.Data["room_id"])
	if room == "" {
		return Destination{}, providers.Permanent(KeyUnknownRoom, providers.ErrChannelNotFound, "the channel has no Matrix room")
	}
	return Destination{
		Session:       Session{Homeserver: Homeserver(t.Settings, DefaultHomeserver), Token: token},
		Room:          room,
		ChannelID:     t.ChannelID,
		Notice:        t.Settings.Bool("use_notice", true),
		ExcerptLength: t.Settings.Int("excerpt_length", defaultExcerptLength),
	}, nil
}

// Homeserver returns the base URL requests go to: api_base_url when set,
// else the homeserver setting, else def.
func Homeserver(s providers.Settings, def string) string {
	if base := strings.TrimSpace(s.String("api_base_url")); base != "" {
		return base
	}
	if hs := strings.TrimSpace(s.String("homeserver")); hs != "" {
		return hs
	}
	return def
}

// Notify posts n to the channel's room and returns the event id, the
// thread root and the room id.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	d, err := p.destination(t)
	if err != nil {
		return nil, err
	}
	return p.client.Notify(ctx, d, n)
}

// Threads reports true: every Matrix room has threads (m.thread).
func (p *Provider) Threads(*providers.Target) bool { return true }

// Edit replaces the message r names with n's content (m.replace).
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	d, err := p.destination(t)
	if err != nil {
		return err
	}
	return p.client.Edit(ctx, d, r, n)
}

// Delete redacts the message r names.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	d, err := p.destination(t)
	if err != nil {
		return err
	}
	return p.client.Delete(ctx, d, r)
}

// TestChannel checks the token, the room and the bot's membership
// without posting (see Client.TestRoom).
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	d, err := p.destination(t)
	if err != nil {
		return err
	}
	return p.client.TestRoom(ctx, d)
}
