package powerautomate

import (
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The body a workflow receives, built by a pure function from a
// Notification so it can be pinned by golden files. It is the envelope the
// Workflows template "Post to a channel when a webhook request is received"
// reads (a "message" with one Adaptive Card attachment) around the
// reference's card: a large linked title, the author as an avatar beside
// the full name and a subtle @username, and the excerpt. The card is
// version 1.4, which Teams renders, rather than the reference's 1.2.
// TextBlocks take Markdown, so names and titles are escaped. Adaptive
// Cards have no free colour, so the category colour is not shown.

const (
	adaptiveContentType = "application/vnd.microsoft.card.adaptive"
	adaptiveSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
	adaptiveVersion     = "1.4"
)

type envelope struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

// attachment carries the card. contentUrl is always null, as Microsoft's
// samples and the reference send it.
type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     card    `json:"content"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
}

// element is the subset of Adaptive Card elements the card uses: TextBlock,
// ColumnSet, Column and Image, in one struct because each sets a few of
// these fields.
type element struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Size     string    `json:"size,omitempty"`
	Weight   string    `json:"weight,omitempty"`
	IsSubtle bool      `json:"isSubtle,omitempty"`
	Spacing  string    `json:"spacing,omitempty"`
	Wrap     bool      `json:"wrap,omitempty"`
	URL      string    `json:"url,omitempty"`
	Style    string    `json:"style,omitempty"`
	AltText  string    `json:"altText,omitempty"`
	Width    string    `json:"width,omitempty"`
	Columns  []element `json:"columns,omitempty"`
	Items    []element `json:"items,omitempty"`
}

// format turns n into the workflow's body, with at most excerptLength
// visible characters of the post.
func format(n *providers.Notification, excerptLength int) envelope {
	title := markup.EscapeMarkdown(providers.TopicHeading(n.Topic))
	if u := providers.PostURL(n); u != "" {
		title = "[" + title + "](" + u + ")"
	}
	body := []element{{Type: "TextBlock", Text: title, Size: "Large", Weight: "Bolder", Wrap: true}}
	if author := authorColumns(n.Author); author != nil {
		body = append(body, element{Type: "ColumnSet", Columns: author})
	}
	if ex := markup.Markdown(n.Post.Cooked, markup.Options{BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiUnicode}); ex != "" {
		body = append(body, element{Type: "TextBlock", Text: ex, Wrap: true})
	}
	return envelope{Type: "message", Attachments: []attachment{{
		ContentType: adaptiveContentType,
		Content:     card{Schema: adaptiveSchema, Type: "AdaptiveCard", Version: adaptiveVersion, Body: body},
	}}}
}

// authorColumns is the avatar beside the full name and a subtle
// @username; nil when the post has no author to show. Empty parts are left
// out because Teams rejects an Image without a url.
func authorColumns(a providers.Author) []element {
	var names []element
	if a.Name != "" {
		names = append(names, element{Type: "TextBlock", Text: markup.EscapeMarkdown(a.Name), Weight: "Bolder", Wrap: true})
	}
	if a.Username != "" {
		names = append(names, element{Type: "TextBlock", Text: markup.EscapeMarkdown("@" + a.Username), IsSubtle: true, Spacing: "None", Wrap: true})
	}
	if len(names) == 0 {
		return nil
	}
	var cols []element
	if a.AvatarURL != "" {
		cols = append(cols, element{Type: "Column", Width: "auto", Items: []element{
			{Type: "Image", URL: a.AvatarURL, Style: "Person", Size: "Small", AltText: a.Username},
		}})
	}
	return append(cols, element{Type: "Column", Width: "stretch", Items: names})
}
