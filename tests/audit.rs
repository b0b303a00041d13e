//! The audit log: a row for each kind of change through the command line,
//! SCIM and LDAP (the pages' rows are checked in tests/web.rs), and for
//! each failed authentication; never a secret value; `dirgate audit` filters.

mod common;

use std::process::Command;

use common::{cli, write_config, Daemon};
use serde_json::Value;

fn audit(d: &Daemon, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    cli(d, &all, None)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn has(rows: &[Value], face: &str, actor: &str, action: &str, target: &str) -> Option<Value> {
    rows.iter()
        .find(|r| {
            r["face"] == face
                && r["actor"] == actor
                && r["action"] == action
                && r["target"] == target
        })
        .cloned()
}

fn curl(d: &Daemon, token: &str, method: &str, path: &str, body: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(d.data.join("tls").join("cert.pem"))
        .args(["-X", method, "-H", "Content-Type: application/scim+json"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--data", body])
        .arg(format!(
            "https://localhost:{}/scim/v2{path}",
            d.https.unwrap().port()
        ))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_change_and_failed_authentication_is_audited_without_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    // The command line, as the system.
    cli(
        &d,
        &["user", "set-password", "admin", "--password-stdin"],
        Some("Admin7Secret\n"),
    );
    cli(
        &d,
        &["user", "add", "carl", "--type", "Administrator"],
        None,
    );
    let token = cli(&d, &["token", "issue", "admin"], None)
        .trim()
        .to_owned();

    // SCIM, as the token's account.
    assert_eq!(
        curl(&d, &token, "POST", "/Users", r#"{"userName": "dora"}"#),
        "201"
    );
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(d.data.join("tls").join("cert.pem"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!(
            "https://localhost:{}/scim/v2/Users?filter=userName%20eq%20%22dora%22",
            d.https.unwrap().port()
        ))
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dora = list["Resources"][0]["id"].as_str().unwrap().to_owned();
    let patch = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Dora"}]}"#;
    assert_eq!(
        curl(&d, &token, "PATCH", &format!("/Users/{dora}"), patch),
        "200"
    );
    assert_eq!(
        curl(&d, &token, "POST", "/Groups", r#"{"displayName": "Crew"}"#),
        "201"
    );
    assert_eq!(
        curl(&d, &token, "DELETE", &format!("/Users/{dora}"), ""),
        "204"
    );
    // Refused: a duplicate user name.
    assert_eq!(
        curl(&d, &token, "POST", "/Users", r#"{"userName": "carl"}"#),
        "409"
    );

    // LDAP: a password change and two failed binds.
    let url = format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port());
    for secret in ["Carl7Secret", "Admin7Secret", "Wrong7Secret"] {
        d.secret(secret);
    }
    let out = Command::new("ldappasswd")
        .args(["-x", "-H", &url, "-D", "admin", "-w", "Admin7Secret"])
        .args(["-s", "Carl7Secret", "uid=carl,ou=people,dc=example,dc=com"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for user in ["carl", "nobody"] {
        let out = Command::new("ldapwhoami")
            .args(["-x", "-H", &url, "-D", user, "-w", "Wrong7Secret"])
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    let rows = audit(&d, &[]);
    let cli_row = has(&rows, "cli", "system", "account.create", "carl").expect("cli create");
    assert_eq!(cli_row["result"], "ok");
    assert!(cli_row["detail"]
        .as_str()
        .unwrap()
        .contains("type=Administrator"));
    assert!(has(&rows, "cli", "system", "token.issue", "admin").is_some());
    assert!(has(&rows, "scim", "admin", "account.create", "dora").is_some());
    let change = has(&rows, "scim", "admin", "account.change", "dora").expect("patch");
    assert!(
        change["detail"]
            .as_str()
            .unwrap()
            .contains("first name=Dora"),
        "{change}"
    );
    assert!(has(&rows, "scim", "admin", "group.create", "Crew").is_some());
    assert!(has(&rows, "scim", "admin", "account.archive", "dora").is_some());
    let refused = has(&rows, "scim", "admin", "account.create", "carl").expect("refused create");
    assert!(
        refused["result"].as_str().unwrap().starts_with("refused:"),
        "{refused}"
    );
    let pw = has(&rows, "ldap", "admin", "account.password", "carl").expect("ldap password");
    assert_eq!(pw["detail"], "password changed");
    for user in ["carl", "nobody"] {
        let failed = has(&rows, "ldap", user, "authenticate", user).expect("failed bind");
        assert!(failed["result"].as_str().unwrap().starts_with("refused:"));
        assert_eq!(failed["detail"], "address:127.0.0.1");
    }

    // No secret anywhere in the log.
    let text = cli(&d, &["audit", "--json", "--limit", "1000"], None);
    for secret in [
        "Admin7Secret",
        "Carl7Secret",
        "Wrong7Secret",
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    // Filters: by user (actor or target) and by time.
    let carl = audit(&d, &["--user", "CARL"]);
    assert!(!carl.is_empty());
    assert!(carl
        .iter()
        .all(|r| r["actor"] == "carl" || r["target"] == "carl"));
    assert!(audit(&d, &["--since", "2999-01-01"]).is_empty());
    let text = cli(&d, &["audit", "--limit", "3"], None);
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn failed_binds_slow_down_are_audited_and_never_lock_out() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &["user", "add", "eve", "--password-stdin"],
        Some("Eve7Secret\n"),
    );
    let url = format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port());
    let bind = |pw: &str| {
        Command::new("ldapwhoami")
            .args(["-x", "-H", &url, "-D", "eve", "-w", pw])
            .output()
            .unwrap()
            .status
            .success()
    };
    for _ in 0..5 {
        assert!(!bind("Wrong7Secret"));
    }
    let rows = audit(&d, &["--user", "eve"]);
    let throttled: Vec<&Value> = rows
        .iter()
        .filter(|r| r["action"] == "authenticate.throttle")
        .collect();
    assert_eq!(
        throttled.len(),
        1,
        "one event when waiting begins: {rows:?}"
    );
    assert_eq!(throttled[0]["detail"], "from 127.0.0.1");
    // A slowdown, not a lockout: the right password still works.
    assert!(bind("Eve7Secret"));
}
