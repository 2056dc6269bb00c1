//! The real OpenSSH client against the guest's SSH server, on 127.0.0.1 only: runs with a
//! password (`sshpass`) or a key, an interactive session through tmux, a key whose agent
//! forges its signatures, and hostile clients that speak raw TCP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;

/// Whether `ssh`, `ssh-keygen`, `sshpass` and tmux are installed; says `SKIP:` when one is not.
pub fn client_available() -> bool {
    for tool in ["ssh", "ssh-keygen", "sshpass", "tmux"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            println!(
                "SKIP: `{tool}` is not installed (apt-get install openssh-client sshpass tmux)"
            );
            return false;
        }
    }
    true
}

/// An SSH client for one server port, with its own known_hosts file.
pub struct Client {
    pub port: u16,
    pub known_hosts: PathBuf,
}

impl Client {
    pub fn new(port: u16, dir: &Path) -> Client {
        Client {
            port,
            known_hosts: dir.join("known_hosts"),
        }
    }

    fn command(&self) -> Command {
        let mut ssh = Command::new("ssh");
        ssh.args(["-F", "/dev/null", "-p", &self.port.to_string()])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(["-o", "StrictHostKeyChecking=accept-new"])
            .args(["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=120"])
            .args(["-o", "NumberOfPasswordPrompts=1"]);
        ssh
    }

    /// `ssh -p PORT labvisor@127.0.0.1 COMMAND` with a password, through sshpass.
    pub fn with_password(&self, password: &str, user: &str, command: &str) -> Output {
        let mut ssh = Command::new("sshpass");
        ssh.arg("-e").env("SSHPASS", password);
        ssh.arg("ssh").args(self.command().get_args());
        ssh.args(["-o", "PreferredAuthentications=password"])
            .arg(format!("{user}@127.0.0.1"))
            .arg(command);
        run(ssh)
    }

    /// `ssh -i KEY -p PORT labvisor@127.0.0.1 COMMAND`, the key being the only way in tried.
    pub fn with_key(&self, key: &Path, command: &str) -> Output {
        let mut ssh = self.command();
        ssh.arg("-i")
            .arg(key)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .args(["-o", "PreferredAuthentications=publickey"])
            .arg("labvisor@127.0.0.1")
            .arg(command);
        run(ssh)
    }

    /// `ssh -i KEY.pub` whose only identity is held by [`ForgingAgent`]: OpenSSH offers the
    /// key, the server accepts the offer (USERAUTH_PK_OK), and the signed request that follows
    /// carries 64 made-up bytes for a signature. Returns the client's output and how many
    /// signatures the agent was asked for.
    pub fn with_forged_signature(
        &self,
        dir: &Path,
        key_pub: &Path,
        command: &str,
    ) -> (Output, usize) {
        let agent = ForgingAgent::start(dir, key_pub);
        let mut ssh = self.command();
        ssh.arg("-i")
            .arg(key_pub)
            .arg("-o")
            .arg(format!("IdentityAgent={}", agent.socket.display()))
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .args(["-o", "PreferredAuthentications=publickey"])
            .arg("labvisor@127.0.0.1")
            .arg(command);
        let out = run(ssh);
        (out, agent.stop())
    }

    /// An interactive session with a PTY inside tmux: waits for the prompt, runs `command`,
    /// types `exit`. Returns the screen and whether the ssh process ended after `exit`.
    pub fn interactive(&self, password: &str, command: &str) -> (String, bool) {
        let session = format!("labvisor-ssh-{}-{}", self.port, std::process::id());
        let ssh = format!(
            "sshpass -e ssh {} -tt -o PreferredAuthentications=password labvisor@127.0.0.1; \
             echo SSH-ENDED-$?; sleep 60",
            self.command()
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let started = Command::new("tmux")
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", &session])
            .arg("-e")
            .arg(format!("SSHPASS={password}"))
            .arg(ssh)
            .status()
            .is_ok_and(|s| s.success());
        assert!(started, "tmux starts a session");
        let screen = |session: &str| {
            let out = Command::new("tmux")
                .args(["capture-pane", "-p", "-t", session])
                .output()
                .expect("tmux captures the pane");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let wait_for = |needle: &str| {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !screen(&session).contains(needle) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(200));
            }
        };
        wait_for("labvisor# ");
        let keys = |text: &str| {
            let _ = Command::new("tmux")
                .args(["send-keys", "-t", &session, "-l", text])
                .status();
            let _ = Command::new("tmux")
                .args(["send-keys", "-t", &session, "Enter"])
                .status();
        };
        keys(command);
        thread::sleep(Duration::from_secs(2));
        keys("exit");
        wait_for("SSH-ENDED-");
        let shown = screen(&session);
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &session])
            .status();
        let ended = shown.contains("SSH-ENDED-0");
        (shown, ended)
    }
}

