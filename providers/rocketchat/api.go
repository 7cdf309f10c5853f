package rocketchat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The REST API transport: chat.postMessage, chat.update, chat.delete and
// the reads TestChannel needs, authenticated with X-User-Id and
// X-Auth-Token, and the mapping of Rocket.Chat's answers to classified
// errors.
//
// Rocket.Chat answers {"success":true,…} or an HTTP error with
// {"success":false,"error":"…","errorType":"…"}. errorType, when present,
// is a code ("invalid-channel"); error is a code for plain errors
// ("error-not-allowed") and a sentence otherwise, sometimes ending in the
// code in brackets ("… [error-too-many-requests]"). Only codes go into
// error messages.

// reply is the part of a Rocket.Chat answer the provider reads.
type reply struct {
	Success   bool   `json:"success"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Message   struct {
		ID   string `json:"_id"`
		RID  string `json:"rid"`
		TMID string `json:"tmid"`
	} `json:"message"`
}

// code returns the reply's error code, or "" when it has none that is safe
// to quote.
func (r *reply) code() string {
	if c := providers.SafeCode(r.ErrorType); c != "" {
		return c
	}
	e := strings.TrimSpace(r.Error)
	if c := providers.SafeCode(strings.Trim(e, "[]")); c != "" {
		return c
	}
	if strings.HasSuffix(e, "]") {
		if i := strings.LastIndexByte(e, '['); i >= 0 {
			return providers.SafeCode(e[i+1 : len(e)-1])
		}
	}
	return ""
}

// postMessage sends n with chat.postMessage and returns the message id as
// the MessageID, the thread root (the tmid of a reply, the message itself
// otherwise) and the room id, which edits need.
func (p *Provider) postMessage(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	rep, err := p.call(ctx, t, http.MethodPost, "chat.postMessage", nil, formatMessage(n, optionsFor(t, n, modeAPI)), false)
	if err != nil {
		return nil, err
	}
	if rep.Message.ID == "" {
		return nil, &providers.Error{Message: "Rocket.Chat answered without the message"}
	}
	r := &providers.Receipt{MessageID: rep.Message.ID, ThreadID: rep.Message.TMID}
	if r.ThreadID == "" {
		r.ThreadID = rep.Message.ID
	}
	if rep.Message.RID != "" {
		r.Extra = map[string]string{extraRoom: rep.Message.RID}
	}
	return r, nil
}

// call sends one REST request to /api/v1/<method> with the bot's
// credentials and classifies the answer. query is added to the URL; body,
// when not nil, is sent as JSON. lookup marks a room or user lookup, whose
// 400 means the room or user does not exist.
func (p *Provider) call(ctx context.Context, t *providers.Target, method, endpoint string, query map[string]string, body any, lookup bool) (*reply, error) {
	base := strings.TrimSpace(t.Settings.String("api_base_url"))
	if base == "" {
		base = strings.TrimSpace(t.Settings.String("server_url"))
	}
	u := strings.TrimSuffix(base, "/") + "/api/v1/" + endpoint
	if len(query) > 0 {
		q := url.Values{}
		for k, v := range query {
			q.Set(k, v)
		}
		u += "?" + q.Encode()
	}
	var data []byte
	if body != nil {
		var err error
		if data, err = providers.EncodeJSON(body); err != nil {
			return nil, providers.Permanent("", nil, "encoding the Rocket.Chat request: %v", err)
		}
	}
	req, err := providers.NewRequest(ctx, method, u, data, "application/json")
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the Rocket.Chat server URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-User-Id", strings.TrimSpace(t.Settings.String("user_id")))
	req.Header.Set("X-Auth-Token", strings.TrimSpace(t.Settings.String("auth_token")))
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	var rep reply
	jsonErr := json.Unmarshal(resp.Body, &rep)
	if resp.Status >= 200 && resp.Status < 300 {
		switch {
		case jsonErr != nil:
			// A proxy's page or a wrong server URL; retryable, the engine
			// gives up after its attempts.
			return nil, &providers.Error{Status: resp.Status, Message: "Rocket.Chat answered a reply that is not JSON"}
		case !rep.Success:
			return &rep, p.classify(resp, rep.code(), keysFor(lookup))
		}
		return &rep, nil
	}
	return &rep, p.classify(resp, rep.code(), keysFor(lookup))
}

// keys are the error keys by status for one kind of call.
type keys struct {
	providers.StatusKeys
	// BadRequest is the key of a 400 without a known code; "" keeps the
	// generic key.
	BadRequest string
}

// keysFor returns the REST keys: 401 is a bad user id or token, 403 a
// missing permission, 404 a missing room. For a lookup a 400 means the
// room or user does not exist.
func keysFor(lookup bool) keys {
	k := keys{StatusKeys: providers.StatusKeys{
		Unauthorized: KeyInvalidToken,
		Forbidden:    KeyForbidden,
		NotFound:     KeyInvalidChannel,
	}}
	if lookup {
		k.BadRequest = KeyInvalidChannel
	}
	return k
}

// classify maps an answer that is not success to a classified error. The
// code decides where Rocket.Chat gives a known one:
//
//   - invalid-channel (the reference's), error-invalid-channel,
//     error-invalid-room, error-room-not-found, error-invalid-user →
//     KeyInvalidChannel (ErrChannelNotFound);
//   - error-not-allowed, not-allowed, error-action-not-allowed,
//     error-forbidden, forbidden, error-unauthorized, unauthorized,
//     error-message-impersonate… → KeyForbidden (ErrForbidden);
//   - error-too-many-requests → rate limited;
//
// and the status otherwise. A 429 waits for Retry-After when a proxy sent
// one, else until X-RateLimit-Reset, which Rocket.Chat sends as the epoch
// time in milliseconds when the quota resets.
func (p *Provider) classify(resp *providers.Response, code string, k keys) error {
	if resp.Status == http.StatusTooManyRequests || code == "error-too-many-requests" {
		msg := "Rocket.Chat answered HTTP " + strconv.Itoa(resp.Status)
		if code != "" {
			msg += " " + code
		}
		e := providers.RateLimited(providers.RetryAfter(resp.Header, p.resetAfter(resp.Header)), "%s", msg)
		// Rocket.Chat's limiter counts per user (or connection) and
		// method, whatever the room.
		e.Status, e.Scope = resp.Status, providers.LimitAccount
		return e
	}
	if resp.Status >= 500 {
		return providers.CheckStatus(resp, "Rocket.Chat", code, k.StatusKeys)
	}
	e := &providers.Error{Status: resp.Status, Permanent: true, Message: "Rocket.Chat error " + code}
	switch strings.TrimPrefix(code, "error-") {
	case "invalid-channel", "invalid-room", "room-not-found", "invalid-user":
		e.Key, e.Err = KeyInvalidChannel, providers.ErrChannelNotFound
	case "not-allowed", "action-not-allowed", "forbidden", "unauthorized", "message-impersonate":
		if resp.Status == http.StatusUnauthorized {
			e.Key, e.Err = KeyInvalidToken, providers.ErrUnauthorized
			break
		}
		e.Key, e.Err = KeyForbidden, providers.ErrForbidden
	}
	if e.Err != nil {
		return e
	}
	if resp.Status == http.StatusBadRequest && k.BadRequest != "" {
		e.Key, e.Err = k.BadRequest, providers.ErrChannelNotFound
		return e
	}
	if resp.Status >= 200 && resp.Status < 300 {
		// success:false in a 2xx, with an unknown code.
		return e
	}
	return providers.CheckStatus(resp, "Rocket.Chat", code, k.StatusKeys)
}

// resetAfter is the wait until X-RateLimit-Reset, an epoch time in
// milliseconds; 0 when it is absent, malformed or past, which leaves the
// wait to the engine.
func (p *Provider) resetAfter(h http.Header) time.Duration {
	ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64)
	if err != nil || ms <= 0 {
		return 0
	}
	return max(time.UnixMilli(ms).Sub(p.now()), 0)
}
