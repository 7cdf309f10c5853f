package googlechat

import (
	"strconv"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/markup"
)

// The message a webhook receives, built by a pure function from a
// Notification so it can be pinned by golden files.
//
// The card follows the reference's (legacy cards, rebuilt in cardsV2): a
// decorated text whose top label says "New topic on <site>" or "New post
// on <site>", whose text is the linked title line and whose bottom label
// names the author, beside the author's avatar; and a "View on <site>"
// button. Card text is Google's small HTML subset, so the title and the
// labels are HTML-escaped: a display name must not become a link. The excerpt is the message's text, above the card, in
// Google Chat's own text format: cards would need HTML, and text messages
// are where Google Chat renders links, code and lists as its users write
// them.

type message struct {
	Text    string       `json:"text,omitempty"`
	CardsV2 []cardWithID `json:"cardsV2"`
	Thread  *thread      `json:"thread,omitempty"`
}

// thread names the thread to reply into, by name or by key.
type thread struct {
	Name      string `json:"name,omitempty"`
	ThreadKey string `json:"threadKey,omitempty"`
}

type cardWithID struct {
	CardID string `json:"cardId"`
	Card   card   `json:"card"`
}

type card struct {
	Sections []section `json:"sections"`
}

type section struct {
	Widgets []widget `json:"widgets"`
}

// widget holds exactly one of its fields, as the Cards v2 union requires.
type widget struct {
	DecoratedText *decoratedText `json:"decoratedText,omitempty"`
	ButtonList    *buttonList    `json:"buttonList,omitempty"`
}

type decoratedText struct {
	TopLabel    string   `json:"topLabel"`
	Text        string   `json:"text"`
	BottomLabel string   `json:"bottomLabel,omitempty"`
	WrapText    bool     `json:"wrapText"`
	StartIcon   *icon    `json:"startIcon,omitempty"`
	OnClick     *onClick `json:"onClick,omitempty"`
}

type icon struct {
	IconURL   string `json:"iconUrl"`
	AltText   string `json:"altText,omitempty"`
	ImageType string `json:"imageType"`
}

type onClick struct {
	OpenLink openLink `json:"openLink"`
}

type openLink struct {
	URL string `json:"url"`
}

type buttonList struct {
	Buttons []button `json:"buttons"`
}

type button struct {
	Text    string  `json:"text"`
	OnClick onClick `json:"onClick"`
}

// threadKey is the key of a topic's thread in every space.
func threadKey(topicID int64) string { return "discourse-topic-" + strconv.FormatInt(topicID, 10) }

// format turns n into the webhook's message, with at most excerptLength
// visible characters of the post.
func format(n *providers.Notification, excerptLength int) message {
	label := "New post on " + n.Site.Title
	if n.Post.Number == 1 {
		label = "New topic on " + n.Site.Title
	}
	heading := decoratedText{
		TopLabel: markup.EscapeHTML(label),
		Text:     "<b>" + markup.EscapeHTML(providers.TopicHeading(n.Topic)) + "</b>",
		WrapText: true,
	}
	if name := displayName(n.Author); name != "" {
		heading.BottomLabel = "by " + markup.EscapeHTML(name)
	}
	if n.Author.AvatarURL != "" {
		heading.StartIcon = &icon{IconURL: n.Author.AvatarURL, AltText: n.Author.Username, ImageType: "CIRCLE"}
	}
	widgets := []widget{{DecoratedText: &heading}}
	if u := postURL(n); u != "" {
		heading.OnClick = &onClick{OpenLink: openLink{URL: u}}
		widgets = append(widgets, widget{ButtonList: &buttonList{Buttons: []button{
			{Text: "View on " + n.Site.Title, OnClick: onClick{OpenLink: openLink{URL: u}}},
		}}})
	}
	return message{
		Text: markup.GoogleChatText(n.Post.Cooked, markup.Options{
			BaseURL: n.Site.BaseURL, Limit: excerptLength, Emoji: markup.EmojiUnicode,
		}),
		CardsV2: []cardWithID{{
			CardID: "post-" + strconv.FormatInt(n.Post.ID, 10),
			Card:   card{Sections: []section{{Widgets: widgets}}},
		}},
		Thread: replyTo(n),
	}
}

// replyTo is the thread a "thread" rule replies into: the one the engine
// knows, or the topic's key. Other rules start a thread of their own.
func replyTo(n *providers.Notification) *thread {
	switch {
	case n.Filter != "thread":
		return nil
	case n.ThreadID != "":
		return &thread{Name: n.ThreadID}
	case n.Topic.ID != 0:
		return &thread{ThreadKey: threadKey(n.Topic.ID)}
	}
	return nil
}

// displayName is the name the forum shows (reference §2.4), or @username
// when the notification carries none.
func displayName(a providers.Author) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	if a.Username != "" {
		return "@" + a.Username
	}
	return ""
}

// postURL links the post, or the topic when the post has no URL.
func postURL(n *providers.Notification) string {
	if n.Post.URL != "" {
		return n.Post.URL
	}
	return n.Topic.URL
}
