//! The SQLite backend of [`Store`]: one file in WAL mode, one writer
//! connection behind a mutex, a small pool of read-only readers.
//!
//! Where things are:
//! - `migrations.rs` and `migrations/*.sql`: the schema, and the check an
//!   existing file passes before anything in it is changed;
//! - `pool.rs`: opening connections, the reader pool;
//! - `files.rs`: the folder's and the files' modes;
//! - `checkpoint.rs`: copying the write-ahead log into the file, beside
//!   the writer;
//! - `scope.rs`: [`Visibility`] as SQL;
//! - `convert.rs`: rows to model types, SQLite errors to [`StoreError`];
//! - `search.rs`: search filters as SQL; `related.rs`: the names and
//!   memberships shown beside a page of search results;
//! - this file: [`SqliteStore::open`] and the [`Store`] calls.

mod audit;
mod backup;
mod checkpoint;
pub use backup::{backup, restore};
mod convert;
mod factors;
pub mod files;
mod migrations;
mod nodes;
mod outbox;
mod pool;
mod related;
mod scope;
mod search;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{named_params, params, params_from_iter, Connection, ToSql};
use rusqlite::{Transaction, TransactionBehavior};
use uuid::Uuid;

use self::checkpoint::Checkpointer;
use self::convert::{
    is_foreign_key, micros, query_all, query_one, uuid_text, write_error, ACCOUNT_COLUMNS,
    NODE_COLUMNS, TOKEN_COLUMNS,
};
use self::pool::{lock, ReaderPool};
use self::scope::Scope;
use crate::model::query::{AccountField, Filter, NodeField, Related, Slice, Sort};
use crate::model::{Account, AccountId, Node, NodeId, TokenInfo};
use crate::store::{
    AccountUpdate, Credentials, NewAccountRow, NewNodeRow, NodeChange, NumberKind, Page, Store,
    StoreError, StoreResult, TokenRow, Visibility,
};

/// How far `in_branch` walks up the manager chain: far deeper than any real
/// hierarchy, and a bound so a corrupt cycle cannot loop forever.
const MAX_MANAGER_DEPTH: i64 = 10_000;

/// The dirgate directory in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    // Fields drop in order: the checkpointer stops and the readers close
    // first, so that the writer is the last connection and checkpoints the
    // WAL into the file on close.
    checkpointer: Checkpointer,
    readers: ReaderPool,
    /// Every write goes through this one connection, one transaction at a time.
    writer: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its folder) if missing,
    /// with `readers` read-only connections (at least one).
    ///
    /// An existing file is first checked read-only and refused unchanged
    /// (`StoreError::Unusable`) if it is not a dirgate database, has a newer
    /// schema than this binary knows, or fails `PRAGMA quick_check`. Only
    /// then is it switched to WAL and brought to the current schema.
    pub fn open(path: &Path, readers: usize) -> StoreResult<SqliteStore> {
        let exists = path.try_exists().map_err(|e| {
            StoreError::Unusable(format!("{} cannot be inspected: {e}", path.display()))
        })?;
        if exists {
            migrations::inspect(path)?;
        } else if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            files::private_folder(folder).map_err(|e| {
                StoreError::Unusable(format!(
                    "cannot create the folder {}: {e}",
                    folder.display()
                ))
            })?;
        }
        // Made (or narrowed) 0600 before SQLite opens it: its -wal and
        // -shm files take the database file's mode.
        files::private_file(path)
            .and_then(|()| files::narrow_side_files(path))
            .map_err(|e| {
                StoreError::Unusable(format!("cannot make {} private: {e}", path.display()))
            })?;
        let mut writer = pool::open_writer(path)?;
        migrations::migrate(&mut writer, path)?;
        writer.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_AUTOCHECKPOINT_PAGES,
        )?;
        let readers = ReaderPool::open(path, readers)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            checkpointer: Checkpointer::start(path)?,
            readers,
            writer: Mutex::new(writer),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one write transaction, committed if it returns Ok and
    /// rolled back otherwise. `IMMEDIATE` takes the write lock up front, so
    /// a transaction never fails half-way because another process wrote.
    fn write<T>(&self, work: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = work(&tx)?;
        // An audit record staged for this change commits with it.
        if let Some(record) = audit::STAGED.with(|s| s.borrow_mut().take()) {
            audit::insert(&tx, &record)?;
        }
        tx.commit()?;
        self.checkpointer.committed();
        Ok(out)
    }

    /// Runs `work` on a reader from the pool: the one this thread holds in
    /// a snapshot (`Store::snapshot`), else any free one. Outside a
    /// snapshot each read is one statement, which sees one consistent state
    /// of the database on its own.
    fn read<T>(&self, work: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        if let Some(conn) = self.readers.pinned() {
            return work(&conn);
        }
        let conn = self.readers.checkout();
        work(&conn)
    }

    fn account_where(&self, condition: &str, param: &dyn ToSql) -> StoreResult<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE {condition}");
        self.read(|conn| query_one(conn, &sql, [param], convert::account))
    }

    fn node_where(&self, condition: &str, param: &dyn ToSql) -> StoreResult<Option<Node>> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM nodes n WHERE {condition}");
        self.read(|conn| query_one(conn, &sql, [param], convert::node))
    }
}

