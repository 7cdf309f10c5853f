package gitter_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/gitter"
	"github.com/chatsidecar/chatsidecar/providers/matrix"
	"github.com/chatsidecar/chatsidecar/providers/matrix/matrixtest"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// The Gitter room of the must-show case, as gitter.im names it on Matrix.
const (
	gitterRoomName  = "gitterHQ/services"
	gitterAlias     = "#gitterHQ_services:gitter.im"
	gitterRoomID    = "!YBlpBqvJsCvLajMSvC:gitter.im"
	gitterUserID    = "@forumbot-5f1a2b3c4d5e6f7a8b9c0d1f:gitter.im"
	channelID       = 7
	matrixTokenName = "syt_Z2l0dGVy_SECRETGITTERTOKEN_1a2b3c"
)

// newHomeserver is a fake gitter.im homeserver with the services room,
// which the bot has joined, and a public room it has not.
func newHomeserver(t *testing.T) *matrixtest.Homeserver {
	t.Helper()
	hs := matrixtest.New(t, matrixtest.Options{ServerName: "gitter.im", Token: matrixTokenName, UserID: gitterUserID})
	hs.AddRoom(matrixtest.Room{ID: gitterRoomID, Alias: gitterAlias, Joined: true})
	hs.AddRoom(matrixtest.Room{ID: "!NoDeJsNoDe:gitter.im", Alias: "#nodejs_node:gitter.im", Public: true})
	return hs
}

// matrixTarget is a Gitter channel on room through Matrix; base is the
// api_base_url ("" to use the homeserver setting).
func matrixTarget(base, room string) *providers.Target {
	s := providers.Settings{"access_token": matrixTokenName, "matrix_server_name": "gitter.im", "excerpt_length": 400}
	if base != "" {
		s["api_base_url"] = base
	}
	return &providers.Target{
		ChannelID: channelID, ChannelName: "services",
		Data:     map[string]string{"name": "services", "room": room, "transport": gitter.TransportMatrix, "webhook_url": ""},
		Settings: s,
	}
}

// restTarget is a channel on the legacy REST API of the fake at base.
func restTarget(base, room string) *providers.Target {
	return &providers.Target{
		ChannelID: channelID, ChannelName: "services",
		Data: map[string]string{"name": "services", "room": room, "transport": gitter.TransportLegacy, "webhook_url": ""},
		Settings: providers.Settings{
			"legacy_api_url": "https://gitter.example.org/api", "legacy_token": legacyToken,
			"api_base_url": base, "excerpt_length": 400,
		},
	}
}

// webhookTarget is a channel on the legacy activity webhook of the fake
// at base.
func webhookTarget(base string) *providers.Target {
	return &providers.Target{
		ChannelID: channelID, ChannelName: "services",
		Data:     map[string]string{"name": "services", "room": legacyRoomName, "transport": gitter.TransportLegacy, "webhook_url": hookURL},
		Settings: providers.Settings{"api_base_url": base},
	}
}

func newProvider(c *http.Client) providers.Notifier { return gitter.New(gitter.Options{HTTPClient: c}) }

func TestConformanceMatrix(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Kind, n.Post.Version = providers.PostEdited, 2
	first := matrixtest.EventID(1)
	providertest.Run(t, providertest.Harness{
		New:     newProvider,
		NewFake: func(t *testing.T) providertest.Fake { return newHomeserver(t) },
		// A room id: an alias costs a lookup on the first message, and
		// the suite counts requests (the alias has its own test below).
		Target:         func(base string) *providers.Target { return matrixTarget(base, gitterRoomID) },
		Secrets:        []string{matrixTokenName},
		ThreadOf:       matrixtest.ThreadOf,
		ThreadRoot:     func(f providertest.Fake) string { return f.(*matrixtest.Homeserver).PostOutside(gitterRoomID) },
		EditEndpoint:   "PUT /_matrix/client/v3/rooms/" + gitterRoomID + "/send/m.room.message/" + matrix.EditTxnID(channelID, n, first),
		DeleteEndpoint: "PUT /_matrix/client/v3/rooms/" + gitterRoomID + "/redact/" + first + "/" + matrix.RedactTxnID(channelID, first),
		LimitScope:     providers.LimitAccount, // the 429 holds back the whole account
	})
}

