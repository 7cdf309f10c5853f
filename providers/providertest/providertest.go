// Package providertest is the conformance suite every provider runs
// against a fake of its platform's API. It pins the delivery contract of
// providers.Notifier that the engine relies on: one request per call and no
// internal retry, failures classified the same way on every platform
// (permanent with a sentinel and an error key, rate limited with the
// platform's Retry-After, or retryable), ctx honoured, and no secret in an
// error message. Optional capabilities (threads, edits, channel tests) get
// their own sub-suites when the provider implements them.
//
// A provider's test builds a Harness around its fake and calls Run; the
// fake reproduces each FailureKind in the platform's own words.
package providertest

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// RetryAfter is the wait every fake asks for with FailRateLimited.
const RetryAfter = 7 * time.Second

// promptly bounds how long a provider may take to give up once its ctx
// has ended. It is a watchdog, not a sleep: the suite never waits for it
// unless the provider misbehaves.
const promptly = 5 * time.Second

// Harness is what Run needs to drive one provider. New, NewFake and Target
// are required; the rest depends on the capabilities the provider has.
type Harness struct {
	// New builds the provider under test with client.
	New func(client *http.Client) providers.Notifier
	// NewFake starts a fresh fake of the platform for one subtest and
	// closes it with t.Cleanup.
	NewFake func(t *testing.T) Fake
	// Target returns a valid target (channel data and provider settings as
	// an admin would enter them) whose api_base_url is baseURL.
	Target func(baseURL string) *providers.Target
	// Notification returns the notification to send; nil means
	// Notification in this package.
	Notification func() *providers.Notification
	// Secrets are values in Target (tokens, the secret part of a webhook
	// URL) that must never appear in an error message.
	Secrets []string
	// ThreadOf returns the thread root a recorded request replies into,
	// or "" when it is not a reply. Required for a providers.Threader.
	ThreadOf func(r Request) string
	// ThreadRoot returns a thread root in the platform's own form that
	// exists on f (a Telegram message id, a Discord thread id, a Google
	// Chat thread name), for the Threads sub-suite's reply into a thread
	// the provider did not start in this test: one stored before a
	// restart, or started by someone in the chat. The harness may create
	// it on the fake first, so a fake can refuse roots it does not know,
	// as the platform does. nil means DefaultThreadRoot, a Slack ts,
	// which only a fake that accepts any root takes.
	ThreadRoot func(f Fake) string
	// ThreadsNamedSeparately is set when the platform names a thread
	// apart from the message that started it (Google Chat's
	// spaces/S/threads/T and spaces/S/messages/M): the first message's
	// Receipt.ThreadID may then differ from its MessageID, and the suite
	// checks instead that a reply into the thread that receipt reported
	// lands there.
	ThreadsNamedSeparately bool
	// EditEndpoint and DeleteEndpoint are the "METHOD /path" of the
	// requests Edit and Delete send. Required for a providers.Editor.
	EditEndpoint, DeleteEndpoint string
	// LimitScope is what the platform's rate-limit reply (the fake's
	// FailRateLimited) holds back: providers.LimitAccount where the
	// platform limits the bot or user as a whole, whatever the channel.
	LimitScope providers.LimitScope
}

// DefaultThreadRoot is the thread root the Threads sub-suite replies into
// when Harness.ThreadRoot is nil: a Slack message ts.
const DefaultThreadRoot = "1700000000.000100"

