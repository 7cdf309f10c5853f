package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestRescueTakesOverTheJobsOfDeadProcesses: the jobs a dead process held
// back, and those River was running for it, become due at once, but only
// once its presence was missing on two looks in a row; the jobs of live
// processes, of this one, and of River clients without a presence stay.
func TestRescueTakesOverTheJobsOfDeadProcesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		reg, err := providers.NewRegistry()
		require.NoError(t, err)
		st := storetest.Open(t, db, reg)
		e, err := New(ctx, Options{Store: st, Registry: reg, DatabaseURL: db.URL, Workers: 1})
		require.NoError(t, err)
		t.Cleanup(func() {
			if e.pool != nil {
				e.pool.Close()
			}
			_ = e.presence.Close()
		})

		// Other processes: one alive, one that died.
		other := storetest.Open(t, db, reg)
		live, err := other.Present(ctx)
		require.NoError(t, err)
		defer live.Close()
		gone, err := other.Present(ctx)
		require.NoError(t, err)
		require.NoError(t, gone.Close())

		later := time.Now().Add(time.Hour)
		held := func(id int64, owner int32) int64 {
			return insertJob(t, e, jobArgs{DeliveryID: id, Owner: owner}, later)
		}
		running := func(id int64, client string) int64 {
			job := insertJob(t, e, jobArgs{DeliveryID: id}, time.Time{})
			q := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
				attempted_by = ARRAY[$1] WHERE id = $2`
			if db.Name == "sqlite" {
				q = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', 'subsec'),
					attempted_by = json_array(?) WHERE id = ?`
			}
			_, err := st.DB().ExecContext(ctx, q, client, job)
			require.NoError(t, err)
			return job
		}
		goneHeld := held(1, gone.ID())
		goneRunning := running(2, clientID(gone.ID()))
		liveHeld := held(3, live.ID())
		liveRunning := running(4, clientID(live.ID()))
		ownHeld := held(5, e.presence.ID())
		unowned := held(6, 0)                      // River's own schedule (a retry)
		foreign := running(7, "host-1_2026_12_04") // a client without a presence

		r := &rescuer{}
		n, err := e.rescue(ctx, r)
		require.NoError(t, err)
		require.Zero(t, n, "an id missing on one look only keeps its work")
		require.Equal(t, map[int32]bool{gone.ID(): true}, r.suspects)

		n, err = e.rescue(ctx, r)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for job, want := range map[int64]string{
			goneHeld: "available", goneRunning: "available",
			liveHeld: "scheduled", liveRunning: "running", ownHeld: "scheduled",
			unowned: "scheduled", foreign: "running",
		} {
			state, due := jobState(t, st, job)
			require.Equal(t, want, state, "job %d", job)
			if want == "available" {
				require.False(t, due.After(time.Now()), "job %d is due now, not at %v", job, due)
			}
		}

		n, err = e.rescue(ctx, r)
		require.NoError(t, err)
		require.Zero(t, n, "nothing is left to take over")
	})
}

func insertJob(t *testing.T, e *Engine, args jobArgs, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, e.store.InTx(ctx, func(q *store.Queries) error {
		res, err := e.jobs.insertMany(ctx, q, []river.InsertManyParams{{Args: args,
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: at}}})
		if err == nil {
			id = res[0].Job.ID
		}
		return err
	}))
	return id
}

func jobState(t *testing.T, st *store.Store, id int64) (string, time.Time) {
	t.Helper()
	var state string
	var due time.Time
	q := `SELECT state, scheduled_at FROM river_job WHERE id = $1`
	if st.Dialect() == store.SQLite {
		q = `SELECT state, scheduled_at FROM river_job WHERE id = ?`
	}
	require.NoError(t, st.DB().QueryRowContext(context.Background(), q, id).Scan(&state, &due))
	return state, due
}
