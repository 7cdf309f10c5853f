package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// TestAdminAPI_ProviderCapabilities is the issue's "providers in GraphQL
// reports every provider as able to deliver, with its capabilities": the
// API answers, for every provider of the registry, exactly what the
// provider implements, channelCheck (a providers.ChannelTester) included.
func TestAdminAPI_ProviderCapabilities(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		e := setup(t, db)

		type capabilities struct {
			Notify      bool `json:"notify"`
			Threads     bool `json:"threads"`
			Edits       bool `json:"edits"`
			Commands    bool `json:"commands"`
			Transcripts bool `json:"transcripts"`
			Listen      bool `json:"listen"`
			// ChannelCheck is whether checkChannel works for the provider.
			ChannelCheck bool `json:"channelCheck"`
		}
		var list []struct {
			ID           string       `json:"id"`
			Capabilities capabilities `json:"capabilities"`
		}
		e.ok(t, `{ providers { id capabilities { notify threads edits commands transcripts listen channelCheck } } }`,
			nil, "providers", &list)

		got := make(map[string]capabilities, len(list))
		for _, p := range list {
			require.NotContains(t, got, p.ID, "provider %s listed twice", p.ID)
			got[p.ID] = p.Capabilities
		}
		all := e.reg.All()
		require.Len(t, got, len(all), "every provider of the registry is listed")
		for _, p := range all {
			c, ok := got[p.ID()]
			require.True(t, ok, "%s is missing", p.ID())
			require.True(t, c.Notify, "%s must be able to deliver", p.ID())
			want := providers.CapabilitiesOf(p)
			require.Equal(t, capabilities{
				Notify: want.Notify, Threads: want.Threads, Edits: want.Edits,
				Commands: want.Commands, Transcripts: want.Transcripts, Listen: want.Listen,
				ChannelCheck: want.ChannelCheck,
			}, c, p.ID())
			_, tester := p.(providers.ChannelTester)
			require.Equal(t, tester, c.ChannelCheck, "%s channelCheck", p.ID())
		}

		// Spot checks against what the platforms allow, so that the
		// table above cannot pass by both sides losing a capability.
		for id, want := range map[string]capabilities{
			"slack":      {Notify: true, Threads: true, Edits: true, ChannelCheck: true},
			"matrix":     {Notify: true, Threads: true, Edits: true, ChannelCheck: true},
			"telegram":   {Notify: true, Threads: true, Edits: true, ChannelCheck: true},
			"zulip":      {Notify: true, Threads: true, Edits: true, ChannelCheck: true},
			"googlechat": {Notify: true, Threads: true},
			"teams":      {Notify: true},
			"webhook":    {Notify: true},
		} {
			require.Equal(t, want, got[id], id)
		}
	})
}
