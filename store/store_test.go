package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// testProvider has one public unique parameter and one secret unique
// parameter, and one public and one secret setting: every storage path.
type testProvider struct{}

func (testProvider) ID() string   { return "hook" }
func (testProvider) Name() string { return "Hook" }
func (testProvider) Params() []providers.Param {
	return []providers.Param{
		{Key: "room", Pattern: regexp.MustCompile(`^\S+$`), Unique: true},
		{Key: "url", Pattern: regexp.MustCompile(`^https://`), Unique: true, Secret: true},
	}
}
func (testProvider) Settings() []providers.Setting {
	return []providers.Setting{
		{Key: "server", Type: providers.SettingURL},
		{Key: "token", Type: providers.SettingString, Secret: true},
		{Key: "excerpt_length", Type: providers.SettingInt},
	}
}

func registry(t *testing.T) *providers.Registry {
	t.Helper()
	reg, err := providers.NewRegistry(testProvider{})
	require.NoError(t, err)
	return reg
}

const secretURL = "https://hooks.example.com/very-secret-token-123"

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		reg := registry(t)
		s := storetest.Open(t, db, reg)

		t.Run("provider configs keep secrets encrypted", func(t *testing.T) {
			_, err := s.GetProviderConfig(ctx, "hook")
			require.ErrorIs(t, err, store.ErrNotFound)

			pc := &store.ProviderConfig{ProviderID: "hook", Enabled: true, Settings: map[string]any{
				"server": "https://chat.example.com", "token": "xoxb-super-secret", "excerpt_length": 250,
			}}
			require.NoError(t, s.PutProviderConfig(ctx, pc))
			got, err := s.GetProviderConfig(ctx, "hook")
			require.NoError(t, err)
			require.True(t, got.Enabled)
			require.Equal(t, "xoxb-super-secret", got.Settings["token"])
			require.Equal(t, "https://chat.example.com", got.Settings["server"])
			require.Equal(t, "250", toString(got.Settings["excerpt_length"]))

			var plain string
			var sealed []byte
			require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT settings, secrets FROM provider_configs WHERE provider_id = 'hook'`).Scan(&plain, &sealed))
			require.NotContains(t, plain, "xoxb")
			require.False(t, bytes.Contains(sealed, []byte("xoxb")))

			// Upsert replaces.
			pc.Enabled = false
			require.NoError(t, s.PutProviderConfig(ctx, pc))
			all, err := s.ListProviderConfigs(ctx)
			require.NoError(t, err)
			require.False(t, all["hook"].Enabled)
		})

		t.Run("channels", func(t *testing.T) {
			ch := &store.Channel{Provider: "hook", Name: "support", Data: map[string]string{"room": "support", "url": secretURL}}
			require.NoError(t, s.CreateChannel(ctx, ch))
			require.NotZero(t, ch.ID)

			got, err := s.GetChannel(ctx, ch.ID)
			require.NoError(t, err)
			require.Equal(t, ch.Data, got.Data)
			byName, err := s.GetChannelByName(ctx, "support")
			require.NoError(t, err)
			require.Equal(t, ch.ID, byName.ID)

			var data string
			var sealed []byte
			require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT data, secret_data FROM channels WHERE id = `+itoa(ch.ID)).Scan(&data, &sealed))
			require.NotContains(t, data, "very-secret")
			require.False(t, bytes.Contains(sealed, []byte("very-secret")))

			// Same name → conflict on name.
			dup := &store.Channel{Provider: "hook", Name: "support", Data: map[string]string{"room": "other", "url": "https://x"}}
			err = s.CreateChannel(ctx, dup)
			var ce *store.ConflictError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "name", ce.Field)
			require.ErrorIs(t, err, store.ErrConflict)

			// Same unique combination (including the secret) → conflict on data.
			dup = &store.Channel{Provider: "hook", Name: "support-2", Data: map[string]string{"room": "support", "url": secretURL}}
			err = s.CreateChannel(ctx, dup)
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "data.room", ce.Field)

			// Only the combination must be unique.
			other := &store.Channel{Provider: "hook", Name: "support-2", Data: map[string]string{"room": "support", "url": secretURL + "x"}}
			require.NoError(t, s.CreateChannel(ctx, other))

			// Updating into a collision is refused; a real update works.
			other.Data["url"] = secretURL
			require.ErrorIs(t, s.UpdateChannel(ctx, other), store.ErrConflict)
			other.Data["url"] = "https://new.example.com"
			other.Name = "renamed"
			require.NoError(t, s.UpdateChannel(ctx, other))
			got, err = s.GetChannel(ctx, other.ID)
			require.NoError(t, err)
			require.Equal(t, "renamed", got.Name)
			require.Equal(t, "https://new.example.com", got.Data["url"])

			// Errors are recorded and cleared.
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			require.NoError(t, s.SetChannelError(ctx, ch.ID, &store.ChannelError{Key: "hook.errors.gone", Message: "gone", At: at}))
			got, err = s.GetChannel(ctx, ch.ID)
			require.NoError(t, err)
			require.Equal(t, "hook.errors.gone", got.LastError.Key)
			require.True(t, at.Equal(got.LastError.At))
			require.NoError(t, s.SetChannelError(ctx, ch.ID, nil))
			got, err = s.GetChannel(ctx, ch.ID)
			require.NoError(t, err)
			require.Nil(t, got.LastError)

			// Paging in id order.
			page, err := s.ListChannels(ctx, store.ListChannelsParams{Limit: 1})
			require.NoError(t, err)
			require.Len(t, page, 1)
			require.Equal(t, ch.ID, page[0].ID)
			page, err = s.ListChannels(ctx, store.ListChannelsParams{AfterID: ch.ID, Limit: 10})
			require.NoError(t, err)
			require.Len(t, page, 1)
			require.Equal(t, other.ID, page[0].ID)
			byID, err := s.GetChannels(ctx, []int64{ch.ID, other.ID, 999})
			require.NoError(t, err)
			require.Len(t, byID, 2)

			_, err = s.GetChannel(ctx, 999999)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.ErrorIs(t, s.DeleteChannel(ctx, 999999), store.ErrNotFound)
			require.NoError(t, s.DeleteChannel(ctx, other.ID))
		})

		t.Run("rules and cascade", func(t *testing.T) {
			ch := &store.Channel{Provider: "hook", Name: "rules", Data: map[string]string{"room": "rules", "url": "https://r"}}
			require.NoError(t, s.CreateChannel(ctx, ch))
			cat := int64(7)
			group := "staff"
			r1 := &store.Rule{ChannelID: ch.ID, Filter: "watch", Type: "normal", CategoryID: &cat, Tags: []string{"a", "b"}, IncludeSubcategories: true}
			r2 := &store.Rule{ChannelID: ch.ID, Filter: "mute", Type: "group_mention", GroupName: &group}
			require.NoError(t, s.CreateRule(ctx, r1))
			require.NoError(t, s.CreateRule(ctx, r2))
			require.ErrorIs(t, s.CreateRule(ctx, &store.Rule{ChannelID: 999999, Filter: "watch", Type: "normal"}), store.ErrNotFound)

			got, err := s.GetRule(ctx, r1.ID)
			require.NoError(t, err)
			require.Equal(t, []string{"a", "b"}, got.Tags)
			require.Equal(t, int64(7), *got.CategoryID)
			require.True(t, got.IncludeSubcategories)
			got, err = s.GetRule(ctx, r2.ID)
			require.NoError(t, err)
			require.Nil(t, got.Tags)
			require.Nil(t, got.CategoryID)
			require.Equal(t, "staff", *got.GroupName)

			r1.Tags = nil
			r1.Filter = "follow"
			require.NoError(t, s.UpdateRule(ctx, r1))
			got, err = s.GetRule(ctx, r1.ID)
			require.NoError(t, err)
			require.Nil(t, got.Tags)
			require.Equal(t, "follow", got.Filter)

			list, err := s.ListRules(ctx, ch.ID)
			require.NoError(t, err)
			require.Len(t, list, 2)

			require.NoError(t, s.DeleteRule(ctx, r2.ID))
			require.ErrorIs(t, s.DeleteRule(ctx, r2.ID), store.ErrNotFound)
			require.NoError(t, s.DeleteChannel(ctx, ch.ID))
			_, err = s.GetRule(ctx, r1.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "deleting a channel deletes its rules")
		})

		t.Run("transactions roll back", func(t *testing.T) {
			boom := errors.New("boom")
			err := s.InTx(ctx, func(q *store.Queries) error {
				require.NoError(t, q.CreateChannel(ctx, &store.Channel{Provider: "hook", Name: "tx", Data: map[string]string{"room": "tx", "url": "https://tx"}}))
				return boom
			})
			require.ErrorIs(t, err, boom)
			_, err = s.GetChannelByName(ctx, "tx")
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("api keys", func(t *testing.T) {
			key, k, err := s.CreateAPIKey(ctx, "ci")
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(key, store.APIKeyPrefix))
			require.True(t, strings.HasPrefix(key, k.Prefix))
			found, err := s.FindAPIKey(ctx, key)
			require.NoError(t, err)
			require.Equal(t, k.ID, found.ID)
			require.Nil(t, found.RevokedAt)
			_, err = s.FindAPIKey(ctx, key+"x")
			require.ErrorIs(t, err, store.ErrNotFound)

			var n int
			require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE hash = '`+key+`' OR prefix = '`+key+`'`).Scan(&n))
			require.Zero(t, n, "the key itself is never stored")

			require.NoError(t, s.TouchAPIKey(ctx, k.ID, time.Now()))
			require.NoError(t, s.RevokeAPIKey(ctx, k.ID))
			require.ErrorIs(t, s.RevokeAPIKey(ctx, k.ID), store.ErrNotFound)
			found, err = s.FindAPIKey(ctx, key)
			require.NoError(t, err)
			require.NotNil(t, found.RevokedAt)
			require.NotNil(t, found.LastUsedAt)
			keys, err := s.ListAPIKeys(ctx)
			require.NoError(t, err)
			require.Len(t, keys, 1)
		})
	})
}

func TestStore_ReopenAndKeyCheck(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		reg := registry(t)
		s := storetest.Open(t, db, reg)
		require.NoError(t, s.Migrate(ctx), "migrating twice is a no-op")
		v, err := s.SchemaVersion(ctx)
		require.NoError(t, err)
		require.Equal(t, store.LatestSchemaVersion(), v)
		require.NoError(t, s.CreateChannel(ctx, &store.Channel{Provider: "hook", Name: "keep", Data: map[string]string{"room": "keep", "url": secretURL}}))
		require.NoError(t, s.Close())

		// Data survives a restart.
		s2 := storetest.Open(t, db, reg)
		ch, err := s2.GetChannelByName(ctx, "keep")
		require.NoError(t, err)
		require.Equal(t, secretURL, ch.Data["url"])
		require.NoError(t, s2.Close())

		// A different key is refused at start-up.
		s3, err := store.Open(ctx, store.Options{DatabaseURL: db.URL, SecretKey: []byte(strings.Repeat("x", 32)), Providers: reg})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s3.Close() })
		require.ErrorIs(t, s3.Migrate(ctx), store.ErrSecretKeyMismatch)
	})
}

func TestStore_SQLiteFileHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := storetest.Open(t, db, registry(t))
	require.NoError(t, s.PutProviderConfig(ctx, &store.ProviderConfig{ProviderID: "hook", Settings: map[string]any{"token": "xoxb-in-the-file"}}))
	require.NoError(t, s.CreateChannel(ctx, &store.Channel{Provider: "hook", Name: "f", Data: map[string]string{"room": "f", "url": secretURL}}))
	require.NoError(t, s.Close()) // checkpoints the WAL into the main file
	b, err := os.ReadFile(db.URL)
	require.NoError(t, err)
	require.NotEmpty(t, b)
	require.False(t, bytes.Contains(b, []byte("xoxb-in-the-file")))
	require.False(t, bytes.Contains(b, []byte("very-secret-token")))
	require.True(t, bytes.Contains(b, []byte(`"room":"f"`)), "non-secret data is stored in the clear (sanity check that the file was read)")
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, created, err := store.LoadOrCreateKey(dir)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, k1, 32)
	fi, err := os.Stat(dir + "/" + store.KeyFileName)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	k2, created, err := store.LoadOrCreateKey(dir)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, k1, k2)

	require.NoError(t, os.WriteFile(dir+"/"+store.KeyFileName, []byte("garbage"), 0o600))
	_, _, err = store.LoadOrCreateKey(dir)
	require.Error(t, err)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	}
	return ""
}

// PgxTx reaches the InTx transaction through pgx: what runs there commits
// or rolls back with the rest, and the transaction cannot be ended or
// nested from pgx. Outside a PostgreSQL transaction it is refused.
func TestPgxTxJoinsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		require.ErrorIs(t, s.PgxTx(func(pgx.Tx) error { return nil }), store.ErrNoPgxTx)
		if db.Name != "postgres" {
			err := s.InTx(ctx, func(q *store.Queries) error { return q.PgxTx(func(pgx.Tx) error { return nil }) })
			require.ErrorIs(t, err, store.ErrNoPgxTx)
			return
		}
		write := func(name string, fail bool) error {
			return s.InTx(ctx, func(q *store.Queries) error {
				if err := q.PgxTx(func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO counters (name, value) VALUES ($1, 1)`, name)
					return err
				}); err != nil {
					return err
				}
				if err := q.BumpCounter(ctx, name); err != nil { // the same transaction, through GORM
					return err
				}
				if fail {
					return errors.New("roll back")
				}
				return nil
			})
		}
		require.Error(t, write("rolled_back", true))
		require.NoError(t, write("committed", false))
		for name, want := range map[string]int64{"rolled_back": 0, "committed": 2} {
			got, err := s.Counter(ctx, name)
			require.NoError(t, err)
			require.Equal(t, want, got, name)
		}
		err := s.InTx(ctx, func(q *store.Queries) error {
			return q.PgxTx(func(tx pgx.Tx) error {
				_, err := tx.Begin(ctx)
				require.Error(t, err, "no nested transaction")
				require.Error(t, tx.Commit(ctx), "InTx commits")
				require.Error(t, tx.Rollback(ctx), "InTx rolls back")
				return nil
			})
		})
		require.NoError(t, err)
	})
}
