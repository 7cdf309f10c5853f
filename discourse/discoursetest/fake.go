// Package discoursetest is an in-memory fake of the Discourse endpoints
// package discourse uses, plus builders for the webhook requests Discourse
// sends, so that tests never need a live forum.
//
// The fake answers in Discourse's own shapes (external-apis §B): topic
// views with details and post_stream, tags as strings or objects, tag
// groups in both serializations, 403 invalid_access for bad credentials
// (and for staff-only endpoints when the API user is not staff), and
// both forms of 429. It is state,
// not a script: tests add categories, topics and posts, then read back
// what the code under test created.
package discoursetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatsidecar/chatsidecar/discourse"
)

// Defaults of a new Server.
const (
	// DefaultAPIKey and DefaultAPIUsername are the credentials the fake
	// accepts unless WithCredentials says otherwise. "system" is the user
	// Discourse's all-users keys usually act as; its user id is -1.
	DefaultAPIKey      = "test-api-key"
	DefaultAPIUsername = "system"
	// DefaultPageSize is the length of a GET /posts.json page, as in
	// Discourse.
	DefaultPageSize = 50
)

// Discourse's minimum lengths (site settings min_topic_title_length and
// min_post_length), which POST /posts.json enforces with a 422.
const (
	MinTitleLength = 15
	MinPostLength  = 20
)

// invalidAccess is Discourse's 403 body for a bad key or username (§B.1).
const invalidAccess = `{"errors":["You are not permitted to view the requested resource. The API username or key is invalid."],"error_type":"invalid_access"}`

// notFound is Discourse's 404 body.
const notFound = `{"errors":["The requested URL or resource could not be found."],"error_type":"not_found"}`

// notStaff is Discourse's 403 body for an endpoint only staff may use
// (Discourse::InvalidAccess without the credentials message).
const notStaff = `{"errors":["You are not permitted to view the requested resource."],"error_type":"invalid_access"}`

// Option configures a Server.
type Option func(*Server)

// WithCredentials sets the Api-Key and Api-Username every request must
// carry.
func WithCredentials(key, username string) Option {
	return func(s *Server) { s.key, s.username = key, username }
}

// WithPageSize sets the GET /posts.json page length (n > 0).
func WithPageSize(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.pageSize = n
		}
	}
}

// WithObjectTags makes topics carry tags as [{"id","name","slug"}]
// objects, as newer Discourse versions do, instead of names.
func WithObjectTags(on bool) Option {
	return func(s *Server) { s.objectTags = on }
}

// WithStaff sets whether the API user is staff (the default). A user who
// is not gets 403 from GET /tag_groups.json and, like on a real forum,
// topic views without the tags hidden from everyone.
func WithStaff(on bool) Option {
	return func(s *Server) { s.notStaff = !on }
}

// Server is the fake. Its methods are safe to call from the test while
// requests are being served; they must be called from the test's
// goroutine when they can fail the test (the Add* methods).
type Server struct {
	t          testing.TB
	srv        *httptest.Server
	mux        *http.ServeMux
	key        string
	username   string
	pageSize   int
	objectTags bool
	notStaff   bool

	mu         sync.Mutex
	categories []discourse.Category
	topics     map[int64]*discourse.Topic
	posts      map[int64]*discourse.Post
	groups     map[string]discourse.Group
	tagGroups  []discourse.TagGroup
	users      map[string]discourse.User
	tagIDs     map[string]int64
	nextID     map[string]int64 // per kind: "category", "topic", "post", …
	failures   []failure
	enqueue    int
	requests   map[string]int
	gates      map[string]*Gate
}

type failureKind int

const (
	failStatus failureKind = iota
	failRateLimitJSON
	failRateLimitText
)

// failure answers the next n requests, whatever their path.
type failure struct {
	kind    failureKind
	n       int
	status  int
	seconds int
}

