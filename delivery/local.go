package delivery

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// Local dispatch: a process sends the deliveries it accepted itself.
//
// Every delivery still gets its River job in the intake transaction, so an
// accepted webhook survives a crash. But when this process has workers and
// room, the job is inserted scheduled one lease ahead, and the committed
// delivery, with the notification intake already built, goes straight to a
// local worker. River neither fetches nor completes it: the completion
// deletes the job in the transaction that records the outcome. Only when
// the process dies does the job become due, and then any replica sends
// the delivery (the job sees a terminal delivery and does nothing if the
// outcome was recorded). This saves the queue's fetch and completion and
// the re-read of the delivery, which were most of the database work per
// message, and the wait for River to hear of a new job.
//
// A delivery that must wait (a rate-limit pause too long to wait out on a
// worker, an earlier post of its topic still pending) is parked: it
// keeps its place in this process, frees its worker, and is queued again
// when the wait is over. One that fails transiently, or must wait longer
// than maxLocalPark, is handed over to River: its job is replaced by one
// due when the next try should happen. A local delivery that runs or
// waits long gets its lease renewed, so no other replica starts it
// meanwhile.

// task is one delivery as a worker runs it.
type task struct {
	w *store.Work
	// note is the event's notification as intake built it; nil means
	// decode w.Payload. Workers copy it before changing fields.
	note *providers.Notification
	// jobID is the River job this process holds back while it sends the
	// delivery itself; 0 when River runs the job. Set to 0 once the
	// transaction that records the outcome deleted the job. The lease
	// renewer replaces it while the worker runs, hence atomic.
	jobID atomic.Int64
	// lease is when the held job becomes due; only the renewer moves it.
	lease time.Time
	// jobLast says River runs its last attempt of the job.
	jobLast bool
	// cancelled is set when an admin cancelled the delivery, on any
	// replica (Engine.cancelledElsewhere); the worker stops before its
	// next attempt.
	cancelled atomic.Bool
	// replacing is held while the held job is being replaced, so the
	// lease renewer and the worker's own hand-over never both replace
	// the same job (the loser would leave the delivery with a job a
	// lease late or with its attempts forgotten).
	replacing sync.Mutex
}

// Local is the deliveries one transaction queued that this process sends
// itself once the transaction commits (Engine.Dispatch), or gives up if
// it rolls back (Engine.Release).
type Local struct{ tasks []*task }

// Len is how many deliveries go to local workers.
func (l *Local) Len() int {
	if l == nil {
		return 0
	}
	return len(l.tasks)
}

// localQueue holds the tasks of local dispatch.
type localQueue struct {
	q chan *task
	// load counts tasks reserved, queued or running, at most cap(q), so
	// Dispatch never blocks.
	load atomic.Int64

	mu       sync.Mutex
	inflight map[int64]*task // by delivery id, parked ones included
	// parked are tasks waiting, without a worker, until the time given;
	// each has a timer that queues it again.
	parked   map[*task]parking
	stopping bool

	stop   chan struct{}
	ctx    context.Context // of the tasks; cancelled when Stop runs out of time
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// localBacklog is how many local tasks may wait per worker. A burst
// beyond it waits for River instead, which any replica can take; within
// it, memory is the bound (a task is a delivery row and a pointer to its
// event's notification, well under 1 KiB).
const localBacklog = 40

// maxLocalPark is the longest wait a local delivery spends parked in this
// process. A longer one (a Retry-After of minutes) goes to River, so the
// delivery does not hold local room that long.
const maxLocalPark = 30 * time.Second

// parking is a parked task's wake-up.
type parking struct {
	at    time.Time
	timer *time.Timer
}

func newLocalQueue(workers int) *localQueue {
	return &localQueue{q: make(chan *task, workers*localBacklog), inflight: make(map[int64]*task),
		parked: make(map[*task]parking), stop: make(chan struct{})}
}

// park sets a local task aside for d and queues it again then; it keeps
// its room and stays tracked, so River's copy keeps waiting and the
// lease renewer keeps it from other replicas. It reports false when the
// engine is stopping or the delivery was cancelled (cancelTasks sets the
// flag under the same lock, so a task is either parked when it runs, or
// seen cancelled here).
func (e *Engine) park(t *task, d time.Duration) bool {
	lq := e.local
	lq.mu.Lock()
	defer lq.mu.Unlock()
	if lq.stopping || t.cancelled.Load() {
		return false
	}
	// The timer's function needs lq.mu, so it cannot run before the
	// task is recorded as parked.
	timer := time.AfterFunc(d, func() {
		lq.mu.Lock()
		defer lq.mu.Unlock()
		if lq.stopping {
			return // stopLocal hands it over
		}
		if _, ok := lq.parked[t]; !ok {
			return // taken out: cancelled
		}
		delete(lq.parked, t)
		lq.q <- t // never blocks: the task kept its room
	})
	lq.parked[t] = parking{at: e.now().Add(d), timer: timer}
	return true
}

// reserve claims room for up to n tasks and returns how many it got.
func (l *localQueue) reserve(n int) int {
	if l == nil {
		return 0
	}
	for {
		cur := l.load.Load()
		k := min(int64(n), int64(cap(l.q))-cur)
		if k <= 0 {
			return 0
		}
		if l.load.CompareAndSwap(cur, cur+k) {
			return int(k)
		}
	}
}

// holding reports whether a local worker has the delivery, so River's
// copy of its job must not run now.
func (l *localQueue) holding(id int64) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.inflight[id]
	return ok
}

