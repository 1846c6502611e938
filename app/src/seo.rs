//! What pages tell search engines. Every page is `noindex` unless it says
//! otherwise: the server adds `X-Robots-Tag: noindex` to any response that
//! did not call [`ssr::allow_indexing`], and pages that are not meant for
//! search engines also carry [`NoIndex`]. Indexable pages (the directory and
//! the pages of public rooms their owner opened to search engines) carry
//! canonical address, social cards and structured data: see [`PageHead`].

use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use serde::{Deserialize, Serialize};

/// An indexable page's address and structured data, computed on the server
/// (so the browser renders exactly the same tags when it hydrates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSeo {
    /// Absolute.
    pub canonical: String,
    /// schema.org JSON-LD, safe inside a `<script>` element.
    pub json_ld: String,
}

/// `<meta name="robots" content="noindex">`.
#[component]
pub fn NoIndex() -> impl IntoView {
    view! { <Meta name="robots" content="noindex" /> }
}

/// The head of a room's pages (its latest page, an archive day, a thread):
/// title and description, then, when the page is indexable, its canonical
/// link, Open Graph and Twitter card tags and JSON-LD, else [`NoIndex`].
#[component]
pub fn PageHead(title: String, description: String, seo: Option<PageSeo>) -> impl IntoView {
    view! {
        <Title text=title.clone() />
        <Meta name="description" content=description.clone() />
        {match seo {
            Some(seo) => view! { <IndexableTags seo title description /> }.into_any(),
            None => view! { <NoIndex /> }.into_any(),
        }}
    }
}

