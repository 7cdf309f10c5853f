package providers_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// testProvider is a small provider covering every parameter and setting
// shape that validation handles.
type testProvider struct {
	params   []providers.Param
	settings []providers.Setting
}

func newTestProvider() *testProvider {
	return &testProvider{
		params: []providers.Param{
			{Key: "name", Label: "Name", Pattern: regexp.MustCompile(`^\S+$`), Example: "ops"},
			{Key: "chat_id", Label: "Chat ID", Pattern: regexp.MustCompile(`^(-?[0-9]+|@\S+)$`), Unique: true, Example: "-100"},
			{Key: "room_id", Label: "Room ID", Pattern: regexp.MustCompile(`^[!#]\S+:\S+$`), Unique: true, Example: "!a:b"},
		},
		settings: []providers.Setting{
			{Key: "token", Label: "Token", Type: providers.SettingString, Secret: true},
			{Key: "room_prefix", Label: "Prefix", Type: providers.SettingString, Pattern: regexp.MustCompile(`^[#!]$`)},
			{Key: "homeserver", Label: "Homeserver", Type: providers.SettingURL, Default: "https://matrix.org"},
			{Key: "use_notice", Label: "Notice", Type: providers.SettingBool, Default: true},
			providers.ExcerptLengthSetting(400),
			providers.APIBaseURLSetting(),
		},
	}
}

func (p *testProvider) ID() string                    { return "test" }
func (p *testProvider) Name() string                  { return "Test" }
func (p *testProvider) Params() []providers.Param     { return p.params }
func (p *testProvider) Settings() []providers.Setting { return p.settings }

// validatingProvider records what MergeSettings hands to ValidateSettings
// and refuses to be enabled without a token.
type validatingProvider struct {
	*testProvider
	calls   int
	enabled bool
	seen    map[string]any
}

func (p *validatingProvider) ValidateSettings(enabled bool, settings map[string]any) error {
	p.calls++
	p.enabled = enabled
	p.seen = settings
	if enabled && settings["token"] == nil {
		return &providers.FieldError{Field: "settings", Message: "a token is required"}
	}
	return nil
}

// fieldErrors flattens err into field → message, failing if err is not a
// ValidationErrors.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve providers.ValidationErrors
	require.True(t, errors.As(err, &ve), "want ValidationErrors, got %T: %v", err, err)
	out := make(map[string]string, len(ve))
	for _, e := range ve {
		out[e.Field] = e.Message
	}
	return out
}

func TestValidateChannelData(t *testing.T) {
	t.Parallel()

	valid := func() map[string]any {
		return map[string]any{"name": "ops", "chat_id": "@ops", "room_id": "!abc:matrix.org"}
	}
	with := func(k string, v any) map[string]any {
		d := valid()
		d[k] = v
		return d
	}
	without := func(k string) map[string]any {
		d := valid()
		delete(d, k)
		return d
	}

	tests := []struct {
		name string
		data map[string]any
		want map[string]string // the accepted data; nil when an error is expected
		errs map[string]string // field → substring of the message
	}{
		{
			name: "valid",
			data: valid(),
			want: map[string]string{"name": "ops", "chat_id": "@ops", "room_id": "!abc:matrix.org"},
		},
		{
			name: "integer chat id from JSON is accepted",
			data: with("chat_id", float64(-1001234567890)),
			want: map[string]string{"name": "ops", "chat_id": "-1001234567890", "room_id": "!abc:matrix.org"},
		},
		{
			name: "json.Number chat id is accepted",
			data: with("chat_id", json.Number("42")),
			want: map[string]string{"name": "ops", "chat_id": "42", "room_id": "!abc:matrix.org"},
		},
		{
			name: "int chat id is accepted",
			data: with("chat_id", 7),
			want: map[string]string{"name": "ops", "chat_id": "7", "room_id": "!abc:matrix.org"},
		},
		{
			name: "fractional number is not a string",
			data: with("chat_id", 1.5),
			errs: map[string]string{"data.chat_id": "must be a string"},
		},
		{
			name: "boolean is not a string",
			data: with("name", true),
			errs: map[string]string{"data.name": "must be a string"},
		},
		{
			name: "missing key",
			data: without("room_id"),
			errs: map[string]string{"data.room_id": "Room ID is required"},
		},
		{
			name: "null is missing",
			data: with("room_id", nil),
			errs: map[string]string{"data.room_id": "Room ID is required"},
		},
		{
			name: "extra key",
			data: with("webhook_url", "https://example.com"),
			errs: map[string]string{"data.webhook_url": "unknown parameter for provider test"},
		},
		{
			name: "bad pattern",
			data: with("room_id", "general"),
			errs: map[string]string{"data.room_id": "does not match"},
		},
		{
			name: "newline cannot smuggle a second value",
			data: with("name", "ops\nother"),
			errs: map[string]string{"data.name": "does not match"},
		},
		{
			name: "all errors reported together",
			data: map[string]any{"name": "two words", "chat_id": "nope", "extra": 1, "more": "x"},
			errs: map[string]string{
				"data.name":    "does not match",
				"data.chat_id": "does not match",
				"data.room_id": "is required",
				"data.extra":   "unknown parameter",
				"data.more":    "unknown parameter",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.ValidateChannelData(newTestProvider(), "data", tc.data)
			if tc.errs == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			require.Nil(t, got)
			fe := fieldErrors(t, err)
			require.Len(t, fe, len(tc.errs), "errors: %v", fe)
			for field, msg := range tc.errs {
				require.Contains(t, fe, field)
				require.Contains(t, fe[field], msg)
			}
		})
	}
}

