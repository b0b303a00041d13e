//! Independent SCIM checkers against the real daemon, run as their users
//! run them: scim2-tester (through `tests/scim_compliance.py`, which runs
//! it unmodified and reads its results) and `scim-sanity probe` in its
//! strict mode.

mod common;

use std::process::Command;

use common::scim_client::token_for;
use common::{write_config, Daemon};
use serde_json::Value;

/// A daemon that can send codes by email and SMS (to addresses nobody
/// listens on: the checkers only provision), so every authentication
/// method the schema offers may be given.
fn start() -> (tempfile::TempDir, Daemon) {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        "[email]\nhost = \"127.0.0.1\"\nport = 9\nfrom = \"dirgate@example.com\"\n\
         [sms]\nurl = \"http://127.0.0.1:9/sms\"\n",
    );
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    (tmp, d)
}

#[test]
fn scim2_tester_finds_no_failure_but_the_manuals_rules() {
    let (_tmp, d) = start();
    let token = token_for(&d, "admin");
    let url = format!("https://localhost:{}/scim/v2", d.https.unwrap().port());
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim_compliance.py");
    // The token goes through the environment, not the argument list.
    let run = Command::new("python3")
        .arg(harness)
        .arg(&url)
        .arg("--cacert")
        .arg(d.data.join("tls").join("cert.pem"))
        .env("SCIM_TOKEN", &token)
        .output()
        .expect("python3 (scripts/test installs scim2-tester)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "scim2-tester:\n{report}");
    // Every check ran: the discovery, and the CRUD checks of both types.
    for check in [
        "object_creation [User]",
        "object_creation [Group]",
        "object_query [User]",
        "check_add_attribute [User]",
        "check_replace_attribute [User]",
    ] {
        assert!(
            report.contains(&format!("SUCCESS    {check}")),
            "{check}:\n{report}"
        );
    }
    let counts = report
        .lines()
        .find(|l| l.contains(" checks: "))
        .unwrap_or_else(|| panic!("no counts:\n{report}"));
    assert!(counts.ends_with(", 0 failed"), "{counts}\n{report}");
    println!("{counts}");
}

#[test]
fn scim_sanity_probe_in_strict_mode_fails_only_on_a_made_up_member() {
    let (_tmp, d) = start();
    let token = token_for(&d, "admin");
    let url = format!("https://localhost:{}/scim/v2", d.https.unwrap().port());
    let run = Command::new("scim-sanity")
        .args([
            "probe",
            &url,
            "--strict",
            "--json-output",
            "--i-accept-side-effects",
        ])
        .arg("--ca-bundle")
        .arg(d.data.join("tls").join("cert.pem"))
        .args(["--token", &token])
        .output()
        .expect("scim-sanity (scripts/test installs it)");
    let text = String::from_utf8_lossy(&run.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&run.stderr)));
    assert_eq!(report["mode"], "strict");
    let results = report["results"].as_array().expect("results");
    let mut failed = Vec::new();
    for r in results {
        let status = r["status"].as_str().unwrap_or_default();
        if !matches!(status, "pass" | "skip") {
            failed.push(r["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    // The one check dirgate fails on purpose: the probe adds the member
    // "fake-member-id" to a group. A directory's group holds people and
    // groups that exist (LDAP `member` names their entries), and RFC 7644
    // section 3.12 answers a reference to nothing 400 invalidValue.
    assert_eq!(failed, ["PATCH /Groups/{id} add member"], "{report:#}");
    let passed = results.iter().filter(|r| r["status"] == "pass").count();
    assert!(passed >= 27, "{report:#}");
    println!("scim-sanity strict: {passed} passed, 1 failed (the made-up member)");
}
