//! Typed identifiers, so a room id is never passed where a user id belongs.

use serde::{Deserialize, Serialize};

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// An account.
    UserId
);
int_id!(
    /// A room.
    RoomId
);

/// A room's event counter: every message, edit and deletion in a room takes
/// the next value. Clients remember the highest they have seen and resume
/// from it, so ordering and catch-up never depend on clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct Seq(pub i64);

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A message's identity, chosen by the client that posts it. It doubles as
/// the idempotency key: posting the same id twice stores one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct MessageId(pub uuid::Uuid);

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Milliseconds since the Unix epoch, UTC: the one time representation in
/// storage and on the wire (it sorts, it is portable across both databases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    #[cfg(feature = "server")]
    pub fn now() -> Self {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(elapsed.as_millis() as i64)
    }

    /// RFC 3339 in UTC with millisecond precision (`2026-11-26T18:33:01.000Z`),
    /// for `<time datetime>`: the server and the browser render the same text.
    pub fn to_rfc3339(self) -> String {
        let (days, ms_of_day) = (self.0.div_euclid(86_400_000), self.0.rem_euclid(86_400_000));
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }

    /// The UTC calendar day, `yyyy-mm-dd`.
    pub fn utc_date(self) -> String {
        self.to_rfc3339()[..10].to_owned()
    }
}

/// A UTC calendar day, as days since 1970-01-01: the unit of a room's
/// archive pages (`/r/{slug}/{yyyy-mm-dd}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct UtcDay(pub i64);

impl UtcDay {
    const MS_PER_DAY: i64 = 86_400_000;

    pub fn of(at: UnixMillis) -> Self {
        Self(at.0.div_euclid(Self::MS_PER_DAY))
    }

    /// Parses exactly `yyyy-mm-dd` (years 1970–9999), refusing dates that do
    /// not exist (`2026-02-30`).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        if year < 1970 || !(1..=12).contains(&month) || day < 1 {
            return None;
        }
        let parsed = Self(days_from_civil(year, month as u32, day as u32));
        // Day 31 of a 30-day month rolls over into the next month: refuse it.
        (civil_from_days(parsed.0) == (year, month as u32, day as u32)).then_some(parsed)
    }

    pub fn start(self) -> UnixMillis {
        UnixMillis(self.0 * Self::MS_PER_DAY)
    }

    /// The first millisecond of the next day.
    pub fn end(self) -> UnixMillis {
        UnixMillis((self.0 + 1) * Self::MS_PER_DAY)
    }
}

impl std::fmt::Display for UtcDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (year, month, day) = civil_from_days(self.0);
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

/// A proleptic Gregorian (year, month, day) to days since 1970-01-01, the
/// inverse of [`civil_from_days`] (also Howard Hinnant's).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days`, which needs no calendar library.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(UnixMillis(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(UnixMillis(1_795_718_381_123).to_rfc3339(), "2026-11-26T18:39:41.123Z");
        // A leap day and a time before the epoch.
        assert_eq!(UnixMillis(951_782_400_000).utc_date(), "2000-02-29");
        assert_eq!(UnixMillis(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn days_parse_and_print() {
        let day = UtcDay::parse("2026-11-26").unwrap();
        assert_eq!(day, UtcDay::of(UnixMillis(1_795_718_381_123)));
        assert_eq!(day.to_string(), "2026-11-26");
        assert_eq!(day.start().to_rfc3339(), "2026-11-26T00:00:00.000Z");
        assert_eq!(day.end(), UtcDay(day.0 + 1).start());
        assert_eq!(UtcDay::parse("2000-02-29").unwrap().to_string(), "2000-02-29");
        assert_eq!(UtcDay::parse("1970-01-01"), Some(UtcDay(0)));
        for bad in ["2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-11-26", "2026/11/26", "1969-12-31", "2026-11-2x", "", "+026-11-26"] {
            assert_eq!(UtcDay::parse(bad), None, "{bad}");
        }
    }
}
