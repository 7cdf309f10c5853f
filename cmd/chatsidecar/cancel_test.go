package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/delivery"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// Tests of cancelling deliveries: wherever a delivery waits (parked in the
// process that accepted it, in River's queue, or on a platform call under
// way), a cancelled one is not sent again.

// cancelOne runs cancelDelivery and returns the delivery it answers.
func (s *stack) cancelOne(id int64) deliveryView {
	s.t.Helper()
	var out struct{ CancelDelivery deliveryView }
	s.gql(`mutation($id: ID!) { cancelDelivery(id: $id) { id status attempts lastError { key message } } }`,
		map[string]any{"id": strconv.FormatInt(id, 10)}, &out)
	return out.CancelDelivery
}

// storedOne waits until channel ch has one delivery in status and returns it.
func storedOne(t *testing.T, s *stack, ch, status string) *store.Delivery {
	t.Helper()
	var d *store.Delivery
	require.Eventually(t, func() bool {
		ds := storedDeliveries(t, s.st, ch)
		if len(ds) == 1 && ds[0].Status == status {
			d = ds[0]
		}
		return d != nil
	}, 10*time.Second, 10*time.Millisecond, "a %s delivery in channel %s", status, ch)
	return d
}

// TestE2E_CancelParkedDelivery: a delivery parked in the process after a
// 429 with Retry-After: 5 is cancelled; its held River job goes at once
// (nothing is left to send it), it stays CANCELLED with the reason, and
// retryDelivery queues it again and sends it. A finished delivery cannot
// be cancelled.
func TestE2E_CancelParkedDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("cancel-parked", "WATCH", 91)
		updates := subscribeWS(t, s.url, s.key, ch)
		require.Eventually(t, func() bool { return s.app.engine.Broker().Subscribers() == 1 },
			10*time.Second, 5*time.Millisecond, "the subscription is registered before the 429")
		s.slack.rateLimit(1, "5")
		code, body := s.webhook("post_created",
			discoursetest.PostPayload(post(2301, 2400, 1, 91, "never mind")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		d := storedOne(t, s, ch, store.StatusRetrying)

		got := s.cancelOne(d.ID)
		require.Equal(t, "CANCELLED", got.Status)
		require.NotNil(t, got.LastError)
		require.Equal(t, store.CancelReason, got.LastError.Key)
		require.Zero(t, got.Attempts, "the 429 spent no attempt")
		require.Eventually(t, func() bool { return len(jobsOf(t, s.st, d.ID)) == 0 },
			10*time.Second, 10*time.Millisecond, "the held job is deleted: nothing will send it")
		limited := s.slack.callTimes()
		require.Len(t, limited, 1)
		require.Less(t, time.Since(limited[0]), 5*time.Second, "the parked task was taken out, not left to wake")
		seen := statusesUntil(t, updates, "CANCELLED")
		require.Equal(t, []string{"RETRYING", "CANCELLED"}, seen[max(0, len(seen)-2):], "subscribers see the cancel")
		require.Equal(t, "CANCELLED", s.deliveries(ch)[0].Status)

		var retried struct{ RetryDelivery deliveryView }
		s.gql(`mutation($id: ID!) { retryDelivery(id: $id) { status } }`, map[string]any{"id": got.ID}, &retried)
		require.Equal(t, "QUEUED", retried.RetryDelivery.Status)
		ds := s.waitDeliveries(ch, 1)
		require.Equal(t, "DELIVERED", ds[0].Status)
		require.Len(t, s.slack.sent(), 1)

		s.requireError(`mutation($id: ID!) { cancelDelivery(id: $id) { id } }`, map[string]any{"id": got.ID}, "BAD_USER_INPUT", "id")
		s.requireError(`mutation($id: ID!) { cancelDelivery(id: $id) { id } }`, map[string]any{"id": "999999"}, "NOT_FOUND", "")
		s.requireError(`mutation($id: ID!) { cancelDelivery(id: $id) { id } }`, map[string]any{"id": "x"}, "BAD_USER_INPUT", "id")
	})
}

