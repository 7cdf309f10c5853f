package discourse

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Cache defaults, used when a CacheOptions field is zero or negative.
const (
	// DefaultCacheTTL is short enough that a tag or category change
	// without a topic webhook (the webhook may be filtered or lost) shows
	// up within minutes, and long enough that a busy topic costs a fetch
	// every few minutes rather than one per post.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultMaxTopics bounds memory at roughly a few MiB of topics.
	DefaultMaxTopics = 1000
)

// TopicSource is what the cache needs from Discourse; *Client satisfies
// it, and tests may pass anything else.
type TopicSource interface {
	Topic(ctx context.Context, id int64) (*Topic, error)
	Site(ctx context.Context) (*Site, error)
	TagGroups(ctx context.Context) ([]TagGroup, error)
}

var _ TopicSource = (*Client)(nil)

// CacheOptions configures a Cache.
type CacheOptions struct {
	// TTL is how long a fetched or put topic (and the site, and the
	// hidden tags) is served without asking Discourse again. Default
	// DefaultCacheTTL.
	TTL time.Duration
	// MaxTopics bounds the number of cached topics; storing one more
	// evicts the one stored longest ago. Default DefaultMaxTopics.
	MaxTopics int
	// Now is the clock, injectable for tests. Default time.Now.
	Now func() time.Time
	// Logger receives the tag-group failures HiddenTags does not return.
	// Default: discard.
	Logger *slog.Logger
}

// Cache serves topics and the site from memory in front of a
// TopicSource. Post webhooks carry no tags, category parents or PM
// groups, so each one needs its topic; the cache makes a burst of posts in
// one topic cost one fetch:
//
//   - concurrent misses for the same topic share one fetch;
//   - a fetch outlives a caller whose ctx ends, and is cancelled only
//     when every caller waiting for it has gone;
//   - errors are not cached, so the next call asks again;
//   - PutTopic and Invalidate win over a fetch that was already running,
//     whose result may predate them.
//
// HiddenTags follows the same rules but never fails; see there.
//
// Returned topics, sites and tag sets are shared: treat them as
// read-only. A Cache is safe for concurrent use.
type Cache struct {
	src TopicSource
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	topics   map[int64]*list.Element // of *topicEntry, oldest stored at the front
	order    *list.List
	inflight map[int64]*flight[*Topic]
	site     *Site
	siteExp  time.Time
	siteCall *flight[*Site]

	log        *slog.Logger
	hidden     HiddenTags // last set read, nil before the first success
	hiddenExp  time.Time
	hiddenCall *flight[HiddenTags]
	// forbiddenLogged makes a key that may not read tag groups warn once,
	// not on every expiry.
	forbiddenLogged atomic.Bool
}

type topicEntry struct {
	topic   *Topic
	expires time.Time
}

// flight is one fetch shared by every caller that missed while it ran.
// Fields other than done are guarded by Cache.mu until done is closed;
// val and err are written before the close and only read after it.
type flight[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int
	cancel  context.CancelFunc
	// detached is set when the flight no longer owns its key (a put, an
	// invalidation, or all waiters left): its result must not be stored.
	detached bool
}

