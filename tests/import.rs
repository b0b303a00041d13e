//! `dirgate import`: an LDIF exported from a real slapd (Debian's, started
//! for the test; its passwords set through the server, so hashed by it as
//! {SSHA}), imported; the people bind with their old passwords and their
//! hashes are replaced by argon2id on that first bind.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{write_config, Daemon};

struct Slapd(Child);

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const PEOPLE: &str = "dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=ann,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ann
cn: Ann Lee
givenName: Ann
sn: Lee
mail: ann@example.com

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Stone
sn: Stone

dn: uid=bad.name,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bad.name
cn: Bad
sn: Name

dn: cn=staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: staff
member: uid=ann,ou=people,dc=example,dc=com
member: uid=bob,ou=people,dc=example,dc=com

dn: cn=admins,ou=groups,dc=example,dc=com
objectClass: groupOfUniqueNames
cn: admins
uniqueMember: uid=ann,ou=people,dc=example,dc=com
uniqueMember: cn=staff,ou=groups,dc=example,dc=com
";

#[test]
fn an_openldap_export_imports_and_its_ssha_users_bind_and_are_rehashed() {
    let tmp = tempfile::tempdir().unwrap();
    let slap = tmp.path().join("slapd");
    std::fs::create_dir_all(slap.join("db")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = slap.join("slapd.conf");
    std::fs::write(
        &conf,
        format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             pidfile {dir}/slapd.pid\n\
             password-hash {{SSHA}}\n\
             database mdb\n\
             suffix \"dc=example,dc=com\"\n\
             rootdn \"cn=admin,dc=example,dc=com\"\n\
             rootpw Admin7Secret\n\
             directory {dir}/db\n",
            dir = slap.display()
        ),
    )
    .unwrap();
    let url = format!("ldap://127.0.0.1:{port}/");
    let server = Slapd(
        Command::new("/usr/sbin/slapd")
            .args(["-f"])
            .arg(&conf)
            .args(["-h", &url, "-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd (scripts/test installs Debian's slapd)"),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "slapd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let admin = [
        "-x",
        "-H",
        &url,
        "-D",
        "cn=admin,dc=example,dc=com",
        "-w",
        "Admin7Secret",
    ];
    let people = slap.join("people.ldif");
    std::fs::write(&people, PEOPLE).unwrap();
    run(Command::new("ldapadd").args(admin).arg("-f").arg(&people));
    // Passwords set through the server: slapd hashes them ({SSHA}).
    for (user, pw) in [("ann", "Ann7Secret"), ("bob", "Bob7Secret")] {
        run(Command::new("ldappasswd").args(admin).args([
            "-s",
            pw,
            &format!("uid={user},ou=people,dc=example,dc=com"),
        ]));
    }
    // The export, as an administrator makes it.
    let export = run(Command::new("/usr/sbin/slapcat").arg("-f").arg(&conf));
    drop(server);
    assert!(
        export.contains("userPassword:: "),
        "slapcat writes hashes in base64"
    );
    let file = tmp.path().join("export.ldif");
    std::fs::write(&file, &export).unwrap();

    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    for secret in ["Ann7Secret", "Bob7Secret", "Admin7Secret"] {
        d.secret(secret);
    }
    let dry = d.command(&["import", file.to_str().unwrap(), "--dry-run"], None);
    let said = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success(), "{said}");
    assert!(
        said.contains("would import 2 people (2 with a password, 2 of them to be rehashed"),
        "{said}"
    );
    assert!(said.contains("2 groups, 4 memberships"), "{said}");
    assert!(said.contains("bad.name"), "{said}");
    assert!(
        !d.command(&["user", "show", "ann"], None).status.success(),
        "a dry run writes nothing"
    );

    let out = d.command(&["import", file.to_str().unwrap()], None);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("imported 2 people"), "{said}");
    let shown = String::from_utf8(d.command(&["user", "show", "ann"], None).stdout).unwrap();
    assert!(shown.contains("ann@example.com"), "{shown}");

    let db = d.data.join("dirgate.db");
    let hash = |user: &str| -> String {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row(
            "SELECT password_hash FROM accounts WHERE user_name = ?1",
            [user],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(hash("ann").starts_with("{SSHA}"), "{}", hash("ann"));

    let whoami = |user: &str, pw: &str| {
        Command::new("ldapwhoami")
            .args([
                "-x",
                "-H",
                &format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port()),
            ])
            .args(["-D", user, "-w", pw])
            .output()
            .unwrap()
    };
    assert!(!whoami("ann", "Wrong7Secret").status.success());
    assert!(
        hash("ann").starts_with("{SSHA}"),
        "a failed bind changes nothing"
    );
    let out = whoami("ann", "Ann7Secret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(hash("ann").starts_with("$argon2id$"), "{}", hash("ann"));
    assert!(
        whoami("ann", "Ann7Secret").status.success(),
        "the new hash verifies"
    );
    assert!(hash("bob").starts_with("{SSHA}"));

    // The groups and their members, nested group included.
    let groups = String::from_utf8(d.command(&["group", "list"], None).stdout).unwrap();
    assert!(
        groups.contains("staff") && groups.contains("admins"),
        "{groups}"
    );
    let search = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port()),
        ])
        .args([
            "-D",
            "ann",
            "-w",
            "Ann7Secret",
            "-b",
            "dc=example,dc=com",
            "(cn=staff)",
            "member",
            "memberOf",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&search.stdout);
    assert!(
        text.contains("member: uid=bob,ou=people,dc=example,dc=com"),
        "{text}"
    );
    assert!(
        text.contains("memberOf: cn=admins,ou=groups,dc=example,dc=com"),
        "{text}"
    );

    // Out again: LDIF without secrets unless asked, JSON as SCIM shows it,
    // and the LDIF imports into a fresh directory.
    let plain = String::from_utf8(d.command(&["export"], None).stdout).unwrap();
    assert!(
        plain.contains("dn: uid=ann,ou=people,dc=example,dc=com"),
        "{plain}"
    );
    assert!(
        plain.contains("dn: cn=staff,ou=groups,dc=example,dc=com"),
        "{plain}"
    );
    assert!(!plain.contains("userPassword"), "no secrets by default");
    // A number no fresh directory would give: the re-import must carry it.
    let set = d.command(&["user", "set", "ann", "--uid-number", "12345"], None);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let secret = String::from_utf8(d.command(&["export", "--secrets"], None).stdout).unwrap();
    assert!(
        secret.contains("userPassword: {ARGON2}$argon2id$"),
        "ann was rehashed"
    );
    assert!(secret.contains("userPassword: {SSHA}"), "bob was not yet");
    let json: serde_json::Value =
        serde_json::from_slice(&d.command(&["export", "--format", "json"], None).stdout).unwrap();
    assert_eq!(
        json["users"].as_array().unwrap().len(),
        3,
        "admin, ann, bob"
    );
    assert_eq!(json["groups"].as_array().unwrap().len(), 2);
    assert!(json["users"][1].get("passwordHash").is_none());

    let again = tmp.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    let exported = tmp.path().join("dirgate.ldif");
    std::fs::write(&exported, &secret).unwrap();
    let config2 = write_config(&again, "");
    let out = common::run_cli(
        &again.join("data"),
        &config2,
        &["import", exported.to_str().unwrap()],
        None,
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("imported 3 people"), "{said}");
    assert!(said.contains("2 groups, 4 memberships"), "{said}");
    // The POSIX numbers came along: Linux hosts see the same owners.
    let uid_line = |data: &std::path::Path, config: &std::path::Path| {
        let out = common::run_cli(data, config, &["user", "show", "ann"], None);
        let shown = String::from_utf8_lossy(&out.stdout).into_owned();
        shown
            .lines()
            .find(|l| l.starts_with("uid number"))
            .unwrap_or_else(|| panic!("no uid number in {shown}"))
            .to_owned()
    };
    assert_eq!(
        uid_line(&d.data, &d.config),
        "uid number              12345"
    );
    assert_eq!(
        uid_line(&again.join("data"), &config2),
        uid_line(&d.data, &d.config)
    );
}
