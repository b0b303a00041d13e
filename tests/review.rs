//! The attacks of the hostile review (issue 14), each performed against the
//! real daemon over its real sockets, each refused. The node rights of the
//! tree (item 2) are cells of `authz_matrix.rs`.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{cli, write_config, Daemon};
use ldap3::{LdapConn, Scope};
use serde_json::{json, Value};

const BASE: &str = "dc=example,dc=com";
const PW: &str = "Review7Horse";
const EXT: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A daemon whose `[password]` section gets `password` in place of the
/// test default's 20 ms ceiling on waits.
fn start(password: &str) -> (tempfile::TempDir, Daemon) {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("failure_wait_max_ms = 20\n", &format!("{password}\n"));
    std::fs::write(&config, text).unwrap();
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret(PW);
    (tmp, d)
}

fn add(d: &Daemon, name: &str, extra: &[&str]) {
    let mut args = vec!["user", "add", name, "--password-stdin"];
    args.extend_from_slice(extra);
    cli(d, &args, Some(&format!("{PW}\n")));
}

fn dn(user: &str) -> String {
    format!("uid={user},ou=people,{BASE}")
}

fn url(d: &Daemon) -> String {
    format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port())
}

fn bound(d: &Daemon, user: &str, password: &str) -> LdapConn {
    let mut c = LdapConn::new(&url(d)).unwrap();
    c.simple_bind(&dn(user), password)
        .unwrap()
        .success()
        .unwrap();
    c
}

/// The result code of one bind attempt on a new connection.
fn bind_rc(address: &str, user: &str, password: &str) -> u32 {
    let mut c = LdapConn::new(address).unwrap();
    c.simple_bind(user, password).unwrap().rc
}

/// A subtree search's result code and number of entries.
fn search(c: &mut LdapConn, filter: &str) -> (u32, usize, String) {
    let r = c.search(BASE, Scope::Subtree, filter, vec!["1.1"]).unwrap();
    (r.1.rc, r.0.len(), r.1.text)
}

fn whoami(c: &mut LdapConn) -> String {
    let (exop, _) = c.extended(ldap3::exop::WhoAmI).unwrap().success().unwrap();
    String::from_utf8(exop.val.unwrap_or_default()).unwrap()
}

fn password_modify(c: &mut LdapConn, user: &str, old: Option<&str>, new: &str) -> u32 {
    c.extended(ldap3::exop::PasswordModify {
        user_id: Some(&dn(user)),
        old_pass: old,
        new_pass: Some(new),
    })
    .unwrap()
    .1
    .rc
}

fn token(d: &Daemon, user: &str) -> String {
    let t = cli(d, &["token", "issue", user], None).trim().to_owned();
    d.secret(&t);
    t
}

/// A SCIM request by curl: status and JSON body.
fn scim(d: &Daemon, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let cert = d.data.join("tls").join("cert.pem");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--cacert"]).arg(&cert);
    cmd.args(["-X", method]).arg(format!(
        "https://localhost:{}/scim/v2{path}",
        d.https.unwrap().port()
    ));
    cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/scim+json", "--data-binary"])
            .arg(b.to_string());
    }
    let out = cmd.output().expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn scim_id(d: &Daemon, root: &str, user: &str) -> String {
    let filter = form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &format!("userName eq \"{user}\""))
        .finish();
    let (status, body) = scim(d, root, "GET", &format!("/Users?{filter}"), None);
    assert_eq!(status, 200, "{body}");
    body["Resources"][0]["id"].as_str().unwrap().to_owned()
}

fn group_id(d: &Daemon, root: &str, name: &str) -> String {
    let filter = form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &format!("displayName eq \"{name}\""))
        .finish();
    let (status, body) = scim(d, root, "GET", &format!("/Groups?{filter}"), None);
    assert_eq!(status, 200, "{body}");
    body["Resources"][0]["id"].as_str().unwrap().to_owned()
}

// --- item 1 ------------------------------------------------------------------

