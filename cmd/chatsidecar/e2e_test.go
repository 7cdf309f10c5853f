package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/delivery"
	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// webhookSecret is the Discourse webhook secret of the test stacks.
const webhookSecret = "e2e-webhook-secret"

// stack is the whole sidecar in-process: store, engine, intake and HTTP
// server on a loopback port, as `serve` wires them.
type stack struct {
	t     *testing.T
	url   string
	key   string
	st    *store.Store
	app   *app
	stop  func()
	slack *fakeSlack
}

type stackOptions struct {
	env   map[string]string
	tweak func(*delivery.Options)
}

// fastRetries makes the engine's backoff short enough for tests.
func fastRetries(o *delivery.Options) {
	o.RetryBase, o.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	o.PollInterval = 20 * time.Millisecond
}

func newStack(t *testing.T, db storetest.DB, so stackOptions) *stack {
	t.Helper()
	env := map[string]string{
		"CHATSIDECAR_DATABASE_URL":             db.URL,
		"CHATSIDECAR_DATA_DIR":                 t.TempDir(),
		"CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET": webhookSecret,
		"CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE":   "true",
		"CHATSIDECAR_SHUTDOWN_TIMEOUT":         "5s",
	}
	for k, v := range so.env {
		env[k] = v
	}
	cfg, _, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	c := &cli{stdout: io.Discard, stderr: io.Discard, cfg: cfg, log: slog.New(slog.DiscardHandler)}
	// The registry serve builds, outbound policy included: the fakes are
	// on 127.0.0.1, which CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE allows.
	reg, err := c.registry()
	require.NoError(t, err)
	st := storetest.Open(t, db, reg)
	tweak := so.tweak
	if tweak == nil {
		tweak = fastRetries
	}
	a, err := c.buildApp(context.Background(), st, reg, tweak)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	key, _, err := st.CreateAPIKey(context.Background(), "e2e")
	require.NoError(t, err)
	s := &stack{t: t, url: "http://" + ln.Addr().String(), key: key, st: st, app: a}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(s.stop)
	return s
}

// gql runs a GraphQL operation and fails the test on errors.
func (s *stack) gql(query string, vars map[string]any, out any) {
	s.t.Helper()
	errs := s.gqlErrors(query, vars, out)
	require.Empty(s.t, errs, "graphql errors")
}

