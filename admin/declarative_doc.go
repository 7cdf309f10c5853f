package admin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
)

// This file reads a declarative document into a plain model. It walks the
// yaml.Node tree itself instead of decoding into structs, because it must
// report every problem at once, each with its path and line, and a struct
// decoder stops at the first type error and knows nothing of lines.

// document is what a configuration document asks for, as far as it could
// be read. Parts with problems are still present so that the validators
// can find the other problems in them.
type document struct {
	providers []*docProvider
	channels  []*docChannel
	// substituted lists every value in which a variable was substituted,
	// in document order, for ExpandDocument to write back into the tree.
	substituted []substitution
}

// substitution is one provider setting or channel parameter whose ${NAME}
// references were replaced.
type substitution struct {
	node *yaml.Node // the scalar in the YAML tree (aliases followed)
	text string     // the expanded value, with $${ already turned into ${
	// dp and key name the provider setting, so that its coerced value can
	// be found; dp is nil for a channel parameter.
	dp  *docProvider
	key string
}

// docProvider is one entry of providers:.
type docProvider struct {
	id      string
	path    string // "providers.slack"
	enabled *bool  // nil keeps the current state
	// settings is the patch for MergeSettings: absent keys keep their
	// value, nil values reset to the default.
	settings map[string]any
	// expanded names the settings whose value came from ${NAME}, which may
	// need converting to the setting's type (an environment variable is
	// always a string).
	expanded map[string]bool
}

// docChannel is one entry of channels:.
type docChannel struct {
	path     string // "channels[2]"
	name     string
	provider string
	data     map[string]any
	rules    []docRule
}

// docRule is one entry of a channel's rules:.
type docRule struct {
	path string // "channels[2].rules[0]"
	in   rules.Input
}

// The keys each level of a document accepts; anything else is a typo.
// They are functions rather than package variables so nothing can change
// them.
func rootKeys() []string     { return []string{"version", "providers", "channels"} }
func providerKeys() []string { return []string{"enabled", "settings"} }
func channelKeys() []string  { return []string{"name", "provider", "data", "rules"} }
func ruleKeys() []string {
	return []string{"filter", "type", "category_id", "include_subcategories", "tags", "group"}
}

// docProblems collects the problems of one document and remembers the line
// of every path seen, so that validator errors, which only know a field
// path, can be placed in the file.
type docProblems struct {
	list  []Problem
	lines map[string]int
}

func newDocProblems() *docProblems { return &docProblems{lines: map[string]int{"": 1}} }

// add records a problem at path on the given line.
func (d *docProblems) add(path string, line int, format string, args ...any) {
	d.list = append(d.list, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// addAt records a problem at path, on the line of path or of its nearest
// ancestor that appears in the document.
func (d *docProblems) addAt(path string, format string, args ...any) {
	d.add(path, d.lineOf(path), format, args...)
}

// field records a validator's problem unless reading the document already
// found one at the same path: a value that could not be read (an unset
// variable, say) would otherwise also be reported as missing or malformed.
func (d *docProblems) field(path, message string) {
	if d.has(path) {
		return
	}
	d.add(path, d.lineOf(path), "%s", message)
}

// has reports whether a problem was recorded at exactly path.
func (d *docProblems) has(path string) bool {
	for _, p := range d.list {
		if p.Path == path {
			return true
		}
	}
	return false
}

// under reports whether a problem was recorded at path or inside it.
func (d *docProblems) under(path string) bool {
	for _, p := range d.list {
		if within(p.Path, path) {
			return true
		}
	}
	return false
}

// within reports whether path is base or a path inside base.
func within(path, base string) bool {
	if !strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// lineOf returns the line of path, or of its nearest ancestor the document
// contains (a missing required parameter is reported on its data: line).
func (d *docProblems) lineOf(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
}

// err returns the problems as a *DocumentError sorted by line, or nil.
func (d *docProblems) err() error {
	if len(d.list) == 0 {
		return nil
	}
	ps := append([]Problem(nil), d.list...)
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Line, ps[j].Line
		if (a == 0) != (b == 0) {
			return b == 0
		}
		return a < b
	})
	return &DocumentError{Problems: ps}
}

// docParser turns a yaml.Node tree into a document, recording problems.
type docParser struct {
	*docProblems
	expand func(name string) (string, bool)
}

// parseDocument reads src. It returns nil when src is not YAML at all; the
// problems say why.
func parseDocument(src []byte, expand func(string) (string, bool), probs *docProblems) *document {
	root := decodeDocument(src, probs)
	if root == nil {
		return nil
	}
	return readDocument(root, expand, probs)
}

// decodeDocument parses src into a YAML tree, the first of its documents
// if it holds several (which is a problem). It returns nil when src is not
// YAML at all; the problems say why.
func decodeDocument(src []byte, probs *docProblems) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		probs.syntax(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		probs.add("", extra.Line, "a configuration file holds one YAML document; remove the --- separator and what follows")
	} else if !errors.Is(err, io.EOF) {
		probs.syntax(err)
		return nil
	}
	return &root
}

