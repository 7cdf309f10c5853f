package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/providers/matrix/matrixtest"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// The whole path for a second platform: forum webhooks reach a Matrix
// room through the engine, a THREAD rule makes the topic's first post the
// thread root and puts the reply in that thread, and the forum's edit and
// deletion of the reply become an m.replace of, and a redaction of, the
// message that was sent.
func TestE2E_MatrixThreadEditDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		hs := matrixtest.New(t, matrixtest.Options{})
		const room = "!forum:example.org"
		hs.AddRoom(matrixtest.Room{ID: room, Joined: true})
		s.gql(`mutation($s: JSON!) { configureProvider(input: {id: "matrix", enabled: true, settings: $s}) { id } }`,
			map[string]any{"s": map[string]any{"access_token": matrixtest.DefaultToken, "api_base_url": hs.URL()}}, nil)
		var out struct{ CreateChannel struct{ ID string } }
		s.gql(`mutation($d: JSON!) { createChannel(input: {provider: "matrix", name: "forum-room", data: $d}) { id } }`,
			map[string]any{"d": map[string]any{"name": "forum", "room_id": room}}, &out)
		ch := out.CreateChannel.ID
		s.rule(ch, "THREAD", 12)

		first := post(901, 95, 1, 12, "the release is out")
		code, _ := s.webhook("post_created", discoursetest.PostPayload(first), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		reply := post(902, 95, 2, 12, "thanks, upgrading now")
		code, _ = s.webhook("post_created", discoursetest.PostPayload(reply), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds := s.waitDeliveries(ch, 2)
		for _, d := range ds {
			require.Equal(t, "DELIVERED", d.Status)
		}

		evs := hs.Events()
		require.Len(t, evs, 2)
		root, inThread := evs[0], evs[1]
		require.Equal(t, room, root.RoomID)
		require.NotContains(t, root.Content, "m.relates_to", "the topic's first post starts the thread")
		rel, _ := inThread.Content["m.relates_to"].(map[string]any)
		require.NotNil(t, rel, "the reply relates to the root: %v", inThread.Content)
		require.Equal(t, "m.thread", rel["rel_type"])
		require.Equal(t, root.EventID, rel["event_id"])
		require.Contains(t, inThread.Content["body"], "thanks, upgrading now")

		reply.Version, reply.Raw, reply.Cooked = 2, "upgraded, all good", "<p>upgraded, all good</p>"
		code, _ = s.webhook("post_edited", discoursetest.PostPayload(reply), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		s.waitDeliveries(ch, 3)
		code, _ = s.webhook("post_destroyed", discoursetest.PostPayload(reply), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds = s.waitDeliveries(ch, 4)
		require.Equal(t, "DELETE", ds[0].Action)
		require.Equal(t, "DELIVERED", ds[0].Status)
		require.Equal(t, "EDIT", ds[1].Action)
		require.Equal(t, "DELIVERED", ds[1].Status)

		evs = hs.Events()
		require.Len(t, evs, 4)
		edit, redaction := evs[2], evs[3]
		rel, _ = edit.Content["m.relates_to"].(map[string]any)
		require.NotNil(t, rel, "the edit relates to the reply: %v", edit.Content)
		require.Equal(t, "m.replace", rel["rel_type"])
		require.Equal(t, inThread.EventID, rel["event_id"], "the edit replaces the message that was sent")
		nc, _ := edit.Content["m.new_content"].(map[string]any)
		require.Contains(t, nc["body"], "upgraded, all good")
		require.Equal(t, "m.room.redaction", redaction.Type)
		require.Equal(t, inThread.EventID, redaction.Redacts, "the deletion removes the reply")
	})
}

// When the topic's thread root disappears from the homeserver, a reply
// into it is refused (400 M_UNKNOWN, providers.ErrThreadNotFound); the
// engine posts it outside the thread in the same attempt, and that message
// roots the topic's thread from then on.
func TestE2E_MatrixThreadRootGone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		hs := matrixtest.New(t, matrixtest.Options{})
		const room = "!forum:example.org"
		hs.AddRoom(matrixtest.Room{ID: room, Joined: true})
		s.gql(`mutation($s: JSON!) { configureProvider(input: {id: "matrix", enabled: true, settings: $s}) { id } }`,
			map[string]any{"s": map[string]any{"access_token": matrixtest.DefaultToken, "api_base_url": hs.URL()}}, nil)
		var out struct{ CreateChannel struct{ ID string } }
		s.gql(`mutation($d: JSON!) { createChannel(input: {provider: "matrix", name: "forum-room", data: $d}) { id } }`,
			map[string]any{"d": map[string]any{"name": "forum", "room_id": room}}, &out)
		ch := out.CreateChannel.ID
		s.rule(ch, "THREAD", 12)

		send := func(p discourse.Post, n int) deliveryView {
			t.Helper()
			code, _ := s.webhook("post_created", discoursetest.PostPayload(p), webhookSecret)
			require.Equal(t, http.StatusOK, code)
			d := s.waitDeliveries(ch, n)[0] // newest first
			require.Equal(t, "DELIVERED", d.Status, "%+v", d)
			return d
		}
		send(post(911, 96, 1, 12, "the release is out"), 1)
		evs := hs.Events()
		require.Len(t, evs, 1)
		require.True(t, hs.Forget(evs[0].EventID), "the root is purged from the room")

		d := send(post(912, 96, 2, 12, "thanks, upgrading now"), 2)
		require.Equal(t, 1, d.Attempts, "posting outside the gone thread spends no attempt")
		require.Nil(t, d.LastError)
		evs = hs.Events()
		require.Len(t, evs, 1, "the refused reply was not stored")
		newRoot := evs[0]
		require.NotContains(t, newRoot.Content, "m.relates_to", "the reply went out top-level: %v", newRoot.Content)
		require.Contains(t, newRoot.Content["body"], "thanks, upgrading now")
		require.NotNil(t, d.RemoteID)
		require.Equal(t, newRoot.EventID, *d.RemoteID)

		send(post(913, 96, 3, 12, "upgraded, all good"), 3)
		evs = hs.Events()
		require.Len(t, evs, 2)
		rel, _ := evs[1].Content["m.relates_to"].(map[string]any)
		require.NotNil(t, rel, "the next reply is in a thread again: %v", evs[1].Content)
		require.Equal(t, "m.thread", rel["rel_type"])
		require.Equal(t, newRoot.EventID, rel["event_id"], "the thread is rooted at the message posted outside the gone one")
	})
}

