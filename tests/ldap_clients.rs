//! The LDAP clients administrators use, configured as their own
//! documentation says, against the real daemon: Apache httpd's
//! `mod_authnz_ldap` (checked with curl), Dovecot's `auth_bind` (checked
//! with `doveadm auth test`), Nextcloud's `user_ldap` queries through PHP's
//! ldap extension (tests/nextcloud_ldap.php) and python-ldap. The
//! configurations are the README's ("Applications and Linux hosts"), read
//! out of it here. Every program runs as a private instance (its own
//! configuration in a temporary folder, on 127.0.0.1); no system file is
//! touched, and each test stops what it started.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{cli, write_config, Daemon};

const BASE: &str = "dc=example,dc=com";
const PW: &str = "Correct7Horse";
const WRONG: &str = "Wrong7Horse";
/// The service accounts' password (the README's).
const SERVICE_PW: &str = "Service7Secret";

/// A daemon with people and a group:
/// - admin: the bootstrap super admin
/// - groups Staff and Ops (empty)
/// - alice: member of Staff; bob: not in any group; carol: member of Staff
/// - apache, dovecot, nextcloud: Report Readers (the applications' service
///   accounts)
struct World {
    daemon: Daemon,
    tmp: tempfile::TempDir,
    cert: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    let daemon = Daemon::start_in(&data, &config);
    let d = &daemon;
    d.secret(PW);
    d.secret(SERVICE_PW);
    d.secret(WRONG);
    cli(d, &["group", "add", "Staff"], None);
    cli(d, &["group", "add", "Ops"], None);
    let pw = format!("{PW}\n");
    for (user, first, last) in [
        ("alice", "Alice", "Smith"),
        ("bob", "Bob", "Jones"),
        ("carol", "Carol", "White"),
    ] {
        cli(
            d,
            &[
                "user",
                "add",
                user,
                "--first-name",
                first,
                "--last-name",
                last,
                "--email",
                &format!("{user}@example.com"),
                "--password-stdin",
            ],
            Some(&pw),
        );
    }
    cli(d, &["group", "add-member", "Staff", "alice"], None);
    cli(d, &["group", "add-member", "Staff", "carol"], None);
    let service = format!("{SERVICE_PW}\n");
    for user in ["apache", "dovecot", "nextcloud"] {
        cli(
            d,
            &[
                "user",
                "add",
                user,
                "--type",
                "Report Reader",
                "--password-stdin",
            ],
            Some(&service),
        );
    }
    let cert = data.join("tls").join("cert.pem");
    World { daemon, tmp, cert }
}

impl World {
    /// A README block with the daemon's address, ports and certificate in
    /// place of the examples.
    fn readme(&self, tag: &str) -> String {
        readme_block(tag)
            .replace(
                "ldaps://dirgate.example.com:636",
                &format!("ldaps://localhost:{}", self.daemon.ldaps.unwrap().port()),
            )
            .replace(
                "ldap://dirgate.example.com:389",
                &format!("ldap://localhost:{}", self.daemon.ldap.unwrap().port()),
            )
            .replace("/etc/dirgate/cert.pem", self.cert.to_str().unwrap())
    }
}

/// The fenced block after `<!-- test: TAG -->` in README.md.
fn readme_block(tag: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = format!("<!-- test: {tag} -->\n");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker}"))
        + marker.len();
    let rest = &readme[start..];
    assert!(rest.starts_with("```"), "{tag}: a fence must follow");
    let body = &rest[rest.find('\n').unwrap() + 1..];
    body[..body.find("\n```").unwrap() + 1].to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A program this test started; stopped with SIGTERM (then SIGKILL) when
/// dropped.
struct Running {
    child: Child,
    name: &'static str,
}

impl Running {
    fn start(name: &'static str, command: &mut Command) -> Running {
        // The system's ldap.conf (if any) plays no part: the test's own
        // configuration says everything.
        let child = command
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/dev/null")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e} (is it installed? see scripts/test)"));
        Running { child, name }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM: killed", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Waits for `path` to exist (a socket or pid file), or panics with `log`.
