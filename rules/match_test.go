package rules_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/rules"
)

// Rule constructors. Category 0 means all categories.
func normal(id, ch int64, f rules.Filter, cat int64, tags ...string) rules.Rule {
	r := rules.Rule{ID: id, ChannelID: ch, Filter: f, Type: rules.Normal, Tags: tags}
	if cat != 0 {
		r.CategoryID = ptr(cat)
	}
	return r
}

func withSub(r rules.Rule) rules.Rule { r.IncludeSubcategories = true; return r }

func groupMessage(id, ch int64, f rules.Filter, group string, tags ...string) rules.Rule {
	return rules.Rule{ID: id, ChannelID: ch, Filter: f, Type: rules.GroupMessage, GroupName: group, Tags: tags}
}

func groupMention(id, ch int64, f rules.Filter, group string, tags ...string) rules.Rule {
	return rules.Rule{ID: id, ChannelID: ch, Filter: f, Type: rules.GroupMention, GroupName: group, Tags: tags}
}

// Event constructors: a regular post in a public topic (category 0 = none)
// and a regular post in a private message to groups.
func post(cat int64, number int) rules.Event {
	ev := rules.Event{PostID: 100, PostNumber: number, PostType: rules.PostRegular, Archetype: rules.ArchetypeRegular}
	if cat != 0 {
		ev.CategoryID = ptr(cat)
	}
	return ev
}

func pm(number int, groups ...string) rules.Event {
	return rules.Event{PostID: 100, PostNumber: number, PostType: rules.PostRegular, Archetype: rules.ArchetypePrivateMessage, AllowedGroups: groups}
}

func mentioning(ev rules.Event, groups ...string) rules.Event {
	ev.MentionedGroups = groups
	return ev
}

func tagged(ev rules.Event, tags ...string) rules.Event { ev.Tags = tags; return ev }

func categoryChanged(cat int64, parents ...int64) rules.Event {
	ev := post(cat, 7)
	ev.PostType = rules.PostWhisper
	ev.ActionCode = rules.ActionCategoryChanged
	ev.ParentCategoryIDs = parents
	return ev
}

// winners returns the winning rule ids in result order and checks that the
// result is in strictly increasing channel order.
func winners(t *testing.T, ms []rules.Match) []int64 {
	t.Helper()
	var ids []int64
	for i, m := range ms {
		require.NotNil(t, m.Rule)
		if i > 0 {
			require.Less(t, ms[i-1].Rule.ChannelID, m.Rule.ChannelID, "one rule per channel, in channel order")
		}
		ids = append(ids, m.Rule.ID)
	}
	return ids
}

var tagging = rules.Options{TaggingEnabled: true}

type matchCase struct {
	name  string
	rules []rules.Rule
	ev    rules.Event
	opts  rules.Options
	want  []int64 // winning rule ids in channel order
}

func runCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix := rules.NewIndex(tc.rules)
			ev := tc.ev
			got := winners(t, ix.Match(&ev, tc.opts))
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.want, naive(tc.rules, &ev, tc.opts), "the literal transcription of reference §2.2 disagrees with the case")
		})
	}
}

