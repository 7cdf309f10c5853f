package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// TestDeliveries is the delivery tables' conformance test on both
// databases: deduplicating event inserts, grouped completion, the
// ordering check and the combined work read.
func TestDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		ch := &store.Channel{Provider: "hook", Name: "room", Data: map[string]string{"room": "r1", "url": secretURL}}
		require.NoError(t, s.CreateChannel(ctx, ch))
		require.NoError(t, s.SetChannelError(ctx, ch.ID, &store.ChannelError{Key: "k", Message: "m", At: time.Now()}))

		// Events: a key repeated within one insert and one already stored
		// are skipped.
		evs := []*store.ForumEvent{
			{Kind: "post_created", DedupeKey: "post_created:1", Source: "webhook", TopicID: ptr(int64(10)), PostID: ptr(int64(1)), Payload: `{"a":1}`},
			{Kind: "post_created", DedupeKey: "post_created:2", Source: "webhook", TopicID: ptr(int64(10)), PostID: ptr(int64(2)), Payload: `{"a":2}`},
			{Kind: "post_created", DedupeKey: "post_created:2", Source: "webhook", Payload: `{}`},
		}
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, evs) }))
		require.NotZero(t, evs[0].ID)
		require.NotZero(t, evs[1].ID)
		require.Zero(t, evs[2].ID, "repeated within the insert")
		again := []*store.ForumEvent{{Kind: "post_created", DedupeKey: "post_created:1", Source: "catchup", Payload: `{}`}}
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, again) }))
		require.Zero(t, again[0].ID, "already stored")

		ds := []*store.Delivery{
			{EventID: evs[0].ID, ChannelID: ch.ID, Provider: "hook", Action: store.ActionSend, Filter: "thread", Status: store.StatusQueued, TopicID: ptr(int64(10)), PostID: ptr(int64(1))},
			{EventID: evs[1].ID, ChannelID: ch.ID, Provider: "hook", Action: store.ActionSend, Filter: "thread", Status: store.StatusQueued, TopicID: ptr(int64(10)), PostID: ptr(int64(2))},
		}
		facts, err := s.InsertDeliveries(ctx, ds)
		require.NoError(t, err)
		require.Equal(t, map[int64]store.WorkFacts{ds[0].ID: {}, ds[1].ID: {EarlierPending: true}}, facts,
			"the second waits for the first, inserted by the same statement")

		w, err := s.LoadWork(ctx, ds[1].ID)
		require.NoError(t, err)
		require.Equal(t, `{"a":2}`, w.Payload)
		require.True(t, w.EarlierPending, "the topic's first delivery is unfinished")
		require.Empty(t, w.TopicThread)
		w, err = s.LoadWork(ctx, ds[0].ID)
		require.NoError(t, err)
		require.False(t, w.EarlierPending)

		at := time.Now().UTC().Truncate(time.Millisecond)
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{
				{DeliveryID: ds[0].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 1, TopicID: 10,
					MessageID: "m1", ThreadID: "m1", Extra: `{"c":"C1"}`, ClearChannelError: true},
			}, at)
		}))
		got, err := s.GetDelivery(ctx, ds[0].ID)
		require.NoError(t, err)
		require.Equal(t, store.StatusDelivered, got.Status)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, "m1", *got.RemoteID)
		require.WithinDuration(t, at, *got.DeliveredAt, time.Millisecond)
		c, err := s.GetChannel(ctx, ch.ID)
		require.NoError(t, err)
		require.Nil(t, c.LastError, "a success clears the channel's error")
		pm, err := s.GetPostMessage(ctx, ch.ID, 1)
		require.NoError(t, err)
		require.Equal(t, &store.PostMessage{ChannelID: ch.ID, PostID: 1, MessageID: "m1", ThreadID: "m1", Extra: `{"c":"C1"}`}, pm)

		w, err = s.LoadWork(ctx, ds[1].ID)
		require.NoError(t, err)
		require.False(t, w.EarlierPending)
		require.Equal(t, "m1", w.TopicThread, "the topic's first message is its thread")

		// A later delivery of the topic learns its thread, and that it
		// waits for the unfinished one stored before it; one of another
		// topic does neither.
		evs3 := []*store.ForumEvent{
			{Kind: "post_created", DedupeKey: "post_created:3", Source: "webhook", TopicID: ptr(int64(10)), PostID: ptr(int64(3)), Payload: `{}`},
			{Kind: "post_created", DedupeKey: "post_created:4", Source: "webhook", TopicID: ptr(int64(12)), PostID: ptr(int64(4)), Payload: `{}`},
		}
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, evs3) }))
		later := []*store.Delivery{
			{EventID: evs3[0].ID, ChannelID: ch.ID, Provider: "hook", Action: store.ActionSend, Filter: "thread", Status: store.StatusQueued, TopicID: ptr(int64(10)), PostID: ptr(int64(3))},
			{EventID: evs3[1].ID, ChannelID: ch.ID, Provider: "hook", Action: store.ActionSend, Filter: "thread", Status: store.StatusQueued, TopicID: ptr(int64(12)), PostID: ptr(int64(4))},
		}
		var laterFacts map[int64]store.WorkFacts
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			laterFacts, err = q.InsertDeliveries(ctx, later)
			return err
		}))
		require.Equal(t, map[int64]store.WorkFacts{
			later[0].ID: {EarlierPending: true, TopicThread: "m1"},
			later[1].ID: {},
		}, laterFacts)
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{
				{DeliveryID: later[0].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 3, TopicID: 10},
				{DeliveryID: later[1].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 4, TopicID: 12},
			}, at)
		}))

		// A second group: a reply without ids and a deletion, no CASE arms.
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{
				{DeliveryID: ds[1].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 2, TopicID: 10},
			}, at)
		}))
		got, err = s.GetDelivery(ctx, ds[1].ID)
		require.NoError(t, err)
		require.Equal(t, store.StatusDelivered, got.Status)
		require.Nil(t, got.RemoteID)
		thread, err := s.TopicThread(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Equal(t, "m1", thread)

		// A reply sent into m1 that the platform put into a new thread
		// (its root was deleted) moves the topic to that thread; a reply
		// that stayed in its thread, or a first message, changes nothing.
		complete := func(c store.Completion) {
			t.Helper()
			require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
				return q.CompleteDeliveries(ctx, []store.Completion{c}, at)
			}))
		}
		complete(store.Completion{DeliveryID: ds[1].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 2, TopicID: 10,
			MessageID: "m2", ThreadID: "m1", RepliedTo: "m1"})
		thread, err = s.TopicThread(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Equal(t, "m1", thread)
		complete(store.Completion{DeliveryID: ds[1].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 2, TopicID: 10,
			MessageID: "m3", ThreadID: "m3", RepliedTo: "m1"})
		thread, err = s.TopicThread(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Equal(t, "m3", thread, "the new root replaces the deleted one")
		complete(store.Completion{DeliveryID: ds[1].ID, ChannelID: ch.ID, Action: store.ActionSend, PostID: 2, TopicID: 10,
			MessageID: "m4", ThreadID: "m4", RepliedTo: "m1"})
		thread, err = s.TopicThread(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Equal(t, "m3", thread, "a stale reply does not replace a thread recorded since")

		// Work for several deliveries in one read; a missing id is absent.
		ws, err := s.LoadWorks(ctx, []int64{ds[0].ID, ds[1].ID, ds[1].ID + 1000})
		require.NoError(t, err)
		require.Len(t, ws, 2)
		require.Equal(t, `{"a":1}`, ws[ds[0].ID].Payload)
		require.Equal(t, "m3", ws[ds[1].ID].TopicThread)
		_, err = s.LoadWork(ctx, ds[1].ID+1000)
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{{DeliveryID: ds[0].ID, ChannelID: ch.ID, Action: store.ActionDelete, PostID: 1}}, at)
		}))
		_, err = s.GetPostMessage(ctx, ch.ID, 1)
		require.ErrorIs(t, err, store.ErrNotFound)

		counts, err := s.CountDeliveries(ctx)
		require.NoError(t, err)
		require.Zero(t, counts[store.StatusQueued])
	})
}

