//! Direct conversations and the block list against real databases (a SQLite
//! file; PostgreSQL): who may start one, that the same people find the same
//! room, that blocks stop both starting and writing, and that no one else
//! ever reads one: not in the directory, the sitemap or search.

use tchatche_core::{
    Error,
    access::{RoomAccess, room_access},
    backend_tests,
    direct::{self, Participants},
    ids::UserId,
    input::InputError,
    room::DirectoryQuery,
    search::{SearchQuery, SearchScope},
    store::{Room, RoomChanges, User, Visibility},
    testing::{TestEnv, draft, stamped},
};

async fn start(env: &TestEnv, starter: &User, with: &str) -> Result<Room, Error> {
    let others = Participants::parse(with, &starter.username).map_err(|error| Error::input("with", error))?;
    direct::start(&env.store, starter, &others).await
}

/// Ana, Bo and Cy, who share the public room "lobby" (Ana's).
async fn three_in_a_lobby(env: &TestEnv) -> (User, User, User, Room) {
    let ana = env.user("ana").await;
    let bo = env.user("bo_b").await;
    let cy = env.user("cy_c").await;
    let lobby = env.room("lobby", &ana).await;
    env.store.join_room(lobby.id, bo.id).await.unwrap();
    env.store.join_room(lobby.id, cy.id).await.unwrap();
    (ana, bo, cy, lobby)
}

fn refused(result: Result<Room, Error>) -> InputError {
    match result {
        Err(Error::Input { field: "with", error }) => error,
        other => panic!("not refused: {other:?}"),
    }
}

async fn access(env: &TestEnv, room: &Room, who: &User) -> RoomAccess {
    room_access(&env.store, room, Some(who)).await.unwrap()
}