// Notification returns a realistic notification: a reply in a
// subcategory, with tags, a link, an emoji and characters that need
// escaping on most platforms.
func Notification() *providers.Notification {
	parent := &providers.Category{ID: 1, Name: "Support", Slug: "support", Color: "0088CC"}
	return &providers.Notification{
		Kind: providers.PostCreated,
		Site: providers.Site{Title: "Example Forum", BaseURL: "https://forum.example.org", LogoURL: "https://forum.example.org/logo.png"},
		Topic: providers.Topic{
			ID: 42, Title: "Upgrading to 2.0 & beyond", URL: "https://forum.example.org/t/upgrading-to-2-0/42",
			Tags:     []string{"upgrade", "help"},
			Category: &providers.Category{ID: 5, Name: "Installation", Slug: "installation", Color: "F1592A", Parent: parent},
		},
		Post: providers.Post{
			ID: 1001, Number: 2, Version: 1, URL: "https://forum.example.org/t/upgrading-to-2-0/42/2",
			Cooked:    `<p>Run <code>./launcher rebuild app</code> first, see <a href="/t/backups/7">backups</a> <img src="/images/emoji/twitter/smile.png" class="emoji" title=":smile:" alt=":smile:"> if a &lt; b.</p>`,
			Raw:       "Run `./launcher rebuild app` first, see [backups](/t/backups/7) :smile: if a < b.",
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		},
		Author: providers.Author{
			Username: "jane", Name: "Jane Doe", DisplayName: "Jane Doe (@jane)",
			AvatarURL:  "https://forum.example.org/user_avatar/forum.example.org/jane/45/1_2.png",
			ProfileURL: "https://forum.example.org/u/jane",
		},
		Filter: "watch",
	}
}

// Run runs the conformance suite for the provider h describes. Every
// subtest gets a fresh fake, so they run in parallel.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.New, "Harness.New")
	require.NotNil(t, h.NewFake, "Harness.NewFake")
	require.NotNil(t, h.Target, "Harness.Target")
	probe := h.New(providers.NewHTTPClient())
	if _, ok := probe.(providers.Threader); ok {
		require.NotNil(t, h.ThreadOf, "Harness.ThreadOf is required for a Threader")
	}
	if _, ok := probe.(providers.Editor); ok {
		require.NotEmpty(t, h.EditEndpoint, "Harness.EditEndpoint is required for an Editor")
		require.NotEmpty(t, h.DeleteEndpoint, "Harness.DeleteEndpoint is required for an Editor")
	}

	t.Run("Config", func(t *testing.T) { t.Parallel(); testConfig(t, h) })
	t.Run("Success", func(t *testing.T) { t.Parallel(); testSuccess(t, h) })
	t.Run("RateLimited", func(t *testing.T) { t.Parallel(); testRateLimited(t, h) })
	t.Run("Permanent", func(t *testing.T) { t.Parallel(); testPermanent(t, h) })
	t.Run("ServerError", func(t *testing.T) { t.Parallel(); testServerError(t, h) })
	t.Run("Cancelled", func(t *testing.T) { t.Parallel(); testCancelled(t, h) })
	t.Run("Deadline", func(t *testing.T) { t.Parallel(); testDeadline(t, h) })
	if _, ok := probe.(providers.Threader); ok {
		t.Run("Threads", func(t *testing.T) { t.Parallel(); testThreads(t, h) })
	}
	if _, ok := probe.(providers.Editor); ok {
		t.Run("Edits", func(t *testing.T) { t.Parallel(); testEdits(t, h) })
	}
	if _, ok := probe.(providers.ChannelTester); ok {
		t.Run("TestChannel", func(t *testing.T) { t.Parallel(); testChannelTester(t, h) })
	}
}

// bundle is one subtest's provider, fake and inputs.
type bundle struct {
	p      providers.Notifier
	fake   Fake
	target *providers.Target
	n      *providers.Notification
}

func setup(t *testing.T, h Harness) *bundle {
	t.Helper()
	fake := h.NewFake(t)
	n := Notification()
	if h.Notification != nil {
		n = h.Notification()
	}
	return &bundle{p: h.New(providers.NewHTTPClient()), fake: fake, target: h.Target(fake.URL()), n: n}
}

