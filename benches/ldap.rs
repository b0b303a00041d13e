//! LDAP throughput of the real daemon over loopback:
//! `(uid=userNNNNN)` equality searches and simple binds over 10,000
//! accounts (1% with passwords, default argon2id parameters).
//!
//!     cargo bench --bench ldap                      # 10,000 accounts
//!     DIRGATE_BENCH_ACCOUNTS=100000 cargo bench --bench ldap
//!
//! Each figure is the median of three runs (these machines are shared and
//! noisy); latency percentiles are from the median run.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapFilter, LdapMsg, LdapOp, LdapResultCode,
    LdapSearchRequest, LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use dirgate::cli::open_directory;
use dirgate::config::Config;
use dirgate::core::{Actor, NewAccount};

const PASSWORD: &str = "Bench7Secret";
const RUNS: usize = 3;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small smoke run checks that the harness still works.
    let full = std::env::args().any(|a| a == "--bench");
    let accounts: usize = std::env::var("DIRGATE_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 10_000 } else { 200 });
    let seconds: u64 = std::env::var("DIRGATE_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 5 } else { 1 });
    let concurrency: usize = std::env::var("DIRGATE_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config_path = tmp.path().join("dirgate.toml");
    std::fs::write(
        &config_path,
        "[ldap]\nlisten = \"127.0.0.1:0\"\nldaps_listen = \"off\"\n[http]\nhttps_listen = \"off\"\n[log]\nlevel = \"warn\"\n",
    )
    .unwrap();

    let started = Instant::now();
    seed(&data, accounts);
    eprintln!(
        "seeded {accounts} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (mut child, addr) = start(&data, &config_path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);
    let runs = if full { RUNS } else { 1 };
    let run = |op| runtime.block_on(load(addr, concurrency, duration, op, accounts));
    let searches = median_run(runs, || run(Op::Search));
    let binds = median_run(runs, || run(Op::Bind));
    let _ = child.kill();
    let _ = child.wait();

    println!("accounts: {accounts}, connections: {concurrency}, {seconds} s per run, median of {runs} runs");
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "operation", "ops/s", "p50 ms", "p99 ms"
    );
    for (name, r) in [
        ("search (uid=userNNNNN)", searches),
        ("simple bind (argon2id)", binds),
    ] {
        println!(
            "{:<28} {:>10.0} {:>10.3} {:>10.3}",
            name,
            r.ops_per_sec,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
}

/// Accounts user00000..; every hundredth has a password.
fn seed(data: &std::path::Path, accounts: usize) {
    let config = Config::default();
    let dir = open_directory(data, &config).unwrap();
    dir.bootstrap().unwrap();
    let prepared = dir.prepare_password(PASSWORD).unwrap();
    for i in 0..accounts {
        let mut new = NewAccount::named(format!("user{i:05}"));
        new.given_name = format!("Given{i}");
        new.family_name = format!("Family{i}");
        new.email = Some(format!("user{i:05}@example.com"));
        if i % 100 == 0 {
            new.password = Some(prepared.clone());
        }
        dir.create_account(&Actor::System, new).unwrap();
    }
}

// The caller kills and waits for the child; the lint cannot see across the return.
#[allow(clippy::zombie_processes)]
fn start(data: &std::path::Path, config: &std::path::Path) -> (Child, SocketAddr) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_dirgate"))
        .args(["serve", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // With level = warn the listener lines are not logged: ask the OS.
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(addr) = listening_port(pid) {
            return (child, addr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dirgate did not start listening");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The loopback TCP port the process listens on, from /proc.
fn listening_port(pid: u32) -> Option<SocketAddr> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            l.to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_owned)
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // state 0A = LISTEN
        if f.get(3) == Some(&"0A") && inodes.iter().any(|i| Some(&i.as_str()) == f.get(9)) {
            let port = u16::from_str_radix(f[1].split(':').nth(1)?, 16).ok()?;
            Some(SocketAddr::from(([127, 0, 0, 1], port)))
        } else {
            None
        }
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Search,
    Bind,
}

#[derive(Clone, Copy)]
struct RunResult {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

fn median_run(runs: usize, mut run: impl FnMut() -> RunResult) -> RunResult {
    let mut results: Vec<RunResult> = (0..runs).map(|_| run()).collect();
    results.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    results[runs / 2]
}

async fn load(
    addr: SocketAddr,
    concurrency: usize,
    duration: Duration,
    op: Op,
    accounts: usize,
) -> RunResult {
    let deadline = Instant::now() + duration;
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut conn = Framed::new(stream, LdapCodec::default());
            let mut mine = Vec::new();
            let mut msgid = 1;
            // A cheap generator; a different sequence per worker.
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1);
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let t = Instant::now();
                match op {
                    Op::Search => {
                        let uid = format!("user{:05}", x as usize % accounts);
                        let n = search(&mut conn, msgid, &uid).await;
                        assert_eq!(n, 1, "{uid} not found");
                    }
                    Op::Bind => {
                        let i = (x as usize % (accounts / 100).max(1)) * 100;
                        let dn = format!("uid=user{i:05},ou=people,dc=example,dc=com");
                        let code = bind(&mut conn, msgid, &dn, PASSWORD).await;
                        assert_eq!(code, LdapResultCode::Success);
                    }
                }
                mine.push(t.elapsed());
                msgid += 1;
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let mut all = latencies.lock().unwrap().clone();
    all.sort();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    RunResult {
        ops_per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

async fn bind(
    conn: &mut Framed<TcpStream, LdapCodec>,
    msgid: i32,
    dn: &str,
    pw: &str,
) -> LdapResultCode {
    let req = LdapBindRequest {
        version: 3,
        dn: dn.to_owned(),
        cred: LdapBindCred::Simple(pw.to_owned()),
    };
    conn.send(LdapMsg::new(msgid, LdapOp::BindRequest(req)))
        .await
        .unwrap();
    match conn.next().await.unwrap().unwrap().op {
        LdapOp::BindResponse(r) => r.res.code,
        other => panic!("unexpected {other:?}"),
    }
}

/// One bind as the admin-less first account is not possible here, so the
/// searcher binds as a seeded account with a password first.
async fn search(conn: &mut Framed<TcpStream, LdapCodec>, msgid: i32, uid: &str) -> usize {
    if msgid == 1 {
        let code = bind(
            conn,
            0x7fff_0000,
            "uid=user00000,ou=people,dc=example,dc=com",
            PASSWORD,
        )
        .await;
        assert_eq!(code, LdapResultCode::Success);
    }
    let req = LdapSearchRequest {
        base: "dc=example,dc=com".into(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Equality("uid".into(), uid.into()),
        attrs: vec!["cn".into(), "mail".into()],
    };
    conn.send(LdapMsg::new(msgid, LdapOp::SearchRequest(req)))
        .await
        .unwrap();
    let mut entries = 0;
    loop {
        match conn.next().await.unwrap().unwrap().op {
            LdapOp::SearchResultEntry(_) => entries += 1,
            LdapOp::SearchResultDone(r) => {
                assert_eq!(r.code, LdapResultCode::Success, "{}", r.message);
                return entries;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
