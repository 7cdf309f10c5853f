package webex_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeWebex is a fake Webex incoming webhook. It answers as Webex does: 204
// No Content once the message is posted, and Webex's error JSON
// {"message","errors":[{"description"}],"trackingId"} otherwise, with
// Retry-After on a 429. Which status Webex gives a revoked webhook (401,
// 403 or 404) is an assumption [R]; each is reproduced.
type fakeWebex struct {
	*providertest.Server
}

// The webhook id is the URL's only credential.
const (
	fakeHookID = "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svU2VDckVtMGExYjJjM2Q"
	fakePath   = "/v1/webhooks/incoming/" + fakeHookID
	fakeURL    = "https://webexapis.com" + fakePath
)

func newFakeWebex(t *testing.T) *fakeWebex {
	t.Helper()
	f := &fakeWebex{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/webhooks/incoming/{id}", f.post)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// webexError writes Webex's error JSON.
func webexError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Trackingid", "ROUTER_6745A1B2-C3D4-01BB-0000-000000000000")
	providertest.WriteJSON(w, status, map[string]any{
		"message":    message,
		"errors":     []map[string]string{{"description": message}},
		"trackingId": "ROUTER_6745A1B2-C3D4-01BB-0000-000000000000",
	})
}

func (f *fakeWebex) post(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		webexError(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	case providertest.FailUnauthorized:
		webexError(w, http.StatusUnauthorized, "The request requires a valid access token set in the Authorization request header.")
		return
	case providertest.FailForbidden:
		webexError(w, http.StatusForbidden, "Failed to post message to webhook "+r.PathValue("id"))
		return
	case providertest.FailChannelNotFound:
		webexError(w, http.StatusNotFound, "The requested resource could not be found.")
		return
	case providertest.FailServer:
		webexError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if r.PathValue("id") != fakeHookID {
		webexError(w, http.StatusBadRequest, "Invalid webhook URL")
		return
	}
	var msg struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	if json.NewDecoder(r.Body).Decode(&msg) != nil || (msg.Text == "" && msg.Markdown == "") {
		webexError(w, http.StatusBadRequest, "Message text or markdown is required.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
