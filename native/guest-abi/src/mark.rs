//! Boot marks: numbers the guest writes to the control device's `MARK` register at each step
//! of its boot; the VMM timestamps them and reports them by name.

pub const KERNEL_ENTRY: u32 = 1;
pub const BANNER: u32 = 2;
pub const SHELL_READY: u32 = 3;
pub const WORKLOAD_DONE: u32 = 4;

/// The report's name of mark `id`, for the marks this interface defines.
pub const fn name(id: u32) -> Option<&'static str> {
    match id {
        KERNEL_ENTRY => Some("guest_kernel_entry"),
        BANNER => Some("guest_banner"),
        SHELL_READY => Some("guest_shell_ready"),
        WORKLOAD_DONE => Some("guest_workload_done"),
        _ => None,
    }
}
