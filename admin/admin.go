// Package admin is the one place that changes the sidecar's configuration:
// providers, channels and rules. The GraphQL resolvers, the declarative
// `apply` command and (later) chat commands all go through it, so every
// path validates input the same way and a rejected change changes nothing.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"unicode"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// Service validates and applies configuration changes.
type Service struct {
	store *store.Store
	reg   *providers.Registry
	log   *slog.Logger
}

// New returns a Service. log may be nil.
func New(s *store.Store, reg *providers.Registry, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, reg: reg, log: log}
}

// Registry returns the providers this build ships.
func (s *Service) Registry() *providers.Registry { return s.reg }

// inputErr builds a one-field validation error.
func inputErr(field, format string, args ...any) error {
	return providers.ValidationErrors{{Field: field, Message: fmt.Sprintf(format, args...)}}
}

// asInputErr turns a store conflict into a validation error on its field:
// to the caller a duplicate is bad input like any other.
func asInputErr(err error) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return providers.ValidationErrors{{Field: ce.Field, Message: ce.Message}}
	}
	return err
}

// ProviderView is a provider with its stored configuration; Config is nil
// until the provider is configured.
type ProviderView struct {
	Provider providers.Provider
	Config   *store.ProviderConfig
}

// Providers lists every provider with its configuration.
func (s *Service) Providers(ctx context.Context) ([]ProviderView, error) {
	cfgs, err := s.store.ListProviderConfigs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ProviderView, 0, len(s.reg.All()))
	for _, p := range s.reg.All() {
		out = append(out, ProviderView{Provider: p, Config: cfgs[p.ID()]})
	}
	return out, nil
}

// ConfigureProvider enables or disables a provider and merges settings into
// its stored settings: keys not given keep their value, null resets a key
// to its default. enabled nil keeps the current state.
func (s *Service) ConfigureProvider(ctx context.Context, id string, enabled *bool, settings map[string]any) (*ProviderView, error) {
	p, ok := s.reg.Get(id)
	if !ok {
		return nil, inputErr("id", "unknown provider %q", id)
	}
	var view *ProviderView
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetProviderConfig(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			cur = &store.ProviderConfig{ProviderID: id, Settings: map[string]any{}}
		} else if err != nil {
			return err
		}
		if enabled != nil {
			cur.Enabled = *enabled
		}
		merged, err := providers.MergeSettings(p, cur.Enabled, cur.Settings, settings)
		if err != nil {
			return err
		}
		cur.Settings = merged
		if err := q.PutProviderConfig(ctx, cur); err != nil {
			return err
		}
		view = &ProviderView{Provider: p, Config: cur}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "provider configured", "provider", id, "enabled", view.Config.Enabled)
	return view, nil
}

// ChannelInput creates a channel. Name may be empty; one is generated.
type ChannelInput struct {
	Provider string
	Name     string
	Data     map[string]any
}

// CreateChannel validates and stores a new channel.
func (s *Service) CreateChannel(ctx context.Context, in ChannelInput) (*store.Channel, error) {
	ch, err := s.buildChannel(in, nil, "")
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateChannel(ctx, ch); err != nil {
		return nil, asInputErr(err)
	}
	s.log.InfoContext(ctx, "channel created", "channel", ch.ID, "provider", ch.Provider, "name", ch.Name)
	return ch, nil
}

// ChannelUpdate changes a channel. Nil fields keep their value. Data, when
// given, replaces the channel's data; secret parameters may be left out to
// keep their current value, because the API never returns them.
type ChannelUpdate struct {
	Name *string
	Data map[string]any
}

