package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// completer records confirmed deliveries in groups: the workers that got
// a success hand it over and wait, and one transaction records every
// success waiting, so a busy engine pays one commit per group instead of
// one per message. A worker returns only after its success is committed,
// so River never completes a job whose delivery is not recorded (the
// guarantee that a restart sends nothing twice). A group that fails is
// recorded again one success at a time, so one bad record cannot fail the
// others.
//
// The jobs of deliveries a local worker sent (Completion.JobID) are deleted
// in the same transaction: they only stood by in case this process died.
func newCompleter(st *store.Store, now func() time.Time,
	deleteJobs func(ctx context.Context, q *store.Queries, ids []int64) ([]int64, error)) *batcher[store.Completion, struct{}] {
	return newBatcher(func(ctx context.Context, cs []store.Completion) ([]struct{}, error) {
		at := now().UTC()
		var jobs []int64
		for _, c := range cs {
			if c.JobID != 0 {
				jobs = append(jobs, c.JobID)
			}
		}
		err := st.InTx(ctx, func(q *store.Queries) error {
			if err := q.CompleteDeliveries(ctx, cs, at); err != nil {
				return err
			}
			_, err := deleteJobs(ctx, q, jobs)
			return err
		})
		return make([]struct{}, len(cs)), err
	}, true)
}

// newLoader reads work for deliveries in groups: workers that River
// started together share one query. A delivery that no longer exists
// yields a nil *store.Work.
func newLoader(st *store.Store) *batcher[int64, *store.Work] {
	return newBatcher(func(ctx context.Context, ids []int64) ([]*store.Work, error) {
		ws, err := st.LoadWorks(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]*store.Work, len(ids))
		for i, id := range ids {
			out[i] = ws[id]
		}
		return out, nil
	}, false)
}

// completionOf describes a success for the completer. left is the thread
// the message was meant for but posted outside of, because the platform no
// longer holds its root (providers.ErrThreadNotFound); "" when it was not.
func completionOf(d *store.Delivery, ch *store.Channel, n *providers.Notification, r *providers.Receipt, left string) store.Completion {
	c := store.Completion{DeliveryID: d.ID, ChannelID: ch.ID, Action: d.Action, PostID: n.Post.ID, TopicID: n.Topic.ID,
		ClearChannelError: ch.LastError != nil}
	if r != nil {
		c.MessageID, c.ThreadID = r.MessageID, r.ThreadID
		switch {
		case left != "":
			// The message roots the topic's thread (r.ThreadID) in place
			// of the one whose root is gone.
			c.RepliedTo = left
		case n.Filter == string(rules.Thread):
			// Providers reply into n.ThreadID only under a thread rule;
			// one that posted outside a gone thread by itself reports
			// the new root as r.ThreadID.
			c.RepliedTo = n.ThreadID
		}
		if len(r.Extra) > 0 {
			b, _ := json.Marshal(r.Extra)
			c.Extra = string(b)
		}
	}
	return c
}
