package webhook_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeReceiver is a webhook receiver at /discourse that wants the token
// in its query string, as many automation endpoints do. It answers 200
// with a JSON id, or the plain statuses a generic receiver uses.
type fakeReceiver struct {
	*providertest.Server
}

// Values the fake knows: the token in the channel's URL and the signing
// secret. Both are secrets that must never reach an error message.
const (
	fakeToken  = "AbCdEfSeCrEt99"
	fakeURL    = "https://hooks.example.com/discourse?token=" + fakeToken
	fakeSecret = "signing-secret-0123456789"
)

func newFakeReceiver(t *testing.T) *fakeReceiver {
	t.Helper()
	f := &fakeReceiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /discourse", f.receive)
	f.Server = providertest.NewServer(t, mux)
	return f
}

func (f *fakeReceiver) receive(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		providertest.WriteText(w, http.StatusTooManyRequests, "slow down")
		return
	case providertest.FailUnauthorized:
		providertest.WriteText(w, http.StatusUnauthorized, "bad token "+r.URL.Query().Get("token"))
		return
	case providertest.FailForbidden:
		providertest.WriteText(w, http.StatusForbidden, "forbidden")
		return
	case providertest.FailChannelNotFound:
		providertest.WriteText(w, http.StatusNotFound, "no such hook")
		return
	case providertest.FailServer:
		providertest.WriteText(w, http.StatusInternalServerError, "boom")
		return
	}
	if r.URL.Query().Get("token") != fakeToken {
		providertest.WriteText(w, http.StatusUnauthorized, "bad token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"id":"delivery-1","status":"queued"}`)
}
