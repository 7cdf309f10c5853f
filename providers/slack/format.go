package slack

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The Slack payload, built by a pure function from a Notification so it
// can be pinned by golden files. The transport (api.go, incoming.go) only
// encodes and sends it.
//
// The reference posts a legacy attachment; this provider posts Block Kit
// instead (a title section, a context line with the author, an excerpt
// section) plus a plain `text` that Slack shows in notifications and in
// clients that cannot render blocks. Block Kit has no colour bar, so the
// category colour is not shown.

// message is the JSON body of chat.postMessage, and of an incoming
// webhook, which accepts the same fields and ignores those it does not
// know (channel, username and icon_url for app webhooks).
type message struct {
	Channel  string  `json:"channel,omitempty"`
	ThreadTS string  `json:"thread_ts,omitempty"`
	Text     string  `json:"text"`
	Blocks   []block `json:"blocks"`
	Username string  `json:"username,omitempty"`
	IconURL  string  `json:"icon_url,omitempty"`
	// The message links to the forum itself, so Slack's own preview of
	// the post would only repeat it.
	UnfurlLinks bool `json:"unfurl_links"`
	UnfurlMedia bool `json:"unfurl_media"`
}

// update is the JSON body of chat.update: the new content of a message.
type update struct {
	Channel string  `json:"channel"`
	TS      string  `json:"ts"`
	Text    string  `json:"text"`
	Blocks  []block `json:"blocks"`
}

// remove is the JSON body of chat.delete and names the message to remove.
type remove struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// block is the subset of Block Kit the provider uses: section blocks with
// a text and context blocks with elements.
type block struct {
	Type     string    `json:"type"`
	Text     *text     `json:"text,omitempty"`
	Elements []element `json:"elements,omitempty"`
}

// text is a Block Kit text object.
type text struct {
	Type string `json:"type"` // "mrkdwn"
	Text string `json:"text"`
}

// element is a context block element: an image or a mrkdwn text.
type element struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	AltText  string `json:"alt_text,omitempty"`
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target by optionsFor so that format itself stays pure.
type formatOptions struct {
	Channel       string // as the transport needs it; may be empty
	ThreadTS      string // the thread to reply into; empty for none
	Username      string // bot name; empty lets Slack use the app's
	IconURL       string // absolute; empty lets Slack use the app's
	ExcerptLength int    // visible characters of the excerpt
}

// format turns a notification into the Slack message o describes.
func format(n *providers.Notification, o formatOptions) message {
	blocks := []block{{Type: "section", Text: &text{Type: "mrkdwn", Text: titleLine(n)}}}
	if ctx := authorContext(n.Author); ctx != nil {
		blocks = append(blocks, *ctx)
	}
	if ex := excerpt(n.Post.Cooked, n.Site.BaseURL, o.ExcerptLength); ex != "" {
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: ex}})
	}
	return message{
		Channel:  o.Channel,
		ThreadTS: o.ThreadTS,
		Text:     fallbackText(n),
		Blocks:   blocks,
		Username: o.Username,
		IconURL:  o.IconURL,
	}
}

// titleLine is the reference's title, "<title> [Parent/Child] tags", with
// the title in bold and linked to the post (the reference's title_link).
func titleLine(n *providers.Notification) string {
	title := "*" + escapeMrkdwn(n.Topic.Title) + "*"
	if n.Post.URL != "" {
		title = "*" + mrkdwnLink(n.Post.URL, n.Topic.Title) + "*"
	}
	parts := []string{title}
	if l := providers.CategoryLabel(n.Topic.Category); l != "" {
		parts = append(parts, escapeMrkdwn(l))
	}
	if len(n.Topic.Tags) > 0 {
		parts = append(parts, escapeMrkdwn(strings.Join(n.Topic.Tags, ", ")))
	}
	return strings.Join(parts, " ")
}

// authorContext is the context line with the author's avatar and display
// name, linked to the profile; nil when the author has no name at all.
func authorContext(a providers.Author) *block {
	name := providers.DisplayName(a)
	if name == "" {
		return nil
	}
	var els []element
	if a.AvatarURL != "" {
		els = append(els, element{Type: "image", ImageURL: a.AvatarURL, AltText: name})
	}
	label := escapeMrkdwn(name)
	if a.ProfileURL != "" {
		label = mrkdwnLink(a.ProfileURL, name)
	}
	els = append(els, element{Type: "mrkdwn", Text: label})
	return &block{Type: "context", Elements: els}
}

// fallbackText is the reference's attachment fallback, "<heading> -
// <display name>", escaped because Slack parses `text` as mrkdwn too.
func fallbackText(n *providers.Notification) string {
	s := providers.TopicHeading(n.Topic)
	if name := providers.DisplayName(n.Author); name != "" {
		s += " - " + name
	}
	return escapeMrkdwn(s)
}
