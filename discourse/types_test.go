package discourse

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTagsUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Tags
		wantErr bool
	}{
		{name: "strings", in: `["release","go"]`, want: Tags{"release", "go"}},
		{name: "objects", in: `[{"id":12,"name":"release","slug":"release"},{"id":13,"name":"Go","slug":"go"}]`, want: Tags{"release", "Go"}},
		{name: "object with original_name", in: `[{"id":1,"name":"a","slug":"a","original_name":"A"}]`, want: Tags{"a"}},
		{name: "object falls back to slug", in: `[{"id":7,"slug":"only-slug"}]`, want: Tags{"only-slug"}},
		{name: "object with string id", in: `[{"id":"legacy","name":"legacy"}]`, want: Tags{"legacy"}},
		{name: "mixed", in: `["a",{"id":2,"name":"b","slug":"b"}]`, want: Tags{"a", "b"}},
		{name: "null", in: `null`, want: nil},
		{name: "empty", in: `[]`, want: nil},
		{name: "empty string skipped", in: `["", "a"]`, want: Tags{"a"}},
		{name: "object without name or slug", in: `[{"id":3}]`, wantErr: true},
		{name: "number element", in: `[1]`, wantErr: true},
		{name: "null element", in: `[null]`, wantErr: true},
		{name: "not an array", in: `{"a":1}`, wantErr: true},
		{name: "bare string", in: `"a"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Tags
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTagsInsideTopic(t *testing.T) {
	t.Parallel()
	var withKey, without Topic
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"tags":[{"id":1,"name":"x","slug":"x"}]}`), &withKey))
	require.Equal(t, Tags{"x"}, withKey.Tags)
	require.NoError(t, json.Unmarshal([]byte(`{"id":1}`), &without))
	require.Nil(t, without.Tags)

	data, err := json.Marshal(Topic{ID: 1})
	require.NoError(t, err)
	require.Contains(t, string(data), `"tags":[]`, "Discourse sends [] for no tags")
}

// capturedTopicCreated is the topic_created body captured from Discourse
// 2025.12 (external-apis §A.3), trimmed of plugin fields.
const capturedTopicCreated = `{"tags":[],"tags_descriptions":{},"fancy_title":"A &amp; B","id":8,"title":"A & B",
"posts_count":1,"created_at":"2026-01-02T12:40:25.548Z","views":0,"reply_count":0,"like_count":0,
"last_posted_at":"2026-01-02T12:40:25.602Z","visible":true,"closed":false,"archived":false,"archetype":"regular",
"slug":"topic","category_id":4,"word_count":4,"deleted_at":null,"user_id":1,"featured_link":null,
"pinned_globally":false,"pinned_at":null,"pinned_until":null,"unpinned":null,"pinned":false,"highest_post_number":1,
"deleted_by":null,"has_deleted":false,"bookmarked":false,"participant_count":1,"queued_posts_count":0,"thumbnails":null,
"created_by":{"id":1,"username":"user1","name":null,"avatar_template":"/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png"},
"last_poster":{"id":1,"username":"user1","name":null,"avatar_template":"/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png"}}`

func TestTopicUnmarshalWebhookShape(t *testing.T) {
	t.Parallel()
	var got Topic
	require.NoError(t, json.Unmarshal([]byte(capturedTopicCreated), &got))
	cat := int64(4)
	require.Equal(t, Topic{
		ID: 8, Title: "A & B", FancyTitle: "A &amp; B", Slug: "topic", Archetype: ArchetypeRegular,
		CategoryID: &cat, Visible: true, PostsCount: 1, HighestPostNumber: 1,
		CreatedAt: time.Date(2026, 1, 2, 12, 40, 25, 548_000_000, time.UTC),
		CreatedBy: &BasicUser{ID: 1, Username: "user1", AvatarTemplate: "/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png"},
	}, got)
}

