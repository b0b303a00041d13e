//! LDAP throughput of the real daemon over loopback:
//! `(uid=userNNNNN)` equality searches and simple binds over 10,000
//! accounts (1% with passwords, default argon2id parameters).
//!
//!     cargo bench --bench ldap                      # 10,000 accounts
//!     DIRGATE_BENCH_ACCOUNTS=100000 cargo bench --bench ldap
//!
//! The load itself is `dirgate::load` (also the `dirgate-load` tool; see
//! bench/compare.sh for the comparison with slapd). Each figure is the
//! median of three runs (these machines are shared and noisy); latency
//! percentiles are from the median run.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dirgate::config::Config;
use dirgate::load::{self, seed, Mode, Options, Report, Target};

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
    seed::seed_directory(&data, &Config::default(), accounts, false).unwrap();
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
    let run = |mode| {
        let mut opts = Options::new(Target::Ldap(addr), mode, accounts);
        opts.concurrency = concurrency;
        opts.duration = duration;
        let report = runtime.block_on(load::run(&opts)).unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        report
    };
    let searches = median_run(runs, || run(Mode::Search));
    let binds = median_run(runs, || run(Mode::Bind));
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
            name, r.ops_per_sec, r.p50_ms, r.p99_ms
        );
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

fn median_run(runs: usize, mut run: impl FnMut() -> Report) -> Report {
    let mut results: Vec<Report> = (0..runs).map(|_| run()).collect();
    results.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    results.swap_remove(runs / 2)
}
