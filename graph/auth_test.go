package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store/storetest"
)

func TestAdminAPI_Auth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)
		ctx := context.Background()
		key, k, err := e.store.CreateAPIKey(ctx, "ci")
		require.NoError(t, err)
		const q = `{ providers { id } }`

		for name, tc := range map[string]struct {
			headers map[string]string
			status  int
		}{
			"no key":             {nil, http.StatusUnauthorized},
			"wrong key":          {map[string]string{"Authorization": "Bearer csk_wrong"}, http.StatusUnauthorized},
			"empty bearer":       {map[string]string{"Authorization": "Bearer "}, http.StatusUnauthorized},
			"bootstrap bearer":   {map[string]string{"Authorization": "Bearer " + bootstrapKey}, http.StatusOK},
			"stored key bearer":  {map[string]string{"Authorization": "Bearer " + key}, http.StatusOK},
			"stored key Api-Key": {map[string]string{"Api-Key": key}, http.StatusOK},
		} {
			t.Run(name, func(t *testing.T) {
				res := e.do(t, tc.headers, q, nil)
				require.Equal(t, tc.status, res.Status)
				if tc.status == http.StatusUnauthorized {
					require.Equal(t, "UNAUTHENTICATED", res.code())
					require.Nil(t, res.Data["providers"])
				} else {
					require.Empty(t, res.Errors)
				}
			})
		}

		// A revoked key stops working at once.
		require.NoError(t, e.store.RevokeAPIKey(ctx, k.ID))
		res := e.do(t, map[string]string{"Authorization": "Bearer " + key}, q, nil)
		require.Equal(t, http.StatusUnauthorized, res.Status)
		require.Equal(t, "UNAUTHENTICATED", res.code())

		// Mutations are refused without a key and change nothing.
		before := e.snapshot(t)
		res = e.do(t, nil, `mutation { createChannel(input: {provider: "slack", data: {identifier: "#x"}}) { id } }`, nil)
		require.Equal(t, http.StatusUnauthorized, res.Status)
		require.Equal(t, before, e.snapshot(t))
	})
}

// wsMessage is a graphql-transport-ws / graphql-ws frame.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, e *testEnv, subprotocol string, header http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPHeader: header})
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestAdminAPI_WebSocket(t *testing.T) {
	t.Parallel()
	e := setup(t, storetest.SQLite(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, proto := range []struct{ name, start, data string }{
		{"graphql-transport-ws", "subscribe", "next"},
		{"graphql-ws", "start", "data"},
	} {
		t.Run(proto.name+" with key in connection_init", func(t *testing.T) {
			c := dialWS(t, e, proto.name, nil)
			require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + bootstrapKey}}))
			var m wsMessage
			require.NoError(t, wsjson.Read(ctx, c, &m))
			require.Equal(t, "connection_ack", m.Type)
			require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "1", "type": proto.start, "payload": map[string]any{"query": `{ provider(id: "slack") { id } }`}}))
			for m.Type != proto.data {
				require.NoError(t, wsjson.Read(ctx, c, &m))
				require.NotEqual(t, "error", m.Type, "%s", m.Payload)
			}
			require.JSONEq(t, `{"data":{"provider":{"id":"slack"}}}`, string(m.Payload))
		})

		t.Run(proto.name+" without key", func(t *testing.T) {
			c := dialWS(t, e, proto.name, nil)
			require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{}}))
			var m wsMessage
			err := wsjson.Read(ctx, c, &m)
			if err == nil {
				// graphql-ws reports connection_error before closing.
				require.Equal(t, "connection_error", m.Type)
				require.Contains(t, string(m.Payload), "API key")
				err = wsjson.Read(ctx, c, &m)
			}
			require.Error(t, err, "the connection is closed")
		})
	}

	t.Run("key in the upgrade request", func(t *testing.T) {
		c := dialWS(t, e, "graphql-transport-ws", http.Header{"Api-Key": []string{bootstrapKey}})
		require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init"}))
		var m wsMessage
		require.NoError(t, wsjson.Read(ctx, c, &m))
		require.Equal(t, "connection_ack", m.Type)
	})
}

// TestAdminAPI_SecretsNeverLeave sets secrets through every path and
// checks that no response body and no log line ever contains them.
func TestAdminAPI_SecretsNeverLeave(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)
		e.ok(t, `mutation($s: JSON) { configureProvider(input: {id: "slack", enabled: true, settings: $s}) { settings } }`,
			map[string]any{"s": map[string]any{"access_token": slackToken, "signing_secret": "slack-signing-secret-777"}}, "configureProvider", nil)
		e.createChannel(t, "discord", "d", map[string]any{"name": "d", "webhook_url": discordWebhook})
		e.createChannel(t, "slack", "s", map[string]any{"identifier": "#s"})
		e.ok(t, `{ providers { settings } channels { edges { node { data } } } }`, nil, "providers", nil)
		e.ok(t, `{ exportConfig }`, nil, "exportConfig", nil)
		// A rejected duplicate echoes nothing secret either.
		res := e.gql(t, `mutation($in: CreateChannelInput!) { createChannel(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"provider": "discord", "data": map[string]any{"name": "x", "webhook_url": discordWebhook}}})
		require.Equal(t, "BAD_USER_INPUT", res.code())

		for _, secret := range []string{slackToken, "slack-signing-secret-777", "discord-secret-ABC", bootstrapKey} {
			require.NotContains(t, e.bodies.String(), secret)
			require.NotContains(t, e.logs.String(), secret)
		}
		require.Contains(t, e.bodies.String(), "[REDACTED]")
		require.NotEmpty(t, e.logs.String(), "the server did log (so the check above means something)")
	})
}
