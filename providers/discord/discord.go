// Package discord is the Discord provider: its channel parameters, its
// provider settings, and the delivery of notifications through a channel
// webhook.
//
// Each Discord channel is one channel webhook, so the webhook URL is the
// channel parameter and there is no bot token. Messages are posted with
// Execute Webhook and ?wait=true, which makes Discord answer the message
// object (its id, and the channel it landed in) instead of 204. Any query
// the admin put in the URL is kept (the reference's PR #236), so a URL with
// ?thread_id=… posts every message into that thread.
//
// Capabilities:
//   - threads: Discord threads are channels. In a forum (or media)
//     channel every post must go to a thread; the first notification of a
//     topic creates one named after the topic, and later posts of a thread
//     rule go into it with ?thread_id=. In a text channel a webhook cannot
//     create threads, but a thread someone starts on a message has that
//     message's id, so a topic's first message is its root there too;
//     replies go into that thread once it exists (see Notify);
//   - edits: Edit and Delete Webhook Message, with ?thread_id= for a
//     message in a thread;
//   - channel test: Get Webhook with Token, which checks the URL and its
//     token and posts nothing.
//
// api_base_url replaces the webhook URL's origin (providers.Rebase), so
// tests reach a fake while webhook_url keeps the reference's strict
// pattern.
package discord

import (
	"context"
	"net/http"
	"net/url"
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

// Error keys the Discord provider records on a channel. The reference
// records no key for Discord (every failure is the generic
// chat_integration.channel_exception); these are the sidecar's own and
// need translations in the admin UI.
const (
	// KeyInvalidWebhook: Discord rejected the token part of the webhook
	// URL (401, "Invalid Webhook Token"); the URL was mistyped or the
	// webhook was reset.
	KeyInvalidWebhook = "chat_integration.provider.discord.errors.invalid_webhook"
	// KeyUnknownWebhook: the webhook does not exist (404, "Unknown
	// Webhook"); it was deleted, or its channel was.
	KeyUnknownWebhook = "chat_integration.provider.discord.errors.unknown_webhook"
	// KeyUnknownThread: the thread the webhook URL's thread_id names does
	// not exist any more.
	KeyUnknownThread = "chat_integration.provider.discord.errors.unknown_thread"
	// KeyForbidden: the webhook may not post there (403, for example a
	// locked thread or missing permissions).
	KeyForbidden = "chat_integration.provider.discord.errors.forbidden"
	// KeyNotConfigured: the webhook URL or api_base_url is not one this
	// provider can use.
	KeyNotConfigured = "chat_integration.provider.discord.errors.not_configured"
)

// Options are the Discord provider's dependencies.
type Options struct {
	// HTTPClient sends every request to Discord. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because
	// it has no timeout.
	HTTPClient *http.Client
}

// Provider is Discord. Build it with New; the zero value has no
// parameters, settings or client. It is immutable after New and therefore
// safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
	// hookPath matches the path of an Execute Webhook URL and captures
	// the part every webhook endpoint shares, …/webhooks/<id>/<token>.
	hookPath *regexp.Regexp
}

// New returns the Discord provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client:   client,
		hookPath: regexp.MustCompile(`^(.*/webhooks/[0-9]+/[A-Za-z0-9_.-]+)/?$`),
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
			{
				Key:         "username",
				Label:       "Bot name",
				Type:        providers.SettingString,
				Description: "Name shown on the messages; empty keeps the name the webhook has in Discord.",
			},
			{
				Key:         "avatar_url",
				Label:       "Bot avatar URL",
				Type:        providers.SettingURL,
				Description: "Avatar shown on the messages; empty keeps the webhook's own avatar.",
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

// ValidateSettings refuses values Discord would refuse on every message,
// so the admin learns it when saving rather than from failed deliveries:
// content over 2000 characters, and a name Discord does not allow for
// webhooks (over 80 characters, containing "discord", "clyde", '@', '#',
// ':' or "```", or "everyone"/"here"). api_base_url may not have
// credentials, a query or a fragment: webhook paths are appended to it.
func (p *Provider) ValidateSettings(_ bool, settings map[string]any) error {
	if s, _ := settings["message_content"].(string); len([]rune(s)) > maxContent {
		return &providers.FieldError{Field: "settings.message_content", Message: "must be at most 2000 characters"}
	}
	if s, _ := settings["username"].(string); s != "" {
		if msg := checkUsername(s); msg != "" {
			return &providers.FieldError{Field: "settings.username", Message: msg}
		}
	}
	if base, _ := settings["api_base_url"].(string); base != "" {
		u, err := url.Parse(base)
		if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return &providers.FieldError{Field: "settings.api_base_url", Message: "must be a URL without credentials, query or fragment"}
		}
	}
	return nil
}

// checkUsername returns why Discord would refuse name for a webhook, or "".
func checkUsername(name string) string {
	trimmed := strings.TrimSpace(name)
	lower := strings.ToLower(trimmed)
	switch {
	case trimmed == "":
		return "must not be blank"
	case len([]rune(trimmed)) > maxUsername:
		return "must be at most 80 characters"
	case strings.Contains(lower, "discord"), strings.Contains(lower, "clyde"):
		return `Discord refuses webhook names containing "discord" or "clyde"`
	case strings.ContainsAny(trimmed, "@#:"), strings.Contains(trimmed, "```"):
		return "Discord refuses names containing @, #, : or ```"
	case lower == "everyone", lower == "here":
		return `Discord refuses the names "everyone" and "here"`
	}
	return ""
}

