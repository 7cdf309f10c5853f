// Package delivery turns accepted forum events into chat messages, durably.
//
// Intake writes a forum event, one delivery row per (event, channel) and one
// River job per delivery in a single transaction before Discourse gets its
// 2xx, so an accepted webhook survives a crash. Workers run the jobs:
// providers classify failures and never retry, the engine decides —
// exponential backoff with jitter for transient errors, a snooze that
// spends no attempt for rate limits, and an immediate failure that marks
// the channel for permanent errors. Every status change is published to
// subscribers on every replica.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// queueName is the River queue deliveries run on.
const queueName = "deliveries"

// Options configures an Engine. Zero values take the defaults noted.
type Options struct {
	Store    *store.Store
	Registry *providers.Registry
	Logger   *slog.Logger
	Metrics  *Metrics
	// DatabaseURL is needed on PostgreSQL: the workers use a pgx pool of
	// their own so that they hear job inserts (LISTEN/NOTIFY) at once.
	DatabaseURL string
	// Workers is how many deliveries run at once per process (default
	// 256). A worker mostly waits on a platform or a rate limit, so many
	// are cheap; with a 50 ms platform, 64 workers cap a process near
	// 1,000 deliveries/s before rate-limit pauses are counted.
	Workers int
	// MaxAttempts is how many times a transiently failing delivery is
	// tried before it fails (default 12; rate-limit snoozes do not count).
	MaxAttempts int
	// RetryBase and RetryMax bound the exponential backoff: attempt n
	// waits about RetryBase·2^(n-1), at most RetryMax, ±25% jitter
	// (defaults 5 s and 1 h).
	RetryBase, RetryMax time.Duration
	// SendTimeout bounds one call to a platform (default 30 s).
	SendTimeout time.Duration
	// PollInterval is how often idle workers look for due jobs when no
	// insert wakes them (default 1 s; SQLite relies on it, 100 ms there).
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before another
	// worker takes it over, which is how jobs of a killed process resume
	// (default 2 min; must exceed SendTimeout).
	RescueAfter time.Duration
	// Lease is how long the queue job of a delivery this process sends
	// itself stays out of every worker's reach (default 30 s). After a
	// crash, any replica sends such a delivery once its lease ends; a
	// process renews the leases of deliveries it is still sending.
	Lease time.Duration
	// WorkDisabled makes an insert-only engine (for the CLI and tests).
	WorkDisabled bool
	// Retention is how long finished deliveries and their events are
	// kept; 0 keeps them forever (see Prune).
	Retention time.Duration
	// Limits returns the per-channel minimum interval between messages
	// for a provider; nil uses DefaultChannelInterval.
	Limits func(provider string) time.Duration
	// AccountLimits returns the minimum interval between any two
	// messages of a provider's account, whatever the channel; nil uses
	// DefaultAccountInterval.
	AccountLimits func(provider string) time.Duration
	// Breaker tunes the outage breaker (breaker.go).
	Breaker BreakerOptions
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = 256
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
		if o.Store.Dialect() == store.SQLite {
			o.PollInterval = 100 * time.Millisecond
		}
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = 2 * time.Minute
	}
	if o.RescueAfter <= o.SendTimeout {
		o.RescueAfter = o.SendTimeout + time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.AccountLimits == nil {
		o.AccountLimits = DefaultAccountInterval
	}
	if o.Limits == nil {
		o.Limits = DefaultChannelInterval
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil, nil)
	}
}

// DefaultChannelInterval is the minimum time between two messages to one
// channel, from the platforms' published limits: Slack allows about one
// message per second per channel, Discord webhooks 5 per 2 s, Telegram 20
// per minute in a group; others get a conservative 5 per second.
func DefaultChannelInterval(provider string) time.Duration {
	switch provider {
	case "slack", "mattermost", "rocketchat", "googlechat", "teams", "powerautomate":
		return time.Second
	case "discord", "guilded":
		return 400 * time.Millisecond
	case "telegram":
		return 3 * time.Second
	case "webhook":
		return 0
	}
	return 200 * time.Millisecond
}

