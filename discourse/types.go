package discourse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Post types (Post.PostType). Only regular posts are forum content; the
// others are moderator notes, "closed the topic" small actions and
// whispers, which the sidecar filters before matching rules.
const (
	PostTypeRegular         = 1
	PostTypeModeratorAction = 2
	PostTypeSmallAction     = 3
	PostTypeWhisper         = 4
)

// Topic archetypes (Topic.Archetype, Post.TopicArchetype). Private
// messages produce webhooks like any topic; callers filter them.
const (
	ArchetypeRegular        = "regular"
	ArchetypePrivateMessage = "private_message"
)

// Post is a post as Discourse serializes it in post_* webhooks, in GET
// /posts/{id}.json, in GET /posts.json and in the reply to POST
// /posts.json. Each of those carries a different subset of the fields;
// the ones a source leaves out stay zero. Post webhooks carry no tags:
// fetch the topic for those.
type Post struct {
	ID         int64 `json:"id"`
	TopicID    int64 `json:"topic_id"`
	UserID     int64 `json:"user_id"`
	PostNumber int   `json:"post_number"`
	// PostType is one of the PostType* constants.
	PostType int `json:"post_type"`
	// Version starts at 1 and grows with each edit; with ID it identifies
	// one revision, which is what deduplication keys on.
	Version        int    `json:"version"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	AvatarTemplate string `json:"avatar_template"`
	Cooked         string `json:"cooked"`
	Raw            string `json:"raw"`
	// ActionCode names a small action ("closed.enabled", …); empty for
	// ordinary posts.
	ActionCode     string `json:"action_code"`
	TopicTitle     string `json:"topic_title"`
	TopicSlug      string `json:"topic_slug"`
	TopicArchetype string `json:"topic_archetype"`
	CategorySlug   string `json:"category_slug"`
	// PostURL is relative to the forum ("/t/slug/10/1").
	PostURL    string     `json:"post_url"`
	CategoryID *int64     `json:"category_id"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DeletedAt  *time.Time `json:"deleted_at"`
	Hidden     bool       `json:"hidden"`
}

