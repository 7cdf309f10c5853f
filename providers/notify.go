package providers

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// EventKind is what happened on the forum.
type EventKind string

// Event kinds a notification can describe.
const (
	PostCreated EventKind = "post_created"
	PostEdited  EventKind = "post_edited"
	PostDeleted EventKind = "post_destroyed"
)

// Notification is one forum event rendered for chat, independent of any
// platform. Each provider's pure formatter turns it into its wire payload.
// Fields hold display-ready values: hidden tags are already removed and the
// author's display name already follows the forum's name settings.
type Notification struct {
	Kind   EventKind
	Site   Site
	Topic  Topic
	Post   Post
	Author Author
	// Filter is the winning rule's filter ("watch", "thread", …); a
	// provider with threads replies into the topic's thread when it is
	// "thread" and ThreadID is set.
	Filter string
	// ThreadID is the platform's id of the topic's thread in this
	// channel (a Slack ts, a Matrix event id, a Zulip topic), from an
	// earlier Receipt.
	ThreadID string
}

// Site describes the forum.
type Site struct {
	Title   string // "Meta"
	BaseURL string // "https://forum.example.org", no trailing slash
	LogoURL string // absolute; may be empty
}

// Topic is the forum topic of the post.
type Topic struct {
	ID       int64
	Title    string
	URL      string // absolute
	Tags     []string
	Category *Category // nil for a topic without a category (a PM)
}

// Category is a forum category; Parent is set for a subcategory.
type Category struct {
	ID     int64
	Name   string
	Slug   string
	Color  string // hex without '#', e.g. "0088CC"; may be empty
	Parent *Category
}

// Post is the forum post.
type Post struct {
	ID        int64
	Number    int    // 1 for the topic's first post
	Version   int    // edits increase it
	URL       string // absolute link to the post
	Cooked    string // Discourse's rendered HTML
	Raw       string // the markdown source; may be empty
	CreatedAt time.Time
}

// Author is who wrote the post.
type Author struct {
	Username    string
	Name        string // full name; may be empty
	DisplayName string // "Jane Doe (@jane)" or "@jane", per the reference's rules
	AvatarURL   string // absolute, small size
	ProfileURL  string // absolute
}

// Target is where a notification goes: one channel's parameters plus its
// provider's current settings (tokens, base URLs). The engine builds it per
// delivery, so settings changed through the API apply to the next message.
type Target struct {
	ChannelID   int64
	ChannelName string
	Data        map[string]string
	Settings    Settings
}

// Settings are a provider's settings with defaults filled in. Values come
// from JSON, so accessors convert numbers and strings.
type Settings map[string]any

// String returns a string setting, or "".
func (s Settings) String(key string) string {
	v, _ := s[key].(string)
	return v
}

// Int returns an integer setting, or def when unset or not a number.
func (s Settings) Int(key string, def int) int {
	switch v := s[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// Bool returns a boolean setting, or def when unset.
func (s Settings) Bool(key string, def bool) bool {
	if v, ok := s[key].(bool); ok {
		return v
	}
	return def
}

// Receipt is what a platform returned for a sent message: enough to edit
// or delete it later and to reply into its thread.
type Receipt struct {
	// MessageID identifies the message on the platform (Slack ts, Matrix
	// event id, Discord message id). Empty when the platform returns none
	// (incoming webhooks), which rules out edits.
	MessageID string
	// ThreadID names the thread to reply into for later posts of the
	// topic. Where a thread is rooted in a message (Slack, Matrix,
	// Telegram) it is the root's id, so for a message that started a
	// thread it equals MessageID; where the platform names a thread apart
	// from its messages it is that name (Google Chat's
	// spaces/S/threads/T, a Zulip topic) and differs from MessageID.
	ThreadID string
	// Extra holds provider-specific values needed for edits (a channel id
	// the platform resolved). Providers own the keys.
	Extra map[string]string
}

// Notifier delivers notifications. Implementations must honour ctx, must
// not retry or sleep, and must classify every failure (see errors.go): the
// delivery engine owns retries, backoff and rate-limit snoozes.
type Notifier interface {
	Provider
	Notify(ctx context.Context, t *Target, n *Notification) (*Receipt, error)
}

// Threader is a Notifier that can reply into a thread: it honours
// Notification.ThreadID and returns Receipt.ThreadID.
type Threader interface {
	Notifier
	// Threads reports whether t can thread; a Slack channel reached through
	// an incoming webhook cannot, one reached through the Web API can.
	Threads(t *Target) bool
}

// Editor is a Notifier that can change or remove a message it sent, so
// forum edits and deletions reach chat.
type Editor interface {
	Notifier
	Edit(ctx context.Context, t *Target, r *Receipt, n *Notification) error
	Delete(ctx context.Context, t *Target, r *Receipt) error
}

// ChannelTester checks credentials and reachability of a channel without
// posting anything.
type ChannelTester interface {
	TestChannel(ctx context.Context, t *Target) error
}
