package zulip_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeZulip is a fake of the parts of Zulip's REST API the provider uses:
// POST /api/v1/messages, PATCH and DELETE /api/v1/messages/{id},
// GET /api/v1/users/me and GET /api/v1/get_stream_id. It answers as Zulip
// does: form-encoded requests with HTTP Basic auth, {"result":"success",…}
// or an HTTP error with {"result":"error","msg":…,"code":…}, 401
// INVALID_API_KEY for a wrong key, 400 STREAM_DOES_NOT_EXIST, 429
// RATE_LIMIT_HIT with Retry-After, retry-after in the body and the
// X-RateLimit-* headers. It keeps the messages it holds, with their stream
// and topic, so tests can check where a message landed, that an edit
// changed it and that a deletion removed it. Handlers never assert.
//
// Zulip's wire form has no reply marker: a message joins a topic by name,
// and it is a reply when the topic already holds messages. Only the fake
// knows that, so it marks each message request it accepted into such a
// topic with the header RepliedTopicHeader in what Requests returns.
type fakeZulip struct {
	*providertest.Server

	mu       sync.Mutex
	nextID   int64
	messages map[string]fakeMessage
	sends    []fakeSend // every message request accepted, in order
}

// RepliedTopicHeader names, on a request Requests returns, the topic that
// already held messages when the fake accepted the message into it.
const RepliedTopicHeader = "X-Fake-Replied-Topic"

// fakeSend is a message request the fake accepted: its form body, and the
// topic when the topic already held messages.
type fakeSend struct {
	body    string
	replied string
}

// fakeMessage is a message the fake holds.
type fakeMessage struct {
	ID            int64
	Stream, Topic string
	Content       string
}

// Values the fake knows: the bot's credentials, one stream, and the clock
// both sides share.
const (
	fakeEmail  = "forum-bot@example.zulipchat.com"
	fakeAPIKey = "ZulipApiKeySECRET0123456789abcd"
	fakeStream = "general"
	// firstID is the id of the first message a fresh fake stores.
	firstID = 1001
)

// fakeNow is the time on both sides of the fake.
func fakeNow() time.Time { return time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC) }

func newFakeZulip(t *testing.T) *fakeZulip {
	t.Helper()
	f := &fakeZulip{nextID: firstID, messages: make(map[string]fakeMessage)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/messages", f.api(f.send))
	mux.HandleFunc("PATCH /api/v1/messages/{id}", f.api(f.update))
	mux.HandleFunc("DELETE /api/v1/messages/{id}", f.api(f.delete))
	mux.HandleFunc("GET /api/v1/users/me", f.api(f.me))
	mux.HandleFunc("GET /api/v1/get_stream_id", f.api(f.streamID))
	f.Server = providertest.NewServer(t, mux)
	return f
}

// Requests returns the requests received so far, each message request
// the fake accepted into a topic that held messages marked with
// RepliedTopicHeader. Requests and accepted sends are matched in order,
// by body, so a request refused before it was stored is passed over.
func (f *fakeZulip) Requests() []providertest.Request {
	reqs := f.Server.Requests()
	f.mu.Lock()
	defer f.mu.Unlock()
	next := 0
	for i, r := range reqs {
		if next == len(f.sends) {
			break
		}
		if r.Endpoint() != "POST /api/v1/messages" || string(r.Body) != f.sends[next].body {
			continue
		}
		if topic := f.sends[next].replied; topic != "" {
			reqs[i].Header = r.Header.Clone()
			reqs[i].Header.Set(RepliedTopicHeader, topic)
		}
		next++
	}
	return reqs
}

// threadOf is the Harness.ThreadOf of Zulip: the topic a message request
// joined when the topic already held messages, as the fake marked it.
func threadOf(r providertest.Request) string { return r.Header.Get(RepliedTopicHeader) }

// postElsewhere stores a message someone else posted in the stream, in a
// topic of their own, and returns the topic: a Zulip thread the provider
// did not start.
func (f *fakeZulip) postElsewhere() string {
	const topic = "release planning"
	f.mu.Lock()
	defer f.mu.Unlock()
	f.store(topic, "Shall we ship on Monday?")
	return topic
}

// store keeps a new message in topic of the fake's stream and returns it.
// f.mu is held.
func (f *fakeZulip) store(topic, content string) fakeMessage {
	m := fakeMessage{ID: f.nextID, Stream: fakeStream, Topic: topic, Content: content}
	f.nextID++
	f.messages[strconv.FormatInt(m.ID, 10)] = m
	return m
}

// hasTopic reports whether the stream holds a message in topic. f.mu is
// held.
func (f *fakeZulip) hasTopic(topic string) bool {
	for _, m := range f.messages {
		if m.Topic == topic {
			return true
		}
	}
	return false
}

// Message returns the message with id, and whether the fake holds it.
func (f *fakeZulip) Message(id string) (fakeMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[id]
	return m, ok
}

// zerror is an error answer in Zulip's words.
type zerror struct {
	status    int
	code, msg string
	extra     map[string]any
}

func (e *zerror) write(w http.ResponseWriter) {
	body := map[string]any{"result": "error", "code": e.code, "msg": e.msg}
	for k, v := range e.extra {
		body[k] = v
	}
	providertest.WriteJSON(w, e.status, body)
}

func rateLimitHit(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "7")
	w.Header().Set("X-RateLimit-Limit", "200")
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(fakeNow().Add(providertest.RetryAfter).Unix(), 10))
	(&zerror{http.StatusTooManyRequests, "RATE_LIMIT_HIT", "API usage exceeded rate limit", map[string]any{"retry-after": 7.0}}).write(w)
}

