package rocketchat

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The incoming-integration transport: the reference's payload as JSON to
// webhook_url. Rocket.Chat answers {"success":true}, or an error as the
// REST API does: 400 {"success":false,"error":"invalid-channel"} for an
// unknown room (the reference's invalid_channel), and 404 {"success":false,
// "error":"Invalid integration id or token provided."} for a wrong URL. No
// message id comes back, so a webhook message cannot be threaded on,
// edited or deleted.

// webhookKeys are the integration's keys by status: the URL holds the
// integration's token, so a 401 means the URL was rejected.
func webhookKeys() keys {
	return keys{StatusKeys: providers.StatusKeys{
		Unauthorized: KeyInvalidToken,
		Forbidden:    KeyForbidden,
	}}
}

// postWebhook posts n to the incoming integration, at api_base_url's
// origin when that is set. The Receipt is empty: integrations return no
// message id.
func (p *Provider) postWebhook(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	resp, err := providers.PostJSON(ctx, p.client, t.Settings.String("webhook_url"), t.Settings.String("api_base_url"),
		formatWebhook(n, optionsFor(t, n, modeWebhook)), KeyNotConfigured)
	if err != nil {
		return nil, err
	}
	var rep reply
	jsonErr := json.Unmarshal(resp.Body, &rep)
	ok := resp.Status >= 200 && resp.Status < 300
	if ok && (jsonErr != nil || rep.Success) {
		// A 2xx is the message posted; only an explicit success:false
		// says otherwise.
		return &providers.Receipt{}, nil
	}
	if resp.Status == http.StatusNotFound {
		// Rocket.Chat's answer for an integration id or token it does not
		// know: the URL, the integration's credential, was rejected.
		return nil, &providers.Error{Status: resp.Status, Permanent: true, Key: KeyInvalidToken,
			Err: providers.ErrUnauthorized, Message: "Rocket.Chat webhook answered HTTP 404: unknown integration"}
	}
	return nil, p.classify(resp, rep.code(), webhookKeys())
}
