package markup

import (
	"strings"
)

// EscapeMarkdown escapes a plain string (a topic title, a user or
// category name) so that Markdown shows it literally wherever it is
// placed: in running text, at the start of a line or as a link's text.
// It backslash-escapes \ ` * _ [ ] < > ~ everywhere, an entity-like "&",
// a final "!" (a link placed right after it would become an image) and, at
// the start of a line, # - + = and the dot or parenthesis of "1." or "1)".
func EscapeMarkdown(s string) string {
	w := &textWriter{d: dialectFor(targetMarkdown), lineStart: true}
	w.text(s)
	b := w.sb.Bytes()
	if len(b) > 0 && b[len(b)-1] == '!' && escapedBefore(b, len(b)-1)%2 == 0 {
		return string(b[:len(b)-1]) + `\!`
	}
	return w.sb.String()
}

// EscapeHTML escapes & < > and " for HTML text and double-quoted
// attributes. It is the escaping Telegram accepts (it knows no other
// named entities) and what Matrix's formatted_body needs.
func EscapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			sb.WriteString("&amp;")
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		case '"':
			sb.WriteString("&quot;")
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// escapeURL percent-encodes the characters of an absolute URL that would
// end or break it in Markdown's [text](url) or Google Chat's <url|text>:
// controls, spaces, parentheses, angle brackets, backslash, quotes,
// backtick and the pipe. Everything else, including existing %XX escapes,
// is left alone.
func escapeURL(u string) string {
	return percentEncode(u, `()<>\"'|`+"`")
}

// escapeHref prepares a URL for an HTML attribute: only what would break
// the attribute or is not allowed in a URL at all is percent-encoded; the
// result still needs EscapeHTML.
func escapeHref(u string) string {
	return percentEncode(u, `<>\"`+"`")
}

// percentEncode encodes controls, spaces and the bytes in special.
func percentEncode(u, special string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c > ' ' && c != 0x7f && strings.IndexByte(special, c) < 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// entityLike reports whether s starts with something an HTML-aware
// Markdown renderer would decode as an entity: "&name;" or "&#123;".
func entityLike(s string) bool {
	if !strings.HasPrefix(s, "&") {
		return false
	}
	for i := 1; i < len(s) && i < 34; i++ {
		c := s[i]
		switch {
		case c == ';':
			return i > 1
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '#' && i == 1:
		default:
			return false
		}
	}
	return false
}
