//! The notifier against a real SQLite store, the SMTP sink and the SMS
//! gateway: delivery, retries with backoff, giving up, unconfigured
//! channels, and delivery of what was queued while no worker ran.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use common::sms_gateway::SmsGateway;
use common::smtp_sink::SmtpSink;
use common::smtp_tls::{Mode, SmtpTls};
use dirgate::config::Config;
use dirgate::metrics::Metrics;
use dirgate::model::Channel;
use dirgate::notify::{Notifier, Outcome, Wake};
use dirgate::store::{MessageState, NewMessage, Outbox, QueuedMessage, SqliteStore};

fn config(text: &str) -> Config {
    Config::from_toml_str(text, "test.toml").expect("test config")
}

fn open(dir: &Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&dir.join("dirgate.db"), 2).expect("open store"))
}

fn notifier(store: &Arc<SqliteStore>, config: &Config) -> Notifier {
    let store: Arc<dyn Outbox> = store.clone();
    Notifier::from_config(store, config, Wake::new()).expect("notifier")
}

fn message(channel: Channel, to: &str, body: &str) -> NewMessage {
    NewMessage {
        channel,
        recipient: to.to_string(),
        subject: "Your dirgate code".to_string(),
        body: body.to_string(),
        audit_body: body.replace(|c: char| c.is_ascii_digit(), "*"),
        account: None,
    }
}

fn row(store: &SqliteStore, id: i64) -> QueuedMessage {
    store
        .recent_messages(100)
        .expect("recent")
        .into_iter()
        .find(|m| m.id == id)
        .expect("the message is stored")
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

#[tokio::test]
async fn email_is_delivered_through_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sink = SmtpSink::start();
    let cfg = config(&format!(
        "{}from = \"Dirgate <noreply@example.com>\"\n",
        sink.config()
    ));
    let id = store
        .enqueue(
            &message(Channel::Email, "jane@example.com", "Your code is 123456."),
            Timestamp::now(),
        )
        .unwrap();

    let n = notifier(&store, &cfg);
    let outcomes = n.worker().deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Delivered)]);

    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].from, "noreply@example.com");
    assert_eq!(mails[0].to, vec!["jane@example.com".to_string()]);
    assert_eq!(mails[0].subject().as_deref(), Some("Your dirgate code"));
    assert!(
        mails[0].body().contains("Your code is 123456."),
        "{:?}",
        mails[0]
    );
    assert_eq!(mails[0].auth_user, None);

    let stored = row(&store, id);
    assert_eq!(stored.state, MessageState::Delivered);
    assert_eq!(stored.body, None);
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.audit_body, "Your code is ******.");
    assert!(stored.finished.is_some());
    // Nothing left to do.
    assert!(n
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn email_with_credentials_authenticates_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // A real server that takes AUTH only after STARTTLS.
    let server = SmtpTls::start(Mode::StartTls, dir.path());
    let cfg = config(&server.config(&dir.path().join("smtp-password")));
    let id = store
        .enqueue(
            &message(Channel::Email, "bob@example.com", "Code 42"),
            Timestamp::now(),
        )
        .unwrap();
    let outcomes = notifier(&store, &cfg)
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![(id, Outcome::Delivered)],
        "{:?}",
        row(&store, id)
    );
    let mails = server.wait_for(1, Duration::from_secs(10));
    assert!(mails[0].tls);
    assert!(mails[0].mechanism.is_some(), "{mails:?}");
    // Without TLS there is no login at all: the configuration refuses it.
    let plain = format!(
        "{}username = \"mailer\"\npassword = \"s3cret\"\n",
        SmtpSink::start().config()
    );
    let e = Config::from_toml_str(&plain, "test.toml").unwrap_err();
    assert_eq!(e.key(), Some("email.security"), "{e}");
}

#[tokio::test]
async fn sms_is_posted_with_the_template_and_auth_header() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let gateway = SmsGateway::start();
    let cfg = config(&format!(
        "[sms]\nurl = \"{}?account=7\"\n\
         body_template = '{{\"msisdn\": \"{{to}}\", \"message\": \"{{text}}\", \"from\": \"dirgate\"}}'\n\
         auth_header = \"Bearer t0ken\"\n",
        gateway.url()
    ));
    let text = "Code: 654321 \"quoted\"\nsecond line";
    let id = store
        .enqueue(
            &message(Channel::Sms, "+44 7700 900123", text),
            Timestamp::now(),
        )
        .unwrap();

    let outcomes = notifier(&store, &cfg)
        .worker()
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Delivered)]);

    let sent = gateway.received();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/send?account=7");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(r.header("host"), Some(gateway.addr().to_string().as_str()));
    assert_eq!(r.json["msisdn"], "+44 7700 900123");
    assert_eq!(r.json["message"], text);
    assert_eq!(r.json["from"], "dirgate");

    let stored = row(&store, id);
    assert_eq!(stored.state, MessageState::Delivered);
    assert_eq!(stored.body, None);
}

