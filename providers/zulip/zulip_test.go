package zulip_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/zulip"
)

const generic = "chat_integration.channel_exception"

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	full := map[string]any{"server": "https://example.zulipchat.com", "bot_email_address": "bot@example.com", "bot_api_key": "k"}
	without := func(key string) map[string]any {
		m := make(map[string]any, len(full))
		for k, v := range full {
			if k != key {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		enabled bool
		patch   map[string]any
		field   string // "" for success
	}{
		{name: "disabled and empty"},
		{name: "enabled and complete", enabled: true, patch: full},
		{name: "enabled and empty", enabled: true, field: "settings.server"},
		{name: "no email", enabled: true, patch: without("bot_email_address"), field: "settings.bot_email_address"},
		{name: "no key", enabled: true, patch: without("bot_api_key"), field: "settings.bot_api_key"},
		{name: "bad email", patch: map[string]any{"bot_email_address": "not an email"}, field: "settings.bot_email_address"},
		{name: "topic per forum topic", enabled: true, patch: map[string]any{
			"server": "https://example.zulipchat.com", "bot_email_address": "bot@example.com", "bot_api_key": "k",
			"topic_per_forum_topic": true,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(zulip.New(zulip.Options{}), tc.enabled, nil, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			require.ErrorContains(t, err, tc.field)
		})
	}
}

// target is a channel of the fake at base. server is the fake too, so the
// target works with or without api_base_url.
func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "general",
		Data: map[string]string{"stream": fakeStream, "subject": "forum updates"},
		Settings: providers.Settings{
			"server": base, "bot_email_address": fakeEmail, "bot_api_key": fakeAPIKey,
			"api_base_url": base, "excerpt_length": 400, "topic_per_forum_topic": false,
		},
	}
}

func newProvider(c *http.Client) *zulip.Provider {
	return zulip.New(zulip.Options{HTTPClient: c, NowFunc: fakeNow})
}

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	first := strconv.Itoa(firstID)
	return providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return newProvider(c) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeZulip(t) },
		Target:  target,
		Secrets: []string{fakeAPIKey},
		// A Zulip thread is a topic, named apart from its first message;
		// the suite replies into a topic someone else started.
		ThreadOf:               threadOf,
		ThreadRoot:             func(f providertest.Fake) string { return f.(*fakeZulip).postElsewhere() },
		ThreadsNamedSeparately: true,
		// Every subtest has a fresh fake, so the first message has this id.
		EditEndpoint:   "PATCH /api/v1/messages/" + first,
		DeleteEndpoint: "DELETE /api/v1/messages/" + first,
		LimitScope:     providers.LimitAccount, // the 429 holds back the whole account
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
}

// bundle is one test's provider and fake.
type bundle struct {
	p    *zulip.Provider
	fake *fakeZulip
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: newProvider(providers.NewHTTPClient()), fake: newFakeZulip(t)}
}

func form(t *testing.T, body []byte) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	return v
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	delete(tg.Settings, "api_base_url") // the server setting alone reaches the API
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: strconv.Itoa(firstID), ThreadID: "forum updates"}, r,
		"the thread is the topic the message went to")

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /api/v1/messages", req.Endpoint())
	require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	email, key, ok := (&http.Request{Header: req.Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, fakeEmail, email)
	require.Equal(t, fakeAPIKey, key)
	f := form(t, req.Body)
	require.Equal(t, "stream", f.Get("type"))
	require.Equal(t, fakeStream, f.Get("to"))
	require.Equal(t, "forum updates", f.Get("topic"), "the channel's subject, as in the reference")
	require.True(t, strings.HasPrefix(f.Get("content"), "**Jane Doe (@jane)** posted in **[Upgrading to 2.0 & beyond]"), f.Get("content"))

	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Equal(t, "forum updates", m.Topic)
}

