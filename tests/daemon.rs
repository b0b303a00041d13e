//! The daemon as an operator runs it: start on free ports, report ready,
//! command line alongside, SIGTERM, and refusal of bad files.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::{run_cli, write_config, Daemon, BIN};

/// GET over TLS, trusting the daemon's generated certificate.
fn https_get(addr: std::net::SocketAddr, cert: &std::path::Path, path: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response);
    response
}

#[test]
fn serves_reports_ready_works_beside_the_cli_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    let mut daemon = Daemon::start_in(&data, &config);

    // Every listener reported its address and accepts connections.
    for addr in [daemon.ldap, daemon.ldaps, daemon.https, daemon.http] {
        let addr =
            addr.unwrap_or_else(|| panic!("a listener address is missing:\n{}", daemon.log()));
        TcpStream::connect(addr).unwrap();
    }
    // The first start made the super admin and printed its password once.
    let password = daemon
        .admin_password
        .clone()
        .expect("bootstrap password printed");
    assert!(password.len() >= 24);
    assert!(
        !daemon.log().contains(&password),
        "the password must never be logged"
    );
    // The generated certificate is where the log says, and HTTPS serves with it.
    let cert = data.join("tls").join("cert.pem");
    assert!(
        daemon.log().contains(&cert.display().to_string()),
        "{}",
        daemon.log()
    );
    let response = https_get(daemon.https.unwrap(), &cert, "/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let response = https_get(daemon.https.unwrap(), &cert, "/nowhere");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(
        response.contains("urn:ietf:params:scim:api:messages:2.0:Error"),
        "{response}"
    );

    // The command line works against the same data while the daemon runs.
    let out = daemon.command(&["token", "issue", "admin", "--expires-days", "7"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("dgt_"), "{token}");
    let out = daemon.command(&["token", "list"], None);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("admin") && listing.contains("live"),
        "{listing}"
    );
    assert!(
        !listing.contains(&token),
        "token list must not show secrets"
    );
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let out = daemon.command(&["token", "revoke", &id], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(daemon.command(&["token", "list"], None).stdout).unwrap();
    assert!(listing.contains("revoked"), "{listing}");

    // user set-password applies the policy and names the failed rule.
    let out = daemon.command(
        &["user", "set-password", "admin", "--password-stdin"],
        Some("weak\n"),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upper-case") && err.contains("digit"), "{err}");
    let out = daemon.command(
        &["user", "set-password", "admin", "--password-stdin"],
        Some("Fresh8Start\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(daemon.command(&["user", "show", "ADMIN"], None).stdout).unwrap();
    assert!(
        shown.contains("Super Admin") && shown.contains("Administrator"),
        "{shown}"
    );
    assert!(!shown.contains("argon2"), "no hash in user show: {shown}");

    let status = daemon.stop();
    assert!(status.success(), "exit {status}:\n{}", daemon.log());
    assert!(daemon.log().contains("dirgate stopped"), "{}", daemon.log());

    // A second start of the same folder makes no new admin.
    let mut again = Daemon::start_in(&data, &config);
    assert_eq!(again.admin_password, None);
    assert!(again.stop().success());
}

#[test]
fn a_corrupt_or_newer_database_stops_the_start_and_is_left_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("dirgate.db");

    let garbage = b"this is not an SQLite database, just some bytes".repeat(200);
    std::fs::write(&db, &garbage).unwrap();
    let out = run_cli(&data, &config, &["serve"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a dirgate database") || err.contains("not a database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the corrupt file was modified"
    );

    // A database from a newer dirgate: made with the real schema, then
    // stamped with a higher version.
    std::fs::remove_file(&db).unwrap();
    let out = run_cli(&data, &config, &["user", "show", "admin"], None);
    assert!(
        !out.status.success(),
        "no admin yet, but the store is created"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let out = run_cli(&data, &config, &["serve"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("999") && err.contains("upgrade"), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the newer file was modified"
    );
}

#[test]
fn a_bad_configuration_stops_the_start_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (text, key) in [
        ("[ldap]\nlistne = \"127.0.0.1:1\"\n", "listne"),
        ("[password]\nmin_length = \"eight\"\n", "min_length"),
        (
            "[directory]\ndefault_time_zone = \"Mars/Olympus\"\n",
            "default_time_zone",
        ),
        ("[ldap]\nlisten = \"nowhere\"\n", "listen"),
    ] {
        let config = tmp.path().join("bad.toml");
        std::fs::write(&config, text).unwrap();
        let out = std::process::Command::new(BIN)
            .args(["serve", "--data"])
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{text}: {err}");
    }
    assert!(
        !data.exists(),
        "a refused start must not create the data folder"
    );
}

#[test]
fn requests_and_connections_carry_ids_and_logs_can_be_json() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    // An HTTP answer names its request id.
    let answer = https_get(
        d.https.unwrap(),
        &d.data.join("tls").join("cert.pem"),
        "/healthz",
    );
    let id = answer
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id: ")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no request id in {answer}"));
    assert_eq!(id.trim().len(), 16, "{id}");
    // An LDAP connection's log lines carry its id.
    let out = std::process::Command::new("ldapwhoami")
        .args([
            "-x",
            "-H",
            &format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port()),
        ])
        .args(["-D", "admin", "-w", "Wrong7Secret"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let start = std::time::Instant::now();
    while !d.log().contains("ldap{conn=") {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }

    // --log-json: every line the daemon writes is a JSON object.
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let mut child = std::process::Command::new(BIN)
        .args(["serve", "--log-json", "--data"])
        .arg(tmp.path().join("data"))
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut line).unwrap() == 0 {
            break;
        }
        let ready = line.contains("dirgate ready");
        lines.push(line);
        if ready {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|l| l.contains("dirgate ready")),
        "{lines:?}"
    );
    for line in &lines {
        let parsed: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert!(parsed["fields"]["message"].is_string(), "{line}");
    }
}
