package googlechat

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/providertest"
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	providertest.RunGolden(t, providertest.GoldenCases(), func(c providertest.GoldenCase) any {
		return format(c.Notification, defaultExcerptLength)
	})
}

func TestFormatThreadAndLabels(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Filter, n.ThreadID = "thread", "spaces/S/threads/T"
	m := format(n, defaultExcerptLength)
	require.Equal(t, &thread{Name: "spaces/S/threads/T"}, m.Thread)
	require.Equal(t, "New post on Example Forum", m.CardsV2[0].Card.Sections[0].Widgets[0].DecoratedText.TopLabel)

	n.ThreadID = ""
	require.Equal(t, &thread{ThreadKey: "discourse-topic-42"}, format(n, defaultExcerptLength).Thread)
	n.Filter = "follow"
	require.Nil(t, format(n, defaultExcerptLength).Thread)

	n.Post.Number, n.Post.URL, n.Topic.URL, n.Author = 1, "", "", providers.Author{}
	m = format(n, defaultExcerptLength)
	w := m.CardsV2[0].Card.Sections[0].Widgets
	require.Len(t, w, 1, "no link, no button")
	require.Equal(t, "New topic on Example Forum", w[0].DecoratedText.TopLabel)
	require.Empty(t, w[0].DecoratedText.BottomLabel)
	require.Nil(t, w[0].DecoratedText.StartIcon)
}
