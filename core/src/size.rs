//! Sizes as people type them: `128G`, `10M`, `1.5G`, `4096`, `256GB`. The crate's one size
//! parser: RAM in [`crate::sizing`], disks in [`crate::disk`] and the lessons all read sizes
//! here, with one rule.
//!
//! **The rule.** A unit is a letter K, M, G or T, optionally followed by `iB` or `B`:
//!
//! - `K`, `M`, `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` are **binary** (IEC 80000-13): 1G = 1GiB
//!   = 2³⁰ bytes. This is what VirtualBox and `qemu-img` mean: VirtualBox's dialogs write "GB"
//!   and count GiB, so a size copied from VirtualBox is written `G`.
//! - `KB`, `MB`, `GB`, `TB` are **decimal** (SI): 1GB = 10⁹ bytes. This is what a drive's label
//!   means: a "256 GB" SSD holds 256 × 10⁹ bytes, about 238.4 GiB.
//! - `B` or no unit is bytes, unless the caller names another unit for a bare number (RAM
//!   sizes read a bare number as MiB, as VirtualBox's `--memory` does).
//!
//! Units are case-insensitive. Lesson 07 (disk allocation) teaches the difference.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::lang::particle::{eul_reul, eun_neun};
use crate::lang::{Explain, Lang};

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
    /// A unit that is not one of the rule's.
    #[error("unknown unit `{unit}` in `{text}`: use K, M, G, T or KiB, MiB, GiB, TiB (binary: 1G = 1024 MiB, as VirtualBox counts) or KB, MB, GB, TB (decimal: 1GB = 10^9 bytes, as drives are sold)")]
    UnknownUnit {
        /// What was given.
        text: String,
        /// The unit part.
        unit: String,
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

    /// A size in bytes; a bare number is bytes.
    fn from_str(input: &str) -> Result<ByteSize, SizeError> {
        ByteSize::parse_with(input, Unit::Bytes).map(|(size, _)| size)
    }
}

impl ByteSize {
    /// Parses a size under the module's rule, reading a bare number in `bare` (RAM: MiB), and
    /// says which unit it was written in.
    pub fn parse_with(input: &str, bare: Unit) -> Result<(ByteSize, Unit), SizeError> {
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
        let (number, unit_text) = text.split_at(number_end);
        let unit_text = unit_text.trim();
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty()
            || fraction.contains('.')
            || (whole.is_empty() && !number.starts_with('.'))
        {
            return Err(SizeError::NotANumber { text: owned() });
        }
        let unit = match unit_text {
            "" => bare,
            u => Unit::parse(u).ok_or_else(|| SizeError::UnknownUnit {
                text: owned(),
                unit: u.to_string(),
            })?,
        };
        let multiplier = u128::from(unit.bytes());
        let too_large = || SizeError::TooLarge { text: owned() };
        let whole_value: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        if fraction.len() > 30 {
            return Err(SizeError::NotWholeBytes { text: owned() });
        }
        let mut total = whole_value.checked_mul(multiplier).ok_or_else(too_large)?;
        if !fraction.is_empty() {
            let digits: u128 = fraction
                .parse()
                .map_err(|_| SizeError::NotANumber { text: owned() })?;
            // digits × multiplier / 10^len, with the common factor of the two taken out
            // first: 30 digits times a terabyte does not fit in 128 bits, yet may be whole
            // bytes (0.500000000931322574615478515625T is 549,755,814,912).
            let scale = 10u128.pow(fraction.len() as u32);
            let common = gcd(multiplier, scale);
            let (multiplier, scale) = (multiplier / common, scale / common);
            if digits % scale != 0 {
                return Err(SizeError::NotWholeBytes { text: owned() });
            }
            let part = (digits / scale)
                .checked_mul(multiplier)
                .ok_or_else(too_large)?;
            total = total.checked_add(part).ok_or_else(too_large)?;
        }
        let size = u64::try_from(total)
            .map(ByteSize)
            .map_err(|_| too_large())?;
        Ok((size, unit))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A unit a size is written in, under the module's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Bytes: `B`, or no unit.
    Bytes,
    /// A binary unit, 1024 to this power: `K` = 1, `M` = 2, `G` = 3, `T` = 4 (`G`, `GiB`).
    Binary(u8),
    /// A decimal unit, 1000 to this power (`GB`).
    Decimal(u8),
}

impl Unit {
    /// `KiB` is 1024: the binary unit of this power.
    pub const KIB: Unit = Unit::Binary(1);
    /// 1 MiB.
    pub const MIB: Unit = Unit::Binary(2);

