package discord

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The Discord payloads, built by pure functions from a Notification so
// they can be pinned by golden files. The transport (api.go) only encodes
// and sends them.
//
// The message is the reference's: the message_content setting as content,
// and one embed whose title is "<title> [Parent/Child] tags" linked to the
// post, whose colour is the category's, whose author is the poster (name,
// profile, avatar) and whose description is the excerpt. The excerpt is
// Markdown converted from the cooked post, so links, emphasis and code
// survive. Two additions: a footer with the forum's name and logo and the
// post's time, and optional username and avatar_url overrides.

// Discord's limits (discord-api-docs, "Embed Limits" and "Execute
// Webhook"), counted in characters.
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
	maxAuthorName  = 256
	maxFooterText  = 2048
	maxThreadName  = 100
	maxUsername    = 80
)

// footerTextLimit keeps the footer short: the sum of every embed text must
// stay under 6000, and title, description and author already take up to
// 4608.
const footerTextLimit = 256

// message is the JSON body of Execute Webhook.
type message struct {
	Content   string  `json:"content,omitempty"`
	Username  string  `json:"username,omitempty"`
	AvatarURL string  `json:"avatar_url,omitempty"`
	Embeds    []embed `json:"embeds"`
	// ThreadName creates a thread (a forum post) named so; it is set only
	// when Discord answered 220001, see Provider.Notify.
	ThreadName string `json:"thread_name,omitempty"`
}

// edit is the JSON body of Edit Webhook Message. Content is always sent so
// that clearing the message_content setting clears it on edited messages
// too; username, avatar and thread cannot be changed by an edit.
type edit struct {
	Content string  `json:"content"`
	Embeds  []embed `json:"embeds"`
}

// embed is the subset of a Discord embed the provider fills.
type embed struct {
	Title       string       `json:"title,omitempty"`
	URL         string       `json:"url,omitempty"`
	Description string       `json:"description,omitempty"`
	Color       *int         `json:"color,omitempty"` // 0 is black, so absent is nil
	Timestamp   string       `json:"timestamp,omitempty"`
	Author      *embedAuthor `json:"author,omitempty"`
	Footer      *embedFooter `json:"footer,omitempty"`
}

type embedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

type embedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target by optionsFor so that format itself stays pure.
type formatOptions struct {
	Content       string // text above the embed; may be empty
	Username      string // overrides the webhook's name; may be empty
	AvatarURL     string // overrides the webhook's avatar; may be empty
	ExcerptLength int    // visible characters of the excerpt
}

// format turns a notification into the Discord message o describes.
func format(n *providers.Notification, o formatOptions) message {
	return message{
		Content:   truncate(o.Content, maxContent),
		Username:  truncate(o.Username, maxUsername),
		AvatarURL: absURL(o.AvatarURL, n.Site.BaseURL),
		Embeds:    []embed{newEmbed(n, o)},
	}
}

// newEdit is the edit that gives a sent message n's content.
func newEdit(n *providers.Notification, o formatOptions) edit {
	m := format(n, o)
	return edit{Content: m.Content, Embeds: m.Embeds}
}

func newEmbed(n *providers.Notification, o formatOptions) embed {
	e := embed{
		Title:       fitEscaped(providers.TopicHeading(n.Topic), maxTitle),
		URL:         absURL(n.Post.URL, n.Site.BaseURL),
		Description: excerpt(n.Post.Cooked, n.Site.BaseURL, o.ExcerptLength),
		Color:       color(n.Topic.Category),
	}
	if e.URL == "" {
		e.URL = absURL(n.Topic.URL, n.Site.BaseURL)
	}
	if !n.Post.CreatedAt.IsZero() {
		e.Timestamp = n.Post.CreatedAt.UTC().Format(time.RFC3339)
	}
	if name := providers.DisplayName(n.Author); name != "" {
		e.Author = &embedAuthor{
			Name:    truncate(name, maxAuthorName),
			URL:     absURL(n.Author.ProfileURL, n.Site.BaseURL),
			IconURL: absURL(n.Author.AvatarURL, n.Site.BaseURL),
		}
	}
	if n.Site.Title != "" {
		e.Footer = &embedFooter{
			Text:    truncate(n.Site.Title, min(footerTextLimit, maxFooterText)),
			IconURL: absURL(n.Site.LogoURL, n.Site.BaseURL),
		}
	}
	return e
}

// threadName names the forum post a topic's notifications go to: the
// topic's title, which Discord allows up to 100 characters. Thread names
// are plain text, so nothing is escaped.
func threadName(n *providers.Notification) string {
	if t := strings.TrimSpace(n.Topic.Title); t != "" {
		return truncate(t, maxThreadName)
	}
	return "Topic " + strconv.FormatInt(n.Topic.ID, 10)
}

// excerpt converts cooked to Markdown with at most limit visible
// characters, and makes sure the result, link targets and markup
// included, fits an embed description: the converter counts only what is
// visible, so a post full of links can come out longer, and is then
// converted again with a smaller limit.
func excerpt(cooked, baseURL string, limit int) string {
	limit = min(limit, maxDescription-1)
	for range 8 {
		if limit < 1 {
			return ""
		}
		s := strings.TrimSpace(markup.Markdown(cooked, markup.Options{BaseURL: baseURL, Limit: limit, Emoji: markup.EmojiUnicode}))
		n := utf8.RuneCountInString(s)
		if n <= maxDescription {
			return s
		}
		// Shrink by the overflow, or in proportion when the markup
		// outweighs the text; both are below limit, so the loop ends.
		limit = max(limit-(n-maxDescription), limit*maxDescription/n-1)
	}
	return ""
}

// fitEscaped escapes s for Markdown and cuts it so the escaped text, an
// ellipsis included, has at most n characters, never between a backslash
// and the character it escapes.
func fitEscaped(s string, n int) string {
	out := markup.EscapeMarkdown(s)
	if utf8.RuneCountInString(out) <= n {
		return out
	}
	r := []rune(s)
	keep := min(len(r), n-1)
	for keep > 0 {
		out = markup.EscapeMarkdown(string(r[:keep])) + "…"
		over := utf8.RuneCountInString(out) - n
		if over <= 0 {
			return out
		}
		keep -= max(over/2, 1)
	}
	return "…"
}

// color is the category's colour as Discord's integer, or nil when the
// category has none (or a value that is not hex). A subcategory without a
// colour of its own shows its parent's.
func color(c *providers.Category) *int {
	for ; c != nil; c = c.Parent {
		hex := strings.TrimPrefix(strings.TrimSpace(c.Color), "#")
		if len(hex) == 3 {
			hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
		}
		if len(hex) != 6 {
			continue
		}
		v, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			continue
		}
		i := int(v)
		return &i
	}
	return nil
}

// absURL returns u as an absolute http(s) URL, or "" when it cannot be
// one: Discord refuses a whole message whose embed holds any other URL. A
// protocol-relative URL gets https (the reference prefixes "http:"), and a
// path is resolved against the forum.
func absURL(u, baseURL string) string {
	switch {
	case u == "":
		return ""
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return u
	case strings.HasPrefix(u, "//"):
		return "https:" + u
	case strings.HasPrefix(u, "/") && baseURL != "":
		return strings.TrimSuffix(baseURL, "/") + u
	}
	return ""
}

// truncate cuts s to at most n characters, ending a cut string with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
