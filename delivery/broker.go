package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatsidecar/chatsidecar/store"
)

// notifyChannel is the PostgreSQL NOTIFY channel delivery updates travel
// on between replicas.
const notifyChannel = "chatsidecar_delivery"

// subscriberBuffer is how many updates a subscriber may fall behind before
// the oldest are dropped; a slow subscriber never blocks delivery.
const subscriberBuffer = 256

// Broker fans delivery updates out to subscribers. On SQLite (one process)
// it hands updates over in memory. On PostgreSQL every update goes through
// NOTIFY, in batches, and every replica's LISTEN connection hands them to
// its subscribers, so a subscriber sees the work of all replicas through
// one path, in the order each replica published.
type Broker struct {
	st      *store.Store
	url     string
	log     *slog.Logger
	metrics *Metrics

	mu   sync.Mutex
	subs map[*subscriber]struct{}

	out    chan []byte
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// cancelled, when set, is told of the deliveries any replica
	// cancelled, so this process stops its own work on them (the engine
	// sets it before Start).
	cancelled func(ids []int64)
}

type subscriber struct {
	channelID int64
	ch        chan *store.Delivery
}

// NewBroker makes a broker; databaseURL is needed on PostgreSQL to LISTEN.
func NewBroker(st *store.Store, databaseURL string, log *slog.Logger, m *Metrics) *Broker {
	return &Broker{st: st, url: databaseURL, log: log, metrics: m,
		subs: make(map[*subscriber]struct{}), out: make(chan []byte, 8192)}
}

func (b *Broker) distributed() bool { return b.st.Dialect() == store.Postgres && b.url != "" }

// Start connects the LISTEN side before returning, so nothing published
// after Start is missed.
func (b *Broker) Start(ctx context.Context) error {
	if !b.distributed() {
		return nil
	}
	conn, err := b.listen(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.wg.Add(2)
	go func() { defer b.wg.Done(); b.listenLoop(rctx, conn) }()
	go func() { defer b.wg.Done(); b.publishLoop(rctx) }()
	return nil
}

// Stop ends the background work; updates still queued are sent first.
func (b *Broker) Stop() {
	if b.cancel != nil {
		b.cancel()
		b.wg.Wait()
		b.cancel = nil
	}
}

// Subscribe returns updates for one channel (0: every channel) until
// cancel is called.
func (b *Broker) Subscribe(channelID int64) (<-chan *store.Delivery, func()) {
	s := &subscriber{channelID: channelID, ch: make(chan *store.Delivery, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	b.metrics.subscribers(1)
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			b.metrics.subscribers(-1)
		})
	}
}

// Subscribers is the number of live subscriptions in this process.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Publish announces a delivery's current state. It never blocks.
func (b *Broker) Publish(d *store.Delivery) {
	cp := *d
	if !b.distributed() {
		b.dispatch(&cp)
		return
	}
	payload, err := snapshot(&cp)
	if err != nil {
		return
	}
	select {
	case b.out <- payload:
	default:
		b.metrics.droppedUpdate()
	}
}

func (b *Broker) dispatch(d *store.Delivery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.channelID != 0 && s.channelID != d.ChannelID {
			continue
		}
		select {
		case s.ch <- d:
		default:
			// Full: drop the oldest so the newest state gets through.
			select {
			case <-s.ch:
			default:
			}
			select {
			case s.ch <- d:
			default:
			}
			b.metrics.droppedUpdate()
		}
	}
}

// publishLinger is how long the publisher waits for more updates before
// it sends what it has. Every send is a statement, a commit and a wake-up
// of every replica's listener; without the wait, a moderate rate (a few
// hundred deliveries a second) sends nearly one notification per update,
// as each is published alone. Subscribers are people watching a status,
// to whom a few milliseconds are invisible.
const publishLinger = 5 * time.Millisecond

