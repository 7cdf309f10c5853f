package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/graph/model"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// Redacted replaces every secret value the API would otherwise return.
const Redacted = "[REDACTED]"

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// parseID parses an object id argument; a malformed id is bad input on
// field, so a client can tell a typo from a deleted object.
func parseID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, inputError(field, "%q is not a valid id", s)
	}
	return id, nil
}

const cursorPrefix = "channel:"

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + formatID(id)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && strings.HasPrefix(string(b), cursorPrefix) {
		if id, err := strconv.ParseInt(strings.TrimPrefix(string(b), cursorPrefix), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, inputError("after", "not a cursor returned by this API")
}

func providerModel(v admin.ProviderView) *model.Provider {
	p := v.Provider
	out := &model.Provider{
		ID:         p.ID(),
		Name:       p.Name(),
		Configured: v.Config != nil,
		Settings:   redactedSettings(p, v.Config),
	}
	if v.Config != nil {
		out.Enabled = v.Config.Enabled
	}
	for _, prm := range p.Params() {
		pattern := ""
		if prm.Pattern != nil {
			pattern = prm.Pattern.String()
		}
		out.ChannelParameters = append(out.ChannelParameters, &model.ChannelParameter{
			Key: prm.Key, Label: prm.Label, Required: true, Pattern: pattern,
			Unique: prm.Unique, Secret: prm.Secret, Example: prm.Example,
		})
	}
	for _, s := range p.Settings() {
		out.SettingDefinitions = append(out.SettingDefinitions, &model.ProviderSetting{
			Key: s.Key, Label: s.Label, Type: model.SettingType(s.Type), Secret: s.Secret,
			Default: s.Default, Description: s.Description,
		})
	}
	c := providers.CapabilitiesOf(p)
	out.Capabilities = &model.Capabilities{
		Notify: c.Notify, Threads: c.Threads, Edits: c.Edits,
		Commands: c.Commands, Transcripts: c.Transcripts, Listen: c.Listen,
		ChannelCheck: c.ChannelCheck,
	}
	return out
}

// redactedSettings returns the effective settings: stored values over
// defaults, with every set secret replaced by Redacted.
func redactedSettings(p providers.Provider, cfg *store.ProviderConfig) map[string]any {
	out := map[string]any{}
	for _, s := range p.Settings() {
		var v any = s.Default
		if cfg != nil {
			if stored, ok := cfg.Settings[s.Key]; ok {
				v = stored
			}
		}
		if v == nil {
			continue
		}
		if s.Secret {
			if str, ok := v.(string); ok && str == "" {
				continue
			}
			v = Redacted
		}
		out[s.Key] = v
	}
	return out
}

func (r *Resolver) channelModel(ch *store.Channel) *model.Channel {
	data := make(map[string]any, len(ch.Data))
	secret := map[string]bool{}
	if p, ok := r.reg.Get(ch.Provider); ok {
		for _, prm := range p.Params() {
			secret[prm.Key] = prm.Secret
		}
	}
	for k, v := range ch.Data {
		if secret[k] {
			data[k] = Redacted
		} else {
			data[k] = v
		}
	}
	out := &model.Channel{
		ID: formatID(ch.ID), Provider: ch.Provider, Name: ch.Name, Data: data,
		CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt,
	}
	if ch.LastError != nil {
		out.LastError = &model.ChannelError{Key: ch.LastError.Key, Message: ch.LastError.Message, At: ch.LastError.At}
	}
	return out
}

func ruleModel(rl *store.Rule) *model.Rule {
	out := &model.Rule{
		ID:                   formatID(rl.ID),
		ChannelID:            formatID(rl.ChannelID),
		Filter:               model.RuleFilter(strings.ToUpper(rl.Filter)),
		Type:                 model.RuleType(strings.ToUpper(rl.Type)),
		IncludeSubcategories: rl.IncludeSubcategories,
		Tags:                 rl.Tags,
		GroupName:            rl.GroupName,
		CreatedAt:            rl.CreatedAt,
		UpdatedAt:            rl.UpdatedAt,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if rl.CategoryID != nil {
		c := int(*rl.CategoryID)
		out.CategoryID = &c
	}
	return out
}

func ruleFilter(f *model.RuleFilter) rules.Filter {
	if f == nil {
		return ""
	}
	return rules.Filter(strings.ToLower(string(*f)))
}

func ruleType(t *model.RuleType) rules.Type {
	if t == nil {
		return ""
	}
	return rules.Type(strings.ToLower(string(*t)))
}

func categoryID(c *int) *int64 {
	if c == nil {
		return nil
	}
	v := int64(*c)
	return &v
}

// jsonObject accepts a JSON argument that must be an object.
func jsonObject(field string, v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, inputError(field, "must be a JSON object")
	}
	return m, nil
}

func planModel(p *admin.Plan, dryRun bool) *model.ApplyResult {
	out := &model.ApplyResult{Changed: p.Changed(), DryRun: dryRun, Changes: []*model.ConfigChange{}}
	for _, c := range p.Changes {
		out.Changes = append(out.Changes, &model.ConfigChange{
			Action: model.ConfigAction(strings.ToUpper(string(c.Action))),
			Kind:   model.ConfigKind(strings.ToUpper(string(c.Kind))),
			Name:   c.Name,
			Detail: c.Detail,
		})
	}
	return out
}

// maxPageSize bounds `first` on connections.
const maxPageSize = 200

// pageArgs validates a connection's first and after: the page size (50
// when first is absent) and the id the cursor points after (0 for the
// first page).
func pageArgs(first *int, after *string) (int, int64, error) {
	limit := 50
	if first != nil {
		limit = *first
	}
	if limit < 0 || limit > maxPageSize {
		return 0, 0, inputError("first", "must be between 0 and %d", maxPageSize)
	}
	if after == nil || *after == "" {
		return limit, 0, nil
	}
	id, err := decodeCursor(*after)
	return limit, id, err
}

// page cuts items, fetched with limit+1, to the page and describes it:
// the page, each item's cursor, and the PageInfo.
func page[T any](items []T, limit int, afterID int64, id func(T) int64) ([]T, []string, *model.PageInfo) {
	info := &model.PageInfo{HasPreviousPage: afterID > 0}
	if len(items) > limit {
		info.HasNextPage = true
		items = items[:limit]
	}
	cursors := make([]string, len(items))
	for i, it := range items {
		cursors[i] = encodeCursor(id(it))
	}
	if n := len(cursors); n > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[n-1]
	}
	return items, cursors, info
}
