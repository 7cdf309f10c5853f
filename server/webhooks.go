package server

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/chatsidecar/chatsidecar/delivery"
	"github.com/chatsidecar/chatsidecar/discourse"
)

// MaxWebhookBodyBytes caps a Discourse webhook body. Post payloads carry
// the raw and cooked text, which Discourse limits to 32,000 characters by
// default (max_post_length); 2 MiB leaves room for raised limits and
// multi-byte text.
const MaxWebhookBodyBytes = 2 << 20

// WebhookIntake is what the Discourse webhook receiver hands events to;
// *delivery.Intake implements it.
type WebhookIntake interface {
	Accept(ctx context.Context, event, instance string, body []byte) (delivery.Outcome, error)
}

var (
	errBadSignature = &httpError{status: http.StatusUnauthorized,
		message: "missing or invalid X-Discourse-Event-Signature", code: "UNAUTHENTICATED"}
	errNoIntake = &httpError{status: http.StatusServiceUnavailable,
		message: "the webhook receiver is not running", code: "INTERNAL"}
)

// serveDiscourseWebhook receives Discourse webhooks. With a secret
// configured, the HMAC over the raw body must match before anything is
// parsed or stored. The body is JSON whatever the Content-Type says
// (Discourse only changes the header). The answer comes after the event
// and its deliveries are committed, so a 2xx means it will be delivered.
func (s *Server) serveDiscourseWebhook(w http.ResponseWriter, r *http.Request) error {
	if s.intake == nil {
		return errNoIntake
	}
	if r.ContentLength > MaxWebhookBodyBytes {
		return errBodyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return &httpError{status: errBadBody.status, message: errBadBody.message, code: errBadBody.code, cause: err}
	}
	if secret := s.cfg.DiscourseWebhookSecret; secret != "" &&
		!discourse.VerifySignature(secret, body, r.Header.Get(discourse.SignatureHeader)) {
		s.log.WarnContext(r.Context(), "rejected a Discourse webhook with a bad signature",
			"event", r.Header.Get(discourse.EventHeader), "remote", r.RemoteAddr)
		return errBadSignature
	}
	out, err := s.intake.Accept(r.Context(), r.Header.Get(discourse.EventHeader),
		r.Header.Get(discourse.InstanceHeader), body)
	if err != nil {
		var pe *discourse.PayloadError
		if errors.As(err, &pe) {
			return &httpError{status: http.StatusBadRequest, message: pe.Error(), code: "BAD_USER_INPUT", cause: err}
		}
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
