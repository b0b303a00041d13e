//! [`Related`]: the names, memberships and child nodes a face shows beside
//! a page of rows. At most five statements whatever the page size (id lists
//! go in as one JSON-array parameter, read with `json_each`), and every row
//! they read is limited to the reader's visibility: a hidden group or a
//! hidden manager is simply not there.

use std::collections::BTreeSet;

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::scope::{self, Visible};
use super::search::{prepare, visibility_binds};
use crate::model::query::Related;
use crate::model::{Account, Node};
use crate::store::{StoreResult, Visibility};

/// Ids as a JSON array, for `json_each`.
fn json_ids(ids: &BTreeSet<i64>) -> String {
    let mut out = String::from("[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// Runs `sql` with the visibility parameters and `:ids` set to `ids`,
/// calling `each` on every row; does nothing for no ids.
fn each_row(
    conn: &Connection,
    visibility: Visibility,
    sql: &str,
    ids: &BTreeSet<i64>,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut binds = visibility_binds(visibility);
    binds.push((":ids".to_owned(), SqlValue::Text(json_ids(ids))));
    let mut stmt = prepare(conn, sql, &binds)?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        each(row)?;
    }
    Ok(())
}

const IDS: &str = "SELECT value FROM json_each(:ids)";

pub(super) fn related(
    conn: &Connection,
    visibility: Visibility,
    accounts: &[&Account],
    nodes: &[&Node],
) -> StoreResult<Related> {
    let with = scope::with(visibility);
    let visible_account = Visible::accounts(visibility);
    let visible_node = Visible::nodes(visibility);
    let account_ids: BTreeSet<i64> = accounts.iter().map(|a| a.id).collect();
    let node_ids: BTreeSet<i64> = nodes.iter().map(|n| n.id).collect();
    let mut out = Related::default();

    // 1. The accounts themselves and their managers, by name.
    let named_accounts: BTreeSet<i64> = accounts
        .iter()
        .flat_map(|a| std::iter::once(a.id).chain(a.manager))
        .collect();
    let sql = format!(
        "{with}SELECT a.id, a.user_name, a.uuid FROM accounts a WHERE a.id IN ({IDS}){}",
        visible_account.and("a.id")
    );
    each_row(conn, visibility, &sql, &named_accounts, |row| {
        out.account_names.insert(row.get(0)?, row.get(1)?);
        out.account_uuids.insert(row.get(0)?, uuid_at(row, 2)?);
        Ok(())
    })?;

    // 2. The nodes themselves, their parents, and the accounts' restricted_to
    //    and admin_entity nodes, by name.
    let named_nodes: BTreeSet<i64> = nodes
        .iter()
        .flat_map(|n| std::iter::once(n.id).chain(n.parent))
        .chain(
            accounts
                .iter()
                .flat_map(|a| a.restricted_to.into_iter().chain(a.admin_entity)),
        )
        .collect();
    let sql = format!(
        "{with}SELECT n.id, n.name, n.uuid FROM nodes n WHERE n.id IN ({IDS}){}",
        visible_node.and("n.id")
    );
    each_row(conn, visibility, &sql, &named_nodes, |row| {
        out.node_names.insert(row.get(0)?, row.get(1)?);
        out.node_uuids.insert(row.get(0)?, uuid_at(row, 2)?);
        Ok(())
    })?;

    // 3. The groups of (visible) accounts, with their names.
    let sql = format!(
        "{with}SELECT ms.account_id, g.id, g.name, g.uuid FROM memberships ms \
         JOIN nodes g ON g.id = ms.node_id \
         WHERE ms.account_id IN ({IDS}){}{} \
         ORDER BY ms.account_id, ms.node_id",
        visible_account.and("ms.account_id"),
        visible_node.and("g.id")
    );
    each_row(conn, visibility, &sql, &account_ids, |row| {
        let (account, node): (i64, i64) = (row.get(0)?, row.get(1)?);
        out.groups_of.entry(account).or_default().push(node);
        out.node_names.insert(node, row.get(2)?);
        out.node_uuids.insert(node, uuid_at(row, 3)?);
        Ok(())
    })?;

    // 4. The members of (visible) nodes, archived ones left out, with
    //    their names.
    let sql = format!(
        "{with}SELECT ms.node_id, a.id, a.user_name, a.uuid FROM memberships ms \
         JOIN accounts a ON a.id = ms.account_id \
         WHERE ms.node_id IN ({IDS}) AND a.archived = 0{}{} \
         ORDER BY ms.node_id, ms.account_id",
        visible_node.and("ms.node_id"),
        visible_account.and("a.id")
    );
    each_row(conn, visibility, &sql, &node_ids, |row| {
        let (node, account): (i64, i64) = (row.get(0)?, row.get(1)?);
        out.members_of.entry(node).or_default().push(account);
        out.account_names.insert(account, row.get(2)?);
        out.account_uuids.insert(account, uuid_at(row, 3)?);
        Ok(())
    })?;

    // 5. The child nodes of (visible) nodes, with their names.
    let sql = format!(
        "{with}SELECT c.parent, c.id, c.name, c.uuid FROM nodes c \
         WHERE c.parent IN ({IDS}){}{} \
         ORDER BY c.parent, c.id",
        visible_node.and("c.parent"),
        visible_node.and("c.id")
    );
    each_row(conn, visibility, &sql, &node_ids, |row| {
        let (parent, child): (i64, i64) = (row.get(0)?, row.get(1)?);
        out.children_of.entry(parent).or_default().push(child);
        out.node_names.insert(child, row.get(2)?);
        out.node_uuids.insert(child, uuid_at(row, 3)?);
        Ok(())
    })?;

    Ok(out)
}

/// A stored UUID column as a `Uuid` (SQLite hands it back as text).
fn uuid_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<uuid::Uuid> {
    let text: String = row.get(index)?;
    uuid::Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