// TestE2E_CancelOnAnotherReplica runs two servers on one PostgreSQL. A
// accepts the webhooks and sends the deliveries itself; B cancels them.
// A hears of it through the broker (LISTEN/NOTIFY) and sends nothing:
//   - a delivery parked in A after a 429 with Retry-After: 3 is taken out
//     at once (its held job deleted); B then retries it, and the retry's
//     job sends it once, not A's parked task as well;
//   - a delivery waiting in A for Slack's one message a second per
//     channel (made 1.9 s here), behind a post sent just before, stops
//     when the wait is over.
func TestE2E_CancelOnAnotherReplica(t *testing.T) {
	t.Parallel()
	db, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("replicas share their updates only on PostgreSQL")
	}
	// A's paced post waits in place for its slot, and checks for a cancel
	// only when the wait is over: 1.9 s (under the 2 s a worker waits in
	// place) rather than Slack's 1 s leaves time for the test to see the
	// first post delivered and for B's cancel to reach A.
	slowPace := func(o *delivery.Options) {
		fastRetries(o)
		o.Limits = func(string) time.Duration { return 1900 * time.Millisecond }
	}
	a := newStack(t, db, stackOptions{tweak: slowPace})
	b := newStack(t, db, stackOptions{})
	ch := a.slackChannel("replicas", "WATCH", 99)
	b.slack = a.slack

	a.slack.rateLimit(1, "3")
	code, body := a.webhook("post_created", discoursetest.PostPayload(post(2360, 2460, 1, 99, "parked in A")), webhookSecret)
	require.Equal(t, http.StatusOK, code, body)
	parked := storedOne(t, a, ch, store.StatusRetrying)
	limited := a.slack.callTimes()[0]
	require.Equal(t, "CANCELLED", b.cancelOne(parked.ID).Status)
	require.Eventually(t, func() bool { return len(jobsOf(t, a.st, parked.ID)) == 0 },
		10*time.Second, 10*time.Millisecond, "A took its parked task out and deleted the held job")
	require.Less(t, time.Since(limited), 3*time.Second, "before the park would have ended")
	b.gql(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, map[string]any{"id": strconv.FormatInt(parked.ID, 10)}, nil)
	require.Equal(t, "DELIVERED", a.waitDeliveries(ch, 1)[0].Status)
	require.Eventually(t, func() bool {
		jobs := jobsOf(t, a.st, parked.ID)
		return len(jobs) == 1 && jobs[0].State == "completed"
	}, 10*time.Second, 10*time.Millisecond, "the retry's job ran")
	require.Len(t, a.slack.sent(), 1, "sent once, by the retry")

	// Two posts in a row: A sends the first at once, and the second waits
	// 1.9 s for the channel's next slot (A's own pace).
	calls := len(a.slack.callTimes())
	for i := range int64(2) {
		code, body = a.webhook("post_created", discoursetest.PostPayload(post(2361+i, 2461+i, 1, 99, "in a row")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
	}
	// Either may take the first slot.
	var first, paced *store.Delivery
	require.Eventually(t, func() bool {
		first, paced = nil, nil
		for _, d := range storedDeliveries(t, a.st, ch)[:2] {
			switch d.Status {
			case store.StatusDelivered:
				first = d
			case store.StatusQueued:
				paced = d
			}
		}
		return first != nil && paced != nil
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "CANCELLED", b.cancelOne(paced.ID).Status)
	require.Eventually(t, func() bool { return len(jobsOf(t, a.st, paced.ID)) == 0 },
		10*time.Second, 10*time.Millisecond, "A's worker woke, saw the cancel and settled")
	require.Len(t, a.slack.callTimes(), calls+1, "the paced post was not sent")
	got := map[int64]string{}
	for _, d := range storedDeliveries(t, a.st, ch) {
		got[d.ID] = d.Status
	}
	require.Equal(t, store.StatusDelivered, got[first.ID])
	require.Equal(t, store.StatusCancelled, got[paced.ID])
}

// TestE2E_CancelDuringAnAttempt: a delivery is cancelled while its message
// is on its way to Slack (the fake holds the call).
//   - Slack answers 500: the failed attempt does not bring the delivery
//     back; it stays CANCELLED, its job is gone and Slack gets no second
//     call.
//   - Slack answers ok: the message went out, and the delivery says so:
//     DELIVERED.
//   - The admin cancels and then retries it before Slack answers 500: the
//     retry's job sends it, and the failed attempt, made before the retry,
//     is not recorded over it (one attempt counted, one job).
func TestE2E_CancelDuringAnAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		// fastRetries: a retry would come within 50 ms. A short lease:
		// the retry's job waits one while this process holds the delivery.
		s := newStack(t, db, stackOptions{env: map[string]string{"CHATSIDECAR_DELIVERY_LEASE": "2s"}})
		for i, c := range []struct{ answer, then, want string }{
			{"500", "", "CANCELLED"},
			{"ok", "", "DELIVERED"},
			{"500", "retry", "DELIVERED"},
		} {
			ch := s.slackChannel(fmt.Sprintf("cancel-in-flight-%d", i), "WATCH", 92+i)
			h := s.slack.holdNext()
			if c.answer == "500" {
				s.slack.fail(1, func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
			}
			code, body := s.webhook("post_created",
				discoursetest.PostPayload(post(int64(2310+i), int64(2410+i), 1, int64(92+i), "in flight")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
			<-h.arrived
			d := storedOne(t, s, ch, store.StatusQueued)
			require.Equal(t, "CANCELLED", s.cancelOne(d.ID).Status)
			if c.then == "retry" {
				s.gql(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, map[string]any{"id": strconv.FormatInt(d.ID, 10)}, nil)
			}
			close(h.release)

			if c.then == "retry" {
				require.Eventually(t, func() bool {
					jobs := jobsOf(t, s.st, d.ID)
					return len(jobs) == 1 && jobs[0].State == "completed"
				}, 10*time.Second, 10*time.Millisecond, "only the retry's job, which River ran")
			} else {
				// The attempt's outcome deletes the held job either way
				// (DELIVERED in the transaction that records it); a
				// handed-over job would stay (River keeps completed ones).
				require.Eventually(t, func() bool { return len(jobsOf(t, s.st, d.ID)) == 0 },
					10*time.Second, 10*time.Millisecond, "the job of delivery %d", d.ID)
			}
			ds := s.waitDeliveries(ch, 1)
			require.Equal(t, c.want, ds[0].Status, "case %d", i)
			if c.then == "retry" {
				require.Equal(t, 1, ds[0].Attempts, "the retry's attempt; the one before it is not counted")
			} else if c.answer == "500" {
				require.Equal(t, store.CancelReason, ds[0].LastError.Key)
			}
		}
		require.Len(t, s.slack.callTimes(), 4, "one call per delivery, and the retry's: the failed ones were not retried")
		require.Len(t, s.slack.sent(), 2)
	})
}

// runJobsNow makes River jobs due at once, as if their time had come.
func runJobsNow(t *testing.T, db storetest.DB, st *store.Store, ids []int64) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		var err error
		if db.Name == "postgres" {
			c, cerr := river.NewClient(riverdatabasesql.New(st.DB()), &river.Config{})
			require.NoError(t, cerr)
			_, err = c.JobRetry(ctx, id)
		} else {
			c, cerr := river.NewClient(riversqlite.New(st.DB()), &river.Config{})
			require.NoError(t, cerr)
			_, err = c.JobRetry(ctx, id)
		}
		require.NoError(t, err)
	}
}

