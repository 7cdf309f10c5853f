package guilded_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeGuilded is a fake Guilded channel webhook. It answers as Guilded
// does: 200 with the created chat message, and {"code","message"} errors
// otherwise. The 429 carries both Retry-After and a Discord-style
// retry_after; which of them Guilded sends, and the error codes, are
// assumptions [R].
type fakeGuilded struct {
	*providertest.Server

	mu  sync.Mutex
	seq int
}

// The webhook's id and token; the token is its credential.
const (
	fakeHookID = "0f3c2a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f"
	fakeToken  = "SeCrEtToKeNgUiLdEd42"
	fakePath   = "/webhooks/" + fakeHookID + "/" + fakeToken
	fakeURL    = "https://media.guilded.gg" + fakePath
)

func newFakeGuilded(t *testing.T) *fakeGuilded {
	t.Helper()
	f := &fakeGuilded{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/{id}/{token}", f.execute)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// writeJSON answers JSON as Guilded does, naming the charset.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	providertest.WriteJSON(w, status, v)
}

func guildedError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message})
}

func (f *fakeGuilded) execute(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": "TooManyRequests", "message": "You are being rate limited.", "retry_after": 7})
		return
	case providertest.FailUnauthorized:
		guildedError(w, http.StatusUnauthorized, "Unauthorized", "Invalid webhook token "+r.PathValue("token"))
		return
	case providertest.FailForbidden:
		guildedError(w, http.StatusForbidden, "Forbidden", "The webhook may not post in this channel")
		return
	case providertest.FailChannelNotFound:
		guildedError(w, http.StatusNotFound, "NotFound", "Webhook not found")
		return
	case providertest.FailServer:
		guildedError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		return
	}
	switch {
	case r.PathValue("id") != fakeHookID:
		guildedError(w, http.StatusNotFound, "NotFound", "Webhook not found")
		return
	case r.PathValue("token") != fakeToken:
		guildedError(w, http.StatusUnauthorized, "Unauthorized", "Invalid webhook token")
		return
	}
	var body struct {
		Content string            `json:"content"`
		Embeds  []json.RawMessage `json:"embeds"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || (body.Content == "" && len(body.Embeds) == 0) {
		guildedError(w, http.StatusBadRequest, "BadRequest", "Message must have content or embeds")
		return
	}
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "type": "default", "channelId": "3f2a0b1c-0000-4000-8000-000000000001",
		"content": body.Content, "embeds": body.Embeds, "createdAt": "2026-01-02T03:04:05.678Z",
		"createdBy": "Ann6LewA", "createdByWebhookId": fakeHookID,
	})
}