func TestConformanceLegacyREST(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New:     newProvider,
		NewFake: func(t *testing.T) providertest.Fake { return newFakeLegacy(t) },
		// A legacy room id: a room name costs a lookup (see
		// TestLegacyRESTRoomName).
		Target:         func(base string) *providers.Target { return restTarget(base, legacyRoomID) },
		Secrets:        []string{legacyToken},
		ThreadOf:       matrixtest.ThreadOf,
		EditEndpoint:   "PUT /v1/rooms/" + legacyRoomID + "/chatMessages/" + messageID(1),
		DeleteEndpoint: "DELETE /v1/rooms/" + legacyRoomID + "/chatMessages/" + messageID(1),
	})
}

func TestConformanceLegacyWebhook(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New:            newProvider,
		NewFake:        func(t *testing.T) providertest.Fake { return newFakeLegacy(t) },
		Target:         webhookTarget,
		Secrets:        []string{hookSecret, hookURL},
		ThreadOf:       matrixtest.ThreadOf,
		EditEndpoint:   "n/a: an activity webhook returns no message id",
		DeleteEndpoint: "n/a: an activity webhook returns no message id",
	})
}

// TestGitterRoomNameIsMatrixAlias is the must-show case: a
// notification to a Gitter channel named gitterHQ/services is sent to the
// Matrix room #gitterHQ_services:gitter.im on the configured homeserver.
func TestGitterRoomNameIsMatrixAlias(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	p := gitter.New(gitter.Options{})
	tg := matrixTarget("", gitterRoomName)
	tg.Settings["homeserver"] = hs.URL() // the configured homeserver, no api_base_url
	n := providertest.Notification()

	r, err := p.Notify(t.Context(), tg, n)
	require.NoError(t, err)

	var got []string
	for _, req := range hs.Requests() {
		got = append(got, req.Endpoint())
		require.Equal(t, "Bearer "+matrixTokenName, req.Header.Get("Authorization"))
	}
	require.Equal(t, []string{
		"GET /_matrix/client/v3/directory/room/" + gitterAlias,
		"PUT /_matrix/client/v3/rooms/" + gitterRoomID + "/send/m.room.message/" + matrix.SendTxnID(channelID, n),
	}, got)
	evs := hs.Events()
	require.Len(t, evs, 1)
	require.Equal(t, gitterRoomID, evs[0].RoomID)
	require.Equal(t, "m.notice", evs[0].Content["msgtype"])
	require.Contains(t, evs[0].Content["body"], "Upgrading to 2.0 & beyond")
	require.Equal(t, matrixtest.EventID(1), r.MessageID)
	require.Equal(t, gitterRoomID, r.Extra[matrix.ExtraRoomID])
	require.Equal(t, gitter.TransportMatrix, r.Extra["transport"])
}

func TestMatrixJoinsGitterRoom(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	p := gitter.New(gitter.Options{})
	_, err := p.Notify(t.Context(), matrixTarget(hs.URL(), "nodejs/node"), providertest.Notification())
	require.NoError(t, err)
	reqs := hs.Requests()
	require.Len(t, reqs, 4, "lookup, refused send, join, send")
	require.Equal(t, "GET /_matrix/client/v3/directory/room/#nodejs_node:gitter.im", reqs[0].Endpoint())
	require.Equal(t, "POST /_matrix/client/v3/join/#nodejs_node:gitter.im", reqs[2].Endpoint())
	require.Equal(t, "server_name=gitter.im&via=gitter.im", reqs[2].Query)
	room, _ := hs.Room("!NoDeJsNoDe:gitter.im")
	require.True(t, room.Joined)
}

