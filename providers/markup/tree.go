package markup

import (
	"strings"
)

// kind is the type of a node of the document tree every target renders.
type kind uint8

const (
	// Blocks. A root, quote or item holds blocks; a paragraph or heading
	// holds inline nodes only; a list holds items only.
	kRoot kind = iota
	kPara
	kHeading
	kQuote
	kList
	kItem
	kCodeBlock // text is the verbatim code, lang its language or ""
	kRule

	// Inline nodes.
	kText  // text is whitespace-collapsed, unescaped text
	kEmoji // text is the rendered emoji, never cut
	kBreak
	kStrong
	kEm
	kStrike
	kUnderline
	kCode    // text is the code
	kLink    // href is absolute and safe
	kSpoiler // hidden content
	kImage   // an mxc image: href is its mxc URL, text its alt
)

// node is one node of the document tree. The tree is built from cooked
// HTML by builder, cut by truncate and then rendered; renderers never see
// HTML.
type node struct {
	kind    kind
	text    string
	href    string
	lang    string
	ordered bool
	start   int  // first number of an ordered list
	noURL   bool // plain text: the link's URL was cut, show only its text
	kids    []*node
}

// hasVisible reports whether inline nodes show anything but whitespace.
func hasVisible(ns []*node) bool {
	for _, n := range ns {
		switch n.kind {
		case kText, kCode:
			if strings.TrimSpace(n.text) != "" {
				return true
			}
		case kEmoji, kImage:
			return true
		default:
			if hasVisible(n.kids) {
				return true
			}
		}
	}
	return false
}

// clean finishes a tree the way a browser lays it out: whitespace at the
// start and end of lines and doubled across elements is dropped, and
// empty paragraphs, items and formatting disappear.
func clean(n *node) {
	switch n.kind {
	case kPara, kHeading:
		n.kids = cleanInline(n.kids)
		return
	case kCodeBlock, kRule:
		return
	}
	kept := n.kids[:0]
	for _, k := range n.kids {
		clean(k)
		if !emptyBlock(k) {
			kept = append(kept, k)
		}
	}
	n.kids = kept
}

func emptyBlock(n *node) bool {
	switch n.kind {
	case kCodeBlock:
		return strings.TrimSpace(n.text) == ""
	case kRule:
		return false
	}
	return len(n.kids) == 0
}

// cleanInline trims and collapses whitespace across a paragraph's inline
// nodes and removes empty ones and surplus line breaks.
func cleanInline(ns []*node) []*node {
	space := true // at the start of a line: drop leading spaces
	var last *node
	var walk func([]*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			switch n.kind {
			case kText, kCode:
				if space {
					n.text = strings.TrimLeft(n.text, " ")
				}
				if n.text != "" {
					space = strings.HasSuffix(n.text, " ")
					last = n
				}
			case kBreak:
				if last != nil {
					last.text = strings.TrimRight(last.text, " ")
				}
				space, last = true, nil
			case kEmoji, kImage:
				space, last = false, nil
			default:
				walk(n.kids)
			}
		}
	}
	walk(ns)
	if last != nil {
		last.text = strings.TrimRight(last.text, " ")
	}
	return pruneInline(ns, true)
}

// pruneInline removes empty text and formatting, line breaks at the edges
// of a paragraph and more than two breaks in a row.
func pruneInline(ns []*node, top bool) []*node {
	var out []*node
	breaks := 0
	for _, n := range ns {
		switch n.kind {
		case kText, kCode:
			if n.text == "" {
				continue
			}
		case kBreak:
			if breaks >= 2 {
				continue
			}
			breaks++
			out = append(out, n)
			continue
		case kEmoji, kImage:
		default:
			n.kids = pruneInline(n.kids, false)
			if !hasVisible(n.kids) && n.kind != kLink {
				// Formatting around nothing but a break or a space
				// keeps the break or space.
				switch {
				case hasBreak(n.kids):
					out = append(out, &node{kind: kBreak})
					breaks++
				case len(n.kids) > 0:
					out = append(out, &node{kind: kText, text: " "})
					breaks = 0
				}
				continue
			}
			if len(n.kids) == 0 {
				continue
			}
		}
		breaks = 0
		out = append(out, n)
	}
	if top {
		for len(out) > 0 && out[0].kind == kBreak {
			out = out[1:]
		}
		for len(out) > 0 && out[len(out)-1].kind == kBreak {
			out = out[:len(out)-1]
		}
	}
	return out
}

func hasBreak(ns []*node) bool {
	for _, n := range ns {
		if n.kind == kBreak || hasBreak(n.kids) {
			return true
		}
	}
	return false
}
