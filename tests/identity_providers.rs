//! Provisioning as Microsoft Entra ID and Okta do it with their default
//! settings, through the real daemon: the bodies, PATCH dialects and
//! filters their default attribute mappings send, read back over SCIM and
//! over LDAP with `ldapsearch`, and binds by UPN and by email with
//! `ldapwhoami`. Also concurrent PATCHes that must not lose each other.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};

use common::scim_client::{encoded, scim, token_for};
use common::{write_config, Daemon};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const DIRGATE: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The super admin's password, set at the start (the bootstrap one is
/// printed on another stream than the one that says the daemon is ready).
const ADMIN_PW: &str = "Admin7Secret0";

fn start(extra: &str) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), extra);
    let daemon = Daemon::start_in(&dir.path().join("data"), &config);
    let set = daemon.command(
        &["user", "set-password", "admin", "--password-stdin"],
        Some(ADMIN_PW),
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    (dir, daemon)
}

/// An ldap-utils tool against the daemon's plain LDAP listener.
fn ldap_tool(d: &Daemon, program: &str, args: &[&str]) -> Output {
    d.tool_secrets(args);
    Command::new(program)
        .args(args)
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (is ldap-utils installed?)"))
}

fn ldap_url(d: &Daemon) -> String {
    format!("ldap://{}", d.ldap.unwrap())
}

/// The attributes of the one entry `filter` finds, searched as the super
/// admin: name (as written) to values.
fn ldap_entry(d: &Daemon, filter: &str, attrs: &[&str]) -> BTreeMap<String, Vec<String>> {
    let url = ldap_url(d);
    let mut args = vec![
        "-x",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-H",
        &url,
        "-D",
        "uid=admin,ou=people,dc=example,dc=com",
        "-w",
        ADMIN_PW,
        "-b",
        "ou=people,dc=example,dc=com",
        filter,
    ];
    args.extend_from_slice(attrs);
    let out = ldap_tool(d, "ldapsearch", &args);
    assert!(
        out.status.success(),
        "ldapsearch {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut entry = BTreeMap::new();
    let mut dns = 0;
    for line in text.lines() {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if name == "dn" {
            dns += 1;
        }
        entry
            .entry(name.to_owned())
            .or_insert_with(Vec::new)
            .push(value.to_owned());
    }
    assert_eq!(dns, 1, "one entry for {filter}:\n{text}");
    entry
}

fn values<'a>(entry: &'a BTreeMap<String, Vec<String>>, name: &str) -> Vec<&'a str> {
    entry
        .get(name)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// `ldapwhoami` with a bind name and password: the authorization id, or
