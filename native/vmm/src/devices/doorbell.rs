//! What an idle vCPU waits on. Labvisor's guests poll their queues (there are no interrupts
//! under PVM's emulated mode), and between empty polling rounds they give the host CPU back
//! through the control device's `IDLE_US`. Without a doorbell the vCPU thread would sleep
//! that whole time even when a frame or a key arrived at its start, and the guest would
//! answer it late by up to one idle; a backend that has just put work where the guest polls
//! rings the doorbell instead, and every idle vCPU returns at once.
//!
//! A ring is never lost: each vCPU remembers the last ring it saw, so a ring that came while
//! it was running (after the guest looked at its queues, before it asked to idle) ends its
//! next idle at once rather than being slept through. The cost is at most one extra polling
//! round after a ring the guest had already served.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Rung by the network backend and the console's input; waited on by idle vCPUs.
#[derive(Debug, Default)]
pub struct Doorbell {
    rings: Mutex<u64>,
    rung: Condvar,
}

/// What one vCPU has seen of a [`Doorbell`]: the count of rings at its last wake-up.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen(u64);

impl Doorbell {
    /// Says that the guest has new work where it polls; wakes every idle vCPU.
    pub fn ring(&self) {
        *self.rings.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.rung.notify_all();
    }

    /// Waits up to `timeout`, or not at all if the doorbell rang since `seen`; then records
    /// the rings seen.
    pub fn wait(&self, seen: &mut Seen, timeout: Duration) {
        let rings = self.rings.lock().unwrap_or_else(PoisonError::into_inner);
        let (rings, _) = self
            .rung
            .wait_timeout_while(rings, timeout, |rings| *rings == seen.0)
            .unwrap_or_else(PoisonError::into_inner);
        seen.0 = *rings;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn an_idle_vcpu_wakes_when_the_doorbell_rings() {
        let bell = Arc::new(Doorbell::default());
        let ringer = bell.clone();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            ringer.ring();
        });
        let mut seen = Seen::default();
        bell.wait(&mut seen, Duration::from_secs(30));
        thread.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the wait ended with its timeout, not the ring"
        );
    }

    #[test]
    fn a_ring_while_the_vcpu_ran_ends_its_next_idle_at_once_and_only_that_one() {
        let bell = Doorbell::default();
        let mut seen = Seen::default();
        bell.ring();
        let started = Instant::now();
        bell.wait(&mut seen, Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(20));
        // The ring is now seen: the next idle lasts its whole time.
        let started = Instant::now();
        bell.wait(&mut seen, Duration::from_millis(30));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn every_vcpu_sees_a_ring_on_its_own() {
        let bell = Doorbell::default();
        let (mut first, mut second) = (Seen::default(), Seen::default());
        bell.ring();
        let started = Instant::now();
        bell.wait(&mut first, Duration::from_secs(30));
        bell.wait(&mut second, Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
