//! `vm run --ssh`: the guest's SSH server reached through a forward from 127.0.0.1, with a
//! host key that stays the same for a VM name (so `known_hosts` works), the user's OpenSSH
//! public key, and a fresh password printed at boot for those without a key.
//!
//! Host keys are 32-byte ed25519 seeds in `$XDG_DATA_HOME/labvisor/ssh/NAME.ed25519` (or
//! `~/.local/share/labvisor/…`), created on first use with mode 0600 by an atomic rename.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use clap::Args;
use labvisor_core::lang::{Lang, Text};
use sha2::{Digest, Sha256};

use super::CliError;
use crate::vmm::SshKeys;

/// The host port `--ssh` forwards to the guest's port 22 unless `--ssh-port` says otherwise.
pub const DEFAULT_PORT: u16 = 2222;
const USER: &str = "labvisor";
const KEY_TYPE: &str = "ssh-ed25519";

/// Options of `vm run` for SSH.
#[derive(Debug, Args)]
pub struct SshArgs {
    /// Reach the guest's SSH server from this machine: forwards 127.0.0.1:2222 to the guest's
    /// port 22 (the same as --natpf "ssh,tcp,127.0.0.1,2222,,22") and prints how to connect.
    /// The host key is kept per --name, so `known_hosts` recognises the VM next time.
    #[arg(long)]
    pub ssh: bool,
    /// The host port for --ssh.
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT, requires = "ssh")]
    pub ssh_port: u16,
    /// An OpenSSH public key (`ssh-ed25519 AAAA… comment`) allowed to log in; default
    /// ~/.ssh/id_ed25519.pub when it exists. Repeatable (up to 8). Without a key, log in with
    /// the password printed at boot.
    #[arg(long = "ssh-key", value_name = "FILE", requires = "ssh")]
    pub ssh_keys: Vec<PathBuf>,
    /// Seconds a connection has to log in before the guest closes it (default 60). Hidden:
    /// tests shorten it to see silent connections closed without waiting a minute.
    #[arg(long, value_name = "SECONDS", hide = true, requires = "ssh")]
    pub ssh_login_grace: Option<u16>,
    /// The VM's name: its SSH host key is stored under it.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub name: String,
}

/// What `vm run --ssh` passes to the VMM, and what it prints.
pub struct Prepared {
    pub keys: SshKeys,
    /// The --natpf rule that reaches the guest's port 22.
    pub forward: String,
    pub port: u16,
    pub fingerprint: String,
    pub key_files: Vec<PathBuf>,
}

fn usage(en: String, ko: String, lang: Lang) -> CliError {
    CliError::Usage(match lang {
        Lang::En => en,
        Lang::Ko => ko,
    })
}

/// The host key, the authorized keys and a fresh password, or `None` without `--ssh`.
pub fn prepare(args: &SshArgs, lang: Lang) -> Result<Option<Prepared>, CliError> {
    if !args.ssh {
        return Ok(None);
    }
    check_name(&args.name, lang)?;
    let key_files = if args.ssh_keys.is_empty() {
        default_key().into_iter().collect()
    } else {
        args.ssh_keys.clone()
    };
    let mut authorized = Vec::new();
    for file in &key_files {
        let text = fs::read_to_string(file).map_err(|e| {
            usage(
                format!("--ssh-key {}: cannot read it: {e}", file.display()),
                format!("--ssh-key {}: 읽을 수 없습니다: {e}", file.display()),
                lang,
            )
        })?;
        let key = parse_public_key(&text).map_err(|why| {
            usage(
                format!("--ssh-key {}: {}", file.display(), why.get(Lang::En)),
                format!("--ssh-key {}: {}", file.display(), why.get(Lang::Ko)),
                lang,
            )
        })?;
        authorized.push(key);
    }
    let seed = host_seed(&data_dir(lang)?, &args.name, lang)?;
    let mut keys = SshKeys::new(seed, &authorized, &random_password())
        .map_err(|e| usage(format!("--ssh-key: {e}"), format!("--ssh-key: {e}"), lang))?;
    if let Some(seconds) = args.ssh_login_grace {
        keys = keys.with_login_grace(seconds).map_err(|e| {
            usage(
                format!("--ssh-login-grace: {e}"),
                format!("--ssh-login-grace: {e}"),
                lang,
            )
        })?;
    }
    Ok(Some(Prepared {
        fingerprint: fingerprint(&public_key(&seed)),
        keys,
        forward: format!("ssh,tcp,127.0.0.1,{},,22", args.ssh_port),
        port: args.ssh_port,
        key_files,
    }))
}

