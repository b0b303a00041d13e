//! Resource limits through the real daemon (issue 7): 10,000 idle LDAP
//! connections held without harm to an active client, connections past
//! `[ldap] max_connections` told busy, HTTP bodies and headers over their
//! limits, TLS 1.2 and 1.3 only; and the log check every test's daemon gets
//! (tests/common/mod.rs) catching what it must.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapFilter, LdapMsg, LdapOp, LdapResultCode,
    LdapSearchRequest, LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use tokio_util::codec::{Decoder, Encoder};

use common::{cli, write_config, Daemon};

const BASE: &str = "dc=example,dc=com";
const NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";

/// Raises this process's soft limit on open files to its hard limit, which
/// must allow `want`.
fn raise_open_files(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    assert!(
        limit.rlim_max >= want,
        "this test needs a hard limit on open files of at least {want} (ulimit -Hn is {})",
        limit.rlim_max
    );
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: as above.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

fn encode(msg: LdapMsg) -> Vec<u8> {
    let mut buf = BytesMut::new();
    LdapCodec::default().encode(msg, &mut buf).unwrap();
    buf.to_vec()
}

fn bind_request(id: i32, user: &str, password: &str) -> Vec<u8> {
    encode(LdapMsg::new(
        id,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: format!("uid={user},ou=people,{BASE}"),
            cred: LdapBindCred::Simple(password.into()),
        }),
    ))
}

fn search_request(id: i32, uid: &str) -> Vec<u8> {
    encode(LdapMsg::new(
        id,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: BASE.into(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter: LdapFilter::Equality("uid".into(), uid.into()),
            attrs: vec!["uid".into()],
        }),
    ))
}

/// Reads messages until one answers the request (a bind or search done);
/// the messages read, that one last.
fn read_until_done(s: &mut TcpStream) -> Vec<LdapMsg> {
    let mut codec = LdapCodec::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    loop {
        while let Some(msg) = codec.decode(&mut buf).unwrap() {
            let done = matches!(
                msg.op,
                LdapOp::BindResponse(_) | LdapOp::SearchResultDone(_) | LdapOp::ExtendedResponse(_)
            );
            got.push(msg);
            if done {
                return got;
            }
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).expect("an answer");
        assert!(n > 0, "closed before an answer; got {got:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn result_code(msg: &LdapMsg) -> LdapResultCode {
    match &msg.op {
        LdapOp::BindResponse(r) => r.res.code.clone(),
        LdapOp::SearchResultDone(r) => r.code.clone(),
        LdapOp::ExtendedResponse(r) => r.res.code.clone(),
        other => panic!("not an answer: {other:?}"),
    }
}

/// Reads what the server sends until it closes: the notice of disconnection
/// it sent first, if any.
fn notice_then_close(s: &mut TcpStream) -> Option<(LdapResultCode, String)> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)
        .expect("the server closes the connection");
    let mut buf = BytesMut::from(&bytes[..]);
    let msg = LdapCodec::default().decode(&mut buf).ok()??;
    match msg.op {
        LdapOp::ExtendedResponse(r) => {
            assert_eq!(msg.msgid, 0, "a notice is unsolicited");
            assert_eq!(r.name.as_deref(), Some(NOTICE_OF_DISCONNECTION));
            Some((r.res.code, r.res.message))
        }
        other => panic!("not a notice of disconnection: {other:?}"),
    }
}

fn pid(d: &Daemon) -> u32 {
    d.child.as_ref().unwrap().id()
}

fn open_files(d: &Daemon) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", pid(d)))
        .unwrap()
        .count()
}

/// `dirgate_open_connections{face="ldap"}` from /metrics on plain HTTP.
fn open_ldap_connections(d: &Daemon) -> usize {
    let mut s = TcpStream::connect(d.http.unwrap()).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("dirgate_open_connections{face=\"ldap\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no open LDAP connections in {text}"))
}

/// The daemon's resident memory, in KiB.
fn rss_kib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid(d))).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// One round of the active client: a new connection, a bind, a search that
/// finds exactly the one entry; how long it took.
fn active_round(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut ldap = ldap3::LdapConn::with_settings(
        ldap3::LdapConnSettings::new().set_conn_timeout(Duration::from_secs(30)),
        &format!("ldap://{addr}"),
    )
    .unwrap();
    ldap.simple_bind(&format!("uid=active,ou=people,{BASE}"), "Active7Secret")
        .unwrap()
        .success()
        .unwrap();
    let (entries, _) = ldap
        .search(BASE, ldap3::Scope::Subtree, "(uid=held)", vec!["uid"])
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let entry = ldap3::SearchEntry::construct(entries.into_iter().next().unwrap());
    assert_eq!(entry.dn, format!("uid=held,ou=people,{BASE}"));
    ldap.unbind().unwrap();
    started.elapsed()
}