func (s *stack) gqlErrors(query string, vars map[string]any, out any) []map[string]any {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage  `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&r))
	if out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		require.NoError(s.t, json.Unmarshal(r.Data, out))
	}
	return r.Errors
}

// requireError sends query and requires exactly one error with the given
// extensions.code and, unless field is "", extensions.field.
func (s *stack) requireError(query string, vars map[string]any, code, field string) {
	s.t.Helper()
	errs := s.gqlErrors(query, vars, nil)
	require.Len(s.t, errs, 1, "%s %v", query, vars)
	ext := errs[0]["extensions"].(map[string]any)
	require.Equal(s.t, code, ext["code"], "%s %v", query, vars)
	if field != "" {
		require.Equal(s.t, field, ext["field"], "%s %v", query, vars)
	}
}

// slackChannel configures Slack against the fake and creates a channel
// with one rule; it returns the channel id.
// requireBatchInputErrors checks the bad input of a mutation over a
// channel's deliveries (retryFailedDeliveries, cancelDeliveries): a limit
// outside 1–1000, a malformed channel id, and an unknown channel.
func (s *stack) requireBatchInputErrors(mutation, channelID string) {
	s.t.Helper()
	for _, c := range []struct {
		vars        map[string]any
		code, field string
	}{
		{map[string]any{"c": channelID, "limit": 0}, "BAD_USER_INPUT", "limit"},
		{map[string]any{"c": channelID, "limit": 1001}, "BAD_USER_INPUT", "limit"},
		{map[string]any{"c": "x"}, "BAD_USER_INPUT", "channelId"},
		{map[string]any{"c": "999999"}, "NOT_FOUND", ""},
	} {
		s.requireError(`mutation($c: ID!, $limit: Int) { `+mutation+`(channelId: $c, limit: $limit) { remaining } }`,
			c.vars, c.code, c.field)
	}
}

func (s *stack) slackChannel(name, filter string, categoryID int) string {
	s.t.Helper()
	if s.slack == nil {
		s.slack = newFakeSlack(s.t)
		s.gql(`mutation($s: JSON!) { configureProvider(input: {id: "slack", enabled: true, settings: $s}) { id } }`,
			map[string]any{"s": map[string]any{"access_token": "xoxb-e2e-token", "api_base_url": s.slack.URL}}, nil)
	}
	var out struct{ CreateChannel struct{ ID string } }
	s.gql(`mutation($d: JSON!, $n: String!) { createChannel(input: {provider: "slack", name: $n, data: $d}) { id } }`,
		map[string]any{"n": name, "d": map[string]any{"identifier": "#" + name}}, &out)
	if filter != "" {
		s.rule(out.CreateChannel.ID, filter, categoryID)
	}
	return out.CreateChannel.ID
}

func (s *stack) rule(channelID, filter string, categoryID int) {
	s.t.Helper()
	s.gql(`mutation($c: ID!, $cat: Int) { createRule(input: {channelId: $c, filter: `+filter+`, type: NORMAL, categoryId: $cat}) { id } }`,
		map[string]any{"c": channelID, "cat": categoryID}, nil)
}

// webhook posts a signed (or, with secret "", unsigned) Discourse webhook.
func (s *stack) webhook(event string, body []byte, secret string) (int, string) {
	s.t.Helper()
	req := discoursetest.SignedRequest(s.url+"/webhooks/discourse", secret, event, body)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deliveries lists deliveries of a channel, newest first.
type deliveryView struct {
	ID          string
	Status      string
	Attempts    int
	Action      string
	RemoteID    *string
	DeliveredAt *string
	LastError   *struct{ Key, Message string }
}

func (s *stack) deliveries(channelID string) []deliveryView {
	s.t.Helper()
	var out struct {
		Deliveries struct{ Edges []struct{ Node deliveryView } }
	}
	var c any
	if channelID != "" {
		c = channelID
	}
	s.gql(`query($c: ID) { deliveries(filter: {channelId: $c}, first: 200) { edges { node {
		id status attempts action remoteId deliveredAt lastError { key message } } } } }`,
		map[string]any{"c": c}, &out)
	var ds []deliveryView
	for _, e := range out.Deliveries.Edges {
		ds = append(ds, e.Node)
	}
	return ds
}

// waitDeliveries waits until the channel's deliveries all reach a final
// status and returns them.
func (s *stack) waitDeliveries(channelID string, n int) []deliveryView {
	s.t.Helper()
	var ds []deliveryView
	require.Eventually(s.t, func() bool {
		ds = s.deliveries(channelID)
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status != "DELIVERED" && d.Status != "FAILED" && d.Status != "CANCELLED" {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "deliveries of channel %s: %+v", channelID, ds)
	return ds
}

// post is a post_created payload in category cat.
func post(id, topicID int64, number int, cat int64, raw string) discourse.Post {
	return discourse.Post{
		ID: id, TopicID: topicID, PostNumber: number, PostType: 1, Version: 1,
		Username: "jane", Name: "Jane Doe", AvatarTemplate: "/user_avatar/forum.example.org/jane/{size}/1_2.png",
		Cooked: "<p>" + raw + "</p>", Raw: raw, TopicTitle: "Release notes for 3.2", TopicSlug: "release-notes-for-3-2",
		TopicArchetype: "regular", CategorySlug: "announcements", CategoryID: &cat,
		PostURL:   "/t/release-notes-for-3-2/" + strconv.FormatInt(topicID, 10) + "/" + strconv.Itoa(number),
		CreatedAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}
}

// fakeSlack is the Slack Web API as the delivery path uses it, with a
// script of failures to answer before succeeding.
type fakeSlack struct {
	*httptest.Server
	mu       sync.Mutex
	messages []map[string]any // chat.postMessage bodies that succeeded
	updates  []map[string]any
	deletes  []map[string]any
	calls    []time.Time // every chat.postMessage call, failed or not
	script   []func(w http.ResponseWriter) bool
	// checks counts auth.test calls; checkScript answers the next ones.
	checks      int
	checkScript []func(w http.ResponseWriter)
	ts          int
	// hold, when set, makes the next chat.postMessage signal arrival and
	// wait for release before answering (holdNext).
	hold *hold
}

type hold struct{ arrived, release chan struct{} }

// holdNext makes the next chat.postMessage call signal its arrival and
// wait for release before it is answered; later calls are not held.
func (f *fakeSlack) holdNext() *hold {
	h := &hold{arrived: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.hold = h
	f.mu.Unlock()
	return h
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// fail queues a scripted answer for the next chat.postMessage calls.
func (f *fakeSlack) fail(n int, answer func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.script = append(f.script, func(w http.ResponseWriter) bool { answer(w); return true })
	}
}

// rateLimit answers the next n chat calls with 429 and Retry-After.
func (f *fakeSlack) rateLimit(n int, retryAfter string) {
	f.fail(n, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
	})
}

// failCheck queues a scripted answer for the next auth.test calls.
func (f *fakeSlack) failCheck(n int, answer func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.checkScript = append(f.checkScript, answer)
	}
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer xoxb-e2e-token" {
		writeSlack(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	var h *hold
	f.mu.Lock()
	if r.URL.Path == "/api/chat.postMessage" {
		h, f.hold = f.hold, nil
	}
	f.mu.Unlock()
	if h != nil {
		close(h.arrived)
		<-h.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/api/chat.postMessage":
		f.calls = append(f.calls, time.Now())
		if len(f.script) > 0 {
			next := f.script[0]
			f.script = f.script[1:]
			if next(w) {
				return
			}
		}
		f.ts++
		ts := fmt.Sprintf("1700000000.%06d", f.ts)
		f.messages = append(f.messages, body)
		writeSlack(w, map[string]any{"ok": true, "channel": "C0123", "ts": ts})
	case "/api/chat.update":
		f.updates = append(f.updates, body)
		writeSlack(w, map[string]any{"ok": true, "channel": "C0123", "ts": body["ts"]})
	case "/api/chat.delete":
		f.deletes = append(f.deletes, body)
		writeSlack(w, map[string]any{"ok": true, "channel": "C0123", "ts": body["ts"]})
	case "/api/auth.test":
		f.checks++
		if len(f.checkScript) > 0 {
			next := f.checkScript[0]
			f.checkScript = f.checkScript[1:]
			next(w)
			return
		}
		writeSlack(w, map[string]any{"ok": true})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeSlack) sent() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.messages...)
}

func (f *fakeSlack) checkCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks
}

func (f *fakeSlack) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

func writeSlack(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func TestE2E_WebhookToSlack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		watch := s.slackChannel("watchers", "WATCH", 5)
		follow := s.slackChannel("followers", "FOLLOW", 5)
		muted := s.slackChannel("muted", "WATCH", 5)
		s.rule(muted, "MUTE", 5)
		other := s.slackChannel("elsewhere", "WATCH", 6)

		first := discoursetest.PostPayload(post(101, 50, 1, 5, "We shipped **3.2** today."))
		// Unsigned and forged requests are refused and store nothing.
		code, _ := s.webhook("post_created", first, "")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = s.webhook("post_created", first, "not-the-right-secret")
		require.Equal(t, http.StatusUnauthorized, code)
		require.Empty(t, s.deliveries(""))

		code, body := s.webhook("post_created", first, webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.JSONEq(t, `{"status":"accepted","eventId":`+jsonNumber(t, body, "eventId")+`,"deliveries":2}`, body)
		// Discourse retries with a new event id; still one message.
		code, body = s.webhook("post_created", first, webhookSecret)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"duplicate"`)

		reply := discoursetest.PostPayload(post(102, 50, 2, 5, "Congrats!"))
		code, _ = s.webhook("post_created", reply, webhookSecret)
		require.Equal(t, http.StatusOK, code)

		require.Len(t, s.waitDeliveries(watch, 2), 2, "watch gets the topic and the reply")
		fd := s.waitDeliveries(follow, 1)
		require.Len(t, fd, 1, "follow gets only the first post")
		require.Empty(t, s.deliveries(muted), "mute wins over watch on one channel")
		require.Empty(t, s.deliveries(other), "another category")

		for _, d := range append(s.deliveries(watch), fd...) {
			require.Equal(t, "DELIVERED", d.Status)
			require.Equal(t, 1, d.Attempts)
			require.NotNil(t, d.RemoteID)
		}
		sent := s.slack.sent()
		require.Len(t, sent, 3)
		byChannel := map[string]int{}
		for _, m := range sent {
			byChannel[m["channel"].(string)]++
		}
		require.Equal(t, map[string]int{"watchers": 2, "followers": 1}, byChannel)
		for _, m := range sent {
			if m["channel"] == "followers" {
				got, err := json.MarshalIndent(m, "", "  ")
				require.NoError(t, err)
				golden(t, "testdata/slack_post_created.golden.json", got)
			}
		}
	})
}

