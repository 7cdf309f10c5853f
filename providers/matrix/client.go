package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The client-server API transport (spec v1.x, paths under
// /_matrix/client/v3), shared by the Matrix provider and Gitter's Matrix
// transport so that there is one implementation of Matrix on the wire:
// the Bearer token, room alias resolution and joining, sending with
// transaction ids, redaction, and the mapping of Matrix's error bodies
// ({"errcode","error","retry_after_ms"}) to classified errors.
//
// Like every provider transport it never retries or sleeps. The one
// exception to "one request per call" is structural, not a retry: a room
// named by alias needs a directory lookup before the first send (then
// cached), and a send the homeserver refuses because the bot is not in the
// room is followed by one join and one send.

// clientPath is the prefix of every client-server endpoint.
const clientPath = "/_matrix/client/v3"

// roomCacheSize bounds the alias → room id cache. An instance serves a
// few hundred channels at most; when the cache is full an arbitrary entry
// is dropped and simply resolved again later.
const roomCacheSize = 512

// Keys are a provider's error keys, which the client puts on the errors it
// classifies, so that a Gitter channel records gitter keys although the
// transport is Matrix's.
type Keys struct {
	// UnknownToken: the homeserver rejected the token (M_UNKNOWN_TOKEN,
	// M_MISSING_TOKEN, HTTP 401).
	UnknownToken string
	// UnknownRoom: the room or alias does not exist (M_NOT_FOUND, HTTP 404).
	UnknownRoom string
	// Forbidden: the bot may not post, join or redact there (M_FORBIDDEN).
	Forbidden string
	// NotInRoom: the bot has not joined the room (TestRoom only; Notify
	// joins by itself).
	NotInRoom string
	// NotConfigured: no token, or the homeserver URL does not parse.
	NotConfigured string
}

// ClientOptions are a Client's dependencies.
type ClientOptions struct {
	// HTTPClient sends every request. nil means providers.NewHTTPClient.
	HTTPClient *http.Client
	// Keys are put on classified errors.
	Keys Keys
	// Platform names the other side in error messages ("Matrix").
	Platform string
}

// Client talks to Matrix homeservers. It is safe for concurrent use; its
// only state is the cache of resolved room aliases.
type Client struct {
	http     *http.Client
	keys     Keys
	platform string

	mu    sync.Mutex
	rooms map[string]string // homeserver + " " + alias → room id
}

// NewClient returns a Client.
func NewClient(opts ClientOptions) *Client {
	c := &Client{http: opts.HTTPClient, keys: opts.Keys, platform: opts.Platform, rooms: make(map[string]string)}
	if c.http == nil {
		c.http = providers.NewHTTPClient()
	}
	if c.platform == "" {
		c.platform = "Matrix"
	}
	return c
}

// Session is one homeserver and the token to present there.
type Session struct {
	// Homeserver is the client-server API's base URL
	// ("https://matrix-client.matrix.org"); a path is kept as a prefix,
	// for homeservers behind a proxy.
	Homeserver string
	// Token is sent as "Authorization: Bearer <token>": a user's access
	// token, or an application service's as_token.
	Token string
}

// errorBody is Matrix's standard error response.
type errorBody struct {
	ErrCode string `json:"errcode"`
	Error   string `json:"error"`
	// RetryAfterMS accompanies M_LIMIT_EXCEEDED. Deprecated in spec v1.10
	// in favour of the Retry-After header, but still commonly sent.
	RetryAfterMS float64 `json:"retry_after_ms"`
}

// call sends one request and returns the reply's body for a 2xx, or the
// classified error together with Matrix's error body, so callers can look
// at the errcode (to join a room the bot is not in). segments are path
// segments after /_matrix/client/v3, each escaped here: room aliases start
// with '#' and event ids may contain '/'.
func (c *Client) call(ctx context.Context, s Session, method string, segments []string, query url.Values, body any) ([]byte, *errorBody, error) {
	endpoint, err := c.endpoint(s, segments, query)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(s.Token) == "" {
		return nil, nil, c.notConfigured("%s needs an access token", c.platform)
	}
	var data []byte
	if body != nil {
		if data, err = providers.EncodeJSON(body); err != nil {
			return nil, nil, providers.Permanent("", nil, "encoding the %s request: %v", c.platform, err)
		}
	}
	req, err := providers.NewRequest(ctx, method, endpoint, data, "application/json")
	if err != nil {
		return nil, nil, c.notConfigured("the %s homeserver URL is not valid", c.platform)
	}
	req.Header.Set("Accept", "application/json")
	// The query parameter access_token is deprecated (and dropped from
	// the unreleased spec v1.20); the header keeps the token out of
	// proxy logs too.
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(s.Token))
	resp, err := providers.Do(c.http, req)
	if err != nil {
		return nil, nil, err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp.Body, nil, nil
	}
	var eb errorBody
	if json.Unmarshal(resp.Body, &eb) != nil {
		eb = errorBody{}
	}
	return nil, &eb, c.classify(resp, &eb)
}