// notify sends b.n and fails the test if the call does not return within
// promptly, however the provider treats ctx.
func (b *bundle) notify(t *testing.T, ctx context.Context) (*providers.Receipt, error) {
	t.Helper()
	type result struct {
		r   *providers.Receipt
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := b.p.Notify(ctx, b.target, b.n)
		done <- result{r, err}
	}()
	watchdog, cancel := context.WithTimeout(context.Background(), promptly)
	defer cancel()
	select {
	case res := <-done:
		return res.r, res.err
	case <-watchdog.Done():
		require.FailNow(t, "Notify did not return", "still running after %s", promptly)
		return nil, nil
	}
}

// requireNoSecrets fails when err's message contains a secret.
func requireNoSecrets(t *testing.T, h Harness, err error) {
	t.Helper()
	for _, s := range h.Secrets {
		require.NotContains(t, err.Error(), s, "an error message must not contain a secret")
	}
}

// requireOneRequest checks that the provider did not retry on its own.
func requireOneRequest(t *testing.T, fake Fake) {
	t.Helper()
	requireRequests(t, fake.Requests(), 1, "exactly one request: the engine, not the provider, retries")
}

// requireRequests checks the number of requests and, on failure, lists
// their endpoints rather than dumping bodies and headers.
func requireRequests(t *testing.T, reqs []Request, n int, msg string) {
	t.Helper()
	got := make([]string, len(reqs))
	for i, r := range reqs {
		got[i] = r.Endpoint()
	}
	require.Len(t, got, n, msg)
}

func testConfig(t *testing.T, h Harness) {
	b := setup(t, h)
	for _, prm := range b.p.Params() {
		require.NotEmpty(t, prm.Label, prm.Key)
		require.NotNil(t, prm.Pattern, prm.Key)
		require.Regexp(t, prm.Pattern, prm.Example, "%s: the example must match the pattern", prm.Key)
	}
	// The harness's target is something an admin could have saved, so the
	// suite cannot pass on data the API would refuse.
	data := make(map[string]any, len(b.target.Data))
	for k, v := range b.target.Data {
		data[k] = v
	}
	_, err := providers.ValidateChannelData(b.p, "data", data)
	require.NoError(t, err)
	_, err = providers.MergeSettings(b.p, true, nil, maps.Clone(map[string]any(b.target.Settings)))
	require.NoError(t, err)
}

func testSuccess(t *testing.T, h Harness) {
	b := setup(t, h)
	r, err := b.notify(t, t.Context())
	require.NoError(t, err)
	require.NotNil(t, r)
	requireOneRequest(t, b.fake)
}

func testRateLimited(t *testing.T, h Harness) {
	b := setup(t, h)
	b.fake.Fail(FailRateLimited)
	r, err := b.notify(t, t.Context())
	require.Error(t, err)
	require.Nil(t, r)
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.True(t, pe.RateLimited)
	require.Equal(t, RetryAfter, pe.RetryAfter)
	permanent, limited, after := providers.Classify(err)
	require.False(t, permanent)
	require.True(t, limited)
	require.Equal(t, RetryAfter, after)
	require.Equal(t, h.LimitScope, providers.ScopeOf(err), "what the 429 holds back (0: the channel, 1: the account)")
	requireOneRequest(t, b.fake)
	requireNoSecrets(t, h, err)
}

func testPermanent(t *testing.T, h Harness) {
	cases := []struct {
		kind     FailureKind
		sentinel error
	}{
		{FailUnauthorized, providers.ErrUnauthorized},
		{FailForbidden, providers.ErrForbidden},
		{FailChannelNotFound, providers.ErrChannelNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			b := setup(t, h)
			b.fake.Fail(tc.kind)
			r, err := b.notify(t, t.Context())
			require.Nil(t, r)
			requirePermanent(t, err, tc.sentinel)
			requireOneRequest(t, b.fake)
			requireNoSecrets(t, h, err)
		})
	}
}

