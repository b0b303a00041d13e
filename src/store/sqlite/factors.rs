//! One-time codes, recognised computers and reset tokens in SQLite.

use jiff::Timestamp;
use rusqlite::{named_params, params, Row};
use uuid::Uuid;

use super::convert::{corrupt, micros, named, optional_timestamp, query_all, query_one, timestamp};
use super::convert::{uuid, uuid_text};
use super::{outbox, SqliteStore};
use crate::model::AccountId;
use crate::store::factors::{Factors, PendingCode, RecognisedComputer, ResetToken};
use crate::store::outbox::NewMessage;
use crate::store::StoreResult;

fn hash32(row: &Row<'_>, column: &str) -> StoreResult<[u8; 32]> {
    let bytes: Vec<u8> = row.get(column)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|e| corrupt(column, &bytes.len(), e))
}

fn pending_code(row: &Row<'_>) -> StoreResult<PendingCode> {
    Ok(PendingCode {
        code_hash: hash32(row, "code_hash")?,
        channel: named(row, "channel")?,
        created: timestamp(row, "created")?,
        expires: timestamp(row, "expires")?,
        tries: row.get("tries")?,
    })
}

fn computer(row: &Row<'_>) -> StoreResult<RecognisedComputer> {
    Ok(RecognisedComputer {
        uuid: uuid(row, "uuid")?,
        computer: row.get("computer")?,
        first_seen: timestamp(row, "first_seen")?,
        last_seen: timestamp(row, "last_seen")?,
        expires: timestamp(row, "expires")?,
    })
}

fn reset_token(row: &Row<'_>) -> StoreResult<ResetToken> {
    Ok(ResetToken {
        account: row.get("account_id")?,
        created: timestamp(row, "created")?,
        expires: timestamp(row, "expires")?,
        spent: optional_timestamp(row, "spent")?,
    })
}

