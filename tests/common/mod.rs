//! Starting and stopping the real `dirgate` binary for integration tests.
#![allow(dead_code)]

pub mod host;
pub mod scim_client;
pub mod sms_gateway;
pub mod smtp_sink;
pub mod smtp_tls;
pub mod twilio;

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
    /// Secrets this test handled (passwords, tokens, codes, links): none
    /// may appear in the daemon's log; see [`Daemon::secret`].
    secrets: Arc<Mutex<Vec<String>>>,
    /// The threads reading the daemon's output, joined once it exits so the
    /// log checked is the whole log.
    pumps: Vec<std::thread::JoinHandle<()>>,
    log_checked: bool,
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

fn pump(
    stream: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(l) => into.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    })
}

/// The `addr=` value of the first log line containing `marker`.
fn addr_after(lines: &[String], marker: &str) -> Option<SocketAddr> {
    let line = lines.iter().find(|l| l.contains(marker))?;
    let start = line.find("addr=")? + 5;
    line[start..].split_whitespace().next()?.parse().ok()
}

impl Daemon {
    /// Starts a daemon in `data` with `config`, and waits for it to be ready.
    ///
    /// The daemon logs at `debug` unless the configuration names a level,
    /// so the check of its log for secrets covers its chattiest output.
    pub fn start_in(data: &Path, config: &Path) -> Daemon {
        if let Ok(text) = std::fs::read_to_string(config) {
            if !text.contains("[log]") {
                std::fs::write(config, format!("{text}\n[log]\nlevel = \"debug\"\n")).unwrap();
            }
        }
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
        let pumps = vec![
            pump(child.stderr.take().unwrap(), stderr.clone()),
            pump(child.stdout.take().unwrap(), stdout.clone()),
        ];
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
            secrets: Arc::new(Mutex::new(Vec::new())),
            pumps,
            log_checked: false,
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
        if let Some(password) = daemon.admin_password.clone() {
            daemon.secret(&password);
        }
        daemon
    }

    /// Registers a secret this test handled (a password, bearer token,
    /// reset token or link, one-time code, TOTP secret): when the daemon
    /// stops or is dropped its whole log is checked for it, and for the
    /// shapes no secret may take in a log (see [`check_log`]). Commands run
    /// through [`Daemon::command`] register theirs on their own.
    pub fn secret(&self, secret: &str) {
        let secret = secret.trim();
        if !secret.is_empty() {
            self.secrets.lock().unwrap().push(secret.to_owned());
        }
    }

    /// Where [`Daemon::secret`] keeps them, for helpers that outlive a
    /// borrow of the daemon (a browser, say).
    pub fn secret_sink(&self) -> SecretSink {
        SecretSink(self.secrets.clone())
    }

