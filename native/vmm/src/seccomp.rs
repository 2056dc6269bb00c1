//! The VMM's sandbox: each thread may make only the system calls its job needs.
//!
//! A guest is untrusted, and everything it can reach on the host goes through the VMM's
//! threads: the vCPUs run the device code (a bug there is the guest's way out), the network
//! thread turns the guest's packets into sockets. So each thread, once set up and before the
//! guest runs, confines itself with a seccomp-BPF filter ([`confine`]) built from its
//! [`Role`]'s allowlist, as Firecracker's threads do (with `seccompiler`, the rust-vmm crate
//! Firecracker uses). What each role may do is in [`allowed`], and docs/security.md says why.
//!
//! **A call outside the list** does not kill the process silently (`SECCOMP_RET_KILL`): it
//! traps (`SIGSYS`), and the handler records the call and the thread, then parks that thread for
//! good. The thread running the VM sees the record ([`violation`]) and ends the VM with an error
//! naming the call, so `vm run` reports and exits non-zero instead of hanging. The one
//! exception is the thread running the VM itself: nobody is left to report for it, so its
//! handler writes the message and exits the process at once.
//!
//! **Files a library opens on its own** (glibc's allocator reads
//! `/proc/sys/vm/overcommit_memory` in a new thread, a panic's backtrace reads the binary) are
//! not violations: a second filter answers `openat` and `readlink` with `EACCES` in every
//! thread but the one running the VM, and both libraries go on without the file. The kernel applies the stricter
//! of two filters' answers, so `EACCES` wins over the allowlist's "allow".
//!
//! Files and sockets the guest's devices need are opened before the filters (images, the
//! forwarding listeners); the network thread's own sockets are the exception by nature (a flow
//! needs a socket when the guest starts it), and it may create only IPv4 ones.
//!
//! The filters are per thread and process-wide state is needed for the signal handler, so this
//! module keeps statics: one VM runs per process ([`crate::run`] says so).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::sync::Mutex;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// What a VMM thread does, which decides the system calls it may make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The thread that called [`crate::run`]: it waits for the end, answers `Ctrl-A` requests
    /// (live snapshots create files), builds the report and returns to the command line.
    Vmm,
    /// A vCPU: `KVM_RUN`, and the devices' work on the image files it was given.
    Vcpu,
    /// The network backend: epoll and IPv4 sockets.
    Net,
    /// Reads the terminal for the guest.
    Stdin,
    /// Writes the guest's console to the terminal.
    ConsoleOut,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Vmm => "vmm",
            Role::Vcpu => "vcpu",
            Role::Net => "net",
            Role::Stdin => "stdin",
            Role::ConsoleOut => "console-out",
        }
    }
}

/// Why a thread could not be confined.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("cannot build the {role} thread's seccomp filter: {source}")]
    Build {
        role: &'static str,
        source: seccompiler::BackendError,
    },
    #[error("the kernel refused the {role} thread's seccomp filter ({source}); --no-seccomp runs without it")]
    Install {
        role: &'static str,
        source: seccompiler::Error,
    },
    #[error("cannot install the SIGSYS handler that reports seccomp violations: {0}")]
    Handler(std::io::Error),
}

/// A system call a confined thread made outside its allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The thread's name (`vcpu0`, `net`…).
    pub thread: String,
    /// The call's name (`socket`), or its number where the name is unknown.
    pub syscall: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the VMM's {} thread made the system call `{}`, which its seccomp filter does not allow (a bug in the VMM, or a guest that took it over); the VM was stopped. --no-seccomp runs without the filter, for debugging",
            self.thread, self.syscall
        )
    }
}

/// Whether [`confine`] installs filters; set once per process by [`enable`].
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The first violation: the call's number (-1: none yet) and the thread's id.
static VIOLATION_SYSCALL: AtomicI64 = AtomicI64::new(-1);
static VIOLATION_TID: AtomicI32 = AtomicI32::new(0);
/// The word a trapped thread waits on forever.
static PARKED: AtomicU32 = AtomicU32::new(0);
/// Thread ids and names of the confined threads, to name the one that broke its filter.
static THREADS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());
/// A thread that could not confine itself.
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Turns confinement on for this process: checks that every role's filter compiles and
/// installs the `SIGSYS` handler. Call once, before any VMM thread starts.
pub fn enable() -> Result<(), SeccompError> {
    for role in [
        Role::Vmm,
        Role::Vcpu,
        Role::Net,
        Role::Stdin,
        Role::ConsoleOut,
    ] {
        filters(role)?;
    }
    install_sigsys_handler().map_err(SeccompError::Handler)?;
    ENABLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// Whether confinement is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::SeqCst)
}

