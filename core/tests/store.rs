//! The Store against real databases: a SQLite file and PostgreSQL.

use tchatche_core::{
    Error, access, backend_tests,
    event::{MessageView, Quote, Threading},
    ids::{Seq, UnixMillis, UtcDay},
    input::InputError,
    store::{DirectoryQuery, NewRoom, NewUser, Role, RoomChanges, Visibility},
    testing::{TestEnv, draft, stamped},
};

backend_tests! {
    /// A username is unique whatever its letter case.
    async fn usernames_are_unique_case_insensitively(env: TestEnv) {
        env.user("Alice").await;
        let again = NewUser {
            username: "aLICE".into(),
            display_name: "Other".into(),
            password_hash: "x".into(),
            role: Role::User,
        };
        let err = env.store.create_user(&again).await.unwrap_err();
        assert!(matches!(err, Error::Input { field: "username", error: InputError::Taken }), "{err:?}");
    }

    /// Names no account can have find nobody, on PostgreSQL too (which
    /// refuses a NUL byte in text): the fuzz test found a sign-in answering 500.
    async fn impossible_usernames_find_nobody(env: TestEnv) {
        env.user("alice").await;
        for name in ["ali\0ce", "\0", "%FF%FE\0", "alice'--", "a", &"a".repeat(100)] {
            assert!(env.store.user_by_username(name).await.unwrap().is_none(), "{name:?}");
            assert!(env.store.credentials(name).await.unwrap().is_none(), "{name:?}");
            assert!(env.store.avatar(name).await.unwrap().is_none(), "{name:?}");
        }
        assert!(env.store.user_by_username("ALICE").await.unwrap().is_some());
    }

    /// Text no slug can be finds no room, on PostgreSQL too (which refuses
    /// a NUL byte in text): the search page's room filter answered 500.
    async fn impossible_slugs_find_no_room(env: TestEnv) {
        let owner = env.user("owner").await;
        env.room("general", &owner).await;
        for slug in ["gen\0eral", "\0", "General", "general/", "", &"a".repeat(100)] {
            assert!(env.store.room_by_slug(slug).await.unwrap().is_none(), "{slug:?}");
            assert!(env.store.room_overview(slug).await.unwrap().is_none(), "{slug:?}");
        }
        assert!(env.store.room_by_slug("general").await.unwrap().is_some());
    }

    /// Text no invitation token can be opens nothing, on PostgreSQL too
    /// (which refuses a NUL byte in text): the fuzz test found accepting
    /// an invitation answering 500.
    async fn impossible_invite_tokens_open_nothing(env: TestEnv) {
        let owner = env.user("owner").await;
        let guest = env.user("guest").await;
        let room = env.room("club", &owner).await;
        let invite = env.store.create_invite(room.id, owner.id).await.unwrap();
        let nul = format!("{}\0", &invite.token[1..]);
        for token in [nul.as_str(), "\0", "%FF%FE\0", &invite.token.to_uppercase(), "", &"a".repeat(1000)] {
            assert!(env.store.room_by_invite(token).await.unwrap().is_none(), "{token:?}");
            assert!(env.store.join_by_invite(token, guest.id).await.unwrap().is_none(), "{token:?}");
            let revoked = env.store.revoke_invite(room.id, token).await.unwrap_err();
            assert!(matches!(revoked, Error::NotFound(_)), "{token:?}: {revoked:?}");
        }
        assert!(!env.store.is_member(room.id, guest.id).await.unwrap());
        assert_eq!(env.store.join_by_invite(&invite.token, guest.id).await.unwrap().map(|r| r.id), Some(room.id));
    }

    /// The words of someone who keeps them off search engines are left out
    /// for visitors of a room search engines may index (of their messages
    /// and of quotes of them), whatever the age of the message; signed-in
    /// readers, and visitors of other rooms, read them.
    async fn words_kept_off_search_engines_are_concealed_from_visitors(env: TestEnv) {
        let owner = env.user("owner").await;
        let shy = env.user("shy").await;
        let reader = env.user("reader").await;
        let room = env.room("indexed", &owner).await;
        let changes = RoomChanges { name: "indexed", description: "", visibility: Visibility::Public, indexable: true, translate_private: false };
        env.store.update_room(room.id, &changes).await.unwrap();
        let question = stamped(draft(&room, &shy, "my private question"), 1);
        let mut answer = stamped(draft(&room, &owner, "a public answer"), 2);
        answer.threading = Threading { reply_to: Some(Quote::of_message(&question)), root: Some(question.id), replies: None };
        env.store.upsert_messages(&[question, answer]).await.unwrap();
        env.store.set_hidden_from_search(shy.id, true).await.unwrap();

        let read = || async { env.store.messages_before(room.id, None, 10).await.unwrap().messages };
        let as_stored = read().await;
        assert!(as_stored[0].author.as_ref().unwrap().hidden_from_search && as_stored[1].has_words_off_search());
        let room = env.store.room_by_id(room.id).await.unwrap().unwrap();
        let mut seen = as_stored.clone();
        access::conceal_for(&room, None, &mut seen);
        assert!(seen[0].is_concealed() && seen[0].html.is_empty(), "{:?}", seen[0]);
        assert_eq!((seen[0].author.as_ref().unwrap().username.as_str(), seen[0].seq), ("shy", Seq(1)), "who and where stay");
        assert_eq!(seen[1].body, "a public answer");
        assert!(seen[1].threading.reply_to.as_ref().unwrap().is_concealed());

        let disabled = env.store.user_by_id(reader.id).await.unwrap().map(|mut user| { user.disabled = true; user });
        let mut seen = as_stored.clone();
        access::conceal_for(&room, disabled.as_ref(), &mut seen);
        assert!(seen[0].is_concealed(), "a disabled account reads as a visitor");

        let mut seen = as_stored.clone();
        access::conceal_for(&room, Some(&reader), &mut seen);
        assert_eq!(seen, as_stored, "signed in");
        let unindexed = env.store.room_by_id(env.room("unindexed", &owner).await.id).await.unwrap().unwrap();
        let mut seen = as_stored.clone();
        access::conceal_for(&unindexed, None, &mut seen);
        assert_eq!(seen, as_stored, "a room search engines may not index");

        env.store.set_hidden_from_search(shy.id, false).await.unwrap();
        let mut seen = read().await;
        access::conceal_for(&room, None, &mut seen);
        assert_eq!(seen[0].body, "my private question", "the setting off again");
        assert!(!seen[1].threading.reply_to.as_ref().unwrap().is_concealed());
    }

    /// A room's slug is unique; its creator is its first member.
    async fn room_slugs_are_unique(env: TestEnv) {
        let owner = env.user("owner").await;
        let room = env.room("general", &owner).await;
        assert_eq!(env.store.room_by_slug("general").await.unwrap().unwrap().id, room.id);
        let duplicate = NewRoom {
            slug: "general".into(),
            name: "General 2".into(),
            description: String::new(),
            visibility: Visibility::Public,
            owner_id: owner.id,
        };
        let err = env.store.create_room(&duplicate).await.unwrap_err();
        assert!(matches!(err, Error::Input { field: "slug", error: InputError::Taken }), "{err:?}");
        let listed = env.store.public_rooms(&DirectoryQuery::default()).await.unwrap().rooms;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].member_count, 1);
    }

    /// A room's overview counts its members, names its owner while it has
    /// one and has no archive day before its first message.
    async fn room_overview_reads_what_the_page_shows(env: TestEnv) {
        let owner = env.user("owner").await;
        let room = env.room("lounge", &owner).await;
        let overview = env.store.room_overview("lounge").await.unwrap().unwrap();
        assert_eq!(overview.room.id, room.id);
        assert_eq!((overview.member_count, overview.owner_name.as_deref(), overview.latest_day), (1, Some("OWNER"), None));

        let guest = env.user("guest").await;
        env.store.join_room(room.id, guest.id).await.unwrap();
        env.store.upsert_messages(&[stamped(draft(&room, &guest, "hello"), 1)]).await.unwrap();
        env.store.delete_user(owner.id).await.unwrap();
        let overview = env.store.room_overview("lounge").await.unwrap().unwrap();
        assert_eq!(overview.member_count, 1);
        assert_eq!(overview.owner_name, None);
        assert!(overview.latest_day.is_some());
        assert!(env.store.room_overview("nowhere").await.unwrap().is_none());
    }

    /// The directory lists public rooms only, most recently active first.
    async fn directory_lists_public_rooms_only(env: TestEnv) {
        let owner = env.user("owner").await;
        env.room("first", &owner).await;
        let hidden = NewRoom {
            slug: "secret".into(),
            name: "Secret".into(),
            description: String::new(),
            visibility: Visibility::Private,
            owner_id: owner.id,
        };
        env.store.create_room(&hidden).await.unwrap();
        let second = env.room("second", &owner).await;
        env.store.upsert_messages(&[stamped(draft(&second, &owner, "hi"), 1)]).await.unwrap();
        let slugs: Vec<String> = env.store.public_rooms(&DirectoryQuery::default()).await.unwrap().rooms.into_iter().map(|r| r.slug).collect();
        assert_eq!(slugs, ["second", "first"]);
    }

    /// A day meets the indexing bar with 3 messages from 2 people and 300
    /// characters; only then is it in the sitemap. Deleting a message can
    /// take it back below; a replayed batch changes nothing.
    async fn thin_days_stay_out_of_the_sitemap(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let room = env.room("forum", &alice).await;
        let indexable = RoomChanges { name: "forum", description: "", visibility: Visibility::Public, indexable: true, translate_private: false };
        env.store.update_room(room.id, &indexable).await.unwrap();
        let day = UtcDay::parse("2026-03-10").unwrap();
        let long = "a thoughtful answer ".repeat(6); // 120 characters
        let write = |seq: i64, author: &tchatche_core::store::User, body: &str| {
            let mut m = stamped(draft(&room, author, body), seq);
            m.created_at = UnixMillis(day.start().0 + seq * 60_000);
            m
        };
        let days_listed = || async {
            env.store.indexable_pages().await.unwrap().into_iter().filter_map(|page| page.day).collect::<Vec<_>>()
        };

        let one_voice = [write(1, &alice, &long), write(2, &alice, &long), write(3, &alice, &long)];
        env.store.upsert_messages(&one_voice).await.unwrap();
        assert_eq!(env.store.archive_day(room.id, day).await.unwrap(), Some(false), "one person is not a conversation");
        assert!(days_listed().await.is_empty());

        let short_reply = write(4, &bob, "ok");
        env.store.upsert_messages(std::slice::from_ref(&short_reply)).await.unwrap();
        assert_eq!(env.store.archive_day(room.id, day).await.unwrap(), Some(true), "three messages, two people, 362 characters");
        assert_eq!(days_listed().await, [day]);
        env.store.upsert_messages(&[short_reply]).await.unwrap();
        assert_eq!(env.store.archive_day(room.id, day).await.unwrap(), Some(true), "a replay changes nothing");

        let mut deleted = one_voice[0].clone();
        (deleted.version, deleted.deleted, deleted.body) = (Seq(5), true, String::new());
        env.store.upsert_messages(&[deleted]).await.unwrap();
        assert_eq!(env.store.archive_day(room.id, day).await.unwrap(), Some(false), "242 characters left");
        assert!(days_listed().await.is_empty());
    }

    /// Each batch write keeps the room's archive days: one row per UTC day
    /// with its newest activity, which edits move forward and replays leave
    /// alone; a day's messages read in order.
    async fn archive_days_follow_the_messages(env: TestEnv) {
        let author = env.user("author").await;
        let room = env.room("diary", &author).await;
        let day = UtcDay::parse("2026-03-10").unwrap();
        let at = |day: UtcDay, hour: i64| UnixMillis(day.start().0 + hour * 3_600_000);
        let mut messages = Vec::new();
        for (seq, (d, hour)) in [(day, 9), (day, 23), (UtcDay(day.0 + 1), 0), (UtcDay(day.0 + 5), 12)].into_iter().enumerate() {
            let mut m = stamped(draft(&room, &author, &format!("m{seq}")), seq as i64 + 1);
            m.created_at = at(d, hour);
            messages.push(m);
        }
        env.store.upsert_messages(&messages).await.unwrap();
        assert!(env.store.archive_day(room.id, day).await.unwrap().is_some());
        assert!(env.store.archive_day(room.id, UtcDay(day.0 + 2)).await.unwrap().is_none());
        assert_eq!(env.store.room_overview("diary").await.unwrap().unwrap().latest_day, Some(UtcDay(day.0 + 5)));
        assert_eq!(env.store.neighbour_days(room.id, UtcDay(day.0 + 1)).await.unwrap(), (Some(day), Some(UtcDay(day.0 + 5))));
        assert_eq!(env.store.neighbour_days(room.id, day).await.unwrap(), (None, Some(UtcDay(day.0 + 1))));

        let (first, more) = env.store.messages_on_day(room.id, day, None, 1).await.unwrap();
        assert_eq!((first[0].body.as_str(), more), ("m0", true));
        let (rest, more) = env.store.messages_on_day(room.id, day, Some(first[0].seq), 10).await.unwrap();
        assert_eq!((rest.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), more), (vec!["m1"], false));

        // The room is not indexable yet: nothing for the sitemap.
        assert!(env.store.indexable_pages().await.unwrap().is_empty());
        let changes = RoomChanges { name: "diary", description: "", visibility: Visibility::Public, indexable: true, translate_private: false };
        env.store.update_room(room.id, &changes).await.unwrap();
        assert_eq!(env.store.indexable_pages().await.unwrap().len(), 1, "thin days are left out");
        // Enough conversation for each day to meet the indexing bar, written
        // at the very start of the day (no later than what is there).
        let replier = env.user("replier").await;
        let filler: Vec<MessageView> = [day, UtcDay(day.0 + 1), UtcDay(day.0 + 5)]
            .into_iter()
            .flat_map(|d| [0, 1].map(|i| (d, i)))
            .enumerate()
            .map(|(n, (d, _))| {
                let mut m = stamped(draft(&room, &replier, &"a long and useful reply ".repeat(7)), 20 + n as i64);
                m.created_at = d.start();
                m
            })
            .collect();
        env.store.upsert_messages(&filler).await.unwrap();
        let edit_at = at(UtcDay(day.0 + 7), 8);
        let mut edited = messages[0].clone();
        (edited.version, edited.edited_at, edited.body) = (Seq(10), Some(edit_at), "m0, edited".into());
        env.store.upsert_messages(std::slice::from_ref(&edited)).await.unwrap();
        // A replayed batch changes nothing.
        env.store.upsert_messages(&messages).await.unwrap();
        let pages = env.store.indexable_pages().await.unwrap();
        let listed: Vec<(Option<UtcDay>, UnixMillis)> = pages.iter().map(|p| (p.day, p.last_activity_at)).collect();
        assert_eq!(listed[0].0, None, "the room page first");
        assert_eq!(&listed[1..], [(Some(day), edit_at), (Some(UtcDay(day.0 + 1)), at(UtcDay(day.0 + 1), 0)), (Some(UtcDay(day.0 + 5)), at(UtcDay(day.0 + 5), 12))]);
    }

    /// Writing the same version twice stores one message; a newer version
    /// replaces it, an older one never does, and seq never changes.
    async fn upserts_are_idempotent_and_keep_the_newest_version(env: TestEnv) {
        let author = env.user("author").await;
        let room = env.room("room", &author).await;
        let original = stamped(draft(&room, &author, "first"), 1);
        env.store.upsert_messages(std::slice::from_ref(&original)).await.unwrap();
        env.store.upsert_messages(std::slice::from_ref(&original)).await.unwrap();

        let mut edited = original.clone();
        edited.version = Seq(5);
        edited.body = "edited".into();
        edited.edited_at = Some(UnixMillis::now());
        let mut stale = original.clone();
        stale.version = Seq(3);
        stale.seq = Seq(99);
        stale.body = "stale".into();
        // Out of order, and in one batch with the older one after it.
        env.store.upsert_messages(&[edited.clone(), stale]).await.unwrap();
        env.store.upsert_messages(std::slice::from_ref(&original)).await.unwrap();

        let stored = env.store.message_by_id(original.id).await.unwrap().unwrap();
        assert_eq!(stored.body, "edited");
        assert_eq!(stored.seq, Seq(1));
        assert_eq!(stored.version, Seq(5));
        assert_eq!(stored.author.as_ref().unwrap().username, "author");
        let page = env.store.messages_before(room.id, None, 50).await.unwrap();
        assert_eq!(page.messages.len(), 1);
        assert_eq!(env.store.room_last_seq(room.id).await.unwrap(), Seq(5));
    }

    /// Keyset pages walk back through history with no gap and no repeat.
    async fn history_pages_have_no_gaps(env: TestEnv) {
        let author = env.user("author").await;
        let room = env.room("room", &author).await;
        let messages: Vec<MessageView> =
            (1..=120).map(|seq| stamped(draft(&room, &author, &format!("m{seq}")), seq)).collect();
        env.store.upsert_messages(&messages).await.unwrap();

        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = env.store.messages_before(room.id, before, 50).await.unwrap();
            assert!(page.messages.windows(2).all(|w| w[0].seq < w[1].seq), "each page is oldest first");
            seen.splice(0..0, page.messages.iter().map(|m| m.seq.0));
            before = page.messages.first().map(|m| m.seq);
            if !page.has_older {
                break;
            }
        }
        assert_eq!(seen, (1..=120).collect::<Vec<i64>>());
    }

    /// Catch-up returns new messages and changed ones, in version order.
    async fn catch_up_includes_edits_and_deletions(env: TestEnv) {
        let author = env.user("author").await;
        let room = env.room("room", &author).await;
        let first = stamped(draft(&room, &author, "one"), 1);
        let second = stamped(draft(&room, &author, "two"), 2);
        env.store.upsert_messages(&[first.clone(), second.clone()]).await.unwrap();
        let mut deleted = first.clone();
        deleted.version = Seq(3);
        deleted.deleted = true;
        deleted.body.clear();
        env.store.upsert_messages(&[deleted]).await.unwrap();

        let changed = env.store.messages_changed_after(room.id, Seq(1), 100).await.unwrap();
        let versions: Vec<(i64, i64, bool)> = changed.iter().map(|m| (m.seq.0, m.version.0, m.deleted)).collect();
        assert_eq!(versions, [(2, 2, false), (1, 3, true)]);
        assert!(env.store.messages_changed_after(room.id, Seq(3), 100).await.unwrap().is_empty());
    }

    /// A translation is of one version: written only while that version is
    /// the message's, read only while it still is, gone with a deletion;
    /// writing it again changes nothing.
    async fn translations_follow_the_message_version(env: TestEnv) {
        let owner = env.user("owner").await;
        let room = env.room("babel", &owner).await;
        let mut message = stamped(draft(&room, &owner, "The house is red"), 1);
        message.lang = Some("en".into());
        env.store.upsert_messages(std::slice::from_ref(&message)).await.unwrap();
        assert_eq!(env.store.message_by_id(message.id).await.unwrap().unwrap().lang.as_deref(), Some("en"));

        assert!(env.store.put_translation(message.id, Seq(1), "es", "<p>La casa es roja</p>").await.unwrap());
        assert!(!env.store.put_translation(message.id, Seq(1), "es", "<p>La casa es roja</p>").await.unwrap(), "idempotent");
        assert!(!env.store.put_translation(message.id, Seq(9), "fr", "<p>?</p>").await.unwrap(), "no such version");
        let found = env.store.translations(&[message.id], "es").await.unwrap();
        assert_eq!(found[&message.id].html, "<p>La casa es roja</p>");
        assert!(env.store.translations(&[message.id], "fr").await.unwrap().is_empty());

        // Edited: the old translation is hidden until the new one comes.
        let mut edited = message.clone();
        edited.version = Seq(2);
        edited.body = "The house is blue".into();
        env.store.upsert_messages(std::slice::from_ref(&edited)).await.unwrap();
        assert!(env.store.translations(&[message.id], "es").await.unwrap().is_empty(), "a translation of an older version");
        assert!(!env.store.put_translation(message.id, Seq(1), "es", "<p>late</p>").await.unwrap(), "a late old translation");
        assert!(env.store.put_translation(message.id, Seq(2), "es", "<p>La casa es azul</p>").await.unwrap());
        assert_eq!(env.store.translations(&[message.id], "es").await.unwrap()[&message.id].version, Seq(2));

        // Deleted: no translation stays, and none can be written.
        let mut deleted = edited.clone();
        deleted.version = Seq(3);
        deleted.deleted = true;
        deleted.body.clear();
        env.store.upsert_messages(&[deleted]).await.unwrap();
        assert!(env.store.translations(&[message.id], "es").await.unwrap().is_empty());
        assert!(!env.store.put_translation(message.id, Seq(3), "es", "<p>x</p>").await.unwrap());
        let rows = env.store.translatable_since(UnixMillis(0), 10).await.unwrap();
        assert!(rows.is_empty(), "a deleted message is not translated: {rows:?}");
    }

    /// A room's translation readers are its members who chose "always",
    /// each with the languages they read anyway; private rooms are
    /// translated only when their owner says so.
    async fn room_readers_and_translatable_messages(env: TestEnv) {
        use tchatche_core::languages::TranslateMode;
        let owner = env.user("owner").await;
        let room = env.room("babel", &owner).await;
        let spanish = env.user("spanish").await;
        let french = env.user("french").await;
        for user in [&spanish, &french] {
            env.store.join_room(room.id, user.id).await.unwrap();
        }
        env.store.set_translation_preferences(spanish.id, "es", TranslateMode::Always, &[]).await.unwrap();
        env.store.set_translation_preferences(french.id, "fr", TranslateMode::Always, &["en"]).await.unwrap();
        env.store.set_translation_preferences(owner.id, "de", TranslateMode::Ask, &[]).await.unwrap();
        let readers = env.store.room_readers(room.id).await.unwrap();
        assert_eq!(readers.targets("en"), vec!["es"]);
        assert_eq!(readers.targets("es"), vec!["fr"]);
        let user = env.store.user_by_id(french.id).await.unwrap().unwrap();
        assert_eq!((user.translate_mode, user.known_languages.as_str()), (TranslateMode::Always, "en"));

        let mut message = stamped(draft(&room, &owner, "The house is red"), 1);
        message.lang = Some("en".into());
        env.store.upsert_messages(std::slice::from_ref(&message)).await.unwrap();
        assert_eq!(env.store.translatable_since(UnixMillis(0), 10).await.unwrap().len(), 1);
        let private = RoomChanges { name: "babel", description: "", visibility: Visibility::Private, indexable: false, translate_private: false };
        env.store.update_room(room.id, &private).await.unwrap();
        assert!(env.store.translatable_since(UnixMillis(0), 10).await.unwrap().is_empty(), "private, not allowed");
        env.store.update_room(room.id, &RoomChanges { translate_private: true, ..private }).await.unwrap();
        assert!(env.store.room_by_id(room.id).await.unwrap().unwrap().may_be_translated());
        assert_eq!(env.store.translatable_since(UnixMillis(0), 10).await.unwrap().len(), 1, "its owner allowed it");
    }

    /// An unknown room has no counter to continue from.
    async fn unknown_rooms_are_not_found(env: TestEnv) {
        let err = env.store.room_last_seq(tchatche_core::ids::RoomId(999)).await.unwrap_err();
        assert!(matches!(err, Error::NotFound("room")));
        env.store.ping().await.unwrap();
    }
}

