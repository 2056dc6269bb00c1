//! Share links: a learner's lab state and progress, packed into the URL fragment.
//!
//! The payload is `version (1 byte) · postcard(Shared) · CRC-32 (4 bytes, little-endian)`,
//! written in unpadded base64url so it survives chat apps and e-mail. The checksum turns a
//! truncated or edited link into a clear "this link is damaged" instead of a silently different
//! lab, and every decoded value is range-checked before the app uses it. Decoding never touches
//! what the learner already has: the app merges progress and replaces the lab only on success.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::lab::LabState;
use crate::progress::Progress;
use crate::route::Route;

/// The payload layout this app writes and reads. Bump it whenever `Shared` changes shape, so an
/// old link is refused as "made by another version" rather than as damaged.
/// 2: the network lab's edits and the disk lab's host pools.
const VERSION: u8 = 2;

/// CRC-32 (ISO-HDLC, the zlib and PNG checksum), computed without lookup tables: what it
/// checks (links, the disk lab's small images) is at most a few MiB, so the bytes saved in the
/// download matter more.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    const CRC32: crc::Crc<u32, crc::NoTable> =
        crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);
    CRC32.checksum(bytes)
}
/// Longer links are refused before decoding (no lab state comes near this).
pub const MAX_LINK_CHARS: usize = 8192;

/// What a share link carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    /// The page to open, as a fragment (`#/tool/ipv4`).
    pub route: String,
    /// The state of every tool.
    pub lab: LabState,
    /// The completed activity ids.
    pub completed: Vec<String>,
}

/// Why a share link could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// Longer than any link this app makes.
    TooLong(usize),
    /// Characters outside base64url: the link was cut or retyped.
    NotBase64,
    /// Too short to hold even the version and checksum.
    TooShort,
    /// Made by another (older or newer) version of Labvisor.
    UnknownVersion(u8),
    /// The checksum does not match: the link was changed after it was made.
    Damaged,
    /// Well-formed bytes that do not describe a lab.
    Invalid(String),
}

