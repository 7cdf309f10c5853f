package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store/storetest"
)

const (
	slackWebhook   = "https://hooks.slack.com/services/T000/B000/slack-secret-XYZ"
	discordWebhook = "https://discord.com/api/webhooks/123/discord-secret-ABC"
	slackToken     = "xoxb-slack-token-secret-999"
)

const channelFields = `id provider name data createdAt lastError { key message at } rules { id filter type categoryId includeSubcategories tags groupName channelId }`

type channelOut struct {
	ID       string            `json:"id"`
	Provider string            `json:"provider"`
	Name     string            `json:"name"`
	Data     map[string]string `json:"data"`
	Rules    []ruleOut         `json:"rules"`
}

type ruleOut struct {
	ID                   string   `json:"id"`
	ChannelID            string   `json:"channelId"`
	Filter               string   `json:"filter"`
	Type                 string   `json:"type"`
	CategoryID           *int     `json:"categoryId"`
	IncludeSubcategories bool     `json:"includeSubcategories"`
	Tags                 []string `json:"tags"`
	GroupName            *string  `json:"groupName"`
}

func (e *testEnv) createChannel(t *testing.T, provider, name string, data map[string]any) channelOut {
	t.Helper()
	var ch channelOut
	e.ok(t, `mutation($in: CreateChannelInput!) { createChannel(input: $in) { `+channelFields+` } }`,
		map[string]any{"in": map[string]any{"provider": provider, "name": name, "data": data}}, "createChannel", &ch)
	return ch
}

func (e *testEnv) createRule(t *testing.T, in map[string]any) ruleOut {
	t.Helper()
	var r ruleOut
	e.ok(t, `mutation($in: CreateRuleInput!) { createRule(input: $in) { id channelId filter type categoryId includeSubcategories tags groupName } }`,
		map[string]any{"in": in}, "createRule", &r)
	return r
}

