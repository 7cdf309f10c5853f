package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/chatsidecar/chatsidecar/admin"
)

// expandDocument resolves ${NAME} references for `apply --server`, which
// must send a document with nothing left to expand. It mirrors what
// admin.Apply does locally: only string values of provider settings and
// channel data are expanded, $${ stays the escape for a literal ${ (the
// server unescapes it), and an expanded value that itself contains ${ is
// escaped so the server takes it literally. Values are replaced in the
// YAML tree rather than the text, so a value containing YAML syntax cannot
// change the document's structure. A setting whose whole value was one
// reference that expanded to true or false becomes a YAML boolean, as
// Apply coerces expanded boolean settings.
//
// Unset variables are reported as an *admin.DocumentError, like a local
// apply. A document that does not parse, or holds more than one YAML
// document, is returned unchanged for the server to report with its
// lines. The document is re-encoded only when something was expanded.
func expandDocument(doc []byte, lookup func(string) (string, bool)) ([]byte, error) {
	if !bytes.Contains(doc, []byte("${")) {
		return doc, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return doc, nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return doc, nil
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return doc, nil
	}
	x := &expander{lookup: lookup}
	top := root.Content[0]
	if providers := mapValue(top, "providers"); providers != nil && providers.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(providers.Content); i += 2 {
			id := providers.Content[i].Value
			x.mapping(mapValue(providers.Content[i+1], "settings"), "providers."+id+".settings", true)
		}
	}
	if channels := mapValue(top, "channels"); channels != nil && channels.Kind == yaml.SequenceNode {
		for i, ch := range channels.Content {
			x.mapping(mapValue(ch, "data"), fmt.Sprintf("channels[%d].data", i), false)
		}
	}
	if len(x.problems) > 0 {
		return nil, &admin.DocumentError{Problems: x.problems}
	}
	if !x.changed {
		return doc, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("re-encode the expanded document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("re-encode the expanded document: %w", err)
	}
	return buf.Bytes(), nil
}

type expander struct {
	lookup   func(string) (string, bool)
	problems []admin.Problem
	changed  bool
}

// mapping expands the string values of a settings or data mapping.
func (x *expander) mapping(m *yaml.Node, path string, settings bool) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		v := deref(m.Content[i+1])
		if v == nil || v.Kind != yaml.ScalarNode {
			continue
		}
		switch v.ShortTag() {
		case "!!null", "!!bool", "!!int", "!!float":
			continue
		}
		out, whole, missing := expandVars(v.Value, x.lookup)
		for _, name := range missing {
			x.problems = append(x.problems, admin.Problem{
				Path: path + "." + m.Content[i].Value, Line: v.Line, Message: fmt.Sprintf("variable %s is not set", name),
			})
		}
		if len(missing) > 0 || out == v.Value {
			continue
		}
		x.changed = true
		v.Value = out
		v.Tag = "!!str"
		if b := strings.ToLower(strings.TrimSpace(out)); settings && whole && (b == "true" || b == "false") {
			v.Value, v.Tag, v.Style = b, "!!bool", 0
		} else if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && strings.Contains(out, "\n") {
			v.Style = yaml.DoubleQuotedStyle
		}
	}
}

// expandVars replaces every well-formed ${NAME} in s whose variable is
// set, escaping ${ inside the substituted value. $${ and malformed
// references are left as written for the server to interpret or report.
// whole reports that s was exactly one reference; missing lists the
// variables that are not set.
func expandVars(s string, lookup func(string) (string, bool)) (out string, whole bool, missing []string) {
	var b strings.Builder
	refs := 0
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("$${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			ref := s[i : i+2+end+1]
			name := s[i+2 : i+2+end]
			i += len(ref)
			if !isVarName(name) {
				b.WriteString(ref)
				continue
			}
			refs++
			v, ok := lookup(name)
			if !ok {
				missing = append(missing, name)
				b.WriteString(ref)
				continue
			}
			b.WriteString(strings.ReplaceAll(v, "${", "$${"))
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	whole = refs == 1 && strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1
	return b.String(), whole, missing
}

// isVarName is admin's rule for ${NAME}: [A-Za-z_][A-Za-z0-9_]*.
func isVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// deref follows YAML aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}
