package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// ExportOptions tunes Export.
type ExportOptions struct {
	// IncludeSecrets writes secret settings and secret channel parameters
	// in clear text, for a backup that applies without any environment.
	// Without it they are ${CHATSIDECAR_SECRET_…} placeholders, so the
	// output is safe to commit and to print in CI logs.
	IncludeSecrets bool
}

// Export writes the current configuration as a document Apply accepts.
// The output is deterministic so it can be committed and diffed: providers
// sorted by id (only configured ones), channels sorted by name, each
// channel's rules in precedence order, settings and parameters sorted by
// key. Applying it to an empty database reproduces the same configuration.
//
// Secret values are replaced by ${CHATSIDECAR_SECRET_<NAME>_<KEY>}
// placeholders (NAME is the provider id for settings and the channel name
// for channel parameters, upper-cased, other characters than letters and
// digits turned into _) unless opts.IncludeSecrets. Literal values that
// contain ${ are written with the $${ escape. Channels of a provider this
// build does not ship are left out, since their secrets cannot be told
// apart and Apply would refuse them.
func (s *Service) Export(ctx context.Context, opts ExportOptions) ([]byte, error) {
	var (
		cfgs  map[string]*store.ProviderConfig
		chans []*store.Channel
		rs    []*store.Rule
	)
	// One transaction so the three reads see one configuration.
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		if cfgs, err = q.ListProviderConfigs(ctx); err != nil {
			return err
		}
		if chans, err = q.ListChannels(ctx, store.ListChannelsParams{}); err != nil {
			return err
		}
		rs, err = q.ListRules(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	x := &exporter{secrets: opts.IncludeSecrets, used: map[string]bool{}}

	root := mapNode()
	addPair(root, "version", intNode("1"))

	provs := mapNode()
	ids := make([]string, 0, len(cfgs))
	for id := range cfgs {
		if _, ok := s.reg.Get(id); ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		p, _ := s.reg.Get(id)
		addPair(provs, id, x.provider(p, cfgs[id]))
	}
	if len(provs.Content) == 0 {
		provs.Style = yaml.FlowStyle
	}
	addPair(root, "providers", provs)

	byChannel := make(map[int64][]*store.Rule)
	SortRules(rs)
	for _, r := range rs {
		byChannel[r.ChannelID] = append(byChannel[r.ChannelID], r)
	}
	sort.Slice(chans, func(i, j int) bool { return chans[i].Name < chans[j].Name })
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, ch := range chans {
		p, ok := s.reg.Get(ch.Provider)
		if !ok {
			continue
		}
		list.Content = append(list.Content, x.channel(p, ch, byChannel[ch.ID]))
	}
	if len(list.Content) == 0 {
		list.Style = yaml.FlowStyle
	}
	addPair(root, "channels", list)

	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: x.header(), Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return buf.Bytes(), nil
}

// exporter builds the nodes of one export.
type exporter struct {
	secrets bool
	used    map[string]bool // placeholder names handed out
}

// header is the comment at the top of an export.
func (x *exporter) header() string {
	lines := []string{
		"Chat Sidecar configuration, written by `chatsidecar export`.",
		"Apply it with `chatsidecar apply -f FILE` (add --prune to delete channels",
		"this file does not name, --dry-run to see the changes first).",
	}
	if x.secrets {
		lines = append(lines, "This file contains secrets in clear text: keep it private.")
	} else {
		lines = append(lines,
			"Secret values are ${CHATSIDECAR_SECRET_...} placeholders: set each of them",
			"in the environment when applying (apply expands ${NAME} from the environment).")
	}
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n")
}

// provider renders one provider's configuration.
func (x *exporter) provider(p providers.Provider, cfg *store.ProviderConfig) *yaml.Node {
	secret := make(map[string]bool)
	for _, def := range p.Settings() {
		secret[def.Key] = def.Secret
	}
	n := mapNode()
	addPair(n, "enabled", boolNode(cfg.Enabled))
	settings := mapNode()
	keys := make([]string, 0, len(cfg.Settings))
	for k := range cfg.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := cfg.Settings[k]
		if secret[k] && !x.secrets {
			addPair(settings, k, x.placeholder(p.ID(), k))
			continue
		}
		addPair(settings, k, valueNode(v))
	}
	if len(settings.Content) == 0 {
		settings.Style = yaml.FlowStyle
	}
	addPair(n, "settings", settings)
	return n
}

// channel renders one channel and its rules (already in precedence order).
func (x *exporter) channel(p providers.Provider, ch *store.Channel, rs []*store.Rule) *yaml.Node {
	secret := make(map[string]bool)
	for _, prm := range p.Params() {
		secret[prm.Key] = prm.Secret
	}
	n := mapNode()
	addPair(n, "name", strNode(ch.Name))
	addPair(n, "provider", strNode(ch.Provider))
	data := mapNode()
	keys := make([]string, 0, len(ch.Data))
	for k := range ch.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if secret[k] && !x.secrets {
			addPair(data, k, x.placeholder(ch.Name, k))
			continue
		}
		addPair(data, k, strNode(escapeVars(ch.Data[k])))
	}
	if len(data.Content) == 0 {
		data.Style = yaml.FlowStyle
	}
	addPair(n, "data", data)
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, r := range rs {
		rn := mapNode()
		addPair(rn, "filter", strNode(r.Filter))
		addPair(rn, "type", strNode(r.Type))
		if r.CategoryID != nil {
			addPair(rn, "category_id", intNode(strconv.FormatInt(*r.CategoryID, 10)))
		}
		if r.IncludeSubcategories {
			addPair(rn, "include_subcategories", boolNode(true))
		}
		if len(r.Tags) > 0 {
			tags := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
			for _, t := range r.Tags {
				tags.Content = append(tags.Content, strNode(t))
			}
			addPair(rn, "tags", tags)
		}
		if r.GroupName != nil {
			addPair(rn, "group", strNode(*r.GroupName))
		}
		list.Content = append(list.Content, rn)
	}
	if len(list.Content) == 0 {
		list.Style = yaml.FlowStyle
	}
	addPair(n, "rules", list)
	return n
}

// placeholder returns ${CHATSIDECAR_SECRET_<OWNER>_<KEY>}. Two owners whose
// names differ only in punctuation would map to the same variable; later
// ones get a numeric suffix so every secret keeps its own variable.
func (x *exporter) placeholder(owner, key string) *yaml.Node {
	base := "CHATSIDECAR_SECRET_" + envName(owner) + "_" + envName(key)
	name := base
	for i := 2; x.used[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	x.used[name] = true
	return strNode("${" + name + "}")
}

// envName upper-cases s and turns everything but ASCII letters and digits
// into _, so the result is a portable environment variable name part.
func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// valueNode renders a stored setting with its own YAML type: numbers as
// numbers, booleans as booleans, strings escaped for ${.
func valueNode(v any) *yaml.Node {
	switch x := v.(type) {
	case bool:
		return boolNode(x)
	case string:
		return strNode(escapeVars(x))
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return intNode(x.String())
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: x.String()}
	case int:
		return intNode(strconv.Itoa(x))
	case int64:
		return intNode(strconv.FormatInt(x, 10))
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return strNode(escapeVars(fmt.Sprint(v)))
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func intNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s} }

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, strNode(key), v)
}
