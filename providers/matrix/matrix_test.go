package matrix_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/matrix"
	"github.com/chatsidecar/chatsidecar/providers/matrix/matrixtest"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// The fake's rooms: one the bot is in, one public room it has not joined
// (reached by alias), and one invite-only room it may not join.
const (
	roomID        = "!OGEhHVWSdvArJzumhm:example.org"
	publicRoomID  = "!PuBLiCrOoMiD:example.org"
	publicAlias   = "#forum:example.org"
	privateRoomID = "!PrIvAtErOoM:example.org"
	privateAlias  = "#staff:example.org"
	channelID     = 1
)

func newFake(t *testing.T) *matrixtest.Homeserver {
	t.Helper()
	hs := matrixtest.New(t, matrixtest.Options{})
	hs.AddRoom(matrixtest.Room{ID: roomID, Joined: true})
	hs.AddRoom(matrixtest.Room{ID: publicRoomID, Alias: publicAlias, Public: true})
	hs.AddRoom(matrixtest.Room{ID: privateRoomID, Alias: privateAlias})
	return hs
}

// target is a channel on room reached through the fake at base.
func target(base, room string) *providers.Target {
	return &providers.Target{
		ChannelID: channelID, ChannelName: "forum",
		Data: map[string]string{"name": "forum", "room_id": room},
		Settings: providers.Settings{
			"homeserver": "https://matrix.example.org", "access_token": matrixtest.DefaultToken,
			"use_notice": true, "excerpt_length": 400, "api_base_url": base,
		},
	}
}

// editEndpoints are the requests Edit and Delete send for the first
// message of a fresh fake, which is always event 1.
func editEndpoints(channel int64, room string) (edit, del string) {
	n := providertest.Notification()
	n.Kind, n.Post.Version = providers.PostEdited, 2
	first := matrixtest.EventID(1)
	edit = "PUT /_matrix/client/v3/rooms/" + room + "/send/m.room.message/" + matrix.EditTxnID(channel, n, first)
	del = "PUT /_matrix/client/v3/rooms/" + room + "/redact/" + first + "/" + matrix.RedactTxnID(channel, first)
	return edit, del
}

// harness describes the provider and its fake to providertest.
func harness() providertest.Harness {
	edit, del := editEndpoints(channelID, roomID)
	return providertest.Harness{
		New:            func(c *http.Client) providers.Notifier { return matrix.New(matrix.Options{HTTPClient: c}) },
		NewFake:        func(t *testing.T) providertest.Fake { return newFake(t) },
		Target:         func(base string) *providers.Target { return target(base, roomID) },
		Secrets:        []string{matrixtest.DefaultToken},
		ThreadOf:       matrixtest.ThreadOf,
		ThreadRoot:     func(f providertest.Fake) string { return f.(*matrixtest.Homeserver).PostOutside(roomID) },
		EditEndpoint:   edit,
		DeleteEndpoint: del,
		LimitScope:     providers.LimitAccount, // the 429 holds back the whole account
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, harness())
}

// bundle is one test's provider and fake.
type bundle struct {
	p  *matrix.Provider
	hs *matrixtest.Homeserver
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: matrix.New(matrix.Options{}), hs: newFake(t)}
}

func (b *bundle) endpoints() []string {
	var out []string
	for _, r := range b.hs.Requests() {
		out = append(out, r.Endpoint())
	}
	return out
}

func (b *bundle) lastEvent(t *testing.T) matrixtest.Event {
	t.Helper()
	evs := b.hs.Events()
	require.NotEmpty(t, evs)
	return evs[len(evs)-1]
}

func TestSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), target(b.hs.URL(), roomID), n)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{
		MessageID: matrixtest.EventID(1),
		ThreadID:  matrixtest.EventID(1),
		Extra:     map[string]string{matrix.ExtraRoomID: roomID},
	}, r)

	req, _ := b.hs.Last()
	require.Equal(t, "PUT /_matrix/client/v3/rooms/"+roomID+"/send/m.room.message/"+matrix.SendTxnID(channelID, n), req.Endpoint())
	require.Equal(t, "Bearer "+matrixtest.DefaultToken, req.Header.Get("Authorization"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	require.Empty(t, req.Query, "the token travels in the header, never in the query")

	ev := b.lastEvent(t)
	require.Equal(t, "m.notice", ev.Content["msgtype"])
	require.Equal(t, "org.matrix.custom.html", ev.Content["format"])
	require.Contains(t, ev.Content["body"], "Jane Doe (@jane) posted in Upgrading to 2.0 & beyond [Support/Installation] upgrade, help")
	require.Contains(t, ev.Content["formatted_body"], `<a href="https://forum.example.org/t/upgrading-to-2-0/42/2">Upgrading to 2.0 &amp; beyond</a>`)
	require.Equal(t, map[string]any{}, ev.Content["m.mentions"])
}

func TestUseNoticeOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)
	tg.Settings["use_notice"] = false
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, "m.text", b.lastEvent(t).Content["msgtype"])
}

func TestTransactionIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)
	n := providertest.Notification()

	// A retry after a timeout sends the same transaction id, and the
	// homeserver answers with the first event: one message in the room.
	r1, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	r2, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Equal(t, r1.MessageID, r2.MessageID)
	require.Len(t, b.hs.Events(), 1)
	reqs := b.hs.Requests()
	require.Equal(t, reqs[0].Path, reqs[1].Path)

	// Another post, a new version or another channel is another message,
	// even within the same second (the reference's Unix-second ids
	// collided there).
	other := providertest.Notification()
	other.Post.ID = 1002
	newer := providertest.Notification()
	newer.Post.Version = 2
	tg2 := target(b.hs.URL(), roomID)
	tg2.ChannelID = 2
	for _, c := range []struct {
		tg *providers.Target
		n  *providers.Notification
	}{{tg, other}, {tg, newer}, {tg2, n}} {
		_, err := b.p.Notify(t.Context(), c.tg, c.n)
		require.NoError(t, err)
	}
	require.Len(t, b.hs.Events(), 4)

	ids := map[string]bool{}
	for _, id := range []string{
		matrix.SendTxnID(1, n), matrix.SendTxnID(1, other), matrix.SendTxnID(1, newer), matrix.SendTxnID(2, n),
		matrix.EditTxnID(1, n, "$a"), matrix.EditTxnID(1, n, "$b"), matrix.RedactTxnID(1, "$a"),
	} {
		require.Regexp(t, `^[A-Za-z0-9._~-]+$`, id, "transaction ids need no escaping")
		require.False(t, ids[id], "duplicate transaction id %s", id)
		ids[id] = true
	}
}

func TestSampleNotificationsAreDistinct(t *testing.T) {
	t.Parallel()
	// testChannel's sample post has no id; each test must still post.
	a, b := providertest.Notification(), providertest.Notification()
	a.Post.ID, b.Post.ID = 0, 0
	b.Post.CreatedAt = a.Post.CreatedAt.Add(time.Second)
	require.NotEqual(t, matrix.SendTxnID(1, a), matrix.SendTxnID(1, b))
}

func TestAliasResolutionAndJoin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), publicAlias)
	r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, publicRoomID, r.Extra[matrix.ExtraRoomID])

	reqs := b.hs.Requests()
	require.Equal(t, []string{
		"GET /_matrix/client/v3/directory/room/" + publicAlias,
		"PUT /_matrix/client/v3/rooms/" + publicRoomID + "/send/m.room.message/" + matrix.SendTxnID(channelID, providertest.Notification()),
		"POST /_matrix/client/v3/join/" + publicAlias,
		"PUT /_matrix/client/v3/rooms/" + publicRoomID + "/send/m.room.message/" + matrix.SendTxnID(channelID, providertest.Notification()),
	}, b.endpoints())
	require.Equal(t, "server_name=example.org&via=example.org", reqs[2].Query)
	room, _ := b.hs.Room(publicRoomID)
	require.True(t, room.Joined)
	require.Equal(t, publicRoomID, b.lastEvent(t).RoomID)

	// The alias is cached: the next post is one request.
	n := providertest.Notification()
	n.Post.ID = 1002
	_, err = b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	require.Len(t, b.hs.Requests(), 5)
	last, _ := b.hs.Last()
	require.Equal(t, "PUT", last.Method)
}

func TestJoinRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.hs.URL(), privateAlias), providertest.Notification())
	providertest.RequireKey(t, err, matrix.KeyForbidden, providers.ErrForbidden, matrixtest.DefaultToken)
	require.Len(t, b.hs.Requests(), 3, "lookup, send, join; no second send")
	require.Empty(t, b.hs.Events())
}

