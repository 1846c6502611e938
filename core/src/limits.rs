//! Rate limits, per scope and key (an address, an account, a person).
//!
//! In-process with `governor` (GCRA); in scaled mode the same algorithm runs
//! in Redis, so every server process shares the counters.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use fred::prelude::*;
use governor::{DefaultKeyedRateLimiter, RateLimiter, clock::Clock};

use crate::Result;

/// What is limited. Each scope has one quota, chosen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Sign-in attempts from one client address.
    SignInAddress,
    /// Sign-in attempts on one account from browsers it never signed in on.
    SignInAccount,
    /// Sign-in attempts on one account from one browser it signed in on before.
    SignInKnownDevice,
    /// Accounts created from one client address.
    SignUpAddress,
    /// Messages posted by one person.
    Post,
    /// Edits and deletions of messages by one person.
    Revise,
    /// Password checks of a signed-in person (changing the password,
    /// deleting the account): a bucket of its own, so that an attacker
    /// draining the sign-in bucket does not lock the owner out of these.
    PasswordCheck,
    /// Rooms created by one person.
    CreateRoom,
    /// Invitation links created by one person.
    CreateInvite,
    /// Avatar uploads (each one decoded) by one person.
    Avatar,
    /// Messages one person asks to translate (each may cost an engine call).
    Translate,
    /// Message searches by one person, or one address for visitors.
    Search,
    /// Reactions added or taken back by one person (as many as posts).
    React,
    /// Direct conversations started, and blocks made or lifted, by one
    /// person: each looks people up, which a script could use to probe.
    Direct,
}

/// `burst` events at once, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub period: Duration,
}

impl Scope {
    pub fn quota(self) -> Quota {
        let quota = |burst, secs| Quota { burst, period: Duration::from_secs(secs) };
        match self {
            Self::SignInAddress => quota(20, 6),
            Self::SignInAccount => quota(5, 60),
            Self::SignInKnownDevice => quota(10, 30),
            Self::SignUpAddress => quota(5, 720),
            Self::Post => Quota { burst: 10, period: Duration::from_secs(1) },
            Self::Revise => Quota { burst: 20, period: Duration::from_secs(1) },
            Self::PasswordCheck => quota(5, 60),
            Self::CreateRoom => quota(10, 360),
            Self::CreateInvite => quota(20, 60),
            Self::Avatar => quota(5, 60),
            Self::Translate => Quota { burst: 30, period: Duration::from_secs(2) },
            Self::Search => Quota { burst: 20, period: Duration::from_secs(1) },
            Self::React => Self::Post.quota(),
            Self::Direct => quota(20, 30),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::SignInAddress => "signin-address",
            Self::SignInAccount => "signin-account",
            Self::SignInKnownDevice => "signin-device",
            Self::SignUpAddress => "signup-address",
            Self::Post => "post",
            Self::Revise => "revise",
            Self::PasswordCheck => "password-check",
            Self::CreateRoom => "create-room",
            Self::CreateInvite => "create-invite",
            Self::Avatar => "avatar",
            Self::Translate => "translate",
            Self::Search => "search",
            Self::React => "react",
            Self::Direct => "direct",
        }
    }
}

/// The key that limits per client address count under: the address, or
/// for IPv6 its /64 network, which one subscriber usually holds whole (an
/// attacker would otherwise get 2^64 allowances).
pub fn address_key(ip: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let network = std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1));
            format!("{network}/64")
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// One hit of a key over its allowance: wait this long before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn secs(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }
}

#[derive(Clone)]
pub enum Limiter {
    Local(Arc<Mutex<HashMap<Scope, Arc<DefaultKeyedRateLimiter<String>>>>>),
    Redis { pool: Pool, prefix: String },
}

/// GCRA on one key: the stored value is the theoretical arrival time (ms)
/// of the next event. KEYS: the key. ARGV: period (ms), burst.
const GCRA_LUA: &str = r#"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + period
local allowed_at = next_tat - period * burst
if allowed_at > now then return allowed_at - now end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
"#;

impl Limiter {
    pub fn in_process() -> Self {
        Self::Local(Arc::default())
    }

    pub async fn connect_redis(url: &url::Url, prefix: &str) -> Result<Self> {
        Ok(Self::Redis { pool: crate::redis::pool(url, 2).await?, prefix: prefix.to_owned() })
    }

    /// Counts one event for `key` in `scope`; refused when its allowance is
    /// spent, with how long to wait.
    pub async fn hit(&self, scope: Scope, key: &str) -> Result<Result<(), RetryAfter>> {
        let quota = scope.quota();
        match self {
            Self::Local(limiters) => {
                let limiter = limiters
                    .lock()
                    .expect("limiter lock poisoned")
                    .entry(scope)
                    .or_insert_with(|| {
                        let burst = NonZeroU32::new(quota.burst).expect("a burst of at least one");
                        let gcra = governor::Quota::with_period(quota.period).expect("a non-zero period");
                        Arc::new(RateLimiter::keyed(gcra.allow_burst(burst)))
                    })
                    .clone();
                if limiter.len() > 100_000 {
                    limiter.retain_recent();
                }
                Ok(limiter
                    .check_key(&key.to_owned())
                    .map_err(|not_until| RetryAfter(not_until.wait_time_from(limiter.clock().now()))))
            }
            Self::Redis { pool, prefix } => {
                let redis_key = format!("{prefix}:limit:{}:{key}", scope.name());
                let wait_ms: i64 = pool
                    .next()
                    .eval(GCRA_LUA, vec![redis_key], vec![quota.period.as_millis() as i64, i64::from(quota.burst)])
                    .await?;
                Ok(if wait_ms > 0 { Err(RetryAfter(Duration::from_millis(wait_ms as u64))) } else { Ok(()) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_network() {
        let key = |text: &str| address_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
