package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestPruneEvents: events older than the cutoff whose deliveries all
// finished go, with their deliveries; an old event with a delivery still
// queued stays, and so do recent events and the post→message map that
// later edits of old posts need. Batches walk the events in id order and
// stop at the first recent one.
func TestPruneEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		ch := &store.Channel{Provider: "hook", Name: "room", Data: map[string]string{"room": "r1", "url": secretURL}}
		require.NoError(t, s.CreateChannel(ctx, ch))

		now := time.Now().UTC()
		old, recent := now.Add(-40*24*time.Hour), now.Add(-time.Hour)
		event := func(post int64, at time.Time) *store.ForumEvent {
			return &store.ForumEvent{Kind: "post_created", DedupeKey: fmt.Sprint("post_created:", post), Source: "webhook",
				TopicID: ptr(int64(10)), PostID: ptr(post), Payload: `{}`, CreatedAt: at}
		}
		finished, waiting, silent, fresh := event(1, old), event(2, old), event(3, old), event(4, recent)
		evs := []*store.ForumEvent{finished, waiting, silent, fresh}
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, evs) }))
		delivery := func(ev *store.ForumEvent, status string) *store.Delivery {
			return &store.Delivery{EventID: ev.ID, ChannelID: ch.ID, Provider: "hook", Action: store.ActionSend,
				Filter: "watch", Status: status, TopicID: ev.TopicID, PostID: ev.PostID}
		}
		delivered, queued, recentDone := delivery(finished, store.StatusDelivered), delivery(waiting, store.StatusQueued), delivery(fresh, store.StatusDelivered)
		_, err := s.InsertDeliveries(ctx, []*store.Delivery{delivered, queued, recentDone})
		require.NoError(t, err)
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{{DeliveryID: delivered.ID, ChannelID: ch.ID,
				Action: store.ActionSend, PostID: 1, TopicID: 10, MessageID: "m1"}}, old)
		}))

		cutoff := now.Add(-30 * 24 * time.Hour)
		last, n, err := s.PruneEvents(ctx, cutoff, 0, 2)
		require.NoError(t, err)
		require.Equal(t, waiting.ID, last, "the batch of two ends at the second event")
		require.Equal(t, 1, n, "the event whose delivery is queued stays")
		last, n, err = s.PruneEvents(ctx, cutoff, last, 2)
		require.NoError(t, err)
		require.Equal(t, silent.ID, last, "the scan stops at the first recent event")
		require.Equal(t, 1, n, "an old event that matched no channel goes too")
		last, n, err = s.PruneEvents(ctx, cutoff, last, 2)
		require.NoError(t, err)
		require.Zero(t, last, "nothing old is left above the cursor")
		require.Zero(t, n)

		for _, gone := range []*store.ForumEvent{finished, silent} {
			_, err := s.GetEvent(ctx, gone.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		for _, kept := range []*store.ForumEvent{waiting, fresh} {
			_, err := s.GetEvent(ctx, kept.ID)
			require.NoError(t, err)
		}
		_, err = s.GetDelivery(ctx, delivered.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "the deliveries go with their event")
		for _, kept := range []*store.Delivery{queued, recentDone} {
			_, err := s.GetDelivery(ctx, kept.ID)
			require.NoError(t, err)
		}
		pm, err := s.GetPostMessage(ctx, ch.ID, 1)
		require.NoError(t, err)
		require.Equal(t, "m1", pm.MessageID, "the chat message of an old post can still be edited")

		// Once the waiting delivery finishes, a later run prunes its event.
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{{DeliveryID: queued.ID, ChannelID: ch.ID,
				Action: store.ActionSend, PostID: 2, TopicID: 10, MessageID: "m2"}}, now)
		}))
		_, n, err = s.PruneEvents(ctx, cutoff, 0, 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = s.GetEvent(ctx, waiting.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
