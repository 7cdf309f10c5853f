package zulip

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The REST transport: form-encoded requests to /api/v1 with HTTP Basic auth
// (the bot's email address and API key), and the mapping of Zulip's
// answers to classified errors.
//
// Zulip answers {"result":"success","msg":"",…} or an HTTP error with
// {"result":"error","msg":"…","code":"…"}. msg is translated and may quote
// names, so only code goes into error messages.

// reply is the part of a Zulip answer the provider reads.
type reply struct {
	Result string `json:"result"`
	Code   string `json:"code"`
	ID     int64  `json:"id"`
	// RetryAfter is the wait of a RATE_LIMIT_HIT, in seconds.
	RetryAfter float64 `json:"retry-after"`
}

// sendMessage posts n and returns the message id as the MessageID and the
// topic it went to as the ThreadID.
func (p *Provider) sendMessage(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	m := format(n, optionsFor(t, n))
	rep, err := p.call(ctx, t, http.MethodPost, "messages", m.fields(), false)
	if err != nil {
		return nil, err
	}
	if rep.ID == 0 {
		return nil, &providers.Error{Message: "Zulip answered without a message id"}
	}
	return &providers.Receipt{MessageID: strconv.FormatInt(rep.ID, 10), ThreadID: m.Topic}, nil
}

// updateMessage replaces the content of message id with n's.
func (p *Provider) updateMessage(ctx context.Context, t *providers.Target, id string, n *providers.Notification) error {
	_, err := p.call(ctx, t, http.MethodPatch, "messages/"+url.PathEscape(id),
		map[string]string{"content": formatContent(n, optionsFor(t, n))}, false)
	return err
}

// deleteMessage deletes message id.
func (p *Provider) deleteMessage(ctx context.Context, t *providers.Target, id string) error {
	_, err := p.call(ctx, t, http.MethodDelete, "messages/"+url.PathEscape(id), nil, false)
	return err
}

// formValues encodes fields as a form, in key order.
func formValues(fields map[string]string) string {
	v := url.Values{}
	for k, s := range fields {
		v.Set(k, s)
	}
	return v.Encode()
}

// call sends one request to /api/v1/<path> and classifies the answer. form,
// when not nil, is the form-encoded body. lookup marks a stream lookup,
// whose BAD_REQUEST means the stream does not exist for the bot.
func (p *Provider) call(ctx context.Context, t *providers.Target, method, path string, form map[string]string, lookup bool) (*reply, error) {
	base := strings.TrimSpace(t.Settings.String("api_base_url"))
	if base == "" {
		base = strings.TrimSpace(t.Settings.String("server"))
	}
	var body []byte
	if form != nil {
		body = []byte(formValues(form))
	}
	req, err := providers.NewRequest(ctx, method, strings.TrimSuffix(base, "/")+"/api/v1/"+path, body, "application/x-www-form-urlencoded")
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the Zulip server URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(strings.TrimSpace(t.Settings.String("bot_email_address")), strings.TrimSpace(t.Settings.String("bot_api_key")))
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	var rep reply
	jsonErr := json.Unmarshal(resp.Body, &rep)
	if resp.Status >= 200 && resp.Status < 300 {
		if jsonErr != nil || rep.Result != "success" {
			// A proxy's page or a wrong server URL; retryable, the engine
			// gives up after its attempts.
			return nil, &providers.Error{Status: resp.Status, Message: "Zulip answered a reply that is not a success"}
		}
		return &rep, nil
	}
	return &rep, p.classify(resp, &rep, lookup)
}

// statusKeys are the keys by status when Zulip gives no known code: 401 is
// rejected credentials, 403 a bot that may not do this (Zulip's "Access
// denied").
func statusKeys() providers.StatusKeys {
	return providers.StatusKeys{
		Unauthorized: KeyUnauthorized,
		Forbidden:    KeyForbidden,
	}
}

