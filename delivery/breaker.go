package delivery

import (
	"sync"
	"sync/atomic"
	"time"
)

// A platform outage (Slack answering 503 for everyone for hours, a
// self-hosted Mattermost that is down) fails every channel of a provider
// alike. Left alone, each queued delivery would spend its attempts against
// the dead platform and end FAILED after its last backoff (about 2.4 hours
// with the defaults), leaving an admin to retry them all; meanwhile the
// sidecar would call the platform once per delivery and backoff step.
//
// The breaker notices the outage instead: when consecutive attempts of one
// provider fail transiently (5xx, timeouts, refused connections) on more
// than one channel with no answer in between, it opens, and deliveries of
// the provider wait without spending attempts. After a cooldown one
// delivery goes through as a probe: if the platform answers (a success,
// or any classified answer such as a 429 or a 401 of one channel) the
// breaker closes and the waiting deliveries drain; if the probe fails
// too, the cooldown doubles, up to BreakerOptions.MaxCooldown.
//
// Failures of a single channel (one broken webhook URL) never open it:
// they are that channel's own, and its deliveries retry with their
// backoff as before. The generic webhook provider has no shared platform
// (each channel is somebody's own server), so it has no breaker. Like the
// rate limiter, the breaker is per process.

// BreakerOptions tune the outage breaker; zero values take the defaults.
type BreakerOptions struct {
	// Failures is how many consecutive transient failures of a provider
	// open its breaker (default 5).
	Failures int
	// Channels is how many distinct channels those failures must come
	// from (default 2), so one broken channel cannot stop the others.
	Channels int
	// Cooldown is the wait before the first probe (default 15 s);
	// MaxCooldown bounds its doubling (default 5 min).
	Cooldown, MaxCooldown time.Duration
}

func (o *BreakerOptions) defaults() {
	if o.Failures <= 0 {
		o.Failures = 5
	}
	if o.Channels <= 0 {
		o.Channels = 2
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 15 * time.Second
	}
	if o.MaxCooldown < o.Cooldown {
		o.MaxCooldown = max(o.Cooldown, 5*time.Minute)
	}
}

// breaker holds one circuit per provider with a shared platform.
type breaker struct {
	opts BreakerOptions
	// probeFor bounds how long a probe may stay out before another
	// delivery probes instead (a probe whose delivery stopped before
	// sending reports nothing).
	probeFor time.Duration

	// active counts the circuits, so the common case (no provider
	// failing) costs every delivery an atomic load, not the lock.
	active   atomic.Int32
	mu       sync.Mutex
	circuits map[string]*circuit
	// changed, when set, is told when a provider's breaker opens (true)
	// or closes (false).
	changed func(provider string, open bool)
}

// circuit is one provider's recent failures and, once open, its cooldown.
type circuit struct {
	failures int
	channels map[int64]struct{}
	// open is set while the platform is taken to be down.
	open      bool
	until     time.Time // the next probe may start then
	cooldown  time.Duration
	probing   bool
	probeEnds time.Time
}

func newBreaker(opts BreakerOptions, probeFor time.Duration, changed func(string, bool)) *breaker {
	opts.defaults()
	return &breaker{opts: opts, probeFor: probeFor, circuits: make(map[string]*circuit), changed: changed}
}

// shared reports whether a provider's channels share one platform, so that
// its failures together say the platform is down.
func shared(provider string) bool { return provider != "webhook" }

// blockedFor reports how long a delivery of provider must wait for the
// platform to be probed; 0 lets it go. When the cooldown is over, the first
// caller becomes the probe and is let go; the others wait one more
// cooldown, when either the breaker has closed or the next probe is due.
func (b *breaker) blockedFor(provider string, now time.Time) time.Duration {
	if b.active.Load() == 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuits[provider]
	if c == nil || !c.open {
		return 0
	}
	if now.Before(c.until) {
		return c.until.Sub(now)
	}
	if c.probing && now.Before(c.probeEnds) {
		return min(c.cooldown, c.probeEnds.Sub(now))
	}
	c.probing, c.probeEnds = true, now.Add(b.probeFor)
	return 0
}

// failed records a transient failure of a delivery to channel. It returns
// how long the provider's deliveries now wait when the breaker is open (it
// just opened, this was its probe, or an attempt that started before it
// opened), 0 otherwise. A failure while the platform is known to be down
// says nothing of the delivery, so the engine spends no attempt on it.
func (b *breaker) failed(provider string, channel int64, now time.Time) time.Duration {
	if !shared(provider) {
		return 0
	}
	b.mu.Lock()
	c := b.circuits[provider]
	if c == nil {
		c = &circuit{channels: make(map[int64]struct{})}
		b.circuits[provider] = c
		b.active.Add(1)
	}
	opened := false
	switch {
	case c.open && c.probing:
		// The probe failed: the platform is still down.
		c.probing = false
		c.cooldown = min(2*c.cooldown, b.opts.MaxCooldown)
		c.until = now.Add(c.cooldown)
	case c.open:
		// An attempt that started before the breaker opened.
	default:
		c.failures++
		if len(c.channels) < b.opts.Channels {
			c.channels[channel] = struct{}{}
		}
		if c.failures >= b.opts.Failures && len(c.channels) >= b.opts.Channels {
			c.open, c.cooldown, c.until, opened = true, b.opts.Cooldown, now.Add(b.opts.Cooldown), true
		}
	}
	var wait time.Duration
	if c.open {
		wait = max(c.until.Sub(now), time.Millisecond)
	}
	b.mu.Unlock()
	if opened && b.changed != nil {
		b.changed(provider, true)
	}
	return wait
}

// answered records that the platform answered a delivery of provider (a
// success, or an error it classified), which closes its breaker.
func (b *breaker) answered(provider string) {
	if b.active.Load() == 0 {
		return
	}
	b.mu.Lock()
	c := b.circuits[provider]
	if c == nil {
		b.mu.Unlock()
		return
	}
	delete(b.circuits, provider)
	b.active.Add(-1)
	b.mu.Unlock()
	if c.open && b.changed != nil {
		b.changed(provider, false)
	}
}
