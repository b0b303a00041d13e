//! `/metrics`: scraped with curl and read by the Prometheus project's own
//! text parser (Python `prometheus_client`), counting what the test did.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{cli, write_config, Daemon};
use serde_json::Value;

const BASE: &str = "dc=example,dc=com";
const PW: &str = "Correct7Horse";

/// Reads the exposition with `text_string_to_metric_families` and prints
/// every sample as `[name, labels, value]`.
const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append([s.name, s.labels, s.value])
print(json.dumps(samples))
"#;

fn dn(user: &str) -> String {
    format!("uid={user},ou=people,{BASE}")
}

fn ldap(d: &Daemon, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (is ldap-utils installed?)\n{}", d.log()))
}

/// A GET over HTTPS (the daemon's certificate trusted): status and body.
fn get(d: &Daemon, path: &str, headers: &[&str]) -> (u16, String) {
    let cert = d.data.join("tls").join("cert.pem");
    let url = format!("https://localhost:{}{path}", d.https.unwrap().port());
    curl(
        Command::new("curl").arg("--cacert").arg(&cert).arg(&url),
        headers,
    )
}

/// A GET over the plain HTTP listener (the one meant for a proxy).
fn get_plain(d: &Daemon, path: &str, headers: &[&str]) -> (u16, String) {
    let url = format!("http://{}{path}", d.http.unwrap());
    curl(Command::new("curl").arg(&url), headers)
}

fn curl(cmd: &mut Command, headers: &[&str]) -> (u16, String) {
    cmd.args(["-sS", "-w", "\n%{http_code}"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.output().expect("curl (is it installed?)");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap(), body.to_owned())
}

/// The samples of an exposition, as the Prometheus parser reads them.
fn parse(text: &str) -> Vec<(String, Value, f64)> {
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the metrics (is prometheus_client installed?): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: Vec<(String, Value, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    samples
}

/// The value of the sample `name` whose labels include `labels` (0 when
/// there is none, as Prometheus reads an absent counter).
fn value(samples: &[(String, Value, f64)], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[*k].as_str() == Some(*v)))
        .map(|(_, _, v)| *v)
        .collect();
    assert!(
        found.len() <= 1,
        "{name} {labels:?} is ambiguous: {found:?}"
    );
    found.first().copied().unwrap_or(0.0)
}

fn token_for(d: &Daemon, user: &str) -> String {
    cli(d, &["token", "issue", user], None).trim().to_owned()
}

