package discord_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeDiscord is a fake of one Discord channel webhook: Execute Webhook
// (with wait, thread_id and thread_name), Edit and Delete Webhook Message,
// and Get Webhook with Token. It answers as Discord does, with JSON
// {"message","code"} errors, a 429 with retry_after and the X-RateLimit-*
// headers, and the forum rules (220001 without a thread, 220003 for
// thread_name outside a forum). It keeps messages and threads so replies,
// edits and deletions behave, and records every request for assertions
// after the call; handlers never assert.
type fakeDiscord struct {
	*providertest.Server

	mu      sync.Mutex
	forum   bool  // the webhook's channel is a forum channel
	seq     int64 // the webhook's messages
	members int64 // members' threads, numbered apart so seq stays predictable
	msgs    map[string]*fakeMessage
	threads map[string]*fakeThread
}

type fakeMessage struct {
	channel string // the channel or thread it is in
	body    map[string]any
	deleted bool
	// threaded is set once someone starts a thread on the message in a
	// text channel; the thread has the message's id.
	threaded bool
}

type fakeThread struct {
	name    string
	deleted bool
}

// Values the fake knows: the webhook it is, and the channel it posts to.
const (
	fakeHookID     = "112233445566778899"
	fakeHookSecret = "SeCrEt-HoOk_ToKeN.42"
	fakeHookPath   = "/api/webhooks/" + fakeHookID + "/" + fakeHookSecret
	fakeHookURL    = "https://discord.com" + fakeHookPath
	fakeChannelID  = "900000000000000001"
)

func newFakeDiscord(t *testing.T) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{msgs: make(map[string]*fakeMessage), threads: make(map[string]*fakeThread)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/webhooks/{id}/{token}", f.auth(f.execute))
	mux.HandleFunc("GET /api/webhooks/{id}/{token}", f.auth(f.get))
	mux.HandleFunc("PATCH /api/webhooks/{id}/{token}/messages/{message}", f.auth(f.edit))
	mux.HandleFunc("DELETE /api/webhooks/{id}/{token}/messages/{message}", f.auth(f.delete))
	f.Server = providertest.NewServer(t, mux)
	return f
}

// newForum is a fake whose webhook belongs to a forum channel.
func newForum(t *testing.T) *fakeDiscord {
	t.Helper()
	f := newFakeDiscord(t)
	f.forum = true
	return f
}

// startThread starts a thread on message id, as a member would in a text
// channel.
func (f *fakeDiscord) startThread(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.msgs[id]; m != nil {
		m.threaded = true
	}
}

// memberThread starts a thread in the channel as a member would, on a
// message of theirs, and returns its id (the message's id, earlier than
// any the webhook sends). The webhook
// may post into it but not edit the member's message.
func (f *fakeDiscord) memberThread(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members++
	id := strconv.FormatInt(1200000000000000000+f.members, 10)
	f.threads[id] = &fakeThread{name: name}
	return id
}

// deleteThread deletes thread id, as a moderator would.
func (f *fakeDiscord) deleteThread(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if th := f.threads[id]; th != nil {
		th.deleted = true
	}
	if m := f.msgs[id]; m != nil {
		m.threaded = false
		m.deleted = true
	}
}

// message returns the stored body and channel of message id.
func (f *fakeDiscord) message(id string) (map[string]any, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs[id]
	if m == nil || m.deleted {
		return nil, "", false
	}
	return m.body, m.channel, true
}

// threadName returns the name of thread id, "" when there is none.
func (f *fakeDiscord) threadName(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if th := f.threads[id]; th != nil && !th.deleted {
		return th.name
	}
	return ""
}

