package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// Declarative configuration: `chatsidecar apply -f rules.yaml` and the
// applyConfig mutation hand a whole document to Apply, which makes the
// database match it in one transaction, and `chatsidecar export` /
// exportConfig print the current configuration in the same format. The
// format is documented in examples/rules.yaml.

// Action says what Apply does to one object.
type Action string

// The actions of a plan.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Kind names the kind of object a Change touches.
type Kind string

// The kinds of objects a document configures.
const (
	KindProvider Kind = "provider"
	KindChannel  Kind = "channel"
	KindRule     Kind = "rule"
)

// Change is one write Apply made, or would make in a dry run.
type Change struct {
	Action Action
	Kind   Kind
	// Name identifies the object for a human: the provider id, the channel
	// name, or "channel-name: rule summary" for a rule (rules have no name
	// and their ids change when a document recreates them).
	Name string
	// Detail says what changes, without ever showing a secret value.
	Detail string
}

// Plan lists what Apply did (or would do, in a dry run), in a stable order:
// providers, channels deleted by pruning, then each channel of the document
// followed by its rules.
type Plan struct {
	Changes []Change
}

// Changed reports whether the plan changes anything; applying an unchanged
// document gives an empty plan.
func (p *Plan) Changed() bool { return p != nil && len(p.Changes) > 0 }

// String renders the plan for `chatsidecar apply --dry-run`: one line per
// change, "+" for create, "~" for update, "-" for delete, or "no changes".
func (p *Plan) String() string {
	if !p.Changed() {
		return "no changes"
	}
	var b strings.Builder
	for i, c := range p.Changes {
		if i > 0 {
			b.WriteByte('\n')
		}
		sign := "~"
		switch c.Action {
		case ActionCreate:
			sign = "+"
		case ActionDelete:
			sign = "-"
		}
		fmt.Fprintf(&b, "%s %s %s %s", sign, c.Action, c.Kind, c.Name)
		if c.Detail != "" {
			b.WriteString(" (" + c.Detail + ")")
		}
	}
	return b.String()
}

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// Prune deletes channels (and their rules) that the document does not
	// name. Providers are never pruned: an unnamed provider keeps its
	// configuration.
	Prune bool
	// DryRun computes the plan and changes nothing. It runs the very same
	// writes inside the transaction and rolls them back, so a dry run and
	// a real run cannot disagree.
	DryRun bool
	// Expand resolves ${NAME} references in string values of provider
	// settings and channel data; the CLI passes os.LookupEnv. Nil means the
	// caller does not expand: a value containing ${NAME} is then a problem
	// telling the user to expand variables before sending the document,
	// because the server never reads its own environment on behalf of an
	// API caller. $${ always stands for a literal ${.
	Expand func(name string) (string, bool)
}

// DocumentError lists every problem found in a document, each with its
// location, so a CI run shows all mistakes at once. When Apply returns it,
// nothing was changed.
type DocumentError struct {
	Problems []Problem
}

// Problem is one mistake in a document.
type Problem struct {
	// Path points into the document, e.g. channels[2].data.webhook_url;
	// empty for the document as a whole.
	Path string
	// Line is the 1-based line in the YAML text, 0 when unknown (a key
	// that is missing altogether).
	Line int
	// Message says what is wrong, in words an admin can act on.
	Message string
}

// String renders the problem as "line 12: channels[2].data.webhook_url: …".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists the problems, one per line, ordered by line.
func (e *DocumentError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// dryRunRollback is returned from the transaction of a dry run to roll it
// back; Apply swallows it. It is a type rather than a package variable so
// nothing outside Apply can produce or mistake it.
type dryRunRollback struct{}

func (dryRunRollback) Error() string { return "dry run: rolled back" }

// Apply makes the configuration match doc (YAML or JSON, the format of
// Export) in one transaction and returns what changed. Providers named in
// the document are configured with merge semantics; channels are matched
// by name, and each channel's rules are replaced by the document's set,
// keeping rules that are already there untouched. Applying the same
// document twice writes nothing the second time.
//
// Any problem anywhere in the document is returned, together with every
// other problem found, as a *DocumentError, and then nothing changes.
// Other errors are database failures.
func (s *Service) Apply(ctx context.Context, doc []byte, opts ApplyOptions) (*Plan, error) {
	probs := newDocProblems()
	d := parseDocument(doc, opts.Expand, probs)
	if d == nil {
		return nil, probs.err()
	}
	var plan *Plan
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		a := &applier{s: s, q: q, probs: probs, prune: opts.Prune}
		p, err := a.run(ctx, d)
		if err != nil {
			return err
		}
		if err := probs.err(); err != nil {
			return err
		}
		plan = p
		if opts.DryRun {
			return dryRunRollback{}
		}
		return nil
	})
	var rb dryRunRollback
	if err != nil && !errors.As(err, &rb) {
		return nil, err
	}
	if !opts.DryRun && plan.Changed() {
		s.log.InfoContext(ctx, "configuration applied", "changes", len(plan.Changes), "prune", opts.Prune)
	}
	return plan, nil
}

