package admin_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

func TestExpandDocument(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	vars := env{
		"TOKEN": "xoxb-1", "TRICKY": "a: b # not a comment", "BRACES": "x${Y}z", "ON": "True", "MULTI": "l1\nl2",
	}

	doc := `version: 1
providers:
  slack:
    settings:
      access_token: ${TOKEN}
      username: "$${NOT_A_VAR} ${TOKEN}"
      transcript_quote: ${ON}
      icon_url: ${ON}
      excerpt_length: 300
channels:
  - name: &name ${TOKEN}
    provider: webhook
    data:
      url: ${TRICKY}
      other: ${BRACES}
      note: ${MULTI}
      alias: *name
`
	out, err := admin.ExpandDocument([]byte(doc), vars.lookup, reg)
	require.NoError(t, err)
	got := string(out)
	require.Contains(t, got, "access_token: xoxb-1\n")
	require.Contains(t, got, `username: "$${NOT_A_VAR} xoxb-1"`)
	require.Contains(t, got, "transcript_quote: true\n", "a boolean setting is converted as Apply converts it")
	require.Contains(t, got, `icon_url: "True"`, "a string setting stays a string")
	require.Contains(t, got, "excerpt_length: 300\n")
	require.Contains(t, got, `url: 'a: b # not a comment'`)
	require.Contains(t, got, "other: x$${Y}z\n")
	require.Contains(t, got, `note: "l1\nl2"`)
	require.Contains(t, got, "name: &name ${TOKEN}\n", "names are not expanded, as in Apply")
	require.Contains(t, got, "alias: xoxb-1\n", "an alias used as data is expanded on its own")

	// Nothing substituted: the bytes go out untouched, comments and all.
	for _, same := range []string{
		"version: 1 # comment\n",
		"version: 1\nchannels:\n  - name: ${NOT_EXPANDED} # names are literal\n    provider: webhook\n",
		"version: 1\nchannels:\n  - name: a\n    provider: webhook\n    data:\n      url: $${LITERAL}\n",
	} {
		out, err = admin.ExpandDocument([]byte(same), vars.lookup, reg)
		require.NoError(t, err)
		require.Equal(t, same, string(out))
	}

	// Problems are Apply's, with its paths and lines.
	_, err = admin.ExpandDocument([]byte("version: 1\nchannels:\n  - name: a\n    provider: webhook\n    data:\n      url: ${NOPE}\n"), vars.lookup, reg)
	require.EqualError(t, err, "line 6: channels[0].data.url: variable NOPE is not set")
	require.Equal(t, []admin.Problem{{Path: "channels[0].data.url", Line: 6, Message: "variable NOPE is not set"}}, problemsOf(t, err))
	_, err = admin.ExpandDocument([]byte("version: 1\nproviders:\n  slack:\n    settings:\n      username: ${1X}\n"), vars.lookup, reg)
	requireProblem(t, problemsOf(t, err), "providers.slack.settings.username", 5, "is not a variable reference")
	_, err = admin.ExpandDocument([]byte("version: 1\nproviders:\n  slack:\n    settings:\n      access_token: ${TOKEN}\n---\nversion: 1\n"), vars.lookup, reg)
	require.Contains(t, err.Error(), "holds one YAML document", "a second document is not dropped silently")

	// Without a registry nothing becomes a boolean.
	out, err = admin.ExpandDocument([]byte("version: 1\nproviders:\n  slack:\n    settings:\n      transcript_quote: ${ON}\n"), vars.lookup, nil)
	require.NoError(t, err)
	require.Contains(t, string(out), `transcript_quote: "True"`)
}

// expandDoc references variables everywhere Apply expands them, in the
// forms whose conversion depends on the setting's type, next to places
// Apply leaves alone.
const expandDoc = `version: 1
providers:
  slack:
    enabled: true
    settings:
      access_token: ${SLACK_TOKEN}
      username: ${WORD_TRUE}   # a string setting: stays the text "true"
      transcript_quote: ${OFF} # a boolean setting: "0" is false
      excerpt_length: ${LEN}
      icon_url: "/img/$${literal}/${BRACES}"
  matrix:
    settings:
      homeserver: https://matrix.example.org
      use_notice: " ${YES} "
channels:
  - name: &hook ${HOOK}
    provider: webhook
    data:
      name: *hook
      url: ${HOOK_URL}
    rules:
      - filter: follow
  - name: community
    provider: matrix
    data:
      name: Community
      room_id: ${ROOM}
`

