//! What a learner does in an exercise: one [`Action`] per step, collected in an [`ActionLog`].
//!
//! Logs are plain data: serde-serializable as TOML (in lesson files), JSON (`lesson check
//! --actions`) and postcard (compact bytes for share links). Enums are externally tagged so that
//! all three formats can read them back; postcard cannot decode internally tagged enums.

use labvisor_core::disk::image::Allocation;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::vbox::Mode;
use serde::{Deserialize, Serialize};

mod v2;
pub(crate) mod wire;

pub use wire::{lesson_mode, lesson_modes, mode_name, LESSON_INTERNAL_NETWORK, LESSON_NAT_NETWORK};

/// One step a learner takes.
///
/// In TOML and JSON a step reads `{ answer = "private" }`,
/// `{ add-vm = { name = "vm1", vcpus = 1, ram-mib = 2048 } }` or, for steps without data,
/// just `"host-disk-fails"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", rename_all_fields = "kebab-case")]
pub enum Action {
    /// Answer a question: an option id, a scope, a port number, a type.
    Answer(String),
    /// Plan a VM on the host (host-sizing exercises).
    AddVm {
        /// The VM's name.
        name: String,
        /// Virtual CPUs.
        vcpus: u32,
        /// RAM in MiB.
        ram_mib: u64,
    },
    /// Attach an existing NIC (numbered from 1, as in VirtualBox) to a network mode.
    SetMode {
        /// The VM.
        vm: String,
        /// Which NIC, from 1.
        nic: u8,
        /// The attachment mode; logs name only its kind (`nat-network`), see [`lesson_mode`].
        #[serde(with = "wire::mode_kind")]
        mode: Mode,
    },
    /// Add a NIC to a VM, attached to `mode`.
    AddNic {
        /// The VM.
        vm: String,
        /// The attachment mode of the new NIC, by kind as in [`Action::SetMode`].
        #[serde(with = "wire::mode_kind")]
        mode: Mode,
    },
    /// Add a port-forwarding rule, with VirtualBox's fields.
    AddForward(ForwardStep),
    /// Remove the forwarding rule called `name`.
    RemoveForward {
        /// The rule's name.
        name: String,
    },
    /// Create a virtual disk for a VM on the host disk.
    CreateDisk {
        /// The VM.
        vm: String,
        /// Virtual size, e.g. `128G` (binary units).
        size: String,
        /// How the image takes space on the host.
        alloc: Allocation,
    },
    /// In the guest, fill the file system's free space with zeros (zerofree, `sdelete -z`).
    ZeroFreeSpace {
        /// The VM.
        vm: String,
    },
    /// On the host, compact the VM's image (`VBoxManage modifymedium --compact`).
    Compact {
        /// The VM.
        vm: String,
    },
    /// Take a snapshot of the VM.
    Snapshot {
        /// The VM.
        vm: String,
    },
    /// Copy the VM's image chain to another disk.
    Backup {
        /// The VM.
        vm: String,
        /// The disk the copy goes to.
        to: String,
    },
    /// The host's disk dies, with everything on it.
    HostDiskFails,
    /// Restore the VM from a copy on `from`.
    Restore {
        /// The VM.
        vm: String,
        /// The disk holding the copy.
        from: String,
    },
}

impl Action {
    /// The step's name as written in lesson files, e.g. `add-forward`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Answer(_) => "answer",
            Action::AddVm { .. } => "add-vm",
            Action::SetMode { .. } => "set-mode",
            Action::AddNic { .. } => "add-nic",
            Action::AddForward(_) => "add-forward",
            Action::RemoveForward { .. } => "remove-forward",
            Action::CreateDisk { .. } => "create-disk",
            Action::ZeroFreeSpace { .. } => "zero-free-space",
            Action::Compact { .. } => "compact",
            Action::Snapshot { .. } => "snapshot",
            Action::Backup { .. } => "backup",
            Action::HostDiskFails => "host-disk-fails",
            Action::Restore { .. } => "restore",
        }
    }

    /// The VM this step acts on, if any (for checking node names).
    pub fn vm(&self) -> Option<&str> {
        match self {
            Action::AddVm { name, .. } => Some(name),
            Action::SetMode { vm, .. }
            | Action::AddNic { vm, .. }
            | Action::CreateDisk { vm, .. }
            | Action::ZeroFreeSpace { vm }
            | Action::Compact { vm }
            | Action::Snapshot { vm }
            | Action::Backup { vm, .. }
            | Action::Restore { vm, .. } => Some(vm),
            Action::Answer(_)
            | Action::AddForward(_)
            | Action::RemoveForward { .. }
            | Action::HostDiskFails => None,
        }
    }
}

