package groupme_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeGroupMe is a fake of GroupMe's bot post API. It answers as GroupMe
// does: 202 Accepted with an empty body once the message is posted, and
// {"meta":{"code","errors"},"response":null} otherwise, 404 for a bot id it
// does not know. GroupMe documents no rate limit for bots; the 429 with
// Retry-After, like the 401 and 403 wording, is an assumption [R].
type fakeGroupMe struct {
	*providertest.Server
}

// Bot ids the fake knows; a bot id is the only credential, so a secret.
const (
	fakeBotMain   = "b0Tma1n5eCr3t0123456789ab"
	fakeBotSecond = "b0Tsec0nd5eCr3t456789abcd"
)

func newFakeGroupMe(t *testing.T) *fakeGroupMe {
	t.Helper()
	f := &fakeGroupMe{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/bots/post", f.post)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// groupMeError writes GroupMe's error envelope.
func groupMeError(w http.ResponseWriter, status int, errs ...string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	providertest.WriteJSON(w, status, map[string]any{"meta": map[string]any{"code": status, "errors": errs}, "response": nil})
}

func (f *fakeGroupMe) post(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		groupMeError(w, http.StatusTooManyRequests, "too many requests")
		return
	case providertest.FailUnauthorized:
		groupMeError(w, http.StatusUnauthorized, "unauthorized")
		return
	case providertest.FailForbidden:
		groupMeError(w, http.StatusForbidden, "forbidden")
		return
	case providertest.FailChannelNotFound:
		groupMeError(w, http.StatusNotFound, "Not Found")
		return
	case providertest.FailServer:
		groupMeError(w, http.StatusInternalServerError, "internal server error")
		return
	}
	var body struct {
		BotID string `json:"bot_id"`
		Text  string `json:"text"`
	}
	switch {
	case json.NewDecoder(r.Body).Decode(&body) != nil:
		groupMeError(w, http.StatusBadRequest, "invalid JSON")
	case body.BotID != fakeBotMain && body.BotID != fakeBotSecond:
		groupMeError(w, http.StatusNotFound, "Not Found")
	case body.Text == "":
		groupMeError(w, http.StatusBadRequest, "text is required")
	case utf8.RuneCountInString(body.Text) > 1000:
		groupMeError(w, http.StatusBadRequest, "text is too long")
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}
