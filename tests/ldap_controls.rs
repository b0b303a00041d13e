//! LDAP controls driven by OpenLDAP's ldapsearch: server-side sorting (RFC
//! 2891) both ways, by attributes shown or not, with paged results, and
//! what a sort that cannot be done answers when critical and when not;
//! ManageDsaIT accepted; critical controls the gateway does not act on
//! (virtual list view, an unknown one) answered unavailableCriticalExtension.

mod common;

use std::process::{Command, Output};

use common::{cli, write_config, Daemon};

const PEOPLE: &str = "ou=people,dc=example,dc=com";
const PW: &str = "Correct7Horse";

struct World {
    daemon: Daemon,
    _tmp: tempfile::TempDir,
}

/// People whose user names, last names and creation order all differ.
fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_in(&tmp.path().join("data"), &write_config(tmp.path(), ""));
    for (user, first, last) in [
        ("mike", "Mike", "Adams"),
        ("anna", "Anna", "Young"),
        ("zoe", "Zoe", "brown"),
        ("Bill", "Bill", "Clark"),
        ("carl", "Carl", "Brown"),
    ] {
        cli(
            &daemon,
            &[
                "user",
                "add",
                user,
                "--first-name",
                first,
                "--last-name",
                last,
                "--password-stdin",
            ],
            Some(&format!("{PW}\n")),
        );
    }
    World { daemon, _tmp: tmp }
}

impl World {
    /// ldapsearch as the admin, over people, for `extra` (controls, filter,
    /// attributes).
    fn search(&self, extra: &[&str]) -> Output {
        let d = &self.daemon;
        let url = format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port());
        let password = d.admin_password.clone().expect("the admin password");
        let mut cmd = Command::new("ldapsearch");
        cmd.args(["-x", "-LL", "-H", &url, "-D"])
            .arg(format!("uid=admin,{PEOPLE}"))
            .args(["-w", &password, "-b", PEOPLE])
            .args(extra)
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/dev/null");
        cmd.output().expect("ldapsearch (ldap-utils)")
    }

    /// The user names a search returns, in order.
    fn uids(&self, extra: &[&str]) -> Vec<String> {
        let out = self.search(extra);
        assert!(out.status.success(), "{}", said(&out));
        dns(&stdout(&out))
            .iter()
            .filter_map(|dn| {
                dn.strip_prefix("uid=")?
                    .split(',')
                    .next()
                    .map(str::to_owned)
            })
            .collect()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn said(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stderr), stdout(o))
}

fn dns(ldif: &str) -> Vec<String> {
    ldif.replace("\n ", "")
        .lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(str::to_owned)
        .collect()
}

const PERSONS: &str = "(objectClass=inetOrgPerson)";

#[test]
fn sorted_both_ways_by_shown_and_hidden_attributes_and_with_paging() {
    let w = world();
    let mut ascending = vec!["admin", "anna", "Bill", "carl", "mike", "zoe"];
    assert_eq!(w.uids(&["-E", "sss=uid", PERSONS, "uid"]), ascending);
    let out = w.search(&["-E", "sss=uid", PERSONS, "uid"]);
    assert!(
        stdout(&out).contains("# sortResult: (0) Success"),
        "{}",
        said(&out)
    );
    ascending.reverse();
    assert_eq!(w.uids(&["-E", "!sss=-uid", PERSONS, "uid"]), ascending);

    // By an attribute not asked for, case ignored (Adams, admin, brown and
    // Brown, Clark, Young), a tie broken by the next key, here descending.
    assert_eq!(
        w.uids(&["-E", "sss=sn/-givenName", PERSONS, "1.1"]),
        ["mike", "admin", "zoe", "carl", "Bill", "anna"]
    );

    // Paged: the pages follow the order, each entry once.
    for size in ["1", "2", "4"] {
        let paged = format!("pr={size}/noprompt");
        assert_eq!(
            w.uids(&["-E", "sss=uid", "-E", &paged, PERSONS, "uid"]),
            ["admin", "anna", "Bill", "carl", "mike", "zoe"],
            "page size {size}"
        );
        assert_eq!(
            w.uids(&["-E", "!sss=-uid", "-E", &paged, PERSONS, "uid"]),
            ["zoe", "mike", "carl", "Bill", "anna", "admin"],
            "page size {size}"
        );
    }
    // A size limit keeps the first entries in the order.
    let out = w.search(&["-z", "2", "-E", "sss=-uid", PERSONS, "uid"]);
    assert_eq!(out.status.code(), Some(4), "{}", said(&out));
    assert_eq!(
        dns(&stdout(&out)),
        [format!("uid=zoe,{PEOPLE}"), format!("uid=mike,{PEOPLE}")]
    );
    // Numbers by their ordering rule.
    assert_eq!(
        w.uids(&["-E", "sss=createTimestamp", PERSONS, "1.1"])[0],
        "admin"
    );
}