// Notify posts n through the channel's webhook. Besides the message
// itself it may negotiate with Discord, within this one call and at most
// once per step; these are not retries of a failure (the engine owns
// those) but the protocol Discord defines for where a webhook message goes:
//
//  1. A thread rule with a known root posts into the root's thread
//     (?thread_id=). When Discord answers Unknown Channel (10003) the
//     thread does not exist: nobody started one on the root in a text
//     channel, or the forum post was deleted. The message is then posted
//     to the channel, as if there were no root.
//  2. A forum channel refuses a message without a thread with code 220001
//     ("Webhooks posted to forum channels must have a thread_name or
//     thread_id"); it is posted again with thread_name, the topic's title,
//     which creates a forum post for the topic (the reference's PR #251).
//     Its id is the Receipt's ThreadID, so later posts of the topic join
//     it.
//
// So a message costs one request, two when a forum post is created or a
// text channel has no thread for the topic, and three when a topic's
// forum post was deleted.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	h, err := p.hookOf(t)
	if err != nil {
		return nil, err
	}
	m := format(n, optionsFor(t))
	thread := ""
	if n.Filter == "thread" && !h.pinned() {
		thread = n.ThreadID
	}
	sent, err := p.execute(ctx, h, m, thread)
	missing := ""
	if thread != "" && hasCode(err, codeUnknownChannel) {
		missing, thread = thread, ""
		sent, err = p.execute(ctx, h, m, "")
	}
	created := false
	if hasCode(err, codeForumNeedsThread) && !h.pinned() {
		m.ThreadName, created = threadName(n), true
		sent, err = p.execute(ctx, h, m, "")
	}
	if err != nil {
		return nil, err
	}
	return receipt(h, sent, thread, missing, created), nil
}

// receipt describes a sent message: thread is the thread it was posted
// into ("" for the channel), missing the topic's root when its thread did
// not exist, and created whether the message created a forum post.
func receipt(h hook, sent *sentMessage, thread, missing string, created bool) *providers.Receipt {
	if sent == nil || sent.ID == "" {
		return &providers.Receipt{}
	}
	r := &providers.Receipt{MessageID: sent.ID}
	inThread := ""
	switch {
	case h.pinned():
		// Every message goes to the admin's thread; the query that
		// names it is kept for edits too, and topics cannot thread.
		return r
	case created:
		inThread = firstNonEmpty(sent.ChannelID, sent.ID)
		r.ThreadID = inThread
	case thread != "":
		inThread = firstNonEmpty(sent.ChannelID, thread)
		r.ThreadID = thread
	case missing != "":
		// The root's thread was missing, so this went to the channel;
		// the topic keeps its root, where a thread may still be started.
		r.ThreadID = missing
	default:
		// A thread someone starts on this message will have its id.
		r.ThreadID = sent.ID
	}
	if inThread != "" {
		r.Extra = map[string]string{extraThread: inThread}
	}
	return r
}

// Threads reports whether topics can have threads in t's channel: not when
// the admin's URL already sends everything to one thread.
func (p *Provider) Threads(t *providers.Target) bool {
	h, err := p.hookOf(t)
	return err == nil && !h.pinned()
}

// Edit replaces the content of the message r names (PATCH
// …/messages/<id>).
func (p *Provider) Edit(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	h, err := p.editable(t, r)
	if err != nil {
		return err
	}
	body, err := providers.EncodeJSON(newEdit(n, optionsFor(t)))
	if err != nil {
		return providers.Permanent("", nil, "encoding the Discord message: %v", err)
	}
	_, err = p.send(ctx, http.MethodPatch, h.messageURL(r), body, h.secret)
	return err
}

// Delete removes the message r names (DELETE …/messages/<id>). A message
// that is already gone, or whose thread is, counts as deleted.
func (p *Provider) Delete(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	h, err := p.editable(t, r)
	if err != nil {
		return err
	}
	_, err = p.send(ctx, http.MethodDelete, h.messageURL(r), nil, h.secret)
	if hasCode(err, codeUnknownMessage) || (r.Extra[extraThread] != "" && hasCode(err, codeUnknownChannel)) {
		// The message, or the thread it was in, is gone.
		return nil
	}
	return err
}

// editable returns the webhook to change r with, or why r cannot be
// changed.
func (p *Provider) editable(t *providers.Target, r *providers.Receipt) (hook, error) {
	if r == nil || r.MessageID == "" || strings.ContainsAny(r.MessageID, "/?#") {
		return hook{}, providers.Permanent("", nil, "the receipt has no Discord message id")
	}
	return p.hookOf(t)
}

// TestChannel fetches the webhook (Get Webhook with Token), which checks
// that the URL names a webhook and that its token is right without
// posting.
func (p *Provider) TestChannel(ctx context.Context, t *providers.Target) error {
	h, err := p.hookOf(t)
	if err != nil {
		return err
	}
	_, err = p.send(ctx, http.MethodGet, h.base, nil, h.secret)
	return err
}

// optionsFor reads the formatter's options from t's settings.
func optionsFor(t *providers.Target) formatOptions {
	o := formatOptions{
		Content:       t.Settings.String("message_content"),
		Username:      strings.TrimSpace(t.Settings.String("username")),
		AvatarURL:     t.Settings.String("avatar_url"),
		ExcerptLength: t.Settings.Int("excerpt_length", 400),
	}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = 400
	}
	return o
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
