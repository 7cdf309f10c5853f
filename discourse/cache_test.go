package discourse_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
)

// clock is an injectable Now that only moves when the test says so.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type cacheBundle struct {
	*testBundle
	clock *clock
	cache *discourse.Cache
}

func setupCache(t *testing.T, opts discourse.CacheOptions) *cacheBundle {
	t.Helper()
	b := &cacheBundle{testBundle: setup(t), clock: newClock()}
	if opts.Now == nil {
		opts.Now = b.clock.Now
	}
	b.cache = discourse.NewCache(b.client, opts)
	return b
}

func topicPath(id int64) string { return fmt.Sprintf("/t/%d.json", id) }

// waitFor polls cond until it holds; it never sleeps a fixed time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond, what)
}

func TestCacheCoalescesConcurrentMisses(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "A burst of replies", Tags: discourse.Tags{"busy"}})
	gate := b.fake.Block(topicPath(topic.ID))

	const n = 20
	type result struct {
		topic *discourse.Topic
		err   error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			got, err := b.cache.Topic(t.Context(), topic.ID)
			results <- result{got, err}
		}()
	}
	<-gate.Arrived()
	waitFor(t, "all callers join the fetch", func() bool { return b.cache.WaitersForTest(topic.ID) == n })
	gate.Release()

	var first *discourse.Topic
	for range n {
		r := <-results
		require.NoError(t, r.err)
		require.Equal(t, discourse.Tags{"busy"}, r.topic.Tags)
		if first == nil {
			first = r.topic
		}
		require.Same(t, first, r.topic, "every caller shares the one fetched topic")
	}
	require.Equal(t, 1, b.fake.Requests(topicPath(topic.ID)))

	_, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.Requests(topicPath(topic.ID)), "served from the cache afterwards")
}

func TestCacheWaiterLeavingDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Shared fetch"})
	gate := b.fake.Block(topicPath(topic.ID))

	impatient, cancel := context.WithCancel(t.Context())
	errA := make(chan error, 1)
	go func() {
		_, err := b.cache.Topic(impatient, topic.ID)
		errA <- err
	}()
	<-gate.Arrived()
	resB := make(chan error, 1)
	go func() {
		_, err := b.cache.Topic(t.Context(), topic.ID)
		resB <- err
	}()
	waitFor(t, "both callers wait", func() bool { return b.cache.WaitersForTest(topic.ID) == 2 })

	cancel()
	require.ErrorIs(t, <-errA, context.Canceled)
	gate.Release()
	require.NoError(t, <-resB, "the fetch outlived the first caller's ctx")
	require.Equal(t, 1, b.fake.Requests(topicPath(topic.ID)))
}

func TestCacheLastWaiterLeavingCancelsFetch(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Abandoned fetch"})
	gate := b.fake.Block(topicPath(topic.ID))

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := b.cache.Topic(ctx, topic.ID)
		errc <- err
	}()
	<-gate.Arrived()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	waitFor(t, "the abandoned fetch is detached", func() bool { return b.cache.WaitersForTest(topic.ID) == 0 })

	gate.Release()
	got, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err, "a new caller starts a fresh fetch instead of joining the cancelled one")
	require.Equal(t, topic.ID, got.ID)
	require.Equal(t, 2, b.fake.Requests(topicPath(topic.ID)))
}

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{TTL: time.Minute})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Expiring topic"})
	path := topicPath(topic.ID)

	_, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	b.clock.Advance(59 * time.Second)
	_, err = b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.Requests(path), "fresh")

	b.clock.Advance(time.Second)
	_, err = b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests(path), "expired at exactly TTL")
}

func TestCachePutTopicAvoidsFetch(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	// The topic exists only in the webhook, not in the fake: a fetch
	// would fail.
	put := &discourse.Topic{ID: 77, Title: "From a topic webhook", Tags: discourse.Tags{"new"}}
	b.cache.PutTopic(put)
	got, err := b.cache.Topic(t.Context(), 77)
	require.NoError(t, err)
	require.Same(t, put, got)
	require.Zero(t, b.fake.Requests(topicPath(77)))
}

func TestCachePutTopicKeepsTopicViewFields(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Fetched with its stream", Tags: discourse.Tags{"old"}})
	first := b.fake.AddPost(discourse.Post{TopicID: topic.ID, Raw: "the first post"})
	fetched, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, first.ID, fetched.PostStreamFirstPostID)

	// A topic_edited webhook has no post stream.
	webhook := &discourse.Topic{ID: topic.ID, Title: "Retitled", Tags: discourse.Tags{"new"}}
	b.cache.PutTopic(webhook)
	got, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, "Retitled", got.Title)
	require.Equal(t, discourse.Tags{"new"}, got.Tags)
	require.Equal(t, first.ID, got.PostStreamFirstPostID, "carried over")
	require.Zero(t, webhook.PostStreamFirstPostID, "the caller's topic is not modified")
	require.Equal(t, 1, b.fake.Requests(topicPath(topic.ID)))
}