func TestAdminAPI_Providers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)

		var list []struct {
			ID                string `json:"id"`
			Configured        bool   `json:"configured"`
			Enabled           bool   `json:"enabled"`
			ChannelParameters []struct {
				Key    string `json:"key"`
				Secret bool   `json:"secret"`
				Unique bool   `json:"unique"`
			} `json:"channelParameters"`
			Capabilities map[string]bool `json:"capabilities"`
		}
		e.ok(t, `{ providers { id enabled configured channelParameters { key label required pattern unique secret example }
			settingDefinitions { key type secret default description } settings
			capabilities { notify threads edits commands transcripts listen } } }`, nil, "providers", &list)
		ids := make([]string, len(list))
		for i, p := range list {
			ids[i] = p.ID
			require.False(t, p.Configured)
			// Every provider delivers; TestAdminAPI_ProviderCapabilities
			// checks the rest of each provider's capabilities.
			require.True(t, p.Capabilities["notify"], "%s notify", p.ID)
		}
		require.Equal(t, []string{"discord", "gitter", "googlechat", "groupme", "guilded", "matrix", "mattermost",
			"powerautomate", "rocketchat", "slack", "teams", "telegram", "webex", "webhook", "zulip"}, ids)

		// Slack cannot be enabled without a webhook URL or token (reference §3.1).
		res := e.gql(t, `mutation { configureProvider(input: {id: "slack", enabled: true}) { id } }`, nil)
		require.Equal(t, "BAD_USER_INPUT", res.code())
		require.Equal(t, "settings", res.field())

		var p struct {
			Enabled    bool           `json:"enabled"`
			Configured bool           `json:"configured"`
			Settings   map[string]any `json:"settings"`
		}
		e.ok(t, `mutation($s: JSON) { configureProvider(input: {id: "slack", enabled: true, settings: $s}) { enabled configured settings } }`,
			map[string]any{"s": map[string]any{"access_token": slackToken, "excerpt_length": 250, "username": "Forum"}}, "configureProvider", &p)
		require.True(t, p.Enabled)
		require.True(t, p.Configured)
		require.Equal(t, "[REDACTED]", p.Settings["access_token"])
		require.EqualValues(t, 250, p.Settings["excerpt_length"])

		// Merge: keys not given keep their value; null resets to the default.
		p.Settings = nil
		e.ok(t, `mutation { configureProvider(input: {id: "slack", settings: {username: null}}) { enabled settings } }`, nil, "configureProvider", &p)
		require.True(t, p.Enabled)
		require.Equal(t, "[REDACTED]", p.Settings["access_token"])
		require.EqualValues(t, 250, p.Settings["excerpt_length"])
		require.NotContains(t, p.Settings, "username")
		cfg, err := e.store.GetProviderConfig(context.Background(), "slack")
		require.NoError(t, err)
		require.Equal(t, slackToken, cfg.Settings["access_token"], "the stored token is intact")

		for name, tc := range map[string]struct {
			query, code, field string
		}{
			"unknown provider":  {`mutation { configureProvider(input: {id: "icq", enabled: true}) { id } }`, "BAD_USER_INPUT", "id"},
			"unknown setting":   {`mutation { configureProvider(input: {id: "slack", settings: {nope: 1}}) { id } }`, "BAD_USER_INPUT", "settings.nope"},
			"wrong type":        {`mutation { configureProvider(input: {id: "slack", settings: {excerpt_length: "long"}}) { id } }`, "BAD_USER_INPUT", "settings.excerpt_length"},
			"out of range":      {`mutation { configureProvider(input: {id: "slack", settings: {excerpt_length: -5}}) { id } }`, "BAD_USER_INPUT", "settings.excerpt_length"},
			"not a URL":         {`mutation { configureProvider(input: {id: "matrix", settings: {homeserver: "ftp://x"}}) { id } }`, "BAD_USER_INPUT", "settings.homeserver"},
			"settings not map":  {`mutation { configureProvider(input: {id: "slack", settings: [1]}) { id } }`, "BAD_USER_INPUT", "settings"},
			"unknown provider?": {`{ provider(id: "icq") { id } }`, "NOT_FOUND", ""},
		} {
			t.Run(name, func(t *testing.T) {
				before := e.snapshot(t)
				res := e.gql(t, tc.query, nil)
				require.Equal(t, tc.code, res.code(), "%+v", res.Errors)
				require.Equal(t, tc.field, res.field())
				require.Equal(t, before, e.snapshot(t), "a rejected input changes nothing")
			})
		}
	})
}