// DefaultAccountInterval is the minimum time between two messages of one
// provider's account, for platforms that publish an overall limit:
// Telegram allows a bot about 30 messages a second. Other platforms'
// account limits are their servers' settings (a Matrix homeserver's
// rc_message, Zulip's and Mattermost's limiters), or apply to bots the
// sidecar does not use (Discord's 50 requests a second); for those the
// engine relies on the 429s, which pause the whole account
// (providers.LimitAccount).
func DefaultAccountInterval(provider string) time.Duration {
	if provider == "telegram" {
		return time.Second / 30
	}
	return 0
}

// Engine owns the job queue and the workers.
type Engine struct {
	opts      Options
	store     *store.Store
	log       *slog.Logger
	broker    *Broker
	limiter   *channelLimiter
	breaker   *breaker
	targets   *targetCache
	completer *batcher[store.Completion, struct{}]
	// holds bounds the workers waiting out a rate-limit pause in place.
	holds  chan struct{}
	loader *batcher[int64, *store.Work]
	// jobs inserts and deletes jobs in the store's transactions.
	jobs   txQueue
	runner runner
	// local runs the deliveries this process accepted; nil without
	// workers.
	local *localQueue
	// presence marks this process alive while it holds jobs back for
	// itself; nil without workers.
	presence *store.Presence
	pool     *pgxpool.Pool
	now      func() time.Time
}

// runner is the part of a River client the engine starts and stops; the
// worker client's transaction type differs by database.
type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// jobArgs is the River job of one delivery. It carries only the id: the
// delivery row is the truth, so a retried job sees its latest state.
type jobArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	// Prior is how many attempts were made before this job existed (a
	// local worker tried and handed the delivery over), so the backoff
	// goes on from there.
	Prior int `json:"prior,omitempty"`
	// Owner is the presence of the process that holds the job back
	// while it sends the delivery itself (rescue.go); 0 when River runs
	// the job.
	Owner int32 `json:"owner,omitempty"`
}

func (jobArgs) Kind() string { return "chatsidecar.delivery" }

// New builds an engine; Start begins working.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Store == nil || opts.Registry == nil {
		return nil, errors.New("delivery: Store and Registry are required")
	}
	opts.defaults()
	e := &Engine{
		opts:    opts,
		store:   opts.Store,
		log:     opts.Logger,
		limiter: newChannelLimiter(),
		targets: newTargetCache(opts.Store, time.Now),
		now:     time.Now,
	}
	e.breaker = newBreaker(opts.Breaker, 2*opts.SendTimeout, func(provider string, open bool) {
		opts.Metrics.outage(provider, open)
		if open {
			opts.Logger.Warn("deliveries to a provider wait: its platform failed on several channels in a row; probing it",
				"provider", provider)
		} else {
			opts.Logger.Info("the provider's platform answers again; its deliveries go on", "provider", provider,
				"woken", e.local.wake(provider))
		}
	})
	e.completer = newCompleter(opts.Store, e.now, e.deleteJobs)
	e.holds = make(chan struct{}, max(1, opts.Workers/4))
	e.loader = newLoader(opts.Store)
	e.broker = NewBroker(opts.Store, opts.DatabaseURL, opts.Logger, opts.Metrics)
	e.broker.cancelled = e.cancelledElsewhere

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{e: e}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &pruneWorker{e: e}); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Queues:               map[string]river.QueueConfig{queueName: {MaxWorkers: opts.Workers}},
		Workers:              workers,
		MaxAttempts:          opts.MaxAttempts,
		RetryPolicy:          &backoff{base: opts.RetryBase, max: opts.RetryMax},
		JobTimeout:           opts.SendTimeout + 30*time.Second,
		RescueStuckJobsAfter: opts.RescueAfter,
		FetchPollInterval:    opts.PollInterval,
		FetchCooldown:        min(opts.PollInterval, 20*time.Millisecond),
		Logger:               opts.Logger.With("component", "river"),
		// Completed jobs are only the queue's bookkeeping; the deliveries
		// table keeps the history.
		CompletedJobRetentionPeriod: time.Hour,
		ErrorHandler:                &errorHandler{log: opts.Logger},
		PeriodicJobs:                prunePeriodically(opts.Retention),
	}
	if !opts.WorkDisabled {
		p, err := opts.Store.Present(ctx)
		if err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
		e.presence = p
		cfg.ID = clientID(p.ID())
	}
	if err := e.newClients(ctx, cfg); err != nil {
		if e.presence != nil {
			_ = e.presence.Close()
		}
		return nil, err
	}
	return e, nil
}

