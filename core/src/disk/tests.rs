//! Tests of the disk model as the lessons use it: each claim the course makes, watched.

use proptest::prelude::*;

use super::backup::{backup, restore, BackupError};
use super::image::*;
use super::pool::{plan, try_plan, GuestWrite, Pool, PoolError, PoolEvent, VDI_MAX_SIZE};
use super::size::{GIB, MIB};
use super::snapshot::{Chain, SnapshotError};
use super::storage::{MemStorage, Storage};
use super::vdi::{self, Uuid, VdiError, BLOCK_FREE, BLOCK_ZERO};

fn uuid(n: u8) -> Uuid {
    Uuid::from_random_bytes([n; 16])
}

fn create(format: Format, allocation: Allocation, size: u64) -> Image<MemStorage> {
    let spec = CreateSpec {
        format,
        allocation,
        virtual_size: size,
        uuid: uuid(1),
        modification_uuid: uuid(2),
    };
    Image::create(MemStorage::new(), spec, &mut |_, _| {}).unwrap()
}

fn reopen(image: &Image<MemStorage>) -> Image<MemStorage> {
    Image::open(image.storage().clone(), image.format()).unwrap()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

#[test]
fn dynamic_vdi_starts_small_and_grows_one_block_per_first_write() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 128 * GIB);
    assert_eq!(img.kind(), ImageKind::VdiDynamic);
    // Header (512) + block map (131072 entries × 4 bytes), then a hole up to the 1 MiB-aligned
    // data area.
    let metadata = MIB;
    assert!(
        img.host_bytes().unwrap() < 600 * 1024,
        "the hole takes no host space"
    );
    assert_eq!(img.storage().len().unwrap(), metadata);
    let r = img.write(10 * MIB + 5, b"hello").unwrap();
    assert_eq!(r.new_blocks, 1);
    let r = img.write(10 * MIB + 100, b"again").unwrap();
    assert_eq!(
        r.new_blocks, 0,
        "a rewrite inside an allocated block allocates nothing"
    );
    let r = img.write(MIB - 2, b"span").unwrap();
    assert_eq!(
        r.new_blocks, 2,
        "a write across a block boundary allocates both blocks"
    );
    let info = img.info().unwrap();
    assert_eq!(info.blocks_used, 3);
    assert_eq!(info.file_len, metadata + 3 * MIB);
    let mut buf = [0u8; 5];
    reopen(&img).read(10 * MIB + 5, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    let mut buf = [9u8; 4];
    img.read(MIB - 2, &mut buf).unwrap();
    assert_eq!(&buf, b"span");
    img.read(50 * GIB, &mut buf).unwrap();
    assert_eq!(buf, [0; 4], "never-written blocks read as zeros");
}

#[test]
fn whole_block_first_writes_land_as_written_beside_partial_ones() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 8 * MIB);
    // Two whole blocks and a half, starting on a block boundary: blocks 2 and 3 are taken
    // as they are, block 4 is filled around the half that was written.
    let data = pattern(2 * MIB as usize + MIB as usize / 2, 7);
    assert_eq!(img.write(2 * MIB, &data).unwrap().new_blocks, 3);
    let img = reopen(&img);
    let mut back = vec![0u8; 4 * MIB as usize];
    img.read(2 * MIB, &mut back).unwrap();
    assert_eq!(&back[..data.len()], &data[..]);
    assert!(back[data.len()..].iter().all(|&b| b == 0));
    assert_eq!(img.info().unwrap().blocks_used, 3);
}

