package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// Tests of local dispatch: a process sends the deliveries it accepted
// itself, and the River job of each one only stands by (scheduled one
// lease ahead) in case the process dies.

// queueJob is a row of River's river_job table for a delivery job.
type queueJob struct {
	ID         int64
	State      string
	Attempt    int
	DeliveryID int64
	Prior      int
	// Fetched says a River worker took the job (attempted_at is set; a
	// snooze does not clear it).
	Fetched bool
	// ScheduledAt is scheduled_at as the database prints it.
	ScheduledAt string
}

// deliveryJobs reads the delivery jobs in river_job with plain SQL.
func deliveryJobs(t *testing.T, st *store.Store) []queueJob {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(),
		`SELECT id, state, attempt, args, attempted_at IS NOT NULL, CAST(scheduled_at AS TEXT) FROM river_job
		WHERE kind = 'chatsidecar.delivery' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []queueJob
	for rows.Next() {
		var j queueJob
		var args []byte
		require.NoError(t, rows.Scan(&j.ID, &j.State, &j.Attempt, &args, &j.Fetched, &j.ScheduledAt))
		var a struct {
			DeliveryID int64 `json:"delivery_id"`
			Prior      int   `json:"prior"`
		}
		require.NoError(t, json.Unmarshal(args, &a), "args %s", args)
		j.DeliveryID, j.Prior = a.DeliveryID, a.Prior
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// jobsOf returns the delivery jobs of one delivery.
func jobsOf(t *testing.T, st *store.Store, deliveryID int64) []queueJob {
	t.Helper()
	var out []queueJob
	for _, j := range deliveryJobs(t, st) {
		if j.DeliveryID == deliveryID {
			out = append(out, j)
		}
	}
	return out
}

// postAndSettle sends a post_created webhook for p to s, waits until the
// one delivery it causes in channel ch has ended, and returns it as stored.
func postAndSettle(s *stack, ch string, p discourse.Post) *store.Delivery {
	s.t.Helper()
	code, body := s.webhook("post_created", discoursetest.PostPayload(p), webhookSecret)
	require.Equal(s.t, http.StatusOK, code, body)
	s.waitDeliveries(ch, 1)
	ds := storedDeliveries(s.t, s.st, ch)
	require.Len(s.t, ds, 1)
	return ds[0]
}

// storedDeliveries lists a channel's deliveries from the store, newest first.
func storedDeliveries(t *testing.T, st *store.Store, channelID string) []*store.Delivery {
	t.Helper()
	id, err := strconv.ParseInt(channelID, 10, 64)
	require.NoError(t, err)
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{ChannelID: id})
	require.NoError(t, err)
	return ds
}

// slackSink is a Slack Web API whose chat.postMessage the test controls:
// every call is counted as it arrives, and a call the test holds is
// answered only when released (or never, if its client goes away).
type slackSink struct {
	*httptest.Server
	// arrived gets the 0-based number of each chat.postMessage call.
	arrived chan int
	// holdFirst, when not nil, holds the first call until it is closed.
	holdFirst chan struct{}

	mu       sync.Mutex
	received int // chat.postMessage calls that reached the sink
	answered int // calls answered with ok: a message posted
}

func newSlackSink(t *testing.T, holdFirst chan struct{}) *slackSink {
	f := &slackSink{arrived: make(chan int, 100), holdFirst: holdFirst}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		// A held call whose client is still connected is let go first:
		// Close waits for every handler.
		f.mu.Lock()
		if f.holdFirst != nil {
			select {
			case <-f.holdFirst:
			default:
				close(f.holdFirst)
			}
		}
		f.mu.Unlock()
		f.Close()
	})
	return f
}

func (f *slackSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/chat.postMessage" {
		writeSlack(w, map[string]any{"ok": true})
		return
	}
	f.mu.Lock()
	n := f.received
	f.received++
	hold := f.holdFirst
	f.mu.Unlock()
	f.arrived <- n
	if n == 0 && hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			// The sender gave up (killed, or its send cancelled): this
			// call never answers.
			panic(http.ErrAbortHandler)
		}
	}
	f.mu.Lock()
	f.answered++
	ts := fmt.Sprintf("1700000000.%06d", f.answered)
	f.mu.Unlock()
	writeSlack(w, map[string]any{"ok": true, "channel": "C0123", "ts": ts})
}

func (f *slackSink) counts() (received, answered int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received, f.answered
}

// waitArrival waits for the sink's next chat.postMessage call.
func (f *slackSink) waitArrival(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case n := <-f.arrived:
		return n
	case <-time.After(timeout):
		t.Fatal("no chat.postMessage call reached the sink")
		return -1
	}
}

// sinkChannel points the Slack provider at url and creates a channel
// watching category cat; it returns the channel id.
func sinkChannel(s *stack, url, name string, cat int) string {
	s.t.Helper()
	s.gql(`mutation($s: JSON!) { configureProvider(input: {id: "slack", enabled: true, settings: $s}) { id } }`,
		map[string]any{"s": map[string]any{"access_token": "xoxb-e2e-token", "api_base_url": url}}, nil)
	var out struct{ CreateChannel struct{ ID string } }
	s.gql(`mutation($d: JSON!, $n: String!) { createChannel(input: {provider: "slack", name: $n, data: $d}) { id } }`,
		map[string]any{"n": name, "d": map[string]any{"identifier": "#" + name}}, &out)
	s.rule(out.CreateChannel.ID, "WATCH", cat)
	return out.CreateChannel.ID
}

// TestE2E_LocalDispatchDeletesQueueJobsWithTheOutcome: deliveries accepted
// by a process with workers are sent by its local workers, and the
// transaction that records each DELIVERED deletes its River job. River
// keeps the jobs it completes (an hour), so an empty river_job shows that
// no delivery went through River's fetch and completion, and that none
// is left standing by to run again after its lease.
func TestE2E_LocalDispatchDeletesQueueJobsWithTheOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		// Two channels per post, each channel with one message, so no
		// delivery waits for a channel's rate limit (a long wait would
		// hand it over to River).
		const posts = 4
		var channels []string
		for i := range posts {
			cat := 41 + i
			channels = append(channels,
				s.slackChannel(fmt.Sprintf("local-%d-a", i), "WATCH", cat),
				s.slackChannel(fmt.Sprintf("local-%d-b", i), "WATCH", cat))
			code, body := s.webhook("post_created",
				discoursetest.PostPayload(post(int64(1100+i), int64(1200+i), 1, int64(cat), "sent locally")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, `"deliveries":2`)
		}
		var ids []int64
		for _, ch := range channels {
			s.waitDeliveries(ch, 1)
			for _, d := range storedDeliveries(t, s.st, ch) {
				require.Equal(t, store.StatusDelivered, d.Status, "delivery %d", d.ID)
				require.Equal(t, 1, d.Attempts, "delivery %d", d.ID)
				ids = append(ids, d.ID)
			}
		}
		require.Len(t, ids, 2*posts)
		require.Len(t, s.slack.sent(), 2*posts)
		// Deleted in the transaction that recorded DELIVERED, so there is
		// nothing to wait for.
		for _, id := range ids {
			require.Empty(t, jobsOf(t, s.st, id), "delivery %d still has a queue job", id)
		}
	})
}

// TestE2E_LocalAttemptFailingTransientlyIsHandedToTheQueue: the local
// attempt gets a 500, so the delivery is handed over to River: its held
// job is replaced by one that carries the attempt already made (prior 1).
// River's job sends it on its first run; the delivery ends DELIVERED
// after two attempts, with one message in chat, and the only job left is
// River's completed one.
func TestE2E_LocalAttemptFailingTransientlyIsHandedToTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{}) // fastRetries: a 10 ms backoff
		ch := s.slackChannel("handed-over", "WATCH", 51)
		s.slack.fail(1, func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
		d := postAndSettle(s, ch, post(1301, 1400, 1, 51, "second try"))
		require.Equal(t, store.StatusDelivered, d.Status)
		require.Equal(t, 2, d.Attempts, "the local attempt and River's")
		require.Len(t, s.slack.callTimes(), 2)
		require.Len(t, s.slack.sent(), 1, "one message reached chat")

		// River marks its job completed just after the delivery is
		// recorded.
		var jobs []queueJob
		require.Eventually(t, func() bool {
			jobs = jobsOf(t, s.st, d.ID)
			return len(jobs) == 1 && jobs[0].State == "completed"
		}, 10*time.Second, 20*time.Millisecond, "jobs of delivery %d: %+v", d.ID, jobs)
		require.Equal(t, 1, jobs[0].Prior, "the job handed over carries the local attempt")
		require.Equal(t, 1, jobs[0].Attempt, "River sent it on the job's first run")
	})
}

// TestE2E_RenewedLeaseKeepsASlowDeliveryFromOtherReplicas runs two
// servers on one database with a 3 s lease. The first accepts a webhook
// and sends the delivery itself to a sink that holds the call. The sink
// answers only after the held job was replaced by a later one at least
// twice (the lease renewed) and after a River worker has run a probe job
// scheduled when the first lease ended: without the renewal, the
// delivery's job would have been due then too, and the second server's
// River workers could have sent the message again. The sink
// gets one call, and the delivery is DELIVERED after one attempt.
func TestE2E_RenewedLeaseKeepsASlowDeliveryFromOtherReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		// Renewals come every quarter lease and replace a job once less
		// than half a lease is left: 3 s leaves 0.75-1.5 s of margin for
		// a renewer slowed by a loaded machine (1 s left too little).
		const lease = 3 * time.Second
		opts := stackOptions{env: map[string]string{"CHATSIDECAR_DELIVERY_LEASE": lease.String()}}
		a := newStack(t, db, opts)
		b := newStack(t, db, opts)
		release := make(chan struct{})
		sink := newSlackSink(t, release)
		ch := sinkChannel(a, sink.URL, "slow", 52)

		code, body := a.webhook("post_created",
			discoursetest.PostPayload(post(1501, 1600, 1, 52, "slow platform")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		// The delivery's first job is due no later than this.
		firstLeaseEnd := time.Now().Add(lease)
		require.Equal(t, 0, sink.waitArrival(t, 30*time.Second))
		ds := storedDeliveries(t, a.st, ch)
		require.Len(t, ds, 1)
		id := ds[0].ID

		probe := insertProbeJob(t, db, a.st, firstLeaseEnd)

		// Polled until the lease was renewed twice and a worker ran the
		// probe, which River fetches no earlier than a due job of the
		// delivery. A renewal replaces the held job by one scheduled a
		// lease later (on SQLite the new row may reuse the id, so a
		// version is an id with its scheduled_at). No worker may take a
		// job of the delivery meanwhile. (River's scheduler marks jobs due
		// within its 5 s interval "available" ahead of time; workers still
		// fetch them only once due, so that state alone is fine.) The
		// wait stays under the platform request timeout (15 s), after
		// which the held send would fail and be retried through River.
		versions := map[string]bool{}
		var jobs, taken []queueJob
		probeState := ""
		require.Eventually(t, func() bool {
			jobs = jobsOf(t, a.st, id)
			for _, j := range jobs {
				if j.Fetched || j.State == "running" {
					taken = jobs
				}
				versions[fmt.Sprint(j.ID, " ", j.ScheduledAt)] = true
			}
			probeState = jobState(t, a.st, probe)
			return taken != nil || len(versions) >= 3 && probeState == "completed"
		}, 14*time.Second, 10*time.Millisecond,
			"jobs of delivery %d seen: %v (now %+v); probe job %s", id, versions, jobs, probeState)
		require.Nil(t, taken, "a worker took the job of a delivery still being sent")
		received, _ := sink.counts()
		require.Equal(t, 1, received, "no other worker sent the delivery while it was held")
		close(release)

		require.Eventually(t, func() bool {
			d := storedDeliveries(t, b.st, ch)[0]
			return d.Status == store.StatusDelivered
		}, 10*time.Second, 10*time.Millisecond)
		d := storedDeliveries(t, b.st, ch)[0]
		require.Equal(t, 1, d.Attempts)
		// Nothing stays behind that could send it again: the outcome
		// deleted the held job (a renewal racing the outcome may leave a
		// job that runs once, finds the delivery DELIVERED and completes).
		require.Eventually(t, func() bool {
			jobs = jobsOf(t, a.st, id)
			for _, j := range jobs {
				if j.State != "completed" {
					return false
				}
			}
			return true
		}, 10*time.Second, 10*time.Millisecond, "jobs of delivery %d: %+v", id, jobs)
		received, answered := sink.counts()
		require.Equal(t, 1, received, "the delivery was sent once")
		require.Equal(t, 1, answered)
	})
}

// probeArgs is a delivery job for a delivery that does not exist: a
// worker that runs it finds nothing to do.
type probeArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

func (probeArgs) Kind() string { return "chatsidecar.delivery" }

// insertProbeJob inserts a probe job into the deliveries queue, scheduled
// at at, and returns its id. Once a worker has run it, at has passed and
// River has made due jobs scheduled no later than at available to its
// workers, which fetch the earlier ones first.
func insertProbeJob(t *testing.T, db storetest.DB, st *store.Store, at time.Time) int64 {
	t.Helper()
	opts := &river.InsertOpts{Queue: "deliveries", ScheduledAt: at}
	var id int64
	if db.Name == "postgres" {
		c, err := river.NewClient(riverdatabasesql.New(st.DB()), &river.Config{})
		require.NoError(t, err)
		res, err := c.Insert(context.Background(), probeArgs{DeliveryID: -1}, opts)
		require.NoError(t, err)
		id = res.Job.ID
	} else {
		c, err := river.NewClient(riversqlite.New(st.DB()), &river.Config{})
		require.NoError(t, err)
		res, err := c.Insert(context.Background(), probeArgs{DeliveryID: -1}, opts)
		require.NoError(t, err)
		id = res.Job.ID
	}
	return id
}

func jobState(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	var state string
	require.NoError(t, st.DB().QueryRowContext(context.Background(),
		fmt.Sprintf(`SELECT state FROM river_job WHERE id = %d`, id)).Scan(&state))
	return state
}

// TestProcess_KilledWhileSendingLocallyIsSentOnceByTheNextProcess: process
// A (workers, 1 s lease) accepts a webhook and sends the delivery itself
// to a sink that never answers A. Once the call has reached the sink, A
// is killed with SIGKILL. Process B, started on the same database, sends
// the delivery once the held job's lease has ended: the sink gets a second
// call, answers it, and the delivery is DELIVERED after one recorded
// attempt, with one message answered in all and B counting the delivery.
// Recovery takes the lease plus River's leader hand-over: A was River's
// leader, and only the leader's scheduler makes a scheduled job
// available; B gets the leadership once A's has expired (River's leader
// TTL is 15 s), so B sends about 20 s after the kill.
func TestProcess_KilledWhileSendingLocallyIsSentOnceByTheNextProcess(t *testing.T) {
	bin := buildBinary(t)
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		dir := t.TempDir()
		sink := newSlackSink(t, make(chan struct{})) // A's call is never let go
		env := processEnv(db, dir, "CHATSIDECAR_DELIVERY_LEASE=1s")
		a := spawn(t, bin, dir, env)
		s := &stack{t: t, url: a.url(), key: processAdminKey}
		ch := sinkChannel(s, sink.URL, "crash", 61)
		code, body := s.webhook("post_created",
			discoursetest.PostPayload(post(1701, 1800, 1, 61, "sent when A died")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"deliveries":1`)
		require.Equal(t, 0, sink.waitArrival(t, 30*time.Second), "A is sending the delivery")
		a.kill9()

		b := spawn(t, bin, dir, env)
		s.url = b.url()
		require.Equal(t, 1, sink.waitArrival(t, time.Minute), "B sends the delivery A held")
		var ds []deliveryView
		require.Eventually(t, func() bool {
			ds = s.deliveries(ch)
			return len(ds) == 1 && ds[0].Status == "DELIVERED"
		}, 30*time.Second, 20*time.Millisecond, "deliveries: %+v", ds)
		require.Equal(t, 1, ds[0].Attempts, "A's attempt was never recorded")
		require.Eventually(t, func() bool { // counted just after the outcome is stored
			return strings.Contains(metricsText(t, b.url()), `chatsidecar_deliveries_total{outcome="delivered",provider="slack"} 1`)
		}, 10*time.Second, 10*time.Millisecond)
		b.term()
		received, answered := sink.counts()
		require.Equal(t, 2, received, "A's call and B's")
		require.Equal(t, 1, answered, "one message reached chat: A's call never completed")
	})
}