func TestValidateChannelDataErrorOrder(t *testing.T) {
	t.Parallel()
	// Parameters come first in declaration order, then unknown keys sorted,
	// so the same input always produces the same message.
	_, err := providers.ValidateChannelData(newTestProvider(), "input.data",
		map[string]any{"zz": 1, "aa": 2})
	var ve providers.ValidationErrors
	require.ErrorAs(t, err, &ve)
	fields := make([]string, len(ve))
	for i, e := range ve {
		fields[i] = e.Field
	}
	require.Equal(t, []string{
		"input.data.name", "input.data.chat_id", "input.data.room_id",
		"input.data.aa", "input.data.zz",
	}, fields)
}

func TestMergeSettings(t *testing.T) {
	t.Parallel()

	current := func() map[string]any {
		return map[string]any{"token": "old", "excerpt_length": 200, "use_notice": false}
	}

	tests := []struct {
		name    string
		current map[string]any
		patch   map[string]any
		want    map[string]any
		errs    map[string]string // field → substring of the message
	}{
		{
			name:    "keys not given keep their value",
			current: current(),
			patch:   map[string]any{"homeserver": "https://hs.example.org"},
			want: map[string]any{
				"token": "old", "excerpt_length": 200, "use_notice": false,
				"homeserver": "https://hs.example.org",
			},
		},
		{
			name:    "null resets to the default",
			current: current(),
			patch:   map[string]any{"excerpt_length": nil, "use_notice": nil},
			want:    map[string]any{"token": "old"},
		},
		{
			name:    "empty patch changes nothing",
			current: current(),
			patch:   map[string]any{},
			want:    current(),
		},
		{
			name:    "stale keys in current are dropped",
			current: map[string]any{"token": "old", "removed_setting": "x"},
			patch:   nil,
			want:    map[string]any{"token": "old"},
		},
		{
			name:  "integral float becomes int",
			patch: map[string]any{"excerpt_length": float64(123)},
			want:  map[string]any{"excerpt_length": 123},
		},
		{
			name:  "json.Number becomes int",
			patch: map[string]any{"excerpt_length": json.Number("99")},
			want:  map[string]any{"excerpt_length": 99},
		},
		{
			name:  "int bounds inclusive",
			patch: map[string]any{"excerpt_length": providers.ExcerptLengthMax},
			want:  map[string]any{"excerpt_length": providers.ExcerptLengthMax},
		},
		{
			name:  "int below minimum",
			patch: map[string]any{"excerpt_length": 0},
			errs:  map[string]string{"settings.excerpt_length": "between 1 and 10000"},
		},
		{
			name:  "int above maximum",
			patch: map[string]any{"excerpt_length": providers.ExcerptLengthMax + 1},
			errs:  map[string]string{"settings.excerpt_length": "between 1 and 10000"},
		},
		{
			name:  "unknown key",
			patch: map[string]any{"enabled": true},
			errs:  map[string]string{"settings.enabled": "unknown setting for provider test"},
		},
		{
			name:  "string for a boolean",
			patch: map[string]any{"use_notice": "true"},
			errs:  map[string]string{"settings.use_notice": "must be a boolean"},
		},
		{
			name:  "string for an integer",
			patch: map[string]any{"excerpt_length": "four hundred"},
			errs:  map[string]string{"settings.excerpt_length": "must be an integer"},
		},
		{
			name:  "fraction for an integer",
			patch: map[string]any{"excerpt_length": 1.5},
			errs:  map[string]string{"settings.excerpt_length": "must be an integer"},
		},
		{
			name:  "number for a string",
			patch: map[string]any{"token": 5},
			errs:  map[string]string{"settings.token": "must be a string"},
		},
		{
			name:  "URL accepted",
			patch: map[string]any{"api_base_url": "http://127.0.0.1:8081"},
			want:  map[string]any{"api_base_url": "http://127.0.0.1:8081"},
		},
		{
			name:  "empty URL accepted",
			patch: map[string]any{"api_base_url": ""},
			want:  map[string]any{"api_base_url": ""},
		},
		{
			name:  "URL without scheme",
			patch: map[string]any{"homeserver": "matrix.org"},
			errs:  map[string]string{"settings.homeserver": "must be an http(s) URL"},
		},
		{
			name:  "URL with another scheme",
			patch: map[string]any{"api_base_url": "ftp://example.com"},
			errs:  map[string]string{"settings.api_base_url": "must be an http(s) URL"},
		},
		{
			name:  "URL without host",
			patch: map[string]any{"api_base_url": "https://"},
			errs:  map[string]string{"settings.api_base_url": "must be an http(s) URL"},
		},
		{
			name:  "string pattern",
			patch: map[string]any{"room_prefix": "$"},
			errs:  map[string]string{"settings.room_prefix": "does not match"},
		},
		{
			name:    "all errors reported together and nothing applied",
			current: current(),
			patch: map[string]any{
				"bogus": 1, "use_notice": 1, "excerpt_length": -5, "homeserver": "nope", "token": "new",
			},
			errs: map[string]string{
				"settings.bogus":          "unknown setting",
				"settings.use_notice":     "must be a boolean",
				"settings.excerpt_length": "between",
				"settings.homeserver":     "http(s) URL",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before map[string]any
			if tc.current != nil {
				before = make(map[string]any, len(tc.current))
				for k, v := range tc.current {
					before[k] = v
				}
			}
			got, err := providers.MergeSettings(newTestProvider(), false, tc.current, tc.patch)
			if tc.current != nil {
				require.Equal(t, before, tc.current, "current must not be modified")
			}
			if tc.errs == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Nil(t, got)
			fe := fieldErrors(t, err)
			require.Len(t, fe, len(tc.errs), "errors: %v", fe)
			for field, msg := range tc.errs {
				require.Contains(t, fe, field)
				require.Contains(t, fe[field], msg)
			}
		})
	}
}

