// Package gitter is the Gitter provider: its channel parameters, its
// provider settings, and the delivery of notifications.
//
// Since December 2020 every public Gitter room is a Matrix room on the
// gitter.im homeserver (gitter.im/org/repo is #org_repo:gitter.im), and in
// February 2023 the legacy Gitter API and its activity webhooks were shut
// down for gitter.im. So the default transport is Matrix, through the
// matrix package's Client (one Matrix implementation for both providers):
// a channel names a Gitter room, "org/repo", which is mapped to the alias
// "#org_repo:<matrix_server_name>", or a Matrix room id or alias directly,
// and the bot posts there as any Matrix bot does, with threads, edits and
// redactions.
//
// Each channel may instead choose the legacy transport, for self-hosted
// Gitter installs that still run the old API:
//
//   - with webhook_url set, the room's "Custom" activity-feed integration,
//     a form POST of message=<markdown>, as the reference sent it;
//   - otherwise the REST API at legacy_api_url with the bot token
//     legacy_token: POST /v1/rooms/:roomId/chatMessages, edits with PUT and
//     deletions with DELETE on …/chatMessages/:id. A room name is turned
//     into the room's id with POST /v1/rooms {"uri"} (which also joins the
//     bot) and cached; a 24-hex legacy room id is used as it is.
//
// The reference's channel had a name and a webhooks.gitter.im URL. This
// one keeps both keys and adds the room and the transport. Every
// parameter is required by the admin API, so webhook_url, which only the
// activity-feed transport uses, accepts an empty value; ValidateChannel
// checks the combinations a pattern cannot.
//
// api_base_url replaces the origin of whichever transport a channel uses:
// the Matrix homeserver, the legacy API, or the webhook's scheme and host
// (its path, which identifies the hook, is kept).
package gitter

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/matrix"
)

var (
	_ providers.Provider          = (*Provider)(nil)
	_ providers.SettingsValidator = (*Provider)(nil)
	_ providers.Notifier          = (*Provider)(nil)
	_ providers.Threader          = (*Provider)(nil)
	_ providers.Editor            = (*Provider)(nil)
	_ providers.ChannelTester     = (*Provider)(nil)
)

// Error keys the Gitter provider records on a channel. The reference has
// none for Gitter (any failure was chat_integration.channel_exception);
// these follow the Matrix provider's and need translations in the admin
// UI.
const (
	// KeyUnknownToken: the Matrix access token or the legacy token was
	// rejected.
	KeyUnknownToken = "chat_integration.provider.gitter.errors.unknown_token"
	// KeyUnknownRoom: the room (or its alias) does not exist.
	KeyUnknownRoom = "chat_integration.provider.gitter.errors.unknown_room"
	// KeyForbidden: the bot may not post in or join the room.
	KeyForbidden = "chat_integration.provider.gitter.errors.forbidden"
	// KeyNotInRoom: the channel test found the bot outside the Matrix room.
	KeyNotInRoom = "chat_integration.provider.gitter.errors.not_in_room"
	// KeyInvalidWebhook: the activity webhook does not exist or was
	// refused.
	KeyInvalidWebhook = "chat_integration.provider.gitter.errors.invalid_webhook"
	// KeyNotConfigured: the transport's settings are missing (a Matrix
	// access token; the legacy API URL and token), or the channel combines
	// parameters that do not go together.
	KeyNotConfigured = "chat_integration.provider.gitter.errors.not_configured"
)

// Defaults of the settings.
const (
	// DefaultHomeserver is the client-server API of the gitter.im
	// homeserver, where the accounts people sign in to at app.gitter.im
	// (with GitHub or GitLab) live; the access token shown in that app's
	// settings belongs there. A bot account on any other homeserver
	// reaches gitter.im rooms over federation: set homeserver to it.
	DefaultHomeserver = "https://gitter.ems.host"
	// DefaultServerName is the Matrix server name in Gitter room aliases.
	DefaultServerName = "gitter.im"
)

// The values of the transport parameter.
const (
	TransportMatrix = "matrix"
	TransportLegacy = "legacy"
)