func TestAdminAPI_ChannelsAndRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)

		slack := e.createChannel(t, "slack", "support-slack", map[string]any{"identifier": "#support"})
		require.Equal(t, "#support", slack.Data["identifier"])
		require.Empty(t, slack.Rules)
		discord := e.createChannel(t, "discord", "announcements", map[string]any{"name": "announce", "webhook_url": discordWebhook})
		require.Equal(t, "[REDACTED]", discord.Data["webhook_url"])
		matrix := e.createChannel(t, "matrix", "", map[string]any{"name": "dev", "room_id": "!abc:matrix.org"})
		require.True(t, strings.HasPrefix(matrix.Name, "matrix-"), "a name is generated: %s", matrix.Name)
		telegram := e.createChannel(t, "telegram", "tg", map[string]any{"name": "group", "chat_id": -100123})
		require.Equal(t, "-100123", telegram.Data["chat_id"])

		// Rules in every shape, listed in precedence order.
		watch := e.createRule(t, map[string]any{"channelId": slack.ID, "categoryId": 5, "tags": []string{" Bug", "urgent", "bug"}})
		require.Equal(t, "WATCH", watch.Filter)
		require.Equal(t, "NORMAL", watch.Type)
		require.Equal(t, []string{"bug", "urgent"}, watch.Tags, "tags are normalised")
		mute := e.createRule(t, map[string]any{"channelId": slack.ID, "filter": "MUTE"})
		require.Nil(t, mute.CategoryID)
		require.Equal(t, []string{}, mute.Tags)
		mention := e.createRule(t, map[string]any{"channelId": slack.ID, "filter": "FOLLOW", "type": "GROUP_MENTION", "groupName": "staff"})
		e.createRule(t, map[string]any{"channelId": discord.ID, "filter": "THREAD", "categoryId": 9, "includeSubcategories": true})

		var got channelOut
		e.ok(t, `query($id: ID!) { channel(id: $id) { `+channelFields+` } }`, map[string]any{"id": slack.ID}, "channel", &got)
		require.Len(t, got.Rules, 3)
		require.Equal(t, []string{mention.ID, mute.ID, watch.ID}, []string{got.Rules[0].ID, got.Rules[1].ID, got.Rules[2].ID},
			"group rules first, then mute before watch")
		var rules []ruleOut
		e.ok(t, `query($id: ID!) { rules(channelId: $id) { id channel { name } } }`, map[string]any{"id": slack.ID}, "rules", &rules)
		require.Len(t, rules, 3)

		// Update a rule partially; unset fields keep their value, null clears.
		var upd ruleOut
		e.ok(t, `mutation($id: ID!) { updateRule(id: $id, input: {filter: FOLLOW}) { filter categoryId tags } }`, map[string]any{"id": watch.ID}, "updateRule", &upd)
		require.Equal(t, "FOLLOW", upd.Filter)
		require.Equal(t, 5, *upd.CategoryID)
		require.Equal(t, []string{"bug", "urgent"}, upd.Tags)
		e.ok(t, `mutation($id: ID!) { updateRule(id: $id, input: {categoryId: null, tags: null}) { filter categoryId tags } }`, map[string]any{"id": watch.ID}, "updateRule", &upd)
		require.Nil(t, upd.CategoryID)
		require.Equal(t, []string{}, upd.Tags)

		// Update a channel's name without resending its secret: the secret stays.
		var ch channelOut
		e.ok(t, `mutation($id: ID!) { updateChannel(id: $id, input: {name: "news", data: {name: "news"}}) { `+channelFields+` } }`,
			map[string]any{"id": discord.ID}, "updateChannel", &ch)
		require.Equal(t, "news", ch.Name)
		require.Equal(t, "news", ch.Data["name"])
		stored, err := e.store.GetChannelByName(context.Background(), "news")
		require.NoError(t, err)
		require.Equal(t, discordWebhook, stored.Data["webhook_url"])

		// Paging.
		type page struct {
			Edges []struct {
				Node   channelOut `json:"node"`
				Cursor string     `json:"cursor"`
			} `json:"edges"`
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
		}
		var p1, p2 page
		q := `query($after: String) { channels(first: 3, after: $after) { edges { cursor node { id name rules { id } } } pageInfo { hasNextPage endCursor } } }`
		e.ok(t, q, nil, "channels", &p1)
		require.Len(t, p1.Edges, 3)
		require.True(t, p1.PageInfo.HasNextPage)
		e.ok(t, q, map[string]any{"after": p1.PageInfo.EndCursor}, "channels", &p2)
		require.Len(t, p2.Edges, 1)
		require.False(t, p2.PageInfo.HasNextPage)
		require.Equal(t, telegram.ID, p2.Edges[0].Node.ID)
		var byProvider page
		e.ok(t, `{ channels(provider: "discord") { edges { node { id } } pageInfo { hasNextPage } } }`, nil, "channels", &byProvider)
		require.Len(t, byProvider.Edges, 1)

		// Deleting a channel deletes its rules.
		var deleted string
		e.ok(t, `mutation($id: ID!) { deleteChannel(id: $id) }`, map[string]any{"id": slack.ID}, "deleteChannel", &deleted)
		require.Equal(t, slack.ID, deleted)
		rs, err := e.store.ListRules(context.Background())
		require.NoError(t, err)
		require.Len(t, rs, 1, "only the discord rule is left")
		res := e.gql(t, `query($id: ID!) { channel(id: $id) { id } }`, map[string]any{"id": slack.ID})
		require.Equal(t, "NOT_FOUND", res.code())
		e.ok(t, `mutation($id: ID!) { deleteRule(id: $id) }`, map[string]any{"id": rs[0].ID}, "deleteRule", nil)
		res = e.gql(t, `mutation { deleteRule(id: "999999") }`, nil)
		require.Equal(t, "NOT_FOUND", res.code())
	})
}

