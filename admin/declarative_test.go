package admin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// env is a fake environment for ApplyOptions.Expand.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// fixture is one Service on a fresh database, with its store for looking
// behind the Service's back.
type fixture struct {
	svc *admin.Service
	st  *store.Store
}

func newFixture(t *testing.T, db storetest.DB) fixture {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	st := storetest.Open(t, db, reg)
	return fixture{svc: admin.New(st, reg, nil), st: st}
}

// freshDB returns a second, empty database of the same kind as db.
func freshDB(t *testing.T, db storetest.DB) storetest.DB {
	t.Helper()
	if db.Name == "postgres" {
		pg, ok := storetest.Postgres(t)
		require.True(t, ok)
		return pg
	}
	return storetest.SQLite(t)
}

func (f fixture) apply(t *testing.T, doc string, opts admin.ApplyOptions) *admin.Plan {
	t.Helper()
	plan, err := f.svc.Apply(context.Background(), []byte(doc), opts)
	require.NoError(t, err)
	require.NotNil(t, plan)
	return plan
}

func (f fixture) export(t *testing.T, opts admin.ExportOptions) string {
	t.Helper()
	out, err := f.svc.Export(context.Background(), opts)
	require.NoError(t, err)
	return string(out)
}

// snapshot is everything Apply can change, including ids and update times,
// so that comparing two snapshots proves nothing was written in between.
type snapshot struct {
	Providers map[string]*store.ProviderConfig
	Channels  []*store.Channel
	Rules     []*store.Rule
}

func (f fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	ps, err := f.st.ListProviderConfigs(ctx)
	require.NoError(t, err)
	cs, err := f.st.ListChannels(ctx, store.ListChannelsParams{})
	require.NoError(t, err)
	rs, err := f.st.ListRules(ctx)
	require.NoError(t, err)
	return snapshot{Providers: ps, Channels: cs, Rules: rs}
}

func (f fixture) channel(t *testing.T, name string) *store.Channel {
	t.Helper()
	ch, err := f.st.GetChannelByName(context.Background(), name)
	require.NoError(t, err)
	return ch
}

func (f fixture) rules(t *testing.T, name string) []*store.Rule {
	t.Helper()
	rs, err := f.svc.ChannelRules(context.Background(), f.channel(t, name).ID)
	require.NoError(t, err)
	return rs
}

// pause makes sure a write after it gets a later updated_at than any write
// before it, so an unchanged updated_at proves there was no write. It waits
// for the clock to reach the next microsecond (the store's timestamp
// precision) rather than sleeping for a guessed duration.
func pause() {
	start := time.Now().Truncate(time.Microsecond)
	for !time.Now().Truncate(time.Microsecond).After(start) {
		runtime.Gosched()
	}
}

const baseDoc = `version: 1
providers:
  slack:
    enabled: true
    settings:
      access_token: xoxb-111
      excerpt_length: 300
  matrix:
    settings:
      homeserver: https://matrix.example.org
channels:
  - name: support-slack
    provider: slack
    data:
      identifier: "#support"
    rules:
      - filter: watch
        type: normal
        category_id: 5
        include_subcategories: true
        tags: [Urgent, bug]
      - filter: mute
        type: group_mention
        group: staff
      - filter: watch          # the same rule again: collapses
        category_id: 5
        include_subcategories: true
        tags: [bug, urgent]
  - name: community
    provider: matrix
    data:
      name: Community
      room_id: "#community:matrix.example.org"
    rules:
      - filter: follow
`

func TestApplyCreatesThenChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)

		plan := f.apply(t, baseDoc, admin.ApplyOptions{})
		require.Equal(t, strings.Join([]string{
			`+ create provider slack (enabled; set access_token=(secret), excerpt_length=300)`,
			`+ create provider matrix (disabled; set homeserver="https://matrix.example.org")`,
			`+ create channel support-slack (slack, identifier="#support")`,
			`+ create rule support-slack: watch category 5 and subcategories tagged bug, urgent`,
			`+ create rule support-slack: mute mentions of group staff`,
			`+ create channel community (matrix, name="Community", room_id="#community:matrix.example.org")`,
			`+ create rule community: follow all categories`,
		}, "\n"), plan.String())
		require.True(t, plan.Changed())

		slack := f.snapshot(t).Providers["slack"]
		require.True(t, slack.Enabled)
		require.Equal(t, "xoxb-111", slack.Settings["access_token"])
		require.Equal(t, []string{"bug", "urgent"}, f.rules(t, "support-slack")[1].Tags)
		require.Len(t, f.rules(t, "support-slack"), 2)

		before := f.snapshot(t)
		pause()
		again := f.apply(t, baseDoc, admin.ApplyOptions{})
		require.False(t, again.Changed())
		require.Empty(t, again.Changes)
		require.Equal(t, "no changes", again.String())
		require.Equal(t, before, f.snapshot(t), "a second apply must not write")

		// The same document as JSON is the same configuration.
		const asJSON = `{"version": 1, "channels": [{"name": "community", "provider": "matrix",
    "data": {"name": "Community", "room_id": "#community:matrix.example.org"},
    "rules": [{"filter": "follow"}]}]}`
		require.False(t, f.apply(t, asJSON, admin.ApplyOptions{}).Changed())
		require.Equal(t, before, f.snapshot(t))
	})
}

