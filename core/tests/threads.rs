//! Replies and threads against real databases: what the batch write keeps
//! about each thread, and what reads show of the messages replies answer.

use tchatche_core::{
    backend_tests,
    event::{MessageView, Quote, Threading},
    ids::{Seq, UnixMillis},
    room::IndexQuality,
    store::{Room, Store, User},
    testing::{TestEnv, draft, stamped},
};

/// A reply to `answered`, in its thread, as `chat::post` makes it.
fn reply(room: &Room, author: &User, body: &str, answered: &MessageView, seq: i64) -> MessageView {
    let mut message = stamped(draft(room, author, body), seq);
    message.threading = Threading {
        reply_to: Some(Quote::of_message(answered)),
        root: Some(answered.threading.root.unwrap_or(answered.id)),
        replies: None,
    };
    message
}

/// A new version of `message` at `version`: edited to `body`, or deleted when `None`.
fn revised(message: &MessageView, version: i64, body: Option<&str>) -> MessageView {
    let mut next = message.clone();
    next.version = Seq(version);
    next.edited_at = Some(UnixMillis(message.created_at.0 + version * 1_000));
    match body {
        Some(body) => body.clone_into(&mut next.body),
        None => {
            next.body.clear();
            next.deleted = true;
        }
    }
    next
}

async fn by_seq(store: &Store, room: &Room, seq: i64) -> MessageView {
    let page = store.messages_before(room.id, None, 500).await.unwrap();
    page.messages.into_iter().find(|m| m.seq == Seq(seq)).expect("stored")
}

