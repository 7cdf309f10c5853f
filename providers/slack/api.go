package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The Web API transport: chat.postMessage, chat.update, chat.delete and
// auth.test, all as JSON POSTs with the bot token as a Bearer header, and
// the mapping of Slack's answers to classified errors.

// extraChannel is the Receipt.Extra key of the channel id Slack resolved
// when posting; chat.update and chat.delete need the id, not a name.
const extraChannel = "channel"

// apiReply is the part of a Web API reply the provider reads. Slack
// answers HTTP 200 for application errors, with ok false and a code in
// error.
type apiReply struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Message struct {
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
}

// apiStatusKeys are the keys for HTTP statuses the Web API rarely uses
// (it answers 200 with ok:false), such as a proxy's 401.
func apiStatusKeys() providers.StatusKeys {
	return providers.StatusKeys{
		Unauthorized: KeyInvalidToken,
		Forbidden:    KeyActionProhibited,
		NotFound:     KeyChannelNotFound,
	}
}

// postMessage sends n with chat.postMessage and returns its ts as the
// MessageID, the thread root (the parent's ts for a reply, as Slack
// reports it in message.thread_ts) and the resolved channel id.
func (p *Provider) postMessage(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	o := optionsFor(t, n, modeAPI)
	if o.Channel == "" {
		// An empty identifier only makes sense with an incoming webhook.
		return nil, providers.Permanent(KeyChannelNotFound, providers.ErrChannelNotFound,
			"the Web API needs a channel; the identifier is empty")
	}
	reply, err := p.call(ctx, t, "chat.postMessage", format(n, o))
	if err != nil {
		return nil, err
	}
	r := &providers.Receipt{MessageID: reply.TS, ThreadID: reply.Message.ThreadTS}
	if r.ThreadID == "" {
		r.ThreadID = reply.TS
	}
	if reply.Channel != "" {
		r.Extra = map[string]string{extraChannel: reply.Channel}
	}
	return r, nil
}

// call POSTs body to the Web API method and returns Slack's reply. On
// failure the reply is returned too when Slack sent one, so callers can
// treat particular codes (message_not_found on delete) as success.
func (p *Provider) call(ctx context.Context, t *providers.Target, method string, body any) (*apiReply, error) {
	base := strings.TrimSuffix(t.Settings.String("api_base_url"), "/")
	if base == "" {
		base = defaultAPIBase
	}
	data, err := providers.EncodeJSON(body)
	if err != nil {
		return nil, providers.Permanent("", nil, "encoding the Slack message: %v", err)
	}
	req, err := providers.NewJSONRequest(ctx, base+"/api/"+method, data)
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "api_base_url is not a valid URL")
	}
	// Slack warns about JSON without a charset.
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(t.Settings.String("access_token")))
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	return parseReply(resp)
}

// parseReply classifies a Web API response: Slack's error code decides
// when there is one, the HTTP status otherwise.
func parseReply(resp *providers.Response) (*apiReply, error) {
	var reply apiReply
	jsonErr := json.Unmarshal(resp.Body, &reply)
	if jsonErr != nil {
		reply = apiReply{}
	}
	code := providers.SafeCode(reply.Error)
	if resp.Status == http.StatusTooManyRequests {
		return &reply, providers.CheckStatus(resp, "Slack", code, apiStatusKeys())
	}
	if resp.Status < 200 || resp.Status > 299 {
		if code != "" && !reply.OK {
			if err := apiError(resp, code); !isGeneric(err) {
				return &reply, err
			}
		}
		return &reply, providers.CheckStatus(resp, "Slack", code, apiStatusKeys())
	}
	if jsonErr != nil {
		// A 200 that is not Slack's JSON: a captive proxy or a wrong
		// api_base_url. Retryable; the engine gives up after its attempts.
		return nil, &providers.Error{Status: resp.Status, Message: "Slack answered a reply that is not JSON"}
	}
	if !reply.OK {
		return &reply, apiError(resp, code)
	}
	return &reply, nil
}

// isGeneric reports a permanent error without a key: a Slack code this
// provider does not know, for which the HTTP status may say more.
func isGeneric(err error) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && pe.Permanent && pe.Key == ""
}

// apiError maps a Web API error code to a classified error. Codes are
// from Slack's method documentation:
//
//   - channel_not_found, is_archived, channel_is_archived → KeyChannelNotFound
//     (ErrChannelNotFound), as in the reference;
//   - not_authed, invalid_auth, account_inactive, token_revoked,
//     token_expired, no_permission, org_login_required → KeyInvalidToken
//     (ErrUnauthorized);
//   - not_in_channel, restricted_action*, posting_to_general_channel_denied,
//     missing_scope, not_allowed_token_type, ekm_access_denied,
//     team_access_not_granted, access_denied → KeyActionProhibited
//     (ErrForbidden);
//   - ratelimited → rate limited with Retry-After;
//   - internal_error, fatal_error, service_unavailable, request_timeout →
//     retryable;
//   - anything else (invalid_blocks, msg_too_long, message_not_found,
//     cant_update_message, …) → permanent with the generic key, because
//     sending the same request again would fail the same way.
func apiError(resp *providers.Response, code string) error {
	msg := "Slack error " + code
	if code == "" {
		msg = "Slack error without a readable code"
	}
	e := &providers.Error{Status: resp.Status, Message: msg}
	switch {
	case code == "channel_not_found" || code == "is_archived" || code == "channel_is_archived":
		e.Permanent, e.Key, e.Err = true, KeyChannelNotFound, providers.ErrChannelNotFound
	case code == "not_authed" || code == "invalid_auth" || code == "account_inactive" ||
		code == "token_revoked" || code == "token_expired" || code == "no_permission" ||
		code == "org_login_required":
		e.Permanent, e.Key, e.Err = true, KeyInvalidToken, providers.ErrUnauthorized
	case code == "not_in_channel" || strings.HasPrefix(code, "restricted_action") ||
		code == "posting_to_general_channel_denied" || code == "missing_scope" ||
		code == "not_allowed_token_type" || code == "ekm_access_denied" ||
		code == "team_access_not_granted" || code == "access_denied":
		e.Permanent, e.Key, e.Err = true, KeyActionProhibited, providers.ErrForbidden
	case code == "ratelimited" || code == "rate_limited":
		e.RateLimited, e.RetryAfter = true, providers.RetryAfter(resp.Header, 0)
	case code == "internal_error" || code == "fatal_error" || code == "service_unavailable" ||
		code == "request_timeout":
		// Retryable: Slack's own trouble.
	default:
		e.Permanent = true
	}
	return e
}
