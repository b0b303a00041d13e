//! SMS through an HTTP gateway: one POST of the rendered JSON body per
//! message, over a fresh HTTP/1.1 connection (TLS with the webpki roots for
//! https). A 2xx answer means delivered.

use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::SmsConfig;

/// Why an SMS was not sent. No variant carries the message text.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// `[sms] url` is unset.
    #[error("SMS is not configured: set [sms] url")]
    NotConfigured,
    #[error("[sms] url {0:?} is not usable: {1}")]
    BadUrl(String, String),
    #[error("[sms] auth_header is not a valid header value")]
    BadAuthHeader,
    #[error("cannot connect to the SMS gateway {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS with the SMS gateway {0} failed: {1}")]
    Tls(String, std::io::Error),
    #[error("HTTP with the SMS gateway failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("the request to the SMS gateway could not be built: {0}")]
    Request(#[from] hyper::http::Error),
    #[error("TLS for the SMS gateway could not be set up: {0}")]
    TlsSetup(String),
    /// The gateway answered, but not with a 2xx.
    #[error("the SMS gateway answered {0}")]
    Status(StatusCode),
}

impl SmsError {
    /// Whether another attempt could succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            SmsError::NotConfigured
                | SmsError::BadUrl(..)
                | SmsError::BadAuthHeader
                | SmsError::TlsSetup(_)
        )
    }
}

/// Sends SMS as `[sms]` says.
pub struct SmsSender {
    uri: Uri,
    /// host:port, for connecting and the error messages.
    authority: String,
    host: String,
    port: u16,
    tls: Option<TlsConnector>,
    template: SmsConfig,
    auth: Option<HeaderValue>,
}

impl SmsSender {
    /// The sender for `[sms]`, or `NotConfigured` without a URL.
    pub fn new(config: &SmsConfig) -> Result<SmsSender, SmsError> {
        let url = config.url.as_deref().ok_or(SmsError::NotConfigured)?;
        let bad = |why: &str| SmsError::BadUrl(url.to_string(), why.to_string());
        let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("it must start with http:// or https://")),
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("it has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_else(|| host.clone());
        let tls = if https { Some(tls_connector()?) } else { None };
        let auth = match &config.auth_header {
            Some(value) => {
                let mut value =
                    HeaderValue::from_str(value.expose()).map_err(|_| SmsError::BadAuthHeader)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(SmsSender {
            uri,
            authority,
            host,
            port,
            tls,
            template: config.clone(),
            auth,
        })
    }

    /// POSTs one message to the gateway.
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| SmsError::Connect(self.authority.clone(), e))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => self.post(tcp, to, text).await,
            Some(connector) => {
                let name =
                    rustls::pki_types::ServerName::try_from(self.host.clone()).map_err(|e| {
                        SmsError::BadUrl(self.uri.to_string(), format!("bad host name: {e}"))
                    })?;
                let stream = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SmsError::Tls(self.authority.clone(), e))?;
                self.post(stream, to, text).await
            }
        }
    }

    async fn post<S>(&self, stream: S, to: &str, text: &str) -> Result<(), SmsError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection is driven beside the request and ends with it.
        let driver = tokio::spawn(connection);
        let path = self
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(CONTENT_TYPE, "application/json");
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let body = self.template.render(to, text);
        let request = request.body(Full::new(Bytes::from(body)))?;
        let result = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            // Read the answer to its end (and drop it: a gateway may echo
            // the text back), so the connection closes cleanly.
            let _ = response.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(SmsError::Status(status))
            }
        }
        .await;
        driver.abort();
        result
    }
}

/// TLS for https gateways: rustls with ring and the webpki roots.
fn tls_connector() -> Result<TlsConnector, SmsError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SmsError::TlsSetup(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
