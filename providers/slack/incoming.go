package slack

import (
	"context"
	"net/http"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The incoming-webhook transport: the whole message as JSON to
// outbound_webhook_url. Slack answers 200 "ok", or an HTTP error with a
// plain-text code ("channel_not_found", "no_service"). No ts comes back,
// so a webhook message cannot be threaded on, edited or deleted.

// webhookStatusKeys follow the reference: a 403 is action_prohibited;
// 404 and 410 (a removed or disabled webhook) are reported as a missing
// channel; a 401 is a rejected webhook.
func webhookStatusKeys() providers.StatusKeys {
	return providers.StatusKeys{
		Unauthorized: KeyInvalidToken,
		Forbidden:    KeyActionProhibited,
		NotFound:     KeyChannelNotFound,
	}
}

// postWebhook posts n to the incoming webhook, at api_base_url's origin
// when that is set. The Receipt is empty: webhooks return no message id.
func (p *Provider) postWebhook(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	return providers.PostWebhook(ctx, p.client, t.Settings.String("outbound_webhook_url"), t.Settings.String("api_base_url"),
		format(n, optionsFor(t, n, modeWebhook)), KeyNotConfigured, webhookError)
}

// webhookError classifies an incoming webhook's answer; nil for a 2xx.
// The plain-text code decides where Slack gives a known one:
//
//   - channel_not_found, channel_is_archived, no_service, no_active_hooks
//     → KeyChannelNotFound (ErrChannelNotFound);
//   - action_prohibited, posting_to_general_channel_denied →
//     KeyActionProhibited (ErrForbidden);
//   - invalid_token, invalid_auth, token_revoked → KeyInvalidToken
//     (ErrUnauthorized);
//
// and the status otherwise (providers.CheckStatus with the reference's
// keys): 429 and 5xx are never overridden by a code.
func webhookError(resp *providers.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	code := providers.SafeCode(string(resp.Body))
	if resp.Status == http.StatusTooManyRequests || resp.Status >= 500 {
		return providers.CheckStatus(resp, "Slack webhook", code, webhookStatusKeys())
	}
	msg := "Slack webhook error " + code
	switch code {
	case "channel_not_found", "channel_is_archived", "no_service", "no_active_hooks":
		return &providers.Error{Status: resp.Status, Permanent: true, Key: KeyChannelNotFound,
			Err: providers.ErrChannelNotFound, Message: msg}
	case "action_prohibited", "posting_to_general_channel_denied":
		return &providers.Error{Status: resp.Status, Permanent: true, Key: KeyActionProhibited,
			Err: providers.ErrForbidden, Message: msg}
	case "invalid_token", "invalid_auth", "token_revoked":
		return &providers.Error{Status: resp.Status, Permanent: true, Key: KeyInvalidToken,
			Err: providers.ErrUnauthorized, Message: msg}
	}
	return providers.CheckStatus(resp, "Slack webhook", code, webhookStatusKeys())
}
