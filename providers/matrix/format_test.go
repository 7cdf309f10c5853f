package matrix

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

// updateGolden rewrites the golden files: go test ./providers/matrix -update.
var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// goldenNotification is the base of the golden cases: a first post in a
// top-level category.
func goldenNotification() *providers.Notification {
	return &providers.Notification{
		Kind: providers.PostCreated,
		Site: providers.Site{Title: "Example Forum", BaseURL: "https://forum.example.org"},
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

func goldenOptions() formatOptions {
	return formatOptions{MsgType: "m.notice", ExcerptLength: 400}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(n *providers.Notification, o *formatOptions)
		edit   string // event id to replace; "" for a new message
	}{
		{name: "new_topic", modify: func(*providers.Notification, *formatOptions) {}},
		{name: "reply", modify: func(n *providers.Notification, o *formatOptions) {
			n.Post.ID, n.Post.Number, n.Post.URL = 101, 2, "https://forum.example.org/t/welcome/42/2"
			n.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, glad to be here!</p>`
			n.Author = providers.Author{Username: "bob", DisplayName: "@bob", ProfileURL: "https://forum.example.org/u/bob"}
			o.MsgType = "m.text"
		}},
		{name: "tags_parent_category", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Topic.Title = "Upgrade fails on 2.0"
			n.Topic.Tags = []string{"upgrade", "docker", "help-wanted"}
			n.Topic.Category = &providers.Category{
				ID: 7, Name: "Installation", Slug: "installation", Color: "F1592A",
				Parent: &providers.Category{ID: 2, Name: "Support", Slug: "support", Color: "25AAE2"},
			}
			n.Post.Cooked = `<p>Running <code>./launcher rebuild app</code> gives:</p><pre><code>FAILED
exit 1</code></pre><ul><li>Ubuntu 24.04</li><li>Docker 27</li></ul>`
		}},
		{name: "escaping", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Topic.Title = `Q&A: <script>alert("x")</script> & "quotes"`
			n.Topic.Tags = []string{"a&b", "<tag>"}
			// A colour that is not six hex digits never reaches an attribute.
			n.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>", Color: `"><script>`}
			n.Post.URL = `https://forum.example.org/t/q-a/9/1?a=1&b="2"`
			n.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2 <script>alert(1)</script></p>` +
				`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a> ` +
				`<a href="javascript:alert(1)">not a link</a> <span onclick="x()">span</span></p>`
			n.Author.DisplayName = "Jane <Doe> & Co (@jane)"
			n.Author.ProfileURL = "javascript:alert(1)"
		}},
		{name: "thread_reply", modify: func(n *providers.Notification, o *formatOptions) {
			n.Post.ID, n.Post.Number, n.Post.URL = 102, 3, "https://forum.example.org/t/welcome/42/3"
			n.Post.Cooked = `<aside class="quote no-group" data-username="jane"><div class="title">jane:</div><blockquote><p>Hello everyone</p></blockquote></aside><p>Replying in the thread.</p>`
			o.ThreadRoot = "$rootEventId_abcdefghijklmnopqrstuvwxyz0123456"
		}},
		{name: "edit", edit: "$originalEventId_abcdefghijklmnopqrstuvwxyz012", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Kind, n.Post.Version = providers.PostEdited, 2
			n.Post.Cooked = `<p>Hello everyone, <strong>edited</strong>.</p>`
		}},
		{name: "no_category_no_author", modify: func(n *providers.Notification, _ *formatOptions) {
			n.Topic.Category = nil
			n.Author = providers.Author{}
			n.Post.Cooked = ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, o := goldenNotification(), goldenOptions()
			tc.modify(n, &o)
			c := format(n, o)
			if tc.edit != "" {
				c = replacement(n, o, tc.edit)
			}
			wire, err := providers.EncodeJSON(c)
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, json.Indent(&got, wire, "", "  "))
			got.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *updateGolden {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./providers/matrix -update to create it")
			require.JSONEq(t, string(want), got.String())
		})
	}
}

func TestFormatRelations(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	c := format(n, goldenOptions())
	require.Nil(t, c.RelatesTo, "a message outside a thread has no relation")
	require.Nil(t, c.NewContent)
	require.Equal(t, "m.notice", c.MsgType)
	require.Equal(t, htmlFormat, c.Format)

	o := goldenOptions()
	o.ThreadRoot = "$root"
	c = format(n, o)
	require.Equal(t, &relation{RelType: "m.thread", EventID: "$root", IsFallingBack: true, InReplyTo: &inReplyTo{EventID: "$root"}}, c.RelatesTo)

	e := replacement(n, o, "$orig")
	require.Equal(t, &relation{RelType: "m.replace", EventID: "$orig"}, e.RelatesTo, "an edit replaces; the original keeps its thread")
	require.Nil(t, e.NewContent.RelatesTo)
	require.Equal(t, "* "+e.NewContent.Body, e.Body)
	require.Equal(t, "* "+e.NewContent.FormattedBody, e.FormattedBody)
}

func TestExcerptLength(t *testing.T) {
	t.Parallel()
	n := goldenNotification()
	n.Post.Cooked = "<p>" + string(bytes.Repeat([]byte("abcdefghij"), 10)) + "</p>"
	o := goldenOptions()
	o.ExcerptLength = 15
	c := format(n, o)
	require.Contains(t, c.Body, "> abcdefghijabcd…")
	require.Contains(t, c.FormattedBody, "<blockquote><p>abcdefghijabcd…</p></blockquote>")
}

func TestColour(t *testing.T) {
	t.Parallel()
	for colour, want := range map[string]string{"0088CC": "0088CC", "f1592a": "f1592a", "FFF": "", "GGGGGG": "", "": "", `"><b>`: ""} {
		require.Equal(t, want, colourOf(colour), colour)
	}
}

func colourOf(c string) string { return colour(&providers.Category{Color: c}) }

func TestDestinationDefaults(t *testing.T) {
	t.Parallel()
	o := Destination{}.formatOptions()
	require.Equal(t, formatOptions{MsgType: "m.text", ExcerptLength: defaultExcerptLength}, o)
	o = Destination{Notice: true, ExcerptLength: 20}.formatOptions()
	require.Equal(t, formatOptions{MsgType: "m.notice", ExcerptLength: 20}, o)
}

func TestViaServers(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"gitter.im"}, viaServers("#org_repo:gitter.im", []string{"gitter.im"}))
	require.Equal(t, []string{"example.org", "matrix.org"}, viaServers("!id:example.org", []string{"matrix.org", ""}))
	require.Empty(t, viaServers("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", nil), "room version 12 ids name no server")
}

func TestNotInRoom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		eb   *errorBody
		want bool
	}{
		{&errorBody{ErrCode: "M_FORBIDDEN", Error: "User @bot:example.org not in room !x:example.org (None)"}, true},
		{&errorBody{ErrCode: "M_FORBIDDEN", Error: "User is not joined to the room"}, true},
		{&errorBody{ErrCode: "M_FORBIDDEN", Error: "You don't have permission to post that to the room. user_level (0) < send_level (50)"}, false},
		{&errorBody{ErrCode: "M_NOT_FOUND", Error: "not in room"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, notInRoom(tc.eb), "%+v", tc.eb)
	}
}