// TestMatch_ReferenceCases re-expresses the "Matching" cases of reference
// §7 (spec/services/manager_spec.rb). Case 13 (visibility to the chat
// user) is the caller's: Event has no visibility and the caller must not
// pass posts the integration user cannot see. Cases 16 (provider errors)
// and 17 (plugin disabled, job scheduling) belong to delivery and intake;
// what applies to a pure matcher is that a missing or empty index matches
// nothing (TestMatch_EmptyIndex).
func TestMatch_ReferenceCases(t *testing.T) {
	t.Parallel()
	const c, c2 = 10, 20
	case1 := []rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 2, rules.Follow, c), normal(3, 3, rules.Mute, c)}
	runCases(t, []matchCase{
		{"1 new topic: watch and follow notify, mute does not", case1, post(c, 1), tagging, []int64{1, 2}},
		{"2 reply: only watch notifies", case1, post(c, 2), tagging, []int64{1}},
		{"3 wildcard watch notifies a new topic in any category", []rules.Rule{normal(1, 1, rules.Watch, 0)}, post(c2, 1), tagging, []int64{1}},
		{"3 wildcard watch notifies a reply in any category", []rules.Rule{normal(1, 1, rules.Watch, 0)}, post(c, 5), tagging, []int64{1}},
		{"4 wildcard watch and category mute on one channel: nothing",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 1, rules.Mute, c)}, post(c, 1), tagging, nil},
		{"4 the mute is category-specific: another category still notifies",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 1, rules.Mute, c)}, post(c2, 1), tagging, []int64{1}},
		{"5 wildcard follow and category watch, reply: watch wins",
			[]rules.Rule{normal(1, 1, rules.Follow, 0), normal(2, 1, rules.Watch, c)}, post(c, 2), tagging, []int64{2}},
		{"6 wildcard watch and category thread, reply: thread wins",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 1, rules.Thread, c)}, post(c, 2), tagging, []int64{2}},
		{"7 PM without groups never notifies", []rules.Rule{normal(1, 1, rules.Follow, 0)}, pm(1), tagging, nil},
		{"8 PM to a group: only the group_message rule",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), groupMessage(2, 2, rules.Watch, "G")}, pm(1, "G"), tagging, []int64{2}},
		{"9 PM to two groups: both group_message rules",
			[]rules.Rule{groupMessage(1, 1, rules.Watch, "G1"), groupMessage(2, 2, rules.Watch, "G2")}, pm(1, "G1", "G2"), tagging, []int64{1, 2}},
		{"10 reply mentioning a group in a public topic: wildcard and group_mention, not group_message",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), groupMessage(2, 2, rules.Watch, "G"), groupMention(3, 3, rules.Watch, "G")},
			mentioning(post(c, 3), "g"), tagging, []int64{1, 3}},
		{"11 category mute, then a group_mention watch on the same channel: the mention notifies",
			[]rules.Rule{normal(1, 1, rules.Mute, c), groupMention(2, 1, rules.Watch, "G")}, mentioning(post(c, 2), "g"), tagging, []int64{2}},
		{"11 without the mention the mute holds",
			[]rules.Rule{normal(1, 1, rules.Mute, c), groupMention(2, 1, rules.Watch, "G")}, post(c, 2), tagging, nil},
		{"12 PM to G1 mentioning G2: only the group_message rule",
			[]rules.Rule{groupMessage(1, 1, rules.Watch, "G1"), groupMention(2, 2, rules.Watch, "G2")},
			mentioning(pm(2, "G1"), "g2"), tagging, []int64{1}},
		{"14 untagged rule fires for an untagged topic", []rules.Rule{normal(1, 1, rules.Watch, 0)}, post(c, 1), tagging, []int64{1}},
		{"14 untagged rule fires for a tagged topic", []rules.Rule{normal(1, 1, rules.Watch, 0)}, tagged(post(c, 1), "t"), tagging, []int64{1}},
		{"14 tagged rule fires for a topic with its tag",
			[]rules.Rule{normal(1, 1, rules.Watch, 0, "t")}, tagged(post(c, 1), "other", "t"), tagging, []int64{1}},
		{"14 tagged rule does not fire for a topic without its tag",
			[]rules.Rule{normal(1, 1, rules.Watch, 0, "t")}, tagged(post(c, 1), "other"), tagging, nil},
		{"14 tagged rule does not fire for an untagged topic", []rules.Rule{normal(1, 1, rules.Watch, 0, "t")}, post(c, 1), tagging, nil},
		{"14 tags are any-of", []rules.Rule{normal(1, 1, rules.Watch, c, "a", "b")}, tagged(post(c, 1), "b"), tagging, []int64{1}},
		{"15 first post in C1 notifies through the C1 rule",
			[]rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 1, rules.Watch, c2)}, post(c, 1), tagging, []int64{1}},
		{"15 moved to C2: the category_changed whisper notifies through the C2 rule",
			[]rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 1, rules.Watch, c2)}, categoryChanged(c2), tagging, []int64{2}},
	})
}

func TestMatch_EmptyIndex(t *testing.T) {
	t.Parallel()
	ev := post(1, 1)
	var nilIndex *rules.Index
	require.Nil(t, nilIndex.Match(&ev, tagging))
	require.Zero(t, nilIndex.Len())
	require.Nil(t, rules.NewIndex(nil).Match(&ev, tagging))
	require.Nil(t, rules.NewIndex([]rules.Rule{normal(1, 1, rules.Watch, 0)}).Match(nil, tagging))
}

