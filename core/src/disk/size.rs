//! Byte sizes as people type them: `128G`, `10M`, `1.5G`, `4096`.
//!
//! Multiples are binary (1 K = 1024 bytes), as in VirtualBox and `qemu-img`. `KB`, `MB`, `GB`
//! and `TB` are refused rather than guessed at, because in storage marketing they mean powers
//! of 1000 and a 128 GB SSD is not 128 GiB.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// 1 KiB.
pub const KIB: u64 = 1 << 10;
/// 1 MiB.
pub const MIB: u64 = 1 << 20;
/// 1 GiB.
pub const GIB: u64 = 1 << 30;
/// 1 TiB.
pub const TIB: u64 = 1 << 40;

/// A number of bytes. Parses from `128G`-style text and prints in the largest binary unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

/// Why a size could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SizeError {
    /// Nothing was given.
    #[error("empty size: expected a number with an optional unit, e.g. 128G, 10M or 4096")]
    Empty,
    /// The text does not start with a number.
    #[error(
        "`{text}` is not a size: expected a number with an optional unit, e.g. 128G, 10M or 4096"
    )]
    NotANumber {
        /// What was given.
        text: String,
    },
    /// A minus sign.
    #[error("`{text}` is negative: a size cannot be less than zero")]
    Negative {
        /// What was given.
        text: String,
    },
    /// A unit that is not one of B, K, M, G, T (optionally with `iB`).
    #[error("unknown unit `{unit}` in `{text}`: use B, K, M, G or T (binary: 1K = 1024 bytes)")]
    UnknownUnit {
        /// What was given.
        text: String,
        /// The unit part.
        unit: String,
    },
    /// KB, MB, GB, TB: decimal in most places, binary in some, so refused.
    #[error("ambiguous unit `{unit}` in `{text}`: Labvisor sizes are binary, write `{binary}` or `{binary}iB` (1{binary} = {bytes} bytes)")]
    AmbiguousUnit {
        /// What was given.
        text: String,
        /// The unit part.
        unit: String,
        /// The binary unit letter to use instead.
        binary: char,
        /// Bytes in one binary unit.
        bytes: u64,
    },
    /// More than 2^64 - 1 bytes.
    #[error("`{text}` is too large: the largest size is 16 EiB - 1 byte")]
    TooLarge {
        /// What was given.
        text: String,
    },
    /// A fraction that does not come out to whole bytes, like `1.3B`.
    #[error("`{text}` is not a whole number of bytes")]
    NotWholeBytes {
        /// What was given.
        text: String,
    },
}

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(input: &str) -> Result<ByteSize, SizeError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(SizeError::Empty);
        }
        let owned = || text.to_string();
        if text.starts_with('-') {
            return Err(SizeError::Negative { text: owned() });
        }
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(number_end);
        let unit = unit.trim();
        let (whole, fraction) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if whole.is_empty() && fraction.is_empty()
            || fraction.contains('.')
            || (whole.is_empty() && !number.starts_with('.'))
        {
            return Err(SizeError::NotANumber { text: owned() });
        }
        let multiplier = unit_multiplier(text, unit)?;
        let too_large = || SizeError::TooLarge { text: owned() };
        let whole_value: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        if fraction.len() > 30 {
            return Err(SizeError::NotWholeBytes { text: owned() });
        }
        let mut total = whole_value
            .checked_mul(u128::from(multiplier))
            .ok_or_else(too_large)?;
        if !fraction.is_empty() {
            let scale = 10u128.pow(fraction.len() as u32);
            let digits: u128 = fraction
                .parse()
                .map_err(|_| SizeError::NotANumber { text: owned() })?;
            let scaled = digits * u128::from(multiplier);
            if scaled % scale != 0 {
                return Err(SizeError::NotWholeBytes { text: owned() });
            }
            total += scaled / scale;
        }
        u64::try_from(total).map(ByteSize).map_err(|_| too_large())
    }
}