// extraTransport is the Receipt.Extra key of the transport a message was
// sent through, so that an edit never sends one system's message id to
// the other after an admin switched the channel.
const extraTransport = "transport"

// Options are the Gitter provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because
	// it has no timeout.
	HTTPClient *http.Client
}

// Provider is Gitter. Build it with New; the zero value has no
// parameters, settings or client. Its configuration is immutable after
// New and its caches are guarded, so it is safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	http     *http.Client
	matrix   *matrix.Client
	// roomName is the pattern of a Gitter room name.
	roomName *regexp.Regexp
	// legacyID is the pattern of a legacy room id (24 hex digits).
	legacyID *regexp.Regexp

	mu    sync.Mutex
	rooms map[string]string // legacy API + " " + room name → room id
}

// New returns the Gitter provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	const roomName = `[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*`
	return &Provider{
		http: client,
		matrix: matrix.NewClient(matrix.ClientOptions{
			HTTPClient: client,
			Platform:   "Gitter",
			Keys: matrix.Keys{
				UnknownToken:  KeyUnknownToken,
				UnknownRoom:   KeyUnknownRoom,
				Forbidden:     KeyForbidden,
				NotInRoom:     KeyNotInRoom,
				NotConfigured: KeyNotConfigured,
			},
		}),
		roomName: regexp.MustCompile(`^` + roomName + `$`),
		legacyID: regexp.MustCompile(`^[0-9a-f]{24}$`),
		rooms:    make(map[string]string),
		params: []providers.Param{
			{
				Key:     "name",
				Label:   "Name",
				Pattern: regexp.MustCompile(`^\S+$`),
				Unique:  true,
				Example: "announcements",
			},
			{
				Key:   "room",
				Label: "Room",
				// A Gitter room name (org/repo, as in gitter.im URLs), which
				// the Matrix transport maps to #org_repo:gitter.im; or a
				// Matrix room id or alias (the matrix package's pattern,
				// room version 12 ids included); or, for the legacy REST
				// API, a 24-hex room id, which the room-name branch already
				// matches. Rooms are public and not secret.
				Pattern: regexp.MustCompile(`^(![A-Za-z0-9_-]{43}|[!#]\S+:\S+|` + roomName + `)$`),
				Unique:  true,
				Example: "gitterHQ/services",
			},
			{
				Key:   "transport",
				Label: "Transport",
				// matrix for gitter.im and any Matrix room; legacy for a
				// self-hosted Gitter that still runs the old API.
				Pattern: regexp.MustCompile(`^(matrix|legacy)$`),
				Example: TransportMatrix,
			},
			{
				Key:   "webhook_url",
				Label: "Activity webhook URL (legacy)",
				// The reference's parameter, for the legacy transport's
				// activity-feed integration; empty for every other
				// channel. The reference only allowed
				// https://webhooks.gitter.im/e/…, which is gone; a
				// self-hosted install serves the same /e/<hook> path on
				// its own host. The hook id lets anyone post, so the URL
				// is a secret.
				Pattern: regexp.MustCompile(`^(https://[^/\s]+(/\S*)?/e/[^/\s]+)?$`),
				Unique:  true,
				Secret:  true,
				Example: "https://webhooks.gitter.im/e/0123456789abcdef0123",
			},
		},
		settings: []providers.Setting{
			{
				Key:         "homeserver",
				Label:       "Matrix homeserver",
				Type:        providers.SettingURL,
				Default:     DefaultHomeserver,
				Description: "Client-server API of the homeserver the bot's Matrix account lives on (gitter.im accounts: https://gitter.ems.host).",
			},
			{
				Key:         "access_token",
				Label:       "Access token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Access token of the bot's Matrix account, sent as a Bearer token.",
			},
			{
				Key:   "matrix_server_name",
				Label: "Gitter server name",
				Type:  providers.SettingString,
				// A Matrix server name: a host name or IP literal with an
				// optional port.
				Pattern:     regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`),
				Default:     DefaultServerName,
				Description: "Matrix server name in the aliases of Gitter rooms: org/repo is #org_repo:<server name>.",
			},
			providers.ExcerptLengthSetting(400),
			{
				Key:         "legacy_api_url",
				Label:       "Legacy Gitter API URL",
				Type:        providers.SettingURL,
				Description: "Base URL of a self-hosted legacy Gitter API, without /v1; used by channels with the legacy transport and no webhook.",
			},
			{
				Key:         "legacy_token",
				Label:       "Legacy Gitter token",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Bot token for the self-hosted legacy Gitter API.",
			},
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "gitter", the identifier stored with every Gitter channel.
func (p *Provider) ID() string { return "gitter" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Gitter" }

// Params returns a label, the room, the transport and the legacy activity
// webhook. The slice is a copy, so callers may not change the provider
// through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// ValidateSettings checks the settings that only work together: the legacy
// API needs both its URL and its token. Nothing is required to enable
// Gitter, since a channel on a legacy activity webhook needs no setting;
// a Matrix channel without an access token fails with KeyNotConfigured.
// A disabled provider may be saved half-configured.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	apiURL, token := nonEmpty(settings["legacy_api_url"]), nonEmpty(settings["legacy_token"])
	switch {
	case apiURL && !token:
		return &providers.FieldError{Field: "settings.legacy_token", Message: "The legacy Gitter API needs a token as well as its URL"}
	case token && !apiURL:
		return &providers.FieldError{Field: "settings.legacy_api_url", Message: "The legacy Gitter API needs its URL as well as a token; api.gitter.im was shut down in 2023"}
	}
	return nil
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

// ValidateChannel checks the combinations of a channel's parameters that
// each parameter's pattern cannot: an activity webhook belongs to the
// legacy transport, and the legacy transport takes a Gitter room name or
// a legacy room id, not a Matrix room. It returns a *providers.FieldError
// naming the parameter under "data.". The admin API does not call it yet
// (it would through an optional interface); Notify does, so such a
// channel fails with KeyNotConfigured without sending anything.
func (p *Provider) ValidateChannel(data map[string]string) error {
	room := data["room"]
	switch transportOf(data) {
	case TransportMatrix:
		if data["webhook_url"] != "" {
			return &providers.FieldError{Field: "data.webhook_url", Message: "An activity webhook is only used by the legacy transport; set transport to legacy or leave the URL empty"}
		}
	case TransportLegacy:
		if !p.roomName.MatchString(room) {
			return &providers.FieldError{Field: "data.room", Message: "The legacy transport takes a Gitter room name (org/repo) or a legacy room id, not a Matrix room"}
		}
	default:
		return &providers.FieldError{Field: "data.transport", Message: "The transport is matrix or legacy"}
	}
	return nil
}

// transportOf returns the channel's transport; channels saved before the
// parameter existed have none and use Matrix.
func transportOf(data map[string]string) string {
	if t := data["transport"]; t != "" {
		return t
	}
	return TransportMatrix
}

// mode is how a target reaches Gitter.
type mode int

const (
	modeMatrix  mode = iota // Matrix client-server API
	modeREST                // legacy REST API
	modeWebhook             // legacy activity-feed webhook
)

func (m mode) transport() string {
	if m == modeMatrix {
		return TransportMatrix
	}
	return TransportLegacy
}

// modeOf checks t's channel and returns its transport.
func (p *Provider) modeOf(t *providers.Target) (mode, error) {
	if err := p.ValidateChannel(t.Data); err != nil {
		return 0, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the channel is not usable: %v", err)
	}
	switch {
	case transportOf(t.Data) == TransportMatrix:
		return modeMatrix, nil
	case t.Data["webhook_url"] != "":
		return modeWebhook, nil
	}
	return modeREST, nil
}

// destination is the Matrix room of t: the room name mapped to its alias
// on the Gitter server, at the configured homeserver (or api_base_url).
func (p *Provider) destination(t *providers.Target) (matrix.Destination, error) {
	token := strings.TrimSpace(t.Settings.String("access_token"))
	if token == "" {
		return matrix.Destination{}, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"Gitter rooms are Matrix rooms: the Matrix transport needs an access token")
	}
	server := serverName(t.Settings)
	return matrix.Destination{
		Session:   matrix.Session{Homeserver: matrix.Homeserver(t.Settings, DefaultHomeserver), Token: token},
		Room:      RoomAlias(t.Data["room"], server),
		Via:       []string{server},
		ChannelID: t.ChannelID,
		// Bot output, as the Matrix provider sends by default.
		Notice:        true,
		ExcerptLength: t.Settings.Int("excerpt_length", 400),
	}, nil
}

func serverName(s providers.Settings) string {
	if name := strings.TrimSpace(s.String("matrix_server_name")); name != "" {
		return name
	}
	return DefaultServerName
}

// RoomAlias returns the Matrix room of a Gitter room: a Matrix room id or
// alias as it is, and a Gitter room name "org/repo" as the alias
// "#org_repo:<server>", the form gitter.im has given every room since its
// move to Matrix.
func RoomAlias(room, server string) string {
	if strings.HasPrefix(room, "!") || strings.HasPrefix(room, "#") {
		return room
	}
	return "#" + strings.ReplaceAll(room, "/", "_") + ":" + server
}

// Notify posts n to the channel's room through its transport.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	m, err := p.modeOf(t)
	if err != nil {
		return nil, err
	}
	var r *providers.Receipt
	switch m {
	case modeMatrix:
		d, derr := p.destination(t)
		if derr != nil {
			return nil, derr
		}
		r, err = p.matrix.Notify(ctx, d, n)
	case modeREST:
		r, err = p.postREST(ctx, t, n)
	default:
		// An activity webhook returns nothing to edit or thread on.
		if err := p.postWebhook(ctx, t, n); err != nil {
			return nil, err
		}
		return &providers.Receipt{}, nil
	}
	if err != nil {
		return nil, err
	}
	if r.Extra == nil {
		r.Extra = map[string]string{}
	}
	r.Extra[extraTransport] = m.transport()
	return r, nil
}

// Threads reports whether t can reply into threads: only through Matrix.
func (p *Provider) Threads(t *providers.Target) bool {
	m, err := p.modeOf(t)
	return err == nil && m == modeMatrix
}

// Edit replaces the message r names with n's content: an m.replace edit on
// Matrix, a PUT on the legacy REST API. A webhook message has no id and
// cannot be changed.
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	m, err := p.editable(t, r)
	if err != nil {
		return err
	}
	if m == modeMatrix {
		d, err := p.destination(t)
		if err != nil {
			return err
		}
		return p.matrix.Edit(ctx, d, r, n)
	}
	return p.editREST(ctx, t, r, n)
}

// Delete removes the message r names: a redaction on Matrix, a DELETE on
// the legacy REST API.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	m, err := p.editable(t, r)
	if err != nil {
		return err
	}
	if m == modeMatrix {
		d, err := p.destination(t)
		if err != nil {
			return err
		}
		return p.matrix.Delete(ctx, d, r)
	}
	return p.deleteREST(ctx, t, r)
}

// editable returns the transport to change r through, or why r cannot be
// changed: it has no message id (an activity webhook), or it was sent
// through the other transport than the channel's current one.
func (p *Provider) editable(t *providers.Target, r *providers.Receipt) (mode, error) {
	if r == nil || r.MessageID == "" {
		return 0, providers.Permanent("", nil, "the message has no Gitter id; activity webhook messages cannot be changed")
	}
	m, err := p.modeOf(t)
	if err != nil {
		return 0, err
	}
	if m == modeWebhook {
		return 0, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "changing a Gitter message needs the Matrix transport or the legacy REST API")
	}
	if sent := r.Extra[extraTransport]; sent != "" && sent != m.transport() {
		return 0, providers.Permanent("", nil, "the message was sent through the %s transport, and the channel now uses %s", sent, m.transport())
	}
	return m, nil
}

// TestChannel checks the channel without posting: the Matrix token, room
// and membership; the legacy token (GET /v1/user/me); an activity webhook
// cannot be checked without posting, so only its configuration is.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	m, err := p.modeOf(t)
	if err != nil {
		return err
	}
	switch m {
	case modeMatrix:
		d, err := p.destination(t)
		if err != nil {
			return err
		}
		return p.matrix.TestRoom(ctx, d)
	case modeREST:
		return p.testREST(ctx, t)
	}
	return nil
}
