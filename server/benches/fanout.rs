//! Fan-out: one room, 1,000 socket subscribers, one sender. Reports
//! deliveries per second and send → receive latency (p50, p99), on the
//! embedded bus and on Redis. The server runs in this process, on the real
//! router and sockets; the clients are real WebSocket connections.
//!
//! `cargo bench -p server --bench fanout` (PostgreSQL and Redis must run).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use leptos::prelude::LeptosOptions;
use server::AppState;
use tchatche_core::{
    bus::DraftKind,
    event::{ClientFrame, RoomEvent, ServerFrame},
    ids::MessageId,
    testing::{Backend, TestEnv, draft},
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const SUBSCRIBERS: usize = 1_000;
const MESSAGES: usize = 200;
const INTERVAL: Duration = Duration::from_millis(20);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for backend in [Backend::Embedded, Backend::Scaled] {
        runtime.block_on(run(backend));
    }
}

async fn run(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let config = env.config(&[("LEPTOS_SITE_ADDR", &addr.to_string()), ("PUBLIC_URL", &origin), ("EMBEDDED_WORKER", "true")]);
    let leptos_options = LeptosOptions::builder().output_name("tchatche").site_root("target/site").site_addr(addr).build();
    let state = AppState {
        leptos_options,
        config: Arc::new(config),
        store: env.store.clone(),
        bus: env.bus.clone(),
        limiter: env.limiter().await,
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(server::run(state, listener, shutdown.clone()));

    let author = env.user("sender").await;
    let room = env.room("fanout", &author).await;

    // Send times by message id; receive latencies collected by every client.
    let sent: Arc<Mutex<HashMap<MessageId, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut clients = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        request.headers_mut().insert("origin", origin.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("socket");
        let subscribe = serde_json::to_string(&ClientFrame::Subscribe { room: room.id, after: None }).unwrap();
        ws.send(Message::text(subscribe)).await.unwrap();
        let (sent, latencies, ready) = (sent.clone(), latencies.clone(), ready_tx.clone());
        clients.push(tokio::spawn(async move {
            let mut received = 0;
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else { continue };
                match serde_json::from_str::<ServerFrame>(&text) {
                    Ok(ServerFrame::Subscribed { .. }) => {
                        let _ = ready.send(()).await;
                    }
                    Ok(ServerFrame::Event(RoomEvent::Message(m))) => {
                        let at = Instant::now();
                        if let Some(sent_at) = sent.lock().unwrap().get(&m.id) {
                            latencies.lock().unwrap().push(at - *sent_at);
                        }
                        received += 1;
                        if received == MESSAGES {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }));
    }
    for _ in 0..SUBSCRIBERS {
        ready_rx.recv().await.unwrap();
    }

    let started = Instant::now();
    let mut tick = tokio::time::interval(INTERVAL);
    for i in 0..MESSAGES {
        tick.tick().await;
        let message = draft(&room, &author, &format!("fan-out {i}"));
        sent.lock().unwrap().insert(message.id, Instant::now());
        env.bus.submit(&env.store, message, DraftKind::Post).await.unwrap();
    }
    for client in clients {
        let _ = tokio::time::timeout(Duration::from_secs(60), client).await;
    }
    let elapsed = started.elapsed();

    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "fan-out [{backend:?}]: {SUBSCRIBERS} subscribers, {MESSAGES} messages every {INTERVAL:?}: \
         {} deliveries in {:.2} s = {:.0} deliveries/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1000.0,
        percentile(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0,
    );
    shutdown.cancel();
    let _ = server.await;
}
