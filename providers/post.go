package providers

// Two request builders on top of transport.go's, for what every
// provider's transport otherwise spells out: PostJSON is the whole "post
// this payload to the URL the admin entered" of an incoming webhook, and
// NewRequest covers the calls NewJSONRequest does not (another method, a
// form body, no body).

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
)

// PostJSON posts payload, encoded by EncodeJSON, to rawURL with client and
// returns the reply for the caller to classify, as Do does. apiBase is the
// api_base_url setting: when set, it replaces rawURL's origin (Rebase).
//
// key is the provider's error key for a configuration problem: an empty
// rawURL, an apiBase that is not a URL or a rawURL that is not an http(s)
// URL is a permanent error with key, wrapping ErrNotConfigured. A payload
// that does not encode is permanent without a key. No message names the
// URL, which is a secret for most webhooks.
func PostJSON(ctx context.Context, client *http.Client, rawURL, apiBase string, payload any, key string) (*Response, error) {
	if rawURL == "" {
		return nil, Permanent(key, ErrNotConfigured, "no URL is configured")
	}
	endpoint, err := Rebase(rawURL, apiBase)
	if err != nil {
		return nil, withKey(err, key)
	}
	body, err := EncodeJSON(payload)
	if err != nil {
		return nil, Permanent("", nil, "encoding the request body: %v", err)
	}
	req, err := NewJSONRequest(ctx, endpoint, body)
	if err != nil {
		return nil, withKey(err, key)
	}
	return Do(client, req)
}

// PostWebhook posts payload as PostJSON does, and classifies the reply
// with check (nil for a posted message) for the incoming webhooks that
// return no message id: a posted message gets an empty Receipt, which
// rules out threads and edits.
func PostWebhook(ctx context.Context, client *http.Client, rawURL, apiBase string, payload any, key string, check func(*Response) error) (*Receipt, error) {
	resp, err := PostJSON(ctx, client, rawURL, apiBase, payload, key)
	if err != nil {
		return nil, err
	}
	if err := check(resp); err != nil {
		return nil, err
	}
	return &Receipt{}, nil
}

// NewRequest returns a request of method to rawURL bound to ctx, with the
// sidecar's User-Agent. body nil sends no body and no Content-Type;
// otherwise contentType names what body is. A URL that is not an http(s)
// URL, or a method Go refuses, is a permanent error wrapping
// ErrNotConfigured whose message leaves the URL out: it may hold a token.
// NewJSONRequest is this with POST and application/json.
func NewRequest(ctx context.Context, method, rawURL string, body []byte, contentType string) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Permanent: true, Err: ErrNotConfigured, Message: "invalid request URL"}
	}
	// A reader even for a nil body, so an empty request is sent exactly
	// as before (http.NoBody, a known length of 0).
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Permanent: true, Err: ErrNotConfigured, Message: "invalid request URL"}
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", UserAgent)
	return req, nil
}

// withKey returns err, an *Error from Rebase or NewJSONRequest, with key.
func withKey(err error, key string) error {
	var e *Error
	if !errors.As(err, &e) {
		return Permanent(key, ErrNotConfigured, "invalid request URL")
	}
	keyed := *e
	keyed.Key = key
	return &keyed
}