backend_tests! {
    /// People who share a room start a conversation; starting it again,
    /// from either side and in any order, opens the same private room,
    /// which has no owner and takes no settings or invitations.
    async fn the_same_people_find_the_same_private_room(env: TestEnv) {
        let (ana, bo, cy, _lobby) = three_in_a_lobby(&env).await;

        let pair = start(&env, &ana, "@bo_b").await.unwrap();
        assert!(pair.is_direct() && pair.visibility == Visibility::Private && pair.owner_id.is_none());
        assert!(pair.slug.starts_with("dm-"), "a random slug tells nothing: {}", pair.slug);
        assert_eq!(pair.name, "ANA, BO_B");
        assert_eq!(start(&env, &bo, "ANA").await.unwrap().id, pair.id, "the other way round");
        let group = start(&env, &ana, "bo_b, cy_c").await.unwrap();
        assert_ne!(group.id, pair.id, "other people, another room");
        assert_eq!(start(&env, &cy, "bo_b ana").await.unwrap().id, group.id);
        for who in [&ana, &bo, &cy] {
            assert_eq!(access(&env, &group, who).await, RoomAccess::Member);
        }
        assert_eq!(access(&env, &pair, &cy).await, RoomAccess::Hidden, "not theirs");
        assert_eq!(room_access(&env.store, &pair, None).await.unwrap(), RoomAccess::Hidden, "nor a visitor's");

        // Listed with the person's rooms, marked as conversations and named
        // after the others in them, as they are named now.
        let named = |user: User| {
            let store = env.store.clone();
            async move {
                let mine = store.rooms_of(user.id, &user.username).await.unwrap();
                assert!(mine.iter().any(|room| room.slug == "lobby" && !room.direct));
                let mut direct: Vec<String> = mine.into_iter().filter(|room| room.direct).map(|room| room.name).collect();
                direct.sort();
                direct
            }
        };
        assert_eq!(named(bo.clone()).await, ["ANA", "ANA, CY_C"]);
        assert_eq!(named(ana.clone()).await, ["BO_B", "BO_B, CY_C"]);
        env.store.set_display_name(cy.id, "Cyril").await.unwrap();
        assert_eq!(named(bo.clone()).await, ["ANA", "ANA, Cyril"], "a new display name shows");

        // Never made public, never given an invitation.
        let public = RoomChanges { name: "x", description: "", visibility: Visibility::Public, indexable: true, translate_private: true };
        assert!(matches!(env.store.update_room(pair.id, &public).await, Err(Error::NotFound(_))));
        assert!(matches!(env.store.create_invite(pair.id, ana.id).await, Err(Error::NotFound(_))));
        let stored = env.store.room_by_id(pair.id).await.unwrap().unwrap();
        assert_eq!((stored.visibility, stored.indexable, stored.name.as_str()), (Visibility::Private, false, "ANA, BO_B"));

        // Someone who left comes back when it is started again.
        env.store.leave_room(pair.id, bo.id).await.unwrap();
        assert_eq!(access(&env, &pair, &bo).await, RoomAccess::Hidden);
        assert_eq!(start(&env, &ana, "bo_b").await.unwrap().id, pair.id);
        assert_eq!(access(&env, &pair, &bo).await, RoomAccess::Member);
    }

    /// People starting the same conversation at the same moment all land in
    /// one room (the second insert waits for the first, then finds it).
    async fn starting_at_once_opens_one_room(env: TestEnv) {
        let (ana, bo, _cy, _lobby) = three_in_a_lobby(&env).await;
        let starts = (0..8).map(|n| {
            let (store, starter, with) = if n % 2 == 0 { (env.store.clone(), ana.clone(), "bo_b") } else { (env.store.clone(), bo.clone(), "ana") };
            tokio::spawn(async move {
                let others = Participants::parse(with, &starter.username).unwrap();
                direct::start(&store, &starter, &others).await.map(|room| room.id)
            })
        });
        let mut rooms = Vec::new();
        for start in starts.collect::<Vec<_>>() {
            rooms.push(start.await.unwrap().expect("every start succeeds"));
        }
        rooms.dedup();
        assert_eq!(rooms.len(), 1, "one room: {rooms:?}");
    }

    /// Nobody starts a conversation with someone unknown, disabled, sharing
    /// no room with them, or with a block between them (either way, and
    /// between any two of a group); the refusals change nothing.
    async fn who_cannot_be_written_to(env: TestEnv) {
        let ana = env.user("ana").await;
        let bo = env.user("bo_b").await;
        let cy = env.user("cy_c").await;
        let stranger = env.user("stranger").await;
        let gone = env.user("gone").await;
        let lobby = env.room("lobby", &ana).await;
        for who in [&bo, &cy, &gone] {
            env.store.join_room(lobby.id, who.id).await.unwrap();
        }
        env.store.set_disabled(gone.id, true).await.unwrap();

        assert_eq!(refused(start(&env, &ana, "nobody_here").await), InputError::NoSuchPerson);
        assert_eq!(refused(start(&env, &ana, "gone").await), InputError::NoSuchPerson, "a disabled account");
        assert_eq!(refused(start(&env, &ana, "stranger").await), InputError::Unreachable, "no room in common");
        assert_eq!(refused(start(&env, &stranger, "ana").await), InputError::Unreachable);
        assert_eq!(refused(start(&env, &ana, "").await), InputError::Required);
        assert_eq!(refused(start(&env, &ana, "ana").await), InputError::Required, "oneself only");

        env.store.block(bo.id, ana.id).await.unwrap();
        assert_eq!(refused(start(&env, &ana, "bo_b").await), InputError::Unreachable, "blocked");
        assert_eq!(refused(start(&env, &bo, "ana").await), InputError::Unreachable, "the one who blocked, too");
        assert_eq!(refused(start(&env, &cy, "ana bo_b").await), InputError::Unreachable, "a block inside a group");
        assert!(start(&env, &cy, "ana").await.is_ok(), "others are not affected");
        assert_eq!(env.store.rooms_of(bo.id, "bo_b").await.unwrap().iter().filter(|r| r.direct).count(), 0, "nothing was made");

        // Blocking oneself is not a thing; blocking twice is blocking once.
        assert!(env.store.block(ana.id, ana.id).await.is_err());
        env.store.block(bo.id, ana.id).await.unwrap();
        let blocked: Vec<UserId> = env.store.blocked_by(bo.id).await.unwrap().iter().map(|u| u.id).collect();
        assert_eq!(blocked, [ana.id]);
        assert!(env.store.has_blocked(bo.id, ana.id).await.unwrap() && !env.store.has_blocked(ana.id, bo.id).await.unwrap());
        let contacts: Vec<String> = env.store.contacts(ana.id, 50).await.unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(contacts, ["cy_c"], "the picker offers who may be written to");

        env.store.unblock(bo.id, ana.id).await.unwrap();
        assert!(env.store.blocked_by(bo.id).await.unwrap().is_empty());
        assert!(start(&env, &ana, "bo_b").await.is_ok(), "unblocked");
    }

    /// A block made after a conversation started keeps both of its two
    /// sides from writing in it (they still read it), and only them.
    async fn a_block_silences_a_shared_conversation(env: TestEnv) {
        let (ana, bo, cy, lobby) = three_in_a_lobby(&env).await;
        let pair = start(&env, &ana, "bo_b").await.unwrap();
        let group = start(&env, &ana, "bo_b cy_c").await.unwrap();

        let changed = env.store.block(ana.id, bo.id).await.unwrap();
        assert_eq!(changed.len(), 2, "the rooms whose sockets must check again");
        for room in [&pair, &group] {
            assert_eq!(access(&env, room, &ana).await, RoomAccess::Read);
            assert_eq!(access(&env, room, &bo).await, RoomAccess::Read);
        }
        assert_eq!(access(&env, &group, &cy).await, RoomAccess::Member, "the third person still writes");
        assert_eq!(access(&env, &lobby, &bo).await, RoomAccess::Member, "other rooms are not affected");
        env.store.unblock(ana.id, bo.id).await.unwrap();
        assert_eq!(access(&env, &pair, &bo).await, RoomAccess::Member);
    }

    /// A conversation is never public: not in the directory, not in the
    /// sitemap, and its messages are found by its people only.
    async fn conversations_stay_among_their_people(env: TestEnv) {
        let (ana, bo, cy, lobby) = three_in_a_lobby(&env).await;
        let pair = start(&env, &ana, "bo_b").await.unwrap();
        env.store.upsert_messages(&[stamped(draft(&pair, &ana, "the gift is a telescope"), 1)]).await.unwrap();

        let directory = env.store.public_rooms(&DirectoryQuery::default()).await.unwrap();
        assert!(directory.rooms.iter().any(|room| room.slug == lobby.slug), "the directory lists rooms");
        assert!(directory.rooms.iter().all(|room| room.slug != pair.slug), "not conversations");
        assert!(env.store.indexable_pages().await.unwrap().iter().all(|page| page.slug != pair.slug));
        let query = SearchQuery::parse("telescope").unwrap();
        let found = |account| {
            let query = query.clone();
            let store = env.store.clone();
            async move { store.search_messages(&query, None, account, &SearchScope::default(), 20).await.unwrap().hits.len() }
        };
        assert_eq!(found(Some(bo.id)).await, 1, "its people find it");
        assert_eq!(found(Some(cy.id)).await, 0, "nobody else");
        assert_eq!(found(None).await, 0, "nor a visitor");
    }
}
