package providers

// Settings shared by several providers. They live here, not in each
// provider package, so the key, bounds and wording cannot drift apart
// between platforms.

// ExcerptLengthMax bounds excerpt_length. The reference has no upper bound;
// 10000 is generous for every platform (Zulip's message limit is 10000
// bytes) while stopping a typo from sending whole posts.
const ExcerptLengthMax = 10000

// APIBaseURLSetting returns the api_base_url setting every provider takes.
// It replaces the platform's public API origin so that tests can point a
// provider at a local fake, and operators at a proxy or an enterprise
// install. Empty means the platform's public origin.
func APIBaseURLSetting() Setting {
	return Setting{
		Key:         "api_base_url",
		Label:       "API base URL",
		Type:        SettingURL,
		Description: "Replaces the platform's public API origin, for fakes, proxies and enterprise installs.",
	}
}

// ExcerptLengthSetting returns the excerpt_length setting with default def.
// The reference lets each provider choose its default (400 for most, 100
// for Google Chat), so the default is a parameter. The minimum is 1 because
// an empty excerpt is never what an admin means.
func ExcerptLengthSetting(def int) Setting {
	return Setting{
		Key:         "excerpt_length",
		Label:       "Excerpt length",
		Type:        SettingInt,
		Default:     def,
		Description: "Maximum number of characters of the post quoted in each notification.",
		Min:         1,
		Max:         ExcerptLengthMax,
	}
}
