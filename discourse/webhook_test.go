package discourse

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	// The vector Discourse's own spec asserts (emit_web_hook_event_spec.rb).
	const (
		secret = "my_lovely_secret_for_web_hook"
		good   = "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6"
	)
	body := []byte(`{"ping":"OK"}`)
	require.Equal(t, good, Sign(secret, body))

	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"good", secret, body, good, true},
		{"wrong secret", "another_secret_value", body, good, false},
		{"body changed", secret, []byte(`{"ping":"OK"} `), good, false},
		{"wrong digest", secret, body, "sha256=" + strings.Repeat("0", 64), false},
		{"missing", secret, body, "", false},
		{"uppercase hex", secret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), false},
		{"uppercase prefix", secret, body, "SHA256=" + strings.TrimPrefix(good, "sha256="), false},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), false},
		{"other algorithm", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"not hex", secret, body, "sha256=" + strings.Repeat("z", 64), false},
		{"trailing space", secret, body, good + " ", false},
		{"empty secret fails closed", "", body, Sign("", body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, VerifySignature(tt.secret, tt.body, tt.header))
		})
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		check   func(t *testing.T, p *WebhookPayload)
		wantErr string // substring of the *PayloadError message
	}{
		{name: "post", body: `{"post":` + capturedPostCreated + `}`, check: func(t *testing.T, p *WebhookPayload) {
			require.NotNil(t, p.Post)
			require.Nil(t, p.Topic)
			require.False(t, p.Ping)
			require.Empty(t, p.Other)
			require.Equal(t, int64(12), p.Post.ID)
			require.Equal(t, int64(10), p.Post.TopicID)
			require.Equal(t, ArchetypeRegular, p.Post.TopicArchetype)
		}},
		{name: "topic", body: `{"topic":` + capturedTopicCreated + `}`, check: func(t *testing.T, p *WebhookPayload) {
			require.NotNil(t, p.Topic)
			require.Nil(t, p.Post)
			require.Equal(t, int64(8), p.Topic.ID)
			require.Equal(t, "user1", p.Topic.CreatedBy.Username)
		}},
		{name: "topic with object tags", body: `{"topic":{"id":3,"tags":[{"id":1,"name":"go","slug":"go"}]}}`, check: func(t *testing.T, p *WebhookPayload) {
			require.Equal(t, Tags{"go"}, p.Topic.Tags)
		}},
		{name: "ping", body: `{"ping":"OK"}`, check: func(t *testing.T, p *WebhookPayload) {
			require.Equal(t, &WebhookPayload{Ping: true}, p)
		}},
		{name: "other key", body: `{"tag":{"id":29,"name":"seata","topic_count":0,"staff":false,"description":null}}`, check: func(t *testing.T, p *WebhookPayload) {
			require.Equal(t, &WebhookPayload{Other: "tag"}, p)
		}},
		{name: "other keys pick the first sorted", body: `{"user":{},"like":{}}`, check: func(t *testing.T, p *WebhookPayload) {
			require.Equal(t, "like", p.Other)
		}},
		{name: "malformed", body: `{"post":{"id":1,`, wantErr: "not a JSON object"},
		{name: "empty body", body: ``, wantErr: "not a JSON object"},
		{name: "array", body: `[1]`, wantErr: "not a JSON object"},
		{name: "form encoded", body: `payload=%7B%7D`, wantErr: "not a JSON object"},
		{name: "empty object", body: `{}`, wantErr: "no top-level key"},
		{name: "null", body: `null`, wantErr: "no top-level key"},
		{name: "post without id", body: `{"post":{"topic_id":10}}`, wantErr: "post needs id and topic_id"},
		{name: "post without topic_id", body: `{"post":{"id":12}}`, wantErr: "post needs id and topic_id"},
		{name: "post null", body: `{"post":null}`, wantErr: "post is null"},
		{name: "post wrong type", body: `{"post":{"id":"twelve","topic_id":1}}`, wantErr: "post does not decode"},
		{name: "topic without id", body: `{"topic":{"title":"x"}}`, wantErr: "topic needs an id"},
		{name: "topic bad tags", body: `{"topic":{"id":1,"tags":[5]}}`, wantErr: "topic does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseWebhook([]byte(tt.body))
			if tt.wantErr != "" {
				require.Nil(t, p)
				var pe *PayloadError
				require.True(t, errors.As(err, &pe), "want *PayloadError, got %T %v", err, err)
				require.Contains(t, pe.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}
