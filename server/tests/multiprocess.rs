//! The scaled deployment for real: two server processes and one worker
//! process on PostgreSQL and Redis. A socket on server A receives what is
//! posted on server B; the worker is killed (SIGKILL) while messages flow and
//! restarted; every message answered "sent" ends up stored exactly once.

mod common;

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{browser, next_frame, open_socket, send_frame};
use tchatche_core::{
    event::{ClientFrame, MessageView, RoomEvent, ServerFrame},
    ids::Seq,
    testing::TestEnv,
};

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn tchatche(env: &TestEnv, args: &[&str], extra: &[(&str, String)]) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_tchatche"))
        .args(args)
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    Process(child)
}

/// A server process on its own port; returns once it serves.
fn server(env: &TestEnv, port: u16) -> Process {
    let mut process = tchatche(env, &[], &[("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")), ("EMBEDDED_WORKER", "false".into())]);
    let mut line = String::new();
    BufReader::new(process.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("tchatche is running"), "{line}");
    process
}

fn worker(env: &TestEnv) -> Process {
    tchatche(env, &["worker"], &[("WORKER_NAME", "worker-1".into())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_one_worker_killed_and_restarted() {
    let env = TestEnv::scaled().await;
    let (port_a, port_b) = (free_port(), free_port());
    let _server_a = server(&env, port_a);
    let _server_b = server(&env, port_b);
    let mut worker_process = Some(worker(&env));
    let (a, b) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));

    // Three people sign up on B; their sessions work on A too (sessions
    // live in Redis). Posting is limited per person: they take turns.
    let people: Vec<reqwest::Client> = (0..3).map(|_| browser().0).collect();
    let call = |who: usize, base: &str, path: &str, form: Vec<(&str, String)>| {
        people[who].post(format!("{base}{path}")).header("origin", base).header("accept", "application/json").form(&form).send()
    };
    for (who, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
        let form = vec![("username", name.into()), ("display_name", name.into()), ("password", "correct horse battery".into())];
        assert_eq!(call(who, &b, "/api/sign_up", form).await.unwrap().status(), 200);
    }
    let on_a = people[0].get(format!("{a}/")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(on_a.contains("account-link"), "the session made on B is valid on A");
    let created = call(0, &b, "/api/create_room", vec![("name", "Relay".into()), ("description", "".into()), ("visibility", "public".into())]).await.unwrap();
    let slug = created.headers()["location"].to_str().unwrap().trim_start_matches("/r/").to_owned();
    let room = env.store.room_by_slug(&slug).await.unwrap().unwrap().id;
    for who in 1..3 {
        assert_eq!(call(who, &b, "/api/join_room", vec![("slug", slug.clone())]).await.unwrap().status(), 200);
    }

    // A visitor's socket on A, read all along (it answers pings).
    let total = 90;
    let mut socket = open_socket(&a, &a, None).await;
    send_frame(&mut socket, &ClientFrame::Subscribe { room, after: Some(Seq(0)), reactions_after: None }).await;
    assert!(matches!(next_frame(&mut socket).await, ServerFrame::Subscribed { .. }));
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        while received.len() < total {
            if let ServerFrame::Event(RoomEvent::Message(message)) = next_frame(&mut socket).await {
                received.push(message.id);
            }
        }
        received
    });

    let mut sent = Vec::new();
    for i in 0..total {
        if i == 25 {
            // Killed without warning mid-flow.
            let mut process = worker_process.take().unwrap();
            process.0.kill().unwrap();
            process.0.wait().unwrap();
        }
        if i == 60 {
            worker_process = Some(worker(&env));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let response = loop {
            let form = vec![("room", room.0.to_string()), ("id", id.clone()), ("body", format!("message {i}"))];
            let response = call(i % 3, &b, "/api/post_message", form).await.unwrap();
            if response.status() != 429 {
                break response;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        if response.status() == 200 {
            let message: MessageView = response.json().await.unwrap();
            sent.push(message);
        }
    }
    assert_eq!(sent.len(), total, "every post was answered \"sent\" (the queue does not need the worker)");

    // Server A's socket got every message, in order, once.
    let received = tokio::time::timeout(Duration::from_secs(30), reader).await.expect("all delivered").unwrap();
    assert_eq!(received, sent.iter().map(|m| m.id).collect::<Vec<_>>());

    // Storage ends up with each one exactly once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stored = env.store.messages_before(room, None, 1000).await.unwrap().messages;
        let pending = env.bus.pending_messages(room).await.unwrap();
        if stored.len() == total && pending.is_empty() {
            let ids: HashSet<_> = stored.iter().map(|m| m.id).collect();
            assert_eq!(ids, sent.iter().map(|m| m.id).collect::<HashSet<_>>());
            let seqs: HashSet<_> = stored.iter().map(|m| m.seq).collect();
            assert_eq!(seqs.len(), total, "no seq used twice");
            break;
        }
        assert!(Instant::now() < deadline, "stored {} of {total}, {} pending", stored.len(), pending.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(worker_process);
}
