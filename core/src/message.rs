//! Messages: what a person may post, and (on the server) how its text is
//! turned into safe HTML.

use serde::{Deserialize, Serialize};

use crate::input::{InputError, check_len};

/// A message's text: 1–4,000 characters once trimmed, control characters
/// removed (line breaks and tabs stay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX: u32 = 4000;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let cleaned: String = raw
            .replace("\r\n", "\n")
            .chars()
            .filter(|c| *c == '\n' || *c == '\t' || !(c.is_control() || crate::user::is_bidi_control(*c)))
            .collect();
        let trimmed = cleaned.trim();
        check_len(trimmed, 1, Self::MAX)?;
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Usernames written as `@username` in a text (outside code is decided when
/// rendering; this is the cheap first pass to know which accounts to look up).
pub fn mention_candidates(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices('@') {
        if let Some(name) = mention_at(text, at)
            && !names.iter().any(|n: &String| n.eq_ignore_ascii_case(name))
        {
            names.push(name.to_owned());
        }
    }
    names
}

/// The username of an `@mention` starting at byte `at`, if one is there.
fn mention_at(text: &str, at: usize) -> Option<&str> {
    let before = text[..at].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '@') {
        return None; // an e-mail address, not a mention
    }
    let rest = &text[at + 1..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
    let name = &rest[..end];
    (3..=32).contains(&name.len()).then_some(name)
}

#[cfg(feature = "server")]
pub use render::{render, sanitize};

#[cfg(feature = "server")]
mod render {
    use std::collections::HashSet;

    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
    use pulldown_cmark_escape::{escape_href, escape_html};

    /// Renders a message's markdown to safe HTML: bold, italic,
    /// strikethrough, inline and block code, lists, quotes, links and bare
    /// URLs (http, https, mailto only); raw HTML is shown as text, images as
    /// their description. `@username` of an existing account (`known`,
    /// lowercase) becomes a mention link. Returns the HTML and the mentioned
    /// usernames (as spelled in `known`).
    pub fn render(markdown: &str, known: &[String]) -> (String, Vec<String>) {
        let known_lower: HashSet<String> = known.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut mentioned: Vec<String> = Vec::new();
        let mut events = Vec::new();
        let mut in_code_or_link = 0usize;
        let mut in_image = 0usize;
        // The parser splits text at possible delimiters (`_`, `*`): gather
        // adjacent text first, so URLs and mentions are seen whole.
        let mut text = String::new();
        for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
            if let Event::Text(piece) = &event
                && in_code_or_link == 0 && in_image == 0
            {
                text.push_str(piece);
                continue;
            }
            if !text.is_empty() {
                events.push(Event::Html(linkify(&std::mem::take(&mut text), &known_lower, &mut mentioned).into()));
            }
            match event {
                // Raw HTML is text here.
                Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
                Event::Start(Tag::Image { .. }) => in_image += 1,
                Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
                Event::Start(Tag::Heading { .. }) => events.push(Event::Start(Tag::Paragraph)),
                Event::End(TagEnd::Heading(_)) => events.push(Event::End(TagEnd::Paragraph)),
                Event::Start(tag @ (Tag::Link { .. } | Tag::CodeBlock(_))) => {
                    in_code_or_link += 1;
                    events.push(Event::Start(tag));
                }
                Event::End(tag @ (TagEnd::Link | TagEnd::CodeBlock)) => {
                    in_code_or_link = in_code_or_link.saturating_sub(1);
                    events.push(Event::End(tag));
                }
                other => events.push(other),
            }
        }
        if !text.is_empty() {
            events.push(Event::Html(linkify(&text, &known_lower, &mut mentioned).into()));
        }
        let mut unsafe_html = String::new();
        html::push_html(&mut unsafe_html, events.into_iter());
        let safe = sanitize(&unsafe_html);
        let mentioned = mentioned
            .into_iter()
            .filter_map(|lower| known.iter().find(|n| n.eq_ignore_ascii_case(&lower)).cloned())
            .collect();
        (safe, mentioned)
    }

    /// What message HTML may hold, whoever wrote it (the markdown renderer,
    /// or a translation engine given that HTML).
    pub fn sanitize(html: &str) -> String {
        ammonia::Builder::default()
            .tags(["p", "br", "strong", "em", "del", "code", "pre", "a", "ul", "ol", "li", "blockquote"].into())
            .tag_attributes([("a", ["href"].into())].into())
            .add_allowed_classes("a", ["mention"])
            .url_schemes(["http", "https", "mailto"].into())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(Some("nofollow noopener noreferrer ugc"))
            .clean(html)
            .to_string()
    }

    /// Escapes a text run, turning bare URLs and known mentions into links.
    fn linkify(text: &str, known: &HashSet<String>, mentioned: &mut Vec<String>) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = 0;
        let mut i = 0;
        while i < text.len() {
            let tail = &text[i..];
            if tail.starts_with("http://") || tail.starts_with("https://") {
                let boundary = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
                let url = url_at(tail);
                if boundary && url.len() > tail.find("//").unwrap_or(0) + 2 {
                    push_text(&mut out, &text[rest..i]);
                    out.push_str("<a href=\"");
                    let _ = escape_href(&mut out, url);
                    out.push_str("\">");
                    push_text(&mut out, url);
                    out.push_str("</a>");
                    i += url.len();
                    rest = i;
                    continue;
                }
            }
            if tail.starts_with('@')
                && let Some(name) = super::mention_at(text, i)
            {
                let lower = name.to_ascii_lowercase();
                if known.contains(&lower) {
                    push_text(&mut out, &text[rest..i]);
                    out.push_str("<a class=\"mention\" href=\"/u/");
                    let _ = escape_href(&mut out, &lower);
                    out.push_str("\">@");
                    push_text(&mut out, name);
                    out.push_str("</a>");
                    if !mentioned.contains(&lower) {
                        mentioned.push(lower);
                    }
                    i += 1 + name.len();
                    rest = i;
                    continue;
                }
            }
            i += tail.chars().next().map_or(1, char::len_utf8);
        }
        push_text(&mut out, &text[rest..]);
        out
    }

    fn push_text(out: &mut String, text: &str) {
        let _ = escape_html(out, text);
    }

    /// The URL at the start of `text`: up to whitespace or `<`, without
    /// trailing punctuation (or a closing parenthesis it did not open).
    fn url_at(text: &str) -> &str {
        let end = text.find(|c: char| c.is_whitespace() || c == '<' || c == '"').unwrap_or(text.len());
        let mut url = &text[..end];
        loop {
            let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'']);
            let trimmed = if trimmed.ends_with(')') && trimmed.matches('(').count() < trimmed.matches(')').count() {
                &trimmed[..trimmed.len() - 1]
            } else {
                trimmed
            };
            if trimmed.len() == url.len() {
                return url;
            }
            url = trimmed;
        }
    }

    #[cfg(test)]
    mod tests {
        use super::render;

        fn html(markdown: &str) -> String {
            render(markdown, &["alice".into(), "Bob_2".into()]).0
        }

        #[test]
        fn the_supported_subset_renders() {
            assert_eq!(html("**bold** and *it*"), "<p><strong>bold</strong> and <em>it</em></p>\n");
            assert_eq!(html("`x < y`"), "<p><code>x &lt; y</code></p>\n");
            assert!(html("```\nfn main() {}\n```").contains("<pre><code>fn main() {}\n</code></pre>"));
            assert!(html("[site](https://example.org)").contains(r#"<a href="https://example.org" rel="nofollow noopener noreferrer ugc">site</a>"#));
            let autolinked = html("see https://example.org/a_(b). ok");
            assert!(autolinked.contains(r#"<a href="https://example.org/a_(b)" rel="nofollow noopener noreferrer ugc">https://example.org/a_(b)</a>. ok"#), "{autolinked}");
            assert!(html("# Title").starts_with("<p>Title</p>"), "headings are plain paragraphs");
        }

        #[test]
        fn html_and_scripts_are_inert() {
            let out = html("<script>alert(1)</script> <img src=x onerror=alert(1)> <b>b</b>");
            assert!(!out.contains("<script") && !out.contains("<img") && !out.contains("<b>"), "{out}");
            assert!(out.contains("&lt;script&gt;"), "shown as text: {out}");
            for link in ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](vbscript:x)", "<javascript:alert(1)>"] {
                let out = html(link);
                assert!(!out.contains("javascript:") || !out.contains("href"), "{link} → {out}");
                assert!(!out.contains("href=\"data:") && !out.contains("href=\"vbscript:"), "{link} → {out}");
            }
            let image = html("![a cat](https://example.org/cat.png)");
            assert!(!image.contains("<img") && image.contains("a cat"), "{image}");
            // Not a link (junk after the title): plain text, never an attribute.
            assert!(!html("[x](https://e.org \"t\" onclick=1)").contains("onclick=\""));
        }

        #[test]
        fn known_mentions_are_links_and_are_reported() {
            let (out, mentioned) = render("hi @Alice and @bob_2, not @carol nor me@alice.org, nor `@alice`", &["alice".into(), "Bob_2".into()]);
            assert!(out.contains(r#"<a class="mention" href="/u/alice" rel="nofollow noopener noreferrer ugc">@Alice</a>"#), "{out}");
            assert!(out.contains(r#"<a class="mention" href="/u/bob_2" rel="nofollow noopener noreferrer ugc">@bob_2</a>"#), "{out}");
            assert!(out.contains("@carol") && !out.contains("/u/carol"));
            assert!(out.contains("<code>@alice</code>"));
            assert_eq!(mentioned, ["alice", "Bob_2"]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_cleaned_and_bounded() {
        assert_eq!(MessageBody::parse("  hi\r\nthere \u{0007}\u{202E}").unwrap().as_str(), "hi\nthere");
        assert_eq!(MessageBody::parse(" \n\t "), Err(InputError::Required));
        assert_eq!(MessageBody::parse("\u{0000}\u{0008}"), Err(InputError::Required));
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert_eq!(MessageBody::parse(&"é".repeat(4001)), Err(InputError::TooLong { max: 4000 }));
    }

    #[test]
    fn mention_candidates_are_found_once() {
        assert_eq!(mention_candidates("@alice hi @Alice, @bo, a@b.org, (@carol_x)"), ["alice", "carol_x"]);
    }
}
