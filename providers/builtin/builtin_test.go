package builtin_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
)

// wantIDs is every provider this build must ship, sorted as the registry
// sorts them.
var wantIDs = []string{
	"discord", "gitter", "googlechat", "groupme", "guilded", "matrix", "mattermost",
	"powerautomate", "rocketchat", "slack", "teams", "telegram", "webex", "webhook", "zulip",
}

type wantParam struct {
	key     string
	pattern string
	unique  bool
	secret  bool
}

// wantParams pins each provider's channel parameters to the reference's
// CHANNEL_PARAMETERS (discourse-chat-integration.md §3): keys, order, unique
// flags, and patterns. Deliberate departures are commented.
var wantParams = map[string][]wantParam{
	"slack":      {{"identifier", `^[@#]?\S*$`, true, false}},
	"mattermost": {{"identifier", `^[@#]\S*$`, true, false}},
	"rocketchat": {{"identifier", `^[@#]\S*$`, true, false}},
	"telegram": {
		{"name", `^\S+`, false, false},
		{"chat_id", `^(-?[0-9]+|@\S+)$`, true, false},
	},
	"discord": {
		{"name", `^\S+`, false, false},
		{"webhook_url", `^https://discord\.com/api/webhooks/`, true, true},
	},
	"guilded": {
		{"name", `^\S+`, false, false},
		{"webhook_url", `^https://media\.guilded\.gg/webhooks/`, true, true},
	},
	"matrix": {
		{"name", `^\S+`, false, false},
		// Extended to aliases and to room version 12 ids (no server
		// part); hidden in the reference but not a secret.
		{"room_id", `^(![A-Za-z0-9_-]{43}|[!#]\S+:\S+)$`, true, false},
	},
	"gitter": {
		{"name", `^\S+$`, true, false},
		// Added: gitter.im rooms are Matrix rooms now, named org/repo or
		// by a Matrix room id or alias.
		{"room", `^(![A-Za-z0-9_-]{43}|[!#]\S+:\S+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$`, true, false},
		// Added: matrix, or legacy for a self-hosted Gitter API.
		{"transport", `^(matrix|legacy)$`, false, false},
		// The reference's parameter, kept for the legacy activity feed:
		// any host serving /e/<hook> (webhooks.gitter.im is gone), and
		// empty for every channel not using it.
		{"webhook_url", `^(https://[^/\s]+(/\S*)?/e/[^/\s]+)?$`, true, true},
	},
	"zulip": {
		{"stream", `^\S+`, true, false},
		{"subject", `^\S+`, true, false},
	},
	"teams": {
		{"name", `^\S+$`, true, false},
		{"webhook_url", `^https://\S+$`, true, true},
	},
	"powerautomate": {
		{"name", `^\S+$`, true, false},
		{"webhook_url", `^https://\S+$`, true, true},
	},
	"googlechat": {
		{"name", `^\S+$`, true, false},
		{"webhook_url", `^https://chat\.googleapis\.com/v1/\S+$`, true, true},
	},
	"webex": {
		{"name", `^\S+$`, true, false},
		{"webhook_url", `^https://webexapis\.com/v1/webhooks/incoming/[A-Za-z0-9\-@/]+\S+$`, true, true},
	},
	// The reference's [\s\S]* accepts an empty name, which names nothing.
	"groupme": {{"groupme_instance_name", `^\S.*$`, true, false}},
	// Not in the reference: the sidecar's own generic webhook.
	"webhook": {
		{"name", `^\S+$`, true, false},
		{"url", `^https?://\S+$`, true, true},
	},
}