#[tokio::test]
async fn a_failing_gateway_is_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let gateway = SmsGateway::start();
    gateway.fail_first(2);
    // retry_base_secs = 5 (the default): waits of 5 s, then 10 s.
    let cfg = config(&gateway.config());
    let t0 = Timestamp::now();
    let id = store
        .enqueue(&message(Channel::Sms, "+15550100", "Code 111222"), t0)
        .unwrap();
    let n = notifier(&store, &cfg);
    let worker = n.worker();

    assert_eq!(
        worker.deliver_due(t0).await.unwrap(),
        vec![(id, Outcome::Retry)]
    );
    let after_first = row(&store, id);
    assert_eq!(after_first.state, MessageState::Pending);
    assert_eq!(after_first.attempts, 1);
    assert!(after_first.body.is_some());
    let error = after_first.last_error.clone().unwrap_or_default();
    assert!(error.contains("500"), "{error}");
    let t1 = t0 + secs(5);
    assert_eq!(micros(after_first.next_attempt), micros(t1));

    // Not due before its time.
    assert!(worker.deliver_due(t1 - secs(1)).await.unwrap().is_empty());

    assert_eq!(
        worker.deliver_due(t1).await.unwrap(),
        vec![(id, Outcome::Retry)]
    );
    let after_second = row(&store, id);
    assert_eq!(after_second.attempts, 2);
    let t2 = t1 + secs(10);
    assert_eq!(micros(after_second.next_attempt), micros(t2));

    assert_eq!(
        worker.deliver_due(t2).await.unwrap(),
        vec![(id, Outcome::Delivered)]
    );
    let done = row(&store, id);
    assert_eq!(done.state, MessageState::Delivered);
    assert_eq!(done.attempts, 3);
    assert_eq!(done.body, None);
    assert_eq!(done.last_error, None);
    let statuses: Vec<u16> = gateway.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 500, 200]);
}

