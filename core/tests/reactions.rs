//! Reactions against real databases and buses (a SQLite file and the
//! in-process bus; PostgreSQL and Redis): one per message, person and
//! emoji, each change numbered by the room's reaction seq, announced to the
//! room once, on pages and in catch-ups.

use std::time::Duration;

use tchatche_core::{
    Error, backend_tests,
    bus::Received,
    chat,
    event::RoomEvent,
    ids::Seq,
    input::InputError,
    reaction::{MAX_KINDS, Reactions},
    testing::{TestEnv, draft, stamped},
};

/// Each emoji with its count and who, as `"👍 2 bo,ana"`.
fn summary(reactions: &Reactions) -> Vec<String> {
    reactions
        .counts
        .iter()
        .map(|count| {
            let by: Vec<&str> = count.by.iter().map(|author| author.username.as_str()).collect();
            format!("{} {} {}", count.emoji, count.count, by.join(","))
        })
        .collect()
}

backend_tests! {
    /// Reacting twice is reacting once and taking back what is not there
    /// changes nothing; each change takes the room's next reaction seq, is
    /// announced once, shows on pages and comes back in a catch-up.
    async fn reactions_are_idempotent_numbered_and_announced(env: TestEnv) {
        let ana = env.user("ana").await;
        let bo = env.user("bo").await;
        let room = env.room("lobby", &ana).await;
        let (hello, hi) = (stamped(draft(&room, &ana, "hello"), 1), stamped(draft(&room, &bo, "hi"), 2));
        env.store.upsert_messages(&[hello.clone(), hi.clone()]).await.unwrap();
        let mut events = env.bus.subscribe(room.id).await.unwrap();
        let react = |who, emoji, on| chat::react(&env.store, &env.bus, room.id, who, hello.id, emoji, on);

        let first = react(&bo, "👍", true).await.unwrap();
        assert_eq!(summary(&first), ["👍 1 bo"]);
        assert_eq!(react(&bo, "👍", true).await.unwrap(), first, "twice is once");
        let heart = react(&ana, "❤", true).await.unwrap();
        assert_eq!(summary(&heart), ["👍 1 bo", "❤️ 1 ana"], "stored fully qualified");
        let both = react(&ana, "👍", true).await.unwrap();
        assert_eq!(summary(&both), ["👍 2 bo,ana", "❤️ 1 ana"]);
        assert_eq!(react(&bo, "🎉", false).await.unwrap(), both, "taking back nothing changes nothing");
        let last = react(&bo, "👍", false).await.unwrap();
        assert_eq!(summary(&last), ["❤️ 1 ana", "👍 1 ana"], "in the order of the reactions there now");
        assert!(first.seq < heart.seq && heart.seq < both.seq && both.seq < last.seq, "each change a newer seq");

        // Announced: one event per change, in order, with the state it made.
        for made in [&first, &heart, &both, &last] {
            match tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("an event") {
                Received::Event(shared) => match &shared.event {
                    RoomEvent::Reacted { room_id, message_id, reactions } => {
                        assert_eq!((*room_id, *message_id, reactions), (room.id, hello.id, made));
                    }
                    other => panic!("not a reaction: {other:?}"),
                },
                other => panic!("{other:?}"),
            }
        }
        assert!(tokio::time::timeout(Duration::from_millis(300), events.recv()).await.is_err(), "nothing more");

        // Pages carry them; the room knows how far they go.
        let page = chat::history(&env.store, &env.bus, room.id, None).await.unwrap();
        assert_eq!(page.messages[0].reactions, last);
        assert!(page.messages[1].reactions.is_empty(), "never reacted to");
        let room_seq = env.store.room_by_id(room.id).await.unwrap().unwrap().reactions_seq;
        assert!(room_seq >= last.seq, "the room's seq goes as far as its reactions");

        // A catch-up gets each message changed since, once, as it is now.
        let (changed, truncated) = env.store.reactions_changed_after(room.id, heart.seq).await.unwrap();
        assert_eq!((changed, truncated), (vec![(hello.id, last.clone())], false));
        let (nothing, _) = env.store.reactions_changed_after(room.id, room_seq).await.unwrap();
        assert!(nothing.is_empty());
    }

    /// What is not one emoji, one different emoji too many, and reactions
    /// to deleted, unknown or other rooms' messages are refused, and change
    /// nothing stored.
    async fn bad_reactions_change_nothing(env: TestEnv) {
        let ana = env.user("ana").await;
        let bo = env.user("bo").await;
        let room = env.room("lobby", &ana).await;
        let elsewhere = env.room("elsewhere", &ana).await;
        let hello = stamped(draft(&room, &ana, "hello"), 1);
        let mut gone = stamped(draft(&room, &ana, "gone"), 2);
        env.store.upsert_messages(&[hello.clone(), gone.clone()]).await.unwrap();
        gone.deleted = true;
        gone.version = Seq(3);
        env.store.upsert_messages(&[gone.clone()]).await.unwrap();
        let react = |id, emoji: &'static str| chat::react(&env.store, &env.bus, room.id, &bo, id, emoji, true);

        for text in ["", " ", "a", "👍👍", ":+1:", "\0", "<script>", "👍 🎉"] {
            let error = react(hello.id, text).await.unwrap_err();
            assert!(
                matches!(error, Error::Input { field: "emoji", error: InputError::NotAnEmoji | InputError::Required }),
                "{text:?}: {error:?}"
            );
        }
        let kinds = ["😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍", "🤩", "😘", "😗", "😚", "😙"];
        assert_eq!(kinds.len(), MAX_KINDS as usize);
        for emoji in kinds {
            react(hello.id, emoji).await.unwrap();
        }
        let before = env.store.reactions_of(&[hello.id]).await.unwrap();
        let error = react(hello.id, "😋").await.unwrap_err();
        assert!(matches!(error, Error::Input { field: "emoji", error: InputError::TooMany { max: MAX_KINDS } }), "{error:?}");
        assert!(matches!(react(gone.id, "👍").await, Err(Error::NotFound(_))), "a deleted message");
        assert!(matches!(react(tchatche_core::ids::MessageId(uuid::Uuid::now_v7()), "👍").await, Err(Error::NotFound(_))));
        let other_room = chat::react(&env.store, &env.bus, elsewhere.id, &bo, hello.id, "👍", true).await;
        assert!(matches!(other_room, Err(Error::NotFound(_))), "a message of another room");
        assert_eq!(env.store.reactions_of(&[hello.id]).await.unwrap(), before, "nothing changed");

        // One more person on an emoji already there is no new kind.
        let joined = chat::react(&env.store, &env.bus, room.id, &ana, hello.id, "😀", true).await.unwrap();
        assert_eq!(joined.counts[0].count, 2);
    }

    /// A deleted account's reactions go with it.
    async fn reactions_leave_with_their_account(env: TestEnv) {
        let ana = env.user("ana").await;
        let bo = env.user("bo").await;
        let room = env.room("lobby", &ana).await;
        let hello = stamped(draft(&room, &ana, "hello"), 1);
        env.store.upsert_messages(std::slice::from_ref(&hello)).await.unwrap();
        chat::react(&env.store, &env.bus, room.id, &bo, hello.id, "👍", true).await.unwrap();
        chat::react(&env.store, &env.bus, room.id, &ana, hello.id, "🎉", true).await.unwrap();
        env.store.delete_user(bo.id).await.unwrap();
        let left = env.store.reactions_of(&[hello.id]).await.unwrap().remove(&hello.id).unwrap();
        assert_eq!(summary(&left), ["🎉 1 ana"]);
    }
}
