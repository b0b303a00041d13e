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
    request(d, token, method, path, &[], None, &[])
}

/// A request with URL-encoded query parameters, an optional JSON body and
/// extra headers.
fn request(
    d: &Daemon,
    token: Option<&str>,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<&Value>,
    headers: &[&str],
) -> Answer {
    let cert = d.data.join("tls").join("cert.pem");
    let mut url = format!(
        "https://localhost:{}/scim/v2{path}",
        d.https.unwrap().port()
    );
    if !query.is_empty() {
        // In the URL by hand: curl's -G would move a body there too.
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query.iter())
            .finish();
        url = format!("{url}?{encoded}");
    }
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--cacert"]).arg(&cert);
    cmd.args(["-X", method]).arg(&url);
    let body_file;
    if let Some(b) = body {
        // Large bodies go through a file: an argument list has limits.
        body_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(body_file.path(), b.to_string()).unwrap();
        cmd.args(["-H", "Content-Type: application/scim+json", "--data-binary"])
            .arg(format!("@{}", body_file.path().display()));
    }
    for h in headers {
        cmd.args(["-H", h]);
    }
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
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
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

/// Issue 14, item 13: JSON is never sniffed as something else, and HTTPS
/// answers pin the browser to HTTPS; the plain listener (behind a proxy)
/// leaves that to the proxy.
#[test]
fn answers_carry_nosniff_and_https_answers_hsts() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let out = d.command(&["user", "add", "sync", "--type", "Administrator"], None);
    assert!(out.status.success());
    let token = token_for(&d, "sync");
    for a in [
        scim(&d, Some(&token), "GET", "/Users"),
        scim(&d, None, "GET", "/Users"),
    ] {
        assert!(
            a.headers.contains("content-type: application/scim+json"),
            "{}",
            a.headers
        );
        assert!(
            a.headers.contains("x-content-type-options: nosniff"),
            "{}",
            a.headers
        );
        assert!(
            a.headers
                .contains("strict-transport-security: max-age=31536000"),
            "{}",
            a.headers
        );
    }
    let plain = Command::new("curl")
        .args(["-sS", "-i"])
        .arg(format!(
            "http://127.0.0.1:{}/healthz",
            d.http.unwrap().port()
        ))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&plain.stdout).to_ascii_lowercase();
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(!head.contains("strict-transport-security"), "{head}");
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
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
            let a = scim(&d, t, method, path);
            is_error(&a, 405);
            assert!(
                a.headers.contains("allow: get"),
                "{method} {path}: {}",
                a.headers
            );
        }
    }
    is_error(&scim(&d, t, "GET", "/NoSuchThing"), 404);
}

