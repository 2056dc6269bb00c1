//! The kernel heap: the RAM between the end of the kernel image and the end of memory, under
//! a first-fit free-list allocator (`linked_list_allocator`) behind a spinlock.
//!
//! A real allocator rather than a bump pointer because the network stack and the TCP shell
//! allocate and free in no particular order for as long as the VM runs. The spinlock is a
//! locked compare-and-swap, which every CPU mode of this host executes.

use linked_list_allocator::LockedHeap;

use crate::boot::BootInfo;

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

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
    // SAFETY: [start, end) is RAM (the boot information says how much there is) that nothing
    // else uses: the kernel image ends at `start`, and the loaders put their blocks below it.
    // Called once, before anything allocates.
    unsafe { HEAP.lock().init(start as *mut u8, end - start) };
}

/// (used, total) heap bytes.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.lock();
    (heap.used(), heap.size())
}
