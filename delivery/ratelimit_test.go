package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

func TestChannelLimiter(t *testing.T) {
	l := newChannelLimiter()
	t0 := time.Unix(1000, 0)
	slack := pace{channel: time.Second}
	require.Zero(t, l.reserve(1, "slack", slack, t0), "first message goes at once")
	require.Equal(t, time.Second, l.reserve(1, "slack", slack, t0), "second waits one interval")
	require.Equal(t, 2*time.Second, l.reserve(1, "slack", slack, t0), "third waits two")
	require.Equal(t, 3*time.Second, l.reserve(1, "slack", slack, t0), "beyond the in-place wait: reported, not taken")
	require.Equal(t, 3*time.Second, l.reserve(1, "slack", slack, t0), "the slot was not taken")
	require.Zero(t, l.reserve(2, "slack", slack, t0), "channels are independent")
	require.Zero(t, l.reserve(1, "slack", slack, t0.Add(3*time.Second)), "free again after the interval")

	require.Zero(t, l.pausedFor(3, "slack", t0))
	l.pause(3, "slack", providers.LimitChannel, t0.Add(10*time.Second))
	require.Equal(t, 10*time.Second, l.pausedFor(3, "slack", t0), "a 429 pauses the channel")
	require.Zero(t, l.pausedFor(4, "slack", t0), "and only the channel")
	require.Zero(t, l.pausedFor(3, "slack", t0.Add(10*time.Second)))
	require.Equal(t, 10*time.Second, l.reserve(3, "webhook", pace{}, t0), "a pause holds even an unlimited channel")
	require.Zero(t, l.reserve(3, "webhook", pace{}, t0.Add(10*time.Second)))
}

// The account level: a provider's overall pace spaces messages across its
// channels, on top of each channel's own, and a 429 for the account holds
// back every channel of the provider and no other provider's.
func TestAccountLimiter(t *testing.T) {
	l := newChannelLimiter()
	t0 := time.Unix(1000, 0)
	tg := pace{channel: 3 * time.Second, account: 100 * time.Millisecond}
	require.Zero(t, l.reserve(1, "telegram", tg, t0))
	require.Equal(t, 100*time.Millisecond, l.reserve(2, "telegram", tg, t0), "another chat waits for the bot's pace")
	require.Equal(t, 200*time.Millisecond, l.reserve(3, "telegram", tg, t0))
	require.Equal(t, 3*time.Second, l.reserve(1, "telegram", tg, t0), "the first chat waits for its own pace, the longer")
	require.Zero(t, l.reserve(5, "matrix", pace{}, t0), "other providers keep their own account")

	l.pause(7, "matrix", providers.LimitAccount, t0.Add(5*time.Second))
	for _, ch := range []int64{7, 8} {
		require.Equal(t, 5*time.Second, l.pausedFor(ch, "matrix", t0), "channel %d: every room of the account waits", ch)
		require.Equal(t, 5*time.Second, l.reserve(ch, "matrix", pace{}, t0))
	}
	require.Zero(t, l.pausedFor(7, "zulip", t0), "not another provider's")
	require.Zero(t, l.pausedFor(8, "matrix", t0.Add(5*time.Second)), "until the pause ends")
	require.Zero(t, l.reserve(8, "matrix", pace{}, t0.Add(5*time.Second)))

	// A channel pause and an account pause together: the longer holds.
	l.pause(9, "zulip", providers.LimitChannel, t0.Add(2*time.Second))
	l.pause(9, "zulip", providers.LimitAccount, t0.Add(time.Second))
	require.Equal(t, 2*time.Second, l.pausedFor(9, "zulip", t0))
	require.Equal(t, time.Second, l.pausedFor(10, "zulip", t0))
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