fn unit_multiplier(text: &str, unit: &str) -> Result<u64, SizeError> {
    let upper = unit.to_ascii_uppercase();
    let letter_bytes = |c: char| match c {
        'K' => Some(KIB),
        'M' => Some(MIB),
        'G' => Some(GIB),
        'T' => Some(TIB),
        _ => None,
    };
    match upper.as_str() {
        "" | "B" => return Ok(1),
        _ => {}
    }
    let mut chars = upper.chars();
    let first = chars.next().unwrap_or(' ');
    let rest: String = chars.collect();
    match (letter_bytes(first), rest.as_str()) {
        (Some(bytes), "" | "IB") => Ok(bytes),
        (Some(bytes), "B") => Err(SizeError::AmbiguousUnit {
            text: text.to_string(),
            unit: unit.to_string(),
            binary: first,
            bytes,
        }),
        _ => Err(SizeError::UnknownUnit {
            text: text.to_string(),
            unit: unit.to_string(),
        }),
    }
}

impl fmt::Display for ByteSize {
    /// `128 GiB`, `1.5 GiB`, `512 B`: the largest binary unit not above the value, one decimal
    /// when the value is not a whole number of that unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")];
        for (size, name) in units {
            if self.0 >= size {
                return if self.0 % size == 0 {
                    write!(f, "{} {name}", self.0 / size)
                } else {
                    write!(f, "{:.1} {name}", self.0 as f64 / size as f64)
                };
            }
        }
        write!(f, "{} B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<u64, SizeError> {
        s.parse::<ByteSize>().map(ByteSize::bytes)
    }

    #[test]
    fn parses_binary_suffixes() {
        assert_eq!(parse("4096"), Ok(4096));
        assert_eq!(parse("512B"), Ok(512));
        assert_eq!(parse("1K"), Ok(1024));
        assert_eq!(parse("10M"), Ok(10 * MIB));
        assert_eq!(parse("128G"), Ok(128 * GIB));
        assert_eq!(parse("128g"), Ok(128 * GIB));
        assert_eq!(parse("2T"), Ok(2 * TIB));
        assert_eq!(parse("64MiB"), Ok(64 * MIB));
        assert_eq!(parse(" 1.5G "), Ok(3 * GIB / 2));
        assert_eq!(parse("0.5K"), Ok(512));
    }

    #[test]
    fn rejects_nonsense_with_the_reason() {
        assert_eq!(parse(""), Err(SizeError::Empty));
        assert!(matches!(parse("G"), Err(SizeError::NotANumber { .. })));
        assert!(matches!(parse("abc"), Err(SizeError::NotANumber { .. })));
        assert!(matches!(parse("1.2.3G"), Err(SizeError::NotANumber { .. })));
        assert!(matches!(parse("-5G"), Err(SizeError::Negative { .. })));
        assert!(matches!(parse("5X"), Err(SizeError::UnknownUnit { .. })));
        assert!(matches!(parse("5 GBs"), Err(SizeError::UnknownUnit { .. })));
        assert!(matches!(
            parse("128GB"),
            Err(SizeError::AmbiguousUnit { binary: 'G', .. })
        ));
        assert!(matches!(
            parse("99999999T"),
            Err(SizeError::TooLarge { .. })
        ));
        assert!(matches!(
            parse("1.3B"),
            Err(SizeError::NotWholeBytes { .. })
        ));
        let message = parse("128GB").unwrap_err().to_string();
        assert!(message.contains("write `G` or `GiB`"), "{message}");
    }

    #[test]
    fn displays_in_the_largest_unit() {
        assert_eq!(ByteSize(128 * GIB).to_string(), "128 GiB");
        assert_eq!(ByteSize(3 * GIB / 2).to_string(), "1.5 GiB");
        assert_eq!(ByteSize(1024).to_string(), "1 KiB");
        assert_eq!(ByteSize(1000).to_string(), "1000 B");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panicking(s in ".{0,40}") {
            let _ = s.parse::<ByteSize>();
        }

        #[test]
        fn whole_units_round_trip(n in 0u64..1_000_000, unit in prop::sample::select(vec!["", "K", "M", "G"])) {
            let mult = match unit { "K" => KIB, "M" => MIB, "G" => GIB, _ => 1 };
            prop_assert_eq!(parse(&format!("{n}{unit}")), Ok(n * mult));
        }
    }
}