// wantSettings lists each provider's setting keys in order.
var wantSettings = map[string][]string{
	"slack": {
		"access_token", "incoming_webhook_token", "outbound_webhook_url", "username", "icon_url",
		"excerpt_length", "transcript_quote", "signing_secret", "app_token", "api_base_url",
	},
	"telegram": {"access_token", "excerpt_length", "enable_slash_commands", "api_base_url"},
	// username and avatar_url are not in the reference (which sends
	// neither, so the webhook's own name and avatar show); Execute Webhook
	// takes both.
	"discord": {"message_content", "username", "avatar_url", "excerpt_length", "api_base_url"},
	"guilded": {"excerpt_length", "api_base_url"},
	"mattermost": {
		"webhook_url", "incoming_webhook_token", "icon_url", "excerpt_length",
		"server_url", "bot_token", "api_base_url",
	},
	"matrix": {
		"homeserver", "access_token", "use_notice", "excerpt_length", "as_token", "hs_token",
		"api_base_url",
	},
	// The reference's Gitter has only its enabled setting; these serve the
	// Matrix transport and the legacy REST API.
	"gitter": {
		"homeserver", "access_token", "matrix_server_name", "excerpt_length",
		"legacy_api_url", "legacy_token", "api_base_url",
	},
	// topic_per_forum_topic is the "one Zulip topic per forum topic".
	"zulip": {
		"server", "bot_email_address", "bot_api_key", "excerpt_length",
		"topic_per_forum_topic", "api_base_url",
	},
	// server_url, user_id and auth_token are the REST API (tmid threads,
	// edits), used instead of the reference's incoming webhook when set.
	"rocketchat": {
		"webhook_url", "excerpt_length", "server_url", "user_id", "auth_token", "api_base_url",
	},
	"groupme":       {"bot_ids", "instance_names", "excerpt_length", "api_base_url"},
	"teams":         {"excerpt_length", "api_base_url"},
	"powerautomate": {"excerpt_length", "api_base_url"},
	"googlechat":    {"excerpt_length", "api_base_url"},
	"webex":         {"excerpt_length", "api_base_url"},
	"webhook":       {"signing_secret", "api_base_url"},
}

// wantDefaults pins the defaults the reference (or the brief) fixes.
var wantDefaults = map[string]map[string]any{
	"slack":    {"excerpt_length": 400, "transcript_quote": true},
	"telegram": {"excerpt_length": 400, "enable_slash_commands": true},
	"matrix":   {"excerpt_length": 400, "homeserver": "https://matrix.org", "use_notice": true},
	// gitter.im's homeserver serves its client-server API at gitter.ems.host.
	"gitter": {
		"excerpt_length": 400, "homeserver": "https://gitter.ems.host",
		"matrix_server_name": "gitter.im",
	},
	"googlechat":    {"excerpt_length": 100},
	"discord":       {"excerpt_length": 400},
	"guilded":       {"excerpt_length": 400},
	"mattermost":    {"excerpt_length": 400},
	"zulip":         {"excerpt_length": 400, "topic_per_forum_topic": false},
	"rocketchat":    {"excerpt_length": 400},
	"groupme":       {"excerpt_length": 400},
	"teams":         {"excerpt_length": 400},
	"powerautomate": {"excerpt_length": 400},
	"webex":         {"excerpt_length": 400},
}

