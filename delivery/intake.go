package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// Discourse event names intake acts on.
const (
	EventPostCreated    = "post_created"
	EventPostEdited     = "post_edited"
	EventPostDestroyed  = "post_destroyed"
	EventTopicCreated   = "topic_created"
	EventTopicEdited    = "topic_edited"
	EventTopicDestroyed = "topic_destroyed"
	EventPing           = "ping"
)

// Event sources recorded on forum events.
const (
	SourceWebhook = "webhook"
	SourceCatchUp = "catchup"
)

// Outcome statuses of Accept.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Ignored   = "ignored"
)

// Outcome says what intake did with an event.
type Outcome struct {
	Status     string `json:"status"`
	EventID    int64  `json:"eventId,omitempty"`
	Deliveries int    `json:"deliveries"`
}

// TopicSource is the Discourse API as intake needs it; *discourse.Cache
// implements it. Nil means no API is configured, and then no tag is known
// to be hidden: webhooks do not say which tags are staff-only.
type TopicSource interface {
	Topic(ctx context.Context, id int64) (*discourse.Topic, error)
	Site(ctx context.Context) (*discourse.Site, error)
	// HiddenTags never fails: an unreadable set must not hold up a
	// webhook, so it answers the last known set (nil when none).
	HiddenTags(ctx context.Context) discourse.HiddenTags
	PutTopic(t *discourse.Topic)
}

// IntakeOptions configures an Intake.
type IntakeOptions struct {
	Store    *store.Store
	Engine   *Engine
	Registry *providers.Registry
	Logger   *slog.Logger
	Metrics  *Metrics
	// Topics is the Discourse API; nil works from webhook payloads alone.
	Topics TopicSource
	// Posts reads posts for testChannel; nil sends a sample instead.
	Posts PostFetcher
	// BaseURL is the forum's URL; when empty, X-Discourse-Instance is used.
	BaseURL string
	Title   string
	Names   NameSettings
	Match   rules.Options
	// Writers is how many group commits may run at once (default 1).
	// One writer makes the biggest groups: webhooks that arrive while it
	// commits form the next group, so a busy intake pays a transaction
	// per group rather than per webhook. A second writer halves the
	// groups; at the load tool's peak that cost ~15 % more PostgreSQL
	// CPU per delivery for no gain in rate. More writers only help when
	// each commit waits long on a distant database.
	Writers int
}

// Intake turns forum events into stored events and queued deliveries.
type Intake struct {
	opts IntakeOptions
	log  *slog.Logger

	queue     chan *postItem
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu       sync.Mutex
	gen      int64
	index    *rules.Index
	channels map[int64]string // channel id → provider, for enabled providers
	built    bool
}

// NewIntake makes an Intake and starts its writers; Close stops them.
func NewIntake(opts IntakeOptions) *Intake {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Writers <= 0 {
		opts.Writers = 1
	}
	in := &Intake{opts: opts, log: opts.Logger, queue: make(chan *postItem, maxBatch), closed: make(chan struct{})}
	in.wg.Add(opts.Writers)
	for range opts.Writers {
		go in.writer()
	}
	return in
}

// Accept handles one webhook body for the named event. instance is the
// X-Discourse-Instance header, used as the forum URL when none is
// configured. A *discourse.PayloadError means the body is malformed and
// nothing was stored.
func (in *Intake) Accept(ctx context.Context, event, instance string, body []byte) (Outcome, error) {
	payload, err := discourse.ParseWebhook(body)
	if err != nil {
		in.opts.Metrics.event(event, "invalid")
		return Outcome{}, err
	}
	if payload.Ping || event == EventPing {
		in.opts.Metrics.event(EventPing, Ignored)
		return Outcome{Status: Ignored}, nil
	}
	var out Outcome
	switch {
	case payload.Post != nil && (event == EventPostCreated || event == EventPostEdited || event == EventPostDestroyed):
		out, err = in.AcceptPost(ctx, event, SourceWebhook, instance, payload.Post)
	case payload.Topic != nil && (event == EventTopicCreated || event == EventTopicEdited || event == EventTopicDestroyed):
		out, err = in.acceptTopic(ctx, event, payload.Topic, body)
	default:
		out = Outcome{Status: Ignored}
	}
	if err != nil {
		in.opts.Metrics.event(event, "error")
		return out, err
	}
	in.opts.Metrics.event(event, out.Status)
	return out, nil
}