// newClients makes the River clients of an engine: the one that inserts
// jobs in the store's transactions and, unless work is disabled, the
// one that works them.
func (e *Engine) newClients(ctx context.Context, cfg *river.Config) error {
	opts := e.opts
	switch opts.Store.Dialect() {
	case store.Postgres:
		// Inserts join intake's transaction through store.Queries.PgxTx,
		// so the inserting client needs no pool of its own; workers use
		// a pool so they LISTEN for new jobs. River tells listening
		// workers about inserts at most once per FetchCooldown of the
		// inserting client (100 ms by default), which would be most of a
		// delivery's latency at low load.
		icfg := &river.Config{FetchCooldown: 2 * time.Millisecond, FetchPollInterval: time.Second}
		ic, err := river.NewClient(riverpgxv5.New(nil), icfg)
		if err != nil {
			return err
		}
		e.jobs = pgxQueue{c: ic}
		if !opts.WorkDisabled {
			if opts.DatabaseURL == "" {
				return errors.New("delivery: DatabaseURL is required on PostgreSQL")
			}
			pcfg, err := pgxpool.ParseConfig(opts.DatabaseURL)
			if err != nil {
				return fmt.Errorf("delivery: %w", err)
			}
			pcfg.MaxConns = 8
			if e.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
				return fmt.Errorf("delivery: %w", err)
			}
			var c *river.Client[pgx.Tx]
			if c, err = river.NewClient(riverpgxv5.New(e.pool), cfg); err != nil {
				e.pool.Close()
				return err
			}
			e.runner = c
			e.local = newLocalQueue(opts.Workers)
		}
	default:
		if opts.WorkDisabled {
			cfg = &river.Config{}
		}
		c, err := river.NewClient(riversqlite.New(opts.Store.DB()), cfg)
		if err != nil {
			return err
		}
		e.jobs = sqlQueue{c: c}
		if !opts.WorkDisabled {
			e.runner = c
			e.local = newLocalQueue(opts.Workers)
		}
	}
	return nil
}

// Broker is where delivery updates are published and subscribed.
func (e *Engine) Broker() *Broker { return e.broker }

// Start begins working jobs and listening for updates from other
// replicas. It returns once both are running; cancelling ctx does not
// stop them (call Stop).
func (e *Engine) Start(ctx context.Context) error {
	if err := e.broker.Start(ctx); err != nil {
		return err
	}
	if e.runner == nil {
		return nil
	}
	// One completer makes the biggest groups of outcomes (see
	// IntakeOptions.Writers); two cost ~15 % more PostgreSQL CPU per
	// delivery at the peak. The loader only reads, for jobs River runs.
	e.completer.start(1)
	e.loader.start(2)
	e.startLocal(ctx)
	// River derives the jobs' contexts from this one and cancels them
	// when it ends; shutdown is Stop's job, which lets running
	// deliveries finish first.
	return e.runner.Start(context.WithoutCancel(ctx))
}

