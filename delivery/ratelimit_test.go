package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestChannelLimiter(t *testing.T) {
	l := newChannelLimiter()
	t0 := time.Unix(1000, 0)
	require.Zero(t, l.reserve(1, time.Second, t0), "first message goes at once")
	require.Equal(t, time.Second, l.reserve(1, time.Second, t0), "second waits one interval")
	require.Equal(t, 2*time.Second, l.reserve(1, time.Second, t0), "third waits two")
	require.Equal(t, 3*time.Second, l.reserve(1, time.Second, t0), "beyond the in-place wait: reported, not taken")
	require.Equal(t, 3*time.Second, l.reserve(1, time.Second, t0), "the slot was not taken")
	require.Zero(t, l.reserve(2, time.Second, t0), "channels are independent")
	require.Zero(t, l.reserve(1, time.Second, t0.Add(3*time.Second)), "free again after the interval")

	require.Zero(t, l.pausedFor(3, t0))
	l.pause(3, t0.Add(10*time.Second))
	require.Equal(t, 10*time.Second, l.pausedFor(3, t0), "a 429 pauses the channel")
	require.Zero(t, l.pausedFor(3, t0.Add(10*time.Second)))
	require.Equal(t, 10*time.Second, l.reserve(3, 0, t0), "a pause holds even an unlimited channel")
	require.Zero(t, l.reserve(3, 0, t0.Add(10*time.Second)))
}

func TestBackoff(t *testing.T) {
	b := &backoff{base: time.Second, max: 10 * time.Second}
	for _, c := range []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 2 * time.Second},
		{3, 0.5, 4 * time.Second},
		{4, 0.5, 8 * time.Second},
		{5, 0.5, 10 * time.Second},
		{40, 0.5, 10 * time.Second},
		{1, 0, 750 * time.Millisecond},
		{1, 0.999999, 1249999 * time.Microsecond},
	} {
		got := b.delay(c.attempt, c.r)
		require.InDelta(t, float64(c.want), float64(got), float64(time.Microsecond), "attempt %d r %v", c.attempt, c.r)
	}
}

// A short pause is waited out in place by a bounded number of workers; a
// long one, or one more worker than the bound, snoozes instead.
func TestHoldFor(t *testing.T) {
	e := &Engine{holds: make(chan struct{}, 1)}
	ctx := context.Background()
	require.True(t, e.holdFor(ctx, time.Millisecond))
	require.False(t, e.holdFor(ctx, maxRateWait+time.Millisecond), "too long to hold a worker")

	e.holds <- struct{}{} // another worker is waiting
	require.False(t, e.holdFor(ctx, time.Millisecond), "the bound is reached")
	<-e.holds

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.False(t, e.holdFor(cancelled, time.Second), "shutdown ends the wait")
	require.Empty(t, e.holds, "every hold was released")
}
