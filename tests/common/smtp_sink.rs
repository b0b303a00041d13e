//! A tiny SMTP server for tests: speaks just enough ESMTP for a client with
//! no encryption (EHLO, optional AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT)
//! and records every message. Runs on its own threads, so it serves both
//! async tests and tests that drive the real daemon.
//!
//!     let sink = SmtpSink::start();
//!     let config = sink.config();         // an [email] section for it
//!     let mails = sink.wait_for(1, Duration::from_secs(10));
//!     assert!(mails[0].body().contains("123456"));
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// The MAIL FROM address, without angle brackets.
    pub from: String,
    /// The RCPT TO addresses, without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after DATA (headers, blank line, body), with
    /// CRLF line ends and dot-stuffing undone.
    pub data: String,
    /// The user name of an AUTH PLAIN on the same connection, if any.
    pub auth_user: Option<String>,
}

impl Mail {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// Everything after the headers, decoded from quoted-printable when the
    /// message says it is (as a mail client would show it).
    pub fn body(&self) -> String {
        let raw = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        let quoted = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if quoted {
            decode_quoted_printable(&raw)
        } else {
            raw
        }
    }
}

/// The running sink; its threads live as long as the test process.
#[derive(Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Mail>>>,
    /// The first word of every command received, upper-cased.
    commands: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts listening on a free loopback port.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("sink address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let (store, seen) = (received.clone(), commands.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (store, seen) = (store.clone(), seen.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &store, &seen);
                });
            }
        });
        SmtpSink {
            addr,
            received,
            commands,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An `[email]` section that sends to this sink without encryption.
    pub fn config(&self) -> String {
        format!(
            "[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
            self.addr.port()
        )
    }

    /// The first word of every command received so far (EHLO, AUTH, ...).
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages arrived; panics after `limit`.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            if start.elapsed() > limit {
                panic!("the SMTP sink got {} of {count} messages", mails.len());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(
    stream: TcpStream,
    store: &Mutex<Vec<Mail>>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP ready\r\n")?;
    let mut mail = Mail::default();
    let mut auth_user = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let upper = command.to_ascii_uppercase();
        seen.lock()
            .unwrap()
            .push(upper.split_whitespace().next().unwrap_or("").to_string());
        if upper.starts_with("EHLO") {
            out.write_all(
                b"250-sink greets you\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SMTPUTF8\r\n",
            )?;
        } else if upper.starts_with("HELO") {
            out.write_all(b"250 sink\r\n")?;
        } else if upper.starts_with("AUTH PLAIN ") {
            auth_user = plain_user(&command[11..]);
            out.write_all(b"235 2.7.0 accepted\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail {
                from: address(&command[10..]),
                auth_user: auth_user.clone(),
                ..Mail::default()
            };
            out.write_all(b"250 2.1.0 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address(&command[8..]));
            out.write_all(b"250 2.1.5 ok\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mail.data = data;
            store.lock().unwrap().push(std::mem::take(&mut mail));
            out.write_all(b"250 2.0.0 queued\r\n")?;
        } else if upper == "RSET" || upper == "NOOP" {
            out.write_all(b"250 ok\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// `<a@b> SIZE=12` → `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    let end = arg.find('>').map_or(arg.len(), |i| i + 1);
    arg[..end]
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// The user of an AUTH PLAIN initial response (base64 of `\0user\0pass`).
fn plain_user(b64: &str) -> Option<String> {
    let bytes = data_encoding::BASE64.decode(b64.trim().as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.split('\0').nth(1).map(str::to_string)
}

/// RFC 2045 quoted-printable: `=` at a line end joins lines, `=XX` is a byte.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