func TestMatch_PostTypes(t *testing.T) {
	t.Parallel()
	const c, c2, parent = 10, 20, 5
	all := []rules.Rule{
		normal(1, 1, rules.Watch, 0),
		normal(2, 2, rules.Watch, c),
		normal(3, 3, rules.Follow, c),
		normal(4, 4, rules.Thread, c),
		normal(5, 5, rules.Follow, 0),
		groupMention(6, 6, rules.Watch, "g"),
		normal(7, 7, rules.Watch, c2),
		withSub(normal(8, 8, rules.Follow, parent)),
		normal(9, 9, rules.Mute, c),
	}
	withType := func(pt rules.PostType, action string) rules.Event {
		ev := mentioning(post(c, 3), "g")
		ev.PostType, ev.ActionCode = pt, action
		return ev
	}
	runCases(t, []matchCase{
		{"regular reply", all, withType(rules.PostRegular, ""), tagging, []int64{1, 2, 4, 6}},
		{"ordinary whisper is skipped", all, withType(rules.PostWhisper, ""), tagging, nil},
		{"small action is skipped", all, withType(rules.PostSmallAction, ""), tagging, nil},
		{"small action category_changed is skipped", all, withType(rules.PostSmallAction, rules.ActionCategoryChanged), tagging, nil},
		{"moderator action is skipped", all, withType(rules.PostModeratorAction, ""), tagging, nil},
		{"unset post type is skipped", all, withType(0, ""), tagging, nil},
		{"category_changed whisper: only category rules, follow included; no wildcard, no mention, mute still mutes",
			all, mentioning(categoryChanged(c), "g"), tagging, []int64{2, 3, 4}},
		{"category_changed whisper matches the new category, with subcategories when asked",
			all, categoryChanged(c2, parent), tagging, []int64{7, 8}},
		{"category_changed action code on a regular reply still keeps only category rules (the reference checks the code, not the type)",
			all, withType(rules.PostRegular, rules.ActionCategoryChanged), tagging, []int64{2, 3, 4}},
	})
}

func TestMatch_Categories(t *testing.T) {
	t.Parallel()
	const grand, parent, child, other = 1, 2, 3, 4
	inChild := func(number int) rules.Event {
		ev := post(child, number)
		ev.ParentCategoryIDs = []int64{parent, grand}
		return ev
	}
	runCases(t, []matchCase{
		{"uncategorized-less topic: only wildcard rules",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 2, rules.Watch, other)}, post(0, 1), tagging, []int64{1}},
		{"uncategorized-less topic ignores parents",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, parent))},
			func() rules.Event { ev := post(0, 1); ev.ParentCategoryIDs = []int64{parent}; return ev }(), tagging, nil},
		{"subcategories off: a parent rule does not fire for a subcategory topic (reference)",
			[]rules.Rule{normal(1, 1, rules.Watch, parent), normal(2, 2, rules.Watch, grand)}, inChild(1), tagging, nil},
		{"subcategories on: parent and grandparent rules fire",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, parent)), withSub(normal(2, 2, rules.Watch, grand))}, inChild(1), tagging, []int64{1, 2}},
		{"subcategories on: the rule's own category still matches",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, child))}, inChild(1), tagging, []int64{1}},
		{"subcategories on: unrelated category does not match",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, other))}, inChild(1), tagging, nil},
		{"subcategories: a parent mute beats a child watch on the same channel (filter rank, not specificity)",
			[]rules.Rule{normal(1, 1, rules.Watch, child), withSub(normal(2, 1, rules.Mute, parent))}, inChild(1), tagging, nil},
		{"subcategories: follow on a parent is still first-post only",
			[]rules.Rule{withSub(normal(1, 1, rules.Follow, parent))}, inChild(2), tagging, nil},
		{"includeSubcategories on a wildcard is ignored",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, 0))}, inChild(1), tagging, []int64{1}},
		{"parent list repeating the topic category or an ancestor is harmless",
			[]rules.Rule{withSub(normal(1, 1, rules.Watch, parent)), normal(2, 2, rules.Watch, child)},
			func() rules.Event { ev := inChild(1); ev.ParentCategoryIDs = []int64{child, parent, parent}; return ev }(), tagging, []int64{1, 2}},
	})
}