// applier runs one Apply inside its transaction.
type applier struct {
	s     *Service
	q     *store.Queries
	probs *docProblems
	prune bool
}

// providerStep is the outcome of comparing one provider of the document
// with the database.
type providerStep struct {
	dp     *docProvider
	cfg    *store.ProviderConfig // what to store; nil when invalid
	change *Change               // nil when nothing changes
}

// channelStep is the outcome of comparing one channel of the document with
// the database.
type channelStep struct {
	dc     *docChannel
	cur    *store.Channel // nil for a new channel
	want   *store.Channel // nil when the channel is invalid
	change *Change        // nil when the channel itself does not change
	// create and remove are the rule changes; ruleChanges describes them.
	create      []rules.Spec
	remove      []*store.Rule
	ruleChanges []Change
	// written is set once the channel exists as the document wants it.
	written bool
}

// run validates the whole document against the database, then performs the
// writes of every part that is valid (so that store conflicts are found
// too), and returns the plan. The caller rolls back when there are
// problems.
func (a *applier) run(ctx context.Context, d *document) (*Plan, error) {
	plan := &Plan{}
	psteps := make([]*providerStep, 0, len(d.providers))
	for _, dp := range d.providers {
		st, err := a.provider(ctx, dp)
		if err != nil {
			return nil, err
		}
		psteps = append(psteps, st)
		if st.change != nil {
			plan.Changes = append(plan.Changes, *st.change)
		}
	}

	named := make(map[string]bool, len(d.channels))
	firstAt := make(map[string]string, len(d.channels))
	csteps := make([]*channelStep, 0, len(d.channels))
	for _, dc := range d.channels {
		if dc.name != "" {
			named[dc.name] = true
		}
		dup := false
		if dc.name != "" {
			if first, ok := firstAt[dc.name]; ok {
				a.probs.addAt(dc.path+".name", "duplicate channel name %q (also %s, line %d): names must be unique in a document", dc.name, first, a.probs.lineOf(first))
				dup = true
			} else {
				firstAt[dc.name] = dc.path
			}
		}
		st, err := a.channel(ctx, dc, dup)
		if err != nil {
			return nil, err
		}
		csteps = append(csteps, st)
	}

	var pruned []*store.Channel
	if a.prune {
		all, err := a.q.ListChannels(ctx, store.ListChannelsParams{})
		if err != nil {
			return nil, err
		}
		for _, ch := range all {
			if !named[ch.Name] {
				pruned = append(pruned, ch)
			}
		}
		sort.Slice(pruned, func(i, j int) bool { return pruned[i].Name < pruned[j].Name })
		for _, ch := range pruned {
			rs, err := a.q.ListRules(ctx, ch.ID)
			if err != nil {
				return nil, err
			}
			detail := ch.Provider + ", not in the document"
			if len(rs) > 0 {
				detail += fmt.Sprintf(", with its %d rule%s", len(rs), plural(len(rs)))
			}
			plan.Changes = append(plan.Changes, Change{Action: ActionDelete, Kind: KindChannel, Name: ch.Name, Detail: detail})
		}
	}
	for _, st := range csteps {
		if st.change != nil {
			plan.Changes = append(plan.Changes, *st.change)
		}
		plan.Changes = append(plan.Changes, st.ruleChanges...)
	}

	// Writes. Providers are independent of everything else. Pruned channels
	// go first so their names and unique parameters are free for the
	// document's channels.
	for _, st := range psteps {
		if st.cfg == nil || st.change == nil || a.probs.under(st.dp.path) {
			continue
		}
		if err := a.q.PutProviderConfig(ctx, st.cfg); err != nil {
			return nil, err
		}
	}
	for _, ch := range pruned {
		if err := a.q.DeleteChannel(ctx, ch.ID); err != nil {
			return nil, err
		}
	}
	if err := a.writeChannels(ctx, csteps); err != nil {
		return nil, err
	}
	for _, st := range csteps {
		if !st.written || a.channelBlocked(st) || a.probs.under(st.dc.path+".rules") {
			continue
		}
		for _, r := range st.remove {
			if err := a.q.DeleteRule(ctx, r.ID); err != nil {
				return nil, err
			}
		}
		for _, spec := range st.create {
			if err := a.q.CreateRule(ctx, ruleFromSpec(st.want.ID, spec)); err != nil {
				return nil, err
			}
		}
	}
	return plan, nil
}

