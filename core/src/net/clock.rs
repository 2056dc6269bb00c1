//! Virtual time. The engine never reads a real clock: time is an [`Instant`] the caller
//! advances explicitly, so expiry is deterministic and every run can be replayed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A point in virtual time, in milliseconds since the start of the run.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(pub u64);

/// A span of virtual time, in milliseconds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Duration(pub u64);

impl Duration {
    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration(secs.saturating_mul(1000))
    }

    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
}

impl Instant {
    /// The instant `d` later, saturating at the end of time.
    pub const fn after(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 {
            write!(f, "{}s", self.0 / 1000)
        } else {
            write!(f, "{}ms", self.0)
        }
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {0:?}: expected a number with a unit, e.g. \"30s\", \"500ms\", \"2m\", \"5d\"")]
pub struct DurationError(pub String);

impl FromStr for Duration {
    type Err = DurationError;

    /// Parses `500ms`, `30s`, `2m`, `1h` or `5d`.
    fn from_str(s: &str) -> Result<Duration, DurationError> {
        let err = || DurationError(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| err())?;
        let ms_per_unit = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(err()),
        };
        n.checked_mul(ms_per_unit).map(Duration).ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        assert_eq!("30s".parse(), Ok(Duration(30_000)));
        assert_eq!("500ms".parse(), Ok(Duration(500)));
        assert_eq!("2m".parse(), Ok(Duration(120_000)));
        assert_eq!("5d".parse(), Ok(Duration::from_secs(432_000)));
        assert!("30".parse::<Duration>().is_err());
        assert!("s".parse::<Duration>().is_err());
        assert!("3 weeks".parse::<Duration>().is_err());
        assert!("99999999999999999999s".parse::<Duration>().is_err());
    }

    #[test]
    fn instants_print_seconds_with_millis() {
        assert_eq!(Instant(31_500).to_string(), "31.500");
        assert_eq!(
            Instant(0).after(Duration(5)).since(Instant(10)),
            Duration(0)
        );
    }
}