func TestMergeSettingsResetUsesDefault(t *testing.T) {
	t.Parallel()
	p := newTestProvider()
	got, err := providers.MergeSettings(p, false,
		map[string]any{"excerpt_length": 50, "homeserver": "https://hs.example.org"},
		map[string]any{"excerpt_length": nil, "homeserver": nil})
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, 400, providers.SettingValue(p, got, "excerpt_length"))
	require.Equal(t, "https://matrix.org", providers.SettingValue(p, got, "homeserver"))
	require.Nil(t, providers.SettingValue(p, got, "token"))
	require.Nil(t, providers.SettingValue(p, got, "no_such_setting"))
}

func TestMergeSettingsCallsSettingsValidator(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		enabled bool
		current map[string]any
		patch   map[string]any
		wantErr string
	}{
		{name: "disabled without token", enabled: false, patch: map[string]any{"use_notice": true}},
		{name: "enabled with token in patch", enabled: true, patch: map[string]any{"token": "t"}},
		{name: "enabled with token kept from current", enabled: true, current: map[string]any{"token": "t"}},
		{name: "enabled without token", enabled: true, patch: map[string]any{"use_notice": true}, wantErr: "a token is required"},
		{
			name: "enabled after token reset", enabled: true,
			current: map[string]any{"token": "t"}, patch: map[string]any{"token": nil},
			wantErr: "a token is required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &validatingProvider{testProvider: newTestProvider()}
			got, err := providers.MergeSettings(p, tc.enabled, tc.current, tc.patch)
			require.Equal(t, 1, p.calls)
			require.Equal(t, tc.enabled, p.enabled)
			if tc.wantErr != "" {
				require.Nil(t, got)
				var fe *providers.FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, "settings", fe.Field)
				require.Equal(t, tc.wantErr, fe.Message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, got, p.seen, "the validator sees the merged settings")
		})
	}
}

func TestMergeSettingsSkipsValidatorOnTypeErrors(t *testing.T) {
	t.Parallel()
	p := &validatingProvider{testProvider: newTestProvider()}
	_, err := providers.MergeSettings(p, true, nil, map[string]any{"use_notice": "yes"})
	require.Error(t, err)
	require.Zero(t, p.calls, "the validator only sees type-checked settings")
}

