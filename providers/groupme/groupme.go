// Package groupme is the GroupMe provider. As in the reference, bots are
// configured provider-wide: bot_ids and instance_names are parallel
// comma-separated lists, and a channel names one instance, or "all" to post
// through every bot.
//
// Each bot gets one POST /v3/bots/post {"bot_id","text"}; GroupMe answers
// 202 Accepted with no body, and errors with {"meta":{"code","errors"}}. A
// 404 means the bot id is unknown (the reference's not_found key). The
// text is plain (GroupMe renders no markup) and at most 1000 characters,
// GroupMe's limit, so the excerpt is shortened to fit.
//
// With "all", the bots are posted to in order and a failure does not stop
// the others. When every bot fails, the last failure is returned as it is,
// so a rate limit or an outage is retried. When only some fail, the
// failure is permanent, with "k of n" in its message as in the reference:
// retrying would post the message again in the groups that already have
// it.
//
// The bot post API returns no message id, so messages cannot be threaded
// on, edited or deleted, and a bot cannot be checked without posting (that
// needs a user's access token).
//
// api_base_url replaces https://api.groupme.com, for fakes and proxies.
package groupme

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider          = (*Provider)(nil)
	_ providers.SettingsValidator = (*Provider)(nil)
	_ providers.Notifier          = (*Provider)(nil)
)

// Error keys the GroupMe provider records on a channel.
const (
	// KeyNotFound is the reference's key for a bot GroupMe does not know
	// (404); it is also used when GroupMe refuses the bot (401, 403).
	KeyNotFound = "chat_integration.provider.groupme.errors.not_found"
	// KeyNotConfigured is the sidecar's: the bot ids and instance names
	// do not pair up, the channel's instance is not among them, or
	// api_base_url does not parse.
	KeyNotConfigured = "chat_integration.provider.groupme.errors.not_configured"
)

const (
	// defaultExcerptLength is the reference's groupme_excerpt_length.
	defaultExcerptLength = 400
	// defaultAPIBase is GroupMe's public API origin.
	defaultAPIBase = "https://api.groupme.com"
	// allInstances is the instance name that posts through every bot.
	allInstances = "all"
	// mismatch is the reference's text for lists that do not pair up.
	mismatch = "instance names incorrectly formatted or not provided"
)

// Options are the GroupMe provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is GroupMe. Build it with New; the zero value has no parameters,
// settings or client. It is immutable after New and therefore safe for
// concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the GroupMe provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
		params: []providers.Param{{
			Key:   "groupme_instance_name",
			Label: "Instance name",
			// The reference accepts anything, even an empty string, which
			// can never name an instance. The value must be one non-empty
			// line that starts with a non-space character; later spaces are
			// allowed because instance names are free text.
			Pattern: regexp.MustCompile(`^\S.*$`),
			Unique:  true,
			Example: "all",
		}},
		settings: []providers.Setting{
			{
				Key:         "bot_ids",
				Label:       "Bot IDs",
				Type:        providers.SettingString,
				Secret:      true,
				Description: "Comma-separated GroupMe bot ids; anyone holding a bot id can post as that bot.",
			},
			{
				Key:         "instance_names",
				Label:       "Instance names",
				Type:        providers.SettingString,
				Description: "Comma-separated names for the bots, in the same order as the bot ids.",
			},
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "groupme", the identifier stored with every GroupMe channel.
func (p *Provider) ID() string { return "groupme" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "GroupMe" }

// Params returns the single channel parameter, the instance name. The slice
// is a copy, so callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// ValidateSettings refuses to enable GroupMe unless the bot ids and the
// instance names pair up, where the reference would instead fail every
// message. Names must be distinct and may not be "all", which names every
// bot. A disabled provider may be saved half-configured.
func (p *Provider) ValidateSettings(enabled bool, settings map[string]any) error {
	if !enabled {
		return nil
	}
	ids, _ := settings["bot_ids"].(string)
	names, _ := settings["instance_names"].(string)
	if _, err := parseBots(ids, names); err != nil {
		return &providers.FieldError{Field: "settings.instance_names", Message: err.Error()}
	}
	return nil
}

// bot is one configured GroupMe bot.
type bot struct{ id, name string }

// parseBots pairs the comma-separated ids and names.
func parseBots(ids, names string) ([]bot, error) {
	split := func(s string) []string {
		var out []string
		for part := range strings.SplitSeq(s, ",") {
			out = append(out, strings.TrimSpace(part))
		}
		return out
	}
	idList, nameList := split(ids), split(names)
	if strings.TrimSpace(ids) == "" || len(idList) != len(nameList) {
		return nil, errors.New(mismatch)
	}
	bots := make([]bot, len(idList))
	seen := make(map[string]bool, len(idList))
	for i := range idList {
		switch name := nameList[i]; {
		case idList[i] == "" || name == "":
			return nil, errors.New(mismatch)
		case strings.EqualFold(name, allInstances):
			return nil, fmt.Errorf("%q names every bot and cannot name one", allInstances)
		case seen[name]:
			return nil, fmt.Errorf("instance name %q is used twice", name)
		default:
			seen[name] = true
			bots[i] = bot{id: idList[i], name: name}
		}
	}
	return bots, nil
}

// targets returns the bots the channel's instance name selects.
func targets(t *providers.Target) ([]bot, error) {
	bots, err := parseBots(t.Settings.String("bot_ids"), t.Settings.String("instance_names"))
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "%v", err)
	}
	instance := strings.TrimSpace(t.Data["groupme_instance_name"])
	if instance == allInstances {
		return bots, nil
	}
	for _, b := range bots {
		if b.name == instance {
			return []bot{b}, nil
		}
	}
	return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "no GroupMe instance is named %q", instance)
}

// Notify posts n through the bot the channel names, or through every bot
// for "all". The Receipt is empty: bots get no message id back.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	bots, err := targets(t)
	if err != nil {
		return nil, err
	}
	base := t.Settings.String("api_base_url")
	if base == "" {
		base = defaultAPIBase
	}
	endpoint, err := providers.Rebase(defaultAPIBase+"/v3/bots/post", base)
	if err != nil {
		return nil, providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "api_base_url is not a valid URL")
	}
	text := format(n, t.Settings.Int("excerpt_length", defaultExcerptLength))
	var last error
	posted := 0
	for _, b := range bots {
		if err := p.post(ctx, endpoint, b, text); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			last = err
			continue
		}
		posted++
	}
	switch {
	case last == nil:
		return &providers.Receipt{}, nil
	case posted == 0:
		return nil, last
	}
	key, msg := "", last.Error()
	if pe := (*providers.Error)(nil); errors.As(last, &pe) {
		key, msg = pe.Key, pe.Message
	}
	return nil, &providers.Error{Key: key, Permanent: true, Err: last,
		Message: fmt.Sprintf("posted through %d of %d GroupMe bots; last failure: %s", posted, len(bots), msg)}
}

// post sends text through one bot.
func (p *Provider) post(ctx context.Context, endpoint string, b bot, text string) error {
	resp, err := providers.PostJSON(ctx, p.client, endpoint, "", post{BotID: b.id, Text: text}, KeyNotConfigured)
	if err != nil {
		return err
	}
	return providers.CheckStatus(resp, "GroupMe", "", providers.StatusKeys{
		Unauthorized: KeyNotFound, Forbidden: KeyNotFound, NotFound: KeyNotFound,
	})
}