// BasicUser is the short user object Discourse nests in topics
// (created_by, last_poster).
type BasicUser struct {
	ID             int64  `json:"id"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	AvatarTemplate string `json:"avatar_template"`
}

// Topic is a topic as topic_* webhooks and GET /t/{id}.json serialize it.
//
// Webhooks drop the topic view's details and post stream, so AllowedGroups
// and PostStreamFirstPostID are only set on topics fetched through the
// API; that is why Cache.PutTopic keeps them from the cached copy.
type Topic struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	FancyTitle string `json:"fancy_title"`
	Slug       string `json:"slug"`
	// Archetype is one of the Archetype* constants.
	Archetype  string `json:"archetype"`
	CategoryID *int64 `json:"category_id"`
	Tags       Tags   `json:"tags"`
	// Visible is false for unlisted topics.
	Visible           bool       `json:"visible"`
	PostsCount        int        `json:"posts_count"`
	HighestPostNumber int        `json:"highest_post_number"`
	CreatedAt         time.Time  `json:"created_at"`
	CreatedBy         *BasicUser `json:"created_by,omitempty"`
	// AllowedGroups names the groups a private message was sent to (from
	// details.allowed_groups); group-message rules match on it.
	AllowedGroups []string `json:"-"`
	// PostStreamFirstPostID is the id of the topic's first post (the first
	// entry of post_stream.stream), 0 when the source had no post stream.
	PostStreamFirstPostID int64 `json:"-"`
}

// topicAlias has Topic's fields without its methods, so the JSON methods
// can delegate the plain fields to encoding/json.
type topicAlias Topic

// topicWire is the topic view shape: Topic's own fields plus the nested
// objects AllowedGroups and PostStreamFirstPostID come from.
type topicWire struct {
	*topicAlias
	Details    *topicDetails `json:"details,omitempty"`
	PostStream *postStream   `json:"post_stream,omitempty"`
}

type topicDetails struct {
	AllowedGroups []namedGroup `json:"allowed_groups,omitempty"`
	CreatedBy     *BasicUser   `json:"created_by,omitempty"`
}

type namedGroup struct {
	Name string `json:"name"`
}

type postStream struct {
	Stream []int64 `json:"stream"`
}

// UnmarshalJSON reads both the webhook shape and the topic view shape
// (GET /t/{id}.json), where the creator and PM groups sit under details
// and the post ids under post_stream.
func (t *Topic) UnmarshalJSON(data []byte) error {
	var w topicWire
	w.topicAlias = (*topicAlias)(t)
	*t = Topic{}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if d := w.Details; d != nil {
		if t.CreatedBy == nil {
			t.CreatedBy = d.CreatedBy
		}
		if d.AllowedGroups != nil {
			t.AllowedGroups = make([]string, 0, len(d.AllowedGroups))
			for _, g := range d.AllowedGroups {
				t.AllowedGroups = append(t.AllowedGroups, g.Name)
			}
		}
	}
	if w.PostStream != nil && len(w.PostStream.Stream) > 0 {
		t.PostStreamFirstPostID = w.PostStream.Stream[0]
	}
	return nil
}

// MarshalJSON writes the topic view shape, putting AllowedGroups and
// PostStreamFirstPostID back where UnmarshalJSON reads them, so a topic
// survives a round trip (a stored or faked topic reads back the same).
func (t Topic) MarshalJSON() ([]byte, error) {
	w := topicWire{topicAlias: (*topicAlias)(&t)}
	if t.AllowedGroups != nil {
		d := &topicDetails{AllowedGroups: make([]namedGroup, 0, len(t.AllowedGroups))}
		for _, g := range t.AllowedGroups {
			d.AllowedGroups = append(d.AllowedGroups, namedGroup{Name: g})
		}
		w.Details = d
	}
	if t.PostStreamFirstPostID != 0 {
		w.PostStream = &postStream{Stream: []int64{t.PostStreamFirstPostID}}
	}
	return json.Marshal(w)
}

// Tags are a topic's tag names. Discourse has serialized them two ways:
// older versions as ["a","b"], newer ones as [{"id":12,"name":"a",
// "slug":"a"}]; UnmarshalJSON accepts both, even mixed, so the sidecar
// works across an upgrade. Rules match on names.
type Tags []string

// tagObject is the newer tag form; id is ignored because rules name tags.
type tagObject struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// UnmarshalJSON accepts null, an array of names, an array of tag objects
// (name, falling back to slug) or a mix. An empty list decodes to nil so
// "no tags" has one representation. An element that is neither a string
// nor an object naming a tag is an error rather than a silently lost tag.
func (ts *Tags) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*ts = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("tags: want an array: %w", err)
	}
	var out Tags
	for i, r := range raw {
		r = bytes.TrimSpace(r)
		switch {
		case len(r) > 0 && r[0] == '"':
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return fmt.Errorf("tags[%d]: %w", i, err)
			}
			if s != "" {
				out = append(out, s)
			}
		case len(r) > 0 && r[0] == '{':
			var o tagObject
			if err := json.Unmarshal(r, &o); err != nil {
				return fmt.Errorf("tags[%d]: %w", i, err)
			}
			name := o.Name
			if name == "" {
				name = o.Slug
			}
			if name == "" {
				return fmt.Errorf("tags[%d]: tag object has neither name nor slug", i)
			}
			out = append(out, name)
		default:
			return fmt.Errorf("tags[%d]: want a string or an object, got %.20s", i, r)
		}
	}
	*ts = out
	return nil
}

// MarshalJSON writes the string form, which every Discourse version
// reads, and [] rather than null for no tags, as Discourse does.
func (ts Tags) MarshalJSON() ([]byte, error) {
	if ts == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(ts))
}

// Category is one entry of site.json's flat category list (subcategories
// included, with ParentCategoryID set).
type Category struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	Slug             string `json:"slug"`
	Color            string `json:"color"`
	TextColor        string `json:"text_color"`
	ParentCategoryID *int64 `json:"parent_category_id"`
	// ReadRestricted is true when not everyone may read the category.
	ReadRestricted bool `json:"read_restricted"`
}

// Site is the part of GET /site.json the sidecar uses: it is the one call
// that maps every category (subcategories included) to its parent.
type Site struct {
	Categories   []Category `json:"categories"`
	CanTagTopics bool       `json:"can_tag_topics"`
	// TopTags are the most used tag names; like topic tags they come as
	// strings or objects depending on the Discourse version.
	TopTags Tags    `json:"top_tags"`
	Groups  []Group `json:"groups"`
}

// CategoryByID returns the category with id. It scans the list: a forum
// has at most a few hundred categories and Site is shared read-only by
// the cache, so an index would need its own synchronisation for no gain.
func (s *Site) CategoryByID(id int64) (Category, bool) {
	for _, c := range s.Categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// Ancestors returns the parents of category id, nearest first, without
// the category itself; nil for a top-level or unknown category. It stops
// at a parent missing from the list (a category the API user cannot see)
// and at a cycle, which a consistent forum never has but a stale or
// hand-built Site might.
func (s *Site) Ancestors(id int64) []Category {
	c, ok := s.CategoryByID(id)
	if !ok {
		return nil
	}
	var out []Category
	seen := map[int64]bool{id: true}
	for c.ParentCategoryID != nil {
		pid := *c.ParentCategoryID
		if seen[pid] {
			break
		}
		seen[pid] = true
		if c, ok = s.CategoryByID(pid); !ok {
			break
		}
		out = append(out, c)
	}
	return out
}

// User is the part of GET /u/{username}.json's user object the sidecar
// uses to link chat identities and render authors.
type User struct {
	ID             int64  `json:"id"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	AvatarTemplate string `json:"avatar_template"`
	Title          string `json:"title"`
	TrustLevel     int    `json:"trust_level"`
	Admin          bool   `json:"admin"`
	Moderator      bool   `json:"moderator"`
}

