package providers

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// SendKey is a stable identity of sending n to channelID: the same for
// every attempt, on any replica and across restarts, and different for
// another channel, another kind of event or another version of the post.
// Platforms that deduplicate by a client-chosen id (Matrix transaction
// ids) and receivers that deduplicate by the generic webhook's delivery
// id use it, so a retry after a timeout, or the resend of a message a
// killed process sent but could not record, shows once. A post without an
// id (the sample post of testChannel) adds its creation time and topic,
// so each test is a new message.
func SendKey(channelID int64, n *Notification) string {
	parts := []string{"send", string(n.Kind), strconv.FormatInt(n.Post.ID, 10), strconv.Itoa(n.Post.Version)}
	if n.Post.ID == 0 {
		parts = append(parts, strconv.FormatInt(n.Post.CreatedAt.UnixNano(), 10), strconv.FormatInt(n.Topic.ID, 10))
	}
	return StableKey(channelID, parts...)
}

// StableKey hashes a channel id and parts into a short id of URL-safe
// characters. Parts are separated by a NUL byte, so ("a", "bc") and
// ("ab", "c") differ. The "chatsidecar." prefix makes the ids
// recognisable in a platform's logs. Changing the output changes the ids
// of messages in flight, so a platform could no longer recognise their
// retries; it is pinned by a test.
func StableKey(channelID int64, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(channelID, 10)))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "chatsidecar." + hex.EncodeToString(h.Sum(nil)[:16])
}