// New starts a fake closed by t.Cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		key:      DefaultAPIKey,
		username: DefaultAPIUsername,
		pageSize: DefaultPageSize,
		topics:   make(map[int64]*discourse.Topic),
		posts:    make(map[int64]*discourse.Post),
		groups:   make(map[string]discourse.Group),
		users:    make(map[string]discourse.User),
		tagIDs:   make(map[string]int64),
		nextID:   make(map[string]int64),
		requests: make(map[string]int),
		gates:    make(map[string]*Gate),
	}
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /t/{file}", s.handleTopic)
	s.mux.HandleFunc("GET /posts/{file}", s.handlePost)
	s.mux.HandleFunc("GET /posts.json", s.handleLatestPosts)
	s.mux.HandleFunc("POST /posts.json", s.handleCreatePost)
	s.mux.HandleFunc("GET /site.json", s.handleSite)
	s.mux.HandleFunc("GET /tag_groups.json", s.handleTagGroups)
	s.mux.HandleFunc("GET /groups/{file}", s.handleGroup)
	s.mux.HandleFunc("GET /u/{file}", s.handleUser)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeRaw(w, http.StatusNotFound, notFound)
	})
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.close)
	return s
}

// close releases blocked requests first: httptest.Server.Close waits for
// them.
func (s *Server) close() {
	s.mu.Lock()
	for _, g := range s.gates {
		g.Release()
	}
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the fake's base URL, for discourse.Options.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// APIKey is the Api-Key the fake accepts.
func (s *Server) APIKey() string { return s.key }

// APIUsername is the Api-Username the fake accepts.
func (s *Server) APIUsername() string { return s.username }

// Client returns a discourse.Client for the fake with the accepted
// credentials.
func (s *Server) Client() *discourse.Client {
	s.t.Helper()
	c, err := discourse.New(discourse.Options{
		BaseURL: s.srv.URL, APIKey: s.key, APIUsername: s.username, HTTPClient: s.srv.Client(),
	})
	if err != nil {
		s.t.Fatalf("discoursetest: %v", err)
	}
	return c
}

// Requests returns how many requests reached path ("/t/5.json", no
// query), counting rejected and failed ones.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// RateLimitJSON makes the next n requests answer like Discourse's
// application limiter: 429, Retry-After: seconds, and a JSON body with
// error_type rate_limit and extras.wait_seconds.
func (s *Server) RateLimitJSON(n, seconds int) {
	s.addFailure(failure{kind: failRateLimitJSON, n: n, seconds: seconds})
}

// RateLimitText makes the next n requests answer like Discourse's request
// tracker middleware: 429 text/plain with Retry-After and
// Discourse-Rate-Limit-Error-Code.
func (s *Server) RateLimitText(n, seconds int) {
	s.addFailure(failure{kind: failRateLimitText, n: n, seconds: seconds})
}

// Fail makes the next n requests answer status: a Discourse error JSON
// for 4xx, a plain-text page (as from the proxy in front) for 5xx.
func (s *Server) Fail(n, status int) {
	s.addFailure(failure{kind: failStatus, n: n, status: status})
}

// EnqueueNext makes the next n valid POST /posts.json answer
// {"action":"enqueued",…}, as when posts need approval; nothing is
// created.
func (s *Server) EnqueueNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueue += n
}

func (s *Server) addFailure(f failure) {
	if f.n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f)
}

// Gate holds requests to one path until released, so a test can have
// several callers in flight at once without sleeping.
type Gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