func TestApplyReplacesOnlyTheChangedRule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		f.apply(t, baseDoc, admin.ApplyOptions{})
		before := f.rules(t, "support-slack")
		require.Len(t, before, 2)
		community := f.rules(t, "community")
		pause()

		changed := strings.Replace(baseDoc, "        group: staff\n", "        group: moderators\n", 1)
		plan := f.apply(t, changed, admin.ApplyOptions{})
		require.Equal(t, []admin.Change{
			{Action: admin.ActionDelete, Kind: admin.KindRule, Name: "support-slack: mute mentions of group staff"},
			{Action: admin.ActionCreate, Kind: admin.KindRule, Name: "support-slack: mute mentions of group moderators"},
		}, plan.Changes)

		after := f.rules(t, "support-slack")
		require.Len(t, after, 2)
		// Precedence order puts the group mention rule first.
		require.Equal(t, "moderators", *after[0].GroupName)
		require.NotEqual(t, before[0].ID, after[0].ID)
		require.Equal(t, before[1], after[1], "the unchanged rule keeps its id and row")
		require.Equal(t, community, f.rules(t, "community"))

		// Removing a rule from the file deletes exactly that rule.
		removed := strings.Replace(changed, "      - filter: mute\n        type: group_mention\n        group: moderators\n", "", 1)
		plan = f.apply(t, removed, admin.ApplyOptions{})
		require.Equal(t, []admin.Change{
			{Action: admin.ActionDelete, Kind: admin.KindRule, Name: "support-slack: mute mentions of group moderators"},
		}, plan.Changes)
		require.Equal(t, []*store.Rule{before[1]}, f.rules(t, "support-slack"))
	})
}

func TestApplyPrune(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		f.apply(t, baseDoc, admin.ApplyOptions{})
		community := f.channel(t, "community")
		slackOnly := baseDoc[:strings.Index(baseDoc, "  - name: community")]

		// Without prune, channels the file no longer names stay.
		plan := f.apply(t, slackOnly, admin.ApplyOptions{})
		require.False(t, plan.Changed())
		require.Len(t, f.rules(t, "community"), 1)

		plan = f.apply(t, slackOnly, admin.ApplyOptions{Prune: true})
		require.Equal(t, []admin.Change{
			{Action: admin.ActionDelete, Kind: admin.KindChannel, Name: "community", Detail: "matrix, not in the document, with its 1 rule"},
		}, plan.Changes)
		_, err := f.st.GetChannelByName(context.Background(), "community")
		require.ErrorIs(t, err, store.ErrNotFound)
		rs, err := f.st.ListRules(context.Background(), community.ID)
		require.NoError(t, err)
		require.Empty(t, rs, "a pruned channel's rules go with it")
		require.Len(t, f.rules(t, "support-slack"), 2)
		// Providers are never pruned.
		require.Contains(t, f.snapshot(t).Providers, "matrix")

		require.False(t, f.apply(t, slackOnly, admin.ApplyOptions{Prune: true}).Changed())
	})
}