// dedupeKey identifies an event by its payload: a post is created and
// destroyed once, edited once per version; a topic edit once per body.
func dedupeKey(event string, id int64, version int, body []byte) string {
	k := event + ":" + strconv.FormatInt(id, 10)
	switch event {
	case EventPostEdited:
		k += ":" + strconv.Itoa(version)
	case EventTopicEdited:
		sum := sha256.Sum256(body)
		k += ":" + hex.EncodeToString(sum[:12])
	}
	return k
}

// AcceptPost stores a post event and queues its deliveries, returning
// once they are committed. Catch-up feeds missed posts through it too,
// deduplicated against webhooks.
//
// Concurrent calls are written together (group commit): a few writer
// goroutines each take every post waiting and store them in one
// transaction with a handful of multi-row statements, so a burst costs a
// few commits instead of one per webhook. A batch that fails is retried
// post by post, so one bad post cannot fail the others.
func (in *Intake) AcceptPost(ctx context.Context, event, source, instance string, p *discourse.Post) (Outcome, error) {
	it := &postItem{event: event, source: source, instance: instance, post: p, done: make(chan itemResult, 1)}
	if in.opts.Topics != nil {
		// API reads happen here, outside the writers, so a slow forum
		// delays only its own webhook.
		it.facts, it.site, it.hidden = in.topicFacts(ctx, p.TopicID)
	}
	select {
	case in.queue <- it:
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	case <-in.closed:
		return Outcome{}, ErrIntakeClosed
	}
	select {
	case r := <-it.done:
		return r.out, r.err
	case <-ctx.Done():
		// The post may still be stored; Discourse's retry is then a
		// duplicate, which is harmless.
		return Outcome{}, ctx.Err()
	}
}

// ErrIntakeClosed is returned once Close was called.
var ErrIntakeClosed = errors.New("intake: shutting down")

// postItem is one post waiting for a writer.
type postItem struct {
	event, source, instance string
	post                    *discourse.Post
	facts                   *TopicFacts // nil until known
	site                    *discourse.Site
	hidden                  discourse.HiddenTags
	done                    chan itemResult
	note                    *providers.Notification

	ev *store.ForumEvent
	ds []*store.Delivery
}

type itemResult struct {
	out Outcome
	err error
}

// apiLookupTimeout bounds the Discourse API reads of one webhook.
const apiLookupTimeout = 3 * time.Second

// maxBatch bounds one group commit.
const maxBatch = 256

// writer stores batches until Close.
func (in *Intake) writer() {
	defer in.wg.Done()
	batch := make([]*postItem, 0, maxBatch)
	for {
		var first *postItem
		select {
		case first = <-in.queue:
		case <-in.closed:
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case it := <-in.queue:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		in.writeBatch(batch)
	}
}

// Close stops the writers after the posts already queued are stored.
func (in *Intake) Close() {
	in.closeOnce.Do(func() {
		close(in.closed)
		in.wg.Wait()
		// Answer anything that raced with Close.
		for {
			select {
			case it := <-in.queue:
				in.writeBatch([]*postItem{it})
			default:
				return
			}
		}
	})
}

func (in *Intake) writeBatch(batch []*postItem) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Creations go together; edits and deletions look up what earlier
	// posts delivered, so they go one by one after them, in order.
	var creates, others []*postItem
	for _, it := range batch {
		if it.event == EventPostCreated {
			creates = append(creates, it)
		} else {
			others = append(others, it)
		}
	}
	// Deliveries this process sends itself go to its workers once every
	// item is answered, so QUEUED is announced before any SENDING.
	var locals []*Local
	persist := func(items []*postItem) error {
		l, err := in.persist(ctx, items)
		if err != nil {
			in.opts.Engine.Release(l)
			return err
		}
		locals = append(locals, l)
		return nil
	}
	if err := persist(creates); err != nil {
		for _, it := range creates {
			in.finish(it, persist([]*postItem{it}))
		}
	} else {
		for _, it := range creates {
			in.finish(it, nil)
		}
	}
	for _, it := range others {
		in.finish(it, persist([]*postItem{it}))
	}
	for _, l := range locals {
		in.opts.Engine.Dispatch(l)
	}
}

func (in *Intake) finish(it *postItem, err error) {
	switch {
	case err != nil:
		in.log.Error("could not store a forum event", "event", it.event, "post", it.post.ID, "error", err)
		it.done <- itemResult{err: fmt.Errorf("intake: %w", err)}
	case it.ev.ID == 0:
		it.done <- itemResult{out: Outcome{Status: Duplicate}}
	default:
		in.opts.Engine.Queued(it.ds...)
		it.done <- itemResult{out: Outcome{Status: Accepted, EventID: it.ev.ID, Deliveries: len(it.ds)}}
	}
}

