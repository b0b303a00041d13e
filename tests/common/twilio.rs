//! A fake of Twilio's Messages API for tests: checks each request as
//! Twilio does (POST to `/2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! HTTP basic authentication with the account SID and auth token, a form
//! body with `To`, `From` and `Body`) and answers as Twilio does: 201 with
//! the queued message resource; 400 with `code` 21211 for Twilio's magic
//! invalid number [`INVALID_NUMBER`]; 401 (20003), 404 (20404) or 400
//! (21604, 21603) for a request Twilio would refuse.
//!
//!     let twilio = FakeTwilio::start();
//!     let config = twilio.config(&token_file);   // an [sms] section
//!     let sent = twilio.wait_for(1, Duration::from_secs(10));
//!     assert_eq!(sent[0].field("To"), Some("+14155550123"));
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use super::sms_gateway::{SmsGateway, SmsRequest};

/// Twilio's test number that its API refuses as not a valid phone number.
pub const INVALID_NUMBER: &str = "+15005550001";

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "f00dfacef00dfacef00dfacef00dface";
pub const FROM: &str = "+15005550006";

pub struct FakeTwilio {
    gateway: SmsGateway,
}

fn error(status: u16, code: u32, message: &str) -> (u16, String) {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    (status, body.to_string())
}

/// Twilio's answer to `request`.
fn answer(request: &SmsRequest) -> (u16, String) {
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json");
    let basic = format!(
        "Basic {}",
        data_encoding::BASE64.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}").as_bytes())
    );
    if request.header("authorization") != Some(basic.as_str()) {
        return error(401, 20003, "Authenticate");
    }
    if request.method != "POST" || request.path != path {
        return error(
            404,
            20404,
            &format!("The requested resource {} was not found", request.path),
        );
    }
    if request.header("content-type") != Some("application/x-www-form-urlencoded") {
        return error(400, 21604, "A 'To' phone number is required.");
    }
    let mut names: Vec<&str> = request.form.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names != ["Body", "From", "To"] {
        return error(400, 21604, "A 'To' phone number is required.");
    }
    let (to, from, body) = (
        request.field("To").unwrap_or_default(),
        request.field("From").unwrap_or_default(),
        request.field("Body").unwrap_or_default(),
    );
    if from != FROM {
        return error(
            400,
            21606,
            &format!("The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account."),
        );
    }
    if body.is_empty() {
        return error(400, 21602, "Message body is required.");
    }
    if to == INVALID_NUMBER || !to.starts_with('+') {
        return error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let sid = "SM0123456789abcdef0123456789abcdef";
    let resource = serde_json::json!({
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": null,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": from,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": "1",
        "price": null,
        "price_unit": null,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json")},
        "to": to,
        "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"),
    });
    (201, resource.to_string())
}

impl FakeTwilio {
    pub fn start() -> FakeTwilio {
        FakeTwilio {
            gateway: SmsGateway::answering(answer),
        }
    }

    /// An `[sms]` section for this fake: the Twilio preset, its address as
    /// the API's, the account SID as the user and the auth token read from
    /// `token_file` (written here).
    pub fn config(&self, token_file: &Path) -> String {
        std::fs::write(token_file, format!("{AUTH_TOKEN}\n")).expect("write the token file");
        format!(
            "[sms]\nprovider = \"twilio\"\nurl = \"http://{}\"\nusername = \"{ACCOUNT_SID}\"\n\
             password_file = \"{}\"\nfrom = \"{FROM}\"\n",
            self.gateway.addr(),
            token_file.display()
        )
    }

    /// Every request, with the status it was answered.
    pub fn received(&self) -> Vec<SmsRequest> {
        self.gateway.received()
    }

    /// Waits for `count` messages Twilio would have queued (201).
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<SmsRequest> {
        self.gateway.wait_for(count, limit)
    }

    /// Waits for `count` requests, whatever they were answered.
    pub fn wait_for_any(&self, count: usize, limit: Duration) -> Vec<SmsRequest> {
        self.gateway.wait_for_any(count, limit)
    }
}
