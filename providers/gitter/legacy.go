package gitter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The legacy transports of self-hosted Gitter: the REST API (v1) with a
// bot token, and the activity-feed webhook. Both answer plain HTTP
// statuses, so providers.CheckStatus classifies them with the keys below.
// Legacy error bodies ({"error":"Unauthorized"}) are never quoted.

// legacyRoomCacheSize bounds the room name → room id cache.
const legacyRoomCacheSize = 512

// restStatusKeys are the REST API's keys: a 401 is a rejected token, a
// 403 a room the bot may not post in, a 404 an unknown room or message.
func restStatusKeys() providers.StatusKeys {
	return providers.StatusKeys{Unauthorized: KeyUnknownToken, Forbidden: KeyForbidden, NotFound: KeyUnknownRoom}
}

// webhookStatusKeys are the activity webhook's keys: a hook that is
// unknown or refused is an invalid webhook.
func webhookStatusKeys() providers.StatusKeys {
	return providers.StatusKeys{Unauthorized: KeyInvalidWebhook, Forbidden: KeyForbidden, NotFound: KeyInvalidWebhook}
}

// legacyAPI returns the REST API's base URL (api_base_url over
// legacy_api_url, without a trailing slash) and the token, or why the
// channel cannot use the API.
func legacyAPI(t *providers.Target) (base, token string, err error) {
	base = strings.TrimSpace(t.Settings.String("api_base_url"))
	if base == "" {
		base = strings.TrimSpace(t.Settings.String("legacy_api_url"))
	}
	token = strings.TrimSpace(t.Settings.String("legacy_token"))
	if base == "" || token == "" {
		return "", "", providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured,
			"the legacy Gitter transport needs legacy_api_url and legacy_token, or a webhook URL on the channel")
	}
	return strings.TrimSuffix(base, "/"), token, nil
}

// rest sends one REST request and returns the reply's body for a 2xx.
// path is under the base URL and already escaped.
func (p *Provider) rest(ctx context.Context, base, token, method, path string, body any) ([]byte, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = providers.EncodeJSON(body); err != nil {
			return nil, providers.Permanent("", nil, "encoding the Gitter message: %v", err)
		}
	}
	req, err := providers.NewRequest(ctx, method, base+path, data, "application/json")
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the legacy Gitter API URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := providers.Do(p.http, req)
	if err != nil {
		return nil, err
	}
	if err := providers.CheckStatus(resp, "Gitter", "", restStatusKeys()); err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// restMessage is the body of POST /v1/rooms/:roomId/chatMessages and of
// PUT …/:chatMessageId.
type restMessage struct {
	Text string `json:"text"`
}

// postREST posts n to the channel's room and returns the message id and
// the room id.
func (p *Provider) postREST(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	base, token, err := legacyAPI(t)
	if err != nil {
		return nil, err
	}
	roomID, err := p.legacyRoom(ctx, base, token, t.Data["room"])
	if err != nil {
		return nil, err
	}
	body, err := p.rest(ctx, base, token, http.MethodPost, "/v1/rooms/"+url.PathEscape(roomID)+"/chatMessages",
		restMessage{Text: restText(n, t.Settings.Int("excerpt_length", 400))})
	if err != nil {
		return nil, err
	}
	id, err := idOf(body)
	if err != nil {
		return nil, err
	}
	return &providers.Receipt{MessageID: id, Extra: map[string]string{"room_id": roomID}}, nil
}

// editREST replaces the message's text (PUT …/chatMessages/:id).
func (p *Provider) editREST(ctx context.Context, t *providers.Target, r *providers.Receipt, n *providers.Notification) error {
	base, token, roomID, err := p.restMessageRoom(ctx, t, r)
	if err != nil {
		return err
	}
	_, err = p.rest(ctx, base, token, http.MethodPut, messagePath(roomID, r.MessageID),
		restMessage{Text: restText(n, t.Settings.Int("excerpt_length", 400))})
	return err
}

// deleteREST removes the message (DELETE …/chatMessages/:id, 204).
func (p *Provider) deleteREST(ctx context.Context, t *providers.Target, r *providers.Receipt) error {
	base, token, roomID, err := p.restMessageRoom(ctx, t, r)
	if err != nil {
		return err
	}
	_, err = p.rest(ctx, base, token, http.MethodDelete, messagePath(roomID, r.MessageID), nil)
	return err
}

// restMessageRoom returns the API and the room a sent message is in: the
// room stored with the receipt, else the channel's.
func (p *Provider) restMessageRoom(ctx context.Context, t *providers.Target, r *providers.Receipt) (base, token, roomID string, err error) {
	if base, token, err = legacyAPI(t); err != nil {
		return "", "", "", err
	}
	if roomID = r.Extra["room_id"]; roomID == "" {
		roomID, err = p.legacyRoom(ctx, base, token, t.Data["room"])
	}
	return base, token, roomID, err
}

func messagePath(roomID, messageID string) string {
	return "/v1/rooms/" + url.PathEscape(roomID) + "/chatMessages/" + url.PathEscape(messageID)
}

// testREST checks the token with GET /v1/user/me, which changes nothing.
func (p *Provider) testREST(ctx context.Context, t *providers.Target) error {
	base, token, err := legacyAPI(t)
	if err != nil {
		return err
	}
	_, err = p.rest(ctx, base, token, http.MethodGet, "/v1/user/me", nil)
	return err
}

// legacyRoom returns the legacy id of room: room itself when it is a
// 24-hex id, else the id POST /v1/rooms {"uri": room} returns, which also
// joins the bot to the room, as the API requires before posting. The
// answer is cached per API.
func (p *Provider) legacyRoom(ctx context.Context, base, token, room string) (string, error) {
	if p.legacyID.MatchString(room) {
		return room, nil
	}
	key := base + " " + room
	p.mu.Lock()
	id, ok := p.rooms[key]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	body, err := p.rest(ctx, base, token, http.MethodPost, "/v1/rooms", struct {
		URI string `json:"uri"`
	}{room})
	if err != nil {
		return "", err
	}
	if id, err = idOf(body); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.rooms[key]; !ok && len(p.rooms) >= legacyRoomCacheSize {
		for k := range p.rooms {
			delete(p.rooms, k)
			break
		}
	}
	p.rooms[key] = id
	return id, nil
}

// idOf returns the "id" of a room or message reply.
func idOf(body []byte) (string, error) {
	var reply struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &reply) != nil || reply.ID == "" {
		// A 2xx that is not Gitter's answer: a proxy or a wrong URL.
		return "", &providers.Error{Message: "Gitter answered without an id"}
	}
	return reply.ID, nil
}

// postWebhook posts n to the channel's activity webhook as the reference
// did: a form with the message in markdown. The integration answers no id.
func (p *Provider) postWebhook(ctx context.Context, t *providers.Target, n *providers.Notification) error {
	endpoint, err := providers.Rebase(t.Data["webhook_url"], t.Settings.String("api_base_url"))
	if err != nil {
		return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "api_base_url is not a valid URL")
	}
	form := url.Values{"message": {webhookMessage(n)}}
	req, err := providers.NewRequest(ctx, http.MethodPost, endpoint, []byte(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return providers.Permanent(KeyInvalidWebhook, providers.ErrNotConfigured, "the Gitter webhook URL is not valid")
	}
	resp, err := providers.Do(p.http, req)
	if err != nil {
		return err
	}
	return providers.CheckStatus(resp, "Gitter webhook", "", webhookStatusKeys())
}
