//! A tiny HTTP SMS gateway for tests: answers every request (200, or 500
//! for the first N when told to) and records its method, path, headers and
//! JSON body. Runs on its own threads, so it serves both async tests and
//! tests that drive the real daemon.
//!
//!     let gateway = SmsGateway::start();
//!     gateway.fail_first(2);              // two 500s, then 200s
//!     let config = gateway.config();      // an [sms] section for it
//!     let sent = gateway.wait_for(1, Duration::from_secs(10));
//!     assert_eq!(sent[0].json["to"], "+447700900123");
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the gateway received it.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub method: String,
    /// The path and query, e.g. `/send?x=1`.
    pub path: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub json: serde_json::Value,
    /// The status the gateway answered.
    pub status: u16,
}

impl SmsRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The running gateway; its threads live as long as the test process.
#[derive(Clone)]
pub struct SmsGateway {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<SmsRequest>>>,
    failures_left: Arc<AtomicUsize>,
}

impl SmsGateway {
    /// Starts listening on a free loopback port; answers 200 until told
    /// otherwise.
    pub fn start() -> SmsGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMS gateway");
        let addr = listener.local_addr().expect("gateway address");
        let gateway = SmsGateway {
            addr,
            received: Arc::new(Mutex::new(Vec::new())),
            failures_left: Arc::new(AtomicUsize::new(0)),
        };
        let shared = gateway.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = shared.serve(stream);
                });
            }
        });
        gateway
    }

    /// Answers the next `n` requests with 500.
    pub fn fail_first(&self, n: usize) {
        self.failures_left.store(n, Ordering::SeqCst);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to POST to (path `/send`).
    pub fn url(&self) -> String {
        format!("http://{}/send", self.addr)
    }

    /// An `[sms]` section that sends to this gateway with the default
    /// template and no Authorization header.
    pub fn config(&self) -> String {
        format!("[sms]\nurl = \"{}\"\n", self.url())
    }

    /// Every request received so far, failed ones included.
    pub fn received(&self) -> Vec<SmsRequest> {
        self.received.lock().unwrap().clone()
    }

    /// The requests answered 200.
    pub fn delivered(&self) -> Vec<SmsRequest> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    /// Waits until at least `count` requests were answered 200; panics
    /// after `limit`.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<SmsRequest> {
        let start = Instant::now();
        loop {
            let sent = self.delivered();
            if sent.len() >= count {
                return sent;
            }
            if start.elapsed() > limit {
                panic!("the SMS gateway delivered {} of {count}", sent.len());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut out = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let fail = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let status = if fail { 500 } else { 200 };
        self.received.lock().unwrap().push(SmsRequest {
            method,
            path,
            headers,
            json: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            body,
            status,
        });
        let answer = if fail {
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfail"
        } else {
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        };
        out.write_all(answer.as_bytes())?;
        out.flush()
    }
}
