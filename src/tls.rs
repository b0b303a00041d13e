//! TLS material: the certificate both faces present, and the rustls server
//! configurations built from it.
//!
//! With `[tls] cert_file` and `key_file` set, those PEM files are used as they
//! are. Without them, a self-signed certificate is generated once into
//! `DATA/tls/` and reused on every later start, so that clients that were
//! told to trust it keep trusting it. Nothing here logs or prints key
//! material, and error messages about key files never quote their content.

use std::fmt;
use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::config::TlsConfig;

/// The folder under the data folder that holds the generated certificate.
const TLS_FOLDER: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// How long a generated certificate is valid. Long, because nobody renews a
/// lab certificate, and clients pin it by trusting the file itself.
const VALIDITY_YEARS: i16 = 10;

/// A certificate chain and its private key, ready for a server config.
pub struct TlsMaterial {
    /// The chain, server certificate first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The server certificate's private key.
    pub key: PrivateKeyDer<'static>,
    /// Where the chain was read from (to tell people which file to trust).
    pub cert_path: PathBuf,
    /// Where the key was read from.
    pub key_path: PathBuf,
    /// True when this call generated a new self-signed certificate.
    pub generated: bool,
    /// True when this is the self-signed certificate of the data folder
    /// (generated now or on an earlier start), false for configured files.
    pub self_signed: bool,
}

impl TlsMaterial {
    /// The SHA-256 fingerprint of the server certificate, as
    /// `openssl x509 -noout -fingerprint -sha256` shows it (`AB:01:…`), so
    /// that people can check a self-signed certificate before trusting it.
    pub fn fingerprint_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let Some(leaf) = self.cert_chain.first() else {
            return String::new();
        };
        Sha256::digest(leaf.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

// By hand, so that the key can never reach a log through `{:?}`.
impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("certificates", &self.cert_chain.len())
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("generated", &self.generated)
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

/// Why the TLS material or configuration could not be made. Every message
/// names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert_file and tls.key_file must be set together, or neither")]
    Incomplete,
    #[error("certificate file {}: {reason}", path.display())]
    Certificate { path: PathBuf, reason: String },
    #[error("private key file {}: {reason}", path.display())]
    PrivateKey { path: PathBuf, reason: String },
    #[error(
        "private key file {} does not belong to the first certificate in {}",
        key_path.display(),
        cert_path.display()
    )]
    KeyMismatch {
        cert_path: PathBuf,
        key_path: PathBuf,
    },
    #[error("cannot generate a self-signed certificate: {reason}")]
    Generate { reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[source] rustls::Error),
}

/// The one crypto provider dirgate uses (ring: lighter to build than
/// aws-lc-rs, and enough for TLS 1.2 and 1.3).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Loads the configured certificate and key, or the self-signed pair of the
/// data folder, generating it first if it is not there yet.
pub fn load_or_generate(cfg: &TlsConfig, data_dir: &Path) -> Result<TlsMaterial, TlsError> {
    match (&cfg.cert_file, &cfg.key_file) {
        (Some(cert_path), Some(key_path)) => load(cert_path, key_path, false, false),
        (None, None) => {
            let folder = data_dir.join(TLS_FOLDER);
            let cert_path = folder.join(CERT_FILE);
            let key_path = folder.join(KEY_FILE);
            // Both must be there: a pair half written by an interrupted start
            // is replaced, never mixed with a new half.
            let generated = !(cert_path.is_file() && key_path.is_file());
            if generated {
                generate(&folder, &cert_path, &key_path)?;
            }
            load(&cert_path, &key_path, generated, true)
        }
        _ => Err(TlsError::Incomplete),
    }
}

