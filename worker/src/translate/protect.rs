//! Keeps what is in no language away from the translation engines: code
//! (`<pre>` blocks, `<code>` spans) and links (`<a>`, which mentions are
//! too) are swapped, whole and with their content, for an empty placeholder
//! element before translating, and put back afterwards.
//!
//! The placeholder is `<span data-keep="N"></span>`: both engines' HTML
//! modes keep tags as they are and only translate the text between them
//! (Apertium treats tags as format; LibreTranslate translates the text
//! nodes of the parsed HTML), and an empty element gives them no text to
//! translate. Message HTML never contains a `span` of its own (the
//! sanitizer does not allow it), so a placeholder is always ours.
//!
//! The input is the sanitizer's output: lowercase tags, attribute values in
//! quotes, `<` in text escaped. Engine output is read more leniently
//! (quotes of either kind, a self-closing placeholder), and whatever it
//! does to the placeholders, restoring never fails: one it dropped loses
//! its element, one it invented is removed, one it repeated is restored
//! once.

/// Elements an engine must not see, content included.
const KEPT: &[&str] = &["pre", "code", "a"];

/// The attribute that numbers a placeholder.
const KEEP_ATTRIBUTE: &str = "data-keep";

/// Message HTML ready for an engine, with what was taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    html: String,
    /// The elements taken out, in order: placeholder `N` stands for `kept[N]`.
    kept: Vec<String>,
}

/// Replaces every `<pre>`, `<code>` and `<a>` element of `html` with a
/// placeholder.
pub fn protect(html: &str) -> Protected {
    let mut out = String::with_capacity(html.len());
    let mut kept = Vec::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        let Some(tag) = Tag::at(html, start) else {
            at = start + 1;
            continue;
        };
        if tag.closing || !KEPT.iter().any(|name| tag.name.eq_ignore_ascii_case(name)) {
            at = tag.end;
            continue;
        }
        let end = element_end(html, &tag);
        out.push_str(&html[copied..start]);
        push_placeholder(&mut out, kept.len());
        kept.push(html[start..end].to_owned());
        copied = end;
        at = end;
    }
    out.push_str(&html[copied..]);
    Protected { html: out, kept }
}

impl Protected {
    /// The HTML to send to the engine.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The engine's translation of [`Self::html`] with the elements put
    /// back where the engine left their placeholders.
    pub fn restore(&self, translated: &str) -> String {
        let mut out = String::with_capacity(translated.len() + self.kept.iter().map(String::len).sum::<usize>());
        let mut restored = vec![false; self.kept.len()];
        let mut copied = 0;
        let mut at = 0;
        while let Some(offset) = translated[at..].find('<') {
            let start = at + offset;
            let Some(tag) = Tag::at(translated, start) else {
                at = start + 1;
                continue;
            };
            let number = (!tag.closing && tag.name.eq_ignore_ascii_case("span"))
                .then(|| tag.attribute(KEEP_ATTRIBUTE))
                .flatten();
            let Some(number) = number else {
                at = tag.end;
                continue;
            };
            // The placeholder's closing tag goes with it (unless it was
            // written self-closing).
            let mut end = tag.end;
            if let Some(close) =
                Tag::at(translated, end).filter(|close| close.closing && close.name.eq_ignore_ascii_case("span"))
            {
                end = close.end;
            }
            out.push_str(&translated[copied..start]);
            let index = number.trim().parse::<usize>().ok().filter(|index| *index < self.kept.len());
            // Unknown numbers and repeats are dropped.
            if let Some(index) = index.filter(|index| !restored[*index]) {
                restored[index] = true;
                out.push_str(&self.kept[index]);
            }
            copied = end;
            at = end;
        }
        out.push_str(&translated[copied..]);
        out
    }
}

fn push_placeholder(out: &mut String, index: usize) {
    out.push_str(&format!("<span {KEEP_ATTRIBUTE}=\"{index}\"></span>"));
}

/// A start or end tag found in HTML.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    /// The attributes, as written (for a start tag).
    attributes: &'a str,
    /// Just past the tag's `>`.
    end: usize,
}

