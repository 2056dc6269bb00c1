//! The SSH credentials the VMM passes to the guest's SSH server, at
//! [`crate::memory::SSH_KEYS_ADDR`] (the boot-info block gives the address and length):
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | version = 2 |
//! | 32 | ed25519 host key seed (the private key; the same for every boot of a named VM) |
//! | 1 | number of authorized keys, at most [`MAX_AUTHORIZED`] |
//! | 32 each | their raw ed25519 public keys |
//! | 1 | password length, 1 to [`PASSWORD_MAX`] |
//! | that many | the password, printable ASCII |
//! | 2 | login grace time in seconds, little-endian, 1 to [`LOGIN_GRACE_MAX_S`] |
//!
//! Nothing follows. Encoding and decoding are one piece of code used by both sides; decoding
//! refuses anything outside these bounds, whatever the bytes.

/// The layout above.
pub const VERSION: u8 = 2;
/// Authorized public keys carried at most.
pub const MAX_AUTHORIZED: usize = 8;
/// Longest password.
pub const PASSWORD_MAX: usize = 64;
/// How long a connection may take to authenticate before the server closes it, unless the
/// VMM says otherwise: half of OpenSSH's `LoginGraceTime` (120 s), still twice what an
/// emulated key exchange and a typed password take, so that six clients that connect and
/// stay silent lock the server's six slots for at most a minute.
pub const LOGIN_GRACE_DEFAULT_S: u16 = 60;
/// Longest login grace time (an hour).
pub const LOGIN_GRACE_MAX_S: u16 = 3600;
/// Longest encoding.
pub const MAX_LEN: usize = 1 + 32 + 1 + MAX_AUTHORIZED * 32 + 1 + PASSWORD_MAX + 2;

/// Who may log in to the guest and the key it proves itself with.
#[derive(Clone, PartialEq, Eq)]
pub struct SshKeys {
    pub host_seed: [u8; 32],
    authorized: [[u8; 32]; MAX_AUTHORIZED],
    authorized_len: u8,
    password: [u8; PASSWORD_MAX],
    password_len: u8,
    login_grace_s: u16,
}

/// Why credentials cannot be encoded, or bytes are not an encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshKeysError {
    UnknownVersion(u8),
    /// The bytes end before the field at this offset is complete.
    Truncated(usize),
    /// Bytes follow the password.
    TrailingBytes(usize),
    TooManyKeys(usize),
    /// Empty, longer than [`PASSWORD_MAX`], or with a byte that is not printable ASCII.
    BadPassword,
    /// Zero, or longer than [`LOGIN_GRACE_MAX_S`].
    BadLoginGrace(u16),
}

impl core::fmt::Display for SshKeysError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SshKeysError::UnknownVersion(v) => write!(f, "unknown SSH keys version {v}"),
            SshKeysError::Truncated(at) => write!(f, "SSH keys cut short at byte {at}"),
            SshKeysError::TrailingBytes(n) => write!(f, "{n} bytes after the SSH keys"),
            SshKeysError::TooManyKeys(n) => {
                write!(f, "{n} authorized keys; at most {MAX_AUTHORIZED} fit")
            }
            SshKeysError::BadPassword => write!(
                f,
                "the console password must be 1 to {PASSWORD_MAX} printable ASCII characters"
            ),
            SshKeysError::BadLoginGrace(s) => write!(
                f,
                "a login grace time of {s} s; it must be 1 to {LOGIN_GRACE_MAX_S} s"
            ),
        }
    }
}

fn password_ok(password: &[u8]) -> bool {
    (1..=PASSWORD_MAX).contains(&password.len())
        && password.iter().all(|b| (0x21..=0x7e).contains(b))
}

