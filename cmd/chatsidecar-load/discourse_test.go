package main

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignatureMatchesDiscourse(t *testing.T) {
	// The vector asserted in Discourse's own emit_web_hook_event_spec.rb.
	got := signature("my_lovely_secret_for_web_hook", []byte(`{"ping":"OK"}`))
	require.Equal(t, "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", got)
	require.NotEqual(t, got, signature("another_secret_for_web_hook", []byte(`{"ping":"OK"}`)))
}

func TestNewEventDerivesIDsFromIndex(t *testing.T) {
	at := time.Date(2026, 1, 2, 13, 58, 49, 606_000_000, time.UTC)
	e := newEvent("abcd1234", 1_500_000_000, 41, 7, at)
	require.Equal(t, int64(1_500_000_041), e.postID)
	require.Equal(t, int64(1_500_000_041), e.topicID)
	require.Equal(t, int64(1_500_000_041), e.eventID)
	require.Equal(t, 41, e.index)
	require.Equal(t, 7, e.categoryID)
}

func TestWebhookBodyShape(t *testing.T) {
	at := time.Date(2026, 1, 2, 13, 58, 49, 606_000_000, time.FixedZone("CET", 3600))
	body, err := webhookBody(newEvent("abcd1234", 1_500_000_000, 41, 7, at))
	require.NoError(t, err)

	var doc map[string]map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Len(t, doc, 1, "the body is keyed by the event type only")
	p, ok := doc["post"]
	require.True(t, ok)

	want := map[string]any{
		"id":                   float64(1_500_000_041),
		"topic_id":             float64(1_500_000_041),
		"post_number":          float64(1),
		"post_type":            float64(1),
		"version":              float64(1),
		"category_id":          float64(7),
		"topic_archetype":      "regular",
		"username":             "load_tester",
		"created_at":           "2026-01-02T12:58:49.606Z",
		"updated_at":           "2026-01-02T12:58:49.606Z",
		"topic_title":          "Load test abcd1234 event 41",
		"topic_slug":           "load-test-abcd1234-event-41",
		"post_url":             "/t/load-test-abcd1234-event-41/1500000041/1",
		"raw":                  "Load test post 41 of run abcd1234.",
		"cooked":               "<p>Load test post 41 of run abcd1234.</p>",
		"avatar_template":      "/letter_avatar_proxy/v4/letter/l/5daacb/{size}.png",
		"reply_to_post_number": nil,
		"deleted_at":           nil,
		"hidden":               false,
		"user_deleted":         false,
		"topic_posts_count":    float64(1),
	}
	for k, v := range want {
		require.Contains(t, p, k)
		require.Equal(t, v, p[k], k)
	}
	// Every field of the captured Discourse payload is present.
	require.Len(t, p, 46)
}

func TestNewWebhookRequestHeaders(t *testing.T) {
	e := newEvent("abcd1234", 1_500_000_000, 3, 1, time.Now())
	body, err := webhookBody(e)
	require.NoError(t, err)
	req, err := newWebhookRequest(context.Background(), "http://sidecar:8080", "s3cret-s3cret", "https://forum.example.org", e, body)
	require.NoError(t, err)

	require.Equal(t, "POST", req.Method)
	require.Equal(t, "http://sidecar:8080/webhooks/discourse", req.URL.String())
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, "post_created", req.Header.Get("X-Discourse-Event"))
	require.Equal(t, "post", req.Header.Get("X-Discourse-Event-Type"))
	require.Equal(t, "1500000003", req.Header.Get("X-Discourse-Event-Id"))
	require.Equal(t, "https://forum.example.org", req.Header.Get("X-Discourse-Instance"))
	require.Regexp(t, `^sha256=[0-9a-f]{64}$`, req.Header.Get("X-Discourse-Event-Signature"))
	require.Equal(t, signature("s3cret-s3cret", body), req.Header.Get("X-Discourse-Event-Signature"))
	sent, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.Equal(t, body, sent, "the signed bytes are the sent bytes")
}
