//! A guest stand-in for tests and benchmarks: smoltcp's interface over a [`HostDriver`], so
//! a TCP/IP stack drives the real device's queues from the host, with no VM. It answers as
//! `ip`/24 behind `gateway`, with frames of at most `mtu` bytes of IP.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Instant;

use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::wire::{EthernetAddress, IpCidr};

use super::driver::HostDriver;

/// The driver as smoltcp's `phy::Device`.
pub struct StandInNic {
    pub driver: HostDriver,
    pending: VecDeque<Vec<u8>>,
    mtu: usize,
    /// Every frame received, in order, while `Some` (tests that count frames turn it on).
    pub received: Option<Vec<Vec<u8>>>,
}

impl phy::Device for StandInNic {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(RxToken, TxToken<'_>)> {
        if self.pending.is_empty() {
            let pending = &mut self.pending;
            self.driver.receive_with(|f| pending.push_back(f.to_vec()));
        }
        let frame = self.pending.pop_front()?;
        if let Some(received) = &mut self.received {
            received.push(frame.clone());
        }
        Some((RxToken(frame), TxToken(&mut self.driver)))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.driver))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + 14;
        caps
    }
}

pub struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub struct TxToken<'a>(&'a mut HostDriver);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let r = f(&mut frame);
        self.0.send(&frame);
        r
    }
}

/// The stand-in guest: interface, sockets and NIC.
pub struct StandIn {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub nic: StandInNic,
    epoch: Instant,
}

impl StandIn {
    pub fn new(driver: HostDriver, ip: Ipv4Addr, gateway: Ipv4Addr, mtu: usize) -> StandIn {
        let mac = driver.mac;
        let mut nic = StandInNic {
            driver,
            pending: VecDeque::new(),
            mtu,
            received: None,
        };
        let mut iface = Interface::new(
            Config::new(EthernetAddress(mac).into()),
            &mut nic,
            smoltcp::time::Instant::ZERO,
        );
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(ip.into(), 24));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(gateway);
        StandIn {
            iface,
            sockets: SocketSet::new(Vec::new()),
            nic,
            epoch: Instant::now(),
        }
    }

    /// smoltcp's clock: time since the stand-in started.
    pub fn now(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros(self.epoch.elapsed().as_micros() as i64)
    }

    /// Moves frames both ways and runs smoltcp's timers once.
    pub fn poll(&mut self) {
        let now = self.now();
        self.iface.poll(now, &mut self.nic, &mut self.sockets);
    }
}
