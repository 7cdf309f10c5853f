package providers

import "strings"

// Pure text helpers for the title line several providers share (reference
// §3: "<topic.title> <[Parent/Child] or [Category]> <tags joined ', '>").
// They return plain text; each provider escapes it for its own markup.

// CategoryLabel returns "[Parent/Child]" for a subcategory, "[Category]"
// for a top-level one, and "" for a topic without a category (a personal
// message), which the reference would have no category for either.
func CategoryLabel(c *Category) string {
	if c == nil {
		return ""
	}
	if c.Parent != nil {
		return "[" + c.Parent.Name + "/" + c.Name + "]"
	}
	return "[" + c.Name + "]"
}

// TopicHeading returns the topic's title, category label and tags joined by
// spaces, leaving out the empty parts: "Release 2.0 [Meta/Announcements]
// release, news".
func TopicHeading(t Topic) string {
	parts := []string{t.Title}
	if l := CategoryLabel(t.Category); l != "" {
		parts = append(parts, l)
	}
	if len(t.Tags) > 0 {
		parts = append(parts, strings.Join(t.Tags, ", "))
	}
	return strings.Join(parts, " ")
}

// DisplayName is the name the forum shows for a (reference §2.4), or
// "@username" when the notification carries none, or "" without an author.
func DisplayName(a Author) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	if a.Username != "" {
		return "@" + a.Username
	}
	return ""
}

// PostURL is the post's link, or the topic's when the post has none.
func PostURL(n *Notification) string {
	if n.Post.URL != "" {
		return n.Post.URL
	}
	return n.Topic.URL
}
