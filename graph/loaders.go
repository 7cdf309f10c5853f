package graph

import (
	"context"
	"sync"

	"github.com/chatsidecar/chatsidecar/graph/model"

	"github.com/chatsidecar/chatsidecar/store"
)

// requestCache avoids N+1 queries within one operation. A list resolver
// announces the channel ids it returns; the first Channel.rules resolver
// then loads the rules of all of them in one query, and Rule.channel
// lookups share one map. It lives for one operation only, so it never
// serves stale data across requests.
type requestCache struct {
	mu       sync.Mutex
	pending  []int64                 // channel ids whose rules are wanted
	rules    map[int64][]*store.Rule // loaded rules by channel id
	channels map[int64]*store.Channel
}

type requestCacheKey struct{}

func withRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestCacheKey{}, &requestCache{
		rules:    map[int64][]*store.Rule{},
		channels: map[int64]*store.Channel{},
	})
}

func cacheFrom(ctx context.Context) *requestCache {
	c, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	return c
}

// announceChannels records channels returned by a resolver so their rules
// can be batch-loaded and Rule.channel can reuse them.
func announceChannels(ctx context.Context, chs ...*store.Channel) {
	c := cacheFrom(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range chs {
		c.channels[ch.ID] = ch
		if _, loaded := c.rules[ch.ID]; !loaded {
			c.pending = append(c.pending, ch.ID)
		}
	}
}

// rulesFor returns a channel's rules in precedence order, loading them
// together with every other announced channel's rules.
func (r *Resolver) rulesFor(ctx context.Context, channelID int64) ([]*store.Rule, error) {
	c := cacheFrom(ctx)
	if c == nil {
		return r.admin.ChannelRules(ctx, channelID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs, ok := c.rules[channelID]; ok {
		return rs, nil
	}
	ids := append(c.pending, channelID)
	c.pending = nil
	all, err := r.admin.ChannelRules(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		c.rules[id] = nil
	}
	for _, rl := range all {
		c.rules[rl.ChannelID] = append(c.rules[rl.ChannelID], rl)
	}
	return c.rules[channelID], nil
}

// channelFor returns a channel, from the cache when an earlier resolver of
// this operation already loaded it.
func (r *Resolver) channelFor(ctx context.Context, id int64) (*store.Channel, error) {
	c := cacheFrom(ctx)
	if c != nil {
		c.mu.Lock()
		ch, ok := c.channels[id]
		c.mu.Unlock()
		if ok {
			return ch, nil
		}
	}
	ch, err := r.store.GetChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	announceChannels(ctx, ch)
	return ch, nil
}

// ruleModelsFor is rulesFor mapped to the API's Rule type.
func (r *Resolver) ruleModelsFor(ctx context.Context, channelID int64) ([]*model.Rule, error) {
	rs, err := r.rulesFor(ctx, channelID)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Rule, len(rs))
	for i, rl := range rs {
		out[i] = ruleModel(rl)
	}
	return out, nil
}

// channelModelFor resolves an object's channelId to the API's Channel.
func (r *Resolver) channelModelFor(ctx context.Context, channelID string) (*model.Channel, error) {
	cid, err := parseID("channelId", channelID)
	if err != nil {
		return nil, err
	}
	ch, err := r.channelFor(ctx, cid)
	if err != nil {
		return nil, err
	}
	return r.channelModel(ch), nil
}
