//! The classic libpcap file format (what `tcpdump -w` writes and Wireshark opens): a 24-byte
//! file header, then per frame a 16-byte record header and the captured bytes. Little-endian
//! with magic `0xa1b2c3d4` (microsecond timestamps), link type 1 (`LINKTYPE_ETHERNET`).
//! Source: <https://www.tcpdump.org/manpages/pcap-savefile.5.html> and
//! <https://www.tcpdump.org/linktypes.html>. The bytes are built here; the caller only writes
//! them, and gives the timestamps.

/// `LINKTYPE_ETHERNET`: frames start with an Ethernet II header.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The magic number of microsecond-resolution files.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// The length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// The file header for frames of at most `snaplen` captured bytes (version 2.4, GMT offset
/// and accuracy zero, as every current writer leaves them).
pub fn file_header(snaplen: u32) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0; FILE_HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// The record header for a frame of `len` bytes seen `micros` microseconds after the Unix
/// epoch, of which the first `snaplen` are kept. Returns the header and how many bytes of the
/// frame follow it.
pub fn record_header(micros: u64, len: usize, snaplen: u32) -> ([u8; RECORD_HEADER_LEN], usize) {
    let orig = u32::try_from(len).unwrap_or(u32::MAX);
    let captured = orig.min(snaplen);
    // Seconds in 32 bits run out in 2106; the format has no more room.
    let secs = u32::try_from(micros / 1_000_000).unwrap_or(u32::MAX);
    let frac = (micros % 1_000_000) as u32;
    let mut h = [0; RECORD_HEADER_LEN];
    h[0..4].copy_from_slice(&secs.to_le_bytes());
    h[4..8].copy_from_slice(&frac.to_le_bytes());
    h[8..12].copy_from_slice(&captured.to_le_bytes());
    h[12..16].copy_from_slice(&orig.to_le_bytes());
    (h, captured as usize)
}

/// One whole record: the header and the first `snaplen` bytes of `frame`.
pub fn record(micros: u64, frame: &[u8], snaplen: u32) -> Vec<u8> {
    let (h, captured) = record_header(micros, frame.len(), snaplen);
    let mut r = Vec::with_capacity(RECORD_HEADER_LEN + captured);
    r.extend_from_slice(&h);
    r.extend_from_slice(&frame[..captured.min(frame.len())]);
    r
}

#[cfg(test)]
mod tests {
    use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};

    use super::*;

    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// A record read back: seconds, microseconds, original length, captured bytes.
    type Record = (u32, u32, u32, Vec<u8>);

    /// Reads a classic pcap file back independently: its link type and its records.
    fn read_back(file: &[u8]) -> (u32, Vec<Record>) {
        assert_eq!(le32(file, 0), 0xa1b2_c3d4, "magic");
        assert_eq!(&file[4..8], &[2, 0, 4, 0], "version 2.4");
        let mut records = Vec::new();
        let mut at = FILE_HEADER_LEN;
        while at < file.len() {
            let captured = le32(file, at + 8) as usize;
            let body = file[at + 16..at + 16 + captured].to_vec();
            records.push((
                le32(file, at),
                le32(file, at + 4),
                le32(file, at + 12),
                body,
            ));
            at += RECORD_HEADER_LEN + captured;
        }
        (le32(file, 20), records)
    }

    #[test]
    fn a_written_capture_reads_back_and_etherparse_parses_its_frames() {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 2, 15], [10, 0, 2, 2], 64)
            .udp(5000, 7)
            .write(&mut frame, b"captured")
            .unwrap();
        let mut file = file_header(65_535).to_vec();
        file.extend(record(1_700_000_000_123_456, &frame, 65_535));
        file.extend(record(1_700_000_001_000_000, &frame, 65_535));
        let (linktype, records) = read_back(&file);
        assert_eq!(linktype, LINKTYPE_ETHERNET);
        assert_eq!(le32(&file, 16), 65_535, "snaplen");
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].0, records[0].1), (1_700_000_000, 123_456));
        assert_eq!((records[1].0, records[1].1), (1_700_000_001, 0));
        for (_, _, orig, bytes) in &records {
            assert_eq!(*orig as usize, frame.len());
            let p = SlicedPacket::from_ethernet(bytes).expect("etherparse parses the record");
            let Some(TransportSlice::Udp(udp)) = p.transport else {
                panic!("not UDP")
            };
            assert_eq!(udp.payload(), b"captured");
        }
    }

    #[test]
    fn a_frame_longer_than_the_snaplen_is_cut_and_keeps_its_length() {
        let frame = vec![0xab; 100];
        let (_, records) = read_back(&[file_header(64).to_vec(), record(5, &frame, 64)].concat());
        assert_eq!(records[0].2, 100, "original length");
        assert_eq!(records[0].3, vec![0xab; 64], "captured bytes");
        assert_eq!((records[0].0, records[0].1), (0, 5));
    }
}