/// An ssh-agent (draft-miller-ssh-agent: REQUEST_IDENTITIES 11 → IDENTITIES_ANSWER 12,
/// SIGN_REQUEST 13 → SIGN_RESPONSE 14, anything else → FAILURE 5) that holds one public key
/// and answers every signature request with 64 made-up bytes as an ssh-ed25519 signature.
struct ForgingAgent {
    socket: PathBuf,
    stopping: Arc<AtomicBool>,
    signed: Arc<AtomicUsize>,
    thread: thread::JoinHandle<()>,
}

impl ForgingAgent {
    fn start(dir: &Path, key_pub: &Path) -> ForgingAgent {
        let text = std::fs::read_to_string(key_pub).expect("the public key reads");
        let blob = text
            .split_whitespace()
            .nth(1)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .expect("an OpenSSH public key line");
        let socket = dir.join("forging-agent.sock");
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).expect("the agent's socket binds");
        let stopping = Arc::new(AtomicBool::new(false));
        let signed = Arc::new(AtomicUsize::new(0));
        let (stop, count) = (Arc::clone(&stopping), Arc::clone(&signed));
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve_agent(stream, &blob, &count);
                }
            }
        });
        ForgingAgent {
            socket,
            stopping,
            signed,
            thread,
        }
    }

    /// Ends the agent; how many signatures it forged.
    fn stop(self) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = UnixStream::connect(&self.socket);
        let _ = self.thread.join();
        self.signed.load(Ordering::SeqCst)
    }
}

fn serve_agent(mut stream: UnixStream, blob: &[u8], signed: &AtomicUsize) {
    let string = |bytes: &[u8]| [&(bytes.len() as u32).to_be_bytes()[..], bytes].concat();
    let mut len = [0u8; 4];
    while stream.read_exact(&mut len).is_ok() {
        let mut request = vec![0u8; u32::from_be_bytes(len).min(1 << 20) as usize];
        if stream.read_exact(&mut request).is_err() {
            return;
        }
        let reply = match request.first() {
            Some(11) => [&[12u8, 0, 0, 0, 1][..], &string(blob), &string(b"forged")].concat(),
            Some(13) => {
                signed.fetch_add(1, Ordering::SeqCst);
                let forged: Vec<u8> = (0..64).map(|i| (i * 37 + 11) as u8).collect();
                let signature = [string(b"ssh-ed25519"), string(&forged)].concat();
                [&[14u8][..], &string(&signature)].concat()
            }
            _ => vec![5],
        };
        if stream.write_all(&string(&reply)).is_err() {
            return;
        }
    }
}

fn run(mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("the ssh client runs")
}

/// Raw bytes to the server, as a hostile client: `bytes` are sent and the connection closed.
pub fn hostile(port: u16, bytes: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the forward accepts");
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.write_all(bytes);
    thread::sleep(Duration::from_millis(500));
}

/// The hostile corpus: random bytes, a key exchange cut short, a packet length of 2^32-1.
pub fn hostile_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..65536)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut truncated = b"SSH-2.0-hostile\r\n".to_vec();
    // A KEXINIT packet that announces 1000 bytes and sends 21.
    truncated.extend_from_slice(&1000u32.to_be_bytes());
    truncated.extend_from_slice(&[4, 20]);
    truncated.extend_from_slice(&[0x41; 15]);
    let mut huge = b"SSH-2.0-hostile\r\n".to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    huge.extend_from_slice(&[0; 64]);
    vec![
        ("random bytes", random),
        ("a truncated key exchange", truncated),
        ("a packet length of 2^32-1", huge),
    ]
}

/// A fresh ed25519 key pair in `dir` (`name` and `name.pub`).
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "ssh-keygen makes a key");
    key
}
