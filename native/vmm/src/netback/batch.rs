//! Sending a flow's datagrams in one system call (`sendmmsg(2)`): on loopback the kernel's
//! per-call cost is most of a small datagram's, and a guest sends its datagrams in bursts
//! (one wake-up of the backend takes every frame the device queued), so each burst for a
//! flow goes in one call instead of one call per datagram. Neither `std` nor `mio` nor
//! `socket2` offers `sendmmsg`; this is the only `unsafe` of the backend.
//!
//! A run of datagrams of one size (a bulk sender's) goes further: one `sendmsg` with Linux's
//! UDP segmentation offload (`UDP_SEGMENT`, Linux 4.18), so the whole run crosses the
//! kernel's IP output and the loopback device as one packet and is cut into the guest's
//! datagrams only where it is received. Each datagram keeps its boundaries and bytes; a
//! kernel that refuses it makes every later run go by `sendmmsg`.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Datagrams handed to one `sendmmsg` call (the kernel's own limit is `UIO_MAXIOV`, 1024).
pub(super) const BATCH: usize = 64;

/// Sends `payloads` in order on the connected socket `socket`, [`BATCH`] per call, and
/// returns how many the kernel took. A full socket buffer ends the burst; an error the socket
/// reports once (an ICMP error from an earlier datagram: port unreachable, no route) costs one
/// datagram, as it did when each went by its own `send`. UDP may lose datagrams.
pub(super) fn send_all(socket: &(impl AsRawFd + AsFd), payloads: &[&[u8]]) -> usize {
    let (mut at, mut sent) = (0, 0);
    while at < payloads.len() {
        let run = same_size_run(&payloads[at..]);
        if run >= 2 && SEGMENTING.load(Ordering::Relaxed) {
            match send_segmented(socket, &payloads[at..at + run]) {
                Ok(()) => {
                    at += run;
                    sent += run;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // Not this kernel's, or not this route's (no checksum offload, a segment
                // past the route's MTU): datagram by datagram from now on.
                Err(e) if refuses_segmenting(&e) => SEGMENTING.store(false, Ordering::Relaxed),
                Err(_) => {
                    at += 1;
                    continue;
                }
            }
        }
        let chunk = &payloads[at..payloads.len().min(at + BATCH)];
        match send_many(socket, chunk) {
            Ok(0) => break,
            Ok(n) => {
                at += n;
                sent += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => at += 1,
        }
    }
    sent
}

/// Whether `error` says the kernel or the route cannot segment, rather than reporting an
/// error of the socket's.
fn refuses_segmenting(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EINVAL | libc::EIO | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
    ) || error.raw_os_error().is_none()
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

/// Whether `UDP_SEGMENT` sends are still tried (a kernel that refused one says no).
static SEGMENTING: AtomicBool = AtomicBool::new(true);
/// `UDP_SEGMENT` (linux/udp.h), which the `libc` crate does not name.
const UDP_SEGMENT: libc::c_int = 103;
/// The most segments one send may carry (the kernel's `UDP_MAX_SEGMENTS`).
const MAX_SEGMENTS: usize = 64;
/// The most payload bytes one send may carry: what fits in one IPv4 packet.
const MAX_PAYLOAD: usize = 65_507;

/// How many datagrams from the start of `payloads` have the first one's (non-zero) size and
/// fit, together, in one segmented send.
fn same_size_run(payloads: &[&[u8]]) -> usize {
    let Some(size) = payloads.first().map(|p| p.len()).filter(|&n| n > 0) else {
        return 0;
    };
    let most = MAX_SEGMENTS.min(MAX_PAYLOAD / size);
    payloads
        .iter()
        .take(most)
        .take_while(|p| p.len() == size)
        .count()
}

/// One `sendmsg` of `payloads`, all of one size, with that size as `UDP_SEGMENT`: the kernel
/// sends them as that many datagrams.
fn send_segmented(socket: &impl AsFd, payloads: &[&[u8]]) -> io::Result<()> {
    let size = payloads[0].len() as u16;
    let control = segment_control(size);
    let buffers: Vec<IoSlice<'_>> = payloads.iter().map(|p| IoSlice::new(p)).collect();
    let message = socket2::MsgHdr::new()
        .with_buffers(&buffers)
        .with_control(&control);
    let sent = socket2::SockRef::from(socket).sendmsg(&message, libc::MSG_DONTWAIT)?;
    let total: usize = payloads.iter().map(|p| p.len()).sum();
    if sent == total {
        Ok(())
    } else {
        Err(io::Error::other("a segmented send was cut short"))
    }
}

/// The control message `{SOL_UDP, UDP_SEGMENT, size}`: a `cmsghdr` followed by the `u16`,
/// padded to `CMSG_SPACE(2)`.
fn segment_control(size: u16) -> Vec<u8> {
    let header = std::mem::size_of::<libc::cmsghdr>();
    let align = std::mem::size_of::<usize>();
    let space = header + 2_usize.div_ceil(align) * align;
    let mut control = Vec::with_capacity(space);
    // cmsg_len is CMSG_LEN(2): the header and the data, without the padding.
    control.extend_from_slice(&((header + 2) as libc::size_t).to_ne_bytes());
    control.extend_from_slice(&libc::SOL_UDP.to_ne_bytes());
    control.extend_from_slice(&UDP_SEGMENT.to_ne_bytes());
    control.extend_from_slice(&size.to_ne_bytes());
    control.resize(space, 0);
    control
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    /// Datagram `i` of `size` bytes, each byte telling it apart from its neighbours.
    fn datagram(i: usize, size: usize) -> Vec<u8> {
        (0..size).map(|at| (i * 31 + at) as u8).collect()
    }

    #[test]
    fn a_run_is_the_leading_datagrams_of_one_size_that_fit_one_packet() {
        let (a, b) = (vec![0u8; 1000], vec![0u8; 999]);
        assert_eq!(same_size_run(&[&a, &a, &b, &a]), 2);
        assert_eq!(same_size_run(&[&b]), 1);
        assert_eq!(same_size_run(&[]), 0);
        assert_eq!(
            same_size_run(&[&[], &[]]),
            0,
            "empty datagrams are not segmented"
        );
        let many: Vec<&[u8]> = vec![&a; 100];
        assert_eq!(same_size_run(&many), 64, "the kernel's segment limit");
        let big = vec![0u8; 40_000];
        assert_eq!(
            same_size_run(&[&big, &big]),
            1,
            "two would not fit one packet"
        );
    }

    #[test]
    fn the_control_message_is_a_cmsghdr_and_the_segment_size() {
        let control = segment_control(1472);
        let header = std::mem::size_of::<libc::cmsghdr>();
        assert_eq!(control.len() % std::mem::size_of::<usize>(), 0);
        assert_eq!(control[..8], ((header + 2) as u64).to_ne_bytes());
        assert_eq!(control[header..header + 2], 1472u16.to_ne_bytes());
    }

    /// A datagram to a closed loopback port brings back an ICMP port unreachable, which the
    /// socket reports on the next send: that costs one datagram, and segmenting stays on.
    #[test]
    fn an_icmp_error_costs_one_datagram_and_keeps_segmenting() {
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = closed.local_addr().unwrap();
        drop(closed);
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(target).unwrap();
        let one = datagram(0, 100);
        assert_eq!(send_all(&sender, &[&one]), 1);
        std::thread::sleep(Duration::from_millis(50));
        let payloads: Vec<&[u8]> = vec![&one; 10];
        assert_eq!(
            send_all(&sender, &payloads),
            9,
            "the reported error costs one"
        );
        assert!(SEGMENTING.load(Ordering::Relaxed));
    }

    /// Runs of one size, sizes mixed, an empty datagram and a maximal one: the receiver gets
    /// every datagram whole, with its own boundaries, in order.
    #[test]
    fn every_datagram_arrives_whole_and_in_order() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let _ = socket2::SockRef::from(&receiver).set_recv_buffer_size(4 << 20);
        receiver
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(receiver.local_addr().unwrap()).unwrap();
        let mut sizes = vec![1472; 70];
        sizes.extend([1, 0, 500, 500, 1472, 65_507, 9000, 9000, 9000]);
        sizes.extend([100; 5]);
        let datagrams: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| datagram(i, n))
            .collect();
        let payloads: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
        assert_eq!(send_all(&sender, &payloads), payloads.len());
        let mut buf = vec![0u8; 65_536];
        for (i, expected) in datagrams.iter().enumerate() {
            let n = receiver.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], expected.as_slice(), "datagram {i}");
        }
    }
}