/// A connection bound earlier acts with the account as it is now: made
/// inactive, put in reset, its password changed elsewhere, or demoted, the
/// connection's next request gets what an unbound one would, and the
/// connection stays usable for a new bind.
#[test]
fn an_open_connection_loses_the_rights_its_account_lost() {
    let (_tmp, d) = start("failure_wait_max_ms = 20");
    add(&d, "ann", &[]);
    add(
        &d,
        "boss",
        &["--type", "Administrator", "--role", "user-management"],
    );
    add(&d, "subby", &["--manager", "boss"]);

    // Made inactive: the next search is refused, who-am-I is anonymous.
    let mut c = bound(&d, "ann", PW);
    assert_eq!(search(&mut c, "(uid=ann)").0, 0);
    assert_eq!(whoami(&mut c), format!("dn:{}", dn("ann")));
    cli(&d, &["user", "set", "ann", "--status", "inactive"], None);
    let (rc, n, text) = search(&mut c, "(uid=ann)");
    assert_eq!(
        (rc, n),
        (50, 0),
        "an inactive account's connection still searched"
    );
    assert!(text.contains("can no longer act"), "{text}");
    // Active again, the old bind does not come back with it.
    cli(&d, &["user", "set", "ann", "--status", "active"], None);
    assert_eq!(whoami(&mut c), "", "the connection is unbound");
    assert_eq!(search(&mut c, "(uid=ann)").0, 50);
    c.simple_bind(&dn("ann"), PW).unwrap().success().unwrap();
    assert_eq!(search(&mut c, "(uid=ann)").1, 1, "a new bind works");

    // The password changed elsewhere: the old bind ends.
    let other = "Other7Stable";
    d.secret(other);
    cli(
        &d,
        &["user", "set-password", "ann", "--password-stdin"],
        Some(&format!("{other}\n")),
    );
    assert_eq!(search(&mut c, "(uid=ann)").0, 50);

    // Reset pending: no Password Modify on the old bind either.
    let mut c = bound(&d, "ann", other);
    cli(&d, &["user", "require-reset", "ann"], None);
    assert_eq!(
        password_modify(&mut c, "ann", Some(other), "Third7Stable"),
        50
    );
    assert!(bound_fails(&d, "ann", other));

    // Demoted to read only: its sub-user's password is no longer its to set.
    let mut m = bound(&d, "boss", PW);
    assert_eq!(password_modify(&mut m, "subby", None, "Sub7Stable1"), 0);
    d.secret("Sub7Stable1");
    cli(
        &d,
        &["user", "set", "boss", "--type", "Report Reader"],
        None,
    );
    assert_eq!(password_modify(&mut m, "subby", None, "Sub7Stable2"), 50);
    // Its own password change keeps its own connection bound.
    assert_eq!(password_modify(&mut m, "boss", Some(PW), "Boss7Stable"), 0);
    d.secret("Boss7Stable");
    assert_eq!(search(&mut m, "(uid=boss)").1, 1);
}

fn bound_fails(d: &Daemon, user: &str, password: &str) -> bool {
    bind_rc(&url(d), &dn(user), password) != 0
}

// --- items 3 and 4 -------------------------------------------------------------

/// Many failures from one address (an application server with one person
/// typing wrong, or a spray) never slow another account's right password;
/// they do slow the address's further failures.
#[test]
fn an_address_failures_do_not_slow_another_accounts_right_password() {
    let (_tmp, d) = start("failure_wait_max_ms = 2000");
    add(&d, "service", &[]);
    let address = url(&d);
    // 16 failures, for 16 names, in parallel: before, each further bind
    // from this address waited the 2 s ceiling.
    std::thread::scope(|s| {
        for n in 0..16 {
            let address = &address;
            s.spawn(move || {
                assert_eq!(bind_rc(address, &format!("ghost{n}"), "Wrong7Guess"), 49);
            });
        }
    });
    let started = Instant::now();
    assert_eq!(bind_rc(&address, &dn("service"), PW), 0);
    let right = started.elapsed();
    println!("right password after 16 failures from its address: {right:?}");
    assert!(right < Duration::from_millis(1000), "{right:?}");
    let started = Instant::now();
    assert_eq!(bind_rc(&address, "ghost99", "Wrong7Guess"), 49);
    let wrong = started.elapsed();
    println!("a further failure from that address: {wrong:?}");
    assert!(wrong >= Duration::from_millis(1500), "{wrong:?}");
}

