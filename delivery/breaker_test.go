package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBreaker walks one provider through an outage: failures on one
// channel alone never open the breaker; failures on two channels do; the
// deliveries then wait for the cooldown, one probe goes through, a failed
// probe doubles the cooldown (up to the maximum), and an answer from the
// platform closes it.
func TestBreaker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var changes []bool
	b := newBreaker(BreakerOptions{Failures: 3, Channels: 2, Cooldown: 10 * time.Second, MaxCooldown: 25 * time.Second},
		time.Minute, func(provider string, open bool) {
			require.Equal(t, "slack", provider)
			changes = append(changes, open)
		})

	for range 10 {
		require.Zero(t, b.failed("slack", 1, t0))
	}
	require.Zero(t, b.blockedFor("slack", t0), "one channel failing is that channel's trouble")
	b.answered("slack")

	b.failed("slack", 1, t0)
	b.failed("slack", 1, t0)
	b.answered("slack") // an answer in between: not consecutive
	b.failed("slack", 2, t0)
	b.failed("slack", 1, t0)
	require.Zero(t, b.blockedFor("slack", t0))
	require.Equal(t, 10*time.Second, b.failed("slack", 1, t0), "the delivery that opened it waits too")
	require.Equal(t, []bool{true}, changes, "three in a row on two channels open it")
	require.Equal(t, 10*time.Second, b.blockedFor("slack", t0))
	require.Zero(t, b.blockedFor("matrix", t0), "other providers go on")
	require.Equal(t, 9*time.Second, b.failed("slack", 3, t0.Add(time.Second)), "an attempt that started before waits")
	require.Equal(t, 9*time.Second, b.blockedFor("slack", t0.Add(time.Second)), "late failures change nothing")

	t1 := t0.Add(10 * time.Second)
	require.Zero(t, b.blockedFor("slack", t1), "the cooldown is over: this delivery probes")
	require.Equal(t, 10*time.Second, b.blockedFor("slack", t1), "the others wait a cooldown more")
	require.Equal(t, 20*time.Second, b.failed("slack", 4, t1), "a failed probe doubles the cooldown")
	require.Equal(t, 20*time.Second, b.blockedFor("slack", t1))
	t2 := t1.Add(20 * time.Second)
	require.Zero(t, b.blockedFor("slack", t2))
	b.failed("slack", 4, t2)
	require.Equal(t, 25*time.Second, b.blockedFor("slack", t2), "up to the maximum")
	t3 := t2.Add(25 * time.Second)
	require.Zero(t, b.blockedFor("slack", t3))
	require.Zero(t, b.blockedFor("slack", t3.Add(time.Minute)), "a probe that never reported is replaced")

	b.answered("slack")
	require.Equal(t, []bool{true, false}, changes)
	require.Zero(t, b.blockedFor("slack", t3.Add(time.Minute)))
	require.Zero(t, b.active.Load(), "nothing left to look up")
}

// The generic webhook's channels are each somebody's own server: their
// failures together say nothing of a shared platform.
func TestBreakerLeavesGenericWebhooksAlone(t *testing.T) {
	b := newBreaker(BreakerOptions{Failures: 2, Channels: 2}, time.Minute, nil)
	t0 := time.Unix(1000, 0)
	for ch := range int64(10) {
		require.Zero(t, b.failed("webhook", ch, t0))
	}
	require.Zero(t, b.blockedFor("webhook", t0))
}
