package webex

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The message an incoming webhook receives, built by a pure function from a
// Notification so it can be pinned by golden files. It is the reference's
// one Markdown field: "**<title>**: <category> <tags> (<url>) from
// <author>:" and the excerpt on the next line, with every forum-supplied
// string escaped for Markdown.

type message struct {
	Markdown string `json:"markdown"`
}

// format turns n into the webhook's message, with at most excerptLength
// visible characters of the post.
func format(n *providers.Notification, excerptLength int) message {
	parts := []string{"**" + markup.EscapeMarkdown(n.Topic.Title) + "**:"}
	if l := providers.CategoryLabel(n.Topic.Category); l != "" {
		parts = append(parts, markup.EscapeMarkdown(l))
	}
	if len(n.Topic.Tags) > 0 {
		parts = append(parts, markup.EscapeMarkdown(strings.Join(n.Topic.Tags, ", ")))
	}
	if u := providers.PostURL(n); u != "" {
		parts = append(parts, "("+u+")")
	}
	if name := providers.DisplayName(n.Author); name != "" {
		parts = append(parts, "from "+markup.EscapeMarkdown(name)+":")
	}
	text := strings.Join(parts, " ")
	if ex := markup.Markdown(n.Post.Cooked, markup.Options{BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiUnicode}); ex != "" {
		text += "\n" + ex
	}
	return message{Markdown: text}
}