impl SshKeys {
    pub fn new(
        host_seed: [u8; 32],
        authorized: &[[u8; 32]],
        password: &str,
    ) -> Result<SshKeys, SshKeysError> {
        if authorized.len() > MAX_AUTHORIZED {
            return Err(SshKeysError::TooManyKeys(authorized.len()));
        }
        if !password_ok(password.as_bytes()) {
            return Err(SshKeysError::BadPassword);
        }
        let mut keys = SshKeys {
            host_seed,
            authorized: [[0; 32]; MAX_AUTHORIZED],
            authorized_len: authorized.len() as u8,
            password: [0; PASSWORD_MAX],
            password_len: password.len() as u8,
            login_grace_s: LOGIN_GRACE_DEFAULT_S,
        };
        keys.authorized[..authorized.len()].copy_from_slice(authorized);
        keys.password[..password.len()].copy_from_slice(password.as_bytes());
        Ok(keys)
    }

    pub fn authorized(&self) -> &[[u8; 32]] {
        &self.authorized[..usize::from(self.authorized_len)]
    }

    /// The same credentials with another login grace time.
    pub fn with_login_grace(mut self, seconds: u16) -> Result<SshKeys, SshKeysError> {
        if !(1..=LOGIN_GRACE_MAX_S).contains(&seconds) {
            return Err(SshKeysError::BadLoginGrace(seconds));
        }
        self.login_grace_s = seconds;
        Ok(self)
    }

    /// Seconds a connection has to authenticate before the server closes it.
    pub fn login_grace_s(&self) -> u16 {
        self.login_grace_s
    }

    pub fn password(&self) -> &str {
        // Only printable ASCII gets in (`new`, `decode`), so this is always UTF-8.
        core::str::from_utf8(&self.password[..usize::from(self.password_len)]).unwrap_or("")
    }

    /// The encoding into `out`; returns its length (at most [`MAX_LEN`]).
    pub fn encode(&self, out: &mut [u8; MAX_LEN]) -> usize {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(&[VERSION]);
        put(&self.host_seed);
        put(&[self.authorized_len]);
        for key in self.authorized() {
            put(key);
        }
        put(&[self.password_len]);
        put(self.password().as_bytes());
        put(&self.login_grace_s.to_le_bytes());
        at
    }

    pub fn decode(bytes: &[u8]) -> Result<SshKeys, SshKeysError> {
        let mut at = 0;
        let mut take = |n: usize| {
            let field = bytes.get(at..at + n).ok_or(SshKeysError::Truncated(at))?;
            at += n;
            Ok::<&[u8], SshKeysError>(field)
        };
        let version = take(1)?[0];
        if version != VERSION {
            return Err(SshKeysError::UnknownVersion(version));
        }
        let mut host_seed = [0; 32];
        host_seed.copy_from_slice(take(32)?);
        let count = usize::from(take(1)?[0]);
        if count > MAX_AUTHORIZED {
            return Err(SshKeysError::TooManyKeys(count));
        }
        let mut authorized = [[0u8; 32]; MAX_AUTHORIZED];
        for key in authorized.iter_mut().take(count) {
            key.copy_from_slice(take(32)?);
        }
        let password_len = usize::from(take(1)?[0]);
        let password = take(password_len)?;
        if !password_ok(password) {
            return Err(SshKeysError::BadPassword);
        }
        let password = core::str::from_utf8(password).map_err(|_| SshKeysError::BadPassword)?;
        let grace = take(2)?;
        let login_grace_s = u16::from_le_bytes([grace[0], grace[1]]);
        let used = at;
        if used != bytes.len() {
            return Err(SshKeysError::TrailingBytes(bytes.len() - used));
        }
        SshKeys::new(host_seed, &authorized[..count], password)?.with_login_grace(login_grace_s)
    }
}

impl core::fmt::Debug for SshKeys {
    /// Never prints the host key seed or the password.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SshKeys")
            .field("authorized", &self.authorized_len)
            .field("password_len", &self.password_len)
            .field("login_grace_s", &self.login_grace_s)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::format;

    fn encoded(keys: &SshKeys) -> ([u8; MAX_LEN], usize) {
        let mut out = [0u8; MAX_LEN];
        let len = keys.encode(&mut out);
        (out, len)
    }

