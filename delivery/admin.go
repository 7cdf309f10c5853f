package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// SourceTest marks events made by testChannel.
const SourceTest = "test"

// PostFetcher reads one post from the Discourse API; *discourse.Client
// implements it.
type PostFetcher interface {
	Post(ctx context.Context, id int64) (*discourse.Post, error)
}

// Admin is the delivery side of the admin API: retries, channel tests and
// the live update stream.
type Admin struct {
	Engine *Engine
	Intake *Intake
}

// Retry queues a failed or cancelled delivery again.
func (a *Admin) Retry(ctx context.Context, id int64) (*store.Delivery, error) {
	return a.Engine.Retry(ctx, id)
}

// RetryFailed queues a channel's FAILED deliveries again (Engine.RetryFailed).
func (a *Admin) RetryFailed(ctx context.Context, channelID int64, since time.Time, limit int) ([]*store.Delivery, int, error) {
	return a.Engine.RetryFailed(ctx, channelID, since, limit)
}

// Cancel stops a QUEUED or RETRYING delivery (Engine.Cancel).
func (a *Admin) Cancel(ctx context.Context, id int64) (*store.Delivery, error) {
	return a.Engine.Cancel(ctx, id)
}

// CancelPending cancels a channel's unfinished deliveries (Engine.CancelPending).
func (a *Admin) CancelPending(ctx context.Context, channelID int64, before time.Time, limit int) ([]*store.Delivery, int, error) {
	return a.Engine.CancelPending(ctx, channelID, before, limit)
}

// NotCancellable reports whether err is Cancel refusing a finished delivery.
func (a *Admin) NotCancellable(err error) bool { return errors.Is(err, ErrNotCancellable) }

// NotRetryable reports whether err is Retry refusing the delivery's status.
func (a *Admin) NotRetryable(err error) bool { return errors.Is(err, ErrNotRetryable) }

// Subscribe streams delivery updates.
func (a *Admin) Subscribe(channelID int64) (<-chan *store.Delivery, func()) {
	return a.Engine.Broker().Subscribe(channelID)
}

// TestChannel queues one notification to a channel, whatever its rules:
// the first post of topicID when the Discourse API is configured, else a
// sample post, so an admin can check a channel before any rule exists.
func (a *Admin) TestChannel(ctx context.Context, channelID, topicID int64) (*store.Delivery, error) {
	in := a.Intake
	ch, err := in.opts.Store.GetChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	var n providers.Notification
	if topicID != 0 && in.opts.Topics != nil && in.opts.Posts != nil {
		t, err := in.opts.Topics.Topic(ctx, topicID)
		if err != nil {
			return nil, fmt.Errorf("read topic %d from Discourse: %w", topicID, err)
		}
		if t.PostStreamFirstPostID == 0 {
			return nil, fmt.Errorf("topic %d has no first post the API user can see", topicID)
		}
		p, err := in.opts.Posts.Post(ctx, t.PostStreamFirstPostID)
		if err != nil {
			return nil, fmt.Errorf("read the first post of topic %d: %w", topicID, err)
		}
		site, _ := in.opts.Topics.Site(ctx)
		// A test message is a chat message like any other: no hidden tags.
		hidden := in.opts.Topics.HiddenTags(ctx)
		n = BuildNotification(providers.PostCreated, in.forum(site, hidden, ""), p, factsOf(t))
	} else {
		n = SampleNotification(in.forum(nil, nil, ""), time.Now().UTC())
	}
	payload, err := json.Marshal(&n)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	ev := &store.ForumEvent{Kind: EventPostCreated, Source: SourceTest, Payload: string(payload), Deliveries: 1,
		DedupeKey: "test:" + hex.EncodeToString(nonce)}
	if n.Topic.ID != 0 {
		ev.TopicID, ev.PostID = &n.Topic.ID, &n.Post.ID
	}
	d := &store.Delivery{ChannelID: ch.ID, Provider: ch.Provider, Action: store.ActionSend, Filter: "watch"}
	var local *Local
	err = in.opts.Store.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertEvents(ctx, []*store.ForumEvent{ev}); err != nil {
			return err
		}
		d.EventID = ev.ID
		local, err = a.Engine.Enqueue(ctx, q, []*store.Delivery{d}, map[int64]*providers.Notification{ev.ID: &n})
		return err
	})
	if err != nil {
		a.Engine.Release(local)
		return nil, err
	}
	a.Engine.Queued(d)
	a.Engine.Dispatch(local)
	return d, nil
}