// TestTurnCheckUsesThePendingIndex shows that both planners can answer the
// turn check from the partial index of unfinished deliveries. They can
// only when the query states the index's condition literally; were it a
// bound parameter, the check would walk every earlier delivery of the
// channel, which grows with the table.
func TestTurnCheckUsesThePendingIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		query := `SELECT d.id, ` + store.EarlierPendingSQL + ` FROM deliveries d WHERE d.id IN (1, 2, 3)`
		var plan []string
		err := s.InTx(ctx, func(q *store.Queries) error {
			tx, err := q.SQLTx()
			if err != nil {
				return err
			}
			explain := "EXPLAIN QUERY PLAN " + query
			if db.Name == "postgres" {
				// An empty table is cheapest to scan whole; the test asks
				// whether the index is usable, so scans are priced out.
				for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"} {
					if _, err := tx.ExecContext(ctx, set); err != nil {
						return err
					}
				}
				explain = "EXPLAIN " + query
			}
			rows, err := tx.QueryContext(ctx, explain)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			for rows.Next() {
				vals := make([]any, len(cols))
				for i := range vals {
					vals[i] = new(any)
				}
				if err := rows.Scan(vals...); err != nil {
					return err
				}
				line := ""
				for _, v := range vals {
					line += fmt.Sprintf("%s ", *(v.(*any)))
				}
				plan = append(plan, line)
			}
			return rows.Err()
		})
		require.NoError(t, err)
		require.Contains(t, fmt.Sprint(plan), "deliveries_pending_idx", "plan:\n%s", strings.Join(plan, "\n"))
	})
}
