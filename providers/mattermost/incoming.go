package mattermost

import (
	"context"
	"net/http"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The incoming-webhook transport: the reference's payload as JSON to
// webhook_url. Mattermost answers 200 "ok", or an HTTP error with an
// AppError body whose id names the problem. No post id comes back, so a
// webhook message cannot be threaded on, edited or deleted.

// postWebhook posts n to the incoming webhook, at api_base_url's origin
// when that is set. The Receipt is empty: webhooks return no post id.
func (p *Provider) postWebhook(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	return providers.PostWebhook(ctx, p.client, t.Settings.String("webhook_url"), t.Settings.String("api_base_url"),
		formatWebhook(n, optionsFor(t, n, modeWebhook)), KeyNotConfigured, webhookError)
}

// webhookError classifies an incoming webhook's answer; nil for a 2xx.
// Mattermost's ids (server/channels/app/webhook.go) decide where they are
// known, because the webhook answers 400 for several unrelated problems:
//
//   - web.incoming_webhook.invalid.app_error (400, no such webhook) →
//     KeyInvalidToken (ErrUnauthorized): the webhook URL is the credential;
//   - web.incoming_webhook.channel.app_error (404, "Couldn't find the
//     channel", the reference's channel_not_found),
//     web.incoming_webhook.user.app_error (400, no such @user) and
//     app.channel.get.existing.app_error → KeyChannelNotFound;
//   - web.incoming_webhook.channel_locked.app_error,
//     web.incoming_webhook.permissions.app_error (403) and
//     web.incoming_webhook.disabled.app_error (501, webhooks turned off
//     by the system admin, which no retry changes) → KeyForbidden;
//
// and the status otherwise: 429 is rate limited, 5xx retryable, the rest
// as apiStatusKeys.
func webhookError(resp *providers.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	code := errorID(resp.Body)
	if resp.Status == http.StatusTooManyRequests {
		return rateLimited(resp, "Mattermost webhook", code)
	}
	e := &providers.Error{Status: resp.Status, Permanent: true, Message: "Mattermost webhook error " + code}
	switch code {
	case "web.incoming_webhook.invalid.app_error":
		e.Key, e.Err = KeyInvalidToken, providers.ErrUnauthorized
	case "web.incoming_webhook.channel.app_error", "web.incoming_webhook.user.app_error",
		"app.channel.get.existing.app_error":
		if resp.Status >= 500 {
			// The same id covers a failed channel lookup (500).
			break
		}
		e.Key, e.Err = KeyChannelNotFound, providers.ErrChannelNotFound
	case "web.incoming_webhook.channel_locked.app_error", "web.incoming_webhook.permissions.app_error",
		"web.incoming_webhook.disabled.app_error":
		e.Key, e.Err = KeyForbidden, providers.ErrForbidden
	}
	if e.Err != nil {
		return e
	}
	return providers.CheckStatus(resp, "Mattermost webhook", code, apiStatusKeys())
}
