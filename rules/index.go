package rules

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Index is an immutable set of rules arranged so that matching one event
// visits only the rules that can apply to it. Build it once per rule-set
// change with NewIndex; it is safe for concurrent use.
//
// Every rule gets a rank: its position in precedence order (Less: type,
// then filter, then id). The rules of each bucket (a category, a category
// with its subcategories, a group, all categories) are stored as lists of
// (channel, rank) sorted by channel and reduced to one entry per channel,
// so the winning rule of a channel is the lowest rank met while merging
// the event's few candidate lists in channel order: no per-event sort and
// no per-channel scratch state.
//
// Rules for all categories apply to every public topic, so their share of
// the answer is computed once, per tagging mode and post-filter, at build
// time; an event copies it in bulk and only resolves the channels its
// other candidate lists touch.
type Index struct {
	rules    []Rule // in precedence order; the rank of a rule is its position
	channels int    // distinct channels

	wildcard     bucket             // normal rules for all categories (byTag only; see static)
	category     map[int64]*bucket  // normal rules on exactly this category
	subtree      map[int64]*bucket  // normal rules on this category with IncludeSubcategories
	groupMessage map[string]*bucket // group_message rules by lower-case group name
	groupMention map[string]*bucket // group_mention rules by lower-case group name

	// static holds the precomputed answer of the wildcard bucket: [0] with
	// tagging disabled (from wildcard.all), [1] enabled (from
	// wildcard.untagged, tagged wildcard rules staying per-event
	// candidates). Nil when there is no such rule.
	static [2]*static
}

// entry is one rule in a bucket list: ch is the channel's dense index
// (assigned in channel-id order, so list order is channel order) and key
// is rank<<flagBits | flags, so comparing keys compares precedence and the
// post-filters need no lookup.
type entry struct {
	ch  int32
	key uint32
}

const (
	flagMute   = 1 << 0 // the rule mutes its channel
	flagFollow = 1 << 1 // the rule only fires on first posts
	flagNoCat  = 1 << 2 // the rule has no category id (wildcard or group rule)
	flagBits   = 3

	// maxRules keeps rank<<flagBits|flags below noKey.
	maxRules = math.MaxUint32 >> flagBits
	// noKey marks a channel without an entry; it is above every key.
	noKey = math.MaxUint32
)

// Post-filter modes: which winners survive, after reference §2.2's
// uniq-by-channel step.
const (
	modeFirstPost       = iota // a winning mute silences the channel
	modeReply                  // also: follow is first post only
	modeCategoryChanged        // also: only rules with a category
	numModes
)

func dropMode(ev *Event) int {
	switch {
	case ev.PostNumber == 1:
		return modeFirstPost
	case ev.ActionCode == ActionCategoryChanged:
		return modeCategoryChanged
	}
	return modeReply
}

// dropMask returns the flags a winner must not carry in mode.
func dropMask(mode int) uint32 {
	switch mode {
	case modeReply:
		return flagMute | flagFollow
	case modeCategoryChanged:
		return flagMute | flagNoCat
	}
	return flagMute
}

// bucket holds the rules of one key three ways, each a list sorted by
// channel with one entry per channel (its best rank):
//   - all: every rule, used when tagging is disabled (tags are ignored);
//   - untagged: rules without tags;
//   - byTag: tagged rules under each of their tags. An entry that the
//     channel's untagged entry outranks can never win and is dropped.
type bucket struct {
	all      []entry
	untagged []entry
	byTag    map[string][]entry
}

// static is one list of a bucket resolved in advance: ch and key are the
// list itself (channel order), and for each post-filter mode res and rch
// are the winners that survive it and their channels. A long list also
// gets byCh, its keys by dense channel (noKey if none): one memory access
// per lookup beats a search once the list outgrows the caches.
type static struct {
	byCh []uint32
	ch   []int32
	key  []uint32
	res  [numModes][]Match
	rch  [numModes][]int32
}

