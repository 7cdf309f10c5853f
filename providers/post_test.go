package providers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// recorder is a server that records the one request it gets.
type recorder struct {
	srv *httptest.Server
	got chan *http.Request
	// body is the recorded request's body, read in the handler.
	body chan string
}

func newRecorder(t *testing.T, status int, reply string) *recorder {
	t.Helper()
	r := &recorder{got: make(chan *http.Request, 1), body: make(chan string, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.got <- req
		r.body <- string(b)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func TestPostJSON(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusAccepted, `{"id":"1"}`)
	resp, err := providers.PostJSON(t.Context(), providers.NewHTTPClient(),
		"https://hooks.example.com/services/secret?x=1", rec.srv.URL, map[string]string{"text": "a < b & c"}, "k.not_configured")
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.Status)
	require.JSONEq(t, `{"id":"1"}`, string(resp.Body))

	req := <-rec.got
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/services/secret", req.URL.Path, "api_base_url replaces the origin only")
	require.Equal(t, "x=1", req.URL.RawQuery)
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	require.Equal(t, `{"text":"a < b & c"}`, <-rec.body, "encoded as EncodeJSON does")
}

func TestPostJSONErrors(t *testing.T) {
	t.Parallel()
	const key = "k.not_configured"
	tests := []struct {
		name, url, base string
		payload         any
		key             string
		sentinel        error
	}{
		{"empty URL", "", "http://127.0.0.1:1", nil, key, providers.ErrNotConfigured},
		{"bad api_base_url", "https://h.example/secret", "not a url", nil, key, providers.ErrNotConfigured},
		{"not http", "ftp://h.example/secret", "", nil, key, providers.ErrNotConfigured},
		{"no host", "https:///secret", "", nil, key, providers.ErrNotConfigured},
		{"payload does not encode", "https://h.example/secret", "", make(chan int), "chat_integration.channel_exception", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := providers.PostJSON(t.Context(), providers.NewHTTPClient(), tc.url, tc.base, tc.payload, key)
			require.Nil(t, r)
			permanent, _, _ := providers.Classify(err)
			require.True(t, permanent, "%v", err)
			require.Equal(t, tc.key, providers.ErrorKey(err))
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestNewRequest(t *testing.T) {
	t.Parallel()
	req, err := providers.NewRequest(t.Context(), http.MethodDelete, "https://h.example/api/x", nil, "application/json")
	require.NoError(t, err)
	require.Equal(t, http.MethodDelete, req.Method)
	require.Empty(t, req.Header.Get("Content-Type"), "no body, no Content-Type")
	require.Equal(t, providers.UserAgent, req.Header.Get("User-Agent"))
	require.Zero(t, req.ContentLength)

	req, err = providers.NewRequest(t.Context(), http.MethodPut, "https://h.example/api/x", []byte("a=1"), "application/x-www-form-urlencoded")
	require.NoError(t, err)
	require.Equal(t, http.MethodPut, req.Method)
	require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.Equal(t, "a=1", string(body))

	_, err = providers.NewRequest(t.Context(), http.MethodGet, "mailto:secret@example.org", nil, "")
	require.ErrorIs(t, err, providers.ErrNotConfigured)
	require.NotContains(t, err.Error(), "secret")
}

func TestPostWebhook(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusOK, "ok")
	checked := 0
	check := func(r *providers.Response) error {
		checked++
		if string(r.Body) != "ok" {
			return providers.Permanent("k.rejected", nil, "rejected")
		}
		return nil
	}
	r, err := providers.PostWebhook(t.Context(), providers.NewHTTPClient(), rec.srv.URL+"/hook", "", map[string]string{"text": "hi"}, "k.not_configured", check)
	require.NoError(t, err)
	require.Equal(t, &providers.Receipt{}, r, "a webhook returns no message id")
	require.Equal(t, 1, checked)

	rec = newRecorder(t, http.StatusOK, "no")
	r, err = providers.PostWebhook(t.Context(), providers.NewHTTPClient(), rec.srv.URL+"/hook", "", nil, "k.not_configured", check)
	require.Nil(t, r)
	require.Equal(t, "k.rejected", providers.ErrorKey(err))

	r, err = providers.PostWebhook(t.Context(), providers.NewHTTPClient(), "", "", nil, "k.not_configured", check)
	require.Nil(t, r)
	require.Equal(t, "k.not_configured", providers.ErrorKey(err))
	require.Equal(t, 2, checked, "no reply, nothing to check")
}
