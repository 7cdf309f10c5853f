package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// handlerFunc is an HTTP handler that reports failure by returning an
// error instead of writing it. Every route is one of these, so
// writeError is the only code that turns an error into a response and no
// handler can leak an internal error text by accident.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status and the client-safe message it
// maps to. cause, when set, is logged and never sent.
type httpError struct {
	status  int
	message string
	code    string // GraphQL extensions.code for /graphql responses
	cause   error
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return e.message + ": " + e.cause.Error()
	}
	return e.message
}

func (e *httpError) Unwrap() error { return e.cause }

// Errors the routes return; compare with errors.Is.
var (
	errNotFound         = &httpError{status: http.StatusNotFound, message: "not found", code: "NOT_FOUND"}
	errMethodNotAllowed = &httpError{status: http.StatusMethodNotAllowed, message: "method not allowed", code: "BAD_USER_INPUT"}
	errBodyTooLarge     = &httpError{status: http.StatusRequestEntityTooLarge, message: "request body too large", code: "BAD_USER_INPUT"}
	errBadBody          = &httpError{status: http.StatusBadRequest, message: "could not read request body", code: "BAD_USER_INPUT"}
	errInternal         = &httpError{status: http.StatusInternalServerError, message: "internal server error", code: "INTERNAL"}
)

// graphQLPath is the one route whose errors are shaped as a GraphQL
// response, so GraphQL clients show them like any other GraphQL error.
const graphQLPath = "/graphql"

// handle adapts an error-returning handler to http.Handler.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError is the one place that turns a handler error into a response.
// Known errors keep their status and message; anything else is logged in
// full and answered with a bare 500, so database errors or vendor bodies
// never reach the client. Responses on /graphql use the GraphQL error
// shape with extensions.code; other routes use {"error": message}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, ErrUnauthenticated):
		he = &httpError{status: http.StatusUnauthorized, message: ErrUnauthenticated.Error(), code: "UNAUTHENTICATED"}
		w.Header().Set("WWW-Authenticate", "Bearer")
	case errors.As(err, &tooLarge):
		he = errBodyTooLarge
	case errors.As(err, &he):
	default:
		he = errInternal
	}
	if he.status >= http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if r.URL.Path == graphQLPath {
		s.writeJSON(w, r, he.status, graphQLErrorBody{Errors: []graphQLError{{
			Message:    he.message,
			Extensions: map[string]string{"code": he.code},
		}}})
		return
	}
	s.writeJSON(w, r, he.status, map[string]string{"error": he.message})
}

// graphQLErrorBody is a GraphQL response that carries only errors.
type graphQLErrorBody struct {
	Errors []graphQLError `json:"errors"`
}

type graphQLError struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

// writeJSON writes v as the response. A failed write means the client has
// gone away; there is no one left to tell, so it is only logged at debug.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Log(r.Context(), slog.LevelDebug, "write response", "path", r.URL.Path, "error", err)
	}
}