fn wait_for_path(path: &Path, run: &mut Running, log: &Path) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = run.exited() {
            panic!(
                "{} exited ({status}):\n{}",
                run.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} did not create {}:\n{}",
            run.name,
            path.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------- Apache

const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

/// A private httpd: its own configuration, pid file, logs and document
/// root in `dir`, listening on 127.0.0.1:`port`, with `site` (the README's
/// block) included.
fn apache_conf(dir: &Path, port: u16, site: &str) -> PathBuf {
    let www = dir.join("www");
    for location in ["staff", "everyone"] {
        std::fs::create_dir_all(www.join(location)).unwrap();
        std::fs::write(www.join(location).join("index.txt"), "welcome\n").unwrap();
    }
    let d = dir.display();
    let modules: String = [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("authz_user_module", "mod_authz_user.so"),
        ("authn_core_module", "mod_authn_core.so"),
        ("auth_basic_module", "mod_auth_basic.so"),
        ("ldap_module", "mod_ldap.so"),
        ("authnz_ldap_module", "mod_authnz_ldap.so"),
    ]
    .iter()
    .map(|(name, file)| format!("LoadModule {name} {APACHE_MODULES}/{file}\n"))
    .collect();
    let conf = format!(
        "ServerRoot {d}\nServerName 127.0.0.1\nListen 127.0.0.1:{port}\n\
         PidFile {d}/httpd.pid\nDefaultRuntimeDir {d}\nMutex file:{d} default\n\
         ErrorLog {d}/error.log\nLogLevel warn ldap:debug authnz_ldap:debug\n\
         {modules}DocumentRoot {d}/www\n\
         <Directory {d}/www>\n    Require all granted\n</Directory>\n\
         {site}"
    );
    let path = dir.join("httpd.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

/// The HTTP status of GET `url` with basic authentication.
fn curl_status(d: &Daemon, url: &str, user: &str, password: &str) -> u16 {
    d.secret(password);
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
        .arg(format!("{user}:{password}"))
        .arg(url)
        .output()
        .expect("curl");
    text(&out.stdout).trim().parse().unwrap_or(0)
}

/// Runs the README's Apache block, and a copy with the two locations'
/// transports swapped, so each `Require` form goes over LDAPS and StartTLS.
#[test]
fn apache_mod_authnz_ldap_valid_user_and_ldap_group_over_ldaps_and_starttls() {
    let w = world();
    let d = &w.daemon;
    // tina signs in with a password and an authenticator app's code.
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
        Some(&format!("{PW}\n")),
    );
    let enrolled = cli(d, &["user", "enrol-totp", "tina"], None);
    let tina_secret = enrolled.lines().nth(1).unwrap().trim().to_owned();
    let site = w.readme("apache");
    let ldaps_line = site
        .lines()
        .find(|l| l.contains("AuthLDAPURL \"ldaps://"))
        .unwrap()
        .to_owned();
    let starttls_line = site
        .lines()
        .find(|l| l.contains("AuthLDAPURL \"ldap://"))
        .unwrap()
        .to_owned();
    assert!(starttls_line.ends_with(" TLS"), "{starttls_line}");
    let swapped = site
        .replace(&ldaps_line, "@LDAPS@")
        .replace(&starttls_line, &ldaps_line)
        .replace("@LDAPS@", &starttls_line);
    for (step, (what, site)) in [("as in the README", site.clone()), ("swapped", swapped)]
        .into_iter()
        .enumerate()
    {
        let dir = tempfile::tempdir_in(w.tmp.path()).unwrap();
        let port = free_port();
        let conf = apache_conf(dir.path(), port, &site);
        let log = dir.path().join("error.log");
        let check = Command::new("apache2")
            .arg("-t")
            .arg("-f")
            .arg(&conf)
            .output()
            .expect("apache2 (the apache2 package)");
        assert!(
            check.status.success(),
            "apache2 -t: {}",
            text(&check.stderr)
        );
        let mut httpd = Running::start(
            "apache2",
            Command::new("apache2")
                .arg("-f")
                .arg(&conf)
                .arg("-DFOREGROUND"),
        );
        wait_for_path(&dir.path().join("httpd.pid"), &mut httpd, &log);
        let url = |location: &str| format!("http://127.0.0.1:{port}/{location}/index.txt");
        let start = Instant::now();
        while curl_status(d, &url("everyone"), "alice", PW) == 0 {
            assert!(start.elapsed() < Duration::from_secs(20), "httpd not up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        for (location, user, password, expect) in [
            ("staff", "alice", PW, 200),
            ("staff", "carol", PW, 200),
            ("staff", "alice", WRONG, 401),
            ("staff", "bob", PW, 401),
            ("staff", "nobody", PW, 401),
            ("everyone", "alice", PW, 200),
            ("everyone", "bob", PW, 200),
            ("everyone", "bob", WRONG, 401),
            ("everyone", "nobody", PW, 401),
        ] {
            let got = curl_status(d, &url(location), user, password);
            assert_eq!(
                got,
                expect,
                "{what}: /{location} as {user} with {}: {got}\n{}",
                if password == PW {
                    "the password"
                } else {
                    "a wrong password"
                },
                log_text()
            );
        }
        // A two-factor sign-in: the browser sends the same password and
        // code with every request, and Apache's credential cache (600 s by
        // default) answers the repeats; dirgate takes a code only once.
        let with_code = format!("{PW}{}", oathtool(&tina_secret, step as i64));
        d.bind_secret(&with_code);
        for attempt in ["first", "repeated"] {
            let got = curl_status(d, &url("everyone"), "tina", &with_code);
            assert_eq!(got, 200, "{what}: tina's {attempt} request\n{}", log_text());
        }
        let got = curl_status(d, &url("everyone"), "tina", PW);
        assert_eq!(got, 401, "{what}: tina without a code\n{}", log_text());
        drop(httpd);
    }
}

/// The TOTP code `offset_steps` 30-second steps from now (oathtool).
fn oathtool(secret: &str, offset_steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", "--now"])
        .arg(format!("@{}", now + offset_steps * 30))
        .arg(secret)
        .output()
        .expect("oathtool");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

// --------------------------------------------------------------- Dovecot

/// A private Dovecot (`dovecot -F -c CONF`): its own base_dir, state and
/// log in `dir`, no protocols (no listeners), the README's LDAP passdb.
#[test]
fn dovecot_auth_bind_checks_passwords_with_a_bind() {
    let w = world();
    let d = &w.daemon;
    let ldaps = w.readme("dovecot");
    let ldap_port = d.ldap.unwrap().port();
    let starttls = ldaps
        .lines()
        .map(|l| {
            if l.starts_with("uris = ") {
                format!("uris = ldap://localhost:{ldap_port}\ntls = yes\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect::<String>();
    assert_ne!(ldaps, starttls);
    for (what, ldap_text) in [("LDAPS", ldaps.clone()), ("StartTLS", starttls)] {
        let dir = tempfile::tempdir_in(w.tmp.path()).unwrap();
        let p = dir.path();
        let ldap_conf = p.join("dovecot-ldap.conf.ext");
        std::fs::write(&ldap_conf, &ldap_text).unwrap();
        let dp = p.display();
        let conf = format!(
        "base_dir = {dp}/run\nstate_dir = {dp}/state\nlog_path = {dp}/dovecot.log\n\
         protocols =\nssl = no\nauth_mechanisms = plain\n\
         auth_verbose = yes\n\
         passdb {{\n  driver = ldap\n  args = {}\n}}\n\
         userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={dp}/home/%u allow_all_users=yes\n}}\n\
         service auth {{\n  user = root\n}}\n",
        ldap_conf.display()
    );
        std::fs::create_dir_all(p.join("state")).unwrap();
        let conf_path = p.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = p.join("dovecot.log");
        let mut dovecot = Running::start(
            "dovecot",
            Command::new("dovecot").arg("-F").arg("-c").arg(&conf_path),
        );
        wait_for_path(&p.join("run").join("auth-client"), &mut dovecot, &log);
        let auth_test = |user: &str, password: &str| -> Output {
            d.secret(password);
            Command::new("doveadm")
                .arg("-c")
                .arg(&conf_path)
                .args(["auth", "test", user, password])
                .output()
                .expect("doveadm")
        };
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        for user in ["alice", "bob"] {
            let ok = auth_test(user, PW);
            let out = text(&ok.stdout);
            assert!(
                ok.status.success() && out.contains(&format!("passdb: {user} auth succeeded")),
                "{what}: {user}: {out}{}\n{}",
                text(&ok.stderr),
                log_text()
            );
        }
        for (user, password) in [("alice", WRONG), ("nobody", PW)] {
            let bad = auth_test(user, password);
            let out = text(&bad.stdout);
            assert!(
                !bad.status.success() && out.contains(&format!("passdb: {user} auth failed")),
                "{what}: {user}: {out}{}",
                text(&bad.stderr)
            );
        }
        drop(dovecot);
    }
}

// ------------------------------------------------------------- Nextcloud

/// tests/nextcloud_ldap.php: Nextcloud's `user_ldap` queries through PHP's
/// ldap extension. It prints what it found as JSON.
#[test]
fn nextcloud_user_ldap_queries_through_php_ldap() {
    let w = world();
    let d = &w.daemon;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nextcloud_ldap.php");
    let run = |login: &str, user_password: &str| -> serde_json::Value {
        d.secret(user_password);
        let out = Command::new("php")
            .arg(&script)
            .env(
                "LDAP_URI",
                format!("ldaps://localhost:{}", d.ldaps.unwrap().port()),
            )
            .env("LDAP_CACERT", &w.cert)
            .env("LDAP_BASE", BASE)
            .env("LDAP_AGENT_DN", format!("uid=nextcloud,ou=people,{BASE}"))
            .env("LDAP_AGENT_PASSWORD", SERVICE_PW)
            .env("LOGIN_USER", login)
            .env("LOGIN_MAIL", format!("{login}@example.com"))
            .env("LOGIN_PASSWORD", user_password)
            .env("GROUP", "Staff")
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/dev/null")
            .output()
            .expect("php (php-cli, php-ldap)");
        assert!(
            out.status.success(),
            "php: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
    };
    let r = run("alice", PW);
    let people_dn = |u: &str| format!("uid={u},ou=people,{BASE}");
    // Paged users with a page size of 2: every person, in several pages.
    let users: Vec<String> = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uid"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = users.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "admin",
            "alice",
            "apache",
            "bob",
            "carol",
            "dovecot",
            "nextcloud"
        ]
    );
    assert_eq!(r["user_pages"], 4, "{r}");
    for u in r["users"].as_array().unwrap() {
        let uuid = u["entryuuid"].as_str().unwrap();
        assert_eq!(uuid.len(), 36, "{u}");
    }
    let uuids: std::collections::BTreeSet<&str> = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["entryuuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids.len(), 7, "entryUUIDs are distinct");
    let alice = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["uid"] == "alice")
        .unwrap();
    assert_eq!(
        alice["memberof"],
        serde_json::json!([format!("cn=Staff,ou=groups,{BASE}")])
    );
    assert_eq!(alice["displayname"], "Alice Smith");
    // The login lookup, the group and its members.
    assert_eq!(r["login_dn"], people_dn("alice"));
    assert_eq!(r["login_dn_by_mail"], people_dn("alice"));
    assert_eq!(r["read_entryuuid"], alice["entryuuid"]);
    assert_eq!(r["read_memberof"], alice["memberof"]);
    assert_eq!(r["group_dn"], format!("cn=Staff,ou=groups,{BASE}"));
    assert_eq!(r["group_entryuuid"].as_str().unwrap().len(), 36);
    let mut members: Vec<String> = r["group_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    members.sort();
    assert_eq!(members, [people_dn("alice"), people_dn("carol")]);
    assert_eq!(r["groups"], serde_json::json!(["Staff"]));
    // Groups listed one to a page.
    assert_eq!(r["group_pages"], 2, "{r}");
    assert_eq!(r["password_ok"], true, "{r}");
    // A wrong password fails the second bind.
    let r = run("alice", WRONG);
    assert_eq!(r["password_ok"], false, "{r}");
    assert_eq!(r["password_error"], 49, "{r}");
    // An account made inactive no longer signs in (carol could before).
    let r = run("carol", PW);
    assert_eq!(r["password_ok"], true, "{r}");
    cli(d, &["user", "set", "carol", "--status", "inactive"], None);
    let r = run("carol", PW);
    assert_eq!(r["password_ok"], false, "{r}");
}

// ------------------------------------------------------------ python-ldap

/// The Debian python3 carries python3-ldap (the pyenv one may not).
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn python_ldap_bind_search_whoami_and_password_modify() {
    let w = world();
    let d = &w.daemon;
    let new_pw = "Battery8Staple";
    d.secret(new_pw);
    let block = w.readme("python-ldap");
    let run = |code: &str| -> Output {
        Command::new(python())
            .args(["-c", code])
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/dev/null")
            .output()
            .expect("python3 with python3-ldap")
    };
    let out = run(&block);
    assert!(
        out.status.success(),
        "the README's python-ldap block: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let printed = text(&out.stdout);
    let mut lines = printed.lines();
    assert_eq!(
        lines.next(),
        Some(format!("dn:uid=alice,ou=people,{BASE}").as_str())
    );
    let found: Vec<&str> = lines.collect();
    assert_eq!(found.len(), 2, "{printed}");
    assert!(
        found[0].starts_with(&format!("uid=alice,ou=people,{BASE} "))
            && found[0].contains("b'alice@example.com'"),
        "{printed}"
    );
    assert!(
        found[1].starts_with(&format!("uid=carol,ou=people,{BASE} ")),
        "{printed}"
    );
    // The new password binds, the old one no longer does; StartTLS too.
    let check = format!(
        "import ldap\n\
         ldap.set_option(ldap.OPT_X_TLS_CACERTFILE, {cert:?})\n\
         ldap.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)\n\
         c = ldap.initialize('ldap://localhost:{port}')\n\
         c.start_tls_s()\n\
         c.simple_bind_s('uid=alice,ou=people,{BASE}', {new_pw:?})\n\
         print(c.whoami_s())\n\
         try:\n    c.modify_s('uid=alice,ou=people,{BASE}', [(ldap.MOD_REPLACE, 'mail', [b'x@example.com'])])\n    print('modified')\n\
         except ldap.UNWILLING_TO_PERFORM:\n    print('write refused')\n\
         try:\n    c.simple_bind_s('alice', {PW:?})\n    print('old password bound')\n\
         except ldap.INVALID_CREDENTIALS:\n    print('old password refused')\n",
        cert = w.cert.to_str().unwrap(),
        port = d.ldap.unwrap().port(),
    );
    let out = run(&check);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        format!("dn:uid=alice,ou=people,{BASE}\nwrite refused\nold password refused\n")
    );
}
