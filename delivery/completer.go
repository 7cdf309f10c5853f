package delivery

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// completer records confirmed deliveries in groups: the workers that got
// a success hand it over and wait, and one transaction records every
// success waiting, so a busy engine pays one commit per group instead of
// one per message. A worker returns only after its success is committed,
// so River never completes a job whose delivery is not recorded (the
// guarantee that a restart sends nothing twice).
type completer struct {
	st  *store.Store
	now func() time.Time
	in  chan *pendingCompletion

	stop chan struct{}
	wg   sync.WaitGroup
}

type pendingCompletion struct {
	c    store.Completion
	done chan error
}

// maxCompletions bounds one group.
const maxCompletions = 256

func newCompleter(st *store.Store, now func() time.Time) *completer {
	return &completer{st: st, now: now, in: make(chan *pendingCompletion, maxCompletions)}
}

func (cm *completer) start(n int) {
	cm.stop = make(chan struct{})
	cm.wg.Add(n)
	for range n {
		go cm.loop()
	}
}

// close stops the loops once no worker can hand over anything more.
func (cm *completer) close() {
	if cm.stop != nil {
		close(cm.stop)
		cm.wg.Wait()
		cm.stop = nil
	}
}

// complete records one success and waits for its commit.
func (cm *completer) complete(ctx context.Context, c store.Completion) error {
	p := &pendingCompletion{c: c, done: make(chan error, 1)}
	select {
	case cm.in <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-p.done
}

func (cm *completer) loop() {
	defer cm.wg.Done()
	group := make([]*pendingCompletion, 0, maxCompletions)
	for {
		select {
		case p := <-cm.in:
			group = append(group[:0], p)
		case <-cm.stop:
			return
		}
	fill:
		for len(group) < maxCompletions {
			select {
			case p := <-cm.in:
				group = append(group, p)
			default:
				break fill
			}
		}
		cm.write(group)
	}
}

func (cm *completer) write(group []*pendingCompletion) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := cm.now().UTC()
	cs := make([]store.Completion, len(group))
	for i, p := range group {
		cs[i] = p.c
	}
	err := cm.st.InTx(ctx, func(q *store.Queries) error { return q.CompleteDeliveries(ctx, cs, at) })
	if err == nil || len(group) == 1 {
		for _, p := range group {
			p.done <- err
		}
		return
	}
	// One bad record must not fail the others.
	for _, p := range group {
		p.done <- cm.st.InTx(ctx, func(q *store.Queries) error {
			return q.CompleteDeliveries(ctx, []store.Completion{p.c}, at)
		})
	}
}

// completionOf describes a success for the completer.
func completionOf(d *store.Delivery, ch *store.Channel, n *providers.Notification, r *providers.Receipt) store.Completion {
	c := store.Completion{DeliveryID: d.ID, ChannelID: ch.ID, Action: d.Action, PostID: n.Post.ID, TopicID: n.Topic.ID,
		ClearChannelError: ch.LastError != nil}
	if r != nil {
		c.MessageID, c.ThreadID = r.MessageID, r.ThreadID
		if len(r.Extra) > 0 {
			b, _ := json.Marshal(r.Extra)
			c.Extra = string(b)
		}
	}
	return c
}