func TestCachePutPrivateMessageWithoutGroupsRefetches(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	pm := b.fake.AddTopic(discourse.Topic{Title: "To the moderators", Archetype: discourse.ArchetypePrivateMessage,
		AllowedGroups: []string{"moderators"}})
	b.cache.PutTopic(&discourse.Topic{ID: pm.ID, Title: pm.Title, Archetype: discourse.ArchetypePrivateMessage})
	got, err := b.cache.Topic(t.Context(), pm.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"moderators"}, got.AllowedGroups)
	require.Equal(t, 1, b.fake.Requests(topicPath(pm.ID)))
}

func TestCacheErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Flaky forum"})
	b.fake.Fail(1, http.StatusServiceUnavailable)

	_, err := b.cache.Topic(t.Context(), topic.ID)
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae, "the source's error comes back unchanged")
	got, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, topic.ID, got.ID)
	require.Equal(t, 2, b.fake.Requests(topicPath(topic.ID)))

	_, err = b.cache.Topic(t.Context(), 999)
	require.ErrorIs(t, err, discourse.ErrNotFound)
	_, err = b.cache.Topic(t.Context(), 999)
	require.ErrorIs(t, err, discourse.ErrNotFound)
	require.Equal(t, 2, b.fake.Requests(topicPath(999)), "not found is an error too, not cached")
}

func TestCacheEvictsOldest(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{MaxTopics: 2})
	var ids []int64
	for i := range 3 {
		ids = append(ids, b.fake.AddTopic(discourse.Topic{Title: fmt.Sprintf("Topic number %d", i)}).ID)
	}
	for _, id := range ids {
		_, err := b.cache.Topic(t.Context(), id)
		require.NoError(t, err)
	}
	// ids[0] was stored first and is gone; ids[1] and ids[2] stay.
	for _, id := range []int64{ids[2], ids[1]} {
		_, err := b.cache.Topic(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, 1, b.fake.Requests(topicPath(id)), "topic %d still cached", id)
	}
	_, err := b.cache.Topic(t.Context(), ids[0])
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests(topicPath(ids[0])), "evicted")
	// Re-storing ids[0] evicted ids[1], now the oldest.
	_, err = b.cache.Topic(t.Context(), ids[1])
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests(topicPath(ids[1])))
}

func TestCacheInvalidate(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Invalidated topic"})
	_, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	b.cache.Invalidate(topic.ID)
	_, err = b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests(topicPath(topic.ID)))
}

// TestCachePutWinsOverRunningFetch: a fetch that started before a topic
// webhook may return the older state; it must not overwrite the put.
func TestCachePutWinsOverRunningFetch(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Old title in the forum"})
	gate := b.fake.Block(topicPath(topic.ID))

	fetched := make(chan *discourse.Topic, 1)
	go func() {
		got, err := b.cache.Topic(t.Context(), topic.ID)
		if err != nil {
			got = nil
		}
		fetched <- got
	}()
	<-gate.Arrived()
	put := &discourse.Topic{ID: topic.ID, Title: "New title from webhook"}
	b.cache.PutTopic(put)
	gate.Release()
	old := <-fetched
	require.NotNil(t, old)
	require.Equal(t, "Old title in the forum", old.Title, "the waiter gets what it waited for")

	got, err := b.cache.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Same(t, put, got)
	require.Equal(t, 1, b.fake.Requests(topicPath(topic.ID)))
}

func TestCacheSite(t *testing.T) {
	t.Parallel()
	b := setupCache(t, discourse.CacheOptions{TTL: time.Minute})
	parent := b.fake.AddCategory(discourse.Category{Name: "Parent"})
	child := b.fake.AddCategory(discourse.Category{Name: "Child", ParentCategoryID: &parent.ID})
	gate := b.fake.Block("/site.json")

	const n = 5
	errs := make(chan error, n)
	for range n {
		go func() {
			site, err := b.cache.Site(t.Context())
			if err == nil && len(site.Ancestors(child.ID)) != 1 {
				err = fmt.Errorf("ancestors of %d: %v", child.ID, site.Ancestors(child.ID))
			}
			errs <- err
		}()
	}
	<-gate.Arrived()
	waitFor(t, "all callers join the site fetch", func() bool { return b.cache.SiteWaitersForTest() == n })
	gate.Release()
	for range n {
		require.NoError(t, <-errs)
	}
	require.Equal(t, 1, b.fake.Requests("/site.json"))

	b.clock.Advance(time.Minute)
	_, err := b.cache.Site(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Requests("/site.json"), "expired")

	b.cache.InvalidateSite()
	b.fake.Fail(1, http.StatusInternalServerError)
	_, err = b.cache.Site(t.Context())
	require.Error(t, err)
	_, err = b.cache.Site(t.Context())
	require.NoError(t, err, "the error was not cached")
	require.Equal(t, 4, b.fake.Requests("/site.json"))
}

func TestCacheAcceptsAnySource(t *testing.T) {
	t.Parallel()
	src := sourceFunc(func(_ context.Context, id int64) (*discourse.Topic, error) {
		return &discourse.Topic{ID: id, Title: "static"}, nil
	})
	c := discourse.NewCache(src, discourse.CacheOptions{})
	got, err := c.Topic(t.Context(), 3)
	require.NoError(t, err)
	require.Equal(t, "static", got.Title)
}

