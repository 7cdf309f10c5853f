package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
)

// TestLocalQueueReserve shows that local room is bounded by the queue's
// capacity, so Dispatch can never block a committed intake, and that
// room given back can be reserved again.
func TestLocalQueueReserve(t *testing.T) {
	lq := newLocalQueue(2) // capacity 2·localBacklog
	capacity := 2 * localBacklog
	require.Equal(t, capacity-10, lq.reserve(capacity-10))
	require.Equal(t, 10, lq.reserve(25), "only the room left is granted")
	require.Equal(t, 0, lq.reserve(1), "a full queue grants nothing: the deliveries go to River")
	lq.load.Add(-5)
	require.Equal(t, 5, lq.reserve(7))

	var nilQueue *localQueue
	require.Equal(t, 0, nilQueue.reserve(3), "an engine without workers sends nothing itself")
	require.False(t, nilQueue.holding(1))
}

// TestLocalQueueHolding shows that River's copy of a job is held back
// exactly while a local worker has its delivery.
func TestLocalQueueHolding(t *testing.T) {
	lq := newLocalQueue(1)
	require.Equal(t, 1, lq.reserve(1))
	tk := &task{w: &store.Work{Delivery: store.Delivery{ID: 42}}}
	lq.inflight[42] = tk
	require.True(t, lq.holding(42))
	require.False(t, lq.holding(43))
	lq.untrack(tk)
	require.False(t, lq.holding(42))
	require.Zero(t, lq.load.Load(), "untrack gives the room back")
}

// TestLocalQueueWake shows that when a provider's platform answers again,
// its parked tasks are queued at once, and other providers' stay parked.
func TestLocalQueueWake(t *testing.T) {
	lq := newLocalQueue(1)
	slack := &task{w: &store.Work{Delivery: store.Delivery{ID: 1, Provider: "slack"}}}
	matrix := &task{w: &store.Work{Delivery: store.Delivery{ID: 2, Provider: "matrix"}}}
	for _, tk := range []*task{slack, matrix} {
		require.Equal(t, 1, lq.reserve(1))
		lq.inflight[tk.w.ID] = tk
		lq.parked[tk] = parking{at: time.Now().Add(time.Hour), timer: time.AfterFunc(time.Hour, func() {})}
	}
	require.Equal(t, 1, lq.wake("slack"))
	require.Same(t, slack, <-lq.q)
	require.Contains(t, lq.parked, matrix)
	require.NotContains(t, lq.parked, slack)
	require.Zero(t, lq.wake("slack"), "nothing of slack's left parked")
	lq.parked[matrix].timer.Stop()
}
