//! The message pipeline end to end on both backends: the bus sequences and
//! fans out, the worker stores, storage reads it back.

use std::time::Duration;

use tchatche_core::{
    backend_tests,
    bus::{DraftKind, Received},
    event::RoomEvent,
    ids::Seq,
    testing::{Backend, TestEnv, draft},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct RunningWorker {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

fn start_worker(env: &TestEnv) -> RunningWorker {
    let stop = CancellationToken::new();
    let task = tokio::spawn(worker::run_until_stopped(env.store.clone(), env.bus.clone(), "test-worker", &[], stop.clone()));
    RunningWorker { stop, task }
}

impl RunningWorker {
    async fn stop(self, env: &TestEnv) {
        if env.backend == Backend::Embedded {
            env.bus.shutdown().await;
        }
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("worker stops within 10 s")
            .expect("worker task")
            .expect("worker result");
    }
}

async fn next_event(subscription: &mut tchatche_core::bus::RoomSubscription) -> RoomEvent {
    match tokio::time::timeout(Duration::from_secs(5), subscription.recv()).await.expect("an event within 5 s") {
        Received::Event(event) => event.event.clone(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Polls storage until the worker has written `count` messages.
async fn wait_stored(env: &TestEnv, room: tchatche_core::ids::RoomId, count: usize) {
    for _ in 0..100 {
        if env.store.messages_before(room, None, 1000).await.unwrap().messages.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the worker did not store {count} messages in 5 s");
}

backend_tests! {
    /// A posted message is sequenced, reaches a subscriber and is stored.
    async fn posts_flow_from_bus_to_subscribers_and_storage(env: TestEnv) {
        let worker = start_worker(&env);
        let alice = env.user("alice").await;
        let room = env.room("room", &alice).await;
        let mut subscription = env.bus.subscribe(room.id).await.unwrap();

        let first = env.bus.submit(&env.store, draft(&room, &alice, "hello"), DraftKind::Post).await.unwrap();
        let second = env.bus.submit(&env.store, draft(&room, &alice, "again"), DraftKind::Post).await.unwrap();
        assert_eq!((first.seq, first.version), (Seq(1), Seq(1)));
        assert_eq!(second.seq, Seq(2));

        for expected in [&first, &second] {
            match next_event(&mut subscription).await {
                RoomEvent::Message(message) => assert_eq!(&message, expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        wait_stored(&env, room.id, 2).await;
        let page = env.store.messages_before(room.id, None, 50).await.unwrap();
        assert_eq!(page.messages, vec![first, second]);
        worker.stop(&env).await;
    }

    /// Posting the same id twice (a retry) stores and fans out one message.
    async fn a_retried_post_is_stored_once(env: TestEnv) {
        let worker = start_worker(&env);
        let alice = env.user("alice").await;
        let room = env.room("room", &alice).await;
        let post = draft(&room, &alice, "once");
        let first = env.bus.submit(&env.store, post.clone(), DraftKind::Post).await.unwrap();
        let again = env.bus.submit(&env.store, post.clone(), DraftKind::Post).await.unwrap();
        assert_eq!(first.seq, again.seq);
        wait_stored(&env, room.id, 1).await;
        // Once stored, a retry still answers with the same message.
        let later = env.bus.submit(&env.store, post.clone(), DraftKind::Post).await.unwrap();
        assert_eq!(later.seq, first.seq);
        let next = env.bus.submit(&env.store, draft(&room, &alice, "next"), DraftKind::Post).await.unwrap();
        assert_eq!(next.seq, Seq(2), "a retry never takes a seq");
        wait_stored(&env, room.id, 2).await;
        assert_eq!(env.store.messages_before(room.id, None, 50).await.unwrap().messages.len(), 2);

        // Someone else reusing the id is refused.
        let mallory = env.user("mallory").await;
        let mut stolen = draft(&room, &mallory, "mine");
        stolen.id = post.id;
        assert!(env.bus.submit(&env.store, stolen, DraftKind::Post).await.is_err());
        worker.stop(&env).await;
    }

    /// An edit keeps the message's place and takes a new version.
    async fn revisions_keep_seq_and_take_a_new_version(env: TestEnv) {
        let worker = start_worker(&env);
        let alice = env.user("alice").await;
        let room = env.room("room", &alice).await;
        let posted = env.bus.submit(&env.store, draft(&room, &alice, "typo"), DraftKind::Post).await.unwrap();
        let mut edit = posted.clone();
        edit.body = "fixed".into();
        let edited = env.bus.submit(&env.store, edit, DraftKind::Revise).await.unwrap();
        assert_eq!(edited.seq, posted.seq);
        assert!(edited.version > posted.version);
        for _ in 0..100 {
            if env.store.message_by_id(posted.id).await.unwrap().is_some_and(|m| m.body == "fixed") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stored = env.store.message_by_id(posted.id).await.unwrap().unwrap();
        assert_eq!((stored.body.as_str(), stored.seq, stored.version), ("fixed", posted.seq, edited.version));
        worker.stop(&env).await;
    }

    /// Ephemeral events reach subscribers of their room only.
    async fn ephemeral_events_reach_their_room_only(env: TestEnv) {
        let alice = env.user("alice").await;
        let room = env.room("room", &alice).await;
        let other = env.room("other", &alice).await;
        let mut in_room = env.bus.subscribe(room.id).await.unwrap();
        let mut in_other = env.bus.subscribe(other.id).await.unwrap();
        let author = tchatche_core::event::Author { id: alice.id, username: "alice".into(), display_name: "A".into(), hidden_from_search: false };
        env.bus.publish(RoomEvent::Typing { room_id: room.id, user: author.clone() }).await.unwrap();
        assert_eq!(next_event(&mut in_room).await, RoomEvent::Typing { room_id: room.id, user: author });
        assert!(tokio::time::timeout(Duration::from_millis(300), in_other.recv()).await.is_err());
        drop(in_room);
        assert_eq!(env.bus.local_subscribers(room.id), 0);
    }

    /// A stopped worker finishes cleanly; in-process, posts are then refused
    /// instead of waiting forever.
    async fn the_worker_stops_cleanly(env: TestEnv) {
        let worker = start_worker(&env);
        let alice = env.user("alice").await;
        let room = env.room("room", &alice).await;
        env.bus.submit(&env.store, draft(&room, &alice, "before"), DraftKind::Post).await.unwrap();
        worker.stop(&env).await;
        if env.backend == Backend::Embedded {
            let refused = env.bus.submit(&env.store, draft(&room, &alice, "after"), DraftKind::Post).await;
            assert!(matches!(refused, Err(tchatche_core::Error::ShuttingDown)), "{refused:?}");
        }
    }
}

/// Scaled mode: accepted messages are visible (pending) before the worker
/// stores them, and the worker empties the pending set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_history_includes_messages_not_yet_stored() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    let posted = env.bus.submit(&env.store, draft(&room, &alice, "early"), DraftKind::Post).await.unwrap();
    assert_eq!(env.bus.pending_messages(room.id).await.unwrap(), vec![posted.clone()]);
    assert!(env.store.message_by_id(posted.id).await.unwrap().is_none());

    let worker = start_worker(&env);
    wait_stored(&env, room.id, 1).await;
    for _ in 0..100 {
        if env.bus.pending_messages(room.id).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(env.bus.pending_messages(room.id).await.unwrap().is_empty());
    worker.stop(&env).await;
}

/// Scaled mode: a second process' bus sees every message of the room, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_fan_out_reaches_other_processes() {
    let env = TestEnv::scaled().await;
    let other_process = env.another_bus().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    let mut remote = other_process.subscribe(room.id).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..20 {
        sent.push(env.bus.submit(&env.store, draft(&room, &alice, &format!("m{i}")), DraftKind::Post).await.unwrap());
    }
    for expected in sent {
        assert_eq!(next_event(&mut remote).await, RoomEvent::Message(expected));
    }
    other_process.shutdown().await;
}

/// Scaled mode: a message the database keeps refusing (its room was
/// deleted after it was accepted) is retried, then moved to the dead-letter
/// stream after `MAX_DELIVERIES` attempts; the messages around it are
/// stored, and the queue moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_a_message_refused_for_good_goes_to_the_dead_letters() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let kept = env.room("kept", &alice).await;
    let doomed = env.room("doomed", &alice).await;
    env.bus.submit(&env.store, draft(&kept, &alice, "before"), DraftKind::Post).await.unwrap();
    env.bus.submit(&env.store, draft(&doomed, &alice, "orphan"), DraftKind::Post).await.unwrap();
    env.bus.submit(&env.store, draft(&kept, &alice, "after"), DraftKind::Post).await.unwrap();
    env.store.delete_room(doomed.id).await.unwrap();

    let mut consumer = env.bus.consumer("test-worker").await.unwrap();
    let (mut stored, mut failed, mut dead) = (0, 0, Vec::new());
    for _ in 0..=tchatche_core::bus::MAX_DELIVERIES {
        let step = worker::try_process_next(&mut consumer, &env.store, Duration::from_millis(100)).await.unwrap();
        stored += step.stored;
        failed += step.failed;
        dead.extend(step.dead);
    }
    assert_eq!(stored, 2, "the two good messages are stored once each");
    assert_eq!(failed as u64, tchatche_core::bus::MAX_DELIVERIES, "the orphan is tried MAX_DELIVERIES times");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message.as_ref().map(|m| m.body.as_str()), Some("orphan"));
    let tchatche_core::bus::QueueConsumer::Redis(redis) = &consumer else { unreachable!("scaled mode") };
    assert_eq!(redis.dead_letter_count().await.unwrap(), 1);
    let bodies: Vec<String> = env.store.messages_before(kept.id, None, 10).await.unwrap().messages.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["before", "after"]);

    // Nothing is left to read: the dead letter was acknowledged.
    let step = worker::try_process_next(&mut consumer, &env.store, Duration::from_millis(100)).await.unwrap();
    assert_eq!((step.stored, step.failed), (0, 0));
}

/// Scaled mode: while the database refuses every write for reasons of its
/// own (here a failover left it read-only), accepted messages wait in the
/// stream however many times they are retried: none reaches the dead
/// letters, and all are stored once the database is writable again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_a_read_only_database_delays_messages_and_loses_none() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    for i in 0..3 {
        env.bus.submit(&env.store, draft(&room, &alice, &format!("m{i}")), DraftKind::Post).await.unwrap();
    }
    env.set_database_read_only(true).await;

    let mut consumer = env.bus.consumer("test-worker").await.unwrap();
    let mut dead = Vec::new();
    for _ in 0..tchatche_core::bus::MAX_DELIVERIES * 2 {
        // A step fails only if the pool had not noticed its dropped connections yet.
        if let Ok(step) = worker::try_process_next(&mut consumer, &env.store, Duration::from_millis(100)).await {
            assert_eq!(step.stored, 0, "nothing can be written to a read-only database");
            dead.extend(step.dead);
        }
    }
    assert!(dead.is_empty(), "nothing is dead-lettered for the database's state: {dead:?}");

    env.set_database_read_only(false).await;
    let mut stored = 0;
    for _ in 0..20 {
        if let Ok(step) = worker::try_process_next(&mut consumer, &env.store, Duration::from_millis(100)).await {
            assert!(step.dead.is_empty());
            stored += step.stored;
        }
        if stored == 3 {
            break;
        }
    }
    assert_eq!(stored, 3, "everything is stored once the database is writable");
    let tchatche_core::bus::QueueConsumer::Redis(redis) = &consumer else { unreachable!("scaled mode") };
    assert_eq!(redis.dead_letter_count().await.unwrap(), 0);
    let bodies: Vec<String> = env.store.messages_before(room.id, None, 10).await.unwrap().messages.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["m0", "m1", "m2"]);
}

/// Scaled mode: a Redis that lost the consumer group (restarted without its
/// data, or an operator removed it) gets it back, and the worker goes on
/// storing what the stream still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_a_lost_consumer_group_is_created_again() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    let running = start_worker(&env);
    env.bus.submit(&env.store, draft(&room, &alice, "before"), DraftKind::Post).await.unwrap();
    wait_stored(&env, room.id, 1).await;

    let destroyed = env.redis_eval("return redis.call('XGROUP', 'DESTROY', KEYS[1], 'persist')", &["queue"]).await;
    assert_eq!(destroyed, 1);
    env.bus.submit(&env.store, draft(&room, &alice, "after"), DraftKind::Post).await.unwrap();
    wait_stored(&env, room.id, 2).await;
    running.stop(&env).await;
}

/// Scaled mode: a worker that read entries and died before storing them
/// reads them again when it restarts under the same name, in pages of
/// `MAX_BATCH`, each entry once, then goes on with new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_a_restarted_worker_stores_what_it_had_read() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    let total = worker::MAX_BATCH + 100;
    for i in 0..total {
        env.bus.submit(&env.store, draft(&room, &alice, &format!("m{i}")), DraftKind::Post).await.unwrap();
    }
    // Everything read, nothing stored nor acknowledged: the worker "dies".
    let mut first_life = env.bus.consumer("test-worker").await.unwrap();
    let mut read = 0;
    for _ in 0..4 {
        read += first_life.next_batch(worker::MAX_BATCH, Duration::from_millis(100)).await.unwrap().len();
    }
    assert_eq!(read, total);
    drop(first_life);
    let late = env.bus.submit(&env.store, draft(&room, &alice, "late"), DraftKind::Post).await.unwrap();

    let mut second_life = env.bus.consumer("test-worker").await.unwrap();
    let mut stored = 0;
    for _ in 0..5 {
        stored += worker::try_process_next(&mut second_life, &env.store, Duration::from_millis(100)).await.unwrap().stored;
    }
    assert_eq!(stored, total + 1, "every entry read before the restart is stored once, then the new one");
    assert_eq!(env.store.room_last_seq(room.id).await.unwrap(), late.seq);
}