fn cli(d: &Daemon, args: &[&str]) {
    let out = d.command(args, Some("Correct7Horse\n"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn reads_lists_filters_and_scopes() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(&d, &["group", "add", "Acme", "--entity"]);
    cli(&d, &["group", "add", "EMEA", "--parent", "Acme"]);
    cli(
        &d,
        &[
            "user",
            "add",
            "alice",
            "--first-name",
            "Alice",
            "--last-name",
            "Smith",
            "--email",
            "alice@example.com",
            "--mobile",
            "+44 7700 900123",
            "--time-zone",
            "Europe/London",
        ],
    );
    cli(
        &d,
        &[
            "user",
            "add",
            "bob",
            "--restrict-to",
            "EMEA",
            "--password-stdin",
        ],
    );
    cli(&d, &["user", "add", "carol", "--restrict-to", "EMEA"]);
    cli(&d, &["group", "add-member", "EMEA", "carol"]);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());

    // Filter by userName (quoted, unquoted, operator in odd case).
    for f in [
        r#"userName eq "alice""#,
        "userName eq alice",
        r#"USERNAME Eq "ALICE""#,
    ] {
        let a = request(&d, t, "GET", "/Users", &[("filter", f)], None, &[]);
        assert_eq!(a.status, 200, "{f}: {}", a.body);
        assert_eq!(a.body["totalResults"], 1, "{f}: {}", a.body);
        let alice = &a.body["Resources"][0];
        assert_eq!(alice["userName"], "alice");
        assert_eq!(alice["name"]["givenName"], "Alice");
        assert_eq!(alice["emails"][0]["value"], "alice@example.com");
        assert_eq!(alice["phoneNumbers"][0]["type"], "mobile");
        assert_eq!(alice["timezone"], "Europe/London");
        assert_eq!(alice["active"], true);
        assert!(alice.get("password").is_none());
    }
    let a = request(
        &d,
        t,
        "GET",
        "/Users",
        &[(
            "filter",
            r#"emails[type eq "work"].value eq "alice@example.com""#,
        )],
        None,
        &[],
    );
    assert_eq!(
        a.body["totalResults"], 1,
        "Entra's value-path form: {}",
        a.body
    );
    for broken in [
        r#"userName zz "x""#,
        r#"(userName eq "x""#,
        "userName eq",
        r#"emails[type eq "work""#,
    ] {
        let a = request(&d, t, "GET", "/Users", &[("filter", broken)], None, &[]);
        is_error(&a, 400);
        assert_eq!(a.body["scimType"], "invalidFilter", "{broken}");
    }
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(2000), ")".repeat(2000));
    let a = request(&d, t, "GET", "/Users", &[("filter", &deep)], None, &[]);
    is_error(&a, 400);

    // Paging: count=0 gives only the total; startIndex is 1-based.
    let a = request(&d, t, "GET", "/Users", &[("count", "0")], None, &[]);
    assert_eq!(a.body["totalResults"], 4);
    assert_eq!(a.body["Resources"].as_array().unwrap().len(), 0);
    let a = request(
        &d,
        t,
        "GET",
        "/Users",
        &[("startIndex", "2"), ("count", "2")],
        None,
        &[],
    );
    assert_eq!(a.body["startIndex"], 2);
    assert_eq!(a.body["itemsPerPage"], 2);
    assert_eq!(a.body["Resources"][0]["userName"], "alice");

    // By id, with ETag and If-None-Match; projections.
    let a = request(
        &d,
        t,
        "GET",
        "/Users",
        &[("filter", "userName eq carol")],
        None,
        &[],
    );
    let carol = a.body["Resources"][0].clone();
    let id = carol["id"].as_str().unwrap();
    let a = request(
        &d,
        t,
        "GET",
        &format!("/Users/{id}"),
        &[("attributes", "userName")],
        None,
        &[],
    );
    assert_eq!(a.status, 200);
    assert!(
        a.body.get("name").is_none() && a.body["userName"] == "carol",
        "{}",
        a.body
    );
    let tag = carol["meta"]["version"].as_str().unwrap().to_owned();
    assert!(
        a.headers
            .contains(&format!("etag: {}", tag.to_ascii_lowercase())),
        "{}",
        a.headers
    );
    let a = request(
        &d,
        t,
        "GET",
        &format!("/Users/{id}"),
        &[],
        None,
        &[&format!("If-None-Match: {tag}")],
    );
    assert_eq!(a.status, 304);
    is_error(
        &scim(&d, t, "GET", "/Users/00000000-0000-4000-8000-000000000000"),
        404,
    );
    is_error(&scim(&d, t, "GET", "/Users/not-a-uuid"), 404);

    // Groups: members and the tree.
    let a = request(
        &d,
        t,
        "GET",
        "/Groups",
        &[("filter", r#"displayName eq "EMEA""#)],
        None,
        &[],
    );
    assert_eq!(a.body["totalResults"], 1, "{}", a.body);
    let emea = &a.body["Resources"][0];
    assert_eq!(emea["members"][0]["value"], id);
    let a = request(
        &d,
        t,
        "POST",
        "/Groups/.search",
        &[],
        Some(&serde_json::json!({"filter": "displayName sw \"A\"", "count": 5})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["totalResults"], 1);

    // A search at the root covers both types, paged as one list.
    let a = request(
        &d,
        t,
        "POST",
        "/.search",
        &[],
        Some(&serde_json::json!({})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["totalResults"],
        4 + 2,
        "4 users and 2 groups: {}",
        a.body
    );
    let a = request(
        &d,
        t,
        "POST",
        "/.search",
        &[],
        Some(&serde_json::json!({"startIndex": 4, "count": 2})),
        &[],
    );
    let kinds: Vec<&str> = a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["User", "Group"], "{}", a.body);
    let a = request(
        &d,
        t,
        "POST",
        "/.search",
        &[],
        Some(&serde_json::json!({"filter": "displayName eq \"EMEA\""})),
        &[],
    );
    assert_eq!(a.body["totalResults"], 1, "{}", a.body);

    // A restricted account's token lists only its scope; outside is 404.
    let bob = token_for(&d, "bob");
    let b = Some(bob.as_str());
    let a = request(&d, b, "GET", "/Users", &[], None, &[]);
    let mut names: Vec<&str> = a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["bob", "carol"]);
    let alice_id = request(
        &d,
        t,
        "GET",
        "/Users",
        &[("filter", "userName eq alice")],
        None,
        &[],
    )
    .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    is_error(&scim(&d, b, "GET", &format!("/Users/{alice_id}")), 404);
    let a = scim(&d, b, "GET", "/Me");
    assert_eq!(a.body["userName"], "bob", "{}", a.body);
    let a = request(&d, b, "GET", "/Groups", &[], None, &[]);
    assert_eq!(
        a.body["totalResults"], 1,
        "only EMEA is visible: {}",
        a.body
    );
    // Oversized and malformed search bodies.
    let a = request(
        &d,
        t,
        "POST",
        "/Users/.search",
        &[],
        Some(&serde_json::json!({"filter": "x".repeat(2_000_000)})),
        &[],
    );
    is_error(&a, 413);
}

#[test]
fn create_replace_delete_and_restore_users() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    cli(
        &d,
        &[
            "user",
            "add",
            "boss",
            "--type",
            "Administrator",
            "--role",
            "user-management",
        ],
    );
    cli(&d, &["user", "add", "reader"]);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());

    // Okta's shape.
    let okta = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jyoung",
        "name": {"givenName": "Jane", "familyName": "Young"},
        "emails": [{"primary": true, "value": "jyoung@example.com", "type": "work"}],
        "active": true,
        "password": "Str0ngSecret",
        "externalId": "00u1abcd"
    });
    d.secret("Str0ngSecret");
    let a = request(&d, t, "POST", "/Users", &[], Some(&okta), &[]);
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_owned();
    assert!(
        a.headers.contains(&format!(
            "location: https://localhost:{}/scim/v2/users/{id}",
            d.https.unwrap().port()
        )),
        "{}",
        a.headers
    );
    assert!(a.headers.contains("etag: w/\""), "{}", a.headers);
    assert_eq!(a.body["externalId"], "00u1abcd");
    assert!(a.body.get("password").is_none());
    // The password works on the LDAP face at once.
    let out = std::process::Command::new("ldapwhoami")
        .args([
            "-x",
            "-H",
            &format!("ldap://{}", d.ldap.unwrap()),
            "-D",
            "jyoung",
            "-w",
            "Str0ngSecret",
        ])
        .env("LDAPCONF", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Errors as RFC 7644 spells them.
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(&json!({"userName": "JYOUNG"})),
        &[],
    );
    is_error(&a, 409);
    assert_eq!(a.body["scimType"], "uniqueness");
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(&json!({"userName": "weak1", "password": "password1"})),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "invalidValue");
    assert!(
        a.body["detail"].as_str().unwrap().contains("upper-case"),
        "{}",
        a.body
    );
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        // A login may hold any character but a control character.
        Some(&json!({"userName": "bad\u{1}name"})),
        &[],
    );
    assert_eq!(a.body["scimType"], "invalidValue", "{}", a.body);
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(&json!({"userName": "tz1", "timezone": "Mars/Olympus"})),
        &[],
    );
    assert_eq!(a.body["scimType"], "invalidValue", "{}", a.body);

    // Entra's shape: string booleans, a manager as a plain string, an
    // unknown extension URN.
    let boss_id = request(
        &d,
        t,
        "GET",
        "/Users",
        &[("filter", "userName eq boss")],
        None,
        &[],
    )
    .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entra = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:example:unknown"],
        "userName": "Entra1",
        "active": "False",
        "displayName": "Entra One",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": boss_id},
        "urn:example:unknown": {"x": 1}
    });
    let a = request(&d, t, "POST", "/Users", &[], Some(&entra), &[]);
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["active"], false);
    assert_eq!(
        a.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        boss_id.as_str()
    );

    // PUT with a stale If-Match is 412; a current one replaces.
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Users/{id}"),
        &[],
        Some(&json!({"userName": "jyoung", "name": {"givenName": "Janet"}})),
        &["If-Match: W/\"999\""],
    );
    is_error(&a, 412);
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Users/{id}"),
        &[],
        Some(&json!({"userName": "jyoung", "name": {"givenName": "Janet"}, "active": true})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["name"]["givenName"], "Janet");
    assert!(a.body.get("emails").is_none(), "PUT replaces: {}", a.body);

    // A read-only token cannot write.
    let reader = token_for(&d, "reader");
    let a = request(
        &d,
        Some(&reader),
        "POST",
        "/Users",
        &[],
        Some(&json!({"userName": "sneaky"})),
        &[],
    );
    is_error(&a, 403);
    let a = request(
        &d,
        Some(&reader),
        "DELETE",
        &format!("/Users/{id}"),
        &[],
        None,
        &[],
    );
    is_error(&a, 403);

    // DELETE archives: 204, then 404, the row stays, and a POST of the same
    // userName brings back the same id.
    let a = request(&d, t, "DELETE", &format!("/Users/{id}"), &[], None, &[]);
    assert_eq!(a.status, 204, "{}", a.body);
    is_error(&scim(&d, t, "GET", &format!("/Users/{id}")), 404);
    let a = request(
        &d,
        t,
        "GET",
        "/Users",
        &[("filter", "userName eq jyoung")],
        None,
        &[],
    );
    assert_eq!(a.body["totalResults"], 0);
    let shown = String::from_utf8(d.command(&["user", "show", "jyoung"], None).stdout).unwrap();
    assert!(
        shown.contains("archived") && shown.contains("yes"),
        "{shown}"
    );
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(&json!({"userName": "jyoung", "name": {"familyName": "Back"}})),
        &[],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["id"], id.as_str(), "same account, same id");
    assert_eq!(a.body["active"], true);
    assert_eq!(a.body["name"]["familyName"], "Back");

    // Malformed and oversized bodies.
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(&json!("not an object")),
        &[],
    );
    is_error(&a, 400);
}

