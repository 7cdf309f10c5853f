package main

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is the contract the tool is written against while the real
// /webhooks/discourse is being built: the GraphQL mutations it calls and a
// webhook endpoint that verifies Discourse's signature and delivers each
// post, as the generic webhook provider would, to every channel whose
// WATCH rule matches the post's category.
//
// It delivers synchronously, before answering the webhook, so every
// delivery (duplicates included) has reached the sink by the time the
// tool has its last webhook answer, and tests need no waiting.
type fakeServer struct {
	t      *testing.T
	key    string
	secret string
	srv    *httptest.Server
	client *http.Client

	// dup and drop choose, by the order in which webhooks are handled
	// (0-based), posts to deliver twice and posts to never deliver.
	// unanswered chooses posts that are delivered but answered 503, like
	// a server killed after its commit and before its answer.
	dup, drop, unanswered func(n int) bool
	// refuseChannel chooses, by creation order (0-based), channels whose
	// createChannel fails.
	refuseChannel func(n int) bool

	mu          sync.Mutex
	enabled     bool
	everEnabled bool
	nextID      int
	channels    map[string]string  // id → data.url
	names       map[string]string  // id → name
	rules       map[string]float64 // channel id → categoryId
	deleted     []string
	handled     int
	got429      int
	delivered   int
}