#[test]
fn fixed_vdi_takes_its_whole_size_at_creation_and_never_grows() {
    let mut img = create(Format::Vdi, Allocation::Fixed, 8 * MIB);
    let header = img.header().unwrap().clone();
    assert_eq!(header.blocks_allocated, 8);
    assert_eq!(img.block_map().unwrap(), &[0, 1, 2, 3, 4, 5, 6, 7]);
    let before = img.host_bytes().unwrap();
    assert!(before >= 8 * MIB);
    let data = pattern(3 * MIB as usize, 7);
    assert_eq!(img.write(MIB / 2, &data).unwrap().new_blocks, 0);
    assert_eq!(img.host_bytes().unwrap(), before);
    let mut back = vec![0u8; data.len()];
    reopen(&img).read(MIB / 2, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn raw_images_are_sparse_or_preallocated() {
    let mut sparse = create(Format::Raw, Allocation::Dynamic, 64 * MIB);
    assert_eq!(sparse.kind(), ImageKind::RawSparse);
    assert_eq!(sparse.host_bytes().unwrap(), 0);
    sparse.write(5 * MIB, &[1u8; 8192]).unwrap();
    assert_eq!(sparse.host_bytes().unwrap(), 8192);
    assert_eq!(reopen(&sparse).kind(), ImageKind::RawSparse);
    let fixed = create(Format::Raw, Allocation::Fixed, 64 * MIB);
    assert_eq!(fixed.host_bytes().unwrap(), 64 * MIB);
    assert_eq!(reopen(&fixed).kind(), ImageKind::RawPreallocated);
    let states = sparse.block_states().unwrap();
    assert_eq!(states[5], BlockState::Data);
    assert_eq!(states[4], BlockState::Free);
}

#[test]
fn guest_io_outside_the_disk_is_refused() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 4 * MIB);
    let err = img.write(4 * MIB - 1, b"xy").unwrap_err();
    assert!(
        matches!(err, ImageError::OutOfRange { what: "write", .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("past the end of the 4 MiB disk"),
        "{err}"
    );
    assert!(img.read(u64::MAX, &mut [0u8; 2]).is_err());
    assert!(img.discard(0, 5 * MIB).is_err());
}

#[test]
fn creation_rejects_sizes_that_are_not_whole_sectors() {
    for size in [0, 1000] {
        let spec = CreateSpec {
            format: Format::Vdi,
            allocation: Allocation::Dynamic,
            virtual_size: size,
            uuid: uuid(1),
            modification_uuid: uuid(1),
        };
        let err = Image::create(MemStorage::new(), spec, &mut |_, _| {}).unwrap_err();
        assert!(matches!(err, ImageError::BadSize { .. }), "{err}");
    }
    let spec = CreateSpec {
        format: Format::Raw,
        allocation: Allocation::Dynamic,
        virtual_size: MIB,
        uuid: uuid(1),
        modification_uuid: uuid(1),
    };
    let err = Image::create(MemStorage::from_bytes(b"precious"), spec, &mut |_, _| {}).unwrap_err();
    assert_eq!(err, ImageError::NotEmpty { len: 8 });
}

#[test]
fn creation_is_bounded_at_16_tib_and_opening_at_64_tib() {
    for format in [Format::Vdi, Format::Raw] {
        let spec = CreateSpec {
            format,
            allocation: Allocation::Dynamic,
            virtual_size: MAX_CREATE_SIZE + MIB,
            uuid: uuid(1),
            modification_uuid: uuid(1),
        };
        let err = Image::create(MemStorage::new(), spec, &mut |_, _| {}).unwrap_err();
        assert!(
            err.to_string()
                .contains("Labvisor creates images up to 16 TiB"),
            "{err}"
        );
    }
    let image = create(Format::Raw, Allocation::Dynamic, MAX_CREATE_SIZE);
    assert_eq!(image.virtual_size(), MAX_CREATE_SIZE);
    // A header that would make the block map gigabytes is refused before it is read.
    let size = u64::from(vdi::MAX_OPEN_BLOCKS + 1) << 20;
    let header = vdi::VdiHeader::new(vdi::ImageType::Dynamic, size, uuid(1), uuid(2));
    let mut storage = MemStorage::from_bytes(&header.encode());
    storage
        .set_len(u64::from(header.offset_data) + MIB)
        .unwrap();
    let err = Image::open(storage, Format::Vdi).unwrap_err().to_string();
    assert!(
        err.contains("blocks_in_image") && err.contains("at most 67108864 (64 TiB)"),
        "{err}"
    );
}

#[test]
fn a_sparse_raw_image_is_scanned_by_its_data_not_its_size() {
    let mut image = create(Format::Raw, Allocation::Dynamic, MAX_CREATE_SIZE);
    image.write(MAX_CREATE_SIZE - MIB, &[7u8; 4096]).unwrap();
    let report = image.delete_file(0, MAX_CREATE_SIZE).unwrap();
    assert_eq!(report.host_bytes_still_used, 64 << 10);
    let states = image.block_states().unwrap();
    assert_eq!(states.iter().filter(|s| **s == BlockState::Data).count(), 1);
    assert_eq!(states.last(), Some(&BlockState::Data));
    image.compact().unwrap();
}

#[test]
fn deleting_a_file_frees_nothing_and_compacting_then_frees_nothing() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 64 * MIB);
    img.write(8 * MIB, &pattern(16 * MIB as usize, 3)).unwrap();
    let grown = img.host_bytes().unwrap();
    let report = img.delete_file(8 * MIB, 16 * MIB).unwrap();
    assert_eq!(report.guest_bytes_freed, 16 * MIB);
    assert_eq!(report.host_bytes_still_used, 16 * MIB);
    assert_eq!(report.host_bytes, grown);
    let mut buf = [0u8; 4];
    img.read(8 * MIB, &mut buf).unwrap();
    assert_eq!(
        buf,
        pattern(4, 3)[..],
        "the deleted file's bytes are still in the image"
    );
    let compact = img.compact().unwrap();
    assert_eq!(compact.zero_blocks_dropped, 0);
    assert_eq!(
        compact.host_bytes_after, grown,
        "nothing is zero, so nothing is freed"
    );
}