// sourceFunc is a TopicSource without HTTP: the interface is all the
// cache needs.
type sourceFunc func(ctx context.Context, id int64) (*discourse.Topic, error)

func (f sourceFunc) Topic(ctx context.Context, id int64) (*discourse.Topic, error) { return f(ctx, id) }
func (f sourceFunc) Site(context.Context) (*discourse.Site, error)                 { return &discourse.Site{}, nil }
func (f sourceFunc) TagGroups(context.Context) ([]discourse.TagGroup, error)       { return nil, nil }

// logBuffer collects a cache's log lines. The cache logs before it
// releases the callers of a fetch, so a test reads it after its calls
// without racing.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestCacheHiddenTags(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	b := setupCache(t, discourse.CacheOptions{TTL: time.Minute, Logger: logs.logger()})
	b.fake.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated"}, Permissions: map[string]int{"staff": 1}})
	b.fake.AddTagGroup(discourse.TagGroup{Name: "Public", TagNames: discourse.Tags{"help"}})
	gate := b.fake.Block("/tag_groups.json")

	const n = 5
	results := make(chan discourse.HiddenTags, n)
	for range n {
		go func() { results <- b.cache.HiddenTags(t.Context()) }()
	}
	<-gate.Arrived()
	waitFor(t, "all callers join the tag-group fetch", func() bool { return b.cache.HiddenTagsWaitersForTest() == n })
	gate.Release()
	for range n {
		h := <-results
		require.True(t, h.Has("escalated"))
		require.False(t, h.Has("help"))
	}
	require.Equal(t, 1, b.fake.Requests("/tag_groups.json"), "one fetch for every caller")

	b.clock.Advance(59 * time.Second)
	require.True(t, b.cache.HiddenTags(t.Context()).Has("escalated"))
	require.Equal(t, 1, b.fake.Requests("/tag_groups.json"), "fresh")

	// Expired, and the forum fails: the last known set is still hidden,
	// the failure logged, and the next call asks again.
	b.clock.Advance(time.Second)
	b.fake.Fail(1, http.StatusServiceUnavailable)
	require.True(t, b.cache.HiddenTags(t.Context()).Has("escalated"), "the last known set survives an outage")
	require.Contains(t, logs.String(), "could not read the forum's tag groups")
	b.fake.AddTagGroup(discourse.TagGroup{Name: "Beta", TagNames: discourse.Tags{"beta"}, Permissions: map[string]int{"beta-testers": 1}})
	h := b.cache.HiddenTags(t.Context())
	require.True(t, h.Has("beta"), "errors are not cached")
	require.Equal(t, 3, b.fake.Requests("/tag_groups.json"))

	// A 403 (the key's user lost staff) keeps the last known set as well,
	// and is not asked again before the TTL.
	b.clock.Advance(time.Minute)
	b.fake.Fail(1, http.StatusForbidden)
	require.True(t, b.cache.HiddenTags(t.Context()).Has("beta"))
	require.True(t, b.cache.HiddenTags(t.Context()).Has("beta"))
	require.Equal(t, 4, b.fake.Requests("/tag_groups.json"))
}

func TestCacheHiddenTagsWithoutAnyKnownSet(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	b := setupCache(t, discourse.CacheOptions{Logger: logs.logger()})
	b.fake.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated"}, Permissions: map[string]int{"staff": 1}})
	b.fake.Fail(1, http.StatusInternalServerError)
	require.Nil(t, b.cache.HiddenTags(t.Context()), "nothing known yet: nothing hidden, and no error for intake")
	require.Contains(t, logs.String(), "level=WARN")

	// A caller that gives up gets the fallback at once.
	gate := b.fake.Block("/tag_groups.json")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan discourse.HiddenTags, 1)
	go func() { done <- b.cache.HiddenTags(ctx) }()
	<-gate.Arrived()
	cancel()
	require.Nil(t, <-done)
	require.Contains(t, logs.String(), "gave up waiting")
}

// A key whose user is not staff gets 403 from /tag_groups.json. That does
// not change by asking again, so it is logged once and, like a success,
// not asked again before the TTL.
func TestCacheHiddenTagsForbidden(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	fake := discoursetest.New(t, discoursetest.WithStaff(false))
	clk := newClock()
	cache := discourse.NewCache(fake.Client(), discourse.CacheOptions{TTL: time.Minute, Now: clk.Now, Logger: logs.logger()})
	fake.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated"}, Permissions: map[string]int{"staff": 1}})

	require.Nil(t, cache.HiddenTags(t.Context()))
	require.Nil(t, cache.HiddenTags(t.Context()))
	require.Equal(t, 1, fake.Requests("/tag_groups.json"), "remembered for the TTL")
	clk.Advance(time.Minute)
	require.Nil(t, cache.HiddenTags(t.Context()))
	require.Equal(t, 2, fake.Requests("/tag_groups.json"), "asked again after the TTL: the key's user may have become staff")
	require.Equal(t, 1, strings.Count(logs.String(), "may not read tag groups"), "warned once")
	require.Contains(t, logs.String(), "level=WARN")
}