// Stop stops fetching jobs and waits for running deliveries to finish
// until ctx ends; then it cancels them (they are retried later, none is
// lost).
func (e *Engine) Stop(ctx context.Context) error {
	var err error
	if e.runner != nil {
		// River stops fetching at once, so the deliveries stopLocal
		// hands over due now are left to the next process instead of
		// being started here with no time left and cancelled mid-send.
		rerr := make(chan error, 1)
		go func() { rerr <- e.runner.Stop(ctx) }()
		e.stopLocal(ctx)
		if err = <-rerr; err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err = errors.Join(err, e.runner.StopAndCancel(cctx))
			cancel()
		}
		e.completer.close()
		e.loader.close()
	}
	e.broker.Stop()
	if e.pool != nil {
		e.pool.Close()
	}
	// Last: until now this process may still hold jobs back, and other
	// processes must not take them over.
	if e.presence != nil {
		err = errors.Join(err, e.presence.Close())
	}
	return err
}

// Enqueue stores deliveries and their jobs in the caller's transaction.
// The deliveries must be new (status QUEUED); their ids are set. notes
// gives the notification of each event by id, as the caller built it;
// deliveries of those events go to this process's workers while they
// have room (the returned Local, which the caller passes to Dispatch
// after the commit or to Release after a rollback). The others, and all
// of them without notes, wait for a queue worker on any replica.
func (e *Engine) Enqueue(ctx context.Context, q *store.Queries, ds []*store.Delivery,
	notes map[int64]*providers.Notification) (*Local, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	for _, d := range ds {
		if d.Status == "" {
			d.Status = store.StatusQueued
		}
	}
	facts, err := q.InsertDeliveries(ctx, ds)
	if err != nil {
		return nil, err
	}
	if err := e.notifyQueued(ctx, q, ds); err != nil {
		return nil, err
	}
	room := 0
	if len(notes) > 0 {
		room = e.local.reserve(len(ds))
	}
	local, err := e.insertJobs(ctx, q, ds, facts, notes, room)
	if err != nil {
		if room > 0 {
			e.local.load.Add(-int64(room))
		}
		return nil, err
	}
	return local, nil
}

// notifyQueued announces new or re-queued deliveries on PostgreSQL inside
// the transaction that queues them: NOTIFY is delivered at commit, and
// notifications of different transactions arrive in commit order, so every
// subscriber sees QUEUED before any worker's SENDING. Without PostgreSQL,
// Queued publishes after the commit instead.
func (e *Engine) notifyQueued(ctx context.Context, q *store.Queries, ds []*store.Delivery) error {
	if !e.broker.distributed() {
		return nil
	}
	payloads := make([]string, len(ds))
	for i, d := range ds {
		b, err := snapshot(d)
		if err != nil {
			return err
		}
		payloads[i] = string(b)
	}
	return q.Notify(ctx, notifyChannel, pack(payloads))
}

// Queued publishes deliveries a committed transaction queued through
// Enqueue (on PostgreSQL that transaction announced them already).
func (e *Engine) Queued(ds ...*store.Delivery) {
	if e.broker.distributed() {
		return
	}
	e.Published(ds...)
}

// insertJobs inserts the jobs of ds. The first room deliveries with a
// note are local: their jobs wait one lease, and the returned Local
// carries what their workers need (facts, read when the deliveries were
// inserted). The caller reserved room and releases it if this fails.
func (e *Engine) insertJobs(ctx context.Context, q *store.Queries, ds []*store.Delivery,
	facts map[int64]store.WorkFacts, notes map[int64]*providers.Notification, room int) (*Local, error) {
	lease := e.now().Add(e.opts.Lease)
	params := make([]river.InsertManyParams, len(ds))
	local := make([]int, 0, room)
	for i, d := range ds {
		opts := &river.InsertOpts{Queue: queueName, MaxAttempts: e.opts.MaxAttempts}
		args := jobArgs{DeliveryID: d.ID}
		if len(local) < room && notes[d.EventID] != nil {
			opts.ScheduledAt = lease
			args.Owner = e.presence.ID()
			local = append(local, i)
		}
		params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
	}
	res, err := e.jobs.insertMany(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("delivery: enqueue: %w", err)
	}
	if len(local) == 0 {
		return nil, nil
	}
	l := &Local{tasks: make([]*task, len(local))}
	for k, i := range local {
		d := ds[i]
		f := facts[d.ID]
		t := &task{w: &store.Work{Delivery: *d, EarlierPending: f.EarlierPending, TopicThread: f.TopicThread},
			note: notes[d.EventID], lease: lease}
		t.jobID.Store(res[i].Job.ID)
		l.tasks[k] = t
	}
	// Room not used (deliveries without a note) goes back.
	if unused := room - len(local); unused > 0 {
		e.local.load.Add(-int64(unused))
	}
	return l, nil
}