func TestApplyDryRunMatchesTheRealRun(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		f.apply(t, baseDoc, admin.ApplyOptions{})
		next := `version: 1
providers:
  slack:
    enabled: false
    settings:
      excerpt_length: null
  discord: {}
channels:
  - name: support-slack
    provider: slack
    data:
      identifier: "#help"
    rules:
      - filter: mute
        type: group_mention
        group: staff
      - filter: thread
        tags: [bug]
  - name: releases
    provider: discord
    data:
      name: releases
      webhook_url: https://discord.com/api/webhooks/1/abc
    rules:
      - filter: follow
        category_id: 2
`
		before := f.snapshot(t)
		dry := f.apply(t, next, admin.ApplyOptions{Prune: true, DryRun: true})
		require.Equal(t, before, f.snapshot(t), "a dry run changes nothing")
		require.Equal(t, strings.Join([]string{
			`~ update provider slack (disabled; reset to default excerpt_length)`,
			`+ create provider discord (disabled)`,
			`- delete channel community (matrix, not in the document, with its 1 rule)`,
			`~ update channel support-slack (identifier "#support" → "#help")`,
			`- delete rule support-slack: watch category 5 and subcategories tagged bug, urgent`,
			`+ create rule support-slack: thread all categories tagged bug`,
			`+ create channel releases (discord, name="releases", webhook_url=(secret))`,
			`+ create rule releases: follow category 2`,
		}, "\n"), dry.String())
		require.NotContains(t, dry.String(), "discord.com/api/webhooks", "plans never show secrets")

		real := f.apply(t, next, admin.ApplyOptions{Prune: true})
		require.Equal(t, dry, real)
		require.NotEqual(t, before, f.snapshot(t))
		require.Equal(t, "#help", f.channel(t, "support-slack").Data["identifier"])

		require.False(t, f.apply(t, next, admin.ApplyOptions{Prune: true, DryRun: true}).Changed())
	})
}

// problemsOf returns the problems of a failed Apply.
func problemsOf(t *testing.T, err error) []admin.Problem {
	t.Helper()
	require.Error(t, err)
	var de *admin.DocumentError
	require.True(t, errors.As(err, &de), "want a *DocumentError, got %T: %v", err, err)
	return de.Problems
}

// requireProblem finds the problem at path and checks its line and message.
func requireProblem(t *testing.T, ps []admin.Problem, path string, line int, msg string) {
	t.Helper()
	for _, p := range ps {
		if p.Path == path {
			require.Equal(t, line, p.Line, "line of %s", path)
			require.Contains(t, p.Message, msg, "message of %s", path)
			return
		}
	}
	require.Failf(t, "problem not reported", "no problem at %s in:\n%s", path, (&admin.DocumentError{Problems: ps}).Error())
}

func TestApplyReportsEveryProblem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		f.apply(t, baseDoc, admin.ApplyOptions{})
		before := f.snapshot(t)

		doc := `version: 1
providers:
  slak:
    enabled: true
  slack:
    enabled: true
    settings:
      excerpt_length: 0
channels:
  - name: releases
    provider: discord
    data:
      name: releases
      webhook_url: http://example.com/hook
    rules:
      - filter: sometimes
      - type: group_mention
        category_id: 3
        group: staff
  - name: releases
    provider: slack
    data:
      identifier: "#releases"
    rulez: []
  - name: hook
    provider: webhook
    data:
      name: hook
      url: ${HOOK_URL}
  - name: support-slack
    provider: matrix
    data:
      name: x
      room_id: "#x:example.org"
  - name: irc-chan
    provider: irc
    data: {}
`
		_, err := f.svc.Apply(context.Background(), []byte(doc), admin.ApplyOptions{Expand: env{}.lookup})
		ps := problemsOf(t, err)
		requireProblem(t, ps, "providers.slak", 3, `unknown provider "slak"`)
		requireProblem(t, ps, "providers.slack.settings.excerpt_length", 8, "between 1 and 10000")
		requireProblem(t, ps, "channels[0].data.webhook_url", 14, "does not match")
		requireProblem(t, ps, "channels[0].rules[0].filter", 16, `"sometimes" is not a valid filter`)
		requireProblem(t, ps, "channels[0].rules[1].category_id", 18, "cannot be specified")
		requireProblem(t, ps, "channels[1].name", 20, "duplicate channel name")
		requireProblem(t, ps, "channels[1].rulez", 24, `unknown key "rulez"`)
		requireProblem(t, ps, "channels[2].data.url", 29, "HOOK_URL is not set")
		requireProblem(t, ps, "channels[3].provider", 31, "cannot change")
		requireProblem(t, ps, "channels[4].provider", 36, `unknown provider "irc"`)
		require.Len(t, ps, 10, "%v", err)
		require.Contains(t, err.Error(), "line 14: channels[0].data.webhook_url: ")
		// Sorted by line.
		for i := 1; i < len(ps); i++ {
			require.LessOrEqual(t, ps[i-1].Line, ps[i].Line)
		}
		require.Equal(t, before, f.snapshot(t), "a document with problems changes nothing")

		// Problems of the document as a whole.
		_, err = f.svc.Apply(context.Background(), []byte("channels: []\n"), admin.ApplyOptions{})
		requireProblem(t, problemsOf(t, err), "version", 0, "required")
		_, err = f.svc.Apply(context.Background(), []byte("version: 2\n"), admin.ApplyOptions{})
		requireProblem(t, problemsOf(t, err), "version", 1, "must be 1")
		_, err = f.svc.Apply(context.Background(), []byte("version: 1\nchannels:\n  - name: [\n"), admin.ApplyOptions{})
		ps = problemsOf(t, err)
		require.Len(t, ps, 1)
		require.Contains(t, ps[0].Message, "invalid YAML")
		require.Positive(t, ps[0].Line)
		_, err = f.svc.Apply(context.Background(), []byte("version: 1\nchannels:\n  - name: a\n    name: b\n    provider: slack\n"), admin.ApplyOptions{})
		requireProblem(t, problemsOf(t, err), "channels[0].name", 4, "duplicate key")
		require.Equal(t, before, f.snapshot(t))
	})
}