// publishLoop sends queued updates with one statement per batch.
func (b *Broker) publishLoop(ctx context.Context) {
	batch := make([]string, 0, 256)
	for {
		select {
		case <-ctx.Done():
			// Drain what is queued, best effort.
			batch = batch[:0]
		drain:
			for {
				select {
				case p := <-b.out:
					batch = append(batch, string(p))
				default:
					break drain
				}
			}
			b.flush(context.Background(), batch)
			return
		case p := <-b.out:
			batch = gather(ctx, b.out, append(batch[:0], string(p)), publishLinger)
			// Sent even when ctx ended while gathering, as the drain
			// above would; flush bounds the wait.
			b.flush(context.WithoutCancel(ctx), batch)
		}
	}
}

// gather adds to batch what arrives on in until batch is full, linger has
// passed or ctx ends.
func gather(ctx context.Context, in <-chan []byte, batch []string, linger time.Duration) []string {
	t := time.NewTimer(linger)
	defer t.Stop()
	for len(batch) < cap(batch) {
		select {
		case p := <-in:
			batch = append(batch, string(p))
		case <-t.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

func (b *Broker) flush(ctx context.Context, batch []string) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.st.NotifyNow(ctx, notifyChannel, pack(batch)); err != nil {
		b.log.WarnContext(ctx, "could not publish delivery updates", "count", len(batch), "error", err)
	}
}

func (b *Broker) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, b.url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// listenLoop hands notifications to subscribers and reconnects with
// backoff when the connection drops.
func (b *Broker) listenLoop(ctx context.Context, conn *pgx.Conn) {
	wait := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				_ = conn.Close(context.Background())
				conn = nil
				if ctx.Err() != nil {
					return
				}
				b.log.WarnContext(ctx, "delivery update listener lost its connection", "error", err)
				break
			}
			wait = 100 * time.Millisecond
			subscribed := b.Subscribers() > 0
			if !subscribed && (b.cancelled == nil || !strings.Contains(n.Payload, cancelledMark)) {
				continue // nobody here to tell: skip decoding
			}
			var cancelled []int64
			for _, d := range unpack(n.Payload) {
				if d == nil {
					continue
				}
				if d.Status == store.StatusCancelled {
					cancelled = append(cancelled, d.ID)
				}
				if subscribed {
					b.dispatch(d)
				}
			}
			if len(cancelled) > 0 && b.cancelled != nil {
				b.cancelled(cancelled)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, 10*time.Second)
		c, err := b.listen(ctx)
		if err == nil {
			conn = c
		}
	}
}

// cancelledMark is in every notification that carries a cancelled
// delivery, so the listener decodes only those when nobody subscribed.
const cancelledMark = `"` + store.StatusCancelled + `"`

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte
// payload limit.
const maxNotifyPayload = 7900

// pack joins delivery snapshots into as few notifications as fit, each a
// JSON array, in order. Every update is one notification on PostgreSQL's
// shared queue and one wake-up on every replica, so a burst of thousands
// of updates per second is far cheaper packed. A snapshot too large to
// share travels alone.
func pack(snaps []string) []string {
	var out []string
	var buf strings.Builder
	flush := func() {
		if buf.Len() > 0 {
			buf.WriteByte(']')
			out = append(out, buf.String())
			buf.Reset()
		}
	}
	for _, s := range snaps {
		if buf.Len() > 0 && buf.Len()+len(s)+2 > maxNotifyPayload {
			flush()
		}
		if buf.Len() == 0 {
			buf.WriteByte('[')
		} else {
			buf.WriteByte(',')
		}
		buf.WriteString(s)
	}
	flush()
	return out
}

// unpack reads a notification: a packed array of snapshots, or a single
// snapshot as replicas of earlier versions sent during a rolling upgrade.
// Unreadable payloads yield nothing.
func unpack(payload string) []*store.Delivery {
	if strings.HasPrefix(payload, "[") {
		var ds []*store.Delivery
		if json.Unmarshal([]byte(payload), &ds) != nil {
			return nil
		}
		return ds
	}
	var d store.Delivery
	if json.Unmarshal([]byte(payload), &d) != nil {
		return nil
	}
	return []*store.Delivery{&d}
}