// endpoint builds the request URL, refusing a homeserver that is not an
// http(s) URL without saying what it was.
func (c *Client) endpoint(s Session, segments []string, query url.Values) (string, error) {
	base, err := url.Parse(strings.TrimSpace(s.Homeserver))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", c.notConfigured("the %s homeserver URL is not valid", c.platform)
	}
	var b strings.Builder
	b.WriteString(base.Scheme + "://" + base.Host + strings.TrimSuffix(base.EscapedPath(), "/") + clientPath)
	for _, seg := range segments {
		b.WriteString("/" + url.PathEscape(seg))
	}
	if len(query) > 0 {
		b.WriteString("?" + query.Encode())
	}
	return b.String(), nil
}

func (c *Client) notConfigured(format string, args ...any) error {
	return providers.Permanent(c.keys.NotConfigured, providers.ErrNotConfigured, format, args...)
}

// classify maps a non-2xx reply to a classified error. The errcode
// decides where Matrix gives a known one, the HTTP status otherwise:
//
//   - M_LIMIT_EXCEEDED or 429 → rate limited for the whole account,
//     waiting for the Retry-After header, else retry_after_ms, else the
//     engine's default;
//   - M_UNKNOWN_TOKEN, M_MISSING_TOKEN, M_USER_DEACTIVATED or 401 →
//     ErrUnauthorized with Keys.UnknownToken (soft_logout changes nothing:
//     the sidecar cannot log in again by itself);
//   - 5xx, 408, 425 → retryable, whatever the errcode (M_UNKNOWN is what
//     Synapse answers on an internal error);
//   - M_NOT_FOUND, M_UNKNOWN on a 4xx (the reference's "unknown room"),
//     404 or 410 → ErrChannelNotFound with Keys.UnknownRoom;
//   - M_FORBIDDEN, M_GUEST_ACCESS_FORBIDDEN or 403 → ErrForbidden with
//     Keys.Forbidden;
//   - anything else (M_BAD_JSON, M_TOO_LARGE, a redirect) → permanent with
//     the generic key: the same request would fail the same way.
//
// The message holds the status and the errcode, never Matrix's human
// "error" text, which quotes user and room ids back.
func (c *Client) classify(resp *providers.Response, eb *errorBody) error {
	code := providers.SafeCode(eb.ErrCode)
	msg := fmt.Sprintf("%s answered HTTP %d", c.platform, resp.Status)
	if code != "" {
		msg += " " + code
	}
	e := &providers.Error{Status: resp.Status, Message: msg}
	switch {
	case code == "M_LIMIT_EXCEEDED" || resp.Status == http.StatusTooManyRequests:
		fallback := time.Duration(eb.RetryAfterMS * float64(time.Millisecond))
		e.RateLimited, e.RetryAfter = true, providers.RetryAfter(resp.Header, max(fallback, 0))
		// Homeservers limit each user (Synapse's rc_message), whatever
		// the room.
		e.Scope = providers.LimitAccount
	case code == "M_UNKNOWN_TOKEN" || code == "M_MISSING_TOKEN" || code == "M_USER_DEACTIVATED" ||
		resp.Status == http.StatusUnauthorized:
		e.Permanent, e.Key, e.Err = true, c.keys.UnknownToken, providers.ErrUnauthorized
	case resp.Status >= 500 || resp.Status == http.StatusRequestTimeout || resp.Status == http.StatusTooEarly:
		// Retryable: the homeserver may recover.
	case code == "M_NOT_FOUND" || (code == "M_UNKNOWN" && resp.Status >= 400) ||
		resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
		e.Permanent, e.Key, e.Err = true, c.keys.UnknownRoom, providers.ErrChannelNotFound
	case code == "M_FORBIDDEN" || code == "M_GUEST_ACCESS_FORBIDDEN" || resp.Status == http.StatusForbidden:
		e.Permanent, e.Key, e.Err = true, c.keys.Forbidden, providers.ErrForbidden
	default:
		e.Permanent = true
	}
	return e
}