/// What to tell the user at boot: the fingerprint, how to connect, the password, and in
/// Korean the MobaXterm session settings.
pub fn announce(prepared: &Prepared, lang: Lang) -> String {
    let port = prepared.port;
    let keys = prepared
        .key_files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let password = prepared.keys.password();
    let fingerprint = &prepared.fingerprint;
    match lang {
        Lang::En => {
            let mut text = format!(
                "ssh: host key ED25519 {fingerprint}\nssh: connect with  ssh -p {port} {USER}@127.0.0.1\nssh: password {password}"
            );
            if !keys.is_empty() {
                text.push_str(&format!(" (or the key {keys})"));
            }
            text
        }
        Lang::Ko => {
            let mut text = format!(
                "ssh: 호스트 키 ED25519 {fingerprint}\nssh: 접속 명령  ssh -p {port} {USER}@127.0.0.1\nssh: MobaXterm 세션 → SSH: 원격 호스트 127.0.0.1, 포트 {port}, 사용자 {USER}\nssh: 비밀번호 {password}"
            );
            if !keys.is_empty() {
                text.push_str(&format!(" (또는 키 {keys})"));
            }
            text
        }
    }
}

fn check_name(name: &str, lang: Lang) -> Result<(), CliError> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        return Ok(());
    }
    Err(usage(
        format!(
            "--name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        ),
        format!(
            "--name {name:?}: 글자, 숫자, '.', '_', '-'로 1~64자를 쓰고 '.'로 시작하지 마십시오"
        ),
        lang,
    ))
}

fn default_key() -> Option<PathBuf> {
    let key = Path::new(&std::env::var_os("HOME")?).join(".ssh/id_ed25519.pub");
    key.is_file().then_some(key)
}

/// `$XDG_DATA_HOME/labvisor`, or `~/.local/share/labvisor`.
fn data_dir(lang: Lang) -> Result<PathBuf, CliError> {
    crate::files::data_dir().ok_or_else(|| {
        usage(
            "--ssh keeps the host key under $XDG_DATA_HOME or $HOME, and neither is set".into(),
            "--ssh는 호스트 키를 $XDG_DATA_HOME이나 $HOME 아래에 두는데 둘 다 없습니다".into(),
            lang,
        )
    })
}