// NewCache returns a cache in front of src.
func NewCache(src TopicSource, opts CacheOptions) *Cache {
	c := &Cache{
		src:      src,
		ttl:      opts.TTL,
		max:      opts.MaxTopics,
		now:      opts.Now,
		log:      opts.Logger,
		topics:   make(map[int64]*list.Element),
		order:    list.New(),
		inflight: make(map[int64]*flight[*Topic]),
	}
	if c.ttl <= 0 {
		c.ttl = DefaultCacheTTL
	}
	if c.max <= 0 {
		c.max = DefaultMaxTopics
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Topic returns topic id from the cache, or fetches it, joining a fetch
// already under way. It returns the source's error unchanged (not cached),
// or ctx.Err() when ctx ends first.
func (c *Cache) Topic(ctx context.Context, id int64) (*Topic, error) {
	c.mu.Lock()
	if el, ok := c.topics[id]; ok {
		e := el.Value.(*topicEntry)
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			return e.topic, nil
		}
	}
	f, ok := c.inflight[id]
	if !ok {
		f = startFlight(ctx, func(ctx context.Context) (*Topic, error) { return c.src.Topic(ctx, id) },
			func(f *flight[*Topic]) {
				if c.inflight[id] == f {
					delete(c.inflight, id)
				}
				if !f.detached && f.err == nil {
					c.storeLocked(f.val)
				}
			}, &c.mu)
		c.inflight[id] = f
	}
	f.waiters++
	c.mu.Unlock()
	return wait(ctx, f, &c.mu, func() {
		if c.inflight[id] == f {
			delete(c.inflight, id)
		}
	})
}

// PutTopic stores t, typically from a topic webhook, so the next Topic
// needs no fetch. The cache keeps t; do not modify it afterwards.
//
// Webhook topics lack the topic view's details and post stream. The
// first post's id never changes, so it is carried over from the cached
// copy; PM groups can change, so a private message without AllowedGroups
// is not stored but invalidated, and the next Topic fetches it whole.
func (c *Cache) PutTopic(t *Topic) {
	if t == nil || t.ID <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detachLocked(t.ID)
	if t.Archetype == ArchetypePrivateMessage && t.AllowedGroups == nil {
		c.removeLocked(t.ID)
		return
	}
	if el, ok := c.topics[t.ID]; ok && t.PostStreamFirstPostID == 0 {
		if old := el.Value.(*topicEntry).topic; old.PostStreamFirstPostID != 0 {
			cp := *t
			cp.PostStreamFirstPostID = old.PostStreamFirstPostID
			t = &cp
		}
	}
	c.storeLocked(t)
}

// Invalidate drops topic id, e.g. on topic_destroyed, so the next Topic
// fetches it. A fetch already running is left to its waiters but its
// result is not stored.
func (c *Cache) Invalidate(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detachLocked(id)
	c.removeLocked(id)
}

// Site returns the cached site or fetches it, with the same sharing and
// error rules as Topic.
func (c *Cache) Site(ctx context.Context) (*Site, error) {
	c.mu.Lock()
	if c.site != nil && c.now().Before(c.siteExp) {
		s := c.site
		c.mu.Unlock()
		return s, nil
	}
	f := c.siteCall
	if f == nil {
		f = startFlight(ctx, c.src.Site, func(f *flight[*Site]) {
			if c.siteCall == f {
				c.siteCall = nil
			}
			if !f.detached && f.err == nil {
				c.site, c.siteExp = f.val, c.now().Add(c.ttl)
			}
		}, &c.mu)
		c.siteCall = f
	}
	f.waiters++
	c.mu.Unlock()
	return wait(ctx, f, &c.mu, func() {
		if c.siteCall == f {
			c.siteCall = nil
		}
	})
}

// InvalidateSite drops the cached site, e.g. on a category webhook.
func (c *Cache) InvalidateSite() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.siteCall != nil {
		c.siteCall.detached = true
		c.siteCall = nil
	}
	c.site = nil
}

