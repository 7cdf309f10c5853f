package googlechat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/googlechat"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "announcements",
		Data:     map[string]string{"name": "announcements", "webhook_url": fakeURL},
		Settings: providers.Settings{"excerpt_length": 100, "api_base_url": base},
	}
}

// threadOf reads the thread a request replies into by name. A thread key
// alone is not a reply to a known thread: it starts the topic's keyed
// thread or finds it.
func threadOf(r providertest.Request) string {
	var body struct {
		Thread struct {
			Name string `json:"name"`
		} `json:"thread"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return ""
	}
	return body.Thread.Name
}

// TestConformance runs the whole suite, threads included. Google Chat
// names a thread apart from its messages (spaces/S/threads/T and
// spaces/S/messages/M), so the suite checks replies against the thread
// the first receipt reported, and replies into a thread someone started
// in the space, which the fake holds.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New: func(c *http.Client) providers.Notifier {
			return googlechat.New(googlechat.Options{HTTPClient: c})
		},
		NewFake:                func(t *testing.T) providertest.Fake { return newFakeChat(t) },
		Target:                 target,
		Secrets:                []string{fakeKey, fakeToken},
		ThreadOf:               threadOf,
		ThreadRoot:             func(f providertest.Fake) string { return f.(*fakeChat).startThread() },
		ThreadsNamedSeparately: true,
	})
}

type bundle struct {
	p    *googlechat.Provider
	fake *fakeChat
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: googlechat.New(googlechat.Options{}), fake: newFakeChat(t)}
}

// sent is what the fake received in the last request.
type sent struct {
	replyOption string
	threadName  string
	threadKey   string
}

func (b *bundle) last(t *testing.T) sent {
	t.Helper()
	req, ok := b.fake.Last()
	require.True(t, ok, "no request was sent")
	q, err := url.ParseQuery(req.Query)
	require.NoError(t, err)
	require.Equal(t, fakeKey, q.Get("key"), "the webhook's query is kept")
	var body struct {
		Thread struct {
			Name      string `json:"name"`
			ThreadKey string `json:"threadKey"`
		} `json:"thread"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	return sent{replyOption: q.Get("messageReplyOption"), threadName: body.Thread.Name, threadKey: body.Thread.ThreadKey}
}

func TestThreads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	require.True(t, b.p.Threads(tg))
	n := providertest.Notification()

	// A thread rule with no known thread starts the topic's keyed thread.
	n.Filter, n.ThreadID = "thread", ""
	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, sent{replyOption: "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", threadKey: "discourse-topic-42"}, b.last(t))
	require.Equal(t, "spaces/"+fakeSpace+"/messages/M0001.M0001", root.MessageID)
	require.Equal(t, "spaces/"+fakeSpace+"/threads/T0001", root.ThreadID, "the thread's name, not the message's")

	// A later post replies into it by name.
	n.ThreadID = root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, sent{replyOption: "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", threadName: root.ThreadID}, b.last(t))
	require.Equal(t, root.ThreadID, r.ThreadID)
	require.NotEqual(t, root.MessageID, r.MessageID)

	// Only the thread filter replies into a thread.
	n.Filter = "watch"
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, sent{}, b.last(t))
	require.NotEmpty(t, r.ThreadID, "a new message roots a thread of its own")
	require.NotEqual(t, root.ThreadID, r.ThreadID)

	// Without a stored thread the key still finds the topic's thread.
	n.Filter, n.ThreadID = "thread", ""
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root.ThreadID, r.ThreadID)

	// Another topic gets its own thread.
	n.Topic.ID = 43
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, "discourse-topic-43", b.last(t).threadKey)
	require.NotEqual(t, root.ThreadID, r.ThreadID)
}

func TestRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	req, ok := b.fake.Last()
	require.True(t, ok)
	require.Equal(t, "POST "+fakePath, req.Endpoint())
	require.Equal(t, "key="+fakeKey+"&token="+fakeToken, req.Query, "no reply option without a thread")
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
}

func TestReplies(t *testing.T) {
	t.Parallel()
	generic := "chat_integration.channel_exception"
	googleErr := func(code int, status, extra string) string {
		return `{"error":{"code":` + strconv.Itoa(code) + `,"message":"key=` + fakeKey + `","status":"` + status + `"` + extra + `}}`
	}
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		permanent   bool
		rateLimited bool
		retryAfter  time.Duration
		sentinel    error
		key         string
	}{
		{name: "retry info", status: 429, body: googleErr(429, "RESOURCE_EXHAUSTED",
			`,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]`), rateLimited: true, retryAfter: 1500 * time.Millisecond, key: generic},
		{name: "retry-after wins", status: 429, header: http.Header{"Retry-After": {"3"}}, body: googleErr(429, "RESOURCE_EXHAUSTED",
			`,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"9s"}]`), rateLimited: true, retryAfter: 3 * time.Second, key: generic},
		{name: "no hint", status: 429, body: googleErr(429, "RESOURCE_EXHAUSTED", ""), rateLimited: true, key: generic},
		{name: "unauthenticated", status: 401, body: googleErr(401, "UNAUTHENTICATED", ""), permanent: true, sentinel: providers.ErrUnauthorized, key: googlechat.KeyInvalidWebhook},
		{name: "permission denied", status: 403, body: googleErr(403, "PERMISSION_DENIED", ""), permanent: true, sentinel: providers.ErrForbidden, key: googlechat.KeyInvalidWebhook},
		{name: "space gone", status: 404, body: googleErr(404, "NOT_FOUND", ""), permanent: true, sentinel: providers.ErrChannelNotFound, key: googlechat.KeySpaceNotFound},
		{name: "invalid argument", status: 400, body: googleErr(400, "INVALID_ARGUMENT", ""), permanent: true, key: generic},
		{name: "unavailable", status: 503, body: googleErr(503, "UNAVAILABLE", ""), key: generic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Reply(tc.status, tc.header, tc.body)
			_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
			require.Error(t, err)
			permanent, limited, after := providers.Classify(err)
			require.Equal(t, tc.permanent, permanent, "%v", err)
			require.Equal(t, tc.rateLimited, limited, "%v", err)
			require.Equal(t, tc.retryAfter, after)
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			require.NotContains(t, err.Error(), fakeKey)
		})
	}
}

func TestReceiptWithoutNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(http.StatusOK, nil, "")
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err, "the message was posted; retrying would post it twice")
	require.Equal(t, &providers.Receipt{}, r)
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	p := googlechat.New(googlechat.Options{})
	for _, tg := range []*providers.Target{
		{Data: map[string]string{"name": "x", "webhook_url": ""}},
		target("::bad"),
	} {
		_, err := p.Notify(t.Context(), tg, providertest.Notification())
		require.ErrorIs(t, err, providers.ErrNotConfigured)
		require.Equal(t, googlechat.KeyNotConfigured, providers.ErrorKey(err))
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true}, providers.CapabilitiesOf(googlechat.New(googlechat.Options{})))
}
