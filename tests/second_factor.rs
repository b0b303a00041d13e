//! Second factors on a real LDAP bind (Debian's `ldapwhoami`), with codes
//! read from what a local SMTP server and a local SMS gateway received,
//! recognised computers by address and by TLS client certificate, the
//! outbox surviving a restart, and backup and restore under write load.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::sms_gateway::SmsGateway;
use common::smtp_sink::SmtpSink;
use common::{cli, write_config, Daemon};

const PW: &str = "Correct7Horse";
const WAIT: Duration = Duration::from_secs(20);

/// `ldapwhoami` as `user` with `credential`, over plain LDAP on loopback
/// or, with `tls = Some((cert, key))`, over LDAPS presenting that client
/// certificate.
fn whoami(d: &Daemon, user: &str, credential: &str, client_cert: Option<(&Path, &Path)>) -> Output {
    d.bind_secret(credential);
    let mut cmd = Command::new("ldapwhoami");
    cmd.args(["-x", "-D", user, "-w", credential, "-H"]);
    match client_cert {
        None => {
            cmd.arg(format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port()));
        }
        Some((cert, key)) => {
            cmd.arg(format!("ldaps://localhost:{}", d.ldaps.unwrap().port()))
                .env("LDAPTLS_CACERT", d.data.join("tls").join("cert.pem"))
                .env("LDAPTLS_CERT", cert)
                .env("LDAPTLS_KEY", key);
        }
    }
    cmd.output().expect("ldapwhoami (ldap-utils)")
}

fn ok(out: &Output) -> bool {
    out.status.success()
}

/// The diagnostic message of a failed bind.
fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn six_digits(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_owned()
}

#[test]
fn an_email_code_bind_with_recognised_computers() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let config = write_config(tmp.path(), &sink.config());
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &[
            "user",
            "add",
            "ann",
            "--email",
            "ann@example.com",
            "--time-zone",
            "Europe/Paris",
            "--method",
            "Two Factor Email",
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );

    // The right password and no code: a code goes out by email.
    let out = whoami(&d, "ann", PW, None);
    assert!(!ok(&out));
    assert!(
        said(&out).contains("Invalid credentials (49)"),
        "{}",
        said(&out)
    );
    assert!(
        said(&out).contains("code sent by email to a***@example.com"),
        "{}",
        said(&out)
    );
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(mails[0].to, vec!["ann@example.com".to_owned()]);
    assert_eq!(mails[0].subject().as_deref(), Some("Your sign-in code"));
    let body = mails[0].body();
    assert!(body.contains("(Europe/Paris)"), "{body}");
    let code = six_digits(&body);

    // A wrong password with the code: nothing said.
    let out = whoami(&d, "ann", &format!("Wrong7Horse{code}"), None);
    assert!(!ok(&out));
    assert!(!said(&out).contains("code"), "{}", said(&out));
    // Password and code.
    let out = whoami(&d, "ann", &format!("{PW};{code}"), None);
    assert!(ok(&out), "{}", said(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("uid=ann,ou=people"));
    // The code is spent.
    let out = whoami(&d, "ann", &format!("{PW}{code}"), None);
    assert!(
        said(&out).contains("invalid, expired or already used"),
        "{}",
        said(&out)
    );

    // This computer (127.0.0.1) is recognised now: the password is enough.
    let out = whoami(&d, "ann", PW, None);
    assert!(ok(&out), "{}", said(&out));
    let listed = cli(&d, &["computers", "list", "ann"], None);
    assert!(listed.contains("address:127.0.0.1"), "{listed}");
    cli(&d, &["computers", "revoke", "ann"], None);
    let listed = cli(&d, &["computers", "list", "ann"], None);
    assert!(!listed.contains("address:"), "{listed}");
    let out = whoami(&d, "ann", PW, None);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));

    // The log carries no code.
    let log = d.log();
    for mail in sink.received() {
        let code = six_digits(&mail.body());
        assert!(!log.contains(&code), "a code reached the log");
    }
}

#[test]
fn an_sms_code_every_time_and_a_client_certificate_names_the_computer() {
    let tmp = tempfile::tempdir().unwrap();
    let gateway = SmsGateway::start();
    let sink = SmtpSink::start();
    let config = write_config(
        tmp.path(),
        &format!("{}{}", gateway.config(), sink.config()),
    );
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &[
            "user",
            "add",
            "ben",
            "--mobile",
            "+44 7700 900123",
            "--method",
            "Two Factor SMS Everytime",
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );
    let out = whoami(&d, "ben", PW, None);
    assert!(
        said(&out).contains("code sent by SMS to +44 *** *** 123"),
        "{}",
        said(&out)
    );
    let sent = gateway.wait_for(1, WAIT);
    assert_eq!(sent[0].json["to"], "+447700900123");
    let code = six_digits(sent[0].json["text"].as_str().unwrap());
    assert!(ok(&whoami(&d, "ben", &format!("{PW}{code}"), None)));
    // Every time: the same computer is asked again.
    let out = whoami(&d, "ben", PW, None);
    assert!(said(&out).contains("code sent by SMS"), "{}", said(&out));

    // An account that asks only from unrecognised computers, bound over
    // LDAPS with a client certificate: the certificate is the computer.
    cli(
        &d,
        &[
            "user",
            "add",
            "cat",
            "--email",
            "cat@example.com",
            "--method",
            "Two Factor Email",
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["laptop".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_file = tmp.path().join("client.pem");
    let key_file = tmp.path().join("client.key");
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let laptop = Some((cert_file.as_path(), key_file.as_path()));

    let out = whoami(&d, "cat", PW, laptop);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));
    let code = six_digits(&sink.wait_for(1, WAIT)[0].body());
    let out = whoami(&d, "cat", &format!("{PW}{code}"), laptop);
    assert!(ok(&out), "{}", said(&out));
    // With the certificate: recognised. Without it, from the same address:
    // another computer.
    assert!(ok(&whoami(&d, "cat", PW, laptop)));
    let out = whoami(&d, "cat", PW, None);
    assert!(!ok(&out));
    let listed = cli(&d, &["computers", "list", "cat"], None);
    assert!(listed.contains("certificate:"), "{listed}");
    assert!(!listed.contains("address:"), "{listed}");

    // A new password forgets the computers.
    cli(
        &d,
        &["user", "set-password", "cat", "--password-stdin"],
        Some("Fresh8Start\n"),
    );
    let out = whoami(&d, "cat", "Fresh8Start", laptop);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));
}

