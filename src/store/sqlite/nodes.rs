//! Writes to a node inside a caller's transaction: its fields, its
//! members, the nodes moved under it. `change_node` and `insert_node`
//! compose them so a whole group change commits once.

use std::fmt::Write as _;

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Transaction};

use super::convert::{is_foreign_key, micros, write_error};
use super::{exists, touch_account};
use crate::model::{AccountId, NodeId};
use crate::store::{StoreError, StoreResult};

/// Fails unless node `id` exists (and is at `expected` when given).
pub(super) fn check_version(
    tx: &Transaction<'_>,
    id: NodeId,
    expected: Option<i64>,
) -> StoreResult<()> {
    let version: Option<i64> = tx
        .prepare_cached("SELECT version FROM nodes WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match (version, expected) {
        (None, _) => Err(StoreError::NotFound("group")),
        (Some(v), Some(e)) if v != e => Err(StoreError::VersionMismatch("group")),
        _ => Ok(()),
    }
}

/// Sets the name and/or external id; true if anything was asked.
pub(super) fn update_fields(
    tx: &Transaction<'_>,
    id: NodeId,
    name: Option<&str>,
    external_id: Option<Option<&str>>,
) -> StoreResult<bool> {
    let mut sql = String::from("UPDATE nodes SET ");
    let mut values: Vec<Value> = Vec::with_capacity(3);
    if let Some(name) = name {
        values.push(Value::from(name.to_owned()));
        let _ = write!(sql, "name = ?{}", values.len());
    }
    if let Some(external_id) = external_id {
        if !values.is_empty() {
            sql.push_str(", ");
        }
        values.push(Value::from(external_id.map(str::to_owned)));
        let _ = write!(sql, "external_id = ?{}", values.len());
    }
    if values.is_empty() {
        return Ok(false);
    }
    values.push(Value::from(id));
    let _ = write!(sql, " WHERE id = ?{}", values.len());
    tx.prepare_cached(&sql)?
        .execute(params_from_iter(&values))
        .map_err(write_error)?;
    Ok(true)
}

/// Adds and removes members, touching each account whose membership
/// changed; true if any did.
pub(super) fn write_members(
    tx: &Transaction<'_>,
    node: NodeId,
    add: &[AccountId],
    remove: &[AccountId],
    now: Timestamp,
) -> StoreResult<bool> {
    let mut changed = false;
    let mut delete =
        tx.prepare_cached("DELETE FROM memberships WHERE node_id = ?1 AND account_id = ?2")?;
    for account in remove {
        if delete.execute([node, *account])? > 0 {
            touch_account(tx, *account, now)?;
            changed = true;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO memberships (node_id, account_id) VALUES (?1, ?2)",
    )?;
    for account in add {
        let added = insert.execute([node, *account]).map_err(|e| {
            if is_foreign_key(&e) {
                StoreError::NotFound("account")
            } else {
                write_error(e)
            }
        })?;
        if added > 0 {
            touch_account(tx, *account, now)?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Moves `children` under `node`; true if any moved.
pub(super) fn adopt(
    tx: &Transaction<'_>,
    node: NodeId,
    children: &[NodeId],
    now: Timestamp,
) -> StoreResult<bool> {
    let mut moved = false;
    let mut update = tx.prepare_cached(
        "UPDATE nodes SET parent = ?2, version = version + 1, modified = ?3
         WHERE id = ?1 AND parent IS NOT ?2",
    )?;
    for child in children {
        if !exists(tx, "SELECT 1 FROM nodes WHERE id = ?1", *child)? {
            return Err(StoreError::NotFound("group"));
        }
        if update.execute(params![child, node, micros(now)])? > 0 {
            moved = true;
        }
    }
    Ok(moved)
}

/// Puts node `id` under `parent` (`None`: at the top); true if it moved.
pub(super) fn set_parent(
    tx: &Transaction<'_>,
    id: NodeId,
    parent: Option<NodeId>,
) -> StoreResult<bool> {
    let moved = tx
        .prepare_cached("UPDATE nodes SET parent = ?2 WHERE id = ?1 AND parent IS NOT ?2")?
        .execute(params![id, parent])
        .map_err(|e| {
            if is_foreign_key(&e) {
                StoreError::NotFound("parent group")
            } else {
                write_error(e)
            }
        })?;
    Ok(moved > 0)
}
