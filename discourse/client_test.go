package discourse_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
)

type testBundle struct {
	fake   *discoursetest.Server
	client *discourse.Client
}

func setup(t *testing.T, opts ...discoursetest.Option) *testBundle {
	t.Helper()
	fake := discoursetest.New(t, opts...)
	return &testBundle{fake: fake, client: fake.Client()}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "forum.example.org", "ftp://forum.example.org", "https://", "https://h/?x=1", "https://h/#f", "://bad"} {
		_, err := discourse.New(discourse.Options{BaseURL: base})
		require.Error(t, err, base)
	}
	for _, base := range []string{"http://localhost:3000", "https://forum.example.org/", "https://example.org/forum"} {
		_, err := discourse.New(discourse.Options{BaseURL: base})
		require.NoError(t, err, base)
	}
}

func TestClientTopicTagEncodings(t *testing.T) {
	t.Parallel()
	for _, objectTags := range []bool{false, true} {
		t.Run(map[bool]string{false: "strings", true: "objects"}[objectTags], func(t *testing.T) {
			t.Parallel()
			b := setup(t, discoursetest.WithObjectTags(objectTags))
			cat := b.fake.AddCategory(discourse.Category{Name: "Support"})
			topic := b.fake.AddTopic(discourse.Topic{
				Title: "How do I configure it?", CategoryID: &cat.ID, Tags: discourse.Tags{"config", "help"},
				Visible: true, CreatedBy: &discourse.BasicUser{ID: 5, Username: "alice"},
			})
			first := b.fake.AddPost(discourse.Post{TopicID: topic.ID, Username: "alice", Raw: "first post body"})
			b.fake.AddPost(discourse.Post{TopicID: topic.ID, Username: "bob", Raw: "a reply"})

			got, err := b.client.Topic(t.Context(), topic.ID)
			require.NoError(t, err)
			require.Equal(t, discourse.Tags{"config", "help"}, got.Tags)
			require.Equal(t, "how-do-i-configure-it", got.Slug)
			require.Equal(t, cat.ID, *got.CategoryID)
			require.Equal(t, first.ID, got.PostStreamFirstPostID)
			require.Equal(t, 2, got.PostsCount)
			require.Equal(t, 2, got.HighestPostNumber)
			require.Equal(t, "alice", got.CreatedBy.Username, "from details.created_by")
			require.True(t, got.Visible)
			require.Nil(t, got.AllowedGroups, "not a PM")
		})
	}
}

func TestClientPrivateMessageGroups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.AddGroup(discourse.Group{Name: "moderators"})
	pm := b.fake.AddTopic(discourse.Topic{Title: "A private message", Archetype: discourse.ArchetypePrivateMessage,
		AllowedGroups: []string{"moderators"}})
	got, err := b.client.Topic(t.Context(), pm.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"moderators"}, got.AllowedGroups)
	require.Equal(t, discourse.ArchetypePrivateMessage, got.Archetype)
}

func TestClientPostAndLookups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	topic := b.fake.AddTopic(discourse.Topic{Title: "Lookups are tested here", Visible: true})
	p := b.fake.AddPost(discourse.Post{TopicID: topic.ID, Username: "alice", Raw: "**bold** words here",
		CreatedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)})
	b.fake.AddGroup(discourse.Group{Name: "support", FullName: "Support team", MentionableLevel: 99})
	b.fake.AddUser(discourse.User{Username: "alice", Name: "Alice", AvatarTemplate: "/user_avatar/f/alice/{size}/1.png"})

	got, err := b.client.Post(t.Context(), p.ID)
	require.NoError(t, err)
	require.Equal(t, p, *got)
	require.Equal(t, 1, got.PostNumber)
	require.Equal(t, "/t/lookups-are-tested-here/1/1", got.PostURL)

	g, err := b.client.Group(t.Context(), "support")
	require.NoError(t, err)
	require.Equal(t, "Support team", g.FullName)
	require.Equal(t, 99, g.MentionableLevel)

	u, err := b.client.User(t.Context(), "alice")
	require.NoError(t, err)
	require.Equal(t, "Alice", u.Name)
	require.NotZero(t, u.ID)
}

func TestClientSiteAncestors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	top := b.fake.AddCategory(discourse.Category{Name: "Products"})
	mid := b.fake.AddCategory(discourse.Category{Name: "Sidecar", ParentCategoryID: &top.ID})
	leaf := b.fake.AddCategory(discourse.Category{Name: "Sidecar Bugs", ParentCategoryID: &mid.ID, ReadRestricted: true})

	site, err := b.client.Site(t.Context())
	require.NoError(t, err)
	require.True(t, site.CanTagTopics)
	got, ok := site.CategoryByID(leaf.ID)
	require.True(t, ok)
	require.Equal(t, leaf, got)
	require.Equal(t, []discourse.Category{mid, top}, site.Ancestors(leaf.ID))
	require.Nil(t, site.Ancestors(top.ID))
}

