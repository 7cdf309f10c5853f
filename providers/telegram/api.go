package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The Bot API transport: one JSON POST per method, and the mapping of
// Telegram's answers to classified errors.
//
// Telegram answers {"ok":true,"result":…} or {"ok":false,"error_code":N,
// "description":"…","parameters":{"retry_after":S,"migrate_to_chat_id":ID}}
// where error_code repeats the HTTP status. Classification uses, in order,
// the stable fields: parameters.migrate_to_chat_id, then error_code (or the
// HTTP status when the body is not Telegram's JSON), then
// parameters.retry_after. Only a 400 needs the description, because
// Telegram gives every invalid request the same code (see badRequest).

// extraChat is the Receipt.Extra key of the numeric chat id Telegram
// resolved when posting; a channel's chat_id may be an @username, and a
// numeric id survives the channel being renamed.
const extraChat = "chat"

// apiReply is a Bot API answer.
type apiReply struct {
	OK          *bool           `json:"ok"` // nil: not a Bot API answer
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// message is the part of a sent Message the provider reads.
type message struct {
	MessageID int64 `json:"message_id"`
	Chat      struct {
		ID int64 `json:"id"`
	} `json:"chat"`
	ReplyTo *struct {
		MessageID int64 `json:"message_id"`
	} `json:"reply_to_message"`
}

// apiError is a classified Bot API failure that keeps Telegram's 400
// reason, so Edit and Delete can accept the harmless ones.
type apiError struct {
	err    *providers.Error
	reason badRequest
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// isBadRequest reports whether err is a 400 of the given reason.
func isBadRequest(err error, reason badRequest) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.reason == reason
}

// call POSTs body to the Bot API method and decodes the result into out
// when out is not nil.
func (p *Provider) call(ctx context.Context, t *providers.Target, method string, body, out any) error {
	token := strings.TrimSpace(t.Settings.String("access_token"))
	if token == "" {
		return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "Telegram needs a bot token")
	}
	base := strings.TrimSuffix(t.Settings.String("api_base_url"), "/")
	if base == "" {
		base = defaultAPIBase
	}
	data, err := providers.EncodeJSON(body)
	if err != nil {
		return providers.Permanent("", nil, "encoding the Telegram request: %v", err)
	}
	req, err := providers.NewJSONRequest(ctx, base+"/bot"+token+"/"+method, data)
	if err != nil {
		return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "api_base_url is not a valid URL")
	}
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return err
	}
	reply, err := parseReply(resp, token)
	if err != nil {
		return err
	}
	if out != nil {
		// The request succeeded; a result this provider cannot read
		// leaves out zero (Notify then returns a receipt without a
		// message id) rather than failing a message that was posted.
		_ = json.Unmarshal(reply.Result, out)
	}
	return nil
}

// statusKeys are the keys for an answer that is not Telegram's JSON (a
// proxy's error page).
func statusKeys() providers.StatusKeys {
	return providers.StatusKeys{Unauthorized: KeyInvalidToken, Forbidden: KeyForbidden, NotFound: KeyInvalidToken}
}

// parseReply classifies a Bot API response and returns the reply when it
// is a success.
func parseReply(resp *providers.Response, token string) (*apiReply, error) {
	var reply apiReply
	if json.Unmarshal(resp.Body, &reply) != nil || reply.OK == nil {
		if resp.Status >= 200 && resp.Status < 300 {
			// A 200 that is not the Bot API's JSON: a captive proxy or a
			// wrong api_base_url. Retryable; the engine gives up in time.
			return nil, &providers.Error{Status: resp.Status, Message: "Telegram answered a reply that is not Bot API JSON"}
		}
		if resp.Status == http.StatusNotFound {
			return nil, notFound(resp.Status, "")
		}
		return nil, providers.CheckStatus(resp, "Telegram", "", statusKeys())
	}
	if *reply.OK {
		return &reply, nil
	}
	if reply.ErrorCode < 300 {
		// ok:false without a usable code: a refusal all the same, and
		// the description decides as for any 400.
		reply.ErrorCode = http.StatusBadRequest
	}
	return nil, classify(resp, &reply, token)
}

