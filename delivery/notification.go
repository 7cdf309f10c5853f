package delivery

import (
	"strconv"
	"strings"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
)

// TopicFacts is what matching and formatting need to know about a topic
// beyond what a post payload carries. It comes from the Discourse API when
// one is configured, else from the last topic webhook, else from the post
// payload alone.
type TopicFacts struct {
	ID            int64    `json:"id"`
	Title         string   `json:"title,omitempty"`
	Slug          string   `json:"slug,omitempty"`
	Archetype     string   `json:"archetype,omitempty"`
	CategoryID    *int64   `json:"category_id,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	Visible       *bool    `json:"visible,omitempty"`
	AllowedGroups []string `json:"allowed_groups,omitempty"`
}

// factsOf extracts the facts of a topic payload or API topic.
func factsOf(t *discourse.Topic) *TopicFacts {
	visible := t.Visible
	return &TopicFacts{
		ID: t.ID, Title: t.Title, Slug: t.Slug, Archetype: t.Archetype, CategoryID: t.CategoryID,
		Tags: []string(t.Tags), Visible: &visible, AllowedGroups: t.AllowedGroups,
	}
}

// NameSettings are Discourse's site settings that shape display names
// (reference §2.4). The zero value is Discourse's default with names off;
// DefaultNames is the default.
type NameSettings struct {
	EnableNames            bool
	PrioritizeUsernameInUX bool
}

// DefaultNames returns Discourse's default name settings.
func DefaultNames() NameSettings {
	return NameSettings{EnableNames: true, PrioritizeUsernameInUX: true}
}

// DisplayName renders a user as the reference's formatted_display_name.
func DisplayName(username, name string, s NameSettings) string {
	at := "@" + username
	name = strings.TrimSpace(name)
	if !s.EnableNames || name == "" {
		return at
	}
	if similarName(username, name) {
		if s.PrioritizeUsernameInUX {
			return at
		}
		return name
	}
	if s.PrioritizeUsernameInUX {
		return at + " (" + name + ")"
	}
	return name + " (" + at + ")"
}

// similarName mirrors Discourse's check that a name adds nothing to the
// username: lower-cased, with spaces turned into underscores or removed,
// it equals the username.
func similarName(username, name string) bool {
	u := strings.ToLower(username)
	n := strings.ToLower(name)
	return strings.ReplaceAll(n, " ", "_") == u || strings.ReplaceAll(n, " ", "") == u
}

// ForumInfo is the forum-wide context of notifications.
type ForumInfo struct {
	BaseURL string // no trailing slash
	Title   string
	Names   NameSettings
	// Site gives category names, colours and parents; nil without the API.
	Site *discourse.Site
	// HiddenTags are the tags not everyone may see on the forum, which
	// notifications leave out. Nil without the API, or when the API key may
	// not read tag groups: then no tag is known to be hidden.
	HiddenTags discourse.HiddenTags
}

// BuildNotification renders a post for chat, independent of any platform.
// It is pure: everything it needs is passed in.
//
// Topic.Tags leaves out forum.HiddenTags, because a chat channel is not
// the forum's staff and a staff-only tag ("escalated", "legal") can say
// more than the post. That is display only: MatchEvent still gets every
// tag, since admins may route on staff tags, e.g. send "escalated" topics
// to a staff channel, whose message then does not name the tag.
func BuildNotification(kind providers.EventKind, forum ForumInfo, p *discourse.Post, t *TopicFacts) providers.Notification {
	base := strings.TrimRight(forum.BaseURL, "/")
	title, slug := p.TopicTitle, p.TopicSlug
	if title == "" {
		title = t.Title
	}
	if slug == "" {
		slug = t.Slug
	}
	if slug == "" {
		slug = "topic"
	}
	topicURL := base + "/t/" + slug + "/" + strconv.FormatInt(p.TopicID, 10)
	postURL := topicURL + "/" + strconv.Itoa(p.PostNumber)
	if p.PostURL != "" {
		postURL = absolute(base, p.PostURL)
	}
	n := providers.Notification{
		Kind: kind,
		Site: providers.Site{Title: forum.Title, BaseURL: base},
		Topic: providers.Topic{
			ID: p.TopicID, Title: title, URL: topicURL, Tags: shownTags(t.Tags, forum.HiddenTags),
		},
		Post: providers.Post{
			ID: p.ID, Number: p.PostNumber, Version: p.Version, URL: postURL,
			Cooked: p.Cooked, Raw: p.Raw, CreatedAt: p.CreatedAt,
		},
		Author: providers.Author{
			Username:    p.Username,
			Name:        p.Name,
			DisplayName: DisplayName(p.Username, p.Name, forum.Names),
			AvatarURL:   discourse.AvatarURL(base, p.AvatarTemplate, 45),
			ProfileURL:  base + "/u/" + p.Username,
		},
	}
	if cid := categoryOf(p, t); cid != nil {
		n.Topic.Category = category(forum.Site, *cid, p.CategorySlug)
	}
	return n
}

// shownTags is tags without the hidden ones, in their order. It copies
// rather than filtering in place, because tags are the topic facts that
// matching reads as well.
func shownTags(tags []string, hidden discourse.HiddenTags) []string {
	if len(hidden) == 0 {
		return tags
	}
	var out []string
	for _, tag := range tags {
		if !hidden.Has(tag) {
			out = append(out, tag)
		}
	}
	return out
}

// category builds the category with its parents from the site data, or a
// bare one from the payload's slug without it.
func category(site *discourse.Site, id int64, slug string) *providers.Category {
	if site != nil {
		if c, ok := site.CategoryByID(id); ok {
			out := &providers.Category{ID: c.ID, Name: c.Name, Slug: c.Slug, Color: c.Color}
			if c.ParentCategoryID != nil && *c.ParentCategoryID != id {
				if pc, ok := site.CategoryByID(*c.ParentCategoryID); ok {
					out.Parent = &providers.Category{ID: pc.ID, Name: pc.Name, Slug: pc.Slug, Color: pc.Color}
				}
			}
			return out
		}
	}
	// Post payloads carry the slug as "<id>-<slug>" on some versions.
	name := strings.TrimPrefix(slug, strconv.FormatInt(id, 10)+"-")
	if name == "" {
		name = "category " + strconv.FormatInt(id, 10)
	}
	return &providers.Category{ID: id, Name: name, Slug: name}
}

func categoryOf(p *discourse.Post, t *TopicFacts) *int64 {
	if p.CategoryID != nil {
		return p.CategoryID
	}
	return t.CategoryID
}

func absolute(base, u string) string {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return base + u
}

// MatchEvent is the matcher's view of a post and its topic. It has every
// tag, hidden ones included: see BuildNotification.
func MatchEvent(p *discourse.Post, t *TopicFacts, site *discourse.Site) rules.Event {
	archetype := p.TopicArchetype
	if archetype == "" {
		archetype = t.Archetype
	}
	if archetype == "" {
		archetype = rules.ArchetypeRegular
	}
	ev := rules.Event{
		PostID:          p.ID,
		PostNumber:      p.PostNumber,
		PostType:        rules.PostType(p.PostType),
		ActionCode:      p.ActionCode,
		Archetype:       archetype,
		CategoryID:      categoryOf(p, t),
		Tags:            t.Tags,
		AllowedGroups:   t.AllowedGroups,
		MentionedGroups: rules.Mentions(p.Raw),
		Unlisted:        t.Visible != nil && !*t.Visible,
	}
	if archetype == rules.ArchetypePrivateMessage {
		ev.CategoryID = nil
	}
	if site != nil && ev.CategoryID != nil {
		for _, c := range site.Ancestors(*ev.CategoryID) {
			ev.ParentCategoryIDs = append(ev.ParentCategoryIDs, c.ID)
		}
	}
	return ev
}
