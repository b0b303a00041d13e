//! A SCIM client for the tests: curl (an independent HTTPS client) against
//! a daemon's `/scim/v2`, trusting its certificate.

use std::process::Command;

use serde_json::Value;

use super::Daemon;

/// One answer: the status, the lower-cased head and the JSON body (Null
/// when there is none).
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: Value,
}

/// `method path` with an optional JSON body, as the holder of `token`.
pub fn scim(d: &Daemon, token: &str, method: &str, path: &str, body: Option<&Value>) -> Answer {
    let cert = d.data.join("tls").join("cert.pem");
    let url = format!(
        "https://localhost:{}/scim/v2{path}",
        d.https.expect("an HTTPS listener").port()
    );
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--cacert"]).arg(&cert);
    cmd.args(["-X", method]).arg(&url);
    cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/scim+json", "--data-binary"])
            .arg(b.to_string());
    }
    let out = cmd.output().expect("curl (is it installed?)");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("a UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// A bearer token for `user`, from `dirgate token issue`.
pub fn token_for(d: &Daemon, user: &str) -> String {
    let out = d.command(&["token", "issue", user], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("dgt_"))
        .expect("a token")
        .to_owned()
}

/// A query string value, percent-encoded.
pub fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
