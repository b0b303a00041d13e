//! Between SQLite and the model: reading rows into model types (a stored
//! value that does not read back is `Corrupt`), and turning constraint
//! failures into the `StoreError` the core can explain.

use std::fmt::Display;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::{ffi, Connection, Params, Row, RowIndex};
use uuid::Uuid;

use crate::model::{Account, Attribute, Attributes, Node, TokenInfo};
use crate::store::{StoreError, StoreResult};

/// The account columns, over `accounts a`. The roles come along as a JSON
/// array so that a list of accounts is one statement, not one per account;
/// the secrets themselves stay behind, only whether they are set is read.
pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.uuid, a.user_name, a.given_name, \
    a.family_name, a.email, a.mobile, a.time_zone, a.account_type, a.auth_method, \
    a.restricted_to, a.manager, a.admin_level, a.admin_entity, a.status, a.archived, \
    a.reset_pending, a.password_hash IS NOT NULL AS has_password, \
    a.totp_secret IS NOT NULL AS totp_enrolled, a.external_id, a.created, a.modified, \
    a.version, \
    (SELECT json_group_array(r.role) FROM account_roles r WHERE r.account_id = a.id) AS roles, \
    a.login_name, \
    a.display_name, a.name_formatted, a.title, a.preferred_language, a.work_phone, a.fax, a.address_formatted, a.street_address, a.locality, \
    a.region, a.postal_code, a.country, a.employee_number, a.department, a.cost_center, a.organization, a.division, \
    a.uid_number, a.gid_number, a.home_directory, a.login_shell, a.gecos, a.ssh_public_keys";

/// The position of the first `Attribute` column in `ACCOUNT_COLUMNS`; the
/// rest follow in `Attribute::ALL` order.
const FIRST_ATTRIBUTE_COLUMN: usize = 25;

/// The node columns, over `nodes n`.
pub(super) const NODE_COLUMNS: &str =
    "n.id, n.uuid, n.name, n.kind, n.parent, n.external_id, n.created, n.modified, n.version, \
    n.gid_number";

/// The token columns, over `tokens t JOIN accounts a ON a.id = t.account_id`.
pub(super) const TOKEN_COLUMNS: &str =
    "t.id, t.account_id, a.user_name, t.created, t.expires, t.revoked IS NOT NULL AS revoked";

/// The names `ACCOUNT_COLUMNS` gives its columns, in order. Rows are read
/// by position: by name, rusqlite compares every column's name for every
/// value (3% of a search profile). A test keeps the two lists in step.
#[cfg(test)]
pub(super) const ACCOUNT_COLUMN_NAMES: [&str; 48] = [
    "id",
    "uuid",
    "user_name",
    "given_name",
    "family_name",
    "email",
    "mobile",
    "time_zone",
    "account_type",
    "auth_method",
    "restricted_to",
    "manager",
    "admin_level",
    "admin_entity",
    "status",
    "archived",
    "reset_pending",
    "has_password",
    "totp_enrolled",
    "external_id",
    "created",
    "modified",
    "version",
    "roles",
    "login_name",
    "display_name",
    "name_formatted",
    "title",
    "preferred_language",
    "work_phone",
    "fax",
    "address_formatted",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
    "employee_number",
    "department",
    "cost_center",
    "organization",
    "division",
    "uid_number",
    "gid_number",
    "home_directory",
    "login_shell",
    "gecos",
    "ssh_public_keys",
];

/// The same for `NODE_COLUMNS`.
#[cfg(test)]
pub(super) const NODE_COLUMN_NAMES: [&str; 10] = [
    "id",
    "uuid",
    "name",
    "kind",
    "parent",
    "external_id",
    "created",
    "modified",
    "version",
    "gid_number",
];

pub(super) fn account(row: &Row<'_>) -> StoreResult<Account> {
    let roles: String = row.get(23)?;
    let mut roles: Vec<String> = serde_json::from_str(&roles)
        .map_err(|e| StoreError::Corrupt(format!("account roles {roles:?}: {e}")))?;
    roles.sort();
    let mut attributes = Attributes::default();
    for (i, &a) in Attribute::ALL.iter().enumerate() {
        attributes.set(a, row.get(FIRST_ATTRIBUTE_COLUMN + i)?);
    }
    Ok(Account {
        id: row.get(0)?,
        uuid: uuid(row, 1)?,
        user_name: row.get(2)?,
        login_name: row.get(24)?,
        given_name: row.get(3)?,
        family_name: row.get(4)?,
        email: row.get(5)?,
        mobile: row.get(6)?,
        time_zone: row.get(7)?,
        account_type: named(row, 8)?,
        auth_method: named(row, 9)?,
        restricted_to: row.get(10)?,
        manager: row.get(11)?,
        admin_level: named(row, 12)?,
        admin_entity: row.get(13)?,
        roles,
        status: named(row, 14)?,
        archived: row.get(15)?,
        reset_pending: row.get(16)?,
        has_password: row.get(17)?,
        totp_enrolled: row.get(18)?,
        external_id: row.get(19)?,
        attributes,
        created: timestamp(row, 20)?,
        modified: timestamp(row, 21)?,
        version: row.get(22)?,
    })
}

