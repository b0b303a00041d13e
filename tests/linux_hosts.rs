//! A Linux host resolves and signs in dirgate's people through Debian's
//! own SSSD and nslcd, configured as README's "Linux hosts" says (the
//! configurations are read from README.md): `getent passwd`, `getent
//! group` and `id` show the directory's people and groups with their
//! numbers; `pamtester` signs in through SSSD's PAM with a password, and
//! with password and code for a Two Factor App account; a host bound with a
//! restricted service account sees only its scope.
//!
//! These tests change the host: /etc/nsswitch.conf, /etc/sssd/sssd.conf,
//! /etc/nslcd.conf, a PAM service file and SSSD's cache for the test's
//! domain. `common::host::Host` saves each first and puts it back, stops
//! the daemons started, and holds a lock so two such tests never overlap.
//! They need root (CI runs scripts/test as root).

mod common;

use std::time::Duration;

use common::host::{getent_until, nsswitch, run, Host};
use common::{cli, write_config, Daemon};

const ADMIN_PW: &str = "Admin7Secret0";
const PW: &str = "Linux7Secret1";
const HOST_PW: &str = "HostAccount7Pw";
const KEY1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0 alice@laptop";
const KEY2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk1 alice@desk";
const PAM_SERVICE: &str = "/etc/pam.d/dirgate-test";
const CA: &str = "/etc/ssl/certs/dirgate-test-ca.pem";
const SSSD_CACHE: [&str; 2] = [
    "/var/lib/sss/db/cache_dirgate.ldb",
    "/var/lib/sss/db/timestamps_dirgate.ldb",
];

const POSIX: &str = "[posix]\nuid_min = 21000\nuid_max = 21999\ngid_min = 31000\ngid_max = 31999\n";

/// The configuration block README shows after `<!-- marker -->`.
fn readme_block(marker: &str) -> String {
    let readme = include_str!("../README.md");
    let start = readme
        .find(&format!("<!-- {marker} -->"))
        .unwrap_or_else(|| panic!("README has no {marker} block"));
    let rest = &readme[start..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_owned()
}

/// README's configuration with this daemon's address, certificate and
/// service account.
fn configured(marker: &str, d: &Daemon, host_account: &str) -> String {
    let text = readme_block(marker)
        .replace(
            "ldaps://dirgate.example.com:636",
            &format!("ldaps://localhost:{}", d.ldaps.unwrap().port()),
        )
        .replace("/etc/ssl/certs/dirgate.pem", CA)
        .replace("uid=linuxhost,", &format!("uid={host_account},"))
        .replace("HOST-ACCOUNT-PASSWORD", HOST_PW);
    assert!(
        text.contains(&d.ldaps.unwrap().port().to_string()),
        "{text}"
    );
    text
}

/// A directory for a host: people in two business entities, one with an
/// authenticator app, a service account for all hosts and one restricted
/// to Acme. Returns the TOTP secret.
fn world(d: &Daemon) -> String {
    d.secret(ADMIN_PW);
    d.secret(PW);
    d.secret(HOST_PW);
    cli(
        d,
        &["user", "set-password", "admin", "--password-stdin"],
        Some(ADMIN_PW),
    );
    cli(d, &["group", "add", "Acme", "--entity"], None);
    cli(d, &["group", "add", "acmestaff", "--parent", "Acme"], None);
    cli(d, &["group", "add", "Other", "--entity"], None);
    cli(d, &["group", "add", "outsiders", "--parent", "Other"], None);
    for (user, group) in [("alice", "acmestaff"), ("bob", "outsiders")] {
        cli(
            d,
            &[
                "user",
                "add",
                user,
                "--first-name",
                user,
                "--last-name",
                "Example",
                "--password-stdin",
            ],
            Some(PW),
        );
        cli(d, &["group", "add-member", group, user], None);
    }
    cli(
        d,
        &["user", "set", "alice", "--ssh-key", KEY1, "--ssh-key", KEY2],
        None,
    );
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
        Some(PW),
    );
    cli(d, &["group", "add-member", "acmestaff", "tina"], None);
    let enrolled = cli(d, &["user", "enrol-totp", "tina"], None);
    let secret = enrolled.lines().nth(1).unwrap().trim().to_owned();
    d.secret(&secret);
    cli(
        d,
        &["user", "add", "linuxhost", "--password-stdin"],
        Some(HOST_PW),
    );
    cli(
        d,
        &[
            "user",
            "add",
            "acmehost",
            "--restrict-to",
            "Acme",
            "--password-stdin",
        ],
        Some(HOST_PW),
    );
    secret
}

