package providertest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// Golden payload tests pin, in testdata/<case>.golden.json, what a
// provider sends for the same notifications on every platform, so a change
// to a formatter or to the markup converter shows up as a reviewable diff.
// A provider adds its own settings and cases (a thread reply, an edit) and
// may sharpen the escaping case with its platform's own specials.

// UpdateGoldenEnv is the environment variable that makes RequireGolden
// rewrite the golden files instead of comparing:
// CHATSIDECAR_UPDATE_GOLDEN=1 go test ./providers/<name>.
const UpdateGoldenEnv = "CHATSIDECAR_UPDATE_GOLDEN"

// The standard golden cases, by name; a name is also its file's stem.
const (
	// GoldenNewTopic is GoldenNotification: the first post of a topic in
	// a top-level category.
	GoldenNewTopic = "new_topic"
	// GoldenReply is a second post by a user without a full name.
	GoldenReply = "reply"
	// GoldenTagsParentCategory is a topic with tags in a subcategory,
	// whose post has code, a code block and a list.
	GoldenTagsParentCategory = "tags_parent_category"
	// GoldenEscaping has Markdown and HTML specials in every text the
	// platforms show: title, tags, category, excerpt and author.
	GoldenEscaping = "escaping"
)

// GoldenCase is one notification a provider pins.
type GoldenCase struct {
	Name         string // testdata/<Name>.golden.json
	Notification *providers.Notification
}

// GoldenNotification returns the base of the golden cases: the first post
// of a topic in a top-level category, with an emoji and a relative link.
// Each call returns a fresh value the caller may change.
func GoldenNotification() *providers.Notification {
	return &providers.Notification{
		Kind: providers.PostCreated,
		Site: providers.Site{Title: "Example Forum", BaseURL: "https://forum.example.org", LogoURL: "https://forum.example.org/uploads/logo-small.png"},
		Topic: providers.Topic{
			ID: 42, Title: "Welcome to the forum", URL: "https://forum.example.org/t/welcome/42",
			Category: &providers.Category{ID: 3, Name: "General", Slug: "general", Color: "0088CC"},
		},
		Post: providers.Post{
			ID: 100, Number: 1, Version: 1, URL: "https://forum.example.org/t/welcome/42/1",
			Cooked:    `<p>Hello everyone <img src="/images/emoji/twitter/wave.png?v=12" title=":wave:" class="emoji" alt=":wave:" loading="lazy" width="20" height="20"></p><p>Please read the <a href="/guidelines">guidelines</a> first.</p>`,
			CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		},
		Author: providers.Author{
			Username: "jane", Name: "Jane Doe", DisplayName: "Jane Doe (@jane)",
			AvatarURL:  "https://forum.example.org/user_avatar/forum.example.org/jane/48/1_2.png",
			ProfileURL: "https://forum.example.org/u/jane",
		},
		Filter: "watch",
	}
}

// GoldenCases returns the four cases every provider pins, in a fixed
// order, each with its own notification.
func GoldenCases() []GoldenCase {
	reply := GoldenNotification()
	reply.Post.ID, reply.Post.Number, reply.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
	reply.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
	reply.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob"}

	tags := GoldenNotification()
	tags.Topic.Title = "Upgrade fails on 2.0"
	tags.Topic.Tags = []string{"upgrade", "docker", "help-wanted"}
	tags.Topic.Category = &providers.Category{
		ID: 7, Name: "Installation", Slug: "installation", Color: "F1592A",
		Parent: &providers.Category{ID: 2, Name: "Support", Slug: "support", Color: "25AAE2"},
	}
	tags.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`

	escaping := GoldenNotification()
	escaping.Topic.Title = "Q&A: <script> & *bold* [x](y) _z_"
	escaping.Topic.Tags = []string{"a&b"}
	escaping.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>"}
	escaping.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ [not](a link)</p>` +
		`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a></p>`
	escaping.Author.Username, escaping.Author.Name = "jane_doe", "Jane *Doe* <jd>"
	escaping.Author.DisplayName = "Jane *Doe* <jd> (@jane_doe)"

	return []GoldenCase{
		{Name: GoldenNewTopic, Notification: GoldenNotification()},
		{Name: GoldenReply, Notification: reply},
		{Name: GoldenTagsParentCategory, Notification: tags},
		{Name: GoldenEscaping, Notification: escaping},
	}
}

// GoldenThreadReply returns the base of a thread-reply case, for providers
// that reply into threads: a third post that quotes the first. The caller
// puts it into a thread in its platform's own form (Filter and ThreadID,
// or a root it passes along).
func GoldenThreadReply() *providers.Notification {
	n := GoldenNotification()
	n.Post.ID, n.Post.Number, n.Post.URL = 102, 3, "https://forum.example.org/t/welcome/42/3"
	n.Post.Cooked = `<aside class="quote no-group" data-username="jane"><div class="title">jane:</div><blockquote><p>Hello everyone</p></blockquote></aside><p>Replying in the thread.</p>`
	return n
}

// GoldenPath returns testdata/<name>.golden.json.
func GoldenPath(name string) string {
	return filepath.Join("testdata", name+".golden.json")
}

// RequireGolden compares got, a JSON document, with the golden file at
// path, both indented by two spaces, so a failure shows a line diff; with
// CHATSIDECAR_UPDATE_GOLDEN=1 it rewrites the file first.
func RequireGolden(t testing.TB, path string, got []byte) {
	t.Helper()
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, got, "", "  "), "not JSON")
	indented.WriteByte('\n')
	if os.Getenv(UpdateGoldenEnv) == "1" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, indented.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with %s=1 to create it", UpdateGoldenEnv)
	require.Equal(t, string(want), indented.String(), "run with %s=1 to accept the change", UpdateGoldenEnv)
}

// RequireGoldenJSON encodes v as providers send it (providers.EncodeJSON:
// no \u003c escapes) and compares it with testdata/<name>.golden.json.
func RequireGoldenJSON(t testing.TB, name string, v any) {
	t.Helper()
	wire, err := providers.EncodeJSON(v)
	require.NoError(t, err)
	RequireGolden(t, GoldenPath(name), wire)
}

// RunGolden runs one parallel subtest per case, named after it, comparing
// payload's result for the case, encoded as it is sent, with
// testdata/<case>.golden.json. payload may change the case's notification,
// which is the subtest's own.
func RunGolden(t *testing.T, cases []GoldenCase, payload func(c GoldenCase) any) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			RequireGoldenJSON(t, c.Name, payload(c))
		})
	}
}

// RunGoldenTweaked is RunGolden for a payload that also depends on a
// provider's target or format options, of type O: each case gets a fresh
// O from newO, then tweaks[case name], when there is one, changes the
// case's notification and O (the provider's own settings, and its
// platform's specials in the escaping case) before payload builds what is
// sent.
func RunGoldenTweaked[O any](t *testing.T, cases []GoldenCase, newO func() O,
	tweaks map[string]func(n *providers.Notification, o O), payload func(n *providers.Notification, o O) any) {
	t.Helper()
	RunGolden(t, cases, func(c GoldenCase) any {
		o := newO()
		if tweak := tweaks[c.Name]; tweak != nil {
			tweak(c.Notification, o)
		}
		return payload(c.Notification, o)
	})
}