// provider compares one provider of the document with its stored
// configuration, validating the merged settings the way ConfigureProvider
// does.
func (a *applier) provider(ctx context.Context, dp *docProvider) (*providerStep, error) {
	st := &providerStep{dp: dp}
	p, ok := a.s.reg.Get(dp.id)
	if !ok {
		a.probs.addAt(dp.path, "unknown provider %q (known: %s)", dp.id, strings.Join(a.providerIDs(), ", "))
		return st, nil
	}
	coerceExpanded(p, dp)
	cur, err := a.q.GetProviderConfig(ctx, dp.id)
	exists := err == nil
	if errors.Is(err, store.ErrNotFound) {
		cur = &store.ProviderConfig{ProviderID: dp.id, Settings: map[string]any{}}
	} else if err != nil {
		return nil, err
	}
	enabled := cur.Enabled
	if dp.enabled != nil {
		enabled = *dp.enabled
	}
	merged, err := providers.MergeSettings(p, enabled, cur.Settings, dp.settings)
	if err != nil {
		return st, a.report(err, func(f string) string { return dp.path + "." + f })
	}
	secret := make(map[string]bool)
	for _, def := range p.Settings() {
		secret[def.Key] = def.Secret
	}
	set, reset := settingsDiff(cur.Settings, merged)
	st.cfg = &store.ProviderConfig{ProviderID: dp.id, Enabled: enabled, Settings: merged, CreatedAt: cur.CreatedAt}
	if exists && enabled == cur.Enabled && len(set) == 0 && len(reset) == 0 {
		return st, nil
	}
	var parts []string
	switch {
	case !exists:
		parts = append(parts, enabledWord(enabled))
	case enabled != cur.Enabled:
		parts = append(parts, enabledWord(enabled))
	}
	if len(set) > 0 {
		vals := make([]string, len(set))
		for i, k := range set {
			vals[i] = describeValue(k, merged[k], secret[k])
		}
		parts = append(parts, "set "+strings.Join(vals, ", "))
	}
	if len(reset) > 0 {
		parts = append(parts, "reset to default "+strings.Join(reset, ", "))
	}
	action := ActionUpdate
	if !exists {
		action = ActionCreate
	}
	st.change = &Change{Action: action, Kind: KindProvider, Name: dp.id, Detail: strings.Join(parts, "; ")}
	return st, nil
}

