package markup

import (
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parse builds the document tree of cooked. Text that is not HTML parses
// as one text node, so plain text input works too.
func parse(cooked string, o Options) *node {
	nodes, err := html.ParseFragment(strings.NewReader(cooked), &html.Node{
		Type: html.ElementNode, Data: "body", DataAtom: atom.Body,
	})
	if err != nil { // only on a failing reader, which a string never is
		return &node{kind: kRoot}
	}
	b := &builder{emoji: o.Emoji}
	if base, err := url.Parse(strings.TrimSpace(o.BaseURL)); err == nil && base.IsAbs() && base.Host != "" {
		b.base = base
	}
	root := &node{kind: kRoot}
	if allText(nodes) {
		root.kids = textBlocks(nodes)
	} else {
		root.kids = b.blocks(nodes)
	}
	clean(root)
	return root
}

// allText reports input without a single element: plain text rather than
// cooked HTML.
func allText(hs []*html.Node) bool {
	for _, h := range hs {
		if h.Type != html.TextNode {
			return false
		}
	}
	return true
}

// textBlocks keeps the lines of plain text input that a browser would
// collapse: blank lines separate paragraphs and single newlines break
// lines.
func textBlocks(hs []*html.Node) []*node {
	var sb strings.Builder
	for _, h := range hs {
		sb.WriteString(h.Data)
	}
	text := strings.ReplaceAll(strings.ReplaceAll(sb.String(), "\r\n", "\n"), "\r", "\n")
	var out []*node
	for _, para := range strings.Split(text, "\n\n") {
		p := &node{kind: kPara}
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				p.kids = append(p.kids, &node{kind: kBreak})
			}
			p.kids = append(p.kids, &node{kind: kText, text: collapseSpace(line)})
		}
		out = append(out, p)
	}
	return out
}

// builder turns HTML nodes into document nodes.
type builder struct {
	base   *url.URL // nil when the forum's URL is unknown
	emoji  Emoji
	inLink int // depth inside links: links and images inside become text
}

// blocks converts a sequence of sibling HTML nodes into blocks; runs of
// inline content become paragraphs.
func (b *builder) blocks(hs []*html.Node) []*node {
	var out, run []*node
	flush := func() {
		if len(run) > 0 {
			out = append(out, &node{kind: kPara, kids: run})
			run = nil
		}
	}
	for _, h := range hs {
		if h.Type == html.ElementNode && isBlockElement(h) {
			flush()
			out = append(out, b.block(h)...)
			continue
		}
		run = append(run, b.inline(h)...)
	}
	flush()
	return out
}

// block converts a block-level element.
func (b *builder) block(h *html.Node) []*node {
	if skipped(h) {
		return nil
	}
	switch h.DataAtom {
	case atom.Blockquote:
		return []*node{{kind: kQuote, kids: b.blocks(children(h))}}
	case atom.Ul, atom.Ol:
		return []*node{b.list(h)}
	case atom.Pre:
		return []*node{codeBlock(h)}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return []*node{{kind: kHeading, kids: b.inlines(children(h))}}
	case atom.Hr:
		return []*node{{kind: kRule}}
	case atom.Table:
		return []*node{{kind: kPara, kids: b.table(h)}}
	case atom.Details:
		// Collapsed content stays collapsed: only the summary shows.
		if s := findElement(h, atom.Summary); s != nil {
			return []*node{{kind: kPara, kids: b.inlines(children(s))}}
		}
		return nil
	case atom.Aside:
		switch {
		case hasClass(h, "onebox"):
			return b.onebox(h)
		case hasClass(h, "quote"):
			return b.quote(h)
		}
	case atom.Div:
		if hasClass(h, "spoiler") || hasClass(h, "spoiled") {
			return []*node{{kind: kPara, kids: []*node{{kind: kSpoiler, kids: b.inlines(children(h))}}}}
		}
	}
	return b.blocks(children(h))
}

// list converts ul or ol. Content outside li elements becomes an item of
// its own, whitespace aside.
func (b *builder) list(h *html.Node) *node {
	l := &node{kind: kList, ordered: h.DataAtom == atom.Ol, start: 1}
	if l.ordered {
		if n, ok := parseStart(attr(h, "start")); ok {
			l.start = n
		}
	}
	var loose []*html.Node
	flush := func() {
		if len(loose) > 0 {
			l.kids = append(l.kids, &node{kind: kItem, kids: b.blocks(loose)})
			loose = nil
		}
	}
	for c := h.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.DataAtom == atom.Li:
			flush()
			l.kids = append(l.kids, &node{kind: kItem, kids: b.blocks(children(c))})
		case c.Type == html.TextNode && strings.TrimSpace(c.Data) == "":
		default:
			loose = append(loose, c)
		}
	}
	flush()
	return l
}

