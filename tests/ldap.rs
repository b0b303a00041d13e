//! The LDAP face driven by real clients: the OpenLDAP command-line tools
//! (ldap-utils), Debian's oathtool for TOTP codes, and the Rust ldap3 crate.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::{cli, write_config, Daemon};

const BASE: &str = "dc=example,dc=com";
const PW: &str = "Correct7Horse";

fn dn(user: &str) -> String {
    format!("uid={user},ou=people,{BASE}")
}

fn group_dn(group: &str) -> String {
    format!("cn={group},ou=groups,{BASE}")
}

/// A daemon with a small organisation:
///
/// Acme (business entity) > Sales > EMEA; Ops (group, top level)
/// - alice: Administrator with user-management, unrestricted, member of Sales
/// - bob [alice]: Report Reader restricted to EMEA, member of EMEA, mobile set
/// - carol: Report Reader, member of Ops
/// - tina: Two Factor App, enrolled (secret in `tina_secret`)
/// - user1..user7: Report Readers (for paging)
struct World {
    daemon: Daemon,
    _tmp: tempfile::TempDir,
    cert: PathBuf,
    tina_secret: String,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "[ldap]\nmax_search_entries = 50\n");
    // write_config already has an [ldap] table: merge by rewriting.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[ldap]\nmax_search_entries = 50\n", "")
        .replace("[ldap]\n", "[ldap]\nmax_search_entries = 50\n");
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start_in(&data, &config);
    let d = &daemon;
    cli(d, &["group", "add", "Acme", "--entity"], None);
    cli(d, &["group", "add", "Sales", "--parent", "Acme"], None);
    cli(d, &["group", "add", "EMEA", "--parent", "Sales"], None);
    cli(d, &["group", "add", "Ops"], None);
    let pw = format!("{PW}\n");
    cli(
        d,
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
            "--type",
            "Administrator",
            "--role",
            "user-management",
            "--password-stdin",
        ],
        Some(&pw),
    );
    cli(
        d,
        &[
            "user",
            "add",
            "bob",
            "--first-name",
            "Bob",
            "--last-name",
            "Jones",
            "--mobile",
            "+44 7700 900123",
            "--restrict-to",
            "EMEA",
            "--manager",
            "alice",
            "--password-stdin",
        ],
        Some(&pw),
    );
    cli(d, &["user", "add", "carol", "--password-stdin"], Some(&pw));
    cli(d, &["group", "add-member", "Sales", "alice"], None);
    cli(d, &["group", "add-member", "EMEA", "bob"], None);
    cli(d, &["group", "add-member", "Ops", "carol"], None);
    cli(
        d,
        &[
            "user",
            "add",
            "tina",
            "--method",
            "Two Factor App",
            "--password-stdin",
        ],
        Some(&pw),
    );
    let enrolled = cli(d, &["user", "enrol-totp", "tina"], None);
    let tina_secret = enrolled.lines().nth(1).unwrap().trim().to_owned();
    for i in 1..=7 {
        cli(
            d,
            &["user", "add", &format!("user{i}"), "--password-stdin"],
            Some(&pw),
        );
    }
    let cert = data.join("tls").join("cert.pem");
    World {
        daemon,
        _tmp: tmp,
        cert,
        tina_secret,
    }
}

impl World {
    fn ldap_url(&self) -> String {
        format!("ldap://{}", self.daemon.ldap.unwrap())
    }
    fn ldaps_url(&self) -> String {
        // The certificate names localhost, so the client must use it.
        format!("ldaps://localhost:{}", self.daemon.ldaps.unwrap().port())
    }

