//! Fan-out: one room, 1,000 socket subscribers, one sender. Reports
//! deliveries per second and send → receive latency (p50, p99), on the
//! embedded bus and on Redis. The server runs in this process, on the real
//! router and sockets; the clients are real WebSocket connections.
//!
//! The sender runs in phases: steady rates (a busy room, then a very busy
//! one), whose latency is what a reader feels, then a flood (each message
//! sent as soon as the previous one is accepted), whose deliveries per
//! second are the most this machine fans out. Latency under a flood only
//! measures the queue the flood builds, so it is reported but is not the
//! latency figure.
//!
//! `cargo bench -p server --bench fanout` (PostgreSQL and Redis must run).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use leptos::prelude::LeptosOptions;
use server::AppState;
use tchatche_core::{
    bus::DraftKind,
    event::{ClientFrame, ServerFrame},
    testing::{Backend, TestEnv, draft},
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const SUBSCRIBERS: usize = 1_000;
const MESSAGES_PER_PHASE: usize = 200;
/// Messages per second of each steady phase; `None` is the flood.
const PHASES: [Option<u32>; 4] = [Some(10), Some(25), Some(50), None];
/// Marks a message's index in its text, so that a client learns which
/// message it received without decoding the frame.
const MARKER: &str = "fan-out #";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for backend in [Backend::Embedded, Backend::Scaled] {
        runtime.block_on(run(backend));
    }
}

/// The index of the message a text frame carries, if it is one of ours.
fn message_index(frame: &str) -> Option<usize> {
    let rest = &frame[frame.find(MARKER)? + MARKER.len()..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..digits].parse().ok()
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
        sessions: env.sessions().await,
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(server::run(state, listener, shutdown.clone()));

    let author = env.user("sender").await;
    let room = env.room("fanout", &author).await;
    let total = PHASES.len() * MESSAGES_PER_PHASE;

    // Each client notes (message index, arrival) locally: nothing shared is
    // locked on the path being measured, only one counter is bumped.
    let delivered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        request.headers_mut().insert("origin", origin.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("socket");
        let subscribe = serde_json::to_string(&ClientFrame::Subscribe { room: room.id, after: None, reactions_after: None }).unwrap();
        ws.send(Message::text(subscribe)).await.unwrap();
        let (delivered, ready) = (delivered.clone(), ready_tx.clone());
        clients.push(tokio::spawn(async move {
            let mut arrivals = Vec::with_capacity(total);
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else { continue };
                let at = Instant::now();
                if let Some(index) = message_index(&text) {
                    arrivals.push((index, at));
                    delivered.fetch_add(1, Ordering::Relaxed);
                    if arrivals.len() == total {
                        break;
                    }
                } else if let Ok(ServerFrame::Subscribed { .. }) = serde_json::from_str(&text) {
                    let _ = ready.send(()).await;
                }
            }
            arrivals
        }));
    }
    for _ in 0..SUBSCRIBERS {
        ready_rx.recv().await.unwrap();
    }

    let sent_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
    for (phase, rate) in PHASES.iter().enumerate() {
        let mut tick = rate.map(|r| tokio::time::interval(Duration::from_secs(1) / r));
        for i in 0..MESSAGES_PER_PHASE {
            if let Some(tick) = &mut tick {
                tick.tick().await;
            }
            let index = phase * MESSAGES_PER_PHASE + i;
            let message = draft(&room, &author, &format!("{MARKER}{index}"));
            sent_at.lock().unwrap().push(Instant::now());
            env.bus.submit(&env.store, message, DraftKind::Post).await.unwrap();
        }
        // The next phase starts on a quiet system.
        let expected = (phase + 1) * MESSAGES_PER_PHASE * SUBSCRIBERS;
        let deadline = Instant::now() + Duration::from_secs(60);
        while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let mut arrivals = Vec::with_capacity(total * SUBSCRIBERS);
    for client in clients {
        if let Ok(Ok(received)) = tokio::time::timeout(Duration::from_secs(10), client).await {
            arrivals.extend(received);
        }
    }
    let sent_at = sent_at.lock().unwrap().clone();
    for (phase, rate) in PHASES.iter().enumerate() {
        let range = phase * MESSAGES_PER_PHASE..(phase + 1) * MESSAGES_PER_PHASE;
        let in_phase: Vec<&(usize, Instant)> = arrivals.iter().filter(|(i, _)| range.contains(i)).collect();
        let mut latencies: Vec<Duration> = in_phase.iter().map(|(i, at)| *at - sent_at[*i]).collect();
        latencies.sort();
        let last_arrival = in_phase.iter().map(|(_, at)| *at).max().unwrap();
        let elapsed = last_arrival - sent_at[range.start];
        let percentile = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let pace = rate.map_or("flood".to_owned(), |r| format!("{r} messages/s"));
        println!(
            "fan-out [{backend:?}, {pace}]: {SUBSCRIBERS} subscribers, {MESSAGES_PER_PHASE} messages: \
             {} of {} deliveries in {:.2} s = {:.0} deliveries/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            MESSAGES_PER_PHASE * SUBSCRIBERS,
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(0.50).as_secs_f64() * 1000.0,
            percentile(0.99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0,
        );
    }
    shutdown.cancel();
    let _ = server.await;
}
