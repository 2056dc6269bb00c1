//! A fuzzed disk image (VDI header and block map, or raw bytes) opened by the core's disk
//! engine on an in-memory store, then driven by a fuzzed sequence of guest and host
//! operations, with the engine's invariants checked after every step:
//!
//! - a rejected image is refused before anything is written to it;
//! - every window of the disk an operation touched reads back as a model of the disk says
//!   (written bytes after a write, zeros after a zero-fill or discard, unchanged after a
//!   failed operation, a file deletion or a compaction);
//! - what the engine leaves in the store always opens again, with the same header and block
//!   map, and reads the same bytes (nothing it writes is refused by its own checks);
//! - compaction never makes the image take more host space.
//!
//! Input layout: `[flags][tail blocks][head length: u16 LE][head bytes][operations…]`, where
//! the head is the image's first bytes (VDI header and block map, or raw data) and the store
//! is then extended with zeroed 1 MiB blocks so that data blocks exist without megabytes of
//! input. Each operation is 8 bytes: `[kind][offset: u32 LE][length: u16 LE][fill]`, its
//! length in units of 32 bytes when the fill's top three bits are all set.
//!
//! This file is shared by `fuzz/fuzz_targets/disk_image.rs` and the core's regression test.

use labvisor_core::disk::image::{Format, Image, ImageError};
use labvisor_core::disk::storage::{MemStorage, Storage, StorageError};

const BLOCK: u64 = 1 << 20;
/// Windows of the disk the model follows, and the most bytes of each: enough to see every
/// block boundary an operation crosses at its start and end, little enough that checking
/// them after every step stays cheap.
const MAX_WINDOWS: usize = 16;
const MAX_WINDOW: u64 = 4096;
/// Operations per input: an image's problems show within a few dozen steps.
const MAX_OPS: usize = 64;

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&tail_blocks, rest)) = rest.split_first() else {
        return;
    };
    if rest.len() < 2 {
        return;
    }
    let head_len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
    let (head, ops) = rest[2..].split_at(head_len);
    let format = if flags & 1 == 0 {
        Format::Vdi
    } else {
        Format::Raw
    };

    let mut storage = MemStorage::from_bytes(head);
    let extended = head_len as u64 + u64::from(tail_blocks % 8) * BLOCK;
    storage
        .set_len(extended)
        .expect("a store without a limit grows");
    let before = storage.clone();
    let mut image = match Image::open(storage, format) {
        Ok(image) => image,
        Err(_) => return,
    };
    assert_eq!(
        image.storage(),
        &before,
        "opening an image must not write to it"
    );

    let mut model = Model::default();
    for op in ops.chunks_exact(8).take(MAX_OPS) {
        let op = Op::decode(op, image.virtual_size());
        // The start and the end of the range the operation touches.
        let head = op.len.min(MAX_WINDOW);
        model.track(&image, op.offset, head);
        let tail = op.len.saturating_sub(head).min(MAX_WINDOW);
        model.track(&image, op.offset + op.len - tail, tail);
        let host_before = image.host_bytes().ok();
        let result = op.apply(&mut image);
        match result {
            Ok(effect) => model.apply(op.offset, effect),
            Err(e) => assert!(
                !e.is_no_space(),
                "a store without a limit never runs out of space: {e}"
            ),
        }
        if op.kind == Kind::Compact {
            if let (Some(before), Ok(after)) = (host_before, image.host_bytes()) {
                assert!(
                    after <= before,
                    "compaction grew the image from {before} to {after} host bytes"
                );
            }
        }
        model.verify(&image, "the image");
        let reopened = Image::open(ReadOnly(image.storage()), format)
            .unwrap_or_else(|e| panic!("the engine left an image it cannot open: {e}"));
        assert_eq!(reopened.header(), image.header(), "header after reopening");
        assert_eq!(
            reopened.block_map(),
            image.block_map(),
            "block map after reopening"
        );
        assert_eq!(reopened.virtual_size(), image.virtual_size());
        model.verify(&reopened, "the reopened image");
    }
}

/// The engine's store seen through a reference, for opening it again without copying it: a
/// reopened image only reads, and any write fails the run.
struct ReadOnly<'a>(&'a MemStorage);

impl Storage for ReadOnly<'_> {
    fn len(&self) -> Result<u64, StorageError> {
        self.0.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.0.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, _: &[u8]) -> Result<(), StorageError> {
        panic!("opening an image wrote to it at {offset}")
    }
    fn set_len(&mut self, len: u64) -> Result<(), StorageError> {
        panic!("opening an image set its length to {len}")
    }
    fn host_bytes(&self) -> Result<u64, StorageError> {
        self.0.host_bytes()
    }
    fn is_allocated(&self, offset: u64, len: u64) -> Result<bool, StorageError> {
        self.0.is_allocated(offset, len)
    }
    fn next_data(&self, offset: u64) -> Result<Option<u64>, StorageError> {
        self.0.next_data(offset)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Write,
    ZeroFill,
    Discard,
    DeleteFile,
    Compact,
    Read,
}