/// Parallel wrong passwords for one account are counted when they start:
/// they are spaced as sequential ones would be, not all checked at once.
#[test]
fn parallel_guesses_at_one_account_are_spaced() {
    let (_tmp, d) = start("failure_wait_max_ms = 1000");
    add(&d, "victim", &[]);
    let address = url(&d);
    let started = Instant::now();
    let mut done: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let address = &address;
                s.spawn(move || {
                    assert_eq!(bind_rc(address, &dn("victim"), "Wrong7Guess"), 49);
                    started.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    done.sort();
    println!("12 parallel guesses answered at {done:?}");
    // Slots 0, 0, 0, 0, .25, .75, 1.75, 2.75, ... 6.75 s.
    assert!(done[11] >= Duration::from_secs(5), "{done:?}");
    assert!(done[7] >= Duration::from_millis(2500), "{done:?}");
}

/// A pool of connections binding at once as one service account with its
/// right password is never slowed: only failures buy waits. (Were the
/// parallel attempts counted as failures, the sixteen would wait
/// 0.25 + 0.5 + 1 + 2 + ... seconds one after another.)
#[test]
fn a_pool_binding_in_parallel_as_one_account_is_not_slowed() {
    let (_tmp, d) = start("failure_wait_max_ms = 8000");
    add(&d, "service", &[]);
    let address = url(&d);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..16 {
            let address = &address;
            s.spawn(move || assert_eq!(bind_rc(address, &dn("service"), PW), 0));
        }
    });
    let all = started.elapsed();
    println!("16 parallel right binds of one account: {all:?}");
    assert!(all < Duration::from_secs(4), "{all:?}");
}

// --- item 5 ------------------------------------------------------------------

/// Password Modify's old password is checked as an authentication is:
/// throttled on the account and audited.
#[test]
fn the_old_password_check_is_throttled_and_audited() {
    let (_tmp, d) = start("failure_wait_max_ms = 4000");
    add(&d, "ann", &[]);
    let mut c = bound(&d, "ann", PW);
    let started = Instant::now();
    for _ in 0..6 {
        assert_eq!(
            password_modify(&mut c, "ann", Some("Wrong7Guess"), "Fresh7Stable"),
            49
        );
    }
    let guesses = started.elapsed();
    println!("six wrong old passwords: {guesses:?}");
    // Waits 0.25 s and 0.5 s before the fifth and sixth, then 1 s.
    assert!(guesses >= Duration::from_millis(700), "{guesses:?}");
    let started = Instant::now();
    assert_eq!(bind_rc(&url(&d), &dn("ann"), PW), 0);
    assert!(started.elapsed() >= Duration::from_millis(900));
    let rows: Vec<Value> = cli(&d, &["audit", "--json", "--user", "ann"], None)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refused = rows
        .iter()
        .filter(|r| r["action"] == "account.password" && r["result"] != "ok")
        .count();
    assert_eq!(refused, 6, "{rows:?}");
}

// --- item 6 ------------------------------------------------------------------