/// Confines the calling thread to `role`'s system calls, if confinement is on. Threads it
/// starts afterwards inherit the filter.
pub fn confine(role: Role) -> Result<(), SeccompError> {
    if !enabled() {
        return Ok(());
    }
    let name = std::thread::current()
        .name()
        .unwrap_or(role.name())
        .to_string();
    THREADS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((gettid(), name));
    for program in filters(role)? {
        seccompiler::apply_filter(&program).map_err(|source| SeccompError::Install {
            role: role.name(),
            source,
        })?;
    }
    Ok(())
}

/// Confines a thread that has nobody to return an error to (the network, console and stdin
/// threads): a failure is kept for [`stopped_because`] to report.
pub fn confine_thread(role: Role) {
    if let Err(e) = confine(role) {
        *FAILURE.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }
}

/// Why the VM must stop for its sandbox: a thread broke its filter, or could not install it.
pub fn stopped_because() -> Option<String> {
    violation()
        .map(|v| v.to_string())
        .or_else(|| FAILURE.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

/// The first system call a confined thread made outside its filter, if any.
pub fn violation() -> Option<Violation> {
    let number = VIOLATION_SYSCALL.load(Ordering::SeqCst);
    if number < 0 {
        return None;
    }
    let tid = VIOLATION_TID.load(Ordering::SeqCst);
    let thread = THREADS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(t, _)| *t == tid)
        .map_or_else(|| format!("thread {tid}"), |(_, name)| name.clone());
    Some(Violation {
        thread,
        syscall: syscall_name(number),
    })
}

fn syscall_name(number: i64) -> String {
    usize::try_from(number)
        .ok()
        .and_then(syscalls::Sysno::new)
        .map_or_else(|| format!("#{number}"), |s| s.name().to_string())
}

/// The calling thread's id.
fn gettid() -> i32 {
    // SAFETY: gettid(2) takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// The filters of `role`: its allowlist (anything else traps), and for every thread but the
/// VMM's, the calls that name a file ([`NAMED_FILES`]) answered with `EACCES`.
fn filters(role: Role) -> Result<Vec<BpfProgram>, SeccompError> {
    let build = |source| SeccompError::Build {
        role: role.name(),
        source,
    };
    let allowlist = SeccompFilter::new(
        allowed(role).map_err(build)?,
        SeccompAction::Trap,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(build)?;
    // The allowlist goes last: installing a filter is itself a system call (seccomp), which
    // the allowlist does not allow.
    let mut programs = Vec::new();
    if role != Role::Vmm {
        let no_files = SeccompFilter::new(
            NAMED_FILES.iter().map(|&nr| (nr, vec![])).collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EACCES as u32),
            TargetArch::x86_64,
        )
        .map_err(build)?;
        programs.push(BpfProgram::try_from(no_files).map_err(build)?);
    }
    programs.push(BpfProgram::try_from(allowlist).map_err(build)?);
    Ok(programs)
}

type Rules = BTreeMap<i64, Vec<SeccompRule>>;

/// Reaching a file by its name: refused with `EACCES` outside the VMM's thread, where only
/// libraries do it on their own (the allocator's `/proc/sys/vm/overcommit_memory`, a panic's
/// backtrace reading `/proc/self/exe`) and go on without the file.
const NAMED_FILES: &[i64] = &[libc::SYS_openat, libc::SYS_readlink];

/// What every thread does just by being a thread of a Rust program on glibc: memory,
/// futexes, signals, its own exit, clocks, and writing (stderr for a panic; the eventfds that
/// wake other threads).
const EVERY_THREAD: &[i64] = &[
    libc::SYS_brk,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_rseq,
    libc::SYS_set_robust_list,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_gettid,
    libc::SYS_getpid,
    libc::SYS_prctl,
    libc::SYS_getrandom,
    libc::SYS_clock_gettime,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_restart_syscall,
    libc::SYS_write,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_fcntl,
    // Answered EACCES by the second filter, except in the VMM's thread (see NAMED_FILES).
    libc::SYS_openat,
    libc::SYS_readlink,
    libc::SYS_getcwd, // a panic's backtrace names paths relative to it
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// The system calls `role` may make, beyond [`EVERY_THREAD`]; an empty rule list allows any
/// arguments, a non-empty one only the listed ones.
pub fn allowed(role: Role) -> Result<Rules, seccompiler::BackendError> {
    let mut rules: Rules = EVERY_THREAD.iter().map(|&nr| (nr, vec![])).collect();
    let mut allow = |calls: &[i64]| {
        for &nr in calls {
            rules.insert(nr, vec![]);
        }
    };
    match role {
        Role::Vcpu => {
            // The devices' work on image files opened before boot: read and write, grow
            // (ftruncate, fallocate), flush, free (fallocate punches holes), and ask the
            // file system for its size and free space.
            allow(&[
                libc::SYS_read,
                libc::SYS_pread64,
                libc::SYS_pwrite64,
                libc::SYS_preadv,
                libc::SYS_pwritev,
                libc::SYS_lseek,
                libc::SYS_fsync,
                libc::SYS_fdatasync,
                libc::SYS_ftruncate,
                libc::SYS_fallocate,
                libc::SYS_fstat,
                libc::SYS_newfstatat,
                libc::SYS_statx,
                libc::SYS_fstatfs,
            ]);
            rules.insert(libc::SYS_ioctl, ioctl_requests(&kvm::VCPU)?);
        }
        Role::Net => {
            allow(&[
                libc::SYS_epoll_wait,
                libc::SYS_epoll_pwait,
                libc::SYS_epoll_ctl,
                libc::SYS_connect,
                libc::SYS_bind,
                libc::SYS_listen,
                libc::SYS_accept4,
                libc::SYS_recvfrom,
                libc::SYS_recvmsg,
                libc::SYS_recvmmsg,
                libc::SYS_sendto,
                libc::SYS_sendmsg,
                libc::SYS_sendmmsg,
                libc::SYS_setsockopt,
                libc::SYS_getsockopt,
                libc::SYS_getsockname,
                libc::SYS_getpeername,
                libc::SYS_shutdown,
                libc::SYS_read,
                libc::SYS_fstat,
                libc::SYS_statx,
            ]);
            // Only IPv4 sockets: the NAT's flows to the host.
            rules.insert(
                libc::SYS_socket,
                vec![SeccompRule::new(vec![SeccompCondition::new(
                    0,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    libc::AF_INET as u64,
                )?])?],
            );
            rules.insert(libc::SYS_ioctl, ioctl_requests(&[libc::FIONBIO])?);
        }
        Role::Stdin => {
            allow(&[libc::SYS_read, libc::SYS_poll, libc::SYS_ppoll]);
        }
        Role::ConsoleOut => {
            allow(&[libc::SYS_poll, libc::SYS_ppoll]);
        }
        Role::Vmm => {
            // Waiting and reporting, live snapshots (new differencing images beside the
            // disk, locked and synced), restoring the terminal, and printing.
            allow(&[
                libc::SYS_read,
                libc::SYS_pread64,
                libc::SYS_pwrite64,
                libc::SYS_lseek,
                libc::SYS_fsync,
                libc::SYS_fdatasync,
                libc::SYS_ftruncate,
                libc::SYS_fallocate,
                libc::SYS_flock,
                libc::SYS_fstat,
                libc::SYS_newfstatat,
                libc::SYS_statx,
                libc::SYS_fstatfs,
                libc::SYS_statfs,
                libc::SYS_getdents64,
                libc::SYS_readlink,
                libc::SYS_access,
                libc::SYS_mkdir,
                libc::SYS_mkdirat,
                libc::SYS_rename,
                libc::SYS_renameat,
                libc::SYS_renameat2,
                libc::SYS_unlink,
                libc::SYS_unlinkat,
                libc::SYS_chmod,
                libc::SYS_fchmod,
                libc::SYS_mincore,
                libc::SYS_prlimit64,
                libc::SYS_poll,
                libc::SYS_ppoll,
                libc::SYS_rt_sigaction,
                libc::SYS_sched_getaffinity,
            ]);
            rules.insert(libc::SYS_ioctl, ioctl_requests(&TERMINAL)?);
        }
    }
    Ok(rules)
}

/// The terminal requests of restoring its mode and asking its size.
const TERMINAL: [libc::c_ulong; 5] = [
    libc::TCGETS,
    libc::TCSETS,
    libc::TCSETSW,
    libc::TCSETSF,
    libc::TIOCGWINSZ,
];

/// KVM's request numbers, as `linux/kvm.h` defines them (`_IO`/`_IOR` over `KVMIO`, 0xAE).
mod kvm {
    const fn ior(nr: libc::c_ulong, size: libc::c_ulong) -> libc::c_ulong {
        (2 << 30) | (size << 16) | (0xAE << 8) | nr
    }
    const KVM_RUN: libc::c_ulong = 0xAE << 8 | 0x80;
    const KVM_GET_REGS: libc::c_ulong = ior(0x81, size_of::<kvm_bindings::kvm_regs>() as _);
    const KVM_GET_SREGS: libc::c_ulong = ior(0x83, size_of::<kvm_bindings::kvm_sregs>() as _);
    const KVM_GET_VCPU_EVENTS: libc::c_ulong =
        ior(0x9f, size_of::<kvm_bindings::kvm_vcpu_events>() as _);
    /// A vCPU runs, and reads its own state to report a guest fault.
    pub const VCPU: [libc::c_ulong; 4] =
        [KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_VCPU_EVENTS];
}

/// `ioctl` allowed with these request numbers only (the second argument, compared as the
/// 32-bit value the kernel reads).
fn ioctl_requests(
    requests: &[libc::c_ulong],
) -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    requests
        .iter()
        .map(|&request| {
            SeccompRule::new(vec![SeccompCondition::new(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                request & 0xffff_ffff,
            )?])
        })
        .collect()
}

/// `SIGSYS` from a filter's trap: record the call and the thread, then park the thread; in
/// the VMM's own thread, say it and exit.
fn install_sigsys_handler() -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value to fill in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_sigsys as *const () as usize;
    action.sa_flags = libc::SA_SIGINFO;
    // SAFETY: `action` is initialised, the handler has the SA_SIGINFO signature, and the old
    // action is not wanted (null).
    let status = unsafe { libc::sigaction(libc::SIGSYS, &action, std::ptr::null_mut()) };
    if status != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Where `siginfo_t` keeps `si_syscall` for `SIGSYS` on x86_64: after three `int`s and the
/// padding that aligns the union, the call's address (8 bytes), then the number.
const SI_SYSCALL_OFFSET: usize = 24;

extern "C" fn on_sigsys(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t for a SIGSYS from a seccomp trap, whose
    // `_sigsys` member holds the call's number at SI_SYSCALL_OFFSET.
    let number = unsafe {
        (info as *const u8)
            .add(SI_SYSCALL_OFFSET)
            .cast::<libc::c_int>()
            .read()
    };
    let tid = gettid();
    if VIOLATION_SYSCALL
        .compare_exchange(-1, number.into(), Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        VIOLATION_TID.store(tid, Ordering::SeqCst);
    }
    // SAFETY: getpid(2) cannot fail.
    if tid == unsafe { libc::getpid() } {
        vmm_thread_violation(number);
    }
    loop {
        // SAFETY: futex(2) on a valid, aligned u32 that never changes: waits until a signal.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                PARKED.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                0u32,
                std::ptr::null::<libc::timespec>(),
            );
        }
    }
}

