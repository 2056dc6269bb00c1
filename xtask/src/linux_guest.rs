//! `cargo xtask linux-guest`: a stock Linux guest from Debian's packages, for
//! `labvisor vm run --kernel` and its integration test.
//!
//! `apt-get download` fetches `linux-image-amd64`'s current kernel package and
//! `busybox-static` (no root install: `dpkg-deb -x` unpacks them under target/), and the
//! initramfs is written here as a `newc` cpio archive: busybox, and an `/init` that reports
//! that userspace is up and reboots (the VMM stops on the i8042 reset). Everything is cached
//! in target/linux-guest; a second run only checks the files are there.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::sh;

/// Options of `cargo xtask linux-guest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Download and build again even if target/linux-guest is complete.
    #[arg(long)]
    pub force: bool,
}

/// The kernel and initramfs, ready for `--kernel` and `--initrd`.
pub struct LinuxGuest {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

/// What `/init` prints once Linux runs it: the integration test looks for this line.
pub const USERSPACE_BANNER: &str = "Labvisor: Linux userspace is up";

fn cache_dir() -> PathBuf {
    sh::workspace_root().join("target").join("linux-guest")
}

/// Builds (or finds in the cache) the kernel and initramfs.
pub fn run(args: Args) -> Result<LinuxGuest> {
    let dir = cache_dir();
    let guest = LinuxGuest {
        kernel: dir.join("bzImage"),
        initrd: dir.join("initrd.cpio"),
    };
    if !args.force && guest.kernel.is_file() && guest.initrd.is_file() {
        eprintln!("linux-guest: cached in {}", dir.display());
        return Ok(guest);
    }
    let work = dir.join("work");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clean {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

    let kernel_pkg = kernel_package()?;
    let kernel_deb = download(&work, &kernel_pkg)?;
    let busybox_deb = download(&work, "busybox-static")?;
    let root = work.join("root");
    for deb in [&kernel_deb, &busybox_deb] {
        sh::run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root))?;
    }
    let vmlinuz = std::fs::read_dir(root.join("boot"))
        .context("the kernel package has no /boot")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .context("no /boot/vmlinuz-* in the kernel package")?;
    std::fs::copy(&vmlinuz, &guest.kernel)
        .with_context(|| format!("cannot copy {}", vmlinuz.display()))?;

    let busybox = ["bin/busybox", "usr/bin/busybox"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .context("no busybox binary in busybox-static")?;
    let initrd = initramfs(&std::fs::read(&busybox)?);
    std::fs::write(&guest.initrd, initrd)
        .with_context(|| format!("cannot write {}", guest.initrd.display()))?;
    std::fs::remove_dir_all(&work).ok();
    eprintln!(
        "linux-guest: {} ({}) and {} ready",
        guest.kernel.display(),
        vmlinuz.file_name().unwrap_or_default().to_string_lossy(),
        guest.initrd.display()
    );
    Ok(guest)
}

/// The versioned kernel package `linux-image-amd64` depends on today.
fn kernel_package() -> Result<String> {
    let mut depends = sh::output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))
        .unwrap_or_default();
    if !depends.contains("Depends:") {
        sh::run(Command::new("apt-get").args(["update", "-qq"]))?;
        depends = sh::output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    }
    depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && !p.contains("-dbg"))
        .map(str::to_owned)
        .context("apt-cache shows no linux-image-* dependency of linux-image-amd64")
}

/// `apt-get download PKG` into `dir`; returns the .deb.
fn download(dir: &Path, package: &str) -> Result<PathBuf> {
    sh::run(
        Command::new("apt-get")
            .current_dir(dir)
            .args(["download", "-qq", package]),
    )?;
    let deb = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|e| e == "deb")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        });
    match deb {
        Some(deb) => Ok(deb),
        None => bail!(
            "apt-get download {package} left no {package}_*.deb in {}",
            dir.display()
        ),
    }
}

/// A `newc` cpio archive (what the kernel unpacks into its initramfs) holding busybox and
/// an `/init` script.
fn initramfs(busybox: &[u8]) -> Vec<u8> {
    let init = format!(
        "#!/bin/busybox sh\n/bin/busybox mkdir -p /proc /sys\n/bin/busybox mount -t proc proc /proc\n\
         echo \"{USERSPACE_BANNER}: $(/bin/busybox uname -sr)\"\n/bin/busybox reboot -f\n"
    );
    let mut cpio = Cpio::default();
    for dir in ["bin", "dev", "proc", "sys"] {
        cpio.entry(dir, 0o040755, b"");
    }
    cpio.entry("dev/console", 0o020600, b"");
    cpio.entry("bin/busybox", 0o100755, busybox);
    cpio.entry("bin/sh", 0o120777, b"busybox");
    cpio.entry("init", 0o100755, init.as_bytes());
    cpio.finish()
}

#[derive(Default)]
struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        // /dev/console is character device 5:1, so the kernel has a console before devtmpfs.
        let (rmajor, rminor) = if mode & 0o170000 == 0o020000 {
            (5, 1)
        } else {
            (0, 0)
        };
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            rmajor,
            rminor,
            name.len() + 1,
            0
        );
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, b"");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initramfs_is_a_newc_archive_ending_in_the_trailer() {
        let archive = initramfs(b"\x7fELF busybox");
        assert!(archive.starts_with(b"070701"));
        assert_eq!(archive.len() % 4, 0);
        let text = String::from_utf8_lossy(&archive);
        for name in [
            "bin\0",
            "dev/console\0",
            "bin/busybox\0",
            "init\0",
            "TRAILER!!!\0",
        ] {
            assert!(text.contains(name), "{name:?}");
        }
        assert!(text.contains(USERSPACE_BANNER));
        assert_eq!(
            text.matches("070701").count(),
            9,
            "8 entries and the trailer"
        );
    }
}
