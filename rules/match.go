package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule is the matcher's view of a routing rule. It is independent of the
// store so that matching stays a pure function; callers convert stored
// rules into this shape before building an Index.
//
// Fields that do not apply to the rule's type are ignored, as the
// reference's validations make them impossible: GroupName on a normal rule,
// CategoryID and IncludeSubcategories on group rules, and
// IncludeSubcategories on a rule for all categories.
type Rule struct {
	// ID identifies the rule and breaks precedence ties (lower id wins).
	ID int64
	// ChannelID is the channel the rule delivers to; at most one rule per
	// channel wins for an event.
	ChannelID int64
	// Filter is mute, thread, watch or follow. A rule with any other filter
	// (such as the legacy tag_added) never matches, as in the reference.
	Filter Filter
	// Type is normal, group_message or group_mention. A rule with any other
	// type never matches.
	Type Type
	// CategoryID restricts a normal rule to one category; nil means all
	// categories (but never private messages).
	CategoryID *int64
	// IncludeSubcategories extends a normal category rule to topics in the
	// category's descendants. It is an extension the reference lacks, so it
	// defaults to false.
	IncludeSubcategories bool
	// Tags restricts the rule to topics with at least one of these tags
	// when tagging is enabled; empty means any tags. Compared
	// case-insensitively.
	Tags []string
	// GroupName names the group of a group_message or group_mention rule.
	// Compared case-insensitively, as Discourse group names are unique
	// regardless of case.
	GroupName string
}

// PostType is Discourse's post_type. Only regular posts notify, plus the
// whisper core creates when a topic changes category.
type PostType int

// Discourse post types.
const (
	PostRegular         PostType = 1
	PostModeratorAction PostType = 2
	PostSmallAction     PostType = 3
	PostWhisper         PostType = 4
)

// ActionCategoryChanged is the action_code of the whisper core posts when a
// topic moves to another category; it is the only non-regular post that can
// notify.
const ActionCategoryChanged = "category_changed"

// Topic archetypes. Anything other than a private message is matched as a
// regular topic, as the reference does.
const (
	ArchetypeRegular        = "regular"
	ArchetypePrivateMessage = "private_message"
)

// Event is what the matcher needs to know about one created post and its
// topic. Visibility to the integration user is the caller's concern: the
// caller must not pass posts that user cannot see.
type Event struct {
	// PostID identifies the post; the matcher does not use it, it is
	// carried so callers can keep event and matches together.
	PostID int64
	// PostNumber is the post's position in its topic; 1 is the first post,
	// which alone triggers follow rules.
	PostNumber int
	// PostType is the post's type. The zero value is not a regular post, so
	// an event whose type was never set matches nothing.
	PostType PostType
	// ActionCode is the post's action_code; only ActionCategoryChanged
	// matters.
	ActionCode string
	// Archetype is ArchetypeRegular or ArchetypePrivateMessage.
	Archetype string
	// CategoryID is the topic's (new) category, nil for a topic without
	// one.
	CategoryID *int64
	// ParentCategoryIDs are the ancestors of CategoryID, nearest first. They
	// only matter to rules with IncludeSubcategories.
	ParentCategoryIDs []int64
	// Tags are all of the topic's tag names. Hiding staff-only tags is a
	// display concern; matching sees every tag, as the reference does.
	Tags []string
	// AllowedGroups are the names of the groups a private message is sent
	// to. A private message without groups notifies nobody.
	AllowedGroups []string
	// MentionedGroups are the lower-cased @names of the post's raw text (see
	// Mentions). Names that are not groups with rules are harmless.
	MentionedGroups []string
	// Unlisted reports that the topic is unlisted; it only matters with
	// Options.SkipUnlisted.
	Unlisted bool
}

// Options carries the site settings that change matching. The zero value
// disables tagging and every extension.
type Options struct {
	// TaggingEnabled mirrors Discourse's tagging_enabled: when false,
	// tag-restricted rules match as if they had no tags.
	TaggingEnabled bool
	// SkipUnlisted drops events from unlisted topics (core's
	// chat_integration_ignore_unlisted_topics); off reproduces the plugin.
	SkipUnlisted bool
}

// Match is the winning rule of one channel for one event.
type Match struct {
	// Rule points into the Index that produced the match and must be
	// treated as read-only.
	Rule *Rule
}

// Mentions returns the distinct @names in a post's raw text, lower-cased
// and in order of first appearance, mirroring Discourse's raw_mentions
// closely enough to find group mentions. An @ preceded by a letter, digit
// or one of "_.-/@`" is not a mention, so e-mail addresses and URLs do not
// count; mentions inside inline code and fenced code blocks are skipped;
// trailing dots and dashes are not part of a name ("ping @team." is team).
func Mentions(raw string) []string {
	var out []string
	fenced := false
	for len(raw) > 0 {
		line := raw
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		if isFence(line) {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		out = lineMentions(line, out)
	}
	return out
}

// isFence reports whether line opens or closes a fenced code block.
func isFence(line string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}

func lineMentions(line string, out []string) []string {
	prev := ' '
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == '`':
			n := countByte(line[i:], '`')
			fence := line[i : i+n]
			if end := strings.Index(line[i+n:], fence); end >= 0 {
				i += n + end + n
				prev = '`'
				continue
			}
			i += n
			prev = '`'
			continue
		case r == '@' && !joinsMention(prev):
			j := i + 1
			for j < len(line) {
				c, s := utf8.DecodeRuneInString(line[j:])
				if !isNameRune(c) {
					break
				}
				j += s
			}
			name := strings.TrimRight(line[i+1:j], ".-")
			if name != "" {
				if c, _ := utf8.DecodeRuneInString(name); c != '.' && c != '-' {
					out = appendUnique(out, strings.ToLower(name))
				}
			}
			if j > i+1 {
				prev, _ = utf8.DecodeLastRuneInString(line[i+1 : j])
			} else {
				prev = '@'
			}
			i = j
			continue
		}
		prev = r
		i += size
	}
	return out
}

func countByte(s string, b byte) int {
	n := 0
	for n < len(s) && s[n] == b {
		n++
	}
	return n
}

// joinsMention reports whether a rune before @ makes it part of a word, an
// address or a path rather than a mention.
func joinsMention(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_.-/@`", r)
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '_' || r == '.' || r == '-'
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