// auth answers the scripted failures and checks the webhook's id and token
// before the handler runs.
func (f *fakeDiscord) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch f.Failure() {
		case providertest.FailRateLimited:
			hdr := w.Header()
			hdr.Set("Retry-After", "7")
			hdr.Set("X-RateLimit-Limit", "5")
			hdr.Set("X-RateLimit-Remaining", "0")
			hdr.Set("X-RateLimit-Reset", "1767225607.000")
			hdr.Set("X-RateLimit-Reset-After", "7.000")
			hdr.Set("X-RateLimit-Bucket", "a06de2a7c5d2e1b4f0e6e0b9d3c4b5a6")
			hdr.Set("X-RateLimit-Scope", "shared")
			raw(w, http.StatusTooManyRequests, `{"message": "You are being rate limited.", "retry_after": 7.0, "global": false}`)
			return
		case providertest.FailServer:
			raw(w, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
			return
		case providertest.FailUnauthorized:
			apiFail(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token")
			return
		case providertest.FailForbidden:
			apiFail(w, http.StatusForbidden, 50013, "Missing Permissions")
			return
		case providertest.FailChannelNotFound:
			apiFail(w, http.StatusNotFound, 10015, "Unknown Webhook")
			return
		}
		if r.PathValue("id") != fakeHookID {
			apiFail(w, http.StatusNotFound, 10015, "Unknown Webhook")
			return
		}
		if r.PathValue("token") != fakeHookSecret {
			apiFail(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}
}

func (f *fakeDiscord) execute(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	if code, msg := checkMessage(body, true); code != 0 {
		apiFail(w, http.StatusBadRequest, code, msg)
		return
	}
	threadID := r.URL.Query().Get("thread_id")
	threadName, _ := body["thread_name"].(string)
	channel := fakeChannelID
	switch {
	case threadID != "" && threadName != "":
		apiFail(w, http.StatusBadRequest, 220002, "Webhooks posted to forum channels cannot have both a thread_name and thread_id")
		return
	case threadID != "":
		if !f.threadExists(threadID) {
			apiFail(w, http.StatusNotFound, 10003, "Unknown Channel")
			return
		}
		channel = threadID
	case threadName != "" && !f.forum:
		apiFail(w, http.StatusBadRequest, 220003, "Webhooks can only create threads in forum channels")
		return
	case f.forum && threadName == "":
		apiFail(w, http.StatusBadRequest, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
		return
	}
	f.seq++
	id := strconv.FormatInt(1300000000000000000+f.seq, 10)
	if threadName != "" {
		// A forum post: the thread has its starter message's id.
		f.threads[id] = &fakeThread{name: threadName}
		channel = id
	}
	f.msgs[id] = &fakeMessage{channel: channel, body: body}
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	providertest.WriteJSON(w, http.StatusOK, messageObject(id, channel, body))
}

// threadExists reports whether id names a thread of the channel: a forum
// post the webhook created, a thread started on one of its messages, or a
// member's thread (memberThread). Anything else, a deleted thread
// included, is Unknown Channel, as Discord answers.
func (f *fakeDiscord) threadExists(id string) bool {
	if th := f.threads[id]; th != nil {
		return !th.deleted
	}
	if m := f.msgs[id]; m != nil {
		return m.threaded && !m.deleted
	}
	return false
}

func (f *fakeDiscord) get(w http.ResponseWriter, _ *http.Request) {
	providertest.WriteJSON(w, http.StatusOK, map[string]any{
		"application_id": nil, "avatar": nil, "channel_id": fakeChannelID, "guild_id": "800000000000000001",
		"id": fakeHookID, "name": "Forum", "type": 1, "token": fakeHookSecret,
	})
}

// found returns the message a PATCH or DELETE names. Like Discord, it
// finds a message in a thread only when thread_id names that thread.
func (f *fakeDiscord) found(r *http.Request) (string, *fakeMessage) {
	id := r.PathValue("message")
	m := f.msgs[id]
	if m == nil || m.deleted {
		return id, nil
	}
	want := r.URL.Query().Get("thread_id")
	if (m.channel == fakeChannelID && want != "") || (m.channel != fakeChannelID && want != m.channel) {
		return id, nil
	}
	return id, m
}

func (f *fakeDiscord) edit(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	if code, msg := checkMessage(body, false); code != 0 {
		apiFail(w, http.StatusBadRequest, code, msg)
		return
	}
	if r.URL.Query().Has("wait") {
		apiFail(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	id, m := f.found(r)
	if m == nil {
		apiFail(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	m.body = body
	providertest.WriteJSON(w, http.StatusOK, messageObject(id, m.channel, body))
}

func (f *fakeDiscord) delete(w http.ResponseWriter, r *http.Request) {
	_, m := f.found(r)
	if m == nil {
		apiFail(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	m.deleted = true
	w.WriteHeader(http.StatusNoContent)
}

func decodeBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var body map[string]any
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		json.NewDecoder(r.Body).Decode(&body) != nil {
		apiFail(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return nil, false
	}
	return body, true
}

// checkMessage applies Discord's limits to a message body and answers
// 50035 Invalid Form Body, or 50006 for an empty message.
func checkMessage(body map[string]any, create bool) (int, string) {
	content, _ := body["content"].(string)
	embeds, _ := body["embeds"].([]any)
	if create && content == "" && len(embeds) == 0 {
		return 50006, "Cannot send an empty message"
	}
	if utf8.RuneCountInString(content) > 2000 || len(embeds) > 10 {
		return 50035, "Invalid Form Body"
	}
	if name, _ := body["username"].(string); strings.Contains(strings.ToLower(name), "discord") || utf8.RuneCountInString(name) > 80 {
		return 50035, "Invalid Form Body"
	}
	if !create && (body["username"] != nil || body["thread_name"] != nil) {
		return 50035, "Invalid Form Body"
	}
	if name, _ := body["thread_name"].(string); utf8.RuneCountInString(name) > 100 {
		return 50035, "Invalid Form Body"
	}
	if !httpURL(body["avatar_url"]) {
		return 50035, "Invalid Form Body"
	}
	for _, raw := range embeds {
		e, _ := raw.(map[string]any)
		author, _ := e["author"].(map[string]any)
		footer, _ := e["footer"].(map[string]any)
		if tooLong(e["title"], 256) || tooLong(e["description"], 4096) ||
			tooLong(author["name"], 256) || tooLong(footer["text"], 2048) ||
			!httpURL(e["url"]) || !httpURL(author["url"]) || !httpURL(author["icon_url"]) || !httpURL(footer["icon_url"]) {
			return 50035, "Invalid Form Body"
		}
	}
	return 0, ""
}

func tooLong(v any, n int) bool {
	s, _ := v.(string)
	return utf8.RuneCountInString(s) > n
}

// httpURL accepts an absent value or an http(s) URL, as Discord does for
// embed URLs.
func httpURL(v any) bool {
	s, ok := v.(string)
	return !ok || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

func messageObject(id, channel string, body map[string]any) map[string]any {
	return map[string]any{
		"id": id, "type": 0, "channel_id": channel, "webhook_id": fakeHookID,
		"content": body["content"], "embeds": body["embeds"], "timestamp": "2026-01-01T00:00:00.000000+00:00",
		"author": map[string]any{"id": fakeHookID, "username": "Forum", "bot": true},
	}
}

func apiFail(w http.ResponseWriter, status, code int, message string) {
	providertest.WriteJSON(w, status, map[string]any{"message": message, "code": code})
}

func raw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