// Published tells the broker about deliveries a committed transaction
// created or changed.
func (e *Engine) Published(ds ...*store.Delivery) {
	for _, d := range ds {
		e.broker.Publish(d)
	}
}

// MaxRetryFailed bounds the deliveries one RetryFailed queues.
const MaxRetryFailed = 1000

// RetryFailed queues again, with fresh attempt counts, up to limit FAILED
// deliveries of a channel created at or after since (zero: any time),
// oldest first, so an outage is resent in order. It returns them and how
// many FAILED deliveries of the channel (since since) are left, for the
// next call. It is what an admin runs after fixing a channel's token or
// URL; retrying deliveries one by one does not scale to an outage.
func (e *Engine) RetryFailed(ctx context.Context, channelID int64, since time.Time, limit int) ([]*store.Delivery, int, error) {
	limit = min(max(limit, 1), MaxRetryFailed)
	ds, left, err := e.onChannel(ctx, channelID, func(q *store.Queries) ([]*store.Delivery, error) {
		ds, err := q.RequeueFailed(ctx, channelID, since, limit)
		if err != nil || len(ds) == 0 {
			return nil, err
		}
		if err := e.notifyQueued(ctx, q, ds); err != nil {
			return nil, err
		}
		_, err = e.insertJobs(ctx, q, ds, nil, nil, 0)
		return ds, err
	}, func(q *store.Queries) (int, error) { return q.CountFailed(ctx, channelID, since) })
	if err != nil {
		return nil, 0, err
	}
	e.Queued(ds...)
	return ds, left, nil
}

// onChannel runs change on deliveries of a channel and counts those left
// with left, in one transaction; a channel that does not exist is
// store.ErrNotFound.
func (e *Engine) onChannel(ctx context.Context, channelID int64, change func(q *store.Queries) ([]*store.Delivery, error),
	left func(q *store.Queries) (int, error)) (ds []*store.Delivery, n int, err error) {
	err = e.store.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.GetChannel(ctx, channelID); err != nil {
			return err
		}
		var err error
		if ds, err = change(q); err != nil {
			return err
		}
		n, err = left(q)
		return err
	})
	return ds, n, err
}

// ErrNotRetryable is returned by Retry for a delivery that is still in
// progress or already delivered.
var ErrNotRetryable = errors.New("only failed or cancelled deliveries can be retried")