#[test]
fn groups_with_people_and_nested_groups() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());
    let mut ids = Vec::new();
    for name in ["ann", "ben", "cat"] {
        let a = request(
            &d,
            t,
            "POST",
            "/Users",
            &[],
            Some(&json!({"userName": name})),
            &[],
        );
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.body["id"].as_str().unwrap().to_owned());
    }
    let a = request(
        &d,
        t,
        "POST",
        "/Groups",
        &[],
        Some(
            &json!({"displayName": "Night shift", "members": [{"value": ids[0]}, {"value": ids[1], "type": "User"}]}),
        ),
        &[],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let night = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["members"].as_array().unwrap().len(), 2);
    let a = request(
        &d,
        t,
        "POST",
        "/Groups",
        &[],
        Some(&json!({"displayName": "Night shift"})),
        &[],
    );
    is_error(&a, 409);
    assert_eq!(a.body["scimType"], "uniqueness");

    // A parent group whose member is the night shift group: nesting.
    let a = request(
        &d,
        t,
        "POST",
        "/Groups",
        &[],
        Some(&json!({"displayName": "Support", "members": [{"value": night, "type": "Group"}]})),
        &[],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let support = a.body["id"].as_str().unwrap().to_owned();
    let a = scim(&d, t, "GET", &format!("/Groups/{night}"));
    assert_eq!(
        a.body["urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group"]["parent"]["value"],
        support.as_str(),
        "{}",
        a.body
    );

    // PUT replaces membership wholesale (Okta), touching only the difference.
    let before: Vec<i64> = ids.iter().map(|i| version(&d, t, i)).collect();
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{night}"),
        &[],
        Some(
            &json!({"displayName": "Night shift", "members": [{"value": ids[1]}, {"value": ids[2]}]}),
        ),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let members: Vec<&str> = a.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [ids[1].as_str(), ids[2].as_str()]);
    let after: Vec<i64> = ids.iter().map(|i| version(&d, t, i)).collect();
    assert!(after[0] > before[0], "ann left the group");
    assert_eq!(after[1], before[1], "ben stayed: untouched");
    assert!(after[2] > before[2], "cat joined");

    // The same membership shows on the LDAP face.
    let out = std::process::Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &format!("ldap://{}", d.ldap.unwrap()),
            "-D",
            "admin",
            "-w",
            d.admin_password.as_deref().unwrap(),
            "-b",
            "dc=example,dc=com",
            "(cn=Night shift)",
            "member",
            "memberOf",
        ])
        .env("LDAPCONF", "/dev/null")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\n ", "");
    assert!(
        text.contains("member: uid=cat,ou=people,dc=example,dc=com"),
        "{text}"
    );
    assert!(!text.contains("uid=ann"), "{text}");
    assert!(
        text.contains("memberOf: cn=Support,ou=groups,dc=example,dc=com"),
        "{text}"
    );

    // Deleting groups: not while something depends on them.
    let a = request(
        &d,
        t,
        "DELETE",
        &format!("/Groups/{support}"),
        &[],
        None,
        &[],
    );
    is_error(&a, 409);
    assert!(
        a.body["detail"].as_str().unwrap().contains("subgroups"),
        "{}",
        a.body
    );
    cli(&d, &["user", "add", "dana", "--restrict-to", "Night shift"]);
    let a = request(&d, t, "DELETE", &format!("/Groups/{night}"), &[], None, &[]);
    is_error(&a, 409);
    cli(&d, &["user", "set", "dana", "--restrict-to", "Support"]);
    let a = request(&d, t, "DELETE", &format!("/Groups/{night}"), &[], None, &[]);
    assert_eq!(a.status, 204, "{}", a.body);
    is_error(&scim(&d, t, "GET", &format!("/Groups/{night}")), 404);
    // Its members are still there; only the membership went.
    assert_eq!(
        scim(&d, t, "GET", &format!("/Users/{}", ids[2])).status,
        200
    );
}

