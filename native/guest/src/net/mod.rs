//! The guest on the network: smoltcp over the virtio-net driver, configured by DHCP, with
//! the TCP shell on port 23, the SSH server on port 22 and the test services of `serve`.
//!
//! Everything is polled: [`Stack::poll`] moves frames between the card and smoltcp, follows
//! the DHCP client, and steps every session and service. The shell calls it while it waits
//! for console input, and every network command calls it while it waits for an answer, so
//! the network keeps moving whatever the console does. Commands typed into a TCP session are
//! queued by `poll` and run by the shell (one at a time, to completion), never inside `poll`.
//!
//! Seeds (TCP initial sequence numbers, ports, the DHCP transaction id) come from
//! [`control::random_u64`]; time from [`control::monotonic_ns`].

pub mod commands;
mod hostile;
mod service;
mod session;
pub mod ssh;
mod udp_echo;

use alloc::string::String;
use alloc::vec::Vec;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, dns};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv4Cidr};

use crate::boot::BootInfo;
use crate::hw::{self, control, virtio};
use service::Service;
use session::Session;
use ssh::{Credentials, SshSession};

/// The TCP shell's port (telnet's).
pub const SHELL_PORT: u16 = 23;
/// Sessions the TCP shell serves at once.
const SHELL_SESSIONS: usize = 2;
/// Sessions the SSH server serves at once: four, and room for connections still closing.
const SSH_SESSIONS: usize = 6;

/// Which remote session typed a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionId {
    Telnet(usize),
    Ssh(usize),
}

/// What DHCP gave the guest.
#[derive(Clone)]
pub struct Lease {
    pub address: Ipv4Cidr,
    pub gateway: Option<Ipv4Address>,
    pub dns: Vec<Ipv4Address>,
}

/// The network: the card, smoltcp's interface and sockets, and what runs on them.
pub struct Stack {
    pub slot: u32,
    device: hw::net::Net,
    iface: Interface,
    sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    dns: SocketHandle,
    lease: Option<Lease>,
    sessions: Vec<Session>,
    ssh: Vec<SshSession>,
    credentials: Credentials,
    services: Vec<Service>,
    udp_services: Vec<udp_echo::UdpEcho>,
}

/// The smoltcp clock.
pub fn now() -> Instant {
    Instant::from_micros((control::monotonic_ns() / 1000) as i64)
}

/// Brings up the first network card among the slots, starts DHCP, the TCP shell and the SSH
/// server (which logs users in with `credentials`).
pub fn find(boot: &BootInfo, credentials: Credentials) -> Option<Stack> {
    let (slot, mut device) = (0..boot.virtio_slots.min(32)).find_map(|slot| {
        let at = virtio::probe(boot.virtio_base, boot.virtio_stride, slot)?;
        (at.device_id == labvisor_guest_abi::virtio::net::DEVICE_ID)
            .then(|| hw::net::open(at.base, random_mac()))
            .flatten()
            .map(|device| (slot, device))
    })?;
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(device.mac())));
    config.random_seed = control::random_u64();
    let iface = Interface::new(config, &mut device, now());
    let mut sockets = SocketSet::new(Vec::new());
    let dhcp = sockets.add(dhcpv4::Socket::new());
    let dns = sockets.add(dns::Socket::new(&[], Vec::from([None])));
    let mut stack = Stack {
        slot,
        device,
        iface,
        sockets,
        dhcp,
        dns,
        lease: None,
        sessions: Vec::new(),
        ssh: Vec::new(),
        credentials,
        services: Vec::new(),
        udp_services: Vec::new(),
    };
    for _ in 0..SHELL_SESSIONS {
        let session = Session::new(&mut stack.sockets);
        stack.sessions.push(session);
    }
    for _ in 0..SSH_SESSIONS {
        let session = SshSession::new(&mut stack.sockets);
        stack.ssh.push(session);
    }
    stack.poll();
    Some(stack)
}

/// A locally administered unicast MAC for a card that offers none.
fn random_mac() -> [u8; 6] {
    let bits = control::random_u64().to_le_bytes();
    [0x02, bits[0], bits[1], bits[2], bits[3], bits[4]]
}