// cancelTasks marks the local tasks of cancelled deliveries, and takes the
// parked ones out and returns them for the caller to settle
// (Engine.settleLocal); a queued or running one stops on its worker.
func (l *localQueue) cancelTasks(ids []int64) []*task {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*task
	for _, id := range ids {
		t, ok := l.inflight[id]
		if !ok {
			continue
		}
		t.cancelled.Store(true)
		if p, ok := l.parked[t]; ok {
			p.timer.Stop() // one that fires anyway finds the task gone
			delete(l.parked, t)
			out = append(out, t)
		}
	}
	return out
}

// wake queues the parked tasks of provider again at once, when its
// platform answers again after an outage (breaker.go): what waited for the
// next probe can go now. A task parked for its channel's own pause finds
// the pause still there and parks again. It returns how many it queued.
func (l *localQueue) wake(provider string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return 0
	}
	n := 0
	for t, p := range l.parked {
		if t.w.Provider != provider || !p.timer.Stop() {
			continue // another provider's, or firing now: it queues itself
		}
		delete(l.parked, t)
		l.q <- t // never blocks: the task kept its room
		n++
	}
	return n
}

func (l *localQueue) untrack(t *task) {
	l.mu.Lock()
	delete(l.inflight, t.w.ID)
	l.mu.Unlock()
	l.load.Add(-1)
}

// Dispatch gives the deliveries of a committed transaction to local
// workers. When the engine is stopping, their jobs are made due at once
// instead, so the next process sends them without waiting for the lease.
func (e *Engine) Dispatch(l *Local) {
	if l.Len() == 0 {
		return
	}
	lq := e.local
	lq.mu.Lock()
	if lq.stopping {
		lq.mu.Unlock()
		e.handover(context.Background(), l.tasks, time.Time{}, false)
		for range l.tasks {
			lq.load.Add(-1)
		}
		return
	}
	for _, t := range l.tasks {
		lq.inflight[t.w.ID] = t
		lq.q <- t // never blocks: reserve bounds the load by the capacity
	}
	lq.mu.Unlock()
}

// Release gives up the local room of a transaction that rolled back.
func (e *Engine) Release(l *Local) {
	if l.Len() == 0 {
		return
	}
	e.local.load.Add(-int64(len(l.tasks)))
}

// startLocal starts the local workers, the lease renewer and the rescuer
// of dead processes' jobs.
func (e *Engine) startLocal(ctx context.Context) {
	lq := e.local
	lq.ctx, lq.cancel = context.WithCancel(context.WithoutCancel(ctx))
	lq.wg.Add(e.opts.Workers + 2)
	go func() {
		defer lq.wg.Done()
		e.rescueLoop(lq.ctx, lq.stop)
	}()
	for range e.opts.Workers {
		go func() {
			defer lq.wg.Done()
			for {
				// Stop wins over queued tasks: Stop hands those over.
				select {
				case <-lq.stop:
					return
				default:
				}
				select {
				case t := <-lq.q:
					e.runLocal(t)
				case <-lq.stop:
					return
				}
			}
		}()
	}
	go func() {
		defer lq.wg.Done()
		tick := time.NewTicker(e.opts.Lease / 4)
		defer tick.Stop()
		for {
			select {
			case <-lq.stop:
				return
			case <-tick.C:
				e.renewLeases(lq.ctx)
			}
		}
	}()
}