#[component]
fn IndexableTags(seo: PageSeo, title: String, description: String) -> impl IntoView {
    view! {
        <Link rel="canonical" href=seo.canonical.clone() />
        <Meta property="og:type" content="website" />
        <Meta property="og:site_name" content="tchatche" />
        <Meta property="og:url" content=seo.canonical />
        <Meta property="og:title" content=title.clone() />
        <Meta property="og:description" content=description.clone() />
        <Meta name="twitter:card" content="summary" />
        <Meta name="twitter:title" content=title />
        <Meta name="twitter:description" content=description />
        <script type="application/ld+json" inner_html=seo.json_ld></script>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use serde_json::{Value, json};
    use tchatche_core::{event::MessageView, store::Room};

    use crate::state::app_state;

    /// The configured public URL, without a trailing slash.
    pub fn site_url() -> String {
        app_state().config.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// Lets search engines index this page: the server's default
    /// `X-Robots-Tag: noindex` is not added.
    pub fn allow_indexing() {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(http::HeaderName::from_static("x-robots-tag"), http::HeaderValue::from_static("all"));
        }
    }

    /// A room (or one day of it) as a schema.org `DiscussionForumPosting`:
    /// the room is the post, its messages the comments.
    pub fn discussion(room: &Room, owner: Option<&str>, headline: &str, url: &str, messages: &[MessageView]) -> String {
        let person = |name: &str| json!({ "@type": "Person", "name": name });
        let author = match owner {
            Some(name) => person(name),
            None => json!({ "@type": "Organization", "name": "tchatche" }),
        };
        // Without the words their authors keep off search engines.
        let comments: Vec<Value> = messages
            .iter()
            .filter(|m| !m.deleted && !m.is_concealed())
            .map(|m| {
                json!({
                    "@type": "Comment",
                    "url": format!("{url}#m-{}", m.id),
                    "text": m.body,
                    "datePublished": m.created_at.to_rfc3339(),
                    "author": m.author.as_ref().map(|a| person(&a.display_name)),
                })
            })
            .collect();
        let text = if room.description.is_empty() { &room.name } else { &room.description };
        let posting = json!({
            "@context": "https://schema.org",
            "@type": "DiscussionForumPosting",
            "@id": url,
            "url": url,
            "headline": headline,
            "text": text,
            "datePublished": room.created_at.to_rfc3339(),
            "dateModified": room.last_activity_at.to_rfc3339(),
            "author": author,
            "isPartOf": { "@type": "WebSite", "name": "tchatche", "url": format!("{}/", site_url()) },
            "commentCount": comments.len(),
            "comment": comments,
        });
        script_safe(&posting)
    }

    /// What a thread's structured data is made of.
    pub struct ThreadPosting<'a> {
        pub room_name: &'a str,
        pub room_url: &'a str,
        /// The thread's canonical address.
        pub url: &'a str,
        pub headline: &'a str,
        pub root: &'a MessageView,
        /// The replies the page shows (the markup's), oldest first.
        pub replies: &'a [MessageView],
        /// All its replies, not deleted.
        pub reply_count: i64,
    }

    /// A thread as a schema.org `DiscussionForumPosting`: its first message
    /// is the post, each reply a `Comment`, as the page shows them (Google
    /// asks that structured data describe the visible markup). A deleted
    /// reply keeps its place, without its words, marked deleted; a reply
    /// whose author keeps their words off search engines is left out.
    pub fn thread_posting(thread: &ThreadPosting<'_>) -> String {
        let ThreadPosting { room_name, room_url, url, headline, root, replies, reply_count } = thread;
        let author = |message: &MessageView| match &message.author {
            Some(author) => json!({
                "@type": "Person",
                "name": author.display_name,
                "url": format!("{}/u/{}", site_url(), author.username),
            }),
            // Google requires a name; the account is gone.
            None => json!({ "@type": "Person", "name": "Anonymous" }),
        };
        let dated = |mut value: Value, message: &MessageView| {
            value["datePublished"] = json!(message.created_at.to_rfc3339());
            if let Some(edited) = message.edited_at {
                value["dateModified"] = json!(edited.to_rfc3339());
            }
            value
        };
        // Reactions, as schema.org counts likes (the page shows each one).
        let reacted = |message: &MessageView| {
            let count: u32 = message.reactions.counts.iter().map(|reaction| reaction.count).sum();
            json!({ "@type": "InteractionCounter", "interactionType": "https://schema.org/LikeAction", "userInteractionCount": count })
        };
        let comments: Vec<Value> = replies
            .iter()
            .filter(|reply| !reply.is_concealed())
            .map(|reply| {
                let comment = json!({
                    "@type": "Comment",
                    "url": format!("{url}#m-{}", reply.id),
                    "author": author(reply),
                });
                let mut comment = dated(comment, reply);
                if reply.deleted {
                    comment["creativeWorkStatus"] = json!("Deleted");
                } else {
                    comment["text"] = json!(reply.body);
                    if !reply.reactions.counts.is_empty() {
                        comment["interactionStatistic"] = json!([reacted(reply)]);
                    }
                }
                comment
            })
            .collect();
        let posting = json!({
            "@context": "https://schema.org",
            "@type": "DiscussionForumPosting",
            "@id": url,
            "url": url,
            "mainEntityOfPage": url,
            "headline": headline,
            "text": root.body,
            "author": author(root),
            "isPartOf": { "@type": "WebPage", "@id": room_url, "url": room_url, "name": room_name },
            "interactionStatistic": [{
                "@type": "InteractionCounter",
                "interactionType": "https://schema.org/CommentAction",
                "userInteractionCount": reply_count,
            }, reacted(root)],
            "commentCount": reply_count,
            "comment": comments,
        });
        script_safe(&dated(posting, root))
    }

    /// JSON that cannot close its `<script>` element early.
    pub fn script_safe(value: &Value) -> String {
        value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn json_cannot_break_out_of_its_script() {
            let safe = script_safe(&json!({ "text": "</script><script>alert(1)</script> & co" }));
            assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
            let back: Value = serde_json::from_str(&safe).unwrap();
            assert_eq!(back["text"], "</script><script>alert(1)</script> & co");
        }
    }
}