func TestClientTagGroups(t *testing.T) {
	t.Parallel()
	for _, objectTags := range []bool{false, true} {
		t.Run(map[bool]string{false: "names", true: "objects"}[objectTags], func(t *testing.T) {
			t.Parallel()
			b := setup(t, discoursetest.WithObjectTags(objectTags))
			b.fake.AddGroup(discourse.Group{Name: "beta-testers"})
			staff := b.fake.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated", "legal"},
				ParentTagNames: discourse.Tags{"support"}, OnePerTopic: true, Permissions: map[string]int{"staff": 1}})
			b.fake.AddTagGroup(discourse.TagGroup{Name: "Beta", TagNames: discourse.Tags{"beta"},
				Permissions: map[string]int{"beta-testers": discourse.TagGroupPermissionFull}})
			b.fake.AddTagGroup(discourse.TagGroup{Name: "Announced", TagNames: discourse.Tags{"release"},
				Permissions: map[string]int{"everyone": discourse.TagGroupPermissionReadonly, "staff": 1}})
			b.fake.AddTagGroup(discourse.TagGroup{Name: "Open", TagNames: discourse.Tags{"help"}})

			groups, err := b.client.TagGroups(t.Context())
			require.NoError(t, err)
			require.Len(t, groups, 4)
			names := make([]string, 0, len(groups))
			for _, g := range groups {
				names = append(names, g.Name)
			}
			require.Equal(t, []string{"Announced", "Beta", "Open", "Staff only"}, names, "ordered by name")
			got := groups[3]
			require.Equal(t, staff.ID, got.ID)
			require.Equal(t, discourse.Tags{"escalated", "legal"}, got.TagNames)
			require.Equal(t, discourse.Tags{"support"}, got.ParentTagNames)
			require.True(t, got.OnePerTopic)
			require.True(t, groups[2].Public(), "a group without permissions is served as everyone: full")

			hidden := discourse.HiddenTagNames(groups)
			require.Len(t, hidden, 3)
			for _, tag := range []string{"escalated", "legal", "beta"} {
				require.True(t, hidden.Has(tag), tag)
			}
		})
	}
}

// An API key whose user is not staff may not read tag groups, and, as on
// a real forum, its topic views already leave out the hidden tags.
func TestClientTagGroupsNotStaff(t *testing.T) {
	t.Parallel()
	b := setup(t, discoursetest.WithStaff(false))
	b.fake.AddTagGroup(discourse.TagGroup{Name: "Staff only", TagNames: discourse.Tags{"escalated"}, Permissions: map[string]int{"staff": 1}})
	topic := b.fake.AddTopic(discourse.Topic{Title: "Customer is upset", Tags: discourse.Tags{"escalated", "billing"}})

	_, err := b.client.TagGroups(t.Context())
	require.ErrorIs(t, err, discourse.ErrForbidden)
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "invalid_access", ae.Type)

	got, err := b.client.Topic(t.Context(), topic.ID)
	require.NoError(t, err)
	require.Equal(t, discourse.Tags{"billing"}, got.Tags)
}

// A 200 that is not a tag-group list (a proxy or login page answered)
// is an error, not "no tag groups", which would hide nothing.
func TestClientTagGroupsNeedTheList(t *testing.T) {
	t.Parallel()
	for body, wantErr := range map[string]bool{`{}`: true, `{"tag_groups":null}`: true, `{"tag_groups":[]}`: false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		c, err := discourse.New(discourse.Options{BaseURL: srv.URL})
		require.NoError(t, err)
		groups, err := c.TagGroups(t.Context())
		if wantErr {
			require.Error(t, err, body)
			continue
		}
		require.NoError(t, err, body)
		require.Empty(t, groups)
	}
}

func TestClientNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	_, err := b.client.Topic(ctx, 404)
	require.ErrorIs(t, err, discourse.ErrNotFound)
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "not_found", ae.Type)
	require.Equal(t, 1, b.fake.Requests("/t/404.json"))

	_, err = b.client.Post(ctx, 404)
	require.ErrorIs(t, err, discourse.ErrNotFound)
	_, err = b.client.Group(ctx, "nobody")
	require.ErrorIs(t, err, discourse.ErrNotFound)
	_, err = b.client.User(ctx, "nobody")
	require.ErrorIs(t, err, discourse.ErrNotFound)

	_, err = b.client.Topic(ctx, 0)
	require.ErrorIs(t, err, discourse.ErrNotFound, "no request for an impossible id")
	require.Zero(t, b.fake.Requests("/t/0.json"))
}

