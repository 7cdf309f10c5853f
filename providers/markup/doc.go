// Package markup turns the "cooked" HTML of a Discourse post into the
// markup each chat platform understands: CommonMark-style Markdown,
// Google Chat's text format, Telegram's HTML subset, Matrix's sanitised
// HTML and plain text.
//
// One converter serves every provider because the hard parts are the same
// for all of them and are easy to get subtly wrong when written sixteen
// times: recognising Discourse's chrome (emoji images, lightbox metadata,
// oneboxes, quote headers, mentions, hashtags), resolving relative links
// against the forum's URL, refusing javascript: and other unsafe links,
// collapsing whitespace the way a browser does, and cutting an excerpt to a
// length without ever splitting a tag, an entity, an escape or a link. The
// package does that once, into a small document tree of paragraphs,
// quotes, lists, code and inline formatting, and each target is only a
// renderer of that tree with its own escaping. Because truncation happens
// on the tree and renderers only ever emit balanced markup, every output is
// well-formed whatever the input.
//
// The functions are pure: no IO, no globals, safe for concurrent use.
package markup