backend_tests! {
    /// Answering a reply stays in the first message's thread; the first
    /// message counts its replies, and each reply quotes what it answers.
    async fn replies_gather_under_the_first_message(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let room = env.room("lobby", &alice).await;
        let root = stamped(draft(&room, &alice, "Which editor do you use?"), 1);
        let first = reply(&room, &bob, "Helix, mostly", &root, 2);
        let second = reply(&room, &alice, "Why Helix?", &first, 3);
        env.store.upsert_messages(&[root.clone(), first.clone()]).await.unwrap();
        env.store.upsert_messages(std::slice::from_ref(&second)).await.unwrap();

        let stored_root = by_seq(&env.store, &room, 1).await;
        let summary = stored_root.threading.replies.expect("a summary");
        assert_eq!((summary.count, summary.last_reply_at), (2, Some(second.created_at)));
        assert_eq!(stored_root.threading.thread_of(root.id), Some(root.id));

        let stored_second = by_seq(&env.store, &room, 3).await;
        assert_eq!(stored_second.threading.root, Some(root.id), "answering a reply stays in its thread");
        let quote = stored_second.threading.reply_to.expect("a quote");
        assert_eq!((quote.id, quote.author.as_deref(), quote.excerpt.as_str()), (first.id, Some("BOB"), "Helix, mostly"));

        let replies = env.store.replies_before(root.id, None, 50).await.unwrap();
        let seqs: Vec<i64> = replies.messages.iter().map(|m| m.seq.0).collect();
        assert_eq!((seqs, replies.has_older), (vec![2, 3], false));
        let thread = env.store.thread(root.id).await.unwrap().expect("a thread");
        assert_eq!((thread.room_id, thread.replies, thread.deleted), (room.id, 2, false));
        assert!(env.store.thread(first.id).await.unwrap().is_none(), "a reply opens no thread of its own");
        assert!(by_seq(&env.store, &room, 2).await.threading.replies.is_none());
    }

    /// A quote shows the answered message as it is now: edited, or a
    /// tombstone without its words once deleted. A deleted first message
    /// marks its thread deleted (its page answers 410).
    async fn quotes_follow_edits_and_deletions(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let room = env.room("lobby", &alice).await;
        let root = stamped(draft(&room, &alice, "The meeting is at 10"), 1);
        let answer = reply(&room, &bob, "I'll be there", &root, 2);
        env.store.upsert_messages(&[root.clone(), answer]).await.unwrap();

        env.store.upsert_messages(&[revised(&root, 3, Some("The meeting is at 11"))]).await.unwrap();
        let quote = by_seq(&env.store, &room, 2).await.threading.reply_to.unwrap();
        assert_eq!((quote.excerpt.as_str(), quote.deleted), ("The meeting is at 11", false));
        let edited = env.store.thread(root.id).await.unwrap().unwrap();
        assert_eq!(edited.last_activity_at, UnixMillis(root.created_at.0 + 3_000), "an edit is the thread's last change");

        env.store.upsert_messages(&[revised(&root, 4, None)]).await.unwrap();
        let quote = by_seq(&env.store, &room, 2).await.threading.reply_to.unwrap();
        assert_eq!((quote.excerpt.as_str(), quote.deleted, quote.id), ("", true, root.id));
        let thread = env.store.thread(root.id).await.unwrap().unwrap();
        assert!(thread.deleted && !thread.indexable);
        assert_eq!(thread.last_activity_at, UnixMillis(root.created_at.0 + 4_000));
    }

    /// A thread is indexable once it meets the quality bar, and stops being
    /// when a deletion takes it below; deleted replies are not counted.
    async fn threads_meet_the_quality_bar_or_not(env: TestEnv) {
        assert_eq!((IndexQuality::MIN_MESSAGES, IndexQuality::MIN_AUTHORS, IndexQuality::MIN_CHARS), (3, 2, 300));
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let room = env.room("lobby", &alice).await;
        let long = "a sentence long enough to count for something ".repeat(3); // 138 characters
        let root = stamped(draft(&room, &alice, &long), 1);
        let first = reply(&room, &bob, &long, &root, 2);
        env.store.upsert_messages(&[root.clone(), first.clone()]).await.unwrap();
        assert!(!env.store.thread(root.id).await.unwrap().unwrap().indexable, "two messages are too few");

        let second = reply(&room, &alice, "and a short one that brings it over 300", &first, 3);
        env.store.upsert_messages(std::slice::from_ref(&second)).await.unwrap();
        assert!(env.store.thread(root.id).await.unwrap().unwrap().indexable);

        env.store.upsert_messages(&[revised(&first, 4, None)]).await.unwrap();
        let thread = env.store.thread(root.id).await.unwrap().unwrap();
        assert!(!thread.indexable, "one author left once bob's reply is deleted");
        assert_eq!(thread.replies, 1);
        assert_eq!(by_seq(&env.store, &room, 1).await.threading.replies.unwrap().count, 1);
    }

    /// Words kept off search engines do not count for the quality bar of
    /// threads and days (search engines do not read them), and a thread
    /// opened by them is not indexable; the bar follows the setting both ways.
    async fn words_kept_off_search_engines_do_not_count(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let carol = env.user("carol").await;
        let room = env.room("lobby", &alice).await;
        let long = "a sentence long enough to count for something ".repeat(3); // 138 characters
        let root = stamped(draft(&room, &alice, &long), 1);
        let answer = reply(&room, &bob, &long, &root, 2);
        let more = reply(&room, &alice, &long, &answer, 3);
        let opened_by_bob = stamped(draft(&room, &bob, &long), 4);
        let answers = [reply(&room, &alice, &long, &opened_by_bob, 5), reply(&room, &carol, &long, &opened_by_bob, 6)];
        env.store.upsert_messages(&[root.clone(), answer, more, opened_by_bob.clone()]).await.unwrap();
        env.store.upsert_messages(&answers).await.unwrap();
        let today = tchatche_core::ids::UtcDay::of(root.created_at);
        let store = &env.store;
        let indexable = || async move {
            let thread = |id| async move { store.thread(id).await.unwrap().unwrap().indexable };
            (thread(root.id).await, thread(opened_by_bob.id).await, store.archive_day(room.id, today).await.unwrap().unwrap())
        };
        assert_eq!(indexable().await, (true, true, true));

        env.store.set_hidden_from_search(bob.id, true).await.unwrap();
        assert_eq!(indexable().await, (false, false, true), "alice alone; a thread named by bob's words; the day has carol");
        env.store.set_hidden_from_search(bob.id, false).await.unwrap();
        assert_eq!(indexable().await, (true, true, true));
        env.store.set_hidden_from_search(bob.id, true).await.unwrap();
        // Written while the setting is on: still not counted.
        let late = reply(&room, &bob, &long, &root, 7);
        env.store.upsert_messages(&[late]).await.unwrap();
        assert!(!indexable().await.0);
    }

    /// Another worker may store a reply before the message it answers; the
    /// thread is counted once that message arrives. Storing a version twice
    /// counts nothing twice.
    async fn a_thread_is_counted_whatever_the_order_of_writes(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("lobby", &alice).await;
        let root = stamped(draft(&room, &alice, "first"), 1);
        let answer = reply(&room, &alice, "second", &root, 2);
        env.store.upsert_messages(std::slice::from_ref(&answer)).await.unwrap();
        assert!(env.store.thread(root.id).await.unwrap().is_none());
        env.store.upsert_messages(std::slice::from_ref(&root)).await.unwrap();
        env.store.upsert_messages(&[answer.clone(), root.clone()]).await.unwrap();
        assert_eq!(env.store.thread(root.id).await.unwrap().unwrap().replies, 1);
    }

    /// A long thread pages back by seq without gaps or repeats.
    async fn thread_pages_have_no_gaps(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("lobby", &alice).await;
        let root = stamped(draft(&room, &alice, "count with me"), 1);
        let mut batch = vec![root.clone()];
        // Other messages of the room in between: not the thread's.
        for n in 0..130 {
            batch.push(reply(&room, &alice, &n.to_string(), &root, 2 + 2 * n));
            batch.push(stamped(draft(&room, &alice, "elsewhere"), 3 + 2 * n));
        }
        env.store.upsert_messages(&batch).await.unwrap();

        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = env.store.replies_before(root.id, before, 50).await.unwrap();
            before = page.messages.first().map(|m| m.seq);
            seen.splice(0..0, page.messages.into_iter().map(|m| m.body));
            if !page.has_older {
                break;
            }
        }
        assert_eq!(seen, (0..130).map(|n| n.to_string()).collect::<Vec<_>>());
    }

    /// Replies are messages of the room: they count as unread, and as
    /// mentions when they name someone.
    async fn replies_count_as_unread_and_mentions(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let room = env.room("lobby", &alice).await;
        env.store.join_room(room.id, bob.id).await.unwrap();
        let root = stamped(draft(&room, &bob, "question"), 1);
        env.store.upsert_messages(std::slice::from_ref(&root)).await.unwrap();
        env.store.mark_read(room.id, bob.id, Seq(1)).await.unwrap();

        let mut answer = reply(&room, &alice, "@bob here is the answer", &root, 2);
        answer.mentions = vec!["bob".into()];
        env.store.upsert_messages(&[answer, reply(&room, &alice, "and more", &root, 3)]).await.unwrap();
        let rooms = env.store.rooms_of(bob.id, "bob").await.unwrap();
        let lobby = rooms.iter().find(|r| r.id == room.id).unwrap();
        assert_eq!((lobby.unread, lobby.mentions), (2, 1));
    }
}
