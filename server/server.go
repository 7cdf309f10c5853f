// Package server is the sidecar's HTTP front door: it routes requests,
// authenticates the admin API, serves the GraphiQL playground and the
// health probes, and runs the http.Server with graceful shutdown. The
// GraphQL schema and resolvers live in package graph; this package only
// decides who may reach them.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/store"
)

// Limits and timeouts of the HTTP server.
const (
	// MaxGraphQLBodyBytes caps a GraphQL POST body. The largest legitimate
	// request is an applyConfig document, far below this.
	MaxGraphQLBodyBytes = 1 << 20
	// ReadHeaderTimeout stops clients that open connections and never
	// finish their headers (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request including its body.
	// net/http clears the read deadline once the body is consumed and when
	// a WebSocket hijacks the connection, so it does not cut streams.
	ReadTimeout = time.Minute
	// IdleTimeout closes keep-alive connections nobody uses.
	IdleTimeout = 2 * time.Minute
	// readyTimeout bounds the database ping of /readyz, so a hung database
	// makes the probe fail instead of hang.
	readyTimeout = 2 * time.Second
)

// Options configures New. Config, Store, Auth and GraphQL are required;
// Logger may be nil.
type Options struct {
	Config *config.Config
	Store  *store.Store
	Auth   *Authenticator
	// GraphQL serves /graphql (queries, mutations, WebSocket and SSE
	// subscriptions). Requests reach it authenticated, except WebSocket
	// upgrades without a key, which it must authenticate from the
	// connection_init payload.
	GraphQL http.Handler
	Logger  *slog.Logger
	// Intake receives Discourse webhooks; nil answers 503.
	Intake WebhookIntake
	// Metrics serves /metrics; nil answers 404.
	Metrics http.Handler
}

// Server is the HTTP server. Handler may be used on its own (tests);
// Run or Serve may be called once.
type Server struct {
	cfg     *config.Config
	store   *store.Store
	auth    *Authenticator
	graphql http.Handler
	intake  WebhookIntake
	metrics http.Handler
	log     *slog.Logger
	streams *streamTracker
	handler http.Handler
}

// New builds a Server and its routes.
func New(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     opts.Config,
		store:   opts.Store,
		auth:    opts.Auth,
		graphql: opts.GraphQL,
		intake:  opts.Intake,
		metrics: opts.Metrics,
		log:     log,
		streams: newStreamTracker(),
	}
	s.handler = s.observe(s.routes())
	return s
}

// Handler returns the complete handler with logging and panic recovery.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on Config.Listen and serves until ctx is cancelled, then
// shuts down gracefully. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled and closes ln. It logs the
// bound address ("listening", addr=…), which is how an operator, or a test
// that listened on port 0, learns the port.
//
// On cancellation it stops accepting, cancels WebSocket and SSE
// subscriptions, and waits up to Config.ShutdownTimeout for in-flight
// requests; it returns an error only if that wait times out.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		// WriteTimeout stays 0 on purpose: it is a deadline for the whole
		// response, so any value would kill SSE subscription streams after
		// that long. Slow readers are bounded by the write side of TCP and
		// by ReadTimeout/IdleTimeout instead.
		WriteTimeout: 0,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests keep ctx's values but not its cancellation: shutdown is
		// Shutdown's job, so in-flight requests can finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	s.log.InfoContext(ctx, "listening", "addr", addr, "playground", s.playgroundURL(addr))

	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.InfoContext(ctx, "shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	s.streams.closeAll()
	err := srv.Shutdown(sctx)
	if werr := s.streams.wait(sctx); err == nil {
		err = werr
	}
	if err != nil {
		if cerr := srv.Close(); cerr != nil {
			s.log.WarnContext(ctx, "close server", "error", cerr)
		}
		<-errc
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", serr)
	}
	s.log.InfoContext(ctx, "stopped")
	return nil
}

