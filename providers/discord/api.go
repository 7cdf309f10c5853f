package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The webhook transport: Execute, Edit and Delete Webhook Message and Get
// Webhook with Token, and the mapping of Discord's answers to classified
// errors.
//
// Discord answers an error with an HTTP status and a JSON body
// {"message":"…","code":N}; a 429 carries {"message":"You are being rate
// limited.","retry_after":1.5,"global":false} and the X-RateLimit-* and
// Retry-After headers. Classification uses the JSON code where it says
// more than the status (220001, 10003, 10008, 10015), and the status
// otherwise.

// Discord's JSON error codes the provider acts on (discord-api-docs,
// "JSON Error Codes").
const (
	codeUnknownChannel   = 10003  // a thread_id that names no thread
	codeUnknownMessage   = 10008  // the message to change is gone
	codeUnknownWebhook   = 10015  // the webhook was deleted
	codeForumNeedsThread = 220001 // "Webhooks posted to forum channels must have a thread_name or thread_id"
)

// extraThread is the Receipt.Extra key of the thread a message was posted
// in: Edit and Delete Webhook Message find a message in a thread only with
// ?thread_id=.
const extraThread = "thread"

// maxMessage bounds how much of Discord's error message an error quotes.
const maxMessage = 120

// hook is a channel's webhook, split into what every endpoint shares.
type hook struct {
	// base is …/webhooks/<id>/<token> at api_base_url's origin.
	base string
	// query is the admin's query (thread_id, …) without wait, which this
	// provider sets itself.
	query url.Values
	// secret is the webhook's token, for redacting error messages.
	secret string
}

// pinned reports whether the admin's URL sends every message to one
// thread (?thread_id=…), which leaves no room for a thread per topic.
func (h hook) pinned() bool { return h.query.Get("thread_id") != "" }

// executeURL is the Execute Webhook URL: wait=true so Discord answers the
// message, the admin's query, and thread when it is not empty.
func (h hook) executeURL(thread string) string {
	q := cloneQuery(h.query)
	q.Set("wait", "true")
	if thread != "" {
		q.Set("thread_id", thread)
	}
	return h.base + "?" + q.Encode()
}

// messageURL is the URL of the message r names, with the thread it is in.
func (h hook) messageURL(r *providers.Receipt) string {
	q := cloneQuery(h.query)
	if th := r.Extra[extraThread]; th != "" && !h.pinned() {
		q.Set("thread_id", th)
	}
	u := h.base + "/messages/" + url.PathEscape(r.MessageID)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func cloneQuery(q url.Values) url.Values {
	out := make(url.Values, len(q)+2)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// hookOf reads t's webhook URL, at api_base_url's origin when that is set.
// The parameter's pattern checks only the prefix, as the reference's does;
// the path must end in /webhooks/<id>/<token> because the message
// endpoints are built on it.
func (p *Provider) hookOf(t *providers.Target) (hook, error) {
	raw := strings.TrimSpace(t.Data["webhook_url"])
	if raw == "" {
		return hook{}, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the channel has no webhook URL")
	}
	rebased, err := providers.Rebase(raw, t.Settings.String("api_base_url"))
	if err != nil {
		return hook{}, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "api_base_url is not a valid URL")
	}
	u, err := url.Parse(rebased)
	var m []string
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		m = p.hookPath.FindStringSubmatch(u.EscapedPath())
	}
	if m == nil {
		return hook{}, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"the webhook URL must be https://discord.com/api/webhooks/<id>/<token>")
	}
	q := u.Query()
	q.Del("wait")
	return hook{
		base:   u.Scheme + "://" + u.Host + m[1],
		query:  q,
		secret: m[1][strings.LastIndexByte(m[1], '/')+1:],
	}, nil
}

// sentMessage is the part of a message object the provider reads.
type sentMessage struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
}

// execute posts m, into thread when it is not empty, and returns the
// message Discord created. A 2xx whose body cannot be read returns an
// empty message: it was posted, and posting it again would duplicate it.
func (p *Provider) execute(ctx context.Context, h hook, m message, thread string) (*sentMessage, error) {
	body, err := providers.EncodeJSON(m)
	if err != nil {
		return nil, providers.Permanent("", nil, "encoding the Discord message: %v", err)
	}
	resp, err := p.send(ctx, http.MethodPost, h.executeURL(thread), body, h.secret)
	if err != nil {
		return nil, err
	}
	var sent sentMessage
	if json.Unmarshal(resp.Body, &sent) != nil {
		return &sentMessage{}, nil
	}
	return &sent, nil
}

// send sends one request and classifies the answer; body nil sends none.
func (p *Provider) send(ctx context.Context, method, rawURL string, body []byte, secret string) (*providers.Response, error) {
	req, err := providers.NewRequest(ctx, method, rawURL, body, "application/json")
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the webhook URL is not valid")
	}
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	if err := classify(resp, secret); err != nil {
		return resp, err
	}
	return resp, nil
}

