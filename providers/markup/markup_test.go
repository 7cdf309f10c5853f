package markup

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const base = "https://forum.example.org"

// convertCase is one row of a per-function table.
type convertCase struct {
	name   string
	cooked string
	opts   Options
	want   string
}

func runCases(t *testing.T, convert func(string, Options) string, tests []convertCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.opts
			if o.BaseURL == "" {
				o.BaseURL = base
			}
			require.Equal(t, tc.want, convert(tc.cooked, o))
		})
	}
}

func TestMarkdownBasics(t *testing.T) {
	t.Parallel()
	runCases(t, Markdown, []convertCase{
		{name: "paragraphs", cooked: `<p>one</p><p>two</p>`, want: "one\n\ntwo"},
		{name: "relative link", cooked: `<a href="/t/slug/7">topic</a>`, want: "[topic](https://forum.example.org/t/slug/7)"},
		{name: "emoji unicode", cooked: `<img class="emoji" alt=":smile:" title=":smile:">`, opts: Options{Emoji: EmojiUnicode}, want: "😄"},
		{name: "cut", cooked: `<p>abcdefgh</p>`, opts: Options{Limit: 5}, want: "abcd…"},
	})
}
