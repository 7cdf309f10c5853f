// Package googlechat is the Google Chat provider: each channel is one
// space's incoming webhook, to which it posts a card message, as the
// reference does (the reference calls this provider "google"; the sidecar
// uses the clearer id googlechat).
//
// Threads: a Google Chat thread has its own name (spaces/S/threads/T),
// which the webhook returns with every message; it becomes the Receipt's
// ThreadID, and the message's own name (spaces/S/messages/M) its
// MessageID. Under a "thread" rule a post replies into the topic's thread:
// by that name when the engine knows it, and otherwise by the thread key
// "discourse-topic-<topic id>", so a topic's posts still share a thread
// when no receipt was stored. Both go with
// messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD, which starts the
// thread when it does not exist yet. The key is sent in the body
// (thread.threadKey); Google deprecated the threadKey query parameter.
//
// Incoming webhooks cannot edit or delete messages, and the webhook cannot
// be checked without posting, so this provider is neither an Editor nor a
// ChannelTester.
//
// Errors are Google's JSON, {"error":{"code":429,"message":"…",
// "status":"RESOURCE_EXHAUSTED"}}. A 429 asks the engine to wait for the
// Retry-After header or the google.rpc.RetryInfo delay in the error's
// details; 401 and 403 (a revoked key or token, webhooks disabled) are
// permanent, and 404 means the space is gone. Only the status is quoted,
// never the message.
//
// api_base_url replaces the webhook URL's origin and keeps its path and
// query (the key and token), so tests reach a fake with realistic URLs.
package googlechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/providers"
)

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Notifier = (*Provider)(nil)
	_ providers.Threader = (*Provider)(nil)
)

// Error keys the Google Chat provider records on a channel. The reference
// records none for Google Chat; these are the sidecar's and need
// translations in the admin UI.
const (
	// KeyInvalidWebhook: Google rejected the webhook's key or token (401),
	// or the webhook may no longer post in the space (403).
	KeyInvalidWebhook = "chat_integration.provider.googlechat.errors.invalid_webhook"
	// KeySpaceNotFound: the space in the webhook URL does not exist.
	KeySpaceNotFound = "chat_integration.provider.googlechat.errors.space_not_found"
	// KeyNotConfigured: the webhook URL or api_base_url does not parse.
	KeyNotConfigured = "chat_integration.provider.googlechat.errors.not_configured"
)

// defaultExcerptLength is the reference's google_excerpt_length: cards are
// small.
const defaultExcerptLength = 100

// replyOption makes Google reply into the named or keyed thread, or start
// it when it does not exist.
const replyOption = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

// Options are the Google Chat provider's dependencies.
type Options struct {
	// HTTPClient sends every request. nil means a client from
	// providers.NewHTTPClient; http.DefaultClient is never used because it
	// has no timeout.
	HTTPClient *http.Client
}

// Provider is Google Chat. Build it with New; the zero value has no
// parameters, settings or client. It is immutable after New and therefore
// safe for concurrent use.
type Provider struct {
	params   []providers.Param
	settings []providers.Setting
	client   *http.Client
}

// New returns the Google Chat provider. The regular expressions are compiled
// here, once, rather than in package variables, so that importing the
// package has no side effects.
func New(opts Options) *Provider {
	client := opts.HTTPClient
	if client == nil {
		client = providers.NewHTTPClient()
	}
	return &Provider{
		client: client,
		params: []providers.Param{
			{
				Key:     "name",
				Label:   "Name",
				Pattern: regexp.MustCompile(`^\S+$`),
				Unique:  true,
				Example: "announcements",
			},
			{
				Key:   "webhook_url",
				Label: "Webhook URL",
				// The reference leaves the dots unescaped; they are escaped
				// here so that only chat.googleapis.com matches. The key and
				// token query parameters make the URL a secret.
				Pattern: regexp.MustCompile(`^https://chat\.googleapis\.com/v1/\S+$`),
				Unique:  true,
				Secret:  true,
				Example: "https://chat.googleapis.com/v1/spaces/AAAAbCdEfGh/messages?key=AIzaKey&token=AbCdToken",
			},
		},
		settings: []providers.Setting{
			providers.ExcerptLengthSetting(defaultExcerptLength),
			providers.APIBaseURLSetting(),
		},
	}
}

