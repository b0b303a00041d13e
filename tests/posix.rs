//! POSIX accounts and groups (RFC 2307, rfc2307bis) through the real
//! daemon, read with ldapsearch the way SSSD and nslcd search: numbers
//! allocated from the configured range and never reused, the defaults of
//! the home directory and shell, integer equality and ordering, memberUid
//! beside member, values set over SCIM and the command line checked for
//! uniqueness, SSH keys the account sets itself, and a restricted service
//! account that sees only its scope.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use common::scim_client::{scim, token_for};
use common::{cli, write_config, Daemon};
use serde_json::json;

const DIRGATE: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ADMIN_PW: &str = "Admin7Secret0";
const PW: &str = "Posix7Secret1";
const KEY1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv6 alice@laptop";
const KEY2: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice@desk";

const POSIX: &str = "[posix]\nuid_min = 20000\nuid_max = 20099\ngid_min = 30000\ngid_max = 30099\n\
                     home_directory = \"/srv/home/{user}\"\nlogin_shell = \"/bin/zsh\"\n";

fn start() -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), POSIX);
    let d = Daemon::start_in(&dir.path().join("data"), &config);
    d.secret(ADMIN_PW);
    d.secret(PW);
    cli(
        &d,
        &["user", "set-password", "admin", "--password-stdin"],
        Some(ADMIN_PW),
    );
    (dir, d)
}

fn ldap_url(d: &Daemon) -> String {
    format!("ldap://{}", d.ldap.unwrap())
}

/// ldapsearch bound as `who` under `base`: every entry, DN to attributes.
fn search(
    d: &Daemon,
    who: &str,
    password: &str,
    base: &str,
    filter: &str,
    attrs: &[&str],
) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let url = ldap_url(d);
    let dn = format!("uid={who},ou=people,dc=example,dc=com");
    let base = format!("{base},dc=example,dc=com");
    let mut args = vec![
        "-x",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-H",
        &url,
        "-D",
        &dn,
        "-w",
        password,
        "-b",
        &base,
        filter,
    ];
    args.extend_from_slice(attrs);
    d.tool_secrets(&args);
    let out: Output = Command::new("ldapsearch")
        .args(&args)
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/dev/null")
        .output()
        .expect("ldapsearch (is ldap-utils installed?)");
    assert!(
        out.status.success(),
        "ldapsearch {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut entries = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if name == "dn" {
            current = Some(value.to_owned());
            entries.insert(value.to_owned(), BTreeMap::new());
        } else if let Some(dn) = &current {
            entries
                .get_mut(dn)
                .unwrap()
                .entry(name.to_owned())
                .or_insert_with(Vec::new)
                .push(value.to_owned());
        }
    }
    entries
}

fn uids(entries: &BTreeMap<String, BTreeMap<String, Vec<String>>>) -> Vec<String> {
    entries
        .values()
        .filter_map(|e| e.get("uid").map(|v| v[0].clone()))
        .collect()
}

fn one<'a>(e: &'a BTreeMap<String, Vec<String>>, name: &str) -> &'a str {
    match e.get(name).map(Vec::as_slice) {
        Some([v]) => v,
        other => panic!("{name}: {other:?} in {e:?}"),
    }
}

