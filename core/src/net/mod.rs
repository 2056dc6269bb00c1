//! The network engine (placeholder doc, replaced below).
pub mod clock;
pub mod conntrack;
pub mod forward;
pub mod nat;
pub mod packet;
pub mod route;