func streamDoesNotExist(name string) *zerror {
	return &zerror{http.StatusBadRequest, "STREAM_DOES_NOT_EXIST", "Channel '" + name + "' does not exist", map[string]any{"stream": name}}
}

// apiHandler handles a request whose credentials are valid; body is its
// raw body, whose form is already parsed.
type apiHandler func(r *http.Request, body string) (map[string]any, *zerror)

// api wraps a handler with what every request shares: scripted failures,
// the Basic auth check and form parsing.
func (f *fakeZulip) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me := r.URL.Path == "/api/v1/users/me"
		switch f.Failure() {
		case providertest.FailRateLimited:
			rateLimitHit(w)
			return
		case providertest.FailServer:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html><body>Internal server error</body></html>"))
			return
		case providertest.FailUnauthorized:
			(&zerror{http.StatusUnauthorized, "INVALID_API_KEY", "Invalid API key", nil}).write(w)
			return
		case providertest.FailForbidden:
			if !me {
				(&zerror{http.StatusForbidden, "BAD_REQUEST", "Access denied", nil}).write(w)
				return
			}
		case providertest.FailChannelNotFound:
			if !me {
				streamDoesNotExist(fakeStream).write(w)
				return
			}
		}
		email, key, ok := r.BasicAuth()
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Basic realm="zulip"`)
			(&zerror{http.StatusUnauthorized, "UNAUTHORIZED", "Not logged in: API authentication or user session required", nil}).write(w)
			return
		case email != fakeEmail || key != fakeAPIKey:
			(&zerror{http.StatusUnauthorized, "INVALID_API_KEY", "Invalid API key", nil}).write(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if r.Method != http.MethodGet && r.Method != http.MethodDelete {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.ParseForm() != nil {
				(&zerror{http.StatusBadRequest, "BAD_REQUEST", "Malformed payload", nil}).write(w)
				return
			}
		}
		reply, e := h(r, string(body))
		if e != nil {
			e.write(w)
			return
		}
		reply["result"], reply["msg"] = "success", ""
		providertest.WriteJSON(w, http.StatusOK, reply)
	}
}

func (f *fakeZulip) send(r *http.Request, body string) (map[string]any, *zerror) {
	for _, v := range []string{"type", "to", "content"} {
		if r.PostForm.Get(v) == "" {
			return nil, &zerror{http.StatusBadRequest, "REQUEST_VARIABLE_MISSING", "Missing '" + v + "' argument", map[string]any{"var_name": v}}
		}
	}
	if typ := r.PostForm.Get("type"); typ != "stream" && typ != "channel" {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Invalid message type", nil}
	}
	if to := r.PostForm.Get("to"); to != fakeStream {
		return nil, streamDoesNotExist(to)
	}
	topic := r.PostForm.Get("topic")
	if topic == "" {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Topics are required in this organization", nil}
	}
	if utf8.RuneCountInString(topic) > 60 {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Topic too long", nil}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := fakeSend{body: body}
	if f.hasTopic(topic) {
		s.replied = topic
	}
	f.sends = append(f.sends, s)
	m := f.store(topic, r.PostForm.Get("content"))
	return map[string]any{"id": m.ID}, nil
}

func (f *fakeZulip) update(r *http.Request, _ string) (map[string]any, *zerror) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[r.PathValue("id")]
	if !ok {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Invalid message(s)", nil}
	}
	if c := r.PostForm.Get("content"); c != "" {
		m.Content = c
	}
	f.messages[r.PathValue("id")] = m
	return map[string]any{"detached_uploads": []any{}}, nil
}

func (f *fakeZulip) delete(r *http.Request, _ string) (map[string]any, *zerror) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.messages[r.PathValue("id")]; !ok {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Invalid message(s)", nil}
	}
	delete(f.messages, r.PathValue("id"))
	return map[string]any{}, nil
}

func (f *fakeZulip) me(*http.Request, string) (map[string]any, *zerror) {
	return map[string]any{"user_id": 8, "email": fakeEmail, "full_name": "Forum bot", "is_bot": true}, nil
}

func (f *fakeZulip) streamID(r *http.Request, _ string) (map[string]any, *zerror) {
	if name := r.URL.Query().Get("stream"); name != fakeStream {
		return nil, &zerror{http.StatusBadRequest, "BAD_REQUEST", "Invalid channel name '" + name + "'", nil}
	}
	return map[string]any{"stream_id": 15}, nil
}
