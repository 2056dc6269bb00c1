//! # The network engine
//!
//! Labvisor's model of the networks a cloud engineer meets first: a home router doing NAT, a
//! VirtualBox VM behind NAT, a NAT Network, a host-only network, port forwarding. It is
//! **sans-IO and deterministic**: packets are values, time is an input ([`clock`]), and the
//! same topology with the same actions always gives the same trace.
//!
//! Reading top-down, as a packet sees it:
//!
//! - [`scenario`]: a lab in a TOML file (topology + actions), parsed from a `&str`, with
//!   `file:line:column` errors; the ready [`scenario::EXAMPLES`].
//! - [`reach`]: the reachability matrix, found by simulating a connection between every pair.
//! - [`sim`]: the engine. [`sim::Network`] takes [`sim::Action`]s (send, advance the clock,
//!   add/remove a forwarding rule, change a NIC's mode) and returns the [`trace`] of each.
//! - [`trace`]: what happened, step by step: every hop, routing decision, translation,
//!   conntrack change and drop with its reason. Readable text, stable, serde-serializable.
//! - [`topology`]: nodes, NICs, segments; the description and the wired [`topology::Fabric`].
//! - [`vbox`]: VirtualBox's attachment modes, their default addressing and DHCP, and the
//!   wiring that creates NAT engines, NAT Networks and host-only adapters.
//! - [`route`]: routing tables, longest-prefix match.
//! - [`nat`]: NAPT with RFC 4787 mapping and filtering behaviours, hairpinning, port pools.
//! - [`forward`]: port-forwarding rules in VirtualBox and QEMU syntax.
//! - [`conntrack`]: the connection-tracking table, Linux's TCP states and timeouts.
//! - [`wire`]: the same NAT table applied to real IPv4 packets in bytes, checksums fixed.
//! - [`gateway`]: a real VM's NAT link, sans-IO: Ethernet, ARP, DHCP, ping and the
//!   classification of guest frames into what the host's sockets must do, through the same
//!   table; pcap files.
//! - [`packet`]: IPv4 + TCP/UDP/ICMP as values, printed like tcpdump.
//! - [`clock`]: virtual time.
//!
//! Invariants: no function panics on any input; every state type is serde-serializable;
//! nothing reads a real clock, a file or a random source.

/// IPv4 networks with a prefix (`10.0.2.15/24`), as the engine's types hold them.
pub use ipnet::Ipv4Net;

pub mod clock;
pub mod conntrack;
mod flow;
mod flow_index;
pub mod forward;
pub mod gateway;
pub mod nat;
pub mod packet;
pub mod reach;
pub mod route;
pub mod scenario;
pub mod sim;
pub mod testbed;
pub mod topology;
pub mod trace;
pub mod vbox;
pub mod wire;