// TestE2E_CancelDeliveriesOfAChannel: a 429 with Retry-After: 120 pauses a
// channel, and its four deliveries wait in River's queue for two minutes.
// cancelDeliveries cancels them oldest first, in bounded calls, leaving
// out those created at or after before; when River's jobs then run, they
// find their deliveries cancelled and send nothing.
func TestE2E_CancelDeliveriesOfAChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("flooded", "WATCH", 95)
		other := s.slackChannel("quiet", "WATCH", 96)
		s.slack.rateLimit(1, "120")
		send := func(postID, topicID, cat int64) {
			code, body := s.webhook("post_created", discoursetest.PostPayload(post(postID, topicID, 1, cat, "flood")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
		}
		send(2320, 2420, 95)
		storedOne(t, s, ch, store.StatusRetrying) // the channel is paused now
		for i := range int64(3) {
			send(2321+i, 2421+i, 95)
		}
		send(2330, 2430, 96)
		s.waitDeliveries(other, 1)

		// All four wait in River's queue for the pause to end.
		var ids []int64
		require.Eventually(t, func() bool {
			ids = ids[:0]
			for _, d := range storedDeliveries(t, s.st, ch) {
				jobs := jobsOf(t, s.st, d.ID)
				if len(jobs) != 1 || time.Until(scheduledAt(t, s.st, jobs[0].ID)) < time.Minute {
					return false
				}
				ids = append(ids, jobs[0].ID)
			}
			return len(ids) == 4
		}, 10*time.Second, 20*time.Millisecond)
		ds := storedDeliveries(t, s.st, ch) // newest first
		oldest, newest := ds[3], ds[0]

		type result struct {
			CancelDeliveries struct {
				Deliveries []deliveryView
				Remaining  int
			}
		}
		cancel := func(vars map[string]any) result {
			var r result
			s.gql(`mutation($c: ID!, $before: Time, $limit: Int) {
				cancelDeliveries(channelId: $c, before: $before, limit: $limit) { deliveries { id status } remaining } }`, vars, &r)
			return r
		}
		r := cancel(map[string]any{"c": ch, "before": newest.CreatedAt, "limit": 2})
		require.Len(t, r.CancelDeliveries.Deliveries, 2)
		require.Equal(t, strconv.FormatInt(oldest.ID, 10), r.CancelDeliveries.Deliveries[0].ID, "oldest first")
		require.Equal(t, "CANCELLED", r.CancelDeliveries.Deliveries[0].Status)
		require.Equal(t, 1, r.CancelDeliveries.Remaining, "the newest is not counted: it is not before before")
		r = cancel(map[string]any{"c": ch})
		require.Len(t, r.CancelDeliveries.Deliveries, 2)
		require.Equal(t, strconv.FormatInt(newest.ID, 10), r.CancelDeliveries.Deliveries[1].ID)
		require.Zero(t, r.CancelDeliveries.Remaining)
		r = cancel(map[string]any{"c": ch})
		require.Empty(t, r.CancelDeliveries.Deliveries, "nothing left to cancel")

		runJobsNow(t, db, s.st, ids)
		require.Eventually(t, func() bool {
			for _, id := range ids {
				if jobState(t, s.st, id) != "completed" {
					return false
				}
			}
			return true
		}, 20*time.Second, 20*time.Millisecond, "River runs the jobs")
		for _, d := range s.deliveries(ch) {
			require.Equal(t, "CANCELLED", d.Status)
		}
		require.Len(t, s.slack.callTimes(), 2, "the 429 and the other channel's message: nothing cancelled was sent")
		require.Equal(t, "DELIVERED", s.deliveries(other)[0].Status, "other channels are not touched")

		s.requireBatchInputErrors("cancelDeliveries", ch)
	})
}