// Retry queues a failed or cancelled delivery again, with a fresh attempt
// count.
func (e *Engine) Retry(ctx context.Context, id int64) (*store.Delivery, error) {
	var d *store.Delivery
	err := e.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		if d, err = q.LockDelivery(ctx, id); err != nil {
			return err
		}
		if d.Status != store.StatusFailed && d.Status != store.StatusCancelled {
			return ErrNotRetryable
		}
		d.Status, d.Attempts, d.NextAttemptAt = store.StatusQueued, 0, nil
		if err := q.SaveDelivery(ctx, d); err != nil {
			return err
		}
		if err := e.notifyQueued(ctx, q, []*store.Delivery{d}); err != nil {
			return err
		}
		_, err = e.insertJobs(ctx, q, []*store.Delivery{d}, nil, nil, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	e.Queued(d)
	return d, nil
}

// ErrNotCancellable is returned by Cancel for a delivery that is already
// finished.
var ErrNotCancellable = errors.New("only QUEUED or RETRYING deliveries can be cancelled")

// MaxCancelPending bounds the deliveries one CancelPending cancels.
const MaxCancelPending = 1000

// Cancel stops a QUEUED or RETRYING delivery: no worker sends it (again).
// One whose message is on its way to the platform at this moment may still
// end DELIVERED, since the message went out; a failed attempt under way
// does not bring it back (store.SaveOutcome).
func (e *Engine) Cancel(ctx context.Context, id int64) (*store.Delivery, error) {
	var d *store.Delivery
	err := e.store.InTx(ctx, func(q *store.Queries) error {
		var err error
		if d, err = q.LockDelivery(ctx, id); err != nil {
			return err
		}
		if d.Terminal() {
			return ErrNotCancellable
		}
		return q.CancelDeliveries(ctx, []*store.Delivery{d})
	})
	if err != nil {
		return nil, err
	}
	e.cancelled([]*store.Delivery{d})
	return d, nil
}

// CancelPending cancels up to limit unfinished deliveries of a channel
// created before before (zero: any time), oldest first, as Cancel does
// one. It returns them and how many unfinished ones are left. It is what
// an admin runs when a rule flooded a channel (at Slack's one message per
// second, a thousand queued notifications take a quarter of an hour), or
// when an outage's backlog is no longer news.
func (e *Engine) CancelPending(ctx context.Context, channelID int64, before time.Time, limit int) ([]*store.Delivery, int, error) {
	limit = min(max(limit, 1), MaxCancelPending)
	ds, left, err := e.onChannel(ctx, channelID, func(q *store.Queries) ([]*store.Delivery, error) {
		return q.CancelPending(ctx, channelID, before, limit)
	}, func(q *store.Queries) (int, error) { return q.CountPending(ctx, channelID, before) })
	if err != nil {
		return nil, 0, err
	}
	e.cancelled(ds)
	return ds, left, nil
}

// cancelled settles what a committed cancel leaves in this process and
// publishes it. Other replicas hear of it through the broker
// (cancelledElsewhere); River's jobs of the deliveries run once, find them
// CANCELLED and do nothing.
func (e *Engine) cancelled(ds []*store.Delivery) {
	if len(ds) == 0 {
		return
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
		e.opts.Metrics.delivery(d.Provider, "cancelled")
	}
	e.cancelledElsewhere(ids)
	e.Published(ds...)
}

// cancelledElsewhere stops this process's local tasks of cancelled
// deliveries, whichever replica cancelled them: a parked one at once,
// freeing its room and deleting its held job; a queued or running one
// before its next attempt (Engine.run checks the flag after every wait).
// A task already at the platform may still deliver, and a failed attempt
// does not undo the cancel (store.SaveOutcome).
func (e *Engine) cancelledElsewhere(ids []int64) {
	if ts := e.local.cancelTasks(ids); len(ts) > 0 {
		e.settleLocal(e.local.ctx, ts...)
	}
}

// backoff is the retry policy: exponential from base, capped, with ±25%
// jitter so a platform's recovery is not met by a thundering herd.
type backoff struct{ base, max time.Duration }

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	var args jobArgs
	_ = json.Unmarshal(job.EncodedArgs, &args)
	return time.Now().Add(b.delay(job.Attempt+args.Prior, rand.Float64()))
}

// delay is the wait after the given (1-based) failed attempt, for a jitter
// draw r in [0,1).
func (b *backoff) delay(attempt int, r float64) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return time.Duration(float64(d) * (0.75 + r*0.5))
}

// errorHandler logs panics in workers; errors are recorded on deliveries.
type errorHandler struct{ log *slog.Logger }

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "delivery worker panicked", "job", job.ID, "panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}

// snapshot is the JSON form of a delivery update on the wire between
// replicas.
func snapshot(d *store.Delivery) ([]byte, error) { return json.Marshal(d) }