/// The VMM's own thread broke its filter: nobody is left to report, so say it here, with
/// only async-signal-safe calls, and exit.
fn vmm_thread_violation(number: libc::c_int) -> ! {
    let name = usize::try_from(number)
        .ok()
        .and_then(syscalls::Sysno::new)
        .map_or("(unknown)", |s| s.name());
    let parts: [&[u8]; 3] = [
        b"\r\nlabvisor: the VMM's main thread made the system call `",
        name.as_bytes(),
        b"`, which its seccomp filter does not allow; stopping (--no-seccomp runs without the filter)\r\n",
    ];
    for part in parts {
        // SAFETY: write(2) of a valid buffer to stderr; its result does not matter here.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    // SAFETY: _exit(2) ends the process without running anything else.
    unsafe { libc::_exit(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_compiles_to_a_filter() {
        for role in [
            Role::Vmm,
            Role::Vcpu,
            Role::Net,
            Role::Stdin,
            Role::ConsoleOut,
        ] {
            let programs = filters(role).unwrap();
            assert_eq!(programs.len(), if role == Role::Vmm { 1 } else { 2 });
            assert!(programs.iter().all(|p| !p.is_empty()));
        }
    }

    #[test]
    fn guest_facing_threads_cannot_start_programs_or_open_sockets_freely() {
        for role in [Role::Vcpu, Role::Net, Role::Stdin, Role::ConsoleOut] {
            let rules = allowed(role).unwrap();
            for forbidden in [
                libc::SYS_execve,
                libc::SYS_clone,
                libc::SYS_clone3,
                libc::SYS_ptrace,
                libc::SYS_mount,
            ] {
                assert!(
                    !rules.contains_key(&forbidden),
                    "{role:?} allows {}",
                    syscall_name(forbidden)
                );
            }
        }
        assert!(!allowed(Role::Vcpu).unwrap().contains_key(&libc::SYS_socket));
        // The network thread's sockets are IPv4 only: one condition on the domain.
        assert_eq!(allowed(Role::Net).unwrap()[&libc::SYS_socket].len(), 1);
    }

    #[test]
    fn kvm_request_numbers_match_the_kernel_headers() {
        // From linux/kvm.h as compiled on x86_64 (strace prints them by name).
        assert_eq!(kvm::VCPU, [0xAE80, 0x8090_AE81, 0x8138_AE83, 0x8040_AE9F]);
    }

    #[test]
    fn syscalls_are_named() {
        assert_eq!(syscall_name(libc::SYS_socket), "socket");
        assert_eq!(syscall_name(100_000), "#100000");
    }
}