// Block makes requests to path wait at a gate (after they are counted,
// before anything else) until Release. The test's cleanup releases it too.
func (s *Server) Block(path string) *Gate {
	g := &Gate{arrived: make(chan struct{}, 1024), release: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gates[path] = g
	return g
}

// Arrived receives once for each request that reached the gate.
func (g *Gate) Arrived() <-chan struct{} { return g.arrived }

// Release lets waiting and later requests through. It is idempotent.
func (g *Gate) Release() { g.once.Do(func() { close(g.release) }) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	g := s.gates[r.URL.Path]
	s.mu.Unlock()
	if g != nil {
		select {
		case g.arrived <- struct{}{}:
		default:
		}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
	}
	if s.injectFailure(w) {
		return
	}
	if r.Header.Get("Api-Key") != s.key || r.Header.Get("Api-Username") != s.username {
		writeRaw(w, http.StatusForbidden, invalidAccess)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// injectFailure answers with the head of the failure queue, if any.
func (s *Server) injectFailure(w http.ResponseWriter) bool {
	s.mu.Lock()
	if len(s.failures) == 0 {
		s.mu.Unlock()
		return false
	}
	f := s.failures[0]
	if s.failures[0].n--; s.failures[0].n == 0 {
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()

	secs := strconv.Itoa(f.seconds)
	switch f.kind {
	case failRateLimitJSON:
		w.Header().Set("Retry-After", secs)
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"errors":     []string{"You’ve performed this action too many times. Please wait " + secs + " seconds before trying again."},
			"error_type": "rate_limit",
			"extras":     map[string]any{"wait_seconds": f.seconds, "time_left": secs + " seconds"},
		})
	case failRateLimitText:
		w.Header().Set("Retry-After", secs)
		w.Header().Set("Discourse-Rate-Limit-Error-Code", "ip_10_secs_limit")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, "Slow down, too many requests from this IP address.\nPlease retry again in %s seconds.\nError code: ip_10_secs_limit.\n", secs)
	default:
		switch {
		case f.status == http.StatusForbidden:
			writeRaw(w, f.status, invalidAccess)
		case f.status == http.StatusNotFound:
			writeRaw(w, f.status, notFound)
		case f.status >= 500:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(f.status)
			fmt.Fprintf(w, "%d %s\n", f.status, http.StatusText(f.status))
		default:
			writeJSON(w, f.status, map[string]any{"errors": []string{http.StatusText(f.status)}, "error_type": "invalid_parameters"})
		}
	}
	return true
}

// newID returns the next id of kind: one more than any id seen so far.
// Called with s.mu held.
func (s *Server) newID(kind string) int64 {
	s.nextID[kind]++
	return s.nextID[kind]
}

// seeID makes later ids of kind larger than id. Called with s.mu held.
func (s *Server) seeID(kind string, id int64) {
	s.nextID[kind] = max(s.nextID[kind], id)
}

// AddCategory stores c, filling ID (next free), Slug (from Name) and the
// colours when empty, and returns what was stored.
func (s *Server) AddCategory(c discourse.Category) discourse.Category {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		c.ID = s.newID("category")
	}
	s.seeID("category", c.ID)
	if c.Slug == "" {
		c.Slug = slugify(c.Name, "category")
	}
	if c.Color == "" {
		c.Color = "0088CC"
	}
	if c.TextColor == "" {
		c.TextColor = "FFFFFF"
	}
	s.categories = slices.DeleteFunc(s.categories, func(o discourse.Category) bool { return o.ID == c.ID })
	s.categories = append(s.categories, c)
	return c
}

// AddTopic stores t, filling ID, Slug, FancyTitle and Archetype
// (regular) when empty, and returns what was stored. Visible is taken as
// given: set it for a listed topic. Posts counts are maintained by
// AddPost.
func (s *Server) AddTopic(t discourse.Topic) discourse.Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTopicLocked(&t)
	return cloneTopic(t)
}

func (s *Server) addTopicLocked(t *discourse.Topic) {
	if t.ID == 0 {
		t.ID = s.newID("topic")
	}
	s.seeID("topic", t.ID)
	if t.Slug == "" {
		t.Slug = slugify(t.Title, "topic")
	}
	if t.FancyTitle == "" {
		t.FancyTitle = html.EscapeString(t.Title)
	}
	if t.Archetype == "" {
		t.Archetype = discourse.ArchetypeRegular
	}
	cp := cloneTopic(*t)
	s.topics[t.ID] = &cp
}