// TestE2E_StoppingHandsLocalDeliveriesToTheQueueDueNow: a server with one
// worker and a lease of an hour sends one delivery to a sink that holds
// the call, while a second delivery waits for the worker. The server is
// stopped with a 1 s shutdown timeout: the held send is cancelled and the
// waiting delivery was never started, and both are handed over to River
// due at once instead of staying out of reach for the lease. The stopping
// server's own River workers do not take them (they would start them
// with no time left and cancel them mid-send, and a message the platform
// accepted would go unrecorded and be sent again). A second server on
// the same database (the restart) sends both at once: each is DELIVERED
// after one recorded attempt and answered once.
func TestE2E_StoppingHandsLocalDeliveriesToTheQueueDueNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		opts := stackOptions{env: map[string]string{
			"CHATSIDECAR_DELIVERY_WORKERS": "1",
			"CHATSIDECAR_DELIVERY_LEASE":   "1h",
			"CHATSIDECAR_SHUTDOWN_TIMEOUT": "1s",
		}}
		s1 := newStack(t, db, opts)
		sink := newSlackSink(t, make(chan struct{})) // the first call is never let go
		ch := sinkChannel(s1, sink.URL, "stopping", 71)
		for i := range 2 {
			code, body := s1.webhook("post_created",
				discoursetest.PostPayload(post(int64(1901+i), int64(2000+i), 1, 71, "around a restart")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
		}
		require.Equal(t, 0, sink.waitArrival(t, 30*time.Second))
		ds := storedDeliveries(t, s1.st, ch)
		require.Len(t, ds, 2)
		for _, d := range ds {
			jobs := jobsOf(t, s1.st, d.ID)
			require.Len(t, jobs, 1)
			require.Equal(t, "scheduled", jobs[0].State, "delivery %d is local, its job waits out the lease", d.ID)
		}
		s1.stop()
		// Both jobs are due now, and the stopping server left them to the
		// next one: it did not start them with no time left. (Before
		// Engine.Stop stopped River's fetching first, it took them here.)
		for _, d := range ds {
			jobs := jobsOf(t, s1.st, d.ID)
			require.Len(t, jobs, 1)
			require.Equal(t, "available", jobs[0].State, "delivery %d", d.ID)
			require.False(t, jobs[0].Fetched, "delivery %d: the stopping server took its job", d.ID)
		}

		s2 := newStack(t, db, opts)
		require.Eventually(t, func() bool {
			ds = storedDeliveries(t, s2.st, ch)
			for _, d := range ds {
				if d.Status != store.StatusDelivered {
					return false
				}
			}
			return true
		}, 10*time.Second, 10*time.Millisecond, "deliveries sent after the restart, not an hour later")
		require.Len(t, ds, 2)
		for _, d := range ds {
			require.Equal(t, 1, d.Attempts, "delivery %d: the cancelled send is not an attempt", d.ID)
		}
		_, answered := sink.counts()
		require.Equal(t, 2, answered, "each message reached chat once")
	})
}

