//! `--pcap FILE`: every frame on the guest's link, both ways, in the classic libpcap format
//! that `tcpdump -r` and Wireshark open. The core encodes the headers; this only writes them,
//! buffered, with the wall-clock time each frame passed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use labvisor_core::net::gateway::pcap;

/// The most bytes kept of one frame: every frame the device carries, whole.
const SNAPLEN: u32 = crate::devices::net::MAX_FRAME_LEN as u32;

pub(super) struct Capture {
    out: BufWriter<File>,
    frames: u64,
    /// A write failed (a full disk): later frames are not written, the VM runs on.
    failed: bool,
}

impl Capture {
    pub(super) fn create(path: &Path) -> std::io::Result<Capture> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(&pcap::file_header(SNAPLEN))?;
        Ok(Capture {
            out,
            frames: 0,
            failed: false,
        })
    }

    pub(super) fn frame(&mut self, frame: &[u8]) {
        if self.failed {
            return;
        }
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let (header, captured) = pcap::record_header(micros, frame.len(), SNAPLEN);
        let written = self
            .out
            .write_all(&header)
            .and_then(|()| self.out.write_all(&frame[..captured.min(frame.len())]));
        match written {
            Ok(()) => self.frames += 1,
            Err(_) => self.failed = true,
        }
    }

    /// Flushes the file; returns how many frames it holds.
    pub(super) fn finish(mut self) -> u64 {
        let _ = self.out.flush();
        self.frames
    }
}