// paramCases are extra values per provider and parameter, beyond the
// Example and the generic junk.
var paramCases = []struct {
	provider, key, value string
	ok                   bool
}{
	{"slack", "identifier", "#general", true},
	{"slack", "identifier", "@alice", true},
	{"slack", "identifier", "C0123456789", true},
	// Empty is the reference's behaviour: with an incoming webhook the
	// channel is ignored and the webhook's own channel is used.
	{"slack", "identifier", "", true},
	{"slack", "identifier", "#two words", false},
	{"mattermost", "identifier", "@alice", true},
	{"mattermost", "identifier", "town-square", false},
	{"rocketchat", "identifier", "general", false},
	{"telegram", "chat_id", "123456", true},
	{"telegram", "chat_id", "-1001234567890", true},
	{"telegram", "chat_id", "@mychannel", true},
	{"telegram", "chat_id", "mychannel", false},
	{"telegram", "chat_id", "12ab", false},
	{"telegram", "chat_id", "-100\n@x", false},
	{"telegram", "name", "Release notes", true}, // reference checks the first character only
	{"discord", "webhook_url", "https://discord.com/api/webhooks/1/abc?thread_id=2", true},
	{"discord", "webhook_url", "https://discordapp.com/api/webhooks/1/abc", false},
	{"discord", "webhook_url", "http://discord.com/api/webhooks/1/abc", false},
	{"guilded", "webhook_url", "https://guilded.gg/webhooks/1/abc", false},
	{"matrix", "room_id", "!abc:matrix.org", true},
	{"matrix", "room_id", "#discourse:matrix.org", true},
	{"matrix", "room_id", "@bob:matrix.org", false},
	{"matrix", "room_id", "!abc", false},
	{"matrix", "room_id", "!abc:matrix.org\n!def:matrix.org", false},
	{"matrix", "room_id", "!" + strings.Repeat("a", 43), true}, // room version 12
	{"matrix", "room_id", "!" + strings.Repeat("a", 42), false},
	{"matrix", "room_id", "!" + strings.Repeat("a", 43) + "=", false},
	{"gitter", "room", "nodejs/node", true},
	{"gitter", "room", "gitterHQ", true},
	{"gitter", "room", "org/repo/sub.room", true},
	{"gitter", "room", "#nodejs_node:gitter.im", true},
	{"gitter", "room", "!abcdef:gitter.im", true},
	{"gitter", "room", "org repo", false},
	{"gitter", "room", "org//repo", false},
	{"gitter", "room", "/org", false},
	{"gitter", "room", "https://webhooks.gitter.im/e/abc", false},
	{"gitter", "name", "two words", false},
	{"gitter", "transport", "matrix", true},
	{"gitter", "transport", "legacy", true},
	{"gitter", "transport", "", false},
	{"gitter", "transport", "rest", false},
	{"gitter", "webhook_url", "", true}, // every channel not on the activity feed
	{"gitter", "webhook_url", "https://webhooks.gitter.im/e/0123456789abcdef0123", true},
	{"gitter", "webhook_url", "https://gitter.example.com/e/abc", true},
	{"gitter", "webhook_url", "http://webhooks.gitter.im/e/abc", false},
	{"gitter", "webhook_url", "https://webhooks.gitter.im/e/", false},
	{"gitter", "webhook_url", "https://webhooks.gitter.im/abc", false},
	{"zulip", "stream", "general", true},
	{"zulip", "subject", "forum updates", true},
	{"teams", "webhook_url", "http://contoso.webhook.office.com/x", false},
	{"powerautomate", "webhook_url", "https://prod.logic.azure.com/workflows/x?sig=y", true},
	{"googlechat", "webhook_url", "https://chatXgoogleapis.com/v1/spaces/x", false},
	{"googlechat", "webhook_url", "https://chat.googleapis.com/v2/spaces/x", false},
	{"webex", "webhook_url", "https://webexapis.com/v1/webhooks/incoming/", false},
	{"webex", "webhook_url", "https://webexapis.com/v1/webhooks/incoming/ab", true},
	{"groupme", "groupme_instance_name", "all", true},
	{"groupme", "groupme_instance_name", "Family chat", true},
	{"groupme", "groupme_instance_name", " leading", false},
	{"groupme", "groupme_instance_name", "a\nb", false},
	{"webhook", "url", "http://10.0.0.5:9000/hook", true},
	{"webhook", "url", "ftp://example.com/hook", false},
	{"webhook", "url", "https://example.com/a b", false},
}

// emptyAllowed lists the parameters whose pattern accepts an empty value
// on purpose (see paramCases): every other parameter must refuse it.
var emptyAllowed = map[string]bool{
	// With an incoming webhook the channel is ignored (the reference).
	"slack.identifier": true,
	// Only channels on the legacy activity feed have one.
	"gitter.webhook_url": true,
}

func registry(t *testing.T) *providers.Registry {
	t.Helper()
	r, err := builtin.Registry()
	require.NoError(t, err)
	return r
}

func param(t *testing.T, p providers.Provider, key string) providers.Param {
	t.Helper()
	for _, prm := range p.Params() {
		if prm.Key == key {
			return prm
		}
	}
	require.Failf(t, "unknown parameter", "%s has no parameter %q", p.ID(), key)
	return providers.Param{}
}

func TestRegistryHasEveryProvider(t *testing.T) {
	t.Parallel()
	r := registry(t)
	ids := make([]string, 0, len(r.All()))
	for _, p := range r.All() {
		ids = append(ids, p.ID())
		got, ok := r.Get(p.ID())
		require.True(t, ok)
		require.Same(t, p, got)
	}
	require.Equal(t, wantIDs, ids)
	require.Len(t, builtin.Providers(), len(wantIDs))
	// Every table in this file covers exactly the shipped providers.
	require.Len(t, wantParams, len(wantIDs))
	require.Len(t, wantSettings, len(wantIDs))
}