/// Page bounds as SQLite integers (it has no unsigned type).
fn page_bounds(page: Page) -> (i64, i64) {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    (clamp(page.offset), clamp(page.limit))
}

/// Archived accounts (deleted over SCIM) are kept but hidden from lists.
fn archived_filter(include_archived: bool) -> &'static str {
    if include_archived {
        ""
    } else {
        " AND a.archived = 0"
    }
}

fn exists(conn: &Connection, sql: &str, id: i64) -> StoreResult<bool> {
    Ok(conn.prepare_cached(sql)?.exists([id])?)
}

/// After a foreign-key failure on an account write, finds which reference
/// was missing (SQLite does not say).
fn missing_account_reference(
    conn: &Connection,
    restricted_to: Option<NodeId>,
    manager: Option<AccountId>,
    admin_entity: Option<NodeId>,
) -> StoreResult<StoreError> {
    const NODE: &str = "SELECT 1 FROM nodes WHERE id = ?1";
    const ACCOUNT: &str = "SELECT 1 FROM accounts WHERE id = ?1";
    let checks = [
        (restricted_to, NODE, "group to restrict to"),
        (manager, ACCOUNT, "manager"),
        (admin_entity, NODE, "business entity"),
    ];
    for (id, sql, what) in checks {
        if let Some(id) = id {
            if !exists(conn, sql, id)? {
                return Ok(StoreError::NotFound(what));
            }
        }
    }
    Ok(StoreError::NotFound("referenced group or account"))
}

/// Inserts an account and its roles; its row id.
fn insert_account(tx: &Transaction<'_>, row: &NewAccountRow) -> StoreResult<AccountId> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO accounts (uuid, user_name, password_hash, given_name,
                family_name, email, mobile, time_zone, account_type, auth_method,
                restricted_to, manager, admin_level, admin_entity, status,
                archived, reset_pending, totp_secret, external_id,
                created, modified, version)
             VALUES (:uuid, :user_name, :password_hash, :given_name,
                :family_name, :email, :mobile, :time_zone, :account_type, :auth_method,
                :restricted_to, :manager, :admin_level, :admin_entity, :status,
                0, 0, NULL, :external_id,
                :now, :now, 1)",
        )?
        .execute(named_params! {
            ":uuid": uuid_text(row.uuid),
            ":user_name": row.user_name,
            ":password_hash": row.password_hash,
            ":given_name": row.given_name,
            ":family_name": row.family_name,
            ":email": row.email,
            ":mobile": row.mobile,
            ":time_zone": row.time_zone,
            ":account_type": row.account_type.as_str(),
            ":auth_method": row.auth_method.as_str(),
            ":restricted_to": row.restricted_to,
            ":manager": row.manager,
            ":admin_level": row.admin_level.as_str(),
            ":admin_entity": row.admin_entity,
            ":status": row.status.as_str(),
            ":external_id": row.external_id,
            ":now": micros(row.now),
        });
    match inserted {
        Err(e) if is_foreign_key(&e) => {
            return Err(missing_account_reference(
                tx,
                row.restricted_to,
                row.manager,
                row.admin_entity,
            )?)
        }
        other => other.map_err(write_error)?,
    };
    let id = tx.last_insert_rowid();
    insert_roles(tx, id, &row.roles)?;
    // The login name and the directory attributes, when there are any, in
    // the same transaction (one statement of the update's own making).
    let extra = AccountUpdate {
        login_name: row.login_name.clone().map(Some),
        attributes: row
            .attributes
            .iter()
            .map(|(a, v)| (a, Some(v.to_owned())))
            .collect(),
        ..AccountUpdate::default()
    };
    let columns = update_columns(&extra);
    if !columns.is_empty() {
        let mut sql = String::from("UPDATE accounts SET ");
        let mut values: Vec<Value> = Vec::with_capacity(columns.len() + 1);
        for (column, value) in columns {
            values.push(value);
            let sep = if values.len() > 1 { ", " } else { "" };
            let _ = write!(sql, "{sep}{column} = ?{}", values.len());
        }
        values.push(Value::from(id));
        let _ = write!(sql, " WHERE id = ?{}", values.len());
        tx.prepare_cached(&sql)?
            .execute(params_from_iter(&values))
            .map_err(write_error)?;
    }
    Ok(id)
}

