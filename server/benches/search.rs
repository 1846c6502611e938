//! Search: latency of full-text queries over a million messages, on SQLite
//! (FTS5) and PostgreSQL (tsvector + GIN), for a visitor (public rooms
//! only) and for a member of some private rooms.
//!
//! `cargo bench -p server --bench search` seeds its own databases first
//! (`SEARCH_BENCH_MESSAGES`, default 1,000,000), then times each kind of
//! query (`SEARCH_BENCH_BACKENDS=sqlite` or `=postgres` for one engine).
//! PostgreSQL and Redis must run.

use std::time::{Duration, Instant};

use tchatche_core::{
    event::MessageView,
    ids::{Seq, UnixMillis, UserId},
    search::{SearchQuery, SearchScope},
    store::{NewRoom, Room, Store, Visibility},
    testing::{Backend, TestEnv, draft},
};

const ROOMS: usize = 20;
/// Every fourth room is private; the member reads two of them.
const PRIVATE_EVERY: usize = 4;
const VOCABULARY: usize = 20_000;
const BATCH: usize = 5_000;
const RUNS: usize = 200;
const MIN_RUNS: usize = 20;
/// Time given to each kind of query before stopping short of RUNS.
const PER_QUERY: Duration = Duration::from_secs(5);

fn main() {
    let messages: usize = std::env::var("SEARCH_BENCH_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // SEARCH_BENCH_BACKENDS=sqlite or =postgres runs one of them only.
    let backends = std::env::var("SEARCH_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        runtime.block_on(bench(Backend::Embedded, "SQLite FTS5", messages));
    }
    if backends.contains("postgres") {
        runtime.block_on(bench(Backend::Scaled, "PostgreSQL tsvector", messages));
    }
}

/// xorshift64*: the same corpus on every run and both engines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A word rank drawn log-uniformly: rank r comes up about as often as
    /// 1/r, as words do in real text (Zipf).
    fn rank(&mut self) -> usize {
        ((VOCABULARY as f64).powf(self.unit()) as usize).saturating_sub(1).min(VOCABULARY - 1)
    }
}

/// The word of a rank: syllables, so that words share prefixes.
fn word(rank: usize) -> String {
    const SYLLABLES: [&str; 24] =
        ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "ul", "or", "en", "is", "ba", "go", "fu", "ze", "wa", "qi", "tre", "sta", "pli", "mon"];
    let mut n = rank + 1;
    let mut word = String::new();
    while n > 0 {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    word
}

async fn bench(backend: Backend, name: &str, messages: usize) {
    let env = TestEnv::new(backend).await;
    let owner = env.user("owner").await;
    let member = env.user("member").await;
    let mut rooms: Vec<Room> = Vec::new();
    for i in 0..ROOMS {
        let visibility = if i % PRIVATE_EVERY == 0 { Visibility::Private } else { Visibility::Public };
        let new = NewRoom { slug: format!("room-{i}"), name: format!("Room {i}"), description: String::new(), visibility, owner_id: owner.id };
        let room = env.store.create_room(&new).await.unwrap();
        if i < 2 * PRIVATE_EVERY && visibility == Visibility::Private {
            env.store.join_room(room.id, member.id).await.unwrap();
        }
        rooms.push(room);
    }

    let seeding = Instant::now();
    seed(&env.store, &rooms, &owner, messages).await;
    // Fresh statistics, as autovacuum (or `ANALYZE` after a bulk load) gives them.
    match &env.store {
        Store::Sqlite(pool) => drop(sqlx::query("ANALYZE").execute(pool).await.unwrap()),
        Store::Postgres(pool) => drop(sqlx::query("ANALYZE").execute(pool).await.unwrap()),
    }
    let seeded = seeding.elapsed();
    println!("search [{name}]: seeded {messages} messages in {:.0} s ({:.0} messages/s, index included)", seeded.as_secs_f64(), messages as f64 / seeded.as_secs_f64());

    let common = word(0);
    let middling = word(50);
    let rare = word(5_000);
    let prefix: String = word(300).chars().take(3).collect();
    let queries: [(&str, String, SearchScope); 6] = [
        ("rare word", rare.clone(), SearchScope::default()),
        ("middling word", middling.clone(), SearchScope::default()),
        ("most common word", common.clone(), SearchScope::default()),
        ("two words", format!("{common} {middling}"), SearchScope::default()),
        ("3-letter prefix", prefix, SearchScope::default()),
        ("common word, one room", common, SearchScope { room: Some(rooms[1].id), ..SearchScope::default() }),
    ];
    for (label, words, scope) in &queries {
        for (reader, account) in [("visitor", None), ("member", Some(member.id))] {
            let (p50, p99, found) = time_query(&env.store, words, account, scope).await;
            println!(
                "search [{name}] {label:>22} as {reader:<7}: p50 {:>7.2} ms, p99 {:>7.2} ms ({found} results on the first page)",
                ms(p50),
                ms(p99)
            );
        }
    }
}

async fn seed(store: &Store, rooms: &[Room], author: &tchatche_core::store::User, messages: usize) {
    let mut rng = Rng(0x5EED_5EED_5EED_5EED);
    let mut seqs = vec![0_i64; rooms.len()];
    let start = UnixMillis::now().0 - messages as i64 * 1_000;
    let mut batch: Vec<MessageView> = Vec::with_capacity(BATCH);
    for i in 0..messages {
        let room_index = rng.next() as usize % rooms.len();
        seqs[room_index] += 1;
        let length = 5 + rng.next() as usize % 16;
        let body: Vec<String> = (0..length).map(|_| word(rng.rank())).collect();
        let mut message = draft(&rooms[room_index], author, &body.join(" "));
        message.seq = Seq(seqs[room_index]);
        message.version = message.seq;
        message.created_at = UnixMillis(start + i as i64 * 1_000);
        message.lang = (i % 2 == 0).then(|| "en".to_owned());
        batch.push(message);
        if batch.len() == BATCH {
            store.upsert_messages(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.upsert_messages(&batch).await.unwrap();
}

async fn time_query(store: &Store, words: &str, account: Option<UserId>, scope: &SearchScope) -> (Duration, Duration, usize) {
    let query = SearchQuery::parse(words).unwrap();
    // One untimed run warms the caches, as a live server's are.
    let found = store.search_messages(&query, Some("en"), account, scope, 20).await.unwrap().hits.len();
    // RUNS times, or fewer (at least MIN_RUNS) when each one is slow.
    let mut times = Vec::with_capacity(RUNS);
    let started_all = Instant::now();
    while times.len() < RUNS && (times.len() < MIN_RUNS || started_all.elapsed() < PER_QUERY) {
        let started = Instant::now();
        store.search_messages(&query, Some("en"), account, scope, 20).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    let runs = times.len();
    (times[runs / 2], times[(runs * 99 / 100).min(runs - 1)], found)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