    /// Registers a bind credential: the whole of it and, when it ends in a
    /// one-time code (six digits), the code too.
    pub fn bind_secret(&self, credential: &str) {
        self.secret(credential);
        if let Some(code) = credential.get(credential.len().saturating_sub(6)..) {
            if credential.len() > 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                self.secret(code);
            }
        }
    }

    /// Registers the passwords in an ldap-utils command line (the values of
    /// `-w`, `-a` and `-s`).
    pub fn tool_secrets(&self, args: &[&str]) {
        for pair in args.windows(2) {
            if ["-w", "-a", "-s"].contains(&pair[0]) {
                self.bind_secret(pair[1]);
            }
        }
    }

    /// The secrets registered so far.
    pub fn secrets(&self) -> Vec<String> {
        self.secrets.lock().unwrap().clone()
    }

    /// Checks the whole log of a daemon that has exited; once.
    fn check_log_once(&mut self) {
        if self.log_checked {
            return;
        }
        self.log_checked = true;
        for pump in self.pumps.drain(..) {
            let _ = pump.join();
        }
        let lines = self.stderr.lock().unwrap().clone();
        let secrets = self.secrets();
        if let Err(e) = check_log(&lines, &secrets) {
            panic!("a secret in the daemon's log: {e}");
        }
        eprintln!(
            "log check: {} lines, {} secrets, none found",
            lines.len(),
            secrets.len()
        );
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
    /// Passwords given on standard input and the secrets a command prints
    /// (bearer tokens, TOTP secrets) are registered with [`Daemon::secret`].
    pub fn command(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let out = run_cli(&self.data, &self.config, args, stdin);
        if out.status.success() {
            // Only a password that was taken: a refused one may be a common
            // word the log rightly holds ("password").
            if let Some(text) = stdin.filter(|_| args.contains(&"--password-stdin")) {
                self.secret(text);
            }
            let printed = String::from_utf8_lossy(&out.stdout);
            match args {
                ["token", "issue", ..] => self.secret(&printed),
                ["user", "enrol-totp", ..] => {
                    for line in printed.lines() {
                        for word in line.split_whitespace() {
                            if word.starts_with("otpauth://") {
                                self.secret(word);
                                if let Some(s) = word.split("secret=").nth(1) {
                                    self.secret(s.split('&').next().unwrap_or(s));
                                }
                            } else if word.len() >= 16
                                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '=')
                            {
                                self.secret(word);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
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
                self.check_log_once();
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
        // A test already failing has said what went wrong.
        if !std::thread::panicking() {
            self.check_log_once();
        }
    }
}

/// A handle registering secrets with one daemon ([`Daemon::secret_sink`]).
#[derive(Clone)]
pub struct SecretSink(Arc<Mutex<Vec<String>>>);

impl SecretSink {
    pub fn secret(&self, secret: &str) {
        let secret = secret.trim();
        if !secret.is_empty() {
            self.0.lock().unwrap().push(secret.to_owned());
        }
    }
}

/// Checks a daemon's log (text or JSON lines) against the secrets a test
/// registered and against what no log may ever hold: a bearer token
/// (`dgt_…`), a reset link's `token=…`, an `Authorization` header's value,
/// a `password` or `userPassword` value, a password hash, an `otpauth://`
/// URI. The error names the offending line.
pub fn check_log(lines: &[String], secrets: &[String]) -> Result<(), String> {
    for line in lines {
        let text = without_timestamp(line);
        let lower = text.to_ascii_lowercase();
        for secret in secrets {
            if contains_secret(text, secret) {
                return Err(format!("the registered secret {secret:?} in: {line}"));
            }
        }
        let shapes: [(&str, usize); 9] = [
            ("dgt_", 8),
            ("token=", 16),
            ("token\":\"", 16),
            ("authorization: ", 1),
            ("bearer ", 8),
            ("password=", 1),
            ("password\":\"", 1),
            ("userpassword: ", 1),
            ("otpauth://", 1),
        ];
        for (shape, at_least) in shapes {
            let mut from = 0;
            while let Some(at) = lower[from..].find(shape) {
                let value_at = from + at + shape.len();
                let value: String = text[value_at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "_-.~+/=%{}$".contains(*c))
                    .collect();
                if value.len() >= at_least {
                    return Err(format!("{shape:?} followed by a value in: {line}"));
                }
                from = value_at;
            }
        }
        for hash in ["$argon2id$", "{ssha}", "{crypt}", "{argon2}"] {
            if lower.contains(hash) {
                return Err(format!("a password hash ({hash}) in: {line}"));
            }
        }
    }
    Ok(())
}

/// A text log line starts with its time; a JSON one carries it as
/// `"timestamp"`. Either could hold six digits that happen to be a code.
fn without_timestamp(line: &str) -> &str {
    if line.starts_with('{') {
        return line
            .find("\"timestamp\":\"")
            .and_then(|at| {
                let rest = &line[at + 13..];
                rest.find('"').map(|end| &rest[end + 1..])
            })
            .unwrap_or(line);
    }
    match line.split_once(' ') {
        Some((first, rest)) if first.contains('T') && first.ends_with('Z') => rest,
        _ => line,
    }
}

/// A short all-digit secret (a one-time code) counts only as a whole
/// number; anything else counts wherever it appears, also JSON-escaped.
fn contains_secret(text: &str, secret: &str) -> bool {
    if secret.len() < 10 && secret.bytes().all(|b| b.is_ascii_digit()) {
        let mut from = 0;
        while let Some(at) = text[from..].find(secret) {
            let start = from + at;
            let end = start + secret.len();
            let before = text[..start].bytes().next_back();
            let after = text[end..].bytes().next();
            let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
            if !alnum(before) && !alnum(after) {
                return true;
            }
            from = start + 1;
        }
        return false;
    }
    if text.contains(secret) {
        return true;
    }
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    escaped != secret && text.contains(escaped)
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
        // A command that reads nothing may have exited already: a broken
        // pipe here is no failure (its exit status says whether it was).
        if let Err(e) = input.write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
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

/// The value of the first HTML input named `name` in a page.
pub fn form_field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
        + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}
