package delivery

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// History retention. Every accepted event keeps its payload and a row per
// delivery so the API can show what happened; without a bound, a busy
// forum grows these tables forever. Options.Retention bounds them: an
// hourly job deletes events older than that whose deliveries have all
// finished (store.PruneEvents says what is kept).
const (
	// pruneInterval is how often the prune job runs (and once at start).
	pruneInterval = time.Hour
	// pruneBatch is how many events one transaction looks at, so a prune
	// never holds many row locks or a long transaction.
	pruneBatch = 500
	// pruneTimeout bounds one run; a first run over a long history that
	// needs more leaves the rest to the next run.
	pruneTimeout = 10 * time.Minute
)

// pruneArgs is the periodic job that deletes old history. River inserts it
// from the leader replica only, so replicas do not prune all at once.
type pruneArgs struct{}

func (pruneArgs) Kind() string { return "chatsidecar.prune" }

// pruneWorker runs pruneArgs. It is registered even when retention is
// off, so a job queued under an earlier configuration finishes quietly.
type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	e *Engine
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	_, err := w.e.Prune(ctx)
	return err
}

func (w *pruneWorker) Timeout(*river.Job[pruneArgs]) time.Duration { return pruneTimeout }

// prunePeriodically is the periodic job of a retention, or nil when
// history is kept forever.
func prunePeriodically(retention time.Duration) []*river.PeriodicJob {
	if retention <= 0 {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(pruneInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			// A failed run is not retried: the next one starts within
			// the hour and picks up where it stopped.
			return pruneArgs{}, &river.InsertOpts{Queue: queueName, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// Prune deletes the events older than the retention whose deliveries have
// all finished, with their deliveries, in batches, and returns how many
// events it deleted. It does nothing when retention is off.
func (e *Engine) Prune(ctx context.Context) (int, error) {
	if e.opts.Retention <= 0 {
		return 0, nil
	}
	cutoff := e.now().Add(-e.opts.Retention)
	var total int
	var after int64
	for {
		last, n, err := e.store.PruneEvents(ctx, cutoff, after, pruneBatch)
		total += n
		e.opts.Metrics.pruned(n)
		if err != nil {
			e.log.Warn("pruning old events stopped; the next run goes on", "deleted", total, "error", err)
			return total, err
		}
		if last == 0 {
			break
		}
		after = last
	}
	if total > 0 {
		e.log.Info("pruned old forum events and their deliveries", "events", total, "created_before", cutoff)
	}
	return total, nil
}
