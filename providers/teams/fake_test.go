package teams_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeConnector is a fake Office 365 connector webhook. It answers as the
// connector does: 200 with the body "1" when Teams took the card, Teams'
// own failures wrapped in a text ("Webhook message delivery failed with
// error: Microsoft Teams endpoint returned HTTP error 401 …") behind a 200,
// 410 Gone for a removed connector, and 400 "Invalid webhook URL" for a URL
// it does not know. Answering a 429 with Retry-After is the documented
// connector throttling; the Retry-After value is an assumption [R].
type fakeConnector struct {
	*providertest.Server
}

// The webhook's ids; the URL is the only credential, so they are secrets.
const (
	fakeGroup = "0a1b2c3d-1111-2222-3333-444455556666@4e5f6a7b-aaaa-bbbb-cccc-ddddeeeeffff"
	fakeHook  = "8c9d0e1fSeCrEtHoOk"
	fakeOwner = "2a3b4c5d-7777-8888-9999-000011112222"
	fakePath  = "/webhookb2/" + fakeGroup + "/IncomingWebhook/" + fakeHook + "/" + fakeOwner
	fakeURL   = "https://contoso.webhook.office.com" + fakePath
)

// wrappedError is the text a connector answers when Teams refused a card.
func wrappedError(status string) string {
	return "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error " + status +
		" with ContextId tcid=0,server=msgapi-production-weu-azsc1-1-42,cv=AbCd1234.0.."
}

func newFakeConnector(t *testing.T) *fakeConnector {
	t.Helper()
	f := &fakeConnector{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhookb2/{group}/IncomingWebhook/{hook}/{owner}", f.post)
	f.Server = providertest.NewServer(t, mux)
	return f
}

func (f *fakeConnector) post(w http.ResponseWriter, r *http.Request) {
	// The connector answers text, naming the charset.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		providertest.WriteText(w, http.StatusTooManyRequests, wrappedError("429"))
		return
	case providertest.FailUnauthorized:
		providertest.WriteText(w, http.StatusOK, wrappedError("401"))
		return
	case providertest.FailForbidden:
		providertest.WriteText(w, http.StatusOK, wrappedError("403"))
		return
	case providertest.FailChannelNotFound:
		providertest.WriteText(w, http.StatusGone, "")
		return
	case providertest.FailServer:
		providertest.WriteText(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if r.PathValue("group") != fakeGroup || r.PathValue("hook") != fakeHook || r.PathValue("owner") != fakeOwner {
		providertest.WriteText(w, http.StatusBadRequest, "Invalid webhook URL")
		return
	}
	var card struct {
		Type    string `json:"@type"`
		Summary string `json:"summary"`
		Text    string `json:"text"`
	}
	if json.NewDecoder(r.Body).Decode(&card) != nil {
		providertest.WriteText(w, http.StatusBadRequest, "Bad payload received by generic incoming webhook.")
		return
	}
	if card.Summary == "" && card.Text == "" {
		providertest.WriteText(w, http.StatusBadRequest, "Summary or Text is required.")
		return
	}
	providertest.WriteText(w, http.StatusOK, "1")
}
