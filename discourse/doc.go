// Package discourse talks to the Discourse forum the sidecar runs beside.
//
// It holds three things that belong together because they all speak
// Discourse's JSON:
//
//   - the payload types and ParseWebhook/VerifySignature for the webhooks
//     Discourse sends (external-apis §A), which carry no tags, no category
//     parents and no PM groups;
//   - a small REST client (§B) that fetches what the webhooks leave out and
//     creates transcript topics, classifying every failure into an error
//     value (ErrNotFound, ErrForbidden, *APIError, *RateLimitError) and never
//     retrying or sleeping itself: the delivery queue decides when to try
//     again;
//   - a Cache in front of the client, so a burst of posts in one topic costs
//     one topic fetch.
//
// discoursetest holds an httptest fake of the same endpoints and builders
// for webhook requests, so no test needs a live forum.
package discourse
