//! The outbox in SQLite: one row a message; the secret body is set to NULL
//! when the message leaves the queue.

use jiff::Timestamp;
use rusqlite::{named_params, params, Row};

use super::convert::{corrupt, micros, named, optional_timestamp, query_all, query_one, timestamp};
use super::SqliteStore;
use crate::store::outbox::{MessageState, NewMessage, Outbox, QueuedMessage};
use crate::store::{StoreError, StoreResult};

const COLUMNS: &str = "id, channel, recipient, subject, body, audit_body, account_id, created,
     next_attempt, attempts, state, last_error, finished";

fn message(row: &Row<'_>) -> StoreResult<QueuedMessage> {
    let state: String = row.get("state")?;
    Ok(QueuedMessage {
        id: row.get("id")?,
        channel: named(row, "channel")?,
        recipient: row.get("recipient")?,
        subject: row.get("subject")?,
        body: row.get("body")?,
        audit_body: row.get("audit_body")?,
        account: row.get("account_id")?,
        created: timestamp(row, "created")?,
        next_attempt: timestamp(row, "next_attempt")?,
        attempts: row.get("attempts")?,
        state: MessageState::parse(&state).ok_or_else(|| corrupt("state", &state, "unknown"))?,
        last_error: row.get("last_error")?,
        finished: optional_timestamp(row, "finished")?,
    })
}

/// Fails with NotFound unless exactly one pending message changed.
fn one_changed(changed: usize) -> StoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound("pending message"))
    }
}

pub(super) fn insert(
    tx: &rusqlite::Transaction<'_>,
    m: &NewMessage,
    now: Timestamp,
) -> StoreResult<i64> {
    tx.prepare_cached(
        "INSERT INTO outbox (channel, recipient, subject, body, audit_body, account_id,
                             created, next_attempt)
         VALUES (:channel, :recipient, :subject, :body, :audit_body, :account, :now, :now)",
    )?
    .execute(named_params! {
        ":channel": m.channel.as_str(),
        ":recipient": m.recipient,
        ":subject": m.subject,
        ":body": m.body,
        ":audit_body": m.audit_body,
        ":account": m.account,
        ":now": micros(now),
    })?;
    Ok(tx.last_insert_rowid())
}

impl Outbox for SqliteStore {
    fn enqueue(&self, message: &NewMessage, now: Timestamp) -> StoreResult<i64> {
        self.write(|tx| insert(tx, message, now))
    }

    fn due_messages(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<QueuedMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt <= ?1
             ORDER BY next_attempt, id LIMIT ?2"
        );
        self.read(|conn| query_all(conn, &sql, params![micros(now), limit], message))
    }

    fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        let next: Option<Option<i64>> = self.read(|conn| {
            query_one(
                conn,
                "SELECT min(next_attempt) FROM outbox WHERE state = 'pending'",
                [],
                |r| Ok(r.get(0)?),
            )
        })?;
        match next.flatten() {
            None => Ok(None),
            Some(us) => Timestamp::from_microsecond(us)
                .map(Some)
                .map_err(|e| corrupt("next_attempt", &us, e)),
        }
    }

    fn message_delivered(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'delivered', body = NULL, finished = ?2,
                         attempts = attempts + 1, last_error = NULL
                     WHERE id = ?1 AND state = 'pending'",
                )?
                .execute(params![id, micros(now)])?;
            one_changed(changed)
        })
    }

    fn message_retry(&self, id: i64, error: &str, retry_at: Timestamp) -> StoreResult<()> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt = ?3
                     WHERE id = ?1 AND state = 'pending'",
                )?
                .execute(params![id, error, micros(retry_at)])?;
            one_changed(changed)
        })
    }

    fn message_failed(&self, id: i64, error: &str, now: Timestamp) -> StoreResult<()> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'failed', body = NULL, finished = ?3,
                         attempts = attempts + 1, last_error = ?2
                     WHERE id = ?1 AND state = 'pending'",
                )?
                .execute(params![id, error, micros(now)])?;
            one_changed(changed)
        })
    }

    fn recent_messages(&self, limit: u32) -> StoreResult<Vec<QueuedMessage>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1");
        self.read(|conn| query_all(conn, &sql, [limit], message))
    }

    fn outbox_counts(&self) -> StoreResult<Vec<(MessageState, u64)>> {
        let rows: Vec<(String, i64)> = self.read(|conn| {
            query_all(
                conn,
                "SELECT state, count(*) FROM outbox GROUP BY state",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })?;
        rows.into_iter()
            .map(|(state, n)| {
                let state = MessageState::parse(&state)
                    .ok_or_else(|| corrupt("state", &state, "unknown"))?;
                Ok((state, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}