func TestTopicUnmarshalTopicView(t *testing.T) {
	t.Parallel()
	view := `{"id":21,"title":"To the mods","archetype":"private_message","tags":["a"],
"post_stream":{"posts":[{"id":301}],"stream":[301,305,309]},
"details":{"created_by":{"id":5,"username":"alice"},"allowed_groups":[{"id":41,"name":"moderators"},{"id":42,"name":"support"}],
"allowed_users":[{"id":5,"username":"alice"}]}}`
	var got Topic
	require.NoError(t, json.Unmarshal([]byte(view), &got))
	require.Equal(t, []string{"moderators", "support"}, got.AllowedGroups)
	require.Equal(t, int64(301), got.PostStreamFirstPostID)
	require.Equal(t, &BasicUser{ID: 5, Username: "alice"}, got.CreatedBy)
	require.Equal(t, Tags{"a"}, got.Tags)

	// A PM with no groups has an empty, non-nil list: "fetched, none"
	// differs from "not in this payload".
	var none Topic
	require.NoError(t, json.Unmarshal([]byte(`{"id":2,"details":{"allowed_groups":[]}}`), &none))
	require.NotNil(t, none.AllowedGroups)
	require.Empty(t, none.AllowedGroups)
}

func TestTopicUnmarshalResetsReceiver(t *testing.T) {
	t.Parallel()
	got := Topic{ID: 9, AllowedGroups: []string{"old"}, PostStreamFirstPostID: 4}
	require.NoError(t, json.Unmarshal([]byte(`{"id":10}`), &got))
	require.Equal(t, Topic{ID: 10}, got)
}

func TestTopicRoundTrip(t *testing.T) {
	t.Parallel()
	cat := int64(3)
	in := Topic{
		ID: 5, Title: "Title", FancyTitle: "Title", Slug: "title", Archetype: ArchetypePrivateMessage,
		CategoryID: &cat, Tags: Tags{"a", "b"}, Visible: true, PostsCount: 2, HighestPostNumber: 3,
		CreatedAt:     time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		CreatedBy:     &BasicUser{ID: 1, Username: "u"},
		AllowedGroups: []string{"staff"}, PostStreamFirstPostID: 77,
	}
	data, err := json.Marshal(in)
	require.NoError(t, err)
	var out Topic
	require.NoError(t, json.Unmarshal(data, &out))
	require.Equal(t, in, out)

	// The pointer form marshals the same way.
	data2, err := json.Marshal(&in)
	require.NoError(t, err)
	require.JSONEq(t, string(data), string(data2))
}

// capturedPostCreated is the post_created body captured from Discourse
// 2025.12 (§A.3), trimmed of plugin fields.
const capturedPostCreated = `{"id":12,"name":null,"username":"user1","avatar_template":"/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png",
"created_at":"2026-01-02T13:58:49.606Z","cooked":"<p><em>hi</em></p>","post_number":1,"post_type":1,"posts_count":1,
"updated_at":"2026-01-02T13:58:49.606Z","reply_count":0,"reply_to_post_number":null,"quote_count":0,"incoming_link_count":0,"reads":0,
"score":0,"topic_id":10,"topic_slug":"topic","topic_title":"Topic title here","category_id":4,"display_username":null,
"primary_group_name":null,"flair_name":null,"flair_group_id":null,"version":1,"user_title":null,"bookmarked":false,
"raw":"*hi*","moderator":true,"admin":true,"staff":true,"user_id":1,"hidden":false,"trust_level":1,"deleted_at":null,
"user_deleted":false,"edit_reason":null,"wiki":false,"reviewable_id":null,"reviewable_score_count":0,
"reviewable_score_pending_count":0,"post_url":"/t/topic/10/1","topic_posts_count":1,"topic_filtered_posts_count":1,
"topic_archetype":"regular","category_slug":"4-category","action_code":null}`

func TestPostUnmarshalCaptured(t *testing.T) {
	t.Parallel()
	var got Post
	require.NoError(t, json.Unmarshal([]byte(capturedPostCreated), &got))
	cat := int64(4)
	at := time.Date(2026, 1, 2, 13, 58, 49, 606_000_000, time.UTC)
	require.Equal(t, Post{
		ID: 12, TopicID: 10, UserID: 1, PostNumber: 1, PostType: PostTypeRegular, Version: 1,
		Username: "user1", AvatarTemplate: "/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png",
		Cooked: "<p><em>hi</em></p>", Raw: "*hi*", TopicTitle: "Topic title here", TopicSlug: "topic",
		TopicArchetype: ArchetypeRegular, CategorySlug: "4-category", PostURL: "/t/topic/10/1",
		CategoryID: &cat, CreatedAt: at, UpdatedAt: at,
	}, got)
}

func TestAvatarURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, template string
		size                 int
		want                 string
	}{
		{"relative", "https://forum.example.org", "/user_avatar/forum.example.org/alice/{size}/12_2.png", 90,
			"https://forum.example.org/user_avatar/forum.example.org/alice/90/12_2.png"},
		{"base with trailing slash", "https://forum.example.org/", "/letter_avatar_proxy/v4/letter/u/5daacb/{size}.png", 45,
			"https://forum.example.org/letter_avatar_proxy/v4/letter/u/5daacb/45.png"},
		{"absolute CDN", "https://forum.example.org", "https://cdn.example.net/user_avatar/a/{size}/1.png", 120,
			"https://cdn.example.net/user_avatar/a/120/1.png"},
		{"absolute http kept", "https://forum.example.org", "http://old.example.net/{size}.png", 20,
			"http://old.example.net/20.png"},
		{"protocol-relative takes base scheme", "http://localhost:3000", "//cdn.example.net/a/{size}/1.png", 64,
			"http://cdn.example.net/a/64/1.png"},
		{"protocol-relative https", "https://forum.example.org", "//cdn.example.net/a/{size}/1.png", 64,
			"https://cdn.example.net/a/64/1.png"},
		{"subfolder not repeated", "https://example.org/forum", "/forum/user_avatar/example.org/a/{size}/1.png", 48,
			"https://example.org/forum/user_avatar/example.org/a/48/1.png"},
		{"subfolder added", "https://example.org/forum/", "/user_avatar/example.org/a/{size}/1.png", 48,
			"https://example.org/forum/user_avatar/example.org/a/48/1.png"},
		{"template without slash", "https://forum.example.org", "uploads/{size}.png", 10,
			"https://forum.example.org/uploads/10.png"},
		{"no size placeholder", "https://forum.example.org", "/images/avatar.png", 10,
			"https://forum.example.org/images/avatar.png"},
		{"empty template", "https://forum.example.org", "", 10, ""},
		{"unusable base", "", "/user_avatar/a/{size}/1.png", 10, "/user_avatar/a/10/1.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, AvatarURL(tt.base, tt.template, tt.size))
		})
	}
}

func ptr(v int64) *int64 { return &v }

func TestSiteCategories(t *testing.T) {
	t.Parallel()
	site := &Site{Categories: []Category{
		{ID: 1, Name: "Support", Slug: "support"},
		{ID: 2, Name: "Go", Slug: "go", ParentCategoryID: ptr(1)},
		{ID: 3, Name: "Generics", Slug: "generics", ParentCategoryID: ptr(2)},
		{ID: 4, Name: "Orphan", Slug: "orphan", ParentCategoryID: ptr(99)},
		{ID: 5, Name: "Loop A", ParentCategoryID: ptr(6)},
		{ID: 6, Name: "Loop B", ParentCategoryID: ptr(5)},
	}}

	c, ok := site.CategoryByID(2)
	require.True(t, ok)
	require.Equal(t, "go", c.Slug)
	_, ok = site.CategoryByID(42)
	require.False(t, ok)

	ids := func(cs []Category) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	require.Equal(t, []int64{2, 1}, ids(site.Ancestors(3)), "nearest first, without the category itself")
	require.Equal(t, []int64{1}, ids(site.Ancestors(2)))
	require.Nil(t, site.Ancestors(1), "top level")
	require.Nil(t, site.Ancestors(42), "unknown")
	require.Nil(t, site.Ancestors(4), "parent not visible")
	require.Equal(t, []int64{6}, ids(site.Ancestors(5)), "a cycle stops")
}

func TestSiteUnmarshal(t *testing.T) {
	t.Parallel()
	var s Site
	require.NoError(t, json.Unmarshal([]byte(`{"categories":[{"id":1,"name":"A","slug":"a","color":"0088CC","text_color":"FFFFFF","read_restricted":true},
{"id":2,"name":"B","slug":"b","parent_category_id":1}],"can_tag_topics":true,"top_tags":[{"id":1,"name":"x","slug":"x"}],
"groups":[{"id":1,"name":"admins"}],"notification_types":{"mentioned":1}}`), &s))
	require.True(t, s.CanTagTopics)
	require.Equal(t, Tags{"x"}, s.TopTags)
	require.True(t, s.Categories[0].ReadRestricted)
	require.Equal(t, []Category{{ID: 1, Name: "A", Slug: "a", Color: "0088CC", TextColor: "FFFFFF", ReadRestricted: true}}, s.Ancestors(2))
	require.Equal(t, []Group{{ID: 1, Name: "admins"}}, s.Groups)
}

