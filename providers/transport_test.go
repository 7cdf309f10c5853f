package providers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"Fri, 01 May 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Friday, 01-May-26 12:01:00 GMT", time.Minute, true}, // RFC 850, still accepted
		{"Fri, 01 May 2026 11:00:00 GMT", 0, true},            // in the past: now
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			got, ok := providers.ParseRetryAfter(tc.value, now)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRetryAfterFallback(t *testing.T) {
	t.Parallel()
	require.Equal(t, 7*time.Second, providers.RetryAfter(http.Header{"Retry-After": {"7"}}, time.Minute))
	require.Equal(t, time.Minute, providers.RetryAfter(http.Header{}, time.Minute))
	require.Equal(t, time.Minute, providers.RetryAfter(http.Header{"Retry-After": {"later"}}, time.Minute))
	require.Zero(t, providers.RetryAfter(nil, 0))
}

func TestRebase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, base, want string
	}{
		{"https://hooks.slack.com/services/T/B/x", "", "https://hooks.slack.com/services/T/B/x"},
		{"https://hooks.slack.com/services/T/B/x", "http://127.0.0.1:8080", "http://127.0.0.1:8080/services/T/B/x"},
		{"https://hooks.slack.com/services/T/B/x", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/services/T/B/x"},
		{"https://hooks.slack.com/services/T/B/x", "https://proxy.example/slack/", "https://proxy.example/slack/services/T/B/x"},
		{"https://h.example/a%2Fb/c?token=x&y=1", "http://fake", "http://fake/a%2Fb/c?token=x&y=1"},
		{"https://h.example/p#frag", "http://fake", "http://fake/p"},
	}
	for _, tc := range tests {
		got, err := providers.Rebase(tc.raw, tc.base)
		require.NoError(t, err, tc.raw)
		require.Equal(t, tc.want, got)
	}

	_, err := providers.Rebase("https://h.example/secret-path", "not a url")
	require.ErrorIs(t, err, providers.ErrNotConfigured)
	require.NotContains(t, err.Error(), "secret-path")
}

func TestCheckStatus(t *testing.T) {
	t.Parallel()
	keys := providers.StatusKeys{Unauthorized: "k.unauthorized", Forbidden: "k.forbidden", NotFound: "k.not_found", Rejected: "k.rejected"}
	const generic = "chat_integration.channel_exception"
	tests := []struct {
		status    int
		key       string
		sentinel  error
		permanent bool
		limited   bool
	}{
		{200, "", nil, false, false},
		{204, "", nil, false, false},
		{301, "k.rejected", nil, true, false},
		{400, "k.rejected", nil, true, false},
		{401, "k.unauthorized", providers.ErrUnauthorized, true, false},
		{403, "k.forbidden", providers.ErrForbidden, true, false},
		{404, "k.not_found", providers.ErrChannelNotFound, true, false},
		{410, "k.not_found", providers.ErrChannelNotFound, true, false},
		{408, generic, nil, false, false},
		{413, "k.rejected", nil, true, false},
		{425, generic, nil, false, false},
		{429, generic, nil, false, true},
		{500, generic, nil, false, false},
		{503, generic, nil, false, false},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			r := &providers.Response{Status: tc.status, Header: http.Header{"Retry-After": {"7"}}, Body: []byte("secret body")}
			err := providers.CheckStatus(r, "Example", "some_code", keys)
			if tc.status < 300 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			permanent, limited, after := providers.Classify(err)
			require.Equal(t, tc.permanent, permanent)
			require.Equal(t, tc.limited, limited)
			if limited {
				require.Equal(t, 7*time.Second, after)
			}
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			var pe *providers.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.status, pe.Status)
			require.Contains(t, err.Error(), "some_code")
			require.NotContains(t, err.Error(), "secret body")
		})
	}
}