// requirePermanent checks err is permanent, wraps sentinel and carries the
// provider's own error key for the admin UI.
func requirePermanent(t *testing.T, err, sentinel error) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	permanent, limited, _ := providers.Classify(err)
	require.True(t, permanent, "%v must be permanent", err)
	require.False(t, limited)
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.Key, "a permanent failure carries the provider's error key")
	require.True(t, strings.HasPrefix(pe.Key, "chat_integration."), "key %q", pe.Key)
	require.NotEmpty(t, pe.Message)
}

func testServerError(t *testing.T, h Harness) {
	b := setup(t, h)
	b.fake.Fail(FailServer)
	r, err := b.notify(t, t.Context())
	require.Error(t, err)
	require.Nil(t, r)
	requireRetryable(t, err)
	requireOneRequest(t, b.fake)
	requireNoSecrets(t, h, err)
}

func requireRetryable(t *testing.T, err error) {
	t.Helper()
	permanent, limited, _ := providers.Classify(err)
	require.False(t, permanent, "%v must be retryable", err)
	require.False(t, limited, "%v must not be a rate limit", err)
	for _, s := range []error{providers.ErrUnauthorized, providers.ErrForbidden, providers.ErrChannelNotFound, providers.ErrNotConfigured} {
		require.NotErrorIs(t, err, s)
	}
}

func testCancelled(t *testing.T, h Harness) {
	b := setup(t, h)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r, err := b.notify(t, ctx)
	require.Nil(t, r)
	require.ErrorIs(t, err, context.Canceled)
	requireRetryable(t, err)
	require.LessOrEqual(t, len(b.fake.Requests()), 1)
}

func testDeadline(t *testing.T, h Harness) {
	b := setup(t, h)
	b.fake.Fail(FailHang)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	r, err := b.notify(t, ctx)
	require.Nil(t, r)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	requireRetryable(t, err)
	// At most one: on a loaded machine the deadline may pass before the
	// request reaches the fake; the other cases pin "exactly one".
	require.LessOrEqual(t, len(b.fake.Requests()), 1, "no retry after a timeout")
	requireNoSecrets(t, h, err)
}

// testThreads checks the Threader contract: a thread rule with a known
// root replies into it and reports that root; any other rule posts
// outside it; a thread rule without a known root starts a thread whose
// root the receipt reports, and a later reply lands in it.
func testThreads(t *testing.T, h Harness) {
	b := setup(t, h)
	root := DefaultThreadRoot
	if h.ThreadRoot != nil {
		root = h.ThreadRoot(b.fake)
		require.NotEmpty(t, root, "Harness.ThreadRoot")
	}
	th := b.p.(providers.Threader)
	last := func() Request {
		reqs := b.fake.Requests()
		require.NotEmpty(t, reqs)
		return reqs[len(reqs)-1]
	}

	b.n.Filter, b.n.ThreadID = "thread", root
	r, err := b.notify(t, t.Context())
	require.NoError(t, err)
	if !th.Threads(b.target) {
		// This target cannot thread (a Slack incoming webhook), so the
		// message goes out as a plain one.
		require.Empty(t, h.ThreadOf(last()), "a target that cannot thread must not send a thread id")
		return
	}
	require.Equal(t, root, h.ThreadOf(last()), "a thread rule with a known thread replies into it")
	require.Equal(t, root, r.ThreadID, "a reply reports its thread's root")

	b.n.Filter, b.n.ThreadID = "watch", root
	r, err = b.notify(t, t.Context())
	require.NoError(t, err)
	require.Empty(t, h.ThreadOf(last()), "only the thread filter replies into a thread")
	require.NotEmpty(t, r.ThreadID, "a new message can root a thread")
	require.NotEqual(t, root, r.ThreadID, "a message outside the thread roots a thread of its own")

	b.n.Filter, b.n.ThreadID = "thread", ""
	first, err := b.notify(t, t.Context())
	require.NoError(t, err)
	require.Empty(t, h.ThreadOf(last()), "no thread is known yet, so the message starts one")
	require.NotEmpty(t, first.MessageID)
	require.NotEmpty(t, first.ThreadID, "the first message of a thread reports the thread")
	if !h.ThreadsNamedSeparately {
		require.Equal(t, first.MessageID, first.ThreadID, "the first message of a thread is its root")
		return
	}

	// The thread has a name of its own: a reply names the thread the
	// first receipt reported, and stays in it.
	b.n.Filter, b.n.ThreadID = "thread", first.ThreadID
	r, err = b.notify(t, t.Context())
	require.NoError(t, err)
	require.Equal(t, first.ThreadID, h.ThreadOf(last()), "a reply names the thread the first message started")
	require.Equal(t, first.ThreadID, r.ThreadID, "the reply stays in that thread")
	require.NotEqual(t, first.MessageID, r.MessageID)
}