func TestUnknownRoom(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Notify(t.Context(), target(b.hs.URL(), "#nowhere:example.org"), providertest.Notification())
	providertest.RequireKey(t, err, matrix.KeyUnknownRoom, providers.ErrChannelNotFound, matrixtest.DefaultToken)
	require.Len(t, b.hs.Requests(), 1)

	_, err = b.p.Notify(t.Context(), target(b.hs.URL(), "!nowhere:example.org"), providertest.Notification())
	providertest.RequireKey(t, err, matrix.KeyUnknownRoom, providers.ErrChannelNotFound, matrixtest.DefaultToken)
}

func TestThreadRootThenReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)

	// The topic's first notification in this channel starts the thread.
	first := providertest.Notification()
	first.Post.ID, first.Post.Number, first.Filter = 1000, 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, root.ThreadID)
	require.NotContains(t, b.lastEvent(t).Content, "m.relates_to")

	// The engine stores root.ThreadID and hands it to the next post.
	reply := providertest.Notification()
	reply.Filter, reply.ThreadID = "thread", root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, r.ThreadID, "later replies go to the root, not to this reply")
	require.NotEqual(t, root.MessageID, r.MessageID)
	require.Equal(t, map[string]any{
		"rel_type": "m.thread", "event_id": root.MessageID, "is_falling_back": true,
		"m.in_reply_to": map[string]any{"event_id": root.MessageID},
	}, b.lastEvent(t).Content["m.relates_to"])
}

func TestEditAndRedact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), publicAlias)
	n := providertest.Notification()
	r, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err)
	sent := len(b.hs.Requests())

	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited text</p>"
	require.NoError(t, b.p.Edit(t.Context(), tg, r, n))
	require.Len(t, b.hs.Requests(), sent+1, "the room id comes from the receipt; no alias lookup")
	ev := b.lastEvent(t)
	require.Equal(t, publicRoomID, ev.RoomID)
	require.Equal(t, map[string]any{"rel_type": "m.replace", "event_id": r.MessageID}, ev.Content["m.relates_to"])
	require.Regexp(t, `^\* Jane Doe`, ev.Content["body"])
	require.Regexp(t, `^\* <b>`, ev.Content["formatted_body"])
	newContent, _ := ev.Content["m.new_content"].(map[string]any)
	require.Contains(t, newContent["body"], "Edited text")
	require.Contains(t, newContent["formatted_body"], "Edited text")
	require.NotContains(t, newContent, "m.relates_to")

	require.NoError(t, b.p.Delete(t.Context(), tg, r))
	ev = b.lastEvent(t)
	require.Equal(t, "m.room.redaction", ev.Type)
	require.Equal(t, r.MessageID, ev.Redacts)
	require.Equal(t, publicRoomID, ev.RoomID)
	require.Equal(t, "The forum post was deleted", ev.Content["reason"])

	// A receipt without a room id falls back to the channel's room.
	require.NoError(t, b.p.Delete(t.Context(), target(b.hs.URL(), roomID), &providers.Receipt{MessageID: matrixtest.EventID(1)}))
	providertest.RequireKey(t, b.p.Delete(t.Context(), tg, &providers.Receipt{}), "chat_integration.channel_exception", nil, matrixtest.DefaultToken)
}

func TestApplicationServiceToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)
	delete(tg.Settings, "access_token")
	tg.Settings["as_token"] = matrixtest.DefaultToken
	tg.Settings["hs_token"] = "hs-never-sent"
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	req, _ := b.hs.Last()
	require.Equal(t, "Bearer "+matrixtest.DefaultToken, req.Header.Get("Authorization"))

	tg.Settings["access_token"] = "syt_preferred"
	_, _ = b.p.Notify(t.Context(), tg, providertest.Notification())
	req, _ = b.hs.Last()
	require.Equal(t, "Bearer syt_preferred", req.Header.Get("Authorization"), "access_token wins over as_token")
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)
	tg.Settings["access_token"] = "  "
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, matrix.KeyNotConfigured, providers.ErrNotConfigured, matrixtest.DefaultToken)
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), matrix.KeyNotConfigured, providers.ErrNotConfigured, matrixtest.DefaultToken)
	require.Empty(t, b.hs.Requests())

	tg = target("::not a url", roomID)
	_, err = b.p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, matrix.KeyNotConfigured, providers.ErrNotConfigured, matrixtest.DefaultToken)
}

