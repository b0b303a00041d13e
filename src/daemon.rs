//! `dirgate serve`: opens the store, makes the first super admin on an empty
//! one, binds every configured listener, reports ready, and stops gracefully
//! on SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::cli::{open_directory, CliError};
use crate::config::Config;
use crate::core::audit::Face;
use crate::core::directory::BOOTSTRAP_ADMIN;
use crate::core::throttle::ThrottleSettings;
use crate::core::Service;
use crate::metrics::Metrics;
use crate::notify::{Notifier, Wake};
use crate::store::Outbox;
use crate::{http, ldap, tls};

/// How long open connections get to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(10);

/// Tells every listener and connection that the daemon is stopping.
pub type Shutdown = watch::Receiver<bool>;

/// An exclusive lock on `DATA/dirgate.lock`, held while a daemon serves
/// that folder (and while a restore replaces its store). The operating
/// system drops it when the process ends, however it ends.
pub struct DataLock {
    _file: std::fs::File,
}

impl DataLock {
    pub fn take(data: &Path) -> Result<DataLock, String> {
        crate::store::sqlite::files::private_folder(data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        let path = data.join("dirgate.lock");
        let file = std::fs::OpenOptions::new()
            .mode(0o600)
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(format!("{} is in use by a running dirgate", data.display()))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

pub async fn serve(data: &Path, config: Config) -> Result<(), CliError> {
    let _lock = DataLock::take(data).map_err(CliError::Usage)?;
    raise_open_files_limit(&config);
    let config = Arc::new(config);
    // Opening (checks, migrations), the first admin (argon2) and the
    // certificate (file writes) all block: one trip to a blocking thread.
    let (directory, bootstrap_password, material) = {
        let data = data.to_path_buf();
        let config = config.clone();
        tokio::task::spawn_blocking(move || -> Result<_, CliError> {
            let directory = open_directory(&data, &config)?;
            let password = directory.bootstrap()?;
            let numbered = directory.complete_posix()?;
            if numbered > 0 {
                tracing::info!(entries = numbered, "POSIX numbers given");
            }
            let material = tls::load_or_generate(&config.tls, &data)?;
            Ok((directory, password, material))
        })
        .await
        .map_err(|e| CliError::Usage(format!("starting failed: {e}")))??
    };
    if let Some(password) = bootstrap_password {
        // Printed once, on standard output, never logged.
        println!(
            "Created the super admin `{BOOTSTRAP_ADMIN}` with the password: {password}\n\
             It is shown only now. Change it with: dirgate user set-password {BOOTSTRAP_ADMIN} --password-stdin"
        );
    }
    let fingerprint = material.fingerprint_sha256();
    if material.generated {
        info!(
            cert = %material.cert_path.display(),
            sha256 = %fingerprint,
            "generated a self-signed certificate; configure [tls] cert_file and key_file to use your own"
        );
    } else {
        info!(cert = %material.cert_path.display(), sha256 = %fingerprint, "using TLS certificate");
    }
    // The notifier delivers what the core queues in the outbox; the core
    // wakes it after each message so codes go out at once, not at the next
    // poll. It stops with the listeners, finishing (within its time limit)
    // a send in progress.
    let wake = Wake::new();
    let mut directory = directory;
    let waker = wake.clone();
    directory.on_message_queued(Arc::new(move || waker.wake()));
    let outbox: Arc<dyn Outbox> = directory.shared_store();
    let store_threads = config.store.readers + 1;
    let p = &config.password;
    let service = Service::new(directory, store_threads, config.workers.password_threads())
        .with_throttle(ThrottleSettings {
            free_per_account: p.failures_free_per_account,
            free_per_address: p.failures_free_per_address,
            most_wait: Duration::from_millis(p.failure_wait_max_ms),
        });

    let (stop, shutdown) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let metrics = Metrics::new(Some(outbox.clone()));
    let notifier = Notifier::from_config(outbox, &config, wake)
        .map_err(|e| CliError::Usage(format!("cannot start the notifier: {e}")))?
        .with_metrics(metrics.clone());
    if !config.email_configured() {
        info!("email is not configured ([email] host): email codes and links cannot be sent");
    }
    if !config.sms_configured() {
        info!("SMS is not configured ([sms] url): SMS codes cannot be sent");
    }
    tasks.spawn(notifier.run(shutdown.clone()));

    let ldap_face = Arc::new(
        ldap::LdapFace::new(
            service.for_face(Face::Ldap),
            config.clone(),
            tls::ldap_server_config(&material)?,
            metrics.clone(),
        )
        .map_err(|e| CliError::Usage(format!("directory.base_dn: {e}")))?,
    );
    if let Some(addr) = config.ldap.listen.addr() {
        let listener = bind(addr).await?;
        info!(addr = %local(&listener), "ldap listening (StartTLS available)");
        tasks.spawn(ldap::listen(
            listener,
            ldap::Transport::Plain,
            ldap_face.clone(),
            shutdown.clone(),
        ));
    }
    if let Some(addr) = config.ldap.ldaps_listen.addr() {
        let listener = bind(addr).await?;
        info!(addr = %local(&listener), "ldaps listening");
        tasks.spawn(ldap::listen(
            listener,
            ldap::Transport::Ldaps,
            ldap_face.clone(),
            shutdown.clone(),
        ));
    }
    // Bound first: the links the pages send name the bound address.
    let https_listener = match config.http.https_listen.addr() {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let http_listener = match config.http.http_listen.addr() {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let public_url = crate::web::public_url(
        &config,
        https_listener.as_ref().and_then(|l| l.local_addr().ok()),
        http_listener.as_ref().and_then(|l| l.local_addr().ok()),
    );
    let http_face = Arc::new(http::HttpFace::new(
        service.for_face(Face::Scim),
        config.clone(),
        public_url,
        metrics,
    ));
    if let Some(listener) = https_listener {
        info!(addr = %local(&listener), "https listening (SCIM under /scim/v2)");
        let tls = tls::server_config(&material, &[b"http/1.1"])?;
        tasks.spawn(http::listen(
            listener,
            Some(tls),
            http_face.clone(),
            shutdown.clone(),
        ));
    }
    if let Some(listener) = http_listener {
        info!(addr = %local(&listener), "http listening (plain: put a TLS proxy in front)");
        tasks.spawn(http::listen(
            listener,
            None,
            http_face.clone(),
            shutdown.clone(),
        ));
    }
    info!("dirgate ready");

    wait_for_signal().await;
    info!(
        "stopping: no new connections; open ones get {}s to finish",
        GRACE.as_secs()
    );
    let _ = stop.send(true);
    if tokio::time::timeout(GRACE, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        warn!("connections still open after the grace period were cut");
    }
    info!("dirgate stopped");
    Ok(())
}

/// Descriptors kept aside from connections: the store, logs, the
/// certificate, the notifier's sockets, the password threads.
const SPARE_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard limit, so that `[ldap]`
/// and `[http] max_connections` are what bound connections rather than a
/// soft limit of 1,024; warns when even the hard limit is below what they
/// ask for.
fn raise_open_files_limit(config: &Config) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        warn!(error = %std::io::Error::last_os_error(), "cannot read the open files limit");
        return;
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        } else {
            warn!(error = %std::io::Error::last_os_error(), "cannot raise the open files limit");
        }
    }
    info!(
        from = before,
        to = limit.rlim_cur,
        "open files limit (soft) raised to the hard limit"
    );
    let needed = (config.ldap.max_connections as u64)
        .saturating_add(config.http.max_connections as u64)
        .saturating_add(SPARE_FILES);
    if limit.rlim_cur < needed {
        warn!(
            limit = limit.rlim_cur,
            needed,
            "the open files limit is below what [ldap] and [http] max_connections need; \
             raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower max_connections"
        );
    }
}

/// Connections the kernel completes before the daemon accepts them. The
/// default of 128 overflows when many clients connect at once (after a
/// restart, say), and each one dropped waits a second to try again.
const LISTEN_BACKLOG: u32 = 1024;

async fn bind(addr: SocketAddr) -> Result<TcpListener, CliError> {
    let error = |source| CliError::Io {
        context: format!("cannot listen on {addr}"),
        source,
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(error)?;
    // As std's TcpListener::bind does: a restart may rebind at once.
    socket.set_reuseaddr(true).map_err(error)?;
    socket.bind(addr).map_err(error)?;
    socket.listen(LISTEN_BACKLOG).map_err(error)
}

fn local(listener: &TcpListener) -> String {
    listener
        .local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => info!("SIGTERM received"),
                _ = int.recv() => info!("SIGINT received"),
            }
        }
        _ => {
            // Without signal handlers, Ctrl-C through tokio is the fallback.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
