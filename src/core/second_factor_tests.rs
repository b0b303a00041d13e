//! Email and SMS codes on a bind, recognised computers and what a new
//! password forgets, against a real store; the code is read back from the
//! outbox as the notifier would send it.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::core::directory::{AccountChange, AuthError, Directory, NewAccount};
use crate::core::password::PasswordHasher;
use crate::core::second_factor::{Computer, SecondFactorSettings};
use crate::core::validate::PasswordPolicy;
use crate::core::{Actor, CoreError};
use crate::model::{AuthMethod, Channel};
use crate::store::{MessageState, SqliteStore};

const PW: &str = "Correct7Horse";

fn directory(settings: SecondFactorSettings) -> (Directory, Arc<AtomicUsize>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&tmp.path().join("dirgate.db"), 2).unwrap();
    let hasher = PasswordHasher::new(256, 1, 1).unwrap();
    let mut dir =
        Directory::new(Arc::new(store), PasswordPolicy::default(), hasher, "UTC").unwrap();
    dir.set_second_factor(settings);
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = wakes.clone();
    dir.on_message_queued(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    (dir, wakes, tmp)
}

fn both_channels() -> SecondFactorSettings {
    SecondFactorSettings {
        email: true,
        sms: true,
        ..SecondFactorSettings::default()
    }
}

fn person(d: &Directory, name: &str, method: AuthMethod) {
    let mut new = NewAccount::named(name);
    new.password = Some(d.prepare_password(PW).unwrap());
    new.email = Some(format!("{name}@example.com"));
    new.mobile = Some("+44 7700 900123".into());
    new.time_zone = Some("Europe/London".into());
    new.auth_method = method;
    d.create_account(&Actor::System, new).unwrap();
}

/// The code in the newest queued message.
fn last_code(d: &Directory) -> String {
    let m = &d.store().recent_messages(1).unwrap()[0];
    let body = m.body.clone().expect("a pending message keeps its body");
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_owned()
}

fn at(ip: &str) -> Computer {
    Computer::Address(ip.parse::<IpAddr>().unwrap())
}

#[test]
fn an_sms_code_is_sent_then_spent_once_and_recognises_the_computer() {
    let (d, wakes, _tmp) = directory(both_channels());
    person(&d, "ann", AuthMethod::TwoFactorSms);
    let office = at("192.0.2.10");

    let err = d.authenticate_from("ann", PW, &office).unwrap_err();
    assert_eq!(
        err.to_string(),
        "code sent by SMS to +44 *** *** 123: bind again with your password followed by the code"
    );
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
    let queued = &d.store().recent_messages(10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].channel, Channel::Sms);
    assert_eq!(queued[0].recipient, "+447700900123");
    assert!(!queued[0].audit_body.contains(&last_code(&d)));
    assert!(
        queued[0].audit_body.contains("(Europe/London)"),
        "{}",
        queued[0].audit_body
    );
    let code = last_code(&d);

    // A bind straight after is told to use the code already sent.
    assert!(matches!(
        d.authenticate_from("ann", PW, &office),
        Err(AuthError::CodeSent { .. })
    ));
    assert_eq!(d.store().recent_messages(10).unwrap().len(), 1);

    // A wrong password with the right code says nothing about the code.
    assert!(matches!(
        d.authenticate_from("ann", &format!("Wrong7Horse{code}"), &office),
        Err(AuthError::InvalidCredentials)
    ));
    // Password and code, with or without a `;`.
    assert!(d
        .authenticate_from("ann", &format!("{PW};{code}"), &office)
        .is_ok());
    // The code is spent.
    assert!(matches!(
        d.authenticate_from("ann", &format!("{PW}{code}"), &at("192.0.2.99")),
        Err(AuthError::InvalidCode)
    ));
    // The office is recognised now: the password alone is enough there...
    assert!(d.authenticate_from("ann", PW, &office).is_ok());
    // ...and nowhere else.
    assert!(matches!(
        d.authenticate_from("ann", PW, &at("198.51.100.1")),
        Err(AuthError::CodeSent { .. })
    ));
    let ann = d.account_by_user_name(&Actor::System, "ann").unwrap();
    let known = d.computers(&Actor::System, ann.id).unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!(known[0].computer, "address:192.0.2.10");

    // A new password forgets every computer.
    let pw = d.prepare_password("Fresh8Start").unwrap();
    d.set_password(&Actor::System, ann.id, pw).unwrap();
    assert!(d.computers(&Actor::System, ann.id).unwrap().is_empty());
    assert!(matches!(
        d.authenticate_from("ann", "Fresh8Start", &office),
        Err(AuthError::CodeSent { .. })
    ));
}

#[test]
fn every_time_methods_ask_on_every_bind_and_wrong_codes_run_out() {
    let settings = SecondFactorSettings {
        resend_interval: Duration::ZERO,
        code_tries: 3,
        ..both_channels()
    };
    let (d, _wakes, _tmp) = directory(settings);
    person(&d, "ben", AuthMethod::TwoFactorEmailEveryTime);
    let desk = at("192.0.2.20");

    let err = d.authenticate_from("ben", PW, &desk).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("code sent by email to b***@example.com"),
        "{err}"
    );
    let m = &d.store().recent_messages(1).unwrap()[0];
    assert_eq!(
        (m.channel, m.recipient.as_str()),
        (Channel::Email, "ben@example.com")
    );
    let code = last_code(&d);
    assert!(d
        .authenticate_from("ben", &format!("{PW}{code}"), &desk)
        .is_ok());
    // Every time: the same computer is asked again.
    assert!(matches!(
        d.authenticate_from("ben", PW, &desk),
        Err(AuthError::CodeSent { .. })
    ));
    let ben = d.account_by_user_name(&Actor::System, "ben").unwrap();
    assert!(d.computers(&Actor::System, ben.id).unwrap().is_empty());

    // Three wrong codes and the right one is dead too.
    let code = last_code(&d);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        assert!(matches!(
            d.authenticate_from("ben", &format!("{PW}{wrong}"), &desk),
            Err(AuthError::InvalidCode)
        ));
    }
    assert!(matches!(
        d.authenticate_from("ben", &format!("{PW}{code}"), &desk),
        Err(AuthError::InvalidCode)
    ));
    let dead = d.store().pending_code(ben.id).unwrap().expect("kept");
    assert_eq!(dead.tries, 3, "dead, but kept to space the next code");
}

