//! The SSH server on port 22: sunset's IO-less SSH-2 (curve25519 and ML-KEM hybrid key
//! exchange, an ed25519 host key, chacha20-poly1305, password and public-key authentication)
//! over a smoltcp socket per session. A session runs the same shell as the console and the
//! TCP shell on port 23: its command lines join the queue [`super::Stack::next_command`]
//! serves, and the output comes back through [`SshSession::answer`].
//!
//! One session channel per connection: a shell (with a PTY, keystrokes go through
//! [`LineEditor`] and are echoed) or one `exec` command, whose exit status ends the channel;
//! `ssh HOST discard` is the server's own command, which reads its input to the end (bulk
//! transfer over the channel, for `cargo xtask bench-net`).
//! A wrong password or key holds the connection for [`FAILURE_DELAY_NS`] before the refusal
//! is sent; [`MAX_FAILURES`] refusals end it. A connection that has not authenticated within
//! its login grace time (OpenSSH's `LoginGraceTime`, from the VMM or
//! [`LOGIN_GRACE_DEFAULT_S`]) is closed, so silent clients cannot hold the slots; an
//! authenticated session has no time limit. Any protocol error resets the connection and the
//! slot listens again.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use labvisor_guest::line_editor::{Edit, LineEditor};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use sunset::{ChanData, ChanFail, ChanHandle, Event, PubKey, Runner, ServEvent, Server, SignKey};

use crate::hw::control;
use labvisor_guest_abi::ssh::LOGIN_GRACE_DEFAULT_S;

pub const SSH_PORT: u16 = 22;
/// The only user name the server accepts.
pub const USER: &str = "labvisor";
/// How long a refused password or key holds the connection before the refusal is sent.
const FAILURE_DELAY_NS: u64 = 1_000_000_000;
/// Refusals after which the connection is dropped (OpenSSH's MaxAuthTries).
const MAX_FAILURES: u32 = 6;
/// How long a connection closed for its login grace time may take to finish closing (the
/// client's FIN) before it is reset, so that a client that never closes its side does not
/// keep the slot either.
const CLOSE_LINGER_NS: u64 = 5_000_000_000;
/// Lines typed ahead of the shell.
const QUEUE_MAX: usize = 16;
/// Output waiting for the peer's window; past it, a command's output is cut.
const OUTBOX_MAX: usize = 4 << 20;
/// sunset events handled per step, so one busy session cannot starve the others.
const EVENTS_PER_STEP: usize = 32;
const BANNER: &[u8] =
    b"Labvisor guest OS: SSH shell. `help` lists commands, `exit` (or Ctrl-D) leaves.\r\n";
const PROMPT: &[u8] = b"labvisor# ";

/// Who may log in and as what the server proves itself.
pub struct Credentials {
    pub host_key: SignKey,
    /// Raw ed25519 public keys whose holders may log in.
    pub authorized: Vec<[u8; 32]>,
    /// Never empty: an empty password turns password authentication off.
    pub password: String,
    /// How long a connection may stay unauthenticated.
    pub login_grace_ns: u64,
}

fn seconds_to_ns(seconds: u16) -> u64 {
    u64::from(seconds) * 1_000_000_000
}

impl Credentials {
    /// The credentials the VMM passed in the boot information.
    pub fn from_vmm(keys: &labvisor_guest_abi::ssh::SshKeys) -> Credentials {
        Credentials {
            host_key: SignKey::Ed25519(sunset::ed25519_dalek::SigningKey::from_bytes(
                &keys.host_seed,
            )),
            authorized: keys.authorized().to_vec(),
            password: String::from(keys.password()),
            login_grace_ns: seconds_to_ns(keys.login_grace_s()),
        }
    }

