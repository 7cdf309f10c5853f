package discourse

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels for the outcomes callers branch on. Test with errors.Is; the
// concrete error is usually an *APIError or *EnqueuedError that also
// carries what Discourse said.
var (
	// ErrNotFound: the topic, post, user or group does not exist or is
	// deleted (HTTP 404). Discourse also answers 404 for things the API
	// user may not see in some places, so it is not proof of absence.
	ErrNotFound = errors.New("discourse: not found")
	// ErrForbidden: HTTP 403, which Discourse uses both for a bad API key
	// or username (error_type invalid_access or not_logged_in) and for a
	// resource the API user may not read. Retrying will not help; fix the
	// credentials or the key's scopes.
	ErrForbidden = errors.New("discourse: forbidden")
	// ErrEnqueued: Discourse accepted the post but holds it for moderator
	// approval, so no post exists yet. Not a failure to retry.
	ErrEnqueued = errors.New("discourse: post enqueued for review")
)

// DefaultRetryAfter is the wait a *RateLimitError reports when Discourse's
// answer names none: long enough to leave both Discourse limiters' short
// windows (10 s per IP, 60 s per key averaged) without stalling a queue.
const DefaultRetryAfter = 10 * time.Second

// maxMessageLen caps each server message kept in an error, so a proxy's
// error page cannot flood logs or the admin UI.
const maxMessageLen = 300

// APIError is any non-2xx answer other than 429: a 422 validation failure
// (Messages holds Discourse's errors array), a 400, a 5xx, a 3xx the
// client refused to follow. It satisfies errors.Is(err, ErrNotFound) for
// 404 and errors.Is(err, ErrForbidden) for 403, so callers can branch on
// the sentinel and still read the messages with errors.As.
type APIError struct {
	Status int
	// Type is Discourse's error_type ("invalid_parameters",
	// "record_invalid", …), empty when the body had none.
	Type string
	// Messages are the errors array (or the first line of a plain-text
	// body). They come from Discourse and never include the API key.
	Messages []string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// Is maps statuses to the package sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// Temporary reports whether the same request may succeed later without
// a change on our side: 5xx, 408 and 425. The client still never retries;
// this is for the caller's retry policy.
func (e *APIError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooEarly
}

// RateLimitError is HTTP 429 from either of Discourse's limiters: the
// application one (JSON, error_type rate_limit) or the request-tracker
// middleware (plain text). The caller should wait RetryAfter and try
// again without counting it as a failed attempt.
type RateLimitError struct {
	// RetryAfter comes from the Retry-After header, else extras.wait_seconds,
	// else "retry again in N seconds" in a text body, else DefaultRetryAfter.
	RetryAfter time.Duration
	// Code names the limiter that fired (Discourse-Rate-Limit-Error-Code,
	// e.g. ip_10_secs_limit) when Discourse says; often empty.
	Code string
}

func (e *RateLimitError) Error() string {
	s := "rate limited, retry after " + e.RetryAfter.String()
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// EnqueuedError is CreatePost's outcome when the post waits for approval.
// errors.Is(err, ErrEnqueued) holds.
type EnqueuedError struct {
	// PendingPostID is the reviewable's id, 0 if Discourse did not say.
	PendingPostID int64
	// PendingCount is how many of the user's posts await review.
	PendingCount int
}

func (e *EnqueuedError) Error() string {
	if e.PendingPostID != 0 {
		return fmt.Sprintf("post enqueued for review (pending post %d)", e.PendingPostID)
	}
	return "post enqueued for review"
}

// Is makes errors.Is(err, ErrEnqueued) hold.
func (e *EnqueuedError) Is(target error) bool { return target == ErrEnqueued }

// errorBody is Discourse's error JSON (JsonError#create_errors_json):
// {"errors":[…],"error_type":"…","extras":{…}}.
type errorBody struct {
	Errors    json.RawMessage `json:"errors"`
	ErrorType string          `json:"error_type"`
	Extras    struct {
		WaitSeconds float64 `json:"wait_seconds"`
	} `json:"extras"`
}

// statusError turns a non-2xx answer into an error value. body may be
// truncated; whatever parses is used.
func statusError(status int, h http.Header, body []byte) error {
	if status == http.StatusTooManyRequests {
		return rateLimitError(h, body)
	}
	e := &APIError{Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Type = eb.ErrorType
		e.Messages = messages(eb.Errors)
	} else if isPlainText(h) {
		if line := firstLine(string(body)); line != "" {
			e.Messages = []string{line}
		}
	}
	return e
}

// messages reads an errors value: normally an array of strings, sometimes
// a single string.
func messages(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	var out []string
	for _, r := range list {
		var s string
		if json.Unmarshal(r, &s) == nil && strings.TrimSpace(s) != "" {
			out = append(out, truncate(strings.TrimSpace(s)))
		}
	}
	return out
}

// rateLimitError reads the wait from the first source that has one; see
// RateLimitError.RetryAfter for the order. Retry-After is taken as
// delay-seconds only, which is what both Discourse limiters send.
func rateLimitError(h http.Header, body []byte) *RateLimitError {
	e := &RateLimitError{RetryAfter: DefaultRetryAfter, Code: strings.TrimSpace(h.Get("Discourse-Rate-Limit-Error-Code"))}
	text := string(body)
	if e.Code == "" {
		e.Code = errorCode(text)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && n > 0 {
		e.RetryAfter = time.Duration(n) * time.Second
		return e
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Extras.WaitSeconds > 0 {
		e.RetryAfter = time.Duration(eb.Extras.WaitSeconds * float64(time.Second))
		return e
	}
	if n, ok := numberAfter(text, "retry again in "); ok && n > 0 {
		e.RetryAfter = time.Duration(n) * time.Second
	}
	return e
}

// errorCode extracts the code from the middleware limiter's text body
// ("…\nError code: ip_10_secs_limit.\n").
func errorCode(text string) string {
	const marker = "error code: "
	i := strings.Index(strings.ToLower(text), marker)
	if i < 0 {
		return ""
	}
	rest := text[i+len(marker):]
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
	if end < 0 {
		end = len(rest)
	}
	if end > 64 {
		return ""
	}
	return rest[:end]
}

// numberAfter parses the decimal number that follows marker (matched
// case-insensitively) in text.
func numberAfter(text, marker string) (int, bool) {
	i := strings.Index(strings.ToLower(text), marker)
	if i < 0 {
		return 0, false
	}
	rest := text[i+len(marker):]
	end := 0
	for end < len(rest) && end < 9 && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return n, err == nil
}

func isPlainText(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/plain"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return truncate(s)
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	// Cut on a rune boundary.
	cut := maxMessageLen
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
