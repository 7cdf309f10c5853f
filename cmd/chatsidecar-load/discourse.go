package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// webhookPath is the server's Discourse webhook endpoint.
const webhookPath = "/webhooks/discourse"

// discourseTime is how Discourse serialises timestamps in webhook bodies:
// UTC with milliseconds ("2026-01-02T13:58:49.606Z").
const discourseTime = "2006-01-02T15:04:05.000Z"

// event is one webhook of a run. Its ids are derived from the run's id
// base and the event's index, so the sink can map a delivery back to the
// moment its webhook was sent.
type event struct {
	index      int
	postID     int64
	topicID    int64
	eventID    int64 // X-Discourse-Event-Id
	runID      string
	categoryID int
	at         time.Time
}

// newEvent returns the index-th event of a run. Every event is the first
// post of its own topic: a WATCH rule matches it, and no two events of a
// run share a topic, so the server has no reason to merge them.
func newEvent(runID string, idBase int64, index, categoryID int, at time.Time) event {
	id := idBase + int64(index)
	return event{index: index, postID: id, topicID: id, eventID: id, runID: runID, categoryID: categoryID, at: at}
}

// discoursePost is the serialised post of a post_created webhook, with
// every field of the body captured from Discourse 2025.12 (external-apis
// §A.3) in the same order, including the nulls: a server that decodes
// more than it needs should meet a realistic document. Pointer fields are
// always nil and encode as null.
type discoursePost struct {
	ID                          int64   `json:"id"`
	Name                        *string `json:"name"`
	Username                    string  `json:"username"`
	AvatarTemplate              string  `json:"avatar_template"`
	CreatedAt                   string  `json:"created_at"`
	Cooked                      string  `json:"cooked"`
	PostNumber                  int     `json:"post_number"`
	PostType                    int     `json:"post_type"`
	PostsCount                  int     `json:"posts_count"`
	UpdatedAt                   string  `json:"updated_at"`
	ReplyCount                  int     `json:"reply_count"`
	ReplyToPostNumber           *int    `json:"reply_to_post_number"`
	QuoteCount                  int     `json:"quote_count"`
	IncomingLinkCount           int     `json:"incoming_link_count"`
	Reads                       int     `json:"reads"`
	Score                       float64 `json:"score"`
	TopicID                     int64   `json:"topic_id"`
	TopicSlug                   string  `json:"topic_slug"`
	TopicTitle                  string  `json:"topic_title"`
	CategoryID                  int     `json:"category_id"`
	DisplayUsername             *string `json:"display_username"`
	PrimaryGroupName            *string `json:"primary_group_name"`
	FlairName                   *string `json:"flair_name"`
	FlairGroupID                *int    `json:"flair_group_id"`
	Version                     int     `json:"version"`
	UserTitle                   *string `json:"user_title"`
	Bookmarked                  bool    `json:"bookmarked"`
	Raw                         string  `json:"raw"`
	Moderator                   bool    `json:"moderator"`
	Admin                       bool    `json:"admin"`
	Staff                       bool    `json:"staff"`
	UserID                      int64   `json:"user_id"`
	Hidden                      bool    `json:"hidden"`
	TrustLevel                  int     `json:"trust_level"`
	DeletedAt                   *string `json:"deleted_at"`
	UserDeleted                 bool    `json:"user_deleted"`
	EditReason                  *string `json:"edit_reason"`
	Wiki                        bool    `json:"wiki"`
	ReviewableID                *int64  `json:"reviewable_id"`
	ReviewableScoreCount        int     `json:"reviewable_score_count"`
	ReviewableScorePendingCount int     `json:"reviewable_score_pending_count"`
	PostURL                     string  `json:"post_url"`
	TopicPostsCount             int     `json:"topic_posts_count"`
	TopicFilteredPostsCount     int     `json:"topic_filtered_posts_count"`
	TopicArchetype              string  `json:"topic_archetype"`
	CategorySlug                string  `json:"category_slug"`
}

// newPost builds the post of e's post_created webhook: a regular
// (post_type 1), first version, first post of a regular topic written by
// an ordinary trust-level-1 user.
func newPost(e event) discoursePost {
	created := e.at.UTC().Format(discourseTime)
	slug := fmt.Sprintf("load-test-%s-event-%d", e.runID, e.index)
	text := fmt.Sprintf("Load test post %d of run %s.", e.index, e.runID)
	return discoursePost{
		ID:                      e.postID,
		Username:                "load_tester",
		AvatarTemplate:          "/letter_avatar_proxy/v4/letter/l/5daacb/{size}.png",
		CreatedAt:               created,
		Cooked:                  "<p>" + text + "</p>",
		PostNumber:              1,
		PostType:                1,
		PostsCount:              1,
		UpdatedAt:               created,
		TopicID:                 e.topicID,
		TopicSlug:               slug,
		TopicTitle:              fmt.Sprintf("Load test %s event %d", e.runID, e.index),
		CategoryID:              e.categoryID,
		Version:                 1,
		Raw:                     text,
		UserID:                  2,
		TrustLevel:              1,
		PostURL:                 fmt.Sprintf("/t/%s/%d/1", slug, e.topicID),
		TopicPostsCount:         1,
		TopicFilteredPostsCount: 1,
		TopicArchetype:          "regular",
		CategorySlug:            "category-" + strconv.Itoa(e.categoryID),
	}
}

// webhookBody is e's request body. Discourse keys the body by the event
// type ("post"), not by the event name.
func webhookBody(e event) ([]byte, error) {
	return json.Marshal(struct {
		Post discoursePost `json:"post"`
	}{newPost(e)})
}

// signature is the X-Discourse-Event-Signature of body: "sha256=" and the
// lowercase hex HMAC-SHA256 of the raw body keyed by the webhook secret.
func signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// newWebhookRequest returns the signed POST Discourse would send for e.
// Unlike Discourse it keeps the connection alive (no "Connection: close"),
// so the measurement is of the server rather than of TCP handshakes.
func newWebhookRequest(ctx context.Context, server, secret, instance string, e event, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+webhookPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discourse/chatsidecar-load; +https://www.discourse.org/")
	req.Header.Set("X-Discourse-Instance", instance)
	req.Header.Set("X-Discourse-Event-Id", strconv.FormatInt(e.eventID, 10))
	req.Header.Set("X-Discourse-Event-Type", "post")
	req.Header.Set("X-Discourse-Event", "post_created")
	req.Header.Set("X-Discourse-Event-Signature", signature(secret, body))
	return req, nil
}