/// An archived account admin brought back as a Report Reader has only what
/// the new request gives it: no admin level, no groups, no tokens.
#[test]
fn an_archived_account_comes_back_without_its_old_powers() {
    let (_tmp, d) = start("failure_wait_max_ms = 20");
    cli(&d, &["group", "add", "Acme", "--entity"], None);
    cli(&d, &["group", "add", "Globex", "--entity"], None);
    cli(&d, &["group", "add", "Sales", "--parent", "Acme"], None);
    add(&d, "chief", &["--type", "Administrator"]);
    cli(
        &d,
        &[
            "user",
            "set",
            "chief",
            "--admin",
            "account",
            "--admin-entity",
            "Acme",
        ],
        None,
    );
    cli(&d, &["group", "add-member", "Sales", "chief"], None);
    add(
        &d,
        "mgr",
        &[
            "--type",
            "Administrator",
            "--role",
            "user-management",
            "--restrict-to",
            "Globex",
        ],
    );
    let root = token(&d, "admin");
    let old = token(&d, "chief");
    let mgr = token(&d, "mgr");
    let id = scim_id(&d, &root, "chief");
    let (status, _) = scim(&d, &old, "GET", "/Users", None);
    assert_eq!(status, 200);

    let (status, body) = scim(&d, &root, "DELETE", &format!("/Users/{id}"), None);
    assert_eq!(status, 204, "{body}");
    let (status, _) = scim(&d, &old, "GET", "/Users", None);
    assert_eq!(status, 401, "archiving revokes the account's tokens");

    // A scoped manager meets the archived name as it meets a live hidden
    // one: 409, and no word of its rank.
    add(&d, "hidden", &["--restrict-to", "Acme"]);
    let new = |name: &str| {
        json!({"schemas": [USER, EXT], "userName": name,
               "name": {"givenName": "C", "familyName": "D"},
               EXT: {"accountType": "Report Reader"}})
    };
    let live = scim(&d, &mgr, "POST", "/Users", Some(&new("hidden")));
    let archived = scim(&d, &mgr, "POST", "/Users", Some(&new("chief")));
    assert_eq!(live.0, 409, "{}", live.1);
    assert_eq!(archived.0, live.0, "{}", archived.1);
    assert_eq!(archived.1["scimType"], live.1["scimType"]);
    assert!(!archived.1.to_string().contains("admin"), "{}", archived.1);

    let (status, body) = scim(&d, &root, "POST", "/Users", Some(&new("chief")));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], id.as_str(), "the same account comes back");
    assert!(body[EXT].get("adminLevel").is_none(), "{body}");
    assert!(
        body["groups"].as_array().is_none_or(|g| g.is_empty()),
        "{body}"
    );
    let shown = cli(&d, &["user", "show", "chief"], None);
    assert!(!shown.to_lowercase().contains("account admin"), "{shown}");
    let (status, _) = scim(&d, &old, "GET", "/Users", None);
    assert_eq!(status, 401, "the old token stays dead");
}

// --- item 7 ------------------------------------------------------------------

/// Deleting a group is allowed only when ending each of its memberships
/// would be: an account admin cannot drop another account admin's
/// membership by deleting the group.
#[test]
fn a_group_delete_cannot_do_what_its_effects_could_not() {
    let (_tmp, d) = start("failure_wait_max_ms = 20");
    cli(&d, &["group", "add", "Acme", "--entity"], None);
    cli(&d, &["group", "add", "Team", "--parent", "Acme"], None);
    cli(&d, &["group", "add", "Empty", "--parent", "Acme"], None);
    for name in ["one", "two"] {
        add(&d, name, &["--type", "Administrator"]);
        cli(
            &d,
            &[
                "user",
                "set",
                name,
                "--admin",
                "account",
                "--admin-entity",
                "Acme",
            ],
            None,
        );
    }
    add(&d, "plain", &["--restrict-to", "Acme"]);
    cli(&d, &["group", "add-member", "Team", "two"], None);
    cli(&d, &["group", "add-member", "Team", "plain"], None);
    let root = token(&d, "admin");
    let one = token(&d, "one");
    let team = group_id(&d, &root, "Team");
    let (status, body) = scim(&d, &one, "DELETE", &format!("/Groups/{team}"), None);
    assert_eq!(status, 403, "{body}");
    let (status, _) = scim(&d, &root, "GET", &format!("/Groups/{team}"), None);
    assert_eq!(status, 200, "the group is still there");
    // Its own effects it may have: an empty group goes.
    let empty = group_id(&d, &root, "Empty");
    let (status, body) = scim(&d, &one, "DELETE", &format!("/Groups/{empty}"), None);
    assert_eq!(status, 204, "{body}");
}

// --- item 8 ------------------------------------------------------------------

fn or_filter(terms: usize) -> String {
    let mut f = String::from("(|");
    for n in 0..terms {
        f.push_str(&format!("(uid=user{n:05})"));
    }
    f.push(')');
    f
}

