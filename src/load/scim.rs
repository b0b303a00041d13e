//! The SCIM side of the load: HTTP/1.1 keep-alive connections (over TLS for
//! `https://`), one request at a time, with a bearer token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, CertificateDer as Cert, ServerName, UnixTime};
use rustls::{DigitallySignedStruct as Dss, SignatureScheme};
use tokio::net::TcpStream;

use super::seed::{self, GROUP_SIZE};
use super::{Mode, Options, Rng, Tally};

/// A SCIM base URL, taken apart.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub addr: SocketAddr,
    /// The path before `/Users`, without a trailing slash.
    pub prefix: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!(
                "{url}: expected ldap://host:port or a SCIM base URL (https://host:port/scim/v2)"
            ));
        };
        let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
        let hostport = if hostport
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            hostport.to_owned()
        } else {
            format!("{hostport}:{}", if tls { 443 } else { 80 })
        };
        let host = hostport.rsplit_once(':').map_or("", |(h, _)| h);
        Ok(Endpoint {
            tls,
            host: host.trim_matches(['[', ']']).to_owned(),
            addr: super::resolve(&hostport)?,
            prefix: format!("/{}", path.trim_end_matches('/')).replace("//", "/"),
        })
    }
}

/// Accepts any server certificate: for loopback tests against a
/// self-signed one (`--insecure`). Signatures are still checked.
type Signature = Result<HandshakeSignatureValid, rustls::Error>;

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, m: &[u8], c: &Cert<'_>, d: &Dss) -> Signature {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, m: &[u8], c: &Cert<'_>, d: &Dss) -> Signature {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector(insecure: bool) -> Result<tokio_rustls::TlsConnector, String> {
    if !insecure {
        return Err("https:// needs --insecure: the load tool carries no trusted roots".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// One keep-alive connection.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    authorization: Option<String>,
    host: String,
}

impl Client {
    async fn connect(endpoint: &Endpoint, opts: &Options) -> Result<Client, String> {
        let stream = TcpStream::connect(endpoint.addr)
            .await
            .map_err(|e| format!("{}: {e}", endpoint.addr))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let sender = if endpoint.tls {
            let name = ServerName::try_from(endpoint.host.clone()).map_err(|e| e.to_string())?;
            let tls = tls_connector(opts.insecure)?
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            handshake(TokioIo::new(tls)).await?
        } else {
            handshake(TokioIo::new(stream)).await?
        };
        Ok(Client {
            sender,
            authorization: opts.token.as_ref().map(|t| format!("Bearer {t}")),
            host: endpoint.host.clone(),
        })
    }

    /// Sends one request and reads the whole answer.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::ACCEPT, "application/scim+json");
        if let Some(a) = &self.authorization {
            req = req.header(hyper::header::AUTHORIZATION, a);
        }
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/scim+json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    /// The `id` of the one resource a filtered GET finds.
    async fn find_id(&mut self, path: &str) -> Result<String, String> {
        let (status, body) = self.send(Method::GET, path, None).await?;
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {status}: {e}"))?;
        doc["Resources"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("GET {path}: {status}: nothing found"))
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn eq_filter(attr: &str, value: &str) -> String {
    format!("filter={attr}%20eq%20%22{value}%22")
}

/// What the member PATCHes work on, looked up before the clock starts: for
/// each connection a group and an account that is not among its members.
pub(super) struct Plan {
    pairs: Vec<(String, String)>,
    /// Tells this run's created accounts apart from earlier runs'.
    run: String,
}

impl Plan {
    pub(super) async fn prepare(endpoint: &Endpoint, opts: &Options) -> Result<Plan, String> {
        let run = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        let mut pairs = Vec::new();
        if opts.mode == Mode::Patch {
            let mut client = Client::connect(endpoint, opts).await?;
            let groups = opts.accounts.div_ceil(GROUP_SIZE).max(1);
            let prefix = &endpoint.prefix;
            for w in 0..opts.concurrency {
                let g = w * groups / opts.concurrency;
                let user = (((g + 1) % groups) * GROUP_SIZE + w % GROUP_SIZE) % opts.accounts;
                let gpath = format!(
                    "{prefix}/Groups?{}",
                    eq_filter("displayName", &seed::group_name(g))
                );
                let upath = format!(
                    "{prefix}/Users?{}",
                    eq_filter("userName", &seed::user_name(user))
                );
                pairs.push((client.find_id(&gpath).await?, client.find_id(&upath).await?));
            }
        }
        Ok(Plan { pairs, run })
    }
}

/// Runs `opts.mode` on one connection until `deadline`.
pub(super) async fn worker(
    endpoint: &Endpoint,
    opts: &Options,
    plan: &Plan,
    worker: usize,
    deadline: Instant,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let mut client = Client::connect(endpoint, opts).await?;
    let prefix = &endpoint.prefix;
    let mut n = 0u64;
    while Instant::now() < deadline {
        let started = Instant::now();
        let (method, path, body, expect) = match opts.mode {
            Mode::Get => {
                let user = seed::user_name(rng.below(opts.accounts));
                let path = format!("{prefix}/Users?{}", eq_filter("userName", &user));
                (Method::GET, path, None, StatusCode::OK)
            }
            Mode::Create => {
                let name = format!("load{}w{worker}n{n}", plan.run);
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": name,
                    "name": {"givenName": "Load", "familyName": format!("Test{n}")},
                    "emails": [{"value": format!("{name}@example.com"), "primary": true}],
                });
                let path = format!("{prefix}/Users");
                (
                    Method::POST,
                    path,
                    Some(body.to_string()),
                    StatusCode::CREATED,
                )
            }
            Mode::Patch => {
                let (group, user) = &plan.pairs[worker % plan.pairs.len()];
                // Add on even turns, take away again on odd ones.
                let op = if n.is_multiple_of(2) {
                    serde_json::json!({"op": "add", "path": "members", "value": [{"value": user}]})
                } else {
                    serde_json::json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
                };
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [op],
                });
                let path = format!("{prefix}/Groups/{group}");
                (Method::PATCH, path, Some(body.to_string()), StatusCode::OK)
            }
            Mode::Search | Mode::Bind => unreachable!("LDAP modes do not reach SCIM"),
        };
        let (status, answer) = client.send(method.clone(), &path, body).await?;
        // 204 is also a success for a PATCH that returns nothing.
        let ok = status == expect || (opts.mode == Mode::Patch && status.is_success());
        let outcome = if ok {
            Ok(())
        } else {
            let text = String::from_utf8_lossy(&answer);
            Err(format!(
                "{method} {path}: {status}: {}",
                text.chars().take(200).collect::<String>()
            ))
        };
        tally.record(started, outcome);
        n += 1;
    }
    Ok(())
}
