package slack_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/slack"
)

func TestValidateSettings(t *testing.T) {
	t.Parallel()

	const hook = "https://hooks.slack.com/services/T000/B000/XXXX"
	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		wantErr bool
	}{
		{name: "disabled and empty", enabled: false},
		{name: "enabled and empty", enabled: true, wantErr: true},
		{name: "enabled with webhook", enabled: true, patch: map[string]any{"outbound_webhook_url": hook}},
		{name: "enabled with token", enabled: true, patch: map[string]any{"access_token": "xoxb-1"}},
		{name: "enabled with token kept", enabled: true, current: map[string]any{"access_token": "xoxb-1"}},
		{name: "enabled with blank token", enabled: true, patch: map[string]any{"access_token": "  "}, wantErr: true},
		{
			name: "enabled with only other settings", enabled: true,
			patch: map[string]any{"signing_secret": "s", "app_token": "xapp-1"}, wantErr: true,
		},
		{
			name: "enabled after resetting the only way to deliver", enabled: true,
			current: map[string]any{"access_token": "xoxb-1"}, patch: map[string]any{"access_token": nil},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.MergeSettings(slack.New(), tc.enabled, tc.current, tc.patch)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Nil(t, got)
			var fe *providers.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, &providers.FieldError{
				Field:   "settings",
				Message: "You must enter either an outbound webhook URL, or an access token",
			}, fe)
		})
	}
}

func TestOutboundWebhookURLPattern(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T000/B000/XXXX", true},
		{"https://hooks.slack.com/workflows/T000/A000/123/abc", true},
		{"https://hooks.slack.com/services/", false},
		{"http://hooks.slack.com/services/T000/B000/XXXX", false},
		{"https://hooks.slack.com.evil.example/services/T000", false},
		{"https://example.com/services/T000", false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			_, err := providers.MergeSettings(slack.New(), false, nil,
				map[string]any{"outbound_webhook_url": tc.url})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "settings.outbound_webhook_url")
		})
	}
}
