package providers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// TestStableKeyIsPinned pins the hash: changing it would give messages in
// flight during an upgrade new ids, and platforms would post their
// retries again. The value is the one the Matrix provider used before the
// key moved here.
func TestStableKeyIsPinned(t *testing.T) {
	t.Parallel()
	require.Equal(t, "chatsidecar.db3faa8320fd13d6a42629772ab15873", providers.StableKey(7, "send", "post_created", "1001", "1"))
	require.NotEqual(t, providers.StableKey(7, "ab", "c"), providers.StableKey(7, "a", "bc"), "parts are separated")
	require.NotEqual(t, providers.StableKey(1, "7"), providers.StableKey(17), "the channel is separated from the parts")
}

func TestSendKey(t *testing.T) {
	t.Parallel()
	post := func(kind providers.EventKind, id int64, version int) *providers.Notification {
		return &providers.Notification{Kind: kind, Topic: providers.Topic{ID: 42},
			Post: providers.Post{ID: id, Version: version, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	}
	base := providers.SendKey(7, post(providers.PostCreated, 1001, 1))
	require.Equal(t, "chatsidecar.db3faa8320fd13d6a42629772ab15873", base)
	require.Equal(t, base, providers.SendKey(7, post(providers.PostCreated, 1001, 1)), "every attempt has the same key")

	differ := map[string]string{
		"another channel":       providers.SendKey(8, post(providers.PostCreated, 1001, 1)),
		"another post":          providers.SendKey(7, post(providers.PostCreated, 1002, 1)),
		"another version":       providers.SendKey(7, post(providers.PostCreated, 1001, 2)),
		"another kind of event": providers.SendKey(7, post(providers.PostEdited, 1001, 1)),
	}
	for name, key := range differ {
		require.NotEqual(t, base, key, name)
	}

	// The sample post of testChannel has no id: each test is new.
	sample := post(providers.PostCreated, 0, 1)
	later := post(providers.PostCreated, 0, 1)
	later.Post.CreatedAt = later.Post.CreatedAt.Add(time.Second)
	require.NotEqual(t, providers.SendKey(7, sample), providers.SendKey(7, later))
	require.Equal(t, providers.SendKey(7, sample), providers.SendKey(7, post(providers.PostCreated, 0, 1)))
}