impl<'a> Tag<'a> {
    /// The tag starting at byte `start` (a `<`), if one does: a `<` not
    /// followed by a name is text, and so is a tag never closed by `>`.
    fn at(html: &'a str, start: usize) -> Option<Self> {
        let rest = html.get(start..)?.strip_prefix('<')?;
        let (closing, rest) = match rest.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        if name_len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let name = &rest[..name_len];
        let after_name = &rest[name_len..];
        // Find the `>` that ends the tag, skipping quoted attribute values,
        // which may contain one.
        let mut quote = None;
        for (offset, c) in after_name.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(open), _) if c == open => quote = None,
                (None, '>') => {
                    let end = html.len() - after_name.len() + offset + 1;
                    return Some(Self { name, closing, attributes: &after_name[..offset], end });
                }
                _ => {}
            }
        }
        None
    }

    /// The value of an attribute, entities left as they are.
    fn attribute(&self, wanted: &str) -> Option<&'a str> {
        let mut rest = self.attributes;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                return None;
            }
            let name_len = rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
            let name = &rest[..name_len];
            rest = rest[name_len..].trim_start();
            let value = if let Some(after_equals) = rest.strip_prefix('=') {
                let after_equals = after_equals.trim_start();
                let (value, remainder) = match after_equals.chars().next() {
                    Some(quote @ ('"' | '\'')) => {
                        let inner = &after_equals[1..];
                        let close = inner.find(quote).unwrap_or(inner.len());
                        (&inner[..close], inner.get(close + 1..).unwrap_or_default())
                    }
                    _ => {
                        let end = after_equals.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after_equals.len());
                        (&after_equals[..end], &after_equals[end..])
                    }
                };
                rest = remainder;
                value
            } else {
                ""
            };
            if name.eq_ignore_ascii_case(wanted) {
                return Some(value);
            }
        }
    }
}