/// the error text.
fn whoami(d: &Daemon, name: &str, password: &str) -> Result<String, String> {
    let url = ldap_url(d);
    let out = ldap_tool(
        d,
        "ldapwhoami",
        &["-x", "-H", &url, "-D", name, "-w", password],
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The user name the gateway derived (the extension's `userName`, shown
/// when asked for).
fn derived_user_name(d: &Daemon, token: &str, id: &str) -> String {
    let a = scim(
        d,
        token,
        "GET",
        &format!(
            "/Users/{id}?attributes={}",
            encoded(&format!("{DIRGATE}:userName"))
        ),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body.get("title").is_none(),
        "only what was asked: {}",
        a.body
    );
    a.body[DIRGATE]["userName"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn find_user(d: &Daemon, token: &str, filter: &str) -> Value {
    let a = scim(
        d,
        token,
        "GET",
        &format!("/Users?filter={}", encoded(filter)),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

/// A user as Entra ID's default attribute mapping sends it (the gallery's
/// "customappsso" mapping: userPrincipalName as userName, mailNickname as
/// externalId, the work address, phones and the enterprise extension).
fn entra_user(upn: &str, nickname: &str, mail: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": nickname,
        "userName": upn,
        "active": true,
        "displayName": "Jo Young (Sales)",
        "title": "Account Executive",
        "preferredLanguage": "en-GB",
        "emails": [{"primary": true, "type": "work", "value": mail}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Jo Young", "familyName": "Young", "givenName": "Jo"},
        "phoneNumbers": [
            {"type": "work", "value": "+44 20 7946 0000"},
            {"type": "mobile", "value": "+447700900123"},
            {"type": "fax", "value": "+44 20 7946 0001"}
        ],
        "addresses": [{
            "type": "work",
            "formatted": "Building 4\n1 Harbour Street",
            "streetAddress": "1 Harbour Street",
            "locality": "London",
            "region": "Greater London",
            "postalCode": "E14 5AB",
            "country": "GB"
        }],
        "roles": [],
        ENTERPRISE: {"employeeNumber": "E-1001", "department": "Sales"}
    })
}

#[test]
fn entra_id_default_mapping_provisions_and_its_users_bind_by_upn_and_email() {
    let (_dir, mut d) = start("");
    let token = token_for(&d, "admin");

    // Entra first looks the user up by its matching attribute.
    let probe = find_user(&d, &token, r#"userName eq "Jo.Young@contoso.com""#);
    assert_eq!(probe["totalResults"], 0);

    let created = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&entra_user(
            "Jo.Young@contoso.com",
            "JoYoung",
            "jyoung@contoso.com",
        )),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let u = &created.body;
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(u["userName"], "Jo.Young@contoso.com", "the login as sent");
    assert!(
        u[DIRGATE].get("userName").is_none(),
        "shown on request only"
    );
    assert_eq!(derived_user_name(&d, &token, &id), "JoYoung");
    assert_eq!(u["displayName"], "Jo Young (Sales)");
    assert_eq!(
        u["name"]["givenName"], "Jo",
        "displayName never rewrites names"
    );
    assert_eq!(u["name"]["familyName"], "Young");
    assert_eq!(u["name"]["formatted"], "Jo Young");
    assert_eq!(u["title"], "Account Executive");
    assert_eq!(u["preferredLanguage"], "en-GB");
    assert_eq!(u["externalId"], "JoYoung");
    let phones: Vec<(String, String)> = u["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for kind in ["work", "mobile", "fax"] {
        assert!(
            phones.iter().any(|(t, _)| t == kind),
            "{kind} in {phones:?}"
        );
    }
    let address = &u["addresses"][0];
    assert_eq!(address["type"], "work");
    assert_eq!(address["locality"], "London");
    assert_eq!(address["postalCode"], "E14 5AB");
    assert_eq!(address["formatted"], "Building 4\n1 Harbour Street");
    assert_eq!(u[ENTERPRISE]["employeeNumber"], "E-1001");
    assert_eq!(u[ENTERPRISE]["department"], "Sales");

    // Matching ignores case; the same login in another case is taken.
    let found = find_user(&d, &token, r#"userName eq "jo.young@CONTOSO.com""#);
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    let again = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&entra_user("JO.YOUNG@contoso.com", "x", "x@contoso.com")),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["scimType"], "uniqueness");

    // Another tenant's Jo Young gets the next free user name.
    let other = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&entra_user(
            "Jo.Young@fabrikam.com",
            "JoYoungF",
            "jo@fabrikam.com",
        )),
    );
    assert_eq!(other.status, 201, "{}", other.body);
    let other_id = other.body["id"].as_str().unwrap();
    assert_eq!(derived_user_name(&d, &token, other_id), "JoYoung2");

    // Filters and sorts on the new attributes, as RFC 7644 allows.
    let by_dept = find_user(
        &d,
        &token,
        &format!(r#"{ENTERPRISE}:department eq "sales" and title sw "Account""#),
    );
    assert_eq!(by_dept["totalResults"], 2);
    let by_fax = find_user(&d, &token, r#"phoneNumbers[type eq "fax"].value pr"#);
    assert_eq!(by_fax["totalResults"], 2);
    let by_city = find_user(
        &d,
        &token,
        r#"addresses[type eq "work"].locality eq "London""#,
    );
    assert_eq!(by_city["totalResults"], 2);
    let work_is_not_mobile = find_user(
        &d,
        &token,
        r#"phoneNumbers[type eq "mobile"].value eq "+44 20 7946 0000""#,
    );
    assert_eq!(work_is_not_mobile["totalResults"], 0);

    // Entra's PATCH dialect: capitalised ops, paths with value filters,
    // "False" as a string.
    let patch = json!({
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "2 Dock Road"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Marketing"},
            {"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+44 20 7946 0009"},
            {"op": "Replace", "path": "displayName", "value": "Jo Young"}
        ]
    });
    let patched = scim(&d, &token, "PATCH", &format!("/Users/{id}"), Some(&patch));
    assert_eq!(
        patched.status, 200,
        "PATCH answers the resource: {}",
        patched.body
    );
    assert_eq!(patched.body["addresses"][0]["streetAddress"], "2 Dock Road");
    assert_eq!(patched.body["addresses"][0]["locality"], "London");
    assert_eq!(patched.body[ENTERPRISE]["department"], "Marketing");
    assert_eq!(patched.body["name"]["givenName"], "Jo");

    // Over LDAP, with the standard inetOrgPerson names.
    let e = ldap_entry(&d, "(uid=JoYoung)", &["*"]);
    assert_eq!(values(&e, "dirgateLoginName"), ["Jo.Young@contoso.com"]);
    assert_eq!(values(&e, "displayName"), ["Jo Young"]);
    assert_eq!(values(&e, "cn"), ["Jo Young"]);
    assert_eq!(values(&e, "title"), ["Account Executive"]);
    assert_eq!(values(&e, "preferredLanguage"), ["en-GB"]);
    assert_eq!(values(&e, "telephoneNumber"), ["+44 20 7946 0000"]);
    assert_eq!(values(&e, "mobile"), ["+447700900123"]);
    assert_eq!(values(&e, "facsimileTelephoneNumber"), ["+44 20 7946 0009"]);
    assert_eq!(values(&e, "street"), ["2 Dock Road"]);
    assert_eq!(values(&e, "l"), ["London"]);
    assert_eq!(values(&e, "st"), ["Greater London"]);
    assert_eq!(values(&e, "postalCode"), ["E14 5AB"]);
    assert_eq!(values(&e, "c"), ["GB"]);
    assert_eq!(values(&e, "postalAddress"), ["Building 4$1 Harbour Street"]);
    assert_eq!(values(&e, "employeeNumber"), ["E-1001"]);
    assert_eq!(values(&e, "departmentNumber"), ["Marketing"]);
    let by_login = ldap_entry(&d, "(dirgateLoginName=jo.young@contoso.com)", &["uid"]);
    assert_eq!(values(&by_login, "uid"), ["JoYoung"]);
    let by_title = ldap_entry(&d, "(&(title=Account*)(l=london)(uid=JoYoung2))", &["uid"]);
    assert_eq!(values(&by_title, "uid"), ["JoYoung2"]);

    // Binds by UPN, by email, by user name; a wrong password is refused.
    let password = "Harbour7Street";
    d.secret(password);
    let set = scim(
        &d,
        &token,
        "PATCH",
        &format!("/Users/{id}"),
        Some(&json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "password", "value": password}]})),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let me = "dn:uid=JoYoung,ou=people,dc=example,dc=com";
    assert_eq!(
        whoami(&d, "Jo.Young@contoso.com", password).as_deref(),
        Ok(me)
    );
    assert_eq!(
        whoami(&d, "jo.young@CONTOSO.COM", password).as_deref(),
        Ok(me)
    );
    assert_eq!(
        whoami(&d, "JYoung@Contoso.com", password).as_deref(),
        Ok(me),
        "by email"
    );
    assert_eq!(whoami(&d, "JoYoung", password).as_deref(), Ok(me));
    let wrong = whoami(&d, "Jo.Young@contoso.com", "Wrong7Password0");
    assert!(wrong.unwrap_err().contains("Invalid credentials"));

    // Entra renames the UPN: the login follows, the user name stays.
    let rename = json!({"schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "userName", "value": "Jo.Young@contoso.onmicrosoft.com"}]});
    let renamed = scim(&d, &token, "PATCH", &format!("/Users/{id}"), Some(&rename));
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["userName"], "Jo.Young@contoso.onmicrosoft.com");
    assert_eq!(derived_user_name(&d, &token, &id), "JoYoung", "kept");
    assert_eq!(
        whoami(&d, "Jo.Young@contoso.onmicrosoft.com", password).as_deref(),
        Ok(me)
    );
    assert!(
        whoami(&d, "Jo.Young@contoso.com", password).is_err(),
        "the old UPN is no login now"
    );

    // Soft delete in Entra is active = "False" (a string).
    let disable = json!({"schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let disabled = scim(&d, &token, "PATCH", &format!("/Users/{id}"), Some(&disable));
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["active"], false);
    assert!(whoami(&d, "JoYoung", password).is_err());
    d.stop();
}

#[test]
fn okta_default_profile_push_with_email_logins() {
    let (_dir, mut d) = start("");
    let token = token_for(&d, "admin");
    let password = "Okta7Pushed";
    d.secret(password);
    // Okta's create: the Okta login (an email) as userName, its profile,
    // and the password when "Sync password" is on.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": "ann.lee@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"primary": true, "value": "ann.lee@example.com", "type": "work"}],
        "displayName": "Ann Lee",
        "locale": "en-US",
        "externalId": "00u1abcd2EFGH3ijk4x7",
        "groups": [],
        "password": password,
        "active": true,
        "title": "Engineer",
        ENTERPRISE: {"costCenter": "CC-42", "organization": "Example Ltd",
                     "division": "R&D", "department": "Platform"}
    });
    let created = scim(&d, &token, "POST", "/Users", Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(derived_user_name(&d, &token, &id), "annlee");
    // Attributes no published schema names (locale, groups) are ignored;
    // the answer shows exactly what was stored.
    assert!(created.body.get("locale").is_none());

    // Okta updates a profile with a PUT of the whole user.
    let mut put = body.clone();
    put["title"] = json!("Staff Engineer");
    put[ENTERPRISE]["costCenter"] = json!("CC-43");
    put.as_object_mut().unwrap().remove("password");
    let replaced = scim(&d, &token, "PUT", &format!("/Users/{id}"), Some(&put));
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["title"], "Staff Engineer");
    assert_eq!(replaced.body[ENTERPRISE]["costCenter"], "CC-43");
    assert_eq!(replaced.body[ENTERPRISE]["division"], "R&D");

    let e = ldap_entry(&d, "(uid=annlee)", &["*"]);
    assert_eq!(values(&e, "dirgateCostCenter"), ["CC-43"]);
    assert_eq!(values(&e, "dirgateDivision"), ["R&D"]);
    assert_eq!(values(&e, "o"), ["Example Ltd"]);
    assert_eq!(values(&e, "title"), ["Staff Engineer"]);
    let me = "dn:uid=annlee,ou=people,dc=example,dc=com";
    assert_eq!(
        whoami(&d, "ann.lee@example.com", password).as_deref(),
        Ok(me)
    );

    // Okta's deactivation: a PATCH of active.
    let off = json!({"schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let a = scim(&d, &token, "PATCH", &format!("/Users/{id}"), Some(&off));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(whoami(&d, "ann.lee@example.com", password).is_err());

    // Values have limits, answered in SCIM's words.
    let mut long = body.clone();
    long["userName"] = json!("someone.else@example.com");
    long["externalId"] = json!("x".repeat(100_000));
    let refused = scim(&d, &token, "POST", "/Users", Some(&long));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidValue");
    let mut long = body;
    long["userName"] = json!("someone.else@example.com");
    long["title"] = json!("t".repeat(300));
    let refused = scim(&d, &token, "POST", "/Users", Some(&long));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidValue");
    d.stop();
}

#[test]
fn strict_user_names_refuse_logins_naming_the_rule_and_the_key() {
    let (_dir, mut d) = start("[scim]\nuser_names = \"strict\"\n");
    let token = token_for(&d, "admin");
    let a = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&json!({"userName": "Jo.Young@contoso.com"})),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.body["scimType"], "invalidValue");
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("letters and digits"), "{detail}");
    assert!(detail.contains("[scim] user_names"), "{detail}");
    let ok = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&json!({"userName": "JoYoung"})),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["userName"], "JoYoung");
    d.stop();
}