fn insert_roles(tx: &Transaction<'_>, account: AccountId, roles: &[String]) -> StoreResult<()> {
    // OR IGNORE skips a role named twice; it does not skip foreign keys.
    let mut insert = tx
        .prepare_cached("INSERT OR IGNORE INTO account_roles (account_id, role) VALUES (?1, ?2)")?;
    for role in roles {
        insert.execute(params![account, role]).map_err(|e| {
            if is_foreign_key(&e) {
                StoreError::NotFound("security role")
            } else {
                write_error(e)
            }
        })?;
    }
    Ok(())
}

/// Bumps an account's version and modified time (its data or memberships
/// changed, so its SCIM ETag and LDAP modify stamp must too).
fn touch_account(tx: &Transaction<'_>, id: AccountId, now: Timestamp) -> StoreResult<()> {
    tx.prepare_cached("UPDATE accounts SET version = version + 1, modified = ?2 WHERE id = ?1")?
        .execute(params![id, micros(now)])?;
    Ok(())
}

fn touch_node(tx: &Transaction<'_>, id: NodeId, now: Timestamp) -> StoreResult<()> {
    tx.prepare_cached("UPDATE nodes SET version = version + 1, modified = ?2 WHERE id = ?1")?
        .execute(params![id, micros(now)])?;
    Ok(())
}

/// The `SET` list of an account update: the columns whose field is `Some`,
/// named by fixed strings here, their values bound as parameters.
fn update_columns(u: &AccountUpdate) -> Vec<(&'static str, Value)> {
    let name = |stored: &'static str| Value::Text(stored.to_owned());
    // For the optional fields `Some(None)` becomes NULL, clearing the column.
    let fields = [
        ("user_name", u.user_name.clone().map(Value::from)),
        ("login_name", u.login_name.clone().map(Value::from)),
        ("given_name", u.given_name.clone().map(Value::from)),
        ("family_name", u.family_name.clone().map(Value::from)),
        ("email", u.email.clone().map(Value::from)),
        ("mobile", u.mobile.clone().map(Value::from)),
        ("time_zone", u.time_zone.clone().map(Value::from)),
        ("account_type", u.account_type.map(|v| name(v.as_str()))),
        ("auth_method", u.auth_method.map(|v| name(v.as_str()))),
        ("restricted_to", u.restricted_to.map(Value::from)),
        ("manager", u.manager.map(Value::from)),
        ("admin_level", u.admin_level.map(|v| name(v.as_str()))),
        ("admin_entity", u.admin_entity.map(Value::from)),
        ("status", u.status.map(|v| name(v.as_str()))),
        ("archived", u.archived.map(Value::from)),
        ("reset_pending", u.reset_pending.map(Value::from)),
        ("external_id", u.external_id.clone().map(Value::from)),
        ("password_hash", u.password_hash.clone().map(Value::from)),
        ("totp_secret", u.totp_secret.clone().map(Value::from)),
        // A new (or no) secret starts a new sequence of time steps.
        (
            "totp_last_step",
            u.totp_secret.as_ref().map(|_| Value::Null),
        ),
    ];
    // Each attribute's column is named by its stored name (migration 0005):
    // fixed strings of the model, never input.
    let attributes = u
        .attributes
        .iter()
        .map(|(a, v)| (a.as_str(), Some(Value::from(v.clone()))));
    fields
        .into_iter()
        .chain(attributes)
        .filter_map(|(column, value)| Some((column, value?)))
        .collect()
}

