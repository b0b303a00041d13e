//! Crash safety: the daemon killed with SIGKILL in the middle of a steady
//! stream of SCIM writes loses none that it answered 2xx, and the store
//! passes SQLite's integrity check afterwards.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{write_config, Daemon};

#[test]
fn sigkill_during_scim_writes_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    let mut d = Daemon::start_in(&data, &config);
    let out = d.command(&["token", "issue", "admin"], None);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let url = format!(
        "https://localhost:{}/scim/v2/Users",
        d.https.unwrap().port()
    );
    let cacert = data.join("tls").join("cert.pem");

    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut acknowledged = Vec::new();
        let mut i = 0;
        while !stopping.load(Ordering::SeqCst) {
            let name = format!("crash{i}");
            i += 1;
            let out = Command::new("curl")
                .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
                .arg(&cacert)
                .args(["-X", "POST", "-H", "Content-Type: application/scim+json"])
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .args(["--data", &format!("{{\"userName\": \"{name}\"}}")])
                .arg(&url)
                .output()
                .expect("curl");
            match String::from_utf8_lossy(&out.stdout).as_ref() {
                "201" => acknowledged.push(name),
                // The daemon is gone: the stream ends.
                _ => break,
            }
        }
        acknowledged
    });
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL: no chance to flush or close anything.
    let mut child = d.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    let acknowledged = writer.join().unwrap();
    assert!(
        acknowledged.len() >= 5,
        "only {} writes",
        acknowledged.len()
    );

    let conn = rusqlite::Connection::open(data.join("dirgate.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    let d = Daemon::start_in(&data, &config);
    for name in &acknowledged {
        let shown = d.command(&["user", "show", name], None);
        assert!(
            shown.status.success(),
            "{name} was answered 201 and is gone after the crash"
        );
    }
    eprintln!("{} acknowledged writes all present", acknowledged.len());
}
