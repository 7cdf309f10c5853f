// Package matrixtest is a fake Matrix homeserver for tests of the Matrix
// provider and of Gitter's Matrix transport (Gitter rooms are Matrix rooms
// on the gitter.im homeserver).
//
// It serves the client-server endpoints the sidecar uses, answers as a
// homeserver does (errors are always {"errcode","error"}; a 429 carries
// both Retry-After and retry_after_ms; a transaction id sent again returns
// the original event instead of a second message; a relation to an event
// it does not hold is refused as Synapse refuses it), keeps rooms, aliases,
// memberships and events as state, and records every request through
// providertest.Server for assertions after the call. Handlers never assert.
package matrixtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// Defaults of Options.
const (
	DefaultServerName = "example.org"
	DefaultToken      = "syt_Ym90_SECRETSECRETSECRET_0a1b2c"
	DefaultUserID     = "@forumbot:example.org"
)

// Options configure a Homeserver.
type Options struct {
	// ServerName is the homeserver's name, the part after ':' in ids it
	// creates ("gitter.im").
	ServerName string
	// Token is the only access token the homeserver accepts.
	Token string
	// UserID is who Token belongs to.
	UserID string
}

// Room is a room the homeserver knows.
type Room struct {
	ID    string
	Alias string // "" for none
	// Public rooms let anyone join; others need an invite.
	Public bool
	// Invited means the bot has been invited and may join.
	Invited bool
	// Joined means the bot is a member.
	Joined bool
}

// Event is a message or redaction the homeserver accepted.
type Event struct {
	RoomID  string
	EventID string
	Type    string // m.room.message or m.room.redaction
	TxnID   string
	Content map[string]any
	Redacts string // the redacted event, for m.room.redaction
}

// Homeserver is the fake. Build it with New.
type Homeserver struct {
	*providertest.Server
	opts Options

	mu      sync.Mutex
	seq     int
	rooms   map[string]*Room  // by id
	aliases map[string]string // alias → room id
	txns    map[string]string // token + " " + txn id → event id
	events  []Event
}

// New starts a homeserver that knows no rooms; add them with AddRoom. It
// is closed by t.Cleanup.
func New(t testing.TB, opts Options) *Homeserver {
	t.Helper()
	if opts.ServerName == "" {
		opts.ServerName = DefaultServerName
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.UserID == "" {
		opts.UserID = DefaultUserID
	}
	h := &Homeserver{opts: opts, rooms: make(map[string]*Room), aliases: make(map[string]string), txns: make(map[string]string)}
	const v3 = "/_matrix/client/v3"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+v3+"/account/whoami", h.api(false, h.whoami))
	mux.HandleFunc("GET "+v3+"/directory/room/{alias}", h.api(true, h.directory))
	mux.HandleFunc("POST "+v3+"/join/{room}", h.api(true, h.join))
	mux.HandleFunc("PUT "+v3+"/rooms/{room}/send/{type}/{txn}", h.api(true, h.send))
	mux.HandleFunc("PUT "+v3+"/rooms/{room}/redact/{event}/{txn}", h.api(true, h.redact))
	mux.HandleFunc("GET "+v3+"/rooms/{room}/state/m.room.member/{user}", h.api(true, h.member))
	mux.HandleFunc("GET "+v3+"/rooms/{room}/joined_members", h.api(true, h.joinedMembers))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
	})
	h.Server = providertest.NewServer(t, mux)
	return h
}

// Options returns the homeserver's options with defaults filled in.
func (h *Homeserver) Options() Options { return h.opts }

// AddRoom adds r (and its alias) to the homeserver.
func (h *Homeserver) AddRoom(r Room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rooms[r.ID] = &r
	if r.Alias != "" {
		h.aliases[r.Alias] = r.ID
	}
}

// Room returns the room with id as it is now.
func (h *Homeserver) Room(id string) (Room, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.rooms[id]
	if !ok {
		return Room{}, false
	}
	return *r, true
}

// Events returns every event accepted so far, in order.
func (h *Homeserver) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Event, len(h.events))
	copy(out, h.events)
	return out
}

// EventID returns the id the homeserver gives its n-th event (from 1), so
// tests can name events before they exist.
func EventID(n int) string { return fmt.Sprintf("$event%d", n) }

// handler answers one endpoint once the request is authorised; it returns
// the status and the JSON body.
type handler func(r *http.Request) (int, any)

