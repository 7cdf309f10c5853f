package markup

// Emoji says how Discourse's emoji images are rendered.
type Emoji int

const (
	// EmojiShortcode renders an emoji as its Discourse code, ":smile:".
	// Platforms that expand shortcodes themselves (Mattermost, Rocket.Chat,
	// Zulip) show their own image for it.
	EmojiShortcode Emoji = iota
	// EmojiUnicode renders an emoji as its Unicode character, "😄", when
	// the built-in table knows it, and as its shortcode otherwise (custom
	// emoji, rare names).
	EmojiUnicode
)

// Options controls a conversion. The zero value converts without a limit,
// keeps relative links only when they can be resolved (that is, drops
// them to their text) and renders emoji as shortcodes.
type Options struct {
	// BaseURL is the forum's origin, such as "https://forum.example.org".
	// Relative and protocol-relative links and images are made absolute
	// with it; without it they are rendered as their text.
	BaseURL string
	// Limit is the most visible characters (runes) the result may show;
	// 0 or less means no limit. Visible characters are text, link text,
	// code, emoji and, in plain text, the " (url)" after a link; markup
	// syntax, list markers and line breaks are not counted. A cut result
	// ends with "…", which counts towards the limit, and is never cut
	// inside a tag, an entity, an escape or a link's URL.
	Limit int
	// Emoji selects shortcodes or Unicode for Discourse's emoji images.
	Emoji Emoji
}

// ellipsis ends a truncated result, as Discourse's own excerpts end.
const ellipsis = "…"

// spoilerText stands for hidden content on platforms that cannot hide it.
const spoilerText = "(spoiler)"

// Markdown converts cooked HTML to CommonMark for Discord, Mattermost,
// Rocket.Chat, Zulip, Teams, Webex and Guilded: [text](url) links,
// **bold**, *italic*, ~~strike~~, `code`, fenced code blocks, "> " quotes
// and "-"/"1." lists. Text is escaped so that it shows literally; headings
// become bold paragraphs, spoilers become "(spoiler)", and images become
// links to the image.
func Markdown(cooked string, o Options) string {
	return render(cooked, o, targetMarkdown)
}

// GoogleChatText converts cooked HTML to Google Chat's text message
// format: *bold*, _italic_, ~strike~, `code`, ``` blocks and <url|text>
// links. Google Chat has no escape character, so stray formatting
// characters in text may format; a "<" in text is followed by a zero-width
// space so that text can never become a link or a <users/all> mention.
func GoogleChatText(cooked string, o Options) string {
	return render(cooked, o, targetGoogleChat)
}

// TelegramHTML converts cooked HTML to Telegram's HTML parse mode: only
// b, i, u, s, a href, code, pre, blockquote and tg-spoiler, with newlines
// for line breaks, "•"/"1." for lists and & < > " escaped. Blockquotes are
// not nested, as Telegram refuses nested ones.
func TelegramHTML(cooked string, o Options) string {
	return render(cooked, o, targetTelegram)
}

// MatrixHTML converts cooked HTML to a Matrix formatted_body
// (org.matrix.custom.html) using only the tags the Matrix spec recommends
// clients allow, with no attributes except href on links (http, https and
// mailto only) and src on images (mxc only; other images become links).
func MatrixHTML(cooked string, o Options) string {
	return render(cooked, o, targetMatrix)
}

// PlainText converts cooked HTML to text without markup, for GroupMe and
// for the plain bodies that accompany formatted messages. Links show as
// "text (url)" when the text is not the URL itself, lists as "•"/"1."
// lines and quotes as "> " lines.
func PlainText(cooked string, o Options) string {
	return render(cooked, o, targetPlain)
}

type target int

const (
	targetMarkdown target = iota
	targetGoogleChat
	targetTelegram
	targetMatrix
	targetPlain
)

// render parses cooked, truncates the tree for t and renders it.
func render(cooked string, o Options, t target) string {
	root := parse(cooked, o)
	truncate(root, o.Limit, t)
	switch t {
	case targetTelegram:
		return renderTelegram(root)
	case targetMatrix:
		return renderMatrix(root)
	default:
		return renderText(root, dialectFor(t))
	}
}
