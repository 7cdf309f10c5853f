package discoursetest

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/chatsidecar/chatsidecar/discourse"
)

// Instance is the X-Discourse-Instance header SignedRequest sends.
const Instance = "https://forum.example.org"

// PostPayload returns a post_* webhook body for p, shaped like the
// captured 2025.12 post_created (external-apis §A.3): the post fields
// plus the serializer's extras (topic_posts_count, display_username,
// staff flags…), an empty name as null, and no tags, since post webhooks
// carry none.
func PostPayload(p discourse.Post) []byte {
	obj := mustObject(p)
	obj["name"] = nullIfEmpty(p.Name)
	obj["display_username"] = nullIfEmpty(p.Name)
	obj["action_code"] = nullIfEmpty(p.ActionCode)
	for k, v := range map[string]any{
		"posts_count": p.PostNumber, "reply_count": 0, "reply_to_post_number": nil, "quote_count": 0,
		"incoming_link_count": 0, "reads": 0, "score": 0, "primary_group_name": nil, "flair_name": nil,
		"flair_group_id": nil, "user_title": nil, "bookmarked": false, "moderator": false, "admin": false,
		"staff": false, "trust_level": 1, "user_deleted": false, "edit_reason": nil, "wiki": false,
		"reviewable_id": nil, "reviewable_score_count": 0, "reviewable_score_pending_count": 0,
		"topic_posts_count": p.PostNumber, "topic_filtered_posts_count": p.PostNumber,
	} {
		obj[k] = v
	}
	return mustEncode(map[string]any{"post": obj})
}

// TopicPayload returns a topic_* webhook body for t, shaped like the
// captured topic_created (§A.3): no details or post_stream (so no PM
// groups and no first post id), created_by and last_poster at the top
// level, and tags as names or, with objectTags, as {"id","name","slug"}
// objects with ids numbered in order.
func TopicPayload(t discourse.Topic, objectTags bool) []byte {
	obj := mustObject(t)
	delete(obj, "details")
	delete(obj, "post_stream")
	if objectTags {
		tags := make([]map[string]any, 0, len(t.Tags))
		for i, name := range t.Tags {
			tags = append(tags, map[string]any{"id": i + 1, "name": name, "slug": name})
		}
		obj["tags"] = tags
	}
	for k, v := range map[string]any{
		"tags_descriptions": map[string]any{}, "views": 0, "reply_count": max(t.PostsCount-1, 0),
		"like_count": 0, "closed": false, "archived": false, "deleted_at": nil, "pinned": false,
		"pinned_globally": false, "featured_link": nil, "has_deleted": false, "thumbnails": nil,
		"participant_count": 1, "last_poster": t.CreatedBy,
	} {
		obj[k] = v
	}
	return mustEncode(map[string]any{"topic": obj})
}

// SignedRequest builds the request Discourse would send to url for event
// (a name like "post_created"), with body as is: X-Discourse-Event, the
// event type (the name's first word; "ping" for ping, "like" for
// post_liked), an X-Discourse-Event-Id derived from the body (so a
// resend looks like an admin redelivery), X-Discourse-Instance,
// Content-Type application/json and, when secret is not empty, the
// signature. It can be sent with an http.Client or passed to a handler.
// It panics on a URL that does not parse, which is a bug in the test.
func SignedRequest(url, secret, event string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic("discoursetest: SignedRequest: " + err.Error())
	}
	h := fnv.New32a()
	h.Write(body)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discourse/2025.12.0-latest; +https://www.discourse.org/")
	req.Header.Set(discourse.EventHeader, event)
	req.Header.Set(discourse.EventTypeHeader, EventType(event))
	req.Header.Set(discourse.EventIDHeader, strconv.FormatUint(uint64(h.Sum32()), 10))
	req.Header.Set(discourse.InstanceHeader, Instance)
	if secret != "" {
		req.Header.Set(discourse.SignatureHeader, discourse.Sign(secret, body))
	}
	return req
}

// EventType returns the X-Discourse-Event-Type Discourse sends for an
// event name: the group the event belongs to.
func EventType(event string) string {
	switch event {
	case "ping":
		return "ping"
	case "post_liked":
		return "like"
	}
	for _, prefix := range []string{"user_badge_", "group_user_", "user_promoted", "chat_message_"} {
		if strings.HasPrefix(event, prefix) {
			return strings.TrimSuffix(prefix, "_")
		}
	}
	kind, _, _ := strings.Cut(event, "_")
	return kind
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mustObject and mustEncode panic only if a discourse type stops
// encoding, which is a bug the first test run would show.
func mustObject(v any) map[string]any {
	obj, err := toObject(v)
	if err != nil {
		panic("discoursetest: " + err.Error())
	}
	return obj
}

func mustEncode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("discoursetest: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
