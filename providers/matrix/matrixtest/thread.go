package matrixtest

import (
	"encoding/json"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// ThreadOf returns the thread root a recorded send replies into (its
// m.relates_to with rel_type m.thread), or "" for a message outside a
// thread: the conformance suite's Harness.ThreadOf for a Matrix sender.
func ThreadOf(r providertest.Request) string {
	var body struct {
		RelatesTo struct {
			RelType string `json:"rel_type"`
			EventID string `json:"event_id"`
		} `json:"m.relates_to"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if body.RelatesTo.RelType != "m.thread" {
		return ""
	}
	return body.RelatesTo.EventID
}
