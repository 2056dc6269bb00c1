//! Sizes as lessons write them. The distinction matters to the lessons themselves: disk makers
//! count decimal units (`256GB` = 256 × 10⁹ bytes), VirtualBox and Labvisor binary ones
//! (`128G` = `128GiB` = 128 × 2³⁰ bytes).

/// Parses `256GB` (decimal), `128G` or `128GiB` (binary), `512M`, `4K`, `1T`, or a plain byte
/// count, into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits_end);
    if number.is_empty() {
        return Err(format!(
            "size {text:?} must start with a number, e.g. `128G` or `256GB`"
        ));
    }
    let value: u64 = number
        .parse()
        .map_err(|_| format!("size {text:?} is too large"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "size {text:?} has unknown unit {other:?}: use K/M/G/T (binary, as VirtualBox counts) or KB/MB/GB/TB (decimal, as disk makers count)"
            ))
        }
    };
    value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} is too large"))
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
        assert!(parse_size("G").unwrap_err().contains("\"G\""));
        assert!(parse_size("12Q")
            .unwrap_err()
            .contains("unknown unit \"Q\""));
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