    /// Runs an ldap-utils tool with the daemon's certificate trusted.
    fn tool(&self, program: &str, args: &[&str]) -> Output {
        self.daemon.tool_secrets(args);
        Command::new(program)
            .args(args)
            .env("LDAPTLS_CACERT", &self.cert)
            .env("LDAPTLS_REQCERT", "demand")
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/dev/null")
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e} (is ldap-utils installed?)"))
    }

    fn search_as(&self, user: &str, extra: &[&str]) -> Output {
        let who = dn(user);
        let url = self.ldap_url();
        let mut args = vec!["-x", "-LLL", "-H", &url, "-D", &who, "-w", PW];
        args.extend_from_slice(extra);
        self.tool("ldapsearch", &args)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The DNs in an LDIF answer, in order (`dn:` lines; long lines are folded
/// by ldapsearch with a leading space, so unfold first).
fn dns(ldif: &str) -> Vec<String> {
    let unfolded = ldif.replace("\n ", "");
    unfolded
        .lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(str::to_owned)
        .collect()
}

fn oathtool(secret: &str, offset_steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = now + offset_steps * 30;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", "--now"])
        .arg(format!("@{at}"))
        .arg(secret)
        .output()
        .expect("oathtool (is the oathtool package installed?)");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn root_dse_and_schema_are_public_and_nothing_else_is() {
    let w = world();
    let url = w.ldap_url();
    let out = w.tool(
        "ldapsearch",
        &["-x", "-LLL", "-H", &url, "-b", "", "-s", "base"],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains(&format!("namingContexts: {BASE}")), "{text}");
    assert!(text.contains("supportedLDAPVersion: 3"), "{text}");
    assert!(
        text.contains("supportedExtension: 1.3.6.1.4.1.1466.20037"),
        "{text}"
    );
    assert!(
        text.contains("supportedExtension: 1.3.6.1.4.1.4203.1.11.1"),
        "{text}"
    );
    assert!(
        text.contains("supportedControl: 1.2.840.113556.1.4.319"),
        "{text}"
    );
    assert!(text.contains("subschemaSubentry: cn=Subschema"), "{text}");

    let out = w.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-b",
            "cn=Subschema",
            "-s",
            "base",
            "(objectClass=subschema)",
            "attributeTypes",
            "objectClasses",
        ],
    );
    let text = stdout(&out).replace("\n ", "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("NAME 'dirgateAccountType'"), "{text}");
    assert!(text.contains("NAME 'dirgatePerson'"), "{text}");
    assert!(text.contains("NAME 'inetOrgPerson'"), "{text}");

    // Anonymous users reach nothing more.
    let out = w.tool(
        "ldapsearch",
        &["-x", "-LLL", "-H", &url, "-b", BASE, "(uid=alice)"],
    );
    assert_eq!(
        out.status.code(),
        Some(50),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn binds_by_dn_and_by_name_and_refuse_what_they_must() {
    let w = world();
    let url = w.ldap_url();
    let whoami =
        |who: &str, pw: &str| w.tool("ldapwhoami", &["-x", "-H", &url, "-D", who, "-w", pw]);

    let out = whoami(&dn("alice"), PW);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("dn:{}", dn("alice")));
    let out = whoami("ALICE", PW);
    assert_eq!(
        stdout(&out).trim(),
        format!("dn:{}", dn("alice")),
        "{}",
        stderr(&out)
    );

    // Wrong password, unknown user, a DN of no person: 49 and no hint.
    for (who, pw) in [
        (dn("alice"), "Wrong7Horse"),
        (dn("nobody"), PW),
        (format!("cn=alice,ou=groups,{BASE}"), PW),
    ] {
        let out = whoami(&who, pw);
        assert_eq!(out.status.code(), Some(49), "{who}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("additional info"),
            "{}",
            stderr(&out)
        );
    }
    // A name without a password is refused, not taken as anonymous.
    let out = w.tool("ldapwhoami", &["-x", "-H", &url, "-D", &dn("alice")]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));

    // Inactive accounts and reset-pending accounts cannot bind; the reset
    // reason is told only to someone who knows the password.
    cli(
        &w.daemon,
        &["user", "set", "carol", "--status", "inactive"],
        None,
    );
    let out = whoami(&dn("carol"), PW);
    assert_eq!(out.status.code(), Some(49));
    cli(&w.daemon, &["user", "require-reset", "user1"], None);
    let out = whoami(&dn("user1"), PW);
    assert_eq!(out.status.code(), Some(49));
    assert!(stderr(&out).contains("reset"), "{}", stderr(&out));
    let out = whoami(&dn("user1"), "Wrong7Horse");
    assert_eq!(out.status.code(), Some(49));
    assert!(!stderr(&out).contains("reset"), "{}", stderr(&out));
    // The server keeps no password in its log.
    assert!(!w.daemon.log().contains(PW));
}

#[test]
fn tls_by_starttls_and_ldaps() {
    let w = world();
    let url = w.ldap_url();
    let out = w.tool(
        "ldapwhoami",
        &[
            "-x",
            "-ZZ",
            "-H",
            &format!("ldap://localhost:{}", w.daemon.ldap.unwrap().port()),
            "-D",
            &dn("alice"),
            "-w",
            PW,
        ],
    );
    assert!(out.status.success(), "StartTLS: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("dn:{}", dn("alice")));
    let ldaps = w.ldaps_url();
    let out = w.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &ldaps,
            "-D",
            &dn("alice"),
            "-w",
            PW,
            "-b",
            BASE,
            "(uid=bob)",
            "uid",
        ],
    );
    assert!(out.status.success(), "LDAPS: {}", stderr(&out));
    assert_eq!(dns(&stdout(&out)), [dn("bob")]);
    // A second StartTLS inside TLS is an error, not a crash.
    let _ = url;
}

#[test]
fn searches_filters_attributes_and_limits() {
    let w = world();
    let find = |filter: &str| -> Vec<String> {
        let out = w.search_as("alice", &["-b", BASE, filter, "1.1"]);
        assert!(out.status.success(), "{filter}: {}", stderr(&out));
        let mut d = dns(&stdout(&out));
        d.sort();
        d
    };
    assert_eq!(find("(uid=alice)"), [dn("alice")]);
    assert_eq!(
        find("(UID=ALICE)"),
        [dn("alice")],
        "names and values ignore case"
    );
    assert_eq!(
        find("(&(objectClass=inetOrgPerson)(mail=alice@example.com))"),
        [dn("alice")]
    );
    assert_eq!(find("(cn=Bob Jones)"), [dn("bob")]);
    assert_eq!(find("(|(uid=alice)(uid=bob))"), [dn("alice"), dn("bob")]);
    assert_eq!(find("(&(uid=user*)(!(uid=user1))(!(uid=user2)))").len(), 5);
    assert_eq!(find("(uid=*ic*)"), [dn("alice")]);
    assert_eq!(find("(mobile=*)"), [dn("bob")]);
    // The bootstrap super admin is an Administrator too.
    assert_eq!(
        find("(employeeType=Administrator)"),
        [dn("admin"), dn("alice")]
    );
    assert_eq!(
        find(&format!("(memberOf={})", group_dn("EMEA"))),
        [dn("bob")]
    );
    // Nested groups: EMEA sits under Sales under Acme.
    // In-chain matches nested groups too, as Active Directory does.
    let chain = find(&format!(
        "(memberOf:1.2.840.113556.1.4.1941:={})",
        group_dn("Acme")
    ));
    assert_eq!(
        chain,
        [group_dn("EMEA"), group_dn("Sales"), dn("alice"), dn("bob")]
    );
    assert_eq!(find(&format!("(manager={})", dn("alice"))), [dn("bob")]);
    assert_eq!(
        find("(&(objectClass=groupOfNames)(cn=EMEA))"),
        [group_dn("EMEA")]
    );
    assert_eq!(find(&format!("(member={})", dn("bob"))), [group_dn("EMEA")]);
    assert_eq!(
        find("(modifyTimestamp>=20000101000000Z)").len(),
        12 + 4,
        "everyone and every group"
    );
    assert!(find("(modifyTimestamp>=29990101000000Z)").is_empty());
    assert!(find("(unknownAttribute=x)").is_empty());
    assert!(
        find("(!(unknownAttribute=x))").is_empty(),
        "undefined stays undefined under NOT"
    );

    // Scopes.
    let out = w.search_as(
        "alice",
        &["-b", BASE, "-s", "one", "(objectClass=*)", "1.1"],
    );
    assert_eq!(
        dns(&stdout(&out)),
        [format!("ou=people,{BASE}"), format!("ou=groups,{BASE}")]
    );
    let out = w.search_as(
        "alice",
        &["-b", &dn("bob"), "-s", "base", "(objectClass=*)"],
    );
    let text = stdout(&out).replace("\n ", "");
    assert!(
        text.contains("uid: bob") && text.contains("sn: Jones") && text.contains("givenName: Bob"),
        "{text}"
    );
    assert!(
        text.contains(&format!("memberOf: {}", group_dn("EMEA"))),
        "{text}"
    );
    assert!(
        text.contains(&format!("manager: {}", dn("alice"))),
        "{text}"
    );
    assert!(text.contains("employeeType: Report Reader"), "{text}");
    assert!(text.contains("dirgateAuthMethod: Password"), "{text}");
    assert!(
        !text.contains("entryUUID"),
        "operational attributes only on request: {text}"
    );
    assert!(!text.to_lowercase().contains("userpassword"), "{text}");
    let out = w.search_as(
        "alice",
        &["-b", &dn("bob"), "-s", "base", "(objectClass=*)", "+"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("entryUUID: ") && text.contains("modifyTimestamp: "),
        "{text}"
    );
    assert!(!text.contains("uid: bob"), "{text}");
    let out = w.search_as(
        "alice",
        &[
            "-b",
            &dn("bob"),
            "-s",
            "base",
            "-A",
            "(objectClass=*)",
            "mail",
            "MOBILE",
        ],
    );
    let text = stdout(&out);
    assert!(
        text.contains("mobile:") && !text.contains("+447700900123"),
        "types only: {text}"
    );
    // A missing base is noSuchObject (32).
    let out = w.search_as(
        "alice",
        &["-b", &dn("nobody"), "-s", "base", "(objectClass=*)"],
    );
    assert_eq!(out.status.code(), Some(32), "{}", stderr(&out));

    // Size limits: the client's, and the server's (max_search_entries = 50).
    let out = w.search_as("alice", &["-z", "2", "-b", BASE, "(uid=user*)", "1.1"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(dns(&stdout(&out)).len(), 2);

    // An unknown critical control is refused (12); a non-critical one ignored.
    let out = w.search_as(
        "alice",
        &["-e", "!1.2.3.4.5", "-b", BASE, "(uid=alice)", "1.1"],
    );
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    let out = w.search_as(
        "alice",
        &["-e", "1.2.3.4.5", "-b", BASE, "(uid=alice)", "1.1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn paged_results_walk_everything_once() {
    let w = world();
    let out = w.search_as(
        "alice",
        &["-E", "pr=2/noprompt", "-b", BASE, "(objectClass=*)", "1.1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got = dns(&stdout(&out));
    let total = got.len();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), total, "an entry came twice");
    // base + 2 ous + 12 people (admin included) + 4 groups
    assert_eq!(total, 3 + 12 + 4, "{got:?}");
}

#[test]
fn a_restricted_user_sees_exactly_their_scope() {
    let w = world();
    let out = w.search_as("bob", &["-b", BASE, "(objectClass=*)", "1.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got = dns(&stdout(&out));
    got.sort();
    let mut want = vec![
        BASE.to_owned(),
        format!("ou=people,{BASE}"),
        format!("ou=groups,{BASE}"),
        dn("bob"),
        group_dn("EMEA"),
    ];
    want.sort();
    assert_eq!(got, want);
    // An entry outside the scope answers exactly like a missing one.
    let hidden = w.search_as(
        "bob",
        &["-b", &dn("alice"), "-s", "base", "(objectClass=*)"],
    );
    let missing = w.search_as(
        "bob",
        &["-b", &dn("nobody"), "-s", "base", "(objectClass=*)"],
    );
    assert_eq!(hidden.status.code(), Some(32));
    assert_eq!(hidden.status.code(), missing.status.code());
    assert_eq!(
        stderr(&hidden).replace("alice", "X"),
        stderr(&missing).replace("nobody", "X")
    );
    // Filters on hidden groups find nothing either, and bob's own entry
    // names no manager he cannot see.
    let out = w.search_as(
        "bob",
        &[
            "-b",
            BASE,
            &format!("(memberOf:1.2.840.113556.1.4.1941:={})", group_dn("Acme")),
            "1.1",
        ],
    );
    assert!(dns(&stdout(&out)).is_empty(), "{}", stdout(&out));
    let out = w.search_as("bob", &["-b", &dn("bob"), "-s", "base", "(objectClass=*)"]);
    assert!(!stdout(&out).contains("manager:"), "{}", stdout(&out));
}

#[test]
fn compare_whoami_and_writes_refused() {
    let w = world();
    let url = w.ldap_url();
    let who = dn("alice");
    let compare = |target: &str, assertion: &str| {
        w.tool(
            "ldapcompare",
            &["-x", "-H", &url, "-D", &who, "-w", PW, target, assertion],
        )
    };
    assert_eq!(
        compare(&dn("bob"), "sn:jones").status.code(),
        Some(6),
        "compareTrue"
    );
    assert_eq!(
        compare(&dn("bob"), "sn:Smith").status.code(),
        Some(5),
        "compareFalse"
    );
    assert_eq!(
        compare(&dn("bob"), &format!("userPassword:{PW}"))
            .status
            .code(),
        Some(50)
    );

    let ldif = format!(
        "dn: {}\nchangetype: modify\nreplace: sn\nsn: X\n",
        dn("bob")
    );
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", &url, "-D", &who, "-w", PW])
        .env("LDAPCONF", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(53), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("provision over SCIM"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn password_modify_for_oneself_and_a_managed_branch() {
    let w = world();
    let url = w.ldap_url();
    let passwd = |who: &str, pw: &str, args: &[&str]| {
        let mut all = vec!["-x", "-H", &url, "-D", who, "-w", pw];
        all.extend_from_slice(args);
        w.tool("ldappasswd", &all)
    };
    // Oneself, with the old password.
    let out = passwd(&dn("carol"), PW, &["-a", PW, "-s", "Carol8Newpw"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = w.tool(
        "ldapwhoami",
        &["-x", "-H", &url, "-D", &dn("carol"), "-w", "Carol8Newpw"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The policy names the broken rule.
    let out = passwd(&dn("carol"), "Carol8Newpw", &["-s", "weakpassword"]);
    // ldappasswd exits 1 on any failure and prints the result code.
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("Constraint violation (19)"), "{said}");
    assert!(said.contains("upper-case"), "{said}");
    // A manager over its branch.
    let out = passwd(&dn("alice"), PW, &["-s", "Bob9Newpass", &dn("bob")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = w.tool(
        "ldapwhoami",
        &["-x", "-H", &url, "-D", &dn("bob"), "-w", "Bob9Newpass"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // ... but not outside it.
    let out = passwd(&dn("alice"), PW, &["-s", "Carol9Newpw", &dn("carol")]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("Insufficient access (50)"), "{said}");
    // Nor a Report Reader over anyone else.
    let out = passwd(
        &dn("bob"),
        "Bob9Newpass",
        &["-s", "Alice9Newpw", &dn("alice")],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    // A generated password meets the policy and works.
    let out = passwd(&dn("user2"), PW, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let generated = stdout(&out)
        .trim()
        .strip_prefix("New password: ")
        .unwrap()
        .to_owned();
    w.daemon.secret(&generated);
    let out = w.tool(
        "ldapwhoami",
        &["-x", "-H", &url, "-D", &dn("user2"), "-w", &generated],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn totp_bind_with_codes_from_oathtool() {
    let w = world();
    let url = w.ldap_url();
    let bind = |pw: &str| {
        w.tool(
            "ldapwhoami",
            &["-x", "-H", &url, "-D", &dn("tina"), "-w", pw],
        )
    };

    // The password alone is not enough, and the answer says what to add.
    let out = bind(PW);
    assert_eq!(out.status.code(), Some(49));
    assert!(stderr(&out).contains("one-time code"), "{}", stderr(&out));
    // Password, ';', code.
    let code = oathtool(&w.tina_secret, 0);
    let out = bind(&format!("{PW};{code}"));
    assert!(out.status.success(), "{}", stderr(&out));
    // The same code again is refused.
    let out = bind(&format!("{PW};{code}"));
    assert_eq!(out.status.code(), Some(49));
    assert!(stderr(&out).contains("already used"), "{}", stderr(&out));
    // The next step's code (clock skew), without the ';'. Our password
    // itself ends in a letter; one that ends in digits is tested below.
    let code = oathtool(&w.tina_secret, 1);
    let out = bind(&format!("{PW}{code}"));
    assert!(out.status.success(), "{}", stderr(&out));
    // A wrong code after the right password.
    let out = bind(&format!("{PW};000000"));
    assert_eq!(out.status.code(), Some(49));
    // A wrong password with a right code tells nothing.
    let code = oathtool(&w.tina_secret, -1);
    let out = bind(&format!("Wrong7Horse;{code}"));
    assert_eq!(out.status.code(), Some(49));
    assert!(
        !stderr(&out).contains("additional info"),
        "{}",
        stderr(&out)
    );

    // Two steps ahead is outside the skew window.
    let code = oathtool(&w.tina_secret, 2);
    let out = bind(&format!("{PW};{code}"));
    assert_eq!(out.status.code(), Some(49));

    // A password ending in digits still works with and without ';'. A new
    // enrolment (new secret) starts with no used codes.
    cli(
        &w.daemon,
        &["user", "set-password", "tina", "--password-stdin"],
        Some("Tina2024\n"),
    );
    let enrolled = cli(&w.daemon, &["user", "enrol-totp", "tina"], None);
    let secret = enrolled.lines().nth(1).unwrap().trim().to_owned();
    let out = bind(&format!("Tina2024{}", oathtool(&secret, -1)));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = bind(&format!("Tina2024;{}", oathtool(&secret, 0)));
    assert!(out.status.success(), "{}", stderr(&out));
    // And the password alone, digits and all, is still asked for a code.
    let out = bind("Tina2024");
    assert!(
        stderr(&out).contains("one-time code is required"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_input_costs_one_connection_only() {
    let w = world();
    let addr = w.daemon.ldap.unwrap();
    let inputs: [&[u8]; 4] = [
        b"\x30\x84\xff\xff\xff\xff\x02\x01\x01",
        b"this is not BER at all",
        b"\x30\x05\x02\x01\x01\x63\x00",
        b"\x30\x03\x02\x01\x01",
    ];
    for bytes in inputs {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(bytes).unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        // Either a notice of disconnection or a plain close; never a hang.
    }
    let out = w.search_as("alice", &["-b", BASE, "(uid=alice)", "1.1"]);
    assert!(
        out.status.success(),
        "the daemon stopped serving: {}",
        stderr(&out)
    );
}

#[test]
fn the_rust_ldap3_client_binds_searches_and_pages() {
    use ldap3::controls::{MakeCritical, PagedResults};
    use ldap3::{LdapConn, Scope, SearchEntry};
    let w = world();
    let mut ldap = LdapConn::new(&w.ldap_url()).unwrap();
    ldap.simple_bind(&dn("alice"), PW)
        .unwrap()
        .success()
        .unwrap();
    let (entries, _) = ldap
        .search(
            BASE,
            Scope::Subtree,
            "(uid=bob)",
            vec!["cn", "mail", "memberOf"],
        )
        .unwrap()
        .success()
        .unwrap();
    let bob = SearchEntry::construct(entries.into_iter().next().unwrap());
    assert_eq!(bob.dn, dn("bob"));
    assert_eq!(bob.attrs["cn"], ["Bob Jones"]);
    assert_eq!(bob.attrs["memberOf"], [group_dn("EMEA")]);

    // Paging by hand: collect every page's cookie until the last.
    let mut cookie = Vec::new();
    let mut seen = Vec::new();
    loop {
        let ctrl = PagedResults {
            size: 3,
            cookie: cookie.clone(),
        }
        .critical();
        let result = ldap
            .with_controls(ctrl)
            .search(
                BASE,
                Scope::Subtree,
                "(objectClass=inetOrgPerson)",
                vec!["1.1"],
            )
            .unwrap();
        let (entries, res) = result.success().unwrap();
        assert!(entries.len() <= 3);
        seen.extend(entries.into_iter().map(|e| SearchEntry::construct(e).dn));
        let paged = res
            .ctrls
            .iter()
            .find_map(|c| match c {
                ldap3::controls::Control(Some(ldap3::controls::ControlType::PagedResults), raw) => {
                    Some(raw.parse::<PagedResults>())
                }
                _ => None,
            })
            .expect("a paged-results control in every page's answer");
        if paged.cookie.is_empty() {
            break;
        }
        cookie = paged.cookie;
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    ldap.unbind().unwrap();
}

#[test]
fn more_filter_kinds_and_nested_group_members() {
    let w = world();
    let find = |filter: &str| -> Vec<String> {
        let out = w.search_as("alice", &["-b", BASE, filter, "1.1"]);
        assert!(out.status.success(), "{filter}: {}", stderr(&out));
        dns(&stdout(&out))
    };
    assert_eq!(
        find("(cn~=alice smith)"),
        [dn("alice")],
        "approximate match"
    );
    assert_eq!(
        find("(&(uid=alice)(modifyTimestamp<=29990101000000Z))"),
        [dn("alice")]
    );
    assert!(find("(&(uid=alice)(modifyTimestamp<=20000101000000Z))").is_empty());
    assert_eq!(
        find("(uid:caseIgnoreMatch:=alice)").len(),
        0,
        "unknown rule: undefined"
    );
    assert_eq!(
        find("(uid:=alice)"),
        [dn("alice")],
        "extensible without a rule is equality"
    );
    // A group's nested groups are its members, and name it in memberOf.
    let out = w.search_as(
        "alice",
        &["-b", &group_dn("Sales"), "-s", "base", "(objectClass=*)"],
    );
    let text = stdout(&out).replace("\n ", "");
    assert!(
        text.contains(&format!("member: {}", group_dn("EMEA"))),
        "{text}"
    );
    assert!(text.contains(&format!("member: {}", dn("alice"))), "{text}");
    assert!(
        text.contains(&format!("memberOf: {}", group_dn("Acme"))),
        "{text}"
    );
    assert!(text.contains("objectClass: groupOfNames"), "{text}");
}

#[test]
fn a_failed_bind_leaves_the_connection_anonymous() {
    use ldap3::{LdapConn, Scope};
    let w = world();
    let mut ldap = LdapConn::new(&w.ldap_url()).unwrap();
    ldap.simple_bind(&dn("alice"), PW)
        .unwrap()
        .success()
        .unwrap();
    let (entries, _) = ldap
        .search(BASE, Scope::Subtree, "(uid=bob)", vec!["1.1"])
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let failed = ldap.simple_bind(&dn("alice"), "Wrong7Horse").unwrap();
    assert_eq!(failed.rc, 49);
    let after = ldap
        .search(BASE, Scope::Subtree, "(uid=bob)", vec!["1.1"])
        .unwrap();
    assert_eq!(after.1.rc, 50, "still acting as alice after a failed bind");
    let who = ldap.extended(ldap3::exop::WhoAmI).unwrap();
    let (exop, _) = who.success().unwrap();
    assert_eq!(exop.val.unwrap_or_default(), b"", "anonymous again");
}

/// One daemon with tight limits: two connections, a one-second idle
/// timeout, 2 KiB messages, and no anonymous access at all.
#[test]
fn limits_hold_and_cost_only_the_offending_connection() {
    use ldap3_proto::proto::{LdapExtendedRequest, LdapMsg, LdapOp};
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[ldap]\n",
        "[ldap]\nmax_connections = 2\nidle_timeout_secs = 1\nmax_message_bytes = 2048\nanonymous = \"none\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start_in(&tmp.path().join("data"), &config);
    let addr = daemon.ldap.unwrap();
    let read_all = |s: &mut TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    };
    // No anonymous access: even the root DSE needs a bind.
    let out = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &format!("ldap://{addr}"),
            "-b",
            "",
            "-s",
            "base",
        ])
        .env("LDAPCONF", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(50),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Idle connections are closed (with a notice of disconnection).
    let mut idle = TcpStream::connect(addr).unwrap();
    let started = std::time::Instant::now();
    let notice = read_all(&mut idle);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        notice.windows(22).any(|w| w == b"1.3.6.1.4.1.1466.20036"),
        "notice of disconnection expected: {notice:?}"
    );

    // A message over the size limit closes that connection only.
    let mut big = TcpStream::connect(addr).unwrap();
    let huge_filter = format!("(uid={})", "x".repeat(4096));
    let mut bytes = vec![
        0x30, 0x82, 0x10, 0x10, 0x02, 0x01, 0x01, 0x63, 0x82, 0x10, 0x09,
    ];
    bytes.extend(huge_filter.as_bytes());
    big.write_all(&bytes).unwrap();
    let _ = read_all(&mut big);

    // StartTLS with bytes pipelined after it is refused, not upgraded.
    let mut s = TcpStream::connect(addr).unwrap();
    let mut wire = bytes::BytesMut::new();
    let msg = LdapMsg::new(
        1,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: "1.3.6.1.4.1.1466.20037".into(),
            value: None,
        }),
    );
    tokio_util::codec::Encoder::encode(&mut ldap3_proto::LdapCodec::default(), msg, &mut wire)
        .unwrap();
    wire.extend_from_slice(b"\x30\x05\x02\x01\x02\x42\x00"); // an unbind, pipelined
    s.write_all(&wire).unwrap();
    let answer = read_all(&mut s);
    assert!(!answer.is_empty(), "an answer before the close");
    // operationsError (1) inside the extended response, not success (0).
    let mut codec = ldap3_proto::LdapCodec::default();
    let mut buf = bytes::BytesMut::from(&answer[..]);
    let reply = tokio_util::codec::Decoder::decode(&mut codec, &mut buf)
        .unwrap()
        .unwrap();
    match reply.op {
        LdapOp::ExtendedResponse(r) => assert_eq!(r.res.code as i32, 1, "{}", r.res.message),
        other => panic!("unexpected {other:?}"),
    }

    // Connection limit: with two held open, a third is closed at once.
    let held1 = TcpStream::connect(addr).unwrap();
    let held2 = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(addr).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(900)))
        .unwrap();
    // Told busy (a notice of disconnection), then closed.
    let mut told = Vec::new();
    let closed = third.read_to_end(&mut told).is_ok();
    assert!(closed, "a third connection must be refused");
    assert!(
        told.windows(22).any(|w| w == b"1.3.6.1.4.1.1466.20036"),
        "a notice of disconnection expected: {told:?}"
    );
    drop(held1);
    drop(held2);
    // Once they go (or idle out), service resumes.
    std::thread::sleep(Duration::from_millis(1500));
    let out = Command::new("ldapwhoami")
        .args(["-x", "-H", &format!("ldap://{addr}")])
        .env("LDAPCONF", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A second host for the test: a network namespace joined to this one by a
/// veth pair, so the daemon sees a peer that is not loopback. Removed on drop.
struct OtherHost {
    ns: String,
    host_ip: String,
    link: String,
}

impl OtherHost {
    fn new() -> OtherHost {
        let id = std::process::id() % 250 + 1;
        let ns = format!("dgt{}", std::process::id());
        let link = format!("dgh{id}");
        let peer = format!("dgp{id}");
        let host_ip = format!("10.231.{id}.1");
        let run = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("iproute2");
            assert!(
                out.status.success(),
                "ip {args:?}: {} (this test needs root, as CI has)",
                stderr(&out)
            );
        };
        run(&["netns", "add", &ns]);
        let host = OtherHost {
            ns: ns.clone(),
            host_ip: host_ip.clone(),
            link: link.clone(),
        };
        run(&["link", "add", &link, "type", "veth", "peer", "name", &peer]);
        run(&["link", "set", &peer, "netns", &ns]);
        run(&["addr", "add", &format!("{host_ip}/30"), "dev", &link]);
        run(&["link", "set", &link, "up"]);
        run(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("10.231.{id}.2/30"),
            "dev",
            &peer,
        ]);
        run(&["-n", &ns, "link", "set", &peer, "up"]);
        run(&["-n", &ns, "link", "set", "lo", "up"]);
        host
    }

    /// Runs an ldap-utils tool inside the other host.
    fn tool(&self, program: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, program])
            .args(args)
            .env("LDAPCONF", "/dev/null")
            .env("LDAPTLS_REQCERT", "never")
            .output()
            .unwrap()
    }
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

#[test]
fn cleartext_binds_from_another_host_need_tls() {
    let other = OtherHost::new();
    for allow in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("dirgate.toml");
        std::fs::write(
            &config,
            format!(
                "[ldap]\nlisten = \"{ip}:0\"\nldaps_listen = \"off\"\nallow_insecure_bind = {allow}\n\
                 [http]\nhttps_listen = \"off\"\n[password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n",
                ip = other.host_ip
            ),
        )
        .unwrap();
        let daemon = Daemon::start_in(&tmp.path().join("data"), &config);
        cli(
            &daemon,
            &["user", "add", "alice", "--password-stdin"],
            Some(&format!("{PW}\n")),
        );
        let url = format!("ldap://{}", daemon.ldap.unwrap());
        let plain = other.tool("ldapwhoami", &["-x", "-H", &url, "-D", "alice", "-w", PW]);
        if allow {
            assert!(plain.status.success(), "{}", stderr(&plain));
        } else {
            assert_eq!(plain.status.code(), Some(13), "{}", stderr(&plain));
            assert!(stderr(&plain).contains("TLS"), "{}", stderr(&plain));
        }
        // StartTLS makes the same bind acceptable.
        let tls = other.tool(
            "ldapwhoami",
            &["-x", "-ZZ", "-H", &url, "-D", "alice", "-w", PW],
        );
        assert!(tls.status.success(), "{}", stderr(&tls));
        assert_eq!(stdout(&tls).trim(), format!("dn:{}", dn("alice")));
    }
}
