//! The load tool behind `dirgate-load` and `cargo bench --bench ldap`: a
//! fixed number of connections, each sending one request at a time for a
//! fixed duration, against any LDAP server (`ldap://host:port`) or SCIM
//! service (`https://host:port/scim/v2`), dirgate or not. The data set it
//! expects is the one `seed` writes.

pub mod ldap;
pub mod scim;
pub mod seed;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What each request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// LDAP `(uid=userNNNNN)` searches on random accounts, on connections
    /// bound once as an account with a password.
    Search,
    /// LDAP simple binds on random accounts that have a password.
    Bind,
    /// SCIM `GET /Users?filter=userName eq "userNNNNN"` on random accounts.
    Get,
    /// SCIM `POST /Users` of new accounts without a password.
    Create,
    /// SCIM `PATCH /Groups/{id}` adding, then removing, one member.
    Patch,
}

impl Mode {
    pub fn is_ldap(self) -> bool {
        matches!(self, Mode::Search | Mode::Bind)
    }
}

/// Where the load goes.
#[derive(Debug, Clone)]
pub enum Target {
    Ldap(SocketAddr),
    Scim(scim::Endpoint),
}

impl Target {
    /// `ldap://host:port`, or a SCIM base URL (`https://host:port/scim/v2`,
    /// or `http://` behind a proxy).
    pub fn parse(url: &str) -> Result<Target, String> {
        if let Some(rest) = url.strip_prefix("ldap://") {
            let hostport = rest.trim_end_matches('/');
            let hostport = if hostport.contains(':') {
                hostport.to_owned()
            } else {
                format!("{hostport}:389")
            };
            return resolve(&hostport).map(Target::Ldap);
        }
        scim::Endpoint::parse(url).map(Target::Scim)
    }
}

fn resolve(hostport: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    hostport
        .to_socket_addrs()
        .map_err(|e| format!("{hostport}: {e}"))?
        .next()
        .ok_or_else(|| format!("{hostport}: no address"))
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub mode: Mode,
    pub concurrency: usize,
    pub duration: Duration,
    /// Accounts in the data set (`user00000` up to this).
    pub accounts: usize,
    /// The password of the accounts that have one.
    pub password: String,
    /// The DN search connections bind as first (None: stay anonymous).
    pub search_bind_dn: Option<String>,
    /// The SCIM bearer token.
    pub token: Option<String>,
    /// Accept any TLS certificate (loopback tests with a self-signed one).
    pub insecure: bool,
}

impl Options {
    pub fn new(target: Target, mode: Mode, accounts: usize) -> Options {
        Options {
            target,
            mode,
            concurrency: 8,
            duration: Duration::from_secs(5),
            accounts,
            password: seed::PASSWORD.to_owned(),
            search_bind_dn: Some(seed::person_dn(0)),
            token: None,
            insecure: false,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    pub concurrency: usize,
    pub seconds: f64,
    /// Operations that succeeded.
    pub operations: u64,
    /// Operations answered with an error (not counted in the rate).
    pub errors: u64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first error seen, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl Report {
    pub fn print_header() {
        println!(
            "{:<8} {:>5} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9}",
            "mode", "conns", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms"
        );
    }

    pub fn print_row(&self) {
        println!(
            "{:<8} {:>5} {:>10} {:>8} {:>10.0} {:>9.3} {:>9.3} {:>9.3}",
            format!("{:?}", self.mode).to_lowercase(),
            self.concurrency,
            self.operations,
            self.errors,
            self.ops_per_sec,
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        );
        if let Some(e) = &self.first_error {
            println!("first error: {e}");
        }
    }
}

/// What one connection measured.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, started: Instant, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.latencies.push(started.elapsed()),
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }
}

/// A cheap per-connection random sequence (xorshift64).
struct Rng(u64);

impl Rng {
    fn new(worker: usize) -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(worker as u64 * 2 + 1) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % n.max(1) as u64) as usize
    }
}

/// Runs the load and measures it. Connection and set-up failures are
/// errors; failed operations are counted in the report.
pub async fn run(opts: &Options) -> Result<Report, String> {
    match (&opts.target, opts.mode.is_ldap()) {
        (Target::Ldap(_), false) => return Err(format!("{:?} needs a SCIM base URL", opts.mode)),
        (Target::Scim(_), true) => return Err(format!("{:?} needs an ldap:// URL", opts.mode)),
        _ => {}
    }
    let opts = Arc::new(opts.clone());
    let plan = match &opts.target {
        Target::Scim(endpoint) => Some(Arc::new(scim::Plan::prepare(endpoint, &opts).await?)),
        Target::Ldap(_) => None,
    };
    let deadline = Instant::now() + opts.duration;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..opts.concurrency {
        let opts = opts.clone();
        let plan = plan.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut rng = Rng::new(worker);
            let outcome = match (&opts.target, plan) {
                (Target::Ldap(addr), _) => {
                    ldap::worker(*addr, &opts, deadline, &mut rng, &mut tally).await
                }
                (Target::Scim(endpoint), Some(plan)) => {
                    scim::worker(
                        endpoint, &opts, &plan, worker, deadline, &mut rng, &mut tally,
                    )
                    .await
                }
                (Target::Scim(_), None) => unreachable!("a SCIM run is planned"),
            };
            outcome.map(|()| tally)
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await.map_err(|e| e.to_string())??;
        all.latencies.extend(tally.latencies);
        all.errors += tally.errors;
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    all.latencies.sort_unstable();
    let ms = |q: f64| {
        let l = &all.latencies;
        l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok(Report {
        mode: opts.mode,
        concurrency: opts.concurrency,
        seconds,
        operations: all.latencies.len() as u64,
        errors: all.errors,
        ops_per_sec: all.latencies.len() as f64 / seconds,
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
        max_ms: ms(1.0),
        first_error: all.first_error,
    })
}