// readDocument turns the tree decodeDocument returned into a document,
// expanding variables with expand.
func readDocument(root *yaml.Node, expand func(string) (string, bool), probs *docProblems) *document {
	p := &docParser{docProblems: probs, expand: expand}
	d := &document{}
	var top *yaml.Node
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		top = deref(root.Content[0])
	}
	if top == nil || (top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null") {
		p.add("version", 0, "is required: the document is empty (start it with version: 1)")
		return d
	}
	if top.Kind != yaml.MappingNode {
		p.add("", top.Line, "the document must be a mapping with version, providers and channels")
		return d
	}
	var sawVersion bool
	p.mapping(top, "", rootKeys(), func(key string, k, v *yaml.Node, path string) {
		switch key {
		case "version":
			sawVersion = true
			if v.Kind != yaml.ScalarNode || v.Value != "1" || (v.ShortTag() != "!!int" && v.ShortTag() != "!!str") {
				p.add(path, v.Line, "must be 1, the only version this sidecar reads")
			}
		case "providers":
			p.providers(d, v, path)
		case "channels":
			p.channels(d, v, path)
		}
	})
	if !sawVersion {
		p.add("version", 0, "is required (start the document with version: 1)")
	}
	return d
}

// syntax records a YAML syntax error. The YAML library's messages have no
// structured form, so the line is read from the text ("yaml: line 3: did
// not find expected key").
func (d *docProblems) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				d.add("", line, "invalid YAML: %s", text)
				return
			}
		}
	}
	d.add("", 0, "invalid YAML: %s", msg)
}

// deref follows aliases (*anchor) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null (~, null, empty).
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// mapping walks the entries of the mapping n at path, recording each key's
// line and reporting duplicate keys and, when known is not nil, keys not in
// known. fn receives every other entry.
func (p *docParser) mapping(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node, path string)) {
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add(path, k.Line, "keys must be plain names")
			continue
		}
		key := k.Value
		kp := joinPath(path, key)
		if first, dup := seen[key]; dup {
			p.add(kp, k.Line, "duplicate key %q (first given on line %d)", key, first)
			continue
		}
		seen[key] = k.Line
		if known != nil && !contains(known, key) {
			p.add(kp, k.Line, "unknown key %q (expected %s)", key, strings.Join(known, ", "))
			continue
		}
		p.lines[kp] = k.Line
		fn(key, k, v, kp)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// providers reads the providers: mapping.