#[tokio::test]
async fn a_message_is_given_up_after_max_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let gateway = SmsGateway::start();
    gateway.fail_first(usize::MAX);
    let cfg = config(&format!(
        "{}[outbox]\nmax_attempts = 3\nretry_base_secs = 1\n",
        gateway.config()
    ));
    let t0 = Timestamp::now();
    let id = store
        .enqueue(&message(Channel::Sms, "+15550100", "Code 999000"), t0)
        .unwrap();
    let outbox: Arc<dyn Outbox> = store.clone();
    let metrics = Metrics::new(Some(outbox));
    let n = notifier(&store, &cfg).with_metrics(metrics.clone());

    let mut outcomes = Vec::new();
    for at in [t0, t0 + secs(1), t0 + secs(3)] {
        outcomes.extend(n.worker().deliver_due(at).await.unwrap());
    }
    assert_eq!(
        outcomes,
        vec![
            (id, Outcome::Retry),
            (id, Outcome::Retry),
            (id, Outcome::Failed)
        ]
    );
    let failed = row(&store, id);
    assert_eq!(failed.state, MessageState::Failed);
    assert_eq!(failed.attempts, 3);
    assert_eq!(failed.body, None);
    let error = failed.last_error.unwrap_or_default();
    assert!(error.contains("500"), "{error}");
    assert!(failed.finished.is_some());
    // Given up: never taken again.
    assert!(n
        .worker()
        .deliver_due(t0 + secs(3600))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(gateway.received().len(), 3);
    // Each failed attempt is counted; the outbox is counted at the scrape.
    let text = metrics.render().unwrap();
    assert!(
        text.contains("dirgate_outbox_delivery_failures_total 3\n"),
        "{text}"
    );
    assert!(
        text.contains("dirgate_outbox_messages{state=\"failed\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("dirgate_outbox_messages{state=\"pending\"} 0\n"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unconfigured_channel_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let now = Timestamp::now();
    let email = store
        .enqueue(&message(Channel::Email, "a@example.com", "Code 1"), now)
        .unwrap();
    let sms = store
        .enqueue(&message(Channel::Sms, "+15550100", "Code 2"), now)
        .unwrap();
    let n = notifier(&store, &Config::default());
    let mut outcomes = n.worker().deliver_due(now).await.unwrap();
    outcomes.sort_by_key(|(id, _)| *id);
    assert_eq!(
        outcomes,
        vec![(email, Outcome::Failed), (sms, Outcome::Failed)]
    );

    let e = row(&store, email);
    assert_eq!(e.state, MessageState::Failed);
    assert_eq!(e.body, None);
    assert_eq!(e.attempts, 1);
    let error = e.last_error.unwrap_or_default();
    assert!(
        error.contains("not configured") && error.contains("[email] host"),
        "{error}"
    );
    let s = row(&store, sms);
    let error = s.last_error.unwrap_or_default();
    assert!(
        error.contains("not configured") && error.contains("[sms] url"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(&format!(
        "[email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n"
    ));
    let now = Timestamp::now();
    let id = store
        .enqueue(&message(Channel::Email, "a@example.com", "Code 3"), now)
        .unwrap();
    let outcomes = notifier(&store, &cfg)
        .worker()
        .deliver_due(now)
        .await
        .unwrap();
    assert_eq!(outcomes, vec![(id, Outcome::Retry)]);
    let r = row(&store, id);
    assert!(r.body.is_some());
    assert!(r.last_error.unwrap_or_default().contains("SMTP"));
}

/// Polls the store until every message in `ids` is delivered; panics with
/// the rows after `limit`.
async fn wait_delivered(store: &SqliteStore, ids: &[i64], limit: Duration) {
    let start = std::time::Instant::now();
    loop {
        let rows: Vec<QueuedMessage> = ids.iter().map(|&id| row(store, id)).collect();
        if rows.iter().all(|r| r.state == MessageState::Delivered) {
            return;
        }
        if start.elapsed() > limit {
            panic!("not delivered in time: {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_while_no_worker_ran_are_delivered_when_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let gateway = SmsGateway::start();
    // poll_secs is an hour: only the start and wake() make the worker look.
    let cfg = config(&format!(
        "{}{}[outbox]\npoll_secs = 3600\n",
        sink.config(),
        gateway.config()
    ));
    let (email, sms) = {
        let store = open(dir.path());
        let now = Timestamp::now();
        let email = store
            .enqueue(&message(Channel::Email, "a@example.com", "Code 5"), now)
            .unwrap();
        let sms = store
            .enqueue(&message(Channel::Sms, "+15550100", "Code 6"), now)
            .unwrap();
        (email, sms)
        // The store is closed here, as by a stopped daemon.
    };

    let store = open(dir.path());
    let n = notifier(&store, &cfg);
    let wake = n.waker();
    let (stop, shutdown) = watch::channel(false);
    let task = n.spawn(shutdown);
    wait_delivered(&store, &[email, sms], Duration::from_secs(30)).await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(gateway.delivered().len(), 1);

    // A message queued now is sent on a wake, long before the next poll.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let later = store
        .enqueue(
            &message(Channel::Email, "b@example.com", "Code 7"),
            Timestamp::now(),
        )
        .unwrap();
    wake.wake();
    wait_delivered(&store, &[later], Duration::from_secs(30)).await;
    assert_eq!(sink.received()[1].to, vec!["b@example.com".to_string()]);

    // The graceful stop ends the loop.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the notifier stops")
        .expect("the notifier task did not panic");
}

#[test]
fn the_daemon_runs_the_notifier_and_the_cli_lists_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let data = dir.path().join("data");
    let cfg = common::write_config(
        dir.path(),
        &format!("{}[outbox]\npoll_secs = 1\n", sink.config()),
    );
    let mut daemon = common::Daemon::start_in(&data, &cfg);
    // Queued beside the running daemon, as the core does, with no wake: the
    // poll finds it.
    let store = SqliteStore::open(&data.join("dirgate.db"), 1).expect("open beside the daemon");
    daemon.secret("8675309");
    let id = store
        .enqueue(
            &message(Channel::Email, "ops@example.com", "Code 8675309"),
            Timestamp::now(),
        )
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails[0].to, vec!["ops@example.com".to_string()]);
    assert!(mails[0].body().contains("Code 8675309"));

    // The row is marked delivered right after the send.
    let start = std::time::Instant::now();
    while row(&store, id).state != MessageState::Delivered {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            row(&store, id)
        );
        std::thread::sleep(Duration::from_millis(25));
    }

    let out = daemon.command(&["outbox", "--limit", "5"], None);
    assert!(out.status.success(), "{out:?}");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("ops@example.com"), "{listing}");
    assert!(listing.contains("delivered"), "{listing}");
    assert!(listing.contains("Code *******"), "{listing}");
    assert!(!listing.contains("8675309"), "{listing}");

    assert!(daemon.stop().success());
    let log = daemon.log();
    assert!(log.contains("notifier started"), "{log}");
    assert!(log.contains("message delivered"), "{log}");
    assert!(log.contains("notifier stopped"), "{log}");
    // Neither the code nor the full address is logged.
    assert!(!log.contains("8675309"), "{log}");
    assert!(!log.contains("ops@example.com"), "{log}");
}