    /// Bytes in one of this unit.
    pub fn bytes(self) -> u64 {
        match self {
            Unit::Bytes => 1,
            Unit::Binary(power) => 1024u64.pow(u32::from(power)),
            Unit::Decimal(power) => 1000u64.pow(u32::from(power)),
        }
    }

    /// Reads a unit as typed (`G`, `gib`, `GB`); `None` when it is none of the rule's.
    pub fn parse(unit: &str) -> Option<Unit> {
        let upper = unit.to_ascii_uppercase();
        if upper.is_empty() || upper == "B" {
            return Some(Unit::Bytes);
        }
        let mut chars = upper.chars();
        let power = match chars.next()? {
            'K' => 1,
            'M' => 2,
            'G' => 3,
            'T' => 4,
            _ => return None,
        };
        match chars.as_str() {
            "" | "IB" => Some(Unit::Binary(power)),
            "B" => Some(Unit::Decimal(power)),
            _ => None,
        }
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

impl Explain for SizeError {
    fn explain_in(&self, lang: Lang) -> String {
        use SizeError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        const FORM: &str = "128G, 10M, 4096처럼 숫자 뒤에 단위를 붙이거나 붙이지 않고 적습니다";
        match self {
            Empty => format!("크기가 비어 있습니다. {FORM}"),
            NotANumber { text } => format!("{} 크기가 아닙니다. {FORM}", eun_neun(format!("`{text}`"))),
            Negative { text } => format!("{} 음수입니다. 크기는 0보다 작을 수 없습니다", eun_neun(format!("`{text}`"))),
            UnknownUnit { text, unit } => format!("`{text}`의 단위 {} 알 수 없습니다. K, M, G, T 또는 KiB, MiB, GiB, TiB(이진 단위: 1G = 1024 MiB, VirtualBox가 세는 방식)나 KB, MB, GB, TB(십진 단위: 1GB = 10^9 바이트, 드라이브를 파는 방식)를 씁니다", eul_reul(format!("`{unit}`"))),
            TooLarge { text } => format!("{} 너무 큽니다. 가장 큰 크기는 16 EiB - 1 바이트입니다", eun_neun(format!("`{text}`"))),
            NotWholeBytes { text } => format!("{} 바이트 단위의 정수가 아닙니다", eun_neun(format!("`{text}`"))),
        }
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

    /// Found by the `parsers` fuzz target: 30 fraction digits times a large unit overflowed
    /// 128 bits (a panic with overflow checks, a wrong size without).
    #[test]
    fn a_long_fraction_of_a_large_unit_neither_overflows_nor_loses_whole_bytes() {
        assert_eq!(
            parse(".612118446744073452200905167440G"),
            Err(SizeError::NotWholeBytes {
                text: ".612118446744073452200905167440G".into()
            })
        );
        assert_eq!(
            parse("0.500000000931322574615478515625T"),
            Ok(549_755_814_912)
        );
        assert_eq!(parse("1.000000000000000000000000000000T"), Ok(TIB));
    }

    #[test]
    fn decimal_units_are_a_drives_and_binary_ones_virtualboxs() {
        assert_eq!(parse("256GB"), Ok(256_000_000_000));
        assert_eq!(parse("256gb"), Ok(256_000_000_000));
        assert_eq!(parse("1KB"), Ok(1000));
        assert_eq!(parse("2TB"), Ok(2_000_000_000_000));
        assert_eq!(parse("128GiB"), parse("128G"));
        assert_eq!(parse("128G"), Ok(137_438_953_472));
        assert_eq!(
            ByteSize::parse_with("2048", Unit::MIB),
            Ok((ByteSize(2048 * MIB), Unit::MIB))
        );
        assert_eq!(
            ByteSize::parse_with("16GB", Unit::MIB),
            Ok((ByteSize(16_000_000_000), Unit::Decimal(3)))
        );
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
            parse("99999999T"),
            Err(SizeError::TooLarge { .. })
        ));
        assert!(matches!(
            parse("1.3B"),
            Err(SizeError::NotWholeBytes { .. })
        ));
        let message = parse("5X").unwrap_err().to_string();
        assert!(message.contains("decimal: 1GB = 10^9 bytes"), "{message}");
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
