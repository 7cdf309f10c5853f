package rules_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
)

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     rules.Input
		want   rules.Spec
		fields []string // expected error fields; empty means valid
	}{
		{"defaults to watch normal all categories", rules.Input{}, rules.Spec{Filter: rules.Watch, Type: rules.Normal}, nil},
		{"category and tags", rules.Input{Filter: rules.Mute, CategoryID: ptr(int64(4)), Tags: []string{"B", " a ", "b"}},
			rules.Spec{Filter: rules.Mute, Type: rules.Normal, CategoryID: ptr(int64(4)), Tags: []string{"a", "b"}}, nil},
		{"empty tag list means any", rules.Input{Tags: []string{}}, rules.Spec{Filter: rules.Watch, Type: rules.Normal}, nil},
		{"subcategories with category", rules.Input{CategoryID: ptr(int64(4)), IncludeSubcategories: true},
			rules.Spec{Filter: rules.Watch, Type: rules.Normal, CategoryID: ptr(int64(4)), IncludeSubcategories: true}, nil},
		{"group message", rules.Input{Type: rules.GroupMessage, GroupName: ptr(" Staff ")},
			rules.Spec{Filter: rules.Watch, Type: rules.GroupMessage, GroupName: ptr("Staff")}, nil},
		{"group mention with tags", rules.Input{Type: rules.GroupMention, Filter: rules.Follow, GroupName: ptr("team.a"), Tags: []string{"x"}},
			rules.Spec{Filter: rules.Follow, Type: rules.GroupMention, GroupName: ptr("team.a"), Tags: []string{"x"}}, nil},
		{"thread filter", rules.Input{Filter: rules.Thread}, rules.Spec{Filter: rules.Thread, Type: rules.Normal}, nil},

		{"legacy tag_added filter", rules.Input{Filter: "tag_added"}, rules.Spec{}, []string{"filter"}},
		{"unknown type", rules.Input{Type: "everything"}, rules.Spec{}, []string{"type"}},
		{"group on normal", rules.Input{GroupName: ptr("staff")}, rules.Spec{}, []string{"groupName"}},
		{"category on group rule", rules.Input{Type: rules.GroupMessage, GroupName: ptr("staff"), CategoryID: ptr(int64(1))}, rules.Spec{}, []string{"categoryId"}},
		{"subcategories on group rule", rules.Input{Type: rules.GroupMention, GroupName: ptr("staff"), IncludeSubcategories: true}, rules.Spec{}, []string{"includeSubcategories"}},
		{"group missing", rules.Input{Type: rules.GroupMention}, rules.Spec{}, []string{"groupName"}},
		{"group blank", rules.Input{Type: rules.GroupMention, GroupName: ptr("  ")}, rules.Spec{}, []string{"groupName"}},
		{"group invalid", rules.Input{Type: rules.GroupMention, GroupName: ptr("a b")}, rules.Spec{}, []string{"groupName"}},
		{"category zero", rules.Input{CategoryID: ptr(int64(0))}, rules.Spec{}, []string{"categoryId"}},
		{"subcategories without category", rules.Input{IncludeSubcategories: true}, rules.Spec{}, []string{"includeSubcategories"}},
		{"bad tags", rules.Input{Tags: []string{"ok", "", "a b", "x/y", "#t"}}, rules.Spec{}, []string{"tags[1]", "tags[2]", "tags[3]", "tags[4]"}},
		{"several problems at once", rules.Input{Filter: "loud", Type: rules.GroupMessage, CategoryID: ptr(int64(3))}, rules.Spec{}, []string{"filter", "categoryId", "groupName"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rules.Validate("", tc.in)
			if len(tc.fields) == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var ve providers.ValidationErrors
			require.True(t, errors.As(err, &ve), "err = %v", err)
			var fields []string
			for _, fe := range ve {
				fields = append(fields, fe.Field)
			}
			require.Equal(t, tc.fields, fields)
		})
	}

	t.Run("prefix points into a document", func(t *testing.T) {
		t.Parallel()
		_, err := rules.Validate("channels[0].rules[2].", rules.Input{Filter: "nope"})
		var ve providers.ValidationErrors
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "channels[0].rules[2].filter", ve[0].Field)
	})

	t.Run("too many tags", func(t *testing.T) {
		t.Parallel()
		tags := make([]string, rules.MaxTags+1)
		for i := range tags {
			tags[i] = "t"
		}
		_, err := rules.Validate("", rules.Input{Tags: tags})
		require.Error(t, err)
	})
}

func TestLess_PrecedenceOrder(t *testing.T) {
	t.Parallel()
	type r struct {
		typ rules.Type
		f   rules.Filter
		id  int64
	}
	// The reference's spec "can be sorted by precedence" expects
	// mute mute thread watch follow; group rules come before normal ones.
	in := []r{
		{rules.Normal, rules.Follow, 1}, {rules.Normal, rules.Watch, 2}, {rules.Normal, rules.Mute, 3},
		{rules.Normal, rules.Thread, 4}, {rules.Normal, rules.Mute, 5}, {rules.GroupMention, rules.Follow, 6},
		{rules.GroupMessage, rules.Watch, 7},
	}
	sort.Slice(in, func(i, j int) bool { return rules.Less(in[i].typ, in[i].f, in[i].id, in[j].typ, in[j].f, in[j].id) })
	var ids []int64
	for _, x := range in {
		ids = append(ids, x.id)
	}
	require.Equal(t, []int64{7, 6, 3, 5, 4, 2, 1}, ids)
}

func TestFiltersAndTypes(t *testing.T) {
	t.Parallel()
	for _, f := range rules.Filters() {
		require.True(t, f.Valid())
	}
	for _, ty := range rules.Types() {
		require.True(t, ty.Valid())
	}
	require.False(t, rules.Filter("tag_added").Valid())
	require.False(t, rules.Type("").Valid())
}