func TestCheckStatusEmptyKeysAreGeneric(t *testing.T) {
	t.Parallel()
	err := providers.CheckStatus(&providers.Response{Status: 401}, "Example", "", providers.StatusKeys{})
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	require.Equal(t, "chat_integration.channel_exception", providers.ErrorKey(err))
}

func TestSafeCode(t *testing.T) {
	t.Parallel()
	require.Equal(t, "channel_not_found", providers.SafeCode(" channel_not_found\n"))
	require.Equal(t, "M_FORBIDDEN", providers.SafeCode("M_FORBIDDEN"))
	require.Empty(t, providers.SafeCode(""))
	require.Empty(t, providers.SafeCode("bad token xoxb-123"))
	require.Empty(t, providers.SafeCode("https://hooks.slack.com/services/T/B/x"))
	require.Empty(t, providers.SafeCode("<html>"))
	require.Empty(t, providers.SafeCode(strings.Repeat("a", 65)))
}

func TestEncodeJSON(t *testing.T) {
	t.Parallel()
	got, err := providers.EncodeJSON(map[string]string{"text": "<a|b> & c"})
	require.NoError(t, err)
	require.Equal(t, `{"text":"<a|b> & c"}`, string(got))
}

func TestNewJSONRequest(t *testing.T) {
	t.Parallel()
	req, err := providers.NewJSONRequest(t.Context(), "https://example.com/hook?token=x", []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))

	for _, bad := range []string{"ftp://example.com/secret-token", "/relative/secret-token", "http://%zz/secret-token"} {
		_, err := providers.NewJSONRequest(t.Context(), bad, nil)
		require.ErrorIs(t, err, providers.ErrNotConfigured, bad)
		require.NotContains(t, err.Error(), "secret-token")
	}
}

func TestDoCapsBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 4*providers.MaxResponseBytes))
	}))
	t.Cleanup(srv.Close)
	req, err := providers.NewJSONRequest(t.Context(), srv.URL, nil)
	require.NoError(t, err)
	resp, err := providers.Do(providers.NewHTTPClient(), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Len(t, resp.Body, providers.MaxResponseBytes)
}

func TestDoErrorsHideTheURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook/SECRET-PATH?token=SECRET-QUERY"
	srv.Close() // nothing listens any more: the request fails to connect

	req, err := providers.NewJSONRequest(t.Context(), url, nil)
	require.NoError(t, err)
	_, err = providers.Do(providers.NewHTTPClient(), req)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SECRET")
	permanent, limited, _ := providers.Classify(err)
	require.False(t, permanent, "a failed connection is retried")
	require.False(t, limited)
}

func TestDoCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, err := providers.NewJSONRequest(ctx, srv.URL+"/SECRET", nil)
	require.NoError(t, err)
	_, err = providers.Do(providers.NewHTTPClient(), req)
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "SECRET")
}

func TestHTTPClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	followed := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { followed <- struct{}{} })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	c := providers.NewHTTPClient()
	require.Positive(t, c.Timeout, "production clients need a timeout")
	req, err := providers.NewJSONRequest(t.Context(), srv.URL+"/hook", []byte(`{}`))
	require.NoError(t, err)
	resp, err := providers.Do(c, req)
	require.NoError(t, err)
	require.Equal(t, http.StatusTemporaryRedirect, resp.Status)
	require.Empty(t, followed)
	require.Error(t, providers.CheckStatus(resp, "Example", "", providers.StatusKeys{}))
}

// A reply to a deleted root fails for good as it was asked; the engine,
// not Classify, answers it by posting outside the thread.
func TestClassifyThreadNotFound(t *testing.T) {
	for _, err := range []error{
		providers.ErrThreadNotFound,
		fmt.Errorf("send: %w", providers.ErrThreadNotFound),
		providers.Permanent("chat_integration.provider.x.errors.thread_not_found", providers.ErrThreadNotFound, "reply root unknown"),
	} {
		permanent, limited, _ := providers.Classify(err)
		require.True(t, permanent, err)
		require.False(t, limited, err)
	}
}
