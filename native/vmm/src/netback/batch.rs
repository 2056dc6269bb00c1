//! Sending a flow's datagrams in one system call (`sendmmsg(2)`): on loopback the kernel's
//! per-call cost is most of a small datagram's, and a guest sends its datagrams in bursts
//! (one wake-up of the backend takes every frame the device queued), so each burst for a
//! flow goes in one call instead of one call per datagram. Neither `std` nor `mio` nor
//! `socket2` offers `sendmmsg`; this is the only `unsafe` of the backend.

use std::io;
use std::os::fd::AsRawFd;

/// Datagrams handed to one `sendmmsg` call (the kernel's own limit is `UIO_MAXIOV`, 1024).
pub(super) const BATCH: usize = 64;

/// Sends `payloads` in order on the connected socket `socket`, [`BATCH`] per call. Returns
/// how many the kernel took: the first that it refused (a full socket buffer, an ICMP error
/// pending from an earlier datagram) ends the batch, as UDP may lose datagrams.
pub(super) fn send_all(socket: &impl AsRawFd, payloads: &[&[u8]]) -> usize {
    let mut sent = 0;
    while sent < payloads.len() {
        let chunk = &payloads[sent..payloads.len().min(sent + BATCH)];
        match send_many(socket, chunk) {
            Ok(0) => break,
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    sent
}

/// One `sendmmsg` call for up to [`BATCH`] datagrams; the count the kernel took.
fn send_many(socket: &impl AsRawFd, payloads: &[&[u8]]) -> io::Result<usize> {
    let mut iovecs: Vec<libc::iovec> = payloads
        .iter()
        .map(|p| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .map(|iov| {
            // SAFETY: `mmsghdr` is a plain C struct of integers and pointers, for which all
            // zero bytes is a valid value (no name, no control data, no flags).
            let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
            header.msg_hdr.msg_iov = iov;
            header.msg_hdr.msg_iovlen = 1;
            header
        })
        .collect();
    // SAFETY: `headers` holds `headers.len()` initialised entries, each pointing at one iovec
    // in `iovecs`, which describes a live `&[u8]` of `payloads`; all three outlive the call,
    // and the kernel only reads the payloads (and writes each header's `msg_len`). The
    // descriptor is the socket's, open for as long as `socket` is borrowed.
    let n = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            headers.len() as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}
