//! A real TLS SMTP server for tests: Python's aiosmtpd (tests/common/
//! smtp_tls.py) with STARTTLS or implicit TLS, a certificate for 127.0.0.1
//! signed by a test CA made here, and AUTH PLAIN/LOGIN for one user. The
//! server is stopped when this value is dropped.
//!
//!     let smtp = SmtpTls::start(Mode::StartTls, dir);
//!     let config = smtp.config();          // [email] with ca_file and login
//!     let mails = smtp.wait_for(1, Duration::from_secs(10));
//!     assert!(mails[0].tls);
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USER: &str = "mailer@example.com";
pub const PASSWORD: &str = "Smtp-pa55word-for-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain connection, STARTTLS required before AUTH and MAIL (587).
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct TlsMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers, blank line, body.
    pub data: String,
    /// Whether it came over TLS.
    pub tls: bool,
    /// The mechanism the client logged in with, if it did.
    pub mechanism: Option<String>,
}

/// A CA and a server certificate it signed, as PEM files in a folder.
pub struct TestCa {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCa {
    /// A new CA called `name`, and a certificate for 127.0.0.1 and
    /// localhost signed by it, written under `dir`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, name);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        leaf.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        let files = TestCa {
            ca_file: dir.join(format!("{name}-ca.pem")),
            cert_file: dir.join(format!("{name}-server.pem")),
            key_file: dir.join(format!("{name}-server.key")),
        };
        std::fs::write(&files.ca_file, ca_cert.pem()).unwrap();
        std::fs::write(&files.cert_file, cert.pem()).unwrap();
        std::fs::write(&files.key_file, key.serialize_pem()).unwrap();
        files
    }
}

pub struct SmtpTls {
    child: Child,
    pub port: u16,
    pub mode: Mode,
    pub ca: TestCa,
    mails: Arc<Mutex<Vec<TlsMail>>>,
    /// Each AUTH the server saw: (mechanism, accepted, over TLS).
    auths: Arc<Mutex<Vec<(String, bool, bool)>>>,
}

impl SmtpTls {
    /// Starts the server with a new test CA's certificate, files under `dir`.
    pub fn start(mode: Mode, dir: &Path) -> SmtpTls {
        let name = match mode {
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        };
        let ca = TestCa::new(dir, name);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/smtp_tls.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(name)
            .arg(&ca.cert_file)
            .arg(&ca.key_file)
            .arg(USER)
            .arg(PASSWORD)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let stdout = child.stdout.take().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let auths = Arc::new(Mutex::new(Vec::new()));
        let (ready, port) = std::sync::mpsc::channel();
        let (into, auth_into) = (mails.clone(), auths.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                match event["event"].as_str() {
                    Some("ready") => {
                        let _ = ready.send(event["port"].as_u64().unwrap_or(0) as u16);
                    }
                    Some("auth") => auth_into.lock().unwrap().push((
                        event["mechanism"].as_str().unwrap_or("").to_string(),
                        event["ok"].as_bool().unwrap_or(false),
                        event["tls"].as_bool().unwrap_or(false),
                    )),
                    Some("message") => into.lock().unwrap().push(TlsMail {
                        from: event["mail_from"].as_str().unwrap_or("").to_string(),
                        to: event["rcpt_tos"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        data: event["data"].as_str().unwrap_or("").to_string(),
                        tls: event["tls"].as_bool().unwrap_or(false),
                        mechanism: event["auth"]["mechanism"].as_str().map(str::to_string),
                    }),
                    _ => {}
                }
            }
        });
        let port = port
            .recv_timeout(Duration::from_secs(30))
            .expect("the TLS SMTP server did not start (is aiosmtpd installed?)");
        SmtpTls {
            child,
            port,
            mode,
            ca,
            mails,
            auths,
        }
    }

    /// An `[email]` section for this server: host 127.0.0.1, its mode, the
    /// test CA as `ca_file`, and the login with its password in
    /// `password_file` (written here).
    pub fn config(&self, password_file: &Path) -> String {
        self.config_with_ca(password_file, &self.ca.ca_file)
    }

    /// The same with another CA file (to see a wrong one refused).
    pub fn config_with_ca(&self, password_file: &Path, ca_file: &Path) -> String {
        std::fs::write(password_file, format!("{PASSWORD}\n")).unwrap();
        let security = match self.mode {
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        };
        format!(
            "[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{security}\"\n\
             username = \"{USER}\"\npassword_file = \"{}\"\nca_file = \"{}\"\n\
             from = \"Directory <directory@example.com>\"\n",
            self.port,
            password_file.display(),
            ca_file.display()
        )
    }

    pub fn received(&self) -> Vec<TlsMail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn auths(&self) -> Vec<(String, bool, bool)> {
        self.auths.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages arrived; panics after `limit`.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<TlsMail> {
        let start = Instant::now();
        loop {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            if start.elapsed() > limit {
                panic!("the TLS SMTP server got {} of {count}", mails.len());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
