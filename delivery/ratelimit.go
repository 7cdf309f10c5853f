package delivery

import (
	"sync"
	"time"
)

// channelLimiter spaces messages to one channel by the platform's minimum
// interval. It is per process: replicas each keep their own pace, and a
// platform's 429 still snoozes the job, so the limit is a courtesy that
// avoids most 429s rather than a guarantee.
type channelLimiter struct {
	mu     sync.Mutex
	next   map[int64]time.Time // earliest time the next message may go
	paused map[int64]time.Time // until when a platform's 429 holds the channel
}

func newChannelLimiter() *channelLimiter {
	return &channelLimiter{next: make(map[int64]time.Time), paused: make(map[int64]time.Time)}
}

// pausedFor reports how long a platform's 429 still holds the channel.
// Workers wait a short pause out in place, a bounded number of them at a
// time (Engine.holdFor); otherwise they snooze the job.
func (l *channelLimiter) pausedFor(channelID int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.paused[channelID]
	if !ok {
		return 0
	}
	if !t.After(now) {
		delete(l.paused, channelID)
		return 0
	}
	return t.Sub(now)
}

// reserve claims the channel's next slot and returns how long to wait for
// it (0 to go now). A caller that does not wait must not send.
func (l *channelLimiter) reserve(channelID int64, interval time.Duration, now time.Time) time.Duration {
	if interval <= 0 {
		l.mu.Lock()
		defer l.mu.Unlock()
		if t, ok := l.next[channelID]; ok && t.After(now) {
			return t.Sub(now)
		}
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := now
	if t, ok := l.next[channelID]; ok && t.After(now) {
		slot = t
	}
	wait := slot.Sub(now)
	if wait > maxRateWait {
		// The caller will snooze instead of taking the slot.
		return wait
	}
	l.next[channelID] = slot.Add(interval)
	l.gc(now)
	return wait
}

// pause holds the channel until t, after the platform said to slow down.
func (l *channelLimiter) pause(channelID int64, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.next[channelID]) {
		l.next[channelID] = t
	}
	if t.After(l.paused[channelID]) {
		l.paused[channelID] = t
	}
}

// gc drops past slots so the map stays as small as the set of busy
// channels. It runs when the map grows, amortised over reservations.
func (l *channelLimiter) gc(now time.Time) {
	if len(l.next) < 4096 {
		return
	}
	for id, t := range l.next {
		if !t.After(now) {
			delete(l.next, id)
		}
	}
	for id, t := range l.paused {
		if !t.After(now) {
			delete(l.paused, id)
		}
	}
}
