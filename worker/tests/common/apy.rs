//! A real Apertium APy for tests: [`ApyProcess::start`] runs it on a free
//! port, returns once it answers, and kills it when dropped.
//!
//! Only the standard library, so any test crate can include it:
//! `#[path = "../../worker/tests/common/apy.rs"] mod apy;` from
//! `server/tests/`. Debian's `apertium-apy`, `apertium-eng-spa` and
//! `apertium-fr-es` must be installed (`scripts/install-tools.sh --browser`);
//! `APERTIUM_APY` and `APERTIUM_PAIRS` point elsewhere (the executable,
//! the directory of `.mode` files).
//!
//! The command run is `apertium-apy -p PORT /usr/share/apertium/modes`
//! with `LC_ALL=C.UTF-8`, as Debian's systemd unit does.
#![allow(dead_code)] // each test crate uses a part

use std::{
    fs::File,
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// The longest APy may take to answer after starting (about a second on a
/// laptop; Python imports are slow on a loaded CI machine).
const READY_WITHIN: Duration = Duration::from_secs(30);
/// A free port found by binding port 0 may be taken again before APy binds
/// it: start over on another port this many times.
const ATTEMPTS: usize = 3;

/// A running APy, killed (with the translation pipelines it started, which
/// exit when their input closes) when dropped.
pub struct ApyProcess {
    child: Option<Child>,
    port: u16,
    /// APy's output, read to explain a failed start; removed on drop.
    log: PathBuf,
}

impl ApyProcess {
    /// Starts APy and waits until `/listPairs` answers. Blocks for a second
    /// or two: call it before the test's async work, or in
    /// `spawn_blocking`. Panics, saying why, if APy cannot start.
    pub fn start() -> Self {
        Self::start_with(free_port, ATTEMPTS)
    }

    /// Starts APy on a given port: an engine coming back where it was.
    pub fn start_on(port: u16) -> Self {
        Self::start_with(|| port, ATTEMPTS)
    }

    fn start_with(port_to_try: impl Fn() -> u16, attempts: usize) -> Self {
        let program = std::env::var("APERTIUM_APY").unwrap_or_else(|_| "apertium-apy".into());
        let pairs = std::env::var("APERTIUM_PAIRS").unwrap_or_else(|_| "/usr/share/apertium/modes".into());
        let mut failures = Vec::new();
        for _ in 0..attempts {
            let port = port_to_try();
            let log = std::env::temp_dir().join(format!("apertium-apy-{}-{port}.log", std::process::id()));
            let output = File::create(&log).expect("creating APy's log file");
            let child = Command::new(&program)
                .args(["-p", &port.to_string(), &pairs])
                .env("LC_ALL", "C.UTF-8")
                .stdin(Stdio::null())
                .stdout(output.try_clone().expect("APy's log file"))
                // To a file, not a pipe: a pipe nobody reads fills up and
                // blocks APy, which logs every request.
                .stderr(output)
                .spawn();
            let child = match child {
                Ok(child) => child,
                Err(error) => {
                    let _ = std::fs::remove_file(&log);
                    if error.kind() == ErrorKind::NotFound {
                        panic!(
                            "`{program}` is not installed: `scripts/install-tools.sh --browser` installs Debian's apertium-apy \
                             (or set APERTIUM_APY)"
                        );
                    }
                    panic!("starting `{program}`: {error}");
                }
            };
            let mut apy = Self { child: Some(child), port, log };
            match apy.wait_ready() {
                Ok(()) => return apy,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("APy did not start ({program} -p PORT {pairs}):\n{}", failures.join("\n---\n"));
    }

    /// The base URL for an [`worker::translate::engine::EngineConfig`].
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills APy now (a test of what happens when the engine goes away).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for APy to answer, or says why it will not (with its output).
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("APy exited with {status}:\n{}", self.output()));
            }
            if let Some(pairs) = list_pairs(address) {
                // APy starts happily on a directory without modes.
                if !pairs.contains("sourceLanguage") {
                    self.stop();
                    return Err(format!("APy found no language pairs (install apertium-eng-spa): {pairs}"));
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!("APy did not answer within {READY_WITHIN:?}:\n{}", self.output()));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ApyProcess {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

/// The body of a successful `GET /listPairs`, if APy answers one yet, in
/// plain HTTP/1.0 (no client library, so this file needs nothing but std).
fn list_pairs(address: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(format!("GET /listPairs HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let ok = head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200");
    ok.then(|| body.to_owned())
}
