package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// Helpers for a provider's own tests, beyond the conformance suite: how an
// error must be classified, a table of platform replies to classify, and
// the small pieces every fake and test needs.

// Classified is how a test expects a provider error to be classified.
type Classified struct {
	Key       string        // providers.ErrorKey(err)
	Sentinel  error         // errors.Is(err, Sentinel) when not nil
	Permanent bool          // fails at once
	Limited   bool          // rate limited
	After     time.Duration // the wait a rate limit asks for
	// Scope is what a rate limit holds back: the channel (the zero
	// value) or the account.
	Scope providers.LimitScope
}

// RequireClassified checks that err is an error classified as want says,
// and that its message contains none of unquoted (secrets, "<html>"): a
// message ends up in the channel's lastError.
func RequireClassified(t testing.TB, err error, want Classified, unquoted ...string) {
	t.Helper()
	require.Error(t, err)
	permanent, limited, after := providers.Classify(err)
	require.Equal(t, want.Permanent, permanent, "permanent: %v", err)
	require.Equal(t, want.Limited, limited, "rate limited: %v", err)
	require.Equal(t, want.After, after, "retry after: %v", err)
	require.Equal(t, want.Scope, providers.ScopeOf(err), "what the limit holds back (0: the channel, 1: the account): %v", err)
	require.Equal(t, want.Key, providers.ErrorKey(err))
	if want.Sentinel != nil {
		require.ErrorIs(t, err, want.Sentinel)
	}
	for _, s := range unquoted {
		require.NotContains(t, err.Error(), s)
	}
}

// RequireKey checks that err is permanent with key and, when it is not
// nil, sentinel, and that its message contains none of unquoted.
func RequireKey(t testing.TB, err error, key string, sentinel error, unquoted ...string) {
	t.Helper()
	RequireClassified(t, err, Classified{Key: key, Sentinel: sentinel, Permanent: true}, unquoted...)
}

// RequireNotConfigured checks that p refuses to notify each target, as
// set up wrong, with key wrapping providers.ErrNotConfigured.
func RequireNotConfigured(t *testing.T, p providers.Notifier, key string, targets ...*providers.Target) {
	t.Helper()
	for _, tg := range targets {
		r, err := p.Notify(t.Context(), tg, Notification())
		require.Nil(t, r)
		RequireKey(t, err, key, providers.ErrNotConfigured)
	}
}

// ReplyCase is one answer of a platform, as a fake replies it with
// Server.Reply, and how the provider must classify it.
type ReplyCase struct {
	Status int
	Header http.Header
	Body   string
	// Want is how the provider classifies the reply; the zero Classified
	// means the reply is a success. (No error is classified with an empty
	// key: ErrorKey falls back to the generic one.)
	Want Classified
}

// RunReplies runs one parallel subtest per case, named by its status and
// body. send scripts the case's reply on a fresh fake, makes the provider
// call and checks what it must of the fake; RunReplies then checks the
// error send returns: none for a success, else with RequireClassified.
func RunReplies(t *testing.T, cases []ReplyCase, send func(t *testing.T, c ReplyCase) error, unquoted ...string) {
	t.Helper()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.Status, c.Body), func(t *testing.T) {
			t.Parallel()
			err := send(t, c)
			if c.Want == (Classified{}) {
				require.NoError(t, err)
				return
			}
			RequireClassified(t, err, c.Want, unquoted...)
		})
	}
}

// RunNotifyReplies is RunReplies for Notify with the provider and fake h
// describes: each case gets a fresh fake that answers the case's reply
// (the fake must embed *Server, or have its Reply), and the provider
// notifies h.Target. A failure returns no receipt, and every case sends
// exactly one request. No error message contains h.Secrets or unquoted.
func RunNotifyReplies(t *testing.T, h Harness, cases []ReplyCase, unquoted ...string) {
	t.Helper()
	RunReplies(t, cases, func(t *testing.T, c ReplyCase) error {
		fake := h.NewFake(t)
		replier, ok := fake.(interface {
			Reply(status int, header http.Header, body string)
		})
		require.True(t, ok, "the fake cannot reply raw: embed *providertest.Server")
		replier.Reply(c.Status, c.Header, c.Body)
		n := Notification()
		if h.Notification != nil {
			n = h.Notification()
		}
		r, err := h.New(providers.NewHTTPClient()).Notify(t.Context(), h.Target(fake.URL()), n)
		require.Equal(t, err == nil, r != nil, "a receipt exactly when the message was posted")
		require.Len(t, fake.Requests(), 1, "exactly one request: the engine, not the provider, retries")
		return err
	}, append(slices.Clone(h.Secrets), unquoted...)...)
}

// RequireLast returns the most recent request the fake received and fails
// the test when there is none.
func (s *Server) RequireLast(t testing.TB) Request {
	t.Helper()
	r, ok := s.Last()
	require.True(t, ok, "no request was sent")
	return r
}

// JSON decodes the request's body as a JSON object and fails the test
// when it is not one.
func (r Request) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m))
	return m
}

// WriteJSON answers status with v as JSON, for a fake's handlers. The
// Content-Type is application/json unless the handler has set one (Slack,
// for one, names the charset).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ThreadField returns a Harness.ThreadOf for a platform that names the
// thread a message replies into in a top-level string field of the JSON
// body (Slack's thread_ts, Mattermost's root_id, Rocket.Chat's tmid): the
// field's value, or "" when the body has none.
func ThreadField(field string) func(Request) string {
	return func(r Request) string {
		var body map[string]any
		_ = json.Unmarshal(r.Body, &body)
		s, _ := body[field].(string)
		return s
	}
}

// WriteText answers status with body as plain text, for a fake's handlers.
// The Content-Type is text/plain unless the handler has set one.
func WriteText(w http.ResponseWriter, status int, body string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/plain")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// WebhookTarget returns the target of a provider whose channel is a name
// and an incoming webhook URL (its webhook_url parameter, as Discord,
// Guilded, Power Automate, Teams and Webex have): a channel named
// "announcements" posting to hookURL at base, the api_base_url, with an
// excerpt_length of 400.
func WebhookTarget(hookURL, base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "announcements",
		Data:     map[string]string{"name": "announcements", "webhook_url": hookURL},
		Settings: providers.Settings{"excerpt_length": 400, "api_base_url": base},
	}
}
