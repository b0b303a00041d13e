//! `[sms]`: the HTTP gateway that sends SMS codes (any gateway, or
//! Twilio's preset), and the checks of its keys. The body of each message
//! is written by `crate::notify::sms_body`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{check_login, nonzero, password_from, resolve, Secret, SecretFileError};
use crate::notify::sms_body::render_template;

/// `[sms] provider`: who the gateway is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum SmsProvider {
    /// Any HTTP gateway: `url`, `format` and the rest say how to reach it;
    /// a 2xx answer means accepted.
    #[default]
    #[serde(rename = "generic")]
    Generic,
    /// Twilio's Messages resource: a form POST to
    /// `/2010-04-01/Accounts/{account}/Messages.json` with basic
    /// authentication, the fields `To`, `From` and `Body`, and the answer's
    /// `status` and `error_code` read.
    #[serde(rename = "twilio")]
    Twilio,
}

/// `[sms] format`: how the POST's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SmsFormat {
    /// `body_template`, filled in (application/json).
    #[serde(rename = "json")]
    Json,
    /// URL-encoded form fields named by `fields`
    /// (application/x-www-form-urlencoded).
    #[serde(rename = "form")]
    Form,
}

/// `[sms] fields`: the provider's names of the form fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsFields {
    /// The recipient's number.
    pub to: String,
    /// The sender (`[sms] from`); not sent when `from` is unset.
    pub from: String,
    /// The message text.
    pub text: String,
}

impl Default for SmsFields {
    fn default() -> Self {
        SmsFields {
            to: "to".to_string(),
            from: "from".to_string(),
            text: "text".to_string(),
        }
    }
}

/// Twilio's API, when `[sms] url` is unset.
pub const TWILIO_API: &str = "https://api.twilio.com";

/// `[sms]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// "generic" (any HTTP gateway, as the keys below describe) or "twilio"
    /// (Twilio's Messages API: form fields To/From/Body, basic
    /// authentication with `username` and `password`, its answer read).
    pub provider: SmsProvider,
    /// The gateway's URL (http:// or https://); each SMS is one POST to it.
    /// Unset means SMS is not configured (messages for SMS then fail with an
    /// error saying so), except with provider "twilio", where the URL is
    /// Twilio's (`https://api.twilio.com`) and this key, when set, replaces
    /// only the scheme, host and port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// "json" (the body is `body_template`) or "form" (URL-encoded fields
    /// named by `fields`). Unset: "json", or "form" for Twilio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<SmsFormat>,
    /// The JSON body of the POST. `{to}`, `{text}` and `{from}` are replaced
    /// by the recipient, the text and `from`, escaped for a JSON string (so
    /// put them inside quotes); `{to_digits}` is the recipient without its
    /// `+`. The result must be valid JSON.
    pub body_template: String,
    /// The form fields' names, as `{ to = "To", from = "From", text =
    /// "Body" }`. Unset: to, from and text (To, From and Body for Twilio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<SmsFields>,
    /// The sender: a number or a name the provider allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The user of HTTP basic authentication (Twilio: the Account SID or an
    /// API key SID; Vonage: the API key); with `password` or
    /// `password_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password of basic authentication (Twilio: the auth token or the
    /// API key secret); never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A file holding that password instead (a systemd credential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Twilio: the Account SID in the URL, when `username` is an API key.
    /// Unset: `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The whole Authorization header instead of basic authentication, such
    /// as "Bearer TOKEN" (never logged). Unset sends none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<Secret>,
    /// Seconds one delivery (connect, request, answer) may take.
    pub timeout_secs: u64,
}

/// The default `[sms] body_template`.
pub const DEFAULT_SMS_TEMPLATE: &str = r#"{"to": "{to}", "text": "{text}"}"#;

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProvider::Generic,
            url: None,
            format: None,
            body_template: DEFAULT_SMS_TEMPLATE.to_string(),
            fields: None,
            from: None,
            username: None,
            password: None,
            password_file: None,
            account: None,
            auth_header: None,
            timeout_secs: 30,
        }
    }
}

impl SmsConfig {
    /// `timeout_secs` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Whether there is somewhere to send: a URL, or Twilio's.
    pub fn configured(&self) -> bool {
        self.url.is_some() || self.provider == SmsProvider::Twilio
    }

    /// The body format, with the provider's default.
    pub fn body_format(&self) -> SmsFormat {
        match (self.format, self.provider) {
            (Some(format), _) => format,
            (None, SmsProvider::Twilio) => SmsFormat::Form,
            (None, SmsProvider::Generic) => SmsFormat::Json,
        }
    }

    /// The form fields' names, with the provider's defaults.
    pub fn field_names(&self) -> SmsFields {
        match (&self.fields, self.provider) {
            (Some(fields), _) => fields.clone(),
            (None, SmsProvider::Twilio) => SmsFields {
                to: "To".to_string(),
                from: "From".to_string(),
                text: "Body".to_string(),
            },
            (None, SmsProvider::Generic) => SmsFields::default(),
        }
    }

