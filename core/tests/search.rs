//! Message search against real databases: SQLite's FTS5 and PostgreSQL's
//! full-text index, with the reading rule every result must obey.

use tchatche_core::{
    access::{reading_account, room_access},
    backend_tests,
    ids::{Seq, UnixMillis, UserId},
    search::{SearchQuery, SearchResults, SearchScope},
    store::{Backend, NewRoom, Room, RoomChanges, Store, User, Visibility},
    testing::{TestEnv, draft, stamped},
};

async fn search(store: &Store, words: &str, account: Option<UserId>, scope: &SearchScope) -> SearchResults {
    let query = SearchQuery::parse(words).expect("a valid query");
    store.search_messages(&query, Some("en"), account, scope, 20).await.expect("search")
}

/// The bodies found, newest first.
async fn found(store: &Store, words: &str, account: Option<UserId>) -> Vec<String> {
    search(store, words, account, &SearchScope::default()).await.hits.into_iter().map(|hit| hit.excerpt.text()).collect()
}

async fn private_room(env: &TestEnv, slug: &str, owner: &User) -> Room {
    let new = NewRoom { slug: slug.into(), name: slug.into(), description: String::new(), visibility: Visibility::Private, owner_id: owner.id };
    env.store.create_room(&new).await.unwrap()
}

