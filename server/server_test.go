package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/store"
)

const unauthenticatedBody = `{"errors":[{"message":"a valid API key is required","extensions":{"code":"UNAUTHENTICATED"}}]}`

// syncBuffer is a log sink that handler goroutines may write while the
// test reads.
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

// echoGraphQL stands in for the GraphQL handler: it reports who called
// and how much body it received.
func echoGraphQL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p, ok := PrincipalFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"authenticated": ok, "name": p.Name, "keyId": p.KeyID, "bodyLen": len(body)})
	})
}

type testBundle struct {
	store   *store.Store
	server  *Server
	handler http.Handler
	logs    *syncBuffer
	key     string // an active stored key
	revoked string // a revoked stored key
}

func setup(t *testing.T, graphql http.Handler) *testBundle {
	t.Helper()
	s := openStore(t)
	ctx := context.Background()
	key, _, err := s.CreateAPIKey(ctx, "active")
	require.NoError(t, err)
	revoked, rk, err := s.CreateAPIKey(ctx, "revoked")
	require.NoError(t, err)
	require.NoError(t, s.RevokeAPIKey(ctx, rk.ID))

	logs := &syncBuffer{}
	log := NewLogger(logs, -8, "text") // everything, including debug
	srv := New(Options{
		Config:  &config.Config{Listen: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second},
		Store:   s,
		Auth:    NewAuthenticator(s, testBootstrapKey, log),
		GraphQL: graphql,
		Logger:  log,
	})
	return &testBundle{store: s, server: srv, handler: srv.Handler(), logs: logs, key: key, revoked: revoked}
}

// do sends one request through the full handler and returns the response.
func (b *testBundle) do(t *testing.T, method, path string, body io.Reader, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, body)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	return w
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"), w.Header().Get("Content-Type"))
	var v map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	w := b.do(t, http.MethodGet, "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"status":"ok"}`, w.Body.String())

	w = b.do(t, http.MethodHead, "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	w := b.do(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"status":"ok"}`, w.Body.String())

	require.NoError(t, b.store.Close())
	w = b.do(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.JSONEq(t, `{"status":"unavailable","error":"database unreachable"}`, w.Body.String())
	require.Contains(t, b.logs.String(), "readiness check failed")
}

func TestGraphQLRequiresKey(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	query := `{"query":"{__typename}"}`

	for name, headers := range map[string]map[string]string{
		"no key":      nil,
		"wrong key":   {"Authorization": "Bearer csk_wrong"},
		"revoked key": {"Authorization": "Bearer " + b.revoked},
		"basic auth":  {"Authorization": "Basic dXNlcjpwYXNz"},
		"api-key":     {"Api-Key": "wrong"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				w := b.do(t, method, "/graphql?query=%7B__typename%7D", strings.NewReader(query), headers)
				require.Equal(t, http.StatusUnauthorized, w.Code, method)
				require.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
				require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
				require.JSONEq(t, unauthenticatedBody, w.Body.String())
			}
		})
	}
}

func TestGraphQLAcceptsKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	query := `{"query":"{__typename}"}`

	for name, tc := range map[string]struct {
		headers map[string]string
		who     string
	}{
		"stored key as bearer":  {map[string]string{"Authorization": "Bearer " + b.key}, "active"},
		"stored key as api-key": {map[string]string{"Api-Key": b.key}, "active"},
		"bootstrap key":         {map[string]string{"Authorization": "Bearer " + testBootstrapKey}, BootstrapPrincipalName},
	} {
		t.Run(name, func(t *testing.T) { // not parallel: the log is checked below
			w := b.do(t, http.MethodPost, "/graphql", strings.NewReader(query), tc.headers)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			got := decode(t, w)
			require.Equal(t, true, got["authenticated"])
			require.Equal(t, tc.who, got["name"])
			require.EqualValues(t, len(query), got["bodyLen"])
		})
	}
	// Neither key reached the log.
	require.NotContains(t, b.logs.String(), b.key)
	require.NotContains(t, b.logs.String(), testBootstrapKey)
	require.Contains(t, b.logs.String(), "path=/graphql status=200")
}

func TestGraphQLWebSocketUpgrade(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}

	// Without a key the upgrade reaches the GraphQL layer, which
	// authenticates connection_init.
	w := b.do(t, http.MethodGet, "/graphql", nil, upgrade)
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, false, decode(t, w)["authenticated"])

	// With an invalid key it is refused at the HTTP level.
	withBad := map[string]string{"Connection": "Upgrade", "Upgrade": "WebSocket", "Authorization": "Bearer " + b.revoked}
	w = b.do(t, http.MethodGet, "/graphql", nil, withBad)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.JSONEq(t, unauthenticatedBody, w.Body.String())

	// With a valid key the principal is attached.
	withGood := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Api-Key": b.key}
	w = b.do(t, http.MethodGet, "/graphql", nil, withGood)
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "active", decode(t, w)["name"])
}