func TestProviderNames(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"slack":         "Slack",
		"mattermost":    "Mattermost",
		"telegram":      "Telegram",
		"discord":       "Discord",
		"matrix":        "Matrix",
		"gitter":        "Gitter",
		"zulip":         "Zulip",
		"rocketchat":    "Rocket.Chat",
		"teams":         "Microsoft Teams (legacy connector)",
		"powerautomate": "Power Automate / Teams Workflows",
		"googlechat":    "Google Chat",
		"webex":         "Webex",
		"groupme":       "GroupMe",
		"guilded":       "Guilded",
		"webhook":       "Generic webhook",
	}
	for _, p := range registry(t).All() {
		require.Equal(t, want[p.ID()], p.Name(), p.ID())
	}
}

func TestParamsMatchReference(t *testing.T) {
	t.Parallel()
	for _, p := range registry(t).All() {
		t.Run(p.ID(), func(t *testing.T) {
			t.Parallel()
			want := wantParams[p.ID()]
			got := make([]wantParam, 0, len(p.Params()))
			for _, prm := range p.Params() {
				require.NotNil(t, prm.Pattern, prm.Key)
				got = append(got, wantParam{prm.Key, prm.Pattern.String(), prm.Unique, prm.Secret})
			}
			require.Equal(t, want, got)
		})
	}
}

func TestParamExamplesAndJunk(t *testing.T) {
	t.Parallel()
	for _, p := range registry(t).All() {
		t.Run(p.ID(), func(t *testing.T) {
			t.Parallel()
			data := make(map[string]any)
			seen := make(map[string]bool)
			for _, prm := range p.Params() {
				require.False(t, seen[prm.Key], "duplicate parameter %s", prm.Key)
				seen[prm.Key] = true
				require.NotEmpty(t, prm.Label, prm.Key)
				require.NotEmpty(t, prm.Example, prm.Key)
				require.Regexp(t, prm.Pattern, prm.Example, "%s example", prm.Key)
				data[prm.Key] = prm.Example

				junk := []string{"  ", " leading-space"}
				if !emptyAllowed[p.ID()+"."+prm.Key] {
					junk = append(junk, "")
				}
				// Patterns anchored at both ends must refuse a newline, so
				// one value cannot smuggle a second; the reference's
				// prefix-only patterns cannot, and are pinned above.
				if strings.HasSuffix(prm.Pattern.String(), "$") {
					junk = append(junk, "has\nnewline", prm.Example+"\n"+prm.Example)
					if prm.Key != "groupme_instance_name" { // free text, spaces allowed
						junk = append(junk, "has space")
					}
				}
				for _, j := range junk {
					require.NotRegexp(t, prm.Pattern, j, "%s accepted %q", prm.Key, j)
				}
			}
			// The examples together form valid channel data.
			got, err := providers.ValidateChannelData(p, "data", data)
			require.NoError(t, err)
			require.Len(t, got, len(data))
		})
	}
}

func TestParamCases(t *testing.T) {
	t.Parallel()
	r := registry(t)
	for _, tc := range paramCases {
		t.Run(tc.provider+"/"+tc.key+"/"+tc.value, func(t *testing.T) {
			t.Parallel()
			p, ok := r.Get(tc.provider)
			require.True(t, ok)
			prm := param(t, p, tc.key)
			require.Equal(t, tc.ok, prm.Pattern.MatchString(tc.value), "%s %q", prm.Pattern, tc.value)
		})
	}
}

