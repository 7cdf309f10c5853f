package mattermost_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeMattermost is a fake of the parts of Mattermost the provider uses:
// the REST API v4 (create, patch and delete posts, users/me, channels/{id})
// and an incoming webhook under /hooks/. It answers as Mattermost does:
// AppError JSON bodies with an HTTP status, 429 "limit exceeded" in plain
// text with Retry-After and X-Ratelimit-* headers, 201 with the post on
// creation, and "ok" from a webhook. It keeps the posts it holds, so tests
// can check that an edit changed the post and a deletion removed it.
// Handlers never assert; tests inspect requests and posts afterwards.
//
// Like Mattermost, it refuses a root_id that names no post it holds with
// 400 api.post.create_post.root_id.app_error, and one in another channel
// with api.post.create_post.channel_root_id.app_error.
type fakeMattermost struct {
	*providertest.Server

	mu    sync.Mutex
	seq   int
	posts map[string]fakePost
}

// fakePost is a post the fake holds.
type fakePost struct {
	ID, ChannelID, RootID string
	Props                 map[string]any
}

// postOutside stores a post someone made in the channel and returns its
// id: a thread root the provider did not start.
func (f *fakeMattermost) postOutside() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	p := fakePost{ID: fmt.Sprintf("user%022d", f.seq), ChannelID: fakeChannelID}
	f.posts[p.ID] = p
	return p.ID
}

// Text returns the post's first attachment text, where the provider puts
// the excerpt.
func (p fakePost) Text() string {
	atts, _ := p.Props["attachments"].([]any)
	if len(atts) == 0 {
		return ""
	}
	a, _ := atts[0].(map[string]any)
	s, _ := a["text"].(string)
	return s
}

// Values the fake knows: the bot token it accepts, one channel by id and by
// name, a user, and the incoming webhook's secret id.
const (
	fakeToken       = "mmtoken0000000000000SECRET"
	fakeChannelID   = "4xp9fdt3pbgqzqzf1a4m2o7yhc"
	fakeChannelName = "town-square"
	fakeUser        = "alice"
	fakeHookID      = "hooksecret0000000000000042"
	fakeHookURL     = "https://chat.example.com/hooks/" + fakeHookID
)

