package rules_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chatsidecar/chatsidecar/rules"
)

// workload describes a synthetic rule set and its events.
type workload struct {
	rules      int
	categories int
	wildcards  int // rules for all categories; <0 means 5% of rules
	tags       int
	groups     int
}

func (w workload) build(seed uint64) ([]rules.Rule, []rules.Event) {
	rng := rand.New(rand.NewPCG(seed, 7))
	channels := max(1, w.rules/3)
	wildcards := w.wildcards
	if wildcards < 0 {
		wildcards = w.rules / 20
	}
	tag := func(i int) string { return fmt.Sprintf("tag-%d", i) }
	group := func(i int) string { return fmt.Sprintf("Group%d", i) }
	filter := func() rules.Filter {
		switch p := rng.IntN(100); {
		case p < 10:
			return rules.Mute
		case p < 15:
			return rules.Thread
		case p < 75:
			return rules.Watch
		}
		return rules.Follow
	}
	rs := make([]rules.Rule, w.rules)
	for i := range rs {
		r := rules.Rule{ID: int64(i + 1), ChannelID: int64(1 + rng.IntN(channels)), Filter: filter(), Type: rules.Normal}
		switch p := rng.IntN(100); {
		case i < wildcards:
			// all categories
		case p < 2:
			r.Type, r.GroupName = rules.GroupMention, group(rng.IntN(w.groups))
		case p < 3:
			r.Type, r.GroupName = rules.GroupMessage, group(rng.IntN(w.groups))
		default:
			r.CategoryID = ptr(int64(1 + rng.IntN(w.categories)))
		}
		if rng.IntN(10) == 0 {
			for range 1 + rng.IntN(3) {
				r.Tags = append(r.Tags, tag(rng.IntN(w.tags)))
			}
		}
		rs[i] = r
	}
	evs := make([]rules.Event, 1024)
	for i := range evs {
		ev := rules.Event{PostID: int64(i), PostNumber: 1, PostType: rules.PostRegular, Archetype: rules.ArchetypeRegular,
			CategoryID: ptr(int64(1 + rng.IntN(w.categories)))}
		if rng.IntN(4) > 0 {
			ev.PostNumber = 2 + rng.IntN(50)
		}
		for range rng.IntN(4) {
			ev.Tags = append(ev.Tags, tag(rng.IntN(w.tags)))
		}
		if rng.IntN(10) == 0 {
			ev.MentionedGroups = []string{fmt.Sprintf("group%d", rng.IntN(w.groups))}
		}
		evs[i] = ev
	}
	return rs, evs
}

func benchMatch(b *testing.B, w workload) {
	rs, evs := w.build(1)
	ix := rules.NewIndex(rs)
	opts := rules.Options{TaggingEnabled: true}
	matches := 0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		matches += len(ix.Match(&evs[i&(len(evs)-1)], opts))
		i++
	}
	b.ReportMetric(float64(matches)/float64(i), "matches/op")
}

// BenchmarkMatch measures one event against 10³, 10⁵ and 10⁶ rules spread
// over 500 categories, with 5% of rules for all categories, 10% tagged with
// 1–3 of 200 tags, 3% group rules over 50 groups and a channel per three
// rules. Every categorized event matches every rule for all categories, so
// the wildcard share makes the result itself grow with the rule count.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			benchMatch(b, workload{rules: n, categories: 500, wildcards: -1, tags: 200, groups: 50})
		})
	}
}

// BenchmarkMatchBoundedFanout keeps what one event can match roughly
// constant (about 200 rules per category, 50 rules for all categories)
// while the rule count grows, which isolates the index's own cost from the
// size of the answer.
func BenchmarkMatchBoundedFanout(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			benchMatch(b, workload{rules: n, categories: max(5, n/200), wildcards: 50, tags: 200, groups: 50})
		})
	}
}

// BenchmarkAppendMatch is BenchmarkMatch with the result buffer reused
// across events, as a caller draining a queue of events would.
func BenchmarkAppendMatch(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rs, evs := workload{rules: n, categories: 500, wildcards: -1, tags: 200, groups: 50}.build(1)
			ix := rules.NewIndex(rs)
			opts := rules.Options{TaggingEnabled: true}
			var buf []rules.Match
			matches := 0
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				buf = ix.AppendMatch(buf[:0], &evs[i&(len(evs)-1)], opts)
				matches += len(buf)
				i++
			}
			b.ReportMetric(float64(matches)/float64(i), "matches/op")
		})
	}
}

// BenchmarkNewIndex measures building the index, which happens on every
// rule change.
func BenchmarkNewIndex(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rs, _ := workload{rules: n, categories: 500, wildcards: -1, tags: 200, groups: 50}.build(1)
			b.ReportAllocs()
			for b.Loop() {
				rules.NewIndex(rs)
			}
		})
	}
}
