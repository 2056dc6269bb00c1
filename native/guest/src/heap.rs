//! A bump allocator over the RAM between the end of the kernel image and the end of memory.
//!
//! Allocation moves a pointer forward; freeing gives memory back only when it is the most
//! recent allocation. The shell's short-lived strings are freed in that order, so a long
//! session does not creep. Lock-free, so any CPU may allocate.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::boot::BootInfo;

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

pub struct Bump {
    start: AtomicUsize,
    next: AtomicUsize,
    end: AtomicUsize,
}

#[global_allocator]
static HEAP: Bump = Bump {
    start: AtomicUsize::new(0),
    next: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
};

/// Bytes the kernel image occupies (code, data, bss, stacks).
pub fn kernel_bytes() -> usize {
    kernel_end() - core::ptr::addr_of!(__kernel_start) as usize
}

fn kernel_end() -> usize {
    core::ptr::addr_of!(__kernel_end) as usize
}

/// Hands the allocator the RAM above the kernel.
pub fn init(boot: &BootInfo) {
    let start = kernel_end();
    let end = (boot.mem_bytes as usize).max(start);
    HEAP.start.store(start, Ordering::Relaxed);
    HEAP.next.store(start, Ordering::Relaxed);
    HEAP.end.store(end, Ordering::Release);
}

/// (used, total) heap bytes.
pub fn usage() -> (usize, usize) {
    let start = HEAP.start.load(Ordering::Relaxed);
    (
        HEAP.next.load(Ordering::Relaxed) - start,
        HEAP.end.load(Ordering::Relaxed) - start,
    )
}

// SAFETY: `alloc` hands out disjoint ranges (compare-and-swap on `next`), each inside the
// heap and aligned as asked; `dealloc` only rewinds when the block is the last one handed out.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let end = self.end.load(Ordering::Acquire);
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let Some(start) = next
                .checked_add(layout.align() - 1)
                .map(|n| n & !(layout.align() - 1))
            else {
                return core::ptr::null_mut();
            };
            let Some(stop) = start.checked_add(layout.size()) else {
                return core::ptr::null_mut();
            };
            if stop > end {
                return core::ptr::null_mut();
            }
            match self
                .next
                .compare_exchange_weak(next, stop, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return start as *mut u8,
                Err(seen) => next = seen,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let stop = ptr as usize + layout.size();
        let _ = self
            .next
            .compare_exchange(stop, ptr as usize, Ordering::AcqRel, Ordering::Relaxed);
    }
}