// parseStart reads an ol's start attribute, within a sane range.
func parseStart(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// codeBlock converts pre: its text verbatim and the language Discourse
// records as class "lang-x" on the inner code element.
func codeBlock(h *html.Node) *node {
	n := &node{kind: kCodeBlock, text: strings.TrimRight(textContent(h), "\n")}
	if c := findElement(h, atom.Code); c != nil {
		for _, cl := range strings.Fields(attr(c, "class")) {
			if lang, ok := strings.CutPrefix(cl, "lang-"); ok && lang != "auto" && lang != "nohighlight" && lang != "plaintext" {
				n.lang = lang
			}
		}
	}
	return n
}

// table flattens a table to lines of cells separated by " | ": chat
// platforms either lack tables or render them poorly in an excerpt.
func (b *builder) table(h *html.Node) []*node {
	var out []*node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.DataAtom != atom.Tr {
				walk(c)
				continue
			}
			if len(out) > 0 {
				out = append(out, &node{kind: kBreak})
			}
			first := true
			for cell := c.FirstChild; cell != nil; cell = cell.NextSibling {
				if cell.Type != html.ElementNode || (cell.DataAtom != atom.Td && cell.DataAtom != atom.Th) {
					continue
				}
				if !first {
					out = append(out, &node{kind: kText, text: " | "})
				}
				first = false
				out = append(out, b.inlines(children(cell))...)
			}
		}
	}
	walk(h)
	return out
}

// onebox renders a link preview as a link to its source, titled with the
// previewed page's title when there is one: the chat platform makes its
// own preview.
func (b *builder) onebox(h *html.Node) []*node {
	href := attr(h, "data-onebox-src")
	var src *html.Node
	if hd := findElement(h, atom.Header); hd != nil {
		src = find(hd, func(c *html.Node) bool { return c.DataAtom == atom.A && attr(c, "href") != "" })
	}
	if src == nil {
		src = find(h, func(c *html.Node) bool { return c.DataAtom == atom.A && attr(c, "href") != "" })
	}
	if href == "" && src != nil {
		href = attr(src, "href")
	}
	title := ""
	for _, a := range []atom.Atom{atom.H3, atom.H4, atom.H2} {
		if t := findElement(h, a); t != nil {
			title = collapsedText(t)
			break
		}
	}
	if title == "" && src != nil {
		title = collapsedText(src)
	}
	u := b.resolve(href)
	switch {
	case u == "" && title == "":
		return nil
	case u == "" || b.inLink > 0:
		return []*node{{kind: kPara, kids: []*node{{kind: kText, text: title}}}}
	case title == "":
		title = u
	}
	return []*node{{kind: kPara, kids: []*node{{kind: kLink, href: u, kids: []*node{{kind: kText, text: title}}}}}}
}

// quote renders a Discourse quote of another post as a blockquote whose
// first line is "name:".
func (b *builder) quote(h *html.Node) []*node {
	q := &node{kind: kQuote}
	name := strings.TrimSpace(attr(h, "data-username"))
	if name == "" {
		if t := find(h, func(c *html.Node) bool { return c.DataAtom == atom.Div && hasClass(c, "title") }); t != nil {
			name = strings.TrimSuffix(collapsedText(t), ":")
		}
	}
	for c := h.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.DataAtom == atom.Blockquote:
			q.kids = append(q.kids, b.blocks(children(c))...)
		case c.Type == html.ElementNode && hasClass(c, "title"):
		default:
			q.kids = append(q.kids, b.blocks([]*html.Node{c})...)
		}
	}
	// The attribution is the quote's first line, on its own line of the
	// first paragraph when there is one.
	if name = strings.TrimSpace(name); name != "" {
		attribution := &node{kind: kText, text: name + ":"}
		if len(q.kids) > 0 && q.kids[0].kind == kPara {
			q.kids[0].kids = append([]*node{attribution, {kind: kBreak}}, q.kids[0].kids...)
		} else {
			q.kids = append([]*node{{kind: kPara, kids: []*node{attribution}}}, q.kids...)
		}
	}
	return []*node{q}
}

// inlines converts sibling HTML nodes in an inline context.
func (b *builder) inlines(hs []*html.Node) []*node {
	var out []*node
	for _, h := range hs {
		out = append(out, b.inline(h)...)
	}
	return out
}