func testEdits(t *testing.T, h Harness) {
	b := setup(t, h)
	ed := b.p.(providers.Editor)
	r, err := b.notify(t, t.Context())
	require.NoError(t, err)
	sent := len(b.fake.Requests())
	newRequests := func() []Request { return b.fake.Requests()[sent:] }

	if r.MessageID == "" {
		// A receipt without a message id rules out edits (an incoming
		// webhook); both calls fail at once and send nothing.
		for _, err := range []error{
			ed.Edit(t.Context(), b.target, r, b.n),
			ed.Delete(t.Context(), b.target, r),
		} {
			permanent, _, _ := providers.Classify(err)
			require.True(t, permanent, "%v", err)
		}
		requireRequests(t, newRequests(), 0, "a receipt without a message id sends nothing")
		return
	}

	b.n.Kind, b.n.Post.Version = providers.PostEdited, 2
	require.NoError(t, ed.Edit(t.Context(), b.target, r, b.n))
	requireRequests(t, newRequests(), 1, "Edit sends one request")
	require.Equal(t, h.EditEndpoint, newRequests()[0].Endpoint())

	sent = len(b.fake.Requests())
	require.NoError(t, ed.Delete(t.Context(), b.target, r))
	requireRequests(t, newRequests(), 1, "Delete sends one request")
	require.Equal(t, h.DeleteEndpoint, newRequests()[0].Endpoint())

	b.fake.Fail(FailChannelNotFound)
	err = ed.Edit(t.Context(), b.target, r, b.n)
	requirePermanent(t, err, providers.ErrChannelNotFound)
	requireNoSecrets(t, h, err)

	b.fake.Fail(FailUnauthorized)
	err = ed.Delete(t.Context(), b.target, r)
	requirePermanent(t, err, providers.ErrUnauthorized)
	requireNoSecrets(t, h, err)

	b.fake.Fail(FailRateLimited)
	sent = len(b.fake.Requests())
	err = ed.Edit(t.Context(), b.target, r, b.n)
	_, limited, after := providers.Classify(err)
	require.True(t, limited, "%v", err)
	require.Equal(t, RetryAfter, after)
	requireRequests(t, newRequests(), 1, "exactly one request: the engine, not the provider, retries")

	b.fake.Fail(FailServer)
	requireRetryable(t, ed.Delete(t.Context(), b.target, r))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, ed.Edit(ctx, b.target, r, b.n), context.Canceled)
}

func testChannelTester(t *testing.T, h Harness) {
	b := setup(t, h)
	ct := b.p.(providers.ChannelTester)
	require.NoError(t, ct.TestChannel(t.Context(), b.target))
	if len(b.fake.Requests()) == 0 {
		// Nothing to check without posting (an incoming webhook): the
		// tester only checked the configuration.
		return
	}
	b.fake.Fail(FailUnauthorized)
	err := ct.TestChannel(t.Context(), b.target)
	requirePermanent(t, err, providers.ErrUnauthorized)
	requireNoSecrets(t, h, err)

	b.fake.Fail(FailRateLimited)
	_, limited, after := providers.Classify(ct.TestChannel(t.Context(), b.target))
	require.True(t, limited)
	require.Equal(t, RetryAfter, after)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, ct.TestChannel(ctx, b.target), context.Canceled)
}