// Group is a Discourse group (GET /groups/{name}.json). The *Level fields
// are Discourse's raw alias-level numbers (who may mention, message or
// see the group); group-mention rules need MentionableLevel.
type Group struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	FullName         string `json:"full_name"`
	MentionableLevel int    `json:"mentionable_level"`
	MessageableLevel int    `json:"messageable_level"`
	VisibilityLevel  int    `json:"visibility_level"`
	Automatic        bool   `json:"automatic"`
	UserCount        int    `json:"user_count"`
}

// AvatarURL turns an avatar_template ("/user_avatar/forum/alice/{size}/1_2.png")
// into an absolute URL of the given pixel size that a chat platform can
// load. base is the forum's base URL. Templates that are already absolute
// (an avatar CDN) are kept; protocol-relative ones ("//cdn/…") get base's
// scheme, or https. Discourse prefixes templates with its subfolder
// (base "https://h/forum", template "/forum/user_avatar/…"), so a template
// already under base's path is joined to base's origin instead of
// repeating the prefix. An empty template gives "".
func AvatarURL(base, template string, size int) string {
	if template == "" {
		return ""
	}
	t := strings.ReplaceAll(template, "{size}", strconv.Itoa(size))
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		return t
	}
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		// No usable base: the best we can do is leave the template as is.
		if strings.HasPrefix(t, "//") {
			return "https:" + t
		}
		return t
	}
	scheme := b.Scheme
	if scheme == "" {
		scheme = "https"
	}
	if strings.HasPrefix(t, "//") {
		return scheme + ":" + t
	}
	if !strings.HasPrefix(t, "/") {
		t = "/" + t
	}
	origin := scheme + "://" + b.Host
	prefix := strings.TrimSuffix(b.EscapedPath(), "/")
	if prefix == "" || strings.HasPrefix(t, prefix+"/") {
		return origin + t
	}
	return origin + prefix + t
}

// Tag group permission types (TagGroupPermission.permission_types): who a
// tag group names in its permissions may see and use its tags (full) or
// only see them (readonly).
const (
	TagGroupPermissionFull     = 1
	TagGroupPermissionReadonly = 3
)