// inline converts one HTML node in an inline context. Block elements met
// there (a div inside a link, a list inside a heading) become their
// inline content between line breaks.
func (b *builder) inline(h *html.Node) []*node {
	switch h.Type {
	case html.TextNode:
		return []*node{{kind: kText, text: collapseSpace(h.Data)}}
	case html.ElementNode:
	default:
		return nil
	}
	if skipped(h) {
		return nil
	}
	wrap := func(k kind) []*node {
		return []*node{{kind: k, kids: b.inlines(children(h))}}
	}
	switch h.DataAtom {
	case atom.Br:
		return []*node{{kind: kBreak}}
	case atom.Img:
		return b.image(h)
	case atom.A:
		return b.anchor(h)
	case atom.Strong, atom.B:
		return wrap(kStrong)
	case atom.Em, atom.I, atom.Cite, atom.Var, atom.Dfn:
		return wrap(kEm)
	case atom.S, atom.Del, atom.Strike:
		return wrap(kStrike)
	case atom.U, atom.Ins:
		return wrap(kUnderline)
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt, atom.Pre:
		return []*node{{kind: kCode, text: collapsedText(h)}}
	case atom.Span:
		if hasClass(h, "spoiler") || hasClass(h, "spoiled") {
			return wrap(kSpoiler)
		}
	}
	if isBlockElement(h) {
		var out []*node
		out = append(out, &node{kind: kBreak})
		if h.DataAtom == atom.Aside && (hasClass(h, "onebox") || hasClass(h, "quote")) {
			for _, blk := range b.block(h) {
				out = append(out, blockToInline(blk)...)
			}
		} else {
			out = append(out, b.inlines(children(h))...)
		}
		return append(out, &node{kind: kBreak})
	}
	return b.inlines(children(h))
}

// blockToInline flattens a block into inline nodes separated by breaks.
func blockToInline(n *node) []*node {
	switch n.kind {
	case kPara, kHeading:
		return append([]*node{{kind: kBreak}}, n.kids...)
	case kCodeBlock:
		return []*node{{kind: kBreak}, {kind: kCode, text: collapseSpace(n.text)}}
	case kRule, kImage:
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		out = append(out, blockToInline(k)...)
	}
	return out
}

// anchor converts a link, mention or hashtag.
func (b *builder) anchor(h *html.Node) []*node {
	switch {
	case hasClass(h, "mention") || hasClass(h, "mention-group"):
		name := strings.TrimPrefix(strings.TrimSpace(collapsedText(h)), "@")
		if name == "" {
			return nil
		}
		return []*node{{kind: kText, text: "@" + name}}
	case hasClass(h, "anchor") && collapsedText(h) == "":
		return nil // heading anchors
	}
	href := b.resolve(attr(h, "href"))
	if hasClass(h, "hashtag") || hasClass(h, "hashtag-cooked") {
		tag := strings.TrimPrefix(strings.TrimSpace(collapsedText(h)), "#")
		if tag == "" {
			return nil
		}
		text := []*node{{kind: kText, text: "#" + tag}}
		if href == "" || b.inLink > 0 {
			return text
		}
		return []*node{{kind: kLink, href: href, kids: text}}
	}
	if href == "" || b.inLink > 0 {
		return b.inlines(children(h))
	}
	b.inLink++
	kids := b.inlines(children(h))
	b.inLink--
	if !hasVisible(kids) {
		text := strings.TrimSpace(attr(h, "title"))
		if text == "" {
			text = href
		}
		kids = []*node{{kind: kText, text: collapseSpace(text)}}
	}
	return []*node{{kind: kLink, href: href, kids: kids}}
}

// image converts img: an emoji becomes its code or character, an mxc image
// stays an image (Matrix only), any other image becomes a link to it
// titled with its alt text, or just the alt text inside a link.
func (b *builder) image(h *html.Node) []*node {
	if code := emojiCode(h); code != "" {
		return []*node{{kind: kEmoji, text: b.emojiText(code)}}
	}
	alt := collapseSpace(strings.TrimSpace(attr(h, "alt")))
	if alt == "" {
		alt = collapseSpace(strings.TrimSpace(attr(h, "title")))
	}
	if hasClass(h, "emoji") { // an emoji without a code: its alt text
		if alt == "" {
			return nil
		}
		return []*node{{kind: kText, text: alt}}
	}
	src := strings.TrimSpace(attr(h, "src"))
	if strings.HasPrefix(src, "mxc://") && b.inLink == 0 {
		return []*node{{kind: kImage, href: src, text: alt}}
	}
	u := b.resolve(src)
	if u == "" || b.inLink > 0 || strings.HasPrefix(u, "mailto:") {
		if alt == "" {
			return nil
		}
		return []*node{{kind: kText, text: alt}}
	}
	if alt == "" {
		alt = "image"
	}
	return []*node{{kind: kLink, href: u, kids: []*node{{kind: kText, text: alt}}}}
}

func (b *builder) emojiText(code string) string {
	if b.emoji == EmojiUnicode {
		if u := emojiUnicode(strings.Trim(code, ":")); u != "" {
			return u
		}
	}
	return code
}