// AddPost stores p in its topic, which must exist. Zero fields get
// Discourse-like values: ID (next free), PostNumber (the topic's next),
// PostType regular, Version 1, Cooked from Raw, and the topic fields
// (title, slug, archetype, category, post_url) from the topic. The topic's
// counts and first post id follow. It returns what was stored.
func (s *Server) AddPost(p discourse.Post) discourse.Post {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addPostLocked(&p); err != nil {
		s.t.Fatalf("discoursetest: AddPost: %v", err)
	}
	return clonePost(p)
}

func (s *Server) addPostLocked(p *discourse.Post) error {
	t, ok := s.topics[p.TopicID]
	if !ok {
		return fmt.Errorf("topic %d does not exist", p.TopicID)
	}
	if p.ID == 0 {
		p.ID = s.newID("post")
	}
	s.seeID("post", p.ID)
	if p.PostNumber == 0 {
		p.PostNumber = t.HighestPostNumber + 1
	}
	if p.PostType == 0 {
		p.PostType = discourse.PostTypeRegular
	}
	if p.Version == 0 {
		p.Version = 1
	}
	if p.Cooked == "" && p.Raw != "" {
		p.Cooked = "<p>" + html.EscapeString(p.Raw) + "</p>"
	}
	if p.TopicTitle == "" {
		p.TopicTitle = t.Title
	}
	if p.TopicSlug == "" {
		p.TopicSlug = t.Slug
	}
	if p.TopicArchetype == "" {
		p.TopicArchetype = t.Archetype
	}
	if p.CategoryID == nil && t.CategoryID != nil {
		id := *t.CategoryID
		p.CategoryID = &id
	}
	if p.CategorySlug == "" && p.CategoryID != nil {
		for _, c := range s.categories {
			if c.ID == *p.CategoryID {
				p.CategorySlug = c.Slug
			}
		}
	}
	if p.PostURL == "" {
		p.PostURL = fmt.Sprintf("/t/%s/%d/%d", t.Slug, t.ID, p.PostNumber)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	if _, existed := s.posts[p.ID]; !existed {
		t.PostsCount++
	}
	t.HighestPostNumber = max(t.HighestPostNumber, p.PostNumber)
	if p.PostNumber == 1 {
		t.PostStreamFirstPostID = p.ID
	}
	cp := clonePost(*p)
	s.posts[p.ID] = &cp
	return nil
}

// AddGroup stores g (ID filled when zero) under its name.
func (s *Server) AddGroup(g discourse.Group) discourse.Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == 0 {
		g.ID = s.newID("group")
	}
	s.seeID("group", g.ID)
	s.groups[g.Name] = g
	return g
}

// AddTagGroup stores g (ID filled when zero), replacing a group of the
// same id. Permissions are keyed by group name as in the older
// serialization ("everyone", "staff", or a group's name); WithObjectTags
// serves them in the newer form, keyed by group id. A group with no
// permissions is public, as in Discourse.
func (s *Server) AddTagGroup(g discourse.TagGroup) discourse.TagGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == 0 {
		g.ID = s.newID("tag_group")
	}
	s.seeID("tag_group", g.ID)
	g = cloneTagGroup(g)
	s.tagGroups = slices.DeleteFunc(s.tagGroups, func(o discourse.TagGroup) bool { return o.ID == g.ID })
	s.tagGroups = append(s.tagGroups, g)
	return cloneTagGroup(g)
}

// AddUser stores u (ID filled when zero) under its username. Posts
// created through the API take the acting user's id from here (-1 for
// an unknown user, Discourse's system user).
func (s *Server) AddUser(u discourse.User) discourse.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.newID("user")
	}
	s.seeID("user", u.ID)
	s.users[u.Username] = u
	return u
}

// Topic returns a copy of the stored topic id.
func (s *Server) Topic(id int64) (discourse.Topic, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[id]
	if !ok {
		return discourse.Topic{}, false
	}
	return cloneTopic(*t), true
}

// Post returns a copy of the stored post id.
func (s *Server) Post(id int64) (discourse.Post, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.posts[id]
	if !ok {
		return discourse.Post{}, false
	}
	return clonePost(*p), true
}

