package groupme

import (
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The bot post, built by a pure function from a Notification so it can be
// pinned by golden files. The text is the reference's:
//
//	<author> Posted to <site>
//
//	Topic: <title> [<category>] <tags>
//
//	<excerpt>
//	(Read More: <url>)
//
// in plain text, since GroupMe renders no markup, and at most maxText
// characters: the excerpt gives way first, so the link always survives.

// maxText is GroupMe's limit on a message's text, in characters.
const maxText = 1000

// post is the body of POST /v3/bots/post.
type post struct {
	BotID string `json:"bot_id"`
	Text  string `json:"text"`
}

// format returns the text of n's post, with at most excerptLength visible
// characters of the excerpt.
func format(n *providers.Notification, excerptLength int) string {
	head := "Posted to " + n.Site.Title
	if name := providers.DisplayName(n.Author); name != "" {
		head = name + " " + head
	}
	head += "\n\nTopic: " + providers.TopicHeading(n.Topic)
	tail := ""
	if u := providers.PostURL(n); u != "" {
		tail = "\n(Read More: " + u + ")"
	}
	budget := maxText - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail) - len("\n\n")
	if budget > 1 {
		// Links add their URL to the visible text, so the result is cut
		// again to the budget.
		ex := markup.PlainText(n.Post.Cooked, markup.Options{
			BaseURL: n.Site.BaseURL, Limit: min(excerptLength, budget), Emoji: markup.EmojiUnicode,
		})
		if ex != "" {
			head += "\n\n" + cut(ex, budget)
		}
	}
	return cut(head+tail, maxText)
}

// cut shortens s to at most n characters, ending with "…" when it had to.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