// persist stores items in one transaction: their events (duplicates
// skipped), their deliveries and the deliveries' jobs. The Local it
// returns goes to Engine.Dispatch after the commit, or to Engine.Release
// when persist fails.
func (in *Intake) persist(ctx context.Context, items []*postItem) (*Local, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if err := in.loadFacts(ctx, items); err != nil {
		return nil, err
	}
	kinds := map[string]providers.EventKind{
		EventPostCreated: providers.PostCreated, EventPostEdited: providers.PostEdited, EventPostDestroyed: providers.PostDeleted,
	}
	evs := make([]*store.ForumEvent, len(items))
	for i, it := range items {
		p := it.post
		n := BuildNotification(kinds[it.event], in.forum(it.site, it.hidden, it.instance), p, it.facts)
		payload, err := json.Marshal(&n)
		if err != nil {
			return nil, err
		}
		it.note = &n
		topicID, postID := p.TopicID, p.ID
		it.ev = &store.ForumEvent{Kind: it.event, DedupeKey: dedupeKey(it.event, p.ID, p.Version, nil), Source: it.source,
			TopicID: &topicID, PostID: &postID, Payload: string(payload)}
		evs[i] = it.ev
	}
	var local *Local
	err := in.opts.Store.InTx(ctx, func(q *store.Queries) error {
		idx, channels, err := in.currentIndex(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range items {
			ds, err := in.deliveriesFor(ctx, q, idx, channels, it)
			if err != nil {
				return err
			}
			it.ds = ds
			it.ev.Deliveries = len(ds)
		}
		if err := q.InsertEvents(ctx, evs); err != nil {
			return err
		}
		var all []*store.Delivery
		notes := make(map[int64]*providers.Notification, len(items))
		for _, it := range items {
			if it.ev.ID == 0 {
				it.ds = nil
				continue
			}
			for _, d := range it.ds {
				d.EventID = it.ev.ID
			}
			all = append(all, it.ds...)
			notes[it.ev.ID] = it.note
		}
		local, err = in.opts.Engine.Enqueue(ctx, q, all, notes)
		return err
	})
	return local, err
}

// loadFacts fills in the stored topic facts of items that have none, with
// one query.
func (in *Intake) loadFacts(ctx context.Context, items []*postItem) error {
	var ids []int64
	for _, it := range items {
		if it.facts == nil {
			ids = append(ids, it.post.TopicID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	data, err := in.opts.Store.GetTopicDataMany(ctx, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.facts != nil {
			continue
		}
		it.facts = &TopicFacts{ID: it.post.TopicID}
		if raw, ok := data[it.post.TopicID]; ok {
			var f TopicFacts
			if json.Unmarshal([]byte(raw), &f) == nil {
				it.facts = &f
			}
		}
	}
	return nil
}

// deliveriesFor decides an item's deliveries: the matching channels for a
// new post, the channels that got the post for an edit or deletion.
func (in *Intake) deliveriesFor(ctx context.Context, q *store.Queries, idx *rules.Index, channels map[int64]string, it *postItem) ([]*store.Delivery, error) {
	p := it.post
	topicID, postID := p.TopicID, p.ID
	var ds []*store.Delivery
	if it.event == EventPostCreated {
		for _, m := range in.match(idx, channels, MatchEvent(p, it.facts, it.site)) {
			r := m.Rule
			ruleID := r.ID
			ds = append(ds, &store.Delivery{ChannelID: r.ChannelID, RuleID: &ruleID,
				Provider: channels[r.ChannelID], Action: store.ActionSend, Filter: string(r.Filter),
				TopicID: &topicID, PostID: &postID})
		}
		return ds, nil
	}
	action := store.ActionEdit
	if it.event == EventPostDestroyed {
		action = store.ActionDelete
	}
	sends, err := q.SendDeliveriesForPost(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, s := range sends {
		if seen[s.ChannelID] || !in.canEdit(s.Provider) || s.Status == store.StatusFailed || s.Status == store.StatusCancelled {
			continue
		}
		seen[s.ChannelID] = true
		ds = append(ds, &store.Delivery{ChannelID: s.ChannelID, RuleID: s.RuleID,
			Provider: s.Provider, Action: action, Filter: s.Filter, TopicID: &topicID, PostID: &postID})
	}
	return ds, nil
}

func (in *Intake) canEdit(provider string) bool {
	p, ok := in.opts.Registry.Get(provider)
	if !ok {
		return false
	}
	_, ok = p.(providers.Editor)
	return ok
}

// acceptTopic records a topic event and keeps its facts for later posts.
func (in *Intake) acceptTopic(ctx context.Context, event string, t *discourse.Topic, body []byte) (Outcome, error) {
	facts := factsOf(t)
	data, err := json.Marshal(facts)
	if err != nil {
		return Outcome{}, err
	}
	id := t.ID
	ev := &store.ForumEvent{Kind: event, DedupeKey: dedupeKey(event, t.ID, 0, body), Source: SourceWebhook,
		TopicID: &id, Payload: string(data)}
	err = in.opts.Store.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertEvents(ctx, []*store.ForumEvent{ev}); err != nil || ev.ID == 0 {
			return err
		}
		if event != EventTopicDestroyed {
			return q.PutTopicData(ctx, t.ID, string(data))
		}
		return nil
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("intake: %w", err)
	}
	if in.opts.Topics != nil && event != EventTopicDestroyed {
		in.opts.Topics.PutTopic(t)
	}
	if ev.ID == 0 {
		return Outcome{Status: Duplicate}, nil
	}
	return Outcome{Status: Accepted, EventID: ev.ID}, nil
}

// topicFacts reads a topic, the site and the hidden tags through the
// Discourse API. On failure it returns nil facts, and the writer falls
// back to the facts topic webhooks stored (loadFacts), because a webhook
// must not be lost to an API outage. The hidden tags are read whatever
// happens to the topic: stored facts carry hidden tags too.
func (in *Intake) topicFacts(ctx context.Context, topicID int64) (*TopicFacts, *discourse.Site, discourse.HiddenTags) {
	// Discourse gives up on a webhook after 20 s; a slow or down forum
	// API must not make the sidecar miss it.
	ctx, cancel := context.WithTimeout(ctx, apiLookupTimeout)
	defer cancel()
	site, err := in.opts.Topics.Site(ctx)
	if err != nil {
		in.log.WarnContext(ctx, "could not read the forum's categories", "error", err)
	}
	hidden := in.opts.Topics.HiddenTags(ctx)
	t, err := in.opts.Topics.Topic(ctx, topicID)
	if err != nil {
		in.log.WarnContext(ctx, "could not read the topic from Discourse; matching on the webhook payload", "topic", topicID, "error", err)
		return nil, site, hidden
	}
	return factsOf(t), site, hidden
}

// currentIndex returns the match index, rebuilding it first when rules
// changed on any replica since it was built. Callers check once per
// transaction.
func (in *Intake) currentIndex(ctx context.Context, q *store.Queries) (*rules.Index, map[int64]string, error) {
	gen, err := q.Counter(ctx, store.CounterRules)
	if err != nil {
		return nil, nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.built || gen != in.gen {
		if err := in.rebuild(ctx, q); err != nil {
			return nil, nil, err
		}
		in.gen, in.built = gen, true
	}
	return in.index, in.channels, nil
}

// match returns the winning rule per channel, for enabled providers only.
func (in *Intake) match(idx *rules.Index, channels map[int64]string, ev rules.Event) []rules.Match {
	var out []rules.Match
	for _, m := range idx.Match(&ev, in.opts.Match) {
		if _, ok := channels[m.Rule.ChannelID]; ok {
			out = append(out, m)
		}
	}
	return out
}

func (in *Intake) rebuild(ctx context.Context, q *store.Queries) error {
	configs, err := q.ListProviderConfigs(ctx)
	if err != nil {
		return err
	}
	chans, err := q.ListChannels(ctx, store.ListChannelsParams{})
	if err != nil {
		return err
	}
	channels := make(map[int64]string, len(chans))
	for _, c := range chans {
		if pc, ok := configs[c.Provider]; ok && pc.Enabled {
			channels[c.ID] = c.Provider
		}
	}
	stored, err := q.ListRules(ctx)
	if err != nil {
		return err
	}
	rs := make([]rules.Rule, 0, len(stored))
	for _, r := range stored {
		rr := rules.Rule{ID: r.ID, ChannelID: r.ChannelID, Filter: rules.Filter(r.Filter), Type: rules.Type(r.Type),
			CategoryID: r.CategoryID, IncludeSubcategories: r.IncludeSubcategories, Tags: r.Tags}
		if r.GroupName != nil {
			rr.GroupName = *r.GroupName
		}
		rs = append(rs, rr)
	}
	in.index, in.channels = rules.NewIndex(rs), channels
	return nil
}

// forum is the forum-wide context; instance (X-Discourse-Instance) is the
// forum URL when none is configured.
func (in *Intake) forum(site *discourse.Site, hidden discourse.HiddenTags, instance string) ForumInfo {
	base := in.opts.BaseURL
	if base == "" {
		base = instance
	}
	return ForumInfo{BaseURL: base, Title: in.opts.Title, Names: in.opts.Names, Site: site, HiddenTags: hidden}
}
