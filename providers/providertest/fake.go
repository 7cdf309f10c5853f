package providertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// FailureKind is a situation every chat platform has, which each
// provider's fake reproduces in its platform's own words: Slack answers
// HTTP 200 with {"ok":false,"error":"invalid_auth"} where a generic webhook
// answers 401. The suite scripts a kind; the fake decides the bytes.
type FailureKind int

// The failures the suite scripts.
const (
	// Succeed answers like the platform does when the message is posted.
	Succeed FailureKind = iota
	// FailRateLimited answers the platform's rate-limit reply with a
	// Retry-After of 7 seconds.
	FailRateLimited
	// FailUnauthorized rejects the credentials (token or webhook URL).
	FailUnauthorized
	// FailForbidden accepts the credentials but refuses to post there.
	FailForbidden
	// FailChannelNotFound reports that the channel, room or webhook does
	// not exist.
	FailChannelNotFound
	// FailServer answers HTTP 500.
	FailServer
	// FailHang never answers; the request ends only when the client gives
	// up. Server handles it before the fake's handlers run.
	FailHang
)

// String names the kind in test output.
func (k FailureKind) String() string {
	switch k {
	case Succeed:
		return "succeed"
	case FailRateLimited:
		return "rate limited"
	case FailUnauthorized:
		return "unauthorized"
	case FailForbidden:
		return "forbidden"
	case FailChannelNotFound:
		return "channel not found"
	case FailServer:
		return "server error"
	case FailHang:
		return "hang"
	}
	return "unknown"
}

// Fake is what the suite needs from a provider's fake API: where it
// listens, a way to script the next replies, and what it received. A
// provider's fake usually embeds *Server and adds its handlers.
type Fake interface {
	// URL is the fake's origin, to be used as the api_base_url setting.
	URL() string
	// Fail makes every later request answer as kind says, until the next
	// call; Succeed restores normal answers.
	Fail(kind FailureKind)
	// Requests returns every request received so far, in order.
	Requests() []Request
}

// Request is one request a fake received, copied so the test can inspect
// it after the call returns (assertions never run inside handlers).
type Request struct {
	Method string
	Path   string // unescaped path, without the query
	Query  string // raw query
	Header http.Header
	Body   []byte
}

// Endpoint returns "METHOD /path", the form of Go's ServeMux patterns.
func (r Request) Endpoint() string { return r.Method + " " + r.Path }

// maxRecordedBody caps what the fake keeps of a request body; providers
// never send more than a few KiB.
const maxRecordedBody = 1 << 20

// Server is a building block for fakes: an httptest.Server in front of a
// ServeMux that records every request, holds the scripted FailureKind for
// handlers to read, answers FailHang by itself, and can be told to answer
// a raw reply for provider-specific cases. It is closed by t.Cleanup.
type Server struct {
	srv  *httptest.Server
	done chan struct{}

	mu   sync.Mutex
	reqs []Request
	kind FailureKind
	raw  *rawReply
}

type rawReply struct {
	status int
	header http.Header
	body   string
}

// NewServer starts a fake in front of mux. Handlers registered on mux call
// Failure to decide their answer.
func NewServer(t testing.TB, mux *http.ServeMux) *Server {
	t.Helper()
	s := &Server{done: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body,
		})
		kind, raw := s.kind, s.raw
		s.mu.Unlock()

		switch {
		case raw != nil:
			for k, vs := range raw.header {
				w.Header()[k] = vs
			}
			w.WriteHeader(raw.status)
			_, _ = io.WriteString(w, raw.body)
		case kind == FailHang:
			select {
			case <-r.Context().Done():
			case <-s.done:
			}
		default:
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		close(s.done)
		s.srv.Close()
	})
	return s
}

// URL returns the fake's origin.
func (s *Server) URL() string { return s.srv.URL }

// Fail scripts kind for every later request and clears any raw reply.
func (s *Server) Fail(kind FailureKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kind, s.raw = kind, nil
}

// Failure returns the scripted kind; handlers call it.
func (s *Server) Failure() FailureKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kind
}

// Reply makes every later request answer exactly status, header and body,
// bypassing the handlers, for cases the FailureKinds do not cover (one
// particular Slack error code). Fail clears it.
func (s *Server) Reply(status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = &rawReply{status: status, header: header, body: body}
}

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// Last returns the most recent request, and false when there is none.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return Request{}, false
	}
	return s.reqs[len(s.reqs)-1], true
}
