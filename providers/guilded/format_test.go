package guilded

import (
	"testing"
	"time"

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

func TestFormatWithoutAuthorOrCategory(t *testing.T) {
	t.Parallel()
	n := providertest.Notification()
	n.Topic.Category, n.Topic.Tags, n.Author, n.Post.URL, n.Post.Cooked = nil, nil, providers.Author{}, "", ""
	n.Post.CreatedAt = time.Time{}
	require.Equal(t, message{Embeds: []embed{{Title: "Upgrading to 2.0 & beyond", URL: "https://forum.example.org/t/upgrading-to-2-0/42"}}}, format(n, defaultExcerptLength))
}