// apiError is a classified Discord failure that keeps Discord's JSON
// code, so Notify and Delete can act on the codes that are not failures
// for them.
type apiError struct {
	err  *providers.Error
	code int
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// hasCode reports whether err is Discord's answer with JSON code code.
func hasCode(err error, code int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.code == code
}

// errorBody is Discord's JSON error.
type errorBody struct {
	Message    string   `json:"message"`
	Code       int      `json:"code"`
	RetryAfter *float64 `json:"retry_after"`
	Global     bool     `json:"global"`
}

// classify returns nil for a 2xx and a classified error otherwise:
//
//   - 429 → rate limited for retry_after (float seconds), else
//     X-RateLimit-Reset-After, else Retry-After; for the whole account
//     when it is the global limit (globalLimit);
//   - 220001 → permanent (Notify negotiates it before it gets here);
//   - 401 (50027 Invalid Webhook Token) → KeyInvalidWebhook
//     (ErrUnauthorized);
//   - 403 → KeyForbidden (ErrForbidden);
//   - 10003 Unknown Channel → KeyUnknownThread (ErrChannelNotFound): the
//     thread in the URL's thread_id is gone;
//   - 10008 Unknown Message → permanent with the generic key (Delete
//     counts it as done);
//   - any other 404 (10015 Unknown Webhook) → KeyUnknownWebhook
//     (ErrChannelNotFound);
//   - 408 and 5xx → retryable;
//   - anything else (400 50035 Invalid Form Body, a redirect) →
//     permanent with the generic key: the same request would fail again.
func classify(resp *providers.Response, secret string) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	var body errorBody
	if json.Unmarshal(resp.Body, &body) != nil {
		body = errorBody{}
	}
	msg := fmt.Sprintf("Discord answered HTTP %d", resp.Status)
	if body.Code != 0 {
		msg += fmt.Sprintf(" code %d", body.Code)
	}
	if s := redact(body.Message, secret); s != "" {
		msg += ": " + s
	}
	e := &providers.Error{Status: resp.Status, Message: msg}
	switch {
	case resp.Status == http.StatusTooManyRequests:
		e.RateLimited, e.RetryAfter = true, retryAfter(resp, body)
		if globalLimit(resp, body) {
			e.Scope = providers.LimitAccount
			e.Message += " (global limit)"
		}
	case body.Code == codeForumNeedsThread:
		e.Permanent = true
	case resp.Status == http.StatusUnauthorized:
		e.Permanent, e.Key, e.Err = true, KeyInvalidWebhook, providers.ErrUnauthorized
	case resp.Status == http.StatusForbidden:
		e.Permanent, e.Key, e.Err = true, KeyForbidden, providers.ErrForbidden
	case body.Code == codeUnknownChannel:
		e.Permanent, e.Key, e.Err = true, KeyUnknownThread, providers.ErrChannelNotFound
	case body.Code == codeUnknownMessage:
		e.Permanent = true
	case resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
		e.Permanent, e.Key, e.Err = true, KeyUnknownWebhook, providers.ErrChannelNotFound
	case resp.Status == http.StatusRequestTimeout || resp.Status >= 500:
		// Discord's or Cloudflare's trouble: retryable.
	default:
		e.Permanent = true
	}
	return &apiError{err: e, code: body.Code}
}

// globalLimit reports whether a 429 is Discord's global limit, which holds
// back every webhook this sidecar calls, not just the one called: the
// body's global flag or the headers say so, or the reply is not Discord's
// JSON at all but Cloudflare's page, which limits the client's address.
func globalLimit(resp *providers.Response, body errorBody) bool {
	return body.Global || resp.Header.Get("X-RateLimit-Global") != "" ||
		strings.EqualFold(strings.TrimSpace(resp.Header.Get("X-RateLimit-Scope")), "global") ||
		(body.Message == "" && body.RetryAfter == nil)
}

// retryAfter is the wait a 429 asks for. The body's retry_after has
// millisecond precision and is preferred; a Cloudflare 429 (an HTML page)
// has only the headers. 0 leaves the wait to the engine.
func retryAfter(resp *providers.Response, body errorBody) time.Duration {
	if body.RetryAfter != nil && *body.RetryAfter > 0 {
		return seconds(*body.RetryAfter)
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset-After")), 64); err == nil && f > 0 {
		return seconds(f)
	}
	return providers.RetryAfter(resp.Header, 0)
}

// seconds converts Discord's float seconds to a duration rounded to the
// millisecond, its precision; absurd values are capped at a day.
func seconds(f float64) time.Duration {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	ms := math.Round(min(f, 86400) * 1000)
	return time.Duration(ms) * time.Millisecond
}

// redact makes Discord's error message fit for the channel's lastError:
// one line, at most maxMessage characters, and nothing that could carry
// the webhook's token or URL.
func redact(msg, secret string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" || (secret != "" && strings.Contains(msg, secret)) || strings.Contains(msg, "://") {
		return ""
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage]) + "…"
	}
	return msg
}