// Posts returns copies of every stored post, oldest id first.
func (s *Server) Posts() []discourse.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedPostsLocked(func(*discourse.Post) bool { return true })
}

func (s *Server) sortedPostsLocked(keep func(*discourse.Post) bool) []discourse.Post {
	out := make([]discourse.Post, 0, len(s.posts))
	for _, p := range s.posts {
		if keep(p) {
			out = append(out, clonePost(*p))
		}
	}
	slices.SortFunc(out, func(a, b discourse.Post) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// idFromFile reads the id out of a path segment like "12.json".
func idFromFile(file string) (int64, bool) {
	s, ok := strings.CutSuffix(file, ".json")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// handleTopic serves the topic view: the topic with details (created_by,
// allowed_groups for PMs) and post_stream (every post id, the first 20
// posts), tags in the configured form.
func (s *Server) handleTopic(w http.ResponseWriter, r *http.Request) {
	id, ok := idFromFile(r.PathValue("file"))
	s.mu.Lock()
	stored, found := s.topics[id]
	if !ok || !found {
		s.mu.Unlock()
		writeRaw(w, http.StatusNotFound, notFound)
		return
	}
	t := cloneTopic(*stored)
	if s.notStaff {
		hidden := discourse.HiddenTagNames(s.tagGroups)
		t.Tags = slices.DeleteFunc(t.Tags, hidden.Has)
	}
	obj, err := s.topicObjectLocked(t, s.objectTags)
	posts := s.sortedPostsLocked(func(p *discourse.Post) bool { return p.TopicID == id && p.DeletedAt == nil })
	var groups []map[string]any
	if t.AllowedGroups != nil {
		groups = make([]map[string]any, 0, len(t.AllowedGroups))
		for _, name := range t.AllowedGroups {
			groups = append(groups, map[string]any{"id": s.groups[name].ID, "name": name})
		}
	}
	s.mu.Unlock()
	if err != nil {
		writeRaw(w, http.StatusInternalServerError, `{"errors":["fake: cannot encode topic"]}`)
		return
	}
	slices.SortFunc(posts, func(a, b discourse.Post) int { return cmp.Compare(a.PostNumber, b.PostNumber) })
	stream := make([]int64, 0, len(posts))
	for _, p := range posts {
		stream = append(stream, p.ID)
	}
	obj["post_stream"] = map[string]any{"stream": stream, "posts": posts[:min(len(posts), 20)]}
	details := map[string]any{"created_by": t.CreatedBy}
	if groups != nil {
		details["allowed_groups"] = groups
	}
	// The topic view nests the creator under details; the webhook puts
	// it at the top level.
	delete(obj, "created_by")
	obj["details"] = details
	writeJSON(w, http.StatusOK, obj)
}

// topicObjectLocked is t as a JSON object with tags in the requested
// form. Called with s.mu held, because object tags get stable ids.
func (s *Server) topicObjectLocked(t discourse.Topic, objectTags bool) (map[string]any, error) {
	obj, err := toObject(t)
	if err != nil {
		return nil, err
	}
	if objectTags {
		obj["tags"] = s.tagObjectsLocked(t.Tags)
	}
	return obj, nil
}

func (s *Server) tagObjectsLocked(tags discourse.Tags) []map[string]any {
	out := make([]map[string]any, 0, len(tags))
	for _, name := range tags {
		id, ok := s.tagIDs[name]
		if !ok {
			id = int64(len(s.tagIDs) + 1)
			s.tagIDs[name] = id
		}
		out = append(out, map[string]any{"id": id, "name": name, "slug": name})
	}
	return out
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	id, ok := idFromFile(r.PathValue("file"))
	s.mu.Lock()
	p, found := s.posts[id]
	var cp discourse.Post
	if found {
		cp = clonePost(*p)
	}
	s.mu.Unlock()
	if !ok || !found || cp.DeletedAt != nil {
		writeRaw(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

// handleLatestPosts serves GET /posts.json: newest first, ids below
// ?before= when given, one page. Like Discourse it leaves out private
// messages and deleted posts.
func (s *Server) handleLatestPosts(w http.ResponseWriter, r *http.Request) {
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"before must be an integer"}, "error_type": "invalid_parameters"})
			return
		}
		before = n
	}
	s.mu.Lock()
	posts := s.sortedPostsLocked(func(p *discourse.Post) bool {
		t := s.topics[p.TopicID]
		return p.DeletedAt == nil && (before <= 0 || p.ID < before) &&
			t != nil && t.Archetype != discourse.ArchetypePrivateMessage
	})
	size := s.pageSize
	s.mu.Unlock()
	slices.Reverse(posts)
	writeJSON(w, http.StatusOK, map[string]any{"latest_posts": posts[:min(len(posts), size)]})
}

// createRequest is the JSON body of POST /posts.json the fake reads.
type createRequest struct {
	Title     string         `json:"title"`
	Raw       string         `json:"raw"`
	Category  int64          `json:"category"`
	TopicID   int64          `json:"topic_id"`
	Tags      discourse.Tags `json:"tags"`
	CreatedAt *time.Time     `json:"created_at"`
}

// handleCreatePost creates a topic (no topic_id) or a reply and answers
// the post at the top level, as Discourse does without nested_post.
func (s *Server) handleCreatePost(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"invalid JSON body"}, "error_type": "invalid_parameters"})
		return
	}
	if strings.TrimSpace(req.Raw) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"param is missing or the value is empty: raw"}, "error_type": "invalid_parameters"})
		return
	}
	var errs []string
	if req.TopicID == 0 && utf8.RuneCountInString(strings.TrimSpace(req.Title)) < MinTitleLength {
		errs = append(errs, fmt.Sprintf("Title is too short (minimum is %d characters)", MinTitleLength))
	}
	if utf8.RuneCountInString(strings.TrimSpace(req.Raw)) < MinPostLength {
		errs = append(errs, fmt.Sprintf("Body is too short (minimum is %d characters)", MinPostLength))
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"action": "create_post", "errors": errs})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if req.TopicID != 0 && s.topics[req.TopicID] == nil {
		writeRaw(w, http.StatusNotFound, notFound)
		return
	}
	if s.enqueue > 0 {
		s.enqueue--
		writeJSON(w, http.StatusOK, map[string]any{
			"action": "enqueued", "success": true, "pending_count": 1,
			"pending_post": map[string]any{"id": s.newID("reviewable"), "raw": req.Raw},
		})
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if req.CreatedAt != nil {
		now = req.CreatedAt.UTC()
	}
	userID := int64(-1)
	if u, ok := s.users[s.username]; ok {
		userID = u.ID
	}
	if req.TopicID == 0 {
		t := discourse.Topic{
			Title: req.Title, Tags: req.Tags, Visible: true, CreatedAt: now,
			CreatedBy: &discourse.BasicUser{ID: userID, Username: s.username},
		}
		if req.Category != 0 {
			t.CategoryID = &req.Category
		}
		s.addTopicLocked(&t)
		req.TopicID = t.ID
	}
	p := discourse.Post{TopicID: req.TopicID, UserID: userID, Username: s.username, Raw: req.Raw, CreatedAt: now}
	if err := s.addPostLocked(&p); err != nil {
		writeRaw(w, http.StatusInternalServerError, `{"errors":["fake: cannot store post"]}`)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleSite(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	cats := slices.Clone(s.categories)
	groups := make([]discourse.Group, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	var top discourse.Tags
	for _, t := range s.topics {
		for _, tag := range t.Tags {
			if !slices.Contains(top, tag) {
				top = append(top, tag)
			}
		}
	}
	slices.Sort(top)
	var topTags any = top
	if s.objectTags {
		topTags = s.tagObjectsLocked(top)
	}
	s.mu.Unlock()
	slices.SortFunc(groups, func(a, b discourse.Group) int { return cmp.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{
		"categories": cats, "can_tag_topics": true, "top_tags": topTags, "groups": groups,
	})
}

// autoGroupID is the id of one of Discourse's automatic groups
// (Group::AUTO_GROUPS), for the newer tag-group serialization, which keys
// permissions by group id.
func autoGroupID(name string) (int64, bool) {
	switch name {
	case "everyone":
		return 0, true
	case "admins":
		return 1, true
	case "moderators":
		return 2, true
	case "staff":
		return 3, true
	}
	if n, ok := strings.CutPrefix(name, "trust_level_"); ok && len(n) == 1 && n[0] >= '0' && n[0] <= '4' {
		return 10 + int64(n[0]-'0'), true
	}
	return 0, false
}

// handleTagGroups serves GET /tag_groups.json, ordered by name as
// Discourse orders it: 403 for a user who is not staff; tag_names,
// parent_tag_name and name-keyed permissions, or with WithObjectTags the
// newer tags, parent_tag and id-keyed permissions.
func (s *Server) handleTagGroups(w http.ResponseWriter, _ *http.Request) {
	if s.notStaff {
		writeRaw(w, http.StatusForbidden, notStaff)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := make([]discourse.TagGroup, 0, len(s.tagGroups))
	for _, g := range s.tagGroups {
		groups = append(groups, cloneTagGroup(g))
	}
	slices.SortFunc(groups, func(a, b discourse.TagGroup) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		perms := g.Permissions
		if len(perms) == 0 {
			perms = map[string]int{"everyone": discourse.TagGroupPermissionFull}
		}
		if !s.objectTags {
			g.Permissions = perms
			out = append(out, g)
			continue
		}
		byID := make(map[string]int, len(perms))
		for name, level := range perms {
			id, ok := autoGroupID(name)
			if !ok {
				id = s.groups[name].ID
			}
			byID[strconv.FormatInt(id, 10)] = level
		}
		parent := s.tagObjectsLocked(g.ParentTagNames)
		out = append(out, map[string]any{
			"id": g.ID, "name": g.Name, "tags": s.tagObjectsLocked(g.TagNames), "parent_tag": parent,
			"one_per_topic": g.OnePerTopic, "permissions": byID,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tag_groups": out})
}

func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	g, ok := s.groups[name]
	s.mu.Unlock()
	if !ok {
		writeRaw(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"group": g, "extras": map[string]any{"visible_group_names": []string{g.Name}}})
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	u, ok := s.users[name]
	s.mu.Unlock()
	if !ok {
		writeRaw(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "user_badges": []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeRaw(w, http.StatusInternalServerError, `{"errors":["fake: cannot encode response"]}`)
		return
	}
	writeRaw(w, status, string(data))
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the client going away is not the fake's concern
}

// toObject turns v into a JSON object (numbers kept exact) so the fake
// can add and remove keys the way Discourse's serializers differ.
func toObject(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// slugify approximates Discourse's ASCII slugs; fallback is used for an
// empty result, as Discourse uses "topic".
func slugify(s, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return fallback
	}
	return out
}

func cloneTopic(t discourse.Topic) discourse.Topic {
	t.Tags = slices.Clone(t.Tags)
	t.AllowedGroups = slices.Clone(t.AllowedGroups)
	if t.CategoryID != nil {
		id := *t.CategoryID
		t.CategoryID = &id
	}
	if t.CreatedBy != nil {
		u := *t.CreatedBy
		t.CreatedBy = &u
	}
	return t
}

func cloneTagGroup(g discourse.TagGroup) discourse.TagGroup {
	g.TagNames = slices.Clone(g.TagNames)
	g.ParentTagNames = slices.Clone(g.ParentTagNames)
	g.Permissions = maps.Clone(g.Permissions)
	return g
}

func clonePost(p discourse.Post) discourse.Post {
	if p.CategoryID != nil {
		id := *p.CategoryID
		p.CategoryID = &id
	}
	if p.DeletedAt != nil {
		d := *p.DeletedAt
		p.DeletedAt = &d
	}
	return p
}
