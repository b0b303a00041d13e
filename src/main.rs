use std::process::ExitCode;

use clap::Parser as _;

use dirgate::cli::{self, Cli, Command};
use dirgate::config::{Config, LogFormat};

fn main() -> ExitCode {
    let args = Cli::parse();
    let mut config = match Config::load(args.global.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dirgate: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.global.log_json {
        config.log.format = LogFormat::Json;
    }
    init_logging(&config);
    let result = match args.command {
        Command::Serve => run_daemon(&args.global, config),
        command => cli::run(&args.global, &config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dirgate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_daemon(global: &cli::GlobalArgs, config: Config) -> Result<(), cli::CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| cli::CliError::Io {
            context: "cannot start the async runtime".into(),
            source,
        })?;
    runtime.block_on(dirgate::daemon::serve(&global.data, config))
}

fn init_logging(config: &Config) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;

    let level: tracing::Level = config
        .log
        .level
        .as_str()
        .parse()
        .unwrap_or(tracing::Level::INFO);
    // ldap3_proto logs its parser's errors with their Debug form, which can
    // carry the rest of the client's input: a bind password, say. The LDAP
    // face logs malformed messages itself, without their content.
    let targets = Targets::new()
        .with_default(LevelFilter::from_level(level))
        .with_target("ldap3_proto", LevelFilter::OFF);
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let installed = match config.log.format {
        LogFormat::Json => {
            tracing::subscriber::set_global_default(builder.json().finish().with(targets))
        }
        LogFormat::Text => tracing::subscriber::set_global_default(builder.finish().with(targets)),
    };
    if let Err(e) = installed {
        eprintln!("dirgate: logging could not be set up: {e}");
    }
}
