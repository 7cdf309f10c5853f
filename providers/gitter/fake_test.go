package gitter_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeLegacy is a fake of a self-hosted Gitter's legacy surface: the REST
// API v1 (join a room by uri, post, edit and delete messages, the current
// user) and the "Custom" activity webhook under /e/<hook>. It answers as
// the Gitter webapp did: JSON {"error":"…"} with the HTTP status for API
// failures, 204 for a deletion, and records every request for assertions
// after the call; handlers never assert.
//
// The legacy API's 429 is not documented; the fake sends Retry-After and
// the X-RateLimit-* headers node-gitter read, which is all the provider
// relies on.
type fakeLegacy struct {
	*providertest.Server

	mu       sync.Mutex
	seq      int
	messages map[string]string // message id → room id
	posts    []legacyPost
}

// legacyPost is a message or activity the fake accepted.
type legacyPost struct {
	RoomID string // "" for a webhook activity
	ID     string
	Text   string
}

// Values the fake knows: the bot's token, one room by name and id, and
// one activity webhook.
const (
	legacyToken    = "3b5f0c4e9a1d2f7b8c6e0a9d4f1b2c3d4e5f6a7b"
	legacyRoomName = "gitterHQ/services"
	legacyRoomID   = "5f1a2b3c4d5e6f7a8b9c0d1e"
	hookSecret     = "9f8e7d6c5b4a39281706"
	hookURL        = "https://webhooks.gitter.im/e/" + hookSecret
)

// messageID is the id the fake gives its n-th message (from 1).
func messageID(n int) string { return fmt.Sprintf("60%022x", n) }

func newFakeLegacy(t *testing.T) *fakeLegacy {
	t.Helper()
	f := &fakeLegacy{messages: make(map[string]string)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/user/me", f.api(false, f.me))
	mux.HandleFunc("POST /v1/rooms", f.api(true, f.joinRoom))
	mux.HandleFunc("POST /v1/rooms/{room}/chatMessages", f.api(true, f.post))
	mux.HandleFunc("PUT /v1/rooms/{room}/chatMessages/{id}", f.api(true, f.update))
	mux.HandleFunc("DELETE /v1/rooms/{room}/chatMessages/{id}", f.api(true, f.remove))
	mux.HandleFunc("POST /e/{hook}", f.webhook)
	f.Server = providertest.NewServer(t, mux)
	return f
}

func (f *fakeLegacy) posted() []legacyPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]legacyPost(nil), f.posts...)
}

type apiHandler func(r *http.Request) (int, any)

// api wraps a REST endpoint with the scripted failures and the token check.
func (f *fakeLegacy) api(roomScoped bool, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch f.Failure() {
		case providertest.FailRateLimited:
			w.Header().Set("Retry-After", "7")
			w.Header().Set("X-RateLimit-Limit", "100")
			w.Header().Set("X-RateLimit-Remaining", "0")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "Too Many Requests"})
			return
		case providertest.FailServer:
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal Server Error"})
			return
		case providertest.FailUnauthorized:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
			return
		case providertest.FailForbidden:
			if roomScoped {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": "Forbidden"})
				return
			}
		case providertest.FailChannelNotFound:
			if roomScoped {
				writeJSON(w, http.StatusNotFound, map[string]any{"error": "Not Found"})
				return
			}
		}
		if r.Header.Get("Authorization") != "Bearer "+legacyToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
			return
		}
		status, body := h(r)
		if body == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	}
}

func notFound() (int, any) { return http.StatusNotFound, map[string]any{"error": "Not Found"} }

func (f *fakeLegacy) me(*http.Request) (int, any) {
	return http.StatusOK, map[string]any{"id": "53307734c3599d1de448e192", "username": "forumbot", "displayName": "Forum bot", "url": "/forumbot"}
}

func (f *fakeLegacy) joinRoom(r *http.Request) (int, any) {
	var body struct {
		URI string `json:"uri"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.URI != legacyRoomName {
		return notFound()
	}
	return http.StatusOK, map[string]any{"id": legacyRoomID, "name": legacyRoomName, "uri": legacyRoomName, "url": "/" + legacyRoomName, "oneToOne": false}
}

func (f *fakeLegacy) post(r *http.Request) (int, any) {
	text, ok := textOf(r)
	if r.PathValue("room") != legacyRoomID {
		return notFound()
	}
	if !ok {
		return http.StatusBadRequest, map[string]any{"error": "Bad Request"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := messageID(f.seq)
	f.messages[id] = legacyRoomID
	f.posts = append(f.posts, legacyPost{RoomID: legacyRoomID, ID: id, Text: text})
	return http.StatusOK, map[string]any{"id": id, "text": text, "sent": "2026-01-02T03:04:05.000Z", "v": 1}
}

func (f *fakeLegacy) update(r *http.Request) (int, any) {
	text, ok := textOf(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if f.messages[id] != r.PathValue("room") {
		return notFound()
	}
	if !ok {
		return http.StatusBadRequest, map[string]any{"error": "Bad Request"}
	}
	f.posts = append(f.posts, legacyPost{RoomID: r.PathValue("room"), ID: id, Text: text})
	return http.StatusOK, map[string]any{"id": id, "text": text, "editedAt": "2026-01-02T03:05:00.000Z", "v": 2}
}

func (f *fakeLegacy) remove(r *http.Request) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if f.messages[id] != r.PathValue("room") {
		return notFound()
	}
	delete(f.messages, id)
	return http.StatusNoContent, nil
}

// webhook answers like the "Custom" integration endpoint; its error
// statuses carry plain text.
func (f *fakeLegacy) webhook(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		providertest.WriteText(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	case providertest.FailServer:
		providertest.WriteText(w, http.StatusInternalServerError, "Internal Server Error")
		return
	case providertest.FailUnauthorized:
		providertest.WriteText(w, http.StatusUnauthorized, "Unauthorized")
		return
	case providertest.FailForbidden:
		providertest.WriteText(w, http.StatusForbidden, "Forbidden")
		return
	case providertest.FailChannelNotFound:
		providertest.WriteText(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.PathValue("hook") != hookSecret {
		providertest.WriteText(w, http.StatusNotFound, "Not Found")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.ParseForm() != nil {
		providertest.WriteText(w, http.StatusBadRequest, "Bad Request")
		return
	}
	msg := r.PostForm.Get("message")
	if msg == "" {
		providertest.WriteText(w, http.StatusBadRequest, "Bad Request")
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, legacyPost{Text: msg})
	f.mu.Unlock()
	providertest.WriteText(w, http.StatusOK, "OK")
}

func textOf(r *http.Request) (string, bool) {
	var body struct {
		Text string `json:"text"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.Text == "" {
		return "", false
	}
	return body.Text, true
}

// writeJSON answers JSON as Gitter's REST API does, naming the charset.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	providertest.WriteJSON(w, status, v)
}