// stopLocal lets running local deliveries finish until ctx ends, then
// cancels them; deliveries not started yet are handed to River at once.
func (e *Engine) stopLocal(ctx context.Context) {
	lq := e.local
	lq.mu.Lock()
	started := !lq.stopping && lq.cancel != nil
	lq.stopping = true
	parked := lq.parked
	lq.parked = make(map[*task]parking)
	for _, p := range parked {
		p.timer.Stop() // one that fires anyway sees stopping
	}
	lq.mu.Unlock()
	if !started {
		return
	}
	close(lq.stop)
	done := make(chan struct{})
	go func() { lq.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		lq.cancel()
		<-done
	}
	lq.cancel()
	var rest []*task
	for {
		select {
		case t := <-lq.q:
			rest = append(rest, t)
			continue
		default:
		}
		break
	}
	for _, t := range rest {
		lq.untrack(t)
	}
	e.handover(context.WithoutCancel(ctx), rest, time.Time{}, false)
	// Parked tasks go to River due when they would have woken, grouped
	// by the second (rounded up, so no wait is cut short).
	bySecond := make(map[time.Time][]*task)
	for t, p := range parked {
		lq.untrack(t)
		at := p.at.Truncate(time.Second)
		if at.Before(p.at) {
			at = at.Add(time.Second)
		}
		bySecond[at] = append(bySecond[at], t)
	}
	for at, ts := range bySecond {
		e.handover(context.WithoutCancel(ctx), ts, at, false)
	}
}

// runLocal runs one local delivery and settles its job.
func (e *Engine) runLocal(t *task) {
	ctx := e.local.ctx
	err := e.run(ctx, t)
	var snooze *river.JobSnoozeError
	switch {
	case err == nil:
		e.settleLocal(ctx, t)
	case errors.As(err, &snooze):
		// A zero snooze is a cancelled send at shutdown: River's job
		// takes it at once, on whichever process runs next.
		if snooze.Duration > 0 && snooze.Duration <= maxLocalPark && e.park(t, snooze.Duration) {
			return
		}
		if t.cancelled.Load() {
			e.settleLocal(ctx, t)
			return
		}
		e.local.untrack(t)
		e.handover(ctx, []*task{t}, e.now().Add(snooze.Duration), false)
	default:
		e.local.untrack(t)
		b := backoff{base: e.opts.RetryBase, max: e.opts.RetryMax}
		e.handover(ctx, []*task{t}, e.now().Add(b.delay(max(1, t.w.Attempts), rand.Float64())), false)
	}
}

// settleLocal ends local tasks that have nothing left to do: it frees
// their room and deletes their held jobs, in one transaction, where the
// transaction that recorded an outcome did not (the channel is gone, say,
// or the delivery was cancelled).
func (e *Engine) settleLocal(ctx context.Context, ts ...*task) {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		e.local.untrack(t)
		// Untracked, the renewer leaves the job alone; the lock waits
		// for a renewal under way, so the id read is the last one.
		t.replacing.Lock()
		defer t.replacing.Unlock()
		if id := t.jobID.Load(); id != 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		e.dropJobs(ctx, ids)
	}
}

