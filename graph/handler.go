package graph

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits on what one operation may ask for. Introspection fields do not
// count towards depth, so GraphiQL's schema query always works.
const (
	MaxDepth      = 10
	MaxComplexity = 10000
	// rulesPerChannel is the expected rule count used to cost rule lists.
	rulesPerChannel = 5
)

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// Authenticate checks an API key and returns a context carrying the
	// caller; it returns an error for a missing or invalid key. Used for
	// the WebSocket connection_init payload.
	Authenticate func(ctx context.Context, key string) (context.Context, error)
	// IsAuthenticated reports whether the HTTP layer already authenticated
	// the request (a key in the upgrade request's headers). May be nil.
	IsAuthenticated func(ctx context.Context) bool
	// AllowedOrigins are WebSocket origin patterns besides the server's own
	// host (coder/websocket OriginPatterns).
	AllowedOrigins []string
}

// NewHandler returns the GraphQL endpoint: POST, GET, WebSocket
// (graphql-transport-ws and legacy graphql-ws) and SSE transports, one
// error presenter, depth and complexity limits. HTTP-level authentication
// is the server's job; this handler authenticates WebSocket connections
// through their connection_init payload.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	cfg := Config{Resolvers: r}
	// Lists multiply the cost of what they contain, so a client cannot ask
	// for 200 channels × their rules × their channels … in one request.
	cfg.Complexity.Query.Channels = func(child int, _ *string, first *int, _ *string) int {
		n := 50
		if first != nil && *first > 0 {
			// Out-of-range sizes are rejected by the resolver with a field
			// error; cost them at the maximum so that error is what the
			// client sees.
			n = min(*first, maxPageSize)
		}
		return 1 + n*child
	}
	cfg.Complexity.Channel.Rules = func(child int) int { return 1 + rulesPerChannel*child }
	cfg.Complexity.Query.Rules = func(child int, _ string) int { return 1 + rulesPerChannel*child }
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc:              wsInit(opts),
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{
				Subprotocols:   []string{"graphql-transport-ws", "graphql-ws"},
				OriginPatterns: opts.AllowedOrigins,
			},
		},
	})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(depthLimit{max: MaxDepth})
	srv.SetErrorPresenter(presenter(r.log))
	srv.SetRecoverFunc(recoverFunc(r.log))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withRequestCache(ctx))
	})
	return srv
}

// wsInit authenticates a WebSocket connection from its connection_init
// payload: {"Authorization": "Bearer <key>"}, {"Api-Key": "<key>"} or
// {"apiKey": "<key>"}. A connection whose upgrade request already carried
// a valid key needs no payload.
func wsInit(opts HandlerOptions) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		key := keyFromPayload(p)
		if key == "" {
			if opts.IsAuthenticated != nil && opts.IsAuthenticated(ctx) {
				return ctx, nil, nil
			}
			return ctx, nil, ErrUnauthenticated
		}
		if opts.Authenticate == nil {
			return ctx, nil, ErrUnauthenticated
		}
		ctx, err := opts.Authenticate(ctx, key)
		if err != nil {
			return ctx, nil, ErrUnauthenticated
		}
		return ctx, nil, nil
	}
}

func keyFromPayload(p transport.InitPayload) string {
	for k, v := range p {
		s, ok := v.(string)
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "authorization":
			if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
				return strings.TrimSpace(s[7:])
			}
		case "api-key", "apikey", "api_key":
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// depthLimit rejects operations nested deeper than max, before execution.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0, map[string]bool{}); depth > d.max {
		return &gqlerror.Error{
			Message:    "operation is nested too deeply",
			Extensions: map[string]any{"code": CodeBadUserInput, "depth": depth, "maxDepth": d.max},
		}
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, depth int, seen map[string]bool) int {
	best := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = selectionDepth(s.SelectionSet, frags, depth+1, seen)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, depth, seen)
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue // cycles are rejected by validation; never loop here
			}
			if f := frags.ForName(s.Name); f != nil {
				seen[s.Name] = true
				d = selectionDepth(f.SelectionSet, frags, depth, seen)
				delete(seen, s.Name)
			}
		}
		if d > best {
			best = d
		}
	}
	return best
}
