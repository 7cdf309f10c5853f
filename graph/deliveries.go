package graph

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/graph/model"
	"github.com/chatsidecar/chatsidecar/store"
)

// Deliveries is the delivery engine as the API needs it; main wires
// *delivery.Admin. Nil leaves the delivery operations unavailable.
type Deliveries interface {
	// Retry queues a FAILED or CANCELLED delivery again; other statuses
	// return an error satisfying errors.Is(err, ErrNotRetryable).
	Retry(ctx context.Context, id int64) (*store.Delivery, error)
	// RetryFailed queues up to limit FAILED deliveries of a channel
	// created at or after since (zero: any time) again, oldest first, and
	// returns them and how many FAILED ones are left.
	RetryFailed(ctx context.Context, channelID int64, since time.Time, limit int) (queued []*store.Delivery, remaining int, err error)
	// Cancel stops a QUEUED or RETRYING delivery; a finished one returns
	// an error satisfying NotCancellable.
	Cancel(ctx context.Context, id int64) (*store.Delivery, error)
	// CancelPending cancels up to limit unfinished deliveries of a
	// channel created before before (zero: any time), oldest first, and
	// returns them and how many unfinished ones are left.
	CancelPending(ctx context.Context, channelID int64, before time.Time, limit int) (cancelled []*store.Delivery, remaining int, err error)
	// NotCancellable reports whether err means the delivery is finished.
	NotCancellable(err error) bool
	// TestChannel queues a notification to one channel, bypassing rules.
	TestChannel(ctx context.Context, channelID, topicID int64) (*store.Delivery, error)
	// Subscribe streams delivery updates of one channel (0: all) until
	// cancel is called.
	Subscribe(channelID int64) (updates <-chan *store.Delivery, cancel func())
	// NotRetryable reports whether err means the delivery is in a status
	// that cannot be retried.
	NotRetryable(err error) bool
	// CheckChannel checks a channel's credentials and reachability
	// without posting or recording anything; failure is nil when the
	// check passed. A provider without the check returns an error
	// satisfying NotCheckable.
	CheckChannel(ctx context.Context, channelID int64) (failure *store.ChannelError, err error)
	// NotCheckable reports whether err means the channel's provider
	// cannot check a channel without posting.
	NotCheckable(err error) bool
}

var errNoDeliveries = errors.New("the delivery engine is not running in this process")

func deliveryModel(d *store.Delivery) *model.Delivery {
	m := &model.Delivery{
		ID:            formatID(d.ID),
		ChannelID:     formatID(d.ChannelID),
		EventID:       formatID(d.EventID),
		Action:        model.DeliveryAction(strings.ToUpper(d.Action)),
		Filter:        d.Filter,
		Status:        model.DeliveryStatus(d.Status),
		Attempts:      d.Attempts,
		RemoteID:      d.RemoteID,
		ThreadID:      d.ThreadID,
		NextAttemptAt: d.NextAttemptAt,
		CreatedAt:     d.CreatedAt,
		UpdatedAt:     d.UpdatedAt,
		DeliveredAt:   d.DeliveredAt,
	}
	if d.RuleID != nil {
		id := formatID(*d.RuleID)
		m.RuleID = &id
	}
	if d.LastErrorKey != nil {
		m.LastError = &model.DeliveryError{Key: *d.LastErrorKey}
		if d.LastErrorMessage != nil {
			m.LastError.Message = *d.LastErrorMessage
		}
	}
	return m
}

func eventModel(e *store.ForumEvent) *model.ForumEvent {
	m := &model.ForumEvent{ID: formatID(e.ID), Kind: e.Kind, Source: e.Source, Deliveries: e.Deliveries, CreatedAt: e.CreatedAt}
	if e.TopicID != nil {
		id := formatID(*e.TopicID)
		m.TopicID = &id
	}
	if e.PostID != nil {
		id := formatID(*e.PostID)
		m.PostID = &id
	}
	return m
}

// listDeliveries pages deliveries newest first; the cursor is the last id
// seen.
// maxRetryFailed is the schema's bound on retryFailedDeliveries(limit):
// one transaction and one answer stay small.
const maxRetryFailed = 1000

// maxCancelPending is the schema's bound on cancelDeliveries(limit).
const maxCancelPending = 1000

// channelBatch is the checked arguments of a mutation over a channel's
// deliveries: the channel, a bound of 1 to most (default 100) and a time
// (zero when not given).
func channelBatch(channelID string, limit *int, most int, at *time.Time) (id int64, n int, t time.Time, err error) {
	if id, err = parseID("channelId", channelID); err != nil {
		return 0, 0, t, err
	}
	n = 100
	if limit != nil {
		n = *limit
	}
	if n < 1 || n > most {
		return 0, 0, t, inputError("limit", "must be between 1 and %d", most)
	}
	if at != nil {
		t = *at
	}
	return id, n, t, nil
}

