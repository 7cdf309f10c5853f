package discourse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes caps a response body. A topic view with its first 20
// posts is usually well under 1 MiB; the cap only stops a misbehaving
// proxy from exhausting memory.
const MaxResponseBytes = 8 << 20

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "chatsidecar"

// DefaultTimeout bounds a whole request of the HTTP client New builds
// when Options.HTTPClient is nil. Callers' contexts may end it sooner.
const DefaultTimeout = 30 * time.Second

// maxRedirects bounds same-host redirects (a forum moved to https).
const maxRedirects = 5

// Options configures a Client.
type Options struct {
	// BaseURL is the forum's URL, http or https, optionally with a
	// subfolder ("https://example.org/forum").
	BaseURL string
	// APIKey and APIUsername are sent as Api-Key and Api-Username. Both
	// may be empty for a public forum, which then answers anonymously.
	APIKey      string
	APIUsername string
	// HTTPClient may be nil for a client with DefaultTimeout. Its redirect
	// policy is replaced by one that stays on the forum's host when it has
	// none, because net/http would forward the Api-Key header to any host
	// a redirect names.
	HTTPClient *http.Client
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
}

// Client calls the Discourse REST API. It is safe for concurrent use. It
// never retries or sleeps: every failure comes back as an error value for
// the caller's queue to classify.
type Client struct {
	base     string // scheme://host[/subfolder], no trailing slash
	key      string
	username string
	ua       string
	hc       *http.Client
}

// New returns a Client for opts. It fails only when BaseURL is not an
// absolute http(s) URL without query or fragment.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("discourse: base URL must be an absolute http or https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("discourse: base URL must not have a query or fragment")
	}
	c := &Client{
		base:     u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/"),
		key:      opts.APIKey,
		username: opts.APIUsername,
		ua:       opts.UserAgent,
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		hc.Timeout = DefaultTimeout
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = sameHostRedirects
	}
	c.hc = &hc
	return c, nil
}

// sameHostRedirects follows redirects on the original host (an http →
// https upgrade included) and hands any other redirect back as the
// response, which the client reports as an *APIError: the request
// carries the API key in a header that net/http does not strip.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return http.ErrUseLastResponse
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (req.URL.Scheme != first.Scheme && req.URL.Scheme != "https") {
		return http.ErrUseLastResponse
	}
	return nil
}

// Topic fetches GET /t/{id}.json, the topic view, which unlike the
// webhook has the PM's allowed groups and the first post's id. Errors:
// ErrNotFound (deleted, or never existed: a non-positive id fails without
// a request), ErrForbidden, *RateLimitError, *APIError, or a transport
// error wrapping ctx.Err() when ctx ended.
func (c *Client) Topic(ctx context.Context, id int64) (*Topic, error) {
	if id <= 0 {
		return nil, fmt.Errorf("discourse: topic %d: %w", id, ErrNotFound)
	}
	var t Topic
	if err := c.get(ctx, "/t/"+strconv.FormatInt(id, 10)+".json", nil, &t); err != nil {
		return nil, err
	}
	if t.ID == 0 {
		return nil, fmt.Errorf("discourse: GET /t/%d.json: response has no topic id", id)
	}
	return &t, nil
}

// Post fetches GET /posts/{id}.json, which carries raw and cooked; use it
// when a webhook was missed or its body is needed again. Errors as for
// Topic.
func (c *Client) Post(ctx context.Context, id int64) (*Post, error) {
	if id <= 0 {
		return nil, fmt.Errorf("discourse: post %d: %w", id, ErrNotFound)
	}
	var p Post
	if err := c.get(ctx, "/posts/"+strconv.FormatInt(id, 10)+".json", nil, &p); err != nil {
		return nil, err
	}
	if p.ID == 0 {
		return nil, fmt.Errorf("discourse: GET /posts/%d.json: response has no post id", id)
	}
	return &p, nil
}

// LatestPosts returns one page of GET /posts.json, newest first, which is
// how the sidecar catches up on posts whose webhooks never arrived
// (Discourse does not retry on connection errors). before = 0 asks for
// the newest page; to page back pass the smallest id of the previous page.
// An empty slice means there is nothing older. Discourse leaves private
// messages out of this list.
func (c *Client) LatestPosts(ctx context.Context, before int64) ([]Post, error) {
	var q url.Values
	if before > 0 {
		q = url.Values{"before": {strconv.FormatInt(before, 10)}}
	}
	var out struct {
		LatestPosts []Post `json:"latest_posts"`
	}
	if err := c.get(ctx, "/posts.json", q, &out); err != nil {
		return nil, err
	}
	return out.LatestPosts, nil
}