func TestHomeserverSetting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target("", roomID)
	tg.Settings["homeserver"] = b.hs.URL() + "/"
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err, "without api_base_url the homeserver setting is used")
	require.Equal(t, matrix.DefaultHomeserver, matrix.Homeserver(providers.Settings{}, matrix.DefaultHomeserver))
}

func TestTestChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.p.TestChannel(t.Context(), target(b.hs.URL(), roomID)))
	require.Equal(t, []string{
		"GET /_matrix/client/v3/account/whoami",
		"GET /_matrix/client/v3/rooms/" + roomID + "/state/m.room.member/" + matrixtest.DefaultUserID,
	}, b.endpoints())

	err := b.p.TestChannel(t.Context(), target(b.hs.URL(), publicAlias))
	providertest.RequireKey(t, err, matrix.KeyNotInRoom, providers.ErrForbidden, matrixtest.DefaultToken)
	require.Empty(t, b.hs.Events(), "testing never posts")

	b.hs.AddRoom(matrixtest.Room{ID: "!invited:example.org", Invited: true})
	require.NoError(t, b.p.TestChannel(t.Context(), target(b.hs.URL(), "!invited:example.org")))

	err = b.p.TestChannel(t.Context(), target(b.hs.URL(), "#nowhere:example.org"))
	providertest.RequireKey(t, err, matrix.KeyUnknownRoom, providers.ErrChannelNotFound, matrixtest.DefaultToken)

	tg := target(b.hs.URL(), roomID)
	tg.Settings["access_token"] = "syt_wrong"
	providertest.RequireKey(t, b.p.TestChannel(t.Context(), tg), matrix.KeyUnknownToken, providers.ErrUnauthorized, matrixtest.DefaultToken)
	room, _ := b.hs.Room(publicRoomID)
	require.False(t, room.Joined, "testing never joins")
}

