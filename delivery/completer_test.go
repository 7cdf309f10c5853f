package delivery

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// completionOf's RepliedTo is what moves a topic's thread in
// CompleteDeliveries: a ThreadID that differs from it replaces it.
func TestCompletionRepliedTo(t *testing.T) {
	for _, c := range []struct {
		name           string
		filter, thread string // the notification's rule and thread
		left           string // the thread posted outside of
		receipt        *providers.Receipt
		want           string
	}{
		{"reply in the thread", "thread", "root1", "", &providers.Receipt{MessageID: "m2", ThreadID: "root1"}, "root1"},
		{"provider left a gone thread by itself", "thread", "root1", "", &providers.Receipt{MessageID: "m2", ThreadID: "m2"}, "root1"},
		{"first post of a thread rule", "thread", "", "", &providers.Receipt{MessageID: "m1", ThreadID: "m1"}, ""},
		{"engine posted outside a gone thread", "thread", "", "root1", &providers.Receipt{MessageID: "m2", ThreadID: "m2"}, "root1"},
		{"watch rule never replies", "watch", "root1", "", &providers.Receipt{MessageID: "m2", ThreadID: "m2"}, ""},
		{"no receipt", "thread", "root1", "", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := &providers.Notification{Filter: c.filter, ThreadID: c.thread}
			n.Post.ID, n.Topic.ID = 2, 1
			got := completionOf(&store.Delivery{ID: 9, Action: store.ActionSend}, &store.Channel{ID: 3}, n, c.receipt, c.left)
			require.Equal(t, c.want, got.RepliedTo)
			if c.receipt != nil {
				require.Equal(t, c.receipt.ThreadID, got.ThreadID)
			}
		})
	}
}
