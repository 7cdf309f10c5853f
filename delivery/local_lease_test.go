package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// leaseEngine is an engine on a fresh PostgreSQL database that is not
// started: the test drives renewLeases itself. Row locks held by another
// transaction, which the renewer must respect, exist only on PostgreSQL.
func leaseEngine(t *testing.T) (*Engine, *store.Store) {
	t.Helper()
	db, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("needs PostgreSQL: a queue job locked by another transaction")
	}
	reg, err := providers.NewRegistry()
	require.NoError(t, err)
	st := storetest.Open(t, db, reg)
	e, err := New(context.Background(), Options{Store: st, Registry: reg, DatabaseURL: db.URL, Workers: 1, Lease: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { e.pool.Close(); _ = e.presence.Close() })
	return e, st
}

// heldTask inserts a job held one lease ahead for a delivery that a
// local worker is sending, whose lease ends now.
func heldTask(t *testing.T, e *Engine, deliveryID int64) *task {
	t.Helper()
	ctx := context.Background()
	var res []*rivertype.JobInsertResult
	require.NoError(t, e.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		res, err = e.jobs.insertMany(ctx, q, []river.InsertManyParams{{Args: jobArgs{DeliveryID: deliveryID},
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: e.now().Add(e.opts.Lease)}}})
		return err
	}))
	tk := &task{w: &store.Work{Delivery: store.Delivery{ID: deliveryID, Attempts: 3}}, lease: e.now()}
	tk.jobID.Store(res[0].Job.ID)
	require.Equal(t, 1, e.local.reserve(1))
	e.local.inflight[deliveryID] = tk
	return tk
}

func jobExists(t *testing.T, st *store.Store, id int64) bool {
	t.Helper()
	var n int
	require.NoError(t, st.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM river_job WHERE id = $1`, id).Scan(&n))
	return n == 1
}

// TestRenewLeasesMovesOnlyJobsItCouldReplace: a held job that another
// transaction has locked (River's scheduler, a worker's completion) is not
// replaced, so its task keeps its old lease and job and is tried again on
// the next tick; once the lock is gone, the renewal replaces the job by
// one a lease later that carries no attempts of its own.
func TestRenewLeasesMovesOnlyJobsItCouldReplace(t *testing.T) {
	e, st := leaseEngine(t)
	ctx := context.Background()
	tk := heldTask(t, e, 7)
	first, oldLease := tk.jobID.Load(), tk.lease

	other, err := st.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = other.ExecContext(ctx, `SELECT id FROM river_job WHERE id = $1 FOR UPDATE`, first)
	require.NoError(t, err)
	e.renewLeases(ctx)
	require.Equal(t, oldLease, tk.lease, "a job that was not moved keeps its lease")
	require.Equal(t, first, tk.jobID.Load())
	require.NoError(t, other.Rollback())

	before := e.now()
	e.renewLeases(ctx)
	second := tk.jobID.Load()
	require.NotEqual(t, first, second, "the job was replaced")
	require.False(t, jobExists(t, st, first))
	require.True(t, tk.lease.After(before.Add(e.opts.Lease/2)), "lease moved a lease ahead: %v", tk.lease)
	var scheduled time.Time
	var args string
	require.NoError(t, st.DB().QueryRowContext(ctx,
		`SELECT scheduled_at, args FROM river_job WHERE id = $1`, second).Scan(&scheduled, &args))
	require.WithinDuration(t, tk.lease, scheduled, time.Millisecond)
	require.JSONEq(t, fmt.Sprintf(`{"delivery_id": 7, "owner": %d}`, e.presence.ID()), args,
		"still held back by this process")
}

// TestRenewLeasesLeavesTasksBeingHandedOver: the renewer never replaces the
// job of a task its worker is handing over (the worker's replacement keeps
// the attempts made and the retry time) or has finished with.
func TestRenewLeasesLeavesTasksBeingHandedOver(t *testing.T) {
	e, _ := leaseEngine(t)
	ctx := context.Background()
	busy := heldTask(t, e, 8)
	first := busy.jobID.Load()
	busy.replacing.Lock() // the worker's hand-over is under way
	e.renewLeases(ctx)
	require.Equal(t, first, busy.jobID.Load(), "a task being handed over is left to its worker")
	busy.replacing.Unlock()

	e.local.untrack(busy) // the worker finished with it
	e.renewLeases(ctx)
	require.Equal(t, first, busy.jobID.Load(), "an untracked task is the worker's to settle")

	// The worker's own hand-over carries the attempts made so far.
	due := e.now().Add(time.Hour)
	moved := e.handover(ctx, []*task{busy}, due, false)
	require.Equal(t, []*task{busy}, moved)
	require.NotEqual(t, first, busy.jobID.Load())
	var args string
	require.NoError(t, e.store.DB().QueryRowContext(ctx,
		`SELECT args FROM river_job WHERE id = $1`, busy.jobID.Load()).Scan(&args))
	require.JSONEq(t, `{"delivery_id": 8, "prior": 3}`, args)
}