func TestMatch_Tags(t *testing.T) {
	t.Parallel()
	const c = 10
	rs := []rules.Rule{normal(1, 1, rules.Watch, c, "news"), normal(2, 2, rules.Watch, c), normal(3, 3, rules.Follow, 0, "News", "events")}
	runCases(t, []matchCase{
		{"tagging enabled", rs, tagged(post(c, 1), "events"), tagging, []int64{2, 3}},
		{"tagging disabled: tagged rules match as if untagged", rs, tagged(post(c, 1), "events"), rules.Options{}, []int64{1, 2, 3}},
		{"tagging disabled: even an untagged topic", rs, post(c, 1), rules.Options{}, []int64{1, 2, 3}},
		{"tags compare case-insensitively", rs, tagged(post(c, 1), "NEWS"), tagging, []int64{1, 2, 3}},
		{"repeated topic tags are harmless", rs, tagged(post(c, 1), "news", "news", "News"), tagging, []int64{1, 2, 3}},
		{"a tagged mute only mutes topics with its tag",
			[]rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 1, rules.Mute, c, "spam")}, tagged(post(c, 1), "ok"), tagging, []int64{1}},
		{"a tagged mute mutes topics with its tag",
			[]rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 1, rules.Mute, c, "spam")}, tagged(post(c, 1), "spam"), tagging, nil},
		{"a tagged mute mutes everything when tagging is disabled",
			[]rules.Rule{normal(1, 1, rules.Watch, c), normal(2, 1, rules.Mute, c, "spam")}, tagged(post(c, 1), "ok"), rules.Options{}, nil},
		{"tags apply to group_message rules",
			[]rules.Rule{groupMessage(1, 1, rules.Watch, "g", "x"), groupMessage(2, 2, rules.Watch, "g", "y")}, tagged(pm(1, "g"), "y"), tagging, []int64{2}},
		{"tags apply to group_mention rules",
			[]rules.Rule{groupMention(1, 1, rules.Watch, "g", "x"), groupMention(2, 2, rules.Watch, "g", "y")},
			tagged(mentioning(post(c, 1), "g"), "x"), tagging, []int64{1}},
	})
}

func TestMatch_GroupsAndVisibilityOptions(t *testing.T) {
	t.Parallel()
	const c = 10
	runCases(t, []matchCase{
		{"group_message names are case-insensitive",
			[]rules.Rule{groupMessage(1, 1, rules.Watch, "Staff")}, pm(1, "STAFF"), tagging, []int64{1}},
		{"group_mention names are case-insensitive",
			[]rules.Rule{groupMention(1, 1, rules.Watch, "Staff")}, mentioning(post(c, 4), "sTaFf"), tagging, []int64{1}},
		{"PM ignores group mentions even for its own group",
			[]rules.Rule{groupMention(1, 1, rules.Watch, "g")}, mentioning(pm(1, "g"), "g"), tagging, nil},
		{"PM ignores category and wildcard rules",
			[]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 2, rules.Watch, c)},
			func() rules.Event { ev := pm(1, "g"); ev.CategoryID = ptr(int64(c)); return ev }(), tagging, nil},
		{"PM to a group without rules", []rules.Rule{groupMessage(1, 1, rules.Watch, "g")}, pm(1, "h"), tagging, nil},
		{"PM reply drops a follow group_message rule", []rules.Rule{groupMessage(1, 1, rules.Follow, "g")}, pm(2, "g"), tagging, nil},
		{"group_mention follow fires on a first post", []rules.Rule{groupMention(1, 1, rules.Follow, "g")}, mentioning(post(c, 1), "g"), tagging, []int64{1}},
		{"group_mention follow is dropped on a reply", []rules.Rule{groupMention(1, 1, rules.Follow, "g")}, mentioning(post(c, 2), "g"), tagging, nil},
		{"group_mention fires on an uncategorized-less topic", []rules.Rule{groupMention(1, 1, rules.Watch, "g")}, mentioning(post(0, 2), "g"), tagging, []int64{1}},
		{"repeated mentions are harmless", []rules.Rule{groupMention(1, 1, rules.Watch, "g")}, mentioning(post(c, 2), "g", "G", "g"), tagging, []int64{1}},
		{"a group_mention mute silences the channel's category watch",
			[]rules.Rule{normal(1, 1, rules.Watch, c), groupMention(2, 1, rules.Mute, "g")}, mentioning(post(c, 2), "g"), tagging, nil},
		{"unlisted topics notify by default (reference)",
			[]rules.Rule{normal(1, 1, rules.Watch, 0)}, func() rules.Event { ev := post(c, 1); ev.Unlisted = true; return ev }(), tagging, []int64{1}},
		{"SkipUnlisted drops unlisted topics",
			[]rules.Rule{normal(1, 1, rules.Watch, 0)}, func() rules.Event { ev := post(c, 1); ev.Unlisted = true; return ev }(),
			rules.Options{TaggingEnabled: true, SkipUnlisted: true}, nil},
		{"SkipUnlisted keeps listed topics",
			[]rules.Rule{normal(1, 1, rules.Watch, 0)}, post(c, 1), rules.Options{SkipUnlisted: true}, []int64{1}},
	})
}