func TestClientBadCredentials(t *testing.T) {
	t.Parallel()
	fake := discoursetest.New(t)
	for name, opts := range map[string]discourse.Options{
		"wrong key":      {BaseURL: fake.URL(), APIKey: "wrong-secret-key", APIUsername: fake.APIUsername()},
		"wrong username": {BaseURL: fake.URL(), APIKey: fake.APIKey(), APIUsername: "mallory"},
		"no credentials": {BaseURL: fake.URL()},
	} {
		c, err := discourse.New(opts)
		require.NoError(t, err)
		_, err = c.Topic(t.Context(), 1)
		require.ErrorIs(t, err, discourse.ErrForbidden, name)
		require.NotErrorIs(t, err, discourse.ErrNotFound, name)
		var ae *discourse.APIError
		require.ErrorAs(t, err, &ae, name)
		require.Equal(t, "invalid_access", ae.Type, name)
		require.NotContains(t, err.Error(), "wrong-secret-key", "the key never appears in errors")
		require.NotContains(t, err.Error(), fake.APIKey())
	}
}

func TestClientRateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		inject   func(*discoursetest.Server)
		want     time.Duration
		wantCode string
	}{
		{"json", func(s *discoursetest.Server) { s.RateLimitJSON(1, 42) }, 42 * time.Second, ""},
		{"text", func(s *discoursetest.Server) { s.RateLimitText(1, 9) }, 9 * time.Second, "ip_10_secs_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			topic := b.fake.AddTopic(discourse.Topic{Title: "Rate limited topic"})
			tt.inject(b.fake)

			_, err := b.client.Topic(t.Context(), topic.ID)
			var rl *discourse.RateLimitError
			require.ErrorAs(t, err, &rl)
			require.Equal(t, tt.want, rl.RetryAfter)
			require.Equal(t, tt.wantCode, rl.Code)
			require.Equal(t, 1, b.fake.Requests(fmt.Sprintf("/t/%d.json", topic.ID)), "the client does not retry")

			got, err := b.client.Topic(t.Context(), topic.ID)
			require.NoError(t, err, "only the next request was limited")
			require.Equal(t, topic.ID, got.ID)
		})
	}
}

func TestClientServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Fail(1, http.StatusBadGateway)
	_, err := b.client.Site(t.Context())
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusBadGateway, ae.Status)
	require.True(t, ae.Temporary())
	require.Equal(t, []string{"502 Bad Gateway"}, ae.Messages)
	require.Equal(t, 1, b.fake.Requests("/site.json"))
}

func TestClientCreatePost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cat := b.fake.AddCategory(discourse.Category{Name: "Transcripts"})
	at := time.Date(2026, 4, 1, 8, 30, 0, 0, time.UTC)

	p, err := b.client.CreatePost(t.Context(), discourse.CreatePostRequest{
		Title: "Chat transcript from #general", Raw: "A transcript long enough to pass validation.",
		Category: cat.ID, Tags: []string{"transcript"}, CreatedAt: &at,
	})
	require.NoError(t, err)
	require.NotZero(t, p.ID)
	require.Equal(t, 1, p.PostNumber)
	require.True(t, at.Equal(p.CreatedAt), "backdated")
	require.Equal(t, b.fake.APIUsername(), p.Username)

	topic, ok := b.fake.Topic(p.TopicID)
	require.True(t, ok)
	require.Equal(t, "Chat transcript from #general", topic.Title)
	require.Equal(t, cat.ID, *topic.CategoryID)
	require.Equal(t, discourse.Tags{"transcript"}, topic.Tags)

	reply, err := b.client.CreatePost(t.Context(), discourse.CreatePostRequest{
		TopicID: p.TopicID, Raw: "A reply that is also long enough.", Title: "ignored for replies",
	})
	require.NoError(t, err)
	require.Equal(t, p.TopicID, reply.TopicID)
	require.Equal(t, 2, reply.PostNumber)
	require.Len(t, b.fake.Posts(), 2)
}

func TestClientCreatePostValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.CreatePost(t.Context(), discourse.CreatePostRequest{Title: "Too short", Raw: "tiny"})
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusUnprocessableEntity, ae.Status)
	require.Equal(t, []string{
		"Title is too short (minimum is 15 characters)",
		"Body is too short (minimum is 20 characters)",
	}, ae.Messages)
	require.False(t, ae.Temporary())
	require.Empty(t, b.fake.Posts())

	_, err = b.client.CreatePost(t.Context(), discourse.CreatePostRequest{TopicID: 999, Raw: "A reply to a topic that is gone."})
	require.ErrorIs(t, err, discourse.ErrNotFound)
}

