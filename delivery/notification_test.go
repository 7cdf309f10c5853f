package delivery

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
)

// The reference's formatted_display_name matrix (§2.4).
func TestDisplayName(t *testing.T) {
	on := NameSettings{EnableNames: true}
	prio := NameSettings{EnableNames: true, PrioritizeUsernameInUX: true}
	for _, c := range []struct {
		user, name string
		s          NameSettings
		want       string
	}{
		{"jane", "Jane Doe", NameSettings{}, "@jane"},
		{"jane", "", on, "@jane"},
		{"jane", "   ", on, "@jane"},
		{"jane", "Jane Doe", on, "Jane Doe (@jane)"},
		{"jane", "Jane Doe", prio, "@jane (Jane Doe)"},
		{"jane_doe", "Jane Doe", on, "Jane Doe"},
		{"jane_doe", "Jane Doe", prio, "@jane_doe"},
		{"janedoe", "Jane Doe", on, "Jane Doe"},
		{"JaneDoe", "jane doe", prio, "@JaneDoe"},
	} {
		require.Equal(t, c.want, DisplayName(c.user, c.name, c.s), "%q %q %+v", c.user, c.name, c.s)
	}
}

func TestDedupeKey(t *testing.T) {
	body := []byte(`{"topic":{"id":1}}`)
	for _, c := range []struct {
		event   string
		id      int64
		version int
		body    []byte
		want    string
	}{
		{EventPostCreated, 12, 3, nil, "post_created:12"},
		{EventPostEdited, 12, 3, nil, "post_edited:12:3"},
		{EventPostDestroyed, 12, 3, nil, "post_destroyed:12"},
		{EventTopicCreated, 7, 0, body, "topic_created:7"},
		{EventTopicDestroyed, 7, 0, body, "topic_destroyed:7"},
	} {
		require.Equal(t, c.want, dedupeKey(c.event, c.id, c.version, c.body))
	}
	a := dedupeKey(EventTopicEdited, 7, 0, body)
	require.Equal(t, a, dedupeKey(EventTopicEdited, 7, 0, body), "a redelivered edit is the same event")
	require.NotEqual(t, a, dedupeKey(EventTopicEdited, 7, 0, []byte(`{"topic":{"id":1,"title":"x"}}`)), "another edit is not")
}

func TestBuildNotificationAndMatchEvent(t *testing.T) {
	cat, parent := int64(5), int64(2)
	site := &discourse.Site{Categories: []discourse.Category{
		{ID: 2, Name: "Product", Slug: "product", Color: "0088CC"},
		{ID: 5, Name: "Releases", Slug: "releases", Color: "FF0000", ParentCategoryID: &parent},
	}}
	visible := false
	facts := &TopicFacts{ID: 9, Tags: []string{"news"}, Visible: &visible, Archetype: "regular"}
	p := &discourse.Post{ID: 90, TopicID: 9, PostNumber: 2, PostType: 1, Version: 1, Username: "jane", Name: "Jane Doe",
		AvatarTemplate: "/user_avatar/x/jane/{size}/1.png", Cooked: "<p>Hi @ops</p>", Raw: "Hi @ops and @Dev.",
		TopicTitle: "Launch", TopicSlug: "launch", CategoryID: &cat, PostURL: "/t/launch/9/2",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	n := BuildNotification(providers.PostCreated, ForumInfo{BaseURL: "https://forum.example.org/", Names: DefaultNames(), Site: site}, p, facts)
	require.Equal(t, "https://forum.example.org/t/launch/9", n.Topic.URL)
	require.Equal(t, "https://forum.example.org/t/launch/9/2", n.Post.URL)
	require.Equal(t, "@jane (Jane Doe)", n.Author.DisplayName)
	require.Equal(t, "https://forum.example.org/user_avatar/x/jane/45/1.png", n.Author.AvatarURL)
	require.Equal(t, []string{"news"}, n.Topic.Tags)
	require.Equal(t, "Releases", n.Topic.Category.Name)
	require.Equal(t, "Product", n.Topic.Category.Parent.Name)

	ev := MatchEvent(p, facts, site)
	require.Equal(t, rules.Event{PostID: 90, PostNumber: 2, PostType: rules.PostRegular, Archetype: "regular",
		CategoryID: &cat, ParentCategoryIDs: []int64{2}, Tags: []string{"news"},
		MentionedGroups: []string{"ops", "dev"}, Unlisted: true}, ev)

	// Without the API the category is named from the payload's slug, and a
	// private message has no category.
	p.CategorySlug = "5-releases"
	n = BuildNotification(providers.PostCreated, ForumInfo{BaseURL: "https://f.org"}, p, &TopicFacts{})
	require.Equal(t, "releases", n.Topic.Category.Name)
	require.Equal(t, "@jane", n.Author.DisplayName)
	p.TopicArchetype = "private_message"
	require.Nil(t, MatchEvent(p, &TopicFacts{AllowedGroups: []string{"staff"}}, nil).CategoryID)
}

// Hidden (staff-only) tags never reach chat, but matching still sees
// them, so a rule on a staff tag keeps working.
func TestBuildNotificationLeavesOutHiddenTags(t *testing.T) {
	t.Parallel()
	staffOnly := discourse.HiddenTagNames([]discourse.TagGroup{
		{TagNames: discourse.Tags{"escalated", "Legal"}, Permissions: map[string]int{"staff": discourse.TagGroupPermissionFull}},
	})
	tests := []struct {
		name   string
		tags   []string
		hidden discourse.HiddenTags
		want   []string
	}{
		{name: "no hidden set (no API)", tags: []string{"escalated", "billing"}, hidden: nil, want: []string{"escalated", "billing"}},
		{name: "public tags only", tags: []string{"billing", "help"}, hidden: staffOnly, want: []string{"billing", "help"}},
		{name: "hidden and public", tags: []string{"escalated", "billing", "help"}, hidden: staffOnly, want: []string{"billing", "help"}},
		{name: "case-insensitive", tags: []string{"legal", "billing"}, hidden: staffOnly, want: []string{"billing"}},
		{name: "only hidden", tags: []string{"escalated", "legal"}, hidden: staffOnly, want: nil},
		{name: "no tags", tags: nil, hidden: staffOnly, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			facts := &TopicFacts{ID: 9, Tags: slices.Clone(tt.tags)}
			p := &discourse.Post{ID: 90, TopicID: 9, PostNumber: 1, PostType: 1, Username: "jane", TopicTitle: "Refund", TopicSlug: "refund"}
			n := BuildNotification(providers.PostCreated, ForumInfo{BaseURL: "https://f.org", HiddenTags: tt.hidden}, p, facts)
			require.Equal(t, tt.want, n.Topic.Tags)
			require.Equal(t, tt.tags, facts.Tags, "the facts are not modified")
			require.Equal(t, tt.tags, MatchEvent(p, facts, nil).Tags, "matching sees every tag")
		})
	}
}