func TestMatrixServerNameSetting(t *testing.T) {
	t.Parallel()
	hs := matrixtest.New(t, matrixtest.Options{ServerName: "chat.example.org", Token: matrixTokenName})
	hs.AddRoom(matrixtest.Room{ID: "!abc:chat.example.org", Alias: "#org_repo:chat.example.org", Joined: true})
	tg := matrixTarget(hs.URL(), "org/repo")
	tg.Settings["matrix_server_name"] = "chat.example.org"
	_, err := gitter.New(gitter.Options{}).Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Len(t, hs.Events(), 1)
}

func TestRoomAlias(t *testing.T) {
	t.Parallel()
	tests := []struct{ room, want string }{
		{"gitterHQ/services", "#gitterHQ_services:gitter.im"},
		{"nodejs/node", "#nodejs_node:gitter.im"},
		{"gitterHQ", "#gitterHQ:gitter.im"},
		{"org/repo/sub.room", "#org_repo_sub.room:gitter.im"},
		{"#custom:matrix.org", "#custom:matrix.org"},
		{"!abc:gitter.im", "!abc:gitter.im"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, gitter.RoomAlias(tc.room, "gitter.im"), tc.room)
	}
}

func TestMatrixThreadsAndEdits(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	p := gitter.New(gitter.Options{})
	tg := matrixTarget(hs.URL(), gitterRoomName)
	require.True(t, p.Threads(tg))

	first := providertest.Notification()
	first.Post.ID, first.Post.Number, first.Filter = 1000, 1, "thread"
	root, err := p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	reply := providertest.Notification()
	reply.Filter, reply.ThreadID = "thread", root.ThreadID
	r, err := p.Notify(t.Context(), tg, reply)
	require.NoError(t, err)
	require.Equal(t, root.MessageID, r.ThreadID)
	last := hs.Events()[len(hs.Events())-1]
	require.Equal(t, "m.thread", last.Content["m.relates_to"].(map[string]any)["rel_type"])

	reply.Kind, reply.Post.Version, reply.Post.Cooked = providers.PostEdited, 2, "<p>Edited</p>"
	require.NoError(t, p.Edit(t.Context(), tg, r, reply))
	last = hs.Events()[len(hs.Events())-1]
	require.Equal(t, map[string]any{"rel_type": "m.replace", "event_id": r.MessageID}, last.Content["m.relates_to"])

	require.NoError(t, p.Delete(t.Context(), tg, r))
	last = hs.Events()[len(hs.Events())-1]
	require.Equal(t, r.MessageID, last.Redacts)
}

// TestMatrixThreadRootGone: Gitter's Matrix transport reports a reply to a
// root the homeserver no longer knows as providers.ErrThreadNotFound.
func TestMatrixThreadRootGone(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	p := gitter.New(gitter.Options{})
	tg := matrixTarget(hs.URL(), gitterRoomName)
	first := providertest.Notification()
	first.Post.ID, first.Post.Number, first.Filter = 1000, 1, "thread"
	root, err := p.Notify(t.Context(), tg, first)
	require.NoError(t, err)
	require.True(t, hs.Forget(root.ThreadID))

	reply := providertest.Notification()
	reply.Filter, reply.ThreadID = "thread", root.ThreadID
	_, err = p.Notify(t.Context(), tg, reply)
	require.ErrorIs(t, err, providers.ErrThreadNotFound)
	permanent, _, _ := providers.Classify(err)
	require.True(t, permanent)
}