pub(super) fn node(row: &Row<'_>) -> StoreResult<Node> {
    Ok(Node {
        id: row.get(0)?,
        uuid: uuid(row, 1)?,
        name: row.get(2)?,
        kind: named(row, 3)?,
        parent: row.get(4)?,
        external_id: row.get(5)?,
        created: timestamp(row, 6)?,
        modified: timestamp(row, 7)?,
        version: row.get(8)?,
        gid_number: row.get(9)?,
    })
}

pub(super) fn token(row: &Row<'_>) -> StoreResult<TokenInfo> {
    Ok(TokenInfo {
        id: uuid(row, "id")?,
        account: row.get("account_id")?,
        user_name: row.get("user_name")?,
        created: timestamp(row, "created")?,
        expires: optional_timestamp(row, "expires")?,
        revoked: row.get("revoked")?,
    })
}

pub(super) fn id(row: &Row<'_>) -> StoreResult<i64> {
    Ok(row.get(0)?)
}

/// How timestamps are stored: unix microseconds.
pub(super) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// How UUIDs are stored: hyphenated lower case.
pub(super) fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn uuid<I: RowIndex + Display>(row: &Row<'_>, column: I) -> StoreResult<Uuid> {
    let text: String = row.get(column)?;
    Uuid::parse_str(&text).map_err(|e| corrupt(column, &text, e))
}

pub(super) fn timestamp<I: RowIndex + Display>(row: &Row<'_>, column: I) -> StoreResult<Timestamp> {
    let value: i64 = row.get(column)?;
    Timestamp::from_microsecond(value).map_err(|e| corrupt(column, &value, e))
}

pub(super) fn optional_timestamp<I: RowIndex + Display>(
    row: &Row<'_>,
    column: I,
) -> StoreResult<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(column)? {
        None => Ok(None),
        Some(value) => Timestamp::from_microsecond(value)
            .map(Some)
            .map_err(|e| corrupt(column, &value, e)),
    }
}

/// An enum stored by its `as_str()` name.
pub(super) fn named<T, I: RowIndex + Display>(row: &Row<'_>, column: I) -> StoreResult<T>
where
    T: FromStr,
    T::Err: Display,
{
    let text: String = row.get(column)?;
    text.parse().map_err(|e| corrupt(column, &text, e))
}

pub(super) fn corrupt(
    column: impl Display,
    value: &dyn std::fmt::Debug,
    why: impl Display,
) -> StoreError {
    StoreError::Corrupt(format!("{column} {value:?}: {why}"))
}

/// Runs a query and reads its first row, if any.
pub(super) fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    read: fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => read(row).map(Some),
        None => Ok(None),
    }
}

/// Runs a query and reads every row.
pub(super) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    read: fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row)?);
    }
    Ok(out)
}

/// What each unique constraint protects, by the `table.column` SQLite names
/// in its message ("UNIQUE constraint failed: accounts.user_name").
const UNIQUE_FIELDS: &[(&str, &str)] = &[
    ("accounts.user_name", "user name"),
    // The login identity: one SCIM userName names one account.
    ("index 'accounts_login'", "user name"),
    ("accounts.uuid", "uuid"),
    ("nodes.name", "group name"),
    ("nodes.uuid", "uuid"),
    ("accounts.uid_number", "UID number"),
    ("nodes.gid_number", "GID number"),
    ("roles.name", "security role"),
    ("tokens.id", "token id"),
    ("tokens.secret_hash", "token secret"),
    ("memberships.node_id, memberships.account_id", "membership"),
    (
        "account_roles.account_id, account_roles.role",
        "security role",
    ),
];

/// A unique-constraint failure becomes `Conflict` naming the field; anything
/// else stays a database error.
/// SQLite's errors as the store's (the `?` in every statement here).
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(err))
    }
}

pub(super) fn write_error(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(e, Some(message)) = &err {
        if matches!(
            e.extended_code,
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        ) {
            let columns = message
                .strip_prefix("UNIQUE constraint failed: ")
                .unwrap_or(message);
            let field = UNIQUE_FIELDS
                .iter()
                .find(|(known, _)| *known == columns)
                .map_or("value", |(_, field)| field);
            return StoreError::Conflict(field);
        }
    }
    StoreError::from(err)
}

/// Whether a write failed on a foreign key. SQLite does not say which one,
/// so the caller, which knows what it referenced, names the missing row.
pub(super) fn is_foreign_key(err: &rusqlite::Error) -> bool {
    err.sqlite_extended_error_code() == Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}