func TestApplyConflicts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		_, err := f.svc.CreateChannel(ctx, admin.ChannelInput{Provider: "slack", Name: "legacy", Data: map[string]any{"identifier": "#ops"}})
		require.NoError(t, err)
		doc := `version: 1
channels:
  - name: ops
    provider: slack
    data:
      identifier: "#ops"
`
		// The unique identifier collides with a channel the file does not name.
		_, err = f.svc.Apply(ctx, []byte(doc), admin.ApplyOptions{})
		requireProblem(t, problemsOf(t, err), "channels[0].data.identifier", 6, "already has the same identifier")
		f.channel(t, "legacy")

		// With prune the old channel goes first, freeing the identifier.
		plan := f.apply(t, doc, admin.ApplyOptions{Prune: true})
		require.Len(t, plan.Changes, 2)
		require.Equal(t, "#ops", f.channel(t, "ops").Data["identifier"])

		// A unique value may move between channels of the document in any
		// order of the file.
		f.apply(t, doc+`  - name: two
    provider: slack
    data:
      identifier: "#two"
`, admin.ApplyOptions{})
		plan = f.apply(t, `version: 1
channels:
  - name: two
    provider: slack
    data:
      identifier: "#ops"
  - name: ops
    provider: slack
    data:
      identifier: "#three"
`, admin.ApplyOptions{})
		require.Len(t, plan.Changes, 2)
		require.Equal(t, "#ops", f.channel(t, "two").Data["identifier"])
		require.Equal(t, "#three", f.channel(t, "ops").Data["identifier"])
	})
}

const secretDoc = `version: 1
providers:
  slack:
    enabled: true
    settings:
      access_token: ${SLACK_TOKEN}
      username: "Forum $${USER}"
      excerpt_length: 250
      transcript_quote: false
  telegram:
    enabled: false
  discord:
    settings:
      excerpt_length: 123
channels:
  - name: releases-discord
    provider: discord
    data:
      name: releases
      webhook_url: ${DISCORD_URL}
    rules:
      - filter: follow
        category_id: 2
      - filter: mute
        tags: [wip]
      - type: group_message
        group: moderators
  - name: tg
    provider: telegram
    data:
      name: Ops
      chat_id: -100123
  - name: support-slack
    provider: slack
    data:
      identifier: "#support"
`

// secretEnv supplies the variables of secretDoc.
func secretEnv() env {
	return env{
		"SLACK_TOKEN": "xoxb-secret-slack-token",
		"DISCORD_URL": "https://discord.com/api/webhooks/42/secret-discord-token",
	}
}