// channel compares one channel of the document, and its rules, with the
// channel of the same name in the database.
func (a *applier) channel(ctx context.Context, dc *docChannel, dup bool) (*channelStep, error) {
	st := &channelStep{dc: dc}
	if dc.name != "" && !dup {
		cur, err := a.q.GetChannelByName(ctx, dc.name)
		switch {
		case err == nil:
			st.cur = cur
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	prefix := dc.path + "."
	switch {
	case st.cur != nil && dc.provider != "" && st.cur.Provider != dc.provider:
		a.probs.addAt(prefix+"provider", "channel %q is a %s channel and the provider of a channel cannot change; delete it or use another name", dc.name, st.cur.Provider)
	default:
		want, err := a.s.buildChannel(ChannelInput{Provider: dc.provider, Name: dc.name, Data: dc.data}, st.cur, prefix)
		if err != nil {
			if err := a.report(err, func(f string) string { return f }); err != nil {
				return nil, err
			}
		} else if dc.name != "" && !dup {
			st.want = want
		}
	}

	specs := make([]rules.Spec, 0, len(dc.rules))
	rulesOK := true
	for _, r := range dc.rules {
		spec, err := rules.Validate(r.path+".", r.in)
		if err != nil {
			if err := a.report(err, ruleField); err != nil {
				return nil, err
			}
			rulesOK = false
			continue
		}
		specs = append(specs, spec)
	}
	if st.want == nil {
		return st, nil
	}

	p, _ := a.s.reg.Get(st.want.Provider)
	if st.cur == nil {
		st.change = &Change{Action: ActionCreate, Kind: KindChannel, Name: dc.name, Detail: describeNewChannel(p, st.want.Data)}
	} else {
		st.want.ID = st.cur.ID
		if !maps.Equal(st.cur.Data, st.want.Data) {
			st.change = &Change{Action: ActionUpdate, Kind: KindChannel, Name: dc.name, Detail: describeDataChange(p, st.cur.Data, st.want.Data)}
		} else {
			st.written = true // nothing to write; rules may still change
		}
	}
	if !rulesOK {
		return st, nil
	}

	var existing []*store.Rule
	if st.cur != nil {
		rs, err := a.q.ListRules(ctx, st.cur.ID)
		if err != nil {
			return nil, err
		}
		SortRules(rs)
		existing = rs
	}
	wanted := make(map[string]bool, len(specs))
	for _, spec := range specs {
		wanted[specKey(spec)] = true
	}
	have := make(map[string]bool, len(existing))
	for _, r := range existing {
		k := specKey(specOf(r))
		if !wanted[k] || have[k] {
			// Not in the document, or a duplicate of a rule already kept.
			st.remove = append(st.remove, r)
			st.ruleChanges = append(st.ruleChanges, Change{Action: ActionDelete, Kind: KindRule, Name: dc.name + ": " + describeRule(specOf(r))})
			continue
		}
		have[k] = true
	}
	for _, spec := range specs {
		k := specKey(spec)
		if have[k] {
			continue
		}
		have[k] = true
		st.create = append(st.create, spec)
		st.ruleChanges = append(st.ruleChanges, Change{Action: ActionCreate, Kind: KindRule, Name: dc.name + ": " + describeRule(spec)})
	}
	return st, nil
}

// writeChannels creates and updates the document's valid channels. A
// unique parameter may move from one channel of the document to another,
// which only works in the right order, so a channel that conflicts is
// retried after the others; what still conflicts when no more progress is
// made is a problem at that channel.
func (a *applier) writeChannels(ctx context.Context, steps []*channelStep) error {
	var pending []*channelStep
	for _, st := range steps {
		if st.want == nil || st.written || st.change == nil {
			continue
		}
		if a.channelBlocked(st) {
			continue
		}
		pending = append(pending, st)
	}
	conflicts := make(map[*channelStep]*store.ConflictError)
	for len(pending) > 0 {
		var next []*channelStep
		for _, st := range pending {
			var err error
			if st.cur == nil {
				err = a.q.CreateChannel(ctx, st.want)
			} else {
				err = a.q.UpdateChannel(ctx, st.want)
			}
			var ce *store.ConflictError
			switch {
			case err == nil:
				st.written = true
				delete(conflicts, st)
			case errors.As(err, &ce):
				conflicts[st] = ce
				next = append(next, st)
			default:
				return err
			}
		}
		if len(next) == len(pending) {
			break
		}
		pending = next
	}
	for _, st := range steps {
		if ce, ok := conflicts[st]; ok {
			msg := ce.Message
			if !a.prune {
				msg += " (a channel this document does not name; rename one of them, or apply with prune to delete channels not in the document)"
			}
			a.probs.field(st.dc.path+"."+ce.Field, msg)
		}
	}
	return nil
}

// channelBlocked reports whether the channel itself (not its rules) has a
// problem, in which case it is not written.
func (a *applier) channelBlocked(st *channelStep) bool {
	for _, p := range a.probs.list {
		if within(p.Path, st.dc.path) && !within(p.Path, st.dc.path+".rules") {
			return true
		}
	}
	return false
}

// report turns a validator's error into problems, with field names mapped
// into the document by rename. Any other error is returned.
func (a *applier) report(err error, rename func(string) string) error {
	var ve providers.ValidationErrors
	var fe *providers.FieldError
	switch {
	case errors.As(err, &ve):
		for _, e := range ve {
			a.probs.field(rename(e.Field), e.Message)
		}
	case errors.As(err, &fe):
		a.probs.field(rename(fe.Field), fe.Message)
	default:
		return err
	}
	return nil
}

func (a *applier) providerIDs() []string {
	ids := make([]string, 0, len(a.s.reg.All()))
	for _, p := range a.s.reg.All() {
		ids = append(ids, p.ID())
	}
	return ids
}

// ruleField maps the rules package's field names (the GraphQL input's
// camelCase) to the document's keys.
func ruleField(f string) string {
	return strings.NewReplacer(
		".categoryId", ".category_id",
		".includeSubcategories", ".include_subcategories",
		".groupName", ".group",
	).Replace(f)
}

// specOf is the normalised content of a stored rule.
func specOf(r *store.Rule) rules.Spec {
	return rules.Spec{
		Filter:               rules.Filter(r.Filter),
		Type:                 rules.Type(r.Type),
		CategoryID:           r.CategoryID,
		IncludeSubcategories: r.IncludeSubcategories,
		Tags:                 r.Tags,
		GroupName:            r.GroupName,
	}
}

// specKey identifies a rule by its full normalised content, which is how
// Apply matches the document's rules with the stored ones: rules have no
// name, and two rules with the same content are the same rule.
func specKey(s rules.Spec) string {
	cat, group := "-", "-"
	if s.CategoryID != nil {
		cat = strconv.FormatInt(*s.CategoryID, 10)
	}
	if s.GroupName != nil {
		group = "=" + *s.GroupName
	}
	return strings.Join([]string{
		string(s.Filter), string(s.Type), cat, strconv.FormatBool(s.IncludeSubcategories),
		strings.Join(s.Tags, ","), group,
	}, "\x1f")
}

// describeRule summarises a rule for a plan, close to how the reference's
// chat status lists rules.
func describeRule(s rules.Spec) string {
	var b strings.Builder
	b.WriteString(string(s.Filter) + " ")
	group := ""
	if s.GroupName != nil {
		group = *s.GroupName
	}
	switch s.Type {
	case rules.GroupMessage:
		b.WriteString("messages to group " + group)
	case rules.GroupMention:
		b.WriteString("mentions of group " + group)
	default:
		if s.CategoryID == nil {
			b.WriteString("all categories")
		} else {
			fmt.Fprintf(&b, "category %d", *s.CategoryID)
			if s.IncludeSubcategories {
				b.WriteString(" and subcategories")
			}
		}
	}
	if len(s.Tags) > 0 {
		b.WriteString(" tagged " + strings.Join(s.Tags, ", "))
	}
	return b.String()
}

// settingsDiff returns the keys of next that are new or changed, and the
// keys of cur that next no longer has, both sorted. Values are compared as
// JSON because stored numbers come back as json.Number and validated ones
// as int.
func settingsDiff(cur, next map[string]any) (set, reset []string) {
	for k, v := range next {
		old, ok := cur[k]
		if !ok || !sameJSON(old, v) {
			set = append(set, k)
		}
	}
	for k := range cur {
		if _, ok := next[k]; !ok {
			reset = append(reset, k)
		}
	}
	sort.Strings(set)
	sort.Strings(reset)
	return set, reset
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func enabledWord(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// describeValue shows key=value for a plan, hiding secrets.
func describeValue(key string, v any, secret bool) string {
	if secret {
		return key + "=(secret)"
	}
	if s, ok := v.(string); ok {
		return key + "=" + strconv.Quote(s)
	}
	return fmt.Sprintf("%s=%v", key, v)
}

// describeNewChannel lists a new channel's provider and parameters, hiding
// secrets.
func describeNewChannel(p providers.Provider, data map[string]string) string {
	parts := []string{p.ID()}
	for _, prm := range p.Params() {
		if v, ok := data[prm.Key]; ok {
			parts = append(parts, describeValue(prm.Key, v, prm.Secret))
		}
	}
	return strings.Join(parts, ", ")
}

// describeDataChange lists the parameters that change, hiding secrets.
func describeDataChange(p providers.Provider, cur, next map[string]string) string {
	var parts []string
	for _, prm := range p.Params() {
		o, n := cur[prm.Key], next[prm.Key]
		if o == n {
			continue
		}
		if prm.Secret {
			parts = append(parts, prm.Key+" changed")
		} else {
			parts = append(parts, fmt.Sprintf("%s %s → %s", prm.Key, strconv.Quote(o), strconv.Quote(n)))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
