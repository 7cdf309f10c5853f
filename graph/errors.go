package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// Error codes in extensions.code; the contract of PRODUCT §3.4.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL"
)

// ErrUnauthenticated is returned by an Authenticate func for a missing or
// invalid key.
var ErrUnauthenticated = errors.New("a valid API key is required")

// inputError is one invalid argument.
func inputError(field, format string, args ...any) error {
	return providers.ValidationErrors{{Field: field, Message: fmt.Sprintf(format, args...)}}
}

// presenter is the one place that turns an error into what a client sees.
// Known errors get their code and field; anything else is logged and shown
// as "internal error" so no SQL or vendor body ever reaches a client.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && isPresented(gqlErr) {
			return gqlErr // already presented (one of a list)
		}
		path := graphql.GetPath(ctx)
		if gqlErr != nil && gqlErr.Path != nil {
			path = gqlErr.Path
		}
		out := &gqlerror.Error{Path: path, Extensions: map[string]any{}}
		var (
			fe *providers.FieldError
			ve providers.ValidationErrors
		)
		switch {
		case errors.As(err, &ve) && len(ve) > 0:
			out.Message = ve[0].Message
			out.Extensions["code"] = CodeBadUserInput
			out.Extensions["field"] = ve[0].Field
		case errors.As(err, &fe):
			out.Message = fe.Message
			out.Extensions["code"] = CodeBadUserInput
			out.Extensions["field"] = fe.Field
		case errors.Is(err, store.ErrNotFound):
			out.Message = err.Error()
			out.Extensions["code"] = CodeNotFound
		case errors.Is(err, store.ErrConflict):
			out.Message = err.Error()
			out.Extensions["code"] = CodeConflict
		case errors.Is(err, ErrUnauthenticated):
			out.Message = err.Error()
			out.Extensions["code"] = CodeUnauthenticated
		case gqlErr != nil && isRequestError(gqlErr):
			// Parse, validation and variable-coercion errors from gqlgen
			// itself: the caller's input is wrong, and for variables the
			// path says which field.
			out = gqlErr
			if out.Extensions == nil {
				out.Extensions = map[string]any{}
			}
			out.Extensions["code"] = CodeBadUserInput
			if f := variableField(gqlErr.Path); f != "" {
				out.Extensions["field"] = f
			}
		default:
			log.ErrorContext(ctx, "graphql: internal error", "error", err, "path", path.String())
			out.Message = "internal error"
			out.Extensions["code"] = CodeInternal
		}
		return out
	}
}

// fieldErrors turns a multi-problem validation error into a gqlerror.List
// so the client sees every problem, each with its field; other errors pass
// through unchanged for the presenter.
func fieldErrors(ctx context.Context, err error) error {
	var ve providers.ValidationErrors
	var de *admin.DocumentError
	switch {
	case errors.As(err, &de):
		list := make(gqlerror.List, 0, len(de.Problems))
		for _, p := range de.Problems {
			ext := map[string]any{"code": CodeBadUserInput, "field": p.Path}
			if p.Line > 0 {
				ext["line"] = p.Line
			}
			list = append(list, &gqlerror.Error{Message: p.Message, Path: graphql.GetPath(ctx), Extensions: ext})
		}
		return list
	case errors.As(err, &ve) && len(ve) > 1:
		list := make(gqlerror.List, 0, len(ve))
		for _, fe := range ve {
			list = append(list, &gqlerror.Error{
				Message:    fe.Message,
				Path:       graphql.GetPath(ctx),
				Extensions: map[string]any{"code": CodeBadUserInput, "field": fe.Field},
			})
		}
		return list
	}
	return err
}

// recoverFunc turns a resolver panic into an internal error and logs it.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "graphql: panic in resolver", "panic", fmt.Sprint(v))
		return errors.New("panic in resolver")
	}
}

// isRequestError reports whether gqlgen produced err while parsing or
// validating the request, before any resolver ran.
func isRequestError(e *gqlerror.Error) bool {
	if e.Rule != "" || variableField(e.Path) != "" {
		return true
	}
	switch e.Extensions["code"] {
	case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "COMPLEXITY_LIMIT_EXCEEDED":
		return true
	}
	return false
}

// variableField turns a variable path ["variable", "input", "filter"] into
// the field name "input.filter".
func variableField(p ast.Path) string {
	if len(p) < 2 || p[0] != ast.PathName("variable") {
		return ""
	}
	parts := make([]string, 0, len(p)-1)
	for _, el := range p[1:] {
		switch v := el.(type) {
		case ast.PathName:
			parts = append(parts, string(v))
		case ast.PathIndex:
			parts[len(parts)-1] += fmt.Sprintf("[%d]", int(v))
		}
	}
	return strings.Join(parts, ".")
}

// isPresented reports whether e already carries one of our codes.
func isPresented(e *gqlerror.Error) bool {
	switch e.Extensions["code"] {
	case CodeBadUserInput, CodeNotFound, CodeUnauthenticated, CodeConflict, CodeInternal:
		return true
	}
	return false
}
