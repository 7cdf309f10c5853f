package delivery

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/store"
)

// PostLister is the part of the Discourse API catch-up reads.
type PostLister interface {
	LatestPosts(ctx context.Context, before int64) ([]discourse.Post, error)
}

// CatchUp finds posts whose webhook never arrived: Discourse does not
// retry a webhook when the connection fails, so a sidecar that was down
// or unreachable would otherwise miss them. It pages /posts.json back to
// the newest post it saw last time and feeds the older-than-known ones
// through intake, where deduplication drops those a webhook delivered.
type CatchUp struct {
	Posts    PostLister
	Intake   *Intake
	Store    *store.Store
	Logger   *slog.Logger
	Metrics  *Metrics
	Interval time.Duration // between runs; default 5 min
	// MaxPages bounds one run (default 20 pages of 50 posts), so a long
	// outage does not flood chat with history.
	MaxPages int
}

// Run catches up at once and then every Interval until ctx ends.
func (c *CatchUp) Run(ctx context.Context) {
	interval := c.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	for {
		if n, err := c.Once(ctx); err != nil && ctx.Err() == nil {
			c.Logger.WarnContext(ctx, "catch-up failed; will try again", "error", err, "next", interval)
		} else if n > 0 {
			c.Logger.InfoContext(ctx, "catch-up found posts no webhook had delivered", "posts", n)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Once runs one catch-up and returns how many posts it accepted that no
// webhook had. The first run on a new install only records where the
// forum is, so history is never replayed into chat.
func (c *CatchUp) Once(ctx context.Context) (int, error) {
	last, err := c.Store.Counter(ctx, store.CounterCatchUp)
	if err != nil {
		return 0, err
	}
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 20
	}
	var missed []discourse.Post
	var newest, before int64
	failed := false
	for page := 0; page < maxPages; page++ {
		posts, err := c.Posts.LatestPosts(ctx, before)
		if err != nil {
			if newest == 0 {
				return 0, err
			}
			// Deliver what was read but keep the mark, so the next run
			// reads the rest again (deduplication drops repeats).
			failed = true
			break
		}
		if len(posts) == 0 {
			break
		}
		done := false
		for _, p := range posts {
			newest = max(newest, p.ID)
			if p.ID <= last {
				done = true
				continue
			}
			missed = append(missed, p)
		}
		if done || last == 0 {
			break
		}
		before = posts[len(posts)-1].ID
	}
	if last == 0 {
		missed = nil
	}
	slices.SortFunc(missed, func(a, b discourse.Post) int { return int(a.ID - b.ID) })
	accepted := 0
	for i := range missed {
		p := &missed[i]
		out, err := c.Intake.AcceptPost(ctx, EventPostCreated, SourceCatchUp, "", p)
		if err != nil {
			return accepted, err
		}
		if out.Status == Accepted {
			accepted++
		}
	}
	c.Metrics.caughtUp(accepted)
	if newest > last && !failed {
		if err := c.Store.RaiseCounter(ctx, store.CounterCatchUp, newest); err != nil {
			return accepted, err
		}
	}
	return accepted, nil
}