// UpdateChannel validates and applies a change to a channel.
func (s *Service) UpdateChannel(ctx context.Context, id int64, up ChannelUpdate) (*store.Channel, error) {
	var out *store.Channel
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetChannel(ctx, id)
		if err != nil {
			return err
		}
		in := ChannelInput{Provider: cur.Provider, Name: cur.Name}
		if up.Name != nil {
			in.Name = *up.Name
			if strings.TrimSpace(in.Name) == "" {
				return inputErr("name", "must not be empty")
			}
		}
		if up.Data != nil {
			in.Data = up.Data
		} else {
			in.Data = make(map[string]any, len(cur.Data))
			for k, v := range cur.Data {
				in.Data[k] = v
			}
		}
		ch, err := s.buildChannel(in, cur, "")
		if err != nil {
			return err
		}
		ch.ID = id
		if err := q.UpdateChannel(ctx, ch); err != nil {
			return asInputErr(err)
		}
		out, err = q.GetChannel(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteChannel deletes a channel and its rules.
func (s *Service) DeleteChannel(ctx context.Context, id int64) error {
	if err := s.store.DeleteChannel(ctx, id); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "channel deleted", "channel", id)
	return nil
}

// buildChannel validates in. With cur set (an update), secret parameters
// missing from in.Data keep cur's values. prefix is prepended to field
// names (apply uses it to point into the document).
func (s *Service) buildChannel(in ChannelInput, cur *store.Channel, prefix string) (*store.Channel, error) {
	p, ok := s.reg.Get(in.Provider)
	if !ok {
		return nil, inputErr(prefix+"provider", "unknown provider %q", in.Provider)
	}
	var errs providers.ValidationErrors
	name := strings.TrimSpace(in.Name)
	if name == "" && cur == nil {
		name = generatedName(p.ID())
	}
	if msg := checkName(name); msg != "" {
		errs = append(errs, &providers.FieldError{Field: prefix + "name", Message: msg})
	}
	data := in.Data
	if cur != nil {
		data = make(map[string]any, len(in.Data))
		for k, v := range in.Data {
			data[k] = v
		}
		for _, prm := range p.Params() {
			if _, given := data[prm.Key]; !given && prm.Secret {
				data[prm.Key] = cur.Data[prm.Key]
			}
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	values, err := providers.ValidateChannelData(p, prefix+"data", data)
	if err != nil {
		var ve providers.ValidationErrors
		if !errors.As(err, &ve) {
			return nil, err
		}
		errs = append(errs, ve...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &store.Channel{Provider: p.ID(), Name: name, Data: values}, nil
}

// checkName returns why name is unacceptable, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > 100:
		return "must be at most 100 characters"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

func generatedName(provider string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return provider + "-" + hex.EncodeToString(b)
}

// ChannelRules returns a channel's rules in precedence order, the order the
// reference lists them and in which `remove N` counts.
func (s *Service) ChannelRules(ctx context.Context, channelIDs ...int64) ([]*store.Rule, error) {
	rs, err := s.store.ListRules(ctx, channelIDs...)
	if err != nil {
		return nil, err
	}
	SortRules(rs)
	return rs, nil
}

// SortRules orders rules by channel, then precedence.
func SortRules(rs []*store.Rule) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.ChannelID != b.ChannelID {
			return a.ChannelID < b.ChannelID
		}
		return rules.Less(rules.Type(a.Type), rules.Filter(a.Filter), a.ID, rules.Type(b.Type), rules.Filter(b.Filter), b.ID)
	})
}

// CreateRule validates and stores a rule for a channel.
func (s *Service) CreateRule(ctx context.Context, channelID int64, in rules.Input) (*store.Rule, error) {
	spec, err := rules.Validate("", in)
	if err != nil {
		return nil, err
	}
	r := ruleFromSpec(channelID, spec)
	if err := s.store.CreateRule(ctx, r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, inputErr("channelId", "channel %d does not exist", channelID)
		}
		return nil, err
	}
	return r, nil
}

// UpdateRule replaces a rule's fields with in (the caller merges partial
// updates first). The rule stays on its channel.
func (s *Service) UpdateRule(ctx context.Context, id int64, in rules.Input) (*store.Rule, error) {
	spec, err := rules.Validate("", in)
	if err != nil {
		return nil, err
	}
	var out *store.Rule
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetRule(ctx, id)
		if err != nil {
			return err
		}
		r := ruleFromSpec(cur.ChannelID, spec)
		r.ID = id
		if err := q.UpdateRule(ctx, r); err != nil {
			return err
		}
		out, err = q.GetRule(ctx, id)
		return err
	})
	return out, err
}

// DeleteRule deletes a rule.
func (s *Service) DeleteRule(ctx context.Context, id int64) error {
	return s.store.DeleteRule(ctx, id)
}

// RuleInputOf returns the input that would recreate r, the starting point
// for partial updates.
func RuleInputOf(r *store.Rule) rules.Input { return rules.Input(specOf(r)) }

func ruleFromSpec(channelID int64, spec rules.Spec) *store.Rule {
	return &store.Rule{
		ChannelID:            channelID,
		Filter:               string(spec.Filter),
		Type:                 string(spec.Type),
		CategoryID:           spec.CategoryID,
		IncludeSubcategories: spec.IncludeSubcategories,
		Tags:                 spec.Tags,
		GroupName:            spec.GroupName,
	}
}
