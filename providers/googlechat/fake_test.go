package googlechat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeChat is a fake Google Chat incoming webhook for one space. It answers
// as Google does: 200 with the created Message, of which a webhook reply
// fills only name and thread.name; errors as Google JSON
// {"error":{"code","message","status"}}. Threads follow
// messageReplyOption: without it every message starts a thread; with
// REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD a message replies into the thread
// it names (by name or key) and starts it when there is none. The 429
// carries a google.rpc.RetryInfo delay; whether Chat sends one is an
// assumption [R], as is the exact status of a rejected token.
type fakeChat struct {
	*providertest.Server

	mu      sync.Mutex
	seq     int
	threads map[string]bool   // thread names
	keys    map[string]string // thread key → thread name
}

// The space and the webhook's credentials, which are secrets.
const (
	fakeSpace = "AAAAbCdEfGh"
	fakeKey   = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
	fakeToken = "SeCrEtToKeN_wHaTeVeR-42"
	fakePath  = "/v1/spaces/" + fakeSpace + "/messages"
	fakeURL   = "https://chat.googleapis.com" + fakePath + "?key=" + fakeKey + "&token=" + fakeToken
)

func newFakeChat(t *testing.T) *fakeChat {
	t.Helper()
	f := &fakeChat{threads: map[string]bool{}, keys: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/spaces/{space}/messages", f.create)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// googleError writes Google's error JSON; extra is merged into "error".
func googleError(w http.ResponseWriter, code int, status, message string, extra map[string]any) {
	e := map[string]any{"code": code, "message": message, "status": status}
	for k, v := range extra {
		e[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func (f *fakeChat) create(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		googleError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"Resource has been exhausted (e.g. check quota).", map[string]any{"details": []map[string]string{
				{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"},
			}})
		return
	case providertest.FailUnauthorized:
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials: "+r.URL.RawQuery, nil)
		return
	case providertest.FailForbidden:
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission", nil)
		return
	case providertest.FailChannelNotFound:
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", nil)
		return
	case providertest.FailServer:
		googleError(w, http.StatusInternalServerError, "INTERNAL", "Internal error encountered.", nil)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("key") != fakeKey || q.Get("token") != fakeToken:
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.", nil)
		return
	case r.PathValue("space") != fakeSpace:
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", nil)
		return
	}
	var msg struct {
		Text    string            `json:"text"`
		CardsV2 []json.RawMessage `json:"cardsV2"`
		Thread  *struct {
			Name      string `json:"name"`
			ThreadKey string `json:"threadKey"`
		} `json:"thread"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.", nil)
		return
	}
	if msg.Text == "" && len(msg.CardsV2) == 0 {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Message cannot be empty. Discarding empty create message request.", nil)
		return
	}
	name, thread := f.post(q.Get("messageReplyOption") == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", msg.Thread)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "thread": map[string]string{"name": thread}})
}

// startThread posts a message as a member of the space would, without a
// thread key, and returns the name of the thread it starts.
func (f *fakeChat) startThread() string {
	_, thread := f.post(false, nil)
	return thread
}

// post records a message and returns its name and its thread's name.
func (f *fakeChat) post(reply bool, want *struct {
	Name      string `json:"name"`
	ThreadKey string `json:"threadKey"`
}) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	name := fmt.Sprintf("spaces/%s/messages/M%04d.M%04d", fakeSpace, f.seq, f.seq)
	var thread string
	if reply && want != nil {
		switch {
		case want.Name != "" && f.threads[want.Name]:
			thread = want.Name
		case want.ThreadKey != "":
			thread = f.keys[want.ThreadKey]
		}
	}
	if thread == "" {
		thread = fmt.Sprintf("spaces/%s/threads/T%04d", fakeSpace, f.seq)
		f.threads[thread] = true
		if reply && want != nil && want.ThreadKey != "" {
			f.keys[want.ThreadKey] = thread
		}
	}
	return name, thread
}