func TestWebSocketHijackThroughMiddleware(t *testing.T) {
	t.Parallel()
	// A real WebSocket handshake proves the access-log wrapper lets the
	// connection be hijacked.
	ws := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), websocket.MessageText, msg); err != nil {
			return
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
	b := setup(t, ws)
	ts := httptest.NewServer(b.handler)
	t.Cleanup(ts.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("ping")))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "ping", string(msg))
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())

	for _, path := range []string{"/nope", "/graphql/extra", "/healthz/x", "/favicon.ico"} {
		w := b.do(t, http.MethodGet, path, nil, nil)
		require.Equal(t, http.StatusNotFound, w.Code, path)
		require.Equal(t, map[string]any{"error": "not found"}, decode(t, w))
	}

	w := b.do(t, http.MethodPost, "/healthz", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
	require.Equal(t, map[string]any{"error": "method not allowed"}, decode(t, w))

	w = b.do(t, http.MethodDelete, "/", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, map[string]any{"error": "method not allowed"}, decode(t, w))

	w = b.do(t, http.MethodPut, "/graphql", nil, map[string]string{"Authorization": "Bearer " + b.key})
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD, POST", w.Header().Get("Allow"))
	require.JSONEq(t, `{"errors":[{"message":"method not allowed","extensions":{"code":"BAD_USER_INPUT"}}]}`, w.Body.String())
}

// unsizedReader hides its length so the request is sent without a
// Content-Length, as a chunked body would be.
type unsizedReader struct{ r io.Reader }

func (u unsizedReader) Read(p []byte) (int, error) { return u.r.Read(p) }

func TestGraphQLBodyCap(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	auth := map[string]string{"Authorization": "Bearer " + b.key}
	tooBig := bytes.Repeat([]byte("a"), MaxGraphQLBodyBytes+1)
	const want = `{"errors":[{"message":"request body too large","extensions":{"code":"BAD_USER_INPUT"}}]}`

	w := b.do(t, http.MethodPost, "/graphql", bytes.NewReader(tooBig), auth)
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	require.JSONEq(t, want, w.Body.String())

	r := httptest.NewRequest(http.MethodPost, "/graphql", unsizedReader{bytes.NewReader(tooBig)})
	r.ContentLength = -1
	r.Header.Set("Authorization", "Bearer "+b.key)
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, r)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.JSONEq(t, want, rec.Body.String())

	// Exactly at the limit is fine, and the GraphQL handler gets all of it.
	w = b.do(t, http.MethodPost, "/graphql", bytes.NewReader(tooBig[:MaxGraphQLBodyBytes]), auth)
	require.Equal(t, http.StatusOK, w.Code)
	require.EqualValues(t, MaxGraphQLBodyBytes, decode(t, w)["bodyLen"])
}

func TestPlayground(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	w := b.do(t, http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Header().Get("Content-Type"), "text/html")
	page := w.Body.String()
	require.Contains(t, page, "graphiql")
	require.Contains(t, page, "/graphql")
	require.Contains(t, page, "chatsidecar apikey create")
	require.NotContains(t, page, testBootstrapKey)
	require.NotContains(t, page, b.key)
	require.NotContains(t, page, store.APIKeyPrefix)
}

func TestPanicBecomes500(t *testing.T) {
	t.Parallel()
	b := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := b.do(t, http.MethodPost, "/graphql", strings.NewReader("{}"), map[string]string{"Api-Key": b.key})
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.JSONEq(t, `{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL"}}]}`, w.Body.String())
	logs := b.logs.String()
	require.Contains(t, logs, "panic serving request")
	require.Contains(t, logs, "status=500")
}

func TestAuthStoreFailureIs500(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	require.NoError(t, b.store.Close())
	w := b.do(t, http.MethodPost, "/graphql", strings.NewReader("{}"), map[string]string{"Api-Key": b.key})
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.JSONEq(t, `{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL"}}]}`, w.Body.String())
}

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	// The stand-in streams like an SSE subscription until its context ends.
	sse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, ":\n\n")
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	})
	b := setup(t, sse)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.server.Serve(ctx, ln) }()

	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
	require.Contains(t, b.logs.String(), "msg=listening addr="+ln.Addr().String())

	req, err := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"subscription{x}"}`))
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+b.key)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	line, err := bufio.NewReader(stream.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, ":\n", line)
	<-started

	// Shutdown must end the open stream rather than wait out the timeout.
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(4 * time.Second):
		t.Fatal("Serve did not return after cancellation")
	}
	require.Contains(t, b.logs.String(), "msg=stopped")
}

func TestRunReportsListenError(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	srv := New(Options{
		Config:  &config.Config{Listen: ln.Addr().String(), ShutdownTimeout: time.Second},
		Store:   b.store,
		Auth:    NewAuthenticator(b.store, "", nil),
		GraphQL: echoGraphQL(),
	})
	err = srv.Run(context.Background())
	require.ErrorContains(t, err, "listen on "+ln.Addr().String())
}

func TestPlaygroundURL(t *testing.T) {
	t.Parallel()
	s := New(Options{Config: &config.Config{}})
	require.Equal(t, "http://127.0.0.1:8080/", s.playgroundURL("127.0.0.1:8080"))
	require.Equal(t, "http://localhost:8080/", s.playgroundURL("[::]:8080"))
	require.Equal(t, "http://localhost:8080/", s.playgroundURL("0.0.0.0:8080"))
	s = New(Options{Config: &config.Config{PublicURL: "https://sidecar.example.com/"}})
	require.Equal(t, "https://sidecar.example.com/", s.playgroundURL("127.0.0.1:8080"))
}

func TestAccessLogHidesWildcardSegments(t *testing.T) {
	t.Parallel()
	b := setup(t, echoGraphQL())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /transcripts/{secret}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /plain/{$}", func(http.ResponseWriter, *http.Request) {})
	h := b.server.observe(mux)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/transcripts/s3cr3t-token", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/plain/", nil))
	logs := b.logs.String()
	require.NotContains(t, logs, "s3cr3t-token")
	require.Contains(t, logs, "path=/transcripts/{secret} status=200")
	require.Contains(t, logs, "path=/plain/ status=200")
}
