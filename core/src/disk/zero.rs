//! Whether a piece of a disk holds only zeros, or only one byte value: what compaction asks
//! of every block it keeps (a VDI block of 1 MiB, a raw image's scan unit), and what the
//! in-memory store asks of every chunk it keeps, so both run at memory speed.

/// Bytes tested between early exits: long enough for the compiler to OR whole vectors
/// together without a branch per word, short enough that data found early stops the scan.
const STRIDE: usize = 4096;

/// Whether every byte of `bytes` is zero.
pub fn is_zero(bytes: &[u8]) -> bool {
    is_all(bytes, 0)
}

/// Whether every byte of `bytes` is `value`.
pub fn is_all(bytes: &[u8], value: u8) -> bool {
    // Data mostly differs within its first bytes: look there before scanning a whole stride.
    if !bytes.iter().take(16).all(|&b| b == value) {
        return false;
    }
    let pattern = u128::from_ne_bytes([value; 16]);
    bytes.chunks(STRIDE).all(|stride| {
        let mut words = stride.chunks_exact(16);
        let differs = words.by_ref().fold(0u128, |acc, w| {
            acc | (u128::from_ne_bytes(w.try_into().unwrap_or([!value; 16])) ^ pattern)
        });
        differs == 0 && words.remainder().iter().all(|&b| b == value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zeros_of_any_length_are_zero_and_one_set_bit_anywhere_is_not() {
        for len in [0usize, 1, 15, 16, 17, 4095, 4096, 4097, 1 << 20] {
            let mut bytes = vec![0u8; len];
            assert!(is_zero(&bytes), "{len} zeros");
            if len > 0 {
                for at in [0, len / 2, len - 1] {
                    bytes[at] = 0x80;
                    assert!(!is_zero(&bytes), "a bit at {at} of {len}");
                    bytes[at] = 0;
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_byte_by_byte_test(bytes in proptest::collection::vec(prop_oneof![9 => Just(0u8), 1 => any::<u8>()], 0..10_000)) {
            prop_assert_eq!(is_zero(&bytes), bytes.iter().all(|&b| b == 0));
        }

        #[test]
        fn a_repeated_byte_is_told_from_any_other(value: u8, len in 0usize..10_000, other: Option<(usize, u8)>) {
            let mut bytes = vec![value; len];
            if let Some((at, b)) = other.filter(|_| len > 0) {
                bytes[at % len] = b;
            }
            prop_assert_eq!(is_all(&bytes, value), bytes.iter().all(|&b| b == value));
        }
    }
}
