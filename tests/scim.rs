//! The SCIM face over real HTTPS, driven by curl (an independent client).

mod common;

use std::process::Command;

use common::{write_config, Daemon};
use serde_json::Value;

struct Answer {
    status: u16,
    headers: String,
    body: Value,
}

fn scim(d: &Daemon, token: Option<&str>, method: &str, path: &str) -> Answer {
    let cert = d.data.join("tls").join("cert.pem");
    let url = format!(
        "https://localhost:{}/scim/v2{path}",
        d.https.unwrap().port()
    );
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "-X", method, "--cacert"])
        .arg(&cert)
        .arg(&url);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.output().expect("curl (is it installed?)");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

fn token_for(d: &Daemon, user: &str) -> String {
    let out = d.command(&["token", "issue", user], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn is_error(a: &Answer, status: u16) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(
        a.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(a.body["status"], status.to_string(), "status as a string");
    assert!(
        a.headers.contains("content-type: application/scim+json"),
        "{}",
        a.headers
    );
}

#[test]
fn every_request_needs_a_live_bearer_token() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let a = scim(&d, None, "GET", "/ServiceProviderConfig");
    is_error(&a, 401);
    assert!(
        a.headers.contains("www-authenticate: bearer"),
        "{}",
        a.headers
    );
    is_error(
        &scim(&d, Some("dgt_not-a-real-token"), "GET", "/Schemas"),
        401,
    );
    // A revoked token and an inactive account's token stop working.
    let out = d.command(&["user", "add", "sync", "--type", "Administrator"], None);
    assert!(out.status.success());
    let token = token_for(&d, "sync");
    assert_eq!(scim(&d, Some(&token), "GET", "/Schemas").status, 200);
    assert!(d
        .command(&["user", "set", "sync", "--status", "inactive"], None)
        .status
        .success());
    is_error(&scim(&d, Some(&token), "GET", "/Schemas"), 401);
    // Tokens never reach the log.
    assert!(!d.log().contains(&token));
}

#[test]
fn discovery_documents_are_served_with_absolute_locations() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let token = token_for(&d, "admin");
    let t = Some(token.as_str());
    let port = d.https.unwrap().port();

    let a = scim(&d, t, "GET", "/ServiceProviderConfig");
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.headers.contains("content-type: application/scim+json"));
    assert_eq!(
        a.body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(
        a.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );

    let a = scim(&d, t, "GET", "/Schemas");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(a.body["totalResults"], 5);
    let ids: Vec<&str> = a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User"),
        "{ids:?}"
    );

    let a = scim(
        &d,
        t,
        "GET",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["name"], "Group");

    let a = scim(&d, t, "GET", "/ResourceTypes/User");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["endpoint"], "/Users");
    let location = a.body["meta"]["location"].as_str().unwrap();
    assert_eq!(
        location,
        format!("https://localhost:{port}/scim/v2/ResourceTypes/User")
    );

    is_error(&scim(&d, t, "GET", "/ResourceTypes/Printer"), 404);
    is_error(&scim(&d, t, "GET", "/NoSuchThing"), 404);
}