func TestMatrixTestChannel(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	p := gitter.New(gitter.Options{})
	require.NoError(t, p.TestChannel(t.Context(), matrixTarget(hs.URL(), gitterRoomName)))
	err := p.TestChannel(t.Context(), matrixTarget(hs.URL(), "nodejs/node"))
	providertest.RequireKey(t, err, gitter.KeyNotInRoom, providers.ErrForbidden, matrixTokenName, legacyToken, hookSecret)
	err = p.TestChannel(t.Context(), matrixTarget(hs.URL(), "nobody/nothing"))
	providertest.RequireKey(t, err, gitter.KeyUnknownRoom, providers.ErrChannelNotFound, matrixTokenName, legacyToken, hookSecret)
	require.Empty(t, hs.Events())
}

func TestMatrixNeedsToken(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	tg := matrixTarget(hs.URL(), gitterRoomName)
	delete(tg.Settings, "access_token")
	_, err := gitter.New(gitter.Options{}).Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, gitter.KeyNotConfigured, providers.ErrNotConfigured, matrixTokenName, legacyToken, hookSecret)
	require.Empty(t, hs.Requests())
}

func TestMatrixErrorKeysAreGitters(t *testing.T) {
	t.Parallel()
	hs := newHomeserver(t)
	hs.Fail(providertest.FailUnauthorized)
	_, err := gitter.New(gitter.Options{}).Notify(t.Context(), matrixTarget(hs.URL(), gitterRoomID), providertest.Notification())
	providertest.RequireKey(t, err, gitter.KeyUnknownToken, providers.ErrUnauthorized, matrixTokenName, legacyToken, hookSecret)
	require.Contains(t, err.Error(), "Gitter answered HTTP 401 M_UNKNOWN_TOKEN")
}

func TestLegacyRESTRoomName(t *testing.T) {
	t.Parallel()
	f := newFakeLegacy(t)
	p := gitter.New(gitter.Options{})
	tg := restTarget(f.URL(), legacyRoomName)
	require.False(t, p.Threads(tg), "the legacy API has no threads here")
	r, err := p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{
		MessageID: messageID(1),
		Extra:     map[string]string{"room_id": legacyRoomID, "transport": gitter.TransportLegacy},
	}, r)
	reqs := f.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "POST /v1/rooms", reqs[0].Endpoint())
	require.JSONEq(t, `{"uri":"gitterHQ/services"}`, string(reqs[0].Body))
	require.Equal(t, "POST /v1/rooms/"+legacyRoomID+"/chatMessages", reqs[1].Endpoint())
	require.Equal(t, "Bearer "+legacyToken, reqs[1].Header.Get("Authorization"))

	// The room id is cached.
	_, err = p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Len(t, f.Requests(), 3)

	n := providertest.Notification()
	n.Kind, n.Post.Version, n.Post.Cooked = providers.PostEdited, 2, "<p>Edited text</p>"
	require.NoError(t, p.Edit(t.Context(), tg, r, n))
	posts := f.posted()
	require.Contains(t, posts[len(posts)-1].Text, "Edited text")
	require.Equal(t, messageID(1), posts[len(posts)-1].ID)
	require.NoError(t, p.Delete(t.Context(), tg, r))
	last, _ := f.Last()
	require.Equal(t, "DELETE /v1/rooms/"+legacyRoomID+"/chatMessages/"+messageID(1), last.Endpoint())

	require.NoError(t, p.TestChannel(t.Context(), tg))
	last, _ = f.Last()
	require.Equal(t, "GET /v1/user/me", last.Endpoint())

	_, err = p.Notify(t.Context(), restTarget(f.URL(), "nobody/nothing"), providertest.Notification())
	providertest.RequireKey(t, err, gitter.KeyUnknownRoom, providers.ErrChannelNotFound, matrixTokenName, legacyToken, hookSecret)
}

func TestLegacyRESTNeedsSettings(t *testing.T) {
	t.Parallel()
	f := newFakeLegacy(t)
	p := gitter.New(gitter.Options{})
	tg := restTarget(f.URL(), legacyRoomID)
	delete(tg.Settings, "legacy_token")
	_, err := p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, gitter.KeyNotConfigured, providers.ErrNotConfigured, matrixTokenName, legacyToken, hookSecret)
	providertest.RequireKey(t, p.TestChannel(t.Context(), tg), gitter.KeyNotConfigured, providers.ErrNotConfigured, matrixTokenName, legacyToken, hookSecret)
	require.Empty(t, f.Requests())
}

