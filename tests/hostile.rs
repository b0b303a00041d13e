//! Hostile input on the wire and slow clients: each gets the right answer
//! or a closed connection, and a second client, bound before and held open
//! throughout, is answered after every one of them.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ldap3_proto::proto::{
    LdapDerefAliases, LdapExtendedRequest, LdapFilter, LdapMsg, LdapOp, LdapSearchRequest,
    LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use tokio_util::codec::Encoder;

use common::{cli, Daemon};

const IDLE_SECS: u64 = 2;

/// A daemon whose connections close after `idle` seconds of silence.
fn start(tmp: &std::path::Path, idle: u64) -> Daemon {
    let config = tmp.join("dirgate.toml");
    std::fs::write(
        &config,
        format!(
            "[ldap]\nlisten = \"127.0.0.1:0\"\nldaps_listen = \"off\"\nidle_timeout_secs = {idle}\n\
             max_message_bytes = 262144\n\
             [http]\nhttps_listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
             idle_timeout_secs = {idle}\n\
             [password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n"
        ),
    )
    .unwrap();
    let d = Daemon::start_in(&tmp.join("data"), &config);
    cli(
        &d,
        &["user", "add", "held", "--password-stdin"],
        Some("Held7Secret\n"),
    );
    d
}

fn encode(msg: LdapMsg) -> Vec<u8> {
    let mut buf = BytesMut::new();
    LdapCodec::default().encode(msg, &mut buf).unwrap();
    buf.to_vec()
}

fn search(id: i32, filter: LdapFilter, attrs: Vec<String>) -> Vec<u8> {
    encode(LdapMsg::new(
        id,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: "dc=example,dc=com".into(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs,
        }),
    ))
}

/// Sends `bytes` on a new connection and reads until the server closes it
/// or stops answering; what came back.
fn send(addr: SocketAddr, bytes: &[u8], close_write: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(IDLE_SECS + 8)))
        .unwrap();
    let _ = s.write_all(bytes);
    if close_write {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    answer
}

/// Waits for the server to close a connection that sends `bytes` and then
/// nothing; how long it took.
fn closed_after(addr: SocketAddr, bytes: &[u8]) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(IDLE_SECS + 20)))
        .unwrap();
    s.write_all(bytes).unwrap();
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
    started.elapsed()
}

#[test]
fn malformed_ldap_and_slow_clients_cost_their_own_connection_only() {
    let tmp = tempfile::tempdir().unwrap();
    // Long idle timeouts here, so the held client stays open throughout.
    let d = start(tmp.path(), 300);
    let ldap = d.ldap.unwrap();
    d.secret("Held7Secret");
    let url = format!("ldap://{ldap}");
    let mut held = ldap3::LdapConn::new(&url).unwrap();
    held.simple_bind("uid=held,ou=people,dc=example,dc=com", "Held7Secret")
        .unwrap()
        .success()
        .unwrap();
    let mut still_served = |what: &str| {
        let (entries, _) = held
            .search(
                "dc=example,dc=com",
                ldap3::Scope::Subtree,
                "(uid=held)",
                vec!["uid"],
            )
            .unwrap()
            .success()
            .unwrap_or_else(|e| panic!("after {what}: {e}"));
        assert_eq!(entries.len(), 1, "after {what}");
    };

    let mut nested = LdapFilter::Equality("uid".into(), "held".into());
    for _ in 0..200 {
        nested = LdapFilter::Not(Box::new(nested));
    }
    let many_attrs: Vec<String> = (0..20_000).map(|i| format!("a{i}")).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a truncated length",
            b"\x30\x64\x02\x01\x01\x63\x00".to_vec(),
        ),
        (
            "an oversized length",
            b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01".to_vec(),
        ),
        ("a length over max_message_bytes", {
            let mut v = b"\x30\x83\x10\x00\x00".to_vec();
            v.extend(std::iter::repeat_n(0u8, 4096));
            v
        }),
        (
            "a wrong outer tag",
            b"\x31\x05\x02\x01\x01\x42\x00".to_vec(),
        ),
        (
            "a wrong operation tag",
            b"\x30\x05\x02\x01\x01\x7f\x00".to_vec(),
        ),
        ("no message at all", b"\x00\x00\x00\x00".to_vec()),
        ("a filter nested 200 deep", search(2, nested, vec![])),
    ];
    for (what, bytes) in &cases {
        let answer = send(ldap, bytes, true);
        // Whatever came back was at most a notice; never a search result.
        assert!(answer.len() < 512, "{what}: {} bytes back", answer.len());
        still_served(what);
    }

    // 20,000 attribute names within the size limit: answered normally.
    let answer = send(
        ldap,
        &search(3, LdapFilter::Present("objectClass".into()), many_attrs),
        true,
    );
    assert!(!answer.is_empty(), "a long attribute list gets an answer");
    still_served("a long attribute list");

    // After an unbind, nothing more is read.
    let mut bytes = encode(LdapMsg::new(4, LdapOp::UnbindRequest));
    bytes.extend(search(5, LdapFilter::Present("objectClass".into()), vec![]));
    assert!(
        send(ldap, &bytes, false).is_empty(),
        "a request after unbind"
    );
    still_served("a request after unbind");

    // StartTLS with a search pipelined behind it in the clear: the search
    // is never answered in the clear.
    let mut bytes = encode(LdapMsg::new(
        6,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: "1.3.6.1.4.1.1466.20037".into(),
            value: None,
        }),
    ));
    bytes.extend(search(7, LdapFilter::Present("objectClass".into()), vec![]));
    let answer = send(ldap, &bytes, false);
    assert!(
        !answer.windows(8).any(|w| w == b"people,d"),
        "an entry went out in the clear after StartTLS"
    );
    still_served("a StartTLS with pipelined bytes");

    held.unbind().unwrap();

    // Slow clients: silence, or half a request, is cut off by the idle
    // timeout (2 s on this second daemon), on LDAP, HTTPS and plain HTTP.
    let slow = tempfile::tempdir().unwrap();
    let d = start(slow.path(), IDLE_SECS);
    let ldap = d.ldap.unwrap();
    let limit = Duration::from_secs(IDLE_SECS + 15);
    assert!(closed_after(ldap, b"") < limit, "a silent LDAP client");
    assert!(
        closed_after(ldap, b"\x30\x84\x00") < limit,
        "half an LDAP message"
    );
    assert!(
        closed_after(d.https.unwrap(), b"\x16\x03\x01") < limit,
        "half a TLS hello"
    );
    assert!(
        closed_after(d.http.unwrap(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n") < limit,
        "half an HTTP request"
    );
    let mut fresh = ldap3::LdapConn::new(&format!("ldap://{ldap}")).unwrap();
    fresh
        .simple_bind("uid=held,ou=people,dc=example,dc=com", "Held7Secret")
        .unwrap()
        .success()
        .unwrap();
}
