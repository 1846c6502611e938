//! The one typed configuration of tchatche, read once at start-up from the
//! environment (and an optional `.env`). Every variable is documented in
//! `.env.example`; a bad value stops start-up with one line naming the
//! variable and what it accepts.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use url::Url;

/// Where messages, accounts and rooms are stored.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An embedded SQLite file, created on first run.
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://` or `postgresql://`).
    Postgres(Url),
}

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite://data/tchatche.db";

    fn parse(value: &str) -> Result<Self, &'static str> {
        const ACCEPTS: &str = "sqlite://PATH or postgres://USER@HOST/DB";
        if let Some(path) = value.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ACCEPTS);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let url = Url::parse(value).map_err(|_| ACCEPTS)?;
        match url.scheme() {
            "postgres" | "postgresql" if url.host_str().is_some() => Ok(Self::Postgres(url)),
            _ => Err(ACCEPTS),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Never prints a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => write!(f, "{}", redacted(url)),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Which proxies in front of the server to believe about the client's
/// address. A client can write anything into `X-Forwarded-For`; each proxy
/// appends the address it saw, so only entries on the right, written by
/// proxies we run, can be believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustProxy {
    /// No proxy: the client is the socket's peer.
    None,
    /// This many proxies, each appending one entry: the client is the
    /// entry this far from the right (`true` means 1).
    Hops(usize),
    /// Proxies in these networks: from the right, the first entry outside
    /// them is the client. The peer must be one of them, else it is the client.
    Networks(Vec<IpNetwork>),
}

/// An address block, such as `10.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    pub address: IpAddr,
    pub prefix: u8,
}

impl IpNetwork {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, prefix.parse::<u8>().ok()?),
            None => {
                let address = text.parse::<IpAddr>().ok()?;
                (address, if address.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match canonical(ip) {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            IpAddr::V6(v6) => (u128::from(v6), 128u32),
        };
        let ((network, width), (candidate, candidate_width)) = (bits(self.address), bits(ip));
        if width != candidate_width {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        host_bits >= width || (network >> host_bits) == (candidate >> host_bits)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl TrustProxy {
    fn parse(value: &str) -> Result<Self, &'static str> {
        const ACCEPTS: &str = "false, true, a number of proxies (1-10), or proxy networks such as 10.0.0.0/8,fd00::/8";
        if let Ok(flag) = parse_bool(value) {
            return Ok(if flag { Self::Hops(1) } else { Self::None });
        }
        if let Ok(hops) = value.parse::<usize>() {
            return if (1..=10).contains(&hops) { Ok(Self::Hops(hops)) } else { Err(ACCEPTS) };
        }
        let networks: Option<Vec<IpNetwork>> = value.split(',').map(|part| IpNetwork::parse(part.trim())).collect();
        match networks {
            Some(networks) if !networks.is_empty() && networks.len() <= 64 => Ok(Self::Networks(networks)),
            _ => Err(ACCEPTS),
        }
    }

    /// The client's address, from the socket's peer and the values of the
    /// request's `X-Forwarded-For` headers, in order. Whatever cannot be
    /// believed falls back to the peer.
    pub fn client_address<'a>(&self, peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let peer = canonical(peer);
        let entries = || -> Vec<&'a str> {
            forwarded_for.into_iter().flat_map(|value| value.split(',')).map(str::trim).filter(|e| !e.is_empty()).collect()
        };
        match self {
            Self::None => peer,
            Self::Hops(hops) => {
                let entries = entries();
                let at = entries.len().saturating_sub(*hops);
                entries.get(at).and_then(|entry| forwarded_address(entry)).unwrap_or(peer)
            }
            Self::Networks(networks) => {
                let trusted = |ip: IpAddr| networks.iter().any(|network| network.contains(ip));
                if !trusted(peer) {
                    return peer;
                }
                let mut client = peer;
                for entry in entries().into_iter().rev() {
                    match forwarded_address(entry) {
                        Some(ip) => {
                            client = ip;
                            if !trusted(ip) {
                                break;
                            }
                        }
                        // A trusted proxy would not write this: stop believing.
                        None => break,
                    }
                }
                client
            }
        }
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    entry.parse::<SocketAddr>().ok().map(|addr| canonical(addr.ip()))
}

#[derive(Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// Most connections the database pool opens.
    pub database_max_connections: u32,
    /// Unset: the embedded in-process bus and worker. Set: Redis streams,
    /// pub/sub and sessions, with the `worker` binary doing persistence.
    pub redis_url: Option<Url>,
    /// Prepended to every Redis key and channel, so several deployments (or
    /// test runs) can share one Redis.
    pub redis_prefix: String,
    /// The socket the HTTP server binds (Leptos' own variable).
    pub listen_addr: SocketAddr,
    /// The origin people type in their browser. State-changing requests from
    /// any other origin are refused; `https` makes cookies `Secure`.
    pub public_url: Url,
    pub log_format: LogFormat,
    /// Which proxies to believe about the client's address (`X-Forwarded-For`),
    /// used by rate limits and connection caps.
    pub trust_proxy: TrustProxy,
    /// Run the persistence worker inside the server even when Redis is set
    /// (handy for a single-process deployment on Redis).
    pub embedded_worker: bool,
    /// This worker's name in the Redis consumer group. A restarted worker
    /// with the same name resumes its own unfinished entries at once.
    pub worker_name: String,
    /// Most connections the server holds open at once; more wait to be accepted.
    pub max_connections: usize,
    /// Most live sockets one client address (IPv6: one /64) holds open in
    /// one server process.
    pub max_sockets_per_address: usize,
    /// The machine-translation engine; `None` (the default) until an
    /// administrator sets `TRANSLATE_ENGINE` and `TRANSLATE_URL`.
    pub translation: Option<TranslationConfig>,
}

