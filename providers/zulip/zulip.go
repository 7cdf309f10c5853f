// Package zulip is the Zulip provider: its channel parameters, its provider
// settings, and the delivery of notifications.
//
// A channel is a stream and a subject (Zulip's topic), as in the
// reference; the bot authenticates with HTTP Basic auth, its email address
// and API key. Messages are sent with POST /api/v1/messages, form-encoded,
// and Zulip returns the message id, so forum edits and deletions follow
// (PATCH and DELETE /api/v1/messages/{id}).
//
// Zulip's threads are its topics: every stream message names one, and a
// topic is found by name, not rooted in a first message. The provider is
// a providers.Threader whose thread id is the topic's name: the receipt's
// ThreadID is the topic the message went to, and a "thread" rule with a
// known thread (Notification.ThreadID) posts into that topic. A thread
// rule without one starts the forum topic's own Zulip topic, named after
// its title (cut to Zulip's 60 characters); with topic_per_forum_topic set
// every notification goes there, the issue's "one Zulip topic per forum
// topic"; otherwise a notification goes to the channel's subject. A known
// thread wins over the title, so a renamed forum topic stays in the Zulip
// topic it started.
//
// api_base_url replaces the server setting; this is how tests reach a
// fake.
//
// Error keys recorded on a channel are the Key* constants; only
// KeyDoesNotExist is the reference's.
package zulip

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

// Error keys the Zulip provider records on a channel. The first is the
// reference's (client.en.yml); the others are the sidecar's and need
// translations in the admin UI.
const (
	// KeyDoesNotExist: the stream does not exist or the bot cannot see it
	// (Zulip's STREAM_DOES_NOT_EXIST, "Stream 'x' does not exist").
	KeyDoesNotExist = "chat_integration.provider.zulip.errors.does_not_exist"
	// KeyUnauthorized: the bot's email address or API key was rejected, or
	// the bot or organization is deactivated.
	KeyUnauthorized = "chat_integration.provider.zulip.errors.unauthorized"
	// KeyForbidden: the bot may not post there (an announcement-only
	// stream, a private stream it is not subscribed to).
	KeyForbidden = "chat_integration.provider.zulip.errors.forbidden"
	// KeyNotConfigured: the server, email address or API key is missing,
	// or the server URL names no Zulip organization.
	KeyNotConfigured = "chat_integration.provider.zulip.errors.not_configured"
)

// TopicMaxRunes is the longest topic Zulip keeps (MAX_TOPIC_NAME_LENGTH);
// longer topics are cut here, with "…", so the name is predictable.
const TopicMaxRunes = 60

// Options are the Zulip provider's dependencies.
type Options struct {
	// HTTPClient sends every request to Zulip. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because
	// it has no timeout.
	HTTPClient *http.Client
	// NowFunc is the clock a rate limit's X-RateLimit-Reset (an epoch
	// time) is measured against, when Zulip sends no Retry-After. nil
	// means time.Now.
	NowFunc func() time.Time
}

// Provider is Zulip. Build it with New; the zero value has no parameters,
// settings or client. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
	now      func() time.Time
}

// New returns the Zulip provider. The regular expressions are compiled here,
// once, rather than in package variables, so that importing the package has
// no side effects.
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
				Key:   "subject",
				Label: "Subject",
				// The Zulip topic, unless topics follow forum topics.
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
				Pattern:     regexp.MustCompile(`^[^\s@]+@[^\s@]+$`),
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
			{
				Key:         "topic_per_forum_topic",
				Label:       "One Zulip topic per forum topic",
				Type:        providers.SettingBool,
				Default:     false,
				Description: "Post each forum topic's notifications to a Zulip topic named after it instead of the channel's subject.",
			},
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

// ValidateSettings refuses to enable Zulip without the server, the bot's
// email address and its API key, which every request needs. A disabled
// provider may be saved half-configured so an admin can fill it in over
// several steps.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	for _, s := range []struct{ key, label string }{
		{"server", "a server URL"},
		{"bot_email_address", "the bot's email address"},
		{"bot_api_key", "the bot's API key"},
	} {
		if v, _ := settings[s.key].(string); strings.TrimSpace(v) == "" {
			return &providers.FieldError{Field: "settings." + s.key, Message: "Zulip needs " + s.label}
		}
	}
	return nil
}

// configured reports whether t has what every request needs.
func configured(t *providers.Target) bool {
	set := func(k string) bool { return strings.TrimSpace(t.Settings.String(k)) != "" }
	return (set("server") || set("api_base_url")) && set("bot_email_address") && set("bot_api_key")
}

func errNotConfigured() error {
	return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
		"Zulip needs a server URL, the bot's email address and its API key")
}

// Notify sends n to the channel's stream, in the channel's subject, the
// forum topic's own Zulip topic or the thread n names (see topicFor), and
// returns the message id for edits and the topic as the thread.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	if !configured(t) {
		return nil, errNotConfigured()
	}
	return p.sendMessage(ctx, t, n)
}

// Threads reports true: every Zulip stream message is in a topic, and a
// topic is a thread any later message can join by name.
func (p *Provider) Threads(*providers.Target) bool { return true }

// Edit replaces the content of the message r names with n's (PATCH
// /api/v1/messages/{id}). The topic is left alone. It needs a receipt
// with a MessageID; without one it fails permanently and sends nothing.
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	if err := editable(t, r); err != nil {
		return err
	}
	return p.updateMessage(ctx, t, r.MessageID, n)
}

// Delete removes the message r names (DELETE /api/v1/messages/{id}).
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	if err := editable(t, r); err != nil {
		return err
	}
	return p.deleteMessage(ctx, t, r.MessageID)
}

func editable(t *providers.Target, r *providers.Receipt) error {
	if r == nil || r.MessageID == "" {
		return providers.Permanent("", nil, "the receipt has no Zulip message id")
	}
	if !configured(t) {
		return errNotConfigured()
	}
	return nil
}

// TestChannel checks the credentials (GET /api/v1/users/me) and that the
// bot can see the stream (GET /api/v1/get_stream_id), posting nothing.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	if !configured(t) {
		return errNotConfigured()
	}
	if _, err := p.call(ctx, t, http.MethodGet, "users/me", nil, false); err != nil {
		return err
	}
	_, err := p.call(ctx, t, http.MethodGet, "get_stream_id?"+formValues(map[string]string{"stream": t.Data["stream"]}), nil, true)
	return err
}
