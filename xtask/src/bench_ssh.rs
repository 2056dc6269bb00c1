//! `cargo xtask bench-net`'s SSH rows: the guest's SSH server (`vm run --ssh`) against the same
//! guest's plain TCP services, through forwards on 127.0.0.1, natively and, on a PVM host,
//! emulated.
//!
//! - **Login to output**: from starting `ssh -i KEY -p PORT labvisor@127.0.0.1 uptime` (this
//!   host's OpenSSH: key exchange, host key check, public-key login, one command) to its exit
//!   with the guest's answer; median, fastest and slowest of [`LOGINS`]. Beside it, the TCP
//!   shell on port 23: connect, read the prompt, send `uptime`, read the answer. Target: SSH
//!   ≤ 1 s.
//! - **Bulk into the guest**: `ssh … discard` (the SSH server's own command: it reads the
//!   channel to its end) fed a volume sized to take about `--seconds`, timed from start to
//!   exit, less the same command's time with no input (the login), so the figure is the
//!   channel's alone. Beside it, `serve discard` on a plain TCP port for `--seconds`.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench_vm_disk::Vmm;
use crate::sh;

/// Logins timed per VMM.
const LOGINS: usize = 10;
/// The guest's TCP shell port, forwarded beside SSH.
const SHELL_PORT: u16 = 23;
/// The guest's `serve discard` port.
const DISCARD_PORT: u16 = 9;
const TARGET_LOGIN_S: f64 = 1.0;

/// One VMM's figures, in seconds and Mbit/s.
struct Figures {
    ssh_login: Spread,
    shell_login: Spread,
    ssh_bulk_mbit: f64,
    tcp_bulk_mbit: f64,
}

/// Median, fastest and slowest of a set of times, in seconds.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut seconds: Vec<f64>) -> Spread {
        seconds.sort_by(f64::total_cmp);
        let mid = seconds.len() / 2;
        let median = if seconds.len() % 2 == 0 {
            (seconds[mid - 1] + seconds[mid]) / 2.0
        } else {
            seconds[mid]
        };
        Spread {
            median,
            min: seconds[0],
            max: seconds[seconds.len() - 1],
        }
    }
}