/// A port-forwarding rule with VirtualBox's fields, and the VM whose NAT adapter holds it.
///
/// Written flat, as VirtualBox lists a rule: `{ name = "ssh", proto = "tcp", host-port = 2222,
/// guest-ip = "10.0.2.5", guest-port = 22 }`; `host-ip`, `guest-ip` and `vm` may be left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::ForwardFields", into = "wire::ForwardFields")]
pub struct ForwardStep {
    /// The rule (TCP or UDP, with a name VBoxManage can take).
    pub rule: PortForward,
    /// NAT mode: the VM whose NAT adapter holds the rule, for when several VMs are on NAT.
    /// VirtualBox keeps NAT-mode rules per VM (`VBoxManage modifyvm vm2 --natpf1 ...`), and
    /// every VM on NAT has the same guest address, 10.0.2.15, so the address cannot say which.
    pub vm: Option<String>,
}

/// A learner's attempt at one exercise: what a share link carries and `lesson check` reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLog {
    /// The lesson's id, e.g. `port-forwarding`.
    pub lesson: String,
    /// The exercise's id within the lesson, e.g. `ssh-to-vm2`.
    pub exercise: String,
    /// The steps, in order.
    pub actions: Vec<Action>,
}

/// The layout of [`ActionLog::to_postcard`], its first byte. postcard writes no field names,
/// so a log made before a step changed shape would read back wrong or not at all: the byte
/// turns that into "made by another version". 2: forwarding rules name their VM. 3: the
/// core's types: protocols in the core's order, rule addresses as IPv4 addresses rather than
/// text. Format 2 is still read ([`v2`]).
pub const LOG_FORMAT: u8 = 3;

impl ActionLog {
    /// The log as compact bytes: [`LOG_FORMAT`], then postcard.
    pub fn to_postcard(&self) -> Vec<u8> {
        let mut bytes = vec![LOG_FORMAT];
        // Encoding plain owned data into a Vec cannot fail.
        bytes.extend(postcard::to_allocvec(self).unwrap_or_default());
        bytes
    }

    /// Reads what [`ActionLog::to_postcard`] wrote; a log of another format is refused as such.
    pub fn from_postcard(bytes: &[u8]) -> Result<ActionLog, String> {
        match bytes.split_first() {
            None => Err("empty: no action log".into()),
            Some((&LOG_FORMAT, body)) => decode_body::<ActionLog>(body),
            Some((&v2::FORMAT, body)) => decode_body::<v2::ActionLog>(body)?.try_into(),
            Some((other, _)) => Err(format!(
                "made by another version of Labvisor (action log format {other}; this one reads {LOG_FORMAT})"
            )),
        }
    }

    /// The log as the code a share link carries: postcard bytes in unpadded base64url
    /// (RFC 4648 §5), safe in a URL fragment.
    pub fn to_share_code(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_postcard())
    }

    /// Reads a share-link code.
    pub fn from_share_code(code: &str) -> Result<ActionLog, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(code.trim())
            .map_err(|e| format!("share code is not base64url: {}", base64_reason(&e)))?;
        ActionLog::from_postcard(&bytes)
            .map_err(|e| format!("share code does not hold an action log: {e}"))
    }
}