#[test]
fn zero_filling_free_space_then_compacting_shrinks_the_image() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 64 * MIB);
    let keep = pattern(4 * MIB as usize, 9);
    img.write(0, &keep).unwrap();
    img.write(8 * MIB, &pattern(16 * MIB as usize, 3)).unwrap();
    img.write(40 * MIB, &pattern(MIB as usize, 5)).unwrap();
    assert_eq!(img.info().unwrap().blocks_used, 21);
    img.delete_file(8 * MIB, 16 * MIB).unwrap();
    // The guest zeroes its free space (zerofree): already-allocated blocks take the zeros,
    // so the image does not grow.
    let zf = img.zero_fill(8 * MIB, 16 * MIB).unwrap();
    assert_eq!(zf.new_blocks, 0);
    let report = img.compact().unwrap();
    assert_eq!(report.zero_blocks_dropped, 16);
    assert_eq!(report.blocks_moved, 1, "the last block moves into the hole");
    assert_eq!(report.host_bytes_before - report.host_bytes_after, 16 * MIB);
    let header = img.header().unwrap();
    assert_eq!(header.blocks_allocated, 5);
    assert_eq!(img.storage().len().unwrap(), header.data_offset(5));
    let reopened = reopen(&img);
    let mut back = vec![0u8; keep.len()];
    reopened.read(0, &mut back).unwrap();
    assert_eq!(back, keep);
    let mut back = vec![0u8; MIB as usize];
    reopened.read(40 * MIB, &mut back).unwrap();
    assert_eq!(back, pattern(MIB as usize, 5));
    assert_eq!(reopened.block_map().unwrap()[10], BLOCK_ZERO);
    // Writing into a compacted-away block allocates it again at the end.
    let mut img = reopened;
    assert_eq!(img.write(10 * MIB, b"x").unwrap().new_blocks, 1);
    assert_eq!(img.block_map().unwrap()[10], 5);
}

#[test]
fn zero_fill_of_never_written_space_grows_a_dynamic_image() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 8 * MIB);
    let r = img.zero_fill(0, 8 * MIB).unwrap();
    assert_eq!(r.new_blocks, 8);
    assert_eq!(img.compact().unwrap().zero_blocks_dropped, 8);
    assert_eq!(img.info().unwrap().blocks_used, 0);
}

#[test]
fn discard_releases_whole_blocks_and_zeroes_partial_ones() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 8 * MIB);
    img.write(0, &pattern(4 * MIB as usize, 1)).unwrap();
    let r = img.discard(MIB / 2, 2 * MIB).unwrap();
    assert_eq!(r.blocks_released, 1);
    assert_eq!(r.host_bytes_before - r.host_bytes_after, MIB);
    let mut buf = vec![0u8; 4 * MIB as usize];
    reopen(&img).read(0, &mut buf).unwrap();
    let expect = pattern(4 * MIB as usize, 1);
    assert_eq!(buf[..MIB as usize / 2], expect[..MIB as usize / 2]);
    assert!(buf[MIB as usize / 2..5 * MIB as usize / 2]
        .iter()
        .all(|&b| b == 0));
    assert_eq!(buf[5 * MIB as usize / 2..], expect[5 * MIB as usize / 2..]);
    let mut sparse = create(Format::Raw, Allocation::Dynamic, 8 * MIB);
    sparse.write(0, &[1u8; 2 * MIB as usize]).unwrap();
    sparse.discard(0, MIB).unwrap();
    assert_eq!(sparse.host_bytes().unwrap(), MIB);
    let mut fixed = create(Format::Vdi, Allocation::Fixed, 4 * MIB);
    fixed.write(0, &[1u8; 100]).unwrap();
    let r = fixed.discard(0, MIB).unwrap();
    assert_eq!(
        r.host_bytes_after, r.host_bytes_before,
        "fixed images keep their space"
    );
}

#[test]
fn fixed_images_cannot_be_compacted() {
    for format in [Format::Vdi, Format::Raw] {
        let mut img = create(format, Allocation::Fixed, 2 * MIB);
        let err = img.compact().unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::Unsupported {
                    operation: "compacting",
                    ..
                }
            ),
            "{err}"
        );
    }
    let mut sparse = create(Format::Raw, Allocation::Dynamic, 2 * MIB);
    sparse.write(0, &[0u8; 65536]).unwrap();
    let r = sparse.compact().unwrap();
    assert_eq!((r.host_bytes_before, r.host_bytes_after), (65536, 0));
}

#[test]
fn a_failed_allocation_changes_nothing() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 8 * MIB);
    img.write(0, &[7u8; 100]).unwrap();
    let before = img.clone();
    let used = img.host_bytes().unwrap();
    img.storage_mut().set_limit(Some(used + MIB / 2));
    let err = img.write(3 * MIB, b"no room").unwrap_err();
    assert!(err.is_no_space(), "{err}");
    assert_eq!(img.storage().to_bytes(), before.storage().to_bytes());
    assert_eq!(img.block_map(), before.block_map());
    img.write(50, b"rewrite fits").unwrap();
}