// DefaultCheckTimeout bounds CheckChannel: every platform call of one
// check together.
const DefaultCheckTimeout = 15 * time.Second

// ErrNotCheckable means the channel's provider cannot check a channel
// without posting (it is no providers.ChannelTester).
var ErrNotCheckable = errors.New("cannot be checked without posting")

// NotCheckable reports whether err is CheckChannel refusing a provider
// without the check.
func (a *Admin) NotCheckable(err error) bool { return errors.Is(err, ErrNotCheckable) }

// CheckChannel checks a channel's credentials and reachability without
// posting anything, through its provider's providers.ChannelTester, with
// the target a delivery would use (fresh from the store, not the workers'
// cache, so settings just changed apply) and within DefaultCheckTimeout.
// failure is nil when the check passed, else the classified key
// (providers.ErrorKey) and a secret-free message.
//
// A failed check is not recorded as the channel's lastError, and a passed
// one does not clear it: lastError says what the last delivery met, and a
// check is not a delivery. The caller shows the result instead.
func (a *Admin) CheckChannel(ctx context.Context, channelID int64) (failure *store.ChannelError, err error) {
	e := a.Engine
	ch, err := e.store.GetChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	p, ok := e.opts.Registry.Get(ch.Provider)
	if !ok {
		return nil, fmt.Errorf("provider %q is not built into this server", ch.Provider)
	}
	tester, ok := p.(providers.ChannelTester)
	if !ok {
		return nil, fmt.Errorf("%s channels %w; use testChannel", p.Name(), ErrNotCheckable)
	}
	pc, err := e.store.GetProviderConfig(ctx, ch.Provider)
	if errors.Is(err, store.ErrNotFound) {
		pc, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, DefaultCheckTimeout)
	defer cancel()
	cerr := tester.TestChannel(cctx, newTarget(ch, p, pc))
	if cerr == nil {
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // the caller went away: no result to give
	}
	key := providers.ErrorKey(cerr)
	e.log.InfoContext(ctx, "channel check failed", "channel", ch.ID, "provider", ch.Provider, "key", key, "error", cerr)
	return &store.ChannelError{Key: key, Message: checkMessage(cerr), At: e.now().UTC()}, nil
}

// checkMessage is what a client may see of a failed check: a classified
// error's own message, which providers keep free of secrets and response
// bodies, else a fixed text (the log has the rest).
func checkMessage(err error) string {
	var pe *providers.Error
	switch {
	case errors.As(err, &pe) && pe.Message != "":
		return truncate(pe.Message, 1000)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the check did not finish within %s", DefaultCheckTimeout)
	}
	return "the check failed"
}

// SampleNotification is the made-up post testChannel sends when it cannot
// read a real one.
func SampleNotification(forum ForumInfo, now time.Time) providers.Notification {
	base := forum.BaseURL
	if base == "" {
		base = "https://forum.example.org"
	}
	return providers.Notification{
		Kind:  providers.PostCreated,
		Site:  providers.Site{Title: forum.Title, BaseURL: base},
		Topic: providers.Topic{Title: "Chat Sidecar test message", URL: base},
		Post: providers.Post{Number: 1, Version: 1, URL: base, CreatedAt: now,
			Cooked: "<p>This is a test notification from Chat Sidecar. If you can read it, the channel works.</p>",
			Raw:    "This is a test notification from Chat Sidecar. If you can read it, the channel works."},
		Author: providers.Author{Username: "system", DisplayName: "@system"},
	}
}