// TestMatch_TieBreak pins our deterministic answer where the reference's
// unstable sort leaves the winner open: equal type and filter rank go to
// the lower rule id, whatever the rule's specificity.
func TestMatch_TieBreak(t *testing.T) {
	t.Parallel()
	const c = 10
	runCases(t, []matchCase{
		{"lower id wins: wildcard", []rules.Rule{normal(5, 1, rules.Watch, c), normal(3, 1, rules.Watch, 0)}, post(c, 2), tagging, []int64{3}},
		{"lower id wins: category", []rules.Rule{normal(3, 1, rules.Watch, c), normal(5, 1, rules.Watch, 0)}, post(c, 2), tagging, []int64{3}},
		{"category_changed: the winning lower-id wildcard drops the channel",
			[]rules.Rule{normal(5, 1, rules.Watch, c), normal(3, 1, rules.Watch, 0)}, categoryChanged(c), tagging, nil},
		{"category_changed: the winning lower-id category rule notifies",
			[]rules.Rule{normal(3, 1, rules.Watch, c), normal(5, 1, rules.Watch, 0)}, categoryChanged(c), tagging, []int64{3}},
		{"input order does not matter",
			[]rules.Rule{normal(9, 1, rules.Thread, 0), normal(2, 1, rules.Thread, c), normal(4, 1, rules.Thread, 0, "t")},
			tagged(post(c, 2), "t"), tagging, []int64{2}},
	})
}

// TestMatch_SameChannelPrecedence puts every pair of rule kinds that can
// match the same event on one channel and checks the winner against the
// reference's tables, written out here independently of Less.
func TestMatch_SameChannelPrecedence(t *testing.T) {
	t.Parallel()
	tPrec := map[rules.Type]int{rules.GroupMessage: 0, rules.GroupMention: 1, rules.Normal: 2}
	fPrec := map[rules.Filter]int{rules.Mute: 0, rules.Thread: 1, rules.Watch: 2, rules.Follow: 3}
	const c = 10
	type kind struct {
		name string
		make func(id int64, f rules.Filter) rules.Rule
	}
	public := []kind{
		{"category", func(id int64, f rules.Filter) rules.Rule { return normal(id, 1, f, c) }},
		{"wildcard", func(id int64, f rules.Filter) rules.Rule { return normal(id, 1, f, 0) }},
		{"mention", func(id int64, f rules.Filter) rules.Rule { return groupMention(id, 1, f, "g") }},
	}
	private := []kind{
		{"group1", func(id int64, f rules.Filter) rules.Rule { return groupMessage(id, 1, f, "g1") }},
		{"group2", func(id int64, f rules.Filter) rules.Rule { return groupMessage(id, 1, f, "g2") }},
	}
	events := map[string]func(number int) rules.Event{
		"public":  func(n int) rules.Event { return mentioning(post(c, n), "g") },
		"private": func(n int) rules.Event { return pm(n, "g1", "g2") },
	}
	for scope, kinds := range map[string][]kind{"public": public, "private": private} {
		for _, ka := range kinds {
			for _, kb := range kinds {
				for _, fa := range rules.Filters() {
					for _, fb := range rules.Filters() {
						for _, number := range []int{1, 2} {
							a, b := ka.make(1, fa), kb.make(2, fb)
							win := a
							if pa, pb := [2]int{tPrec[a.Type], fPrec[a.Filter]}, [2]int{tPrec[b.Type], fPrec[b.Filter]}; pb[0] < pa[0] || pb[0] == pa[0] && pb[1] < pa[1] {
								win = b
							}
							var want []int64
							if win.Filter != rules.Mute && (number == 1 || win.Filter != rules.Follow) {
								want = []int64{win.ID}
							}
							ev := events[scope](number)
							for _, rs := range [][]rules.Rule{{a, b}, {b, a}} {
								got := winners(t, rules.NewIndex(rs).Match(&ev, tagging))
								require.Equal(t, want, got, "%s %s %s + %s %s, post %d", scope, ka.name, fa, kb.name, fb, number)
							}
						}
					}
				}
			}
		}
	}
}