func newFakeServer(t *testing.T, key, secret string) *fakeServer {
	t.Helper()
	f := &fakeServer{
		t: t, key: key, secret: secret,
		client:   &http.Client{Timeout: 10 * time.Second},
		channels: map[string]string{}, names: map[string]string{}, rules: map[string]float64{},
		dup: func(int) bool { return false }, drop: func(int) bool { return false },
		unanswered:    func(int) bool { return false },
		refuseChannel: func(int) bool { return false },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", f.graphql)
	mux.HandleFunc("POST /webhooks/discourse", f.webhook)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) URL() string { return f.srv.URL }

func gqlAnswer(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func gqlFail(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

func (f *fakeServer) graphql(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		gqlFail(w, "UNAUTHENTICATED", "a valid API key is required")
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gqlFail(w, "BAD_USER_INPUT", err.Error())
		return
	}
	v := req.Variables
	f.mu.Lock()
	defer f.mu.Unlock()
	switch q := req.Query; {
	case strings.Contains(q, "configureProvider"):
		enabled, ok := v["enabled"].(bool)
		if v["id"] != "webhook" || !ok {
			gqlFail(w, "BAD_USER_INPUT", "configureProvider wants id webhook and a boolean")
			return
		}
		f.enabled = enabled
		f.everEnabled = f.everEnabled || enabled
		gqlAnswer(w, map[string]any{"configureProvider": map[string]any{"enabled": f.enabled}})
	case strings.Contains(q, "provider("):
		gqlAnswer(w, map[string]any{"provider": map[string]any{"enabled": f.enabled}})
	case strings.Contains(q, "createChannel"):
		data, _ := v["data"].(map[string]any)
		url, _ := data["url"].(string)
		name, _ := v["name"].(string)
		// The webhook provider requires exactly name and url.
		if !strings.Contains(q, `provider:"webhook"`) || len(data) != 2 || data["name"] != name ||
			!strings.HasPrefix(url, "http://") || name == "" {
			gqlFail(w, "BAD_USER_INPUT", fmt.Sprintf("bad createChannel: %s %v", q, v))
			return
		}
		if f.refuseChannel(f.nextID) {
			gqlFail(w, "CONFLICT", "a channel with this url already exists")
			return
		}
		f.nextID++
		id := fmt.Sprint(f.nextID)
		f.channels[id], f.names[id] = url, name
		gqlAnswer(w, map[string]any{"createChannel": map[string]any{"id": id}})
	case strings.Contains(q, "createRule"):
		id, _ := v["channel"].(string)
		cat, isNumber := v["category"].(float64) // categoryId is an Int
		if _, ok := f.channels[id]; !ok || !isNumber || !strings.Contains(q, "filter:WATCH") {
			gqlFail(w, "BAD_USER_INPUT", fmt.Sprintf("bad createRule: %s %v", q, v))
			return
		}
		f.rules[id] = cat
		gqlAnswer(w, map[string]any{"createRule": map[string]any{"id": "r" + id}})
	case strings.Contains(q, "deleteChannel"):
		id, _ := v["id"].(string)
		if _, ok := f.channels[id]; !ok {
			gqlFail(w, "NOT_FOUND", "no channel "+id)
			return
		}
		delete(f.channels, id)
		delete(f.rules, id)
		f.deleted = append(f.deleted, id)
		gqlAnswer(w, map[string]any{"deleteChannel": id})
	default:
		gqlFail(w, "BAD_USER_INPUT", "the fake does not know "+q)
	}
}

// webhook verifies a Discourse post webhook and delivers it.
func (f *fakeServer) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !hmac.Equal([]byte(r.Header.Get("X-Discourse-Event-Signature")), []byte(signature(f.secret, body))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("X-Discourse-Event") != "post_created" || r.Header.Get("X-Discourse-Event-Type") != "post" ||
		r.Header.Get("X-Discourse-Event-Id") == "" || r.Header.Get("X-Discourse-Instance") == "" {
		http.Error(w, "not a post_created webhook", http.StatusBadRequest)
		return
	}
	var in struct {
		Post struct {
			ID         int64  `json:"id"`
			TopicID    int64  `json:"topic_id"`
			PostNumber int    `json:"post_number"`
			Version    int    `json:"version"`
			CategoryID int    `json:"category_id"`
			TopicTitle string `json:"topic_title"`
			Raw        string `json:"raw"`
			Cooked     string `json:"cooked"`
			Username   string `json:"username"`
			CreatedAt  string `json:"created_at"`
			PostURL    string `json:"post_url"`
		} `json:"post"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Post.ID == 0 {
		http.Error(w, "bad post", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	n := f.handled
	f.handled++
	var urls []string
	if f.enabled {
		for id, cat := range f.rules {
			if int(cat) == in.Post.CategoryID {
				urls = append(urls, f.channels[id])
			}
		}
	}
	f.mu.Unlock()

	p := in.Post
	doc := map[string]any{
		"event": "post_created",
		"site":  map[string]any{"title": "Forum", "base_url": "https://forum.example.org", "logo_url": ""},
		"topic": map[string]any{"id": p.TopicID, "title": p.TopicTitle, "url": "https://forum.example.org/t/" + fmt.Sprint(p.TopicID), "tags": []string{}, "category": nil},
		"post": map[string]any{
			"id": p.ID, "number": p.PostNumber, "version": p.Version, "url": "https://forum.example.org" + p.PostURL,
			"cooked": p.Cooked, "raw": p.Raw, "created_at": p.CreatedAt,
		},
		"author": map[string]any{"username": p.Username, "name": "", "display_name": "", "avatar_url": "", "profile_url": ""},
		"text":   p.TopicTitle,
	}
	if f.drop(n) {
		urls = nil
	}
	for _, url := range urls {
		// Like the real provider's, the id is the same for every send of
		// this post to this channel.
		doc["delivery_id"] = fmt.Sprintf("fake.%d.%s", p.ID, url)
		out, err := json.Marshal(doc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		times := 1
		if f.dup(n) {
			times = 2
		}
		for range times {
			if err := f.deliver(url, out); err != nil {
				f.t.Errorf("deliver post %d to %s: %v", p.ID, url, err)
			}
		}
	}
	if f.unanswered(n) {
		http.Error(w, "the answer is lost", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// deliver POSTs body to url like the generic webhook provider, retrying
// at once on 429 (a real server waits Retry-After; the fake only checks
// that it was sent).
func (f *fakeServer) deliver(url string, body []byte) error {
	for range 1000 {
		resp, err := f.client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		reply, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				return fmt.Errorf("429 with Retry-After %q", ra)
			}
			f.mu.Lock()
			f.got429++
			f.mu.Unlock()
			continue
		case http.StatusOK:
			var receipt struct{ ID string }
			if err := json.Unmarshal(reply, &receipt); err != nil || receipt.ID == "" {
				return fmt.Errorf("receipt %q has no id", reply)
			}
			f.mu.Lock()
			f.delivered++
			f.mu.Unlock()
			return nil
		default:
			return fmt.Errorf("sink answered %d: %s", resp.StatusCode, reply)
		}
	}
	return fmt.Errorf("still throttled after 1000 attempts")
}

// fakeState is a copy of what the fake recorded.
type fakeState struct {
	enabled, everEnabled bool
	channels             map[string]string
	rules                map[string]float64
	deleted              []string
	got429, delivered    int
}

func (f *fakeServer) state() fakeState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := fakeState{
		enabled: f.enabled, everEnabled: f.everEnabled,
		channels: map[string]string{}, rules: map[string]float64{},
		deleted: append([]string(nil), f.deleted...), got429: f.got429, delivered: f.delivered,
	}
	for k, v := range f.channels {
		st.channels[k] = v
	}
	for k, v := range f.rules {
		st.rules[k] = v
	}
	return st
}
