// Package providers defines what the rest of the sidecar needs from a chat
// platform: the description of its channel parameters and provider settings
// (so the admin API can validate input and render forms), and the optional
// capabilities a platform implements (delivering notifications, threads,
// edits, commands, transcripts, listening to rooms).
//
// A provider is a value built in main and handed to a Registry; nothing
// registers itself. Capabilities are optional interfaces discovered with a
// type assertion, so the API can say truthfully what each provider can do.
package providers

import (
	"fmt"
	"regexp"
)

// Provider describes one chat platform. Implementations must be safe for
// concurrent use and must not do IO in these methods: the admin API calls
// them on every request to validate input and render forms.
type Provider interface {
	// ID is the stable identifier stored with each channel ("slack").
	ID() string
	// Name is the human-readable platform name ("Slack").
	Name() string
	// Params describes the per-channel data an admin enters (room id,
	// webhook URL). A channel's data has exactly these keys.
	Params() []Param
	// Settings describes the provider-wide configuration (tokens, server
	// URLs) set through configureProvider.
	Settings() []Setting
}

// Param describes one channel parameter, mirroring the reference plugin's
// CHANNEL_PARAMETERS entries.
type Param struct {
	// Key is the JSON key in the channel's data ("room_id"). A key that is
	// "url" or ends in "_url" marks a URL the sidecar sends to, which must
	// be http(s) (see IsURLKey).
	Key string
	// Label is what the admin UI shows next to the input.
	Label string
	// Pattern must match the value. Go's regexp anchors ^ and $ to the whole
	// text (the reference's Ruby anchors them to lines), which is stricter on
	// purpose: a newline can never smuggle a second value past the check.
	Pattern *regexp.Regexp
	// Unique means no two channels of this provider may share the
	// combination of all their unique values.
	Unique bool
	// Secret values (webhook URLs, tokens) are encrypted at rest and never
	// returned by the API.
	Secret bool
	// Example is a valid value, shown as a placeholder and used by tests.
	Example string
}

// SettingType is the kind of value a provider setting holds.
type SettingType string

// The setting types. Values arrive as JSON; Validate checks the JSON type.
const (
	SettingString SettingType = "STRING"
	SettingBool   SettingType = "BOOLEAN"
	SettingInt    SettingType = "INT"
	SettingURL    SettingType = "URL"
)

// Setting describes one provider-wide setting. Keys are the reference's
// site-setting names without the chat_integration_<provider>_ prefix.
type Setting struct {
	Key         string
	Label       string
	Type        SettingType
	Secret      bool
	Default     any    // nil when there is no default
	Description string // one sentence for the admin UI
	// Pattern, when set, must match string and URL values.
	Pattern *regexp.Regexp
	// Min and Max bound INT values when Max > 0.
	Min, Max int
}

// SettingsValidator is implemented by providers whose settings depend on
// each other (Slack needs a webhook URL or an access token before it can be
// enabled). settings holds the merged, type-checked values; the returned
// error should be a *FieldError.
type SettingsValidator interface {
	ValidateSettings(enabled bool, settings map[string]any) error
}

// Capabilities says what a provider can do today. It is derived from the
// optional interfaces a provider implements, never declared separately, so
// it cannot drift from the code.
type Capabilities struct {
	Notify      bool
	Threads     bool
	Edits       bool
	Commands    bool
	Transcripts bool
	Listen      bool
	// ChannelCheck means the provider can check a channel's credentials
	// and reachability without posting (it is a ChannelTester), which the
	// API offers as checkChannel.
	ChannelCheck bool
}

// FieldError reports invalid input for one field; the API turns it into
// BAD_USER_INPUT with extensions.field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }
