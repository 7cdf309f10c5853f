package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store/storetest"
)

func TestAdminAPI_ApplyAndExportConfig(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)
		const apply = `mutation($d: String!, $p: Boolean, $n: Boolean) { applyConfig(document: $d, prune: $p, dryRun: $n) { changed dryRun changes { action kind name detail } } }`
		doc := `version: 1
channels:
  - name: support
    provider: slack
    data:
      identifier: "#support"
    rules:
      - filter: watch
        category_id: 5
`
		type result struct {
			Changed bool `json:"changed"`
			DryRun  bool `json:"dryRun"`
			Changes []struct {
				Action, Kind, Name string
			} `json:"changes"`
		}
		var dry, real, again result
		empty := e.snapshot(t)
		e.ok(t, apply, map[string]any{"d": doc, "n": true}, "applyConfig", &dry)
		require.True(t, dry.Changed)
		require.True(t, dry.DryRun)
		require.Equal(t, empty, e.snapshot(t), "a dry run changes nothing")
		e.ok(t, apply, map[string]any{"d": doc}, "applyConfig", &real)
		require.Equal(t, dry.Changes, real.Changes)
		require.Equal(t, "CREATE", real.Changes[0].Action)
		require.Equal(t, "CHANNEL", real.Changes[0].Kind)
		e.ok(t, apply, map[string]any{"d": doc}, "applyConfig", &again)
		require.False(t, again.Changed, "applying twice is a no-op")

		var exported string
		e.ok(t, `{ exportConfig }`, nil, "exportConfig", &exported)
		require.Contains(t, exported, "name: support")
		require.Contains(t, exported, "category_id: 5")

		// Every problem comes back with its field and line; nothing changes.
		before := e.snapshot(t)
		bad := `version: 1
channels:
  - name: bad
    provider: slack
    data:
      identifier: "has space"
    rules:
      - filter: loud
  - name: worse
    provider: icq
    data: {}
`
		res := e.gql(t, apply, map[string]any{"d": bad})
		require.GreaterOrEqual(t, len(res.Errors), 3, "%+v", res.Errors)
		fields := map[string]float64{}
		for _, er := range res.Errors {
			require.Equal(t, "BAD_USER_INPUT", er.Extensions["code"])
			line, _ := er.Extensions["line"].(float64)
			fields[er.Extensions["field"].(string)] = line
		}
		require.Equal(t, float64(6), fields["channels[0].data.identifier"])
		require.Equal(t, float64(8), fields["channels[0].rules[0].filter"])
		require.Equal(t, float64(10), fields["channels[1].provider"])
		require.Equal(t, before, e.snapshot(t))

		// The server never expands ${VAR} from its own environment.
		res = e.gql(t, apply, map[string]any{"d": "version: 1\nchannels:\n  - name: x\n    provider: discord\n    data:\n      name: x\n      webhook_url: ${HOME}\n"})
		require.Equal(t, "BAD_USER_INPUT", res.code())
		require.Equal(t, before, e.snapshot(t))
	})
}