// classify maps an error answer to a classified error. The code decides
// where Zulip gives a known one (zerver/lib/exceptions.py):
//
//   - RATE_LIMIT_HIT (429) → rate limited;
//   - UNAUTHORIZED, INVALID_API_KEY, UNAUTHENTICATED_USER,
//     AUTHENTICATION_FAILED, USER_DEACTIVATED, REALM_DEACTIVATED →
//     KeyUnauthorized (ErrUnauthorized);
//   - STREAM_DOES_NOT_EXIST → KeyDoesNotExist (ErrChannelNotFound), the
//     reference's does_not_exist;
//   - UNAUTHORIZED_PRINCIPAL → KeyForbidden (ErrForbidden);
//   - NONEXISTENT_SUBDOMAIN, or a 404 without a code →
//     KeyNotConfigured (ErrNotConfigured): the server URL is wrong;
//
// and the status otherwise (5xx retryable, other 4xx permanent).
func (p *Provider) classify(resp *providers.Response, rep *reply, lookup bool) error {
	code := providers.SafeCode(rep.Code)
	if resp.Status == http.StatusTooManyRequests || code == "RATE_LIMIT_HIT" {
		msg := "Zulip answered HTTP " + strconv.Itoa(resp.Status)
		if code != "" {
			msg += " " + code
		}
		e := providers.RateLimited(p.retryAfter(resp.Header, rep), "%s", msg)
		// Zulip limits each user's API requests, whatever the stream.
		e.Status, e.Scope = resp.Status, providers.LimitAccount
		return e
	}
	if resp.Status >= 500 {
		return providers.CheckStatus(resp, "Zulip", code, statusKeys())
	}
	e := &providers.Error{Status: resp.Status, Permanent: true, Message: "Zulip error " + code}
	switch code {
	case "UNAUTHORIZED", "INVALID_API_KEY", "UNAUTHENTICATED_USER", "AUTHENTICATION_FAILED",
		"USER_DEACTIVATED", "REALM_DEACTIVATED":
		e.Key, e.Err = KeyUnauthorized, providers.ErrUnauthorized
	case "STREAM_DOES_NOT_EXIST":
		e.Key, e.Err = KeyDoesNotExist, providers.ErrChannelNotFound
	case "UNAUTHORIZED_PRINCIPAL":
		e.Key, e.Err = KeyForbidden, providers.ErrForbidden
	case "NONEXISTENT_SUBDOMAIN":
		e.Key, e.Err = KeyNotConfigured, providers.ErrNotConfigured
	default:
		if resp.Status == http.StatusNotFound {
			// Zulip has no 404 for a missing stream or message (those
			// are 400s), so a 404 is a server URL that is not Zulip's API.
			e.Key, e.Err = KeyNotConfigured, providers.ErrNotConfigured
			break
		}
		if lookup && resp.Status == http.StatusBadRequest {
			// get_stream_id answers BAD_REQUEST ("Invalid channel name")
			// for a stream that does not exist or that the bot cannot see.
			e.Key, e.Err = KeyDoesNotExist, providers.ErrChannelNotFound
		}
	}
	if e.Err != nil {
		return e
	}
	return providers.CheckStatus(resp, "Zulip", code, statusKeys())
}

// retryAfter is the wait of a rate limit: the Retry-After header, else the
// body's retry-after, else the time until X-RateLimit-Reset (an epoch time
// in seconds), else 0, which leaves the wait to the engine. Zulip sends
// fractional seconds in both Retry-After and retry-after ("28.7"), which
// are rounded up to a millisecond.
func (p *Provider) retryAfter(h http.Header, rep *reply) time.Duration {
	header := strings.TrimSpace(h.Get("Retry-After"))
	if d, ok := providers.ParseRetryAfter(header, p.now()); ok {
		return d
	}
	if secs, err := strconv.ParseFloat(header, 64); err == nil {
		if d, ok := seconds(secs); ok {
			return d
		}
	}
	if d, ok := seconds(rep.RetryAfter); ok {
		return d
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 64); err == nil && secs > 0 && secs < math.MaxInt64/1e9 {
		return max(time.Unix(int64(math.Ceil(secs)), 0).Sub(p.now()), 0)
	}
	return 0
}

// seconds converts a positive, sane number of seconds to a duration rounded
// up to a millisecond.
func seconds(secs float64) (time.Duration, bool) {
	if !(secs > 0) || secs > math.MaxInt32 {
		return 0, false
	}
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond, true
}
