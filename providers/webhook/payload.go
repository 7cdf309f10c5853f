package webhook

import (
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The JSON document a receiver gets. It is a public contract: fields are
// always present (empty strings, an empty tags array, a null category for a
// topic without one) so receivers need no presence checks, and new fields
// may be added but existing ones are never renamed or removed.

// payload is the body of every webhook request.
type payload struct {
	// Event is the notification's kind: post_created, post_edited or
	// post_destroyed; also sent as X-Chatsidecar-Event.
	Event string `json:"event"`
	// DeliveryID is the same for every attempt to send this event to
	// this channel (providers.SendKey), across retries, replicas and
	// restarts; also sent as X-Chatsidecar-Delivery. A receiver that
	// keeps the ids it has seen ignores a resend. In the body it is
	// covered by the signature; the header is not.
	DeliveryID string `json:"delivery_id"`
	Site       site   `json:"site"`
	Topic      topic  `json:"topic"`
	Post       post   `json:"post"`
	Author     author `json:"author"`
	// Text is a plain-text rendering for receivers that only display a
	// line: "<title> [Category] tags - <display name>" and the post's URL.
	Text string `json:"text"`
}

type site struct {
	Title   string `json:"title"`
	BaseURL string `json:"base_url"`
	LogoURL string `json:"logo_url"`
}

type topic struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Tags     []string  `json:"tags"`
	Category *category `json:"category"`
}

type category struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Slug   string    `json:"slug"`
	Color  string    `json:"color"`
	Parent *category `json:"parent"`
}

type post struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	Version   int       `json:"version"`
	URL       string    `json:"url"`
	Cooked    string    `json:"cooked"`
	Raw       string    `json:"raw"`
	CreatedAt time.Time `json:"created_at"`
}

type author struct {
	Username    string `json:"username"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
	ProfileURL  string `json:"profile_url"`
}

// newPayload turns a notification to a channel into the webhook's
// document. It is pure, so the document is pinned by a golden file.
func newPayload(channelID int64, n *providers.Notification) payload {
	tags := n.Topic.Tags
	if tags == nil {
		tags = []string{}
	}
	return payload{
		Event:      string(n.Kind),
		DeliveryID: providers.SendKey(channelID, n),
		Site:       site{Title: n.Site.Title, BaseURL: n.Site.BaseURL, LogoURL: n.Site.LogoURL},
		Topic: topic{
			ID: n.Topic.ID, Title: n.Topic.Title, URL: n.Topic.URL,
			Tags: tags, Category: newCategory(n.Topic.Category),
		},
		Post: post{
			ID: n.Post.ID, Number: n.Post.Number, Version: n.Post.Version, URL: n.Post.URL,
			Cooked: n.Post.Cooked, Raw: n.Post.Raw, CreatedAt: n.Post.CreatedAt.UTC(),
		},
		Author: author{
			Username: n.Author.Username, Name: n.Author.Name, DisplayName: n.Author.DisplayName,
			AvatarURL: n.Author.AvatarURL, ProfileURL: n.Author.ProfileURL,
		},
		Text: plainText(n),
	}
}

func newCategory(c *providers.Category) *category {
	if c == nil {
		return nil
	}
	return &category{ID: c.ID, Name: c.Name, Slug: c.Slug, Color: c.Color, Parent: newCategory(c.Parent)}
}

// plainText is the reference's fallback line followed by the post's URL.
func plainText(n *providers.Notification) string {
	s := providers.TopicHeading(n.Topic)
	name := n.Author.DisplayName
	if name == "" && n.Author.Username != "" {
		name = "@" + n.Author.Username
	}
	if name != "" {
		s += " - " + name
	}
	if n.Post.URL != "" {
		s += "\n" + n.Post.URL
	}
	return s
}
