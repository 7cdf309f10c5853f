package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// observe is the outermost middleware: it logs one line per request and
// turns a panic into a 500 response. Only the method, path, status, size
// and duration are logged; never headers (API keys), query strings
// (GraphQL variables) or bodies. Health probes are logged at debug so a
// load balancer polling every second does not drown the log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &responseRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { // net/http's way to abort silently; let it through
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request",
					"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rec.wroteHeader && !rec.hijacked {
					s.writeError(rec, r, errInternal)
				}
			}
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				level = slog.LevelDebug
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK // the handler wrote nothing; net/http sends 200
			}
			s.log.Log(r.Context(), level, "http request",
				"method", r.Method, "path", logPath(r), "status", status,
				"bytes", rec.bytes, "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// logPath is the path to log for r. A route with wildcards is logged as
// its pattern (/transcripts/{secret}), because path segments can be
// secrets. ServeMux records the pattern on the request it was given, which
// is the one observe holds.
func logPath(r *http.Request) string {
	_, pattern, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		pattern = r.Pattern
	}
	if strings.Contains(strings.TrimSuffix(pattern, "{$}"), "{") {
		return pattern
	}
	return r.URL.Path
}

// responseRecorder remembers the status and size of a response. It
// forwards Flush (gqlgen's SSE transport asserts http.Flusher) and Hijack
// (WebSocket upgrades), and Unwrap lets http.ResponseController reach the
// underlying writer for anything else.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

func (rw *responseRecorder) WriteHeader(code int) {
	// 1xx responses other than 101 are informational and may precede the
	// real status; 101 Switching Protocols is final.
	if !rw.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		rw.status, rw.wroteHeader = code, true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *responseRecorder) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.status, rw.wroteHeader = http.StatusOK, true
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client, for streamed responses.
func (rw *responseRecorder) Flush() {
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		if !rw.wroteHeader {
			rw.status, rw.wroteHeader = http.StatusOK, true
		}
		f.Flush()
	}
}

// Hijack hands the connection to a WebSocket implementation.
func (rw *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := rw.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hijack: %w", http.ErrNotSupported)
	}
	conn, brw, err := h.Hijack()
	if err == nil {
		rw.hijacked = true
		if !rw.wroteHeader {
			rw.status, rw.wroteHeader = http.StatusSwitchingProtocols, true
		}
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// streamTracker cancels long-lived requests (WebSocket and SSE
// subscriptions) when the server shuts down. http.Server.Shutdown neither
// waits for hijacked WebSocket connections nor ends an SSE stream, which
// would hold Shutdown until its timeout; cancelling only the streams lets
// ordinary in-flight requests finish undisturbed.
type streamTracker struct {
	mu      sync.Mutex
	next    uint64
	cancels map[uint64]context.CancelFunc
	closing bool
	drained chan struct{} // closed once closing and no stream is left
	once    sync.Once
}

func newStreamTracker() *streamTracker {
	return &streamTracker{cancels: map[uint64]context.CancelFunc{}, drained: make(chan struct{})}
}

// track returns a context for one stream that is cancelled at shutdown,
// and done, which the handler must call when the stream ends. A stream
// that starts after shutdown began gets an already-cancelled context.
func (t *streamTracker) track(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		cancel()
		return ctx, cancel
	}
	id := t.next
	t.next++
	t.cancels[id] = cancel
	return ctx, func() {
		cancel()
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.cancels, id)
		t.checkDrainedLocked()
	}
}

// closeAll cancels every stream and every stream that starts later.
func (t *streamTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for _, cancel := range t.cancels {
		cancel()
	}
	t.checkDrainedLocked()
}

func (t *streamTracker) checkDrainedLocked() {
	if t.closing && len(t.cancels) == 0 {
		t.once.Do(func() { close(t.drained) })
	}
}

// wait blocks until every stream handler has returned after closeAll, or
// ctx ends.
func (t *streamTracker) wait(ctx context.Context) error {
	select {
	case <-t.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for subscriptions to end: %w", ctx.Err())
	}
}