func (p *docParser) providers(d *document, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(path, n.Line, "must be a mapping from provider id to its configuration, not %s", kindName(n))
		return
	}
	p.mapping(n, path, nil, func(id string, k, v *yaml.Node, path string) {
		dp := &docProvider{id: id, path: path, expanded: map[string]bool{}}
		d.providers = append(d.providers, dp)
		if isNull(v) {
			return
		}
		if v.Kind != yaml.MappingNode {
			p.add(path, v.Line, "must be a mapping with enabled and settings, not %s", kindName(v))
			return
		}
		p.mapping(v, path, providerKeys(), func(key string, _, v *yaml.Node, path string) {
			switch key {
			case "enabled":
				if isNull(v) {
					return
				}
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
					p.add(path, v.Line, "must be true or false")
					return
				}
				var b bool
				_ = v.Decode(&b)
				dp.enabled = &b
			case "settings":
				if isNull(v) {
					return
				}
				if v.Kind != yaml.MappingNode {
					p.add(path, v.Line, "must be a mapping from setting name to value, not %s", kindName(v))
					return
				}
				dp.settings = map[string]any{}
				p.mapping(v, path, nil, func(key string, _, v *yaml.Node, path string) {
					val, expanded := p.value(v, path)
					dp.settings[key] = val
					if expanded {
						dp.expanded[key] = true
						d.substituted = append(d.substituted, substitution{node: v, text: val.(string), dp: dp, key: key})
					}
				})
			}
		})
	})
}

// channels reads the channels: list.
func (p *docParser) channels(d *document, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add(path, n.Line, "must be a list of channels, not %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		item = deref(item)
		cp := fmt.Sprintf("%s[%d]", path, i)
		p.lines[cp] = item.Line
		dc := &docChannel{path: cp}
		d.channels = append(d.channels, dc)
		if item.Kind != yaml.MappingNode {
			p.add(cp, item.Line, "must be a mapping with name, provider, data and rules, not %s", kindName(item))
			continue
		}
		var sawName, sawProvider bool
		p.mapping(item, cp, channelKeys(), func(key string, _, v *yaml.Node, path string) {
			switch key {
			case "name":
				sawName = true
				s, ok := p.scalar(v, path)
				if ok && strings.TrimSpace(s) == "" {
					p.add(path, v.Line, "must not be empty: the name is how apply finds the channel again")
				}
				dc.name = strings.TrimSpace(s)
			case "provider":
				sawProvider = true
				s, ok := p.scalar(v, path)
				if ok && s == "" {
					p.add(path, v.Line, "must not be empty")
				}
				dc.provider = s
			case "data":
				if isNull(v) {
					return
				}
				if v.Kind != yaml.MappingNode {
					p.add(path, v.Line, "must be a mapping from parameter name to value, not %s", kindName(v))
					return
				}
				dc.data = map[string]any{}
				p.mapping(v, path, nil, func(key string, _, v *yaml.Node, path string) {
					val, expanded := p.value(v, path)
					dc.data[key] = val
					if expanded {
						d.substituted = append(d.substituted, substitution{node: v, text: val.(string)})
					}
				})
			case "rules":
				p.rules(dc, v, path)
			}
		})
		if !sawName {
			p.add(cp+".name", item.Line, "is required: the name is how apply finds the channel again")
		}
		if !sawProvider {
			p.add(cp+".provider", item.Line, "is required")
		}
	}
}

// rules reads a channel's rules: list.
func (p *docParser) rules(dc *docChannel, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add(path, n.Line, "must be a list of rules, not %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		item = deref(item)
		rp := fmt.Sprintf("%s[%d]", path, i)
		p.lines[rp] = item.Line
		r := docRule{path: rp}
		if isNull(item) {
			// "- " alone is a rule with every default: watch everything.
			dc.rules = append(dc.rules, r)
			continue
		}
		if item.Kind != yaml.MappingNode {
			p.add(rp, item.Line, "must be a mapping with filter, type, category_id, include_subcategories, tags and group, not %s", kindName(item))
			continue
		}
		p.mapping(item, rp, ruleKeys(), func(key string, _, v *yaml.Node, path string) {
			switch key {
			case "filter":
				s, _ := p.scalar(v, path)
				r.in.Filter = rules.Filter(s)
			case "type":
				s, _ := p.scalar(v, path)
				r.in.Type = rules.Type(s)
			case "category_id":
				if isNull(v) {
					return
				}
				var id int64
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&id) != nil {
					p.add(path, v.Line, "must be a category id (a number); omit it for all categories")
					return
				}
				r.in.CategoryID = &id
			case "include_subcategories":
				if isNull(v) {
					return
				}
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
					p.add(path, v.Line, "must be true or false")
					return
				}
				_ = v.Decode(&r.in.IncludeSubcategories)
			case "tags":
				if isNull(v) {
					return
				}
				if v.Kind != yaml.SequenceNode {
					p.add(path, v.Line, "must be a list of tag names, e.g. [bug, urgent]")
					return
				}
				r.in.Tags = make([]string, 0, len(v.Content))
				for j, t := range v.Content {
					tp := fmt.Sprintf("%s[%d]", path, j)
					t = deref(t)
					p.lines[tp] = t.Line
					s, _ := p.scalar(t, tp)
					r.in.Tags = append(r.in.Tags, s)
				}
			case "group":
				if isNull(v) {
					return
				}
				s, _ := p.scalar(v, path)
				r.in.GroupName = &s
			}
		})
		dc.rules = append(dc.rules, r)
	}
}

