package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The REST API v4 transport: create, patch and delete posts, and the two
// reads TestChannel needs, all with the bot token as a Bearer header, and
// the mapping of Mattermost's answers to classified errors.
//
// Mattermost answers errors with an HTTP status and an AppError body,
// {"id":"api.context.session_expired.app_error","message":"…",
// "detailed_error":"…","request_id":"…","status_code":401}. The id is a
// stable code and goes into error messages; message and detailed_error
// never do, because detailed_error can repeat the token.

// appError is the part of Mattermost's error body the provider reads.
type appError struct {
	ID string `json:"id"`
}

// createdPost is the part of a post Mattermost returns that the provider
// reads.
type createdPost struct {
	ID     string `json:"id"`
	RootID string `json:"root_id"`
}

// apiStatusKeys are the REST API's error keys by status: 401 is a bad
// token, 403 a bot without permission there, 404 a channel (or post) that
// does not exist or that the bot cannot see.
func apiStatusKeys() providers.StatusKeys {
	return providers.StatusKeys{
		Unauthorized: KeyInvalidToken,
		Forbidden:    KeyForbidden,
		NotFound:     KeyChannelNotFound,
	}
}

// createPost sends n with POST /api/v4/posts and returns the post id as
// the MessageID and the thread root (the root_id of a reply, the post's
// own id otherwise) as the ThreadID.
func (p *Provider) createPost(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	body := formatPost(n, optionsFor(t, n, modeAPI))
	resp, err := p.call(ctx, t, http.MethodPost, "/posts", body)
	if err != nil {
		if body.RootID != "" && rootUnknown(resp) {
			return nil, &providers.Error{Status: resp.Status, Permanent: true, Err: providers.ErrThreadNotFound,
				Message: "Mattermost answered HTTP 400 " + errorID(resp.Body) + ": the thread's root post no longer exists"}
		}
		return nil, err
	}
	var created createdPost
	if err := json.Unmarshal(resp.Body, &created); err != nil || created.ID == "" {
		// A 2xx that is not a post: a proxy or a wrong server URL. The
		// post may exist, but without its id nothing can refer to it.
		return nil, &providers.Error{Status: resp.Status, Message: "Mattermost answered a reply that is not a post"}
	}
	r := &providers.Receipt{MessageID: created.ID, ThreadID: created.RootID}
	if r.ThreadID == "" {
		r.ThreadID = created.ID
	}
	return r, nil
}

// rootUnknown reports whether Mattermost refused a reply because its
// root_id names no post it holds (api.post.create_post.root_id.app_error),
// which is what a root deleted since looks like.
func rootUnknown(resp *providers.Response) bool {
	return resp != nil && resp.Status == http.StatusBadRequest && errorID(resp.Body) == "api.post.create_post.root_id.app_error"
}

// patchPost replaces the content of post id with n's.
func (p *Provider) patchPost(ctx context.Context, t *providers.Target, id string, n *providers.Notification) error {
	_, err := p.call(ctx, t, http.MethodPut, "/posts/"+url.PathEscape(id)+"/patch", formatPatch(n, optionsFor(t, n, modeAPI)))
	return err
}

// deletePost deletes post id. A 404 means the post (or its channel) is
// already gone, which is what a deletion wants.
func (p *Provider) deletePost(ctx context.Context, t *providers.Target, id string) error {
	_, err := p.call(ctx, t, http.MethodDelete, "/posts/"+url.PathEscape(id), nil)
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// getMe checks the token: GET /api/v4/users/me answers 401 for a bad one.
func (p *Provider) getMe(ctx context.Context, t *providers.Target) error {
	_, err := p.call(ctx, t, http.MethodGet, "/users/me", nil)
	return err
}

// getChannel checks that the bot can see the target's channel.
func (p *Provider) getChannel(ctx context.Context, t *providers.Target) error {
	_, err := p.call(ctx, t, http.MethodGet, "/channels/"+url.PathEscape(channelIDOf(t)), nil)
	return err
}

// call sends one REST request with the bot token and classifies the
// answer. body is encoded as JSON; nil sends no body.
func (p *Provider) call(ctx context.Context, t *providers.Target, method, path string, body any) (*providers.Response, error) {
	base := strings.TrimSpace(t.Settings.String("api_base_url"))
	if base == "" {
		base = strings.TrimSpace(t.Settings.String("server_url"))
	}
	var data []byte
	if body != nil {
		var err error
		if data, err = providers.EncodeJSON(body); err != nil {
			return nil, providers.Permanent("", nil, "encoding the Mattermost request: %v", err)
		}
	}
	req, err := providers.NewRequest(ctx, method, strings.TrimSuffix(base, "/")+"/api/v4"+path, data, "application/json")
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the Mattermost server URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(t.Settings.String("bot_token")))
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	return resp, apiError(resp)
}

// apiError classifies a REST answer; nil for a 2xx. Mattermost says what
// went wrong with the status, so the status decides (see apiStatusKeys),
// with two exceptions: a 429 carries its wait in Retry-After or
// X-Ratelimit-Reset, and a 400 about the channel id means the channel
// does not exist.
func apiError(resp *providers.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	code := errorID(resp.Body)
	if resp.Status == http.StatusTooManyRequests {
		return rateLimited(resp, "Mattermost", code)
	}
	if resp.Status == http.StatusBadRequest && strings.Contains(code, "channel_id") {
		return &providers.Error{Status: resp.Status, Permanent: true, Key: KeyChannelNotFound,
			Err: providers.ErrChannelNotFound, Message: "Mattermost answered HTTP 400 " + code}
	}
	return providers.CheckStatus(resp, "Mattermost", code, apiStatusKeys())
}

// errorID returns the AppError id of a body, when it is one and is safe to
// quote.
func errorID(body []byte) string {
	var e appError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return providers.SafeCode(e.ID)
}

// rateLimited is the error for a 429. Mattermost's rate limiter sends
// Retry-After (seconds) and X-Ratelimit-Reset (seconds until the quota is
// full again); the first is the wait it means, the second a bound when a
// proxy dropped the first. The limiter counts per user, token or remote
// address across the server, never per channel, so it holds back every
// channel (providers.LimitAccount).
func rateLimited(resp *providers.Response, platform, code string) error {
	msg := platform + " answered HTTP 429"
	if code != "" {
		msg += " " + code
	}
	e := providers.RateLimited(providers.RetryAfter(resp.Header, resetAfter(resp.Header)), "%s", msg)
	e.Status, e.Scope = resp.Status, providers.LimitAccount
	return e
}

// resetAfter parses X-Ratelimit-Reset, a number of seconds; 0 when it is
// absent or not a number, which leaves the wait to the engine.
func resetAfter(h http.Header) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ratelimit-Reset")))
	if err != nil || secs < 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}