impl Stack {
    /// One round: frames in and out, DHCP, sessions, services. `true` when anything moved
    /// (the caller then polls again at once instead of idling).
    pub fn poll(&mut self) -> bool {
        let before = self.device.frames_moved();
        let timestamp = now();
        let changed = self
            .iface
            .poll(timestamp, &mut self.device, &mut self.sockets)
            != smoltcp::iface::PollResult::None;
        self.device.flush();
        self.follow_dhcp();
        let mut answered = false;
        for session in &mut self.sessions {
            answered |= session.step(&mut self.sockets);
        }
        for session in &mut self.ssh {
            answered |= session.step(&mut self.sockets, &self.credentials);
        }
        for service in &mut self.services {
            answered |= service.step(&mut self.sockets);
        }
        for service in &mut self.udp_services {
            answered |= service.step(&mut self.sockets);
        }
        if answered {
            // What the sessions and services just wrote leaves in this round rather than the
            // next: a round is milliseconds when the guest is emulated, and an echo or a
            // shell's reply would otherwise wait for one.
            self.iface
                .poll_egress(timestamp, &mut self.device, &mut self.sockets);
            self.device.flush();
        }
        changed || answered || self.device.frames_moved() != before
    }

    /// Polls until `done` says so or `timeout_ns` passes; gives the CPU back between idle
    /// rounds. Returns whether `done` said so.
    pub fn poll_until(
        &mut self,
        timeout_ns: u64,
        mut done: impl FnMut(&mut Stack) -> bool,
    ) -> bool {
        let deadline = control::monotonic_ns().saturating_add(timeout_ns);
        let mut backoff = control::Backoff::default();
        loop {
            let moved = self.poll();
            if done(self) {
                return true;
            }
            if control::monotonic_ns() >= deadline {
                return false;
            }
            backoff.after_round(moved, 100);
        }
    }

    fn follow_dhcp(&mut self) {
        let event = self.sockets.get_mut::<dhcpv4::Socket>(self.dhcp).poll();
        match event {
            None => {}
            Some(dhcpv4::Event::Configured(config)) => {
                let lease = Lease {
                    address: config.address,
                    gateway: config.router,
                    dns: config.dns_servers.iter().copied().collect(),
                };
                self.iface.update_ip_addrs(|addrs| {
                    addrs.clear();
                    let _ = addrs.push(IpCidr::Ipv4(lease.address));
                });
                match lease.gateway {
                    Some(router) => {
                        let _ = self.iface.routes_mut().add_default_ipv4_route(router);
                    }
                    None => {
                        self.iface.routes_mut().remove_default_ipv4_route();
                    }
                }
                let servers: Vec<IpAddress> =
                    lease.dns.iter().map(|&a| IpAddress::Ipv4(a)).collect();
                self.sockets
                    .get_mut::<dns::Socket>(self.dns)
                    .update_servers(&servers);
                self.lease = Some(lease);
            }
            Some(dhcpv4::Event::Deconfigured) => {
                self.iface.update_ip_addrs(|addrs| addrs.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
                self.lease = None;
            }
        }
    }

    /// The lease, waiting up to `timeout_ns` for one.
    pub fn wait_for_lease(&mut self, timeout_ns: u64) -> Option<&Lease> {
        self.poll_until(timeout_ns, |stack| stack.lease.is_some());
        self.lease.as_ref()
    }

    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    pub fn card(&self) -> hw::net::NetInfo {
        self.device.info()
    }

    /// A command typed into a remote session (TCP shell or SSH), with the session.
    pub fn next_command(&mut self) -> Option<(SessionId, String)> {
        let telnet = self.sessions.iter_mut().enumerate();
        let telnet = telnet.map(|(i, s)| (SessionId::Telnet(i), s.next_command()));
        let ssh = self.ssh.iter_mut().enumerate();
        let ssh = ssh.map(|(i, s)| (SessionId::Ssh(i), s.next_command()));
        telnet
            .chain(ssh)
            .find_map(|(id, command)| command.map(|c| (id, c)))
    }

    /// Hands a command's output and exit status to the session that typed it, followed by
    /// the prompt; `close` ends the session after it (the `exit` command). An SSH `exec`
    /// request ends with the status.
    pub fn answer(&mut self, id: SessionId, output: Vec<u8>, status: u8, close: bool) {
        match id {
            SessionId::Telnet(i) => {
                if let Some(session) = self.sessions.get_mut(i) {
                    session.answer(output, close);
                }
            }
            SessionId::Ssh(i) => {
                if let Some(session) = self.ssh.get_mut(i) {
                    session.answer(output, status, close);
                }
            }
        }
    }
}