func deliveryModels(ds []*store.Delivery) []*model.Delivery {
	out := make([]*model.Delivery, len(ds))
	for i, d := range ds {
		out[i] = deliveryModel(d)
	}
	return out
}

// retryFailed is retryFailedDeliveries: it checks the arguments and hands
// over to the engine; a channel that does not exist is NOT_FOUND.
func (r *Resolver) retryFailed(ctx context.Context, channelID string, since *time.Time, limit *int) (*model.RetryFailedResult, error) {
	id, n, from, err := channelBatch(channelID, limit, maxRetryFailed, since)
	if err != nil {
		return nil, err
	}
	ds, left, err := r.deliveries.RetryFailed(ctx, id, from, n)
	if err != nil {
		return nil, err
	}
	return &model.RetryFailedResult{Deliveries: deliveryModels(ds), Remaining: left}, nil
}

// cancelPending is cancelDeliveries, as retryFailed is
// retryFailedDeliveries.
func (r *Resolver) cancelPending(ctx context.Context, channelID string, before *time.Time, limit *int) (*model.CancelDeliveriesResult, error) {
	id, n, until, err := channelBatch(channelID, limit, maxCancelPending, before)
	if err != nil {
		return nil, err
	}
	ds, left, err := r.deliveries.CancelPending(ctx, id, until, n)
	if err != nil {
		return nil, err
	}
	return &model.CancelDeliveriesResult{Deliveries: deliveryModels(ds), Remaining: left}, nil
}

func (r *Resolver) listDeliveries(ctx context.Context, filter *model.DeliveryFilter, first *int, after *string) (*model.DeliveryConnection, error) {
	limit, beforeID, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	f := store.DeliveryFilter{Limit: limit + 1, BeforeID: beforeID}
	if filter != nil {
		if filter.ChannelID != nil {
			if f.ChannelID, err = parseID("filter.channelId", *filter.ChannelID); err != nil {
				return nil, err
			}
		}
		if filter.EventID != nil {
			if f.EventID, err = parseID("filter.eventId", *filter.EventID); err != nil {
				return nil, err
			}
		}
		if filter.Status != nil {
			if !filter.Status.IsValid() {
				return nil, inputError("filter.status", "unknown status %q", *filter.Status)
			}
			f.Status = string(*filter.Status)
		}
	}
	var ds []*store.Delivery
	if limit > 0 {
		if ds, err = r.store.ListDeliveries(ctx, f); err != nil {
			return nil, err
		}
	}
	ds, cursors, info := page(ds, limit, beforeID, func(d *store.Delivery) int64 { return d.ID })
	conn := &model.DeliveryConnection{Edges: make([]*model.DeliveryEdge, len(ds)), PageInfo: info}
	for i, d := range ds {
		conn.Edges[i] = &model.DeliveryEdge{Node: deliveryModel(d), Cursor: cursors[i]}
	}
	return conn, nil
}

// subscribeDeliveries adapts the engine's updates to the API type. The
// stream ends when the client goes away.
func (r *Resolver) subscribeDeliveries(ctx context.Context, channelID *string) (<-chan *model.Delivery, error) {
	if r.deliveries == nil {
		return nil, errNoDeliveries
	}
	var cid int64
	if channelID != nil {
		var err error
		if cid, err = parseID("channelId", *channelID); err != nil {
			return nil, err
		}
		if _, err := r.store.GetChannel(ctx, cid); err != nil {
			return nil, err
		}
	}
	updates, cancel := r.deliveries.Subscribe(cid)
	out := make(chan *model.Delivery, 1)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case d := <-updates:
				select {
				case out <- deliveryModel(d):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// listEvents pages forum events newest first; the cursor is the last id
// seen.
func (r *Resolver) listEvents(ctx context.Context, filter *model.ForumEventFilter, first *int, after *string) (*model.ForumEventConnection, error) {
	limit, beforeID, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	f := store.EventFilter{Limit: limit + 1, BeforeID: beforeID}
	if filter != nil {
		if filter.Kind != nil {
			f.Kind = *filter.Kind
		}
		if filter.Source != nil {
			f.Source = *filter.Source
		}
		if filter.TopicID != nil {
			if f.TopicID, err = parseID("filter.topicId", *filter.TopicID); err != nil {
				return nil, err
			}
		}
		if filter.PostID != nil {
			if f.PostID, err = parseID("filter.postId", *filter.PostID); err != nil {
				return nil, err
			}
		}
	}
	var evs []*store.ForumEvent
	if limit > 0 {
		if evs, err = r.store.ListEvents(ctx, f); err != nil {
			return nil, err
		}
	}
	evs, cursors, info := page(evs, limit, beforeID, func(e *store.ForumEvent) int64 { return e.ID })
	conn := &model.ForumEventConnection{Edges: make([]*model.ForumEventEdge, len(evs)), PageInfo: info}
	for i, e := range evs {
		conn.Edges[i] = &model.ForumEventEdge{Node: eventModel(e), Cursor: cursors[i]}
	}
	return conn, nil
}