/// A filter of thousands of terms is refused at once, five of them at
/// once stall nobody, and a filter within the limit still works.
#[test]
fn a_huge_filter_is_refused_and_stalls_no_one() {
    let (_tmp, d) = start("failure_wait_max_ms = 20");
    add(&d, "reader", &[]);
    add(&d, "other", &[]);
    let huge = or_filter(17_000);
    println!("filter of 17,000 terms: {} KiB", huge.len() / 1024);
    let started = Instant::now();
    let quick: Vec<Duration> = std::thread::scope(|s| {
        let floods: Vec<_> = (0..5)
            .map(|_| {
                let (d, huge) = (&d, &huge);
                s.spawn(move || {
                    let mut c = bound(d, "reader", PW);
                    let r = c.search(BASE, Scope::Subtree, huge, vec!["1.1"]).unwrap();
                    assert_eq!(r.1.rc, 11, "{}", r.1.text);
                    assert!(r.1.text.contains("terms"), "{}", r.1.text);
                })
            })
            .collect();
        let mut c = bound(&d, "other", PW);
        let quick = (0..10)
            .map(|_| {
                let t = Instant::now();
                assert_eq!(search(&mut c, "(uid=reader)").1, 1);
                t.elapsed()
            })
            .collect();
        for f in floods {
            f.join().unwrap();
        }
        quick
    });
    let all = started.elapsed();
    let slowest = quick.iter().max().unwrap();
    println!("5 huge filters and 10 ordinary searches: {all:?}, slowest ordinary {slowest:?}");
    assert!(all < Duration::from_secs(5), "{all:?}");
    assert!(*slowest < Duration::from_secs(1), "{slowest:?}");
    let mut c = bound(&d, "reader", PW);
    let t = Instant::now();
    let (rc, n, text) = search(&mut c, &or_filter(500).replace("user00000", "reader"));
    println!("a 501-term filter: {:?}", t.elapsed());
    assert_eq!((rc, n), (0, 1), "{text}");
}

// --- item 10 -----------------------------------------------------------------

/// A wrong password for an imported `{SSHA}` account takes as long as one
/// for a missing account: the time does not tell which names exist.
#[test]
fn an_imported_hash_answers_as_slowly_as_a_missing_account() {
    use sha1::{Digest, Sha1};
    let (tmp, mut d) = start(
        "failure_wait_max_ms = 20\nfailures_free_per_account = 1000\n\
         failures_free_per_address = 1000",
    );
    // The default argon2 cost, so the difference would show.
    d.stop();
    let text = std::fs::read_to_string(&d.config).unwrap().replace(
        "argon2_memory_kib = 1024\nargon2_iterations = 1\n",
        "argon2_memory_kib = 19456\nargon2_iterations = 2\n",
    );
    std::fs::write(&d.config, text).unwrap();
    let salt = b"salt1234";
    let mut h = Sha1::new();
    h.update(PW.as_bytes());
    h.update(salt);
    let mut raw = h.finalize().to_vec();
    raw.extend_from_slice(salt);
    let ldif = tmp.path().join("old.ldif");
    std::fs::write(
        &ldif,
        format!(
            "dn: uid=oldtimer,ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: oldtimer\n\
             cn: Old Timer\nsn: Timer\nuserPassword: {{SSHA}}{}\n",
            data_encoding::BASE64.encode(&raw)
        ),
    )
    .unwrap();
    let out = d.command(&["import", ldif.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Daemon::start_in(&d.data.clone(), &d.config.clone());
    d.secret(PW);
    let address = url(&d);
    let median = |user: &dyn Fn(usize) -> String| {
        let mut times: Vec<Duration> = (0..7)
            .map(|n| {
                let t = Instant::now();
                assert_eq!(bind_rc(&address, &user(n), "Wrong7Guess"), 49);
                t.elapsed()
            })
            .collect();
        times.sort();
        times[3]
    };
    let imported = median(&|_| dn("oldtimer"));
    let missing = median(&|n| dn(&format!("nobody{n}")));
    println!("wrong password, median of 7: imported {{SSHA}} {imported:?}, missing {missing:?}");
    assert!(imported * 2 >= missing, "{imported:?} against {missing:?}");
    assert_eq!(
        bind_rc(&address, &dn("oldtimer"), PW),
        0,
        "the right one works"
    );
}

// --- item 14 -----------------------------------------------------------------

/// `dirgate token list | head -1`: the reader goes away and the command
/// ends quietly (SIGPIPE, as any Unix tool), not with a panic.
#[test]
fn a_command_whose_reader_goes_away_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let (_tmp, d) = start("failure_wait_max_ms = 20");
    token(&d, "admin");
    let mut child = Command::new(common::BIN)
        .args(["token", "list", "--data"])
        .arg(&d.data)
        .arg("--config")
        .arg(&d.config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the command writes a line.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("panicked"), "{said}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {said}",
        out.status
    );
}