// api wraps a handler with what every endpoint shares: the scripted
// failures in Matrix's own words and the access token check. Forbidden and
// not-found failures only apply to room endpoints; whoami still answers,
// as a homeserver would.
func (h *Homeserver) api(roomScoped bool, fn handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch h.Failure() {
		case providertest.FailRateLimited:
			w.Header().Set("Retry-After", "7")
			write(w, http.StatusTooManyRequests, map[string]any{
				"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 7000,
			})
			return
		case providertest.FailServer:
			WriteError(w, http.StatusInternalServerError, "M_UNKNOWN", "Internal server error")
			return
		case providertest.FailUnauthorized:
			write(w, http.StatusUnauthorized, map[string]any{
				"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": false,
			})
			return
		case providertest.FailForbidden:
			if roomScoped {
				WriteError(w, http.StatusForbidden, "M_FORBIDDEN",
					"You don't have permission to post that to the room. user_level (0) < send_level (50)")
				return
			}
		case providertest.FailChannelNotFound:
			if roomScoped {
				WriteError(w, http.StatusNotFound, "M_NOT_FOUND", "Unknown room")
				return
			}
		}
		switch auth := r.Header.Get("Authorization"); {
		case auth == "":
			WriteError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
			return
		case auth != "Bearer "+h.opts.Token:
			write(w, http.StatusUnauthorized, map[string]any{
				"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": false,
			})
			return
		}
		status, body := fn(r)
		write(w, status, body)
	}
}

func (h *Homeserver) whoami(*http.Request) (int, any) {
	return http.StatusOK, map[string]any{"user_id": h.opts.UserID, "device_id": "CHATSIDECAR", "is_guest": false}
}