fn start_daemon() -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), POSIX);
    let d = Daemon::start_in(&dir.path().join("data"), &config);
    (dir, d)
}

fn trust_daemon(host: &mut Host, d: &Daemon) {
    let cert = std::fs::read_to_string(d.data.join("tls").join("cert.pem")).unwrap();
    host.write(CA, &cert, 0o644);
}

/// The TOTP code now, from oathtool.
fn totp(secret: &str) -> String {
    let (ok, out, err) = run("oathtool", &["--totp", "-b", secret], None);
    assert!(ok, "oathtool: {err}");
    out.trim().to_owned()
}

/// (uid, gid) of a passwd line.
fn numbers(line: &str) -> (u32, u32) {
    let f: Vec<&str> = line.split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

fn start_sssd(host: &mut Host, d: &Daemon, host_account: &str) {
    for cache in SSSD_CACHE {
        host.remove(cache);
    }
    host.write(
        "/etc/sssd/sssd.conf",
        &configured("sssd.conf", d, host_account),
        0o600,
    );
    host.start(
        "sssd",
        "/usr/sbin/sssd",
        &["-i", "--logger=stderr", "-d", "0x0070"],
    );
}

fn stop_sssd(host: &mut Host) {
    host.stop("sssd");
    for cache in SSSD_CACHE {
        let _ = std::fs::remove_file(cache);
    }
}

#[test]
fn sssd_resolves_and_signs_in_people_and_keeps_a_restricted_host_in_scope() {
    let (_dir, mut d) = start_daemon();
    let secret = world(&d);
    let mut host = Host::take();
    trust_daemon(&mut host, &d);
    host.write("/etc/nsswitch.conf", &nsswitch("sss"), 0o644);
    host.write(
        PAM_SERVICE,
        "# written by a dirgate test; removed after it\n\
         auth required pam_sss.so\naccount required pam_sss.so\n",
        0o644,
    );
    start_sssd(&mut host, &d, "linuxhost");

    let wait = Duration::from_secs(60);
    let alice = getent_until("passwd", "alice", wait)
        .unwrap_or_else(|| panic!("getent passwd alice: nothing\n{}", host.log()));
    let (uid, gid) = numbers(&alice);
    assert!((21000..=21999).contains(&uid), "{alice}");
    assert_eq!(uid, gid, "a private group: {alice}");
    assert!(alice.ends_with(":/home/alice:/bin/bash"), "{alice}");
    let bob = getent_until("passwd", "bob", wait).expect("bob");
    assert_ne!(numbers(&bob).0, uid);

    let staff = getent_until("group", "acmestaff", wait).expect("getent group acmestaff");
    let fields: Vec<&str> = staff.split(':').collect();
    let staff_gid: u32 = fields[2].parse().unwrap();
    assert!((31000..=31999).contains(&staff_gid), "{staff}");
    let mut members: Vec<&str> = fields[3].split(',').collect();
    members.sort();
    assert_eq!(members, ["alice", "tina"], "{staff}");

    let (ok, id, err) = run("id", &["alice"], None);
    assert!(ok, "id alice: {err}");
    assert!(id.contains(&format!("uid={uid}(alice)")), "{id}");
    assert!(id.contains(&format!("{staff_gid}(acmestaff)")), "{id}");

    // OpenSSH's AuthorizedKeysCommand: the keys alice set.
    let (ok, keys, err) = run("sss_ssh_authorizedkeys", &["alice"], None);
    assert!(ok, "sss_ssh_authorizedkeys alice: {err}\n{}", host.log());
    assert_eq!(keys.lines().collect::<Vec<_>>(), [KEY1, KEY2], "{keys}");

    // PAM through SSSD: the password signs alice in, a wrong one does not.
    let (ok, _, err) = run(
        "pamtester",
        &["dirgate-test", "alice", "authenticate"],
        Some(&format!("{PW}\n")),
    );
    assert!(ok, "pamtester alice: {err}\n{}", host.log());
    d.secret("Wrong7Password");
    let (ok, _, _) = run(
        "pamtester",
        &["dirgate-test", "alice", "authenticate"],
        Some("Wrong7Password\n"),
    );
    assert!(!ok, "a wrong password signed in");
    // Two Factor App: the password alone is refused; password followed by
    // the code from the app signs in.
    let (ok, _, _) = run(
        "pamtester",
        &["dirgate-test", "tina", "authenticate"],
        Some(&format!("{PW}\n")),
    );
    assert!(!ok, "tina signed in without a code");
    let code = totp(&secret);
    d.secret(&code);
    d.bind_secret(&format!("{PW}{code}"));
    let (ok, _, err) = run(
        "pamtester",
        &["dirgate-test", "tina", "authenticate"],
        Some(&format!("{PW}{code}\n")),
    );
    assert!(ok, "pamtester tina with a code: {err}\n{}", host.log());

    // A host of Acme, bound with the service account restricted to Acme,
    // sees Acme's people and groups, not Other's.
    stop_sssd(&mut host);
    start_sssd(&mut host, &d, "acmehost");
    assert!(
        getent_until("passwd", "alice", wait).is_some(),
        "{}",
        host.log()
    );
    assert!(getent_until("group", "acmestaff", wait).is_some());
    assert_eq!(getent_until("passwd", "bob", Duration::from_secs(3)), None);
    assert_eq!(
        getent_until("group", "outsiders", Duration::from_secs(3)),
        None
    );
    stop_sssd(&mut host);
    drop(host);
    d.stop();
}

#[test]
fn nslcd_resolves_people_and_groups_and_keeps_a_restricted_host_in_scope() {
    let (_dir, mut d) = start_daemon();
    world(&d);
    let mut host = Host::take();
    trust_daemon(&mut host, &d);
    host.write("/etc/nsswitch.conf", &nsswitch("ldap"), 0o644);
    let _ = std::fs::create_dir_all("/run/nslcd");
    let _ = run("chown", &["nslcd:nslcd", "/run/nslcd"], None);
    for (account, sees_bob) in [("linuxhost", true), ("acmehost", false)] {
        host.write(
            "/etc/nslcd.conf",
            &configured("nslcd.conf", &d, account),
            0o600,
        );
        host.start("nslcd", "/usr/sbin/nslcd", &["-d"]);
        let wait = Duration::from_secs(30);
        let alice = getent_until("passwd", "alice", wait)
            .unwrap_or_else(|| panic!("getent passwd alice: nothing\n{}", host.log()));
        let (uid, gid) = numbers(&alice);
        assert!((21000..=21999).contains(&uid), "{alice}");
        assert_eq!(uid, gid, "{alice}");
        assert!(alice.ends_with(":/home/alice:/bin/bash"), "{alice}");
        let staff = getent_until("group", "acmestaff", wait).expect("getent group acmestaff");
        assert!(staff.contains("alice"), "{staff}");
        let bob = getent_until("passwd", "bob", Duration::from_secs(2));
        assert_eq!(bob.is_some(), sees_bob, "{account}: {bob:?}");
        host.stop("nslcd");
    }
    drop(host);
    d.stop();
}
