package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/webhook"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestRetentionPrunesOldHistoryOnStart: an engine with a retention runs
// the prune job as soon as it starts (and hourly after), so an event
// older than the retention whose delivery finished is gone, with its
// delivery, while a recent one stays; the metric counts it. Without a
// retention nothing is pruned.
func TestRetentionPrunesOldHistoryOnStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		reg, err := providers.NewRegistry(webhook.New(webhook.Options{}))
		require.NoError(t, err)
		st := storetest.Open(t, db, reg)
		ch := &store.Channel{Provider: "webhook", Name: "room", Data: map[string]string{"name": "room", "url": "https://example.com/hook"}}
		require.NoError(t, st.CreateChannel(ctx, ch))

		now := time.Now().UTC()
		old := &store.ForumEvent{Kind: "post_created", DedupeKey: "post_created:1:1", Source: "webhook", Payload: `{}`,
			CreatedAt: now.Add(-48 * time.Hour)}
		recent := &store.ForumEvent{Kind: "post_created", DedupeKey: "post_created:2:1", Source: "webhook", Payload: `{}`,
			CreatedAt: now.Add(-time.Minute)}
		require.NoError(t, st.InTx(ctx, func(q *store.Queries) error { return q.InsertEvents(ctx, []*store.ForumEvent{old, recent}) }))
		ds := []*store.Delivery{
			{EventID: old.ID, ChannelID: ch.ID, Provider: "webhook", Action: store.ActionSend, Filter: "watch", Status: store.StatusDelivered},
			{EventID: recent.ID, ChannelID: ch.ID, Provider: "webhook", Action: store.ActionSend, Filter: "watch", Status: store.StatusDelivered},
		}
		_, err = st.InsertDeliveries(ctx, ds)
		require.NoError(t, err)

		start := func(retention time.Duration) (*Engine, *prometheus.Registry) {
			preg := prometheus.NewRegistry()
			m := NewMetrics(preg, nil)
			opts := Options{Store: st, Registry: reg, Metrics: m, Workers: 1, Retention: retention, PollInterval: 50 * time.Millisecond}
			if st.Dialect() == store.Postgres {
				opts.DatabaseURL = db.URL
			}
			e, err := New(ctx, opts)
			require.NoError(t, err)
			require.NoError(t, e.Start(ctx))
			t.Cleanup(func() { _ = e.Stop(context.Background()) })
			return e, preg
		}
		eventGone := func(ev *store.ForumEvent) bool {
			_, err := st.GetEvent(ctx, ev.ID)
			return err != nil
		}

		keep, _ := start(0)
		n, err := keep.Prune(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "no retention keeps everything")
		require.NoError(t, keep.Stop(ctx))

		_, preg := start(24 * time.Hour)
		require.Eventually(t, func() bool { return eventGone(old) }, 20*time.Second, 20*time.Millisecond,
			"the prune job runs when the engine starts")
		require.False(t, eventGone(recent))
		_, err = st.GetDelivery(ctx, ds[0].ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = st.GetDelivery(ctx, ds[1].ID)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return counterValue(t, preg, "chatsidecar_events_pruned_total") == 1 },
			5*time.Second, 10*time.Millisecond, "the metric counts the event (after the job's transaction)")
	})
}

// counterValue reads a counter without labels from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