func (h *Homeserver) directory(r *http.Request) (int, any) {
	alias := r.PathValue("alias")
	if !strings.HasPrefix(alias, "#") || !strings.Contains(alias, ":") {
		return errBody(http.StatusBadRequest, "M_INVALID_PARAM", "Room alias invalid")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.aliases[alias]
	if !ok {
		return errBody(http.StatusNotFound, "M_NOT_FOUND", fmt.Sprintf("Room alias %s not found", alias))
	}
	return http.StatusOK, map[string]any{"room_id": id, "servers": []string{h.opts.ServerName}}
}

func (h *Homeserver) join(r *http.Request) (int, any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	target := r.PathValue("room")
	if id, ok := h.aliases[target]; ok {
		target = id
	}
	room, ok := h.rooms[target]
	if !ok {
		if strings.HasPrefix(target, "#") {
			return errBody(http.StatusNotFound, "M_NOT_FOUND", fmt.Sprintf("Room alias %s not found", target))
		}
		return errBody(http.StatusNotFound, "M_UNKNOWN", "No known servers")
	}
	if !room.Joined && !room.Public && !room.Invited {
		return errBody(http.StatusForbidden, "M_FORBIDDEN", "You are not invited to this room.")
	}
	room.Joined, room.Invited = true, false
	return http.StatusOK, map[string]any{"room_id": room.ID}
}

// joinedRoom returns the room id names when the bot may act there, or the
// error a homeserver answers: 404 for a room it does not know, 403 for one
// the bot is not in. The caller holds h.mu.
func (h *Homeserver) joinedRoom(id string) (*Room, int, any) {
	room, ok := h.rooms[id]
	if !ok {
		status, body := errBody(http.StatusNotFound, "M_NOT_FOUND", "Unknown room")
		return nil, status, body
	}
	if !room.Joined {
		status, body := errBody(http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s (None)", h.opts.UserID, id))
		return nil, status, body
	}
	return room, 0, nil
}

func (h *Homeserver) send(r *http.Request) (int, any) {
	var content map[string]any
	if json.NewDecoder(r.Body).Decode(&content) != nil {
		return errBody(http.StatusBadRequest, "M_NOT_JSON", "Content not JSON.")
	}
	// Homeservers do not check message content; the fake checks what
	// the spec requires of clients, to catch a malformed message early.
	body, _ := content["body"].(string)
	msgtype, _ := content["msgtype"].(string)
	if r.PathValue("type") == "m.room.message" && (msgtype == "" || body == "") {
		return errBody(http.StatusBadRequest, "M_BAD_JSON", "m.room.message needs msgtype and body")
	}
	if _, hasFormat := content["format"]; hasFormat {
		if fb, _ := content["formatted_body"].(string); fb == "" {
			return errBody(http.StatusBadRequest, "M_BAD_JSON", "format without formatted_body")
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	room, status, errb := h.joinedRoom(r.PathValue("room"))
	if room == nil {
		return status, errb
	}
	if id, ok := h.txns[h.txnKey(r)]; ok {
		return http.StatusOK, map[string]any{"event_id": id}
	}
	if rel, _ := content["m.relates_to"].(map[string]any); rel != nil {
		// Synapse refuses a relation (a thread, an edit) to an event it
		// does not know.
		relType, _ := rel["rel_type"].(string)
		parent, _ := rel["event_id"].(string)
		if relType != "" && !h.has(room.ID, parent) {
			return errBody(http.StatusBadRequest, "M_UNKNOWN", "Can't send relation to unknown event")
		}
	}
	id := h.add(Event{RoomID: room.ID, Type: r.PathValue("type"), TxnID: r.PathValue("txn"), Content: content})
	h.txns[h.txnKey(r)] = id
	return http.StatusOK, map[string]any{"event_id": id}
}

func (h *Homeserver) redact(r *http.Request) (int, any) {
	var content map[string]any
	if json.NewDecoder(r.Body).Decode(&content) != nil {
		return errBody(http.StatusBadRequest, "M_NOT_JSON", "Content not JSON.")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	room, status, errb := h.joinedRoom(r.PathValue("room"))
	if room == nil {
		return status, errb
	}
	if id, ok := h.txns[h.txnKey(r)]; ok {
		return http.StatusOK, map[string]any{"event_id": id}
	}
	target := r.PathValue("event")
	if !h.has(room.ID, target) {
		return errBody(http.StatusNotFound, "M_NOT_FOUND", "Event not found.")
	}
	id := h.add(Event{RoomID: room.ID, Type: "m.room.redaction", TxnID: r.PathValue("txn"), Content: content, Redacts: target})
	h.txns[h.txnKey(r)] = id
	return http.StatusOK, map[string]any{"event_id": id}
}

func (h *Homeserver) member(r *http.Request) (int, any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, user := r.PathValue("room"), r.PathValue("user")
	room, ok := h.rooms[id]
	switch {
	case !ok:
		return errBody(http.StatusNotFound, "M_NOT_FOUND", "Unknown room")
	case user != h.opts.UserID:
		return errBody(http.StatusNotFound, "M_NOT_FOUND", "Event not found.")
	case room.Joined:
		return http.StatusOK, map[string]any{"membership": "join", "displayname": "Forum bot"}
	case room.Invited:
		return http.StatusOK, map[string]any{"membership": "invite"}
	}
	return errBody(http.StatusForbidden, "M_FORBIDDEN",
		fmt.Sprintf("User %s not in room %s, and room previews are disabled", h.opts.UserID, id))
}

func (h *Homeserver) joinedMembers(r *http.Request) (int, any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	room, status, errb := h.joinedRoom(r.PathValue("room"))
	if room == nil {
		return status, errb
	}
	return http.StatusOK, map[string]any{"joined": map[string]any{h.opts.UserID: map[string]any{"display_name": "Forum bot"}}}
}

// has reports whether room holds the event id; the caller holds h.mu.
func (h *Homeserver) has(room, id string) bool {
	for _, e := range h.events {
		if e.EventID == id && e.RoomID == room {
			return true
		}
	}
	return false
}

// PostOutside stores a message someone else sent in room and returns its
// event id: a thread root the provider did not start. The room must
// exist.
func (h *Homeserver) PostOutside(room string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.add(Event{RoomID: room, Type: "m.room.message", TxnID: "outside",
		Content: map[string]any{"msgtype": "m.text", "body": "Shall we ship on Monday?"}})
}

// Forget drops the event id from the homeserver, as if it had never been
// seen (purged from the room's history): Events no longer returns it, and a
// relation to it (a thread reply, an edit) is refused with Synapse's
// 400 M_UNKNOWN "Can't send relation to unknown event". It reports whether
// the homeserver held the event.
func (h *Homeserver) Forget(eventID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, e := range h.events {
		if e.EventID == eventID {
			h.events = append(h.events[:i], h.events[i+1:]...)
			return true
		}
	}
	return false
}

// add records e with a new event id; the caller holds h.mu.
func (h *Homeserver) add(e Event) string {
	h.seq++
	e.EventID = EventID(h.seq)
	h.events = append(h.events, e)
	return e.EventID
}

// txnKey scopes a transaction id to the token, as homeservers scope it
// to the device.
func (h *Homeserver) txnKey(r *http.Request) string {
	return r.Header.Get("Authorization") + " " + r.PathValue("txn")
}

// WriteError writes a Matrix error reply.
func WriteError(w http.ResponseWriter, status int, errcode, msg string) {
	write(w, status, map[string]any{"errcode": errcode, "error": msg})
}

func errBody(status int, errcode, msg string) (int, any) {
	return status, map[string]any{"errcode": errcode, "error": msg}
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
