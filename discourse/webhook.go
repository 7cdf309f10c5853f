package discourse

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Headers of a Discourse webhook delivery (external-apis §A.1).
const (
	// EventHeader carries the event name: topic_created, post_edited, ping…
	EventHeader = "X-Discourse-Event"
	// EventTypeHeader carries the event's group, which is also the body's
	// top-level key: topic, post, ping…
	EventTypeHeader = "X-Discourse-Event-Type"
	// EventIDHeader is the WebHookEvent row id. Discourse makes a new one
	// for every retry, so it is useless for deduplication.
	EventIDHeader = "X-Discourse-Event-Id"
	// InstanceHeader is the forum's base URL, without a trailing slash.
	InstanceHeader = "X-Discourse-Instance"
	// SignatureHeader is present only when the webhook has a secret.
	SignatureHeader = "X-Discourse-Event-Signature"
)

// WebhookPayload is a parsed webhook body. Exactly one of Post, Topic,
// Ping or Other is set, except that a (never observed) body with both a
// post and a topic fills both. The event name is not part of the body; the
// receiver reads it from EventHeader.
type WebhookPayload struct {
	Post  *Post
	Topic *Topic
	// Ping is true for the {"ping":"OK"} that Discourse's "Ping" button
	// sends.
	Ping bool
	// Other is the body's top-level key for event types the sidecar does
	// not read (user, tag, category…); the receiver acknowledges them.
	Other string
}

// PayloadError reports a webhook body the sidecar cannot use. The
// receiver answers it with a 4xx: Discourse does not retry those by
// default, and resending the same bytes would fail the same way.
type PayloadError struct {
	// Reason says what is wrong, in a sentence fragment.
	Reason string
	// Err is the underlying JSON error, if any.
	Err error
}

func (e *PayloadError) Error() string {
	if e.Err != nil {
		return "discourse: invalid webhook payload: " + e.Reason + ": " + e.Err.Error()
	}
	return "discourse: invalid webhook payload: " + e.Reason
}

func (e *PayloadError) Unwrap() error { return e.Err }

// ParseWebhook parses a webhook body. The body is JSON whatever the
// Content-Type header says (Discourse only changes the header). A post
// must have an id and a topic_id and a topic an id, because everything
// downstream (dedupe, topic lookup, thread keys) keys on them; anything
// else that is wrong is a *PayloadError too.
func ParseWebhook(body []byte) (*WebhookPayload, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, &PayloadError{Reason: "body is not a JSON object", Err: err}
	}
	if len(top) == 0 {
		return nil, &PayloadError{Reason: "body has no top-level key"}
	}
	p := &WebhookPayload{}
	if raw, ok := top["post"]; ok {
		if isNull(raw) {
			return nil, &PayloadError{Reason: "post is null"}
		}
		var post Post
		if err := json.Unmarshal(raw, &post); err != nil {
			return nil, &PayloadError{Reason: "post does not decode", Err: err}
		}
		if post.ID <= 0 || post.TopicID <= 0 {
			return nil, &PayloadError{Reason: fmt.Sprintf("post needs id and topic_id (got id %d, topic_id %d)", post.ID, post.TopicID)}
		}
		p.Post = &post
	}
	if raw, ok := top["topic"]; ok {
		if isNull(raw) {
			return nil, &PayloadError{Reason: "topic is null"}
		}
		var topic Topic
		if err := json.Unmarshal(raw, &topic); err != nil {
			return nil, &PayloadError{Reason: "topic does not decode", Err: err}
		}
		if topic.ID <= 0 {
			return nil, &PayloadError{Reason: fmt.Sprintf("topic needs an id (got %d)", topic.ID)}
		}
		p.Topic = &topic
	}
	if p.Post != nil || p.Topic != nil {
		return p, nil
	}
	if _, ok := top["ping"]; ok {
		p.Ping = true
		return p, nil
	}
	// Discourse sends one key; sorting makes the choice stable if a
	// plugin ever sends more.
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	p.Other = keys[0]
	return p, nil
}

// isNull reports whether raw is JSON null. It compares bytes: converting
// raw to a string would copy the whole post for the check.
func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// signaturePrefix starts every SignatureHeader value.
const signaturePrefix = "sha256="

// Sign returns the SignatureHeader value Discourse sends for body:
// "sha256=" and the lowercase hex HMAC-SHA256 of the raw body keyed by
// the webhook secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header is Sign(secret, body), compared
// in constant time. It is strict about the format Discourse emits: a
// missing prefix or uppercase hex is false, like any other mismatch. An
// empty secret is always false, so a receiver that lost its secret fails
// closed; a receiver without a secret should not call it.
func VerifySignature(secret string, body []byte, header string) bool {
	if secret == "" || !strings.HasPrefix(header, signaturePrefix) {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}
