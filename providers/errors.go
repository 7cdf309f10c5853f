package providers

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels for the permanent failures every platform has. Providers wrap
// them in an *Error carrying the platform's error key.
var (
	// ErrUnauthorized means the platform rejected the credentials.
	ErrUnauthorized = errors.New("credentials rejected")
	// ErrChannelNotFound means the room, channel or webhook does not exist.
	ErrChannelNotFound = errors.New("channel not found")
	// ErrForbidden means the credentials are valid but may not post there.
	ErrForbidden = errors.New("not allowed to post")
	// ErrNotConfigured means the provider lacks a setting it needs.
	ErrNotConfigured = errors.New("provider not configured")
	// ErrDestinationRefused means the outbound policy refused to connect
	// to the destination: it resolved to a loopback, private, link-local or
	// otherwise non-public address, and the operator has not allowed
	// those (see NewOutboundClient).
	ErrDestinationRefused = errors.New("destination refused by the outbound policy")
	// ErrThreadNotFound means the platform refused a reply because the
	// thread's root message no longer exists (deleted on the platform).
	// It is permanent for that request, but the delivery engine answers
	// it by posting the message once more outside the thread; the new
	// message then becomes the topic's thread. Providers return it only
	// when the request carried a thread root.
	ErrThreadNotFound = errors.New("the thread the message replied to no longer exists")
)

// Error is a classified delivery failure. The delivery engine decides from
// it: a RateLimit snoozes without spending an attempt, Permanent fails at
// once and records Key on the channel, anything else is retried.
type Error struct {
	// Key is the stable error key the admin UI translates, as in the
	// reference ("chat_integration.provider.slack.errors.channel_not_found").
	Key string
	// Permanent errors will not succeed on retry (bad token, unknown room).
	Permanent bool
	// RateLimited errors ask the engine to wait RetryAfter (0 = engine's
	// default) before trying again.
	RateLimited bool
	RetryAfter  time.Duration
	// Scope is what a rate limit holds back: the channel (the zero
	// value), or every channel of the account when the platform limits
	// the bot or user as a whole.
	Scope LimitScope
	// Status is the HTTP status the platform answered, 0 if none.
	Status int
	// Message is a short, secret-free description for the channel's
	// lastError; never a raw response body that could echo a token.
	Message string
	// Err is the underlying error (a sentinel above, or a transport error).
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Key != "" && e.Message != "":
		return e.Key + ": " + e.Message
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Key
}

func (e *Error) Unwrap() error { return e.Err }

// LimitScope says what a platform's rate limit applies to, so the engine
// holds back just that: one channel, or all of them.
type LimitScope int

const (
	// LimitChannel: the platform limits each channel (room, chat,
	// webhook) on its own; the provider's other channels may go on.
	LimitChannel LimitScope = iota
	// LimitAccount: the platform limits the account (a bot token, a
	// user), whichever channel the request went to. Sending on to the
	// other channels would only collect more 429s, and some platforms
	// ban a client that collects too many (Discord: 10,000 invalid
	// requests in 10 minutes).
	LimitAccount
)

// ScopeOf returns the scope of a rate-limit error, LimitChannel for any
// other error or when the provider did not say.
func ScopeOf(err error) LimitScope {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Scope
	}
	return LimitChannel
}

// Permanent returns a permanent error with a key.
func Permanent(key string, sentinel error, format string, args ...any) *Error {
	return &Error{Key: key, Permanent: true, Err: sentinel, Message: fmt.Sprintf(format, args...)}
}

// RateLimited returns a rate-limit error asking to wait d.
func RateLimited(d time.Duration, format string, args ...any) *Error {
	return &Error{RateLimited: true, RetryAfter: d, Message: fmt.Sprintf(format, args...)}
}

// Classify reports how the engine should treat err: permanent, rate
// limited (with the wait), or retryable. A nil error is neither.
func Classify(err error) (permanent, rateLimited bool, retryAfter time.Duration) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Permanent, pe.RateLimited, pe.RetryAfter
	}
	if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrChannelNotFound) ||
		errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotConfigured) ||
		errors.Is(err, ErrDestinationRefused) || errors.Is(err, ErrThreadNotFound) {
		return true, false, 0
	}
	return false, false, 0
}

// ErrorKey returns the key to record on the channel for err; the
// reference's generic key when the provider gave none.
func ErrorKey(err error) string {
	var pe *Error
	if errors.As(err, &pe) && pe.Key != "" {
		return pe.Key
	}
	if errors.Is(err, ErrDestinationRefused) {
		return KeyDestinationRefused
	}
	return "chat_integration.channel_exception"
}