func newFakeMattermost(t *testing.T) *fakeMattermost {
	t.Helper()
	f := &fakeMattermost{posts: make(map[string]fakePost)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v4/posts", f.api(f.createPost))
	mux.HandleFunc("PUT /api/v4/posts/{id}/patch", f.api(f.patchPost))
	mux.HandleFunc("DELETE /api/v4/posts/{id}", f.api(f.deletePost))
	mux.HandleFunc("GET /api/v4/users/me", f.api(f.me))
	mux.HandleFunc("GET /api/v4/channels/{id}", f.api(f.channel))
	mux.HandleFunc("POST /hooks/{id}", f.webhook)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// Post returns the post with id, and whether the fake holds it.
func (f *fakeMattermost) Post(id string) (fakePost, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.posts[id]
	return p, ok
}

// apiHandler handles a REST call whose credentials are valid; it returns
// the status and body to send, or an AppError.
type apiHandler func(r *http.Request, body map[string]any) (int, any, *appErr)

// appErr is a Mattermost AppError.
type appErr struct {
	status      int
	id, message string
}

func (e *appErr) write(w http.ResponseWriter, detail string) {
	providertest.WriteJSON(w, e.status, map[string]any{
		"id": e.id, "message": e.message, "detailed_error": detail,
		"request_id": "reqid0000000000000000000000", "status_code": e.status,
	})
}

var (
	errSession    = &appErr{http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again."}
	errPermission = &appErr{http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions."}
	errNoChannel  = &appErr{http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel."}
	errNoPost     = &appErr{http.StatusNotFound, "app.post.get.app_error", "Unable to get the post."}
	errNoRoot     = &appErr{http.StatusBadRequest, "api.post.create_post.root_id.app_error", "Invalid RootId parameter."}
	errServer     = &appErr{http.StatusInternalServerError, "app.post.save.app_error", "Unable to save the Post."}
)

// limitExceeded answers like Mattermost's rate limiter (the throttled
// library): plain text, the quota headers, Retry-After in seconds.
func limitExceeded(w http.ResponseWriter) {
	w.Header().Set("X-Ratelimit-Limit", "10")
	w.Header().Set("X-Ratelimit-Remaining", "0")
	w.Header().Set("X-Ratelimit-Reset", "7")
	w.Header().Set("Retry-After", "7")
	http.Error(w, "limit exceeded", http.StatusTooManyRequests)
}

// api wraps a REST handler with what every call shares: scripted failures,
// the Bearer token check and JSON decoding.
func (f *fakeMattermost) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Mattermost puts the rejected token in detailed_error; the
		// provider must never repeat it.
		detail := "token=" + token
		me := r.URL.Path == "/api/v4/users/me"
		switch f.Failure() {
		case providertest.FailRateLimited:
			limitExceeded(w)
			return
		case providertest.FailServer:
			errServer.write(w, "")
			return
		case providertest.FailUnauthorized:
			errSession.write(w, detail)
			return
		case providertest.FailForbidden:
			if !me {
				errPermission.write(w, "")
				return
			}
		case providertest.FailChannelNotFound:
			if !me {
				errNoChannel.write(w, "")
				return
			}
		}
		if token != fakeToken || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			errSession.write(w, detail)
			return
		}
		var body map[string]any
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
				json.NewDecoder(r.Body).Decode(&body) != nil {
				(&appErr{http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body."}).write(w, "")
				return
			}
		}
		status, reply, e := h(r, body)
		if e != nil {
			e.write(w, "")
			return
		}
		providertest.WriteJSON(w, status, reply)
	}
}

func (f *fakeMattermost) createPost(_ *http.Request, body map[string]any) (int, any, *appErr) {
	channel, _ := body["channel_id"].(string)
	if channel != fakeChannelID {
		// Mattermost checks permissions first, and a bot has none on a
		// channel it cannot see.
		return 0, nil, errPermission
	}
	props, _ := body["props"].(map[string]any)
	message, _ := body["message"].(string)
	if message == "" && props["attachments"] == nil {
		return 0, nil, &appErr{http.StatusBadRequest, "api.post.create_post.message.app_error", "Message is empty."}
	}
	root, _ := body["root_id"].(string)
	f.mu.Lock()
	if root != "" {
		switch rp, ok := f.posts[root]; {
		case !ok:
			f.mu.Unlock()
			return 0, nil, errNoRoot
		case rp.ChannelID != channel:
			f.mu.Unlock()
			return 0, nil, &appErr{http.StatusBadRequest, "api.post.create_post.channel_root_id.app_error", "Invalid ChannelId for RootId parameter."}
		}
	}
	f.seq++
	p := fakePost{ID: fmt.Sprintf("post%022d", f.seq), ChannelID: channel, RootID: root, Props: props}
	f.posts[p.ID] = p
	f.mu.Unlock()
	return http.StatusCreated, postJSON(p, message), nil
}

func (f *fakeMattermost) patchPost(r *http.Request, body map[string]any) (int, any, *appErr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.posts[r.PathValue("id")]
	if !ok {
		// Without the post there is no channel to check permissions on.
		return 0, nil, errPermission
	}
	if props, ok := body["props"].(map[string]any); ok {
		p.Props = props
	}
	f.posts[p.ID] = p
	message, _ := body["message"].(string)
	return http.StatusOK, postJSON(p, message), nil
}

func (f *fakeMattermost) deletePost(r *http.Request, _ map[string]any) (int, any, *appErr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := f.posts[id]; !ok {
		return 0, nil, errNoPost
	}
	delete(f.posts, id)
	return http.StatusOK, map[string]any{"status": "OK"}, nil
}

func (f *fakeMattermost) me(*http.Request, map[string]any) (int, any, *appErr) {
	return http.StatusOK, map[string]any{"id": "botuser0000000000000000001", "username": "forumbot", "is_bot": true}, nil
}

func (f *fakeMattermost) channel(r *http.Request, _ map[string]any) (int, any, *appErr) {
	if r.PathValue("id") != fakeChannelID {
		return 0, nil, errPermission
	}
	return http.StatusOK, map[string]any{"id": fakeChannelID, "name": fakeChannelName, "display_name": "Town Square", "type": "O"}, nil
}

func postJSON(p fakePost, message string) map[string]any {
	return map[string]any{
		"id": p.ID, "create_at": 1700000000000, "update_at": 1700000000000, "edit_at": 0, "delete_at": 0,
		"user_id": "botuser0000000000000000001", "channel_id": p.ChannelID, "root_id": p.RootID,
		"message": message, "type": "slack_attachment", "props": p.Props,
	}
}

// webhook answers like Mattermost's /hooks/{id}: "ok" on success, an
// AppError otherwise (server/channels/app/webhook.go).
func (f *fakeMattermost) webhook(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		limitExceeded(w)
		return
	case providertest.FailServer:
		errServer.write(w, "")
		return
	case providertest.FailUnauthorized:
		(&appErr{http.StatusBadRequest, "web.incoming_webhook.invalid.app_error", "Invalid webhook."}).write(w, "")
		return
	case providertest.FailForbidden:
		(&appErr{http.StatusForbidden, "web.incoming_webhook.channel_locked.app_error", "This webhook is not permitted to post to the requested channel."}).write(w, "")
		return
	case providertest.FailChannelNotFound:
		(&appErr{http.StatusNotFound, "web.incoming_webhook.channel.app_error", "Couldn't find the channel."}).write(w, "")
		return
	}
	if r.PathValue("id") != fakeHookID {
		(&appErr{http.StatusBadRequest, "web.incoming_webhook.invalid.app_error", "Invalid webhook."}).write(w, "")
		return
	}
	var body map[string]any
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		(&appErr{http.StatusBadRequest, "web.incoming_webhook.parse.app_error", "Unable to parse incoming data."}).write(w, "")
		return
	}
	if text, _ := body["text"].(string); text == "" && body["attachments"] == nil {
		(&appErr{http.StatusBadRequest, "web.incoming_webhook.text.app_error", "No text specified."}).write(w, "")
		return
	}
	switch channel, _ := body["channel"].(string); {
	case channel == "" || channel == "#"+fakeChannelName || channel == fakeChannelName:
	case channel == "@"+fakeUser:
	case strings.HasPrefix(channel, "@"):
		(&appErr{http.StatusBadRequest, "web.incoming_webhook.user.app_error", "Couldn't find the user."}).write(w, "")
		return
	default:
		(&appErr{http.StatusNotFound, "web.incoming_webhook.channel.app_error", "Couldn't find the channel."}).write(w, "")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}
