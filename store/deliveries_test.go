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

// TestCancelDeliveries covers what cancelling needs of the store on both
// databases: a channel's unfinished deliveries cancelled oldest first and
// bounded, before leaving newer ones out, finished ones and other
// channels untouched, and SaveOutcome refusing to change a cancelled
// delivery (an attempt's outcome must not undo the cancel).
func TestCancelDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		var chs []*store.Channel
		for i := range 2 {
			ch := &store.Channel{Provider: "hook", Name: fmt.Sprintf("room-%d", i),
				Data: map[string]string{"room": fmt.Sprintf("r%d", i), "url": secretURL}}
			require.NoError(t, s.CreateChannel(ctx, ch))
			chs = append(chs, ch)
		}
		var evs []*store.ForumEvent
		for i := range 5 {
			evs = append(evs, &store.ForumEvent{Kind: "post_created", DedupeKey: fmt.Sprintf("post_created:%d", i),
				Source: "webhook", PostID: ptr(int64(i)), Payload: `{}`})
		}
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, evs) }))
		// Channel 0: queued, retrying, delivered, failed, queued; channel 1: queued.
		statuses := []string{store.StatusQueued, store.StatusRetrying, store.StatusDelivered, store.StatusFailed, store.StatusQueued}
		var ds []*store.Delivery
		for i, st := range statuses {
			ds = append(ds, &store.Delivery{EventID: evs[i].ID, ChannelID: chs[0].ID, Provider: "hook",
				Action: store.ActionSend, Filter: "watch", Status: st, PostID: ptr(int64(i))})
		}
		ds = append(ds, &store.Delivery{EventID: evs[0].ID, ChannelID: chs[1].ID, Provider: "hook",
			Action: store.ActionSend, Filter: "watch", Status: store.StatusQueued, PostID: ptr(int64(0))})
		for _, d := range ds { // one by one, so their created_at differ
			_, err := s.InsertDeliveries(ctx, []*store.Delivery{d})
			require.NoError(t, err)
		}
		next := time.Now().Add(time.Minute)
		ds[1].NextAttemptAt = &next
		require.NoError(t, s.SaveDelivery(ctx, ds[1]))
		last, err := s.GetDelivery(ctx, ds[4].ID)
		require.NoError(t, err)

		count := func(before time.Time) int {
			n, err := s.CountPending(ctx, chs[0].ID, before)
			require.NoError(t, err)
			return n
		}
		require.Equal(t, 3, count(time.Time{}))
		require.Equal(t, 2, count(last.CreatedAt), "before leaves out what was created at or after it")

		var got []*store.Delivery
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			var err error
			got, err = q.CancelPending(ctx, chs[0].ID, last.CreatedAt, 1)
			return err
		}))
		require.Len(t, got, 1)
		require.Equal(t, ds[0].ID, got[0].ID, "oldest first")
		require.NoError(t, s.InTx(ctx, func(q *store.Queries) error {
			var err error
			got, err = q.CancelPending(ctx, chs[0].ID, time.Time{}, 10)
			return err
		}))
		require.Equal(t, []int64{ds[1].ID, ds[4].ID}, []int64{got[0].ID, got[1].ID})
		require.Equal(t, store.StatusCancelled, got[0].Status, "the returned rows say what was stored")
		require.Zero(t, count(time.Time{}))

		want := map[int64]string{ds[0].ID: store.StatusCancelled, ds[1].ID: store.StatusCancelled,
			ds[2].ID: store.StatusDelivered, ds[3].ID: store.StatusFailed, ds[4].ID: store.StatusCancelled,
			ds[5].ID: store.StatusQueued}
		for id, st := range want {
			d, err := s.GetDelivery(ctx, id)
			require.NoError(t, err)
			require.Equal(t, st, d.Status, "delivery %d", id)
			if st == store.StatusCancelled {
				require.Equal(t, store.CancelReason, *d.LastErrorKey)
				require.Nil(t, d.NextAttemptAt, "a cancelled delivery is not due again")
			}
		}

		// A worker's outcome does not undo a cancel; it still saves an
		// unfinished delivery.
		stale := *ds[1]
		stale.Status, stale.Attempts = store.StatusRetrying, 3
		require.ErrorIs(t, s.SaveOutcome(ctx, &stale), store.ErrChanged)
		d, err := s.GetDelivery(ctx, ds[1].ID)
		require.NoError(t, err)
		require.Equal(t, store.StatusCancelled, d.Status)
		require.Zero(t, d.Attempts)
		other := *ds[5]
		other.Status, other.Attempts = store.StatusRetrying, 1
		require.NoError(t, s.SaveOutcome(ctx, &other))
		d, err = s.GetDelivery(ctx, ds[5].ID)
		require.NoError(t, err)
		require.Equal(t, store.StatusRetrying, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.True(t, other.UpdatedAt.Equal(d.UpdatedAt), "the saved copy knows its row's version")
		other.Attempts = 2
		require.NoError(t, s.SaveOutcome(ctx, &other), "a second outcome over the first")
		// Changed by somebody else since (an admin's cancel and retry):
		// the worker's next outcome is refused.
		requeued := *d
		require.NoError(t, s.SaveDelivery(ctx, &requeued))
		other.Attempts = 3
		require.ErrorIs(t, s.SaveOutcome(ctx, &other), store.ErrChanged)
		d, err = s.GetDelivery(ctx, ds[5].ID)
		require.NoError(t, err)
		require.Equal(t, 1, d.Attempts, "what the other writer saved")
	})
}
