package gitter

import (
	"strings"
	"unicode"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The legacy transports' texts, built by pure functions so they can be
// pinned by golden files. Gitter renders GitHub-flavoured markdown. The
// Matrix transport sends the matrix package's message instead.
//
// Gitter turns "@name" in a message into a mention that notifies the
// Gitter user of that name, who is rarely the forum user of that name. So
// every "@" that would start a mention gets a zero-width space after it;
// "@" inside words and URLs (e-mail addresses, mailto: links,
// /@user paths) is left alone.

// zeroWidthSpace breaks a mention while looking the same.
const zeroWidthSpace = "\u200b"

// restText is the message the REST API posts: "<author> posted in
// **[title](url)** [Parent/Child] tags", then the excerpt as a quote.
func restText(n *providers.Notification, excerptLength int) string {
	if excerptLength < 1 {
		excerptLength = 400
	}
	parts := []string{}
	if name := providers.DisplayName(n.Author); name != "" {
		parts = append(parts, markup.EscapeMarkdown(name), "posted in")
	}
	parts = append(parts, "**"+mdLink(n.Post.URL, n.Topic.Title)+"**")
	if l := labelAndTags(n.Topic); l != "" {
		parts = append(parts, l)
	}
	text := strings.Join(parts, " ")
	ex := strings.TrimSpace(markup.Markdown(n.Post.Cooked, markup.Options{
		BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiShortcode,
	}))
	if ex != "" {
		text += "\n\n" + quote(ex)
	}
	return noMentions(text)
}

// webhookMessage is the reference's activity line, "[__<user>__ - <title>
// - [Parent/Cat]](<url>)", with the tags after the category and without
// the parts a topic lacks (the reference failed on a topic without a
// category).
func webhookMessage(n *providers.Notification) string {
	var parts []string
	if name := providers.DisplayName(n.Author); name != "" {
		parts = append(parts, "__"+markup.EscapeMarkdown(name)+"__")
	}
	parts = append(parts, markup.EscapeMarkdown(n.Topic.Title))
	if l := labelAndTags(n.Topic); l != "" {
		parts = append(parts, l)
	}
	text := strings.Join(parts, " - ")
	if href := mdURL(n.Post.URL); href != "" {
		text = "[" + text + "](" + href + ")"
	}
	return noMentions(text)
}

// labelAndTags is "[Parent/Child] tag1, tag2" escaped for markdown, or ""
// for a topic with neither.
func labelAndTags(t providers.Topic) string {
	var parts []string
	if l := providers.CategoryLabel(t.Category); l != "" {
		parts = append(parts, markup.EscapeMarkdown(l))
	}
	if len(t.Tags) > 0 {
		parts = append(parts, markup.EscapeMarkdown(strings.Join(t.Tags, ", ")))
	}
	return strings.Join(parts, " ")
}

// mdLink is [text](url) when url is an http(s) URL, and the escaped text
// otherwise.
func mdLink(href, text string) string {
	u := mdURL(href)
	if u == "" {
		return markup.EscapeMarkdown(text)
	}
	return "[" + markup.EscapeMarkdown(text) + "](" + u + ")"
}

// mdURL returns href ready for a markdown link destination
// (providers.MarkdownLinkURL), or "" when it is not an http(s) URL.
func mdURL(href string) string {
	if !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "http://") {
		return ""
	}
	return providers.MarkdownLinkURL(href)
}

// quote prefixes every line with "> ".
func quote(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

// noMentions puts a zero-width space after every "@" that starts a word,
// so Gitter does not notify its users of the same names. An "@" preceded
// by a letter, digit or one of "/.:-+" (an address, a URL path) is kept;
// after markdown emphasis ("__@bob__") it still starts a mention.
func noMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		b.WriteRune(r)
		if r == '@' && !unicode.IsLetter(prev) && !unicode.IsDigit(prev) && !strings.ContainsRune("/.:-+", prev) {
			b.WriteString(zeroWidthSpace)
		}
		prev = r
	}
	return b.String()
}