impl Store for SqliteStore {
    fn snapshot(&self, work: &mut dyn FnMut()) -> StoreResult<()> {
        self.readers.snapshot(work)
    }

    // --- accounts ---------------------------------------------------------

    fn insert_account(&self, row: &NewAccountRow) -> StoreResult<AccountId> {
        self.write(|tx| insert_account(tx, row))
    }

    fn create_account(&self, row: &NewAccountRow) -> StoreResult<Account> {
        // Read back on the write connection, inside the same transaction:
        // no second trip through a reader (whose first read after a commit
        // pays for taking in the changed database).
        self.write(|tx| {
            let id = insert_account(tx, row)?;
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1");
            query_one(tx, &sql, [id], convert::account)?.ok_or(StoreError::NotFound("account"))
        })
    }

    fn update_account(
        &self,
        id: AccountId,
        update: &AccountUpdate,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let columns = update_columns(update);
        let mut sql = String::from("UPDATE accounts SET ");
        let mut values: Vec<Value> = Vec::with_capacity(columns.len() + 3);
        for (column, value) in columns {
            values.push(value);
            let _ = write!(sql, "{column} = ?{}, ", values.len());
        }
        values.push(Value::from(micros(now)));
        let _ = write!(sql, "version = version + 1, modified = ?{}", values.len());
        values.push(Value::from(id));
        let _ = write!(sql, " WHERE id = ?{}", values.len());
        if let Some(expected) = expected_version {
            values.push(Value::from(expected));
            let _ = write!(sql, " AND version = ?{}", values.len());
        }

        self.write(|tx| {
            let changed = match tx.prepare_cached(&sql)?.execute(params_from_iter(&values)) {
                Err(e) if is_foreign_key(&e) => {
                    return Err(missing_account_reference(
                        tx,
                        update.restricted_to.flatten(),
                        update.manager.flatten(),
                        update.admin_entity.flatten(),
                    )?)
                }
                other => other.map_err(write_error)?,
            };
            if changed == 0 {
                let found = exists(tx, "SELECT 1 FROM accounts WHERE id = ?1", id)?;
                return Err(if found {
                    StoreError::VersionMismatch("account")
                } else {
                    StoreError::NotFound("account")
                });
            }
            if let Some(roles) = &update.roles {
                tx.prepare_cached("DELETE FROM account_roles WHERE account_id = ?1")?
                    .execute([id])?;
                insert_roles(tx, id, roles)?;
            }
            if update.forget_computers {
                tx.prepare_cached("DELETE FROM recognised_computers WHERE account_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM one_time_codes WHERE account_id = ?1")?
                    .execute([id])?;
            }
            Ok(())
        })
    }

    fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.account_where("a.id = ?1", &id)
    }

    fn account_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Account>> {
        self.account_where("a.uuid = ?1", &uuid_text(uuid))
    }

    fn account_by_user_name(&self, user_name: &str) -> StoreResult<Option<Account>> {
        // NOCASE matches the unique index, which SQLite then uses.
        self.account_where("a.user_name = ?1 COLLATE NOCASE", &user_name)
    }

    fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        // The same expression as the unique index accounts_login, so SQLite
        // looks the login up through it.
        self.account_where(
            "COALESCE(a.login_name, a.user_name) = ?1 COLLATE NOCASE",
            &login,
        )
    }

    fn credentials(&self, id: AccountId) -> StoreResult<Option<Credentials>> {
        self.read(|conn| {
            query_one(
                conn,
                "SELECT password_hash, totp_secret FROM accounts WHERE id = ?1",
                [id],
                |row| {
                    Ok(Credentials {
                        password_hash: row.get(0)?,
                        totp_secret: row.get(1)?,
                    })
                },
            )
        })
    }

    fn list_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        page: Page,
    ) -> StoreResult<Vec<Account>> {
        let scope = Scope::accounts(visibility);
        let archived = archived_filter(include_archived);
        let sql = format!(
            "{}SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE {}{archived}
             ORDER BY a.id LIMIT :limit OFFSET :offset",
            scope.with, scope.condition
        );
        let (offset, limit) = page_bounds(page);
        let params = scope.params(&[(":limit", &limit), (":offset", &offset)]);
        self.read(|conn| query_all(conn, &sql, params.as_slice(), convert::account))
    }

    fn count_accounts(&self, visibility: Visibility, include_archived: bool) -> StoreResult<u64> {
        let scope = Scope::accounts(visibility);
        let archived = archived_filter(include_archived);
        let sql = format!(
            "{}SELECT count(*) FROM accounts a WHERE {}{archived}",
            scope.with, scope.condition
        );
        let params = scope.params(&[]);
        let count = self.read(|conn| query_one(conn, &sql, params.as_slice(), convert::id))?;
        Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    fn account_visible(&self, visibility: Visibility, id: AccountId) -> StoreResult<bool> {
        let scope = Scope::accounts(visibility);
        let sql = format!(
            "{}SELECT 1 FROM accounts a WHERE a.id = :id AND {}",
            scope.with, scope.condition
        );
        let params = scope.params(&[(":id", &id)]);
        self.read(|conn| Ok(conn.prepare_cached(&sql)?.exists(params.as_slice())?))
    }

    fn in_branch(&self, manager: AccountId, target: AccountId) -> StoreResult<bool> {
        if manager == target {
            return Ok(false); // nobody is in their own branch
        }
        // Walks up from `target` through the manager pointers.
        const SQL: &str = "WITH RECURSIVE above(id, depth) AS (
                SELECT manager, 1 FROM accounts WHERE id = :target
                UNION ALL
                SELECT a.manager, above.depth + 1
                FROM accounts a JOIN above ON a.id = above.id
                WHERE above.depth < :max_depth AND above.id <> :manager
            )
            SELECT 1 FROM above WHERE id = :manager";
        self.read(|conn| {
            Ok(conn.prepare_cached(SQL)?.exists(named_params! {
                ":target": target,
                ":manager": manager,
                ":max_depth": MAX_MANAGER_DEPTH,
            })?)
        })
    }

    // --- organisation tree ------------------------------------------------

    fn insert_node(&self, row: &NewNodeRow) -> StoreResult<NodeId> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO nodes (uuid, name, kind, parent, external_id, gid_number,
                    created, modified, version)
                 VALUES (:uuid, :name, :kind, :parent, :external_id, :gid_number, :now, :now, 1)",
            )?
            .execute(named_params! {
                ":uuid": uuid_text(row.uuid),
                ":gid_number": row.gid_number,
                ":name": row.name,
                ":kind": row.kind.as_str(),
                ":parent": row.parent,
                ":external_id": row.external_id,
                ":now": micros(row.now),
            })
            .map_err(|e| {
                if is_foreign_key(&e) {
                    StoreError::NotFound("parent group")
                } else {
                    write_error(e)
                }
            })?;
            let id = tx.last_insert_rowid();
            nodes::write_members(tx, id, &row.members, &[], row.now)?;
            nodes::adopt(tx, id, &row.children, row.now)?;
            Ok(id)
        })
    }

    fn allocate_number(&self, kind: NumberKind, min: i64, max: i64) -> StoreResult<Option<i64>> {
        self.write(|tx| {
            let stored: Option<i64> = query_one(
                tx,
                "SELECT next FROM posix_numbers WHERE kind = ?1",
                [kind.as_str()],
                convert::id,
            )?;
            // Taken: an account's uidNumber (which is also its private
            // group's number) or a group's gidNumber, whichever the kind.
            let mut taken = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE uid_number = ?1)
                     OR EXISTS (SELECT 1 FROM nodes WHERE gid_number = ?2)",
            )?;
            let mut n = stored.unwrap_or(min).max(min);
            while n <= max {
                let used: bool = taken.query_row(params![n.to_string(), n], |r| r.get(0))?;
                if !used {
                    break;
                }
                n += 1;
            }
            if n > max {
                return Ok(None);
            }
            tx.prepare_cached(
                "INSERT INTO posix_numbers (kind, next) VALUES (?1, ?2)
                 ON CONFLICT (kind) DO UPDATE SET next = excluded.next",
            )?
            .execute(params![kind.as_str(), n + 1])?;
            Ok(Some(n))
        })
    }

    fn set_node_gid_number(&self, id: NodeId, gid: i64, now: Timestamp) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE nodes SET gid_number = ?2, version = version + 1, modified = ?3
                 WHERE id = ?1 AND gid_number IS NULL",
            )?
            .execute(params![id, gid, micros(now)])
            .map_err(write_error)?;
            Ok(())
        })
    }

    fn node(&self, id: NodeId) -> StoreResult<Option<Node>> {
        self.node_where("n.id = ?1", &id)
    }

    fn node_by_name(&self, name: &str) -> StoreResult<Option<Node>> {
        self.node_where("n.name = ?1 COLLATE NOCASE", &name)
    }

    fn list_nodes(&self, visibility: Visibility, page: Page) -> StoreResult<Vec<Node>> {
        let scope = Scope::nodes(visibility);
        let sql = format!(
            "{}SELECT {NODE_COLUMNS} FROM nodes n WHERE {}
             ORDER BY n.id LIMIT :limit OFFSET :offset",
            scope.with, scope.condition
        );
        let (offset, limit) = page_bounds(page);
        let params = scope.params(&[(":limit", &limit), (":offset", &offset)]);
        self.read(|conn| query_all(conn, &sql, params.as_slice(), convert::node))
    }

    fn set_node_parent(
        &self,
        id: NodeId,
        parent: Option<NodeId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        // Refusing a cycle is the core's rule; the store only writes.
        self.change_node(
            id,
            &NodeChange {
                parent: Some(parent),
                ..NodeChange::default()
            },
            None,
            now,
        )
    }

    fn delete_node(&self, id: NodeId) -> StoreResult<()> {
        self.write(|tx| {
            let referenced = |sql: &str| -> StoreResult<bool> {
                Ok(tx.prepare_cached(sql)?.exists(params![id])?)
            };
            if referenced("SELECT 1 FROM nodes WHERE parent = ?1")? {
                return Err(StoreError::InUse(
                    "the group has subgroups: move or delete them first",
                ));
            }
            if referenced("SELECT 1 FROM accounts WHERE restricted_to = ?1 OR admin_entity = ?1")? {
                return Err(StoreError::InUse(
                    "accounts are restricted to or administer this group: change them first",
                ));
            }
            tx.prepare_cached("DELETE FROM memberships WHERE node_id = ?1")?
                .execute(params![id])?;
            let gone = tx
                .prepare_cached("DELETE FROM nodes WHERE id = ?1")?
                .execute(params![id])?;
            if gone == 0 {
                return Err(StoreError::NotFound("group"));
            }
            Ok(())
        })
    }

    fn node_in_subtree(&self, root: NodeId, node: NodeId) -> StoreResult<bool> {
        // Walks up from `node` (one parent per level, cheaper than walking
        // down from `root`); UNION stops a corrupt cycle.
        const SQL: &str = "WITH RECURSIVE above(id) AS (
                SELECT id FROM nodes WHERE id = :node
                UNION
                SELECT n.parent FROM nodes n JOIN above ON n.id = above.id
                WHERE n.parent IS NOT NULL
            )
            SELECT 1 FROM above WHERE id = :root";
        self.read(|conn| {
            Ok(conn
                .prepare_cached(SQL)?
                .exists(named_params! { ":node": node, ":root": root })?)
        })
    }

    fn add_member(&self, node: NodeId, account: AccountId, now: Timestamp) -> StoreResult<()> {
        self.change_node(
            node,
            &NodeChange {
                add_members: vec![account],
                ..NodeChange::default()
            },
            None,
            now,
        )
    }

    fn remove_member(&self, node: NodeId, account: AccountId, now: Timestamp) -> StoreResult<()> {
        self.change_node(
            node,
            &NodeChange {
                remove_members: vec![account],
                ..NodeChange::default()
            },
            None,
            now,
        )
    }

    fn members(&self, node: NodeId) -> StoreResult<Vec<AccountId>> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT account_id FROM memberships WHERE node_id = ?1 ORDER BY account_id",
                [node],
                convert::id,
            )
        })
    }

    fn memberships(&self, account: AccountId) -> StoreResult<Vec<NodeId>> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT node_id FROM memberships WHERE account_id = ?1 ORDER BY node_id",
                [account],
                convert::id,
            )
        })
    }

    // --- security roles ---------------------------------------------------

    fn roles(&self) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            query_all(conn, "SELECT name FROM roles ORDER BY name", [], |row| {
                Ok(row.get(0)?)
            })
        })
    }

    fn insert_role(&self, name: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO roles (name) VALUES (?1)")?
                .execute([name])
                .map_err(write_error)?;
            Ok(())
        })
    }

    // --- bearer tokens ----------------------------------------------------

    fn insert_token(
        &self,
        id: Uuid,
        account: AccountId,
        secret_hash: &[u8; 32],
        expires: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO tokens (id, account_id, secret_hash, created, expires, revoked)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            )?
            .execute(params![
                uuid_text(id),
                account,
                &secret_hash[..],
                micros(now),
                expires.map(micros),
            ])
            .map_err(|e| {
                if is_foreign_key(&e) {
                    StoreError::NotFound("account")
                } else {
                    write_error(e)
                }
            })?;
            Ok(())
        })
    }

    fn token_by_hash(&self, secret_hash: &[u8; 32]) -> StoreResult<Option<TokenRow>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.secret_hash = ?1"
        );
        let info = self.read(|conn| query_one(conn, &sql, [&secret_hash[..]], convert::token))?;
        Ok(info.map(|info| TokenRow { info }))
    }

    fn list_tokens(&self) -> StoreResult<Vec<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN accounts a ON a.id = t.account_id
             ORDER BY t.created, t.id"
        );
        self.read(|conn| query_all(conn, &sql, [], convert::token))
    }

    fn revoke_token(&self, id: Uuid, now: Timestamp) -> StoreResult<()> {
        self.write(|tx| {
            // Revoking twice keeps the first revocation time.
            let changed = tx
                .prepare_cached("UPDATE tokens SET revoked = coalesce(revoked, ?2) WHERE id = ?1")?
                .execute(params![uuid_text(id), micros(now)])?;
            if changed == 0 {
                return Err(StoreError::NotFound("token"));
            }
            Ok(())
        })
    }

    // --- searching --------------------------------------------------------

    fn use_totp_step(&self, account: AccountId, step: i64) -> StoreResult<bool> {
        // One statement: of two binds racing with one code, one changes the
        // row and the other finds the step already used. Not a change of
        // the account's data, so version and modified stay.
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE accounts SET totp_last_step = ?2
                     WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                )?
                .execute(params![account, step])?;
            Ok(changed == 1)
        })
    }

    fn search_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        filter: &Filter<AccountField>,
        sort: Option<Sort<AccountField>>,
        slice: Slice,
    ) -> StoreResult<Vec<Account>> {
        let query = search::accounts(visibility, include_archived, filter, sort, slice)?;
        self.read(|conn| query.all(conn, convert::account))
    }

    fn count_matching_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        filter: &Filter<AccountField>,
    ) -> StoreResult<u64> {
        let query = search::count_accounts(visibility, include_archived, filter)?;
        self.read(|conn| query.count(conn))
    }

    fn account_by_external_id(&self, external_id: &str) -> StoreResult<Option<Account>> {
        // Not unique: the oldest wins (the index keeps equal keys in id order).
        self.account_where("a.external_id = ?1 ORDER BY a.id", &external_id)
    }

    fn related(
        &self,
        visibility: Visibility,
        accounts: &[&Account],
        nodes: &[&Node],
    ) -> StoreResult<Related> {
        self.read(|conn| related::related(conn, visibility, accounts, nodes))
    }

    fn search_nodes(
        &self,
        visibility: Visibility,
        filter: &Filter<NodeField>,
        sort: Option<Sort<NodeField>>,
        slice: Slice,
    ) -> StoreResult<Vec<Node>> {
        let query = search::nodes(visibility, filter, sort, slice)?;
        self.read(|conn| query.all(conn, convert::node))
    }

    fn count_matching_nodes(
        &self,
        visibility: Visibility,
        filter: &Filter<NodeField>,
    ) -> StoreResult<u64> {
        let query = search::count_nodes(visibility, filter)?;
        self.read(|conn| query.count(conn))
    }

    fn node_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Node>> {
        self.node_where("n.uuid = ?1", &uuid_text(uuid))
    }

    fn change_node(
        &self,
        id: NodeId,
        change: &NodeChange,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write(|tx| {
            nodes::check_version(tx, id, expected_version)?;
            let fields = nodes::update_fields(
                tx,
                id,
                change.name.as_deref(),
                change.external_id.as_ref().map(|e| e.as_deref()),
            )?;
            let members =
                nodes::write_members(tx, id, &change.add_members, &change.remove_members, now)?;
            let children = nodes::adopt(tx, id, &change.adopt, now)?;
            let moved = match change.parent {
                Some(parent) => nodes::set_parent(tx, id, parent)?,
                None => false,
            };
            if fields || members || children || moved {
                touch_node(tx, id, now)?;
            }
            Ok(())
        })
    }
}