backend_tests! {
    /// Every word must appear, as a word or the start of one, whatever its
    /// case; the matches come back marked, with the room they are in.
    async fn search_finds_every_word_and_marks_it(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("ops", &alice).await;
        env.store.upsert_messages(&[
            stamped(draft(&room, &alice, "We deploy the new release on Friday"), 1),
            stamped(draft(&room, &alice, "Deployment went fine"), 2),
            stamped(draft(&room, &alice, "Nothing to see here"), 3),
        ]).await.unwrap();

        assert_eq!(found(&env.store, "deploy", None).await, ["Deployment went fine", "We deploy the new release on Friday"]);
        assert_eq!(found(&env.store, "DEPLOY fri", None).await, ["We deploy the new release on Friday"]);
        assert!(found(&env.store, "deploy saturday", None).await.is_empty(), "every word must appear");

        let hit = &search(&env.store, "deploy friday", None, &SearchScope::default()).await.hits[0];
        assert_eq!((hit.room_slug.as_str(), hit.seq, hit.author.as_ref().map(|a| a.username.as_str())), ("ops", Seq(1), Some("alice")));
        let marked: Vec<&str> = hit.excerpt.0.iter().filter(|(_, matched)| *matched).map(|(text, _)| text.as_str()).collect();
        assert_eq!(marked, ["deploy", "Friday"]);
    }

    /// The proof the issue asks for: a private room's message is returned
    /// to its members only: never to an outsider, a visitor, a member who
    /// left, or a disabled member.
    async fn private_messages_reach_members_only(env: TestEnv) {
        let owner = env.user("owner").await;
        let member = env.user("member").await;
        let outsider = env.user("outsider").await;
        let secret = private_room(&env, "secret", &owner).await;
        env.store.join_room(secret.id, member.id).await.unwrap();
        let public = env.room("lobby", &owner).await;
        env.store.upsert_messages(&[
            stamped(draft(&secret, &owner, "the launch code is swordfish"), 1),
            stamped(draft(&public, &owner, "a swordfish is a fish"), 1),
        ]).await.unwrap();

        let everyone_sees = ["a swordfish is a fish"];
        assert_eq!(found(&env.store, "swordfish", None).await, everyone_sees, "a visitor");
        assert_eq!(found(&env.store, "swordfish", Some(outsider.id)).await, everyone_sees, "an outsider");
        assert_eq!(found(&env.store, "swordfish", Some(member.id)).await.len(), 2, "a member");
        let narrowed = SearchScope { room: Some(secret.id), ..SearchScope::default() };
        assert!(search(&env.store, "swordfish", Some(outsider.id), &narrowed).await.hits.is_empty(), "naming the room changes nothing");

        env.store.set_disabled(member.id, true).await.unwrap();
        let disabled = env.store.user_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(found(&env.store, "swordfish", reading_account(Some(&disabled))).await, everyone_sees, "a disabled member");

        env.store.set_disabled(member.id, false).await.unwrap();
        env.store.leave_room(secret.id, member.id).await.unwrap();
        assert_eq!(found(&env.store, "swordfish", Some(member.id)).await, everyone_sees, "a member who left");

        let lobby_made_private = RoomChanges { name: "lobby", description: "", visibility: Visibility::Private, indexable: false, translate_private: false };
        env.store.update_room(public.id, &lobby_made_private).await.unwrap();
        assert!(found(&env.store, "swordfish", None).await.is_empty(), "a room made private leaves visitors' results");
        assert_eq!(found(&env.store, "swordfish", Some(owner.id)).await.len(), 2, "its owner is a member of both");
    }

    /// The SQL reading rule of search and `room_access` agree for every
    /// kind of reader and room.
    async fn search_reads_what_room_access_allows(env: TestEnv) {
        let owner = env.user("owner").await;
        let member = env.user("member").await;
        let outsider = env.user("outsider").await;
        let public = env.room("open", &owner).await;
        let private = private_room(&env, "closed", &owner).await;
        for room in [&public, &private] {
            env.store.join_room(room.id, member.id).await.unwrap();
            env.store.upsert_messages(&[stamped(draft(room, &owner, &format!("marker in {}", room.slug)), 1)]).await.unwrap();
        }
        for reader in [None, Some(&member), Some(&outsider)] {
            for room in [&public, &private] {
                let may_read = room_access(&env.store, room, reader).await.unwrap().may_read();
                let scope = SearchScope { room: Some(room.id), ..SearchScope::default() };
                let results = search(&env.store, "marker", reading_account(reader), &scope).await;
                assert_eq!(!results.hits.is_empty(), may_read, "{:?} in {}", reader.map(|r| &r.username), room.slug);
            }
        }
    }

    /// Someone who keeps their messages off search engines is not found by
    /// anonymous search where search engines may look (a public room they
    /// may index), old messages included; signed-in readers still find
    /// them, and so does everyone once the setting is off again.
    async fn words_kept_off_search_engines_are_not_found_signed_out(env: TestEnv) {
        let owner = env.user("owner").await;
        let shy = env.user("shy").await;
        let reader = env.user("reader").await;
        let indexed = env.room("indexed", &owner).await;
        let changes = RoomChanges { name: "indexed", description: "", visibility: Visibility::Public, indexable: true, translate_private: false };
        env.store.update_room(indexed.id, &changes).await.unwrap();
        let unindexed = env.room("unindexed", &owner).await;
        env.store.upsert_messages(&[
            stamped(draft(&indexed, &shy, "pelican sighting in the indexed room"), 1),
            stamped(draft(&indexed, &owner, "pelican pictures from the owner"), 2),
            stamped(draft(&unindexed, &shy, "pelican sighting elsewhere"), 1),
        ]).await.unwrap();

        env.store.set_hidden_from_search(shy.id, true).await.unwrap();
        let mut signed_out = found(&env.store, "pelican", None).await;
        signed_out.sort();
        assert_eq!(signed_out, ["pelican pictures from the owner", "pelican sighting elsewhere"]);
        assert_eq!(found(&env.store, "pelican", Some(reader.id)).await.len(), 3, "signed in");
        let hit = &search(&env.store, "sighting indexed", Some(reader.id), &SearchScope::default()).await.hits[0];
        assert!(hit.author.as_ref().is_some_and(|a| a.hidden_from_search), "the hit says whose words these are");

        env.store.set_hidden_from_search(shy.id, false).await.unwrap();
        assert_eq!(found(&env.store, "pelican", None).await.len(), 3, "the setting off again");
    }

    /// Edits, deletions and a deleted room update the index.
    async fn edits_and_deletions_update_the_index(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("notes", &alice).await;
        let original = stamped(draft(&room, &alice, "the colour is crimson"), 1);
        env.store.upsert_messages(std::slice::from_ref(&original)).await.unwrap();
        assert_eq!(found(&env.store, "crimson", None).await.len(), 1);
        // A retry of the same version changes nothing.
        env.store.upsert_messages(std::slice::from_ref(&original)).await.unwrap();
        assert_eq!(found(&env.store, "crimson", None).await.len(), 1);

        let mut edited = original.clone();
        edited.version = Seq(2);
        edited.body = "the colour is teal".into();
        edited.edited_at = Some(UnixMillis::now());
        env.store.upsert_messages(std::slice::from_ref(&edited)).await.unwrap();
        assert!(found(&env.store, "crimson", None).await.is_empty(), "the old words are gone");
        assert_eq!(found(&env.store, "teal", None).await, ["the colour is teal"]);
        let hit = &search(&env.store, "teal", None, &SearchScope::default()).await.hits[0];
        assert!(hit.edited_at.is_some());

        // An older version arriving late changes nothing.
        env.store.upsert_messages(&[original]).await.unwrap();
        assert_eq!(found(&env.store, "teal", None).await.len(), 1);
        assert!(found(&env.store, "crimson", None).await.is_empty());

        let mut deleted = edited;
        deleted.version = Seq(3);
        deleted.body = String::new();
        deleted.deleted = true;
        env.store.upsert_messages(&[deleted]).await.unwrap();
        assert!(found(&env.store, "teal", None).await.is_empty(), "a deleted message is not found");

        env.store.upsert_messages(&[stamped(draft(&room, &alice, "ephemeral words"), 4)]).await.unwrap();
        assert_eq!(found(&env.store, "ephemeral", None).await.len(), 1);
        env.store.delete_room(room.id).await.unwrap();
        assert!(found(&env.store, "ephemeral", None).await.is_empty(), "a deleted room's messages are not found");
    }

    /// Filters by room, author and time, and pages newest first without
    /// gaps or repeats.
    async fn filters_and_pages(env: TestEnv) {
        let alice = env.user("alice").await;
        let bob = env.user("bob").await;
        let first = env.room("first", &alice).await;
        let second = env.room("second", &alice).await;
        let mut messages = Vec::new();
        for i in 0..7_i64 {
            let (room, author) = if i % 2 == 0 { (&first, &alice) } else { (&second, &bob) };
            let mut message = stamped(draft(room, author, &format!("topic number {i}")), i + 1);
            message.created_at = UnixMillis(1_000_000 + i * 1000);
            messages.push(message);
        }
        env.store.upsert_messages(&messages).await.unwrap();

        let query = SearchQuery::parse("topic").unwrap();
        let mut seen = Vec::new();
        let mut scope = SearchScope::default();
        loop {
            let page = env.store.search_messages(&query, None, None, &scope, 3).await.unwrap();
            seen.extend(page.hits.iter().map(|hit| hit.excerpt.text()));
            match page.next {
                Some(next) => scope.before = Some(next),
                None => break,
            }
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("topic number {i}")).collect();
        assert_eq!(seen, expected);

        let by_bob = SearchScope { author: Some(bob.id), ..SearchScope::default() };
        assert_eq!(search(&env.store, "topic", None, &by_bob).await.hits.len(), 3);
        let in_first = SearchScope { room: Some(first.id), ..SearchScope::default() };
        assert_eq!(search(&env.store, "topic", None, &in_first).await.hits.len(), 4);
        let window = SearchScope { since: Some(UnixMillis(1_002_000)), until: Some(UnixMillis(1_004_000)), ..SearchScope::default() };
        let texts: Vec<String> = search(&env.store, "topic", None, &window).await.hits.into_iter().map(|h| h.excerpt.text()).collect();
        assert_eq!(texts, ["topic number 3", "topic number 2"], "since is inclusive, until exclusive");
    }

    /// Whatever people type reaches the engines as words, never as syntax:
    /// no query errs or finds more than its words.
    async fn hostile_queries_are_only_words(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("safe", &alice).await;
        env.store.upsert_messages(&[stamped(draft(&room, &alice, "plain words"), 1)]).await.unwrap();
        for hostile in [r#"" OR 1=1 --"#, "NEAR(plain words)", "plain:* | !words", "plain* ^words", "'); DROP TABLE messages; --", "words OR nothing"] {
            let query = SearchQuery::parse(hostile).unwrap();
            let results = env.store.search_messages(&query, Some("en"), None, &SearchScope::default(), 20).await;
            assert!(results.is_ok(), "{hostile:?}: {results:?}");
        }
        assert_eq!(found(&env.store, "words OR nothing", None).await.len(), 0, "OR is a word, not an operator");
        assert_eq!(found(&env.store, "plain* ^words", None).await.len(), 1);
    }

    /// PostgreSQL also matches stems in the searcher's language when the
    /// message's language is known; SQLite matches words and their starts.
    async fn known_languages_match_by_stem_on_postgres(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("study", &alice).await;
        let mut english = stamped(draft(&room, &alice, "She studies distributed systems"), 1);
        english.lang = Some("en".into());
        env.store.upsert_messages(&[english]).await.unwrap();
        let by_stem = found(&env.store, "study", None).await;
        match env.store.backend() {
            Backend::Postgres => assert_eq!(by_stem, ["She studies distributed systems"]),
            Backend::Sqlite => assert!(by_stem.is_empty(), "no stemming in FTS5's unicode61"),
        }
        assert_eq!(found(&env.store, "stud distrib", None).await.len(), 1, "starts of words match on both");
    }
}
