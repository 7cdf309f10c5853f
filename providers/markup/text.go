package markup

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// dialect is what differs between the line-based targets: Markdown,
// Google Chat text and plain text.
type dialect struct {
	t                  target
	strong, em, strike string // "" when the target has no such markup
	bullet             string
	quote              string
	rule               string
}

func dialectFor(t target) *dialect {
	switch t {
	case targetMarkdown:
		return &dialect{t: t, strong: "**", em: "*", strike: "~~", bullet: "- ", quote: "> ", rule: "---"}
	case targetGoogleChat:
		return &dialect{t: t, strong: "*", em: "_", strike: "~", bullet: "• ", quote: "> ", rule: "———"}
	}
	return &dialect{t: targetPlain, bullet: "• ", quote: "> ", rule: "———"}
}

// renderText renders a tree in a line-based dialect.
func renderText(root *node, d *dialect) string {
	return d.blocks(root.kids, false)
}

// blocks renders blocks separated by blank lines; tight (inside a list
// item) separates a nested list with a single newline.
func (d *dialect) blocks(ns []*node, tight bool) string {
	var sb strings.Builder
	for i, n := range ns {
		if i > 0 {
			if tight && n.kind == kList {
				sb.WriteString("\n")
			} else {
				sb.WriteString("\n\n")
			}
		}
		sb.WriteString(d.block(n))
	}
	return sb.String()
}

func (d *dialect) block(n *node) string {
	switch n.kind {
	case kPara:
		return d.inline(n.kids)
	case kHeading:
		return d.inline([]*node{{kind: kStrong, kids: n.kids}})
	case kQuote:
		return prefixLines(d.blocks(n.kids, false), d.quote, d.quote)
	case kList:
		var sb strings.Builder
		for i, item := range n.kids {
			if i > 0 {
				sb.WriteString("\n")
			}
			marker := d.bullet
			if n.ordered {
				marker = strconv.Itoa(n.start+i) + ". "
			}
			indent := strings.Repeat(" ", utf8.RuneCountInString(marker))
			sb.WriteString(prefixLines(d.blocks(item.kids, true), marker, indent))
		}
		return sb.String()
	case kCodeBlock:
		switch d.t {
		case targetMarkdown:
			fence := strings.Repeat("`", max(3, longestRun(n.text, '`')+1))
			return fence + infoString(n.lang) + "\n" + n.text + "\n" + fence
		case targetGoogleChat:
			return "```\n" + n.text + "\n```"
		}
		return n.text
	case kRule:
		return d.rule
	}
	return ""
}

// prefixLines puts first before the first line of s and rest before the
// others; empty lines get the prefix without trailing spaces.
func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		lines[i] = p + l
	}
	return strings.Join(lines, "\n")
}

// infoString keeps a code block's language only when it is a plain word.
func infoString(lang string) string {
	for _, r := range lang {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-_#.", r)) {
			return ""
		}
	}
	return lang
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func (d *dialect) inline(ns []*node) string {
	w := &textWriter{d: d, lineStart: true}
	w.inline(ns)
	return w.sb.String()
}

// textWriter renders inline nodes, tracking whether it is at the start of
// a line (where Markdown needs more escaping) and which formatting is
// open (so that nested emphasis is not doubled into something else).
type textWriter struct {
	d                  *dialect
	sb                 bytes.Buffer
	lineStart          bool
	strong, em, strike bool
	inLink             bool
}

func (w *textWriter) inline(ns []*node) {
	for _, n := range ns {
		switch n.kind {
		case kText:
			w.text(n.text)
		case kEmoji:
			// Shortcodes stay unescaped: their characters are safe in
			// the middle of a word and platforms expand them.
			w.sb.WriteString(n.text)
			w.lineStart = false
		case kImage:
			w.text(n.text)
		case kSpoiler:
			w.text(spoilerText)
		case kBreak:
			w.lineBreak()
		case kStrong, kEm, kStrike:
			w.wrap(n)
		case kCode:
			w.code(n.text)
		case kLink:
			w.link(n)
		default:
			w.inline(n.kids)
		}
	}
}

// lineBreak writes a line break. Inside a link's text it is a space and
// inside emphasis never a second one in a row: a blank line there would
// end the paragraph and leave the markers unmatched.
func (w *textWriter) lineBreak() {
	switch {
	case w.inLink:
		if b := w.sb.Bytes(); len(b) > 0 && b[len(b)-1] != ' ' {
			w.sb.WriteByte(' ')
		}
		return
	case (w.strong || w.em || w.strike) && w.lineStart:
		return
	}
	w.sb.WriteByte('\n')
	w.lineStart = true
}

