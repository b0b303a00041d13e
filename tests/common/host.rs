//! A Linux host for the tests that resolve and sign in dirgate's people
//! through the system's own NSS and PAM (SSSD, nslcd): the system files
//! such a test changes, saved first and put back as they were when the
//! guard drops (also when the test panics), the daemons it starts, stopped
//! then, and one lock so that two such tests never run at once (they share
//! /etc/nsswitch.conf and the daemons' sockets).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Held by the test that changes the host; other such tests (in any test
/// binary) wait for it.
const LOCK: &str = "/tmp/dirgate-host-tests.lock";

/// One system file as it was: its bytes and mode, or that it did not exist.
struct Saved {
    path: PathBuf,
    before: Option<(Vec<u8>, u32)>,
}

/// The host, changed for one test; everything put back on drop.
pub struct Host {
    _lock: File,
    saved: Vec<Saved>,
    daemons: Vec<(String, Child)>,
    /// Extra clean-up commands run on drop (clearing a daemon's cache).
    cleanups: Vec<Vec<String>>,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Host {
    /// Takes the lock, waiting for another host test to finish.
    pub fn take() -> Host {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK)
            .expect("the host-test lock file");
        lock.lock().expect("the host-test lock");
        Host {
            _lock: lock,
            saved: Vec::new(),
            daemons: Vec::new(),
            cleanups: Vec::new(),
            logs: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Saves `path` (once) before it is first changed.
    fn save(&mut self, path: &Path) {
        if self.saved.iter().any(|s| s.path == path) {
            return;
        }
        use std::os::unix::fs::PermissionsExt as _;
        let before = std::fs::read(path).ok().map(|bytes| {
            let mode = std::fs::metadata(path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0o644);
            (bytes, mode)
        });
        self.saved.push(Saved {
            path: path.to_owned(),
            before,
        });
    }

    /// Writes a system file with `mode`, saving what was there first.
    pub fn write(&mut self, path: &str, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = Path::new(path);
        self.save(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Removes a file (a daemon's cache), saving it first.
    pub fn remove(&mut self, path: &str) {
        let path = Path::new(path);
        self.save(path);
        let _ = std::fs::remove_file(path);
    }

    /// A command to run when the host is put back.
    pub fn on_drop(&mut self, command: &[&str]) {
        self.cleanups
            .push(command.iter().map(|s| (*s).to_owned()).collect());
    }

    /// Starts a daemon in the foreground; its output goes to `logs`.
    pub fn start(&mut self, name: &str, program: &str, args: &[&str]) {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e} (is it installed? see scripts/test)"));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = self.logs.clone();
            let name = name.to_owned();
            std::thread::spawn(move || {
                use std::io::BufRead as _;
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    logs.lock().unwrap().push(format!("{name}: {line}"));
                }
            });
        }
        self.daemons.push((name.to_owned(), child));
    }

    /// Stops the daemon started as `name` (SIGTERM, then SIGKILL).
    pub fn stop(&mut self, name: &str) {
        if let Some(i) = self.daemons.iter().position(|(n, _)| n == name) {
            let (_, child) = self.daemons.remove(i);
            stop_child(child);
        }
    }

    /// The daemons' output so far.
    pub fn log(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

fn stop_child(mut child: Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Host {
    fn drop(&mut self) {
        for (_, child) in self.daemons.drain(..).rev() {
            stop_child(child);
        }
        for cmd in &self.cleanups {
            if let Some((program, args)) = cmd.split_first() {
                let _ = Command::new(program).args(args).status();
            }
        }
        use std::os::unix::fs::PermissionsExt as _;
        for saved in self.saved.drain(..).rev() {
            match saved.before {
                Some((bytes, mode)) => {
                    let _ = std::fs::write(&saved.path, bytes);
                    let _ = std::fs::set_permissions(
                        &saved.path,
                        std::fs::Permissions::from_mode(mode),
                    );
                }
                None => {
                    let _ = std::fs::remove_file(&saved.path);
                }
            }
        }
    }
}

/// Runs a command; its status, standard output and standard error.
pub fn run(program: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write as _;
    // SSSD's NSS memory cache would outlive a restart of SSSD with another
    // configuration; without it the library asks the daemon each time.
    let mut child = Command::new(program)
        .args(args)
        .env("SSS_NSS_USE_MEMCACHE", "NO")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        let _ = input.write_all(text.as_bytes());
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `getent DATABASE KEY`'s line, waiting up to `limit` for it to appear.
pub fn getent_until(database: &str, key: &str, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        let (ok, out, _) = run("getent", &[database, key], None);
        if ok {
            return Some(out.trim().to_owned());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The nsswitch.conf a test installs: `source` after the local files for
/// people and groups.
pub fn nsswitch(source: &str) -> String {
    format!(
        "# written by a dirgate test; the original is put back after it\n\
         passwd: files {source}\ngroup: files {source}\nshadow: files\n\
         hosts: files dns\nnetworks: files\nprotocols: db files\nservices: db files\n\
         ethers: db files\nrpc: db files\nnetgroup: files\n"
    )
}
