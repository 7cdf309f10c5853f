package delivery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/store"
)

// Taking over the work of a dead process.
//
// A process holds back the queue jobs of the deliveries it sends itself
// (local dispatch) for a lease, and River marks the jobs it runs with the
// client that runs them. When the process is killed, those jobs would
// wait: the held ones until their lease ends (30 s), the running ones
// until River's rescuer gives up on them (RescueAfter, 2 min), and then
// until the queue's leader role has passed to a live process.
//
// Every working process holds a store.Presence, writes its id into the
// jobs it holds back and into its River client id, and looks every few
// seconds for jobs of ids no live process holds. Those it makes due at
// once, for any replica to run. An id must be missing on two looks in a
// row: a live process whose presence connection dropped for a moment
// (a database restart) keeps its work. A job taken over from a process
// that had sent the message but not yet recorded it sends it again, as a
// lease ending would: delivery is at least once, and the generic webhook
// and Matrix repeat their delivery id so the receiver can tell.

// clientIDPrefix starts the River client id of a process with a
// presence; the presence id follows.
const clientIDPrefix = "chatsidecar-presence-"

func clientID(presence int32) string { return clientIDPrefix + strconv.Itoa(int(presence)) }

// rescueInterval is how often a process looks for the jobs of dead ones:
// a tenth of the lease, between half a second and 5 s.
func rescueInterval(lease time.Duration) time.Duration {
	return min(max(lease/10, 500*time.Millisecond), 5*time.Second)
}

// rescuer remembers the ids found dead on the previous look.
type rescuer struct {
	suspects map[int32]bool
}

// rescue makes the jobs of processes found dead on this look and the
// previous one due now, and returns how many it moved.
func (e *Engine) rescue(ctx context.Context, r *rescuer) (int, error) {
	owners, err := e.jobOwners(ctx)
	if err != nil {
		return 0, err
	}
	delete(owners, e.presence.ID())
	ids := make([]int32, 0, len(owners))
	for id := range owners {
		ids = append(ids, id)
	}
	alive, err := e.store.Alive(ctx, ids)
	if err != nil {
		return 0, err
	}
	dead := make(map[int32]bool)
	var gone []int32
	for _, id := range ids {
		if alive[id] {
			continue
		}
		dead[id] = true
		if r.suspects[id] {
			gone = append(gone, id)
		}
	}
	r.suspects = dead
	if len(gone) == 0 {
		return 0, nil
	}
	n, err := e.releaseJobs(ctx, gone)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		e.opts.Metrics.tookOver(n)
		e.log.Warn("took over the deliveries of a process that is gone", "presences", gone, "jobs", n)
	}
	return n, nil
}

// jobOwners returns the presence ids that delivery jobs are held back
// for, or that River is running them for.
func (e *Engine) jobOwners(ctx context.Context) (map[int32]bool, error) {
	held, running := `SELECT DISTINCT args->>'owner' FROM river_job
		WHERE state = 'scheduled' AND kind = $1 AND args ? 'owner'`,
		`SELECT DISTINCT attempted_by[cardinality(attempted_by)] FROM river_job
		WHERE state = 'running' AND kind = $1`
	if e.store.Dialect() == store.SQLite {
		held, running = `SELECT DISTINCT CAST(json_extract(args, '$.owner') AS TEXT) FROM river_job
			WHERE state = 'scheduled' AND kind = ? AND json_extract(args, '$.owner') IS NOT NULL`,
			`SELECT DISTINCT json_extract(attempted_by, '$[#-1]') FROM river_job
			WHERE state = 'running' AND kind = ?`
	}
	owners := map[int32]bool{}
	if err := e.scanOwners(ctx, held, "", owners); err != nil {
		return nil, err
	}
	if err := e.scanOwners(ctx, running, clientIDPrefix, owners); err != nil {
		return nil, err
	}
	return owners, nil
}

// scanOwners adds to owners the presence ids of query's rows: texts of
// prefix followed by the id. A River client of another version, or of an
// intake-only process, has an id of another form: its jobs are left to
// River's rescuer.
func (e *Engine) scanOwners(ctx context.Context, query, prefix string, owners map[int32]bool) error {
	rows, err := e.store.DB().QueryContext(ctx, query, jobArgs{}.Kind())
	if err != nil {
		return fmt.Errorf("delivery: jobs' owners: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("delivery: jobs' owners: %w", err)
		}
		if s == nil || !strings.HasPrefix(*s, prefix) {
			continue
		}
		if id, err := strconv.ParseInt(strings.TrimPrefix(*s, prefix), 10, 32); err == nil && id > 0 {
			owners[int32(id)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("delivery: jobs' owners: %w", err)
	}
	return nil
}

// releaseJobs makes the delivery jobs held back for, or run by, the dead
// presences due now. They become available directly, as River's
// scheduler would make them, so that no leader is needed (the dead
// process may have been it); due since they were created, so the oldest
// go first.
func (e *Engine) releaseJobs(ctx context.Context, dead []int32) (int, error) {
	owners := make([]string, len(dead))
	clients := make([]string, len(dead))
	for i, id := range dead {
		owners[i] = "'" + strconv.Itoa(int(id)) + "'"
		clients[i] = "'" + clientID(id) + "'"
	}
	q := `UPDATE river_job SET state = 'available', scheduled_at = created_at
		WHERE kind = $1 AND ((state = 'scheduled' AND args->>'owner' IN (%s))
			OR (state = 'running' AND attempted_by[cardinality(attempted_by)] IN (%s)))`
	if e.store.Dialect() == store.SQLite {
		q = `UPDATE river_job SET state = 'available', scheduled_at = created_at
			WHERE kind = ? AND ((state = 'scheduled' AND CAST(json_extract(args, '$.owner') AS TEXT) IN (%s))
				OR (state = 'running' AND json_extract(attempted_by, '$[#-1]') IN (%s)))`
	}
	// The lists are built from integers above, never from input.
	res, err := e.store.DB().ExecContext(ctx, fmt.Sprintf(q, strings.Join(owners, ", "), strings.Join(clients, ", ")),
		jobArgs{}.Kind())
	if err != nil {
		return 0, fmt.Errorf("delivery: take over jobs: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// rescueLoop looks for the jobs of dead processes at start and then
// every rescueInterval until stop closes.
func (e *Engine) rescueLoop(ctx context.Context, stop <-chan struct{}) {
	r := &rescuer{}
	tick := time.NewTicker(rescueInterval(e.opts.Lease))
	defer tick.Stop()
	for {
		if _, err := e.rescue(ctx, r); err != nil && ctx.Err() == nil {
			e.log.Warn("could not look for the deliveries of processes that are gone", "error", err)
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
