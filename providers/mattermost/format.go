package mattermost

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The Mattermost payloads, built by pure functions from a Notification so
// they can be pinned by golden files. The transports (api.go, incoming.go)
// only encode and send them.
//
// Both ways carry the reference's Slack-style message attachment: a colour
// bar in the category's colour, the author with avatar, the title linked
// to the post, and the excerpt as Markdown. Mattermost renders attachment
// titles and author names as plain text, so only the excerpt is Markdown
// (converted from the cooked HTML, which escapes it). The attachment is the
// whole message, as in the reference: no top-level text, so nothing is
// shown twice.

// attachment is a Mattermost message attachment.
type attachment struct {
	Fallback   string `json:"fallback"`
	Color      string `json:"color,omitempty"`
	AuthorName string `json:"author_name,omitempty"`
	AuthorIcon string `json:"author_icon,omitempty"`
	AuthorLink string `json:"author_link,omitempty"`
	Title      string `json:"title"`
	TitleLink  string `json:"title_link,omitempty"`
	Text       string `json:"text,omitempty"`
}

// webhookPayload is the body of an incoming webhook request.
type webhookPayload struct {
	Channel     string       `json:"channel,omitempty"`
	Username    string       `json:"username,omitempty"`
	IconURL     string       `json:"icon_url,omitempty"`
	Attachments []attachment `json:"attachments"`
}

// props are a post's properties; Mattermost renders attachments from them.
type props struct {
	Attachments []attachment `json:"attachments"`
}

// post is the body of POST /api/v4/posts. The bot posts under its own name
// and avatar, so there is no username or icon override.
type post struct {
	ChannelID string `json:"channel_id"`
	RootID    string `json:"root_id,omitempty"`
	Message   string `json:"message"`
	Props     props  `json:"props"`
}

// patch is the body of PUT /api/v4/posts/{id}/patch; props replace the
// post's props as a whole, so the old attachment is gone.
type patch struct {
	Message string `json:"message"`
	Props   props  `json:"props"`
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target so that the format functions stay pure.
type formatOptions struct {
	Channel       string // webhook: the identifier; REST: the channel id
	RootID        string // REST: the thread to reply into; empty for none
	Username      string // webhook: the bot's display name
	IconURL       string // webhook: the bot's avatar, absolute
	ExcerptLength int    // visible characters of the excerpt
}

// optionsFor reads the formatter's options from t: as in the reference the
// webhook posts under the forum's title with its logo (or icon_url); the
// REST API replies into the topic's thread when the rule is a thread rule.
func optionsFor(t *providers.Target, n *providers.Notification, m mode) formatOptions {
	o := formatOptions{ExcerptLength: t.Settings.Int("excerpt_length", 400)}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = 400
	}
	switch m {
	case modeAPI:
		o.Channel = channelIDOf(t)
		if n.Filter == "thread" {
			o.RootID = n.ThreadID
		}
	default:
		o.Channel = t.Data["identifier"]
		o.Username = n.Site.Title
		o.IconURL = iconURL(t.Settings.String("icon_url"), n.Site)
	}
	return o
}

// formatAttachment is the message attachment for n.
func formatAttachment(n *providers.Notification, o formatOptions) attachment {
	heading := providers.TopicHeading(n.Topic)
	a := attachment{
		Fallback:   heading,
		AuthorName: providers.DisplayName(n.Author),
		AuthorIcon: n.Author.AvatarURL,
		AuthorLink: n.Author.ProfileURL,
		Title:      heading,
		TitleLink:  n.Post.URL,
		Text: quietMentions(markup.Markdown(n.Post.Cooked, markup.Options{
			BaseURL: n.Site.BaseURL, Limit: o.ExcerptLength, Emoji: markup.EmojiShortcode,
		})),
	}
	if a.AuthorName != "" {
		a.Fallback += " - " + a.AuthorName
	}
	if a.TitleLink == "" {
		a.TitleLink = n.Topic.URL
	}
	if c := n.Topic.Category; c != nil && c.Color != "" {
		a.Color = "#" + c.Color
	}
	return a
}

// formatWebhook is the incoming webhook body for n.
func formatWebhook(n *providers.Notification, o formatOptions) webhookPayload {
	return webhookPayload{
		Channel:     o.Channel,
		Username:    o.Username,
		IconURL:     o.IconURL,
		Attachments: []attachment{formatAttachment(n, o)},
	}
}

// formatPost is the POST /api/v4/posts body for n.
func formatPost(n *providers.Notification, o formatOptions) post {
	return post{
		ChannelID: o.Channel,
		RootID:    o.RootID,
		Props:     props{Attachments: []attachment{formatAttachment(n, o)}},
	}
}

// formatPatch is the body that replaces a post's content with n's.
func formatPatch(n *providers.Notification, o formatOptions) patch {
	return patch{Props: props{Attachments: []attachment{formatAttachment(n, o)}}}
}

// quietMentions keeps a forum post from notifying a whole Mattermost
// channel: Mattermost looks for mentions in an attachment's text, so
// "@channel" quoted from the forum would alert everyone. A word joiner
// (U+2060) after the '@' looks the same and is no mention. Mentions of
// single users are left alone; they name forum users, often the same
// people.
func quietMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' || (i > 0 && (alnum(s[i-1]) || s[i-1] == '/')) {
			// Part of a word, an address or a URL path, not a mention.
			continue
		}
		rest := s[i+1:]
		for _, w := range []string{"channel", "all", "here"} {
			// "@channel." still mentions, so only a letter or digit after
			// the word makes it another word.
			if len(rest) >= len(w) && strings.EqualFold(rest[:len(w)], w) &&
				(len(rest) == len(w) || !alnum(rest[len(w)])) {
				b.WriteString("\u2060")
				break
			}
		}
	}
	return b.String()
}

// alnum reports an ASCII letter or digit.
func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
