//! `dirgate-load`: the benchmark data set and the load tool (issue 6).
//!
//!     dirgate-load seed --data DIR --accounts 10000 --ldif data.ldif --token-file token
//!     dirgate-load run ldap://127.0.0.1:3389 --mode search,bind --seconds 10
//!     dirgate-load run https://127.0.0.1:8443/scim/v2 --insecure --token-file token --mode get
//!
//! `run` works against any LDAP server or SCIM service holding the data set
//! `seed` writes (accounts `user00000`.., every hundredth with the password
//! `Bench7Secret`, groups `group0000`.. of 50).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use dirgate::config::Config;
use dirgate::load::{self, seed, Mode, Options, Report, Target};

#[derive(Debug, Parser)]
#[command(
    name = "dirgate-load",
    version,
    about = "Benchmark data and load for LDAP and SCIM servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the data set into a dirgate data folder and, optionally, as LDIF.
    Seed {
        /// The dirgate data folder to create the accounts in (created when
        /// missing; bootstrapped with the super admin `admin`).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// dirgate's configuration (argon2 parameters, base DN, store).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Accounts, in groups of 50; one in a hundred has a password.
        #[arg(long, default_value_t = 10_000)]
        accounts: usize,
        /// Also write the data set as LDIF for slapadd.
        #[arg(long, value_name = "FILE")]
        ldif: Option<PathBuf>,
        /// Also write `DN<TAB>PASSWORD` lines for ldclt's randombinddnfromfile.
        #[arg(long, value_name = "FILE")]
        bind_file: Option<PathBuf>,
        /// Issue a SCIM bearer token for `admin` into this file (needs --data).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Load a server for a fixed time and print operations/s and latencies.
    Run {
        /// ldap://HOST:PORT for search and bind; a SCIM base URL
        /// (https://HOST:PORT/scim/v2) for get, create and patch.
        url: String,
        /// What each request does; several (comma-separated) run in turn.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "search")]
        mode: Vec<Mode>,
        /// Seconds each mode runs.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Connections, each with one request outstanding.
        #[arg(long, short = 'c', default_value_t = 8)]
        concurrency: usize,
        /// Accounts in the data set.
        #[arg(long, default_value_t = 10_000)]
        accounts: usize,
        /// The password of the accounts that have one.
        #[arg(long, default_value = seed::PASSWORD)]
        password: String,
        /// The DN search connections bind as first (default: user00000).
        #[arg(long, value_name = "DN")]
        bind_dn: Option<String>,
        /// Search without binding first.
        #[arg(long, conflicts_with = "bind_dn")]
        anonymous: bool,
        /// The SCIM bearer token.
        #[arg(long, env = "DIRGATE_LOAD_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Read the SCIM bearer token from this file.
        #[arg(long, value_name = "FILE", conflicts_with = "token")]
        token_file: Option<PathBuf>,
        /// Accept any TLS certificate (loopback tests, self-signed).
        #[arg(long)]
        insecure: bool,
        /// Print one JSON object per mode (a JSON array) rather than a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dirgate-load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Seed {
            data,
            config,
            accounts,
            ldif,
            bind_file,
            token_file,
        } => {
            let config = Config::load(config.as_deref()).map_err(|e| e.to_string())?;
            let started = Instant::now();
            if let Some(out) = &ldif {
                seed::write_ldif(out, &config, accounts).map_err(|e| e.to_string())?;
            }
            if let Some(out) = &bind_file {
                seed::write_bind_file(out, accounts).map_err(|e| e.to_string())?;
            }
            if token_file.is_some() && data.is_none() {
                return Err("--token-file needs --data".into());
            }
            if let Some(data) = &data {
                let token = seed::seed_directory(data, &config, accounts, token_file.is_some())
                    .map_err(|e| e.to_string())?;
                if let (Some(path), Some(token)) = (&token_file, token) {
                    std::fs::write(path, format!("{token}\n"))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
            }
            eprintln!(
                "seeded {accounts} accounts in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Run {
            url,
            mode,
            seconds,
            concurrency,
            accounts,
            password,
            bind_dn,
            anonymous,
            token,
            token_file,
            insecure,
            json,
        } => {
            if accounts == 0 || concurrency == 0 || seconds <= 0.0 {
                return Err("--accounts, --concurrency and --seconds must be above 0".into());
            }
            let token = match token_file {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?
                        .trim()
                        .to_owned(),
                ),
                None => token,
            };
            let target = Target::parse(&url)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let mut reports = Vec::new();
            if !json {
                Report::print_header();
            }
            for mode in mode {
                let mut opts = Options::new(target.clone(), mode, accounts);
                opts.concurrency = concurrency;
                opts.duration = Duration::from_secs_f64(seconds);
                opts.password = password.clone();
                if anonymous {
                    opts.search_bind_dn = None;
                } else if let Some(dn) = &bind_dn {
                    opts.search_bind_dn = Some(dn.clone());
                }
                opts.token = token.clone();
                opts.insecure = insecure;
                let report = runtime.block_on(load::run(&opts))?;
                if !json {
                    report.print_row();
                }
                reports.push(report);
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?
                );
            }
            Ok(())
        }
    }
}