#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    offset: u64,
    len: u64,
    fill: u8,
}

/// What a successful operation did to the guest's view of the disk.
enum Effect {
    Wrote(Vec<u8>),
    Zeroed(u64),
    Unchanged,
}

impl Op {
    fn decode(b: &[u8], virtual_size: u64) -> Op {
        let kind = match b[0] % 6 {
            0 => Kind::Write,
            1 => Kind::ZeroFill,
            2 => Kind::Discard,
            3 => Kind::DeleteFile,
            4 => Kind::Compact,
            _ => Kind::Read,
        };
        // Offsets in 512-byte sectors, wrapped a little past the end so that out-of-range
        // requests are tried too; lengths up to 64 KiB, or for one operation in eight up to a
        // little over two blocks (such an operation costs 32 times as much to run and check,
        // and a short one crosses block boundaries too when it starts near one).
        let sectors = u64::from(u32::from_le_bytes([b[1], b[2], b[3], b[4]]));
        let span = virtual_size.saturating_add(BLOCK) / 512 + 1;
        let offset = (sectors % span) * 512 + u64::from(b[0] >> 3) * 8;
        let long = b[7] >> 5 == 0b111;
        let len = u64::from(u16::from_le_bytes([b[5], b[6]])) * if long { 32 } else { 1 };
        Op {
            kind,
            offset,
            len,
            fill: b[7],
        }
    }

    fn apply(&self, image: &mut Image<MemStorage>) -> Result<Effect, ImageError> {
        match self.kind {
            Kind::Write => {
                // Each sector starts with its own number, so a misplaced sector shows.
                let mut data = vec![self.fill; self.len as usize];
                for (i, sector) in data.chunks_mut(512).enumerate() {
                    sector[0] = self.fill.wrapping_add(i as u8);
                }
                image.write(self.offset, &data)?;
                Ok(Effect::Wrote(data))
            }
            Kind::ZeroFill => {
                image.zero_fill(self.offset, self.len)?;
                Ok(Effect::Zeroed(self.len))
            }
            Kind::Discard => {
                image.discard(self.offset, self.len)?;
                Ok(Effect::Zeroed(self.len))
            }
            Kind::DeleteFile => {
                image.delete_file(self.offset, self.len)?;
                Ok(Effect::Unchanged)
            }
            Kind::Compact => {
                image.compact()?;
                Ok(Effect::Unchanged)
            }
            Kind::Read => {
                let mut buf = vec![0u8; self.len as usize];
                image.read(self.offset, &mut buf)?;
                Ok(Effect::Unchanged)
            }
        }
    }
}

/// The guest's view of the windows of the disk the operations touched: what each must read.
#[derive(Default)]
struct Model {
    windows: Vec<(u64, Vec<u8>)>,
}

impl Model {
    /// Starts watching `[offset, offset + len)` (clipped to the disk) as it reads now.
    fn track(&mut self, image: &Image<MemStorage>, offset: u64, len: u64) {
        let end = offset.saturating_add(len).min(image.virtual_size());
        if offset >= end || self.windows.len() >= MAX_WINDOWS {
            return;
        }
        let mut bytes = vec![0u8; (end - offset) as usize];
        if image.read(offset, &mut bytes).is_ok() {
            self.windows.push((offset, bytes));
        }
    }

    fn apply(&mut self, offset: u64, effect: Effect) {
        let (new, len): (Option<&[u8]>, u64) = match &effect {
            Effect::Wrote(data) => (Some(data), data.len() as u64),
            Effect::Zeroed(len) => (None, *len),
            Effect::Unchanged => return,
        };
        for (start, bytes) in &mut self.windows {
            let end = *start + bytes.len() as u64;
            let from = offset.max(*start);
            let to = (offset + len).min(end);
            if from >= to {
                continue;
            }
            let window = &mut bytes[(from - *start) as usize..(to - *start) as usize];
            match new {
                Some(data) => {
                    window.copy_from_slice(&data[(from - offset) as usize..(to - offset) as usize])
                }
                None => window.fill(0),
            }
        }
    }

    fn verify<S: Storage>(&self, image: &Image<S>, what: &str) {
        let mut got = Vec::new();
        for (start, expected) in &self.windows {
            got.resize(expected.len(), 0);
            image
                .read(*start, &mut got)
                .unwrap_or_else(|e| panic!("{what}: a window that read before fails now: {e}"));
            // Slices compare with memcmp; the byte that differs is looked for only on failure
            // (a byte-by-byte comparison was most of this target's time).
            if got == *expected {
                continue;
            }
            if let Some(i) = got.iter().zip(expected).position(|(a, b)| a != b) {
                panic!(
                    "{what}: byte {} of the disk reads {:#04x}, the model says {:#04x}",
                    start + i as u64,
                    got[i],
                    expected[i]
                );
            }
        }
    }
}