// Site fetches GET /site.json: every category with its parent, which is
// what rules with "include subcategories" need. It is large; go through
// Cache.Site rather than calling it per event.
func (c *Client) Site(ctx context.Context) (*Site, error) {
	var s Site
	if err := c.get(ctx, "/site.json", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// TagGroups fetches GET /tag_groups.json: every tag group with its tags
// and who may see them, which is how the sidecar learns which tags are
// hidden (HiddenTagNames). Only staff may read it: a key acting as
// another user gets ErrForbidden. Go through Cache.HiddenTags rather than
// calling it per event.
func (c *Client) TagGroups(ctx context.Context) ([]TagGroup, error) {
	var out struct {
		TagGroups *[]TagGroup `json:"tag_groups"`
	}
	if err := c.get(ctx, "/tag_groups.json", nil, &out); err != nil {
		return nil, err
	}
	if out.TagGroups == nil {
		// A 200 without the list is not "no tag groups": a proxy or login
		// page answered, and an empty set would show every tag.
		return nil, errors.New("discourse: GET /tag_groups.json: response has no tag_groups")
	}
	return *out.TagGroups, nil
}

// Group fetches GET /groups/{name}.json.
func (c *Client) Group(ctx context.Context, name string) (*Group, error) {
	if name == "" {
		return nil, fmt.Errorf("discourse: group with empty name: %w", ErrNotFound)
	}
	var out struct {
		Group *Group `json:"group"`
	}
	path := "/groups/" + url.PathEscape(name) + ".json"
	if err := c.get(ctx, path, nil, &out); err != nil {
		return nil, err
	}
	if out.Group == nil || out.Group.ID == 0 {
		return nil, fmt.Errorf("discourse: GET %s: response has no group", path)
	}
	return out.Group, nil
}

// User fetches GET /u/{username}.json.
func (c *Client) User(ctx context.Context, username string) (*User, error) {
	if username == "" {
		return nil, fmt.Errorf("discourse: user with empty username: %w", ErrNotFound)
	}
	var out struct {
		User *User `json:"user"`
	}
	path := "/u/" + url.PathEscape(username) + ".json"
	if err := c.get(ctx, path, nil, &out); err != nil {
		return nil, err
	}
	if out.User == nil || out.User.ID == 0 {
		return nil, fmt.Errorf("discourse: GET %s: response has no user", path)
	}
	return out.User, nil
}

// CreatePostRequest is a new topic (Title set, TopicID 0) or a reply
// (TopicID set) for POST /posts.json.
type CreatePostRequest struct {
	// Title is required for a new topic (Discourse's default minimum is
	// 15 characters) and ignored for a reply.
	Title string
	// Raw is the Markdown body (default minimum 20 characters).
	Raw string
	// Category is the new topic's category id; 0 leaves Discourse's
	// default (uncategorized).
	Category int64
	// TopicID makes the post a reply.
	TopicID int64
	// Tags are sent as names, which every Discourse version accepts
	// (2026 versions log a deprecation, and reject unknown tags unless
	// the API user may create them).
	Tags []string
	// CreatedAt backdates the post (API only), e.g. a transcript to the
	// time of its first message.
	CreatedAt *time.Time
}

// createPostBody is the JSON body of POST /posts.json.
type createPostBody struct {
	Title     string   `json:"title,omitempty"`
	Raw       string   `json:"raw"`
	Category  int64    `json:"category,omitempty"`
	TopicID   int64    `json:"topic_id,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	CreatedAt string   `json:"created_at,omitempty"`
}

// createPostReply covers both answers of a successful POST: the post at
// the top level, or the {"action":"enqueued",…} wrapper.
type createPostReply struct {
	Post
	Action      string              `json:"action"`
	PendingPost *struct{ ID int64 } `json:"pending_post"`
	PendingCnt  int                 `json:"pending_count"`
	Errors      json.RawMessage     `json:"errors"`
}

// CreatePost creates a topic or a reply as the API user. Besides the
// errors of Topic it returns *EnqueuedError (errors.Is ErrEnqueued) when
// the post awaits approval, and *APIError with Discourse's messages for a
// 422 (title or body too short, duplicate…). Discourse memoizes identical
// API requests for 120 s, so resending the same request after a lost
// answer returns the first post instead of a duplicate.
func (c *Client) CreatePost(ctx context.Context, req CreatePostRequest) (*Post, error) {
	body := createPostBody{Raw: req.Raw, Category: req.Category, TopicID: req.TopicID, Tags: req.Tags}
	if req.TopicID == 0 {
		body.Title = req.Title
	}
	if req.CreatedAt != nil {
		body.CreatedAt = req.CreatedAt.UTC().Format(time.RFC3339)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("discourse: encode post: %w", err)
	}
	var out createPostReply
	if err := c.do(ctx, http.MethodPost, "/posts.json", nil, data, &out); err != nil {
		return nil, err
	}
	if out.Action == "enqueued" {
		e := &EnqueuedError{PendingCount: out.PendingCnt}
		if out.PendingPost != nil {
			e.PendingPostID = out.PendingPost.ID
		}
		return nil, fmt.Errorf("discourse: POST /posts.json: %w", e)
	}
	if out.ID == 0 {
		if msgs := messages(out.Errors); len(msgs) > 0 {
			return nil, fmt.Errorf("discourse: POST /posts.json: %w", &APIError{Status: http.StatusOK, Messages: msgs})
		}
		return nil, errors.New("discourse: POST /posts.json: response has no post id")
	}
	p := out.Post
	return &p, nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, q, nil, out)
}

// do sends one request and decodes a 2xx JSON answer into out. Errors are
// prefixed with the method and path, never the base URL's userinfo or the
// API key (which travels only in headers).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	where := method + " " + path
	if len(q) > 0 {
		path += "?" + q.Encode()
		where = method + " " + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("discourse: %s: %w", where, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Api-Key", c.key)
	}
	if c.username != "" {
		req.Header.Set("Api-Username", c.username)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error repeats the full URL; the method and path say enough.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("discourse: %s: %w", where, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("discourse: %s: read response: %w", where, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("discourse: %s: %w", where, statusError(resp.StatusCode, resp.Header, data))
	}
	if len(data) > MaxResponseBytes {
		return fmt.Errorf("discourse: %s: response exceeds %d bytes", where, MaxResponseBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("discourse: %s: decode response: %w", where, err)
	}
	return nil
}
