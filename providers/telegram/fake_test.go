package telegram_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeTelegram is a fake of the Bot API methods the provider uses:
// sendMessage, editMessageText, deleteMessage, getMe and getChat, under
// /bot<token>/<method>. It answers as Telegram does: {"ok":true,"result":…}
// or {"ok":false,"error_code":N,"description":"…","parameters":{…}} with
// the same HTTP status, 401 "Unauthorized" for a wrong token and 404 "Not
// Found" for a path that is not a bot's. It keeps the messages it sent so
// replies, edits and deletions behave, and records every request for
// assertions after the call; handlers never assert.
type fakeTelegram struct {
	*providertest.Server

	botPath    *regexp.Regexp // /bot<token>/<method>
	tokenShape *regexp.Regexp // Telegram's router answers 404 for others
	tag        *regexp.Regexp

	mu   sync.Mutex
	seq  int64
	msgs map[int64]*fakeMessage
}

// fakeMessage is a message the fake holds.
type fakeMessage struct {
	chat    int64
	text    string
	deleted bool
	// foreign is a message someone else posted: the bot may reply to it
	// but not edit it.
	foreign bool
}

// Values the fake knows: the one token it accepts, the chat it can post
// to (by id and by @username), and a group that became a supergroup.
const (
	fakeToken       = "123456789:AAHSeCrEtToKeNpArT-forum_bot"
	fakeTokenSecret = "AAHSeCrEtToKeNpArT-forum_bot"
	fakeChatID      = "-1001234567890"
	fakeChatName    = "@forumnews"
	fakeOldGroup    = "-4001"
	fakeSupergroup  = "-1009999000001"
)