// handover replaces the held jobs of tasks with jobs River runs at at (at
// once when at is zero or past) and returns the tasks it moved. A job
// River already started, or another transaction holds, is left alone. On
// failure the held jobs stay, and run when their lease ends.
//
// renew is the lease renewer, which runs beside the workers: it must not
// read the deliveries they change, and it holds the tasks' replacing
// locks itself; otherwise handover takes them.
func (e *Engine) handover(ctx context.Context, ts []*task, at time.Time, renew bool) []*task {
	if len(ts) == 0 {
		return nil
	}
	if !renew {
		for _, t := range ts {
			t.replacing.Lock()
			defer t.replacing.Unlock()
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
	defer cancel()
	var moves []jobMove
	err := e.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		moves, err = e.replaceJobs(ctx, q, ts, at, renew)
		return err
	})
	if err != nil {
		e.log.Warn("could not hand deliveries over to the queue; they run when their lease ends",
			"deliveries", len(ts), "error", err)
		return nil
	}
	moved := make([]*task, 0, len(moves))
	var orphans []int64
	for _, m := range moves {
		// Only now is the new job committed. A worker that recorded
		// its outcome meanwhile zeroed the id (its transaction found
		// the old job gone): the new job has nothing to do.
		if m.t.jobID.CompareAndSwap(m.old, m.new) {
			moved = append(moved, m.t)
		} else {
			orphans = append(orphans, m.new)
		}
	}
	if len(orphans) > 0 {
		e.dropJobs(ctx, orphans)
	}
	return moved
}

// jobMove is one held job replaced in a transaction not yet committed.
type jobMove struct {
	t        *task
	old, new int64
}

// replaceJobs deletes the held jobs of ts and inserts, for each one that
// was still waiting, a job due at at carrying the attempts made so far
// (none when renewing: the worker that owns the count is running).
func (e *Engine) replaceJobs(ctx context.Context, q *store.Queries, ts []*task, at time.Time, renew bool) ([]jobMove, error) {
	byJob := make(map[int64]*task, len(ts))
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		if id := t.jobID.Load(); id != 0 {
			byJob[id] = t
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	deleted, err := e.deleteJobs(ctx, q, ids)
	if err != nil || len(deleted) == 0 {
		return nil, err
	}
	params := make([]river.InsertManyParams, 0, len(deleted))
	for _, id := range deleted {
		t := byJob[id]
		args := jobArgs{DeliveryID: t.w.ID}
		if renew {
			args.Owner = e.presence.ID() // still held back
		} else {
			args.Prior = t.w.Attempts
		}
		opts := &river.InsertOpts{Queue: queueName, MaxAttempts: max(1, e.opts.MaxAttempts-args.Prior)}
		if at.After(e.now()) {
			opts.ScheduledAt = at
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	res, err := e.jobs.insertMany(ctx, q, params)
	if err != nil {
		return nil, err
	}
	moves := make([]jobMove, len(deleted))
	for i, id := range deleted {
		moves[i] = jobMove{t: byJob[id], old: id, new: res[i].Job.ID}
	}
	return moves, nil
}

// deleteJobs deletes queue jobs that are not running and returns the ids
// it deleted; a job River is running (or another transaction holds) is
// left alone.
func (e *Engine) deleteJobs(ctx context.Context, q *store.Queries, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return e.jobs.deleteMany(ctx, q, ids)
}

// dropJobs deletes jobs in a transaction of their own. A job that stays
// runs later, finds its delivery finished and does nothing.
func (e *Engine) dropJobs(ctx context.Context, ids []int64) {
	ctx = context.WithoutCancel(ctx)
	err := e.store.InTx(ctx, func(q *store.Queries) error {
		_, err := e.deleteJobs(ctx, q, ids)
		return err
	})
	if err != nil {
		e.log.Warn("could not delete finished jobs; they run once and find nothing to do", "jobs", len(ids), "error", err)
	}
}

// renewLeases moves the jobs of local deliveries whose lease ends within
// half a lease one lease ahead, so no replica starts a delivery this
// process is still sending (a slow platform, a long rate-limit wait).
// A task whose job could not be moved (River's scheduler had it locked,
// say) keeps its lease and is tried again on the next tick.
func (e *Engine) renewLeases(ctx context.Context) {
	now := e.now()
	lq := e.local
	lq.mu.Lock()
	var due []*task
	for _, t := range lq.inflight {
		if t.jobID.Load() != 0 && t.lease.Sub(now) < e.opts.Lease/2 && t.replacing.TryLock() {
			// A task the worker is handing over itself is skipped;
			// one still tracked here after the lock cannot be handed
			// over until the lock is released.
			due = append(due, t)
		}
	}
	lq.mu.Unlock()
	if len(due) == 0 {
		return
	}
	until := now.Add(e.opts.Lease)
	for _, t := range e.handover(ctx, due, until, true) {
		t.lease = until
	}
	for _, t := range due {
		t.replacing.Unlock()
	}
}
