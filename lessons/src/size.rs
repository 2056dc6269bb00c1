//! Sizes as lessons write them, read by the core's one parser ([`labvisor_core::size`]): `K`,
//! `M`, `G`, `T` and `GiB` are binary, as VirtualBox counts (`128G` = 128 × 2³⁰ bytes); `KB`,
//! `MB`, `GB`, `TB` are decimal, as disk makers count (`256GB` = 256 × 10⁹ bytes). Lesson 07
//! teaches the difference.

use labvisor_core::lang::{Explain, Lang};
use labvisor_core::size::ByteSize;

/// Parses `256GB` (decimal), `128G` or `128GiB` (binary), `512M`, `4K`, `1T`, `1.5G`, or a
/// plain byte count, into bytes; the error is the core's sentence (English, as lint reports are).
pub fn parse_size(text: &str) -> Result<u64, String> {
    text.parse::<ByteSize>()
        .map(ByteSize::bytes)
        .map_err(|e| e.explain_in(Lang::En))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_and_binary_units_differ_as_the_lesson_teaches() {
        assert_eq!(parse_size("256GB"), Ok(256_000_000_000));
        assert_eq!(parse_size("128G"), Ok(137_438_953_472));
        assert_eq!(parse_size("128GiB"), parse_size("128G"));
        assert_eq!(parse_size("4096"), Ok(4096));
    }

    #[test]
    fn rejects_nonsense_with_the_value() {
        assert!(parse_size("G").unwrap_err().contains("`G`"));
        assert!(parse_size("12Q").unwrap_err().contains("unknown unit `Q`"));
        assert!(parse_size("99999999999T")
            .unwrap_err()
            .contains("too large"));
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,24}") {
            let _ = parse_size(&text);
        }

        #[test]
        fn binary_gigabytes_round_trip(n in 0u64..1_000_000) {
            prop_assert_eq!(parse_size(&format!("{n}G")), Ok(n << 30));
        }
    }
}
