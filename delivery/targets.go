package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/store"
)

// targetTTL is how long a worker reuses a channel and its provider's
// settings before reading them again. Reading and decrypting them for
// every message would cost two queries and two decryptions per delivery;
// an admin's change applies within this delay.
const targetTTL = 2 * time.Second

// targetCache keeps recently used channels and provider configurations.
// A channel error recorded by a delivery is invalidated at once, so the
// next success knows to clear it.
type targetCache struct {
	st  *store.Store
	now func() time.Time

	mu        sync.Mutex
	channels  map[int64]cachedChannel
	providers map[string]cachedProvider
}

type cachedChannel struct {
	ch *store.Channel
	at time.Time
}

type cachedProvider struct {
	pc *store.ProviderConfig // nil: never configured
	at time.Time
}

func newTargetCache(st *store.Store, now func() time.Time) *targetCache {
	return &targetCache{st: st, now: now, channels: map[int64]cachedChannel{}, providers: map[string]cachedProvider{}}
}

func (c *targetCache) channel(ctx context.Context, id int64) (*store.Channel, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.channels[id]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < targetTTL {
		return e.ch, nil
	}
	ch, err := c.st.GetChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.channels) > 10000 {
		clear(c.channels)
	}
	c.channels[id] = cachedChannel{ch: ch, at: now}
	c.mu.Unlock()
	return ch, nil
}

func (c *targetCache) provider(ctx context.Context, id string) (*store.ProviderConfig, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.providers[id]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < targetTTL {
		return e.pc, nil
	}
	pc, err := c.st.GetProviderConfig(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		pc, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.providers[id] = cachedProvider{pc: pc, at: now}
	c.mu.Unlock()
	return pc, nil
}

// forget drops a channel whose stored state the engine just changed.
func (c *targetCache) forget(id int64) {
	c.mu.Lock()
	delete(c.channels, id)
	c.mu.Unlock()
}
