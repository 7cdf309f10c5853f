package markup

import (
	"strings"
	"unicode/utf8"
)

// truncate cuts root so that it shows at most limit visible characters
// when rendered for t, ellipsis included. Cutting the tree rather than the
// output is what keeps every output well-formed: only text is ever
// shortened (at a rune boundary), emoji, images and a plain-text link's
// URL are kept whole or dropped, and the renderers close whatever they
// open.
func truncate(root *node, limit int, t target) {
	if limit <= 0 || visible(root, t) <= limit {
		return
	}
	c := cutter{left: limit - utf8.RuneCountInString(ellipsis), t: t}
	c.cut(root)
	prune(root)
	trimTrailingSpace(root)
	appendEllipsis(root)
}

// visible is how many characters n shows when rendered for t.
func visible(n *node, t target) int {
	switch n.kind {
	case kText, kCode, kCodeBlock, kEmoji:
		return utf8.RuneCountInString(n.text)
	case kImage:
		if t == targetMatrix {
			return 1
		}
		return utf8.RuneCountInString(n.text)
	case kSpoiler:
		if t != targetTelegram {
			return utf8.RuneCountInString(spoilerText)
		}
	}
	v := 0
	for _, k := range n.kids {
		v += visible(k, t)
	}
	if n.kind == kLink && t == targetPlain && !n.noURL {
		if s := plainLinkSuffix(n); s != "" {
			v += utf8.RuneCountInString(s)
		}
	}
	return v
}

// cutter keeps content while its budget of visible characters lasts.
type cutter struct {
	left int
	t    target
}

// cut keeps the children of n that fit and cuts the first that does not,
// dropping everything after it. It reports whether it cut.
func (c *cutter) cut(n *node) bool {
	for i, k := range n.kids {
		v := visible(k, c.t)
		if v <= c.left {
			c.left -= v
			continue
		}
		keep := true
		switch {
		case k.kind == kText || k.kind == kCode || k.kind == kCodeBlock:
			k.text = prefixRunes(k.text, c.left)
			keep = k.text != ""
		case k.kind == kEmoji || k.kind == kImage || k.kind == kRule || k.kind == kBreak ||
			(k.kind == kSpoiler && c.t != targetTelegram):
			keep = false
		default:
			if k.kind == kLink && c.t == targetPlain {
				// The URL is never cut: without room for all of it,
				// the link shows as its text alone.
				k.noURL = true
			}
			c.cut(k)
		}
		c.left = 0
		if keep {
			n.kids = n.kids[:i+1]
		} else {
			n.kids = n.kids[:i]
		}
		return true
	}
	return false
}

// prefixRunes returns the first n runes of s.
func prefixRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// prune removes nodes that truncation left empty.
func prune(n *node) {
	kept := n.kids[:0]
	for _, k := range n.kids {
		switch k.kind {
		case kText, kCode, kCodeBlock:
			if k.text == "" {
				continue
			}
		case kEmoji, kImage, kRule, kBreak:
		default:
			prune(k)
			if len(k.kids) == 0 {
				continue
			}
		}
		kept = append(kept, k)
	}
	n.kids = kept
	// A paragraph cut right after a line break ends with it.
	if n.kind == kPara || n.kind == kHeading {
		for len(n.kids) > 0 && n.kids[len(n.kids)-1].kind == kBreak {
			n.kids = n.kids[:len(n.kids)-1]
		}
	}
}

// trimTrailingSpace drops the space a cut may leave before the ellipsis.
func trimTrailingSpace(n *node) {
	for len(n.kids) > 0 {
		last := n.kids[len(n.kids)-1]
		switch last.kind {
		case kText:
			last.text = strings.TrimRight(last.text, " ")
			if last.text == "" {
				n.kids = n.kids[:len(n.kids)-1]
				continue
			}
			return
		case kCode, kCodeBlock, kEmoji, kImage, kRule, kBreak:
			return
		}
		trimTrailingSpace(last)
		if len(last.kids) == 0 {
			n.kids = n.kids[:len(n.kids)-1]
			continue
		}
		return
	}
}

// appendEllipsis puts "…" right after the last content, inside the
// innermost paragraph or formatting that can hold text, but never inside a
// link, code or a spoiler.
func appendEllipsis(root *node) {
	addEllipsis(root) // a root always takes it
}

func addEllipsis(n *node) bool {
	if len(n.kids) > 0 {
		last := n.kids[len(n.kids)-1]
		switch last.kind {
		case kLink, kCode, kCodeBlock, kSpoiler, kText, kEmoji, kImage, kBreak, kRule:
		default:
			if addEllipsis(last) {
				return true
			}
		}
	}
	switch n.kind {
	case kPara, kHeading, kStrong, kEm, kStrike, kUnderline:
		n.kids = append(n.kids, &node{kind: kText, text: ellipsis})
		return true
	case kRoot, kQuote, kItem:
		n.kids = append(n.kids, &node{kind: kPara, kids: []*node{{kind: kText, text: ellipsis}}})
		return true
	}
	return false
}