#[test]
fn a_sort_that_cannot_be_done_fails_only_when_critical() {
    let w = world();
    // Not critical: the entries, unsorted, and a sortResult saying why.
    let out = w.search(&["-E", "sss=noSuchThing", PERSONS, "uid"]);
    assert!(out.status.success(), "{}", said(&out));
    assert_eq!(dns(&stdout(&out)).len(), 6);
    assert!(
        stdout(&out).contains("# sortResult: (16) No such attribute"),
        "{}",
        said(&out)
    );
    let out = w.search(&["-E", "sss=cn:1.2.3.4", PERSONS, "uid"]);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        stdout(&out).contains("# sortResult: (18) Inappropriate matching"),
        "{}",
        said(&out)
    );
    // Critical: unavailableCriticalExtension, no entries.
    let out = w.search(&["-E", "!sss=noSuchThing", PERSONS, "uid"]);
    assert_eq!(out.status.code(), Some(12), "{}", said(&out));
    assert!(dns(&stdout(&out)).is_empty());
    assert!(said(&out).contains("noSuchThing"), "{}", said(&out));
}

#[test]
fn controls_not_acted_on_are_accepted_unless_critical() {
    let w = world();
    // ManageDsaIT (Keycloak sends it), critical or not: there are no
    // referrals, so it is honoured as it is.
    for flag in ["-M", "-MM"] {
        let out = w.search(&[flag, "(uid=anna)", "uid"]);
        assert!(out.status.success(), "{flag}: {}", said(&out));
        assert_eq!(dns(&stdout(&out)), [format!("uid=anna,{PEOPLE}")]);
    }
    // Virtual list view is not served: refused when critical. (Not
    // critical it is ignored like any other control; ldapsearch then asks
    // again for the window forever, so that case is shown with another.)
    let out = w.search(&["-E", "sss=uid", "-E", "!vlv=0/1/1/0", PERSONS, "uid"]);
    assert_eq!(out.status.code(), Some(12), "{}", said(&out));
    assert!(
        said(&out).contains("2.16.840.1.113730.3.4.9"),
        "{}",
        said(&out)
    );
    // Any other control: refused when critical, ignored when not.
    let out = w.search(&["-e", "!1.3.6.1.4.1.99999.1", PERSONS, "1.1"]);
    assert_eq!(out.status.code(), Some(12), "{}", said(&out));
    let out = w.search(&["-e", "1.3.6.1.4.1.99999.1", PERSONS, "1.1"]);
    assert!(out.status.success(), "{}", said(&out));

    // The root DSE lists what is served.
    let out = w.search(&[
        "-b",
        "",
        "-s",
        "base",
        "(objectClass=*)",
        "supportedControl",
    ]);
    let text = stdout(&out);
    for oid in [
        "1.2.840.113556.1.4.319",
        "1.2.840.113556.1.4.473",
        "2.16.840.1.113730.3.4.2",
    ] {
        assert!(text.contains(&format!("supportedControl: {oid}")), "{text}");
    }
}