// TestE2E_RateLimitedLocalDeliveryWaitsInThisProcess: the local attempt
// gets a 429 with Retry-After: 3, longer than a worker waits in place, so
// the delivery is parked in the process that accepted it and sent again
// once the pause is over: no earlier than 3 s after the 429, with no
// attempt spent, and without River (its held job is deleted with the
// outcome; had River run it, River's completed job would remain).
func TestE2E_RateLimitedLocalDeliveryWaitsInThisProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("parked", "WATCH", 81)
		s.slack.rateLimit(1, "3")
		d := postAndSettle(s, ch, post(2101, 2200, 1, 81, "after the pause"))
		require.Equal(t, store.StatusDelivered, d.Status)
		require.Equal(t, 1, d.Attempts, "the 429 spent no attempt")
		calls := s.slack.callTimes()
		require.Len(t, calls, 2)
		require.GreaterOrEqual(t, calls[1].Sub(calls[0]), 3*time.Second, "Retry-After honoured")
		require.Empty(t, jobsOf(t, s.st, d.ID), "the held job was deleted with the outcome: River never ran it")
	})
}

// TestE2E_PaceWaitHonoursA429MetMeanwhile: the second of two posts in a
// row waits about a second for Slack's next slot in the channel; a 429
// (Retry-After: 3) that the first post meets during that wait holds the
// second too, so it is not sent when its slot comes but after the pause.
func TestE2E_PaceWaitHonoursA429MetMeanwhile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("paced-pause", "WATCH", 83)
		h := s.slack.holdNext()
		s.slack.rateLimit(1, "3")
		code, body := s.webhook("post_created", discoursetest.PostPayload(post(2103, 2202, 1, 83, "first")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		<-h.arrived // the first post took the channel's slot and is on its way
		code, body = s.webhook("post_created", discoursetest.PostPayload(post(2104, 2203, 1, 83, "second")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		// The second post's worker now waits for the next slot, a second
		// after the first; the 429 reaches the engine during that wait.
		close(h.release)
		ds := s.waitDeliveries(ch, 2)
		for _, d := range ds {
			require.Equal(t, "DELIVERED", d.Status)
		}
		calls := s.slack.callTimes()
		require.Len(t, calls, 3, "the 429, then each post once")
		for _, at := range calls[1:] {
			require.GreaterOrEqual(t, at.Sub(calls[0]), 3*time.Second, "a post was sent during the 429's pause")
		}
	})
}

// TestE2E_StoppingHandsParkedDeliveriesToTheQueueAtTheirTime: a delivery
// parked for a 429 with Retry-After: 20 when the server stops goes to
// River due when the pause ends (not at once, and not a lease later),
// with no attempt counted.
func TestE2E_StoppingHandsParkedDeliveriesToTheQueueAtTheirTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		opts := stackOptions{env: map[string]string{"CHATSIDECAR_DELIVERY_LEASE": "1h"}}
		s1 := newStack(t, db, opts)
		ch := s1.slackChannel("parked-stop", "WATCH", 82)
		s1.slack.rateLimit(1, "20")
		code, body := s1.webhook("post_created",
			discoursetest.PostPayload(post(2102, 2201, 1, 82, "parked at shutdown")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		var d *store.Delivery
		require.Eventually(t, func() bool {
			ds := storedDeliveries(t, s1.st, ch)
			if len(ds) == 1 && ds[0].Status == store.StatusRetrying {
				d = ds[0]
			}
			return d != nil
		}, 10*time.Second, 10*time.Millisecond, "the 429 is recorded")
		limitedAt := s1.slack.callTimes()[0]
		s1.stop()

		jobs := jobsOf(t, s1.st, d.ID)
		require.Len(t, jobs, 1)
		require.Equal(t, 0, jobs[0].Prior, "the 429 spent no attempt")
		require.False(t, jobs[0].Fetched)
		due := scheduledAt(t, s1.st, jobs[0].ID)
		// riversqlite keeps scheduled_at to the millisecond, and the server
		// reads its clock only microseconds after the fake records the call,
		// so the bound is the 429's time in the same precision.
		limitedAt = limitedAt.Truncate(time.Millisecond)
		require.False(t, due.Before(limitedAt.Add(20*time.Second)), "due %v, 429 at %v: the pause is kept", due, limitedAt)
		require.True(t, due.Before(limitedAt.Add(time.Minute)), "due %v: not a lease later", due)
	})
}

// scheduledAt reads a River job's scheduled_at.
func scheduledAt(t *testing.T, st *store.Store, id int64) time.Time {
	t.Helper()
	var at time.Time
	require.NoError(t, st.DB().QueryRowContext(context.Background(),
		fmt.Sprintf(`SELECT scheduled_at FROM river_job WHERE id = %d`, id)).Scan(&at))
	return at
}