func jsonNumber(t *testing.T, body, key string) string {
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	return strconv.FormatFloat(m[key].(float64), 'f', -1, 64)
}

func TestE2E_Failures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})

		// 429 with Retry-After: 2 → delivered after at least 2 s, the
		// rate-limited call not counted as an attempt.
		limited := s.slackChannel("limited", "WATCH", 7)
		s.slack.rateLimit(1, "2")
		code, _ := s.webhook("post_created", discoursetest.PostPayload(post(201, 60, 1, 7, "hello")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds := s.waitDeliveries(limited, 1)
		require.Equal(t, "DELIVERED", ds[0].Status)
		require.Equal(t, 1, ds[0].Attempts, "the 429 spent no attempt")
		calls := s.slack.callTimes()
		require.Len(t, calls, 2)
		require.GreaterOrEqual(t, calls[1].Sub(calls[0]), 2*time.Second, "Retry-After honoured")

		// Five 500s then 200 → delivered on the sixth attempt.
		flaky := s.slackChannel("flaky", "WATCH", 8)
		s.slack.fail(5, func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
		code, _ = s.webhook("post_created", discoursetest.PostPayload(post(202, 61, 1, 8, "again")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds = s.waitDeliveries(flaky, 1)
		require.Equal(t, "DELIVERED", ds[0].Status)
		require.Equal(t, 6, ds[0].Attempts)

		// channel_not_found → failed at once; the channel shows the key.
		gone := s.slackChannel("gone", "WATCH", 9)
		s.slack.fail(1, func(w http.ResponseWriter) {
			writeSlack(w, map[string]any{"ok": false, "error": "channel_not_found"})
		})
		code, _ = s.webhook("post_created", discoursetest.PostPayload(post(203, 62, 1, 9, "lost")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds = s.waitDeliveries(gone, 1)
		require.Equal(t, "FAILED", ds[0].Status)
		require.Equal(t, 1, ds[0].Attempts)
		require.Equal(t, "chat_integration.provider.slack.errors.channel_not_found", ds[0].LastError.Key)
		var ch struct {
			Channel struct{ LastError *struct{ Key string } }
		}
		s.gql(`query($id: ID!) { channel(id: $id) { lastError { key } } }`, map[string]any{"id": gone}, &ch)
		require.NotNil(t, ch.Channel.LastError)
		require.Equal(t, "chat_integration.provider.slack.errors.channel_not_found", ch.Channel.LastError.Key)

		// retryDelivery sends it again; success clears the channel's error.
		var rd struct{ RetryDelivery struct{ Status string } }
		s.gql(`mutation($id: ID!) { retryDelivery(id: $id) { status } }`, map[string]any{"id": ds[0].ID}, &rd)
		require.Equal(t, "QUEUED", rd.RetryDelivery.Status)
		ds = s.waitDeliveries(gone, 1)
		require.Equal(t, "DELIVERED", ds[0].Status)
		s.gql(`query($id: ID!) { channel(id: $id) { lastError { key } } }`, map[string]any{"id": gone}, &ch)
		require.Nil(t, ch.Channel.LastError)

		// A delivered delivery cannot be retried.
		errs := s.gqlErrors(`mutation($id: ID!) { retryDelivery(id: $id) { status } }`, map[string]any{"id": ds[0].ID}, nil)
		require.Len(t, errs, 1)
		require.Equal(t, "BAD_USER_INPUT", errs[0]["extensions"].(map[string]any)["code"])
	})
}

// TestE2E_RetryFailedDeliveriesOfAChannel: a channel whose deliveries
// failed for good (the bot was removed: channel_not_found) is fixed, and
// retryFailedDeliveries queues them again oldest first, in calls bounded
// by limit, leaving out those created before since; each is delivered.
func TestE2E_RetryFailedDeliveriesOfAChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("outage", "WATCH", 11)
		notFound := func(w http.ResponseWriter) { writeSlack(w, map[string]any{"ok": false, "error": "channel_not_found"}) }
		s.slack.fail(3, notFound)
		send := func(postID, topicID int64) {
			code, body := s.webhook("post_created", discoursetest.PostPayload(post(postID, topicID, 1, 11, "during the outage")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
		}
		send(1101, 501)
		s.waitDeliveries(ch, 1)
		var cut struct {
			Deliveries struct {
				Edges []struct{ Node struct{ CreatedAt time.Time } }
			}
		}
		s.gql(`query($c: ID) { deliveries(filter: {channelId: $c}) { edges { node { createdAt } } } }`, map[string]any{"c": ch}, &cut)
		since := cut.Deliveries.Edges[0].Node.CreatedAt.Add(time.Millisecond)
		send(1102, 502)
		send(1103, 503)
		ds := s.waitDeliveries(ch, 3)
		for _, d := range ds {
			require.Equal(t, "FAILED", d.Status)
		}
		oldest, middle, newest := ds[2].ID, ds[1].ID, ds[0].ID // the list is newest first

		type result struct {
			RetryFailedDeliveries struct {
				Deliveries []struct{ ID, Status string }
				Remaining  int
			}
		}
		retry := func(vars map[string]any) result {
			var r result
			s.gql(`mutation($c: ID!, $since: Time, $limit: Int) {
				retryFailedDeliveries(channelId: $c, since: $since, limit: $limit) { deliveries { id status } remaining } }`, vars, &r)
			return r
		}
		r := retry(map[string]any{"c": ch, "since": since, "limit": 1})
		require.Len(t, r.RetryFailedDeliveries.Deliveries, 1)
		require.Equal(t, middle, r.RetryFailedDeliveries.Deliveries[0].ID, "oldest first, and none before since")
		require.Equal(t, "QUEUED", r.RetryFailedDeliveries.Deliveries[0].Status)
		require.Equal(t, 1, r.RetryFailedDeliveries.Remaining)
		r = retry(map[string]any{"c": ch, "since": since})
		require.Len(t, r.RetryFailedDeliveries.Deliveries, 1)
		require.Equal(t, newest, r.RetryFailedDeliveries.Deliveries[0].ID)
		require.Zero(t, r.RetryFailedDeliveries.Remaining, "the one before since is not counted")

		statuses := func() map[string]string {
			out := map[string]string{}
			for _, d := range s.waitDeliveries(ch, 3) {
				out[d.ID] = d.Status
			}
			return out
		}
		require.Eventually(t, func() bool {
			st := statuses()
			return st[middle] == "DELIVERED" && st[newest] == "DELIVERED"
		}, 30*time.Second, 20*time.Millisecond)
		require.Equal(t, "FAILED", statuses()[oldest])

		r = retry(map[string]any{"c": ch})
		require.Len(t, r.RetryFailedDeliveries.Deliveries, 1)
		require.Equal(t, oldest, r.RetryFailedDeliveries.Deliveries[0].ID, "without since, every failed one")
		require.Eventually(t, func() bool { return statuses()[oldest] == "DELIVERED" }, 30*time.Second, 20*time.Millisecond)
		require.Len(t, s.slack.sent(), 3, "each post reached Slack once")

		r = retry(map[string]any{"c": ch})
		require.Empty(t, r.RetryFailedDeliveries.Deliveries, "nothing left to retry")

		s.requireBatchInputErrors("retryFailedDeliveries", ch)
	})
}

func TestE2E_OutboundPolicyRefusesPrivateDestinations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		// serve's default: the Slack fake on 127.0.0.1 is a private
		// destination, so the delivery fails at once without reaching it.
		s := newStack(t, db, stackOptions{env: map[string]string{"CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE": "false"}})
		ch := s.slackChannel("internal", "WATCH", 4)
		code, _ := s.webhook("post_created", discoursetest.PostPayload(post(401, 80, 1, 4, "hello")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds := s.waitDeliveries(ch, 1)
		require.Equal(t, "FAILED", ds[0].Status)
		require.Equal(t, 1, ds[0].Attempts, "a refused destination is not retried")
		require.NotNil(t, ds[0].LastError)
		require.Equal(t, providers.KeyDestinationRefused, ds[0].LastError.Key)
		require.NotContains(t, ds[0].LastError.Message, s.slack.URL)
		require.Empty(t, s.slack.callTimes(), "the fake was never contacted")
	})
}

func TestE2E_EditAndDeletePropagate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("edits", "WATCH", 3)
		p := post(301, 70, 1, 3, "first version")
		code, _ := s.webhook("post_created", discoursetest.PostPayload(p), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		s.waitDeliveries(ch, 1)

		p.Version, p.Raw, p.Cooked = 2, "second version", "<p>second version</p>"
		code, body := s.webhook("post_edited", discoursetest.PostPayload(p), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"deliveries":1`)
		ds := s.waitDeliveries(ch, 2)
		require.Equal(t, "EDIT", ds[0].Action)
		require.Equal(t, "DELIVERED", ds[0].Status)

		code, _ = s.webhook("post_destroyed", discoursetest.PostPayload(p), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds = s.waitDeliveries(ch, 3)
		require.Equal(t, "DELETE", ds[0].Action)

		s.slack.mu.Lock()
		defer s.slack.mu.Unlock()
		require.Len(t, s.slack.updates, 1)
		require.Contains(t, asJSON(t, s.slack.updates[0]), "second version")
		require.Equal(t, *ds[2].RemoteID, s.slack.updates[0]["ts"], "the edit targets the sent message")
		require.Len(t, s.slack.deletes, 1)
		require.Equal(t, *ds[2].RemoteID, s.slack.deletes[0]["ts"])
	})
}

func TestE2E_ThreadFilterRepliesInTopicThread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("threads", "THREAD", 4)
		code, _ := s.webhook("post_created", discoursetest.PostPayload(post(401, 80, 1, 4, "root")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		ds := s.waitDeliveries(ch, 1)
		code, _ = s.webhook("post_created", discoursetest.PostPayload(post(402, 80, 2, 4, "reply")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		s.waitDeliveries(ch, 2)
		sent := s.slack.sent()
		require.Len(t, sent, 2)
		require.Nil(t, sent[0]["thread_ts"], "the topic's first notification is the root")
		calls := s.slack.callTimes()
		// The slot is a second after the first call's slot, which was
		// taken before that request travelled: the gap between arrivals
		// is a second less what the first request's trip took. Without
		// pacing it is a few milliseconds.
		require.GreaterOrEqual(t, calls[1].Sub(calls[0]), 500*time.Millisecond, "Slack: one message per second per channel")
		require.Equal(t, *ds[0].RemoteID, sent[1]["thread_ts"], "the reply lands in the topic's thread")
	})
}

func TestE2E_BadPayloads(t *testing.T) {
	s := newStack(t, storetest.SQLite(t), stackOptions{})
	for _, body := range []string{`{`, `{"post":{"id":"x"}}`, `{"post":{"topic_id":3}}`, `[]`} {
		code, resp := s.webhook("post_created", []byte(body), webhookSecret)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, resp, `invalid webhook payload`, body)
	}
	code, resp := s.webhook("ping", []byte(`{"ping":"OK"}`), webhookSecret)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, resp, `"ignored"`)
	code, resp = s.webhook("user_created", []byte(`{"user":{"id":1}}`), webhookSecret)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, resp, `"ignored"`)
	big := bytes.Repeat([]byte("a"), 3<<20)
	code, _ = s.webhook("post_created", big, webhookSecret)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	var n struct{ Deliveries struct{ Edges []any } }
	s.gql(`{ deliveries { edges { cursor } } }`, nil, &n)
	require.Empty(t, n.Deliveries.Edges)
}

func TestE2E_TestChannelAndMetrics(t *testing.T) {
	s := newStack(t, storetest.SQLite(t), stackOptions{})
	ch := s.slackChannel("tested", "", 0)
	var out struct{ TestChannel struct{ ID, Status string } }
	s.gql(`mutation($id: ID!) { testChannel(id: $id) { id status } }`, map[string]any{"id": ch}, &out)
	require.Equal(t, "QUEUED", out.TestChannel.Status)
	ds := s.waitDeliveries(ch, 1)
	require.Equal(t, "DELIVERED", ds[0].Status)
	require.Contains(t, asJSON(t, s.slack.sent()[0]), "test notification")

	// The counter moves just after the outcome is stored.
	var text string
	require.Eventually(t, func() bool {
		text = metricsText(t, s.url)
		return strings.Contains(text, `chatsidecar_deliveries_total{outcome="delivered",provider="slack"} 1`)
	}, 10*time.Second, 10*time.Millisecond, "the delivered counter")
	require.Contains(t, text, `chatsidecar_delivery_queue_depth{status="QUEUED"} 0`)
	require.Contains(t, text, "chatsidecar_delivery_latency_seconds_bucket")
	require.True(t, strings.Contains(text, "go_goroutines"))
}

// TestE2E_CheckChannel is issue 4's ChannelTester through the API:
// checkChannel asks Slack (auth.test) without posting, reports a failure
// with Slack's key without recording it on the channel, and refuses a
// provider that cannot check without posting.
func TestE2E_CheckChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("checked", "", 0)
		const check = `mutation($id: ID!) { checkChannel(id: $id) { ok error { key message } } }`
		type result struct {
			CheckChannel struct {
				OK    bool `json:"ok"`
				Error *struct{ Key, Message string }
			}
		}

		var caps struct {
			Provider struct{ Capabilities struct{ ChannelCheck bool } }
		}
		s.gql(`{ provider(id: "slack") { capabilities { channelCheck } } }`, nil, &caps)
		require.True(t, caps.Provider.Capabilities.ChannelCheck)

		// Passes: Slack was asked, nothing was posted or queued.
		var ok result
		s.gql(check, map[string]any{"id": ch}, &ok)
		require.True(t, ok.CheckChannel.OK)
		require.Nil(t, ok.CheckChannel.Error)
		require.Equal(t, 1, s.slack.checkCalls())
		require.Empty(t, s.slack.callTimes(), "a check never calls chat.postMessage")
		require.Empty(t, s.deliveries(ch), "a check is not a delivery")

		// Fails with Slack's key and a message without the token; the
		// channel's lastError stays null.
		s.slack.failCheck(1, func(w http.ResponseWriter) {
			writeSlack(w, map[string]any{"ok": false, "error": "invalid_auth"})
		})
		var bad result
		s.gql(check, map[string]any{"id": ch}, &bad)
		require.False(t, bad.CheckChannel.OK)
		require.NotNil(t, bad.CheckChannel.Error)
		require.Equal(t, "chat_integration.provider.slack.errors.invalid_token", bad.CheckChannel.Error.Key)
		require.Equal(t, "Slack error invalid_auth", bad.CheckChannel.Error.Message)
		require.Equal(t, 2, s.slack.checkCalls())
		var got struct {
			Channel struct{ LastError *struct{ Key string } }
		}
		s.gql(`query($id: ID!) { channel(id: $id) { lastError { key } } }`, map[string]any{"id": ch}, &got)
		require.Nil(t, got.Channel.LastError, "a check is not recorded on the channel")
		require.Empty(t, s.slack.callTimes())
		require.Empty(t, s.deliveries(ch))

		// A generic webhook cannot check without posting: BAD_USER_INPUT
		// on id, and the endpoint hears nothing.
		var hits sync.Map
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Store(r.URL.Path, true)
		}))
		t.Cleanup(hook.Close)
		var wh struct{ CreateChannel struct{ ID string } }
		s.gql(`mutation($d: JSON!) { createChannel(input: {provider: "webhook", name: "hook", data: $d}) { id } }`,
			map[string]any{"d": map[string]any{"name": "hook", "url": hook.URL + "/in"}}, &wh)
		errs := s.gqlErrors(check, map[string]any{"id": wh.CreateChannel.ID}, nil)
		require.Len(t, errs, 1)
		ext := errs[0]["extensions"].(map[string]any)
		require.Equal(t, "BAD_USER_INPUT", ext["code"])
		require.Equal(t, "id", ext["field"])
		require.Contains(t, errs[0]["message"], "cannot be checked without posting")
		_, heard := hits.Load("/in")
		require.False(t, heard)
		require.Empty(t, s.deliveries(wh.CreateChannel.ID))

		// An unknown channel is NOT_FOUND.
		errs = s.gqlErrors(check, map[string]any{"id": "999999"}, nil)
		require.Len(t, errs, 1)
		require.Equal(t, "NOT_FOUND", errs[0]["extensions"].(map[string]any)["code"])
	})
}

// golden compares got with a file; CHATSIDECAR_UPDATE_GOLDEN=1 rewrites it.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	got = append(got, '\n')
	if os.Getenv("CHATSIDECAR_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with CHATSIDECAR_UPDATE_GOLDEN=1 to create it")
	require.Equal(t, string(want), string(got))
}

func asJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestE2E_CatchUpDeliversPostsMissedWhileDown: Discourse does not retry a
// webhook whose connection failed, so posts made while the sidecar was
// down reach chat through catch-up on the next start, once, and a late
// webhook for one of them is a duplicate. Tags come from the API, so a
// tag-restricted rule matches posts that arrive without any webhook.
func TestE2E_CatchUpDeliversPostsMissedWhileDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		forum := discoursetest.New(t)
		cat := forum.AddCategory(discourse.Category{Name: "Support", Slug: "support"})
		topic := forum.AddTopic(discourse.Topic{Title: "Printer on fire", Slug: "printer-on-fire", Archetype: "regular",
			CategoryID: &cat.ID, Tags: discourse.Tags{"urgent"}, Visible: true})
		forum.AddPost(discourse.Post{TopicID: topic.ID, Username: "jane", Raw: "It started smoking.", Cooked: "<p>It started smoking.</p>"})
		env := map[string]string{
			"CHATSIDECAR_DISCOURSE_URL":          forum.URL(),
			"CHATSIDECAR_DISCOURSE_API_KEY":      forum.APIKey(),
			"CHATSIDECAR_DISCOURSE_API_USERNAME": forum.APIUsername(),
		}

		// First start: catch-up only notes where the forum is.
		s := newStack(t, db, stackOptions{env: env})
		ch := s.slackChannel("support", "", 0)
		s.gql(`mutation($c: ID!) { createRule(input: {channelId: $c, filter: WATCH, type: NORMAL, tags: ["urgent"]}) { id } }`,
			map[string]any{"c": ch}, nil)
		require.Eventually(t, func() bool {
			n, err := s.st.Counter(context.Background(), store.CounterCatchUp)
			return err == nil && n > 0
		}, 10*time.Second, 10*time.Millisecond)
		fake := s.slack
		s.stop()

		// While it is down, two replies are posted.
		missed := []discourse.Post{
			forum.AddPost(discourse.Post{TopicID: topic.ID, Username: "bob", Raw: "Unplug it!", Cooked: "<p>Unplug it!</p>"}),
			forum.AddPost(discourse.Post{TopicID: topic.ID, Username: "jane", Raw: "Done, thanks.", Cooked: "<p>Done, thanks.</p>"}),
		}

		s2 := newStack(t, db, stackOptions{env: env})
		s2.slack = fake
		ds := s2.waitDeliveries(ch, 2)
		for _, d := range ds {
			require.Equal(t, "DELIVERED", d.Status)
		}
		sent := fake.sent()
		require.Len(t, sent, 2)
		require.Contains(t, asJSON(t, sent[0]), "Unplug it!")
		require.Contains(t, asJSON(t, sent[1]), "Done, thanks.")

		code, body := s2.webhook("post_created", discoursetest.PostPayload(missed[1]), webhookSecret)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"duplicate"`)
	})
}

func TestE2E_DeliveriesPagingAndBadInput(t *testing.T) {
	s := newStack(t, storetest.SQLite(t), stackOptions{})
	ch := s.slackChannel("paged", "WATCH", 13)
	for i := range 3 {
		code, _ := s.webhook("post_created", discoursetest.PostPayload(post(int64(800+i), int64(300+i), 1, 13, "page")), webhookSecret)
		require.Equal(t, http.StatusOK, code)
	}
	all := s.waitDeliveries(ch, 3)
	var page struct {
		Deliveries struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	s.gql(`query($c: ID) { deliveries(filter: {channelId: $c, status: DELIVERED}, first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"c": ch}, &page)
	require.Len(t, page.Deliveries.Edges, 2)
	require.True(t, page.Deliveries.PageInfo.HasNextPage)
	require.Equal(t, all[0].ID, page.Deliveries.Edges[0].Node.ID, "newest first")
	s.gql(`query($c: ID, $a: String) { deliveries(filter: {channelId: $c}, first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"c": ch, "a": page.Deliveries.PageInfo.EndCursor}, &page)
	require.Len(t, page.Deliveries.Edges, 1)
	require.Equal(t, all[2].ID, page.Deliveries.Edges[0].Node.ID)
	require.False(t, page.Deliveries.PageInfo.HasNextPage)

	for _, c := range []struct{ query, field string }{
		{`{ deliveries(filter: {channelId: "x"}) { edges { cursor } } }`, "filter.channelId"},
		{`{ deliveries(first: 500) { edges { cursor } } }`, "first"},
		{`{ deliveries(after: "bogus") { edges { cursor } } }`, "after"},
		{`mutation { retryDelivery(id: "0") { id } }`, "id"},
		{`mutation { testChannel(id: "nope") { id } }`, "id"},
	} {
		s.requireError(c.query, nil, "BAD_USER_INPUT", c.field)
	}
	s.requireError(`{ delivery(id: "999999") { id } }`, nil, "NOT_FOUND", "")
}

// TestE2E_ShutdownDrainsInFlightDelivery stops the server while a message
// is on its way: shutdown waits for it, and it is recorded as delivered.
func TestE2E_ShutdownDrainsInFlightDelivery(t *testing.T) {
	db := storetest.SQLite(t)
	s := newStack(t, db, stackOptions{})
	ch := s.slackChannel("draining", "WATCH", 14)
	h := s.slack.holdNext()
	code, _ := s.webhook("post_created", discoursetest.PostPayload(post(901, 400, 1, 14, "in flight")), webhookSecret)
	require.Equal(t, http.StatusOK, code)
	<-h.arrived
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	// The server stops taking requests before it waits for deliveries.
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	close(h.release)
	<-stopped
	id, err := strconv.ParseInt(ch, 10, 64)
	require.NoError(t, err)
	ds, err := s.st.ListDeliveries(context.Background(), store.DeliveryFilter{ChannelID: id})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, store.StatusDelivered, ds[0].Status)
	require.Len(t, s.slack.sent(), 1)
}

// TestE2E_WebhookSurvivesAHungForumAPI: Discourse gives up on a webhook
// after 20 s, so a forum API that hangs must not make intake miss it; the
// event is matched on its payload and the topic facts webhooks stored.
func TestE2E_WebhookSurvivesAHungForumAPI(t *testing.T) {
	forum := discoursetest.New(t)
	gate := forum.Block("/site.json")
	defer gate.Release()
	s := newStack(t, storetest.SQLite(t), stackOptions{env: map[string]string{
		"CHATSIDECAR_DISCOURSE_URL":          forum.URL(),
		"CHATSIDECAR_DISCOURSE_API_KEY":      forum.APIKey(),
		"CHATSIDECAR_DISCOURSE_API_USERNAME": forum.APIUsername(),
		"CHATSIDECAR_CATCHUP_INTERVAL":       "1h",
	}})
	ch := s.slackChannel("hung", "WATCH", 15)
	// Sent as Discourse sends it: a client that gives up after 20 s.
	discourseClient := &http.Client{Timeout: 20 * time.Second}
	req := discoursetest.SignedRequest(s.url+"/webhooks/discourse", webhookSecret, "post_created",
		discoursetest.PostPayload(post(1001, 500, 1, 15, "still here")))
	resp, err := discourseClient.Do(req)
	require.NoError(t, err, "Discourse would have given up on this webhook")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.Contains(t, string(b), `"deliveries":1`)
	require.Equal(t, "DELIVERED", s.waitDeliveries(ch, 1)[0].Status)
}

// TestE2E_HiddenTagsNeverReachChat: a topic with a staff-only tag and a
// public one reaches chat showing only the public tag, from a webhook and
// from testChannel alike, while a rule on the staff-only tag still
// routes it.
func TestE2E_HiddenTagsNeverReachChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		forum := discoursetest.New(t)
		forum.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated"},
			Permissions: map[string]int{"staff": discourse.TagGroupPermissionFull}})
		topic := forum.AddTopic(discourse.Topic{Title: "Refund for order 1234", Visible: true,
			Tags: discourse.Tags{"escalated", "billing"}})
		first := forum.AddPost(discourse.Post{TopicID: topic.ID, Username: "jane", Raw: "Please refund my order."})
		s := newStack(t, db, stackOptions{env: map[string]string{
			"CHATSIDECAR_DISCOURSE_URL":          forum.URL(),
			"CHATSIDECAR_DISCOURSE_API_KEY":      forum.APIKey(),
			"CHATSIDECAR_DISCOURSE_API_USERNAME": forum.APIUsername(),
			"CHATSIDECAR_CATCHUP_INTERVAL":       "1h",
		}})
		ch := s.slackChannel("staff-desk", "", 0)
		s.gql(`mutation($c: ID!) { createRule(input: {channelId: $c, filter: WATCH, type: NORMAL, tags: ["escalated"]}) { id } }`,
			map[string]any{"c": ch}, nil)

		// Post webhooks carry no tags: they come from the API.
		code, body := s.webhook("post_created", discoursetest.PostPayload(first), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"deliveries":1`, "the rule on the hidden tag matched")
		require.Equal(t, "DELIVERED", s.waitDeliveries(ch, 1)[0].Status)

		s.gql(`mutation($id: ID!, $topic: ID) { testChannel(id: $id, topicId: $topic) { id } }`,
			map[string]any{"id": ch, "topic": strconv.FormatInt(topic.ID, 10)}, nil)
		s.waitDeliveries(ch, 2)

		sent := s.slack.sent()
		require.Len(t, sent, 2)
		for _, m := range sent {
			msg := asJSON(t, m)
			require.Contains(t, msg, "Refund for order 1234")
			require.Contains(t, msg, "billing", "the public tag is shown")
			require.NotContains(t, msg, "escalated", "the staff-only tag is not")
		}
	})
}

// Rules created or changed after intake built its match index apply to the
// very next webhook (intake reads the rules generation in every group
// commit and rebuilds the index when it moved), and the event records the
// deliveries it caused.
func TestE2E_RuleChangesApplyToTheNextWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		first := s.slackChannel("first", "WATCH", 5)
		code, body := s.webhook("post_created", discoursetest.PostPayload(post(201, 60, 1, 5, "One.")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"deliveries":1`)

		second := s.slackChannel("second", "WATCH", 5) // a channel and a rule the index does not know
		code, body = s.webhook("post_created", discoursetest.PostPayload(post(202, 61, 1, 5, "Two.")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"deliveries":2`)
		ds := s.waitDeliveries(second, 1)
		var out struct {
			Delivery struct{ Event struct{ Deliveries int } }
		}
		s.gql(`query($id: ID!) { delivery(id: $id) { event { deliveries } } }`, map[string]any{"id": ds[0].ID}, &out)
		require.Equal(t, 2, out.Delivery.Event.Deliveries, "the stored event counts its deliveries")

		s.rule(first, "MUTE", 5) // a changed rule, too
		code, body = s.webhook("post_created", discoursetest.PostPayload(post(203, 62, 1, 5, "Three.")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"deliveries":1`)
		require.Len(t, s.waitDeliveries(second, 2), 2)
		require.Len(t, s.waitDeliveries(first, 2), 2, "the muted channel got nothing after the mute")
	})
}

