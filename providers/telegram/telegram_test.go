package telegram_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
	"github.com/chatsidecar/chatsidecar/providers/telegram"
)

const generic = "chat_integration.channel_exception"

// target is a channel on the fake at base.
func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "news",
		Data:     map[string]string{"name": "news", "chat_id": fakeChatID},
		Settings: providers.Settings{"access_token": fakeToken, "api_base_url": base, "excerpt_length": 400},
	}
}

// threadOf reads the root a sendMessage replies to, as the JSON number's
// text.
func threadOf(r providertest.Request) string {
	var body struct {
		ReplyParameters *struct {
			MessageID json.Number `json:"message_id"`
		} `json:"reply_parameters"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.UseNumber()
	if dec.Decode(&body) != nil || body.ReplyParameters == nil {
		return ""
	}
	return body.ReplyParameters.MessageID.String()
}

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	return providertest.Harness{
		New:      func(c *http.Client) providers.Notifier { return telegram.New(telegram.Options{HTTPClient: c}) },
		NewFake:  func(t *testing.T) providertest.Fake { return newFakeTelegram(t) },
		Target:   target,
		Secrets:  []string{fakeToken, fakeTokenSecret},
		ThreadOf: threadOf,
		// A member's message in the chat: the fake refuses a reply to a
		// message it does not hold, as Telegram does.
		ThreadRoot:     func(f providertest.Fake) string { return f.(*fakeTelegram).postOutside() },
		EditEndpoint:   "POST /bot" + fakeToken + "/editMessageText",
		DeleteEndpoint: "POST /bot" + fakeToken + "/deleteMessage",
		LimitScope:     providers.LimitAccount, // the 429 holds back the whole account
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
}

// bundle is one test's provider and fake.
type bundle struct {
	p    *telegram.Provider
	fake *fakeTelegram
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: telegram.New(telegram.Options{}), fake: newFakeTelegram(t)}
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	return m
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{MessageID: "1", ThreadID: "1", Extra: map[string]string{"chat": fakeChatID}}, r)

	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /bot"+fakeToken+"/sendMessage", req.Endpoint())
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	body := decode(t, req.Body)
	require.Equal(t, json.Number(fakeChatID), body["chat_id"], "a numeric chat id is sent as a number")
	require.Equal(t, "HTML", body["parse_mode"])
	require.Equal(t, map[string]any{"is_disabled": true}, body["link_preview_options"])
	require.NotContains(t, body, "reply_parameters")
	text := body["text"].(string)
	require.True(t, strings.HasPrefix(text,
		`<b>Jane Doe (@jane)</b> posted in <a href="https://forum.example.org/t/upgrading-to-2-0/42/2">Upgrading to 2.0 &amp; beyond</a> [Support/Installation] upgrade, help`+"\n\n"), text)
	require.Contains(t, text, "launcher rebuild app")
}

func TestChatByUsername(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Data["chat_id"] = fakeChatName
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, fakeChatName, decode(t, b.fake.RequireLast(t).Body)["chat_id"], "an @username is sent as a string")
	require.Equal(t, fakeChatID, r.Extra["chat"], "the numeric id Telegram resolved is kept for edits")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	require.Equal(t, json.Number(fakeChatID), decode(t, b.fake.RequireLast(t).Body)["chat_id"])
}

// TestThreadRootAndReply is the issue's "a topic's first post starts a
// thread per channel and a reply lands in it".
func TestThreadRootAndReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Post.Number, n.Filter = 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, root.ThreadID, "the topic's first message is its root")
	require.Empty(t, threadOf(b.fake.RequireLast(t)))

	n.Post.Number, n.ThreadID = 2, root.ThreadID
	reply, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, threadOf(b.fake.RequireLast(t)), "the reply answers the root")
	require.Equal(t, map[string]any{"message_id": json.Number(root.MessageID), "allow_sending_without_reply": true},
		decode(t, b.fake.RequireLast(t).Body)["reply_parameters"])
	require.NotEqual(t, root.MessageID, reply.MessageID)
	require.Equal(t, root.ThreadID, reply.ThreadID, "later posts keep replying to the root")

	// Another channel of the same topic has its own root.
	other, err := b.p.Notify(t.Context(), target(b.fake.URL()), &providers.Notification{
		Kind: n.Kind, Site: n.Site, Topic: n.Topic, Post: n.Post, Author: n.Author, Filter: "thread",
	})
	require.NoError(t, err)
	require.Equal(t, other.MessageID, other.ThreadID)
}

func TestReplyToDeletedRootStartsANewThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Filter = "thread"
	root, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	b.fake.deleteOutside(root.MessageID)

	n.ThreadID = root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err, "allow_sending_without_reply: a deleted root does not fail the message")
	require.Equal(t, root.MessageID, threadOf(b.fake.RequireLast(t)))
	require.Equal(t, r.MessageID, r.ThreadID, "Telegram sent it as a plain message, which becomes the root")
}

// TestReplyToRootsTheBotDidNotSend: a member's message can root a
// topic's thread; a root Telegram does not know (never sent, or from
// another chat) does not fail the message, which becomes the new root.
func TestReplyToRootsTheBotDidNotSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", b.fake.postOutside()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, n.ThreadID, threadOf(b.fake.RequireLast(t)))
	require.Equal(t, n.ThreadID, r.ThreadID, "the member's message roots the thread")

	n.ThreadID = "999"
	r, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, "999", threadOf(b.fake.RequireLast(t)))
	require.Equal(t, r.MessageID, r.ThreadID, "Telegram sent it as a plain message, which becomes the root")
}

func TestOnlyThreadRulesReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	n.Filter, n.ThreadID = "watch", "7"
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), n)
	require.NoError(t, err)
	require.Empty(t, threadOf(b.fake.RequireLast(t)))

	n.Filter, n.ThreadID = "thread", "not-a-number"
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), n)
	require.NoError(t, err, "a root that is not a Telegram id is dropped, not fatal")
	require.Empty(t, threadOf(b.fake.RequireLast(t)))
	require.Equal(t, r.MessageID, r.ThreadID)
}

// TestEditEditsTheMessage is the issue's "editing a post edits the chat
// message".
func TestEditEditsTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)

	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited: use <code>./launcher rebuild</code></p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	req := b.fake.RequireLast(t)
	require.Equal(t, "POST /bot"+fakeToken+"/editMessageText", req.Endpoint())
	body := decode(t, req.Body)
	require.Equal(t, json.Number(fakeChatID), body["chat_id"])
	require.Equal(t, json.Number(r.MessageID), body["message_id"])
	require.Equal(t, "HTML", body["parse_mode"])
	require.Contains(t, b.fake.text(r.MessageID), "Edited")

	require.NoError(t, b.p.Edit(t.Context(), tg, r, n), "an edit that changes nothing visible is done")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	require.Equal(t, map[string]any{"chat_id": json.Number(fakeChatID), "message_id": json.Number(r.MessageID)}, decode(t, b.fake.RequireLast(t).Body))
	require.Empty(t, b.fake.text(r.MessageID))
	require.NoError(t, b.p.Delete(t.Context(), tg, r), "deleting a message that is gone is done")

	providertest.RequireKey(t, b.p.Edit(t.Context(), tg, r, n), generic, nil, fakeTokenSecret)
}

func TestEditNeedsAMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	n := providertest.Notification()
	providertest.RequireKey(t, b.p.Edit(t.Context(), tg, &providers.Receipt{}, n), generic, nil, fakeTokenSecret)
	providertest.RequireKey(t, b.p.Delete(t.Context(), tg, &providers.Receipt{MessageID: "1700000000.000100"}), generic, nil, fakeTokenSecret)
	require.Empty(t, b.fake.Requests())

	// A receipt without Extra falls back to the channel's chat_id.
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.NoError(t, b.p.Delete(t.Context(), tg, &providers.Receipt{MessageID: r.MessageID}))
}

func TestChatMigratedToSupergroup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Data["chat_id"] = fakeOldGroup
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, telegram.KeyChatMigrated, providers.ErrChannelNotFound, fakeTokenSecret)
	require.Contains(t, err.Error(), fakeSupergroup, "the admin is told the new chat id")
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	require.NoError(t, b.p.TestChannel(t.Context(), tg))
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "POST /bot"+fakeToken+"/getMe", reqs[0].Endpoint())
	require.Equal(t, "POST /bot"+fakeToken+"/getChat", reqs[1].Endpoint())
	require.Equal(t, map[string]any{"chat_id": json.Number(fakeChatID)}, decode(t, reqs[1].Body))

	tg.Data["chat_id"] = "-100777"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), telegram.KeyChannelNotFound, providers.ErrChannelNotFound, fakeTokenSecret)

	tg = target(b.fake.URL())
	tg.Settings["access_token"] = "123456789:wrong"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), telegram.KeyInvalidToken, providers.ErrUnauthorized, fakeTokenSecret)
	for _, r := range b.fake.Requests() {
		require.NotContains(t, r.Path, "sendMessage", "a channel test posts nothing")
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Settings["access_token"] = " "
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, telegram.KeyNotConfigured, providers.ErrNotConfigured, fakeTokenSecret)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), telegram.KeyNotConfigured, providers.ErrNotConfigured, fakeTokenSecret)

	tg = target("::not a url")
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, telegram.KeyNotConfigured, providers.ErrNotConfigured, fakeTokenSecret)
	require.Empty(t, b.fake.Requests())
}

func TestAPIBaseURLWithPathPrefix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL() + "/")
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "/bot"+fakeToken+"/sendMessage", b.fake.RequireLast(t).Path, "a trailing slash is not doubled")
}

// TestErrors pins the classification of Telegram's answers in its own
// words.
func TestErrors(t *testing.T) {
	t.Parallel()
	type want = providertest.Classified
	notFound := want{Key: telegram.KeyChannelNotFound, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	forbidden := want{Key: telegram.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}
	badToken := want{Key: telegram.KeyInvalidToken, Sentinel: providers.ErrUnauthorized, Permanent: true}
	rejected := want{Key: generic, Permanent: true}
	retry := want{Key: generic}
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, Want: notFound},
		{Status: 400, Body: `{"ok":false,"description":"chat not found"}`, Want: notFound}, // the reference's spec reply
		{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, Want: forbidden},
		{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the channel chat"}`, Want: forbidden},
		{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: something new"}`, Want: forbidden},
		{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: not enough rights to send text messages to the chat"}`, Want: forbidden},
		{Status: 401, Body: `{"ok":false,"error_code":401,"description":"Unauthorized"}`, Want: badToken},
		{Status: 404, Body: `{"ok":false,"error_code":404,"description":"Not Found"}`, Want: badToken},
		{Status: 404, Body: `<html>404 Not Found</html>`, Want: badToken},
		{Status: 401, Body: `Unauthorized`, Want: badToken},
		{Status: 429, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`, Want: want{Key: generic, Limited: true, After: 35 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Header: http.Header{"Retry-After": {"12"}}, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests"}`, Want: want{Key: generic, Limited: true, After: 12 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Body: `<html>slow down</html>`, Want: want{Key: generic, Limited: true}}, // a proxy's, not the Bot API's
		{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001}}`, Want: want{Key: telegram.KeyChatMigrated, Sentinel: providers.ErrChannelNotFound, Permanent: true}},
		{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"}`, Want: rejected},
		{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`, Want: rejected},
		{Status: 409, Body: `{"ok":false,"error_code":409,"description":"Conflict"}`, Want: rejected},
		{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, Want: retry},
		{Status: 502, Body: `<html>Bad Gateway</html>`, Want: retry},
		{Status: 200, Body: `<html>captive portal</html>`, Want: retry},
		{Status: 200, Body: `{"hello":"world"}`, Want: retry},
	}, fakeTokenSecret, "<html>")
}

func TestUnreadableSuccessIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(200, nil, `{"ok":true,"result":true}`)
	r, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.NoError(t, err, "the message was posted; posting it again would duplicate it")
	require.Equal(t, &providers.Receipt{}, r)
}

func TestDescriptionEchoingTheTokenIsNotQuoted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Reply(400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: bad path /bot`+fakeToken+`/sendMessage"}`)
	_, err := b.p.Notify(t.Context(), target(b.fake.URL()), providertest.Notification())
	require.Error(t, err)
	require.NotContains(t, err.Error(), fakeTokenSecret)
	require.Equal(t, "Telegram error 400", err.Error())
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enabled bool
		patch   map[string]any
		field   string // "" means valid
	}{
		{name: "disabled and empty"},
		{name: "enabled without token", enabled: true, field: "settings.access_token"},
		{name: "enabled with token", enabled: true, patch: map[string]any{"access_token": fakeToken}},
		{name: "malformed token", patch: map[string]any{"access_token": "not a token"}, field: "settings.access_token"},
		{name: "token with a slash", patch: map[string]any{"access_token": "1:abc/def"}, field: "settings.access_token"},
		{name: "local Bot API server", patch: map[string]any{"api_base_url": "http://127.0.0.1:8081"}},
		{name: "proxy with a path", patch: map[string]any{"api_base_url": "https://proxy.example.org/telegram/"}},
		{name: "base with a query", patch: map[string]any{"api_base_url": "https://proxy.example.org/?x=1"}, field: "settings.api_base_url"},
		{name: "base with credentials", patch: map[string]any{"api_base_url": "https://u:p@proxy.example.org"}, field: "settings.api_base_url"},
		{name: "base with a fragment", patch: map[string]any{"api_base_url": "https://proxy.example.org/#x"}, field: "settings.api_base_url"},
		{name: "base not http", patch: map[string]any{"api_base_url": "ftp://proxy.example.org"}, field: "settings.api_base_url"},
		{name: "excerpt length", patch: map[string]any{"excerpt_length": 0}, field: "settings.excerpt_length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(telegram.New(telegram.Options{}), tc.enabled, nil, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.field)
		})
	}
}

func TestChatIDPattern(t *testing.T) {
	t.Parallel()
	p := telegram.New(telegram.Options{})
	for id, ok := range map[string]bool{
		"-1001234567890": true, "12345": true, "@channel_name": true,
		"": false, "abc": false, "@": false, "-": false, "12 34": false, "-100\n1": false,
	} {
		_, err := providers.ValidateChannelData(p, "data", map[string]any{"name": "x", "chat_id": id})
		require.Equal(t, ok, err == nil, "%q: %v", id, err)
	}
	_, err := providers.ValidateChannelData(p, "data", map[string]any{"name": "x", "chat_id": float64(-1001234567890)})
	require.NoError(t, err, "a chat id may arrive as a JSON number")
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(telegram.New(telegram.Options{})))
}