    #[test]
    fn what_the_vmm_encodes_the_guest_decodes() {
        let keys = SshKeys::new([7; 32], &[[1; 32], [2; 32]], "s3cret-Pass").expect("valid");
        let (bytes, len) = encoded(&keys);
        assert_eq!(len, 1 + 32 + 1 + 64 + 1 + 11 + 2);
        let back = SshKeys::decode(&bytes[..len]).expect("decodes");
        assert_eq!(back, keys);
        assert_eq!(back.authorized(), [[1; 32], [2; 32]]);
        assert_eq!(back.password(), "s3cret-Pass");
        assert_eq!(back.login_grace_s(), LOGIN_GRACE_DEFAULT_S);
        let quick = keys.with_login_grace(3).expect("in range");
        let (bytes, len) = encoded(&quick);
        assert_eq!(
            SshKeys::decode(&bytes[..len]).map(|k| k.login_grace_s()),
            Ok(3)
        );
    }

    #[test]
    fn an_empty_or_unprintable_password_is_refused_both_ways() {
        assert_eq!(
            SshKeys::new([0; 32], &[], ""),
            Err(SshKeysError::BadPassword)
        );
        assert_eq!(
            SshKeys::new([0; 32], &[], "with space"),
            Err(SshKeysError::BadPassword)
        );
        let mut bytes = [0u8; 37];
        bytes[0] = VERSION;
        // No keys, a zero-length password.
        assert_eq!(
            SshKeys::decode(&bytes[..37]),
            Err(SshKeysError::BadPassword)
        );
    }

    #[test]
    fn bounds_are_refused_with_what_broke() {
        assert_eq!(
            SshKeys::new([0; 32], &[[0; 32]; 9], "p"),
            Err(SshKeysError::TooManyKeys(9))
        );
        let keys = SshKeys::new([0; 32], &[[3; 32]], "pw").expect("valid");
        let (mut bytes, len) = encoded(&keys);
        assert_eq!(
            SshKeys::decode(&bytes[..len - 1]),
            Err(SshKeysError::Truncated(len - 2))
        );
        assert_eq!(
            SshKeys::decode(&bytes[..len + 1]),
            Err(SshKeysError::TrailingBytes(1))
        );
        // Version 1 had no login grace time.
        bytes[0] = 1;
        assert_eq!(
            SshKeys::decode(&bytes[..len]),
            Err(SshKeysError::UnknownVersion(1))
        );
        bytes[0] = VERSION;
        let grace_at = len - 2;
        bytes[grace_at..len].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(
            SshKeys::decode(&bytes[..len]),
            Err(SshKeysError::BadLoginGrace(0))
        );
        bytes[grace_at..len].copy_from_slice(&3601u16.to_le_bytes());
        assert_eq!(
            SshKeys::decode(&bytes[..len]),
            Err(SshKeysError::BadLoginGrace(3601))
        );
        bytes[33] = 200;
        assert_eq!(
            SshKeys::decode(&bytes[..len]),
            Err(SshKeysError::TooManyKeys(200))
        );
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let keys = SshKeys::new([0xab; 32], &[], "hunter2").expect("valid");
        let shown = format!("{keys:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("171"),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(keys) = SshKeys::decode(&bytes) {
                // Whatever decodes is within bounds and encodes back to the same bytes.
                prop_assert!(keys.authorized().len() <= MAX_AUTHORIZED);
                prop_assert!(!keys.password().is_empty());
                let (out, len) = encoded(&keys);
                prop_assert_eq!(&out[..len], &bytes[..]);
            }
        }

        #[test]
        fn valid_credentials_round_trip(
            seed in any::<[u8; 32]>(),
            authorized in proptest::collection::vec(any::<[u8; 32]>(), 0..=MAX_AUTHORIZED),
            password in "[!-~]{1,64}",
            grace in 1..=LOGIN_GRACE_MAX_S,
        ) {
            let keys = SshKeys::new(seed, &authorized, &password)
                .and_then(|k| k.with_login_grace(grace))
                .expect("valid");
            let (out, len) = encoded(&keys);
            prop_assert!(len <= MAX_LEN);
            prop_assert_eq!(SshKeys::decode(&out[..len]), Ok(keys));
        }
    }
}