// TestThreadRootGone: a reply whose root the homeserver no longer knows is
// refused with 400 M_UNKNOWN, which is providers.ErrThreadNotFound (the
// engine then posts outside the thread), not an unknown room; the same
// answer to a message outside a thread still is one (see TestErrors).
func TestThreadRootGone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.hs.URL(), roomID)
	first := providertest.Notification()
	first.Post.ID, first.Post.Number, first.Filter = 1000, 1, "thread"
	root, err := b.p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	require.True(t, b.hs.Forget(root.ThreadID))

	reply := providertest.Notification()
	reply.Filter, reply.ThreadID = "thread", root.ThreadID
	r, err := b.p.Notify(t.Context(), tg, reply)
	require.Nil(t, r)
	providertest.RequireClassified(t, err, providertest.Classified{Key: "chat_integration.channel_exception",
		Sentinel: providers.ErrThreadNotFound, Permanent: true}, matrixtest.DefaultToken)
	require.NotErrorIs(t, err, providers.ErrChannelNotFound)

	// Outside the thread, as the engine sends it next, it goes out.
	reply.ThreadID = ""
	r, err = b.p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, r.MessageID, r.ThreadID, "the message roots the topic's new thread")
	require.NotContains(t, b.lastEvent(t).Content, "m.relates_to")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const generic = "chat_integration.channel_exception"
	type want = providertest.Classified
	unknownRoom := want{Key: matrix.KeyUnknownRoom, Sentinel: providers.ErrChannelNotFound, Permanent: true}
	unauthorized := want{Key: matrix.KeyUnknownToken, Sentinel: providers.ErrUnauthorized, Permanent: true}
	forbidden := want{Key: matrix.KeyForbidden, Sentinel: providers.ErrForbidden, Permanent: true}
	retry := want{Key: generic}
	providertest.RunNotifyReplies(t, harness(), []providertest.ReplyCase{
		{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: `{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":2000}`, Want: want{Key: generic, Limited: true, After: 7 * time.Second, Scope: providers.LimitAccount}},
		{Status: 429, Body: `{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":2500}`, Want: want{Key: generic, Limited: true, After: 2500 * time.Millisecond, Scope: providers.LimitAccount}},
		{Status: 429, Body: `{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":1.5}`, Want: want{Key: generic, Limited: true, After: 1500 * time.Microsecond, Scope: providers.LimitAccount}},
		{Status: 429, Body: `Too Many Requests`, Want: want{Key: generic, Limited: true, Scope: providers.LimitAccount}},
		{Status: 400, Body: `{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":1000}`, Want: want{Key: generic, Limited: true, After: time.Second, Scope: providers.LimitAccount}},
		{Status: 401, Body: `{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed.","soft_logout":true}`, Want: unauthorized},
		{Status: 401, Body: `{"errcode":"M_MISSING_TOKEN","error":"Missing access token"}`, Want: unauthorized},
		{Status: 403, Body: `{"errcode":"M_USER_DEACTIVATED","error":"This account has been deactivated"}`, Want: unauthorized},
		{Status: 401, Body: `<html>Unauthorized</html>`, Want: unauthorized},
		{Status: 403, Body: `{"errcode":"M_FORBIDDEN","error":"You don't have permission to post that to the room. user_level (0) < send_level (50)"}`, Want: forbidden},
		{Status: 403, Body: `{"errcode":"M_GUEST_ACCESS_FORBIDDEN","error":"Guest access not allowed"}`, Want: forbidden},
		{Status: 404, Body: `{"errcode":"M_NOT_FOUND","error":"Unknown room"}`, Want: unknownRoom},
		{Status: 400, Body: `{"errcode":"M_UNKNOWN","error":"Unknown room"}`, Want: unknownRoom}, // the reference's M_UNKNOWN
		{Status: 404, Body: `not found`, Want: unknownRoom},
		{Status: 400, Body: `{"errcode":"M_BAD_JSON","error":"Content not JSON."}`, Want: want{Key: generic, Permanent: true}},
		{Status: 413, Body: `{"errcode":"M_TOO_LARGE","error":"Event too large"}`, Want: want{Key: generic, Permanent: true}},
		{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}, Want: want{Key: generic, Permanent: true}},
		{Status: 500, Body: `{"errcode":"M_UNKNOWN","error":"Internal server error"}`, Want: retry},
		{Status: 502, Body: `<html>Bad gateway</html>`, Want: retry},
		{Status: 503, Body: `{"errcode":"M_NOT_FOUND","error":"odd proxy"}`, Want: retry},
		{Status: 200, Body: `<html>captive portal</html>`, Want: retry},
		{Status: 200, Body: `{}`, Want: retry},
	}, "<html>", "user_level") // neither bodies nor Matrix's human text are quoted
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		field   string // "" when valid
	}{
		{name: "disabled and empty", enabled: false},
		{name: "enabled and empty", enabled: true, field: "settings.access_token"},
		{name: "access token", enabled: true, patch: map[string]any{"access_token": "syt_1"}},
		{name: "application service", enabled: true, patch: map[string]any{"as_token": "as", "hs_token": "hs"}},
		{name: "as_token alone", enabled: true, patch: map[string]any{"as_token": "as"}},
		{name: "hs_token alone", enabled: true, patch: map[string]any{"access_token": "syt_1", "hs_token": "hs"}, field: "settings.as_token"},
		{name: "blank token", enabled: true, patch: map[string]any{"access_token": "  "}, field: "settings.access_token"},
		{
			name: "token reset", enabled: true,
			current: map[string]any{"access_token": "syt_1"}, patch: map[string]any{"access_token": nil},
			field: "settings.access_token",
		},
		{name: "homeserver must be a URL", enabled: false, patch: map[string]any{"homeserver": "matrix.org"}, field: "settings.homeserver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(matrix.New(matrix.Options{}), tc.enabled, tc.current, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			require.ErrorContains(t, err, tc.field)
		})
	}
}

func TestRoomPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		room string
		ok   bool
	}{
		{"!cURbafjkfsMDVwdRDQ:matrix.org", true},
		{"#discourse:matrix.org", true},
		{"!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", true}, // room version 12
		{"!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL", false}, // 42 characters
		{"!abc", false},
		{"@bob:matrix.org", false},
		{"#discourse", false},
		{"!abc:matrix.org\n!def:matrix.org", false},
		{"", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.ok, matrix.RoomPattern().MatchString(tc.room), tc.room)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(matrix.New(matrix.Options{})))
}