fn version(d: &Daemon, t: Option<&str>, id: &str) -> i64 {
    let a = scim(d, t, "GET", &format!("/Users/{id}"));
    a.body["meta"]["version"]
        .as_str()
        .unwrap()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap()
}

#[test]
fn patch_as_entra_and_okta_send_it() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());
    let a = request(
        &d,
        t,
        "POST",
        "/Users",
        &[],
        Some(
            &json!({"userName": "pat", "name": {"givenName": "Pat"}, "emails": [{"value": "pat@example.com", "type": "work"}]}),
        ),
        &[],
    );
    let id = a.body["id"].as_str().unwrap().to_owned();
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let get = || scim(&d, t, "GET", &format!("/Users/{id}")).body;

    // Okta's deactivation: a path-less replace.
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Users/{id}"),
        &[],
        Some(&patch(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(get()["active"], false);
    // Entra's dialect: capitalised ops, string booleans, value paths, dotted keys.
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Users/{id}"),
        &[("attributes", "active,emails,name")],
        Some(&patch(json!([
            {"op": "Replace", "path": "active", "value": "True"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "pat@new.example.com"},
            {"op": "Add", "value": {"name.familyName": "Jones"}},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "Patricia"}
        ]))),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["active"], true);
    assert_eq!(a.body["emails"][0]["value"], "pat@new.example.com");
    assert_eq!(a.body["name"]["familyName"], "Jones");
    assert_eq!(a.body["name"]["givenName"], "Patricia");

    // All or nothing: the second operation fails, the first is not kept.
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Users/{id}"),
        &[],
        Some(&patch(json!([
            {"op": "replace", "path": "name.givenName", "value": "Changed"},
            {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@example.com"}
        ]))),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "noTarget");
    assert_eq!(get()["name"]["givenName"], "Patricia");
    // A value the core refuses also leaves everything as it was.
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Users/{id}"),
        &[],
        Some(&patch(json!([
            {"op": "replace", "path": "name.givenName", "value": "Changed"},
            {"op": "replace", "path": "timezone", "value": "Mars/Olympus"}
        ]))),
        &[],
    );
    assert_eq!(a.body["scimType"], "invalidValue", "{}", a.body);
    assert_eq!(get()["name"]["givenName"], "Patricia");
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Users/{id}"),
        &[],
        Some(&json!({"Operations": []})),
        &[],
    );
    is_error(&a, 400);
}

