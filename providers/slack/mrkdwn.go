package slack

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxSectionText is Slack's limit on a section block's text; a longer one
// fails the whole message with invalid_blocks.
const maxSectionText = 3000

// ellipsis ends a truncated excerpt, as Discourse's excerpts end.
const ellipsis = "…"

// escapeMrkdwn escapes the three characters Slack's mrkdwn treats as
// control characters. Slack has no escape for *, _, ~ or `, so those stay
// as they are: a stray asterisk may turn text bold, which is the lesser
// evil next to inserting invisible characters into copied text.
func escapeMrkdwn(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString(escapeRune(r))
	}
	return b.String()
}

func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// linkURL prepares an absolute URL for Slack's <url|text> syntax: & < >
// are escaped like any text and '|', which would end the URL, is
// percent-encoded.
func linkURL(u string) string {
	return strings.ReplaceAll(escapeMrkdwn(u), "|", "%7C")
}

// mrkdwnLink returns <url|text>, or <url> when the text is the URL itself.
func mrkdwnLink(u, text string) string {
	if text == "" || text == u {
		return "<" + linkURL(u) + ">"
	}
	return "<" + linkURL(u) + "|" + escapeMrkdwn(text) + ">"
}

// excerpt converts Discourse's cooked HTML to Slack mrkdwn the way the
// reference's SlackMessageFormatter does: it keeps the text, turns links
// into <absolute-url|text> (relative ones resolved against baseURL), turns
// emoji images into their :code:, and keeps only the source link of a
// onebox. Quotes, scripts and image metadata are left out. The result has
// at most limit visible characters (runes; a link counts as its text) and
// at most maxSectionText characters in all, and ends in "…" when it was
// cut.
func excerpt(cooked, baseURL string, limit int) string {
	nodes, err := html.ParseFragment(strings.NewReader(cooked), &html.Node{
		Type: html.ElementNode, Data: "body", DataAtom: atom.Body,
	})
	if err != nil { // only on a failing reader, which a string never is
		return ""
	}
	w := &mrkdwnWriter{visible: limit, output: maxSectionText - utf8.RuneCountInString(ellipsis)}
	if b, err := url.Parse(baseURL); err == nil && b.IsAbs() {
		w.base = b
	}
	for _, n := range nodes {
		w.node(n)
	}
	return w.sb.String()
}

// mrkdwnWriter accumulates mrkdwn within two budgets: visible characters
// (excerpt_length) and output characters (Slack's block limit).
type mrkdwnWriter struct {
	sb        strings.Builder
	base      *url.URL // nil when the forum's URL is unknown
	visible   int      // visible characters left
	output    int      // output characters left, the ellipsis reserved
	truncated bool
	space     bool // a space is due before the next content
	breaks    int  // newlines due before the next content
	pre       int  // depth inside <pre>, where whitespace is kept
}

// put writes one piece of content that shows as n visible characters and
// is encoded as out. It returns false, and ends the excerpt with the
// ellipsis, when the piece does not fit.
func (w *mrkdwnWriter) put(n int, out string) bool {
	if w.truncated {
		return false
	}
	sep := ""
	if w.sb.Len() > 0 {
		switch {
		case w.breaks > 0:
			sep = strings.Repeat("\n", w.breaks)
		case w.space:
			sep = " "
		}
	}
	need := n + len(sep)
	if need > w.visible || len(sep)+utf8.RuneCountInString(out) > w.output {
		w.cut()
		return false
	}
	w.sb.WriteString(sep)
	w.sb.WriteString(out)
	w.visible -= need
	w.output -= len(sep) + utf8.RuneCountInString(out)
	w.space, w.breaks = false, 0
	return true
}

func (w *mrkdwnWriter) cut() {
	if !w.truncated {
		w.truncated = true
		w.sb.WriteString(ellipsis)
	}
}

// text writes a text node, collapsing whitespace outside <pre>.
func (w *mrkdwnWriter) text(s string) {
	for _, r := range s {
		switch {
		case w.pre > 0 && r == '\n':
			if !w.put(1, "\n") {
				return
			}
		case w.pre == 0 && unicode.IsSpace(r):
			if w.sb.Len() > 0 {
				w.space = true
			}
		default:
			if !w.put(1, escapeRune(r)) {
				return
			}
		}
	}
}

// lineBreak asks for n newlines (at most two) before the next content.
func (w *mrkdwnWriter) lineBreak(n int) {
	if w.sb.Len() > 0 {
		w.breaks = min(max(w.breaks, n), 2)
	}
}

