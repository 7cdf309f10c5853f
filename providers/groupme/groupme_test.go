package groupme_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/groupme"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func target(base string) *providers.Target {
	return &providers.Target{
		ChannelID: 1, ChannelName: "main",
		Data: map[string]string{"groupme_instance_name": "main"},
		Settings: providers.Settings{
			"bot_ids": fakeBotMain + ", " + fakeBotSecond, "instance_names": "main, Second group",
			"excerpt_length": 400, "api_base_url": base,
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Harness{
		New:     func(c *http.Client) providers.Notifier { return groupme.New(groupme.Options{HTTPClient: c}) },
		NewFake: func(t *testing.T) providertest.Fake { return newFakeGroupMe(t) },
		Target:  target,
		Secrets: []string{fakeBotMain, fakeBotSecond},
	})
}

type bundle struct {
	p    *groupme.Provider
	fake *fakeGroupMe
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{p: groupme.New(groupme.Options{}), fake: newFakeGroupMe(t)}
}

// botsPosted returns the bot ids of every request, in order.
func (b *bundle) botsPosted(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, r := range b.fake.Requests() {
		require.Equal(t, "POST /v3/bots/post", r.Endpoint())
		id, _ := r.JSON(t)["bot_id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func TestInstances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		instance string
		want     []string
	}{
		{"main", []string{fakeBotMain}},
		{"Second group", []string{fakeBotSecond}},
		{"all", []string{fakeBotMain, fakeBotSecond}},
	}
	for _, tc := range tests {
		t.Run(tc.instance, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tg := target(b.fake.URL())
			tg.Data["groupme_instance_name"] = tc.instance
			r, err := b.p.Notify(t.Context(), tg, providertest.Notification())
			require.NoError(t, err)
			require.Equal(t, &providers.Receipt{}, r)
			require.Equal(t, tc.want, b.botsPosted(t))
		})
	}
}

func TestAllWithAFailingBot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Data["groupme_instance_name"] = "all"
	tg.Settings["bot_ids"] = "removedBotId000, " + fakeBotMain
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	require.Equal(t, []string{"removedBotId000", fakeBotMain}, b.botsPosted(t), "a failing bot does not stop the others")
	// Permanent: retrying would post twice where it worked.
	providertest.RequireKey(t, err, groupme.KeyNotFound, providers.ErrChannelNotFound, "removedBotId000")
	require.Contains(t, err.Error(), "1 of 2")
}

func TestAllFailing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tg := target(b.fake.URL())
	tg.Data["groupme_instance_name"] = "all"
	b.fake.Fail(providertest.FailRateLimited)
	_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
	_, limited, after := providers.Classify(err)
	require.True(t, limited, "nothing was posted, so the engine may retry: %v", err)
	require.Equal(t, providertest.RetryAfter, after)
	require.Len(t, b.fake.Requests(), 2)
}

func TestTextFitsGroupMe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := providertest.Notification()
	n.Post.Cooked = "<p>" + strings.Repeat(`word <a href="https://example.com/a/very/long/link">link</a> `, 200) + "</p>"
	tg := target(b.fake.URL())
	tg.Settings["excerpt_length"] = 10000
	_, err := b.p.Notify(t.Context(), tg, n)
	require.NoError(t, err, "the fake refuses more than 1000 characters")
	text, _ := b.fake.RequireLast(t).JSON(t)["text"].(string)
	require.True(t, strings.HasSuffix(text, "…\n(Read More: https://forum.example.org/t/upgrading-to-2-0/42/2)"), text)
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := map[string]func(tg *providers.Target){
		"unknown instance": func(tg *providers.Target) { tg.Data["groupme_instance_name"] = "nope" },
		"counts differ":    func(tg *providers.Target) { tg.Settings["instance_names"] = "main" },
		"no bots":          func(tg *providers.Target) { tg.Settings["bot_ids"], tg.Settings["instance_names"] = "", "" },
		"bad base":         func(tg *providers.Target) { tg.Settings["api_base_url"] = "::bad" },
	}
	for name, modify := range cases {
		t.Run(name, func(t *testing.T) {
			tg := target(b.fake.URL())
			modify(tg)
			_, err := b.p.Notify(t.Context(), tg, providertest.Notification())
			providertest.RequireKey(t, err, groupme.KeyNotConfigured, providers.ErrNotConfigured, fakeBotMain)
		})
	}
	require.Empty(t, b.fake.Requests())
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enabled bool
		patch   map[string]any
		wantErr string
	}{
		{name: "disabled and empty"},
		{name: "enabled and empty", enabled: true, wantErr: "instance names incorrectly formatted or not provided"},
		{name: "one bot", enabled: true, patch: map[string]any{"bot_ids": "a", "instance_names": "main"}},
		{name: "two bots", enabled: true, patch: map[string]any{"bot_ids": "a, b", "instance_names": "main,other"}},
		{name: "counts differ", enabled: true, patch: map[string]any{"bot_ids": "a,b", "instance_names": "main"}, wantErr: "incorrectly formatted"},
		{name: "empty name", enabled: true, patch: map[string]any{"bot_ids": "a,b", "instance_names": "main,"}, wantErr: "incorrectly formatted"},
		{name: "all is reserved", enabled: true, patch: map[string]any{"bot_ids": "a", "instance_names": "All"}, wantErr: "names every bot"},
		{name: "duplicate", enabled: true, patch: map[string]any{"bot_ids": "a,b", "instance_names": "x,x"}, wantErr: "used twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(groupme.New(groupme.Options{}), tc.enabled, nil, tc.patch)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			var fe *providers.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "settings.instance_names", fe.Field)
			require.Contains(t, fe.Message, tc.wantErr)
		})
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	require.Equal(t, providers.Capabilities{Notify: true}, providers.CapabilitiesOf(groupme.New(groupme.Options{})))
}