fn corrupt(mutate: impl FnOnce(&mut Vec<u8>)) -> ImageError {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 4 * MIB);
    img.write(0, &[1u8; 10]).unwrap();
    img.write(2 * MIB, &[2u8; 10]).unwrap();
    let mut bytes = img.storage().to_bytes();
    mutate(&mut bytes);
    let storage = MemStorage::from_bytes(&bytes);
    let err = Image::open(storage.clone(), Format::Vdi).unwrap_err();
    // A rejected image is never written to: opening only reads.
    assert_eq!(storage.to_bytes(), bytes);
    err
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn corrupt_images_are_rejected_with_the_reason() {
    let e = corrupt(|b| put_u32(b, 0x40, 0xDEADBEEF));
    assert_eq!(
        e,
        ImageError::Vdi(VdiError::BadSignature { found: 0xDEADBEEF })
    );
    assert!(
        e.to_string()
            .contains("bad signature 0xDEADBEEF at offset 0x40"),
        "{e}"
    );
    let e = corrupt(|b| b.truncate(300));
    assert_eq!(e, ImageError::Vdi(VdiError::TooShortForHeader { len: 300 }));
    let e = corrupt(|b| b.truncate(2 * MIB as usize + 10));
    assert!(
        matches!(e, ImageError::Vdi(VdiError::EntryPastEnd { block: 2, .. })),
        "{e}"
    );
    assert!(e.to_string().contains("truncated image"), "{e}");
    let e = corrupt(|b| put_u32(b, 0x200 + 4, 7));
    assert!(
        matches!(
            e,
            ImageError::Vdi(VdiError::EntryOutOfRange {
                block: 1,
                entry: 7,
                ..
            })
        ),
        "{e}"
    );
    let e = corrupt(|b| put_u32(b, 0x200 + 4, 1));
    assert!(
        matches!(
            e,
            ImageError::Vdi(VdiError::DuplicateEntry {
                first: 1,
                second: 2,
                entry: 1
            })
        ),
        "{e}"
    );
    let e = corrupt(|b| put_u32(b, 0x184, 3));
    assert!(
        matches!(
            e,
            ImageError::Vdi(VdiError::CountMismatch {
                header: 3,
                counted: 2,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("leaked"), "{e}");
    let e = corrupt(|b| put_u32(b, 0x184, 1));
    assert!(
        matches!(
            e,
            ImageError::Vdi(VdiError::CountMismatch {
                header: 1,
                counted: 2,
                ..
            })
        ),
        "{e}"
    );
    let e = corrupt(|b| put_u32(b, 0x180, 100_000));
    assert!(
        matches!(
            e,
            ImageError::Vdi(VdiError::BadField {
                field: "disk_size",
                ..
            }) | ImageError::Vdi(VdiError::BlockMapOutOfBounds { .. })
                // The longer map now reads the hole before the data: all entries 0.
                | ImageError::Vdi(VdiError::DuplicateEntry { .. })
        ),
        "{e}"
    );
    let e = corrupt(|b| {
        put_u32(b, 0x180, 300_000);
        b[0x170..0x178].copy_from_slice(&(300_000 * MIB).to_le_bytes());
    });
    assert!(
        matches!(e, ImageError::Vdi(VdiError::BlockMapOutOfBounds { .. })),
        "{e}"
    );
}

#[test]
fn an_interrupted_allocation_leaks_a_block_but_never_double_allocates() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 4 * MIB);
    img.write(0, &[1u8; 10]).unwrap();
    // Simulate a crash after the data block and the header count were written, before the
    // block-map entry: count says 2, the map references 1, a block of data sits at slot 1.
    let mut bytes = img.storage().to_bytes();
    bytes.extend(vec![5u8; MIB as usize]);
    put_u32(&mut bytes, 0x184, 2);
    let err = Image::open(MemStorage::from_bytes(&bytes), Format::Vdi).unwrap_err();
    assert!(err.to_string().contains("1 block(s) leaked"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let storage = MemStorage::from_bytes(&bytes);
        let _ = Image::open(storage.clone(), Format::Vdi);
        prop_assert_eq!(storage.to_bytes(), bytes);
    }

    #[test]
    fn the_decoder_never_panics_on_mutated_valid_images(
        edits in proptest::collection::vec((0usize..0x600, any::<u8>()), 1..12),
        truncate in proptest::option::of(0usize..(3 << 20)),
    ) {
        let mut img = create(Format::Vdi, Allocation::Dynamic, 4 * MIB);
        img.write(MIB, &[3u8; 10]).unwrap();
        img.write(0, &[4u8; 10]).unwrap();
        let mut bytes = img.storage().to_bytes();
        for (at, v) in edits {
            bytes[at] = v;
        }
        if let Some(n) = truncate {
            bytes.truncate(n);
        }
        if let Ok(opened) = Image::open(MemStorage::from_bytes(&bytes), Format::Vdi) {
            // Whatever opens must be fully readable and consistent.
            let mut buf = vec![0u8; opened.virtual_size().min(8 * MIB) as usize];
            prop_assert!(opened.read(0, &mut buf).is_ok());
            prop_assert!(opened.info().is_ok());
        }
    }

    #[test]
    fn random_writes_read_back_like_a_flat_disk(
        ops in proptest::collection::vec((0u64..(6 * (1 << 20) - 4096), 1usize..4096, any::<u8>(), any::<bool>()), 1..20),
    ) {
        let size = 6 * MIB;
        let mut flat = vec![0u8; size as usize];
        let mut img = create(Format::Vdi, Allocation::Dynamic, size);
        for (offset, len, byte, discard) in ops {
            if discard {
                img.discard(offset, len as u64).unwrap();
                flat[offset as usize..offset as usize + len].fill(0);
            } else {
                img.write(offset, &vec![byte; len]).unwrap();
                flat[offset as usize..offset as usize + len].fill(byte);
            }
        }
        img.compact().unwrap();
        let reopened = reopen(&img);
        let mut back = vec![0u8; size as usize];
        reopened.read(0, &mut back).unwrap();
        prop_assert!(back == flat);
    }

    /// A write the image says goes in place, done as the runs say (as the VMM does, straight
    /// from guest memory), leaves the very bytes `Image::write` would have.
    #[test]
    fn writes_in_place_leave_the_image_write_would(
        ops in proptest::collection::vec((0u64..(6 * (1 << 20) - 4096), 1usize..4096, any::<u8>(), any::<bool>()), 1..30),
    ) {
        let size = 6 * MIB;
        let mut flat = vec![0u8; size as usize];
        let mut img = create(Format::Vdi, Allocation::Dynamic, size);
        for (offset, len, byte, discard) in ops {
            let range = offset as usize..offset as usize + len;
            if discard {
                img.discard(offset, len as u64).unwrap();
                flat[range].fill(0);
                continue;
            }
            let data: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
            match img.write_in_place(offset, len as u64).unwrap() {
                Some(runs) => {
                    let mut expected = reopen(&img);
                    expected.write(offset, &data).unwrap();
                    let mut at = 0usize;
                    for run in runs {
                        let n = run.len as usize;
                        img.storage_mut().write_at(run.host_offset, &data[at..at + n]).unwrap();
                        at += n;
                    }
                    prop_assert_eq!(at, len);
                    prop_assert!(img.storage().to_bytes() == expected.storage().to_bytes());
                }
                None => {
                    img.write(offset, &data).unwrap();
                }
            }
            flat[range].copy_from_slice(&data);
        }
        let reopened = reopen(&img);
        let mut back = vec![0u8; size as usize];
        reopened.read(0, &mut back).unwrap();
        prop_assert!(back == flat);
    }
}

fn host_offset(image: &Image<MemStorage>, block: u64) -> u64 {
    match image.lookup(block) {
        BlockLookup::Data { host_offset } => host_offset,
        other => panic!("block {block} holds no data: {other:?}"),
    }
}

#[test]
fn writes_go_in_place_only_into_blocks_the_image_holds() {
    let mut img = create(Format::Vdi, Allocation::Dynamic, 4 * MIB);
    assert_eq!(
        img.write_in_place(0, 4096).unwrap(),
        None,
        "nothing allocated yet"
    );
    // Block 1 first, then block 0: in the file their data lie the other way round.
    img.write(MIB, &pattern(MIB as usize, 1)).unwrap();
    img.write(0, &pattern(MIB as usize, 2)).unwrap();
    let runs = img.write_in_place(MIB - 512, 1024).unwrap();
    assert_eq!(
        runs,
        Some(vec![
            Extent {
                host_offset: host_offset(&img, 0) + MIB - 512,
                len: 512
            },
            Extent {
                host_offset: host_offset(&img, 1),
                len: 512
            },
        ])
    );
    assert_eq!(
        img.write_in_place(MIB, 2 * MIB).unwrap(),
        None,
        "block 2 is not allocated"
    );
    assert!(matches!(
        img.write_in_place(3 * MIB, 2 * MIB),
        Err(ImageError::OutOfRange { .. })
    ));
    img.discard(0, MIB).unwrap();
    assert_eq!(
        img.write_in_place(0, 512).unwrap(),
        None,
        "a discarded block is allocated again by the write"
    );

    let raw = create(Format::Raw, Allocation::Dynamic, 4 * MIB);
    assert_eq!(
        raw.write_in_place(1000, 3 * MIB).unwrap(),
        Some(vec![Extent {
            host_offset: 1000,
            len: 3 * MIB
        }]),
        "a raw image is written at the guest's own offsets"
    );
    let fixed = create(Format::Vdi, Allocation::Fixed, 4 * MIB);
    assert_eq!(
        fixed.write_in_place(512, 3 * MIB).unwrap(),
        Some(vec![Extent {
            host_offset: host_offset(&fixed, 0) + 512,
            len: 3 * MIB
        }]),
        "a fixed VDI's blocks lie in order: one run"
    );
}

#[test]
fn a_chain_writes_in_place_only_into_the_newest_images_blocks() {
    let mut chain = chain_with_base(4 * MIB);
    chain.write(0, &[1u8; 2 * MIB as usize]).unwrap();
    assert!(chain.write_in_place(0, 4096).unwrap().is_some());
    chain
        .take(MemStorage::new(), uuid(10), uuid(11), "s")
        .unwrap();
    assert_eq!(
        chain.write_in_place(0, 4096).unwrap(),
        None,
        "the block is the parent's: the write copies it up first"
    );
    chain.write(0, b"x").unwrap();
    assert_eq!(
        chain.write_in_place(0, 4096).unwrap(),
        Some(vec![Extent {
            host_offset: host_offset(chain.newest(), 0),
            len: 4096
        }]),
        "copied up: the newest image's own block"
    );
    assert_eq!(chain.write_in_place(MIB, 4096).unwrap(), None);
    assert!(chain.write_in_place(4 * MIB, 512).is_err());
}

fn chain_with_base(size: u64) -> Chain<MemStorage> {
    Chain::new(create(Format::Vdi, Allocation::Dynamic, size))
}

#[test]
fn snapshots_read_through_write_newest_revert_and_merge() {
    let mut chain = chain_with_base(8 * MIB);
    chain.write(0, &[1u8; 3 * MIB as usize]).unwrap();
    chain
        .take(MemStorage::new(), uuid(10), uuid(11), "before upgrade")
        .unwrap();
    assert_eq!(chain.snapshots(), 1);
    assert_eq!(chain.newest().kind(), ImageKind::VdiDifferencing);
    assert_eq!(
        chain.newest().info().unwrap().description.as_deref(),
        Some("before upgrade")
    );
    // A small write copies the parent's block up, then changes it.
    let r = chain.write(MIB + 10, b"changed").unwrap();
    assert_eq!(r.new_blocks, 1);
    let base_before = chain.images()[0].storage().to_bytes();
    let mut buf = vec![0u8; 3 * MIB as usize];
    chain.read(0, &mut buf).unwrap();
    assert_eq!(&buf[MIB as usize + 10..MIB as usize + 17], b"changed");
    assert!(buf[..MIB as usize + 10].iter().all(|&b| b == 1));
    assert!(buf[MIB as usize + 17..].iter().all(|&b| b == 1));
    assert_eq!(chain.newest().info().unwrap().blocks_used, 1);
    // The base did not change.
    assert_eq!(chain.images()[0].storage().to_bytes(), base_before);
    // Revert: back to the snapshot, which stays.
    assert_eq!(chain.revert().unwrap(), 1);
    assert_eq!(chain.snapshots(), 1);
    chain.read(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 1));
    // Change again, discard a whole block (it must hide the parent's), then merge.
    chain.write(2 * MIB, b"kept").unwrap();
    chain.newest_mut().discard(0, MIB).unwrap();
    chain.read(0, &mut buf).unwrap();
    assert!(buf[..MIB as usize].iter().all(|&b| b == 0));
    let expected = buf.clone();
    let (child, report) = chain.merge().unwrap();
    assert_eq!(report.blocks_merged, 2);
    assert!(child.len().unwrap() > 0);
    assert_eq!(chain.snapshots(), 0);
    chain.read(0, &mut buf).unwrap();
    assert_eq!(buf, expected);
    assert!(matches!(chain.revert(), Err(SnapshotError::NoSnapshot(_))));
    assert!(matches!(chain.merge(), Err(SnapshotError::NoSnapshot(_))));
}

#[test]
fn chains_are_checked_when_assembled() {
    let mut chain = chain_with_base(4 * MIB);
    chain
        .take(MemStorage::new(), uuid(10), uuid(11), "a")
        .unwrap();
    chain
        .take(MemStorage::new(), uuid(12), uuid(13), "b")
        .unwrap();
    let images = chain.into_images();
    let reopened: Vec<_> = images.iter().map(reopen).collect();
    assert!(Chain::from_images(reopened.clone()).is_ok());
    let swapped = vec![
        reopened[0].clone(),
        reopened[2].clone(),
        reopened[1].clone(),
    ];
    assert!(matches!(
        Chain::from_images(swapped),
        Err(SnapshotError::BrokenChain { index: 1, .. })
    ));
    let orphan = vec![reopened[1].clone()];
    assert_eq!(Chain::from_images(orphan), Err(SnapshotError::OrphanBase));
    let raw = create(Format::Raw, Allocation::Dynamic, 4 * MIB);
    let mut raw_chain = Chain::new(raw);
    assert!(raw_chain
        .take(MemStorage::new(), uuid(1), uuid(1), "x")
        .is_err());
}

#[test]
fn two_128g_dynamic_disks_fit_on_a_256g_host_until_the_guests_fill_it() {
    let mut pool = Pool::new("ssd", "host-a", 256 * GIB);
    pool.create_disk("vm1", 128 * GIB, Allocation::Dynamic, uuid(1))
        .unwrap();
    pool.create_disk("vm2", 128 * GIB, Allocation::Dynamic, uuid(2))
        .unwrap();
    assert!(pool.used() < 2 * MIB, "two block maps of 512 KiB each");
    assert_eq!(pool.overcommit_ratio(), 1.0);
    let err = pool
        .create_disk("vm3", 256 * GIB, Allocation::Fixed, uuid(3))
        .unwrap_err();
    assert!(matches!(err, PoolError::DoesNotFit { .. }), "{err}");
    pool.create_disk("vm3", 128 * GIB, Allocation::Dynamic, uuid(3))
        .unwrap();
    assert_eq!(pool.overcommit_ratio(), 1.5);

    let p = plan(
        256 * GIB,
        &[
            (128 * GIB, Allocation::Dynamic),
            (128 * GIB, Allocation::Fixed),
        ],
    );
    assert!(p.fits_at_creation);
    assert!(
        !p.fits_when_full,
        "the header and block maps need a little more than 256 GiB"
    );
    let p = plan(
        256 * GIB,
        &[
            (128 * GIB, Allocation::Fixed),
            (128 * GIB, Allocation::Fixed),
        ],
    );
    assert!(!p.fits_at_creation);
}

#[test]
fn sizes_that_overflow_when_summed_never_fit() {
    let p = plan(1 << 40, &[(u64::MAX, Allocation::Fixed)]);
    assert!(!p.fits_at_creation && !p.fits_when_full, "{p:?}");
    assert_eq!(p.at_creation, u64::MAX);
    let half = (u64::MAX / 2) & !0xFFFFF;
    let p = plan(1 << 50, &[(half, Allocation::Dynamic); 3]);
    assert!(
        p.fits_at_creation,
        "dynamic disks take only their block maps"
    );
    assert!(
        !p.fits_when_full,
        "three halves of 2^64 do not wrap to a small total"
    );
    assert_eq!((p.provisioned, p.when_full), (u64::MAX, u64::MAX));
    assert!(
        (p.overcommit_ratio - 24576.0).abs() < 1.0,
        "1.5 × 2^64 / 2^50, not a wrapped total"
    );
    let err = try_plan(
        1 << 40,
        &[(GIB, Allocation::Fixed), (u64::MAX, Allocation::Fixed)],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "vm2: 18446744073709551615 bytes (16777216.0 TiB) is larger than a VDI image can be: at most 0x3FFFFFFF blocks of 1 MiB, just under 1024 TiB"
    );
    assert!(try_plan(1 << 40, &[(VDI_MAX_SIZE, Allocation::Dynamic)]).is_ok());
}

#[test]
fn a_full_host_pauses_the_vm_and_loses_nothing() {
    let mut pool = Pool::new("ssd", "host-a", 8 * MIB);
    pool.create_disk("vm1", 64 * MIB, Allocation::Dynamic, uuid(1))
        .unwrap();
    pool.create_disk("vm2", 64 * MIB, Allocation::Dynamic, uuid(2))
        .unwrap();
    let first = pattern(4 * MIB as usize, 1);
    assert!(matches!(
        pool.guest_write("vm1", 0, &first).unwrap(),
        GuestWrite::Done(_)
    ));
    assert!(matches!(
        pool.guest_write("vm2", 0, &pattern(3 * MIB as usize, 2))
            .unwrap(),
        GuestWrite::Done(_)
    ));
    // Under 1 MiB is left: the next new block does not fit.
    let outcome = pool.guest_write("vm1", 32 * MIB, &[9u8; 4096]).unwrap();
    assert!(matches!(outcome, GuestWrite::IoError { .. }));
    assert!(pool.is_paused("vm1"));
    assert!(
        matches!(pool.events().last(), Some(PoolEvent::GuestIoError { disk, .. }) if disk == "vm1")
    );
    assert_eq!(
        pool.guest_write("vm1", 0, b"x"),
        Err(PoolError::Paused("vm1".into()))
    );
    let mut back = vec![0u8; first.len()];
    pool.guest_read("vm1", 0, &mut back).unwrap();
    assert_eq!(back, first);
    let image = pool.disk("vm1").unwrap().newest();
    assert!(
        Image::open(image.storage().clone(), Format::Vdi).is_ok(),
        "the image is still valid"
    );
    // Free space and resume: the write now succeeds.
    pool.delete_disk("vm2").unwrap();
    pool.resume("vm1").unwrap();
    assert!(matches!(
        pool.guest_write("vm1", 32 * MIB, &[9u8; 4096]).unwrap(),
        GuestWrite::Done(_)
    ));
    // Rewrites of allocated blocks never need space.
    assert!(pool.used() <= pool.capacity());
}

#[test]
fn snapshot_is_not_backup_the_host_disk_dies() {
    let mut host_a = Pool::new("ssd", "host-a", 64 * MIB);
    let mut nas = Pool::new("nas", "office-nas", 64 * MIB);
    host_a
        .create_disk("vm", 16 * MIB, Allocation::Dynamic, uuid(1))
        .unwrap();
    host_a
        .guest_write("vm", 0, &pattern(2 * MIB as usize, 1))
        .unwrap();
    host_a
        .take_snapshot("vm", uuid(2), "before upgrade")
        .unwrap();
    host_a.guest_write("vm", MIB, &pattern(10, 2)).unwrap();
    let mut state = vec![0u8; 2 * MIB as usize];
    host_a.guest_read("vm", 0, &mut state).unwrap();

    // A "backup" on the same host is refused: it is in the same failure domain.
    let mut same = Pool::new("ssd2", "host-a", 64 * MIB);
    let err = backup(&host_a, "vm", &mut same).unwrap_err();
    assert!(
        matches!(err, BackupError::SameFailureDomain { .. }),
        "{err}"
    );

    let report = backup(&host_a, "vm", &mut nas).unwrap();
    assert_eq!(report.images, 2);

    host_a.fail();
    assert!(matches!(
        host_a.disk("vm"),
        Err(PoolError::HostDiskFailed(_))
    ));
    assert!(
        matches!(host_a.revert("vm"), Err(PoolError::HostDiskFailed(_))),
        "the snapshot died too"
    );
    assert!(matches!(
        host_a.events().last(),
        Some(PoolEvent::HostDiskDied { lost_images: 2, .. })
    ));

    host_a.replace_disk();
    restore(&nas, "vm", &mut host_a).unwrap();
    let mut back = vec![0u8; state.len()];
    host_a.guest_read("vm", 0, &mut back).unwrap();
    assert_eq!(back, state);
    // The snapshot came back with it: revert still works.
    host_a.revert("vm").unwrap();
    host_a.guest_read("vm", 0, &mut back).unwrap();
    assert_eq!(back, pattern(2 * MIB as usize, 1));
}

#[test]
fn state_round_trips_through_serde() {
    let mut pool = Pool::new("ssd", "host-a", 64 * MIB);
    pool.create_disk("vm", 4 * MIB, Allocation::Dynamic, uuid(1))
        .unwrap();
    pool.guest_write("vm", 0, b"persist me").unwrap();
    let json = serde_json::to_string(&pool).unwrap();
    let back: Pool = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pool);
}

