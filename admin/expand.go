package admin

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/chatsidecar/chatsidecar/providers"
)

// ExpandDocument resolves the ${NAME} references of doc with lookup, for a
// caller that then hands the document to Apply without Expand, as
// `chatsidecar apply --server` does: the server never reads its own
// environment on behalf of an API caller. The document is read by Apply's
// own parser, so variables are found and substituted in exactly the places
// and by exactly the rules of a local Apply with Expand, and the same
// problems (an unset variable, a malformed reference, or anything else
// reading the document finds) are returned, with their paths and lines, as
// a *DocumentError.
//
// The result is the document re-encoded with every substituted value
// replaced in the YAML tree, never in the text, so a value containing YAML
// syntax cannot change the document's structure. Each replaced value is
// written so that Apply reads back the value a local Apply would have
// used: ${ in it is escaped as $${, and a boolean setting that a local
// Apply would convert from the expanded text (see coerceExpanded) is
// written as a YAML boolean. Which settings are boolean comes from reg,
// which should hold the providers of the server the document is sent to;
// with a nil reg no value becomes a boolean. A document in which nothing
// was substituted is returned unchanged, so its lines stay the ones the
// user wrote.
func ExpandDocument(doc []byte, lookup func(name string) (string, bool), reg *providers.Registry) ([]byte, error) {
	if !bytes.Contains(doc, []byte("${")) {
		return doc, nil
	}
	probs := newDocProblems()
	root := decodeDocument(doc, probs)
	if root == nil {
		return nil, probs.err()
	}
	unshareVariableAliases(root)
	d := readDocument(root, lookup, probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	if len(d.substituted) == 0 {
		return doc, nil
	}
	if reg != nil {
		for _, dp := range d.providers {
			if p, ok := reg.Get(dp.id); ok {
				coerceExpanded(p, dp)
			}
		}
	}
	// A scalar inside a mapping that several providers share through an
	// alias is one node for all of them; when any of them takes it as a
	// boolean, it is written as one.
	boolean := make(map[*yaml.Node]bool)
	for _, s := range d.substituted {
		if s.dp != nil {
			if b, ok := s.dp.settings[s.key].(bool); ok {
				setBool(s.node, b)
				boolean[s.node] = true
				continue
			}
		}
		if !boolean[s.node] {
			setString(s.node, s.text)
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("re-encode the expanded document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("re-encode the expanded document: %w", err)
	}
	return buf.Bytes(), nil
}

// setBool makes n the YAML boolean b.
func setBool(n *yaml.Node, b bool) {
	n.Value, n.Tag, n.Style = strconv.FormatBool(b), "!!bool", 0
}

// setString makes n the string s, escaped so that Apply reads s back and
// expands nothing in it. A multi-line value is double-quoted unless it was
// written as a block scalar, which keeps every character as it is.
func setString(n *yaml.Node, s string) {
	n.Value, n.Tag = escapeVars(s), "!!str"
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && strings.Contains(s, "\n") {
		n.Style = yaml.DoubleQuotedStyle
	}
}

// unshareVariableAliases replaces every alias of a scalar containing ${
// with a copy of that scalar. Once substituted, a value may differ between
// the places that use it (Apply expands a channel's data but not its name,
// and converts only boolean settings), so each place needs its own node.
// Only scalars are copied, which keeps the tree's size linear however the
// aliases nest. Copies keep the line of the original, the line Apply
// reports problems at.
func unshareVariableAliases(n *yaml.Node) {
	for i, c := range n.Content {
		if c.Kind != yaml.AliasNode {
			unshareVariableAliases(c)
			continue
		}
		t := deref(c)
		if t == nil || t.Kind != yaml.ScalarNode || !strings.Contains(t.Value, "${") {
			continue
		}
		cp := *t
		cp.Anchor = ""
		cp.HeadComment, cp.LineComment, cp.FootComment = c.HeadComment, c.LineComment, c.FootComment
		n.Content[i] = &cp
	}
}