// classify maps a Bot API error reply to a classified error.
func classify(resp *providers.Response, reply *apiReply, token string) error {
	code := reply.ErrorCode
	desc := redact(reply.Description, token)
	msg := fmt.Sprintf("Telegram error %d", code)
	if desc != "" {
		msg += ": " + desc
	}
	e := &providers.Error{Status: resp.Status, Message: msg}
	switch {
	case reply.Parameters.MigrateToChatID != 0:
		// A group upgraded to a supergroup keeps its members but gets a
		// new id; every message to the old one fails until the admin
		// changes the channel, so this is permanent. The new id is not a
		// secret, and is exactly what the admin needs.
		e.Permanent, e.Key, e.Err = true, KeyChatMigrated, providers.ErrChannelNotFound
		e.Message = fmt.Sprintf("the Telegram group became a supergroup; set the channel's chat_id to %d", reply.Parameters.MigrateToChatID)
	case code == http.StatusTooManyRequests || reply.Parameters.RetryAfter > 0:
		// Telegram does not say which limit it was. The engine keeps
		// each chat under its own limit, so it is most likely the bot's
		// overall one (about 30 messages a second): every chat waits.
		e.RateLimited, e.Scope = true, providers.LimitAccount
		e.RetryAfter = providers.RetryAfter(resp.Header, 0)
		if s := reply.Parameters.RetryAfter; s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	case code == http.StatusUnauthorized:
		e.Permanent, e.Key, e.Err = true, KeyInvalidToken, providers.ErrUnauthorized
	case code == http.StatusNotFound:
		return notFound(resp.Status, desc)
	case code == http.StatusForbidden:
		// "Forbidden: bot was blocked by the user", "bot is not a member
		// of the channel chat", "bot was kicked from the group chat", …
		e.Permanent, e.Key, e.Err = true, KeyForbidden, providers.ErrForbidden
	case code == http.StatusBadRequest:
		reason := badRequestReason(reply.Description)
		e.Permanent = true
		switch reason {
		case badRequestChatNotFound:
			e.Key, e.Err = KeyChannelNotFound, providers.ErrChannelNotFound
		case badRequestNoRights:
			e.Key, e.Err = KeyForbidden, providers.ErrForbidden
		}
		// Anything else (entities that do not parse, a message too long,
		// an edit of a message that is gone) would fail the same way
		// again: permanent with the generic key.
		return &apiError{err: e, reason: reason}
	case code >= 500 || code == http.StatusRequestTimeout:
		// Telegram's own trouble: retryable.
	default:
		// 409 and other 4xx: the request itself is wrong.
		e.Permanent = true
	}
	return e
}

// notFound is the Bot API's answer to a path it does not know. The
// methods are fixed, so it means the token is not a bot's (or api_base_url
// points somewhere that is not a Bot API server): Telegram answers an
// unknown chat with 400, never 404.
func notFound(status int, desc string) error {
	msg := "Telegram answered 404: the bot token or api_base_url is wrong"
	if desc != "" {
		msg += " (" + desc + ")"
	}
	return &providers.Error{Status: status, Permanent: true, Key: KeyInvalidToken, Err: providers.ErrUnauthorized, Message: msg}
}

// badRequest is why Telegram refused a request with error code 400.
type badRequest int

const (
	badRequestOther badRequest = iota
	// badRequestChatNotFound: the chat does not exist, or the bot has
	// never been in it.
	badRequestChatNotFound
	// badRequestNoRights: the bot is in the chat but may not post there.
	badRequestNoRights
	// badRequestNotModified: an edit that changes nothing.
	badRequestNotModified
	// badRequestMessageGone: the message to edit or delete no longer
	// exists.
	badRequestMessageGone
)

// badRequestReason reads the reason of a 400 from its description.
//
// This is the one place the provider matches Telegram's free text, and
// only because the Bot API leaves no other signal: every invalid request
// has error_code 400 and no sub-code, so "chat not found" and "message is
// not modified" differ only in their description. The phrases are those
// Telegram has sent for years; matching is case-insensitive and on a
// fragment, so a changed prefix ("Bad Request: ") or suffix does not break
// it, and an unknown wording falls back to a permanent failure with the
// generic key, which is still correct, only less specific.
func badRequestReason(description string) badRequest {
	d := strings.ToLower(description)
	switch {
	case strings.Contains(d, "chat not found"):
		return badRequestChatNotFound
	case strings.Contains(d, "not enough rights"), strings.Contains(d, "need administrator rights"),
		strings.Contains(d, "have no rights to send"), strings.Contains(d, "chat_write_forbidden"):
		return badRequestNoRights
	case strings.Contains(d, "message is not modified"):
		return badRequestNotModified
	case strings.Contains(d, "message to edit not found"), strings.Contains(d, "message to delete not found"):
		return badRequestMessageGone
	}
	return badRequestOther
}

// maxDescription bounds how much of Telegram's description an error
// message quotes.
const maxDescription = 200

// redact makes Telegram's description fit for the channel's lastError:
// one line, at most maxDescription characters, and never the token, even
// if some proxy were to echo the request path.
func redact(desc, token string) string {
	_, secret, _ := strings.Cut(token, ":")
	if (token != "" && strings.Contains(desc, token)) || (secret != "" && strings.Contains(desc, secret)) {
		return ""
	}
	desc = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(desc))
	if r := []rune(desc); len(r) > maxDescription {
		desc = string(r[:maxDescription]) + "…"
	}
	return desc
}
