package zulip

import (
	"strings"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The Zulip message, built by a pure function from a Notification so it
// can be pinned by golden files. The transport (api.go) only form-encodes
// and sends it.
//
// The content follows the reference, with the category and tags the
// issue asks for after the title:
//
//	**Jane Doe (@jane)** posted in **[Title](post URL)** [Parent/Child] tags
//	~~~quote
//	excerpt
//	~~~
//
// Names and titles are Markdown-escaped, which also keeps Zulip's mention
// syntax (@**name**) and stream links (#**stream**) from forming out of
// forum text, since both need an unescaped "**".

// message holds the form fields of POST /api/v1/messages.
type message struct {
	Type    string `json:"type"`
	To      string `json:"to"`
	Topic   string `json:"topic"`
	Content string `json:"content"`
}

// fields returns the message as form fields.
func (m message) fields() map[string]string {
	return map[string]string{"type": m.Type, "to": m.To, "topic": m.Topic, "content": m.Content}
}

// formatOptions are the per-delivery choices the formatter needs, taken
// from the target so that format stays pure.
type formatOptions struct {
	Stream        string
	Subject       string // the channel's subject
	PerTopic      bool   // the Zulip topic is the forum topic's title
	Thread        string // the known Zulip topic a thread rule posts into
	ExcerptLength int    // visible characters of the excerpt
}

// optionsFor reads the formatter's options from t and n: a thread rule
// posts into the thread n names, if any; a forum topic gets its own Zulip
// topic when the provider says so for every channel, or when the winning
// rule is a thread rule.
func optionsFor(t *providers.Target, n *providers.Notification) formatOptions {
	thread := n.Filter == "thread"
	o := formatOptions{
		Stream:        t.Data["stream"],
		Subject:       t.Data["subject"],
		PerTopic:      t.Settings.Bool("topic_per_forum_topic", false) || thread,
		ExcerptLength: t.Settings.Int("excerpt_length", 400),
	}
	if thread {
		o.Thread = strings.TrimSpace(n.ThreadID)
	}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = 400
	}
	return o
}

// format turns n into the message o describes.
func format(n *providers.Notification, o formatOptions) message {
	return message{Type: "stream", To: o.Stream, Topic: topicFor(n, o), Content: formatContent(n, o)}
}

// topicFor is the Zulip topic of n: the known thread of a thread rule;
// else the forum topic's title when topics follow forum topics (the
// subject when the title is blank); else the channel's subject; cut to
// TopicMaxRunes. The thread wins over the title so that a forum topic
// renamed after its first post stays in the Zulip topic it started.
func topicFor(n *providers.Notification, o formatOptions) string {
	topic := o.Subject
	switch title := strings.Join(strings.Fields(n.Topic.Title), " "); {
	case o.Thread != "":
		topic = o.Thread
	case o.PerTopic && title != "":
		topic = title
	}
	return cut(topic, TopicMaxRunes)
}

// cut shortens s to at most max runes, ending a cut string with "…".
func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:max-1]), " ") + "…"
}

// formatContent is the Markdown content of n, also what an edit sends.
func formatContent(n *providers.Notification, o formatOptions) string {
	var b strings.Builder
	b.WriteString(providers.MarkdownHeading(n))
	ex := markup.Markdown(n.Post.Cooked, markup.Options{
		BaseURL: n.Site.BaseURL, Limit: o.ExcerptLength, Emoji: markup.EmojiShortcode,
	})
	if ex != "" {
		// A fence longer than any run of tildes in the excerpt, so a code
		// block in it cannot end the quote.
		fence := strings.Repeat("~", max(3, longestRun(ex, '~')+1))
		b.WriteString("\n" + fence + "quote\n" + ex + "\n" + fence)
	}
	return b.String()
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}