// wrap writes the kids of a strong, em or strike node between two
// markers, moving spaces and line breaks at the edges outside them
// (emphasis must hug its text) and leaving out markers already open
// around it.
func (w *textWriter) wrap(n *node) {
	sub := &textWriter{d: w.d, strong: w.strong, em: w.em, strike: w.strike, inLink: w.inLink}
	var marker string
	var open bool
	switch n.kind {
	case kStrong:
		marker, open, sub.strong = w.d.strong, w.strong, true
	case kEm:
		marker, open, sub.em = w.d.em, w.em, true
	case kStrike:
		marker, open, sub.strike = w.d.strike, w.strike, true
	}
	if marker == "" || open {
		w.inline(n.kids)
		return
	}
	sub.inline(n.kids)
	inner := sub.sb.String()
	core := strings.TrimLeft(inner, " \n")
	lead := inner[:len(inner)-len(core)]
	core = strings.TrimRight(core, " \n")
	trail := inner[len(lead)+len(core):]
	if core == "" {
		w.sb.WriteString(inner)
	} else {
		w.sb.WriteString(lead + marker + core + marker + trail)
	}
	if inner != "" {
		w.lineStart = strings.HasSuffix(inner, "\n")
	}
}

func (w *textWriter) code(s string) {
	w.lineStart = false
	switch w.d.t {
	case targetMarkdown:
		fence := strings.Repeat("`", longestRun(s, '`')+1)
		pad := ""
		if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
			(strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
			pad = " "
		}
		w.sb.WriteString(fence + pad + s + pad + fence)
	case targetGoogleChat:
		// Google Chat has no way to put a backtick inside code.
		w.sb.WriteString("`" + strings.ReplaceAll(s, "`", "'") + "`")
	default:
		w.sb.WriteString(s)
	}
}

func (w *textWriter) link(n *node) {
	text := plainOf(n.kids)
	switch w.d.t {
	case targetMarkdown:
		// A "!" right before the link would make it an image.
		if b := w.sb.Bytes(); len(b) > 0 && b[len(b)-1] == '!' && escapedBefore(b, len(b)-1)%2 == 0 {
			w.sb.Truncate(len(b) - 1)
			w.sb.WriteString(`\!`)
		}
		sub := &textWriter{d: w.d, strong: w.strong, em: w.em, strike: w.strike, inLink: true}
		sub.inline(n.kids)
		w.sb.WriteString("[" + sub.sb.String() + "](" + escapeURL(n.href) + ")")
	case targetGoogleChat:
		if text == n.href {
			w.sb.WriteString(escapeURL(n.href))
		} else {
			// The text ends at '>' and cannot escape it.
			w.sb.WriteString("<" + escapeURL(n.href) + "|" + strings.ReplaceAll(text, ">", "›") + ">")
		}
	default:
		w.sb.WriteString(text)
		if !n.noURL {
			w.sb.WriteString(plainLinkSuffix(n))
		}
	}
	w.lineStart = false
}

// escapedBefore counts the backslashes right before b[i]: an odd count
// means b[i] is escaped.
func escapedBefore(b []byte, i int) int {
	n := 0
	for i > 0 && b[i-1] == '\\' {
		n++
		i--
	}
	return n
}

// plainLinkSuffix is what plain text adds after a link's text: " (url)",
// or nothing when the text already is the URL or the mail address.
func plainLinkSuffix(n *node) string {
	text := plainOf(n.kids)
	shown := strings.TrimPrefix(n.href, "mailto:")
	if text == n.href || text == shown {
		return ""
	}
	return " (" + shown + ")"
}

// plainOf returns the text inline nodes show, without markup.
func plainOf(ns []*node) string {
	var sb strings.Builder
	var walk func([]*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			switch n.kind {
			case kText, kCode, kEmoji, kImage:
				sb.WriteString(n.text)
			case kBreak:
				sb.WriteString(" ")
			case kSpoiler:
				sb.WriteString(spoilerText)
			default:
				walk(n.kids)
			}
		}
	}
	walk(ns)
	return sb.String()
}

// text writes text escaped for the dialect.
func (w *textWriter) text(s string) {
	switch w.d.t {
	case targetMarkdown:
		w.markdownText(s)
	case targetGoogleChat:
		// Without an escape character, only the one dangerous
		// construct is defused: "<" can start a link or a mention.
		w.sb.WriteString(strings.ReplaceAll(s, "<", "<\u200b"))
	default:
		w.sb.WriteString(s)
	}
	if s != "" {
		w.lineStart = strings.HasSuffix(s, "\n")
	}
}

func (w *textWriter) markdownText(s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if w.lineStart && r != ' ' {
			w.lineStart = false
			switch {
			case r == '#' || r == '-' || r == '+' || r == '=':
				w.sb.WriteByte('\\')
			case r >= '0' && r <= '9':
				j := i
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j < len(s) && (s[j] == '.' || s[j] == ')') {
					w.sb.WriteString(s[i:j])
					w.sb.WriteByte('\\')
					w.sb.WriteByte(s[j])
					i = j + 1
					continue
				}
			}
		}
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '~':
			w.sb.WriteByte('\\')
		case '&':
			if entityLike(s[i:]) {
				w.sb.WriteByte('\\')
			}
		case '\n':
			w.lineStart = true
		}
		w.sb.WriteString(s[i : i+size])
		i += size
	}
}