func TestCommonSettings(t *testing.T) {
	t.Parallel()

	api := providers.APIBaseURLSetting()
	require.Equal(t, "api_base_url", api.Key)
	require.Equal(t, providers.SettingURL, api.Type)
	require.False(t, api.Secret)
	require.Nil(t, api.Default)
	require.NotEmpty(t, api.Label)
	require.NotEmpty(t, api.Description)

	for _, def := range []int{100, 400} {
		ex := providers.ExcerptLengthSetting(def)
		require.Equal(t, "excerpt_length", ex.Key)
		require.Equal(t, providers.SettingInt, ex.Type)
		require.Equal(t, def, ex.Default)
		require.Equal(t, 1, ex.Min)
		require.Equal(t, providers.ExcerptLengthMax, ex.Max)
		require.NotEmpty(t, ex.Description)
	}
}

// urlParamProvider has a URL parameter with a lax pattern, the way a
// provider might write one, to show the scheme check does not depend on it.
type urlParamProvider struct{ testProvider }

func TestValidateChannelDataURLParams(t *testing.T) {
	t.Parallel()
	p := &urlParamProvider{testProvider{params: []providers.Param{
		{Key: "webhook_url", Label: "Webhook URL", Pattern: regexp.MustCompile(`^\S+$`), Secret: true},
	}}}
	tests := []struct {
		value string
		ok    bool
	}{
		{"https://chat.example.com/hooks/abc", true},
		{"http://chat.example.com:8065/hooks/abc", true},
		{"HTTPS://Chat.Example.com/hooks/abc", true},
		{"https://10.0.0.5/hooks/abc", true}, // addresses are checked when connecting, not here
		{"ftp://chat.example.com/hooks", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"gopher://chat.example.com:70/", false},
		{"//chat.example.com/hooks", false},
		{"chat.example.com/hooks", false},
		{"https:///hooks", false},
		{"https://:443/hooks", false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			got, err := providers.ValidateChannelData(p, "data", map[string]any{"webhook_url": tc.value})
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, map[string]string{"webhook_url": tc.value}, got)
				return
			}
			require.Equal(t, map[string]string{"data.webhook_url": "Webhook URL must be an http(s) URL"}, fieldErrors(t, err))
		})
	}
}

// TestValidateChannelDataOptionalURLParam shows that a URL parameter whose
// pattern allows an empty value may be left empty, while a given value must
// still be an http(s) URL, and that a pattern refusing empty still refuses.
func TestValidateChannelDataOptionalURLParam(t *testing.T) {
	t.Parallel()
	p := &urlParamProvider{testProvider{params: []providers.Param{
		{Key: "api_url", Label: "API URL", Pattern: regexp.MustCompile(`^\S*$`)},
		{Key: "webhook_url", Label: "Webhook URL", Pattern: regexp.MustCompile(`^\S+$`), Secret: true},
	}}}
	const hook = "https://chat.example.com/hooks/abc"
	tests := []struct {
		name string
		data map[string]any
		want map[string]string
		errs map[string]string
	}{
		{
			name: "optional URL left empty",
			data: map[string]any{"api_url": "", "webhook_url": hook},
			want: map[string]string{"api_url": "", "webhook_url": hook},
		},
		{
			name: "optional URL given",
			data: map[string]any{"api_url": "https://gitter.example.com/api", "webhook_url": hook},
			want: map[string]string{"api_url": "https://gitter.example.com/api", "webhook_url": hook},
		},
		{
			name: "optional URL given with another scheme",
			data: map[string]any{"api_url": "ftp://gitter.example.com", "webhook_url": hook},
			errs: map[string]string{"data.api_url": "API URL must be an http(s) URL"},
		},
		{
			name: "optional URL given without scheme",
			data: map[string]any{"api_url": "gitter.example.com/api", "webhook_url": hook},
			errs: map[string]string{"data.api_url": "API URL must be an http(s) URL"},
		},
		{
			name: "optional URL still required as a key",
			data: map[string]any{"webhook_url": hook},
			errs: map[string]string{"data.api_url": "API URL is required"},
		},
		{
			name: "required URL empty is refused by its pattern",
			data: map[string]any{"api_url": "", "webhook_url": ""},
			errs: map[string]string{"data.webhook_url": "does not match"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := providers.ValidateChannelData(p, "data", tc.data)
			if tc.errs == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Nil(t, got)
			fe := fieldErrors(t, err)
			require.Len(t, fe, len(tc.errs), "errors: %v", fe)
			for field, msg := range tc.errs {
				require.Contains(t, fe, field)
				require.Contains(t, fe[field], msg)
			}
		})
	}
}

func TestIsURLKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"url": true, "webhook_url": true, "legacy_api_url": true,
		"identifier": false, "room_id": false, "urls": false, "curl": false, "url_prefix": false,
	} {
		require.Equal(t, want, providers.IsURLKey(key), key)
	}
}