/// Decodes a log's postcard body (what follows the format byte), saying where it broke.
fn decode_body<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, String> {
    let mut de = postcard::Deserializer::from_bytes(body);
    T::deserialize(&mut de).map_err(|e| {
        // Where the decoder stopped: the format byte, then what it consumed.
        let rest = de.finalize().map(<[u8]>::len).unwrap_or(0);
        let read = 1 + body.len() - rest;
        format!(
            "after byte {read} of {}: {}",
            body.len() + 1,
            postcard_reason(&e)
        )
    })
}

/// A postcard error in words a learner can act on (the library's own are about Rust types).
fn postcard_reason(e: &postcard::Error) -> String {
    use postcard::Error as E;
    match e {
        E::DeserializeUnexpectedEnd => "the data ends in the middle of a value (cut short?)".into(),
        E::DeserializeBadVarint => "a number whose encoding never ends".into(),
        E::DeserializeBadUtf8 | E::DeserializeBadChar => "text that is not UTF-8".into(),
        E::DeserializeBadEnum => "an unknown kind of step".into(),
        E::DeserializeBadBool | E::DeserializeBadOption => {
            "a byte that is neither 0 nor 1 where a yes/no belongs".into()
        }
        other => other.to_string(),
    }
}

/// A base64 error with the character and its 1-based position.
fn base64_reason(e: &base64::DecodeError) -> String {
    use base64::DecodeError as E;
    match *e {
        E::InvalidByte(at, byte) | E::InvalidLastSymbol(at, byte) => format!(
            "character {:?} at position {} (share codes use only A-Z, a-z, 0-9, - and _)",
            char::from(byte),
            at + 1
        ),
        E::InvalidLength(len) => {
            format!("{len} characters cannot be a share code (one is missing or extra: was it cut when copied?)")
        }
        E::InvalidPadding => "share codes have no '=' padding".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_share_codes_and_logs_say_where() {
        let err = ActionLog::from_share_code("AAAA!!").unwrap_err();
        assert_eq!(
            err,
            "share code is not base64url: character '!' at position 5 (share codes use only A-Z, a-z, 0-9, - and _)"
        );
        let mut bytes = vec![LOG_FORMAT];
        bytes.extend([0xFF; 10]);
        let err = ActionLog::from_postcard(&bytes).unwrap_err();
        assert_eq!(
            err,
            "after byte 11 of 11: a number whose encoding never ends"
        );
        let err = ActionLog::from_postcard(&[LOG_FORMAT, 5, b'a']).unwrap_err();
        assert_eq!(
            err,
            "after byte 2 of 3: the data ends in the middle of a value (cut short?)"
        );
    }

    fn sample() -> ActionLog {
        ActionLog {
            lesson: "port-forwarding".into(),
            exercise: "ssh-to-vm2".into(),
            actions: vec![
                Action::AddForward(ForwardStep {
                    rule: PortForward::parse_vbox("ssh,tcp,,2222,10.0.2.5,22").unwrap(),
                    vm: None,
                }),
                Action::HostDiskFails,
                Action::Answer("private".into()),
            ],
        }
    }

    #[test]
    fn postcard_round_trips_and_is_compact() {
        let log = sample();
        let bytes = log.to_postcard();
        assert_eq!(ActionLog::from_postcard(&bytes).unwrap(), log);
        let json = serde_json::to_vec(&log).unwrap();
        assert!(
            bytes.len() * 2 < json.len(),
            "{} vs {}",
            bytes.len(),
            json.len()
        );
    }

    #[test]
    fn json_and_toml_spellings_match_the_lesson_files() {
        let log = sample();
        let json = serde_json::to_string(&log.actions).unwrap();
        assert!(json.contains(
            r#"{"add-forward":{"name":"ssh","proto":"tcp","host-ip":null,"host-port":2222"#
        ));
        assert!(json.contains(r#""host-disk-fails""#));
        let toml_text = r#"actions = [{ add-vm = { name = "vm1", vcpus = 1, ram-mib = 2048 } }, "host-disk-fails"]"#;
        #[derive(Deserialize)]
        struct Wrapper {
            actions: Vec<Action>,
        }
        let parsed: Wrapper = toml::from_str(toml_text).unwrap();
        assert_eq!(
            parsed.actions,
            vec![
                Action::AddVm {
                    name: "vm1".into(),
                    vcpus: 1,
                    ram_mib: 2048
                },
                Action::HostDiskFails
            ]
        );
    }

    #[test]
    fn share_codes_round_trip_and_reject_garbage() {
        let log = sample();
        let code = log.to_share_code();
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(ActionLog::from_share_code(&code), Ok(log));
        assert!(ActionLog::from_share_code("not base64!").is_err());
        assert!(ActionLog::from_share_code(&code[..code.len() / 2]).is_err());
    }

    #[test]
    fn truncated_postcard_is_an_error_not_a_panic() {
        let bytes = sample().to_postcard();
        for cut in 0..bytes.len() {
            assert!(ActionLog::from_postcard(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn a_log_of_another_format_is_refused_as_such() {
        let mut bytes = sample().to_postcard();
        bytes[0] = 1;
        let err = ActionLog::from_postcard(&bytes).unwrap_err();
        assert!(
            err.contains("another version") && err.contains("format 1"),
            "{err}"
        );
        bytes[0] = LOG_FORMAT + 1;
        let err = ActionLog::from_postcard(&bytes).unwrap_err();
        assert!(err.contains(&format!("format {}", LOG_FORMAT + 1)), "{err}");
    }
}

/// What an actions file holds: a whole log or just the steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionsFile {
    /// A log naming its lesson and exercise.
    Log(ActionLog),
    /// Only the steps.
    Steps(Vec<Action>),
}

impl ActionsFile {
    /// The steps.
    pub fn actions(&self) -> &[Action] {
        match self {
            ActionsFile::Log(log) => &log.actions,
            ActionsFile::Steps(steps) => steps,
        }
    }
}

/// Reads an actions file: JSON (a log object or an array of steps), TOML (`actions = [...]`,
/// optionally with `lesson` and `exercise`) when the name ends in `.toml`, or postcard bytes
/// (a share link's payload) when it ends in `.bin`. Errors say where the file is wrong.
pub fn parse_actions_file(name: &str, bytes: &[u8]) -> Result<ActionsFile, String> {
    if name.ends_with(".bin") {
        return ActionLog::from_postcard(bytes)
            .map(ActionsFile::Log)
            .map_err(|e| format!("{name}: not a postcard action log: {e}"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{name}: not UTF-8 text: {e}"))?;
    if name.ends_with(".toml") {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TomlLog {
            lesson: Option<String>,
            exercise: Option<String>,
            actions: Vec<Action>,
        }
        let parsed: TomlLog = toml::from_str(text).map_err(|e| {
            let (line, column) = crate::source::line_column(text, e.span().map_or(0, |s| s.start));
            format!("{name}:{line}:{column}: {}", e.message().trim())
        })?;
        return Ok(match (parsed.lesson, parsed.exercise) {
            (Some(lesson), Some(exercise)) => ActionsFile::Log(ActionLog {
                lesson,
                exercise,
                actions: parsed.actions,
            }),
            _ => ActionsFile::Steps(parsed.actions),
        });
    }
    parse_actions_json(name, text)
}

/// Reads actions as JSON: an array of steps, or a log object with `lesson`, `exercise` and
/// `actions`. `name` only labels the errors, which give line and column. The browser calls
/// this rather than [`parse_actions_file`], so that no TOML parser is linked into it.
pub fn parse_actions_json(name: &str, text: &str) -> Result<ActionsFile, String> {
    let json_error = |e: serde_json::Error| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the location already leads the message.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        format!(
            "{name}:{}:{}: {message}; expected a JSON array of steps such as [{{\"answer\": \"private\"}}] or a log {{\"lesson\", \"exercise\", \"actions\"}}",
            e.line(),
            e.column()
        )
    };
    if text.trim_start().starts_with('[') {
        serde_json::from_str(text)
            .map(ActionsFile::Steps)
            .map_err(json_error)
    } else {
        serde_json::from_str(text)
            .map(ActionsFile::Log)
            .map_err(json_error)
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn reads_every_supported_form() {
        let steps = parse_actions_file("a.json", br#"[{"answer": "user"}]"#).unwrap();
        assert_eq!(steps.actions(), &[Action::Answer("user".into())]);
        let log = parse_actions_file(
            "a.json",
            br#"{"lesson": "ports", "exercise": "range-of-22", "actions": ["host-disk-fails"]}"#,
        )
        .unwrap();
        assert!(matches!(log, ActionsFile::Log(ref l) if l.exercise == "range-of-22"));
        let toml_steps = parse_actions_file("a.toml", b"actions = [{ answer = \"22\" }]").unwrap();
        assert_eq!(toml_steps.actions(), &[Action::Answer("22".into())]);
        let bin = ActionLog {
            lesson: "ports".into(),
            exercise: "x".into(),
            actions: vec![Action::HostDiskFails],
        };
        let back = parse_actions_file("share.bin", &bin.to_postcard()).unwrap();
        assert_eq!(back, ActionsFile::Log(bin));
    }

    #[test]
    fn errors_point_into_the_file() {
        let err = parse_actions_file("a.json", b"[\n  {\"anwser\": \"user\"}\n]").unwrap_err();
        assert!(err.starts_with("a.json:2:"), "{err}");
        let err = parse_actions_file("a.toml", b"actions = [\n  { answer = 22 },\n]").unwrap_err();
        assert!(err.starts_with("a.toml:2:"), "{err}");
        assert!(parse_actions_file("a.bin", &[0xff, 0xff]).is_err());
    }
}

#[cfg(test)]
mod old_format_tests {
    use super::*;

    /// Made by format 2's code from `action-log-v2.json`, one of every kind of step.
    const V2_LOG: &[u8] = include_bytes!("../../tests/fixtures/action-log-v2.bin");
    const V2_JSON: &str = include_str!("../../tests/fixtures/action-log-v2.json");

    #[test]
    fn a_format_2_log_reads_as_the_same_steps() {
        assert_eq!(V2_LOG[0], 2);
        let from_bytes = ActionLog::from_postcard(V2_LOG).unwrap();
        let from_json: ActionLog = serde_json::from_str(V2_JSON).unwrap();
        assert_eq!(from_bytes, from_json);
        assert_eq!(from_bytes.actions.len(), 19);
        let rewritten = ActionLog::from_postcard(&from_bytes.to_postcard()).unwrap();
        assert_eq!(rewritten, from_json);
    }

    #[test]
    fn a_cut_format_2_log_is_an_error_not_a_panic() {
        for cut in 0..V2_LOG.len() {
            assert!(ActionLog::from_postcard(&V2_LOG[..cut]).is_err());
        }
    }

    #[test]
    fn the_json_spelling_is_unchanged() {
        let log: ActionLog = serde_json::from_str(V2_JSON).unwrap();
        let again: serde_json::Value = serde_json::to_value(&log).unwrap();
        let before: serde_json::Value = serde_json::from_str(V2_JSON).unwrap();
        assert_eq!(again, before);
    }

    #[test]
    fn a_rule_vboxmanage_would_refuse_is_refused_when_read() {
        let read = |rule: &str| {
            serde_json::from_str::<Action>(&format!(r#"{{"add-forward":{rule}}}"#))
                .unwrap_err()
                .to_string()
        };
        let err = read(r#"{"name":"p","proto":"icmp","host-port":1,"guest-port":1}"#);
        assert!(err.contains("tcp or udp"), "{err}");
        let err = read(r#"{"name":"a,b","proto":"tcp","host-port":1,"guest-port":1}"#);
        assert!(err.contains("cannot hold them"), "{err}");
        let err =
            read(r#"{"name":"ssh","proto":"tcp","host-ip":"10.0.2","host-port":1,"guest-port":1}"#);
        assert!(err.contains("address"), "{err}");
    }
}