#[test]
fn without_a_channel_the_method_cannot_be_given_or_used() {
    let (d, _wakes, _tmp) = directory(SecondFactorSettings::default());
    let mut new = NewAccount::named("cat");
    new.mobile = Some("+44 7700 900123".into());
    new.auth_method = AuthMethod::TwoFactorSms;
    let err = d.create_account(&Actor::System, new).unwrap_err();
    assert!(
        matches!(&err, CoreError::InvalidValue { reason, .. } if reason.contains("SMS gateway")),
        "{err}"
    );

    // An account given the method while SMS was configured fails to bind
    // with a message naming the channel.
    let (with, _w, tmp) = directory(both_channels());
    person(&with, "dan", AuthMethod::TwoFactorSms);
    drop(with);
    let store = SqliteStore::open(&tmp.path().join("dirgate.db"), 2).unwrap();
    let hasher = PasswordHasher::new(256, 1, 1).unwrap();
    let without =
        Directory::new(Arc::new(store), PasswordPolicy::default(), hasher, "UTC").unwrap();
    let err = without
        .authenticate_from("dan", PW, &at("192.0.2.1"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SMS codes are not configured on this server"
    );
    // Other changes to that account still work.
    let dan = without.account_by_user_name(&Actor::System, "dan").unwrap();
    let change = AccountChange {
        given_name: Some("Dan".into()),
        ..Default::default()
    };
    without
        .update_account(&Actor::System, dan.id, change, None)
        .unwrap();
}

#[test]
fn messages_leave_the_queue_without_their_secret() {
    let (d, _wakes, _tmp) = directory(both_channels());
    person(&d, "eve", AuthMethod::TwoFactorSms);
    d.authenticate_from("eve", PW, &at("192.0.2.5"))
        .unwrap_err();
    let store = d.store();
    let now = jiff::Timestamp::now();
    let due = store.due_messages(now, 10).unwrap();
    assert_eq!(due.len(), 1);
    store.message_delivered(due[0].id, now).unwrap();
    let kept = &store.recent_messages(1).unwrap()[0];
    assert_eq!(kept.state, MessageState::Delivered);
    assert_eq!(kept.body, None);
    assert!(kept.audit_body.contains("******"));
    assert!(store.due_messages(now, 10).unwrap().is_empty());
}

#[test]
fn a_reset_link_locks_the_account_until_it_is_spent_once() {
    let (d, wakes, _tmp) = directory(both_channels());
    person(&d, "fay", AuthMethod::TwoFactorSms);
    let office = at("192.0.2.30");
    d.authenticate_from("fay", PW, &office).unwrap_err();
    let code = last_code(&d);
    d.authenticate_from("fay", &format!("{PW}{code}"), &office)
        .unwrap();

    // Unknown names and addresses answer the same and send nothing.
    let sent = d.store().recent_messages(100).unwrap().len();
    d.request_password_reset("nobody", "https://dir.example:8443")
        .unwrap();
    d.request_password_reset("nobody@example.com", "https://dir.example:8443")
        .unwrap();
    assert_eq!(d.store().recent_messages(100).unwrap().len(), sent);

    // By email address; the link goes to that address.
    d.request_password_reset("FAY@example.com", "https://dir.example:8443/")
        .unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 2);
    let m = &d.store().recent_messages(1).unwrap()[0];
    assert_eq!(
        (m.channel, m.recipient.as_str()),
        (Channel::Email, "fay@example.com")
    );
    let body = m.body.clone().unwrap();
    let token = body
        .split("https://dir.example:8443/reset?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a link")
        .to_owned();
    assert_eq!(token.len(), 43, "256 bits, base64url");
    assert!(!m.audit_body.contains(&token));
    assert!(m.audit_body.contains("(Europe/London)"));

    // From now on the account cannot bind, even from its recognised computer.
    assert!(matches!(
        d.authenticate_from("fay", PW, &office),
        Err(AuthError::ResetPending)
    ));
    assert!(d.reset_link_works(&token).unwrap());
    assert!(!d.reset_link_works("not-a-token").unwrap());
    let pw = d.prepare_password("Fresh8Start").unwrap();
    d.reset_password(&token, pw).unwrap();
    assert!(!d.reset_link_works(&token).unwrap());
    let again = d.prepare_password("Other9Start").unwrap();
    assert!(matches!(
        d.reset_password(&token, again),
        Err(CoreError::InvalidValue { .. })
    ));
    // The new password works; the computer is forgotten, so a code is asked.
    assert!(matches!(
        d.authenticate_from("fay", "Fresh8Start", &office),
        Err(AuthError::CodeSent { .. })
    ));

    // Three links an hour; a fourth request sends nothing.
    for _ in 0..3 {
        d.request_password_reset("fay", "https://x").unwrap();
    }
    let sent = d.store().recent_messages(100).unwrap().len();
    d.request_password_reset("fay", "https://x").unwrap();
    assert_eq!(d.store().recent_messages(100).unwrap().len(), sent);
}