// denseStatic is the list length from which a static gets byCh.
const denseStatic = 1024

// NewIndex builds an index of rs. It copies the rules, so later changes to
// rs do not affect it. Rules with an unknown filter or type, and group
// rules without a group name, are left out because they can never match.
// It panics with more than 2²⁹−1 rules, far beyond any forum.
func NewIndex(rs []Rule) *Index {
	ix := &Index{
		category:     map[int64]*bucket{},
		subtree:      map[int64]*bucket{},
		groupMessage: map[string]*bucket{},
		groupMention: map[string]*bucket{},
	}
	order := make([]int, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		if !r.Filter.Valid() || !r.Type.Valid() || r.Type != Normal && strings.TrimSpace(r.GroupName) == "" {
			continue
		}
		if len(order) == maxRules {
			panic("rules: too many rules for one index")
		}
		order = append(order, i)
	}
	// Sorting positions keeps the sort cheap; the position breaks exact
	// ties (equal ids) so that the order is deterministic.
	slices.SortFunc(order, func(a, b int) int {
		ra, rb := &rs[a], &rs[b]
		switch {
		case Less(ra.Type, ra.Filter, ra.ID, rb.Type, rb.Filter, rb.ID):
			return -1
		case Less(rb.Type, rb.Filter, rb.ID, ra.Type, ra.Filter, ra.ID):
			return 1
		}
		return cmp.Compare(a, b)
	})
	ix.rules = make([]Rule, len(order))
	cats := make([]int64, len(order)) // one backing array for the copied category ids
	for rank, i := range order {
		r := rs[i]
		r.Tags = slices.Clone(r.Tags)
		if r.CategoryID != nil {
			cats[rank] = *r.CategoryID
			r.CategoryID = &cats[rank]
		}
		ix.rules[rank] = r
	}

	chans := make([]int64, len(ix.rules))
	for i := range ix.rules {
		chans[i] = ix.rules[i].ChannelID
	}
	slices.Sort(chans)
	chans = slices.Compact(chans)
	ix.channels = len(chans)
	dense := make(map[int64]int32, len(chans))
	for i, c := range chans {
		dense[c] = int32(i)
	}

	var (
		wildcard     builder
		category     = map[int64]*builder{}
		subtree      = map[int64]*builder{}
		groupMessage = map[string]*builder{}
		groupMention = map[string]*builder{}
	)
	for rank := range ix.rules {
		r := &ix.rules[rank]
		it := item{entry: entry{ch: dense[r.ChannelID], key: uint32(rank) << flagBits}, tags: normTags(r.Tags)}
		switch r.Filter {
		case Mute:
			it.key |= flagMute
		case Follow:
			it.key |= flagFollow
		}
		if r.Type != Normal || r.CategoryID == nil {
			it.key |= flagNoCat
		}
		switch {
		case r.Type == GroupMessage:
			builderFor(groupMessage, strings.ToLower(strings.TrimSpace(r.GroupName))).add(it)
		case r.Type == GroupMention:
			builderFor(groupMention, strings.ToLower(strings.TrimSpace(r.GroupName))).add(it)
		case r.CategoryID == nil:
			wildcard.add(it)
		default:
			builderFor(category, *r.CategoryID).add(it)
			if r.IncludeSubcategories {
				builderFor(subtree, *r.CategoryID).add(it)
			}
		}
	}
	ix.wildcard = wildcard.build()
	buildAll(ix.category, category)
	buildAll(ix.subtree, subtree)
	buildAll(ix.groupMessage, groupMessage)
	buildAll(ix.groupMention, groupMention)
	ix.static[0] = ix.resolve(ix.wildcard.all)
	ix.static[1] = ix.resolve(ix.wildcard.untagged)
	ix.wildcard.all, ix.wildcard.untagged = nil, nil // now in static
	return ix
}

func builderFor[K comparable](m map[K]*builder, k K) *builder {
	b := m[k]
	if b == nil {
		b = &builder{}
		m[k] = b
	}
	return b
}