impl Factors for SqliteStore {
    fn issue_code(
        &self,
        account: AccountId,
        code: &PendingCode,
        message: &NewMessage,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO one_time_codes
                     (account_id, code_hash, channel, created, expires, tries)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            )?
            .execute(params![
                account,
                code.code_hash.as_slice(),
                code.channel.as_str(),
                micros(code.created),
                micros(code.expires),
            ])?;
            outbox::insert(tx, message, now)?;
            Ok(())
        })
    }

    fn pending_code(&self, account: AccountId) -> StoreResult<Option<PendingCode>> {
        self.read(|conn| {
            query_one(
                conn,
                "SELECT code_hash, channel, created, expires, tries
                 FROM one_time_codes WHERE account_id = ?1",
                [account],
                pending_code,
            )
        })
    }

    fn spend_code(
        &self,
        account: AccountId,
        code_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let spent = tx
                .prepare_cached(
                    "DELETE FROM one_time_codes
                     WHERE account_id = ?1 AND code_hash = ?2 AND expires > ?3",
                )?
                .execute(params![account, code_hash.as_slice(), micros(now)])?;
            Ok(spent == 1)
        })
    }

    fn wrong_code(&self, account: AccountId, max_tries: u32) -> StoreResult<u32> {
        self.write(|tx| {
            let tries: Option<u32> = query_one(
                tx,
                "UPDATE one_time_codes SET tries = min(tries + 1, ?2) WHERE account_id = ?1
                 RETURNING tries",
                params![account, max_tries],
                |r| Ok(r.get(0)?),
            )?;
            Ok(tries.unwrap_or(0))
        })
    }

    fn computer_recognised(
        &self,
        account: AccountId,
        computer: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM recognised_computers
                     WHERE account_id = ?1 AND computer = ?2 AND expires > ?3",
                )?
                .exists(params![account, computer, micros(now)])?)
        })
    }

    fn recognise_computer(
        &self,
        account: AccountId,
        computer: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO recognised_computers
                     (uuid, account_id, computer, first_seen, last_seen, expires)
                 VALUES (:uuid, :account, :computer, :now, :now, :expires)
                 ON CONFLICT (account_id, computer) DO UPDATE SET
                     last_seen = excluded.last_seen,
                     expires = excluded.expires,
                     first_seen = CASE WHEN recognised_computers.expires > excluded.last_seen
                                       THEN recognised_computers.first_seen
                                       ELSE excluded.first_seen END",
            )?
            .execute(named_params! {
                ":uuid": uuid_text(Uuid::new_v4()),
                ":account": account,
                ":computer": computer,
                ":now": micros(now),
                ":expires": micros(expires),
            })?;
            Ok(())
        })
    }

    fn computers(
        &self,
        account: AccountId,
        now: Timestamp,
    ) -> StoreResult<Vec<RecognisedComputer>> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT uuid, computer, first_seen, last_seen, expires FROM recognised_computers
                 WHERE account_id = ?1 AND expires > ?2 ORDER BY last_seen DESC, id DESC",
                params![account, micros(now)],
                computer,
            )
        })
    }

    fn forget_computers(&self, account: AccountId, which: Option<Uuid>) -> StoreResult<u64> {
        self.write(|tx| {
            let gone = match which {
                Some(id) => tx
                    .prepare_cached(
                        "DELETE FROM recognised_computers WHERE account_id = ?1 AND uuid = ?2",
                    )?
                    .execute(params![account, uuid_text(id)])?,
                None => tx
                    .prepare_cached("DELETE FROM recognised_computers WHERE account_id = ?1")?
                    .execute([account])?,
            };
            Ok(gone as u64)
        })
    }

    fn issue_reset(
        &self,
        account: AccountId,
        token_hash: &[u8; 32],
        expires: Timestamp,
        message: &NewMessage,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO reset_tokens (token_hash, account_id, created, expires)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                token_hash.as_slice(),
                account,
                micros(now),
                micros(expires)
            ])?;
            tx.prepare_cached(
                "UPDATE accounts SET reset_pending = 1, version = version + 1, modified = ?2
                 WHERE id = ?1",
            )?
            .execute(params![account, micros(now)])?;
            outbox::insert(tx, message, now)?;
            Ok(())
        })
    }

    fn reset_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ResetToken>> {
        self.read(|conn| {
            query_one(
                conn,
                "SELECT account_id, created, expires, spent FROM reset_tokens
                 WHERE token_hash = ?1",
                [token_hash.as_slice()],
                reset_token,
            )
        })
    }

    fn resets_since(&self, account: AccountId, since: Timestamp) -> StoreResult<u64> {
        self.read(|conn| {
            let n: Option<i64> = query_one(
                conn,
                "SELECT count(*) FROM reset_tokens WHERE account_id = ?1 AND created >= ?2",
                params![account, micros(since)],
                |r| Ok(r.get(0)?),
            )?;
            Ok(n.unwrap_or(0) as u64)
        })
    }

    fn spend_reset(
        &self,
        token_hash: &[u8; 32],
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let account: Option<AccountId> = query_one(
                tx,
                "UPDATE reset_tokens SET spent = ?2
                 WHERE token_hash = ?1 AND spent IS NULL AND expires > ?2
                 RETURNING account_id",
                params![token_hash.as_slice(), micros(now)],
                |r| Ok(r.get(0)?),
            )?;
            let Some(account) = account else {
                return Ok(false);
            };
            // Every other link sent for this account dies with this one.
            tx.prepare_cached(
                "UPDATE reset_tokens SET spent = ?2 WHERE account_id = ?1 AND spent IS NULL",
            )?
            .execute(params![account, micros(now)])?;
            tx.prepare_cached(
                "UPDATE accounts SET password_hash = ?2, reset_pending = 0,
                     version = version + 1, modified = ?3
                 WHERE id = ?1",
            )?
            .execute(params![account, password_hash, micros(now)])?;
            tx.prepare_cached("DELETE FROM recognised_computers WHERE account_id = ?1")?
                .execute([account])?;
            tx.prepare_cached("DELETE FROM one_time_codes WHERE account_id = ?1")?
                .execute([account])?;
            Ok(true)
        })
    }
}