func TestClientCreatePostEnqueued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.EnqueueNext(1)
	p, err := b.client.CreatePost(t.Context(), discourse.CreatePostRequest{
		Title: "Needs moderator approval", Raw: "This post waits in the review queue.",
	})
	require.Nil(t, p)
	require.ErrorIs(t, err, discourse.ErrEnqueued)
	var eq *discourse.EnqueuedError
	require.ErrorAs(t, err, &eq)
	require.NotZero(t, eq.PendingPostID)
	require.Equal(t, 1, eq.PendingCount)
	require.Empty(t, b.fake.Posts(), "nothing was created")
}

func TestClientLatestPostsPagination(t *testing.T) {
	t.Parallel()
	b := setup(t, discoursetest.WithPageSize(3))
	topic := b.fake.AddTopic(discourse.Topic{Title: "Busy public topic", Visible: true})
	pm := b.fake.AddTopic(discourse.Topic{Title: "Private conversation", Archetype: discourse.ArchetypePrivateMessage})
	var want []int64
	for i := range 8 {
		if i == 4 {
			b.fake.AddPost(discourse.Post{TopicID: pm.ID, Raw: "private, never listed"})
			continue
		}
		p := b.fake.AddPost(discourse.Post{TopicID: topic.ID, Raw: "public post"})
		want = append([]int64{p.ID}, want...) // newest first
	}

	var got []int64
	var before int64
	pages := 0
	for {
		page, err := b.client.LatestPosts(t.Context(), before)
		require.NoError(t, err)
		pages++
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 3)
		for _, p := range page {
			got = append(got, p.ID)
			require.Equal(t, discourse.ArchetypeRegular, p.TopicArchetype)
		}
		before = page[len(page)-1].ID
	}
	require.Equal(t, want, got)
	require.Equal(t, 4, pages, "3 + 3 + 1 posts, then an empty page")
	require.Equal(t, pages, b.fake.Requests("/posts.json"))
}

// TestClientRequestShape checks what goes on the wire against a plain
// handler, since the fake only checks credentials.
func TestClientRequestShape(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, query string
		header              http.Header
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone()}
		_, _ = w.Write([]byte(`{"latest_posts":[]}`))
	}))
	t.Cleanup(srv.Close)

	c, err := discourse.New(discourse.Options{BaseURL: srv.URL + "/forum/", APIKey: "k", APIUsername: "bot", UserAgent: "sidecar-test"})
	require.NoError(t, err)
	_, err = c.LatestPosts(t.Context(), 120)
	require.NoError(t, err)
	s := <-got
	require.Equal(t, http.MethodGet, s.method)
	require.Equal(t, "/forum/posts.json", s.path, "subfolder kept, no double slash")
	require.Equal(t, "before=120", s.query)
	require.Equal(t, "k", s.header.Get("Api-Key"))
	require.Equal(t, "bot", s.header.Get("Api-Username"))
	require.Equal(t, "application/json", s.header.Get("Accept"))
	require.Equal(t, "sidecar-test", s.header.Get("User-Agent"))
}

// TestClientDoesNotFollowRedirectsOffHost: net/http forwards custom
// headers such as Api-Key on redirects, so a redirect to another host
// must come back as an error instead.
func TestClientDoesNotFollowRedirectsOffHost(t *testing.T) {
	t.Parallel()
	leaked := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked <- r.Header.Get("Api-Key")
	}))
	t.Cleanup(other.Close)
	// 127.0.0.1 and localhost are different hosts to the redirect check.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	forum := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(forum.Close)

	c, err := discourse.New(discourse.Options{BaseURL: forum.URL, APIKey: "secret-key", APIUsername: "bot"})
	require.NoError(t, err)
	_, err = c.Site(t.Context())
	var ae *discourse.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusFound, ae.Status)
	select {
	case k := <-leaked:
		t.Fatalf("redirect followed; other host got Api-Key %q", k)
	default:
	}
}

func TestClientContextCanceled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gate := b.fake.Block("/site.json")
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := b.client.Site(ctx)
		errc <- err
	}()
	<-gate.Arrived()
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), b.fake.URL(), "the URL is not repeated")
}

func TestClientErrorsAreNotSentinelsByAccident(t *testing.T) {
	t.Parallel()
	require.False(t, errors.Is(&discourse.RateLimitError{}, discourse.ErrNotFound))
	require.False(t, errors.Is(&discourse.APIError{Status: 500}, discourse.ErrForbidden))
	require.Equal(t, "rate limited, retry after 5s (ip_10_secs_limit)",
		(&discourse.RateLimitError{RetryAfter: 5 * time.Second, Code: "ip_10_secs_limit"}).Error())
}