/// Which kind of translation server `TRANSLATE_URL` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslationEngine {
    /// Apertium's APy (`apertium-apy`, Debian packages with language pairs).
    Apertium,
    /// A LibreTranslate-compatible API (`/translate`, `/languages`).
    LibreTranslate,
}

/// How messages are machine-translated. The engine receives message text:
/// only public rooms' and consenting private rooms' messages are sent.
#[derive(Clone)]
pub struct TranslationConfig {
    pub engine: TranslationEngine,
    pub url: Url,
    /// LibreTranslate's `api_key`, if the server wants one (a secret).
    pub api_key: Option<String>,
    /// The languages offered (ISO 639-1), within what the engine has.
    pub languages: Vec<&'static str>,
    /// Longest wait for one answer of the engine.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Longer messages are not sent (their readers get the original).
    pub max_chars: usize,
    /// Characters sent per UTC day, across all languages; past it,
    /// translation waits for the next day.
    pub daily_chars: u64,
}

impl fmt::Debug for TranslationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TranslationConfig")
            .field("engine", &self.engine)
            .field("url", &redacted(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("languages", &self.languages)
            .field("timeout", &self.timeout)
            .field("concurrency", &self.concurrency)
            .field("max_chars", &self.max_chars)
            .field("daily_chars", &self.daily_chars)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url)
            .field("database_max_connections", &self.database_max_connections)
            .field("redis_url", &self.redis_url.as_ref().map(redacted))
            .field("redis_prefix", &self.redis_prefix)
            .field("listen_addr", &self.listen_addr)
            .field("public_url", &self.public_url.as_str())
            .field("log_format", &self.log_format)
            .field("trust_proxy", &self.trust_proxy)
            .field("embedded_worker", &self.embedded_worker)
            .field("worker_name", &self.worker_name)
            .field("max_connections", &self.max_connections)
            .field("max_sockets_per_address", &self.max_sockets_per_address)
            .field("translation", &self.translation)
            .finish()
    }
}

/// A variable with a value that is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?} is not valid: expected {accepts}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub accepts: &'static str,
}