// TestAdminAPI_Validation checks every validation rule of the reference
// (§1.2 channels, §1.3 rules): the right code and field, and no change.
func TestAdminAPI_Validation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)
		slack := e.createChannel(t, "slack", "taken", map[string]any{"identifier": "#general"})
		e.createChannel(t, "discord", "hook", map[string]any{"name": "d", "webhook_url": discordWebhook})
		e.createChannel(t, "zulip", "zulip-a", map[string]any{"stream": "general", "subject": "forum"})
		rule := e.createRule(t, map[string]any{"channelId": slack.ID})

		createChannel := `mutation($in: CreateChannelInput!) { createChannel(input: $in) { id } }`
		createRule := `mutation($in: CreateRuleInput!) { createRule(input: $in) { id } }`
		cases := []struct {
			name  string
			query string
			vars  map[string]any
			code  string
			field string
		}{
			{"unknown provider", createChannel, map[string]any{"in": map[string]any{"provider": "icq", "data": map[string]any{}}}, "BAD_USER_INPUT", "provider"},
			{"missing parameter", createChannel, map[string]any{"in": map[string]any{"provider": "discord", "data": map[string]any{"name": "x"}}}, "BAD_USER_INPUT", "data.webhook_url"},
			{"extra parameter", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "data": map[string]any{"identifier": "#a", "color": "red"}}}, "BAD_USER_INPUT", "data.color"},
			{"pattern mismatch", createChannel, map[string]any{"in": map[string]any{"provider": "matrix", "data": map[string]any{"name": "x", "room_id": "  "}}}, "BAD_USER_INPUT", "data.room_id"},
			{"secret pattern mismatch", createChannel, map[string]any{"in": map[string]any{"provider": "discord", "data": map[string]any{"name": "x", "webhook_url": "https://evil.example.com/"}}}, "BAD_USER_INPUT", "data.webhook_url"},
			{"value not a string", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "data": map[string]any{"identifier": []int{1}}}}, "BAD_USER_INPUT", "data.identifier"},
			{"data not an object", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "data": "#general"}}, "BAD_USER_INPUT", "data"},
			{"duplicate unique value", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "data": map[string]any{"identifier": "#general"}}}, "BAD_USER_INPUT", "data.identifier"},
			{"duplicate secret unique value", createChannel, map[string]any{"in": map[string]any{"provider": "discord", "data": map[string]any{"name": "other", "webhook_url": discordWebhook}}}, "BAD_USER_INPUT", "data.webhook_url"},
			{"duplicate unique pair", createChannel, map[string]any{"in": map[string]any{"provider": "zulip", "data": map[string]any{"stream": "general", "subject": "forum"}}}, "BAD_USER_INPUT", "data.stream"},
			{"duplicate name", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "name": "taken", "data": map[string]any{"identifier": "#new"}}}, "BAD_USER_INPUT", "name"},
			{"name with control characters", createChannel, map[string]any{"in": map[string]any{"provider": "slack", "name": "a\nb", "data": map[string]any{"identifier": "#new"}}}, "BAD_USER_INPUT", "name"},
			{"update into a duplicate", `mutation($id: ID!) { updateChannel(id: $id, input: {name: "hook"}) { id } }`, map[string]any{"id": slack.ID}, "BAD_USER_INPUT", "name"},
			{"update missing channel", `mutation { updateChannel(id: "99999", input: {name: "x"}) { id } }`, nil, "NOT_FOUND", ""},
			{"malformed id", `mutation { deleteChannel(id: "abc") }`, nil, "BAD_USER_INPUT", "id"},
			{"bad filter", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "filter": "TAG_ADDED"}}, "BAD_USER_INPUT", "in.filter"},
			{"bad type", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "type": "EVERYTHING"}}, "BAD_USER_INPUT", "in.type"},
			{"unknown channel", createRule, map[string]any{"in": map[string]any{"channelId": "99999"}}, "BAD_USER_INPUT", "channelId"},
			{"category on group rule", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "type": "GROUP_MESSAGE", "groupName": "staff", "categoryId": 3}}, "BAD_USER_INPUT", "categoryId"},
			{"group on normal rule", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "groupName": "staff"}}, "BAD_USER_INPUT", "groupName"},
			{"group rule without group", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "type": "GROUP_MENTION"}}, "BAD_USER_INPUT", "groupName"},
			{"invalid group name", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "type": "GROUP_MENTION", "groupName": "no spaces"}}, "BAD_USER_INPUT", "groupName"},
			{"negative category", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "categoryId": -1}}, "BAD_USER_INPUT", "categoryId"},
			{"subcategories without category", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "includeSubcategories": true}}, "BAD_USER_INPUT", "includeSubcategories"},
			{"invalid tag", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "tags": []string{"ok", "a/b"}}}, "BAD_USER_INPUT", "tags[1]"},
			{"empty tag", createRule, map[string]any{"in": map[string]any{"channelId": slack.ID, "tags": []string{" "}}}, "BAD_USER_INPUT", "tags[0]"},
			{"update rule into invalid", `mutation($id: ID!) { updateRule(id: $id, input: {type: GROUP_MESSAGE}) { id } }`, map[string]any{"id": rule.ID}, "BAD_USER_INPUT", "groupName"},
			{"bad page size", `{ channels(first: 100000) { edges { cursor } } }`, nil, "BAD_USER_INPUT", "first"},
			{"bad cursor", `{ channels(after: "nope") { edges { cursor } } }`, nil, "BAD_USER_INPUT", "after"},
			{"unknown provider filter", `{ channels(provider: "icq") { edges { cursor } } }`, nil, "BAD_USER_INPUT", "provider"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := e.gql(t, tc.query, tc.vars)
				require.NotEmpty(t, res.Errors)
				require.Equal(t, tc.code, res.code(), "%+v", res.Errors)
				require.Equal(t, tc.field, res.field(), "%+v", res.Errors)
				require.NotContains(t, res.Errors[0].Message, "SQL")
				require.Equal(t, before, e.snapshot(t), "a rejected input changes nothing")
			})
		}

		t.Run("every problem is reported", func(t *testing.T) {
			res := e.gql(t, createChannel, map[string]any{"in": map[string]any{"provider": "discord", "name": " ", "data": map[string]any{"name": "", "extra": 1}}})
			fields := map[string]bool{}
			for _, er := range res.Errors {
				require.Equal(t, "BAD_USER_INPUT", er.Extensions["code"])
				fields[er.Extensions["field"].(string)] = true
			}
			require.Equal(t, map[string]bool{"data.name": true, "data.webhook_url": true, "data.extra": true}, fields)
		})
	})
}

func TestAdminAPI_Limits(t *testing.T) {
	t.Parallel()
	e := setup(t, storetest.SQLite(t))
	deep := `{ channels(first: 1) { edges { node { rules { channel { rules { channel { rules { channel { rules { channel { id } } } } } } } } } } } }`
	res := e.gql(t, deep, nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "BAD_USER_INPUT", res.code(), "%+v", res.Errors)
	require.Contains(t, res.Errors[0].Message, "nested too deeply")

	res = e.gql(t, `{ channels(first: 200) { edges { node { rules { channel { rules { channel { id } } } } } } } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", res.code(), "complexity limit: %+v", res.Errors)
	require.Contains(t, res.Errors[0].Message, "complexity", "rejected by the complexity limit, not the depth limit")

	res = e.gql(t, `{ nope }`, nil)
	require.Equal(t, "BAD_USER_INPUT", res.code())

	// Introspection is deep but allowed, so the playground works.
	res = e.gql(t, `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } } } }`, nil)
	require.Empty(t, res.Errors)
}
