//! Memory per idle socket: the release server (`target/release/tchatche`,
//! built by `make build`) with 5,000 open sockets, each following a public
//! room; resident memory before and after.
//!
//! `cargo bench -p server --bench sockets`

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use futures::{SinkExt, StreamExt};
use tchatche_core::{
    event::{ClientFrame, ServerFrame},
    testing::TestEnv,
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const SOCKETS: usize = 5_000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").trim().parse().unwrap()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let env = TestEnv::embedded().await;
        let owner = env.user("owner").await;
        let room = env.room("idle", &owner).await;
        let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/tchatche");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Command::new(binary)
            .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            // Every benchmark socket comes from 127.0.0.1.
            .env("MAX_SOCKETS_PER_ADDRESS", "1000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the release server (run `make build` first)");
        BufReader::new(server.stdout.take().unwrap()).read_line(&mut String::new()).unwrap();
        let origin = format!("http://127.0.0.1:{port}");

        // Warm up: one socket, so buffers and tasks created once are counted out.
        let mut sockets = vec![open(&origin, port, room.id).await];
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = rss_kib(server.id());
        for _ in 1..SOCKETS {
            sockets.push(open(&origin, port, room.id).await);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss_kib(server.id());
        let per_socket = (after.saturating_sub(before)) as f64 * 1024.0 / (SOCKETS - 1) as f64;
        println!(
            "sockets: {SOCKETS} idle sockets following one room: server RSS {before} KiB → {after} KiB, {:.1} KB per socket",
            per_socket / 1000.0
        );
        drop(sockets);
        let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
        let _ = server.wait();
    });
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(origin: &str, port: u16, room: tchatche_core::ids::RoomId) -> Ws {
    let mut request = format!("ws://127.0.0.1:{port}/ws").into_client_request().unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("socket");
    let subscribe = serde_json::to_string(&ClientFrame::Subscribe { room, after: None, reactions_after: None }).unwrap();
    ws.send(Message::text(subscribe)).await.unwrap();
    loop {
        if let Some(Ok(Message::Text(text))) = ws.next().await {
            if matches!(serde_json::from_str::<ServerFrame>(&text), Ok(ServerFrame::Subscribed { .. })) {
                return ws;
            }
        }
    }
}