// TestTopicPerForumTopic is the issue's "optionally one Zulip topic per
// forum topic", and Zulip's form of "the topic's first post starts a
// thread per channel and a reply lands in it": the first post and a reply
// land in the Zulip topic named after the forum topic, found by name, so
// nothing about the first message needs remembering.
func TestTopicPerForumTopic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Settings["topic_per_forum_topic"] = true

	first := providertest.Notification()
	first.Post.Number = 1
	r1, err := b.p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	reply := providertest.Notification()
	reply.Post.ID, reply.Post.Number = 1002, 2
	r2, err := b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)

	m1, ok := b.fake.Message(r1.MessageID)
	require.True(t, ok)
	m2, ok := b.fake.Message(r2.MessageID)
	require.True(t, ok)
	require.Equal(t, "Upgrading to 2.0 & beyond", m1.Topic, "the first post starts the forum topic's Zulip topic")
	require.Equal(t, m1.Topic, m2.Topic, "and the reply lands in it")
	require.Equal(t, m1.Topic, r1.ThreadID, "the receipt names the topic as the thread")
	require.Equal(t, r1.ThreadID, r2.ThreadID)
	require.Equal(t, fakeStream, m2.Stream)

	// Another forum topic gets its own Zulip topic in the same stream.
	other := providertest.Notification()
	other.Topic.ID, other.Topic.Title = 43, strings.Repeat("A very long topic title ", 4)
	r3, err := b.p.Notify(t.Context(), tg, other)
	require.NoError(t, err)
	m3, _ := b.fake.Message(r3.MessageID)
	require.Equal(t, "A very long topic title A very long topic title A very long…", m3.Topic, "cut to Zulip's 60 characters")
	require.Len(t, []rune(m3.Topic), zulip.TopicMaxRunes)
}

// TestThreadRule is Zulip's form of "the topic's first post starts a
// thread per channel and a reply lands in it": a thread rule without a
// known thread starts the forum topic's Zulip topic and reports it; a
// later post replies into the topic the receipt named, even after the
// forum topic was renamed; other rules post to the channel's subject.
func TestThreadRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	require.True(t, b.p.Threads(tg), "every Zulip stream message is in a topic")
	n := providertest.Notification()
	n.Filter = "thread"
	first, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, "Upgrading to 2.0 & beyond", form(t, b.fake.RequireLast(t).Body).Get("topic"), "a thread rule threads by Zulip topic")
	require.Equal(t, "Upgrading to 2.0 & beyond", first.ThreadID)
	require.Empty(t, threadOf(b.fake.Requests()[0]), "the topic was new")

	n.ThreadID, n.Topic.Title = first.ThreadID, "Upgrading to 2.0 and beyond (solved)"
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, first.ThreadID, r.ThreadID, "the reply stays in the topic the first post started")
	reqs := b.fake.Requests()
	require.Equal(t, first.ThreadID, threadOf(reqs[len(reqs)-1]))
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Equal(t, first.ThreadID, m.Topic)

	n.Filter = "watch"
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, "forum updates", form(t, b.fake.RequireLast(t).Body).Get("topic"), "only a thread rule posts into the thread")
	require.Equal(t, "forum updates", r.ThreadID)
}

func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)

	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited text</p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	req := b.fake.RequireLast(t)
	require.Equal(t, "PATCH /api/v1/messages/"+r.MessageID, req.Endpoint())
	f := form(t, req.Body)
	require.Equal(t, []string{"content"}, keys(f), "an edit changes the content only, never the topic")
	m, ok := b.fake.Message(r.MessageID)
	require.True(t, ok)
	require.Contains(t, m.Content, "Edited text", "the edit replaced the message's content")
	require.NotContains(t, m.Content, "launcher")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	req = b.fake.RequireLast(t)
	require.Equal(t, "DELETE /api/v1/messages/"+r.MessageID, req.Endpoint())
	require.Empty(t, req.Body)
	_, ok = b.fake.Message(r.MessageID)
	require.False(t, ok, "the message is gone")

	err = b.p.Delete(t.Context(), tg, r)
	providertest.RequireKey(t, err, generic, nil)
}

func keys(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	return out
}

func TestEditNeedsMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	providertest.RequireKey(t, b.p.Edit(t.Context(), target(b.fake.URL()), &providers.Receipt{}, providertest.Notification()), generic, nil)
	providertest.RequireKey(t, b.p.Delete(t.Context(), target(b.fake.URL()), nil), generic, nil)
	require.Empty(t, b.fake.Requests())
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Settings["bot_api_key"] = " "
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, zulip.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), zulip.KeyNotConfigured, providers.ErrNotConfigured)
	providertest.RequireKey(t, b.p.Edit(t.Context(), tg, &providers.Receipt{MessageID: "1"}, providertest.Notification()), zulip.KeyNotConfigured, providers.ErrNotConfigured)
	require.Empty(t, b.fake.Requests())
}