impl Shared {
    /// The link payload (what follows `#/share/`).
    pub fn encode(&self) -> String {
        let mut bytes = vec![VERSION];
        bytes.extend(postcard::to_allocvec(self).unwrap_or_default());
        let crc = crc32(&bytes);
        bytes.extend(crc.to_le_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a link payload, checking its version, checksum and every value in it.
    pub fn decode(payload: &str) -> Result<Shared, ShareError> {
        if payload.len() > MAX_LINK_CHARS {
            return Err(ShareError::TooLong(payload.len()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim())
            .map_err(|_| ShareError::NotBase64)?;
        if bytes.len() < 1 + 4 {
            return Err(ShareError::TooShort);
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if body[0] != VERSION {
            return Err(ShareError::UnknownVersion(body[0]));
        }
        let expected = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32(body) != expected {
            return Err(ShareError::Damaged);
        }
        let shared: Shared =
            postcard::from_bytes(&body[1..]).map_err(|e| ShareError::Invalid(e.to_string()))?;
        shared.lab.validate().map_err(ShareError::Invalid)?;
        if matches!(Route::parse(&shared.route), Route::Share(_)) {
            return Err(ShareError::Invalid(
                "a share link inside a share link".into(),
            ));
        }
        Progress::from_ids(shared.completed.clone())
            .map_err(|e| ShareError::Invalid(e.to_string()))?;
        Ok(shared)
    }

    /// The route the link opens (home when the shared route no longer exists).
    pub fn route(&self) -> Route {
        match Route::parse(&self.route) {
            Route::NotFound(_) | Route::Share(_) => Route::Home,
            route => route,
        }
    }

    /// The progress the link carries (already validated by [`Shared::decode`]).
    pub fn progress(&self) -> Progress {
        Progress::from_ids(self.completed.clone()).unwrap_or_default()
    }
}

// Native only: these are plain #[test]s, and proptest does not build for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use labvisor_core::lang::Lang;

    #[test]
    fn the_checksum_is_standard_crc32_so_earlier_links_still_open() {
        // The catalogue check value of CRC-32/ISO-HDLC, which links made so far carry.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    fn sample() -> Shared {
        let mut lab = LabState::default();
        lab.ipv4.input = "172.16.5.9/20".into();
        Shared {
            route: "#/tool/ipv4".into(),
            lab,
            completed: vec!["tool:hypervisors".into()],
        }
    }

    /// A lab with something in every part a link carries.
    fn rich_sample() -> Shared {
        use crate::lab::{DiskOp, NetEdit, TimelineOp};
        use labvisor_core::net::clock::Duration;
        use labvisor_core::net::sim::Action;
        use labvisor_core::net::vbox::Mode;
        let mut lab = LabState::default();
        lab.network.example = "host-only".into();
        lab.network.step = 3;
        lab.network.edits = vec![
            NetEdit::AddVm("vm3".into()),
            NetEdit::Act(Action::SetMode {
                vm: "vm1".into(),
                nic: "eth0".into(),
                mode: Mode::Internal("lab-a".into()),
            }),
            NetEdit::Act(Action::Advance(Duration::from_secs(30))),
        ];
        lab.disks.ops = vec![
            DiskOp::Write,
            DiskOp::DeleteFile,
            DiskOp::ZeroFree,
            DiskOp::Compact,
        ];
        lab.disks.pools.host.fixed = [true, false];
        lab.disks.pools.host.created = true;
        lab.disks.pools.host.writes = vec![0, 1, 1];
        lab.disks.pools.timeline = vec![
            TimelineOp::Write,
            TimelineOp::Snapshot,
            TimelineOp::Backup,
            TimelineOp::FailHostDisk,
            TimelineOp::Restore,
        ];
        lab.drafts.insert(
            "lesson:host-sizing/1".into(),
            r#"[{"add-vm": {"name": "vm1", "vcpus": 1, "ram_mib": 2048}}]"#.into(),
        );
        Shared {
            route: "#/tool/network".into(),
            lab,
            completed: vec!["tool:network".into(), "lesson:nat/1".into()],
        }
    }

    /// Wraps `body` as a link whose version and checksum are right, so it reaches postcard and
    /// the validation behind it.
    fn checksummed(body: &[u8]) -> String {
        let mut bytes = vec![VERSION];
        bytes.extend(body);
        bytes.extend(crc32(&bytes).to_le_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Everything the app does with an opened link: a valid lab, and every tool replaying it
    /// without a panic (a refused network edit is an error the page shows).
    fn open_everything(shared: &Shared) {
        assert_eq!(shared.lab.validate(), Ok(()));
        let lab = &shared.lab;
        let _ = crate::tools::network::load(&lab.network.example, &lab.network.edits);
        let _ = crate::tools::disks::replay(&lab.disks.ops);
        let _ = crate::tools::disks::replay_host(&lab.disks.pools.host);
        let _ = crate::tools::disks::replay_timeline(&lab.disks.pools.timeline, Lang::Ko);
        for draft in lab.drafts.values() {
            let _ = crate::editor::parse(draft);
        }
        let _ = shared.route();
        assert_eq!(Shared::decode(&shared.encode()).as_ref(), Ok(shared));
    }

    #[test]
    fn the_rich_sample_opens_everywhere() {
        let shared = rich_sample();
        let link = shared.encode();
        assert_eq!(Shared::decode(&link).as_ref(), Ok(&shared));
        open_everything(&shared);
        let lab =
            crate::tools::network::load(&shared.lab.network.example, &shared.lab.network.edits);
        assert!(lab.is_ok(), "the sample's edits all apply");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// Any text in the fragment: refused with a reason, never a panic.
        #[test]
        fn any_text_is_refused_or_opened(text in "[A-Za-z0-9_\\-]{0,300}|.{0,100}") {
            if let Ok(shared) = Shared::decode(&text) {
                open_everything(&shared);
            }
        }

        /// Any bytes behind a right version and checksum: refused, or a lab every tool opens.
        #[test]
        fn any_checksummed_bytes_are_refused_or_open(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(shared) = Shared::decode(&checksummed(&body)) {
                open_everything(&shared);
            }
        }

        /// A real link with a few bytes changed and the checksum mended, as a deliberate
        /// tamperer would: every value that decodes is checked before the app uses it.
        #[test]
        fn a_tampered_link_with_a_mended_checksum_is_refused_or_safe(
            changes in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 1..5),
        ) {
            let mut body = postcard::to_allocvec(&rich_sample()).unwrap();
            for (at, byte) in changes {
                let i = at.index(body.len());
                body[i] = byte;
            }
            if let Ok(shared) = Shared::decode(&checksummed(&body)) {
                open_everything(&shared);
            }
        }
    }

    #[test]
    fn round_trips() {
        let shared = sample();
        let link = shared.encode();
        assert!(link
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(Shared::decode(&link), Ok(shared.clone()));
        assert_eq!(shared.route(), Route::Tool(crate::route::ToolId::Ipv4));
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let link = sample().encode();
        for i in 0..link.len() {
            let mut bytes = link.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                Shared::decode(&tampered).is_err(),
                "changing character {i} went unnoticed"
            );
        }
    }

    #[test]
    fn malformed_links_say_why() {
        assert_eq!(Shared::decode("***"), Err(ShareError::NotBase64));
        assert_eq!(Shared::decode("AQ"), Err(ShareError::TooShort));
        let link = sample().encode();
        assert!(Shared::decode(&link[..link.len() - 3]).is_err());
        assert_eq!(
            Shared::decode(&"A".repeat(MAX_LINK_CHARS + 1)),
            Err(ShareError::TooLong(MAX_LINK_CHARS + 1))
        );
        for other in [VERSION - 1, VERSION + 1] {
            let mut payload = vec![other, 0, 0];
            payload.extend(crc32(&payload).to_le_bytes());
            assert_eq!(
                Shared::decode(&URL_SAFE_NO_PAD.encode(payload)),
                Err(ShareError::UnknownVersion(other))
            );
        }
    }

    #[test]
    fn a_valid_checksum_does_not_let_bad_values_in() {
        let mut shared = sample();
        shared.lab.ipv4.input = "x".repeat(100);
        assert!(matches!(
            Shared::decode(&shared.encode()),
            Err(ShareError::Invalid(_))
        ));
        let mut shared = sample();
        shared.completed = vec!["<img onerror>".into()];
        assert!(matches!(
            Shared::decode(&shared.encode()),
            Err(ShareError::Invalid(_))
        ));
    }
}