func TestMatch_ChannelsAreIndependent(t *testing.T) {
	t.Parallel()
	const c = 10
	rs := []rules.Rule{
		normal(1, 30, rules.Mute, c), normal(2, 30, rules.Watch, 0),
		normal(3, 10, rules.Watch, c), normal(4, 10, rules.Follow, 0),
		normal(5, 20, rules.Follow, 0), normal(6, 20, rules.Thread, 0, "t"),
		groupMention(7, 40, rules.Watch, "g"), normal(8, 40, rules.Mute, 0),
	}
	runCases(t, []matchCase{
		{"first post", rs, mentioning(post(c, 1), "g"), tagging, []int64{3, 5, 7}},
		{"reply", rs, mentioning(post(c, 2), "g"), tagging, []int64{3, 7}},
		{"reply with tag", rs, tagged(post(c, 2), "t"), tagging, []int64{3, 6}},
		{"other category", rs, post(c+1, 1), tagging, []int64{4, 5, 2}},
	})
}

func TestNewIndex_SkipsRulesThatCannotMatchAndCopies(t *testing.T) {
	t.Parallel()
	rs := []rules.Rule{
		normal(1, 1, "tag_added", 0),
		{ID: 2, ChannelID: 2, Filter: rules.Watch, Type: "everything"},
		groupMessage(3, 3, rules.Watch, " "),
		groupMention(4, 4, rules.Watch, ""),
		normal(5, 5, rules.Watch, 7, "t"),
		groupMention(6, 6, rules.Watch, " Team "),
	}
	ix := rules.NewIndex(rs)
	require.Equal(t, 2, ix.Len())
	rs[4].Tags[0] = "changed"
	*rs[4].CategoryID = 8
	rs[4].ChannelID = 99
	ev := mentioning(tagged(post(7, 1), "t"), "team")
	got := ix.Match(&ev, tagging)
	require.Equal(t, []int64{5, 6}, winners(t, got))
	require.Equal(t, int64(5), got[0].Rule.ChannelID)
	require.Equal(t, []string{"t"}, got[0].Rule.Tags)
	require.Equal(t, int64(7), *got[0].Rule.CategoryID)
}

// TestMatch_AgreesWithReference compares the index with a literal
// transcription of reference §2.2 on random rule sets and events.
func TestMatch_AgreesWithReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	filters := append(rules.Filters(), "tag_added")
	groups := []string{"a", "B", "c"}
	tags := []string{"x", "y", "Z"}
	pick := func(n int, from []string) []string {
		var out []string
		for range n {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	for round := range 400 {
		n := 1 + rng.IntN(40)
		rs := make([]rules.Rule, 0, n)
		for i := range n {
			r := rules.Rule{ID: int64(rng.IntN(1000)), ChannelID: int64(1 + rng.IntN(6)), Filter: filters[rng.IntN(len(filters))]}
			if i%7 == 0 {
				r.ID = int64(i) // force some id ties to exercise input order
			}
			switch rng.IntN(6) {
			case 0:
				r.Type, r.GroupName = rules.GroupMessage, groups[rng.IntN(3)]
			case 1:
				r.Type, r.GroupName = rules.GroupMention, groups[rng.IntN(3)]
			case 2:
				r.Type = rules.Normal
			default:
				r.Type, r.CategoryID = rules.Normal, ptr(int64(1+rng.IntN(4)))
				r.IncludeSubcategories = rng.IntN(3) == 0
			}
			if rng.IntN(3) == 0 {
				r.Tags = pick(1+rng.IntN(2), tags)
			}
			rs = append(rs, r)
		}
		// Unique ids keep the comparison free of the reference's unstable order.
		seen := map[int64]bool{}
		rs = slices.DeleteFunc(rs, func(r rules.Rule) bool { d := seen[r.ID]; seen[r.ID] = true; return d })
		ix := rules.NewIndex(rs)
		for e := range 30 {
			ev := rules.Event{PostNumber: 1 + rng.IntN(3), PostType: rules.PostType(1 + rng.IntN(4)), Archetype: rules.ArchetypeRegular}
			if rng.IntN(3) == 0 {
				ev.ActionCode = rules.ActionCategoryChanged
			}
			if rng.IntN(4) == 0 {
				ev.Archetype = rules.ArchetypePrivateMessage
				ev.AllowedGroups = pick(rng.IntN(3), groups)
			}
			if rng.IntN(5) > 0 {
				ev.CategoryID = ptr(int64(1 + rng.IntN(4)))
				ev.ParentCategoryIDs = []int64{int64(1 + rng.IntN(4))}
			}
			ev.Tags = pick(rng.IntN(3), tags)
			ev.MentionedGroups = pick(rng.IntN(3), groups)
			ev.Unlisted = rng.IntN(4) == 0
			opts := rules.Options{TaggingEnabled: rng.IntN(4) > 0, SkipUnlisted: rng.IntN(2) == 0}
			want := naive(rs, &ev, opts)
			got := winners(t, ix.Match(&ev, opts))
			require.Equal(t, want, got, "round %d event %d: rules %+v event %+v opts %+v", round, e, rs, ev, opts)
		}
	}
}

func TestIndex_ConcurrentUse(t *testing.T) {
	t.Parallel()
	rs := []rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 2, rules.Watch, 10, "t"), groupMention(3, 3, rules.Watch, "g")}
	ix := rules.NewIndex(rs)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				ev := mentioning(tagged(post(10, 1), "t"), "g")
				if got := ix.Match(&ev, tagging); len(got) != 3 {
					t.Errorf("got %d matches", len(got))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMentions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"hello @Team", []string{"team"}},
		{"@a, @B and @a again", []string{"a", "b"}},
		{"ping @dev-ops. and @core_team! (@qa)", []string{"dev-ops", "core_team", "qa"}},
		{"mail me at a@b.com or x.y@team.org", nil},
		{"see https://example.com/@user and @@double", nil},
		{"inline `@code` but @real", []string{"real"}},
		{"unclosed `tick @real", []string{"real"}},
		{"```\n@fenced\n```\n@after", []string{"after"}},
		{"~~~ruby\n@fenced\n~~~", nil},
		{"line\n  @indented and @Émile", []string{"indented", "émile"}},
		{"@. @- @", nil},
		{"cc:@team", []string{"team"}},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, rules.Mentions(tc.raw), "%q", tc.raw)
	}
}

