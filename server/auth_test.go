package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

const testBootstrapKey = "bootstrap-key-0123456789"

func openStore(t *testing.T) *store.Store {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	return storetest.Open(t, storetest.SQLite(t), reg)
}

// fakeClock is a settable clock for the last-use throttle.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type authBundle struct {
	store *store.Store
	auth  *Authenticator
	clock *fakeClock
}

func setupAuth(t *testing.T, bootstrap string) *authBundle {
	t.Helper()
	s := openStore(t)
	clock := &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	a := NewAuthenticator(s, bootstrap, nil)
	a.now = clock.Now
	return &authBundle{store: s, auth: a, clock: clock}
}

func TestAuthenticateBootstrapKey(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, testBootstrapKey)
	ctx := context.Background()

	got, err := b.auth.Authenticate(ctx, testBootstrapKey)
	require.NoError(t, err)
	p, ok := PrincipalFrom(got)
	require.True(t, ok)
	require.Equal(t, Principal{KeyID: 0, Name: BootstrapPrincipalName}, p)

	// Near misses all go through the constant-time comparison and fail:
	// same length one byte off, a prefix, an extension, different case.
	sameLength := testBootstrapKey[:len(testBootstrapKey)-1] + "X"
	for _, key := range []string{sameLength, testBootstrapKey[:8], testBootstrapKey + "0", strings.ToUpper(testBootstrapKey), " " + testBootstrapKey} {
		got, err := b.auth.Authenticate(ctx, key)
		require.ErrorIs(t, err, ErrUnauthenticated, "key %q", key)
		_, ok := PrincipalFrom(got)
		require.False(t, ok)
	}
}

func TestAuthenticateWithoutBootstrapKey(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, "")
	// An unset bootstrap key must not turn the empty key, or any key,
	// into an admin.
	for _, key := range []string{"", testBootstrapKey, strings.Repeat("a", maxKeyLength+1)} {
		_, err := b.auth.Authenticate(context.Background(), key)
		require.ErrorIs(t, err, ErrUnauthenticated)
	}
}

func TestAuthenticateStoredKey(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, testBootstrapKey)
	ctx := context.Background()
	key, k, err := b.store.CreateAPIKey(ctx, "ci")
	require.NoError(t, err)

	got, err := b.auth.Authenticate(ctx, key)
	require.NoError(t, err)
	p, ok := PrincipalFrom(got)
	require.True(t, ok)
	require.Equal(t, Principal{KeyID: k.ID, Name: "ci"}, p)

	_, err = b.auth.Authenticate(ctx, key+"x")
	require.ErrorIs(t, err, ErrUnauthenticated)
	_, err = b.auth.Authenticate(ctx, store.APIKeyPrefix+"not-a-real-key")
	require.ErrorIs(t, err, ErrUnauthenticated)

	require.NoError(t, b.store.RevokeAPIKey(ctx, k.ID))
	got, err = b.auth.Authenticate(ctx, key)
	require.ErrorIs(t, err, ErrUnauthenticated)
	_, ok = PrincipalFrom(got)
	require.False(t, ok)
}

func TestAuthenticateRecordsLastUseAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, "")
	ctx := context.Background()
	key, k, err := b.store.CreateAPIKey(ctx, "ci")
	require.NoError(t, err)
	lastUsed := func() *time.Time {
		t.Helper()
		keys, err := b.store.ListAPIKeys(ctx)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.Equal(t, k.ID, keys[0].ID)
		return keys[0].LastUsedAt
	}
	require.Nil(t, lastUsed())

	first := b.clock.Now()
	_, err = b.auth.Authenticate(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, lastUsed())
	require.True(t, first.Equal(*lastUsed()), "got %v", lastUsed())

	b.clock.Advance(30 * time.Second)
	_, err = b.auth.Authenticate(ctx, key)
	require.NoError(t, err)
	require.True(t, first.Equal(*lastUsed()), "written again within a minute: %v", lastUsed())

	b.clock.Advance(31 * time.Second)
	second := b.clock.Now()
	_, err = b.auth.Authenticate(ctx, key)
	require.NoError(t, err)
	require.True(t, second.Equal(*lastUsed()), "got %v", lastUsed())
}

func TestAuthenticateStoreFailureIsNotUnauthenticated(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, testBootstrapKey)
	require.NoError(t, b.store.Close())

	_, err := b.auth.Authenticate(context.Background(), store.APIKeyPrefix+"whatever")
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrUnauthenticated)

	// The bootstrap key needs no database.
	_, err = b.auth.Authenticate(context.Background(), testBootstrapKey)
	require.NoError(t, err)
}

func TestKeyFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"none", nil, ""},
		{"bearer", map[string]string{"Authorization": "Bearer csk_abc"}, "csk_abc"},
		{"bearer lower case scheme", map[string]string{"Authorization": "bearer csk_abc"}, "csk_abc"},
		{"bearer extra spaces", map[string]string{"Authorization": "  Bearer   csk_abc  "}, "csk_abc"},
		{"bearer without token", map[string]string{"Authorization": "Bearer"}, ""},
		{"basic is not a key", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, ""},
		{"discourse api-key", map[string]string{"Api-Key": "csk_def"}, "csk_def"},
		{"basic falls back to api-key", map[string]string{"Authorization": "Basic x", "Api-Key": "csk_def"}, "csk_def"},
		{"bearer wins over api-key", map[string]string{"Authorization": "Bearer csk_abc", "Api-Key": "csk_def"}, "csk_abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest(http.MethodGet, "/graphql", nil)
			require.NoError(t, err)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			require.Equal(t, tt.want, KeyFromRequest(r))
		})
	}
}

func TestPrincipalFromEmptyContext(t *testing.T) {
	t.Parallel()
	_, ok := PrincipalFrom(context.Background())
	require.False(t, ok)
}