// Both serializations of GET /tag_groups.json entries decode to the same
// TagGroup: the older one (TagGroupSerializer with tag_names and
// name-keyed permissions) and the newer one (tag objects, permissions
// keyed by group id).
func TestTagGroupUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want TagGroup
	}{
		{
			name: "names",
			in: `{"id":4,"name":"Staff only","tag_names":["escalated","legal"],"parent_tag_name":["support"],
				"one_per_topic":true,"permissions":{"staff":1}}`,
			want: TagGroup{ID: 4, Name: "Staff only", TagNames: Tags{"escalated", "legal"}, ParentTagNames: Tags{"support"},
				OnePerTopic: true, Permissions: map[string]int{"staff": 1}},
		},
		{
			name: "objects",
			in: `{"id":4,"name":"Staff only","tags":[{"id":9,"name":"escalated","slug":"escalated"}],
				"parent_tag":[{"id":2,"name":"support","slug":"support"}],"one_per_topic":false,"permissions":{"3":1}}`,
			want: TagGroup{ID: 4, Name: "Staff only", TagNames: Tags{"escalated"}, ParentTagNames: Tags{"support"},
				Permissions: map[string]int{"3": 1}},
		},
		{
			name: "no parent",
			in:   `{"id":1,"name":"Public","tag_names":["a"],"parent_tag_name":[],"permissions":{"everyone":1}}`,
			want: TagGroup{ID: 1, Name: "Public", TagNames: Tags{"a"}, Permissions: map[string]int{"everyone": 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got TagGroup
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			require.Equal(t, tt.want, got)

			data, err := json.Marshal(got)
			require.NoError(t, err)
			var again TagGroup
			require.NoError(t, json.Unmarshal(data, &again))
			require.Equal(t, got, again, "round trip through the name form")
		})
	}
}

func TestHiddenTagNames(t *testing.T) {
	t.Parallel()
	everyone := map[string]int{"everyone": TagGroupPermissionFull}
	tests := []struct {
		name   string
		groups []TagGroup
		hidden []string
		shown  []string
	}{
		{name: "no groups", shown: []string{"a"}},
		{
			name:   "public and readonly groups hide nothing",
			groups: []TagGroup{{TagNames: Tags{"a"}, Permissions: everyone}, {TagNames: Tags{"b"}, Permissions: map[string]int{"everyone": TagGroupPermissionReadonly, "staff": 1}}},
			shown:  []string{"a", "b"},
		},
		{
			name:   "no permissions is public",
			groups: []TagGroup{{TagNames: Tags{"a"}}},
			shown:  []string{"a"},
		},
		{
			name:   "staff only",
			groups: []TagGroup{{TagNames: Tags{"escalated", "Legal"}, ParentTagNames: Tags{"support"}, Permissions: map[string]int{"staff": 1}}},
			hidden: []string{"escalated", "legal", "LEGAL"},
			shown:  []string{"support", "other"},
		},
		{
			name:   "a custom group",
			groups: []TagGroup{{TagNames: Tags{"beta"}, Permissions: map[string]int{"beta-testers": TagGroupPermissionReadonly}}},
			hidden: []string{"beta"},
		},
		{
			name:   "newer form: everyone is id 0",
			groups: []TagGroup{{TagNames: Tags{"a"}, Permissions: map[string]int{"0": 1}}, {TagNames: Tags{"b"}, Permissions: map[string]int{"3": 1}}},
			hidden: []string{"b"},
			shown:  []string{"a"},
		},
		{
			// Discourse's long-standing hidden_tags_query hides it; newer
			// versions would show it. Hiding cannot leak.
			name:   "in a public and a restricted group",
			groups: []TagGroup{{TagNames: Tags{"a"}, Permissions: everyone}, {TagNames: Tags{"a"}, Permissions: map[string]int{"staff": 1}}},
			hidden: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := HiddenTagNames(tt.groups)
			for _, tag := range tt.hidden {
				require.True(t, h.Has(tag), tag)
			}
			for _, tag := range tt.shown {
				require.False(t, h.Has(tag), tag)
			}
			if len(tt.hidden) == 0 {
				require.Nil(t, h, "nothing hidden is nil")
			}
		})
	}
	require.False(t, HiddenTags(nil).Has("a"))
}