func TestErrors(t *testing.T) {
	t.Parallel()
	type want = providertest.Classified
	unauthorized := want{Key: zulip.KeyUnauthorized, Sentinel: providers.ErrUnauthorized, Permanent: true}
	zerr := func(code string) string {
		return fmt.Sprintf(`{"result":"error","code":%q,"msg":"translated text for %s"}`, code, fakeAPIKey)
	}
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		{Status: 401, Body: zerr("INVALID_API_KEY"), Want: unauthorized},
		{Status: 401, Body: zerr("UNAUTHORIZED"), Want: unauthorized},
		{Status: 401, Body: zerr("USER_DEACTIVATED"), Want: unauthorized},
		{Status: 401, Body: zerr("REALM_DEACTIVATED"), Want: unauthorized},
		{Status: 403, Body: zerr("USER_DEACTIVATED"), Want: unauthorized}, // before Zulip 5.0 these were 403
		{Status: 401, Body: `Unauthorized`, Want: unauthorized},
		{Status: 400, Body: zerr("STREAM_DOES_NOT_EXIST"), Want: want{Key: zulip.KeyDoesNotExist, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 400, Body: zerr("UNAUTHORIZED_PRINCIPAL"), Want: want{Key: zulip.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 403, Body: zerr("BAD_REQUEST"), Want: want{Key: zulip.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}},
		{Status: 404, Body: zerr("NONEXISTENT_SUBDOMAIN"), Want: want{Key: zulip.KeyNotConfigured, Sentinel: providers.ErrNotConfigured, Permanent: true}},
		{Status: 404, Body: `<html>not found</html>`, Want: want{Key: zulip.KeyNotConfigured, Sentinel: providers.ErrNotConfigured, Permanent: true}},
		{Status: 400, Body: zerr("BAD_REQUEST"), Want: want{Key: generic, Permanent: true}},
		{Status: 400, Body: zerr("REQUEST_VARIABLE_MISSING"), Want: want{Key: generic, Permanent: true}},
		{Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: zerr("RATE_LIMIT_HIT"), Want: want{Key: generic, Limited: true, After: 3 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Header: http.Header{"Retry-After": {"28.7062"}}, Body: zerr("RATE_LIMIT_HIT"), Want: want{Key: generic, Limited: true, After: 28707 * time.Millisecond, Scope: providers.LimitAccount}},
		{Status: 429, Body: `{"result":"error","code":"RATE_LIMIT_HIT","msg":"x","retry-after":1.5}`, Want: want{Key: generic, Limited: true, After: 1500 * time.Millisecond, Scope: providers.LimitAccount}},
		{Status: 429, Header: http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(fakeNow().Add(9*time.Second).Unix(), 10)}}, Body: `{}`, Want: want{Key: generic, Limited: true, After: 9 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Want: want{Key: generic, Limited: true, Scope: providers.LimitAccount}},
		{Status: 500, Body: `<html>oops</html>`, Want: want{Key: generic}},
		{Status: 502, Body: zerr("BAD_REQUEST"), Want: want{Key: generic}},
		{Status: 200, Body: `<html>captive portal</html>`, Want: want{Key: generic}},
		{Status: 200, Body: `{"result":"error","code":"BAD_REQUEST"}`, Want: want{Key: generic}},
	}, fakeAPIKey, "<html>")
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), target(b.fake.URL())))
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "GET /api/v1/users/me", reqs[0].Endpoint())
	require.Equal(t, "GET /api/v1/get_stream_id", reqs[1].Endpoint())
	require.Equal(t, "stream="+fakeStream, reqs[1].Query)
	require.Empty(t, reqs[1].Header.Get("Content-Type"), "a GET has no body")

	tg := target(b.fake.URL())
	tg.Data["stream"] = "no such stream"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), zulip.KeyDoesNotExist, providers.ErrChannelNotFound)
	require.Equal(t, "stream=no+such+stream", b.fake.RequireLast(t).Query)

	tg = target(b.fake.URL())
	tg.Settings["bot_api_key"] = "wrong"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), zulip.KeyUnauthorized, providers.ErrUnauthorized)
}

func TestInvalidServerURL(t *testing.T) {
	t.Parallel()
	_, err := zulip.New(zulip.Options{}).Notify(t.Context(), target("::not a url"), providertest.Notification())
	providertest.RequireKey(t, err, zulip.KeyNotConfigured, providers.ErrNotConfigured)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(zulip.New(zulip.Options{})),
		"a Zulip thread is a topic, found by name")
}
