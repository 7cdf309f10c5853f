package rocketchat

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The Rocket.Chat payloads, built by pure functions from a Notification so
// they can be pinned by golden files. The transports (api.go, incoming.go)
// only encode and send them.
//
// The webhook sends the reference's attachment: a colour bar in the
// category's colour, the author with avatar, the title linked to the post,
// and the excerpt as Markdown (mrkdwn_in), while Rocket.Chat shows titles
// and author names as plain text. The REST API sends the same facts as one
// Markdown text, because chat.update can replace only the text:
//
//	**Jane Doe (@jane)** posted in **[Title](post URL)** [Parent/Child] tags
//
//	excerpt
//
// Rocket.Chat notifies on mentions in a message's text, so every "@name"
// in that text is broken with an invisible word joiner: the forum's
// mentions name forum users, and "@all" quoted from a post must not alert
// a room. Attachments carry no mentions, so the webhook needs none of it.

// attachment is a Rocket.Chat message attachment.
type attachment struct {
	Fallback   string   `json:"fallback"`
	Color      string   `json:"color,omitempty"`
	AuthorName string   `json:"author_name,omitempty"`
	AuthorIcon string   `json:"author_icon,omitempty"`
	AuthorLink string   `json:"author_link,omitempty"`
	Title      string   `json:"title"`
	TitleLink  string   `json:"title_link,omitempty"`
	Text       string   `json:"text,omitempty"`
	MrkdwnIn   []string `json:"mrkdwn_in"`
}

// webhookPayload is the body of an incoming integration request.
type webhookPayload struct {
	Channel     string       `json:"channel,omitempty"`
	Attachments []attachment `json:"attachments"`
}

// message is the body of chat.postMessage. The bot posts under its own
// name and avatar: alias and avatar need the message-impersonate
// permission, which a bot may lack.
type message struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
	TMID    string `json:"tmid,omitempty"`
}

// update is the body of chat.update.
type update struct {
	RoomID string `json:"roomId"`
	MsgID  string `json:"msgId"`
	Text   string `json:"text"`
}

// remove is the body of chat.delete.
type remove struct {
	RoomID string `json:"roomId"`
	MsgID  string `json:"msgId"`
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target so that the format functions stay pure.
type formatOptions struct {
	Channel       string // the identifier, "#room" or "@user"
	TMID          string // REST: the thread to reply into; empty for none
	ExcerptLength int    // visible characters of the excerpt
}

// optionsFor reads the formatter's options from t; the REST API replies
// into the topic's thread when the rule is a thread rule.
func optionsFor(t *providers.Target, n *providers.Notification, m mode) formatOptions {
	o := formatOptions{Channel: t.Data["identifier"], ExcerptLength: t.Settings.Int("excerpt_length", 400)}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = 400
	}
	if m == modeAPI && n.Filter == "thread" {
		o.TMID = n.ThreadID
	}
	return o
}

// excerpt is the post's excerpt as Rocket.Chat Markdown.
func excerpt(n *providers.Notification, o formatOptions) string {
	return markup.Markdown(n.Post.Cooked, markup.Options{
		BaseURL: n.Site.BaseURL, Limit: o.ExcerptLength, Emoji: markup.EmojiShortcode,
	})
}

// formatWebhook is the reference's integration body for n.
func formatWebhook(n *providers.Notification, o formatOptions) webhookPayload {
	heading := providers.TopicHeading(n.Topic)
	a := attachment{
		Fallback:   heading,
		AuthorName: providers.DisplayName(n.Author),
		AuthorIcon: n.Author.AvatarURL,
		AuthorLink: n.Author.ProfileURL,
		Title:      heading,
		TitleLink:  providers.PostURL(n),
		Text:       excerpt(n, o),
		MrkdwnIn:   []string{"text"},
	}
	if a.AuthorName != "" {
		a.Fallback += " - " + a.AuthorName
	}
	if c := n.Topic.Category; c != nil && c.Color != "" {
		a.Color = "#" + c.Color
	}
	return webhookPayload{Channel: o.Channel, Attachments: []attachment{a}}
}

// formatMessage is the chat.postMessage body for n.
func formatMessage(n *providers.Notification, o formatOptions) message {
	return message{Channel: o.Channel, Text: formatText(n, o), TMID: o.TMID}
}

// formatText is the Markdown text of n for the REST API, also what an
// edit sends.
func formatText(n *providers.Notification, o formatOptions) string {
	var b strings.Builder
	b.WriteString(providers.MarkdownHeading(n))
	if ex := excerpt(n, o); ex != "" {
		b.WriteString("\n\n" + ex)
	}
	return quietMentions(b.String())
}

// quietMentions puts a word joiner (U+2060) after every '@' that would
// start a Rocket.Chat mention, so that it shows the same and notifies no
// one. An '@' inside a word (an email address) or after '/' or '=' (in a
// URL) is left alone.
func quietMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' || i+1 >= len(s) || !nameChar(s[i+1]) {
			continue
		}
		if i > 0 && (nameChar(s[i-1]) || s[i-1] == '/' || s[i-1] == '=') {
			continue
		}
		b.WriteString("\u2060")
	}
	return b.String()
}

// nameChar reports an ASCII character Rocket.Chat allows in a user name.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}