// playgroundURL is where an operator opens the playground: the public URL
// when configured, else the bound address with a wildcard host replaced by
// localhost.
func (s *Server) playgroundURL(addr string) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/") + "/"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// routes builds the router. Every path answers a wrong method with a JSON
// 405 and unknown paths get a JSON 404, rather than ServeMux's plain text.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.route(mux, "/{$}", map[string]handlerFunc{http.MethodGet: s.servePlayground()})
	s.route(mux, "/healthz", map[string]handlerFunc{http.MethodGet: s.serveHealth})
	s.route(mux, "/readyz", map[string]handlerFunc{http.MethodGet: s.serveReady})
	s.route(mux, graphQLPath, map[string]handlerFunc{http.MethodGet: s.serveGraphQL, http.MethodPost: s.serveGraphQL})
	s.route(mux, "/webhooks/discourse", map[string]handlerFunc{http.MethodPost: s.serveDiscourseWebhook})
	if s.metrics != nil {
		s.route(mux, "/metrics", map[string]handlerFunc{http.MethodGet: func(w http.ResponseWriter, r *http.Request) error {
			s.metrics.ServeHTTP(w, r)
			return nil
		}})
	}
	mux.Handle("/", s.handle(func(http.ResponseWriter, *http.Request) error { return errNotFound }))
	return mux
}

// route registers one handler per method on path, and a 405 with an Allow
// header for every other method. A GET route also answers HEAD, as
// ServeMux does.
func (s *Server) route(mux *http.ServeMux, path string, byMethod map[string]handlerFunc) {
	allowed := make([]string, 0, len(byMethod)+1)
	for method, h := range byMethod {
		mux.Handle(method+" "+path, s.handle(h))
		allowed = append(allowed, method)
		if method == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	mux.Handle(path, s.handle(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Allow", allow)
		return errMethodNotAllowed
	}))
}

// servePlayground serves GraphiQL. The page holds no secret: the header
// editor starts with a placeholder, and the user pastes a key created
// with `chatsidecar apikey create` (GraphiQL keeps it in the browser's
// local storage, never on the server).
func (s *Server) servePlayground() handlerFunc {
	page := playground.Handler("Chat Sidecar", graphQLPath,
		playground.WithGraphiqlUiHeaders(map[string]string{
			"Authorization": "Bearer <paste an API key from `chatsidecar apikey create NAME`>",
		}),
		playground.WithStoragePrefix("chatsidecar:"),
	)
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		page.ServeHTTP(w, r)
		return nil
	}
}

// serveHealth is the liveness probe: the process answers HTTP.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// serveReady is the readiness probe: the database answers within
// readyTimeout. The reason is logged; the response never carries the
// driver's error text, which can name hosts and users.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "readiness check failed", "error", err)
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
		return nil
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// serveGraphQL authenticates and hands the request to the GraphQL handler.
//
// A WebSocket upgrade without a key passes: browsers cannot set headers
// on a WebSocket, so the GraphQL layer authenticates the connection_init
// payload instead. A WebSocket upgrade that carries a key must carry a
// valid one. The body of a POST is read here, under MaxGraphQLBodyBytes,
// so an oversized request gets a 413 whatever the GraphQL handler does with
// read errors.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) error {
	ws := isWebSocketUpgrade(r)
	key := KeyFromRequest(r)
	ctx := r.Context()
	if key != "" || !ws {
		var err error
		if ctx, err = s.auth.Authenticate(ctx, key); err != nil {
			return err
		}
	}
	if r.Method == http.MethodPost {
		if err := bufferBody(w, r, MaxGraphQLBodyBytes); err != nil {
			return err
		}
	}
	if ws || isEventStream(r) {
		var done func()
		ctx, done = s.streams.track(ctx)
		defer done()
	}
	s.graphql.ServeHTTP(w, r.WithContext(ctx))
	return nil
}

// bufferBody reads r's body into memory, failing with errBodyTooLarge
// beyond limit, and replaces it with the buffered copy.
func bufferBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return errBodyTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return &httpError{status: errBadBody.status, message: errBadBody.message, code: errBadBody.code, cause: err}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func isEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}