/// The VM's host key seed: read, or made and stored (0600, atomically) on first use.
fn host_seed(dir: &Path, name: &str, lang: Lang) -> Result<[u8; 32], CliError> {
    let dir = dir.join("ssh");
    let file = dir.join(format!("{name}.ed25519"));
    let runtime = |what: &str, e: std::io::Error| {
        CliError::Runtime(match lang {
            Lang::En => format!("{what} {}: {e}", file.display()),
            Lang::Ko => format!("{} {what}: {e}", file.display()),
        })
    };
    match fs::read(&file) {
        Ok(bytes) => {
            return bytes.try_into().map_err(|bytes: Vec<u8>| {
                CliError::Runtime(format!(
                "{}: a host key seed is 32 bytes, this file has {} (delete it to make a new key)",
                file.display(),
                bytes.len()
            ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(runtime("cannot read the SSH host key", e)),
    }
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| CliError::Runtime(format!("the host's random source failed: {e}")))?;
    fs::create_dir_all(&dir).map_err(|e| runtime("cannot create the directory of", e))?;
    let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
    let partial = dir.join(format!(".{name}.ed25519.{}", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut f| f.write_all(&seed).and_then(|()| f.sync_all()));
    if let Err(e) = written.and_then(|()| fs::rename(&partial, &file)) {
        let _ = fs::remove_file(&partial);
        return Err(runtime("cannot store the SSH host key", e));
    }
    Ok(seed)
}

/// 16 characters from an alphabet without look-alikes: about 90 bits.
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY3479";
    let mut bytes = [0u8; 16 * 8];
    getrandom::getrandom(&mut bytes).expect("the host's random source works");
    bytes
        .chunks(8)
        .map(|c| {
            let n = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            ALPHABET[(n % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

/// The SSH wire encoding of an ed25519 public key: string "ssh-ed25519", string key.
fn key_blob(key: &[u8; 32]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(51);
    blob.extend_from_slice(&(KEY_TYPE.len() as u32).to_be_bytes());
    blob.extend_from_slice(KEY_TYPE.as_bytes());
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend_from_slice(key);
    blob
}

/// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the blob's SHA-256.
pub fn fingerprint(key: &[u8; 32]) -> String {
    format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(key_blob(key)))
    )
}

/// The raw key of an OpenSSH `ssh-ed25519` public key line (`authorized_keys` or `.pub`).
pub fn parse_public_key(text: &str) -> Result<[u8; 32], Text> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or(Text::new("the file has no key", "파일에 키가 없습니다"))?;
    if line.starts_with("-----BEGIN") {
        return Err(Text::new(
            "this is a private key; give the public one (the .pub file)",
            "개인 키입니다. 공개 키(.pub 파일)를 주십시오",
        ));
    }
    let mut fields = line.split_whitespace();
    let kind = fields.next().unwrap_or_default();
    if kind != KEY_TYPE {
        return Err(Text::new(
            "only ssh-ed25519 keys are accepted (make one with ssh-keygen -t ed25519)",
            "ssh-ed25519 키만 받습니다(ssh-keygen -t ed25519로 만드십시오)",
        ));
    }
    let blob = fields
        .next()
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or(Text::new(
            "the key after ssh-ed25519 is not base64",
            "ssh-ed25519 뒤의 키가 base64가 아닙니다",
        ))?;
    let key: Option<[u8; 32]> = (blob.len() == 51)
        .then(|| blob[19..].try_into().ok())
        .flatten()
        .filter(|key| key_blob(key) == blob);
    key.ok_or(Text::new(
        "the base64 does not hold an ssh-ed25519 key",
        "base64 안에 ssh-ed25519 키가 없습니다",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // `ssh-keygen -t ed25519` output, and its `ssh-keygen -lf` fingerprint.
    const PUB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL+JSzLs16VIurAx/5AHZMSWqCUL37W3heNlYbQ+kNXd user@host\n";

    #[test]
    fn an_openssh_public_key_parses_and_fingerprints_as_ssh_keygen_does() {
        let key = parse_public_key(PUB).expect("parses");
        assert_eq!(
            fingerprint(&key),
            "SHA256:wrrq9m2QpoKcSjMKZK33t5oQ05M4Plz5+w3PgPvQt1M"
        );
    }

    #[test]
    fn other_keys_are_refused_with_the_reason() {
        let why = |text: &str| parse_public_key(text).unwrap_err().get(Lang::En).to_owned();
        assert!(why("ssh-rsa AAAAB3NzaC1yc2E= me").contains("only ssh-ed25519"));
        assert!(why("-----BEGIN OPENSSH PRIVATE KEY-----\n").contains("private key"));
        assert!(why("ssh-ed25519 !!!").contains("not base64"));
        assert!(why("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5").contains("does not hold"));
        assert!(why("\n# nothing\n").contains("no key"));
    }

    #[test]
    fn the_host_key_is_made_once_with_mode_0600_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = host_seed(dir.path(), "lab", Lang::En).unwrap();
        let file = dir.path().join("ssh/lab.ed25519");
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(host_seed(dir.path(), "lab", Lang::En).unwrap(), first);
        assert_ne!(host_seed(dir.path(), "other", Lang::En).unwrap(), first);
        fs::write(&file, b"short").unwrap();
        assert!(host_seed(dir.path(), "lab", Lang::En).is_err());
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for bad in ["", "../x", ".hidden", "a/b", &"n".repeat(65)] {
            assert!(check_name(bad, Lang::En).is_err(), "{bad:?}");
        }
        assert!(check_name("course-vm_1.2", Lang::En).is_ok());
    }

    #[test]
    fn passwords_are_16_printable_characters_and_differ() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in ".{0,200}") {
            let _ = parse_public_key(&text);
        }

        #[test]
        fn any_key_round_trips_through_its_openssh_line(key in any::<[u8; 32]>()) {
            let line = format!("{KEY_TYPE} {} comment", STANDARD.encode(key_blob(&key)));
            prop_assert_eq!(parse_public_key(&line).ok(), Some(key));
        }
    }
}