// naive transcribes Manager.trigger_notifications (reference §2.2) as
// literally as possible, with the two extensions bolted on, and returns the
// winning rule ids in channel order. Rule ids must be unique.
func naive(rs []rules.Rule, ev *rules.Event, opts rules.Options) []int64 {
	valid := func(r rules.Rule) bool {
		return r.Filter.Valid() && r.Type.Valid() && (r.Type == rules.Normal || strings.TrimSpace(r.GroupName) != "")
	}
	if ev.PostType != rules.PostRegular && !(ev.PostType == rules.PostWhisper && ev.ActionCode == rules.ActionCategoryChanged) {
		return nil
	}
	if opts.SkipUnlisted && ev.Unlisted {
		return nil
	}
	inFold := func(list []string, s string) bool {
		return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, strings.TrimSpace(s)) })
	}
	var cand []rules.Rule
	if ev.Archetype == rules.ArchetypePrivateMessage {
		if len(ev.AllowedGroups) == 0 {
			return nil
		}
		for _, r := range rs {
			if valid(r) && r.Type == rules.GroupMessage && inFold(ev.AllowedGroups, r.GroupName) {
				cand = append(cand, r)
			}
		}
	} else {
		for _, r := range rs {
			if !valid(r) {
				continue
			}
			switch r.Type {
			case rules.Normal:
				switch {
				case r.CategoryID == nil:
					cand = append(cand, r)
				case ev.CategoryID != nil && *r.CategoryID == *ev.CategoryID:
					cand = append(cand, r)
				case ev.CategoryID != nil && r.IncludeSubcategories && slices.Contains(ev.ParentCategoryIDs, *r.CategoryID):
					cand = append(cand, r)
				}
			case rules.GroupMention:
				if inFold(ev.MentionedGroups, r.GroupName) {
					cand = append(cand, r)
				}
			}
		}
	}
	if opts.TaggingEnabled {
		cand = slices.DeleteFunc(cand, func(r rules.Rule) bool {
			return len(r.Tags) > 0 && !slices.ContainsFunc(r.Tags, func(t string) bool { return inFold(ev.Tags, t) })
		})
	}
	tPrec := map[rules.Type]int{rules.GroupMessage: 0, rules.GroupMention: 1, rules.Normal: 2}
	fPrec := map[rules.Filter]int{rules.Mute: 0, rules.Thread: 1, rules.Watch: 2, rules.Follow: 3}
	slices.SortFunc(cand, func(a, b rules.Rule) int {
		if d := tPrec[a.Type] - tPrec[b.Type]; d != 0 {
			return d
		}
		if d := fPrec[a.Filter] - fPrec[b.Filter]; d != 0 {
			return d
		}
		return int(a.ID - b.ID)
	})
	seen := map[int64]bool{}
	var win []rules.Rule
	for _, r := range cand {
		if !seen[r.ChannelID] {
			seen[r.ChannelID] = true
			win = append(win, r)
		}
	}
	win = slices.DeleteFunc(win, func(r rules.Rule) bool { return r.Filter == rules.Mute })
	if ev.PostNumber != 1 {
		if ev.ActionCode == rules.ActionCategoryChanged {
			win = slices.DeleteFunc(win, func(r rules.Rule) bool { return r.Type != rules.Normal || r.CategoryID == nil })
		} else {
			win = slices.DeleteFunc(win, func(r rules.Rule) bool { return r.Filter == rules.Follow })
		}
	}
	slices.SortFunc(win, func(a, b rules.Rule) int { return int(a.ChannelID - b.ChannelID) })
	var ids []int64
	for _, r := range win {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestMatch_AgreesWithReferenceAtScale repeats the comparison with
// thousands of rules, so that long candidate lists, the precomputed answer
// for all categories and both of its lookup strategies (search in a short
// list, direct lookup in a long one) are exercised.
func TestMatch_AgreesWithReferenceAtScale(t *testing.T) {
	t.Parallel()
	for _, wildcardShare := range []int{5, 60} {
		t.Run(fmt.Sprintf("wildcards=%d%%", wildcardShare), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(wildcardShare), 3))
			groups := []string{"a", "B", "c", "d"}
			tags := []string{"x", "y", "z", "w"}
			rs := make([]rules.Rule, 6000)
			for i := range rs {
				r := rules.Rule{ID: int64(i + 1), ChannelID: int64(1 + rng.IntN(2500)), Filter: rules.Filters()[rng.IntN(4)], Type: rules.Normal}
				switch p := rng.IntN(100); {
				case p < wildcardShare:
				case p < wildcardShare+3:
					r.Type, r.GroupName = rules.GroupMention, groups[rng.IntN(len(groups))]
				case p < wildcardShare+6:
					r.Type, r.GroupName = rules.GroupMessage, groups[rng.IntN(len(groups))]
				default:
					r.CategoryID = ptr(int64(1 + rng.IntN(8)))
					r.IncludeSubcategories = rng.IntN(5) == 0
				}
				if rng.IntN(5) == 0 {
					r.Tags = []string{tags[rng.IntN(len(tags))]}
				}
				rs[i] = r
			}
			ix := rules.NewIndex(rs)
			var buf []rules.Match
			for e := range 300 {
				ev := rules.Event{PostNumber: 1 + rng.IntN(2), PostType: rules.PostRegular, Archetype: rules.ArchetypeRegular,
					CategoryID: ptr(int64(1 + rng.IntN(8))), ParentCategoryIDs: []int64{int64(1 + rng.IntN(8))}}
				switch rng.IntN(6) {
				case 0:
					ev.PostType, ev.ActionCode, ev.PostNumber = rules.PostWhisper, rules.ActionCategoryChanged, 4
				case 1:
					ev.Archetype, ev.CategoryID = rules.ArchetypePrivateMessage, nil
					ev.AllowedGroups = []string{groups[rng.IntN(len(groups))]}
				case 2:
					ev.CategoryID = nil
				}
				for range rng.IntN(3) {
					ev.Tags = append(ev.Tags, tags[rng.IntN(len(tags))])
				}
				if rng.IntN(3) == 0 {
					ev.MentionedGroups = []string{strings.ToLower(groups[rng.IntN(len(groups))])}
				}
				opts := rules.Options{TaggingEnabled: rng.IntN(3) > 0}
				want := naive(rs, &ev, opts)
				buf = ix.AppendMatch(buf[:0], &ev, opts)
				require.Equal(t, want, winners(t, buf), "event %d %+v opts %+v", e, ev, opts)
				if len(want) == 0 {
					require.Nil(t, ix.Match(&ev, opts))
				}
			}
		})
	}
}

func TestAppendMatch_KeepsPrefix(t *testing.T) {
	t.Parallel()
	ix := rules.NewIndex([]rules.Rule{normal(1, 1, rules.Watch, 0), normal(2, 2, rules.Watch, 10)})
	prefix := ix.Match(ptr(post(10, 1)), tagging)
	require.Equal(t, []int64{1, 2}, winners(t, prefix))
	got := ix.AppendMatch(prefix, ptr(post(11, 1)), tagging)
	require.Len(t, got, 3)
	require.Equal(t, []int64{1, 2}, winners(t, got[:2]))
	require.Equal(t, int64(1), got[2].Rule.ID)

	action := post(10, 1)
	action.PostType = rules.PostSmallAction
	require.Equal(t, prefix, ix.AppendMatch(prefix, &action, tagging), "nothing matches: dst unchanged")
}
