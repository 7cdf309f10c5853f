package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/graph"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/server"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

const bootstrapKey = "bootstrap-key-for-tests-0123456789"

// testEnv is a real HTTP server (httptest) in front of the full stack:
// auth middleware, GraphQL handler, admin service and a real database.
type testEnv struct {
	srv   *httptest.Server
	store *store.Store
	reg   *providers.Registry
	key   string
	logs  *syncBuffer
	// bodies collects every response body, so tests can assert that no
	// secret ever left the server.
	bodies *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func setup(t *testing.T, db storetest.DB) *testEnv {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	st := storetest.Open(t, db, reg)
	return start(t, st, reg)
}

func start(t *testing.T, st *store.Store, reg *providers.Registry) *testEnv {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := admin.New(st, reg, log)
	auth := server.NewAuthenticator(st, bootstrapKey, log)
	gh := graph.NewHandler(graph.NewResolver(graph.Deps{Admin: svc, Store: st, Registry: reg, Logger: log}), graph.HandlerOptions{
		Authenticate:    auth.Authenticate,
		IsAuthenticated: func(ctx context.Context) bool { _, ok := server.PrincipalFrom(ctx); return ok },
	})
	cfg, _, err := config.Load("test", nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	cfg.AdminAPIKey = bootstrapKey
	s := server.New(server.Options{Config: cfg, Store: st, Auth: auth, GraphQL: gh, Logger: log})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testEnv{srv: hs, store: st, reg: reg, key: bootstrapKey, logs: logs, bodies: &syncBuffer{}}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r *gqlResponse) field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// do posts an operation with the given headers.
func (e *testEnv) do(t *testing.T, headers map[string]string, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	_, _ = e.bodies.Write(raw)
	out := &gqlResponse{Status: res.StatusCode}
	require.NoError(t, json.Unmarshal(raw, out), "body: %s", raw)
	return out
}

// gql posts an operation as the admin.
func (e *testEnv) gql(t *testing.T, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	return e.do(t, map[string]string{"Authorization": "Bearer " + e.key}, query, vars)
}

// ok posts an operation, requires success and decodes data[field] into v.
func (e *testEnv) ok(t *testing.T, query string, vars map[string]any, field string, v any) {
	t.Helper()
	res := e.gql(t, query, vars)
	require.Equal(t, http.StatusOK, res.Status)
	require.Empty(t, res.Errors, "errors: %+v", res.Errors)
	if v != nil {
		require.NoError(t, json.Unmarshal(res.Data[field], v))
	}
}

// snapshot captures everything the admin API can change, to prove that a
// rejected input changed nothing.
func (e *testEnv) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	cfgs, err := e.store.ListProviderConfigs(ctx)
	require.NoError(t, err)
	chs, err := e.store.ListChannels(ctx, store.ListChannelsParams{})
	require.NoError(t, err)
	rs, err := e.store.ListRules(ctx)
	require.NoError(t, err)
	b, err := json.Marshal([]any{cfgs, chs, rs})
	require.NoError(t, err)
	return string(b)
}