// scalar returns the text of a single value. Numbers and booleans are taken
// as written (a group or tag may look like a number); null is "". ok is
// false when n is a list or mapping, which is a problem.
func (p *docParser) scalar(n *yaml.Node, path string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		p.add(path, n.Line, "must be a single value, not %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// value converts a setting or channel parameter into the Go value the
// validators expect (string, bool, int, float64 or nil), expanding ${NAME}
// in strings. expanded reports whether a variable was substituted. A value
// that cannot be read is recorded as a problem and returned as its raw
// text, so the validators still see the key.
func (p *docParser) value(n *yaml.Node, path string) (v any, expanded bool) {
	if n.Kind != yaml.ScalarNode {
		p.add(path, n.Line, "must be a single value, not %s", kindName(n))
		return nil, false
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, false
	case "!!bool", "!!int", "!!float":
		var x any
		if err := n.Decode(&x); err == nil {
			return x, false
		}
		return n.Value, false
	}
	// Strings, and anything else (a timestamp, a custom tag) taken as the
	// text the admin wrote.
	return p.expandString(n.Value, path, n.Line)
}

// expandString replaces ${NAME} references in s and turns the escape $${
// into a literal ${. Every bad or unresolved reference is a problem at
// path; the raw text is returned then.
func (p *docParser) expandString(s, path string, line int) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, false
	}
	var b strings.Builder
	ok, expanded := true, false
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				p.add(path, line, "unterminated ${ (write $${ for a literal ${)")
				return s, false
			}
			name := s[i+2 : i+2+end]
			i += 2 + end + 1
			switch {
			case !isVarName(name):
				p.add(path, line, "${%s} is not a variable reference: names are letters, digits and _, not starting with a digit (write $${ for a literal ${)", name)
				ok = false
			case p.expand == nil:
				p.add(path, line, "${%s} was not expanded: expand variables before sending the document (the server does not read its own environment for API callers)", name)
				ok = false
			default:
				v, set := p.expand(name)
				if !set {
					p.add(path, line, "variable %s is not set", name)
					ok = false
					continue
				}
				b.WriteString(v)
				expanded = true
			}
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if !ok {
		return s, false
	}
	return b.String(), expanded
}

// isVarName reports whether name is what ${NAME} accepts, a portable
// environment variable name: [A-Za-z_][A-Za-z0-9_]*.
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

// escapeVars makes a literal value safe to write into a document: apply
// turns $${ back into ${ and expands nothing in it.
func escapeVars(s string) string { return strings.ReplaceAll(s, "${", "$${") }

// coerceExpanded converts settings that came from ${NAME} to the setting's
// type where the text is unambiguous: an environment variable is always a
// string, but enabled-style settings are booleans.
func coerceExpanded(p providers.Provider, dp *docProvider) {
	for _, def := range p.Settings() {
		if def.Type != providers.SettingBool || !dp.expanded[def.Key] {
			continue
		}
		if s, ok := dp.settings[def.Key].(string); ok {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				dp.settings[def.Key] = b
			}
		}
	}
}
