package matrix

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func goldenOptions() formatOptions {
	return formatOptions{MsgType: "m.notice", ExcerptLength: 400}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	// What Matrix adds to the shared cases: a reply as m.text, HTML
	// specials in every attribute and text (a colour that is not one, a
	// javascript: profile), a reply in a thread, an edit, and a message
	// without category or author.
	extra := map[string]func(n *providers.Notification, o *formatOptions){
		providertest.GoldenReply: func(_ *providers.Notification, o *formatOptions) {
			o.MsgType = "m.text"
		},
		providertest.GoldenEscaping: func(n *providers.Notification, _ *formatOptions) {
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
		},
		"thread_reply": func(_ *providers.Notification, o *formatOptions) {
			o.ThreadRoot = "$rootEventId_abcdefghijklmnopqrstuvwxyz0123456"
		},
	}
	edit := providertest.GoldenNotification()
	edit.Kind, edit.Post.Version = providers.PostEdited, 2
	edit.Post.Cooked = `<p>Hello everyone, <strong>edited</strong>.</p>`
	bare := providertest.GoldenNotification()
	bare.Topic.Category, bare.Author, bare.Post.Cooked = nil, providers.Author{}, ""
	cases := append(providertest.GoldenCases(),
		providertest.GoldenCase{Name: "thread_reply", Notification: providertest.GoldenThreadReply()},
		providertest.GoldenCase{Name: "edit", Notification: edit},
		providertest.GoldenCase{Name: "no_category_no_author", Notification: bare},
	)
	providertest.RunGolden(t, cases, func(c providertest.GoldenCase) any {
		n, o := c.Notification, goldenOptions()
		if f := extra[c.Name]; f != nil {
			f(n, &o)
		}
		if c.Name == "edit" {
			return replacement(n, o, "$originalEventId_abcdefghijklmnopqrstuvwxyz012")
		}
		return format(n, o)
	})
}

func TestFormatRelations(t *testing.T) {
	t.Parallel()
	n := providertest.GoldenNotification()
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
	n := providertest.GoldenNotification()
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
