//! Guest RAM: one anonymous mapping from guest-physical 0, and how much of it is resident.

use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use super::{layout, VmmError};

/// Maps `bytes` of guest RAM at guest-physical 0 (pages are touched lazily).
pub fn create(bytes: u64) -> Result<GuestMemoryMmap, VmmError> {
    if !(layout::MIN_MEM..=layout::MAX_MEM).contains(&bytes) {
        return Err(VmmError::Config(format!(
            "guest memory must be between {} MiB and {} MiB, not {} MiB",
            layout::MIN_MEM >> 20,
            layout::MAX_MEM >> 20,
            bytes >> 20
        )));
    }
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), bytes as usize)]).map_err(|e| {
        VmmError::Host(format!(
            "cannot map {} MiB of guest memory: {e}",
            bytes >> 20
        ))
    })
}

/// (host address, length) of each region, for KVM's memory slots and residency checks.
pub fn host_regions(mem: &GuestMemoryMmap) -> Vec<(u64, *mut u8, usize)> {
    mem.iter()
        .filter_map(|r| {
            let host = mem.get_host_address(r.start_addr()).ok()?;
            Some((r.start_addr().0, host, r.len() as usize))
        })
        .collect()
}

/// Bytes of guest RAM backed by host pages right now (the pages the guest has touched).
pub fn resident_bytes(mem: &GuestMemoryMmap) -> u64 {
    let page = page_size();
    let mut total = 0u64;
    for (_, host, len) in host_regions(mem) {
        let pages = len.div_ceil(page);
        let mut vec = vec![0u8; pages];
        // SAFETY: `host..host+len` is a live mapping owned by `mem`; `vec` has one byte per page
        // as mincore(2) requires.
        let rc = unsafe { libc::mincore(host.cast(), len, vec.as_mut_ptr()) };
        if rc == 0 {
            total += vec.iter().filter(|&&b| b & 1 != 0).count() as u64 * page as u64;
        }
    }
    total
}

/// The VMM process's resident set size in bytes (from /proc/self/status).
pub fn process_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(1)
}
