package slack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeSlack is a fake of the parts of Slack the provider uses: the Web API
// methods chat.postMessage, chat.update, chat.delete and auth.test, and an
// incoming webhook under /services/. It answers as Slack does (HTTP 200
// with ok:false for application errors, 429 with Retry-After, plain-text
// codes from webhooks) and records every request for assertions after the
// call; handlers never assert. It holds the ts of every message in the
// channel, and a reply whose thread_ts names none of them is posted at
// the top level, without thread_ts in the reply's message, as Slack does
// with a parent it does not know (it does not fail the call).
type fakeSlack struct {
	*providertest.Server

	mu   sync.Mutex
	seq  int             // last ts issued
	held map[string]bool // ts of the messages in the channel
}

// Values the fake knows: the one bot token it accepts, a channel name it
// resolves to an id, and an incoming webhook path.
const (
	fakeToken       = "xoxb-1111-2222-SECRETTOKEN"
	fakeChannelName = "general"
	fakeChannelID   = "C0GENERAL1"
	fakeHookSecret  = "SeCrEtHoOkPaRt42"
	fakeHookPath    = "/services/T0000/B0000/" + fakeHookSecret
	fakeHookURL     = "https://hooks.slack.com" + fakeHookPath
)

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{held: make(map[string]bool)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.postMessage", f.api(f.postMessage))
	mux.HandleFunc("POST /api/chat.update", f.api(f.update))
	mux.HandleFunc("POST /api/chat.delete", f.api(f.delete))
	mux.HandleFunc("POST /api/auth.test", f.api(f.authTest))
	mux.HandleFunc("POST /services/{team}/{bot}/{secret}", f.webhook)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// apiMethod handles a Web API call whose credentials and body are valid and
// returns the reply's fields besides ok, or an error code.
type apiMethod func(body map[string]any) (map[string]any, string)

// api wraps a method with what every Web API call shares: scripted
// failures, the Bearer token check and JSON decoding.
func (f *fakeSlack) api(m apiMethod) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		switch f.Failure() {
		case providertest.FailRateLimited:
			w.Header().Set("Retry-After", "7")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
			return
		case providertest.FailServer:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "<html><body>Internal Server Error</body></html>")
			return
		case providertest.FailUnauthorized:
			apiFail(w, "invalid_auth")
			return
		case providertest.FailForbidden:
			if method != "auth.test" {
				apiFail(w, "not_in_channel")
				return
			}
		case providertest.FailChannelNotFound:
			if method != "auth.test" {
				apiFail(w, "channel_not_found")
				return
			}
		}
		switch auth := r.Header.Get("Authorization"); {
		case auth == "":
			apiFail(w, "not_authed")
			return
		case auth != "Bearer "+fakeToken:
			apiFail(w, "invalid_auth")
			return
		}
		var body map[string]any
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			json.NewDecoder(r.Body).Decode(&body) != nil {
			apiFail(w, "invalid_json")
			return
		}
		fields, code := m(body)
		if code != "" {
			apiFail(w, code)
			return
		}
		fields["ok"] = true
		writeJSON(w, http.StatusOK, fields)
	}
}

func (f *fakeSlack) postMessage(body map[string]any) (map[string]any, string) {
	channel, ok := resolve(body)
	if !ok {
		return nil, "channel_not_found"
	}
	if s, _ := body["text"].(string); s == "" && body["blocks"] == nil {
		return nil, "no_text"
	}
	parent, _ := body["thread_ts"].(string)
	ts, known := f.post(parent)
	msg := map[string]any{"type": "message", "ts": ts, "text": body["text"]}
	if known {
		msg["thread_ts"] = parent
	}
	return map[string]any{"channel": channel, "ts": ts, "message": msg}, ""
}

func (f *fakeSlack) update(body map[string]any) (map[string]any, string) {
	channel, ok := resolve(body)
	if !ok {
		return nil, "channel_not_found"
	}
	ts, _ := body["ts"].(string)
	if ts == "" {
		return nil, "message_not_found"
	}
	return map[string]any{"channel": channel, "ts": ts, "text": body["text"]}, ""
}

func (f *fakeSlack) delete(body map[string]any) (map[string]any, string) {
	channel, ok := resolve(body)
	if !ok {
		return nil, "channel_not_found"
	}
	ts, _ := body["ts"].(string)
	if ts == "" {
		return nil, "message_not_found"
	}
	return map[string]any{"channel": channel, "ts": ts}, ""
}

func (f *fakeSlack) authTest(map[string]any) (map[string]any, string) {
	return map[string]any{"url": "https://example.slack.com/", "team": "Example", "user": "forumbot", "team_id": "T0000", "user_id": "U0BOT"}, ""
}

// webhook answers like hooks.slack.com: "ok" on success, a plain-text code
// with an HTTP error otherwise.
func (f *fakeSlack) webhook(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		providertest.WriteText(w, http.StatusTooManyRequests, "rate_limited")
		return
	case providertest.FailServer:
		providertest.WriteText(w, http.StatusInternalServerError, "internal_error")
		return
	case providertest.FailUnauthorized:
		providertest.WriteText(w, http.StatusForbidden, "invalid_token")
		return
	case providertest.FailForbidden:
		providertest.WriteText(w, http.StatusForbidden, "action_prohibited")
		return
	case providertest.FailChannelNotFound:
		providertest.WriteText(w, http.StatusNotFound, "channel_not_found")
		return
	}
	if r.PathValue("secret") != fakeHookSecret {
		providertest.WriteText(w, http.StatusNotFound, "no_service")
		return
	}
	var body map[string]any
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		providertest.WriteText(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if s, _ := body["text"].(string); s == "" {
		providertest.WriteText(w, http.StatusBadRequest, "no_text")
		return
	}
	providertest.WriteText(w, http.StatusOK, "ok")
}

// post stores a new message, in the thread of parent when the channel
// holds it, and returns its ts and whether it went into that thread.
func (f *fakeSlack) post(parent string) (ts string, threaded bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ts = fmt.Sprintf("1700000001.%06d", f.seq)
	f.held[ts] = true
	return ts, parent != "" && f.held[parent]
}

// postOutside stores a message someone posted in the channel and returns
// its ts: a thread root the provider did not start.
func (f *fakeSlack) postOutside() string {
	ts, _ := f.post("")
	return ts
}

// resolve returns the channel id for a name or id, as Slack does.
func resolve(body map[string]any) (string, bool) {
	switch c, _ := body["channel"].(string); {
	case c == fakeChannelName || c == fakeChannelID:
		return fakeChannelID, true
	case strings.HasPrefix(c, "C") && len(c) > 8:
		return c, true
	}
	return "", false
}

func apiFail(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

// writeJSON answers JSON as Slack does, naming the charset.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	providertest.WriteJSON(w, status, v)
}