#[test]
fn metrics_count_what_the_faces_served() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let pw = format!("{PW}\n");
    cli(&d, &["user", "add", "alice", "--password-stdin"], Some(&pw));
    let token = token_for(&d, "admin");
    let url = format!("ldap://{}", d.ldap.unwrap());
    let alice = dn("alice");

    // LDAP: one failed bind, two bound searches.
    let out = ldap(
        &d,
        "ldapwhoami",
        &["-x", "-H", &url, "-D", &alice, "-w", "Wrong7Horse"],
    );
    assert!(!out.status.success(), "a wrong password binds");
    for _ in 0..2 {
        let out = ldap(
            &d,
            "ldapsearch",
            &[
                "-x",
                "-LLL",
                "-H",
                &url,
                "-D",
                &alice,
                "-w",
                PW,
                "-b",
                BASE,
                "(uid=alice)",
                "1.1",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // SCIM: two listings, one without a token, one schema read.
    let bearer = format!("Authorization: Bearer {token}");
    assert_eq!(get(&d, "/scim/v2/Users", &[&bearer]).0, 200);
    assert_eq!(get(&d, "/scim/v2/Users?count=1", &[&bearer]).0, 200);
    assert_eq!(get(&d, "/scim/v2/Users", &[]).0, 401);
    assert_eq!(get(&d, "/scim/v2/Schemas", &[&bearer]).0, 200);

    // Scraped from loopback: served by default, on both listeners.
    let (status, text) = get(&d, "/metrics", &[]);
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(&token), "a token in the metrics");
    assert!(!text.contains("alice"), "a user name in the metrics");
    let s = parse(&text);
    let ops = "dirgate_operations_total";
    let ldap_op = |op: &str, result: &str| {
        value(
            &s,
            ops,
            &[("face", "ldap"), ("operation", op), ("result", result)],
        )
    };
    assert_eq!(ldap_op("bind", "success"), 2.0, "{text}");
    assert_eq!(ldap_op("bind", "invalidCredentials"), 1.0, "{text}");
    assert_eq!(ldap_op("search", "success"), 2.0, "{text}");
    assert_eq!(
        value(
            &s,
            "dirgate_bind_failures_total",
            &[("reason", "invalid_credentials")]
        ),
        1.0
    );
    let bind_failures: f64 = s
        .iter()
        .filter(|(n, _, _)| n == "dirgate_bind_failures_total")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(bind_failures, 1.0, "{text}");
    let scim_op = |op: &str, result: &str| {
        value(
            &s,
            ops,
            &[("face", "scim"), ("operation", op), ("result", result)],
        )
    };
    assert_eq!(scim_op("GET Users", "200"), 2.0, "{text}");
    assert_eq!(scim_op("GET Users", "401"), 1.0, "{text}");
    assert_eq!(scim_op("GET Schemas", "200"), 1.0, "{text}");
    let scim_total: f64 = s
        .iter()
        .filter(|(n, l, _)| n == ops && l["face"] == "scim")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(scim_total, 4.0, "{text}");

    // Latency histograms count the same operations.
    let hist = "dirgate_operation_duration_seconds_count";
    assert_eq!(
        value(&s, hist, &[("face", "ldap"), ("operation", "bind")]),
        3.0
    );
    assert_eq!(
        value(&s, hist, &[("face", "scim"), ("operation", "GET Users")]),
        3.0
    );
    assert_eq!(
        value(
            &s,
            "dirgate_operation_duration_seconds_bucket",
            &[("face", "scim"), ("operation", "GET Users"), ("le", "+Inf")]
        ),
        3.0
    );

    // The scrape's own connection is open; the outbox is empty.
    assert!(value(&s, "dirgate_open_connections", &[("face", "http")]) >= 1.0);
    assert!(s
        .iter()
        .any(|(n, l, _)| n == "dirgate_open_connections" && l["face"] == "ldap"));
    for state in ["pending", "delivered", "failed"] {
        assert!(
            s.iter().any(|(n, l, v)| n == "dirgate_outbox_messages"
                && l["state"] == state
                && *v == 0.0),
            "{state}: {text}"
        );
    }
    assert_eq!(
        value(&s, "dirgate_outbox_delivery_failures_total", &[]),
        0.0
    );

    // The plain listener serves it too, but not what a proxy forwards.
    assert_eq!(get_plain(&d, "/metrics", &[]).0, 200);
    assert_eq!(
        get_plain(&d, "/metrics", &["X-Forwarded-For: 203.0.113.7"]).0,
        404
    );
    assert_eq!(
        get_plain(&d, "/metrics", &["Forwarded: for=203.0.113.7"]).0,
        404
    );
    // Scrapes are not operations.
    let again = parse(&get(&d, "/metrics", &[]).1);
    assert_eq!(
        value(
            &again,
            ops,
            &[
                ("face", "scim"),
                ("operation", "GET Users"),
                ("result", "200")
            ]
        ),
        2.0
    );
}

#[test]
fn metrics_off_is_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[http]\n", "[http]\nmetrics = \"off\"\n");
    std::fs::write(&config, text).unwrap();
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    assert_eq!(get(&d, "/metrics", &[]).0, 404);
    assert_eq!(get_plain(&d, "/metrics", &[]).0, 404);
    assert_eq!(get(&d, "/healthz", &[]).0, 200);
}
