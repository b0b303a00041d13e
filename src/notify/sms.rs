//! SMS through an HTTP gateway: one POST per message (a JSON body from the
//! template, or form fields), over a fresh HTTP/1.1 connection (TLS with
//! the webpki roots for https), with basic authentication or a configured
//! Authorization header. What the gateway answers decides the outcome:
//! see [`judge`].

use std::sync::Arc;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::{SecretFileError, SmsConfig, SmsFormat, SmsProvider};
use crate::core::second_factor::masked;
use crate::model::Channel;

/// The most of a gateway's answer that is read.
const ANSWER_LIMIT: usize = 64 * 1024;
/// The most of a provider's reason kept in the outbox.
const REASON_LIMIT: usize = 200;

/// Why an SMS was not sent. No variant carries the message text, the code
/// in it or the full recipient.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// Neither `[sms] url` nor a provider with a known URL.
    #[error("SMS is not configured: set [sms] url")]
    NotConfigured,
    #[error("[sms] url {0:?} is not usable: {1}")]
    BadUrl(String, String),
    #[error("[sms] auth_header or the basic authentication is not a valid header value")]
    BadAuthHeader,
    #[error("[sms] password_file: {0}")]
    PasswordFile(#[from] SecretFileError),
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
    /// The gateway could not take the message now (5xx, 408, 429): worth
    /// another try.
    #[error("the SMS gateway answered {0}")]
    Status(StatusCode),
    /// The provider refused the message (a 4xx, or an accepted answer that
    /// says it failed): another try would be refused the same way.
    #[error("the SMS provider refused the message ({status}{}): {reason}", code_part(.code))]
    Refused {
        status: u16,
        /// The provider's error code (Twilio's `code`), when it gave one.
        code: Option<String>,
        /// The provider's words, with the recipient masked and the text
        /// and any code from it removed.
        reason: String,
    },
}

fn code_part(code: &Option<String>) -> String {
    code.as_ref()
        .map(|c| format!(", code {c}"))
        .unwrap_or_default()
}

impl SmsError {
    /// Whether another attempt cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            SmsError::NotConfigured
                | SmsError::BadUrl(..)
                | SmsError::BadAuthHeader
                | SmsError::PasswordFile(_)
                | SmsError::TlsSetup(_)
                | SmsError::Refused { .. }
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
    config: SmsConfig,
    format: SmsFormat,
    auth: Option<HeaderValue>,
}

impl SmsSender {
    /// The sender for `[sms]`, or `NotConfigured` without a URL. Reads
    /// `password_file` now, so a missing credential stops the start.
    pub fn new(config: &SmsConfig) -> Result<SmsSender, SmsError> {
        let url = config.endpoint().ok_or(SmsError::NotConfigured)?;
        let bad = |why: &str| SmsError::BadUrl(url.clone(), why.to_string());
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
        let auth = match (&config.auth_header, &config.username) {
            (Some(value), _) => Some(value.expose().to_string()),
            (None, Some(user)) => {
                let password = config.password()?.ok_or(SmsError::BadAuthHeader)?;
                let pair = format!("{user}:{}", password.expose());
                Some(format!(
                    "Basic {}",
                    data_encoding::BASE64.encode(pair.as_bytes())
                ))
            }
            (None, None) => None,
        };
        let auth = match auth {
            Some(value) => {
                let mut value =
                    HeaderValue::from_str(&value).map_err(|_| SmsError::BadAuthHeader)?;
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
            format: config.body_format(),
            config: config.clone(),
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
        let (content_type, body) = match self.format {
            SmsFormat::Json => ("application/json", self.config.render(to, text)),
            SmsFormat::Form => (
                "application/x-www-form-urlencoded",
                self.config.render_form(to, text),
            ),
        };
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(CONTENT_TYPE, content_type);
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let result = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            // Read the answer to its end (or to the limit), so the
            // connection closes cleanly and the provider's reason is known.
            let answer = Limited::new(response.into_body(), ANSWER_LIMIT)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            judge(self.config.provider, status, &answer, to, text)
        }
        .await;
        driver.abort();
        result
    }
}

/// What the gateway's answer means. A 2xx is accepted, unless Twilio's
/// answer says the message failed (`error_code`, or `status` "failed" or
/// "undelivered"). A 408, 429 or 5xx is worth another try. Any other answer
/// is a refusal, with the provider's code and reason read from its JSON
/// body (`code`/`error_code`, and `message`, `detail`, `error_text`,
/// `error` or `title`) or, failing that, the first line of its text; the
/// reason never holds `text` (or a code in it) or the full `to`.
pub fn judge(
    provider: SmsProvider,
    status: StatusCode,
    answer: &[u8],
    to: &str,
    text: &str,
) -> Result<(), SmsError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(answer).ok();
    if status.is_success() {
        if provider != SmsProvider::Twilio {
            return Ok(());
        }
        let Some(json) = json else {
            return Ok(());
        };
        let failed = matches!(
            json.get("status").and_then(|s| s.as_str()),
            Some("failed" | "undelivered")
        );
        let code = code_of(&json);
        if !failed && code.is_none() {
            return Ok(());
        }
        return Err(SmsError::Refused {
            status: status.as_u16(),
            code,
            reason: clean(
                &reason_of(&json)
                    .or_else(|| {
                        json.get("status")
                            .and_then(|s| s.as_str())
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| "the message failed".to_string()),
                to,
                text,
            ),
        });
    }
    if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        return Err(SmsError::Status(status));
    }
    let (code, reason) = match &json {
        Some(json) => (code_of(json), reason_of(json)),
        None => (None, None),
    };
    let reason = reason.unwrap_or_else(|| {
        String::from_utf8_lossy(answer)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string()
    });
    let reason = match reason.is_empty() {
        true => status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_string(),
        false => reason,
    };
    Err(SmsError::Refused {
        status: status.as_u16(),
        code,
        reason: clean(&reason, to, text),
    })
}

