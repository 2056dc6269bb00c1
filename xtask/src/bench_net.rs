//! `cargo xtask bench-net`: the network path's throughput.
//!
//! 1. The backend alone (`native/vmm/examples/net_backend.rs`): no VM; a host-side driver of
//!    the virtio-net queues stands in for the guest, and the real device, the core's gateway
//!    and NAT table and the backend carry UDP and TCP to a socket on 127.0.0.1, at MTU 1500 and
//!    65520, in frames/s and Gbit/s beside the published figures for slirp4netns (1.69 Gbit/s
//!    at MTU 1500) and gvisor-tap-vsock (2.46), with the ratios. Target: ≥ 3 Gbit/s at 1500.
//! 2. A real VM end to end: one guest ELF (`cargo xtask guest`, SHA-256 printed) runs
//!    `serve discard 9; serve chargen 19; serve echo 7` behind port forwards on 127.0.0.1, in
//!    `labvisor vm run` natively and, on a PVM host, emulated, and in QEMU `-M microvm
//!    -netdev user,hostfwd=… -device virtio-net-device` (emulated on a PVM host: QEMU cannot
//!    use its native mode). Measured from the host: bulk TCP host → guest (discard), guest →
//!    host (chargen), and connections per second (connect, one byte echoed, close). Ratios
//!    like for like (labvisor emulated against QEMU where both are emulated). Targets:
//!    labvisor ≥ QEMU's slirp on the same guest in the same mode; labvisor native ≥ 1 Gbit/s.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench_vm_disk::Vmm;
use crate::sh;

/// Options of `cargo xtask bench-net`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Skip the QEMU comparison.
    #[arg(long)]
    pub no_qemu: bool,
    /// Only the backend alone, no VM.
    #[arg(long)]
    pub backend_only: bool,
    /// Runs per VMM of the end-to-end rows, interleaved between the VMMs; each figure is the
    /// median (an emulated guest's speed moves with the host's load from one run to the next).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

pub fn run(args: Args) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    sh::run(sh::cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "labvisor-vmm",
        "--example",
        "net_backend",
        "--",
        &args.seconds.to_string(),
    ]))?;
    if !args.backend_only {
        end_to_end(&args)?;
    }
    Ok(())
}

/// One VMM's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    to_guest_gbit: f64,
    from_guest_gbit: f64,
    connections_per_s: f64,
}

impl Figures {
    /// Each row's median over `runs`.
    fn median(runs: &[Figures]) -> Figures {
        let row = |f: fn(&Figures) -> f64| {
            crate::bench_vm_disk::median(&runs.iter().map(f).collect::<Vec<_>>())
        };
        Figures {
            to_guest_gbit: row(|f| f.to_guest_gbit),
            from_guest_gbit: row(|f| f.from_guest_gbit),
            connections_per_s: row(|f| f.connections_per_s),
        }
    }
}

const SERVICES: &str = "serve discard 9; serve chargen 19; serve echo 7";

fn end_to_end(args: &Args) -> Result<()> {
    let (labvisor, elf, hash) = crate::bench_boot::build_vmm_and_guest()?;
    let (vmms, qemu_missing) = crate::bench_vm_disk::vmms_here(args.no_qemu);
    let pvm = vmms.contains(&Vmm::LabvisorEmulated);
    let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); vmms.len()];
    for run in 0..args.runs {
        for (v, &vmm) in vmms.iter().enumerate() {
            eprintln!(
                "bench-net: run {} of {} on {}",
                run + 1,
                args.runs,
                vmm.name(pvm)
            );
            let figures = measure(vmm, &labvisor, &elf, args.seconds)
                .with_context(|| format!("bench-net on {}", vmm.name(pvm)))?;
            runs[v].push(figures);
        }
    }
    let results: Vec<Figures> = runs.iter().map(|r| Figures::median(r)).collect();
    println!();
    println!(
        "A real VM end to end, through port forwards on 127.0.0.1; guest ELF {} (sha256 {hash})",
        elf.display()
    );
    println!(
        "{} s per measurement, {} runs per VMM interleaved, median; Gbit/s of TCP payload the guest received or sent",
        args.seconds, args.runs
    );
    println!(
        "{:<26} {:>16} {:>16} {:>16}",
        "", "host → guest", "guest → host", "connections/s"
    );
    for (vmm, f) in vmms.iter().zip(&results) {
        println!(
            "{:<26} {:>16.3} {:>16.3} {:>16.0}",
            vmm.name(pvm),
            f.to_guest_gbit,
            f.from_guest_gbit,
            f.connections_per_s
        );
    }
    if let Some(why) = &qemu_missing {
        println!("QEMU: {why}");
    }
    let find = |v: Vmm| vmms.iter().position(|&x| x == v);
    let ours = find(if pvm {
        Vmm::LabvisorEmulated
    } else {
        Vmm::LabvisorNative
    });
    if let (Some(ours), Some(q)) = (ours, find(Vmm::Qemu)) {
        let (a, b) = (results[ours], results[q]);
        let ratios = [
            a.to_guest_gbit / b.to_guest_gbit,
            a.from_guest_gbit / b.from_guest_gbit,
            a.connections_per_s / b.connections_per_s,
        ];
        println!(
            "like for like ({}): labvisor / QEMU = {:.2}× host → guest, {:.2}× guest → host, {:.2}× connections; target ≥ 1: {}",
            if pvm { "both emulated" } else { "both native" },
            ratios[0],
            ratios[1],
            ratios[2],
            if ratios.iter().all(|&r| r >= 1.0) { "met" } else { "NOT met" }
        );
    }
    if let Some(native) = find(Vmm::LabvisorNative) {
        let best = results[native]
            .to_guest_gbit
            .max(results[native].from_guest_gbit);
        println!(
            "target labvisor native ≥ 1 Gbit/s end to end: {} ({best:.3})",
            if best >= 1.0 { "met" } else { "NOT met" }
        );
    }
    crate::bench_ssh::run(&labvisor, &elf, &vmms, pvm, args.seconds)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Boots `vmm` with the services behind forwards, measures, powers it off.