func buildAll[K comparable](dst map[K]*bucket, src map[K]*builder) {
	for k, b := range src {
		bk := b.build()
		dst[k] = &bk
	}
}

// resolve precomputes l's answer for each post-filter mode.
func (ix *Index) resolve(l []entry) *static {
	if len(l) == 0 {
		return nil
	}
	s := &static{ch: make([]int32, len(l)), key: make([]uint32, len(l))}
	for i, e := range l {
		s.ch[i], s.key[i] = e.ch, e.key
	}
	if len(l) >= denseStatic {
		s.byCh = make([]uint32, ix.channels)
		for i := range s.byCh {
			s.byCh[i] = noKey
		}
		for _, e := range l {
			s.byCh[e.ch] = e.key
		}
	}
	for mode := range numModes {
		drop := dropMask(mode)
		for _, e := range l {
			if e.key&drop == 0 {
				s.res[mode] = append(s.res[mode], Match{Rule: &ix.rules[e.key>>flagBits]})
				s.rch[mode] = append(s.rch[mode], e.ch)
			}
		}
	}
	return s
}

// Len returns the number of rules the index holds, which excludes rules
// NewIndex left out because they can never match.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.rules)
}

// Match returns the winning rule of every channel that ev notifies, in
// channel-id order, following the reference's Manager.trigger_notifications
// exactly (reference §2.2):
//
//   - only regular posts, plus the category_changed whisper, notify;
//   - a private message considers only group_message rules of its allowed
//     groups (none: nothing), and ignores group mentions;
//   - any other topic considers normal rules on its category (on none:
//     only rules for all categories), rules for all categories, rules
//     with IncludeSubcategories on one of its ancestors, and group_mention
//     rules of the groups in MentionedGroups;
//   - with tagging enabled, a tagged rule needs at least one topic tag;
//   - per channel the highest-precedence rule wins (Less: group_message,
//     group_mention, normal; then mute, thread, watch, follow; then the
//     lower rule id, where the reference's sort is unstable);
//   - a winning mute silences the channel;
//   - after the first post, a category_changed whisper keeps only winners
//     with a category and other posts drop follow winners.
//
// Visibility of the post to the integration user is the caller's to check.
// The result is nil when nothing matches; otherwise it is a fresh slice
// whose Rule pointers are shared and read-only.
func (ix *Index) Match(ev *Event, opts Options) []Match {
	return ix.AppendMatch(nil, ev, opts)
}