// ID returns "googlechat", the identifier stored with every Google Chat
// channel.
func (p *Provider) ID() string { return "googlechat" }

// Name returns the platform's name for the admin UI.
func (p *Provider) Name() string { return "Google Chat" }

// Params returns a label and the webhook URL. The slice is a copy, so
// callers may not change the provider through it.
func (p *Provider) Params() []providers.Param { return slices.Clone(p.params) }

// Settings returns the provider settings. The slice is a copy.
func (p *Provider) Settings() []providers.Setting { return slices.Clone(p.settings) }

// Threads reports true: every Google Chat webhook can reply into threads
// (in a space without threads, replies simply appear in line).
func (p *Provider) Threads(*providers.Target) bool { return true }

// Notify posts n as a card message, replying into the topic's thread under
// a thread rule. The Receipt holds the message's and the thread's names.
func (p *Provider) Notify(ctx context.Context, t *providers.Target, n *providers.Notification) (*providers.Receipt, error) {
	m := format(n, t.Settings.Int("excerpt_length", defaultExcerptLength))
	endpoint, err := webhookURL(t, m.Thread != nil)
	if err != nil {
		return nil, err
	}
	body, err := providers.EncodeJSON(m)
	if err != nil {
		return nil, providers.Permanent("", nil, "encoding the Google Chat message: %v", err)
	}
	req, err := providers.NewJSONRequest(ctx, endpoint, body)
	if err != nil {
		return nil, errNotConfigured()
	}
	resp, err := providers.Do(p.client, req)
	if err != nil {
		return nil, err
	}
	if err := check(resp); err != nil {
		return nil, err
	}
	var sent struct {
		Name   string `json:"name"`
		Thread struct {
			Name string `json:"name"`
		} `json:"thread"`
	}
	if err := json.Unmarshal(resp.Body, &sent); err != nil || sent.Name == "" {
		// Posted, but without the names a thread cannot be continued;
		// retrying would post twice, so the message counts as sent.
		return &providers.Receipt{}, nil
	}
	return &providers.Receipt{MessageID: sent.Name, ThreadID: sent.Thread.Name}, nil
}

func errNotConfigured() error {
	return providers.Permanent(KeyNotConfigured, providers.ErrNotConfigured, "the webhook URL or api_base_url is not valid")
}

// webhookURL is the channel's webhook at api_base_url's origin, asking
// Google to reply into a thread when reply is set.
func webhookURL(t *providers.Target, reply bool) (string, error) {
	hook := t.Data["webhook_url"]
	rebased, err := providers.Rebase(hook, t.Settings.String("api_base_url"))
	if err != nil || hook == "" {
		return "", errNotConfigured()
	}
	if !reply {
		return rebased, nil
	}
	// Appended rather than re-encoded, so the key and token reach Google
	// byte for byte as the admin pasted them.
	if strings.Contains(rebased, "?") {
		return rebased + "&messageReplyOption=" + replyOption, nil
	}
	return rebased + "?messageReplyOption=" + replyOption, nil
}

// check classifies Google's reply; nil means the message was created.
func check(r *providers.Response) error {
	if r.Status/100 == 2 {
		return nil
	}
	var reply struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				Type       string `json:"@type"`
				RetryDelay string `json:"retryDelay"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &reply) // a body that is not Google JSON has no status
	err := providers.CheckStatus(r, "Google Chat", providers.SafeCode(reply.Error.Status), providers.StatusKeys{
		Unauthorized: KeyInvalidWebhook, Forbidden: KeyInvalidWebhook, NotFound: KeySpaceNotFound,
	})
	var pe *providers.Error
	if errors.As(err, &pe) && pe.RateLimited && r.Header.Get("Retry-After") == "" {
		for _, d := range reply.Error.Details {
			if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
				if delay, perr := time.ParseDuration(d.RetryDelay); perr == nil && delay > 0 {
					pe.RetryAfter = delay
				}
			}
		}
	}
	return err
}
