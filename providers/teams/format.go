package teams

import (
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The MessageCard a connector receives, built by a pure function from a
// Notification so it can be pinned by golden files. It is the reference's
// card: a summary, and one section with the linked title line, the excerpt,
// the avatar and the author as a fact (full name, "@username"). The sidecar
// adds the @context Microsoft's MessageCard reference requires and the
// category colour as themeColor. Text fields are Markdown ("markdown":
// true), so the title and the author are escaped.

// messageCard is the legacy actionable-message card, without actions.
type messageCard struct {
	Type       string    `json:"@type"`
	Context    string    `json:"@context"`
	Summary    string    `json:"summary"`
	ThemeColor string    `json:"themeColor,omitempty"`
	Sections   []section `json:"sections"`
}

type section struct {
	ActivityTitle    string `json:"activityTitle"`
	ActivitySubtitle string `json:"activitySubtitle,omitempty"`
	ActivityImage    string `json:"activityImage,omitempty"`
	Facts            []fact `json:"facts,omitempty"`
	Markdown         bool   `json:"markdown"`
}

// fact is one name/value row. Name is sent even when empty, as the
// reference does for a user without a full name.
type fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// format turns n into the card, with at most excerptLength visible
// characters of the post.
func format(n *providers.Notification, excerptLength int) messageCard {
	heading := providers.TopicHeading(n.Topic)
	title := markup.EscapeMarkdown(heading)
	if u := providers.PostURL(n); u != "" {
		title = "[" + title + "](" + u + ")"
	}
	s := section{
		ActivityTitle: title,
		ActivitySubtitle: markup.Markdown(n.Post.Cooked, markup.Options{
			BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiUnicode,
		}),
		ActivityImage: n.Author.AvatarURL,
		Markdown:      true,
	}
	if n.Author.Username != "" {
		s.Facts = []fact{{Name: markup.EscapeMarkdown(n.Author.Name), Value: markup.EscapeMarkdown("@" + n.Author.Username)}}
	}
	var color string
	if n.Topic.Category != nil {
		color = n.Topic.Category.Color
	}
	return messageCard{Type: "MessageCard", Context: "https://schema.org/extensions", Summary: heading, ThemeColor: color, Sections: []section{s}}
}
