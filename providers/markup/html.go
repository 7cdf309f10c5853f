package markup

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// htmlWriter renders a tree as Telegram or Matrix HTML. Every element it
// opens it closes before returning, so the output is balanced whatever
// the tree.
type htmlWriter struct {
	sb       strings.Builder
	matrix   bool
	quotes   int // blockquote depth
	inLink   bool
	inFormat int // depth inside b, i, u, s or tg-spoiler (Telegram)
}

func renderTelegram(root *node) string {
	w := &htmlWriter{}
	w.telegramBlocks(root.kids, false)
	return w.sb.String()
}

func renderMatrix(root *node) string {
	w := &htmlWriter{matrix: true}
	w.matrixBlocks(root.kids)
	return w.sb.String()
}

// telegramBlocks renders blocks with newlines: Telegram's HTML has no
// paragraphs or lists, and keeps the newlines it is sent.
func (w *htmlWriter) telegramBlocks(ns []*node, tight bool) {
	for i, n := range ns {
		if i > 0 {
			if tight && n.kind == kList {
				w.sb.WriteString("\n")
			} else {
				w.sb.WriteString("\n\n")
			}
		}
		w.telegramBlock(n)
	}
}

func (w *htmlWriter) telegramBlock(n *node) {
	switch n.kind {
	case kPara:
		w.inline(n.kids)
	case kHeading:
		w.inline([]*node{{kind: kStrong, kids: n.kids}})
	case kQuote:
		// Telegram refuses nested blockquotes: inner ones are
		// flattened into the outer one.
		if w.quotes > 0 {
			w.telegramBlocks(n.kids, false)
			return
		}
		w.quotes++
		w.sb.WriteString("<blockquote>")
		w.telegramBlocks(n.kids, false)
		w.sb.WriteString("</blockquote>")
		w.quotes--
	case kList:
		for i, item := range n.kids {
			if i > 0 {
				w.sb.WriteString("\n")
			}
			marker := "• "
			if n.ordered {
				marker = strconv.Itoa(n.start+i) + ". "
			}
			// Render the item alone to indent its continuation
			// lines; indenting only adds spaces after newlines, so
			// the markup stays balanced.
			sub := &htmlWriter{quotes: w.quotes}
			sub.telegramBlocks(item.kids, true)
			indent := strings.Repeat(" ", utf8.RuneCountInString(marker))
			w.sb.WriteString(prefixLines(sub.sb.String(), marker, indent))
		}
	case kCodeBlock:
		// pre may not be inside a blockquote.
		if w.quotes > 0 {
			w.sb.WriteString(EscapeHTML(n.text))
			return
		}
		w.sb.WriteString("<pre>")
		if lang := infoString(n.lang); lang != "" {
			w.sb.WriteString(`<code class="language-` + EscapeHTML(lang) + `">` + EscapeHTML(n.text) + "</code>")
		} else {
			w.sb.WriteString(EscapeHTML(n.text))
		}
		w.sb.WriteString("</pre>")
	case kRule:
		w.sb.WriteString("———")
	}
}

// matrixBlocks renders blocks as HTML elements.
func (w *htmlWriter) matrixBlocks(ns []*node) {
	for _, n := range ns {
		w.matrixBlock(n)
	}
}

func (w *htmlWriter) matrixBlock(n *node) {
	switch n.kind {
	case kPara:
		w.sb.WriteString("<p>")
		w.inline(n.kids)
		w.sb.WriteString("</p>")
	case kHeading:
		w.sb.WriteString("<p><strong>")
		w.inline(n.kids)
		w.sb.WriteString("</strong></p>")
	case kQuote:
		w.sb.WriteString("<blockquote>")
		w.matrixBlocks(n.kids)
		w.sb.WriteString("</blockquote>")
	case kList:
		tag := "ul"
		if n.ordered {
			tag = "ol"
		}
		w.sb.WriteString("<" + tag + ">")
		for _, item := range n.kids {
			w.sb.WriteString("<li>")
			// A tight item holds its text without a paragraph.
			if len(item.kids) > 0 && item.kids[0].kind == kPara {
				w.inline(item.kids[0].kids)
				w.matrixBlocks(item.kids[1:])
			} else {
				w.matrixBlocks(item.kids)
			}
			w.sb.WriteString("</li>")
		}
		w.sb.WriteString("</" + tag + ">")
	case kCodeBlock:
		w.sb.WriteString("<pre><code>" + EscapeHTML(n.text) + "</code></pre>")
	case kRule:
		w.sb.WriteString("<hr>")
	}
}

// inline renders inline nodes for either target.
func (w *htmlWriter) inline(ns []*node) {
	for _, n := range ns {
		switch n.kind {
		case kText, kEmoji:
			w.sb.WriteString(EscapeHTML(n.text))
		case kBreak:
			if w.matrix {
				w.sb.WriteString("<br>")
			} else {
				w.sb.WriteString("\n")
			}
		case kStrong:
			w.element("b", "strong", n.kids)
		case kEm:
			w.element("i", "em", n.kids)
		case kStrike:
			w.element("s", "del", n.kids)
		case kUnderline:
			w.element("u", "u", n.kids)
		case kSpoiler:
			if w.matrix {
				w.sb.WriteString(EscapeHTML(spoilerText))
			} else {
				w.element("tg-spoiler", "", n.kids)
			}
		case kCode:
			// Telegram's code may not be inside any other entity.
			if !w.matrix && (w.inLink || w.inFormat > 0 || w.quotes > 0) {
				w.sb.WriteString(EscapeHTML(n.text))
			} else {
				w.sb.WriteString("<code>" + EscapeHTML(n.text) + "</code>")
			}
		case kLink:
			w.link(n)
		case kImage:
			if w.matrix && !w.inLink {
				w.sb.WriteString(`<img src="` + EscapeHTML(escapeHref(n.href)) + `">`)
			} else {
				w.sb.WriteString(EscapeHTML(n.text))
			}
		default:
			w.inline(n.kids)
		}
	}
}

// element writes kids inside the Telegram or Matrix tag.
func (w *htmlWriter) element(telegram, matrix string, kids []*node) {
	tag := telegram
	if w.matrix {
		tag = matrix
	}
	w.sb.WriteString("<" + tag + ">")
	w.inFormat++
	w.inline(kids)
	w.inFormat--
	w.sb.WriteString("</" + tag + ">")
}

func (w *htmlWriter) link(n *node) {
	if w.inLink {
		w.inline(n.kids)
		return
	}
	w.sb.WriteString(`<a href="` + EscapeHTML(escapeHref(n.href)) + `">`)
	w.inLink = true
	w.inline(n.kids)
	w.inLink = false
	w.sb.WriteString("</a>")
}