    /// A host key and password made up at boot, for a VMM that passes none (QEMU): the host
    /// key changes every boot and the password is printed on the console.
    pub fn ephemeral() -> Credentials {
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_mut(8) {
            chunk.copy_from_slice(&control::random_u64().to_le_bytes());
        }
        Credentials {
            host_key: SignKey::Ed25519(sunset::ed25519_dalek::SigningKey::from_bytes(&seed)),
            authorized: Vec::new(),
            password: random_password(),
            login_grace_ns: seconds_to_ns(LOGIN_GRACE_DEFAULT_S),
        }
    }
}

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I): 90 bits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY3479";
    (0..16)
        .map(|_| {
            // 64 random bits per character: the modulo bias is below 2^-57.
            ALPHABET[(control::random_u64() % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No shell or command requested yet.
    Waiting,
    Shell,
    Exec,
    /// `discard`: the input is counted and dropped until the client's EOF.
    Discard,
}

/// The session's state apart from sunset's runner (events borrow the runner).
struct Channel {
    handle: Option<ChanHandle>,
    mode: Mode,
    editor: LineEditor,
    commands: VecDeque<String>,
    outbox: VecDeque<u8>,
    /// The shell is running one of this session's commands.
    busy: bool,
    /// The exit status to send once the output is out; the channel then ends.
    exit: Option<u32>,
    failures: u32,
    /// Nothing moves on this connection before this time (a refusal's delay).
    hold_until: u64,
    /// The client logged in; from then on the login grace time no longer applies.
    authenticated: bool,
    /// When the login grace time ends, set once the connection is established.
    login_deadline: Option<u64>,
    /// Bytes `discard` has read.
    discarded: u64,
}

impl Channel {
    fn new() -> Channel {
        Channel {
            handle: None,
            mode: Mode::Waiting,
            editor: LineEditor::new(),
            commands: VecDeque::new(),
            outbox: VecDeque::new(),
            busy: false,
            exit: None,
            failures: 0,
            hold_until: 0,
            authenticated: false,
            login_deadline: None,
            discarded: 0,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let room = OUTBOX_MAX.saturating_sub(self.outbox.len());
        self.outbox.extend(&bytes[..bytes.len().min(room)]);
    }

    fn refuse(&mut self) {
        self.failures += 1;
        self.hold_until = control::monotonic_ns().saturating_add(FAILURE_DELAY_NS);
    }

    /// Keystrokes of the shell: echoed, and complete lines queued for the shell.
    fn typed(&mut self, bytes: &[u8]) {
        match self.mode {
            // A command's standard input: nothing in the guest reads it.
            Mode::Exec => return,
            Mode::Discard => {
                self.discarded += bytes.len() as u64;
                return;
            }
            Mode::Waiting | Mode::Shell => {}
        }
        let mut echo = Vec::new();
        for &byte in bytes {
            match self.editor.feed(byte, &mut echo) {
                Edit::Pending => {}
                Edit::Line(line) if line.trim().is_empty() => echo.extend_from_slice(PROMPT),
                Edit::Line(line) => {
                    if self.commands.len() < QUEUE_MAX {
                        self.commands.push_back(line);
                    }
                }
                Edit::Interrupt => echo.extend_from_slice(PROMPT),
                Edit::EndOfInput => {
                    if self.commands.len() < QUEUE_MAX {
                        self.commands.push_back(String::from("exit"));
                    }
                }
            }
        }
        self.send(&echo);
    }
}

pub struct SshSession {
    socket: SocketHandle,
    runner: Option<Box<Runner<'static, Server>>>,
    channel: Channel,
}

impl SshSession {
    pub fn new(sockets: &mut SocketSet<'static>) -> SshSession {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 16 * 1024]),
            tcp::SocketBuffer::new(vec![0; 64 * 1024]),
        );
        SshSession {
            socket: sockets.add(socket),
            runner: None,
            channel: Channel::new(),
        }
    }

    fn reset(&mut self) {
        self.runner = None;
        self.channel = Channel::new();
    }

    /// Moves bytes both ways and handles what sunset asks; re-listens once a connection is
    /// over. `true` if anything moved.
    pub fn step(&mut self, sockets: &mut SocketSet<'static>, credentials: &Credentials) -> bool {
        let socket = sockets.get_mut::<tcp::Socket>(self.socket);
        match socket.state() {
            State::Closed => {
                if self.runner.is_some() {
                    self.reset();
                }
                // Listening on a fixed port cannot fail on a closed socket.
                let _ = socket.listen(SSH_PORT);
                return false;
            }
            State::Listen | State::SynReceived | State::SynSent => return false,
            State::TimeWait => {
                // Over on both sides, the server having closed first (a late login, a client
                // gone). Waiting out TIME-WAIT would keep the slot from the next client for
                // smoltcp's 10 s; the reset this sends reaches a connection already gone.
                socket.abort();
                return true;
            }
            _ => {}
        }
        let now = control::monotonic_ns();
        let deadline = *self
            .channel
            .login_deadline
            .get_or_insert(now.saturating_add(credentials.login_grace_ns));
        if !self.channel.authenticated && now >= deadline {
            return close_late_login(socket, now - deadline);
        }
        if now < self.channel.hold_until {
            return false;
        }
        if self.channel.failures >= MAX_FAILURES {
            socket.abort();
            return true;
        }
        let runner = self
            .runner
            .get_or_insert_with(|| Box::new(Runner::new_server_owned()));
        match exchange(socket, runner, &mut self.channel, credentials) {
            Ok(moved) => moved,
            Err(_) => {
                // A protocol error, a hostile peer or a closed channel: drop the connection.
                socket.abort();
                true
            }
        }
    }

    /// The next line to run, unless one is running or the channel is ending.
    pub fn next_command(&mut self) -> Option<String> {
        let channel = &mut self.channel;
        if channel.busy || channel.exit.is_some() {
            return None;
        }
        let command = channel.commands.pop_front()?;
        channel.busy = true;
        Some(command)
    }

    /// A command's output and status; `close` (the `exit` command) ends a shell.
    pub fn answer(&mut self, output: Vec<u8>, status: u8, close: bool) {
        let channel = &mut self.channel;
        channel.busy = false;
        if channel.handle.is_none() {
            // The peer left while its command ran.
            return;
        }
        channel.send(&output);
        match channel.mode {
            Mode::Exec => channel.exit = Some(u32::from(status)),
            _ if close => channel.exit = Some(0),
            _ => channel.send(PROMPT),
        }
    }
}

/// Ends a connection whose login grace time has passed: a FIN first, so the client reads an
/// end of stream; a reset once [`CLOSE_LINGER_NS`] has passed without the client closing its
/// side. `true` if the socket's state changed.
fn close_late_login(socket: &mut tcp::Socket<'static>, overdue_ns: u64) -> bool {
    match socket.state() {
        State::Established | State::CloseWait => {
            socket.close();
            true
        }
        _ if overdue_ns >= CLOSE_LINGER_NS => {
            socket.abort();
            true
        }
        _ => false,
    }
}

/// One round of a connection: socket → sunset, sunset's events, channel data both ways,
/// sunset → socket.
fn exchange(
    socket: &mut tcp::Socket<'static>,
    runner: &mut Runner<'static, Server>,
    channel: &mut Channel,
    credentials: &Credentials,
) -> sunset::Result<bool> {
    let mut moved = false;
    while runner.is_input_ready() && socket.can_recv() {
        let taken = socket
            .recv(|data| match runner.input(data) {
                Ok(n) => (n, Ok(n)),
                Err(e) => (0, Err(e)),
            })
            .map_err(|_| sunset::Error::ChannelEOF)??;
        if taken == 0 {
            break;
        }
        moved = true;
    }
    if !socket.may_recv() {
        runner.close_input();
    }
    for _ in 0..EVENTS_PER_STEP {
        let (quiet, open) = match runner.progress()? {
            Event::None => (true, true),
            Event::Serv(event) => (false, handle(event, channel, credentials)?),
            _ => (false, true),
        };
        if !open {
            // The client is gone and everything it sent is handled.
            socket.close();
            return Ok(true);
        }
        moved |= !quiet;
        moved |= read_channel(runner, channel)?;
        if quiet || control::monotonic_ns() < channel.hold_until {
            break;
        }
    }
    moved |= write_channel(runner, channel)?;
    if control::monotonic_ns() < channel.hold_until {
        // A refusal waits in sunset's output for its delay to pass.
        return Ok(moved);
    }
    let pending = runner.output_buf();
    if !pending.is_empty() && socket.can_send() {
        let sent = socket.send_slice(pending).unwrap_or(0);
        runner.consume_output(sent);
        moved |= sent > 0;
    }
    if socket.state() == State::CloseWait && !runner.is_output_pending() {
        socket.close();
    }
    Ok(moved)
}

/// Answers one of sunset's questions; `false` ends the connection.
fn handle(
    event: ServEvent<'_, '_>,
    channel: &mut Channel,
    credentials: &Credentials,
) -> sunset::Result<bool> {
    let password = !credentials.password.is_empty();
    let pubkey = !credentials.authorized.is_empty();
    match event {
        ServEvent::Hostkeys(request) => request.hostkeys(&[&credentials.host_key])?,
        ServEvent::FirstAuth(mut request) => {
            request.set_auth_methods(password, pubkey)?;
            request.reject()?;
        }
        ServEvent::PasswordAuth(request) => {
            // Both comparisons are constant-time; both always run.
            let user = request.matches_username(USER);
            let secret = request.matches_password(&credentials.password);
            if password && user && secret {
                request.allow()?;
            } else {
                channel.refuse();
                request.reject()?;
            }
        }
        ServEvent::PubkeyAuth(request) => {
            // A key or name the server cannot read is refused like an unknown one, with
            // USERAUTH_FAILURE (RFC 4252 §7), not by dropping the connection. A request whose
            // signature does not verify never gets here: sunset refuses it itself.
            let known = match request.pubkey() {
                Ok(PubKey::Ed25519(key)) => credentials.authorized.contains(&key.key.0),
                _ => false,
            };
            if known && request.username().is_ok_and(|name| name == USER) {
                request.allow()?;
            } else {
                // A client offers its keys one by one: only a signed attempt is a failure.
                request.reject()?;
            }
        }
        ServEvent::Authenticated => channel.authenticated = true,
        ServEvent::OpenSession(request) => {
            if channel.handle.is_none() {
                channel.handle = Some(request.accept()?);
            } else {
                request.reject(ChanFail::SSH_OPEN_RESOURCE_SHORTAGE)?;
            }
        }
        ServEvent::SessionPty(request) => request.succeed()?,
        ServEvent::SessionShell(request) if channel.mode == Mode::Waiting => {
            request.succeed()?;
            channel.mode = Mode::Shell;
            channel.send(BANNER);
            channel.send(PROMPT);
        }
        ServEvent::SessionExec(request) if channel.mode == Mode::Waiting => {
            let command = String::from(request.command()?);
            request.succeed()?;
            if command.trim() == "discard" {
                channel.mode = Mode::Discard;
            } else {
                channel.mode = Mode::Exec;
                channel.commands.push_back(command);
            }
        }
        ServEvent::SessionShell(request) => request.fail()?,
        ServEvent::SessionExec(request) | ServEvent::SessionSubsystem(request) => request.fail()?,
        ServEvent::SessionEnv(request) => request.fail()?,
        ServEvent::Defunct => return Ok(false),
        ServEvent::PollAgain => {}
    }
    Ok(true)
}

/// Keystrokes (or a command's input) from the client.
fn read_channel(
    runner: &mut Runner<'static, Server>,
    channel: &mut Channel,
) -> sunset::Result<bool> {
    let Some(handle) = channel.handle.as_ref() else {
        return Ok(false);
    };
    let mut typed = Vec::new();
    let mut buf = [0u8; 512];
    let mut ended = false;
    loop {
        match runner.read_channel(handle, ChanData::Normal, &mut buf) {
            Ok(0) => break,
            Ok(n) => typed.extend_from_slice(&buf[..n]),
            Err(sunset::Error::ChannelEOF) => {
                ended = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    channel.typed(&typed);
    // The client sent EOF: an exec command still finishes, a shell ends, `discard` says how
    // much it read.
    if ended && channel.exit.is_none() && !channel.busy {
        match channel.mode {
            Mode::Shell => channel.exit = Some(0),
            Mode::Discard => {
                let said = alloc::format!("discarded {} bytes\r\n", channel.discarded);
                channel.send(said.as_bytes());
                channel.exit = Some(0);
            }
            Mode::Waiting | Mode::Exec => {}
        }
    }
    Ok(!typed.is_empty())
}

/// The shell's output to the client, then the exit status once it is all out.
fn write_channel(
    runner: &mut Runner<'static, Server>,
    channel: &mut Channel,
) -> sunset::Result<bool> {
    let Some(handle) = channel.handle.as_ref() else {
        return Ok(false);
    };
    let mut moved = false;
    while !channel.outbox.is_empty() {
        let (front, _) = channel.outbox.as_slices();
        let n = runner.write_channel(handle, ChanData::Normal, front)?;
        if n == 0 {
            break;
        }
        channel.outbox.drain(..n);
        moved = true;
    }
    if let Some(status) = channel.exit {
        if channel.outbox.is_empty() && !channel.busy {
            runner.exit_session(handle, status)?;
            if let Some(handle) = channel.handle.take() {
                runner.channel_done(handle)?;
            }
            moved = true;
        }
    }
    Ok(moved)
}

/// Hidden `ssh-kex-cost`: times, on this CPU in this mode, what one login costs the server in
/// public-key work: an X25519 key pair and shared secret (curve25519-sha256), an ML-KEM-768
/// encapsulation (mlkem768x25519-sha256 adds it to the X25519 work), and the ed25519
/// signature of the exchange hash.
pub fn kex_cost() {
    use ml_kem::kem::EncapsulationKey;
    use ml_kem::{DecapsulationKey, KeyExport, MlKem768, Seed, B32};
    use sunset::ed25519_dalek::Signer;

    let random32 = || {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&control::random_u64().to_le_bytes());
        }
        bytes
    };
    let timed = |what: &str, work: &mut dyn FnMut()| {
        let started = control::monotonic_ns();
        work();
        let ns = control::monotonic_ns().saturating_sub(started);
        crate::kprintln!("{what:<34} {}.{:03} ms", ns / 1_000_000, ns / 1000 % 1000);
        ns
    };
    let (ours, theirs) = (random32(), random32());
    let mut shared = [0u8; 32];
    let x25519 = timed("x25519 key pair and shared secret", &mut || {
        let public = x25519_dalek::x25519(ours, x25519_dalek::X25519_BASEPOINT_BYTES);
        shared = x25519_dalek::x25519(ours, theirs);
        shared[0] ^= public[0];
    });
    let mut seed = Seed::default();
    seed.copy_from_slice(&[random32(), random32()].concat());
    let client: DecapsulationKey<MlKem768> = DecapsulationKey::from_seed(seed);
    let sent = client.encapsulation_key().to_bytes();
    let mut message = B32::default();
    message.copy_from_slice(&random32());
    let mlkem = timed("ML-KEM-768 encapsulation", &mut || {
        if let Ok(key) = EncapsulationKey::<MlKem768>::new(&sent) {
            let (_ciphertext, secret) = key.encapsulate_deterministic(&message);
            shared[1] ^= secret[0];
        }
    });
    let host = sunset::ed25519_dalek::SigningKey::from_bytes(&random32());
    let sign = timed("ed25519 signature", &mut || {
        shared[2] ^= host.sign(&shared).to_bytes()[0];
    });
    let (classic, hybrid) = (x25519 + sign, x25519 + mlkem + sign);
    crate::kprintln!(
        "per login: curve25519-sha256 {} us, mlkem768x25519-sha256 {} us",
        classic / 1000,
        hybrid / 1000
    );
}