#[test]
fn a_ten_thousand_member_group_is_patched_by_one_member() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    // Seed through the core with the daemon stopped: 10,000 members.
    {
        use dirgate::core::{Actor, NewAccount, NewNode};
        let cfg = dirgate::config::Config::load(Some(&config)).unwrap();
        let dir = dirgate::cli::open_directory(&data, &cfg).unwrap();
        dir.bootstrap().unwrap();
        let group = dir
            .create_node(
                &Actor::System,
                NewNode {
                    name: "Everyone".into(),
                    kind: dirgate::model::NodeKind::Group,
                    parent: None,
                    external_id: None,
                },
            )
            .unwrap();
        for i in 0..10_000 {
            let a = dir
                .create_account(&Actor::System, NewAccount::named(format!("m{i:05}")))
                .unwrap();
            dir.store()
                .add_member(group.id, a.id, jiff::Timestamp::now())
                .unwrap();
        }
        dir.create_account(&Actor::System, NewAccount::named("newcomer"))
            .unwrap();
    }
    let d = Daemon::start_in(&data, &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());
    let group = request(
        &d,
        t,
        "GET",
        "/Groups",
        &[
            ("filter", "displayName eq Everyone"),
            ("attributes", "displayName"),
        ],
        None,
        &[],
    );
    let gid = group.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uid = |name: &str| {
        request(
            &d,
            t,
            "GET",
            "/Users",
            &[("filter", &format!("userName eq {name}"))],
            None,
            &[],
        )
        .body["Resources"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let newcomer = uid("newcomer");
    let leaver = uid("m00042");
    let bystander = uid("m00043");
    let bystander_version = version(&d, t, &bystander);
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});

    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{gid}"),
        &[],
        Some(&patch(
            json!([{"op": "Add", "path": "members", "value": [{"value": newcomer}]}]),
        )),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{gid}"),
        &[],
        Some(&patch(
            json!([{"op": "Remove", "path": "members", "value": [{"value": leaver, "$ref": null}]}]),
        )),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{gid}"),
        &[],
        Some(&patch(
            json!([{"op": "remove", "path": format!("members[value eq \"{bystander}\"]")}]),
        )),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{gid}"),
        &[],
        Some(&patch(
            json!([{"op": "add", "path": "members", "value": [{"value": bystander}]}]),
        )),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    // Counts through the filter index: 10,000 - 1 + 1.
    let count = |name: &str| {
        request(
            &d,
            t,
            "GET",
            "/Users",
            &[
                ("filter", &format!("userName eq {name}")),
                ("attributes", "groups"),
            ],
            None,
            &[],
        )
        .body["Resources"][0]["groups"]
            .as_array()
            .map_or(0, |g| g.len())
    };
    assert_eq!(count("newcomer"), 1);
    assert_eq!(count("m00042"), 0);
    assert_eq!(count("m00044"), 1, "members not named are untouched");
    assert!(version(&d, t, &bystander) > bystander_version);
    let members = scim(&d, t, "GET", &format!("/Groups/{gid}"));
    assert_eq!(members.body["members"].as_array().unwrap().len(), 10_000);
}

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn bulk(d: &Daemon, t: Option<&str>, body: &Value) -> Answer {
    request(d, t, "POST", "/Bulk", &[], Some(body), &[])
}

