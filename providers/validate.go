package providers

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ValidationErrors collects every problem found in one input, so an admin
// (or a CI script applying a whole document) sees all of them at once.
type ValidationErrors []*FieldError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// ErrOrNil returns es as an error, or nil when it is empty.
func (es ValidationErrors) ErrOrNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ValidateChannelData checks a channel's data against p's parameters the way
// the reference does: exactly the provider's keys, each a string matching
// its pattern. Integers are accepted and turned into strings because a
// Telegram chat id is naturally written as a number. field prefixes the
// reported field names ("data").
func ValidateChannelData(p Provider, field string, data map[string]any) (map[string]string, error) {
	var errs ValidationErrors
	out := make(map[string]string, len(data))
	known := make(map[string]bool)
	for _, prm := range p.Params() {
		known[prm.Key] = true
		f := field + "." + prm.Key
		raw, ok := data[prm.Key]
		if !ok || raw == nil {
			errs = append(errs, &FieldError{Field: f, Message: fmt.Sprintf("%s is required", prm.Label)})
			continue
		}
		s, ok := stringValue(raw)
		if !ok {
			errs = append(errs, &FieldError{Field: f, Message: "must be a string"})
			continue
		}
		if prm.Pattern != nil && !prm.Pattern.MatchString(s) {
			errs = append(errs, &FieldError{Field: f, Message: fmt.Sprintf("%s does not match %s", prm.Label, prm.Pattern)})
			continue
		}
		// An empty value can only get here when the pattern allows it,
		// which is how a provider marks an optional URL (Gitter's legacy
		// REST base URL): nothing is sent to it, so there is no scheme to
		// check. A given value is always checked.
		if IsURLKey(prm.Key) && s != "" && !isHTTPURL(s) {
			errs = append(errs, &FieldError{Field: f, Message: fmt.Sprintf("%s must be an http(s) URL", prm.Label)})
			continue
		}
		out[prm.Key] = s
	}
	extra := make([]string, 0)
	for k := range data {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		errs = append(errs, &FieldError{Field: field + "." + k, Message: fmt.Sprintf("unknown parameter for provider %s", p.ID())})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// IsURLKey reports whether a channel parameter named key holds a URL the
// sidecar sends requests to: "url" or any key ending in "_url"
// ("webhook_url"). Such values must be absolute http(s) URLs whatever the
// provider's pattern allows, so a file:, gopher: or scheme-less value is
// refused when the channel is saved rather than at the first delivery.
// Settings say the same with SettingURL.
func IsURLKey(key string) bool {
	return key == "url" || strings.HasSuffix(key, "_url")
}

// isHTTPURL reports whether s is an absolute http or https URL with a
// host. Where the host resolves is checked when a request connects (see
// NewOutboundClient), never here: an answer now says nothing about later.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}

// stringValue accepts JSON strings and integral numbers.
func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x.String(), true
		}
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10), true
		}
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// MergeSettings applies patch to current for provider p and returns the new
// settings. Keys absent from patch keep their value (the contract of
// configureProvider); a key set to null returns to its default. Every value
// is type-checked; unknown keys are rejected. When the provider implements
// SettingsValidator, it sees the merged result.
func MergeSettings(p Provider, enabled bool, current, patch map[string]any) (map[string]any, error) {
	defs := make(map[string]Setting)
	for _, s := range p.Settings() {
		defs[s.Key] = s
	}
	merged := make(map[string]any, len(current)+len(patch))
	for k, v := range current {
		if _, ok := defs[k]; ok {
			merged[k] = v
		}
	}
	var errs ValidationErrors
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := "settings." + k
		def, ok := defs[k]
		if !ok {
			errs = append(errs, &FieldError{Field: f, Message: fmt.Sprintf("unknown setting for provider %s", p.ID())})
			continue
		}
		v := patch[k]
		if v == nil {
			delete(merged, k)
			continue
		}
		norm, err := checkSetting(def, v)
		if err != nil {
			errs = append(errs, &FieldError{Field: f, Message: err.Error()})
			continue
		}
		merged[k] = norm
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if sv, ok := p.(SettingsValidator); ok {
		if err := sv.ValidateSettings(enabled, merged); err != nil {
			return nil, err
		}
	}
	return merged, nil
}

func checkSetting(def Setting, v any) (any, error) {
	switch def.Type {
	case SettingBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be a boolean")
		}
		return b, nil
	case SettingInt:
		s, ok := stringValue(v)
		if !ok {
			return nil, fmt.Errorf("must be an integer")
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		if def.Max > 0 && (n < def.Min || n > def.Max) {
			return nil, fmt.Errorf("must be between %d and %d", def.Min, def.Max)
		}
		return n, nil
	case SettingString, SettingURL:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		if def.Type == SettingURL && s != "" && !isHTTPURL(s) {
			return nil, fmt.Errorf("must be an http(s) URL")
		}
		if def.Pattern != nil && s != "" && !def.Pattern.MatchString(s) {
			return nil, fmt.Errorf("does not match %s", def.Pattern)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported setting type %s", def.Type)
}

// SettingValue returns the value of key in settings, or the setting's
// default when unset.
func SettingValue(p Provider, settings map[string]any, key string) any {
	if v, ok := settings[key]; ok {
		return v
	}
	for _, s := range p.Settings() {
		if s.Key == key {
			return s.Default
		}
	}
	return nil
}
