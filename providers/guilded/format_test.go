package guilded

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

// goldenCases are the cases every provider pins, built on the suite's
// notification (a reply with tags in a subcategory): a new topic, a reply
// by a user without a full name, tags with a parent category, and text
// that needs escaping.
func goldenCases() map[string]*providers.Notification {
	newTopic := providertest.Notification()
	newTopic.Post.Number, newTopic.Post.URL = 1, "https://forum.example.org/t/upgrading-to-2-0/42/1"
	newTopic.Topic.Tags, newTopic.Topic.Category.Parent = nil, nil
	reply := providertest.Notification()
	reply.Topic.Tags, reply.Topic.Category.Parent = nil, nil
	reply.Post.Cooked = `<p>Thanks <a class="mention" href="/u/jane">@jane</a>, that worked!</p>`
	reply.Author = providers.Author{Username: "bob_smith", DisplayName: "@bob_smith"}
	escaping := providertest.Notification()
	escaping.Topic.Title = "Q&A: <script> & *bold* [x](y) _z_"
	escaping.Topic.Tags = []string{"a&b"}
	escaping.Topic.Category = &providers.Category{ID: 4, Name: "R&D <lab>"}
	escaping.Post.Cooked = `<p>1 &lt; 2 &amp;&amp; 3 &gt; 2, *not bold*, _maybe_ [not](a link)</p>` +
		`<p><a href="https://example.com/search?q=a&amp;b=c">search &amp; find</a></p>`
	escaping.Author.Name, escaping.Author.DisplayName = "Jane *Doe* <jd>", "Jane *Doe* <jd> (@jane)"
	return map[string]*providers.Notification{
		"new_topic": newTopic, "reply": reply, "tags_parent_category": providertest.Notification(), "escaping": escaping,
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requireGolden(t, name, format(n, defaultExcerptLength))
		})
	}
}

// requireGolden compares v, encoded as it is sent, with
// testdata/<name>.golden.json; CHATSIDECAR_UPDATE_GOLDEN=1 rewrites it.
func requireGolden(t *testing.T, name string, v any) {
	t.Helper()
	wire, err := providers.EncodeJSON(v)
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, json.Indent(&got, wire, "", "  "))
	got.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden.json")
	if os.Getenv("CHATSIDECAR_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with CHATSIDECAR_UPDATE_GOLDEN=1 to create it")
	require.Equal(t, string(want), got.String())
}

func TestFormatWithoutAuthorOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags, n.Author, n.Post.URL, n.Post.Cooked = nil, nil, providers.Author{}, "", ""
	n.Post.CreatedAt = time.Time{}
	require.Equal(t, message{Embeds: []embed{{Title: "Upgrading to 2.0 & beyond", URL: "https://forum.example.org/t/upgrading-to-2-0/42"}}}, format(n, defaultExcerptLength))
}
