package rocketchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeRocketChat is a fake of the parts of Rocket.Chat the provider uses:
// the REST API (chat.postMessage, chat.update, chat.delete, me, rooms.info,
// users.info) and an incoming integration under /hooks/. It answers as
// Rocket.Chat does: {"success":true,…} or an HTTP error with
// {"success":false,"error":…,"errorType":…}; 401 "You must be logged in to
// do this." for bad credentials; 429 with X-RateLimit-Reset as an epoch
// time in milliseconds and no Retry-After; 404 "Invalid integration id or
// token provided." from a wrong integration URL. It keeps the messages it
// holds, so tests can check that an edit changed a message and a deletion
// removed it. Handlers never assert.
//
// Threads follow Rocket.Chat's sendMessage: a tmid naming a reply is
// replaced by that reply's own tmid (no nested threads), and a tmid naming
// no message it holds is kept as sent, without an error: Rocket.Chat
// stores the reply in a thread whose root is gone.
type fakeRocketChat struct {
	*providertest.Server

	mu       sync.Mutex
	seq      int
	messages map[string]fakeMessage
}

// postOutside stores a message someone posted in the room and returns its
// id: a thread root the provider did not start.
func (f *fakeRocketChat) postOutside() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := fakeMessage{ID: "userMessageAAAAAA", RID: fakeRoomID, Text: "Shall we ship on Monday?"}
	f.messages[m.ID] = m
	return m.ID
}

// fakeMessage is a message the fake holds.
type fakeMessage struct {
	ID, RID, Text, TMID string
}

// Values the fake knows: the bot's credentials, one public room, one user,
// the integration's id and token, and the clock both sides share so that
// X-RateLimit-Reset means exactly providertest.RetryAfter.
const (
	fakeUserID       = "botUserIdAAAAAAAA"
	fakeToken        = "PersonalAccessTokenSECRET-0123456789abcdef"
	fakeRoom         = "general"
	fakeRoomID       = "GENERAL"
	fakeUser         = "alice"
	fakeDMRoomID     = "botUserIdAAAAAAAAaliceIdBBBBBBBBB"
	fakeIntegration  = "integrationIdCCCC"
	fakeHookSecret   = "HookTokenSECRETxyz0123456789abcdefghijklmnopq"
	fakeHookPath     = "/hooks/" + fakeIntegration + "/" + fakeHookSecret
	fakeHookURL      = "https://chat.example.com" + fakeHookPath
	fakeMessageIDFmt = "msgIdDDDD%08d"
)

// fakeNow is the time on both sides of the fake.
func fakeNow() time.Time { return time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC) }

func newFakeRocketChat(t *testing.T) *fakeRocketChat {
	t.Helper()
	f := &fakeRocketChat{messages: make(map[string]fakeMessage)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/chat.postMessage", f.api(f.postMessage))
	mux.HandleFunc("POST /api/v1/chat.update", f.api(f.update))
	mux.HandleFunc("POST /api/v1/chat.delete", f.api(f.delete))
	mux.HandleFunc("GET /api/v1/me", f.api(f.me))
	mux.HandleFunc("GET /api/v1/rooms.info", f.api(f.roomsInfo))
	mux.HandleFunc("GET /api/v1/users.info", f.api(f.usersInfo))
	mux.HandleFunc("POST /hooks/{integration}/{token}", f.webhook)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// Message returns the message with id, and whether the fake holds it.
func (f *fakeRocketChat) Message(id string) (fakeMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[id]
	return m, ok
}

// failure is an answer that is not success.
type failure struct {
	status int
	body   map[string]any
}

func fail(status int, err string) *failure {
	return &failure{status, map[string]any{"success": false, "error": err}}
}

// meteorFail is how the API reports a Meteor.Error without a reason: the
// code in brackets as error, and as errorType.
func meteorFail(code string) *failure {
	return &failure{http.StatusBadRequest, map[string]any{"success": false, "error": "[" + code + "]", "errorType": code}}
}

func tooManyRequests(w http.ResponseWriter) {
	w.Header().Set("X-RateLimit-Limit", "10")
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(fakeNow().Add(providertest.RetryAfter).UnixMilli(), 10))
	providertest.WriteJSON(w, http.StatusTooManyRequests, map[string]any{
		"success": false,
		"error":   "Error, too many requests. Please slow down. You must wait 7 seconds before trying this endpoint again. [error-too-many-requests]",
	})
}

func notLoggedIn(w http.ResponseWriter) {
	providertest.WriteJSON(w, http.StatusUnauthorized, map[string]any{
		"success": false, "error": "You must be logged in to do this.",
		"status": "error", "message": "You must be logged in to do this.",
	})
}

// apiHandler handles a REST call whose credentials are valid.
type apiHandler func(r *http.Request, body map[string]any) (map[string]any, *failure)

// api wraps a REST handler with what every call shares: scripted failures,
// the X-User-Id and X-Auth-Token check, and JSON decoding.
func (f *fakeRocketChat) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me := r.URL.Path == "/api/v1/me"
		switch f.Failure() {
		case providertest.FailRateLimited:
			tooManyRequests(w)
			return
		case providertest.FailServer:
			providertest.WriteJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "error": "Internal server error"})
			return
		case providertest.FailUnauthorized:
			notLoggedIn(w)
			return
		case providertest.FailForbidden:
			if !me {
				f := fail(http.StatusBadRequest, "error-not-allowed")
				providertest.WriteJSON(w, f.status, f.body)
				return
			}
		case providertest.FailChannelNotFound:
			if !me {
				f := meteorFail("invalid-channel")
				providertest.WriteJSON(w, f.status, f.body)
				return
			}
		}
		if r.Header.Get("X-User-Id") != fakeUserID || r.Header.Get("X-Auth-Token") != fakeToken {
			notLoggedIn(w)
			return
		}
		var body map[string]any
		if r.Method == http.MethodPost && json.NewDecoder(r.Body).Decode(&body) != nil {
			f := meteorFail("invalid-params")
			providertest.WriteJSON(w, f.status, f.body)
			return
		}
		reply, e := h(r, body)
		if e != nil {
			providertest.WriteJSON(w, e.status, e.body)
			return
		}
		reply["success"] = true
		providertest.WriteJSON(w, http.StatusOK, reply)
	}
}

