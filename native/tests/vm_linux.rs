//! Boots Debian's stock kernel with a busybox initramfs (`cargo xtask linux-guest` builds
//! them into target/linux-guest). With hardware-assisted KVM it must reach userspace. Under
//! PVM it cannot (see `labvisor::vmm::host::PVM_LINUX_EXPLANATION`): the test asserts the part
//! that runs here, the decompressor's first message on the serial console, and the note that
//! explains the rest.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn linux_guest() -> Option<(PathBuf, PathBuf)> {
    if !std::path::Path::new("/dev/kvm").exists() {
        println!("SKIP: no /dev/kvm");
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/linux-guest");
    let (kernel, initrd) = (dir.join("bzImage"), dir.join("initrd.cpio"));
    if kernel.is_file() && initrd.is_file() {
        Some((kernel, initrd))
    } else {
        println!(
            "SKIP: no Linux guest in {} (run `cargo xtask linux-guest`)",
            dir.display()
        );
        None
    }
}

/// Runs the Linux guest until `stop` matches its console output or it exits; returns
/// (console output, stderr, exit code if it exited by itself).
fn boot_linux(stop: impl Fn(&str) -> bool, timeout: &str) -> Option<(String, String, Option<i32>)> {
    let (kernel, initrd) = linux_guest()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args([
            "vm",
            "run",
            "--mem",
            "256M",
            "--timeout",
            timeout,
            "--kernel",
        ])
        .arg(&kernel)
        .arg("--initrd")
        .arg(&initrd)
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labvisor starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut console = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    let mut stopped_early = false;
    while let Ok(n) = stdout.read(&mut buf) {
        if n == 0 {
            break;
        }
        console.extend_from_slice(&buf[..n]);
        if stop(&String::from_utf8_lossy(&console)) || started.elapsed() > Duration::from_secs(120)
        {
            // Seen what we came for: no need to wait out the timeout.
            let _ = child.kill();
            stopped_early = true;
            break;
        }
    }
    let status = child.wait().expect("labvisor finishes");
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr);
    let code = if stopped_early { None } else { status.code() };
    Some((String::from_utf8_lossy(&console).into_owned(), stderr, code))
}

#[test]
fn debian_kernel_boots_as_far_as_this_host_allows() {
    let pvm = std::path::Path::new("/sys/module/kvm_pvm").exists();
    if pvm {
        let decompressor =
            |c: &str| c.contains("KASLR disabled") || c.contains("Decompressing Linux");
        let Some((console, stderr, _)) = boot_linux(decompressor, "90s") else {
            return;
        };
        assert!(
            decompressor(&console),
            "the decompressor's first message reaches the serial console: {console:?}\n{stderr}"
        );
        assert!(
            stderr.contains("this host's KVM is PVM"),
            "the user is told why Linux stops: {stderr}"
        );
    } else {
        let userspace = |c: &str| c.contains("Labvisor: Linux userspace is up");
        let Some((console, stderr, code)) = boot_linux(|_| false, "90s") else {
            return;
        };
        assert!(
            userspace(&console),
            "busybox's /init ran: {console}\n{stderr}"
        );
        assert_eq!(
            code,
            Some(0),
            "`reboot -f` resets through the i8042 and labvisor exits 0: {stderr}"
        );
    }
}
