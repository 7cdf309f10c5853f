// Package rules holds the pure logic of routing rules: their vocabulary,
// validation and normalisation, and the precedence order of the reference
// plugin. It does no IO, so every case is a table test.
package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

// Filter says what a rule does with matching posts.
type Filter string

// Filters, in the reference's vocabulary. The legacy tag_added filter is not
// accepted: the reference itself moved it to Discourse Automation.
const (
	Mute   Filter = "mute"   // suppress notifications for this channel
	Thread Filter = "thread" // like watch, replies go into the topic's chat thread
	Watch  Filter = "watch"  // every post
	Follow Filter = "follow" // first posts only
)

// Type says which events a rule considers.
type Type string

// Rule types.
const (
	Normal       Type = "normal"        // topics in a category (or all categories)
	GroupMessage Type = "group_message" // private messages to a group
	GroupMention Type = "group_mention" // posts that mention a group
)

// Filters lists every accepted filter in precedence order.
func Filters() []Filter { return []Filter{Mute, Thread, Watch, Follow} }

// Types lists every accepted type.
func Types() []Type { return []Type{Normal, GroupMessage, GroupMention} }

// Valid reports whether f is an accepted filter.
func (f Filter) Valid() bool {
	switch f {
	case Mute, Thread, Watch, Follow:
		return true
	}
	return false
}

// Valid reports whether t is an accepted type.
func (t Type) Valid() bool {
	switch t {
	case Normal, GroupMessage, GroupMention:
		return true
	}
	return false
}

// Input is a rule as an admin or a config document gives it.
type Input struct {
	Filter               Filter
	Type                 Type
	CategoryID           *int64
	IncludeSubcategories bool
	Tags                 []string
	GroupName            *string
}

// Spec is a validated, normalised rule.
type Spec struct {
	Filter               Filter
	Type                 Type
	CategoryID           *int64
	IncludeSubcategories bool
	Tags                 []string // nil when the rule applies to any tags
	GroupName            *string
}

// Discourse group names: letters, digits, underscore, dot and dash.
var groupNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,60}$`)

// tagForbidden are the characters Discourse strips from tag names.
const tagForbidden = "/?#[]@!$&'()*+,;=.%\\`^|{}\"<>"

// MaxTags bounds the tags of one rule; a longer list is a mistake.
const MaxTags = 50

// Validate checks in against the reference's rule validations (§1.3) and
// returns the normalised spec, or every problem found as
// providers.ValidationErrors with field names under prefix ("input").
//
// Normal rules take a category (nil means all categories) and no group;
// group rules take a group and no category. Tags are trimmed, lower-cased
// (Discourse's default force_lowercase_tags), de-duplicated and sorted; an
// empty list means any tags.
func Validate(prefix string, in Input) (Spec, error) {
	var errs providers.ValidationErrors
	add := func(field, msg string, args ...any) {
		errs = append(errs, &providers.FieldError{Field: prefix + field, Message: fmt.Sprintf(msg, args...)})
	}
	out := Spec{Filter: in.Filter, Type: in.Type, IncludeSubcategories: in.IncludeSubcategories}
	if in.Filter == "" {
		out.Filter = Watch
	} else if !in.Filter.Valid() {
		add("filter", "%q is not a valid filter (mute, thread, watch or follow)", in.Filter)
	}
	if in.Type == "" {
		out.Type = Normal
	} else if !in.Type.Valid() {
		add("type", "%q is not a valid type (normal, group_message or group_mention)", in.Type)
	}
	switch out.Type {
	case Normal:
		if in.GroupName != nil {
			add("groupName", "cannot be specified for a normal rule")
		}
		if in.CategoryID != nil {
			if *in.CategoryID <= 0 {
				add("categoryId", "must be a positive category id")
			} else {
				id := *in.CategoryID
				out.CategoryID = &id
			}
		} else if in.IncludeSubcategories {
			add("includeSubcategories", "needs a categoryId (a rule for all categories already includes subcategories)")
		}
	case GroupMessage, GroupMention:
		if in.CategoryID != nil {
			add("categoryId", "cannot be specified for that type of rule")
		}
		if in.IncludeSubcategories {
			add("includeSubcategories", "cannot be specified for that type of rule")
		}
		switch {
		case in.GroupName == nil || strings.TrimSpace(*in.GroupName) == "":
			add("groupName", "is required for a %s rule", out.Type)
		case !groupNamePattern.MatchString(strings.TrimSpace(*in.GroupName)):
			add("groupName", "%q is not a valid group name", *in.GroupName)
		default:
			g := strings.TrimSpace(*in.GroupName)
			out.GroupName = &g
		}
	}
	tags, tagErrs := NormalizeTags(in.Tags)
	for _, e := range tagErrs {
		add(e.Field, "%s", e.Message)
	}
	out.Tags = tags
	if len(errs) > 0 {
		return Spec{}, errs
	}
	return out, nil
}

// NormalizeTags trims, lower-cases, de-duplicates and sorts tag names and
// reports invalid ones with fields "tags[i]". It returns nil for an empty
// list, which the store keeps as "any tags".
func NormalizeTags(in []string) ([]string, []*providers.FieldError) {
	var errs []*providers.FieldError
	if len(in) > MaxTags {
		return nil, []*providers.FieldError{{Field: "tags", Message: fmt.Sprintf("at most %d tags", MaxTags)}}
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for i, raw := range in {
		t := strings.ToLower(strings.TrimSpace(raw))
		field := fmt.Sprintf("tags[%d]", i)
		switch {
		case t == "":
			errs = append(errs, &providers.FieldError{Field: field, Message: "tag must not be empty"})
		case len(t) > 100:
			errs = append(errs, &providers.FieldError{Field: field, Message: "tag is longer than 100 characters"})
		case strings.ContainsAny(t, tagForbidden) || strings.ContainsFunc(t, isSpaceOrControl):
			errs = append(errs, &providers.FieldError{Field: field, Message: fmt.Sprintf("%q is not a valid tag name", raw)})
		case !seen[t]:
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(errs) > 0 || len(out) == 0 {
		return nil, errs
	}
	sort.Strings(out)
	return out, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// typeRank and filterRank are the reference's delivery precedence: group
// message rules, then group mentions, then normal rules; within a type
// mute, thread, watch, follow.
func typeRank(t Type) int {
	switch t {
	case GroupMessage:
		return 0
	case GroupMention:
		return 1
	}
	return 2
}

func filterRank(f Filter) int {
	switch f {
	case Mute:
		return 0
	case Thread:
		return 1
	case Watch:
		return 2
	}
	return 3
}

// Less orders two rules by precedence, the order in which a channel's rules
// are listed and in which the first rule per channel wins. Ties keep id
// order so the result is deterministic (the reference's sort is not).
func Less(aType Type, aFilter Filter, aID int64, bType Type, bFilter Filter, bID int64) bool {
	if ra, rb := typeRank(aType), typeRank(bType); ra != rb {
		return ra < rb
	}
	if ra, rb := filterRank(aFilter), filterRank(bFilter); ra != rb {
		return ra < rb
	}
	return aID < bID
}