#[test]
fn concurrent_patches_of_different_attributes_never_lose_each_other() {
    let (_dir, d) = start("");
    let token = token_for(&d, "admin");
    let created = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&json!({"userName": "busy"})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let paths = [
        "title".to_owned(),
        "preferredLanguage".to_owned(),
        format!("{ENTERPRISE}:department"),
        format!("{ENTERPRISE}:costCenter"),
    ];
    let d = Arc::new(d);
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(paths.len()));
        let workers: Vec<_> = paths
            .iter()
            .map(|path| {
                let (d, token, id, barrier) =
                    (d.clone(), token.clone(), id.clone(), barrier.clone());
                let body = json!({"schemas": [PATCH_OP], "Operations": [
                    {"op": "replace", "path": path, "value": format!("round {round}")}]});
                std::thread::spawn(move || {
                    barrier.wait();
                    scim(&d, &token, "PATCH", &format!("/Users/{id}"), Some(&body)).status
                })
            })
            .collect();
        for w in workers {
            assert_eq!(w.join().unwrap(), 200);
        }
        let now = scim(&d, &token, "GET", &format!("/Users/{id}"), None).body;
        let want = format!("round {round}");
        assert_eq!(now["title"], want.as_str(), "round {round}: {now}");
        assert_eq!(now["preferredLanguage"], want.as_str(), "round {round}");
        assert_eq!(
            now[ENTERPRISE]["department"],
            want.as_str(),
            "round {round}"
        );
        assert_eq!(
            now[ENTERPRISE]["costCenter"],
            want.as_str(),
            "round {round}"
        );
    }
    // With If-Match naming an old version, a PATCH is refused, not merged.
    let stale = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(d.data.join("tls").join("cert.pem"))
        .args(["-X", "PATCH", "-H", "If-Match: W/\"1\""])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Content-Type: application/scim+json", "--data-binary"])
        .arg(
            json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "title", "value": "stale"}]})
            .to_string(),
        )
        .arg(format!(
            "https://localhost:{}/scim/v2/Users/{id}",
            d.https.unwrap().port()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&stale.stdout), "412");
    match Arc::try_unwrap(d) {
        Ok(mut d) => {
            d.stop();
        }
        Err(_) => panic!("a worker still holds the daemon"),
    }
}

