//! Codes through the providers administrators use, through the real daemon
//! and a real LDAP bind (Debian's `ldapwhoami`): SMS by a fake of Twilio's
//! Messages API that checks each request as Twilio does, and by a JSON
//! gateway with basic authentication (Vonage's Messages API shape); email
//! by a real TLS SMTP server (aiosmtpd) over STARTTLS and implicit TLS with
//! a test CA, with a wrong CA refused and no login sent without TLS.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use common::sms_gateway::SmsGateway;
use common::smtp_sink::SmtpSink;
use common::smtp_tls::{self, Mode, SmtpTls, TestCa};
use common::twilio::{self, FakeTwilio};
use common::{cli, write_config, Daemon};
use dirgate::config::Config;
use dirgate::model::Channel;
use dirgate::notify::{Notifier, Outcome, Wake};
use dirgate::store::{MessageState, NewMessage, Outbox, SqliteStore};

const PW: &str = "Correct7Horse";
const WAIT: Duration = Duration::from_secs(20);

fn whoami(d: &Daemon, user: &str, credential: &str) -> Output {
    d.bind_secret(credential);
    Command::new("ldapwhoami")
        .args(["-x", "-D", user, "-w", credential, "-H"])
        .arg(format!("ldap://127.0.0.1:{}", d.ldap.unwrap().port()))
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/dev/null")
        .output()
        .expect("ldapwhoami (ldap-utils)")
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn six_digits(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_owned()
}

fn add_user(d: &Daemon, name: &str, contact: (&str, &str), method: &str) {
    cli(
        d,
        &[
            "user",
            "add",
            name,
            contact.0,
            contact.1,
            "--method",
            method,
            "--password-stdin",
        ],
        Some(&format!("{PW}\n")),
    );
}

/// Polls `dirgate outbox` until `until` holds of its listing; panics with
/// the listing after `WAIT`.
fn outbox_until(d: &Daemon, until: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let listing = cli(d, &["outbox"], None);
        if until(&listing) {
            return listing;
        }
        assert!(start.elapsed() < WAIT, "{listing}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `/metrics` from the plain HTTP listener.
fn metrics(d: &Daemon) -> String {
    let out = Command::new("curl")
        .args(["-sS", &format!("http://{}/metrics", d.http.unwrap())])
        .output()
        .expect("curl");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_sms_code_through_twilio_binds_and_a_refused_number_fails_with_twilios_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakeTwilio::start();
    let config = write_config(
        tmp.path(),
        &format!(
            "{}[outbox]\nretry_base_secs = 1\n",
            fake.config(&tmp.path().join("twilio-token"))
        ),
    );
    let mut d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret(twilio::AUTH_TOKEN);
    add_user(&d, "ann", ("--mobile", "+1 415 555 0123"), "Two Factor SMS");

    let out = whoami(&d, "ann", PW);
    assert!(
        said(&out).contains("code sent by SMS to +1 *** *** 123"),
        "{}",
        said(&out)
    );
    let sent = fake.wait_for(1, WAIT);
    let r = &sent[0];
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        format!("/2010-04-01/Accounts/{}/Messages.json", twilio::ACCOUNT_SID)
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let basic = data_encoding::BASE64
        .encode(format!("{}:{}", twilio::ACCOUNT_SID, twilio::AUTH_TOKEN).as_bytes());
    assert_eq!(
        r.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let fields: Vec<&str> = r.form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(fields, ["To", "From", "Body"]);
    assert_eq!(r.field("To"), Some("+14155550123"));
    assert_eq!(r.field("From"), Some(twilio::FROM));
    let code = six_digits(r.field("Body").unwrap());
    d.secret(&code);
    let out = whoami(&d, "ann", &format!("{PW}{code}"));
    assert!(out.status.success(), "{}", said(&out));
    outbox_until(&d, |l| {
        l.contains("+14155550123") && l.contains("delivered")
    });

    // Twilio refuses a number (400, code 21211): the message fails at once,
    // with Twilio's reason, and is not tried again.
    add_user(
        &d,
        "bob",
        ("--mobile", twilio::INVALID_NUMBER),
        "Two Factor SMS",
    );
    let out = whoami(&d, "bob", PW);
    assert!(said(&out).contains("code sent by SMS"), "{}", said(&out));
    let all = fake.wait_for_any(2, WAIT);
    assert_eq!(all[1].status, 400);
    d.secret(&six_digits(all[1].field("Body").unwrap()));
    let listing = outbox_until(&d, |l| l.contains("failed"));
    assert!(
        listing.contains(
            "the SMS provider refused the message (400, code 21211): \
             The 'To' number +1 *** *** 001 is not a valid phone number."
        ),
        "{listing}"
    );
    // Well past the retry wait (1 s): still one attempt.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(fake.received().len(), 2);
    let text = metrics(&d);
    assert!(
        text.contains(
            "dirgate_outbox_delivery_failures_by_reason_total{channel=\"sms\",reason=\"refused\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("dirgate_outbox_messages{state=\"failed\"} 1\n"),
        "{text}"
    );

    assert!(d.stop().success());
    let log = d.log();
    assert!(log.contains("code 21211"), "{log}");
    assert!(!log.contains(twilio::INVALID_NUMBER), "{log}");
    assert!(!log.contains("+14155550123"), "{log}");
}

/// A gateway shaped like Vonage's Messages API: JSON with the number
/// without its `+`, basic authentication with the API key and secret,
/// 202 when accepted, 422 with a problem document for a refused number.
fn vonage_like(request: &common::sms_gateway::SmsRequest) -> (u16, String) {
    let basic = format!(
        "Basic {}",
        data_encoding::BASE64.encode(b"key123:vonage-s3cret")
    );
    if request.header("authorization") != Some(basic.as_str())
        || request.header("content-type") != Some("application/json")
        || request.path != "/v1/messages"
    {
        return (401, r#"{"title": "Unauthorized"}"#.to_string());
    }
    if request.json["to"] == "447700900999" {
        return (
            422,
            r#"{"type": "https://developer.vonage.com/api-errors/messages#1150", "title": "Invalid params", "detail": "The value of one or more parameters is invalid: to", "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}"#
                .to_string(),
        );
    }
    (
        202,
        r#"{"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}"#.to_string(),
    )
}

#[test]
fn an_sms_code_through_a_json_gateway_with_basic_authentication() {
    let tmp = tempfile::tempdir().unwrap();
    let gateway = SmsGateway::answering(vonage_like);
    // The first attempt meets a 500: it is retried, and the code arrives.
    gateway.fail_first(1);
    let config = write_config(
        tmp.path(),
        &format!(
            "[sms]\nurl = \"http://{}/v1/messages\"\nusername = \"key123\"\n\
             password = \"vonage-s3cret\"\nfrom = \"Acme\"\n\
             body_template = '{{\"message_type\": \"text\", \"channel\": \"sms\", \
             \"to\": \"{{to_digits}}\", \"from\": \"{{from}}\", \"text\": \"{{text}}\"}}'\n\
             [outbox]\nretry_base_secs = 1\n",
            gateway.addr()
        ),
    );
    let mut d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret("vonage-s3cret");
    add_user(&d, "cat", ("--mobile", "+44 7700 900123"), "Two Factor SMS");
    let out = whoami(&d, "cat", PW);
    assert!(said(&out).contains("code sent by SMS"), "{}", said(&out));
    let sent = gateway.wait_for(1, WAIT);
    let statuses: Vec<u16> = gateway.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 202]);
    let r = &sent[0];
    assert_eq!(r.json["message_type"], "text");
    assert_eq!(r.json["channel"], "sms");
    assert_eq!(r.json["to"], "447700900123");
    assert_eq!(r.json["from"], "Acme");
    let code = six_digits(r.json["text"].as_str().unwrap());
    let out = whoami(&d, "cat", &format!("{PW}{code}"));
    assert!(out.status.success(), "{}", said(&out));

    add_user(&d, "dan", ("--mobile", "+44 7700 900999"), "Two Factor SMS");
    let out = whoami(&d, "dan", PW);
    assert!(said(&out).contains("code sent by SMS"), "{}", said(&out));
    let listing = outbox_until(&d, |l| l.contains("failed"));
    assert!(
        listing.contains(
            "the SMS provider refused the message (422): \
             The value of one or more parameters is invalid: to"
        ),
        "{listing}"
    );
    d.secret(&six_digits(
        gateway.received()[2].json["text"].as_str().unwrap(),
    ));
    assert!(d.stop().success());
}

/// An email code bind through the TLS SMTP server in `mode`.
fn email_code_bind_over(mode: Mode) {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = SmtpTls::start(mode, tmp.path());
    let config = write_config(tmp.path(), &smtp.config(&tmp.path().join("smtp-password")));
    let mut d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret(smtp_tls::PASSWORD);
    add_user(
        &d,
        "eve",
        ("--email", "eve@example.com"),
        "Two Factor Email",
    );
    let out = whoami(&d, "eve", PW);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));
    let mails = smtp.wait_for(1, WAIT);
    assert!(mails[0].tls, "{:?}", mails[0]);
    assert_eq!(mails[0].to, ["eve@example.com"]);
    assert_eq!(mails[0].from, "directory@example.com");
    let mechanism = mails[0].mechanism.clone().unwrap_or_default();
    assert!(
        ["PLAIN", "LOGIN"].contains(&mechanism.as_str()),
        "{mails:?}"
    );
    // Every login the server saw came over TLS and was accepted.
    let auths = smtp.auths();
    assert!(!auths.is_empty());
    assert!(auths.iter().all(|(_, ok, tls)| *ok && *tls), "{auths:?}");
    let body = mails[0]
        .data
        .split_once("\r\n\r\n")
        .or_else(|| mails[0].data.split_once("\n\n"))
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    let code = six_digits(&body);
    let out = whoami(&d, "eve", &format!("{PW}{code}"));
    assert!(out.status.success(), "{}", said(&out));
    assert!(d.stop().success());
}

#[test]
fn an_email_code_over_starttls_with_a_private_ca_and_a_login() {
    email_code_bind_over(Mode::StartTls);
}

#[test]
fn an_email_code_over_implicit_tls_with_a_private_ca_and_a_login() {
    email_code_bind_over(Mode::Tls);
}

#[test]
fn a_server_certificate_from_another_ca_is_refused_and_no_login_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = SmtpTls::start(Mode::StartTls, tmp.path());
    let other = TestCa::new(tmp.path(), "other");
    let config = write_config(
        tmp.path(),
        &format!(
            "{}[outbox]\nretry_base_secs = 1\n",
            smtp.config_with_ca(&tmp.path().join("smtp-password"), &other.ca_file)
        ),
    );
    let mut d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret(smtp_tls::PASSWORD);
    add_user(
        &d,
        "fay",
        ("--email", "fay@example.com"),
        "Two Factor Email",
    );
    let out = whoami(&d, "fay", PW);
    assert!(said(&out).contains("code sent by email"), "{}", said(&out));
    let listing = outbox_until(&d, |l| l.contains("last error"));
    assert!(listing.contains("pending"), "{listing}");
    assert!(
        listing.to_ascii_lowercase().contains("certificate"),
        "{listing}"
    );
    assert!(smtp.received().is_empty());
    assert!(smtp.auths().is_empty(), "{:?}", smtp.auths());
    assert!(d.stop().success());
}

fn in_process(config: &str, dir: &Path) -> (Arc<SqliteStore>, Notifier, i64) {
    let store = Arc::new(SqliteStore::open(&dir.join("dirgate.db"), 2).unwrap());
    let config = Config::from_toml_str(config, "test.toml").expect("config");
    let outbox: Arc<dyn Outbox> = store.clone();
    let notifier = Notifier::from_config(outbox, &config, Wake::new()).expect("notifier");
    let id = store
        .enqueue(
            &NewMessage {
                channel: Channel::Email,
                recipient: "gus@example.com".to_string(),
                subject: "Your dirgate code".to_string(),
                body: "Your code is 246810.".to_string(),
                audit_body: "Your code is ******.".to_string(),
                account: None,
            },
            Timestamp::now(),
        )
        .unwrap();
    (store, notifier, id)
}

#[tokio::test]
async fn implicit_tls_with_another_ca_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = SmtpTls::start(Mode::Tls, tmp.path());
    let other = TestCa::new(tmp.path(), "other");
    let config = smtp.config_with_ca(&tmp.path().join("pw"), &other.ca_file);
    let (store, notifier, id) = in_process(&config, tmp.path());
    let outcomes = notifier
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Retry)]);
    let row = &store.recent_messages(1).unwrap()[0];
    assert_eq!(row.state, MessageState::Pending);
    let error = row.last_error.clone().unwrap_or_default();
    assert!(
        error.to_ascii_lowercase().contains("certificate"),
        "{error}"
    );
    assert!(smtp.received().is_empty());
    assert!(smtp.auths().is_empty());

    // The right CA: delivered.
    let store2 = tempfile::tempdir().unwrap();
    let (_, notifier, id) = in_process(&smtp.config(&tmp.path().join("pw")), store2.path());
    let outcomes = notifier
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Delivered)]);
    assert!(smtp.wait_for(1, WAIT)[0].tls);
}

#[tokio::test]
async fn starttls_is_required_and_no_login_crosses_in_clear() {
    let tmp = tempfile::tempdir().unwrap();
    // A server that offers AUTH but no STARTTLS.
    let sink = SmtpSink::start();
    let config = format!(
        "[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\n\
         username = \"u\"\npassword = \"never-in-clear\"\n",
        sink.addr().port()
    );
    let (store, notifier, id) = in_process(&config, tmp.path());
    let outcomes = notifier
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Retry)]);
    let error = store.recent_messages(1).unwrap()[0]
        .last_error
        .clone()
        .unwrap_or_default();
    assert!(error.contains("SMTP"), "{error}");
    let commands = sink.commands();
    assert!(commands.contains(&"EHLO".to_string()), "{commands:?}");
    assert!(!commands.contains(&"AUTH".to_string()), "{commands:?}");
    assert!(!commands.contains(&"MAIL".to_string()), "{commands:?}");
    assert!(sink.received().is_empty());

    // And the configuration refuses a login without TLS at all.
    let e = Config::from_toml_str(&config.replace("\"starttls\"", "\"none\""), "test.toml")
        .unwrap_err();
    assert_eq!(e.key(), Some("email.security"), "{e}");
}
