package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// A subscriber that never reads must not block publishing (delivery), and
// when it catches up the newest state is what it sees last.
func TestBrokerSlowSubscriberNeverBlocks(t *testing.T) {
	reg, err := builtin.Registry()
	require.NoError(t, err)
	st := storetest.Open(t, storetest.SQLite(t), reg)
	m := NewMetrics(nil, nil)
	b := NewBroker(st, "", nil, m)
	slow, cancelSlow := b.Subscribe(0)
	defer cancelSlow()
	other, cancelOther := b.Subscribe(2)
	defer cancelOther()
	require.Equal(t, 2, b.Subscribers())

	const n = 10 * subscriberBuffer
	for i := 1; i <= n; i++ {
		b.Publish(&store.Delivery{ID: int64(i), ChannelID: 1, Status: store.StatusQueued})
	}
	require.Len(t, slow, subscriberBuffer, "the buffer is full, not grown")
	require.Empty(t, other, "updates of another channel are not delivered")
	var last *store.Delivery
	for range subscriberBuffer {
		last = <-slow
	}
	require.Equal(t, int64(n), last.ID, "the oldest updates were dropped, the newest kept")

	cancelSlow()
	cancelOther()
	require.Zero(t, b.Subscribers())
}

// Packed notifications stay under PostgreSQL's payload limit, keep every
// update in order, and unpack to the same deliveries; a single snapshot
// from an older replica still reads.
func TestPackUnpack(t *testing.T) {
	var snaps []string
	for i := range 100 {
		b, err := snapshot(&store.Delivery{ID: int64(i + 1), ChannelID: 7, Status: store.StatusQueued, Provider: "slack"})
		require.NoError(t, err)
		snaps = append(snaps, string(b))
	}
	packed := pack(snaps)
	require.Greater(t, len(packed), 1, "100 snapshots do not fit one notification")
	var ids []int64
	for _, p := range packed {
		require.LessOrEqual(t, len(p), maxNotifyPayload)
		for _, d := range unpack(p) {
			ids = append(ids, d.ID)
		}
	}
	require.Len(t, ids, 100)
	for i, id := range ids {
		require.Equal(t, int64(i+1), id)
	}

	require.Empty(t, pack(nil))
	one := unpack(snaps[4])
	require.Len(t, one, 1)
	require.Equal(t, int64(5), one[0].ID)
	require.Empty(t, unpack("{not json"))
	require.Empty(t, unpack("[{not json"))
}

// The publisher keeps collecting updates that arrive while it lingers, up
// to a full batch, so a moderate rate is not sent one update per
// notification; a full batch goes at once, and so does a batch when the
// broker stops.
func TestGatherWaitsForMoreUntilFull(t *testing.T) {
	in := make(chan []byte) // unbuffered: each send waits for gather
	go func() {
		for _, p := range []string{"b", "c", "d"} {
			in <- []byte(p)
		}
	}()
	batch := make([]string, 1, 3)
	batch[0] = "a"
	got := gather(t.Context(), in, batch, time.Hour)
	require.Equal(t, []string{"a", "b", "c"}, got, "full after the third; it did not wait the hour")
	require.Equal(t, "d", string(<-in), "what did not fit stays for the next batch")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Equal(t, []string{"x"}, gather(ctx, in, append(make([]string, 0, 3), "x"), time.Hour),
		"a stopping broker sends what it has")
	require.Equal(t, []string{"y"}, gather(t.Context(), in, append(make([]string, 0, 3), "y"), time.Millisecond),
		"after the linger it sends what it has")
}
