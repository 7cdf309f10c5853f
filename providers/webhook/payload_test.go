package webhook

import (
	"testing"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// TestPayloadGoldenCases pins the payload for the cases every provider
// pins; TestPayloadGolden pins one as it goes over the wire, signed.
func TestPayloadGoldenCases(t *testing.T) {
	t.Parallel()
	providertest.RunGolden(t, providertest.GoldenCases(), func(c providertest.GoldenCase) any {
		return newPayload(7, c.Notification)
	})
}