func expandVars() env {
	return env{
		"SLACK_TOKEN": "xoxb-${not-a-ref}",
		"WORD_TRUE":   "true",
		"OFF":         "0",
		"LEN":         "250",
		"BRACES":      "x${Y}z",
		"YES":         "T",
		"HOOK":        "ci-bot",
		"HOOK_URL":    "https://ci.example.com/hooks/${literal}",
		"ROOM":        "#community:matrix.example.org",
	}
}

// TestExpandDocumentMatchesLocalApply checks the promise of ExpandDocument:
// a server applying the expanded document without Expand ends up exactly
// where a local Apply with Expand does.
func TestExpandDocumentMatchesLocalApply(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	expanded, err := admin.ExpandDocument([]byte(expandDoc), expandVars().lookup, reg)
	require.NoError(t, err)

	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		vars := expandVars()
		local := newFixture(t, db)
		remote := newFixture(t, freshDB(t, db))

		dry := local.apply(t, expandDoc, admin.ApplyOptions{Expand: vars.lookup, DryRun: true})
		require.Equal(t, dry, remote.apply(t, string(expanded), admin.ApplyOptions{DryRun: true}))
		plan := local.apply(t, expandDoc, admin.ApplyOptions{Expand: vars.lookup})
		require.True(t, plan.Changed())
		require.Equal(t, plan, remote.apply(t, string(expanded), admin.ApplyOptions{}))

		// The same stored state, down to the types of the settings.
		l, r := local.snapshot(t), remote.snapshot(t)
		require.Len(t, l.Providers, 2)
		for id, cfg := range l.Providers {
			require.Equal(t, cfg.Enabled, r.Providers[id].Enabled, id)
			require.Equal(t, cfg.Settings, r.Providers[id].Settings, id)
		}
		require.Len(t, l.Channels, 2)
		require.Len(t, r.Channels, 2)
		for i, ch := range l.Channels {
			require.Equal(t, ch.Name, r.Channels[i].Name)
			require.Equal(t, ch.Provider, r.Channels[i].Provider)
			require.Equal(t, ch.Data, r.Channels[i].Data, ch.Name)
		}
		full := admin.ExportOptions{IncludeSecrets: true}
		require.Equal(t, local.export(t, full), remote.export(t, full))

		slack := l.Providers["slack"].Settings
		require.Equal(t, "xoxb-${not-a-ref}", slack["access_token"])
		require.Equal(t, "true", slack["username"])
		require.Equal(t, false, slack["transcript_quote"])
		require.Equal(t, "/img/${literal}/x${Y}z", slack["icon_url"])
		require.Equal(t, true, l.Providers["matrix"].Settings["use_notice"])
		hook := local.channel(t, "${HOOK}")
		require.Equal(t, "ci-bot", hook.Data["name"])
		require.Equal(t, vars["HOOK_URL"], hook.Data["url"])

		// Each document is a no-op on the other's database.
		require.False(t, local.apply(t, string(expanded), admin.ApplyOptions{}).Changed())
		require.False(t, remote.apply(t, expandDoc, admin.ApplyOptions{Expand: vars.lookup}).Changed())

		// A variable that is not set is reported as a local Apply reports it.
		delete(vars, "HOOK_URL")
		_, want := local.svc.Apply(context.Background(), []byte(expandDoc), admin.ApplyOptions{Expand: vars.lookup})
		_, err := admin.ExpandDocument([]byte(expandDoc), vars.lookup, reg)
		require.Equal(t, problemsOf(t, want), problemsOf(t, err))
		requireProblem(t, problemsOf(t, err), "channels[0].data.url", 20, "variable HOOK_URL is not set")
	})
}