impl Config {
    /// Reads `.env` (if present) then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a malformed one is reported by
        // the variables it fails to provide.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let database_url = parse_var(&get, "DATABASE_URL", DatabaseUrl::DEFAULT, DatabaseUrl::parse)?;
        let database_max_connections = parse_var(&get, "DATABASE_MAX_CONNECTIONS", "10", |v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or("a whole number from 1 to 1000")
        })?;
        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(value) => Some(parse_value("REDIS_URL", &value, |v| {
                Url::parse(v)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "redis" | "rediss") && url.host_str().is_some())
                    .ok_or("redis://HOST:PORT or rediss://HOST:PORT")
            })?),
        };
        let redis_prefix = parse_var(&get, "REDIS_PREFIX", "tchatche", |v| {
            let ok = v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if ok { Ok(v.to_owned()) } else { Err("up to 64 letters, digits, '_', '-' or '.'") }
        })?;
        let listen_addr = parse_var(&get, "LEPTOS_SITE_ADDR", "127.0.0.1:3000", |v| {
            SocketAddr::from_str(v).map_err(|_| "an IP address and port, such as 127.0.0.1:3000 or [::]:8080")
        })?;
        let default_public_url = format!("http://{}", browsable(listen_addr));
        let public_url = parse_var(&get, "PUBLIC_URL", &default_public_url, |v| {
            Url::parse(v)
                .ok()
                .filter(|url| {
                    matches!(url.scheme(), "http" | "https")
                        && url.host_str().is_some()
                        && url.path() == "/"
                        && url.query().is_none()
                })
                .ok_or("an http(s) origin such as https://chat.example.org (no path)")
        })?;
        let log_format = parse_var(&get, "LOG_FORMAT", "pretty", |v| match v {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err("pretty or json"),
        })?;
        let trust_proxy = parse_var(&get, "TRUST_PROXY", "false", TrustProxy::parse)?;
        let embedded_worker = parse_var(&get, "EMBEDDED_WORKER", if redis_url.is_some() { "false" } else { "true" }, parse_bool)?;

        let default_worker_name = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_owned());
        let worker_name = parse_var(&get, "WORKER_NAME", &default_worker_name, |v| {
            let ok = !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if ok { Ok(v.to_owned()) } else { Err("up to 64 letters, digits, '_', '-' or '.'") }
        })?;

        let whole = |min: usize, max: usize, accepts: &'static str| {
            move |v: &str| v.parse::<usize>().ok().filter(|n| (min..=max).contains(n)).ok_or(accepts)
        };
        let max_connections = parse_var(&get, "MAX_CONNECTIONS", "10000", whole(16, 1_000_000, "a whole number from 16 to 1000000"))?;
        let max_sockets_per_address =
            parse_var(&get, "MAX_SOCKETS_PER_ADDRESS", "100", whole(1, 1_000_000, "a whole number from 1 to 1000000"))?;
        let translation = match get("TRANSLATE_ENGINE") {
            None => None,
            Some(engine) => {
                let engine = parse_value("TRANSLATE_ENGINE", &engine, |v| match v {
                    "apertium" => Ok(TranslationEngine::Apertium),
                    "libretranslate" => Ok(TranslationEngine::LibreTranslate),
                    _ => Err("apertium or libretranslate (unset: no translation)"),
                })?;
                let url = parse_var(&get, "TRANSLATE_URL", "", |v| {
                    Url::parse(v)
                        .ok()
                        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
                        .ok_or("the engine's http(s) address, such as http://127.0.0.1:2737")
                })?;
                let languages = parse_var(&get, "TRANSLATE_LANGUAGES", &crate::languages::SUPPORTED.join(" "), |v| {
                    let languages = crate::languages::parse_known(v);
                    if languages.len() >= 2 { Ok(languages) } else { Err("two or more of: en fr de es pt it nl pl ru el tr ar he zh ja ko") }
                })?;
                Some(TranslationConfig {
                    engine,
                    url,
                    api_key: get("TRANSLATE_API_KEY"),
                    languages,
                    timeout: Duration::from_secs(
                        parse_var(&get, "TRANSLATE_TIMEOUT_SECS", "10", whole(1, 120, "a whole number of seconds from 1 to 120"))? as u64,
                    ),
                    concurrency: parse_var(&get, "TRANSLATE_CONCURRENCY", "4", whole(1, 64, "a whole number from 1 to 64"))?,
                    max_chars: parse_var(&get, "TRANSLATE_MAX_CHARS", "2000", whole(1, 100_000, "a whole number from 1 to 100000"))?,
                    daily_chars: parse_var(&get, "TRANSLATE_DAILY_CHARS", "1000000", whole(1, usize::MAX, "a whole number above 0"))?
                        as u64,
                })
            }
        };

        Ok(Self {
            database_url,
            database_max_connections,
            redis_url,
            redis_prefix,
            listen_addr,
            public_url,
            log_format,
            trust_proxy,
            embedded_worker,
            worker_name,
            max_connections,
            max_sockets_per_address,
            translation,
        })
    }

    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Whether cookies must be `Secure` (and may use the `__Host-` prefix).
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

