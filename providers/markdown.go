package providers

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// MarkdownHeading is the reference's first line in CommonMark, with the
// category and tags after the title, every part escaped:
//
//	**Jane Doe (@jane)** posted in **[Title](post URL)** [Parent/Child] tags
//
// The author part is left out without an author, and the link without a
// URL. Platforms that take Markdown text (Rocket.Chat, Zulip) start their
// message with it.
func MarkdownHeading(n *Notification) string {
	var b strings.Builder
	if name := DisplayName(n.Author); name != "" {
		b.WriteString("**" + markup.EscapeMarkdown(name) + "** posted in ")
	}
	title := markup.EscapeMarkdown(n.Topic.Title)
	if u := PostURL(n); u != "" {
		title = "[" + title + "](" + MarkdownLinkURL(u) + ")"
	}
	b.WriteString("**" + title + "**")
	if l := CategoryLabel(n.Topic.Category); l != "" {
		b.WriteString(" " + markup.EscapeMarkdown(l))
	}
	if len(n.Topic.Tags) > 0 {
		b.WriteString(" " + markup.EscapeMarkdown(strings.Join(n.Topic.Tags, ", ")))
	}
	return b.String()
}

// MarkdownLinkURL percent-encodes what would end a Markdown link's
// destination early (spaces, parentheses, angle brackets).
func MarkdownLinkURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(u)
}
