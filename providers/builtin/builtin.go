// Package builtin is the one place that lists the providers this build
// ships. main hands its result to the admin API; adding a platform means
// writing its package and adding one line here, and nothing registers
// itself behind the reader's back.
package builtin

import (
	"net/http"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/discord"
	"github.com/chatsidecar/chatsidecar/providers/gitter"
	"github.com/chatsidecar/chatsidecar/providers/googlechat"
	"github.com/chatsidecar/chatsidecar/providers/groupme"
	"github.com/chatsidecar/chatsidecar/providers/guilded"
	"github.com/chatsidecar/chatsidecar/providers/matrix"
	"github.com/chatsidecar/chatsidecar/providers/mattermost"
	"github.com/chatsidecar/chatsidecar/providers/powerautomate"
	"github.com/chatsidecar/chatsidecar/providers/rocketchat"
	"github.com/chatsidecar/chatsidecar/providers/slack"
	"github.com/chatsidecar/chatsidecar/providers/teams"
	"github.com/chatsidecar/chatsidecar/providers/telegram"
	"github.com/chatsidecar/chatsidecar/providers/webex"
	"github.com/chatsidecar/chatsidecar/providers/webhook"
	"github.com/chatsidecar/chatsidecar/providers/zulip"
)

// Providers returns a new instance of every provider this build ships,
// sharing one HTTP client from providers.NewHTTPClient (with timeouts,
// without redirects). Each call builds fresh values, so there is no shared
// global state.
func Providers() []providers.Provider {
	return ProvidersWithClient(providers.NewHTTPClient())
}

// ProvidersWithClient is Providers with the HTTP client every transport
// uses, for a caller that wraps it (an outbound policy, a proxy, tracing).
// client must have timeouts; nil lets each transport build its own with
// providers.NewHTTPClient.
func ProvidersWithClient(client *http.Client) []providers.Provider {
	return []providers.Provider{
		discord.New(discord.Options{HTTPClient: client}),
		gitter.New(gitter.Options{HTTPClient: client}),
		googlechat.New(googlechat.Options{HTTPClient: client}),
		groupme.New(groupme.Options{HTTPClient: client}),
		guilded.New(guilded.Options{HTTPClient: client}),
		matrix.New(matrix.Options{HTTPClient: client}),
		mattermost.New(mattermost.Options{HTTPClient: client}),
		powerautomate.New(powerautomate.Options{HTTPClient: client}),
		rocketchat.New(rocketchat.Options{HTTPClient: client}),
		slack.New(slack.Options{HTTPClient: client}),
		teams.New(teams.Options{HTTPClient: client}),
		telegram.New(telegram.Options{HTTPClient: client}),
		webex.New(webex.Options{HTTPClient: client}),
		webhook.New(webhook.Options{HTTPClient: client}),
		zulip.New(zulip.Options{HTTPClient: client}),
	}
}

// Registry returns a registry of Providers. It fails only if two providers
// share an id, which is a programming error caught by the tests.
func Registry() (*providers.Registry, error) {
	return providers.NewRegistry(Providers()...)
}

// RegistryWithClient is Registry with the HTTP client every transport uses;
// see ProvidersWithClient.
func RegistryWithClient(client *http.Client) (*providers.Registry, error) {
	return providers.NewRegistry(ProvidersWithClient(client)...)
}