// notInRoom reports a refusal because the bot has not joined the room.
// Matrix has no errcode of its own for it (it is an M_FORBIDDEN like a
// power-level refusal), so the human text is the only way to tell the two
// apart: Synapse says "User @bot:hs not in room !id:hs", other servers
// "not joined" or "not a member". Misreading a power-level refusal would
// cost one join attempt, which the homeserver refuses or accepts without
// harm; it is never a repeated send.
func notInRoom(eb *errorBody) bool {
	if eb == nil || eb.ErrCode != "M_FORBIDDEN" {
		return false
	}
	m := strings.ToLower(eb.Error)
	for _, s := range []string{"not in room", "not in the room", "not joined", "not a member"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isNotFound reports an error that says the room is unknown.
func isNotFound(eb *errorBody) bool {
	return eb != nil && eb.ErrCode == "M_NOT_FOUND"
}

// ResolveRoom returns the room id of room: room itself when it is an id
// ("!…"), else the id its alias ("#…:server") points to, from the cache
// or from GET /directory/room/{alias}. An unknown or malformed alias is
// ErrChannelNotFound.
func (c *Client) ResolveRoom(ctx context.Context, s Session, room string) (string, error) {
	if !strings.HasPrefix(room, "#") {
		return room, nil
	}
	key := cacheKey(s, room)
	c.mu.Lock()
	id, ok := c.rooms[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	body, eb, err := c.call(ctx, s, http.MethodGet, []string{"directory", "room", room}, nil, nil)
	if err != nil {
		// A malformed alias is M_INVALID_PARAM: for a directory lookup
		// that, too, means there is no such room.
		if eb != nil && eb.ErrCode == "M_INVALID_PARAM" {
			return "", providers.Permanent(c.keys.UnknownRoom, providers.ErrChannelNotFound,
				"%s refused the room alias (M_INVALID_PARAM)", c.platform)
		}
		return "", err
	}
	var reply struct {
		RoomID string `json:"room_id"`
	}
	if json.Unmarshal(body, &reply) != nil || reply.RoomID == "" {
		return "", &providers.Error{Message: c.platform + " answered an alias lookup without a room id"}
	}
	c.remember(key, reply.RoomID)
	return reply.RoomID, nil
}

func cacheKey(s Session, alias string) string { return strings.TrimSpace(s.Homeserver) + " " + alias }

// remember caches a resolved alias, dropping an arbitrary entry when the
// cache is full.
func (c *Client) remember(key, roomID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.rooms[key]; !ok && len(c.rooms) >= roomCacheSize {
		for k := range c.rooms {
			delete(c.rooms, k)
			break
		}
	}
	c.rooms[key] = roomID
}

// forget drops a cached alias whose room turned out to be unknown, so the
// next attempt resolves it again (an alias can be moved to a new room).
func (c *Client) forget(s Session, room string) {
	if !strings.HasPrefix(room, "#") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rooms, cacheKey(s, room))
}

// Join joins room (an id or an alias) with POST /join/{roomIdOrAlias} and
// returns the room id. via are servers to join through; the room's own
// server (the part after ':') is added when known, since a homeserver that
// is not in the room yet must ask one that is.
func (c *Client) Join(ctx context.Context, s Session, room string, via []string) (string, error) {
	q := url.Values{}
	for _, v := range viaServers(room, via) {
		// "via" since spec v1.12; "server_name" for older homeservers.
		q.Add("via", v)
		q.Add("server_name", v)
	}
	body, _, err := c.call(ctx, s, http.MethodPost, []string{"join", room}, q, struct{}{})
	if err != nil {
		return "", err
	}
	var reply struct {
		RoomID string `json:"room_id"`
	}
	if json.Unmarshal(body, &reply) != nil || reply.RoomID == "" {
		return "", &providers.Error{Message: c.platform + " answered a join without a room id"}
	}
	if strings.HasPrefix(room, "#") {
		c.remember(cacheKey(s, room), reply.RoomID)
	}
	return reply.RoomID, nil
}

// viaServers returns via plus the server part of room, without
// duplicates. Room ids of room version 12 have no server part.
func viaServers(room string, via []string) []string {
	out := make([]string, 0, len(via)+1)
	seen := make(map[string]bool)
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if _, server, ok := strings.Cut(room, ":"); ok {
		add(server)
	}
	for _, v := range via {
		add(v)
	}
	return out
}

// sent is what a successful send returned.
type sent struct {
	EventID string
	RoomID  string
}

// send resolves room, sends content as an m.room.message with txnID and,
// when the homeserver refuses because the bot is not in the room, joins
// it and sends once more with the same txnID. The homeserver forgets a
// transaction that failed, so the second send is a first attempt for it.
func (c *Client) send(ctx context.Context, s Session, room string, via []string, txnID string, content any) (sent, error) {
	roomID, err := c.ResolveRoom(ctx, s, room)
	if err != nil {
		return sent{}, err
	}
	eventID, eb, err := c.sendTo(ctx, s, roomID, txnID, content)
	switch {
	case err == nil:
		return sent{EventID: eventID, RoomID: roomID}, nil
	case isNotFound(eb):
		c.forget(s, room)
		return sent{}, err
	case !notInRoom(eb):
		return sent{}, err
	}
	// Join by the channel's own name: an alias lets the homeserver find
	// servers to join through by itself.
	if roomID, err = c.Join(ctx, s, room, via); err != nil {
		return sent{}, err
	}
	if eventID, _, err = c.sendTo(ctx, s, roomID, txnID, content); err != nil {
		return sent{}, err
	}
	return sent{EventID: eventID, RoomID: roomID}, nil
}

// sendTo is PUT /rooms/{roomId}/send/m.room.message/{txnId}.
func (c *Client) sendTo(ctx context.Context, s Session, roomID, txnID string, content any) (string, *errorBody, error) {
	body, eb, err := c.call(ctx, s, http.MethodPut, []string{"rooms", roomID, "send", "m.room.message", txnID}, nil, content)
	if err != nil {
		return "", eb, err
	}
	id, err := c.eventID(body)
	return id, nil, err
}

func (c *Client) eventID(body []byte) (string, error) {
	var reply struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(body, &reply) != nil || reply.EventID == "" {
		// A 2xx that is not Matrix's answer: a captive proxy or a wrong
		// homeserver URL. Retryable; the engine gives up after its
		// attempts, and the transaction id keeps a retry from posting
		// twice if the message did go out.
		return "", &providers.Error{Message: c.platform + " answered without an event id"}
	}
	return reply.EventID, nil
}

// redact is PUT /rooms/{roomId}/redact/{eventId}/{txnId}.
func (c *Client) redact(ctx context.Context, s Session, roomID, eventID, txnID, reason string) error {
	body := struct {
		Reason string `json:"reason,omitempty"`
	}{reason}
	_, _, err := c.call(ctx, s, http.MethodPut, []string{"rooms", roomID, "redact", eventID, txnID}, nil, body)
	return err
}

// WhoAmI returns the user id the token belongs to (GET
// /account/whoami); it checks the token without side effects.
func (c *Client) WhoAmI(ctx context.Context, s Session) (string, error) {
	body, _, err := c.call(ctx, s, http.MethodGet, []string{"account", "whoami"}, nil, nil)
	if err != nil {
		return "", err
	}
	var reply struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(body, &reply) != nil || reply.UserID == "" {
		return "", &providers.Error{Message: c.platform + " answered whoami without a user id"}
	}
	return reply.UserID, nil
}

// membership returns userID's membership in roomID ("join", "invite",
// "leave", "ban", "knock") from GET /rooms/{roomId}/state/m.room.member/
// {userId}, or "" when the homeserver will not say because the user has
// never been in the room (403 or 404 for a user outside a room whose
// history is not public).
func (c *Client) membership(ctx context.Context, s Session, roomID, userID string) (string, error) {
	body, eb, err := c.call(ctx, s, http.MethodGet, []string{"rooms", roomID, "state", "m.room.member", userID}, nil, nil)
	if err != nil {
		if eb != nil && (eb.ErrCode == "M_FORBIDDEN" || eb.ErrCode == "M_NOT_FOUND") {
			return "", nil
		}
		return "", err
	}
	var reply struct {
		Membership string `json:"membership"`
	}
	_ = json.Unmarshal(body, &reply)
	return reply.Membership, nil
}