/// Just past the end tag closing the element `start` opens (counting
/// elements of the same name nested in it), or the end of the HTML if it is
/// never closed.
fn element_end(html: &str, start: &Tag<'_>) -> usize {
    let mut depth = 1usize;
    let mut at = start.end;
    while let Some(offset) = html[at..].find('<') {
        let position = at + offset;
        let Some(tag) = Tag::at(html, position) else {
            at = position + 1;
            continue;
        };
        at = tag.end;
        if tag.name.eq_ignore_ascii_case(start.name) {
            if tag.closing {
                depth -= 1;
                if depth == 0 {
                    return tag.end;
                }
            } else {
                depth += 1;
            }
        }
    }
    html.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholder(index: usize) -> String {
        let mut out = String::new();
        push_placeholder(&mut out, index);
        out
    }

    #[test]
    fn text_with_no_markup_is_left_alone() {
        for html in
            ["", "hello there", "<p>The house is <strong>red</strong> &amp; <em>big</em> &lt;3</p>", "a < b > c"]
        {
            let protected = protect(html);
            assert_eq!(protected.html(), html);
            assert_eq!(protected.restore(html), html);
        }
    }

    #[test]
    fn a_code_block_is_kept_whole_with_the_code_nested_in_it() {
        let html = "<p>Try:</p>\n<pre><code>fn main() {\n    let a = b &lt; c;\n}\n</code></pre>\n<p>then run it</p>";
        let protected = protect(html);
        assert_eq!(protected.html(), format!("<p>Try:</p>\n{}\n<p>then run it</p>", placeholder(0)));
        assert_eq!(protected.restore(protected.html()), html);
        // What the engine did to the prose stays; the code is the original.
        assert_eq!(
            protected.restore(&format!("<p>Prueba:</p>\n{}\n<p>luego ejecútalo</p>", placeholder(0))),
            "<p>Prueba:</p>\n<pre><code>fn main() {\n    let a = b &lt; c;\n}\n</code></pre>\n<p>luego ejecútalo</p>"
        );
    }

    #[test]
    fn several_links_and_mentions_are_numbered_in_order() {
        let html = concat!(
            r#"<p>Hi <a class="mention" href="/u/alice" rel="nofollow noopener noreferrer ugc">@alice</a>, see "#,
            r#"<a href="https://example.org" rel="nofollow noopener noreferrer ugc">the site</a> and "#,
            r#"<code>cargo build</code></p>"#
        );
        let protected = protect(html);
        assert_eq!(
            protected.html(),
            format!("<p>Hi {}, see {} and {}</p>", placeholder(0), placeholder(1), placeholder(2))
        );
        for hidden in ["alice", "example.org", "the site", "cargo build", "<a", "<code"] {
            assert!(!protected.html().contains(hidden), "{hidden}");
        }
        assert_eq!(protected.restore(protected.html()), html);
    }

    #[test]
    fn quoted_attributes_may_hold_quotes_and_angle_brackets() {
        let html = r#"<p><a href="https://e.org/?q=&quot;x&quot;&amp;y=1" title='say "a > b"'>link</a> after</p>"#;
        let protected = protect(html);
        assert_eq!(protected.html(), format!("<p>{} after</p>", placeholder(0)));
        assert_eq!(protected.restore(protected.html()), html);
    }

    #[test]
    fn placeholders_the_engine_moved_bring_their_element_along() {
        let protected = protect(r#"<p><a href="/u/bob">@bob</a> likes <code>rustc</code></p>"#);
        let reordered = format!("<p>{} gusta a {}</p>", placeholder(1), placeholder(0));
        assert_eq!(protected.restore(&reordered), r#"<p><code>rustc</code> gusta a <a href="/u/bob">@bob</a></p>"#);
    }

    #[test]
    fn placeholders_dropped_invented_or_repeated_never_fail() {
        let protected = protect("<p>a <code>x</code> b <code>y</code></p>");
        // Dropped: its element is lost.
        assert_eq!(protected.restore(&format!("<p>a b {}</p>", placeholder(1))), "<p>a b <code>y</code></p>");
        // Invented: removed.
        assert_eq!(
            protected.restore(&format!("<p>{} {}</p>", placeholder(7), placeholder(0))),
            "<p> <code>x</code></p>"
        );
        assert_eq!(
            protected.restore(
                r#"<p><span data-keep="-1"></span><span data-keep="nope"></span><span data-keep></span>.</p>"#
            ),
            "<p>.</p>"
        );
        // Repeated: restored once.
        assert_eq!(
            protected.restore(&format!("{0}{0}{1}", placeholder(0), placeholder(1))),
            "<code>x</code><code>y</code>"
        );
        // Broken HTML from the engine is passed on as it is.
        assert_eq!(protected.restore("<p>a <span data-keep=\"0\""), "<p>a <span data-keep=\"0\"");
    }

    #[test]
    fn placeholders_rewritten_by_the_engine_are_still_found() {
        let protected = protect("<p><code>x</code></p>");
        for rewritten in [
            r#"<span data-keep='0'></span>"#,
            r#"<span data-keep="0"/>"#,
            r#"<SPAN DATA-KEEP = "0"></SPAN>"#,
            r#"<span data-keep=0></span>"#,
        ] {
            assert_eq!(protected.restore(&format!("<p>{rewritten}</p>")), "<p><code>x</code></p>", "{rewritten}");
        }
    }

    #[test]
    fn an_element_never_closed_is_kept_to_the_end() {
        let protected = protect("<p>see <code>x &lt; y</p>");
        assert_eq!(protected.html(), format!("<p>see {}", placeholder(0)));
        assert_eq!(protected.restore(protected.html()), "<p>see <code>x &lt; y</p>");
    }

    #[test]
    fn rendered_messages_round_trip() {
        let markdown = "Hi @alice, run `cargo build` then read [the docs](https://doc.rust-lang.org/book/) \
                        or https://example.org/a_(b).\n\n```\nlet x = \"<b>\";\n```\n\n> quoted **bold** by @bob\n\n- one\n- two";
        let (html, _) = tchatche_core::message::render(markdown, &["alice".into(), "bob".into()]);
        let protected = protect(&html);
        for hidden in ["<a", "<code", "<pre", "cargo build", "doc.rust-lang", "@alice", "@bob"] {
            assert!(!protected.html().contains(hidden), "{hidden} in {}", protected.html());
        }
        assert!(protected.html().contains("<strong>bold</strong>") && protected.html().contains("<li>one</li>"));
        assert_eq!(protected.restore(protected.html()), html);
    }
}