    /// The URL each message is POSTed to, or `None` when SMS is not
    /// configured. Twilio's is its Messages resource for the account.
    pub fn endpoint(&self) -> Option<String> {
        match self.provider {
            SmsProvider::Generic => self.url.clone(),
            SmsProvider::Twilio => {
                let base = self.url.as_deref().unwrap_or(TWILIO_API);
                let account = self.account.as_ref().or(self.username.as_ref())?;
                Some(format!(
                    "{}/2010-04-01/Accounts/{}/Messages.json",
                    base.trim_end_matches('/'),
                    form_urlencoded::byte_serialize(account.as_bytes()).collect::<String>()
                ))
            }
        }
    }

    /// The basic-authentication password, from `password` or
    /// `password_file`.
    pub fn password(&self) -> Result<Option<Secret>, SecretFileError> {
        password_from(&self.password, &self.password_file)
    }

    pub(super) fn resolve_relative_to(&mut self, folder: &Path) {
        resolve(&mut self.password_file, folder);
    }
}

impl SmsConfig {
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.url {
            check_http_url(url).map_err(|why| ("sms.url", format!("{url:?} {why}")))?;
        }
        check_login(
            "sms",
            self.username.is_some(),
            self.password.is_some(),
            self.password_file.is_some(),
        )?;
        if self.auth_header.is_some() && self.username.is_some() {
            return Err((
                "sms.auth_header",
                "is set beside sms.username: use basic authentication or a header, not both"
                    .to_string(),
            ));
        }
        if self.provider == SmsProvider::Twilio {
            if self.username.is_none() {
                return Err((
                    "sms.username",
                    "missing: Twilio needs the Account SID (or an API key SID) as username, \
                     and its auth token (or key secret) as password"
                        .to_string(),
                ));
            }
            if self.from.is_none() {
                return Err((
                    "sms.from",
                    "missing: Twilio needs the number (or sender ID) messages come from"
                        .to_string(),
                ));
            }
            if self.format == Some(SmsFormat::Json) {
                return Err((
                    "sms.format",
                    "Twilio's Messages API takes a form, not JSON: leave format out".to_string(),
                ));
            }
            if self.url.as_deref().and_then(url_path).is_some() {
                return Err((
                    "sms.url",
                    "with provider \"twilio\" is only the API's scheme, host and port (such \
                     as https://api.dublin.ie1.twilio.com): the path is Twilio's"
                        .to_string(),
                ));
            }
        } else if self.account.is_some() {
            return Err(("sms.account", "is only for provider \"twilio\"".to_string()));
        }
        match self.body_format() {
            SmsFormat::Json => self.check_template()?,
            SmsFormat::Form => {
                let names = self.field_names();
                if [&names.to, &names.from, &names.text]
                    .iter()
                    .any(|n| n.is_empty())
                {
                    return Err(("sms.fields", "a field name is empty".to_string()));
                }
            }
        }
        if let Some(header) = &self.auth_header {
            if hyper::header::HeaderValue::from_str(header.expose()).is_err() {
                return Err((
                    "sms.auth_header",
                    "is not a valid header value (no line breaks or control characters)"
                        .to_string(),
                ));
            }
        }
        nonzero("sms.timeout_secs", self.timeout_secs)?;
        Ok(())
    }

    fn check_template(&self) -> Result<(), (&'static str, String)> {
        if !self.body_template.contains("{to}") && !self.body_template.contains("{to_digits}") {
            return Err((
                "sms.body_template",
                "has no {to} (or {to_digits}): the gateway would not get it".to_string(),
            ));
        }
        if !self.body_template.contains("{text}") {
            return Err((
                "sms.body_template",
                "has no {text}: the gateway would not get it".to_string(),
            ));
        }
        // Values with every character that needs escaping.
        let sample = render_template(
            &self.body_template,
            "+44 \"7700\" 900\\123",
            "code:\n\t\"1234\" {text} é",
            "a \"b\"",
        );
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&sample) {
            return Err((
                "sms.body_template",
                format!(
                    "is not valid JSON once {{to}} and {{text}} are filled in ({e}); \
                     put them inside quotes, as in {DEFAULT_SMS_TEMPLATE}"
                ),
            ));
        }
        Ok(())
    }
}

/// The path of an http(s) URL, when it has one beyond `/`.
fn url_path(url: &str) -> Option<String> {
    let uri: hyper::Uri = url.parse().ok()?;
    let path = uri.path_and_query()?.as_str();
    (path != "/" && !path.is_empty()).then(|| path.to_string())
}

/// Accepts an absolute http:// or https:// URL with a host.
fn check_http_url(url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("must start with http:// or https://".to_string()),
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err("has no host".to_string()),
    }
}