// TestE2E_MatrixRateLimitHoldsEveryRoom: a homeserver limits the bot's
// user, not a room (M_LIMIT_EXCEEDED, Synapse's rc_message), so once one
// room's message got a 429 the sidecar sends nothing to any room of the
// account until the wait is over: the second room's message, accepted
// after the 429, goes out no earlier than Retry-After after it, and the
// homeserver sees no request for it before then (three sends in all).
func TestE2E_MatrixRateLimitHoldsEveryRoom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		hs := matrixtest.New(t, matrixtest.Options{})
		s.gql(`mutation($s: JSON!) { configureProvider(input: {id: "matrix", enabled: true, settings: $s}) { id } }`,
			map[string]any{"s": map[string]any{"access_token": matrixtest.DefaultToken, "api_base_url": hs.URL()}}, nil)
		var channels []string
		for i, room := range []string{"!one:example.org", "!two:example.org"} {
			hs.AddRoom(matrixtest.Room{ID: room, Joined: true})
			var out struct{ CreateChannel struct{ ID string } }
			s.gql(`mutation($d: JSON!, $n: String!) { createChannel(input: {provider: "matrix", name: $n, data: $d}) { id } }`,
				map[string]any{"n": fmt.Sprintf("room-%d", i), "d": map[string]any{"name": fmt.Sprintf("room %d", i), "room_id": room}}, &out)
			s.rule(out.CreateChannel.ID, "WATCH", 31+i)
			channels = append(channels, out.CreateChannel.ID)
		}
		hs.Reply(http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}, "Content-Type": {"application/json"}},
			`{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":3000}`)
		sentAt := time.Now() // before the 429
		code, body := s.webhook("post_created", discoursetest.PostPayload(post(2501, 2600, 1, 31, "first room")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		storedOne(t, s, channels[0], store.StatusRetrying)
		hs.Fail(providertest.Succeed)
		code, body = s.webhook("post_created", discoursetest.PostPayload(post(2502, 2601, 1, 32, "second room")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)

		for _, ch := range channels {
			require.Equal(t, "DELIVERED", s.waitDeliveries(ch, 1)[0].Status)
		}
		second := storedDeliveries(t, s.st, channels[1])[0]
		// The pause ends 3 s after the 429, which came after sentAt; the
		// stored time may be truncated to the millisecond.
		require.GreaterOrEqual(t, second.DeliveredAt.Sub(sentAt), 3*time.Second-time.Millisecond,
			"the other room waited for the account's pause (3 s from the 429)")
		require.Zero(t, second.Attempts-1, "waiting spent no attempt")
		var sends int
		for _, r := range hs.Requests() {
			if strings.Contains(r.Path, "/send/") {
				sends++
			}
		}
		require.Equal(t, 3, sends, "the 429, then one message per room")
	})
}
