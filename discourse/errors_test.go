package discourse

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimitErrorSources(t *testing.T) {
	t.Parallel()
	textBody := "Slow down, too many requests from this IP address.\nPlease retry again in 7 seconds.\nError code: ip_10_secs_limit.\n"
	jsonBody := `{"errors":["Please wait 30 seconds"],"error_type":"rate_limit","extras":{"wait_seconds":30,"time_left":"30 seconds"}}`
	tests := []struct {
		name     string
		header   http.Header
		body     string
		want     time.Duration
		wantCode string
	}{
		{"header wins", http.Header{"Retry-After": {"60"}}, jsonBody, 60 * time.Second, ""},
		{"json extras", http.Header{}, jsonBody, 30 * time.Second, ""},
		{"fractional extras", http.Header{}, `{"extras":{"wait_seconds":1.5}}`, 1500 * time.Millisecond, ""},
		{"text body", http.Header{"Content-Type": {"text/plain"}}, textBody, 7 * time.Second, "ip_10_secs_limit"},
		{"header code", http.Header{"Retry-After": {"3"}, "Discourse-Rate-Limit-Error-Code": {"user_api_key_limiter_60_secs"}},
			textBody, 3 * time.Second, "user_api_key_limiter_60_secs"},
		{"bad header falls through", http.Header{"Retry-After": {"soon"}}, jsonBody, 30 * time.Second, ""},
		{"zero header falls through", http.Header{"Retry-After": {"0"}}, textBody, 7 * time.Second, "ip_10_secs_limit"},
		{"nothing", http.Header{}, "", DefaultRetryAfter, ""},
		{"html page", http.Header{}, "<html>429</html>", DefaultRetryAfter, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := statusError(http.StatusTooManyRequests, tt.header, []byte(tt.body))
			var rl *RateLimitError
			require.True(t, errors.As(err, &rl))
			require.Equal(t, tt.want, rl.RetryAfter)
			require.Equal(t, tt.wantCode, rl.Code)
		})
	}
}

func TestStatusError(t *testing.T) {
	t.Parallel()
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      *APIError
		notFound  bool
		forbidden bool
	}{
		{name: "404", status: 404, header: jsonHeader,
			body: `{"errors":["The requested URL or resource could not be found."],"error_type":"not_found"}`,
			want: &APIError{Status: 404, Type: "not_found", Messages: []string{"The requested URL or resource could not be found."}}, notFound: true},
		{name: "403 invalid_access", status: 403, header: jsonHeader, body: `{"errors":["bad key"],"error_type":"invalid_access"}`,
			want: &APIError{Status: 403, Type: "invalid_access", Messages: []string{"bad key"}}, forbidden: true},
		{name: "403 without body", status: 403, header: http.Header{}, want: &APIError{Status: 403}, forbidden: true},
		{name: "422", status: 422, header: jsonHeader, body: `{"action":"create_post","errors":["Title is too short","Body is too short"]}`,
			want: &APIError{Status: 422, Messages: []string{"Title is too short", "Body is too short"}}},
		{name: "errors as a string", status: 400, header: jsonHeader, body: `{"errors":"param missing"}`,
			want: &APIError{Status: 400, Messages: []string{"param missing"}}},
		{name: "502 text", status: 502, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: "Bad Gateway\nmore",
			want: &APIError{Status: 502, Messages: []string{"Bad Gateway"}}},
		{name: "500 html is not quoted", status: 500, header: http.Header{"Content-Type": {"text/html"}}, body: "<h1>oops</h1>",
			want: &APIError{Status: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := statusError(tt.status, tt.header, []byte(tt.body))
			var ae *APIError
			require.True(t, errors.As(err, &ae))
			require.Equal(t, tt.want, ae)
			require.Equal(t, tt.notFound, errors.Is(err, ErrNotFound))
			require.Equal(t, tt.forbidden, errors.Is(err, ErrForbidden))
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	e := &APIError{Status: 422, Type: "record_invalid", Messages: []string{"a", "b"}}
	require.Equal(t, "HTTP 422 (record_invalid): a; b", e.Error())
	require.True(t, (&APIError{Status: 503}).Temporary())
	require.False(t, (&APIError{Status: 422}).Temporary())

	long := strings.Repeat("é", maxMessageLen)
	got := messages([]byte(`["` + long + `"]`))[0]
	require.LessOrEqual(t, len(got), maxMessageLen+len("…"))
	require.True(t, strings.HasSuffix(got, "…"))
	require.True(t, strings.HasPrefix(got, "é"))
}