#[test]
fn bulk_runs_operations_in_order_with_bulk_id_references() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());

    // The group names people created after it; the PATCH names both; the
    // bad user fails and so does the operation that refers to it.
    let a = bulk(
        &d,
        t,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"displayName": "Bulk team",
                          "members": [{"value": "bulkId:ann"}, {"value": "bulkId:ben"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "ann",
                 "data": {"userName": "bulkann"}},
                {"method": "POST", "path": "/Users", "bulkId": "ben",
                 "data": {"userName": "bulkben"}},
                {"method": "PATCH", "path": "/Users/bulkId:ann",
                 "data": {"schemas": [PATCH_OP], "Operations": [{"op": "add",
                     "path": format!("{ENTERPRISE}:manager"), "value": "bulkId:ben"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "bad",
                 "data": {"userName": "not\u{7}allowed"}},
                {"method": "DELETE", "path": "/Users/bulkId:bad"},
                {"method": "PUT", "path": "/Users/bulkId:ben", "version": "W/\"999\"",
                 "data": {"userName": "bulkben"}},
                {"method": "GET", "path": "/Bulk", "bulkId": "nope", "data": {}}
            ]
        }),
    );
    // An operation with a method /Bulk does not run refuses the request.
    is_error(&a, 400);
    assert!(a.body["detail"].as_str().unwrap().contains("operation 8"));
    assert_eq!(
        scim(&d, t, "GET", "/Users?filter=userName%20eq%20%22bulkann%22").body["totalResults"],
        0
    );

    let a = bulk(
        &d,
        t,
        &json!({
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"displayName": "Bulk team",
                          "members": [{"value": "bulkId:ann"}, {"value": "bulkId:ben"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "ann",
                 "data": {"userName": "bulkann"}},
                {"method": "POST", "path": "/Users", "bulkId": "ben",
                 "data": {"userName": "bulkben"}},
                {"method": "PATCH", "path": "/Users/bulkId:ann",
                 "data": {"schemas": [PATCH_OP], "Operations": [{"op": "add",
                     "path": format!("{ENTERPRISE}:manager"), "value": "bulkId:ben"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "bad",
                 "data": {"userName": "not\u{7}allowed"}},
                {"method": "DELETE", "path": "/Users/bulkId:bad"},
                {"method": "PUT", "path": "/Users/bulkId:ben", "version": "W/\"999\"",
                 "data": {"userName": "bulkben"}},
                {"method": "DELETE", "path": "/Users/bulkId:nobody"}
            ]
        }),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    let ops = a.body["Operations"].as_array().unwrap();
    let status = |bulk_id: &str| -> (String, Value) {
        let op = ops
            .iter()
            .find(|o| o["bulkId"] == bulk_id)
            .unwrap_or_else(|| panic!("{bulk_id} missing: {}", a.body));
        (op["status"].as_str().unwrap().to_owned(), op.clone())
    };
    assert_eq!(ops.len(), 8, "{}", a.body);
    let (s, ann) = status("ann");
    assert_eq!(s, "201");
    let ann_location = ann["location"].as_str().unwrap();
    let ann_id = ann_location.rsplit('/').next().unwrap().to_owned();
    assert!(ann["version"].as_str().unwrap().starts_with("W/"));
    let (s, ben) = status("ben");
    assert_eq!(s, "201");
    let ben_id = ben["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (s, group) = status("g");
    assert_eq!(s, "201", "{}", a.body);
    let group_id = group["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (s, bad) = status("bad");
    assert_eq!(s, "400");
    assert_eq!(bad["response"]["scimType"], "invalidValue");
    let by_method = |method: &str, path_end: &str| -> &Value {
        ops.iter()
            .find(|o| {
                o["method"] == method
                    && o["location"].as_str().is_none_or(|l| l.ends_with(path_end))
                    && o.get("bulkId").is_none()
            })
            .unwrap_or_else(|| panic!("{method} {path_end}: {}", a.body))
    };
    assert_eq!(by_method("PATCH", &ann_id)["status"], "204");
    assert_eq!(by_method("PUT", &ben_id)["status"], "412");
    let deletes: Vec<&Value> = ops.iter().filter(|o| o["method"] == "DELETE").collect();
    assert_eq!(deletes.len(), 2);
    for d in deletes {
        assert_eq!(d["status"], "409", "{d}");
        assert_eq!(d["response"]["scimType"], "invalidValue");
    }

    // What the operations did is there.
    let g = scim(&d, t, "GET", &format!("/Groups/{group_id}"));
    let mut members: Vec<&str> = g.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort();
    let mut expected = vec![ann_id.as_str(), ben_id.as_str()];
    expected.sort();
    assert_eq!(members, expected);
    let a = scim(&d, t, "GET", &format!("/Users/{ann_id}"));
    assert_eq!(a.body[ENTERPRISE]["manager"]["value"], ben_id.as_str());

    // failOnErrors: 1 stops after the first failure; nothing after it runs.
    let a = bulk(
        &d,
        t,
        &json!({"failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "bulkann"}},
            {"method": "POST", "path": "/Users", "bulkId": "y", "data": {"userName": "bulkcat"}}
        ]}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let ops = a.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{}", a.body);
    assert_eq!(ops[0]["status"], "409");
    assert_eq!(ops[0]["response"]["scimType"], "uniqueness");
    let cats = scim(&d, t, "GET", "/Users?filter=userName%20eq%20%22bulkcat%22");
    assert_eq!(cats.body["totalResults"], 0);

    // References in a circle cannot run.
    let a = bulk(
        &d,
        t,
        &json!({"Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "p",
             "data": {"userName": "bulkp", ENTERPRISE: {"manager": {"value": "bulkId:q"}}}},
            {"method": "POST", "path": "/Users", "bulkId": "q",
             "data": {"userName": "bulkq", ENTERPRISE: {"manager": {"value": "bulkId:p"}}}}
        ]}),
    );
    let ops = a.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{}", a.body);
    assert!(ops.iter().all(|o| o["status"] == "409"), "{}", a.body);

    // Each operation runs with the token's rights: a Report Reader writes nothing.
    cli(&d, &["user", "add", "reader", "--type", "report-reader"]);
    let reader = token_for(&d, "reader");
    let a = bulk(
        &d,
        Some(&reader),
        &json!({"Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "r", "data": {"userName": "bulkr"}}
        ]}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Operations"][0]["status"], "403", "{}", a.body);

    // The advertised limits are enforced with 413.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    is_error(&bulk(&d, t, &json!({"Operations": many})), 413);
    let huge = "x".repeat(1_100_000);
    let a = bulk(
        &d,
        t,
        &json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "h",
            "data": {"userName": "bulkh", "displayName": huge}}]}),
    );
    is_error(&a, 413);
    assert!(a.body["detail"]
        .as_str()
        .unwrap()
        .contains("maxPayloadSize"));
    // The daemon serves on.
    assert_eq!(scim(&d, t, "GET", "/ServiceProviderConfig").status, 200);
}

#[test]
fn group_changes_land_whole_and_a_patch_removes_a_manager() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());
    let post = |path: &str, body: Value| -> String {
        let a = request(&d, t, "POST", path, &[], Some(&body), &[]);
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["id"].as_str().unwrap().to_owned()
    };
    let boss = post("/Users", json!({"userName": "boss"}));
    let ann = post(
        "/Users",
        json!({"userName": "ann", ENTERPRISE: {"manager": {"value": boss}}}),
    );
    let inner = post(
        "/Groups",
        json!({"displayName": "Inner", "members": [{"value": ann}]}),
    );
    let outer = post(
        "/Groups",
        json!({"displayName": "Outer", "members": [{"value": inner, "type": "Group"}]}),
    );

    // A rename with a membership the core refuses (a group cannot hold its
    // own parent) changes nothing: not even the name.
    let before = scim(&d, t, "GET", &format!("/Groups/{inner}")).body;
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{inner}"),
        &[],
        Some(&json!({"displayName": "Renamed", "members": [{"value": outer, "type": "Group"}]})),
        &[],
    );
    is_error(&a, 400);
    assert!(
        a.body["detail"].as_str().unwrap().contains("subgroup"),
        "{}",
        a.body
    );
    let after = scim(&d, t, "GET", &format!("/Groups/{inner}")).body;
    assert_eq!(after, before);
    // The same through PATCH with two operations.
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{inner}"),
        &[],
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            {"op": "add", "path": "members", "value": [{"value": outer, "type": "Group"}]}
        ]})),
        &[],
    );
    is_error(&a, 400);
    assert!(
        a.body["detail"].as_str().unwrap().contains("subgroup"),
        "{}",
        a.body
    );
    assert_eq!(scim(&d, t, "GET", &format!("/Groups/{inner}")).body, before);

    // If-Match on a group: a stale version is 412, the current one works.
    let stale = "If-Match: W/\"0\"";
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{inner}"),
        &[],
        Some(&json!({"displayName": "Renamed", "members": []})),
        &[stale],
    );
    is_error(&a, 412);
    let current = format!("If-Match: {}", before["meta"]["version"].as_str().unwrap());
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{inner}"),
        &[],
        Some(&json!({"displayName": "Renamed", "members": [{"value": ann}]})),
        &[&current],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["displayName"], "Renamed");

    // A PUT with a lone displayName keeps it as the name, as a POST does.
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Users/{boss}"),
        &[],
        Some(&json!({"userName": "boss", "displayName": "Big Boss"})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["displayName"], "Big Boss");

    // The parent is the tree: a PUT moves the group, a PATCH that removes
    // the parent moves it to the top, and its kind cannot change.
    const OURS: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group";
    let spare = post("/Groups", json!({"displayName": "Spare"}));
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{spare}"),
        &[],
        Some(&json!({"displayName": "Spare", OURS: {"parent": {"value": outer}}})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body[OURS]["parent"]["value"], outer.as_str());
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Groups/{spare}"),
        &[],
        Some(&json!({"displayName": "Spare", OURS: {"kind": "Business Entity"}})),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "mutability");
    let a = request(
        &d,
        t,
        "PATCH",
        &format!("/Groups/{spare}"),
        &[("attributes", "displayName")],
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "remove", "path": format!("{OURS}:parent")}]})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = scim(&d, t, "GET", &format!("/Groups/{spare}"));
    assert!(a.body[OURS]["parent"].is_null(), "{}", a.body);
    assert_eq!(a.body[OURS]["kind"], "Group");
    let a = request(
        &d,
        t,
        "POST",
        "/Groups",
        &[],
        Some(&json!({"displayName": "Orphan", OURS: {"parent": {"value": ann}}})),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "invalidValue");

    // A PUT that leaves the manager out keeps it; a PATCH that removes it
    // clears it.
    let a = request(
        &d,
        t,
        "PUT",
        &format!("/Users/{ann}"),
        &[],
        Some(&json!({"userName": "ann", "name": {"givenName": "Ann"}})),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body[ENTERPRISE]["manager"]["value"], boss.as_str());
    for path in [format!("{ENTERPRISE}:manager"), "manager".to_owned()] {
        let a = request(
            &d,
            t,
            "PATCH",
            &format!("/Users/{ann}"),
            &[("attributes", "userName,manager")],
            Some(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path}]})),
            &[],
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body[ENTERPRISE]["manager"].is_null(), "{}", a.body);
        let a = scim(&d, t, "GET", &format!("/Users/{ann}"));
        assert!(a.body[ENTERPRISE]["manager"].is_null(), "{}", a.body);
        // Put the manager back for the next form.
        let a = request(
            &d,
            t,
            "PATCH",
            &format!("/Users/{ann}"),
            &[],
            Some(
                &json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {
                format!("{ENTERPRISE}:manager"): boss}}]}),
            ),
            &[],
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let a = scim(&d, t, "GET", &format!("/Users/{ann}"));
        assert_eq!(a.body[ENTERPRISE]["manager"]["value"], boss.as_str());
    }
}

