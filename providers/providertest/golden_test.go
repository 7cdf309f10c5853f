package providertest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestGoldenCases(t *testing.T) {
	t.Parallel()
	cases := providertest.GoldenCases()
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.Name
		require.NotNil(t, c.Notification, c.Name)
	}
	require.Equal(t, []string{"new_topic", "reply", "tags_parent_category", "escaping"}, names)
	require.Equal(t, 1, cases[0].Notification.Post.Number)
	require.Equal(t, 2, cases[1].Notification.Post.Number)
	require.NotNil(t, cases[2].Notification.Topic.Category.Parent)
	require.NotEmpty(t, cases[2].Notification.Topic.Tags)

	// Every case is its own value: changing one changes no other.
	cases[0].Notification.Topic.Category.Name = "changed"
	require.Equal(t, "General", providertest.GoldenCases()[0].Notification.Topic.Category.Name)
	require.Equal(t, "General", cases[1].Notification.Topic.Category.Name)
}

func TestRequireGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.golden.json")
	require.NoError(t, os.WriteFile(path, []byte("{\n  \"a\": \"<b>\",\n  \"n\": [\n    1\n  ]\n}\n"), 0o644))
	// Compact or indented, the same document matches the indented file.
	providertest.RequireGolden(t, path, []byte(`{"a":"<b>","n":[1]}`))
	providertest.RequireGolden(t, path, []byte("{\n  \"a\": \"<b>\", \"n\": [1]}"))
}