#[test]
fn a_queued_code_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // First the gateway is down (nothing listens on its port): the code is
    // queued and retried, never delivered.
    let gateway = SmsGateway::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!(
        "[sms]\nurl = \"http://{}/send\"\n[outbox]\nretry_base_secs = 1\n",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let config = write_config(tmp.path(), &down);
    let mut d = Daemon::start_in(&data, &config);
    cli(
        &d,
        &[
            "user",
            "add",
            "dan",
            "--mobile",
            "+14155550123",
            "--method",
            "Two Factor SMS",
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );
    let out = whoami(&d, "dan", PW, None);
    assert!(
        said(&out).contains("code sent by SMS to +1 *** *** 123"),
        "{}",
        said(&out)
    );
    std::thread::sleep(Duration::from_millis(500));
    let queued = cli(&d, &["outbox"], None);
    assert!(queued.contains("pending"), "{queued}");
    assert!(d.stop().success());

    // Restarted with the gateway up: the same message goes out, and its
    // code still binds.
    let config = write_config(tmp.path(), &gateway.config());
    let d = Daemon::start_in(&data, &config);
    let sent = gateway.wait_for(1, WAIT);
    let code = six_digits(sent[0].json["text"].as_str().unwrap());
    let out = whoami(&d, "dan", &format!("{PW}{code}"), None);
    assert!(ok(&out), "{}", said(&out));
    let listed = cli(&d, &["outbox"], None);
    assert!(listed.contains("delivered"), "{listed}");
    assert!(!listed.contains(&code), "the outbox view shows no code");
}

#[test]
fn a_backup_taken_under_write_load_restores_every_finished_write() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    let mut d = Daemon::start_in(&data, &config);
    let backup = tmp.path().join("backup.db");

    // Writes through the CLI (each a committed transaction), on a thread,
    // until told to stop; the backup is taken in the middle of them.
    let (data2, config2) = (data.clone(), config.clone());
    let written = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (count, stopping) = (written.clone(), stop.clone());
    let writer = std::thread::spawn(move || {
        let mut finished = Vec::new();
        let mut i = 0;
        while !stopping.load(Ordering::SeqCst) {
            let name = format!("w{i}");
            i += 1;
            let out = common::run_cli(&data2, &config2, &["user", "add", &name], None);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            finished.push((name, std::time::Instant::now()));
            count.fetch_add(1, Ordering::SeqCst);
        }
        finished
    });
    let wait_for = |n: usize| {
        let start = std::time::Instant::now();
        while written.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < WAIT, "the writer stalled");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(10);
    let began = std::time::Instant::now();
    cli(&d, &["backup", backup.to_str().unwrap()], None);
    let after_backup = written.load(Ordering::SeqCst);
    wait_for(after_backup + 5);
    stop.store(true, Ordering::SeqCst);
    let finished = writer.join().unwrap();
    let before: Vec<&String> = finished
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(n, _)| n)
        .collect();
    let last = finished.last().map(|(n, _)| n.clone()).unwrap();
    assert!(before.len() >= 10 && before.len() < finished.len());

    // A restore while the daemon runs is refused; stopped, it works.
    let out = d.command(&["restore", backup.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop `dirgate serve`"));
    assert!(d.stop().success());
    cli(&d, &["restore", backup.to_str().unwrap()], None);

    let d = Daemon::start_in(&data, &config);
    for name in &before {
        let shown = d.command(&["user", "show", name], None);
        assert!(shown.status.success(), "{name} lost by backup and restore");
    }
    let gone = d.command(&["user", "show", &last], None);
    assert!(!gone.status.success(), "the restore replaced the store");
    let conn = rusqlite::Connection::open(data.join("dirgate.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Issue 14, item 12: guessing a code out (five wrong tries) does not buy a
/// fresh code before the resend interval: the phone or mailbox cannot be
/// flooded, nor the codes cycled faster, by wrong tries.
#[test]
fn wrong_tries_do_not_buy_a_fresh_code_sooner() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let config = write_config(tmp.path(), &sink.config());
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &[
            "user",
            "add",
            "eve",
            "--email",
            "eve@example.com",
            "--method",
            "Two Factor Email Every Time",
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );
    let out = whoami(&d, "eve", PW, None);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));
    let code = six_digits(&sink.wait_for(1, WAIT)[0].body());
    d.secret(&code);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(!ok(&whoami(&d, "eve", &format!("{PW}{wrong}"), None)));
    }
    // The code is dead: even the right one is refused now.
    assert!(!ok(&whoami(&d, "eve", &format!("{PW}{code}"), None)));
    // And the next bind within the minute sends nothing new.
    let out = whoami(&d, "eve", PW, None);
    assert!(!ok(&out));
    let db = rusqlite::Connection::open_with_flags(
        d.data.join("dirgate.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let queued: i64 = db
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(queued, 1, "a fresh code was sent: {}", said(&out));
}