fn measure(vmm: Vmm, labvisor: &Path, elf: &Path, seconds: f64) -> Result<Figures> {
    let (discard, chargen, echo) = (free_port()?, free_port()?, free_port()?);
    let mut cmd = vm_command(vmm, labvisor, elf, [discard, chargen, echo]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{}`", sh::describe(&cmd)))?;
    let figures = wait_for_services(&mut child).and_then(|()| {
        Ok(Figures {
            to_guest_gbit: bulk_to_guest(discard, seconds)?,
            from_guest_gbit: bulk_from_guest(chargen, seconds)?,
            connections_per_s: connection_rate(echo, seconds)?,
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

fn vm_command(
    vmm: Vmm,
    labvisor: &Path,
    elf: &Path,
    [discard, chargen, echo]: [u16; 3],
) -> Command {
    let rules = [(discard, 9), (chargen, 19), (echo, 7)];
    match vmm {
        Vmm::Qemu => {
            let hostfwd: String = rules
                .iter()
                .map(|(host, guest)| format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"))
                .collect();
            let mut c = crate::bench_boot::qemu_microvm(elf, SERVICES);
            c.args(["-global", "virtio-mmio.force-legacy=false"])
                .args(["-netdev", &format!("user,id=n0{hostfwd}")])
                .args(["-device", "virtio-net-device,netdev=n0"]);
            c
        }
        Vmm::LabvisorNative | Vmm::LabvisorEmulated => {
            let mode = vmm.pvm_mode();
            let mut c = Command::new(labvisor);
            c.args(["vm", "run", "--pvm-mode", mode, "--kernel"])
                .arg(elf)
                .args(["--run", SERVICES, "--timeout", "600s"]);
            for (host, guest) in rules {
                c.args(["--hostfwd", &format!("tcp:127.0.0.1:{host}-:{guest}")]);
            }
            c
        }
    }
}

/// Reads the console until the last service says it is serving.
fn wait_for_services(child: &mut Child) -> Result<()> {
    let out = child.stdout.as_mut().context("stdout is piped")?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(120);
    while !String::from_utf8_lossy(&seen).contains("serving echo") {
        if Instant::now() > deadline {
            bail!(
                "the guest's services did not start: {}",
                String::from_utf8_lossy(&seen)
            );
        }
        let n = out.read(&mut buf)?;
        if n == 0 {
            bail!("the VM ended: {}", String::from_utf8_lossy(&seen));
        }
        seen.extend_from_slice(&buf[..n]);
    }
    // The console must keep draining, or a VMM blocks on it.
    let mut rest = child.stdout.take().context("stdout is piped")?;
    std::thread::spawn(move || while rest.read(&mut buf).is_ok_and(|n| n > 0) {});
    Ok(())
}

fn connect(port: u16) -> Result<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    Ok(s)
}

/// Gbit/s the guest's `serve discard` on `port` received: data is written for `seconds`, then
/// the write side is closed and the clock stops when the guest closes its side, which it does
/// once it has read everything (so bytes still in host buffers are not counted as received).
pub(crate) fn bulk_to_guest(port: u16, seconds: f64) -> Result<f64> {
    let mut s = connect(port)?;
    let chunk = vec![0x5au8; 64 * 1024];
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        s.write_all(&chunk)
            .context("writing to the guest's discard service")?;
        sent += chunk.len() as u64;
    }
    s.shutdown(std::net::Shutdown::Write)?;
    let mut rest = [0u8; 64];
    while s
        .read(&mut rest)
        .context("waiting for the guest's discard service to read everything")?
        > 0
    {}
    Ok(sent as f64 * 8.0 / start.elapsed().as_secs_f64() / 1e9)
}

fn bulk_from_guest(port: u16, seconds: f64) -> Result<f64> {
    let mut s = connect(port)?;
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    let mut got = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        let n = s
            .read(&mut buf)
            .context("reading the guest's chargen service")?;
        if n == 0 {
            bail!("chargen closed the connection");
        }
        got += n as u64;
    }
    Ok(got as f64 * 8.0 / start.elapsed().as_secs_f64() / 1e9)
}

/// Connections per second to the echo service, each one byte echoed. A connection that finds
/// no listener (reset: each service has three sockets, all may still be closing) is tried
/// again and not counted.
fn connection_rate(port: u16, seconds: f64) -> Result<f64> {
    let start = Instant::now();
    let (mut done, mut refused) = (0u64, 0u64);
    while start.elapsed().as_secs_f64() < seconds {
        let echoed = connect(port).and_then(|mut s| {
            s.write_all(b"x")?;
            let mut b = [0u8; 1];
            s.read_exact(&mut b)?;
            Ok(())
        });
        match echoed {
            Ok(()) => done += 1,
            Err(_) => refused += 1,
        }
        if refused > 100_000 {
            bail!("the echo service refused 100000 connections in a row");
        }
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}