// AppendMatch is Match appending to dst, so that a caller handling many
// events can reuse one buffer and avoid an allocation per event (which
// dominates when an event notifies thousands of channels). It returns dst
// unchanged when nothing matches.
func (ix *Index) AppendMatch(dst []Match, ev *Event, opts Options) []Match {
	if ix == nil || ev == nil || len(ix.rules) == 0 {
		return dst
	}
	switch ev.PostType {
	case PostRegular:
	case PostWhisper:
		if ev.ActionCode != ActionCategoryChanged {
			return dst
		}
	default:
		return dst
	}
	if opts.SkipUnlisted && ev.Unlisted {
		return dst
	}

	var tagBuf [8]string
	tags := tagBuf[:0]
	if opts.TaggingEnabled {
		for _, t := range ev.Tags {
			if t = strings.ToLower(t); !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	var (
		listBuf [16][]entry
		seenBuf [8]*bucket
		st      *static
	)
	c := collector{tags: tags, tagging: opts.TaggingEnabled, lists: listBuf[:0], seen: seenBuf[:0]}
	if ev.Archetype == ArchetypePrivateMessage {
		for _, g := range ev.AllowedGroups {
			c = c.add(ix.groupMessage[strings.ToLower(g)])
		}
	} else {
		if opts.TaggingEnabled {
			st = ix.static[1]
			c = c.addTagged(&ix.wildcard)
		} else {
			st = ix.static[0]
		}
		if ev.CategoryID != nil {
			cat := *ev.CategoryID
			c = c.add(ix.category[cat])
			for _, a := range ev.ParentCategoryIDs {
				if a != cat {
					c = c.add(ix.subtree[a])
				}
			}
		}
		for _, g := range ev.MentionedGroups {
			c = c.add(ix.groupMention[strings.ToLower(g)])
		}
	}
	return ix.merge(dst, c.lists, st, dropMode(ev))
}

// collector gathers the candidate lists of one event. It is a value
// backed by arrays on the caller's stack, so the common case (a handful of
// buckets and tags) does not allocate.
type collector struct {
	tags    []string
	tagging bool
	lists   [][]entry
	seen    []*bucket
}

// add appends the lists of b that can hold matching rules. A bucket is
// taken once even when the event names its key twice.
func (c collector) add(b *bucket) collector {
	if b == nil || slices.Contains(c.seen, b) {
		return c
	}
	c.seen = append(c.seen, b)
	if !c.tagging {
		if len(b.all) > 0 {
			c.lists = append(c.lists, b.all)
		}
		return c
	}
	if len(b.untagged) > 0 {
		c.lists = append(c.lists, b.untagged)
	}
	return c.addTagged(b)
}

// addTagged appends the lists of b's tagged rules for the event's tags.
func (c collector) addTagged(b *bucket) collector {
	for _, t := range c.tags {
		if l := b.byTag[t]; len(l) > 0 {
			c.lists = append(c.lists, l)
		}
	}
	return c
}

// merge appends to dst, in channel order, the winner of every channel
// found in lists (each sorted by channel, one entry per channel) or in st
// (which may be nil), unless the winner's flags hit the post-filter of
// mode. Channels only st knows are copied from its precomputed answer in
// bulk; for the others the lowest key of lists and st wins.
func (ix *Index) merge(dst []Match, lists [][]entry, st *static, mode int) []Match {
	var (
		res        []Match
		rch, wch   []int32
		wkey, byCh []uint32
	)
	if st != nil {
		res, rch, wch, wkey, byCh = st.res[mode], st.rch[mode], st.ch, st.key, st.byCh
	}
	var curBuf [16]cursor
	km := kmerge{cs: curBuf[:0], run: -1}
	total := len(res)
	for _, l := range lists {
		km.cs = append(km.cs, cursor{l: l})
		total += len(l)
	}
	if total == 0 {
		return dst
	}
	drop := dropMask(mode)
	rs := ix.rules
	out := slices.Grow(dst, min(total, ix.channels))
	p, w := 0, 0
	for {
		d, k, ok := km.next()
		if !ok {
			break
		}
		if len(wch) > 0 {
			if byCh != nil {
				k = min(k, byCh[d])
			} else if w = seek(wch, w, d); w < len(wch) && wch[w] == d {
				k = min(k, wkey[w])
			}
			q := seek(rch, p, d)
			out = append(out, res[p:q]...)
			if p = q; p < len(rch) && rch[p] == d {
				p++
			}
		}
		if k&drop == 0 {
			out = append(out, Match{Rule: &rs[k>>flagBits]})
		}
	}
	out = append(out, res[p:]...)
	if len(out) == len(dst) {
		return dst
	}
	return out
}

// seek returns the first index j ≥ i with a[j] ≥ d (or len(a)) in the
// sorted a, galloping from i so that a short step costs a short search.
func seek(a []int32, i int, d int32) int {
	if i >= len(a) || a[i] >= d {
		return i
	}
	lo, step := i, 1 // a[lo] < d
	hi := lo + step
	for hi < len(a) && a[hi] < d {
		lo, step = hi, step<<1
		hi = lo + step
	}
	hi = min(hi, len(a))
	for lo++; lo < hi; {
		mid := int(uint(lo+hi) >> 1)
		if a[mid] < d {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// cursor is a position in one candidate list; it advances by index so the
// hot loops write no pointers.
type cursor struct {
	l []entry
	i int
}

// kmerge yields, in channel order, each channel of its lists with the
// lowest key among them. When one list alone holds the smallest channel,
// it yields that list's run up to the next list's head without comparing
// heads again.
type kmerge struct {
	cs    []cursor
	run   int   // the cursor in a run, or -1
	bound int32 // the run lasts while channels are below bound
}

func (m *kmerge) next() (int32, uint32, bool) {
	// m.cs is only ever resliced in place (m.cs = m.cs[:n]) so that escape
	// analysis keeps the caller's cursor array on the stack.
	if m.run >= 0 {
		c := &m.cs[m.run]
		if c.i < len(c.l) {
			if e := c.l[c.i]; e.ch < m.bound {
				c.i++
				return e.ch, e.key, true
			}
		} else {
			m.remove(m.run)
		}
		m.run = -1
	}
	if len(m.cs) == 0 {
		return 0, 0, false
	}
	i1, m1, m2 := 0, m.cs[0].l[m.cs[0].i].ch, int32(math.MaxInt32)
	for i := 1; i < len(m.cs); i++ {
		switch ch := m.cs[i].l[m.cs[i].i].ch; {
		case ch < m1:
			i1, m1, m2 = i, ch, m1
		case ch < m2:
			m2 = ch
		}
	}
	if m2 > m1 {
		c := &m.cs[i1]
		e := c.l[c.i]
		c.i++
		m.run, m.bound = i1, m2
		return e.ch, e.key, true
	}
	best := uint32(noKey)
	for i := 0; i < len(m.cs); {
		c := &m.cs[i]
		if c.l[c.i].ch == m1 {
			best = min(best, c.l[c.i].key)
			if c.i++; c.i == len(c.l) {
				m.remove(i)
				continue
			}
		}
		i++
	}
	return m1, best, true
}

// remove drops exhausted cursor i by moving the last cursor into its place.
func (m *kmerge) remove(i int) {
	last := len(m.cs) - 1
	m.cs[i] = m.cs[last]
	m.cs = m.cs[:last]
}

// item is a rule on its way into a bucket.
type item struct {
	entry
	tags []string
}

type builder struct{ items []item }

func (b *builder) add(it item) { b.items = append(b.items, it) }

func (b *builder) build() bucket {
	var out bucket
	all := make([]entry, 0, len(b.items))
	var untagged []entry
	tagged := map[string][]entry{}
	for _, it := range b.items {
		all = append(all, it.entry)
		if len(it.tags) == 0 {
			untagged = append(untagged, it.entry)
			continue
		}
		for _, t := range it.tags {
			tagged[t] = append(tagged[t], it.entry)
		}
	}
	out.all = reduce(all)
	out.untagged = reduce(untagged)
	if len(tagged) > 0 {
		out.byTag = make(map[string][]entry, len(tagged))
		for t, l := range tagged {
			l = reduce(l)
			l = slices.DeleteFunc(l, func(e entry) bool {
				i, ok := slices.BinarySearchFunc(out.untagged, e.ch, func(u entry, ch int32) int { return cmp.Compare(u.ch, ch) })
				return ok && out.untagged[i].key < e.key
			})
			if len(l) > 0 {
				out.byTag[t] = slices.Clip(l)
			}
		}
	}
	return out
}

// reduce sorts l by channel and keeps each channel's lowest key.
func reduce(l []entry) []entry {
	if len(l) == 0 {
		return nil
	}
	slices.SortFunc(l, func(a, b entry) int {
		if c := cmp.Compare(a.ch, b.ch); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	l = slices.CompactFunc(l, func(a, b entry) bool { return a.ch == b.ch })
	return slices.Clip(l)
}

// normTags lower-cases and trims tags, dropping empty and repeated ones.
func normTags(in []string) []string {
	var out []string
	for _, t := range in {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