/// The userNames (or displayNames, for groups) of a list answer, in order.
fn names(a: &Answer) -> Vec<String> {
    a.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", a.body))
        .iter()
        .map(|r| {
            r.get("userName")
                .or_else(|| r.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn lists_sort_by_sort_by_and_sort_order() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    let admin = token_for(&d, "admin");
    let t = Some(admin.as_str());
    // Created in another order than any sort below; sxerin and sxgus share
    // a family name, sxhal has none, sxerin no email.
    let users = [
        json!({"userName": "sxdave", "name": {"familyName": "adams"},
               "emails": [{"value": "d@example.com"}], "active": false}),
        json!({"userName": "sxerin", "name": {"familyName": "Baker"}}),
        json!({"userName": "sxfay", "name": {"familyName": "carter"},
               "emails": [{"value": "a@example.com"}]}),
        json!({"userName": "sxgus", "name": {"familyName": "Baker"},
               "emails": [{"value": "c@example.com"}]}),
        json!({"userName": "sxhal", "name": {"givenName": "Hal"},
               "emails": [{"value": "b@example.com"}]}),
    ];
    for u in &users {
        let a = request(&d, t, "POST", "/Users", &[], Some(u), &[]);
        assert_eq!(a.status, 201, "{}", a.body);
    }
    for g in ["sxbeta", "SXalpha", "sxgamma"] {
        let body = json!({"displayName": g});
        let a = request(&d, t, "POST", "/Groups", &[], Some(&body), &[]);
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let mine = ("filter", r#"userName sw "sx""#);
    let list = |params: &[(&str, &str)]| -> Answer {
        let mut all = vec![mine];
        all.extend_from_slice(params);
        let a = request(&d, t, "GET", "/Users", &all, None, &[]);
        assert_eq!(a.status, 200, "{params:?}: {}", a.body);
        a
    };

    // Case-insensitive, ties in creation order, no value last ascending...
    let family_up = ["sxdave", "sxerin", "sxgus", "sxfay", "sxhal"];
    let a = list(&[("sortBy", "name.familyName")]);
    assert_eq!(names(&a), family_up);
    assert_eq!(a.body["totalResults"], 5);
    let a = list(&[("sortBy", "name.familyName"), ("sortOrder", "ascending")]);
    assert_eq!(names(&a), family_up);
    // ... and first descending: descending is ascending reversed.
    let family_down: Vec<&str> = family_up.iter().rev().copied().collect();
    let a = list(&[("sortBy", "NAME.FAMILYNAME"), ("sortOrder", "Descending")]);
    assert_eq!(names(&a), family_down);

    // Pages stay stable across the tie: 2 at a time give the same list.
    for (order, whole) in [
        ("ascending", family_up.to_vec()),
        ("descending", family_down),
    ] {
        let mut paged = Vec::new();
        for start in ["1", "3", "5"] {
            let a = list(&[
                ("sortBy", "name.familyName"),
                ("sortOrder", order),
                ("startIndex", start),
                ("count", "2"),
            ]);
            assert_eq!(a.body["totalResults"], 5);
            paged.extend(names(&a));
        }
        assert_eq!(paged, whole, "{order}");
    }

    // A multi-valued attribute sorts by its (one) value; no email last.
    let a = list(&[("sortBy", "emails.value")]);
    assert_eq!(names(&a), ["sxfay", "sxhal", "sxgus", "sxdave", "sxerin"]);
    let a = list(&[("sortBy", "emails"), ("sortOrder", "descending")]);
    assert_eq!(names(&a), ["sxerin", "sxdave", "sxgus", "sxhal", "sxfay"]);
    // URN-qualified; false before true.
    let a = list(&[
        (
            "sortBy",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        ),
        ("sortOrder", "descending"),
    ]);
    assert_eq!(names(&a), ["sxhal", "sxgus", "sxfay", "sxerin", "sxdave"]);
    let a = list(&[("sortBy", "active")]);
    assert_eq!(names(&a)[0], "sxdave", "{}", a.body);
    let a = list(&[("sortBy", "active"), ("sortOrder", "descending")]);
    assert_eq!(names(&a)[4], "sxdave", "{}", a.body);
    let a = list(&[("sortBy", "meta.created"), ("sortOrder", "descending")]);
    assert_eq!(names(&a)[0], "sxhal", "{}", a.body);

    // What cannot be sorted by is 400 invalidValue (RFC 7644 3.12).
    for bad in [
        vec![("sortBy", "nickName")],
        vec![("sortBy", "name")],
        vec![("sortBy", "emails.type")],
        vec![("sortBy", "user*Name")],
        vec![("sortBy", "userName"), ("sortOrder", "sideways")],
    ] {
        let mut all = vec![mine];
        all.extend(bad.iter().copied());
        let a = request(&d, t, "GET", "/Users", &all, None, &[]);
        is_error(&a, 400);
        assert_eq!(a.body["scimType"], "invalidValue", "{bad:?}: {}", a.body);
    }
    let a = request(
        &d,
        t,
        "GET",
        "/Groups",
        &[("sortBy", "userName")],
        None,
        &[],
    );
    is_error(&a, 400);

    // The same in a search body.
    let a = request(
        &d,
        t,
        "POST",
        "/Users/.search",
        &[],
        Some(
            &json!({"filter": "userName sw \"sx\"", "sortBy": "name.familyName",
                     "sortOrder": "descending", "startIndex": 2, "count": 3}),
        ),
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(names(&a), ["sxfay", "sxgus", "sxerin"]);
    let a = request(
        &d,
        t,
        "POST",
        "/Users/.search",
        &[],
        Some(&json!({"sortBy": "nickName"})),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "invalidValue");

    // Groups.
    let a = request(
        &d,
        t,
        "GET",
        "/Groups",
        &[
            ("filter", r#"displayName sw "sx""#),
            ("sortBy", "displayName"),
            ("sortOrder", "descending"),
        ],
        None,
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(names(&a), ["sxgamma", "sxbeta", "SXalpha"]);
    let a = request(
        &d,
        t,
        "POST",
        "/Groups/.search",
        &[],
        Some(&json!({"filter": "displayName sw \"sx\"", "sortBy": "displayName"})),
        &[],
    );
    assert_eq!(names(&a), ["SXalpha", "sxbeta", "sxgamma"]);

    // At the root: each type sorted on its own. Groups have no family
    // name, so they come after the users ascending and before descending.
    let both = "userName sw \"sx\" or displayName sw \"sx\"";
    let root = |body: Value| -> Answer {
        let a = request(&d, t, "POST", "/.search", &[], Some(&body), &[]);
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["totalResults"], 8, "{}", a.body);
        a
    };
    let a = root(json!({"filter": both, "sortBy": "name.familyName"}));
    assert_eq!(
        names(&a),
        ["sxdave", "sxerin", "sxgus", "sxfay", "sxhal", "sxbeta", "SXalpha", "sxgamma"]
    );
    let a = root(json!({"filter": both, "sortBy": "name.familyName",
                        "sortOrder": "descending", "startIndex": 3, "count": 3}));
    assert_eq!(names(&a), ["sxgamma", "sxhal", "sxfay"]);
    // An attribute both have: users sorted, then groups sorted.
    let a = root(json!({"filter": both, "sortBy": "meta.created", "sortOrder": "descending"}));
    assert_eq!(
        names(&a),
        ["sxhal", "sxgus", "sxfay", "sxerin", "sxdave", "sxgamma", "SXalpha", "sxbeta"]
    );
    let a = request(
        &d,
        t,
        "POST",
        "/.search",
        &[],
        Some(&json!({"sortBy": "nickName"})),
        &[],
    );
    is_error(&a, 400);
    assert_eq!(a.body["scimType"], "invalidValue");
}