#[test]
fn block_pictures_summarise_the_map() {
    use BlockState::*;
    let states = [Data, Data, Free, Free, Zero, Free, Data, Free];
    assert_eq!(block_picture(&states, 8), "##..z.#.");
    assert_eq!(block_picture(&states, 4), "#.z+");
    assert_eq!(block_picture(&states, 100), "##..z.#.");
    let _ = (vdi::BLOCK_SIZE, BLOCK_FREE);
}

/// A store that records where each write went.
#[derive(Clone, Debug, Default)]
struct Recording {
    inner: MemStorage,
    writes: Vec<(u64, usize)>,
}

impl Storage for Recording {
    fn len(&self) -> Result<u64, super::storage::StorageError> {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), super::storage::StorageError> {
        self.inner.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), super::storage::StorageError> {
        self.writes.push((offset, data.len()));
        self.inner.write_at(offset, data)
    }
    fn set_len(&mut self, len: u64) -> Result<(), super::storage::StorageError> {
        self.inner.set_len(len)
    }
    fn host_bytes(&self) -> Result<u64, super::storage::StorageError> {
        self.inner.host_bytes()
    }
}

#[test]
fn an_allocations_count_and_map_entry_go_out_in_one_write_where_they_share_a_page() {
    let spec = |virtual_size| CreateSpec {
        format: Format::Vdi,
        allocation: Allocation::Dynamic,
        virtual_size,
        uuid: uuid(1),
        modification_uuid: uuid(2),
    };
    let mut img = Image::create(Recording::default(), spec(64 * MIB), &mut |_, _| {}).unwrap();
    img.storage_mut().writes.clear();
    img.write(3 * MIB, &pattern(4096, 7)).unwrap();
    let writes = img.storage().writes.clone();
    assert_eq!(
        writes.len(),
        2,
        "the block's data, then count and entry together: {writes:?}"
    );
    assert_eq!(writes[0].1, MIB as usize);
    assert_eq!(
        writes[1],
        (
            vdi::BLOCKS_ALLOCATED_OFFSET,
            (0x200 + 3 * 4 + 4 - vdi::BLOCKS_ALLOCATED_OFFSET) as usize
        )
    );
    let reopened = Image::open(img.storage().inner.clone(), Format::Vdi).unwrap();
    let mut back = vec![0u8; 4096];
    reopened.read(3 * MIB, &mut back).unwrap();
    assert_eq!(back, pattern(4096, 7));
    assert_eq!(reopened.header().unwrap().blocks_allocated, 1);

    // Past the first page of the map the two go out one after the other.
    let mut big = Image::create(Recording::default(), spec(2 * GIB), &mut |_, _| {}).unwrap();
    big.storage_mut().writes.clear();
    big.write(1500 * MIB, &pattern(512, 3)).unwrap();
    let offsets: Vec<u64> = big.storage().writes.iter().skip(1).map(|w| w.0).collect();
    assert_eq!(
        offsets,
        vec![vdi::BLOCKS_ALLOCATED_OFFSET, 0x200 + 1500 * 4]
    );
}