/// Measures every Labvisor VMM in `vmms` and prints the table; says why when OpenSSH is
/// missing instead.
pub(crate) fn run(
    labvisor: &Path,
    elf: &Path,
    vmms: &[Vmm],
    pvm: bool,
    seconds: f64,
) -> Result<()> {
    println!();
    let Ok(version) = Command::new("ssh").arg("-V").output() else {
        println!("SSH rows skipped: `ssh` is not installed (apt-get install openssh-client)");
        return Ok(());
    };
    let openssh = String::from_utf8_lossy(&version.stderr).trim().to_owned();
    let scratch = std::env::temp_dir().join(format!("labvisor-bench-ssh-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    let key = keygen(&scratch)?;
    let ours: Vec<Vmm> = vmms.iter().copied().filter(|&v| v != Vmm::Qemu).collect();
    println!("SSH into the same guest, through forwards on 127.0.0.1 ({openssh})");
    println!(
        "{:<26} {:>24} {:>24} {:>8} {:>14} {:>14} {:>7}",
        "",
        "ssh … uptime, s",
        "TCP shell uptime, s",
        "ratio",
        "ssh discard",
        "serve discard",
        "ratio"
    );
    println!(
        "{:<26} {:>24} {:>24} {:>8} {:>14} {:>14} {:>7}",
        "", "median (min–max)", "median (min–max)", "", "Mbit/s", "Mbit/s", ""
    );
    for &vmm in &ours {
        let figures = measure(vmm, labvisor, elf, &scratch, &key, seconds)
            .with_context(|| format!("bench-net's SSH rows on {}", vmm.name(pvm)));
        let f = match figures {
            Ok(f) => f,
            Err(e) => {
                println!("{:<26} failed: {e:#}", vmm.name(pvm));
                continue;
            }
        };
        let spread = |s: &Spread| format!("{:.3} ({:.3}–{:.3})", s.median, s.min, s.max);
        println!(
            "{:<26} {:>24} {:>24} {:>7.0}× {:>14.3} {:>14.3} {:>6.2}×",
            vmm.name(pvm),
            spread(&f.ssh_login),
            spread(&f.shell_login),
            f.ssh_login.median / f.shell_login.median,
            f.ssh_bulk_mbit,
            f.tcp_bulk_mbit,
            f.ssh_bulk_mbit / f.tcp_bulk_mbit,
        );
        println!(
            "{:<26} target login to output ≤ {TARGET_LOGIN_S} s: {} ({:.3} s)",
            "",
            if f.ssh_login.median <= TARGET_LOGIN_S {
                "met"
            } else {
                "NOT met"
            },
            f.ssh_login.median
        );
    }
    let _ = fs::remove_dir_all(&scratch);
    println!(
        "ratios: SSH's login against the TCP shell's (how much the key exchange and login cost), \
         SSH's channel against plain TCP (what encryption costs)"
    );
    Ok(())
}

fn keygen(dir: &Path) -> Result<PathBuf> {
    let key = dir.join("bench_ed25519");
    sh::run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench-net", "-f"])
            .arg(&key),
    )?;
    Ok(key)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The forwarded host ports of one VM.
struct Ports {
    ssh: u16,
    shell: u16,
    discard: u16,
}

fn measure(
    vmm: Vmm,
    labvisor: &Path,
    elf: &Path,
    scratch: &Path,
    key: &Path,
    seconds: f64,
) -> Result<Figures> {
    let ports = Ports {
        ssh: free_port()?,
        shell: free_port()?,
        discard: free_port()?,
    };
    let mode = vmm.pvm_mode();
    let mut cmd = Command::new(labvisor);
    cmd.args(["vm", "run", "--pvm-mode", mode, "--kernel"])
        .arg(elf)
        .args(["--run", &format!("serve discard {DISCARD_PORT}")])
        .args(["--timeout", "1200s", "--ssh", "--ssh-port"])
        .arg(ports.ssh.to_string())
        .arg("--ssh-key")
        .arg(key.with_extension("pub"))
        .args([
            "--hostfwd",
            &format!("tcp:127.0.0.1:{}-:{SHELL_PORT}", ports.shell),
            "--hostfwd",
            &format!("tcp:127.0.0.1:{}-:{DISCARD_PORT}", ports.discard),
        ])
        .env("XDG_DATA_HOME", scratch)
        .env("LANG", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{}`", sh::describe(&cmd)))?;
    let known_hosts = scratch.join(format!("known_hosts-{}", ports.ssh));
    let ssh = Ssh {
        port: ports.ssh,
        key,
        known_hosts: &known_hosts,
    };
    let figures = wait_for(&mut child, "serving discard").and_then(|()| {
        Ok(Figures {
            ssh_login: Spread::of(
                (0..LOGINS)
                    .map(|_| ssh.login_to_output())
                    .collect::<Result<_>>()?,
            ),
            shell_login: Spread::of(
                (0..LOGINS)
                    .map(|_| shell_login_to_output(ports.shell))
                    .collect::<Result<_>>()?,
            ),
            ssh_bulk_mbit: ssh.bulk_mbit(seconds)?,
            tcp_bulk_mbit: tcp_bulk_mbit(ports.discard, seconds)?,
        })
    });
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.write_all(b"poweroff\n");
    }
    if crate::bench_boot::wait_with_timeout(&mut child, Duration::from_secs(30))?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    figures
}

/// Reads the console until `needle`, then keeps draining it on a thread.
fn wait_for(child: &mut Child, needle: &str) -> Result<()> {
    let mut out = child.stdout.take().context("stdout is piped")?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(120);
    while !String::from_utf8_lossy(&seen).contains(needle) {
        if Instant::now() > deadline {
            bail!("`{needle}` never came: {}", String::from_utf8_lossy(&seen));
        }
        let n = out.read(&mut buf)?;
        if n == 0 {
            bail!("the VM ended: {}", String::from_utf8_lossy(&seen));
        }
        seen.extend_from_slice(&buf[..n]);
    }
    std::thread::spawn(move || while out.read(&mut buf).is_ok_and(|n| n > 0) {});
    Ok(())
}

/// OpenSSH's client for one VM, logging in with the bench's key.
struct Ssh<'a> {
    port: u16,
    key: &'a Path,
    known_hosts: &'a Path,
}

impl Ssh<'_> {
    fn command(&self, remote: &str) -> Command {
        let mut ssh = Command::new("ssh");
        ssh.args(["-F", "/dev/null", "-p", &self.port.to_string(), "-i"])
            .arg(self.key)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args([
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-o",
                "BatchMode=yes",
            ])
            .args(["-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"])
            .args(["labvisor@127.0.0.1", remote]);
        ssh
    }

    /// Seconds from starting `ssh … uptime` to its exit with the guest's answer.
    fn login_to_output(&self) -> Result<f64> {
        let started = Instant::now();
        let out = self.command("uptime").stdin(Stdio::null()).output()?;
        let took = started.elapsed().as_secs_f64();
        if !out.status.success() || !out.stdout.starts_with(b"up ") {
            bail!(
                "ssh … uptime: {:?}, {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(took)
    }

    /// Seconds `ssh … discard` takes, from start to exit, with `bytes` of input.
    fn discard(&self, bytes: u64) -> Result<f64> {
        let started = Instant::now();
        let mut child = self
            .command("discard")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().context("stdin is piped")?;
        let chunk = vec![0x5au8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            stdin
                .write_all(&chunk[..n])
                .context("writing into `ssh … discard`")?;
            left -= n as u64;
        }
        drop(stdin);
        let out = child.wait_with_output()?;
        let took = started.elapsed().as_secs_f64();
        let said = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !said.contains(&format!("discarded {bytes} bytes")) {
            bail!(
                "ssh … discard of {bytes} bytes: {:?}, {said}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(took)
    }

    /// Mbit/s through the channel: a probe of 64 KiB (a few seconds emulated) sizes a volume
    /// of about `seconds`; the login (the same command with no input, median of 3) is taken
    /// off both.
    fn bulk_mbit(&self, seconds: f64) -> Result<f64> {
        let login = Spread::of((0..3).map(|_| self.discard(0)).collect::<Result<_>>()?).median;
        const PROBE: u64 = 64 << 10;
        let probe = (self.discard(PROBE)? - login).max(1e-3);
        let volume = ((PROBE as f64 / probe * seconds) as u64).clamp(PROBE, 4 << 30);
        let took = (self.discard(volume)? - login).max(1e-3);
        Ok(volume as f64 * 8.0 / took / 1e6)
    }
}

/// Seconds from connecting to the TCP shell to the answer of `uptime`. The shell serves one
/// connection at a time, so a connection made while the last one still closes is reset (the
/// backend accepted it on the host before the guest refused it): that attempt is made again.
fn shell_login_to_output(port: u16) -> Result<f64> {
    let mut attempts = 0;
    loop {
        match shell_attempt(port) {
            Ok(took) => return Ok(took),
            Err(e) if attempts < 50 && was_refused(&e) => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether the guest refused the connection (reset, or closed before its prompt).
fn was_refused(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset)
            || cause.to_string().starts_with("the TCP shell closed before")
    })
}

fn shell_attempt(port: u16) -> Result<f64> {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    read_until(&mut s, b"labvisor# ")?;
    s.write_all(b"uptime\r\n")?;
    read_until(&mut s, b"up ")?;
    let took = started.elapsed().as_secs_f64();
    let _ = s.write_all(b"exit\r\n");
    Ok(took)
}

fn read_until(s: &mut TcpStream, needle: &[u8]) -> Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let n = s.read(&mut buf).context("reading the TCP shell")?;
        if n == 0 {
            bail!(
                "the TCP shell closed before `{}`",
                String::from_utf8_lossy(needle)
            );
        }
        seen.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

/// Mbit/s into `serve discard` for `seconds`: the bulk row of the plain TCP bench.
fn tcp_bulk_mbit(port: u16, seconds: f64) -> Result<f64> {
    Ok(crate::bench_net::bulk_to_guest(port, seconds)? * 1e3)
}
