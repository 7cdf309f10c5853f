package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/delivery"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestE2E_PlatformOutageWaitsForAProbe: Slack answers 503 on every channel,
// and a delivery may fail three times before it fails for good. Once three
// attempts on two channels have failed, the engine takes Slack to be down:
// the deliveries wait without spending attempts, while single probes
// (after 300 ms, then every 600 ms) find it still down. So after more
// than a second of outage no delivery has failed, though each would have
// without the breaker. When Slack is back, the next probe succeeds and
// every delivery drains, each message once.
func TestE2E_PlatformOutageWaitsForAProbe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{tweak: func(o *delivery.Options) {
			fastRetries(o)
			// 3, not 2: a first delivery's retry may come before the
			// second channel's first failure opens the breaker.
			o.MaxAttempts = 3
			o.Limits = func(string) time.Duration { return 0 } // no 1 s pace per Slack channel
			o.Breaker = delivery.BreakerOptions{Failures: 3, Channels: 2,
				Cooldown: 300 * time.Millisecond, MaxCooldown: 600 * time.Millisecond}
		}})
		const channels = 4
		var chs []string
		for i := range channels {
			chs = append(chs, s.slackChannel(fmt.Sprintf("outage-%d", i), "WATCH", 61+i))
		}
		s.slack.fail(1000, func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
		for i := range channels {
			code, body := s.webhook("post_created",
				discoursetest.PostPayload(post(int64(2701+i), int64(2801+i), 1, int64(61+i), "during the outage")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
		}
		// Probes from 0.3 s after the first attempts: by 1.2 s, without
		// the breaker, every delivery would have failed for good (and
		// Slack would see no more calls).
		require.Eventually(t, func() bool {
			calls := s.slack.callTimes()
			return len(calls) > 0 && calls[len(calls)-1].Sub(calls[0]) >= 1200*time.Millisecond
		}, 10*time.Second, 10*time.Millisecond)
		for _, ch := range chs {
			for _, d := range s.deliveries(ch) {
				require.NotEqual(t, "FAILED", d.Status, "delivery %s spent its attempts on the outage", d.ID)
				require.Less(t, d.Attempts, 3, "only attempts before the breaker opened count")
			}
		}

		s.slack.mu.Lock()
		s.slack.script = nil // Slack is back
		outage := append([]time.Time(nil), s.slack.calls...)
		s.slack.mu.Unlock()
		for _, ch := range chs {
			d := s.waitDeliveries(ch, 1)[0]
			require.Equal(t, "DELIVERED", d.Status)
			require.LessOrEqual(t, d.Attempts, 3)
		}
		require.Len(t, s.slack.sent(), channels, "each message once")
		require.Len(t, s.slack.callTimes(), len(outage)+channels, "after the outage, one call per message")
		// During the outage: the attempts before the breaker opened (at
		// most two per delivery), then one probe per cooldown (300 ms at
		// least), not an attempt per delivery and backoff step.
		probes := int(outage[len(outage)-1].Sub(outage[0])/(300*time.Millisecond)) + 1
		require.LessOrEqual(t, len(outage), 2*channels+probes, "calls during the outage: %v", outage)
	})
}