fn parse_var<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<T, ConfigError> {
    let value = get(var).unwrap_or_else(|| default.to_owned());
    parse_value(var, &value, parse)
}

fn parse_value<T>(var: &'static str, value: &str, parse: impl Fn(&str) -> Result<T, &'static str>) -> Result<T, ConfigError> {
    parse(value.trim()).map_err(|accepts| ConfigError {
        var,
        value: match Url::parse(value) {
            Ok(url) => redacted(&url),
            Err(_) => value.to_owned(),
        },
        accepts,
    })
}

fn parse_bool(value: &str) -> Result<bool, &'static str> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("true or false"),
    }
}

/// The address to print and to derive the default public URL from: a
/// wildcard bind address is not something a browser can open.
fn browsable(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_embedded() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, DatabaseUrl::Sqlite("data/tchatche.db".into()));
        assert!(config.redis_url.is_none());
        assert!(config.embedded_worker);
        assert_eq!(config.public_origin(), "http://127.0.0.1:3000");
        assert!(!config.is_https());
    }

    #[test]
    fn postgres_and_redis_are_accepted() {
        let config = config(&[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("PUBLIC_URL", "https://chat.example.org"),
        ])
        .unwrap();
        assert!(matches!(config.database_url, DatabaseUrl::Postgres(_)));
        assert!(config.redis_url.is_some());
        assert!(!config.embedded_worker, "Redis mode uses the worker process by default");
        assert!(config.is_https());
    }

    #[test]
    fn translation_is_off_until_an_engine_is_configured() {
        assert!(config(&[]).unwrap().translation.is_none());
        let on = config(&[
            ("TRANSLATE_ENGINE", "libretranslate"),
            ("TRANSLATE_URL", "http://127.0.0.1:5000"),
            ("TRANSLATE_API_KEY", "secret"),
            ("TRANSLATE_LANGUAGES", "en, es pt-BR"),
        ])
        .unwrap()
        .translation
        .unwrap();
        assert_eq!((on.engine, on.languages.clone(), on.concurrency, on.max_chars), (TranslationEngine::LibreTranslate, vec!["en", "es", "pt"], 4, 2000));
        assert!(!format!("{on:?}").contains("secret"), "the key stays out of logs");
        for (var, value) in [
            ("TRANSLATE_ENGINE", "google"),
            ("TRANSLATE_URL", "ftp://x"),
            ("TRANSLATE_LANGUAGES", "en"),
            ("TRANSLATE_TIMEOUT_SECS", "0"),
            ("TRANSLATE_CONCURRENCY", "65"),
            ("TRANSLATE_DAILY_CHARS", "-1"),
        ] {
            let mut vars = vec![("TRANSLATE_ENGINE", "apertium"), ("TRANSLATE_URL", "http://127.0.0.1:2737")];
            vars.retain(|(name, _)| *name != var);
            vars.push((var, value));
            assert_eq!(config(&vars).unwrap_err().var, var, "{var}={value}");
        }
        let missing_url = config(&[("TRANSLATE_ENGINE", "apertium")]).unwrap_err();
        assert_eq!(missing_url.var, "TRANSLATE_URL");
    }

    #[test]
    fn mysql_is_refused_with_the_variable_name() {
        let err = config(&[("DATABASE_URL", "mysql://root@localhost/db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        let line = err.to_string();
        assert!(line.starts_with("DATABASE_URL="), "{line}");
        assert!(line.contains("postgres://"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn unparsable_address_is_refused() {
        let err = config(&[("LEPTOS_SITE_ADDR", "localhost:port")]).unwrap_err();
        assert_eq!(err.var, "LEPTOS_SITE_ADDR");
    }

    #[test]
    fn public_url_with_a_path_is_refused() {
        assert_eq!(config(&[("PUBLIC_URL", "https://example.org/chat")]).unwrap_err().var, "PUBLIC_URL");
        assert_eq!(config(&[("PUBLIC_URL", "ftp://example.org")]).unwrap_err().var, "PUBLIC_URL");
    }

    #[test]
    fn bad_numbers_and_flags_are_refused() {
        assert_eq!(config(&[("DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err().var, "DATABASE_MAX_CONNECTIONS");
        assert_eq!(config(&[("TRUST_PROXY", "maybe")]).unwrap_err().var, "TRUST_PROXY");
        assert_eq!(config(&[("REDIS_URL", "http://x")]).unwrap_err().var, "REDIS_URL");
        assert_eq!(config(&[("REDIS_PREFIX", "a b")]).unwrap_err().var, "REDIS_PREFIX");
        assert_eq!(config(&[("LOG_FORMAT", "xml")]).unwrap_err().var, "LOG_FORMAT");
        assert_eq!(config(&[("MAX_CONNECTIONS", "3")]).unwrap_err().var, "MAX_CONNECTIONS");
        assert_eq!(config(&[("MAX_SOCKETS_PER_ADDRESS", "-1")]).unwrap_err().var, "MAX_SOCKETS_PER_ADDRESS");
    }

    #[test]
    fn passwords_are_never_printed() {
        let err = config(&[("DATABASE_URL", "mysql://root:hunter2@localhost/db")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let config = config(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn proxies_are_believed_from_the_right_only() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let trust = |value: &str| config(&[("TRUST_PROXY", value)]).unwrap().trust_proxy;
        // The client wrote "6.6.6.6"; our one proxy appended what it saw.
        let spoofed = ["6.6.6.6, 203.0.113.7"];
        assert_eq!(trust("false").client_address(peer, spoofed), peer);
        assert_eq!(trust("true").client_address(peer, spoofed), ip("203.0.113.7"));
        assert_eq!(trust("2").client_address(peer, ["6.6.6.6, 203.0.113.7, 10.0.0.9"]), ip("203.0.113.7"));
        // Several headers are one list, in order.
        assert_eq!(trust("2").client_address(peer, ["6.6.6.6", "203.0.113.7, 10.0.0.9"]), ip("203.0.113.7"));
        let networks = trust("10.0.0.0/8, fd00::/8");
        assert_eq!(networks.client_address(peer, ["6.6.6.6, 203.0.113.7, 10.1.2.3"]), ip("203.0.113.7"));
        assert_eq!(networks.client_address(ip("198.51.100.1"), spoofed), ip("198.51.100.1"), "an untrusted peer is the client");
        assert_eq!(networks.client_address(peer, ["[2001:db8::1]:443"]), ip("2001:db8::1"));
        // Garbage where a proxy wrote falls back to the peer; no header, too.
        assert_eq!(trust("true").client_address(peer, ["not an address"]), peer);
        assert_eq!(trust("true").client_address(peer, []), peer);
        assert_eq!(trust("true").client_address(ip("::ffff:10.0.0.2"), []), peer, "IPv4-mapped is IPv4");
        for bad in ["maybe", "11", "10.0.0.0/33", "10.0.0.0/8,nope"] {
            assert_eq!(config(&[("TRUST_PROXY", bad)]).unwrap_err().var, "TRUST_PROXY", "{bad}");
        }
    }

    #[test]
    fn wildcard_bind_gives_a_browsable_public_url() {
        let config = config(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8080")]).unwrap();
        assert_eq!(config.public_origin(), "http://localhost:8080");
    }
}