// HiddenTags returns the tags not everyone may see on the forum
// (HiddenTagNames of the source's tag groups), from the cache or fetched
// with the same sharing and TTL as Site. Notifications leave these tags
// out, so the set is needed for every webhook, and a tag-group failure
// must not hold up intake: instead of an error HiddenTags returns the
// last set it read (nil, which hides nothing, if it never read one) and
// logs the failure.
//
// ErrForbidden means the API key does not act as staff: Discourse keeps
// tag groups from other users. That is not transient, so it is logged
// once at warn and remembered for a TTL, like a success, rather than
// asked again for every webhook. It matters less than it seems: such a
// user's topic views already leave out the tags hidden from it.
func (c *Cache) HiddenTags(ctx context.Context) HiddenTags {
	c.mu.Lock()
	if c.now().Before(c.hiddenExp) {
		h := c.hidden
		c.mu.Unlock()
		return h
	}
	f := c.hiddenCall
	if f == nil {
		f = startFlight(ctx, c.fetchHidden, func(f *flight[HiddenTags]) {
			if c.hiddenCall == f {
				c.hiddenCall = nil
			}
			if f.detached {
				return
			}
			switch {
			case f.err == nil:
				c.hidden, c.hiddenExp = f.val, c.now().Add(c.ttl)
			case errors.Is(f.err, ErrForbidden):
				c.hiddenExp = c.now().Add(c.ttl)
			}
		}, &c.mu)
		c.hiddenCall = f
	}
	f.waiters++
	c.mu.Unlock()
	h, err := wait(ctx, f, &c.mu, func() {
		if c.hiddenCall == f {
			c.hiddenCall = nil
		}
	})
	if err == nil {
		return h
	}
	if ctx.Err() != nil {
		// The fetch itself logs its failures; this caller gave up first.
		c.log.WarnContext(ctx, "gave up waiting for the forum's tag groups; hiding the last known hidden tags", "error", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hidden
}

// fetchHidden reads the tag groups and logs a failure once per fetch (not
// once per waiting caller), unless every caller gave up and cancelled it.
func (c *Cache) fetchHidden(ctx context.Context) (HiddenTags, error) {
	groups, err := c.src.TagGroups(ctx)
	switch {
	case err == nil:
		return HiddenTagNames(groups), nil
	case ctx.Err() != nil:
	case errors.Is(err, ErrForbidden):
		if c.forbiddenLogged.CompareAndSwap(false, true) {
			c.log.WarnContext(ctx, "the Discourse API key may not read tag groups (only staff may, and the key must be valid); "+
				"chat messages hide only the hidden tags last read, if any, and Discourse's own filtering of topic tags", "error", err)
		}
	default:
		c.log.WarnContext(ctx, "could not read the forum's tag groups; hiding the last known hidden tags", "error", err)
	}
	return nil, err
}

// storeLocked caches t as the newest entry and evicts the oldest beyond
// the bound. Called with c.mu held.
func (c *Cache) storeLocked(t *Topic) {
	if t == nil {
		return
	}
	e := &topicEntry{topic: t, expires: c.now().Add(c.ttl)}
	if el, ok := c.topics[t.ID]; ok {
		el.Value = e
		c.order.MoveToBack(el)
	} else {
		c.topics[t.ID] = c.order.PushBack(e)
	}
	for c.order.Len() > c.max {
		oldest := c.order.Front()
		c.order.Remove(oldest)
		delete(c.topics, oldest.Value.(*topicEntry).topic.ID)
	}
}

// removeLocked drops id's entry. Called with c.mu held.
func (c *Cache) removeLocked(id int64) {
	if el, ok := c.topics[id]; ok {
		c.order.Remove(el)
		delete(c.topics, id)
	}
}

// detachLocked stops a running fetch of id from storing its result;
// its waiters still get it. Called with c.mu held.
func (c *Cache) detachLocked(id int64) {
	if f, ok := c.inflight[id]; ok {
		f.detached = true
		delete(c.inflight, id)
	}
}

// startFlight runs fetch in its own goroutine under a context that keeps
// ctx's values but not its cancellation, so the first caller leaving does
// not fail the others. finish runs under mu before waiters are released.
// Called with mu held; the goroutine takes mu only after fetch returns.
func startFlight[T any](ctx context.Context, fetch func(context.Context) (T, error), finish func(*flight[T]), mu *sync.Mutex) *flight[T] {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight[T]{done: make(chan struct{}), cancel: cancel}
	go func() {
		val, err := fetch(fctx)
		mu.Lock()
		f.val, f.err = val, err
		finish(f)
		close(f.done)
		mu.Unlock()
		cancel()
	}()
	return f
}

// wait blocks until f finishes or ctx ends. The last waiter to leave
// early cancels the fetch and detaches it (via detach, under mu), so a
// later caller starts a fresh fetch instead of joining a cancelled one.
func wait[T any](ctx context.Context, f *flight[T], mu *sync.Mutex, detach func()) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-f.done:
		// Finished while we took the lock: the result is as good as any.
		return f.val, f.err
	default:
	}
	f.waiters--
	if f.waiters == 0 {
		f.detached = true
		detach()
		f.cancel()
	}
	var zero T
	return zero, ctx.Err()
}
