//! A tiny HTTP SMS gateway for tests: answers every request (200, or 500
//! for the first N when told to, or what a given function answers, as the
//! fake Twilio does) and records its method, path, headers and body (as
//! JSON and as form fields). Runs on its own threads, so it serves both
//! async tests and tests that drive the real daemon.
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
    /// The body read as URL-encoded form fields, in order.
    pub form: Vec<(String, String)>,
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

    /// The first form field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a gateway answers a request: a status and a JSON body.
pub type Responder = Arc<dyn Fn(&SmsRequest) -> (u16, String) + Send + Sync>;

/// The running gateway; its threads live as long as the test process.
#[derive(Clone)]
pub struct SmsGateway {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<SmsRequest>>>,
    failures_left: Arc<AtomicUsize>,
    responder: Option<Responder>,
}

impl SmsGateway {
    /// Starts listening on a free loopback port; answers 200 until told
    /// otherwise.
    pub fn start() -> SmsGateway {
        SmsGateway::listen(None)
    }

    /// Starts a gateway whose answers `respond` gives (after the failures
    /// asked for with [`SmsGateway::fail_first`]).
    pub fn answering(
        respond: impl Fn(&SmsRequest) -> (u16, String) + Send + Sync + 'static,
    ) -> SmsGateway {
        SmsGateway::listen(Some(Arc::new(respond)))
    }

    fn listen(responder: Option<Responder>) -> SmsGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMS gateway");
        let addr = listener.local_addr().expect("gateway address");
        let gateway = SmsGateway {
            addr,
            received: Arc::new(Mutex::new(Vec::new())),
            failures_left: Arc::new(AtomicUsize::new(0)),
            responder,
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

    /// The requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<SmsRequest> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits until at least `count` requests were received, whatever they
    /// were answered; panics after `limit`.
    pub fn wait_for_any(&self, count: usize, limit: Duration) -> Vec<SmsRequest> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            if start.elapsed() > limit {
                panic!("the SMS gateway received {} of {count}", got.len());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until at least `count` requests were answered with a 2xx; panics
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
        let mut request = SmsRequest {
            method,
            path,
            headers,
            json: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            form: form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect(),
            body,
            status: 0,
        };
        let (status, content) = match (fail, &self.responder) {
            (true, _) => (500, "fail".to_string()),
            (false, Some(respond)) => respond(&request),
            (false, None) => (200, "ok".to_string()),
        };
        request.status = status;
        self.received.lock().unwrap().push(request);
        let reason = match status {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let kind = match content.starts_with('{') {
            true => "application/json",
            false => "text/plain",
        };
        let answer = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{content}",
            content.len()
        );
        out.write_all(answer.as_bytes())?;
        out.flush()
    }
}
