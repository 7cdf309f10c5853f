package providers

// HTTP plumbing shared by the providers' transports. Each helper does one
// small thing a provider would otherwise repeat: build a JSON request bound
// to ctx, send it and read a capped body, parse Retry-After, and turn the
// statuses every platform shares into classified errors. A provider maps
// its own error codes first and falls back to CheckStatus for the rest.
//
// Nothing here retries or sleeps (see Notifier), and no error built here
// carries a URL, a header or a response body: webhook URLs and tokens are
// secrets, and a platform may echo them back.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes caps how much of a response body a provider reads. Chat
// APIs answer a message post with a few hundred bytes; the cap stops a
// misbehaving or hostile endpoint from exhausting memory.
const MaxResponseBytes = 64 << 10

// UserAgent identifies the sidecar's requests to chat platforms and
// webhook receivers.
const UserAgent = "chatsidecar"

// Timeouts of the client NewOutboundClient builds. RequestTimeout bounds a
// whole request, body included; the engine's ctx may end it sooner. It is
// longer than the reference's 5 s Slack read timeout because a slow reply
// that arrives is better than a retry that posts the message twice.
const (
	RequestTimeout = 15 * time.Second
	DialTimeout    = 5 * time.Second
)

// EncodeJSON marshals v without escaping <, > and & as \u003c…, so bodies
// (and the golden files that pin them) read as the platform documents them.
// The result has no trailing newline, which matters for signed bodies.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// NewJSONRequest returns a POST of body to rawURL bound to ctx, with
// Content-Type application/json and the sidecar's User-Agent. body is
// already encoded so callers can sign exactly the bytes that are sent. A
// URL that does not parse is a configuration problem; the error says so
// without repeating the URL, which may hold a token.
func NewJSONRequest(ctx context.Context, rawURL string, body []byte) (*http.Request, error) {
	if body == nil {
		// NewRequest leaves the Content-Type out for a nil body; a JSON
		// request has always named it.
		body = []byte{}
	}
	return NewRequest(ctx, http.MethodPost, rawURL, body, "application/json")
}

// Rebase replaces the origin of rawURL with base, the api_base_url setting,
// keeping rawURL's path and query; a path in base is kept as a prefix, for
// proxies mounted under one. An empty base returns rawURL unchanged. This
// is how a provider whose channel or setting holds a full URL (an incoming
// webhook) is pointed at a fake or a proxy while its pattern stays strict.
func Rebase(rawURL, base string) (string, error) {
	if base == "" {
		return rawURL, nil
	}
	b, err := url.Parse(base)
	if err != nil || b.Scheme == "" || b.Host == "" {
		return "", &Error{Permanent: true, Err: ErrNotConfigured, Message: "api_base_url is not a valid URL"}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", &Error{Permanent: true, Err: ErrNotConfigured, Message: "invalid request URL"}
	}
	out := strings.TrimSuffix(b.Scheme+"://"+b.Host+b.EscapedPath(), "/") + u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// Response is a platform's reply, already read and closed. Body holds at
// most MaxResponseBytes.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with client and reads the reply. It returns an error only
// when no reply arrived (or its body could not be read): that error is
// retryable (unless the outbound policy refused the destination: then it
// is permanent, with KeyDestinationRefused, and wraps
// ErrDestinationRefused), wraps ctx.Err() when the request's context ended (so
// errors.Is(err, context.Canceled) holds), and its message leaves out the
// URL that net/http would otherwise include. Any status, 2xx or not, is a
// Response for the caller to classify.
func Do(client *http.Client, req *http.Request) (*Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, transportError(req.Context(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return nil, transportError(req.Context(), err)
	}
	// Drain a little more so the connection can be reused; give up on
	// anything larger rather than read an unbounded body.
	_, _ = io.CopyN(io.Discard, resp.Body, MaxResponseBytes)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// transportError classifies a failure to get a reply: retryable, except a
// destination the outbound policy refused, which no retry will change;
// and never quoting the request URL.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Message: "request abandoned: " + ctxErr.Error(), Err: ctxErr}
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		// The message names the kind of address, not the address or the
		// URL: the host may be part of a secret webhook URL.
		return &Error{Key: KeyDestinationRefused, Permanent: true, Message: refused.Error(), Err: ErrDestinationRefused}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := "request failed"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		msg = "request timed out"
	}
	return &Error{Message: msg + ": " + err.Error(), Err: err}
}

// ParseRetryAfter parses a Retry-After value, either delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), relative to now. ok is false when the value
// is absent or malformed. A date in the past gives 0.
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// RetryAfter returns the wait a response's Retry-After header asks for, or
// fallback when it has none or it does not parse. A fallback of 0 leaves
// the wait to the engine's default.
func RetryAfter(h http.Header, fallback time.Duration) time.Duration {
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
		return d
	}
	return fallback
}

// StatusKeys names a provider's error keys for the statuses every platform
// shares. An empty key leaves the engine to record the generic
// chat_integration.channel_exception.
type StatusKeys struct {
	Unauthorized string // 401
	Forbidden    string // 403
	NotFound     string // 404 and 410
	Rejected     string // any other 3xx or 4xx
}

// CheckStatus returns nil for a 2xx response and a classified *Error for
// anything else: 401 → ErrUnauthorized, 403 → ErrForbidden, 404 and 410 →
// ErrChannelNotFound (all permanent), 429 → rate limited with Retry-After,
// 408, 425 and 5xx → retryable, any other status → permanent. platform
// names the other side in the message ("Slack"); code is a short error
// code the provider extracted (see SafeCode) and may be empty. Providers
// check their platform's own codes first and call this for the rest.
func CheckStatus(r *Response, platform, code string, keys StatusKeys) error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s answered HTTP %d", platform, r.Status)
	if code != "" {
		msg += " " + code
	}
	e := &Error{Status: r.Status, Message: msg}
	switch {
	case r.Status == http.StatusTooManyRequests:
		e.RateLimited, e.RetryAfter = true, RetryAfter(r.Header, 0)
	case r.Status == http.StatusUnauthorized:
		e.Permanent, e.Key, e.Err = true, keys.Unauthorized, ErrUnauthorized
	case r.Status == http.StatusForbidden:
		e.Permanent, e.Key, e.Err = true, keys.Forbidden, ErrForbidden
	case r.Status == http.StatusNotFound || r.Status == http.StatusGone:
		e.Permanent, e.Key, e.Err = true, keys.NotFound, ErrChannelNotFound
	case r.Status == http.StatusRequestTimeout || r.Status == http.StatusTooEarly || r.Status >= 500:
		// Retryable: the platform may recover.
	default:
		e.Permanent, e.Key = true, keys.Rejected
	}
	return e
}

// SafeCode returns s trimmed when it looks like a platform error code (at
// most 64 letters, digits, '_', '.' or '-'), and "" otherwise. Use it before
// putting anything a platform sent into an error message, so a body that
// echoes a token or a URL never reaches the channel's lastError.
func SafeCode(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-'
		if !ok {
			return ""
		}
	}
	return s
}