// TagGroup is one entry of GET /tag_groups.json, which only staff may
// read. Discourse has serialized it two ways, and UnmarshalJSON accepts
// both: older versions send tag_names and parent_tag_name as name lists
// and key permissions by group name (automatic groups by their names,
// "everyone", "staff", …); newer ones send tags and parent_tag as
// [{"id","name","slug"}] and key permissions by group id ("0" is
// everyone).
type TagGroup struct {
	ID   int64
	Name string
	// TagNames are the group's tags (synonyms excluded).
	TagNames Tags
	// ParentTagNames holds the tag a topic needs before it may use the
	// group's tags; at most one. The parent is not a member of the group,
	// so the group's permissions do not hide it.
	ParentTagNames Tags
	OnePerTopic    bool
	// Permissions maps a group (name or id, see above) to a
	// TagGroupPermission* type. Discourse answers {"everyone": full} (or
	// {"0": full}) for a group without permission rows, which is public.
	Permissions map[string]int
}

// tagGroupWire has both serializations' fields. The newer form's lists
// are omitted when empty, so a written group reads back the same.
type tagGroupWire struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	TagNames      Tags           `json:"tag_names"`
	Tags          Tags           `json:"tags,omitempty"`
	ParentTagName Tags           `json:"parent_tag_name"`
	ParentTag     Tags           `json:"parent_tag,omitempty"`
	OnePerTopic   bool           `json:"one_per_topic"`
	Permissions   map[string]int `json:"permissions"`
}

// UnmarshalJSON reads either serialization; when both name and object
// lists are present the name list wins.
func (g *TagGroup) UnmarshalJSON(data []byte) error {
	var w tagGroupWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*g = TagGroup{ID: w.ID, Name: w.Name, TagNames: w.TagNames, ParentTagNames: w.ParentTagName,
		OnePerTopic: w.OnePerTopic, Permissions: w.Permissions}
	if g.TagNames == nil {
		g.TagNames = w.Tags
	}
	if g.ParentTagNames == nil {
		g.ParentTagNames = w.ParentTag
	}
	return nil
}

// MarshalJSON writes the older, name-keyed form.
func (g TagGroup) MarshalJSON() ([]byte, error) {
	return json.Marshal(tagGroupWire{ID: g.ID, Name: g.Name, TagNames: g.TagNames, ParentTagName: g.ParentTagNames,
		OnePerTopic: g.OnePerTopic, Permissions: g.Permissions})
}

// Public reports whether everyone may see the group's tags: its
// permissions name the everyone group ("everyone" in the older
// serialization, id "0" in the newer), with full or readonly access, or
// it has none, which Discourse treats as public.
func (g TagGroup) Public() bool {
	if len(g.Permissions) == 0 {
		return true
	}
	for k := range g.Permissions {
		if k == "everyone" || k == "0" {
			return true
		}
	}
	return false
}

// HiddenTags is a set of tag names that not everyone may see on the forum
// (staff-only tags and tags restricted to groups), compared
// case-insensitively because Discourse tag names are unique regardless
// of case. A nil set hides nothing. Sets handed out by Cache are shared:
// treat them as read-only.
type HiddenTags map[string]struct{}

// Has reports whether tag is hidden.
func (h HiddenTags) Has(tag string) bool {
	if len(h) == 0 {
		return false
	}
	_, ok := h[strings.ToLower(tag)]
	return ok
}

// HiddenTagNames returns the tags that groups hide from everyone: every
// tag of a group that is not Public. This is DiscourseTagging's
// hidden_tags_query as Discourse long had it (a tag in any tag group
// whose permissions lack the everyone group is hidden from users who are
// not staff). Newer Discourse versions show a tag that is also in a
// public group to everyone; the sidecar still hides it, because it cannot
// tell which rule the forum applies and a tag left out of a chat message
// costs far less than a staff-only tag shown in one. A parent tag is not
// hidden by its group's permissions. It returns nil when nothing is
// hidden.
func HiddenTagNames(groups []TagGroup) HiddenTags {
	var out HiddenTags
	for _, g := range groups {
		if g.Public() {
			continue
		}
		for _, name := range g.TagNames {
			if out == nil {
				out = make(HiddenTags)
			}
			out[strings.ToLower(name)] = struct{}{}
		}
	}
	return out
}
