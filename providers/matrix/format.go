package matrix

import (
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The m.room.message content, built by pure functions from a Notification
// so it can be pinned by golden files; the transport only encodes and
// sends it.
//
// The reference sends "<user> posted in <title> - <url>" as body and the
// same with the title linked and the excerpt in a blockquote as
// formatted_body. This keeps that shape and adds the category (in its
// colour) and the tags to the title line, as the other providers do.
// body is the plain-text fallback the spec requires next to
// formatted_body; the excerpt is converted from cooked HTML by the markup
// package, to the spec's allowed HTML subset and to plain text.

// defaultExcerptLength is the reference's default excerpt length.
const defaultExcerptLength = 400

// htmlFormat is the only format Matrix defines for formatted_body.
const htmlFormat = "org.matrix.custom.html"

// content is an m.room.message event's content.
type content struct {
	MsgType       string `json:"msgtype"`
	Body          string `json:"body"`
	Format        string `json:"format,omitempty"`
	FormattedBody string `json:"formatted_body,omitempty"`
	// Mentions is always present and empty: the sidecar mentions nobody
	// on purpose, so clients that support intentional mentions (spec
	// v1.7) do not ping a user whose name happens to be in a post.
	Mentions   *mentions `json:"m.mentions,omitempty"`
	RelatesTo  *relation `json:"m.relates_to,omitempty"`
	NewContent *content  `json:"m.new_content,omitempty"`
}

// mentions is m.mentions; the zero value mentions nobody.
type mentions struct {
	UserIDs []string `json:"user_ids,omitempty"`
}

// relation is m.relates_to, for a thread reply (rel_type m.thread) or an
// edit (m.replace).
type relation struct {
	RelType string `json:"rel_type"`
	EventID string `json:"event_id"`
	// IsFallingBack and InReplyTo make a thread reply show as a reply to
	// the root in clients without threads; is_falling_back tells the
	// others it is not a real reply.
	IsFallingBack bool       `json:"is_falling_back,omitempty"`
	InReplyTo     *inReplyTo `json:"m.in_reply_to,omitempty"`
}

type inReplyTo struct {
	EventID string `json:"event_id"`
}

// formatOptions are the per-delivery choices, taken from the target so
// that format stays pure.
type formatOptions struct {
	MsgType       string // m.notice or m.text
	ExcerptLength int    // visible characters of the excerpt
	ThreadRoot    string // event id of the thread to reply into; "" for none
}

// format turns n into the content of a new message.
func format(n *providers.Notification, o formatOptions) content {
	c := message(n, o)
	if o.ThreadRoot != "" {
		c.RelatesTo = &relation{
			RelType: "m.thread", EventID: o.ThreadRoot,
			IsFallingBack: true, InReplyTo: &inReplyTo{EventID: o.ThreadRoot},
		}
	}
	return c
}

// replacement turns n into an edit of eventID. The outer body is the
// fallback for clients without edits, marked with "* " as the spec
// suggests; m.new_content holds the message as it now reads, without a
// relation (the original keeps its place in a thread).
func replacement(n *providers.Notification, o formatOptions, eventID string) content {
	newContent := message(n, o)
	return content{
		MsgType:       newContent.MsgType,
		Body:          "* " + newContent.Body,
		Format:        htmlFormat,
		FormattedBody: "* " + newContent.FormattedBody,
		Mentions:      &mentions{},
		RelatesTo:     &relation{RelType: "m.replace", EventID: eventID},
		NewContent:    &newContent,
	}
}

// message is the body and formatted body of n, without relations.
func message(n *providers.Notification, o formatOptions) content {
	mo := markup.Options{BaseURL: n.Site.BaseURL, Limit: o.ExcerptLength, Emoji: markup.EmojiUnicode}
	body := plainTitle(n)
	html := htmlTitle(n)
	if ex := strings.TrimSpace(markup.PlainText(n.Post.Cooked, mo)); ex != "" {
		body += "\n\n" + quote(ex)
	}
	if ex := strings.TrimSpace(markup.MatrixHTML(n.Post.Cooked, mo)); ex != "" {
		html += "\n<blockquote>" + ex + "</blockquote>"
	}
	return content{MsgType: o.MsgType, Body: body, Format: htmlFormat, FormattedBody: html, Mentions: &mentions{}}
}

// plainTitle is the reference's body, "<user> posted in <heading> -
// <url>", with the category and tags in the heading.
func plainTitle(n *providers.Notification) string {
	s := providers.TopicHeading(n.Topic)
	if name := providers.DisplayName(n.Author); name != "" {
		s = name + " posted in " + s
	}
	if n.Post.URL != "" {
		s += " - " + n.Post.URL
	}
	return s
}

// htmlTitle is the reference's formatted title: the author in bold (linked
// to the profile), the topic title in bold and linked to the post, then the
// category label in the category's colour and the tags.
func htmlTitle(n *providers.Notification) string {
	var parts []string
	if name := providers.DisplayName(n.Author); name != "" {
		parts = append(parts, "<b>"+link(n.Author.ProfileURL, name)+"</b> posted in")
	}
	parts = append(parts, "<b>"+link(n.Post.URL, n.Topic.Title)+"</b>")
	if l := providers.CategoryLabel(n.Topic.Category); l != "" {
		l = markup.EscapeHTML(l)
		if c := colour(n.Topic.Category); c != "" {
			l = `<font data-mx-color="#` + c + `">` + l + `</font>`
		}
		parts = append(parts, l)
	}
	if len(n.Topic.Tags) > 0 {
		parts = append(parts, "<i>"+markup.EscapeHTML(strings.Join(n.Topic.Tags, ", "))+"</i>")
	}
	return strings.Join(parts, " ")
}

// link is text linked to href when href is an http(s) URL, and the
// escaped text otherwise.
func link(href, text string) string {
	if !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "http://") {
		return markup.EscapeHTML(text)
	}
	return `<a href="` + markup.EscapeHTML(href) + `">` + markup.EscapeHTML(text) + `</a>`
}

// colour returns the category's colour when it is six hex digits, as
// Discourse stores it ("0088CC") and the only form data-mx-color takes;
// anything else is left out rather than put into an attribute.
func colour(c *providers.Category) string {
	if c == nil || len(c.Color) != 6 {
		return ""
	}
	for _, r := range c.Color {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return ""
		}
	}
	return c.Color
}

// quote prefixes every line with "> ", as plain-text clients quote.
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