func (f *fakeRocketChat) postMessage(_ *http.Request, body map[string]any) (map[string]any, *failure) {
	var rid, channel string
	switch c, _ := body["channel"].(string); c {
	case "#" + fakeRoom, fakeRoom, fakeRoomID:
		rid, channel = fakeRoomID, fakeRoom
	case "@" + fakeUser:
		rid, channel = fakeDMRoomID, fakeUser
	default:
		return nil, meteorFail("invalid-channel")
	}
	text, _ := body["text"].(string)
	tmid, _ := body["tmid"].(string)
	f.mu.Lock()
	if parent, ok := f.messages[tmid]; ok && parent.TMID != "" {
		tmid = parent.TMID
	}
	f.seq++
	m := fakeMessage{ID: fmt.Sprintf(fakeMessageIDFmt, f.seq), RID: rid, Text: text, TMID: tmid}
	f.messages[m.ID] = m
	f.mu.Unlock()
	return map[string]any{"ts": fakeNow().UnixMilli(), "channel": channel, "message": messageJSON(m)}, nil
}

func (f *fakeRocketChat) update(_ *http.Request, body map[string]any) (map[string]any, *failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := body["msgId"].(string)
	m, ok := f.messages[id]
	if !ok {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("No message found with the id of %q.", id))
	}
	if room, _ := body["roomId"].(string); room != m.RID {
		return nil, fail(http.StatusBadRequest, "The room id provided does not match where the message is from.")
	}
	m.Text, _ = body["text"].(string)
	f.messages[id] = m
	return map[string]any{"message": messageJSON(m)}, nil
}

func (f *fakeRocketChat) delete(_ *http.Request, body map[string]any) (map[string]any, *failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := body["msgId"].(string)
	m, ok := f.messages[id]
	if !ok {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("No message found with the id of %q.", id))
	}
	if room, _ := body["roomId"].(string); room != m.RID {
		return nil, fail(http.StatusBadRequest, "The room id provided does not match where the message is from.")
	}
	delete(f.messages, id)
	return map[string]any{"_id": id, "ts": strconv.FormatInt(fakeNow().UnixMilli(), 10), "message": messageJSON(m)}, nil
}

func (f *fakeRocketChat) me(*http.Request, map[string]any) (map[string]any, *failure) {
	return map[string]any{"_id": fakeUserID, "username": "forumbot", "active": true}, nil
}

func (f *fakeRocketChat) roomsInfo(r *http.Request, _ map[string]any) (map[string]any, *failure) {
	if name := r.URL.Query().Get("roomName"); name != fakeRoom {
		return nil, &failure{http.StatusBadRequest, map[string]any{
			"success":   false,
			"error":     `The required "roomId" or "roomName" param provided does not match any channel [error-room-not-found]`,
			"errorType": "error-room-not-found",
		}}
	}
	return map[string]any{"room": map[string]any{"_id": fakeRoomID, "name": fakeRoom, "t": "c"}}, nil
}

func (f *fakeRocketChat) usersInfo(r *http.Request, _ map[string]any) (map[string]any, *failure) {
	if r.URL.Query().Get("username") != fakeUser {
		return nil, fail(http.StatusBadRequest, "User not found.")
	}
	return map[string]any{"user": map[string]any{"_id": "aliceIdBBBBBBBBB", "username": fakeUser}}, nil
}

func messageJSON(m fakeMessage) map[string]any {
	out := map[string]any{
		"_id": m.ID, "rid": m.RID, "msg": m.Text, "ts": "2026-05-06T07:08:09.000Z",
		"u": map[string]any{"_id": fakeUserID, "username": "forumbot"}, "_updatedAt": "2026-05-06T07:08:09.000Z",
	}
	if m.TMID != "" {
		out["tmid"] = m.TMID
	}
	return out
}

// webhook answers like Rocket.Chat's /hooks/<integration>/<token>.
func (f *fakeRocketChat) webhook(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		tooManyRequests(w)
		return
	case providertest.FailServer:
		providertest.WriteJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "error": "Internal server error"})
		return
	case providertest.FailUnauthorized:
		providertest.WriteJSON(w, http.StatusNotFound, map[string]any{"success": false, "error": "Invalid integration id or token provided."})
		return
	case providertest.FailForbidden:
		providertest.WriteJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "error-not-allowed"})
		return
	case providertest.FailChannelNotFound:
		providertest.WriteJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "invalid-channel"})
		return
	}
	if r.PathValue("integration") != fakeIntegration || r.PathValue("token") != fakeHookSecret {
		providertest.WriteJSON(w, http.StatusNotFound, map[string]any{"success": false, "error": "Invalid integration id or token provided."})
		return
	}
	var body map[string]any
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		providertest.WriteJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "Unexpected token"})
		return
	}
	switch c, _ := body["channel"].(string); c {
	case "#" + fakeRoom, "@" + fakeUser:
	default:
		providertest.WriteJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "invalid-channel"})
		return
	}
	providertest.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}
