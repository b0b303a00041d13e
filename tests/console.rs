//! The administrator's console in a real browser: `tests/console.py`
//! drives headless Chromium (Debian's chromium and chromium-driver, with
//! Python's selenium, installed by scripts/test) against the real daemon,
//! and runs ldapwhoami for the binds. Screenshots of each page are kept in
//! the test's output folder (`target/tmp/console/`).

mod common;

use std::process::Command;

use std::time::Duration;

use common::smtp_sink::SmtpSink;
use common::{cli, write_config, Daemon};

#[test]
fn the_console_adds_edits_and_refuses_as_the_core_decides() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let config = write_config(tmp.path(), &sink.config());
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = d.admin_password.clone().expect("bootstrap password");
    let (mgr, reader, new, sub) = (
        "Manager7Secret",
        "Reader7Secret",
        "Young7Secret",
        "Sub7Secret",
    );
    for s in [mgr, reader, new, sub] {
        d.secret(s);
    }
    cli(&d, &["group", "add", "Acme", "--entity"], None);
    cli(&d, &["group", "add", "Sales", "--parent", "Acme"], None);
    cli(&d, &["group", "add", "EMEA", "--parent", "Sales"], None);
    cli(&d, &["group", "add", "Other", "--entity"], None);
    cli(
        &d,
        &[
            "user",
            "add",
            "mgr",
            "--type",
            "Administrator",
            "--restrict-to",
            "Sales",
            "--role",
            "user-management",
            "--time-zone",
            "Europe/Paris",
            "--first-name",
            "Mary",
            "--last-name",
            "Gerard",
            "--password-stdin",
        ],
        Some(mgr),
    );
    cli(
        &d,
        &[
            "user",
            "add",
            "sub",
            "--restrict-to",
            "EMEA",
            "--manager",
            "mgr",
            "--first-name",
            "Sam",
            "--last-name",
            "Ortiz",
            "--password-stdin",
        ],
        Some(sub),
    );
    cli(
        &d,
        &["user", "add", "hidden", "--restrict-to", "Other"],
        None,
    );
    cli(
        &d,
        &[
            "user",
            "add",
            "reader",
            "--type",
            "Report Reader",
            "--password-stdin",
        ],
        Some(reader),
    );

    // A computer recognised after a two-factor bind, for the entry to list
    // and revoke.
    let traveller = "Travel7Secret";
    d.secret(traveller);
    cli(
        &d,
        &[
            "user",
            "add",
            "traveller",
            "--method",
            "Two Factor Email",
            "--email",
            "traveller@example.com",
            "--password-stdin",
        ],
        Some(traveller),
    );
    let ldap_url = format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port());
    let whoami = |credential: &str| {
        Command::new("ldapwhoami")
            .args(["-x", "-H", &ldap_url, "-D", "traveller", "-w", credential])
            .output()
            .expect("ldapwhoami (scripts/test installs ldap-utils)")
            .status
            .success()
    };
    assert!(!whoami(traveller), "the first bind asks for a code");
    let mail = sink.wait_for(1, Duration::from_secs(10))[0].body();
    let code = mail
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code in the mail")
        .to_owned();
    let credential = format!("{traveller}{code}");
    d.bind_secret(&credential);
    assert!(whoami(&credential), "password and code bind");
    assert!(whoami(traveller), "the computer is recognised");

    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
    let _ = std::fs::remove_dir_all(&out);
    let base = format!("https://localhost:{}", d.https.unwrap().port());
    let ldap = format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port());
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/console.py");
    let run = Command::new("python3")
        .arg(harness)
        .arg(&base)
        .arg(&ldap)
        .arg(&out)
        .env("ADMIN_PASSWORD", &admin)
        .env("MGR_PASSWORD", mgr)
        .env("READER_PASSWORD", reader)
        .env("NEW_PASSWORD", new)
        .env("SUB_PASSWORD", sub)
        .env("TRAVELLER_PASSWORD", traveller)
        .output()
        .expect("python3 with selenium (scripts/test installs it)");
    // The reset link the console sent: its token is a secret too.
    let started = std::time::Instant::now();
    let resets = loop {
        let resets: Vec<String> = sink
            .received()
            .iter()
            .map(|m| m.body())
            .filter(|b| b.contains("reset?token="))
            .collect();
        if !resets.is_empty() || started.elapsed() > Duration::from_secs(10) {
            break resets;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for body in &resets {
        if let Some(token) = body.split("reset?token=").nth(1) {
            d.secret(token.split_whitespace().next().unwrap_or(""));
        }
    }
    let stdout = String::from_utf8_lossy(&run.stdout);
    for line in stdout.lines() {
        if let Some(secret) = line.strip_prefix("SECRET:") {
            d.secret(secret);
        }
    }
    let report = format!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "tests/console.py:\n{report}");
    // The checks that matter ran to the end.
    for check in [
        "ok: a weak password names the rules it breaks",
        "ok: the new account binds over LDAP",
        "ok: an Inactive account cannot bind",
        "ok: the manager may choose only its scope",
        "ok: a hidden account's entry answers like a missing one",
        "ok: the core refuses a Report Reader's Add, in words",
        "ok: after the reset link the account cannot bind",
        "ok: a revoked computer is asked for a code again",
        "ok: the audit rows are in the manager's time zone (Europe/Paris)",
    ] {
        assert!(report.contains(check), "{check} missing:\n{report}");
    }
    // The account the browser added is there as the core made it.
    let shown = cli(&d, &["user", "show", "sub2"], None);
    assert!(shown.contains("mgr"), "{shown}");
    // The link went to the account it was sent for.
    assert_eq!(resets.len(), 1, "one reset link");
    assert!(resets[0].contains("jyoung"), "{}", resets[0]);
    for page in [
        "sign-in",
        "user-accounts",
        "add",
        "add-refused",
        "entry",
        "groups",
    ] {
        let png = out.join(format!("console-{page}.png"));
        let bytes = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(bytes > 5_000, "{} is missing or empty", png.display());
    }
}
