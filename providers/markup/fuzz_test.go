package markup

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// FuzzMarkup feeds arbitrary input to every converter and checks that
// nothing panics, HTML outputs are balanced and use only their allowed
// tags and attributes, and the limit holds.
func FuzzMarkup(f *testing.F) {
	for _, s := range []string{
		"", "plain text", "<p>a</p>", cookedRelative, cookedHostile, cookedEmoji, cookedCode, cookedFence,
		cookedQuote, cookedBlockquote, cookedOnebox, cookedMention, cookedHashtag, cookedList, cookedNested,
		cookedLightbox, cookedSpoiler, cookedTable, cookedDetails, cookedPlainInput, cookedJavascript,
		"<a href='/x'><div><p>block in link</p></div></a>", "<b><p>x</p><ul><li>y</li></ul></b>",
		"<pre>a\n<b>b</b></pre>", "<ol start=99999999999><li>x</li></ol>", "<img src=mxc://a/b alt=x>",
		"<span class=spoiler><pre>x</pre></span>", "<h1><blockquote>q</blockquote></h1>", "&amp;&lt;&#0;\x00",
	} {
		f.Add(s, 0, false)
		f.Add(s, 7, true)
	}
	f.Fuzz(func(t *testing.T, cooked string, limit int, unicode bool) {
		o := Options{BaseURL: base, Limit: limit % 300}
		if unicode {
			o.Emoji = EmojiUnicode
		}
		checkOutputs(t, cooked, o)
	})
}

// checkOutputs converts cooked for every target and checks the
// invariants every output must keep.
func checkOutputs(t *testing.T, cooked string, o Options) {
	t.Helper()
	for _, tg := range []target{targetMarkdown, targetGoogleChat, targetTelegram, targetMatrix, targetPlain} {
		out := render(cooked, o, tg)
		if !utf8.ValidString(out) && utf8.ValidString(cooked) {
			t.Fatalf("target %d: invalid UTF-8 %q from %q", tg, out, cooked)
		}
		if o.Limit > 0 {
			root := parse(cooked, o)
			truncate(root, o.Limit, tg)
			if v := visible(root, tg); v > o.Limit {
				t.Fatalf("target %d: %d visible characters over limit %d: %q from %q", tg, v, o.Limit, out, cooked)
			}
		}
		switch tg {
		case targetTelegram:
			checkHTML(t, out, cooked, telegramAllowed)
		case targetMatrix:
			text := checkHTML(t, out, cooked, matrixAllowed)
			if n := nonSpaceRunes(text); o.Limit > 0 && n > o.Limit {
				t.Fatalf("matrix: %d characters of text over limit %d: %q from %q", n, o.Limit, out, cooked)
			}
		}
	}
}

func nonSpaceRunes(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// telegramAllowed accepts Telegram's tags: href on a, a language class on
// code, nothing else.
func telegramAllowed(tag string, attrs []html.Attribute) bool {
	switch tag {
	case "b", "i", "u", "s", "pre", "blockquote", "tg-spoiler":
		return len(attrs) == 0
	case "code":
		return len(attrs) == 0 || len(attrs) == 1 && attrs[0].Key == "class" && strings.HasPrefix(attrs[0].Val, "language-")
	case "a":
		return len(attrs) == 1 && attrs[0].Key == "href" && safeHref(attrs[0].Val)
	}
	return false
}

// matrixAllowed accepts the Matrix spec's recommended tags with href on a
// and an mxc src on img only.
func matrixAllowed(tag string, attrs []html.Attribute) bool {
	switch tag {
	case "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "ul", "ol", "sup", "sub",
		"li", "b", "i", "u", "strong", "em", "strike", "code", "hr", "br", "div", "table", "thead", "tbody",
		"tr", "th", "td", "caption", "pre", "span", "details", "summary":
		return len(attrs) == 0
	case "a":
		return len(attrs) == 1 && attrs[0].Key == "href" && safeHref(attrs[0].Val)
	case "img":
		return len(attrs) == 1 && attrs[0].Key == "src" && strings.HasPrefix(attrs[0].Val, "mxc://")
	}
	return false
}

func safeHref(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "mailto:")
}

// checkHTML tokenizes out, fails on unbalanced or disallowed markup and
// returns its text.
func checkHTML(t *testing.T, out, cooked string, allowed func(string, []html.Attribute) bool) string {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	var stack []string
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if len(stack) > 0 {
				t.Fatalf("unclosed %v in %q from %q", stack, out, cooked)
			}
			return text.String()
		case html.TextToken:
			text.WriteString(html.UnescapeString(string(z.Text())))
		case html.StartTagToken:
			tok := z.Token()
			if !allowed(tok.Data, tok.Attr) {
				t.Fatalf("disallowed <%s %v> in %q from %q", tok.Data, tok.Attr, out, cooked)
			}
			if tok.Data != "br" && tok.Data != "hr" && tok.Data != "img" {
				stack = append(stack, tok.Data)
			}
		case html.SelfClosingTagToken:
			t.Fatalf("self-closing tag in %q from %q", out, cooked)
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("unbalanced </%s> (open %v) in %q from %q", tok.Data, stack, out, cooked)
			}
			stack = stack[:len(stack)-1]
		default:
			t.Fatalf("unexpected token %v in %q from %q", z.Token(), out, cooked)
		}
	}
}

func BenchmarkMarkup(b *testing.B) {
	post := strings.Repeat(cookedQuote+cookedList+cookedNested+cookedCode+cookedOnebox+cookedEmoji+cookedLightbox, 3)
	o := Options{BaseURL: base, Limit: 400, Emoji: EmojiUnicode}
	b.SetBytes(int64(len(post)))
	b.ReportAllocs()
	for b.Loop() {
		Markdown(post, o)
		TelegramHTML(post, o)
		MatrixHTML(post, o)
		PlainText(post, o)
	}
}