/// The provider's error code: a number or a short word.
fn code_of(json: &serde_json::Value) -> Option<String> {
    ["code", "error_code", "errorCode"].iter().find_map(|key| {
        let value = json.get(key)?;
        let code = match value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return None,
        };
        let short = !code.is_empty()
            && code.len() <= 32
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        short.then_some(code)
    })
}

/// The provider's words about what went wrong.
fn reason_of(json: &serde_json::Value) -> Option<String> {
    for key in [
        "message",
        "detail",
        "error_text",
        "error_message",
        "error",
        "title",
    ] {
        match json.get(key) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => return Some(s.clone()),
            Some(serde_json::Value::Object(inner)) => {
                if let Some(serde_json::Value::String(s)) = inner.get("message") {
                    return Some(s.clone());
                }
            }
            _ => {}
        }
    }
    None
}

/// A provider's reason fit for the outbox and the log: the text and every
/// run of four or more digits from it (the code) removed, the recipient
/// masked, on one line, at most [`REASON_LIMIT`] characters.
fn clean(reason: &str, to: &str, text: &str) -> String {
    let mut out = reason.to_string();
    if !text.is_empty() {
        out = out.replace(text, "[the message]");
    }
    let to_digits: String = to.chars().filter(char::is_ascii_digit).collect();
    let shown = masked(Channel::Sms, to);
    for form in [to.to_string(), format!("+{to_digits}"), to_digits.clone()] {
        if form.len() > 1 {
            out = out.replace(&form, &shown);
        }
    }
    for run in text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 4)
    {
        out = out.replace(run, &"*".repeat(run.len()));
    }
    let one_line: String = out
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    match one_line.char_indices().nth(REASON_LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
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

#[cfg(test)]
mod tests {
    use super::*;

    const TO: &str = "+15005550001";
    const TEXT: &str = "Your dirgate code is 482913.";

    fn refused(result: Result<(), SmsError>) -> (u16, Option<String>, String) {
        match result {
            Err(SmsError::Refused {
                status,
                code,
                reason,
            }) => (status, code, reason),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn a_twilio_refusal_keeps_its_code_and_masks_the_number() {
        let body = br#"{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
        let (status, code, reason) = refused(judge(
            SmsProvider::Twilio,
            StatusCode::BAD_REQUEST,
            body,
            TO,
            TEXT,
        ));
        assert_eq!(status, 400);
        assert_eq!(code.as_deref(), Some("21211"));
        assert_eq!(
            reason,
            "The 'To' number +1 *** *** 001 is not a valid phone number."
        );
    }

    #[test]
    fn twilio_accepted_but_failed_is_a_refusal() {
        let queued =
            br#"{"sid": "SM1", "status": "queued", "error_code": null, "error_message": null}"#;
        assert!(judge(SmsProvider::Twilio, StatusCode::CREATED, queued, TO, TEXT).is_ok());
        let failed = br#"{"sid": "SM1", "status": "failed", "error_code": 30003, "error_message": "Unreachable destination handset"}"#;
        let (status, code, reason) = refused(judge(
            SmsProvider::Twilio,
            StatusCode::CREATED,
            failed,
            TO,
            TEXT,
        ));
        assert_eq!((status, code.as_deref()), (201, Some("30003")));
        assert_eq!(reason, "Unreachable destination handset");
        // A generic gateway's 2xx is accepted whatever its body says.
        assert!(judge(SmsProvider::Generic, StatusCode::OK, failed, TO, TEXT).is_ok());
    }

    #[test]
    fn an_echoed_text_or_code_never_reaches_the_reason() {
        let body = format!("Rejected: \"{TEXT}\" for {TO}\nsecond line");
        let (_, code, reason) = refused(judge(
            SmsProvider::Generic,
            StatusCode::UNPROCESSABLE_ENTITY,
            body.as_bytes(),
            TO,
            TEXT,
        ));
        assert_eq!(code, None);
        assert_eq!(reason, "Rejected: \"[the message]\" for +1 *** *** 001");
        let body = br#"{"error": {"message": "code 482913 looks like spam to 15005550001"}}"#;
        let (_, _, reason) = refused(judge(
            SmsProvider::Generic,
            StatusCode::FORBIDDEN,
            body,
            TO,
            TEXT,
        ));
        assert_eq!(reason, "code ****** looks like spam to +1 *** *** 001");
    }

    #[test]
    fn busy_and_broken_gateways_are_retried_and_an_empty_refusal_is_named() {
        for status in [500, 502, 503, 408, 429] {
            let status = StatusCode::from_u16(status).unwrap();
            let e = judge(SmsProvider::Twilio, status, b"{}", TO, TEXT).unwrap_err();
            assert!(!e.is_permanent(), "{status}: {e}");
        }
        let e = judge(
            SmsProvider::Generic,
            StatusCode::UNAUTHORIZED,
            b"",
            TO,
            TEXT,
        )
        .unwrap_err();
        assert!(e.is_permanent());
        assert_eq!(
            e.to_string(),
            "the SMS provider refused the message (401): Unauthorized"
        );
    }

    #[test]
    fn a_long_reason_is_cut() {
        let body = "x".repeat(1000);
        let (_, _, reason) = refused(judge(
            SmsProvider::Generic,
            StatusCode::BAD_REQUEST,
            body.as_bytes(),
            TO,
            TEXT,
        ));
        assert_eq!(reason.chars().count(), REASON_LIMIT + 1);
    }
}
