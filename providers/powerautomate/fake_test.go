package powerautomate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// fakeWorkflow is a fake Teams Workflows HTTP trigger (a Logic Apps
// request trigger). It answers as the trigger does: 202 Accepted with an
// empty body and an x-ms-workflow-run-id header once a run is queued, and
// Azure JSON errors {"error":{"code","message"}} otherwise. The 401 code
// for a missing signature is seen in the wild; the codes of the other
// failures are assumptions [R].
type fakeWorkflow struct {
	*providertest.Server
}

// The workflow id and its signature; the sig is the URL's credential.
const (
	fakeWorkflowID = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
	fakeSig        = "SeCrEtSiG_AbCdEfGhIjKlMnOp"
	fakePath       = "/workflows/" + fakeWorkflowID + "/triggers/manual/paths/invoke"
	fakeURL        = "https://prod-01.westeurope.logic.azure.com:443" + fakePath +
		"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + fakeSig
)

func newFakeWorkflow(t *testing.T) *fakeWorkflow {
	t.Helper()
	f := &fakeWorkflow{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /workflows/{id}/triggers/manual/paths/invoke", f.invoke)
	f.Server = providertest.NewServer(t, mux)
	return f
}

// azureError writes Azure's error JSON.
func azureError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	providertest.WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func (f *fakeWorkflow) invoke(w http.ResponseWriter, r *http.Request) {
	switch f.Failure() {
	case providertest.FailRateLimited:
		w.Header().Set("Retry-After", "7")
		azureError(w, http.StatusTooManyRequests, "WorkflowRequestsThrottled",
			"The workflow '"+fakeWorkflowID+"' has been throttled. Retry the request after some time.")
		return
	case providertest.FailUnauthorized:
		azureError(w, http.StatusUnauthorized, "DirectApiInvalidAuthorizationSignature",
			"The provided request has an invalid signature: sig="+r.URL.Query().Get("sig"))
		return
	case providertest.FailForbidden:
		azureError(w, http.StatusForbidden, "AuthorizationFailed",
			"The client is not allowed to invoke the workflow '"+fakeWorkflowID+"'.")
		return
	case providertest.FailChannelNotFound:
		azureError(w, http.StatusNotFound, "WorkflowNotFound", "The workflow '"+fakeWorkflowID+"' could not be found.")
		return
	case providertest.FailServer:
		azureError(w, http.StatusInternalServerError, "InternalServerError", "Encountered internal server error.")
		return
	}
	switch sig := r.URL.Query().Get("sig"); {
	case sig == "":
		azureError(w, http.StatusUnauthorized, "DirectApiAuthorizationRequired", "The request must be authenticated only by Shared Access scheme.")
		return
	case sig != fakeSig || r.PathValue("id") != fakeWorkflowID:
		azureError(w, http.StatusUnauthorized, "DirectApiInvalidAuthorizationSignature", "The provided request has an invalid signature.")
		return
	}
	var body struct {
		Type string `json:"type"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		azureError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid and could not be deserialized.")
		return
	}
	w.Header().Set("x-ms-workflow-run-id", "08584712345678901234567890123CU01")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, "")
}
