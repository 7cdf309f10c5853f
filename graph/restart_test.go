package graph_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestAdminAPI_SurvivesRestart writes through one server, stops it and its
// database handle, and reads everything back through a new one.
func TestAdminAPI_SurvivesRestart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		reg, err := builtin.Registry()
		require.NoError(t, err)
		ctx := context.Background()

		st1, err := store.Open(ctx, store.Options{DatabaseURL: db.URL, SecretKey: storetest.Key(), Providers: reg})
		require.NoError(t, err)
		require.NoError(t, st1.Migrate(ctx))
		e1 := start(t, st1, reg)
		key, _, err := st1.CreateAPIKey(ctx, "restart")
		require.NoError(t, err)
		e1.ok(t, `mutation { configureProvider(input: {id: "matrix", enabled: true, settings: {access_token: "syt_secret", homeserver: "https://matrix.example.org"}}) { id } }`, nil, "configureProvider", nil)
		ch := e1.createChannel(t, "discord", "keep", map[string]any{"name": "keep", "webhook_url": discordWebhook})
		e1.createRule(t, map[string]any{"channelId": ch.ID, "filter": "THREAD", "categoryId": 3, "tags": []string{"x"}})
		before := e1.snapshot(t)
		e1.srv.Close()
		require.NoError(t, st1.Close())

		st2 := storetest.Open(t, db, reg)
		e2 := start(t, st2, reg)
		e2.key = key // the stored API key still works
		require.Equal(t, before, e2.snapshot(t))
		var got channelOut
		e2.ok(t, `query($id: ID!) { channel(id: $id) { `+channelFields+` } }`, map[string]any{"id": ch.ID}, "channel", &got)
		require.Equal(t, "keep", got.Name)
		require.Len(t, got.Rules, 1)
		require.Equal(t, "THREAD", got.Rules[0].Filter)
		cfg, err := st2.GetProviderConfig(ctx, "matrix")
		require.NoError(t, err)
		require.Equal(t, "syt_secret", cfg.Settings["access_token"])
	})
}