/// A SQLite database written before the trust migration (plain `INTEGER
/// PRIMARY KEY` ids) keeps all its rows when the store brings it up to
/// date, and from then on never gives an id again. (An id freed before the
/// upgrade may be given once more: SQLite kept no record of it. That is
/// harmless, as the upgrade ends every session.)
#[tokio::test]
async fn sqlite_trust_migration_keeps_data_and_retires_ids() {
    use sqlx::migrate::Migrator;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    let mut before = Migrator::new(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < 20261201000005).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    for (name, at) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        sqlx::query("INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, 'x', ?)")
            .bind(name)
            .bind(name.to_uppercase())
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO rooms (slug, name, visibility, owner_id, last_activity_at, created_at) VALUES ('lobby', 'Lobby', 'public', 1, 1, 1)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO room_members (room_id, user_id, joined_at) VALUES (1, 2, 1)").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM users WHERE username = 'carol'").execute(&pool).await.unwrap();
    pool.close().await;

    let store = tchatche_core::Store::connect(&tchatche_core::config::DatabaseUrl::Sqlite(path.clone()), 2).await.unwrap();
    let alice = store.user_by_username("alice").await.unwrap().expect("alice kept");
    let bob = store.user_by_username("bob").await.unwrap().expect("bob kept");
    assert_eq!((alice.id.0, alice.display_name.as_str(), bob.id.0), (1, "ALICE", 2));
    let lobby = store.room_by_slug("lobby").await.unwrap().expect("the room kept");
    assert_eq!((lobby.name.as_str(), lobby.owner_id), ("Lobby", Some(alice.id)));

    let dave = store
        .create_user(&NewUser { username: "dave".into(), display_name: "Dave".into(), password_hash: "x".into(), role: Role::User })
        .await
        .unwrap();
    assert!(dave.id.0 >= 3, "{}", dave.id.0);
    store.delete_user(dave.id).await.unwrap();
    let erin = store
        .create_user(&NewUser { username: "erin".into(), display_name: "Erin".into(), password_hash: "x".into(), role: Role::User })
        .await
        .unwrap();
    assert!(erin.id.0 > dave.id.0, "dave's id is never given again");
    store.close().await;
}