func TestSecretParams(t *testing.T) {
	t.Parallel()
	for _, p := range registry(t).All() {
		for _, prm := range p.Params() {
			if strings.HasSuffix(prm.Key, "url") || strings.Contains(prm.Key, "token") {
				require.True(t, prm.Secret, "%s.%s must be secret", p.ID(), prm.Key)
			}
		}
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	for _, p := range registry(t).All() {
		t.Run(p.ID(), func(t *testing.T) {
			t.Parallel()
			keys := make([]string, 0, len(p.Settings()))
			seen := make(map[string]bool)
			for _, s := range p.Settings() {
				require.False(t, seen[s.Key], "duplicate setting %s", s.Key)
				seen[s.Key] = true
				keys = append(keys, s.Key)

				require.NotEmpty(t, s.Label, s.Key)
				require.NotEmpty(t, s.Description, s.Key)
				require.True(t, strings.HasSuffix(s.Description, "."), "%s: one sentence", s.Key)
				require.NotEqual(t, "enabled", s.Key, "enabled is a separate field")
				require.NotContains(t, s.Key, "chat_integration", "keys drop the reference's prefix")

				switch s.Type {
				case providers.SettingInt:
					require.Positive(t, s.Max, "%s: INT settings are bounded", s.Key)
				case providers.SettingBool, providers.SettingString, providers.SettingURL:
				default:
					require.Failf(t, "bad type", "%s has type %q", s.Key, s.Type)
				}
				if s.Default != nil {
					// A default must itself pass validation.
					got, err := providers.MergeSettings(p, false, nil, map[string]any{s.Key: s.Default})
					require.NoError(t, err, s.Key)
					require.Equal(t, s.Default, got[s.Key], s.Key)
				}
			}
			require.Equal(t, wantSettings[p.ID()], keys)

			api := providers.APIBaseURLSetting()
			for _, s := range p.Settings() {
				if s.Key == api.Key {
					require.Equal(t, api, s)
				}
			}

			for key, want := range wantDefaults[p.ID()] {
				require.Equal(t, want, providers.SettingValue(p, nil, key), key)
			}
		})
	}
}

func TestExcerptLengthBounds(t *testing.T) {
	t.Parallel()
	for _, p := range registry(t).All() {
		for _, s := range p.Settings() {
			if s.Key != "excerpt_length" {
				continue
			}
			require.Equal(t, 1, s.Min, p.ID())
			require.Equal(t, 10000, s.Max, p.ID())
			require.Equal(t, providers.SettingInt, s.Type, p.ID())
		}
	}
}

func TestSecretSettings(t *testing.T) {
	t.Parallel()
	secretish := []string{"token", "secret", "key", "webhook_url", "bot_ids"}
	for _, p := range registry(t).All() {
		for _, s := range p.Settings() {
			for _, word := range secretish {
				if strings.Contains(s.Key, word) {
					require.True(t, s.Secret, "%s.%s must be secret", p.ID(), s.Key)
				}
			}
			if s.Secret {
				require.Nil(t, s.Default, "%s.%s: a secret has no default", p.ID(), s.Key)
			}
		}
	}
}

func TestProvidersReturnCopies(t *testing.T) {
	t.Parallel()
	for _, p := range builtin.Providers() {
		params := p.Params()
		params[0].Key = "changed"
		require.NotEqual(t, "changed", p.Params()[0].Key, p.ID())

		settings := p.Settings()
		settings[0].Key = "changed"
		require.NotEqual(t, "changed", p.Settings()[0].Key, p.ID())
	}
}

// TestCapabilities pins what each provider can do, so a provider cannot
// gain or lose a capability without this table changing. Every provider
// delivers. The reference threads only on Slack; the sidecar threads
// wherever the platform lets a message name its thread root, edits
// wherever the platform returns a message id it can later edit, and checks
// a channel without posting wherever the platform has a read-only call
// that proves the credentials (and, mostly, the room).
func TestCapabilities(t *testing.T) {
	t.Parallel()
	all := providers.Capabilities{Notify: true, Threads: true, Edits: true, ChannelCheck: true}
	notifyOnly := providers.Capabilities{Notify: true}
	want := map[string]providers.Capabilities{
		"slack":      all,
		"mattermost": all, // REST API with a bot token
		"rocketchat": all, // REST API with a bot token
		"telegram":   all,
		"discord":    all,
		"matrix":     all,
		"gitter":     all, // through Matrix or the legacy REST API
		"zulip":      all, // a thread is a Zulip topic, found by name
		// Incoming webhooks can start a thread and reply in it (threadKey)
		// but not edit or delete, nor check a space without posting.
		"googlechat":    {Notify: true, Threads: true},
		"groupme":       notifyOnly,
		"guilded":       notifyOnly,
		"teams":         notifyOnly,
		"powerautomate": notifyOnly,
		"webex":         notifyOnly,
		"webhook":       notifyOnly,
	}
	require.Len(t, want, len(wantIDs))
	for _, p := range registry(t).All() {
		w, ok := want[p.ID()]
		require.True(t, ok, p.ID())
		got := providers.CapabilitiesOf(p)
		require.True(t, got.Notify, "%s must deliver", p.ID())
		require.Equal(t, w, got, p.ID())
		// ChannelCheck is the interface itself, never declared apart.
		_, tester := p.(providers.ChannelTester)
		require.Equal(t, tester, got.ChannelCheck, "%s channel check", p.ID())
	}
}

func TestRegistryWithClient(t *testing.T) {
	t.Parallel()
	r, err := builtin.RegistryWithClient(providers.NewHTTPClient())
	require.NoError(t, err)
	require.Len(t, r.All(), len(wantIDs))
}