/// Builds a rustls server configuration: TLS 1.3 and 1.2 only, no client
/// certificates, and the given ALPN protocols in order of preference.
pub fn server_config(
    material: &TlsMaterial,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(material.cert_chain.clone(), material.key.clone_key())
        .map_err(TlsError::Config)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The LDAP listener's configuration: as [`server_config`], but a client
/// may present a certificate, which then names its computer for the
/// "recognised computer" rule of two-factor binds.
pub fn ldap_server_config(material: &TlsMaterial) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let verifier = Arc::new(ComputerCertificates {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(material.cert_chain.clone(), material.key.clone_key())
        .map_err(TlsError::Config)?;
    Ok(Arc::new(config))
}

/// Accepts any client certificate, optionally offered, as the identity of
/// a computer: it authenticates nobody (the bind does that), so no chain
/// is checked. The handshake signature still is, so a client proves it
/// holds the certificate's key: a copied certificate is not enough to pass
/// as a recognised computer.
#[derive(Debug)]
struct ComputerCertificates {
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::server::danger::ClientCertVerifier for ComputerCertificates {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The SHA-256 of the certificate a TLS client presented, if any.
pub fn client_certificate_hash(connection: &rustls::ServerConnection) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let first = connection.peer_certificates()?.first()?;
    Some(Sha256::digest(first.as_ref()).into())
}

fn load(
    cert_path: &Path,
    key_path: &Path,
    generated: bool,
    self_signed: bool,
) -> Result<TlsMaterial, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: cert_path.to_path_buf(),
        reason,
    };
    let key_error = |reason: String| TlsError::PrivateKey {
        path: key_path.to_path_buf(),
        reason,
    };

    let cert_chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| cert_error(describe_pem_error(&e, "CERTIFICATE", false)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(describe_pem_error(&e, "CERTIFICATE", false)))?;
    if cert_chain.is_empty() {
        return Err(cert_error(describe_pem_error(
            &pem::Error::NoItemsFound,
            "CERTIFICATE",
            false,
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| key_error(describe_pem_error(&e, "PRIVATE KEY", true)))?;

    // Check here rather than in server_config, so that a wrong pair is
    // reported at start with both file names.
    let provider = provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| key_error(format!("not a usable key: {e}")))?;
    match CertifiedKey::new(cert_chain.clone(), signing_key).keys_match() {
        // Unknown: the key type cannot tell its public key; rustls accepts
        // that too.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(TlsError::KeyMismatch {
                cert_path: cert_path.to_path_buf(),
                key_path: key_path.to_path_buf(),
            })
        }
        Err(e) => {
            return Err(cert_error(format!(
                "the first certificate is not valid: {e}"
            )))
        }
    }

    Ok(TlsMaterial {
        cert_chain,
        key,
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
        generated,
        self_signed,
    })
}

/// Says what is wrong with a PEM file. For key files the parser's own detail
/// is left out where it could quote part of the file.
fn describe_pem_error(err: &pem::Error, wanted: &str, secret: bool) -> String {
    match err {
        pem::Error::Io(e) => format!("cannot read: {e}"),
        pem::Error::NoItemsFound if secret => "no private key found: expected a PEM block \
             \"BEGIN PRIVATE KEY\" (PKCS#8), \"BEGIN EC PRIVATE KEY\" (SEC1) or \
             \"BEGIN RSA PRIVATE KEY\" (PKCS#1)"
            .to_string(),
        pem::Error::NoItemsFound => format!("no \"BEGIN {wanted}\" PEM block found"),
        pem::Error::Base64Decode(_) if secret => "a PEM block is not valid base64".to_string(),
        pem::Error::IllegalSectionStart { .. } if secret => {
            "a \"-----BEGIN\" line is malformed".to_string()
        }
        other => format!("not valid PEM: {other}"),
    }
}

/// Makes a self-signed ECDSA P-256 certificate for this machine and writes
/// it, key first, each file replaced whole so that no reader sees half.
fn generate(folder: &Path, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    create_private_folder(folder)?;

    let generate_error = |reason: String| TlsError::Generate { reason };
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| generate_error(e.to_string()))?;

    let mut params = rcgen::CertificateParams::default();
    let host = host_name();
    let mut names = rcgen::DistinguishedName::new();
    names.push(
        rcgen::DnType::CommonName,
        format!("dirgate {}", host.as_deref().unwrap_or("localhost")),
    );
    names.push(rcgen::DnType::OrganizationName, "dirgate self-signed");
    params.distinguished_name = names;

    let mut sans = vec![
        rcgen::SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|e: rcgen::Error| generate_error(e.to_string()))?,
        ),
        rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        rcgen::SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    if let Some(host) = host {
        let name = host
            .try_into()
            .map_err(|e: rcgen::Error| generate_error(e.to_string()))?;
        sans.push(rcgen::SanType::DnsName(name));
    }
    params.subject_alt_names = sans;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.is_ca = rcgen::IsCa::NoCa;

    // From yesterday, so a client whose clock is a little behind accepts it.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let start = today
        .yesterday()
        .map_err(|e| generate_error(e.to_string()))?;
    let end = today
        .checked_add(jiff::Span::new().years(VALIDITY_YEARS))
        .map_err(|e| generate_error(e.to_string()))?;
    params.not_before = rcgen::date_time_ymd(
        start.year().into(),
        start.month().unsigned_abs(),
        start.day().unsigned_abs(),
    );
    params.not_after = rcgen::date_time_ymd(
        end.year().into(),
        end.month().unsigned_abs(),
        end.day().unsigned_abs(),
    );

    // A random serial: browsers refuse two certificates from the same
    // issuer name with the same serial, which regenerating could produce.
    let mut serial = *uuid::Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f; // a positive DER integer
    serial[0] |= 0x01; // and never a zero or shortened one
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));

    let cert = params
        .self_signed(&key_pair)
        .map_err(|e| generate_error(e.to_string()))?;

    write_file(key_path, key_pair.serialize_pem().as_bytes(), 0o600)?;
    write_file(cert_path, cert.pem().as_bytes(), 0o644)?;
    Ok(())
}

