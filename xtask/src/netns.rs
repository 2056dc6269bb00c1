//! The tools the NAT differential test (`tests/linux_nat`) drives in network namespaces:
//! `ip` (iproute2), `iptables` and `conntrack`; and the SSH tests' client side
//! (`native/tests/vm_ssh*.rs`): OpenSSH's `ssh`, `sshpass` and tmux. Installed with apt when
//! one is missing.
//!
//! Installing is best effort: where it cannot be done (not root, no apt-get) the tests print
//! `SKIP: reason` themselves, so this step never fails the run.

use std::process::Command;

use crate::sh;

/// Each tool, how to ask for its version, and the Debian package that has it.
const TOOLS: [(&str, &str, &str); 6] = [
    ("ip", "-V", "iproute2"),
    ("iptables", "--version", "iptables"),
    ("conntrack", "--version", "conntrack"),
    ("ssh", "-V", "openssh-client"),
    ("sshpass", "-V", "sshpass"),
    ("tmux", "-V", "tmux"),
];

/// Installs the packages of the missing tools (idempotent: nothing runs when all are there).
pub fn ensure_tools() {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, version, _)| {
            !Command::new(tool)
                .arg(version)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|&(_, _, package)| package)
        .collect();
    if missing.is_empty() {
        return;
    }
    let install = || -> anyhow::Result<()> {
        sh::run(Command::new("apt-get").args(["update", "-qq"]))?;
        sh::run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if let Err(e) = install() {
        eprintln!(
            "xtask: cannot install {} ({e:#}); the tests that need them will be skipped",
            missing.join(" ")
        );
    }
}
