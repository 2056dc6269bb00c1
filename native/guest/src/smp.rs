//! Per-CPU work. Every vCPU enters in long mode; CPUs other than 0 announce themselves and
//! then wait, idling through the control device, for a job from CPU 0. The job here counts
//! primes in a slice of a range, so `cpus` shows the work divided and each CPU's share.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::boot::MAX_CPUS;
use crate::hw::control;

struct Mailbox {
    online: AtomicU32,
    /// Job sequence number CPU 0 posted; the CPU runs it when it differs from `done`.
    posted: AtomicU32,
    done: AtomicU32,
    from: AtomicU64,
    to: AtomicU64,
    result: AtomicU64,
    nanos: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Mailbox = Mailbox {
    online: AtomicU32::new(0),
    posted: AtomicU32::new(0),
    done: AtomicU32::new(0),
    from: AtomicU64::new(0),
    to: AtomicU64::new(0),
    result: AtomicU64::new(0),
    nanos: AtomicU64::new(0),
};
static MAILBOXES: [Mailbox; MAX_CPUS] = [EMPTY; MAX_CPUS];
static CPUS: AtomicU32 = AtomicU32::new(1);

/// Called on CPU 0 with the CPU count from the boot information.
pub fn init(cpus: usize) {
    CPUS.store(cpus as u32, Ordering::Release);
    MAILBOXES[0].online.store(1, Ordering::Release);
}

/// The life of a CPU other than 0.
pub fn secondary_main(cpu: usize) -> ! {
    let mailbox = &MAILBOXES[cpu];
    mailbox.online.store(1, Ordering::Release);
    loop {
        let posted = mailbox.posted.load(Ordering::Acquire);
        if posted != mailbox.done.load(Ordering::Relaxed) {
            run_job(mailbox);
            mailbox.done.store(posted, Ordering::Release);
        } else {
            control::idle(200);
        }
    }
}

fn run_job(mailbox: &Mailbox) {
    let start = control::clock_ns();
    let count = count_primes(
        mailbox.from.load(Ordering::Relaxed),
        mailbox.to.load(Ordering::Relaxed),
    );
    mailbox.result.store(count, Ordering::Relaxed);
    mailbox
        .nanos
        .store(control::clock_ns().saturating_sub(start), Ordering::Relaxed);
}

/// Primes in `from..to`, by trial division (deliberately CPU-bound).
pub fn count_primes(from: u64, to: u64) -> u64 {
    let mut count = 0;
    let mut n = from.max(2);
    while n < to {
        let mut d = 2;
        let mut prime = true;
        while d * d <= n {
            if n.is_multiple_of(d) {
                prime = false;
                break;
            }
            d += 1;
        }
        count += u64::from(prime);
        n += 1;
    }
    count
}

/// CPUs that have announced themselves.
pub fn online() -> usize {
    let cpus = CPUS.load(Ordering::Acquire) as usize;
    MAILBOXES[..cpus]
        .iter()
        .filter(|m| m.online.load(Ordering::Acquire) != 0)
        .count()
}

/// One CPU's share of a job.
pub struct Share {
    pub cpu: usize,
    pub from: u64,
    pub to: u64,
    pub primes: u64,
    pub nanos: u64,
}

/// Counts primes below `limit`, split evenly over the online CPUs; CPU 0 takes its own share.
/// Calls `report` for each CPU's share as it finishes.
pub fn distribute(limit: u64, mut report: impl FnMut(Share)) {
    let cpus = CPUS.load(Ordering::Acquire) as usize;
    let workers: usize = MAILBOXES[..cpus]
        .iter()
        .filter(|m| m.online.load(Ordering::Acquire) != 0)
        .count()
        .max(1);
    let step = limit / workers as u64 + 1;
    let mut slot = 0u64;
    for (cpu, mailbox) in MAILBOXES[..cpus].iter().enumerate().skip(1) {
        if mailbox.online.load(Ordering::Acquire) == 0 {
            continue;
        }
        slot += 1;
        mailbox.from.store(slot * step, Ordering::Relaxed);
        mailbox
            .to
            .store(((slot + 1) * step).min(limit), Ordering::Relaxed);
        let next = mailbox.done.load(Ordering::Relaxed).wrapping_add(1);
        mailbox.posted.store(next, Ordering::Release);
        let _ = cpu;
    }
    let start = control::clock_ns();
    let mine = count_primes(0, step.min(limit));
    report(Share {
        cpu: 0,
        from: 0,
        to: step.min(limit),
        primes: mine,
        nanos: control::clock_ns().saturating_sub(start),
    });
    for (cpu, mailbox) in MAILBOXES[..cpus].iter().enumerate().skip(1) {
        if mailbox.online.load(Ordering::Acquire) == 0 {
            continue;
        }
        while mailbox.done.load(Ordering::Acquire) != mailbox.posted.load(Ordering::Relaxed) {
            control::idle(50);
        }
        report(Share {
            cpu,
            from: mailbox.from.load(Ordering::Relaxed),
            to: mailbox.to.load(Ordering::Relaxed),
            primes: mailbox.result.load(Ordering::Relaxed),
            nanos: mailbox.nanos.load(Ordering::Relaxed),
        });
    }
}
