package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// worker adapts River's job to the engine.
type worker struct {
	river.WorkerDefaults[jobArgs]
	e *Engine
}

func (w *worker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	last := job.Attempt >= job.MaxAttempts
	return w.e.work(ctx, job.Args.DeliveryID, last)
}

// Timeout leaves the bound to work, which limits the platform call itself.
func (w *worker) Timeout(*river.Job[jobArgs]) time.Duration { return -1 }

// maxRateWait is the longest a worker waits in place for a channel's rate
// limit; longer waits snooze the job and free the worker.
const maxRateWait = 2 * time.Second

// work runs River's job of a delivery. It returns nil when the job is
// done (delivered, failed for good, or nothing left to do), a River snooze
// to try later without spending an attempt, or an error to retry with
// backoff.
func (e *Engine) work(ctx context.Context, id int64, jobLast bool) error {
	if e.local.holding(id) {
		// This process is sending it (its lease ended while it waited
		// for a slow platform): wait for the outcome.
		return river.JobSnooze(e.opts.Lease)
	}
	w, err := e.loader.do(ctx, id)
	if err != nil {
		return err
	}
	if w == nil {
		return nil // its channel was deleted
	}
	return e.run(ctx, &task{w: w, jobLast: jobLast})
}

// run performs one delivery attempt, for River's job or a local worker;
// it returns what work does.
func (e *Engine) run(ctx context.Context, t *task) error {
	w := t.w
	d := &w.Delivery
	lastAttempt := t.jobLast || d.Attempts+1 >= e.opts.MaxAttempts
	if d.Terminal() {
		// A crash after the outcome was saved and before the job was
		// completed: the message went out, do not send it twice.
		return nil
	}
	ch, err := e.targets.channel(ctx, d.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	p, ok := e.opts.Registry.Get(d.Provider)
	if !ok {
		return e.finish(ctx, t, ch, store.StatusCancelled, fmt.Errorf("provider %q is not built into this server", d.Provider))
	}
	pc, err := e.targets.provider(ctx, d.Provider)
	if err != nil {
		return err
	}
	target := newTarget(ch, p, pc)

	if d.TopicID != nil && w.EarlierPending {
		if wait, err := e.waitTurn(ctx, d); err != nil || wait {
			return err
		}
	}

	var n providers.Notification
	if t.note != nil {
		n = *t.note // shared by the event's deliveries: a copy to change
	} else if err := json.Unmarshal([]byte(w.Payload), &n); err != nil {
		return e.finish(ctx, t, ch, store.StatusFailed, fmt.Errorf("stored event %d is unreadable: %w", d.EventID, err))
	}
	n.Filter = d.Filter

	var pm *store.PostMessage
	if d.Action != store.ActionSend {
		if _, ok := p.(providers.Editor); !ok {
			return e.finish(ctx, t, ch, store.StatusCancelled, errors.New("the platform cannot change sent messages"))
		}
		// The send came first (waitTurn), so no message now means the
		// send failed or the platform gave no id to change.
		pm, err = e.store.GetPostMessage(ctx, ch.ID, n.Post.ID)
		if errors.Is(err, store.ErrNotFound) {
			return e.finish(ctx, t, ch, store.StatusCancelled, errors.New("the post never reached this channel as a message that can be changed"))
		}
		if err != nil {
			return err
		}
	} else if n.Topic.ID != 0 {
		n.ThreadID = w.TopicThread
		if w.EarlierPending {
			// It waited for an earlier delivery, which may have
			// started the thread since.
			if n.ThreadID, err = e.store.TopicThread(ctx, ch.ID, n.Topic.ID); err != nil {
				return err
			}
		}
	}

	// The cancel flag is checked after every wait: an admin may have
	// cancelled the delivery meanwhile, on any replica (cancelledElsewhere).
	for {
		if t.cancelled.Load() {
			return nil
		}
		if wait := e.limiter.pausedFor(ch.ID, d.Provider, e.now()); wait > 0 {
			if !e.holdFor(ctx, wait) {
				return river.JobSnooze(wait)
			}
			if t.cancelled.Load() {
				return nil
			}
		}
		if wait := e.breaker.blockedFor(d.Provider, e.now()); wait > 0 {
			// The platform is down for every channel: wait for the probe
			// without spending an attempt.
			if !e.holdFor(ctx, wait) {
				return river.JobSnooze(wait)
			}
			continue
		}
		limit := pace{channel: e.opts.Limits(d.Provider), account: e.opts.AccountLimits(d.Provider)}
		if wait := e.limiter.reserve(ch.ID, d.Provider, limit, e.now()); wait > 0 {
			if wait > maxRateWait || !sleep(ctx, wait) {
				return river.JobSnooze(wait)
			}
			if t.cancelled.Load() {
				return nil
			}
			// A 429 met by another delivery while this one waited for
			// its slot holds it too: back to the checks, and a fresh
			// slot once the pause is over. (The breaker is not asked
			// again: it would count this delivery, if it is the probe,
			// as a second caller and hold it back. An attempt begun as
			// the breaker opens spends no attempt.)
			if e.limiter.pausedFor(ch.ID, d.Provider, e.now()) > 0 {
				continue
			}
		}
		again, err := e.attempt(ctx, t, ch, p, target, &n, pm, lastAttempt)
		if !again {
			return err
		}
	}
}

// attempt makes one platform call for a delivery and records its outcome.
// again asks the caller to try once more in place: the platform rate
// limited the channel for a short while, and the caller waits that out
// (or snoozes the job when too many workers are waiting already).
func (e *Engine) attempt(ctx context.Context, t *task, ch *store.Channel, p providers.Provider,
	target *providers.Target, n *providers.Notification, pm *store.PostMessage, lastAttempt bool) (again bool, err error) {
	d := &t.w.Delivery
	// SENDING is announced, not stored: it lasts as long as one platform
	// call, and after a crash the stored QUEUED or RETRYING says truly
	// that the delivery will be tried again.
	sending := *d
	sending.Status, sending.UpdatedAt = store.StatusSending, e.now().UTC()
	e.Published(&sending)

	sctx, cancel := context.WithTimeout(ctx, e.opts.SendTimeout)
	start := e.now()
	var receipt *providers.Receipt
	var left string // the thread the message was posted outside of, its root gone
	switch d.Action {
	case store.ActionSend:
		nf, ok := p.(providers.Notifier)
		if !ok {
			cancel()
			return false, e.finish(ctx, t, ch, store.StatusCancelled, errors.New("the platform cannot deliver notifications yet"))
		}
		receipt, err = nf.Notify(sctx, target, n)
		if n.ThreadID != "" && errors.Is(err, providers.ErrThreadNotFound) && ctx.Err() == nil {
			// The topic's thread root was deleted on the platform, and
			// every reply into it would fail the same way. Post outside
			// the thread once, in this attempt and without waiting: the
			// new message becomes the topic's thread (completionOf).
			e.log.InfoContext(ctx, "the topic's thread is gone from the platform; posting outside it",
				"delivery", d.ID, "channel", ch.ID, "provider", d.Provider)
			left, n.ThreadID = n.ThreadID, ""
			cancel()
			sctx, cancel = context.WithTimeout(ctx, e.opts.SendTimeout)
			if receipt, err = nf.Notify(sctx, target, n); err != nil {
				// A retry in place (after a 429) finds the thread gone
				// again and so still records the move on success.
				n.ThreadID = left
			}
		}
	case store.ActionEdit:
		err = p.(providers.Editor).Edit(sctx, target, receiptOf(pm), n)
	case store.ActionDelete:
		err = p.(providers.Editor).Delete(sctx, target, receiptOf(pm))
	}
	cancel()
	e.opts.Metrics.observeSend(d.Provider, e.now().Sub(start))

	if err == nil {
		e.breaker.answered(d.Provider)
		return false, e.succeed(ctx, t, ch, n, receipt, left)
	}
	if ctx.Err() != nil {
		// Shutdown, not the platform: try again at once on the next start.
		d.Status = store.StatusQueued
		if err := e.store.SaveOutcome(context.WithoutCancel(ctx), d); errors.Is(err, store.ErrChanged) {
			return false, nil
		}
		e.Published(d)
		return false, river.JobSnooze(0)
	}
	permanent, limited, retryAfter := providers.Classify(err)
	var outage time.Duration // how long a known outage of the platform holds deliveries back
	if permanent || limited {
		e.breaker.answered(d.Provider) // the platform is up
	} else {
		outage = e.breaker.failed(d.Provider, ch.ID, e.now())
	}
	switch {
	case limited:
		if retryAfter <= 0 {
			retryAfter = time.Second
		}
		next := e.now().Add(retryAfter)
		if err := e.retrying(ctx, d, err, &next, "rate_limited"); err != nil {
			return false, ignoreChanged(err)
		}
		e.limiter.pause(ch.ID, d.Provider, providers.ScopeOf(err), next)
		// The caller waits a short pause out in place; River would
		// take up to its scheduler's interval (5 s) to run a snoozed
		// job again.
		return true, nil
	case permanent:
		d.Attempts++
		return false, e.finish(ctx, t, ch, store.StatusFailed, err)
	case outage > 0:
		// The platform is down for every channel (breaker.go): that says
		// nothing of this delivery, so it spends no attempt and waits for
		// the next probe like the others, which the caller arranges.
		next := e.now().Add(outage)
		if err := e.retrying(ctx, d, err, &next, "retry"); err != nil {
			return false, ignoreChanged(err)
		}
		return true, nil
	case lastAttempt:
		d.Attempts++
		return false, e.finish(ctx, t, ch, store.StatusFailed, err)
	default:
		d.Attempts++
		if err := e.retrying(ctx, d, err, nil, "retry"); err != nil {
			return false, ignoreChanged(err)
		}
		return false, err
	}
}

// retrying records an attempt that will be tried again (at next, when the
// platform said when) and publishes it; it returns SaveOutcome's error.
func (e *Engine) retrying(ctx context.Context, d *store.Delivery, cause error, next *time.Time, outcome string) error {
	d.Status, d.NextAttemptAt = store.StatusRetrying, next
	setError(d, cause)
	e.opts.Metrics.delivery(d.Provider, outcome)
	if err := e.store.SaveOutcome(ctx, d); err != nil {
		return err
	}
	e.Published(d)
	return nil
}

// succeed records a delivered message, the message id for later edits and
// the topic's thread, and clears the channel's error. left is the thread
// the message was posted outside of because its root is gone, "" if none.
func (e *Engine) succeed(ctx context.Context, t *task, ch *store.Channel, n *providers.Notification,
	r *providers.Receipt, left string) error {
	d := &t.w.Delivery
	now := e.now().UTC()
	d.Attempts++
	d.Status, d.DeliveredAt, d.NextAttemptAt = store.StatusDelivered, &now, nil
	d.LastErrorKey, d.LastErrorMessage = nil, nil
	if r != nil && r.MessageID != "" {
		d.RemoteID = &r.MessageID
	}
	if r != nil && r.ThreadID != "" {
		d.ThreadID = &r.ThreadID
	}
	c := completionOf(d, ch, n, r, left)
	c.JobID = t.jobID.Load()
	_, err := e.completer.do(ctx, c)
	if ch.LastError != nil {
		e.targets.forget(ch.ID)
	}
	if err != nil {
		return err
	}
	t.jobID.CompareAndSwap(c.JobID, 0)
	e.opts.Metrics.delivery(d.Provider, "delivered")
	e.opts.Metrics.observeLatency(d.Provider, now.Sub(d.CreatedAt))
	e.Published(d)
	return nil
}

// finish ends a delivery without success: FAILED records the error on the
// delivery and the channel, CANCELLED only on the delivery.
func (e *Engine) finish(ctx context.Context, t *task, ch *store.Channel, status string, cause error) error {
	d := &t.w.Delivery
	d.Status, d.NextAttemptAt = status, nil
	setError(d, cause)
	job := t.jobID.Load()
	var changed bool
	err := e.store.InTx(ctx, func(q *store.Queries) error {
		// The held job and the channel's error are settled even when an
		// admin cancelled (or cancelled and retried) the delivery
		// meanwhile: the platform's answer says something true of the
		// channel, and a retry has a job of its own.
		if err := q.SaveOutcome(ctx, d); errors.Is(err, store.ErrChanged) {
			changed = true
		} else if err != nil {
			return err
		}
		if job != 0 {
			if _, err := e.deleteJobs(ctx, q, []int64{job}); err != nil {
				return err
			}
		}
		if status == store.StatusFailed {
			return q.SetChannelError(ctx, ch.ID, &store.ChannelError{
				Key: providers.ErrorKey(cause), Message: truncate(cause.Error(), 1000), At: e.now().UTC()})
		}
		return nil
	})
	e.targets.forget(ch.ID)
	if err != nil {
		return err
	}
	t.jobID.CompareAndSwap(job, 0)
	if changed {
		return nil
	}
	e.opts.Metrics.delivery(d.Provider, map[string]string{store.StatusFailed: "failed", store.StatusCancelled: "cancelled"}[status])
	e.Published(d)
	e.log.WarnContext(ctx, "delivery ended without success", "delivery", d.ID, "channel", ch.ID,
		"provider", d.Provider, "status", status, "key", providers.ErrorKey(cause), "error", cause)
	return nil
}

// ignoreChanged turns SaveOutcome finding the delivery changed by
// somebody else (cancelled, or queued again with a job of its own) into
// success: this attempt is over and nothing is left for it to do.
func ignoreChanged(err error) error {
	if errors.Is(err, store.ErrChanged) {
		return nil
	}
	return err
}

func setError(d *store.Delivery, err error) {
	key, msg := providers.ErrorKey(err), truncate(err.Error(), 1000)
	d.LastErrorKey, d.LastErrorMessage = &key, &msg
}

func receiptOf(pm *store.PostMessage) *providers.Receipt {
	r := &providers.Receipt{MessageID: pm.MessageID, ThreadID: pm.ThreadID}
	if pm.Extra != "" {
		_ = json.Unmarshal([]byte(pm.Extra), &r.Extra)
	}
	return r
}

// newTarget is where a delivery, or a check, of channel ch goes: its data
// and its provider's settings with defaults.
func newTarget(ch *store.Channel, p providers.Provider, pc *store.ProviderConfig) *providers.Target {
	return &providers.Target{ChannelID: ch.ID, ChannelName: ch.Name, Data: ch.Data, Settings: settingsOf(p, pc)}
}

// settingsOf fills a provider's settings with defaults.
func settingsOf(p providers.Provider, pc *store.ProviderConfig) providers.Settings {
	var stored map[string]any
	if pc != nil {
		stored = pc.Settings
	}
	s := make(providers.Settings, len(p.Settings()))
	for _, def := range p.Settings() {
		if v := providers.SettingValue(p, stored, def.Key); v != nil {
			s[def.Key] = v
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// turnWait bounds how long a delivery waits in place for earlier ones of
// its topic before it snoozes and frees the worker.
const turnWait = 2 * time.Second

// waitTurn holds a delivery while an earlier delivery of the same topic to
// the same channel is unfinished. It reports true with a snooze error when
// the wait is long; a failed or cancelled earlier delivery no longer
// blocks.
func (e *Engine) waitTurn(ctx context.Context, d *store.Delivery) (bool, error) {
	deadline := e.now().Add(turnWait)
	for step := 10 * time.Millisecond; ; step = min(step*2, 200*time.Millisecond) {
		pending, err := e.store.EarlierPending(ctx, d.ChannelID, *d.TopicID, d.ID)
		if err != nil {
			return true, err
		}
		if !pending {
			return false, nil
		}
		if e.now().After(deadline) {
			return true, river.JobSnooze(turnWait)
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return true, river.JobSnooze(0)
		case <-t.C:
		}
	}
}

// sleep waits d, or until ctx ends; it reports whether the full wait
// passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// holdFor waits out a channel's short rate-limit pause in place, which
// resumes the delivery as soon as the platform allows. It refuses (and
// the caller snoozes the job instead) when the pause is long or when a
// quarter of the workers are already waiting, so a paused channel cannot
// tie up the workers other channels need.
func (e *Engine) holdFor(ctx context.Context, d time.Duration) bool {
	if d > maxRateWait {
		return false
	}
	select {
	case e.holds <- struct{}{}:
	default:
		return false
	}
	defer func() { <-e.holds }()
	return sleep(ctx, d)
}
