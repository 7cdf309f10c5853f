package discoursetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
)

func TestPostPayloadParses(t *testing.T) {
	t.Parallel()
	fake := discoursetest.New(t)
	cat := fake.AddCategory(discourse.Category{Name: "Announcements"})
	topic := fake.AddTopic(discourse.Topic{Title: "Release notes for May", CategoryID: &cat.ID, Visible: true})
	p := fake.AddPost(discourse.Post{TopicID: topic.ID, UserID: 3, Username: "alice", Raw: "We shipped it.",
		CreatedAt: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)})

	body := discoursetest.PostPayload(p)
	var shape map[string]map[string]any
	require.NoError(t, json.Unmarshal(body, &shape))
	post := shape["post"]
	for _, key := range []string{"topic_archetype", "category_id", "post_url", "category_slug", "topic_title", "topic_posts_count"} {
		require.Contains(t, post, key)
	}
	require.Nil(t, post["name"], "an empty name is null, as Discourse sends it")
	require.NotContains(t, post, "tags", "post webhooks carry no tags")

	parsed, err := discourse.ParseWebhook(body)
	require.NoError(t, err)
	require.Equal(t, p, *parsed.Post)
	require.Equal(t, "announcements", parsed.Post.CategorySlug)
	require.Equal(t, "/t/release-notes-for-may/1/1", parsed.Post.PostURL)
}

func TestTopicPayloadParses(t *testing.T) {
	t.Parallel()
	cat := int64(4)
	topic := discourse.Topic{
		ID: 8, Title: "Tags both ways", FancyTitle: "Tags both ways", Slug: "tags-both-ways",
		Archetype: discourse.ArchetypeRegular, CategoryID: &cat, Tags: discourse.Tags{"a", "b"}, Visible: true,
		PostsCount: 1, HighestPostNumber: 1, CreatedAt: time.Date(2026, 1, 2, 12, 40, 25, 0, time.UTC),
		CreatedBy: &discourse.BasicUser{ID: 1, Username: "user1"},
		// Webhooks drop both of these.
		AllowedGroups: []string{"staff"}, PostStreamFirstPostID: 12,
	}
	want := topic
	want.AllowedGroups, want.PostStreamFirstPostID = nil, 0

	for _, objectTags := range []bool{false, true} {
		body := discoursetest.TopicPayload(topic, objectTags)
		var shape map[string]map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &shape))
		require.NotContains(t, shape["topic"], "details")
		require.NotContains(t, shape["topic"], "post_stream")
		require.Contains(t, shape["topic"], "last_poster")
		if objectTags {
			require.JSONEq(t, `[{"id":1,"name":"a","slug":"a"},{"id":2,"name":"b","slug":"b"}]`, string(shape["topic"]["tags"]))
		} else {
			require.JSONEq(t, `["a","b"]`, string(shape["topic"]["tags"]))
		}
		parsed, err := discourse.ParseWebhook(body)
		require.NoError(t, err)
		require.Equal(t, want, *parsed.Topic)
	}
}

func TestSignedRequest(t *testing.T) {
	t.Parallel()
	type seen struct {
		header http.Header
		body   []byte
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), body}
	}))
	t.Cleanup(srv.Close)

	body := []byte(`{"ping":"OK"}`)
	req := discoursetest.SignedRequest(srv.URL+"/webhooks/discourse", "my_lovely_secret_for_web_hook", "ping", body)
	resp, err := srv.Client().Do(req.WithContext(t.Context()))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	s := <-got
	require.Equal(t, body, s.body)
	require.Equal(t, "ping", s.header.Get(discourse.EventHeader))
	require.Equal(t, "ping", s.header.Get(discourse.EventTypeHeader))
	require.Equal(t, discoursetest.Instance, s.header.Get(discourse.InstanceHeader))
	require.NotEmpty(t, s.header.Get(discourse.EventIDHeader))
	require.Equal(t, "application/json", s.header.Get("Content-Type"))
	require.Equal(t, "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", s.header.Get(discourse.SignatureHeader))
	require.True(t, discourse.VerifySignature("my_lovely_secret_for_web_hook", s.body, s.header.Get(discourse.SignatureHeader)))

	unsigned := discoursetest.SignedRequest(srv.URL, "", "post_created", []byte(`{"post":{}}`))
	require.Empty(t, unsigned.Header.Get(discourse.SignatureHeader))
	require.Equal(t, "post", unsigned.Header.Get(discourse.EventTypeHeader))
}

func TestEventType(t *testing.T) {
	t.Parallel()
	for event, want := range map[string]string{
		"ping": "ping", "post_created": "post", "post_edited": "post", "topic_created": "topic",
		"topic_closed_status_updated": "topic", "post_liked": "like", "user_badge_granted": "user_badge",
		"user_created": "user", "category_created": "category", "tag_created": "tag",
	} {
		require.Equal(t, want, discoursetest.EventType(event), event)
	}
}

func TestFakeFailures(t *testing.T) {
	t.Parallel()
	fake := discoursetest.New(t)
	c := fake.Client()
	fake.Fail(2, http.StatusForbidden)
	for range 2 {
		_, err := c.Site(t.Context())
		require.ErrorIs(t, err, discourse.ErrForbidden)
	}
	_, err := c.Site(t.Context())
	require.NoError(t, err, "only the next two requests failed")
	require.Equal(t, 3, fake.Requests("/site.json"))

	_, err = c.Topic(t.Context(), 1)
	require.ErrorIs(t, err, discourse.ErrNotFound, "unknown topics are 404")
}