// link writes <url|text>. A link that cannot be made absolute, or whose
// scheme Slack would not open, is written as its text. Link text longer
// than the visible budget is shortened inside the link.
func (w *mrkdwnWriter) link(href, text string) {
	u := w.resolve(href)
	if u == "" {
		w.text(text)
		return
	}
	if text == "" {
		text = u
	}
	runes := []rune(text)
	avail := w.visible - w.sepLen()
	switch {
	case len(runes) <= avail:
		w.put(len(runes), mrkdwnLink(u, text))
	case avail <= 0:
		w.cut()
	case w.put(avail, mrkdwnLink(u, string(runes[:avail]))):
		w.cut()
	}
}

// sepLen is the visible length of the separator put would write next.
func (w *mrkdwnWriter) sepLen() int {
	switch {
	case w.sb.Len() == 0:
		return 0
	case w.breaks > 0:
		return w.breaks
	case w.space:
		return 1
	}
	return 0
}

// resolve returns href as an absolute http(s) or mailto URL, or "".
func (w *mrkdwnWriter) resolve(href string) string {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil || href == "" {
		return ""
	}
	if !ref.IsAbs() {
		if w.base == nil {
			return ""
		}
		ref = w.base.ResolveReference(ref)
	}
	switch ref.Scheme {
	case "http", "https":
		if ref.Host == "" {
			return ""
		}
	case "mailto":
	default:
		return "" // javascript:, data: and friends are never links
	}
	return ref.String()
}

// node writes n and its children.
func (w *mrkdwnWriter) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	if w.truncated || skipped(n) {
		return
	}
	switch n.DataAtom {
	case atom.A:
		w.link(attr(n, "href"), plainText(n))
		return
	case atom.Img:
		if code := emojiCode(n); code != "" {
			w.put(utf8.RuneCountInString(code), code)
		}
		return
	case atom.Br:
		w.lineBreak(1)
		return
	case atom.Aside:
		if hasClass(n, "onebox") {
			w.onebox(n)
			return
		}
	}

	brk := blockBreak(n.DataAtom)
	w.lineBreak(brk)
	if n.DataAtom == atom.Li {
		w.put(1, "•")
		w.space = true
	}
	if n.DataAtom == atom.Pre {
		w.pre++
		defer func() { w.pre-- }()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
	w.lineBreak(brk)
}

// onebox writes only a onebox's source link, as the reference's
// keep_onebox_source does: the preview is Slack's job.
func (w *mrkdwnWriter) onebox(n *html.Node) {
	var src *html.Node
	if h := find(n, func(c *html.Node) bool { return c.DataAtom == atom.Header }); h != nil {
		src = find(h, func(c *html.Node) bool { return c.DataAtom == atom.A && attr(c, "href") != "" })
	}
	if src == nil {
		src = find(n, func(c *html.Node) bool { return c.DataAtom == atom.A && attr(c, "href") != "" })
	}
	if src == nil {
		return
	}
	w.lineBreak(2)
	w.link(attr(src, "href"), plainText(src))
	w.lineBreak(2)
}

// blockBreak is how many newlines separate element a from its
// neighbours: two around paragraphs, one around list items and rows, none
// for inline elements.
func blockBreak(a atom.Atom) int {
	switch a {
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Blockquote, atom.Pre, atom.Ul, atom.Ol, atom.Table, atom.Aside,
		atom.Section, atom.Header, atom.Footer, atom.Details, atom.Figure, atom.Hr:
		return 2
	case atom.Li, atom.Tr, atom.Dt, atom.Dd, atom.Summary:
		return 1
	}
	return 0
}

// skipped reports elements whose content never belongs in an excerpt:
// non-text elements, quotes of other posts (left out by Discourse's
// excerpts too), an image's size and file name, and spoilers.
func skipped(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Svg, atom.Head, atom.Video, atom.Audio:
		return true
	case atom.Aside:
		return hasClass(n, "quote")
	case atom.Div:
		return hasClass(n, "meta")
	}
	return hasClass(n, "spoiler") || hasClass(n, "spoiled")
}

// emojiCode returns an emoji image's :code:, from its title or alt, or ""
// for any other image.
func emojiCode(n *html.Node) string {
	if !hasClass(n, "emoji") {
		return ""
	}
	for _, key := range []string{"title", "alt"} {
		if v := strings.TrimSpace(attr(n, key)); isEmojiCode(v) {
			return v
		}
	}
	return ""
}

func isEmojiCode(s string) bool {
	if len(s) < 3 || s[0] != ':' || s[len(s)-1] != ':' {
		return false
	}
	for _, r := range s[1 : len(s)-1] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+-", r)) {
			return false
		}
	}
	return true
}

// plainText returns the text of n's subtree with whitespace collapsed and
// emoji images as their codes, for link text.
func plainText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.DataAtom == atom.Img:
			if code := emojiCode(n); code != "" {
				b.WriteString(" " + code + " ")
			}
		case n.Type == html.ElementNode && skipped(n):
		default:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), class)
}

// find returns the first element below n (depth first) that match accepts.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && match(c) {
			return c
		}
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}