func TestExportSecrets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		secretEnv := secretEnv()
		f.apply(t, secretDoc, admin.ApplyOptions{Expand: secretEnv.lookup})
		require.Equal(t, "Forum ${USER}", f.snapshot(t).Providers["slack"].Settings["username"], "$${ is a literal ${")

		out := f.export(t, admin.ExportOptions{})
		for _, secret := range secretEnv {
			require.NotContains(t, out, secret)
		}
		require.NotContains(t, out, "secret-discord-token")
		require.Contains(t, out, "access_token: ${CHATSIDECAR_SECRET_SLACK_ACCESS_TOKEN}\n")
		require.Contains(t, out, "webhook_url: ${CHATSIDECAR_SECRET_RELEASES_DISCORD_WEBHOOK_URL}\n")
		require.Contains(t, out, "# Secret values are ${CHATSIDECAR_SECRET_...} placeholders")
		require.Contains(t, out, "excerpt_length: 250\n", "numbers stay numbers")
		require.Contains(t, out, "transcript_quote: false\n", "booleans stay booleans")
		require.Contains(t, out, `chat_id: "-100123"`, "a parameter that looks like a number stays a string")
		require.Contains(t, out, `username: Forum $${USER}`)
		require.Contains(t, out, "tags: [wip]")
		// Providers by id, channels by name, rules in precedence order.
		requireOrder(t, out, "  discord:", "  slack:", "  telegram:")
		requireOrder(t, out, "name: releases-discord", "name: support-slack", "name: tg")
		requireOrder(t, out, "type: group_message", "filter: mute", "filter: follow")

		// Applying the export is a no-op on the database it came from, even
		// without the secrets: a channel's secret parameters are then kept.
		placeholders := env{
			"CHATSIDECAR_SECRET_SLACK_ACCESS_TOKEN":           secretEnv["SLACK_TOKEN"],
			"CHATSIDECAR_SECRET_RELEASES_DISCORD_WEBHOOK_URL": secretEnv["DISCORD_URL"],
		}
		require.False(t, f.apply(t, out, admin.ApplyOptions{Expand: placeholders.lookup}).Changed())
		noSecrets := regexp.MustCompile(`(?m)^\s+webhook_url: .*\n`).ReplaceAllString(secretDoc, "")
		require.False(t, f.apply(t, noSecrets, admin.ApplyOptions{Expand: secretEnv.lookup}).Changed())

		// The placeholders plus Expand reproduce the secrets elsewhere.
		g := newFixture(t, freshDB(t, db))
		g.apply(t, out, admin.ApplyOptions{Expand: placeholders.lookup})
		require.Equal(t, out, g.export(t, admin.ExportOptions{}))
		require.Equal(t, secretEnv["DISCORD_URL"], g.channel(t, "releases-discord").Data["webhook_url"])
		require.Equal(t, f.snapshot(t).Providers["slack"].Settings, g.snapshot(t).Providers["slack"].Settings)

		// With the secrets, an export round-trips byte for byte through an
		// empty database, with no environment at all.
		full := f.export(t, admin.ExportOptions{IncludeSecrets: true})
		require.Contains(t, full, secretEnv["SLACK_TOKEN"])
		require.Contains(t, full, secretEnv["DISCORD_URL"])
		require.Contains(t, full, "contains secrets in clear text")
		h := newFixture(t, freshDB(t, db))
		h.apply(t, full, admin.ApplyOptions{})
		require.Equal(t, full, h.export(t, admin.ExportOptions{IncludeSecrets: true}))
	})
}

func requireOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	last := -1
	for _, p := range parts {
		i := strings.Index(s, p)
		require.Greater(t, i, last, "%q out of order in:\n%s", p, s)
		last = i
	}
}

func TestApplyWithoutExpandRefusesVariables(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		_, err := f.svc.Apply(context.Background(), []byte(secretDoc), admin.ApplyOptions{})
		ps := problemsOf(t, err)
		requireProblem(t, ps, "providers.slack.settings.access_token", 6, "expand variables before sending")
		requireProblem(t, ps, "channels[0].data.webhook_url", 20, "expand variables before sending")
		require.Len(t, ps, 2, "the $${ escape is not a variable: %v", err)
		require.Equal(t, snapshot{Providers: map[string]*store.ProviderConfig{}, Channels: []*store.Channel{}, Rules: []*store.Rule{}}, f.snapshot(t))
	})
}

func TestExampleApplies(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "examples", "rules.yaml"))
	require.NoError(t, err)
	vars := env{
		"SLACK_BOT_TOKEN":                   "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
		"SLACK_SIGNING_SECRET":              "8f742231b10e8888abcd99yyyzzz85a5",
		"MATRIX_ACCESS_TOKEN":               "syt_Zm9ydW0_aBcDeFgHiJkLmNoPqRsT_0a1b2c",
		"WEBHOOK_SIGNING_SECRET":            "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH",
		"DISCORD_ANNOUNCEMENTS_WEBHOOK_URL": "https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_jkl",
		"CI_WEBHOOK_URL":                    "https://ci.example.com/hooks/discourse?token=AbCdEf",
	}
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		f := newFixture(t, db)
		plan := f.apply(t, string(doc), admin.ApplyOptions{Expand: vars.lookup, DryRun: true})
		require.True(t, plan.Changed())
		require.Equal(t, plan, f.apply(t, string(doc), admin.ApplyOptions{Expand: vars.lookup}))
		s := f.snapshot(t)
		require.Len(t, s.Providers, 4)
		require.Len(t, s.Channels, 5)
		require.Len(t, s.Rules, 10)
		require.Equal(t, vars["DISCORD_ANNOUNCEMENTS_WEBHOOK_URL"], f.channel(t, "announcements-discord").Data["webhook_url"])
		require.False(t, f.apply(t, string(doc), admin.ApplyOptions{Expand: vars.lookup}).Changed())
	})
}
