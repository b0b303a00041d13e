//! Starting and stopping the real `dirgate` binary for integration tests.
#![allow(dead_code)]

pub mod sms_gateway;
pub mod smtp_sink;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_dirgate");

/// A running daemon on free loopback ports, killed when dropped.
pub struct Daemon {
    pub child: Option<Child>,
    pub data: PathBuf,
    pub config: PathBuf,
    pub ldap: Option<SocketAddr>,
    pub ldaps: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    /// The bootstrap password printed on the first start, if any.
    pub admin_password: Option<String>,
    pub stderr: Arc<Mutex<Vec<String>>>,
    pub stdout: Arc<Mutex<Vec<String>>>,
}

/// A configuration putting every listener on a free port, with cheap
/// argon2 parameters so tests stay quick; `extra` is appended.
pub fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("dirgate.toml");
    let text = format!(
        "[ldap]\nlisten = \"127.0.0.1:0\"\nldaps_listen = \"127.0.0.1:0\"\n\
         [http]\nhttps_listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
         [password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nfailure_wait_max_ms = 20\n{extra}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn pump(stream: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(l) => into.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
}

/// The `addr=` value of the first log line containing `marker`.
fn addr_after(lines: &[String], marker: &str) -> Option<SocketAddr> {
    let line = lines.iter().find(|l| l.contains(marker))?;
    let start = line.find("addr=")? + 5;
    line[start..].split_whitespace().next()?.parse().ok()
}

impl Daemon {
    /// Starts a daemon in `data` with `config`, and waits for it to be ready.
    pub fn start_in(data: &Path, config: &Path) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--data"])
            .arg(data)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dirgate");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        pump(child.stderr.take().unwrap(), stderr.clone());
        pump(child.stdout.take().unwrap(), stdout.clone());
        let mut daemon = Daemon {
            child: Some(child),
            data: data.to_path_buf(),
            config: config.to_path_buf(),
            ldap: None,
            ldaps: None,
            https: None,
            http: None,
            admin_password: None,
            stderr,
            stdout,
        };
        daemon.wait_for_log("dirgate ready", Duration::from_secs(60));
        let lines = daemon.stderr.lock().unwrap().clone();
        daemon.ldap = addr_after(&lines, "ldap listening");
        daemon.ldaps = addr_after(&lines, "ldaps listening");
        daemon.https = addr_after(&lines, "https listening");
        daemon.http = addr_after(&lines, "http listening");
        // The bootstrap line is printed before "ready" is logged.
        daemon.admin_password = daemon
            .stdout
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.split("with the password: ").nth(1).map(str::to_owned));
        daemon
    }

    /// Waits until a stderr line contains `text`; panics with the log if the
    /// daemon exits or the time runs out.
    pub fn wait_for_log(&mut self, text: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            if self.stderr.lock().unwrap().iter().any(|l| l.contains(text)) {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    std::thread::sleep(Duration::from_millis(100));
                    panic!("dirgate exited ({status}) before {text:?}:\n{}", self.log());
                }
            }
            if start.elapsed() > limit {
                panic!("no {text:?} within {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Runs a `dirgate` command against the same data folder and config.
    pub fn command(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        run_cli(&self.data, &self.config, args, stdin)
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Let the pumps drain the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!(
                    "dirgate did not stop within 30 s of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn run_cli(
    data: &Path,
    config: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs a `dirgate` command against `d`'s data and config, asserts it
/// succeeded, and gives its standard output.
pub fn cli(d: &Daemon, args: &[&str], stdin: Option<&str>) -> String {
    let out = d.command(args, stdin);
    assert!(
        out.status.success(),
        "dirgate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