func TestLegacyWebhook(t *testing.T) {
	t.Parallel()
	f := newFakeLegacy(t)
	p := gitter.New(gitter.Options{})
	tg := webhookTarget(f.URL())
	require.False(t, p.Threads(tg))
	r, err := p.Notify(t.Context(), tg, providertest.Notification())
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "an activity webhook returns no id")

	req, _ := f.Last()
	require.Equal(t, "POST /e/"+hookSecret, req.Endpoint(), "api_base_url replaces only the origin")
	require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	require.Empty(t, req.Header.Get("Authorization"))
	posts := f.posted()
	require.Len(t, posts, 1)
	require.Contains(t, posts[0].Text, "Upgrading to 2.0")

	// Nothing to test without posting, and nothing to edit.
	require.NoError(t, p.TestChannel(t.Context(), tg))
	providertest.RequireKey(t, p.Edit(t.Context(), tg, r, providertest.Notification()), "chat_integration.channel_exception", nil, matrixTokenName, legacyToken, hookSecret)
	require.Len(t, f.Requests(), 1)

	f.Reply(http.StatusNotFound, nil, "Not Found")
	_, err = p.Notify(t.Context(), tg, providertest.Notification())
	providertest.RequireKey(t, err, gitter.KeyInvalidWebhook, providers.ErrChannelNotFound, matrixTokenName, legacyToken, hookSecret)
	require.NotContains(t, err.Error(), hookSecret)
}

func TestEditThroughTheOtherTransport(t *testing.T) {
	t.Parallel()
	f := newFakeLegacy(t)
	p := gitter.New(gitter.Options{})
	r := &providers.Receipt{MessageID: "$event1", Extra: map[string]string{"room_id": gitterRoomID, "transport": gitter.TransportMatrix}}
	err := p.Edit(t.Context(), restTarget(f.URL(), legacyRoomID), r, providertest.Notification())
	providertest.RequireKey(t, err, "chat_integration.channel_exception", nil, matrixTokenName, legacyToken, hookSecret)
	require.Empty(t, f.Requests(), "a Matrix event id is never sent to the legacy API")
}