func newFakeTelegram(t *testing.T) *fakeTelegram {
	t.Helper()
	f := &fakeTelegram{
		botPath:    regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`),
		tokenShape: regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`),
		tag:        regexp.MustCompile(`<(/?)([a-z-]+)[^>]*>`),
		msgs:       make(map[int64]*fakeMessage),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{path...}", f.serve)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// postOutside posts a message in the fake's chat as a member would and
// returns its id, a root the bot can reply to.
func (f *fakeTelegram) postOutside() string {
	chat, _ := strconv.ParseInt(fakeChatID, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.msgs[f.seq] = &fakeMessage{chat: chat, text: "a member's message", foreign: true}
	return strconv.FormatInt(f.seq, 10)
}

// deleteOutside marks a message deleted, as a chat admin would.
func (f *fakeTelegram) deleteOutside(id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.msgs[n]; m != nil {
		m.deleted = true
	}
}

// text returns the current text of message id.
func (f *fakeTelegram) text(id string) string {
	n, _ := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.msgs[n]; m != nil && !m.deleted {
		return m.text
	}
	return ""
}

func (f *fakeTelegram) serve(w http.ResponseWriter, r *http.Request) {
	m := f.botPath.FindStringSubmatch(r.URL.Path)
	if m == nil || !f.tokenShape.MatchString(m[1]) {
		fail(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	token, method := m[1], m[2]
	chatMethod := method != "getMe"
	switch f.Failure() {
	case providertest.FailRateLimited:
		fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after 7", map[string]any{"retry_after": 7})
		return
	case providertest.FailServer:
		fail(w, http.StatusInternalServerError, "Internal Server Error", nil)
		return
	case providertest.FailUnauthorized:
		fail(w, http.StatusUnauthorized, "Unauthorized", nil)
		return
	case providertest.FailForbidden:
		if chatMethod {
			fail(w, http.StatusForbidden, "Forbidden: bot was kicked from the supergroup chat", nil)
			return
		}
	case providertest.FailChannelNotFound:
		if chatMethod {
			fail(w, http.StatusBadRequest, "Bad Request: chat not found", nil)
			return
		}
	}
	if token != fakeToken {
		fail(w, http.StatusUnauthorized, "Unauthorized", nil)
		return
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&body) != nil {
		fail(w, http.StatusBadRequest, "Bad Request: invalid JSON", nil)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch method {
	case "getMe":
		ok(w, map[string]any{"id": 123456789, "is_bot": true, "first_name": "Forum", "username": "forum_bot"})
	case "getChat":
		if chat, msg, params := resolveChat(body["chat_id"]); msg != "" {
			fail(w, http.StatusBadRequest, msg, params)
		} else {
			ok(w, map[string]any{"id": chat, "type": "supergroup", "title": "Forum news"})
		}
	case "sendMessage":
		f.send(w, body)
	case "editMessageText":
		f.edit(w, body)
	case "deleteMessage":
		f.delete(w, body)
	default:
		fail(w, http.StatusNotFound, "Not Found", nil)
	}
}

func (f *fakeTelegram) send(w http.ResponseWriter, body map[string]any) {
	chat, msg, params := resolveChat(body["chat_id"])
	if msg != "" {
		fail(w, http.StatusBadRequest, msg, params)
		return
	}
	text, status := f.checkText(body)
	if status != "" {
		fail(w, http.StatusBadRequest, status, nil)
		return
	}
	var replyTo json.Number
	if rp, _ := body["reply_parameters"].(map[string]any); rp != nil {
		raw, isNumber := rp["message_id"].(json.Number)
		if !isNumber {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse reply parameters JSON object", nil)
			return
		}
		// Message ids are integers. A message exists if the fake holds
		// it (the bot's own, or one postOutside posted), in this chat,
		// undeleted. Any other root is missing: Telegram refuses the
		// message, or with allow_sending_without_reply sends it as a
		// plain one.
		id, err := raw.Int64()
		if err != nil {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse reply parameters JSON object", nil)
			return
		}
		known := f.msgs[id]
		switch {
		case known != nil && !known.deleted && known.chat == chat:
			replyTo = raw
		case rp["allow_sending_without_reply"] != true:
			fail(w, http.StatusBadRequest, "Bad Request: message to be replied not found", nil)
			return
		}
	}
	f.seq++
	f.msgs[f.seq] = &fakeMessage{chat: chat, text: text}
	res := map[string]any{"message_id": f.seq, "date": 1767225600, "chat": map[string]any{"id": chat, "type": "supergroup"}, "text": text}
	if replyTo != "" {
		res["reply_to_message"] = map[string]any{"message_id": replyTo, "chat": map[string]any{"id": chat}}
	}
	ok(w, res)
}

func (f *fakeTelegram) edit(w http.ResponseWriter, body map[string]any) {
	chat, msg, params := resolveChat(body["chat_id"])
	if msg != "" {
		fail(w, http.StatusBadRequest, msg, params)
		return
	}
	text, status := f.checkText(body)
	if status != "" {
		fail(w, http.StatusBadRequest, status, nil)
		return
	}
	id, _ := body["message_id"].(json.Number).Int64()
	m := f.msgs[id]
	switch {
	case m == nil || m.deleted || m.chat != chat:
		fail(w, http.StatusBadRequest, "Bad Request: message to edit not found", nil)
	case m.foreign:
		fail(w, http.StatusBadRequest, "Bad Request: message can't be edited", nil)
	case m.text == text:
		fail(w, http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", nil)
	default:
		m.text = text
		ok(w, map[string]any{"message_id": id, "chat": map[string]any{"id": chat}, "text": text, "edit_date": 1767225700})
	}
}

func (f *fakeTelegram) delete(w http.ResponseWriter, body map[string]any) {
	chat, msg, params := resolveChat(body["chat_id"])
	if msg != "" {
		fail(w, http.StatusBadRequest, msg, params)
		return
	}
	id, _ := body["message_id"].(json.Number).Int64()
	m := f.msgs[id]
	if m == nil || m.deleted || m.chat != chat {
		fail(w, http.StatusBadRequest, "Bad Request: message to delete not found", nil)
		return
	}
	m.deleted = true
	ok(w, true)
}

// resolveChat returns the numeric id of a chat_id the fake knows, or the
// error Telegram gives.
func resolveChat(v any) (int64, string, map[string]any) {
	var s string
	switch c := v.(type) {
	case json.Number:
		s = c.String()
	case string:
		s = c
	}
	switch s {
	case fakeChatID, fakeChatName:
		id, _ := strconv.ParseInt(fakeChatID, 10, 64)
		return id, "", nil
	case fakeOldGroup:
		to, _ := strconv.ParseInt(fakeSupergroup, 10, 64)
		return 0, "Bad Request: group chat was upgraded to a supergroup chat", map[string]any{"migrate_to_chat_id": to}
	}
	return 0, "Bad Request: chat not found", nil
}

// allowedTag reports whether Telegram's HTML parser accepts tag.
func allowedTag(tag string) bool {
	switch tag {
	case "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
		"blockquote", "tg-spoiler", "span", "tg-emoji":
		return true
	}
	return false
}

// checkText checks a message text as Telegram's HTML parser does, well
// enough to catch an unescaped '<', an unknown or unbalanced tag, and a
// text over 4096 UTF-16 code units once parsed.
func (f *fakeTelegram) checkText(body map[string]any) (string, string) {
	text, _ := body["text"].(string)
	if body["parse_mode"] != "HTML" {
		return "", "Bad Request: the fake expects parse_mode HTML"
	}
	var open []string
	for _, m := range f.tag.FindAllStringSubmatch(text, -1) {
		if !allowedTag(m[2]) {
			return "", fmt.Sprintf("Bad Request: can't parse entities: Unsupported start tag \"%s\"", m[2])
		}
		if m[1] == "" {
			open = append(open, m[2])
			continue
		}
		if len(open) == 0 || open[len(open)-1] != m[2] {
			return "", fmt.Sprintf("Bad Request: can't parse entities: Unexpected end tag \"%s\"", m[2])
		}
		open = open[:len(open)-1]
	}
	if len(open) > 0 {
		return "", "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"" + open[0] + "\""
	}
	stripped := f.tag.ReplaceAllString(text, "")
	if strings.ContainsAny(stripped, "<>") {
		return "", "Bad Request: can't parse entities: Unsupported start tag"
	}
	visible := html.UnescapeString(stripped)
	if strings.TrimSpace(visible) == "" {
		return "", "Bad Request: message text is empty"
	}
	if len(utf16.Encode([]rune(visible))) > 4096 {
		return "", "Bad Request: message is too long"
	}
	return text, ""
}

func ok(w http.ResponseWriter, result any) {
	providertest.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func fail(w http.ResponseWriter, code int, description string, params map[string]any) {
	body := map[string]any{"ok": false, "error_code": code, "description": description}
	if params != nil {
		body["parameters"] = params
	}
	providertest.WriteJSON(w, code, body)
}
