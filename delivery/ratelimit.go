package delivery

import (
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// channelLimiter spaces messages by the platforms' published limits, at
// two levels: each channel (Slack's one message a second per channel) and
// each provider's account (Telegram's ~30 messages a second per bot,
// whatever the chat). A platform's 429 pauses the level its provider says
// it applies to (providers.LimitScope). It is per process: replicas each
// keep their own pace, and a platform's 429 still pauses the deliveries,
// so the limit is a courtesy that avoids most 429s rather than a
// guarantee.
type channelLimiter struct {
	mu      sync.Mutex
	channel limits[int64]
	account limits[string] // by provider id: one account per provider
}

// limits are the slots and pauses of one level.
type limits[K comparable] struct {
	next   map[K]time.Time // earliest time the next message may go
	paused map[K]time.Time // until when a platform's 429 holds the key
}

func newLimits[K comparable]() limits[K] {
	return limits[K]{next: make(map[K]time.Time), paused: make(map[K]time.Time)}
}

// pausedFor reports how long a 429 still holds k.
func (l *limits[K]) pausedFor(k K, now time.Time) time.Duration {
	t, ok := l.paused[k]
	if !ok {
		return 0
	}
	if !t.After(now) {
		delete(l.paused, k)
		return 0
	}
	return t.Sub(now)
}

func (l *limits[K]) pause(k K, t time.Time) {
	if t.After(l.next[k]) {
		l.next[k] = t
	}
	if t.After(l.paused[k]) {
		l.paused[k] = t
	}
}

// gc drops past slots and pauses so the maps stay as small as the set of
// busy keys. It runs when a map grows, amortised over reservations.
func (l *limits[K]) gc(now time.Time) {
	if len(l.next) < 4096 {
		return
	}
	for k, t := range l.next {
		if !t.After(now) {
			delete(l.next, k)
		}
	}
	for k, t := range l.paused {
		if !t.After(now) {
			delete(l.paused, k)
		}
	}
}

func newChannelLimiter() *channelLimiter {
	return &channelLimiter{channel: newLimits[int64](), account: newLimits[string]()}
}

// pausedFor reports how long a platform's 429 still holds the channel,
// itself or through its provider's account. Workers wait a short pause out
// in place, a bounded number of them at a time (Engine.holdFor); otherwise
// they snooze the job.
func (l *channelLimiter) pausedFor(channelID int64, provider string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.channel.pausedFor(channelID, now), l.account.pausedFor(provider, now))
}

// pace is the minimum time between two messages to one channel, and
// between any two messages of one provider's account; zero is no limit.
type pace struct{ channel, account time.Duration }

// reserve claims the next slot that both the channel and its provider's
// account allow and returns how long to wait for it (0 to go now). A
// caller that does not wait must not send: beyond maxRateWait the slot is
// not taken.
func (l *channelLimiter) reserve(channelID int64, provider string, p pace, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := now
	if t, ok := l.channel.next[channelID]; ok && t.After(slot) {
		slot = t
	}
	if t, ok := l.account.next[provider]; ok && t.After(slot) {
		slot = t
	}
	wait := slot.Sub(now)
	if wait > maxRateWait {
		// The caller will snooze instead of taking the slot.
		return wait
	}
	if p.channel > 0 {
		l.channel.next[channelID] = slot.Add(p.channel)
		l.channel.gc(now)
	}
	if p.account > 0 {
		l.account.next[provider] = slot.Add(p.account)
	}
	return wait
}

// pause holds back what a platform's 429 applies to until t: the channel,
// or every channel of the provider's account.
func (l *channelLimiter) pause(channelID int64, provider string, scope providers.LimitScope, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if scope == providers.LimitAccount {
		l.account.pause(provider, t)
		return
	}
	l.channel.pause(channelID, t)
}