/// This machine's host name, when it is a valid DNS name other than
/// localhost (so that clients on the LAN can connect by name).
fn host_name() -> Option<String> {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name != "localhost"
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then_some(name)
}

/// Creates the tls folder readable by the owner only: the key is in it.
fn create_private_folder(folder: &Path) -> Result<(), TlsError> {
    let write_error = |source| TlsError::Write {
        path: folder.to_path_buf(),
        source,
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(folder).map_err(write_error)?;
        // The folder may have existed with a wider mode.
        fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).map_err(write_error)?;
    }
    #[cfg(not(unix))]
    builder.create(folder).map_err(write_error)?;
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` created with `mode`,
/// then renames it over `path`, so the file is never seen half written or
/// with a wider mode.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let write_error = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(".tmp");
    let temp = PathBuf::from(temp_name);
    // A leftover from an interrupted start could have another mode, and
    // the mode below applies only to a file being created.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(write_error(e)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temp).map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    drop(file);
    fs::rename(&temp, path).map_err(write_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn generated_in(dir: &Path) -> TlsMaterial {
        load_or_generate(&TlsConfig::default(), dir).expect("generates")
    }

    fn client_config(
        material: &TlsMaterial,
        versions: &[&'static rustls::SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(material.cert_chain[0].clone())
            .expect("trust anchor");
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// Runs one handshake over an in-memory pipe, exchanges a line, and
    /// returns the version and ALPN protocol the client saw.
    async fn handshake(
        server: Arc<rustls::ServerConfig>,
        client: Arc<rustls::ClientConfig>,
        name: &str,
    ) -> Result<(rustls::ProtocolVersion, Option<Vec<u8>>), std::io::Error> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let server_task = tokio::spawn(async move {
            let mut stream = acceptor.accept(server_io).await?;
            let mut buf = [0u8; 5];
            stream.read_exact(&mut buf).await?;
            stream.write_all(&buf).await?;
            stream.shutdown().await?;
            Ok::<_, std::io::Error>(())
        });
        let connector = tokio_rustls::TlsConnector::from(client);
        let server_name = ServerName::try_from(name.to_string()).expect("server name");
        let mut stream = connector.connect(server_name, client_io).await?;
        stream.write_all(b"hello").await?;
        let mut echo = [0u8; 5];
        stream.read_exact(&mut echo).await?;
        assert_eq!(&echo, b"hello");
        server_task.await.expect("server task")?;
        let (_, connection) = stream.get_ref();
        let version = connection.protocol_version().expect("negotiated");
        Ok((version, connection.alpn_protocol().map(|p| p.to_vec())))
    }

    #[test]
    fn generates_once_and_reuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = generated_in(dir.path());
        assert!(first.generated);
        assert!(first.self_signed);
        assert_eq!(first.cert_path, dir.path().join("tls/cert.pem"));
        assert_eq!(first.key_path, dir.path().join("tls/key.pem"));
        assert_eq!(first.cert_chain.len(), 1);
        let cert_bytes = fs::read(&first.cert_path).expect("cert");
        let key_bytes = fs::read(&first.key_path).expect("key");

        let second = generated_in(dir.path());
        assert!(!second.generated);
        assert!(second.self_signed);
        assert_eq!(fs::read(&second.cert_path).expect("cert"), cert_bytes);
        assert_eq!(fs::read(&second.key_path).expect("key"), key_bytes);
        assert_eq!(second.cert_chain, first.cert_chain);

        server_config(&second, &[b"h2", b"http/1.1"]).expect("server config builds");

        let fingerprint = second.fingerprint_sha256();
        assert_eq!(fingerprint, first.fingerprint_sha256());
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(fingerprint
            .split(':')
            .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit())));
    }

    #[cfg(unix)]
    #[test]
    fn generated_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let material = generated_in(dir.path());
        let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&material.key_path), 0o600);
        assert_eq!(mode(&dir.path().join("tls")), 0o700);
        assert_eq!(mode(&material.cert_path), 0o644);
        assert!(!dir.path().join("tls/key.pem.tmp").exists());
    }

    #[test]
    fn half_a_pair_is_regenerated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = generated_in(dir.path());
        fs::remove_file(&first.cert_path).expect("remove cert");
        let second = generated_in(dir.path());
        assert!(second.generated);
        assert_ne!(second.cert_chain, first.cert_chain);
        server_config(&second, &[]).expect("the new pair matches");
    }

    #[test]
    fn debug_output_has_no_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let material = generated_in(dir.path());
        let shown = format!("{material:?}");
        assert!(shown.contains("cert_path"));
        assert!(!shown.contains("key:"), "{shown}");
    }

    #[test]
    fn configured_files_are_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = generated_in(dir.path());
        let cfg = TlsConfig {
            cert_file: Some(made.cert_path.clone()),
            key_file: Some(made.key_path.clone()),
        };
        let other = tempfile::tempdir().expect("tempdir");
        let loaded = load_or_generate(&cfg, other.path()).expect("loads");
        assert!(!loaded.generated);
        assert!(!loaded.self_signed);
        assert_eq!(loaded.cert_chain, made.cert_chain);
        // Nothing is generated when files are configured.
        assert!(!other.path().join("tls").exists());
    }

    #[test]
    fn half_a_configuration_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = TlsConfig {
            cert_file: Some(dir.path().join("cert.pem")),
            key_file: None,
        };
        assert!(matches!(
            load_or_generate(&cfg, dir.path()),
            Err(TlsError::Incomplete)
        ));
    }

    #[test]
    fn bad_pem_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = generated_in(dir.path());
        let bad = dir.path().join("garbage.pem");
        fs::write(&bad, "this is not a certificate\n").expect("write");

        let cfg = TlsConfig {
            cert_file: Some(bad.clone()),
            key_file: Some(made.key_path.clone()),
        };
        let err = load_or_generate(&cfg, dir.path()).expect_err("bad cert");
        let msg = err.to_string();
        assert!(matches!(err, TlsError::Certificate { .. }), "{msg}");
        assert!(msg.contains("garbage.pem"), "{msg}");
        assert!(msg.contains("CERTIFICATE"), "{msg}");

        let cfg = TlsConfig {
            cert_file: Some(made.cert_path.clone()),
            key_file: Some(bad.clone()),
        };
        let err = load_or_generate(&cfg, dir.path()).expect_err("bad key");
        let msg = err.to_string();
        assert!(matches!(err, TlsError::PrivateKey { .. }), "{msg}");
        assert!(msg.contains("garbage.pem"), "{msg}");

        // A broken base64 body inside a well-formed block.
        let broken = dir.path().join("broken.pem");
        fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let cfg = TlsConfig {
            cert_file: Some(broken),
            key_file: Some(made.key_path.clone()),
        };
        let msg = load_or_generate(&cfg, dir.path())
            .expect_err("broken cert")
            .to_string();
        assert!(msg.contains("broken.pem"), "{msg}");

        let cfg = TlsConfig {
            cert_file: Some(dir.path().join("missing.pem")),
            key_file: Some(made.key_path.clone()),
        };
        let msg = load_or_generate(&cfg, dir.path())
            .expect_err("missing cert")
            .to_string();
        assert!(msg.contains("missing.pem"), "{msg}");
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        let one = tempfile::tempdir().expect("tempdir");
        let two = tempfile::tempdir().expect("tempdir");
        let a = generated_in(one.path());
        let b = generated_in(two.path());
        let cfg = TlsConfig {
            cert_file: Some(a.cert_path.clone()),
            key_file: Some(b.key_path.clone()),
        };
        let err = load_or_generate(&cfg, one.path()).expect_err("mismatch");
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&b.key_path.display().to_string()));
    }

    #[tokio::test]
    async fn handshake_with_the_generated_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let material = generated_in(dir.path());
        let server = server_config(&material, &[b"ldap"]).expect("server config");
        let client = client_config(&material, rustls::DEFAULT_VERSIONS, &[b"ldap"]);
        let (version, alpn) = handshake(server, client, "localhost")
            .await
            .expect("handshake");
        assert!(matches!(
            version,
            rustls::ProtocolVersion::TLSv1_3 | rustls::ProtocolVersion::TLSv1_2
        ));
        assert_eq!(alpn.as_deref(), Some(&b"ldap"[..]));
    }

    #[tokio::test]
    async fn handshake_by_address_and_over_tls12() {
        let dir = tempfile::tempdir().expect("tempdir");
        let material = generated_in(dir.path());
        let server = server_config(&material, &[]).expect("server config");
        for name in ["127.0.0.1", "::1"] {
            let client = client_config(&material, &[&rustls::version::TLS12], &[]);
            let (version, _) = handshake(server.clone(), client, name)
                .await
                .expect("handshake");
            assert_eq!(version, rustls::ProtocolVersion::TLSv1_2);
        }
    }

    #[tokio::test]
    async fn handshake_for_another_name_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let material = generated_in(dir.path());
        let server = server_config(&material, &[]).expect("server config");
        let client = client_config(&material, rustls::DEFAULT_VERSIONS, &[]);
        assert!(handshake(server, client, "example.com").await.is_err());
    }
}