// resolve returns href as an absolute http(s) or mailto URL, or "" when it
// cannot be made absolute or uses another scheme (javascript:, data:).
func (b *builder) resolve(href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return ""
	}
	ref, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if !ref.IsAbs() {
		if b.base == nil {
			return ""
		}
		ref = b.base.ResolveReference(ref)
	}
	switch strings.ToLower(ref.Scheme) {
	case "http", "https":
		if ref.Host == "" {
			return ""
		}
	case "mailto":
		if ref.Opaque == "" {
			return ""
		}
	default:
		return ""
	}
	return ref.String()
}

// isBlockElement reports elements that start a new block.
func isBlockElement(h *html.Node) bool {
	switch h.DataAtom {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Aside, atom.Header, atom.Footer,
		atom.Nav, atom.Main, atom.Figure, atom.Figcaption, atom.Blockquote, atom.Ul, atom.Ol,
		atom.Li, atom.Dl, atom.Dt, atom.Dd, atom.Pre, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Hr, atom.Table, atom.Thead, atom.Tbody, atom.Tfoot, atom.Tr,
		atom.Td, atom.Th, atom.Caption, atom.Details, atom.Summary, atom.Address, atom.Center,
		atom.Form, atom.Fieldset, atom.Hgroup, atom.Menu:
		return true
	}
	return false
}

// skipped reports elements whose content never belongs in a chat message:
// non-text elements, an image's size and file name in a lightbox, the
// controls of a quote, the icon of a hashtag, poll chrome, avatars and
// site icons.
func skipped(h *html.Node) bool {
	switch h.DataAtom {
	case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Svg, atom.Math,
		atom.Head, atom.Title, atom.Video, atom.Audio, atom.Object, atom.Embed, atom.Canvas,
		atom.Button, atom.Input, atom.Select, atom.Textarea, atom.Source, atom.Track, atom.Meta, atom.Link:
		return true
	case atom.Div:
		return hasClass(h, "meta") || hasClass(h, "quote-controls") || hasClass(h, "poll-info") || hasClass(h, "poll-buttons")
	case atom.Span:
		return hasClass(h, "hashtag-icon-placeholder") || hasClass(h, "informations") || hasClass(h, "filename")
	case atom.Img:
		return hasClass(h, "avatar") || hasClass(h, "site-icon")
	}
	return h.Type == html.ElementNode && h.Namespace != "" // svg and math content
}

// emojiCode returns an emoji image's :code:, from its title or alt, or ""
// for any other image.
func emojiCode(h *html.Node) string {
	if !hasClass(h, "emoji") {
		return ""
	}
	for _, key := range []string{"title", "alt"} {
		if v := strings.TrimSpace(attr(h, key)); isEmojiCode(v) {
			return v
		}
	}
	return ""
}

func isEmojiCode(s string) bool {
	if len(s) < 3 || s[0] != ':' || s[len(s)-1] != ':' {
		return false
	}
	for _, r := range s[1 : len(s)-1] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '+' || r == '-') {
			return false
		}
	}
	return true
}

// isSpace reports the whitespace a browser collapses; a no-break space is
// not among it.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

// collapseSpace replaces each run of whitespace with one space.
func collapseSpace(s string) string {
	if !strings.ContainsAny(s, "\t\n\r\f") && !strings.Contains(s, "  ") {
		return s
	}
	var sb strings.Builder
	space := false
	for _, r := range s {
		if isSpace(r) {
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		sb.WriteRune(r)
	}
	return sb.String()
}

// textContent returns all text below h verbatim, skipping skipped
// elements.
func textContent(h *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				sb.WriteString(c.Data)
			case c.Type == html.ElementNode && c.DataAtom == atom.Br:
				sb.WriteByte('\n')
			case c.Type == html.ElementNode && !skipped(c):
				walk(c)
			}
		}
	}
	walk(h)
	return sb.String()
}

// collapsedText returns the text below h with whitespace collapsed and
// trimmed.
func collapsedText(h *html.Node) string {
	return strings.TrimSpace(collapseSpace(textContent(h)))
}

func children(h *html.Node) []*html.Node {
	var out []*html.Node
	for c := h.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, c)
	}
	return out
}

func attr(h *html.Node, key string) string {
	for _, a := range h.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(h *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(h, "class")), class)
}

// find returns the first element below h (depth first) that match accepts.
func find(h *html.Node, match func(*html.Node) bool) *html.Node {
	for c := h.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && match(c) {
			return c
		}
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func findElement(h *html.Node, a atom.Atom) *html.Node {
	return find(h, func(c *html.Node) bool { return c.DataAtom == a })
}