#[test]
fn ten_thousand_idle_connections_leave_an_active_client_served() {
    const IDLE: usize = 10_000;
    const BOUND: usize = 200;
    const HALF_SENT: usize = 200;
    let started = Instant::now();
    raise_open_files(IDLE as u64 + 1_000);
    let tmp = tempfile::tempdir().unwrap();
    // The default [ldap] max_connections (16,384) must allow them.
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    assert!(
        d.log()
            .contains("open files limit (soft) raised to the hard limit"),
        "{}",
        d.log()
    );
    for (user, password) in [("held", "Held7Secret"), ("active", "Active7Secret")] {
        cli(
            &d,
            &["user", "add", user, "--password-stdin"],
            Some(&format!("{password}\n")),
        );
    }
    let addr = d.ldap.unwrap();
    let baseline = active_round(addr);
    let rss_before = rss_kib(&d);
    let files_before = open_files(&d);

    // 10,000 connections: most silent, some bound, some half-way through a
    // search request.
    let search = search_request(2, "held");
    let mut held = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        let mut s = TcpStream::connect(addr).unwrap();
        if i < BOUND {
            s.write_all(&bind_request(1, "held", "Held7Secret"))
                .unwrap();
            let answer = read_until_done(&mut s);
            assert_eq!(result_code(answer.last().unwrap()), LdapResultCode::Success);
        } else if i < BOUND + HALF_SENT {
            s.write_all(&search[..search.len() / 2]).unwrap();
        }
        held.push(s);
        // Paced by what the daemon has accepted, so the test measures the
        // daemon rather than the kernel's accept queue (a connection it
        // drops waits a second before trying again).
        if held.len() % 500 == 0 {
            let waiting = Instant::now();
            while open_files(&d) + 10 < files_before + held.len() {
                assert!(waiting.elapsed() < Duration::from_secs(30), "not accepted");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let opened_in = started.elapsed();
    // The daemon holds them all.
    let waiting = Instant::now();
    while open_ldap_connections(&d) < IDLE {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the daemon holds {} connections",
            open_ldap_connections(&d)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss_held = rss_kib(&d);

    // The active client, meanwhile: binds and searches, each answered right.
    let mut latencies: Vec<Duration> = (0..30).map(|_| active_round(addr)).collect();
    let out = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-H", &format!("ldap://{addr}")])
        .args(["-D", &format!("uid=active,ou=people,{BASE}")])
        .args(["-w", "Active7Secret", "-b", BASE, "(uid=held)", "uid"])
        .env("LDAPCONF", "/dev/null")
        .output()
        .expect("ldapsearch (is ldap-utils installed?)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("uid: held"));

    // Every held connection is still open; the bound ones still answer as
    // their account, the half-sent ones finish their request.
    for (i, s) in held.iter_mut().enumerate() {
        s.set_nonblocking(true).unwrap();
        let mut one = [0u8; 1];
        match s.read(&mut one) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("held connection {i} was touched: {other:?}"),
        }
        s.set_nonblocking(false).unwrap();
    }
    for s in held.iter_mut().take(BOUND).step_by(10) {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(&search_request(3, "held")).unwrap();
        let answer = read_until_done(s);
        assert_eq!(answer.len(), 2, "one entry and done: {answer:?}");
        assert_eq!(result_code(answer.last().unwrap()), LdapResultCode::Success);
    }
    for s in held.iter_mut().skip(BOUND).take(HALF_SENT).step_by(10) {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(&search[search.len() / 2..]).unwrap();
        let answer = read_until_done(s);
        // Anonymous: answered, and refused as anonymous searches are.
        assert_eq!(
            result_code(answer.last().unwrap()),
            LdapResultCode::InsufficentAccessRights,
            "{answer:?}"
        );
    }
    let files_held = open_files(&d);
    drop(held);

    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "limits: {IDLE} idle LDAP connections ({BOUND} bound, {HALF_SENT} half-way through a \
         message) opened in {:.1} s; daemon files {files_before} -> {files_held}; VmRSS \
         {rss_before} KiB -> {rss_held} KiB ({:.1} KiB a connection); active client \
         (connect, bind, search, unbind) alone {:.1} ms, with them held: min {:.1} ms, \
         median {:.1} ms, max {:.1} ms over {} rounds; test took {:.1} s",
        opened_in.as_secs_f64(),
        (rss_held.saturating_sub(rss_before)) as f64 / IDLE as f64,
        ms(baseline),
        ms(latencies[0]),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
        latencies.len(),
        started.elapsed().as_secs_f64(),
    );
    // With them gone, the daemon serves on.
    active_round(addr);
}

/// The answer of a curl request: status, lower-cased headers, body.
fn curl(args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "30"])
        .args(args)
        .output()
        .expect("curl (is it installed?)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn is_scim_error(answer: &(u16, String, String), status: u16) {
    let (got, head, body) = answer;
    assert_eq!(*got, status, "{head}{body}");
    assert!(
        head.contains("content-type: application/scim+json"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(body["status"], status.to_string());
}

#[test]
fn connection_message_body_and_header_limits_answer_with_their_codes() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace(
            "[ldap]\n",
            "[ldap]\nmax_connections = 3\nmax_message_bytes = 4096\n",
        )
        .replace(
            "[http]\n",
            "[http]\nmax_body_bytes = 65536\nmax_connections = 3\n",
        );
    std::fs::write(&config, text).unwrap();
    let mut d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &["user", "add", "held", "--password-stdin"],
        Some("Held7Secret\n"),
    );
    let ldap = d.ldap.unwrap();
    let ldaps = d.ldaps.unwrap();
    let whoami = || {
        Command::new("ldapwhoami")
            .args(["-x", "-H", &format!("ldap://{ldap}")])
            .args(["-D", "held", "-w", "Held7Secret"])
            .env("LDAPCONF", "/dev/null")
            .output()
            .expect("ldapwhoami (is ldap-utils installed?)")
    };

    // LDAP: three connections held (on both listeners: the limit is
    // shared); a fourth is told busy (51) and closed on plain LDAP, closed
    // on LDAPS.
    let mut first = TcpStream::connect(ldap).unwrap();
    first
        .write_all(&bind_request(1, "held", "Held7Secret"))
        .unwrap();
    assert_eq!(
        result_code(read_until_done(&mut first).last().unwrap()),
        LdapResultCode::Success
    );
    let second = TcpStream::connect(ldap).unwrap();
    let third = TcpStream::connect(ldaps).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut fourth = TcpStream::connect(ldap).unwrap();
    let told = notice_then_close(&mut fourth);
    let (code, message) = told.expect("a notice of disconnection");
    assert_eq!(code, LdapResultCode::Busy, "{message}");
    // LDAPS: closed before any handshake.
    let mut fourth = TcpStream::connect(ldaps).unwrap();
    assert_eq!(notice_then_close(&mut fourth), None);
    let out = whoami();
    assert!(!out.status.success(), "refused while three are held");
    // Test daemons log at debug (tests/common), where refusals are told.
    d.wait_for_log(
        "ldap connection refused: max_connections reached",
        Duration::from_secs(10),
    );
    // The held ones are served throughout.
    first.write_all(&search_request(2, "held")).unwrap();
    let answer = read_until_done(&mut first);
    assert_eq!(answer.len(), 2, "{answer:?}");
    // One goes: a new client is served again.
    drop(second);
    let waiting = Instant::now();
    loop {
        let out = whoami();
        if out.status.success() {
            break;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A message over max_message_bytes: a notice of disconnection
    // (protocolError), and that connection closed.
    let mut big = Vec::from(&b"\x30\x82\x20\x00\x02\x01\x05\x63\x82\x1f\xf9"[..]);
    big.extend(std::iter::repeat_n(b'x', 0x1ff9));
    first.write_all(&big).unwrap();
    let (code, message) = notice_then_close(&mut first).expect("a notice of disconnection");
    assert_eq!(code, LdapResultCode::ProtocolError, "{message}");
    drop(third);

    // HTTP: a body over [http] max_body_bytes is 413 with a SCIM error,
    // whether its length is declared or it comes in chunks.
    let token = cli(&d, &["token", "issue", "admin"], None)
        .trim()
        .to_owned();
    let cert = d.data.join("tls").join("cert.pem");
    let cert = cert.to_str().unwrap();
    let users = format!(
        "https://localhost:{}/scim/v2/Users",
        d.https.unwrap().port()
    );
    let auth = format!("Authorization: Bearer {token}");
    let body_file = tmp.path().join("big.json");
    let big_user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "big",
        "displayName": "x".repeat(100_000),
    });
    std::fs::write(&body_file, big_user.to_string()).unwrap();
    let body_arg = format!("@{}", body_file.display());
    let common = [
        "--cacert",
        cert,
        "-H",
        &auth,
        "-H",
        "Content-Type: application/scim+json",
    ];
    let declared = curl(&[&common[..], &["--data-binary", &body_arg, &users]].concat());
    is_scim_error(&declared, 413);
    let chunked = curl(
        &[
            &common[..],
            &[
                "-H",
                "Transfer-Encoding: chunked",
                "--data-binary",
                &body_arg,
                &users,
            ],
        ]
        .concat(),
    );
    is_scim_error(&chunked, 413);
    // Just under the limit is served (padded with white space).
    let small_user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "small",
    });
    let padded = format!("{}{small_user}", " ".repeat(65_000));
    std::fs::write(&body_file, &padded).unwrap();
    assert!(padded.len() < 65_536);
    let created = curl(&[&common[..], &["--data-binary", &body_arg, &users]].concat());
    assert_eq!(created.0, 201, "{}{}", created.1, created.2);

    // Headers: the request's head is limited to 64 KiB (hyper counts
    // roughly: a head is refused somewhere between 64 and 128 KiB) and to
    // 100 headers; past either, 431. A 200,000-byte header and 150 headers
    // are refused, an 8,000-byte one is served.
    let headers_file = tmp.path().join("headers");
    let header_arg = format!("@{}", headers_file.display());
    let mut answers = Vec::new();
    for (what, text, status) in [
        (
            "a 200,000-byte header",
            format!("X-Long: {}\n", "y".repeat(200_000)),
            431,
        ),
        (
            "150 headers",
            (0..150).map(|i| format!("X-Many-{i}: {i}\n")).collect(),
            431,
        ),
        (
            "an 8,000-byte header",
            format!("X-Long: {}\n", "y".repeat(8_000)),
            200,
        ),
    ] {
        std::fs::write(&headers_file, text).unwrap();
        let answer = curl(&["--cacert", cert, "-H", &auth, "-H", &header_arg, &users]);
        assert_eq!(answer.0, status, "{what}: {}", answer.1);
        answers.push(format!("{what}: {}", answer.0));
    }
    eprintln!("limits: {}", answers.join("; "));

    // The daemon serves on, on every face.
    let served = curl(&["--cacert", cert, "-H", &auth, &users]);
    assert_eq!(served.0, 200, "{}{}", served.1, served.2);
    assert!(whoami().status.success());

    // HTTP connections: three held (HTTPS and HTTP share the limit); a
    // fourth is answered 503 on plain HTTP, closed on HTTPS; one goes, and
    // requests are served again.
    let (https, http) = (d.https.unwrap(), d.http.unwrap());
    let held = [
        TcpStream::connect(https).unwrap(),
        TcpStream::connect(https).unwrap(),
        TcpStream::connect(http).unwrap(),
    ];
    std::thread::sleep(Duration::from_millis(300));
    let refused = |addr: SocketAddr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Nothing written: the answer comes at once, unasked.
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("closed");
        String::from_utf8_lossy(&answer).into_owned()
    };
    let plain = refused(http);
    assert!(plain.starts_with("HTTP/1.1 503 "), "{plain}");
    assert_eq!(refused(https), "", "HTTPS: closed before a handshake");
    d.wait_for_log(
        "http connection refused: max_connections reached",
        Duration::from_secs(10),
    );
    drop(held);
    let waiting = Instant::now();
    loop {
        let answer = curl(&["--cacert", cert, "-H", &auth, &users]);
        if answer.0 == 200 {
            break;
        }
        assert!(waiting.elapsed() < Duration::from_secs(10), "{answer:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(d);

    // A max_connections the hard limit on open files cannot carry is
    // warned about at start.
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[ldap]\n", "[ldap]\nmax_connections = 1000000000\n");
    std::fs::write(&config, text).unwrap();
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    assert!(
        d.log()
            .contains("the open files limit is below what [ldap] and [http] max_connections need"),
        "{}",
        d.log()
    );
    eprintln!(
        "limits: codes test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A handshake with `openssl s_client` at one protocol version: whether it
/// succeeded, and what it said.
fn s_client(addr: SocketAddr, version: &str, starttls: bool) -> (bool, String) {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &addr.to_string(), version]);
    // Debian's OpenSSL refuses TLS 1.0 and 1.1 on its own side at its
    // default security level: lowered, so a refusal seen is the server's.
    cmd.args(["-cipher", "DEFAULT:@SECLEVEL=0"]);
    if starttls {
        cmd.args(["-starttls", "ldap"]);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl (is it installed?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn tls_offers_only_versions_1_2_and_1_3() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let mut seen = Vec::new();
    for (face, addr, starttls) in [
        ("LDAPS", d.ldaps.unwrap(), false),
        ("HTTPS", d.https.unwrap(), false),
        ("StartTLS", d.ldap.unwrap(), true),
    ] {
        for (flag, name) in [("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")] {
            let (ok, text) = s_client(addr, flag, starttls);
            assert!(!ok, "{face} accepted {name}:\n{text}");
            // The server's own refusal: an alert it sent (rustls answers a
            // hello offering nothing above 1.1 with handshake_failure, 40),
            // and no session.
            let alert = text
                .lines()
                .find(|l| l.contains("SSL alert number"))
                .unwrap_or_else(|| panic!("{face} {name}: no alert from the server:\n{text}"));
            let alert = alert.rsplit(':').nth(3).unwrap_or(alert).to_owned();
            assert!(text.contains("New, (NONE), Cipher is (NONE)"), "{text}");
            seen.push(format!("{face} {name}: refused ({alert})"));
        }
        for (flag, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let (ok, text) = s_client(addr, flag, starttls);
            assert!(ok, "{face} refused {name}:\n{text}");
            assert!(
                text.contains(&format!("New, {name},")),
                "{face} {name}:\n{text}"
            );
            seen.push(format!("{face} {name}: accepted"));
        }
    }
    eprintln!(
        "limits: {}; took {:.1} s",
        seen.join("; "),
        started.elapsed().as_secs_f64()
    );
}

/// The log check tests/common/mod.rs runs on every daemon's log finds a
/// registered secret and the shapes of secrets, and passes ordinary lines.
#[test]
fn the_log_check_finds_secrets_and_passes_ordinary_lines() {
    let lines = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let secrets = vec!["Held7Secret".to_string(), "123456".to_string()];
    let ordinary = lines(&[
        "2026-11-23T14:48:05.123456Z  INFO dirgate::daemon: dirgate ready",
        "2026-11-23T14:48:05.123456Z DEBUG ldap{conn=0123456789abcdef}: bind failed user=held",
        r#"{"timestamp":"2026-11-23T14:48:05.123456Z","level":"INFO","fields":{"message":"a password was set with a reset link"}}"#,
        "2026-11-23T14:48:05.000001Z  INFO missing bearer token; token=3 revoked",
    ]);
    assert_eq!(common::check_log(&ordinary, &secrets), Ok(()));
    for bad in [
        "2026-11-23T14:48:05.1Z  INFO bind user=held password Held7Secret",
        "2026-11-23T14:48:05.1Z  INFO code 123456 sent",
        r#"{"timestamp":"x","fields":{"message":"code=123456"}}"#,
        "2026-11-23T14:48:05.1Z  INFO token dgt_abcdefghijklmnop",
        "2026-11-23T14:48:05.1Z DEBUG GET /reset?token=AbCdEfGhIjKlMnOpQrStUv",
        "2026-11-23T14:48:05.1Z DEBUG authorization: Bearer xyz",
        "2026-11-23T14:48:05.1Z DEBUG body {\"password\":\"Other9Secret\"}",
        "2026-11-23T14:48:05.1Z DEBUG userPassword: {SSHA}abc",
        "2026-11-23T14:48:05.1Z DEBUG hash $argon2id$v=19$m=1024",
        "2026-11-23T14:48:05.1Z DEBUG otpauth://totp/dirgate:held?secret=ABC",
    ] {
        assert!(
            common::check_log(&lines(&[bad]), &secrets).is_err(),
            "not caught: {bad}"
        );
    }
}