#[test]
fn posix_accounts_and_groups_over_ldap_scim_and_the_cli() {
    let (_dir, d) = start();
    cli(&d, &["group", "add", "Acme", "--entity"], None);
    cli(&d, &["group", "add", "staff", "--parent", "Acme"], None);
    cli(&d, &["group", "add", "Other", "--entity"], None);
    for (user, group) in [("alice", "staff"), ("bob", "Other")] {
        cli(
            &d,
            &[
                "user",
                "add",
                user,
                "--first-name",
                "Al",
                "--password-stdin",
            ],
            Some(PW),
        );
        cli(&d, &["group", "add-member", group, user], None);
    }
    // A service account restricted to Acme: a host of that entity binds
    // with it.
    cli(
        &d,
        &[
            "user",
            "add",
            "acmehost",
            "--restrict-to",
            "Acme",
            "--password-stdin",
        ],
        Some(PW),
    );

    // SSSD's user lookup (rfc2307bis): numbers from the range, in order,
    // the private group, the configured home and shell.
    let sssd_user =
        |name: &str| format!("(&(uid={name})(objectclass=posixAccount)(uidNumber=*)(gidNumber=*))");
    let found = search(&d, "admin", ADMIN_PW, "ou=people", &sssd_user("alice"), &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    let alice = found.values().next().unwrap();
    // The bootstrap super admin came first, with 20000.
    assert_eq!(one(alice, "uidNumber"), "20001");
    assert_eq!(one(alice, "gidNumber"), "20001");
    assert_eq!(one(alice, "homeDirectory"), "/srv/home/alice");
    assert_eq!(one(alice, "loginShell"), "/bin/zsh");
    assert!(alice["objectClass"].iter().any(|c| c == "posixAccount"));
    let bob = search(&d, "admin", ADMIN_PW, "ou=people", &sssd_user("bob"), &[]);
    assert_eq!(one(bob.values().next().unwrap(), "uidNumber"), "20002");

    // Integer equality and ordering, not text.
    let by = |filter: &str| {
        uids(&search(
            &d,
            "admin",
            ADMIN_PW,
            "ou=people",
            filter,
            &["uid"],
        ))
    };
    assert_eq!(by("(uidNumber=20002)"), ["bob"]);
    assert_eq!(by("(uidNumber=020002)"), ["bob"]);
    assert_eq!(by("(&(uidNumber>=20002)(uidNumber<=20002))"), ["bob"]);
    assert_eq!(by("(&(uidNumber<=20001)(uidNumber>=20001))"), ["alice"]);
    assert_eq!(by("(uidNumber<=20000)"), ["admin"]);
    assert_eq!(by("(uidNumber>=20004)"), Vec::<String>::new());
    assert_eq!(by("(uidNumber=x)"), Vec::<String>::new());
    // Sorted by the integer ordering rule (RFC 2891), descending.
    let url = ldap_url(&d);
    let sorted = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &url,
            "-D",
            "uid=admin,ou=people,dc=example,dc=com",
            "-w",
            ADMIN_PW,
            "-b",
            "ou=people,dc=example,dc=com",
            "-E",
            "!sss=-uidNumber",
            "(uidNumber=*)",
            "uid",
        ])
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/dev/null")
        .output()
        .unwrap();
    assert!(sorted.status.success());
    let order: Vec<String> = String::from_utf8_lossy(&sorted.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("uid: ").map(str::to_owned))
        .collect();
    assert_eq!(order, ["acmehost", "bob", "alice", "admin"]);

    // SSSD's group lookup: posixGroup with its number, memberUid beside
    // member.
    let groups = search(
        &d,
        "admin",
        ADMIN_PW,
        "ou=groups",
        "(&(objectClass=posixGroup)(gidNumber=*)(|(memberUid=alice)\
         (member=uid=alice,ou=people,dc=example,dc=com)))",
        &[],
    );
    assert_eq!(groups.len(), 1, "{groups:?}");
    let staff = groups.values().next().unwrap();
    assert_eq!(one(staff, "cn"), "staff");
    assert_eq!(one(staff, "memberUid"), "alice");
    let staff_gid: i64 = one(staff, "gidNumber").parse().unwrap();
    assert!((30000..=30099).contains(&staff_gid), "{staff_gid}");
    let by_gid = search(
        &d,
        "admin",
        ADMIN_PW,
        "ou=groups",
        &format!("(&(objectClass=posixGroup)(gidNumber={staff_gid}))"),
        &["cn"],
    );
    assert_eq!(by_gid.len(), 1);

    // The restricted host sees Acme's people and groups only.
    let seen = search(
        &d,
        "acmehost",
        PW,
        "ou=people",
        "(&(objectClass=posixAccount)(uidNumber=*))",
        &["uid"],
    );
    let mut seen = uids(&seen);
    seen.sort();
    assert_eq!(seen, ["acmehost", "alice"]);
    assert!(search(&d, "acmehost", PW, "ou=people", &sssd_user("bob"), &[]).is_empty());
    assert!(search(&d, "acmehost", PW, "ou=people", "(uidNumber=20002)", &[]).is_empty());
    let groups = search(
        &d,
        "acmehost",
        PW,
        "ou=groups",
        "(objectClass=posixGroup)",
        &["cn"],
    );
    assert!(
        groups.values().all(|g| one(g, "cn") != "Other"),
        "{groups:?}"
    );

    // An administrator sets values over SCIM; a uidNumber already taken is
    // refused (409 uniqueness), one that is free is kept.
    let token = token_for(&d, "admin");
    d.secret(&token);
    let bob_id = scim(
        &d,
        &token,
        "GET",
        "/Users?filter=userName%20eq%20%22bob%22",
        None,
    )
    .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |token: &str, ops: serde_json::Value| {
        scim(
            &d,
            token,
            "PATCH",
            &format!("/Users/{bob_id}"),
            Some(&json!({"schemas": [PATCH_OP], "Operations": ops})),
        )
    };
    let taken = patch(
        &token,
        json!([{"op": "replace", "path": format!("{DIRGATE}:uidNumber"), "value": "20001"}]),
    );
    assert_eq!(taken.status, 409, "{}", taken.body);
    // A group's number is taken too: it would be the private group's.
    let group_number = patch(
        &token,
        json!([{"op": "replace", "path": format!("{DIRGATE}:uidNumber"),
                "value": staff_gid.to_string()}]),
    );
    assert_eq!(group_number.status, 409, "{}", group_number.body);
    let set = patch(
        &token,
        json!([
            {"op": "replace", "path": format!("{DIRGATE}:uidNumber"), "value": "20050"},
            {"op": "replace", "path": format!("{DIRGATE}:loginShell"), "value": "/bin/sh"},
            {"op": "replace", "path": format!("{DIRGATE}:gecos"), "value": "Bob Builder"}
        ]),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body[DIRGATE]["uidNumber"], "20050");
    let bad = patch(
        &token,
        json!([{"op": "replace", "path": format!("{DIRGATE}:homeDirectory"), "value": "relative"}]),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bob = search(&d, "admin", ADMIN_PW, "ou=people", "(uid=bob)", &["*"]);
    let bob = bob.values().next().unwrap();
    assert_eq!(one(bob, "uidNumber"), "20050");
    assert_eq!(one(bob, "loginShell"), "/bin/sh");
    assert_eq!(one(bob, "gecos"), "Bob Builder");

    // Numbers are never reused: the next account gets 20004, not bob's
    // old 20002.
    cli(&d, &["user", "add", "carol", "--password-stdin"], Some(PW));
    assert_eq!(by("(uidNumber=20004)"), ["carol"]);
    assert_eq!(by("(uidNumber=20002)"), Vec::<String>::new());

    // The command line: a taken number refused, a free one kept.
    let out = d.command(&["user", "set", "carol", "--uid-number", "20050"], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("taken"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cli(
        &d,
        &[
            "user",
            "set",
            "carol",
            "--gid-number",
            &staff_gid.to_string(),
        ],
        None,
    );
    let shown = cli(&d, &["user", "show", "carol"], None);
    assert!(shown.contains("uid number              20004"), "{shown}");
    assert!(
        shown.contains("home directory          /srv/home/carol"),
        "{shown}"
    );
    let carol = search(
        &d,
        "admin",
        ADMIN_PW,
        "ou=people",
        "(uid=carol)",
        &["gidNumber"],
    );
    assert_eq!(
        one(carol.values().next().unwrap(), "gidNumber"),
        staff_gid.to_string()
    );

    // The account sets its own SSH keys over SCIM (no user-management
    // right needed); over LDAP each is one sshPublicKey value.
    let alice_token = token_for(&d, "alice");
    d.secret(&alice_token);
    let alice_id = scim(
        &d,
        &token,
        "GET",
        "/Users?filter=userName%20eq%20%22alice%22",
        None,
    )
    .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = scim(
        &d,
        &alice_token,
        "PATCH",
        &format!("/Users/{alice_id}"),
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{DIRGATE}:sshPublicKeys"),
             "value": format!("{KEY1}\n{KEY2}")}
        ]})),
    );
    assert_eq!(own.status, 200, "{}", own.body);
    // ... but not its own uidNumber.
    let own_number = scim(
        &d,
        &alice_token,
        "PATCH",
        &format!("/Users/{alice_id}"),
        Some(&json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": format!("{DIRGATE}:uidNumber"), "value": "20077"}
        ]})),
    );
    assert_eq!(own_number.status, 403, "{}", own_number.body);
    let keys = search(
        &d,
        "admin",
        ADMIN_PW,
        "ou=people",
        "(&(uid=alice)(objectClass=ldapPublicKey))",
        &["sshPublicKey"],
    );
    assert_eq!(keys.values().next().unwrap()["sshPublicKey"], [KEY1, KEY2]);

    // Deleted over SCIM and provisioned again, bob is the same account
    // with the same numbers (never deleted, never renumbered).
    let gone = scim(&d, &token, "DELETE", &format!("/Users/{bob_id}"), None);
    assert_eq!(gone.status, 204, "{}", gone.body);
    let back = scim(
        &d,
        &token,
        "POST",
        "/Users",
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bob"
        })),
    );
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(back.body[DIRGATE]["uidNumber"], "20050", "{}", back.body);
    assert_eq!(back.body[DIRGATE]["gidNumber"], "20002", "{}", back.body);
}
