package telegram

import (
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The Telegram payloads, built by pure functions from a Notification so
// they can be pinned by golden files. The transport (api.go) only encodes
// and sends them.
//
// The text follows the reference's message, "<b>user</b> posted in <a
// href=post>title</a>" and the excerpt after a blank line, with two
// changes: the category and tags follow the title (the reference computes
// them but leaves them out), and the excerpt is Telegram HTML converted
// from the cooked post (links, bold, code and quotes survive) instead of
// plain text in a <pre>. Every other value is escaped with
// markup.EscapeHTML, so a title like "<b>" stays text.

// maxText is Telegram's limit for a message text, counted after entity
// parsing, that is on the visible text.
const maxText = 4096

// Bounds for the header's parts. Discourse titles are at most 255
// characters, but tags and names come from other plugins too; the bounds
// keep the header a small part of maxText whatever they hold.
const (
	maxTitle = 300
	maxName  = 120
	maxTags  = 300
)

// chatID is a chat_id as the Bot API takes it: a JSON number for a numeric
// id, a string for a public channel's @username.
type chatID = any

// messageID is a Telegram message id.
type messageID = int64

// sendRequest is the JSON body of sendMessage.
type sendRequest struct {
	ChatID             chatID           `json:"chat_id"`
	Text               string           `json:"text"`
	ParseMode          string           `json:"parse_mode"`
	LinkPreviewOptions linkPreview      `json:"link_preview_options"`
	ReplyParameters    *replyParameters `json:"reply_parameters,omitempty"`
}

// editRequest is the JSON body of editMessageText.
type editRequest struct {
	ChatID             chatID      `json:"chat_id"`
	MessageID          messageID   `json:"message_id"`
	Text               string      `json:"text"`
	ParseMode          string      `json:"parse_mode"`
	LinkPreviewOptions linkPreview `json:"link_preview_options"`
}

// deleteRequest is the JSON body of deleteMessage.
type deleteRequest struct {
	ChatID    chatID    `json:"chat_id"`
	MessageID messageID `json:"message_id"`
}

// getChat is the JSON body of getChat.
type getChat struct {
	ChatID chatID `json:"chat_id"`
}

// linkPreview turns the link preview off, as the reference does with
// disable_web_page_preview; link_preview_options is that field's
// replacement since Bot API 7.0. The message links to the forum, whose
// preview would only repeat the excerpt.
type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// replyParameters makes the message a reply to the topic's root. With
// allow_sending_without_reply a deleted root does not fail the message: it
// is sent as a plain one.
type replyParameters struct {
	MessageID                json.Number `json:"message_id"`
	AllowSendingWithoutReply bool        `json:"allow_sending_without_reply"`
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target by formatOptionsFor so that the formatter stays pure.
type formatOptions struct {
	ExcerptLength int // visible characters of the excerpt
}

// newSend builds the sendMessage body for n in chat, replying to root when
// it is not empty.
func newSend(chat chatID, n *providers.Notification, root string, o formatOptions) sendRequest {
	req := sendRequest{
		ChatID:             chat,
		Text:               text(n, o),
		ParseMode:          "HTML",
		LinkPreviewOptions: linkPreview{IsDisabled: true},
	}
	if id, ok := replyTo(root); ok {
		req.ReplyParameters = &replyParameters{MessageID: id, AllowSendingWithoutReply: true}
	}
	return req
}

// newEdit builds the editMessageText body replacing message id's text
// with n's.
func newEdit(chat chatID, id messageID, n *providers.Notification, o formatOptions) editRequest {
	return editRequest{
		ChatID:             chat,
		MessageID:          id,
		Text:               text(n, o),
		ParseMode:          "HTML",
		LinkPreviewOptions: linkPreview{IsDisabled: true},
	}
}

// chatRef returns the chat_id value for s: a number when s is a numeric
// id, s itself for an @username.
func chatRef(s string) chatID {
	if isNumber(s) {
		return json.Number(s)
	}
	return s
}

// replyTo returns the root's message id as a JSON number. Telegram's
// message ids are positive integers, and this provider only ever stores
// those; any other root cannot name a message, and the message goes out
// without a reply rather than not at all.
func replyTo(root string) (json.Number, bool) {
	id, err := strconv.ParseInt(root, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != root {
		return "", false
	}
	return json.Number(root), true
}

// isNumber reports whether s is exactly one JSON number, without the
// whitespace json.Valid would allow around it.
func isNumber(s string) bool {
	if s == "" || strings.TrimSpace(s) != s || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return json.Valid([]byte(s))
}

// text is the message: the header line, and the excerpt after a blank
// line when the post has any text. The whole stays within maxText.
func text(n *providers.Notification, o formatOptions) string {
	head := header(n)
	budget := maxText - visibleLen(head) - 2
	ex := excerpt(n.Post.Cooked, n.Site.BaseURL, min(o.ExcerptLength, budget), budget)
	if ex == "" {
		return head
	}
	return head + "\n\n" + ex
}

// header is "<b>name</b> posted in <a href=url>title</a> [Parent/Child]
// tags", leaving out what the notification does not have.
func header(n *providers.Notification) string {
	var b strings.Builder
	if name := providers.DisplayName(n.Author); name != "" {
		b.WriteString("<b>" + markup.EscapeHTML(truncate(name, maxName)) + "</b> posted in ")
	}
	title := markup.EscapeHTML(truncate(n.Topic.Title, maxTitle))
	if link := n.Post.URL; link != "" {
		b.WriteString(`<a href="` + markup.EscapeHTML(link) + `">` + title + "</a>")
	} else {
		b.WriteString("<b>" + title + "</b>")
	}
	if l := providers.CategoryLabel(n.Topic.Category); l != "" {
		b.WriteString(" " + markup.EscapeHTML(truncate(l, maxTitle)))
	}
	if len(n.Topic.Tags) > 0 {
		b.WriteString(" " + markup.EscapeHTML(truncate(strings.Join(n.Topic.Tags, ", "), maxTags)))
	}
	return b.String()
}

// excerpt converts cooked to Telegram HTML with at most limit visible
// characters, and makes sure the result's visible text fits budget as
// Telegram counts it (UTF-16 code units, where an emoji counts two): the
// converter counts characters, so a post full of emoji can come out longer,
// and is then converted again with a smaller limit.
func excerpt(cooked, baseURL string, limit, budget int) string {
	for range 8 {
		if limit < 1 {
			return ""
		}
		s := strings.TrimSpace(markup.TelegramHTML(cooked, markup.Options{BaseURL: baseURL, Limit: limit, Emoji: markup.EmojiUnicode}))
		n := visibleLen(s)
		if n <= budget {
			return s
		}
		// Shrink by the overflow, or in proportion when characters count
		// double (emoji); both are below limit, so the loop ends.
		limit = max(limit-(n-budget), limit*budget/n-1)
	}
	return ""
}

// visibleLen is the length of s's text once Telegram has parsed its HTML:
// tags removed, entities decoded, counted in UTF-16 code units. Every '<'
// in text is escaped, so each '<' starts a tag.
func visibleLen(s string) int {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		s = s[i+j+1:]
	}
	n := 0
	for _, r := range html.UnescapeString(b.String()) {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncate cuts s to at most n characters, ending a cut string with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
