package guilded

import (
	"strconv"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The body a webhook receives, built by a pure function from a Notification
// so it can be pinned by golden files. It is the reference's single embed:
// the title line (plain text, as embed titles are) linked to the post, the
// excerpt in Markdown, and a footer with the author's avatar and "<display
// name> | <time>". The sidecar adds the category colour, as the reference's
// Discord provider does.

type message struct {
	Embeds []embed `json:"embeds"`
}

type embed struct {
	Title       string  `json:"title"`
	URL         string  `json:"url,omitempty"`
	Description string  `json:"description,omitempty"`
	Color       *int64  `json:"color,omitempty"`
	Footer      *footer `json:"footer,omitempty"`
}

type footer struct {
	IconURL string `json:"icon_url,omitempty"`
	Text    string `json:"text"`
}

// format turns n into the webhook's message, with at most excerptLength
// visible characters of the post.
func format(n *providers.Notification, excerptLength int) message {
	e := embed{
		Title:       providers.TopicHeading(n.Topic),
		URL:         providers.PostURL(n),
		Description: markup.Markdown(n.Post.Cooked, markup.Options{BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiUnicode}),
	}
	if c := n.Topic.Category; c != nil {
		if rgb, err := strconv.ParseInt(c.Color, 16, 64); err == nil {
			e.Color = &rgb
		}
	}
	text := providers.DisplayName(n.Author)
	if !n.Post.CreatedAt.IsZero() {
		if text != "" {
			text += " | "
		}
		text += n.Post.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if text != "" {
		e.Footer = &footer{IconURL: n.Author.AvatarURL, Text: text}
	}
	return message{Embeds: []embed{e}}
}
