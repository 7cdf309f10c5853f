package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

const deliveryUpdatedQuery = `subscription($c: ID) { deliveryUpdated(channelId: $c) { id status attempts } }`

type update struct {
	ID       string
	Status   string
	Attempts int
}

// subscribeWS subscribes over graphql-transport-ws and returns the
// deliveryUpdated payloads once the server has acknowledged the
// subscription's connection.
func subscribeWS(t *testing.T, baseURL, key, channelID string) <-chan update {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wsURL := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init",
		"payload": map[string]any{"Authorization": "Bearer " + key}}))
	var ack map[string]any
	require.NoError(t, wsjson.Read(ctx, conn, &ack))
	require.Equal(t, "connection_ack", ack["type"])
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": deliveryUpdatedQuery, "variables": map[string]any{"c": channelID}}}))
	out := make(chan update, 64)
	go func() {
		defer close(out)
		for {
			var msg struct {
				Type    string
				Payload struct {
					Data struct{ DeliveryUpdated update }
				}
			}
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				return
			}
			if msg.Type == "next" {
				out <- msg.Payload.Data.DeliveryUpdated
			}
		}
	}()
	return out
}

// subscribeSSE subscribes over server-sent events.
func subscribeSSE(t *testing.T, baseURL, key, channelID string) <-chan update {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": deliveryUpdatedQuery, "variables": map[string]any{"c": channelID}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	t.Cleanup(func() { _ = resp.Body.Close() })
	out := make(chan update, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "data:") {
				continue
			}
			var msg struct {
				Data struct{ DeliveryUpdated update }
			}
			if json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &msg) == nil &&
				msg.Data.DeliveryUpdated.ID != "" {
				out <- msg.Data.DeliveryUpdated
			}
		}
	}()
	return out
}

// statusesUntil collects one delivery's statuses until it reaches status.
func statusesUntil(t *testing.T, updates <-chan update, status string) []string {
	t.Helper()
	var got []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case u, ok := <-updates:
			require.True(t, ok, "subscription ended early after %v", got)
			got = append(got, u.Status)
			if u.Status == status {
				return got
			}
		case <-timeout:
			t.Fatalf("no %s update; saw %v", status, got)
		}
	}
}

func TestE2E_DeliveryUpdatedSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("live", "WATCH", 11)
		ws := subscribeWS(t, s.url, s.key, ch)
		sse := subscribeSSE(t, s.url, s.key, ch)
		require.Eventually(t, func() bool { return s.app.engine.Broker().Subscribers() == 2 },
			10*time.Second, 5*time.Millisecond, "both subscriptions registered")
		// An update of another channel must not reach these subscribers.
		s.slackChannel("unrelated", "WATCH", 12)
		code, _ := s.webhook("post_created", discoursetest.PostPayload(post(501, 90, 1, 12, "elsewhere")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		code, _ = s.webhook("post_created", discoursetest.PostPayload(post(502, 91, 1, 11, "watch me")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, []string{"QUEUED", "SENDING", "DELIVERED"}, statusesUntil(t, ws, "DELIVERED"))
		require.Equal(t, []string{"QUEUED", "SENDING", "DELIVERED"}, statusesUntil(t, sse, "DELIVERED"))
	})
}