#[test]
fn an_administrator_renames_a_derived_user_name_and_the_login_stays() {
    let (_dir, mut d) = start("");
    let token = token_for(&d, "admin");
    let body = json!({"userName": "first.last", "title": "Clerk"});
    let created = scim(&d, &token, "POST", "/Users", Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(derived_user_name(&d, &token, &id), "firstlast");

    let shown = d.command(&["user", "show", "first.last"], None);
    assert!(
        !shown.status.success(),
        "the CLI names accounts by user name"
    );
    let shown = d.command(&["user", "show", "firstlast"], None);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("login name") && text.contains("first.last"),
        "{text}"
    );
    assert!(text.contains("title") && text.contains("Clerk"), "{text}");

    let renamed = d.command(&["user", "set", "firstlast", "--user-name", "fl"], None);
    assert!(
        renamed.status.success(),
        "{}",
        String::from_utf8_lossy(&renamed.stderr)
    );
    assert_eq!(derived_user_name(&d, &token, &id), "fl");
    let now = scim(&d, &token, "GET", &format!("/Users/{id}"), None);
    assert_eq!(now.body["userName"], "first.last", "the login stays");
    let e = ldap_entry(&d, "(dirgateLoginName=first.last)", &["uid"]);
    assert_eq!(values(&e, "uid"), ["fl"]);
    let bad = d.command(&["user", "set", "fl", "--user-name", "f.l"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("letters and digits"));
    d.stop();
}