func TestValidateChannel(t *testing.T) {
	t.Parallel()
	p := gitter.New(gitter.Options{})
	tests := []struct {
		name  string
		data  map[string]string
		field string // "" when valid
	}{
		{"matrix room name", map[string]string{"room": "org/repo", "transport": "matrix", "webhook_url": ""}, ""},
		{"matrix alias", map[string]string{"room": "#room:matrix.org", "transport": "matrix", "webhook_url": ""}, ""},
		{"transport missing means matrix", map[string]string{"room": "org/repo"}, ""},
		{"matrix with a webhook", map[string]string{"room": "org/repo", "transport": "matrix", "webhook_url": hookURL}, "data.webhook_url"},
		{"legacy room name", map[string]string{"room": "org/repo", "transport": "legacy", "webhook_url": ""}, ""},
		{"legacy room id", map[string]string{"room": legacyRoomID, "transport": "legacy", "webhook_url": ""}, ""},
		{"legacy webhook", map[string]string{"room": "org/repo", "transport": "legacy", "webhook_url": hookURL}, ""},
		{"legacy Matrix room", map[string]string{"room": "!abc:gitter.im", "transport": "legacy", "webhook_url": ""}, "data.room"},
		{"unknown transport", map[string]string{"room": "org/repo", "transport": "irc"}, "data.transport"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := p.ValidateChannel(tc.data)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var fe *providers.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)

			// Notify refuses the same channel without a request.
			f := newFakeLegacy(t)
			tg := restTarget(f.URL(), "")
			tg.Data = tc.data
			_, nerr := p.Notify(t.Context(), tg, providertest.Notification())
			providertest.RequireKey(t, nerr, gitter.KeyNotConfigured, providers.ErrNotConfigured, matrixTokenName, legacyToken, hookSecret)
			require.False(t, p.Threads(tg))
			require.Empty(t, f.Requests())
		})
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	p := gitter.New(gitter.Options{})
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"room", "gitterHQ/services", true},
		{"room", "gitterHQ", true},
		{"room", "org/repo/sub.room", true},
		{"room", legacyRoomID, true},
		{"room", "#nodejs_node:gitter.im", true},
		{"room", "!abcdef:gitter.im", true},
		{"room", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", true},
		{"room", "org repo", false},
		{"room", "org//repo", false},
		{"room", "/org", false},
		{"room", "https://webhooks.gitter.im/e/abc", false},
		{"room", "", false},
		{"transport", "matrix", true},
		{"transport", "legacy", true},
		{"transport", "", false},
		{"transport", "Matrix", false},
		{"transport", "legacy\nmatrix", false},
		{"webhook_url", "", true},
		{"webhook_url", hookURL, true},
		{"webhook_url", "https://gitter.example.org/e/abc123", true},
		{"webhook_url", "https://gitter.example.org/services/e/abc123", true},
		{"webhook_url", "http://webhooks.gitter.im/e/abc", false},
		{"webhook_url", "https://webhooks.gitter.im/e/", false},
		{"webhook_url", "https://webhooks.gitter.im/x/abc", false},
		{"webhook_url", "https://webhooks.gitter.im/e/a b", false},
		{"webhook_url", hookURL + "\n" + hookURL, false},
		{"name", "two words", false},
	}
	for _, tc := range tests {
		var found bool
		for _, prm := range p.Params() {
			if prm.Key == tc.key {
				found = true
				require.Equal(t, tc.ok, prm.Pattern.MatchString(tc.value), "%s %q", tc.key, tc.value)
			}
		}
		require.True(t, found, tc.key)
	}
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enabled bool
		patch   map[string]any
		field   string // "" when valid
	}{
		{name: "disabled and empty", enabled: false},
		{name: "enabled and empty: webhook channels need nothing", enabled: true},
		{name: "matrix", enabled: true, patch: map[string]any{"access_token": "syt_1"}},
		{name: "legacy pair", enabled: true, patch: map[string]any{"legacy_api_url": "https://gitter.example.org/api", "legacy_token": "t"}},
		{name: "legacy URL alone", enabled: true, patch: map[string]any{"legacy_api_url": "https://gitter.example.org/api"}, field: "settings.legacy_token"},
		{name: "legacy token alone", enabled: true, patch: map[string]any{"legacy_token": "t"}, field: "settings.legacy_api_url"},
		{name: "legacy token alone while disabled", enabled: false, patch: map[string]any{"legacy_token": "t"}},
		{name: "server name", patch: map[string]any{"matrix_server_name": "chat.example.org:8448"}},
		{name: "server name IPv6", patch: map[string]any{"matrix_server_name": "[::1]:8448"}},
		{name: "bad server name", patch: map[string]any{"matrix_server_name": "https://gitter.im"}, field: "settings.matrix_server_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(gitter.New(gitter.Options{}), tc.enabled, nil, tc.patch)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			require.ErrorContains(t, err, tc.field)
		})
	}
	p := gitter.New(gitter.Options{})
	require.Equal(t, gitter.DefaultHomeserver, providers.SettingValue(p, nil, "homeserver"))
	require.Equal(t, "gitter.im", providers.SettingValue(p, nil, "matrix_server_name"))
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true},
		providers.CapabilitiesOf(gitter.New(gitter.Options{})))
}

// requireKey checks a permanent error with key and sentinel, and that it
// names no secret.
