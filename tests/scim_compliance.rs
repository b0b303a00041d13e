//! The scim2-tester compliance checks (an independent SCIM client written
//! against RFC 7643 and 7644) against the real daemon, through
//! `tests/scim_compliance.py`.

mod common;

use std::process::Command;

use common::{write_config, Daemon};

#[test]
fn scim2_tester_finds_no_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let out = d.command(&["token", "issue", "admin"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
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
        "check_add_attribute [User]",
    ] {
        assert!(
            report.contains(&format!("SUCCESS    {check}")),
            "{check}:\n{report}"
        );
    }
    assert!(report.contains(", 0 failed"), "{report}");
}