// TestE2E_ForumEventsQuery: what the forum sent is listed newest first,
// paged, and narrowed by kind, source, topic or post; each event says how
// many deliveries it caused, and deliveries(filter: {eventId}) lists them.
func TestE2E_ForumEventsQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		s := newStack(t, db, stackOptions{})
		ch := s.slackChannel("events", "WATCH", 13)
		for _, p := range []discourse.Post{post(850, 350, 1, 13, "first"), post(851, 351, 1, 99, "elsewhere"), post(852, 352, 1, 13, "third")} {
			code, body := s.webhook("post_created", discoursetest.PostPayload(p), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
		}
		s.waitDeliveries(ch, 2)

		type eventView struct {
			ID, Kind, Source string
			TopicID, PostID  string
			Deliveries       int
		}
		var page struct {
			ForumEvents struct {
				Edges    []struct{ Node eventView }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		const list = `query($f: ForumEventFilter, $first: Int, $after: String) {
			forumEvents(filter: $f, first: $first, after: $after) {
				edges { node { id kind source topicId postId deliveries } } pageInfo { hasNextPage endCursor } } }`
		postIDs := func() []string {
			out := []string{}
			for _, e := range page.ForumEvents.Edges {
				out = append(out, e.Node.PostID)
			}
			return out
		}
		s.gql(list, map[string]any{"first": 2}, &page)
		require.Equal(t, []string{"852", "851"}, postIDs(), "newest first")
		require.True(t, page.ForumEvents.PageInfo.HasNextPage)
		require.Equal(t, eventView{ID: page.ForumEvents.Edges[1].Node.ID, Kind: "post_created", Source: "webhook",
			TopicID: "351", PostID: "851", Deliveries: 0}, page.ForumEvents.Edges[1].Node, "a post no rule matched is stored with no deliveries")
		s.gql(list, map[string]any{"first": 2, "after": page.ForumEvents.PageInfo.EndCursor}, &page)
		require.Equal(t, []string{"850"}, postIDs())
		require.False(t, page.ForumEvents.PageInfo.HasNextPage)
		first := page.ForumEvents.Edges[0].Node
		require.Equal(t, 1, first.Deliveries)

		for _, c := range []struct {
			filter map[string]any
			want   []string
		}{
			{map[string]any{"postId": "851"}, []string{"851"}},
			{map[string]any{"topicId": "350"}, []string{"850"}},
			{map[string]any{"kind": "post_created", "source": "webhook"}, []string{"852", "851", "850"}},
			{map[string]any{"kind": "topic_created"}, []string{}},
			{map[string]any{"source": "test"}, []string{}},
		} {
			s.gql(list, map[string]any{"f": c.filter}, &page)
			require.Equal(t, c.want, postIDs(), "%v", c.filter)
		}

		var one struct{ ForumEvent eventView }
		s.gql(`query($id: ID!) { forumEvent(id: $id) { id kind source topicId postId deliveries } }`, map[string]any{"id": first.ID}, &one)
		require.Equal(t, first, one.ForumEvent)
		var ds struct {
			Deliveries struct {
				Edges []struct {
					Node struct{ ChannelID, EventID string }
				}
			}
		}
		s.gql(`query($e: ID) { deliveries(filter: {eventId: $e}) { edges { node { channelId eventId } } } }`, map[string]any{"e": first.ID}, &ds)
		require.Len(t, ds.Deliveries.Edges, 1)
		require.Equal(t, ch, ds.Deliveries.Edges[0].Node.ChannelID)
		require.Equal(t, first.ID, ds.Deliveries.Edges[0].Node.EventID)

		for _, c := range []struct{ query, code, field string }{
			{`{ forumEvents(filter: {topicId: "x"}) { edges { cursor } } }`, "BAD_USER_INPUT", "filter.topicId"},
			{`{ forumEvents(filter: {postId: "-1"}) { edges { cursor } } }`, "BAD_USER_INPUT", "filter.postId"},
			{`{ forumEvents(first: 500) { edges { cursor } } }`, "BAD_USER_INPUT", "first"},
			{`{ forumEvents(after: "bogus") { edges { cursor } } }`, "BAD_USER_INPUT", "after"},
			{`{ deliveries(filter: {eventId: "x"}) { edges { cursor } } }`, "BAD_USER_INPUT", "filter.eventId"},
			{`{ forumEvent(id: "x") { id } }`, "BAD_USER_INPUT", "id"},
			{`{ forumEvent(id: "999999") { id } }`, "NOT_FOUND", ""},
		} {
			s.requireError(c.query, nil, c.code, c.field)
		}
	})
}
