//! Search filters ([`Filter`]) as SQL: a `WHERE` fragment with every value
//! bound as a parameter (never written into the text), ANDed with the
//! reader's visibility. The same filter shape always gives the same SQL
//! text, so `prepare_cached` reuses the statement.
//!
//! Three-valued logic comes for free: `Undefined` is SQL `NULL`, `NOT NULL`
//! is `NULL`, and `WHERE NULL` selects nothing, exactly as LDAP has it. What
//! SQL gets "wrong" for LDAP is an *absent* value: `email = 'x'` on a NULL
//! email is NULL in SQL but FALSE in LDAP (so `(!(mail=x))` must match
//! accounts without a mail); nullable columns are therefore guarded with
//! `col IS NOT NULL AND ...`, which is FALSE, not NULL, for them.
//!
//! Text compares ignoring (ASCII) case with `COLLATE NOCASE`, which the
//! NOCASE indexes serve; substrings use `LIKE`, ASCII-case-insensitive too.
//! `Uuid` compares the lower-cased value to the stored lower-case text and
//! `ExternalId` exactly (`GLOB` for its substrings, which is case-sensitive).

use std::fmt::Write as _;

use rusqlite::types::Value as SqlValue;
use rusqlite::{ffi, CachedStatement, Connection, Row};

use super::convert::{micros, ACCOUNT_COLUMNS, NODE_COLUMNS};
use super::scope::{self, Scope, Visible};
use crate::model::query::{AccountField, Filter, NodeField, Slice, Sort, Test, Value};
use crate::model::Attribute;
use crate::store::{StoreError, StoreResult, Visibility};

/// Deeper filters are refused before any SQL is built: no real filter nests
/// this far, SQLite's own expression limit (1000) would refuse them anyway,
/// and it bounds the recursion here.
const MAX_FILTER_DEPTH: usize = 500;

/// One statement and its parameters, by name.
#[derive(Debug)]
pub(super) struct Query {
    pub sql: String,
    pub binds: Vec<(String, SqlValue)>,
}

impl Query {
    /// Every row, read by `read`.
    pub fn all<T>(
        &self,
        conn: &Connection,
        read: fn(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = prepare(conn, &self.sql, &self.binds)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(read(row)?);
        }
        Ok(out)
    }

    /// The single integer of a `count(*)` query.
    pub fn count(&self, conn: &Connection) -> StoreResult<u64> {
        let mut stmt = prepare(conn, &self.sql, &self.binds)?;
        let mut rows = stmt.raw_query();
        let n: i64 = match rows.next()? {
            Some(row) => row.get(0)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Prepares `sql` (from the connection's cache) and binds every parameter
/// of `binds` that the statement has; names it does not have are skipped,
/// so the visibility parameters can always be offered whole.
pub(super) fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    binds: &[(String, SqlValue)],
) -> StoreResult<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut bound = 0;
    for (name, value) in binds {
        if let Some(index) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(index, value)?;
            bound += 1;
        }
    }
    debug_assert_eq!(bound, stmt.parameter_count(), "unbound parameter in {sql}");
    Ok(stmt)
}

/// The visibility's parameters, ready to be extended with a query's own.
pub(super) fn visibility_binds(visibility: Visibility) -> Vec<(String, SqlValue)> {
    scope::binds(visibility)
        .into_iter()
        .map(|(name, id)| (name.to_owned(), SqlValue::Integer(id)))
        .collect()
}

/// SQLite has no unsigned integers.
fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One slice of the accounts matching `filter` under `visibility`.
pub(super) fn accounts(
    visibility: Visibility,
    include_archived: bool,
    filter: &Filter<AccountField>,
    sort: Option<Sort<AccountField>>,
    slice: Slice,
) -> StoreResult<Query> {
    let (with, condition, mut binds) = account_condition(visibility, include_archived, filter)?;
    let after = slice_binds(&mut binds, slice, "a.id");
    let order = order_by(sort, "a.id");
    Ok(Query {
        sql: format!(
            "{with}SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE {condition}{after} \
             ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        binds,
    })
}

/// How many accounts match `filter` under `visibility`.
pub(super) fn count_accounts(
    visibility: Visibility,
    include_archived: bool,
    filter: &Filter<AccountField>,
) -> StoreResult<Query> {
    let (with, condition, binds) = account_condition(visibility, include_archived, filter)?;
    Ok(Query {
        sql: format!("{with}SELECT count(*) FROM accounts a WHERE {condition}"),
        binds,
    })
}

/// One slice of the nodes matching `filter` under `visibility`.
pub(super) fn nodes(
    visibility: Visibility,
    filter: &Filter<NodeField>,
    sort: Option<Sort<NodeField>>,
    slice: Slice,
) -> StoreResult<Query> {
    let (with, condition, mut binds) = node_condition(visibility, filter)?;
    let after = slice_binds(&mut binds, slice, "n.id");
    let order = order_by(sort, "n.id");
    Ok(Query {
        sql: format!(
            "{with}SELECT {NODE_COLUMNS} FROM nodes n WHERE {condition}{after} \
             ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        binds,
    })
}

/// How many nodes match `filter` under `visibility`.
pub(super) fn count_nodes(
    visibility: Visibility,
    filter: &Filter<NodeField>,
) -> StoreResult<Query> {
    let (with, condition, binds) = node_condition(visibility, filter)?;
    Ok(Query {
        sql: format!("{with}SELECT count(*) FROM nodes n WHERE {condition}"),
        binds,
    })
}

/// Binds the slice's bounds; returns the keyset condition on `id` if any.
fn slice_binds(binds: &mut Vec<(String, SqlValue)>, slice: Slice, id: &str) -> String {
    binds.push((":limit".into(), SqlValue::Integer(clamp(slice.limit))));
    binds.push((":offset".into(), SqlValue::Integer(clamp(slice.offset))));
    match slice.after {
        Some(after) => {
            binds.push((":after".into(), SqlValue::Integer(after)));
            format!(" AND {id} > :after")
        }
        None => String::new(),
    }
}

/// The `ORDER BY` terms for `sort`, ending with the row id `id` (alone
/// without a sort). Only the fixed expressions of [`Sortable::sort_key`]
/// are written, never anything from the request.
///
/// An absent value is NULL (empty text is made NULL with `NULLIF`, as the
/// faces show an empty field as absent) and goes last ascending, first
/// descending (RFC 7644 section 3.4.2.3). The row id follows the sort's
/// direction, so descending is ascending reversed.
fn order_by<F: Sortable>(sort: Option<Sort<F>>, id: &str) -> String {
    let Some(Sort { field, descending }) = sort else {
        return id.to_owned();
    };
    let Some(SortKey { sql, compare }) = field.sort_key() else {
        // The core refuses unsortable fields before asking; row-id order
        // is the honest fallback.
        return id.to_owned();
    };
    let collate = if compare == Compare::NoCase {
        " COLLATE NOCASE"
    } else {
        ""
    };
    let (direction, nulls) = if descending {
        ("DESC", "FIRST")
    } else {
        ("ASC", "LAST")
    };
    format!("{sql}{collate} {direction} NULLS {nulls}, {id} {direction}")
}

/// What a search is ordered by for one sortable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SortKey {
    /// A fixed SQL expression over the row (`a.` or `n.`).
    sql: &'static str,
    compare: Compare,
}

/// Fields a search can be ordered by.
trait Sortable: Copy {
    /// The key, or `None` for a field that is not sortable (see
    /// `AccountField::sortable`).
    fn sort_key(self) -> Option<SortKey>;
}

const fn key(sql: &'static str, compare: Compare) -> Option<SortKey> {
    Some(SortKey { sql, compare })
}

impl Sortable for AccountField {
    fn sort_key(self) -> Option<SortKey> {
        use AccountField as A;
        use Compare::{Exact, NoCase};
        match self {
            A::UserName => key("a.user_name", NoCase),
            A::Login => key(LOGIN, NoCase),
            A::LoginName => key("a.login_name", NoCase),
            A::ShownName => key(SHOWN_NAME, NoCase),
            A::Attribute(Attribute::UidNumber) => key("CAST(a.uid_number AS INTEGER)", Exact),
            A::Attribute(Attribute::GidNumber) => key("CAST(a.gid_number AS INTEGER)", Exact),
            A::Attribute(attr) => key(attribute_column(attr), NoCase),
            A::GivenName => key("NULLIF(a.given_name, '')", NoCase),
            A::FamilyName => key("NULLIF(a.family_name, '')", NoCase),
            A::FullName => key("a.full_name", NoCase),
            A::Email => key("NULLIF(a.email, '')", NoCase),
            A::Mobile => key("NULLIF(a.mobile, '')", NoCase),
            A::TimeZone => key("NULLIF(a.time_zone, '')", NoCase),
            A::AccountType => key("a.account_type", NoCase),
            A::AuthMethod => key("a.auth_method", NoCase),
            A::Status => key("a.status", NoCase),
            A::AdminLevel => key("a.admin_level", NoCase),
            // Stored in lower case.
            A::Uuid => key("a.uuid", Exact),
            A::ExternalId => key("NULLIF(a.external_id, '')", Exact),
            // Unix microseconds.
            A::Created => key("a.created", Exact),
            A::Modified => key("a.modified", Exact),
            A::Role | A::Manager | A::RestrictedTo | A::MemberOf | A::MemberOfChain => None,
        }
    }
}

impl Sortable for NodeField {
    fn sort_key(self) -> Option<SortKey> {
        use Compare::{Exact, NoCase};
        use NodeField as N;
        match self {
            N::Name => key("n.name", NoCase),
            N::Uuid => key("n.uuid", Exact),
            N::ExternalId => key("NULLIF(n.external_id, '')", Exact),
            N::Kind => key("n.kind", NoCase),
            N::Created => key("n.created", Exact),
            N::Modified => key("n.modified", Exact),
            N::GidNumber => key("n.gid_number", Exact),
            N::Parent | N::ParentChain | N::Member | N::Child => None,
        }
    }
}

type Condition = (&'static str, String, Vec<(String, SqlValue)>);

fn account_condition(
    visibility: Visibility,
    include_archived: bool,
    filter: &Filter<AccountField>,
) -> StoreResult<Condition> {
    let scope = Scope::accounts(visibility);
    let mut builder = Builder::new(visibility);
    let mut condition = format!("{} AND ", scope.condition);
    if !include_archived {
        condition.push_str("a.archived = 0 AND ");
    }
    builder.filter(&mut condition, filter, 0)?;
    Ok((scope.with, condition, builder.binds))
}

fn node_condition(visibility: Visibility, filter: &Filter<NodeField>) -> StoreResult<Condition> {
    let scope = Scope::nodes(visibility);
    let mut builder = Builder::new(visibility);
    let mut condition = format!("{} AND ", scope.condition);
    builder.filter(&mut condition, filter, 0)?;
    Ok((scope.with, condition, builder.binds))
}

/// How a text column compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Ignoring ASCII case, as the NOCASE indexes do.
    NoCase,
    /// Byte for byte (`ExternalId`).
    Exact,
    /// The value lower-cased, then byte for byte (`Uuid`, stored lower-case).
    Lower,
}

/// A text column of the row being searched.
#[derive(Debug, Clone, Copy)]
struct Column {
    sql: &'static str,
    compare: Compare,
    /// NULL is an absent value, for which every test is FALSE.
    nullable: bool,
}

/// The login identity, as the unique index `accounts_login` has it.
const LOGIN: &str = "COALESCE(a.login_name, a.user_name)";
/// The name shown: the display name, else the full name.
const SHOWN_NAME: &str = "COALESCE(a.display_name, a.full_name)";

/// The column of a directory attribute (migration 0005 names each by its
/// stored name).
const fn attribute_column(attr: Attribute) -> &'static str {
    use Attribute as T;
    match attr {
        T::DisplayName => "a.display_name",
        T::NameFormatted => "a.name_formatted",
        T::Title => "a.title",
        T::PreferredLanguage => "a.preferred_language",
        T::WorkPhone => "a.work_phone",
        T::Fax => "a.fax",
        T::AddressFormatted => "a.address_formatted",
        T::StreetAddress => "a.street_address",
        T::Locality => "a.locality",
        T::Region => "a.region",
        T::PostalCode => "a.postal_code",
        T::Country => "a.country",
        T::EmployeeNumber => "a.employee_number",
        T::Department => "a.department",
        T::CostCenter => "a.cost_center",
        T::Organization => "a.organization",
        T::Division => "a.division",
        T::UidNumber => "a.uid_number",
        T::GidNumber => "a.gid_number",
        T::HomeDirectory => "a.home_directory",
        T::LoginShell => "a.login_shell",
        T::Gecos => "a.gecos",
        T::SshPublicKeys => "a.ssh_public_keys",
    }
}

const fn nocase(sql: &'static str) -> Column {
    Column {
        sql,
        compare: Compare::NoCase,
        nullable: false,
    }
}

/// Fields of a filter that know their own SQL.
trait Field: Copy {
    fn write(self, b: &mut Builder, out: &mut String, test: &Test);
}

/// Builds one condition, collecting its parameters.
struct Builder {
    binds: Vec<(String, SqlValue)>,
    accounts: Visible,
    nodes: Visible,
}

impl Builder {
    fn new(visibility: Visibility) -> Builder {
        Builder {
            binds: visibility_binds(visibility),
            accounts: Visible::accounts(visibility),
            nodes: Visible::nodes(visibility),
        }
    }

    /// A new parameter holding `value`; returns its name.
    fn bind(&mut self, value: SqlValue) -> String {
        let name = format!(":p{}", self.binds.len() + 1);
        self.binds.push((name.clone(), value));
        name
    }

    fn filter<F: Field>(
        &mut self,
        out: &mut String,
        f: &Filter<F>,
        depth: usize,
    ) -> StoreResult<()> {
        if depth > MAX_FILTER_DEPTH {
            return Err(too_deep());
        }
        match f {
            Filter::True => out.push('1'),
            Filter::False => out.push('0'),
            Filter::Undefined => out.push_str("NULL"),
            Filter::And(parts) => self.join(out, parts, " AND ", "1", depth)?,
            Filter::Or(parts) => self.join(out, parts, " OR ", "0", depth)?,
            Filter::Not(inner) => {
                out.push_str("(NOT ");
                self.filter(out, inner, depth + 1)?;
                out.push(')');
            }
            Filter::Test(field, test) => field.write(self, out, test),
        }
        Ok(())
    }

    /// `parts` joined by `op` as a balanced tree of parentheses, so that a
    /// long list (`(|(uid=a)(uid=b)...)`) nests log(n) deep, not n deep
    /// (SQLite limits the depth of an expression, not its width).
    fn join<F: Field>(
        &mut self,
        out: &mut String,
        parts: &[Filter<F>],
        op: &str,
        empty: &str,
        depth: usize,
    ) -> StoreResult<()> {
        match parts {
            [] => out.push_str(empty),
            [one] => self.filter(out, one, depth + 1)?,
            _ => {
                let (left, right) = parts.split_at(parts.len() / 2);
                out.push('(');
                self.join(out, left, op, empty, depth)?;
                out.push_str(op);
                self.join(out, right, op, empty, depth)?;
                out.push(')');
            }
        }
        Ok(())
    }

    /// A test on a text column.
    fn text(&mut self, out: &mut String, column: Column, test: &Test) {
        let Column {
            sql: col,
            compare,
            nullable,
        } = column;
        let guard = if nullable {
            format!("{col} IS NOT NULL AND ")
        } else {
            String::new()
        };
        let collate = if compare == Compare::NoCase {
            " COLLATE NOCASE"
        } else {
            ""
        };
        match test {
            Test::Present => {
                let _ = write!(out, "({guard}{col} <> '')");
            }
            Test::Substring { initial, any, last } => {
                let (op, pattern) = if compare == Compare::Exact {
                    ("GLOB", pattern(initial, any, last, '*', glob_escape))
                } else {
                    ("LIKE", pattern(initial, any, last, '%', like_escape))
                };
                let p = self.bind(SqlValue::Text(pattern));
                let escape = if op == "LIKE" { " ESCAPE '\\'" } else { "" };
                let _ = write!(out, "({guard}{col} {op} {p}{escape})");
            }
            _ => match comparison(test) {
                Some((op, Value::Text(value))) => {
                    let value = if compare == Compare::Lower {
                        value.to_lowercase()
                    } else {
                        value.clone()
                    };
                    let p = self.bind(SqlValue::Text(value));
                    let _ = write!(out, "({guard}{col} {op} {p}{collate})");
                }
                // A time against text: the test is undefined.
                _ => out.push_str("NULL"),
            },
        }
    }

    /// A test on a POSIX number (integerMatch, integerOrderingMatch): a
    /// value that is not an integer makes the test undefined. A number kept
    /// as canonical decimal text (`as_text`) is looked up by equality
    /// through its index and ordered by its integer value.
    fn number(&mut self, out: &mut String, col: &str, as_text: bool, test: &Test) {
        if *test == Test::Present {
            let _ = write!(out, "({col} IS NOT NULL)");
            return;
        }
        let Some((op, Value::Text(value))) = comparison(test) else {
            out.push_str("NULL");
            return;
        };
        let Ok(n) = value.trim().parse::<i64>() else {
            out.push_str("NULL");
            return;
        };
        if op == "=" && as_text {
            let p = self.bind(SqlValue::Text(n.to_string()));
            let _ = write!(out, "({col} IS NOT NULL AND {col} = {p})");
        } else {
            let p = self.bind(SqlValue::Integer(n));
            let _ = write!(
                out,
                "({col} IS NOT NULL AND CAST({col} AS INTEGER) {op} {p})"
            );
        }
    }

    /// A test on a time column (unix microseconds).
    fn time(&mut self, out: &mut String, col: &str, test: &Test) {
        match (test, comparison(test)) {
            (Test::Present, _) => out.push('1'),
            (_, Some(("=", Value::Time(at)))) => {
                let p = self.bind(SqlValue::Integer(micros(*at)));
                let _ = write!(out, "({col} = {p})");
            }
            // `unlikely` tells the planner a range of times is selective (a
            // sync asks "what changed since T?"); otherwise, with no
            // statistics, it prefers scanning in id order to save the sort
            // and never uses the index. It changes no value, NULL included.
            (_, Some((op, Value::Time(at)))) => {
                let p = self.bind(SqlValue::Integer(micros(*at)));
                let _ = write!(out, "unlikely({col} {op} {p})");
            }
            // Text against a time, or a substring of one: undefined.
            _ => out.push_str("NULL"),
        }
    }

    /// A test on a reference by name: `Equals` binds the name and calls
    /// `equals` with the parameter; `Present` writes `present`; any other
    /// test is undefined.
    fn reference(
        &mut self,
        out: &mut String,
        test: &Test,
        present: &str,
        equals: impl FnOnce(&Builder, &str) -> String,
    ) {
        match test {
            Test::Present => out.push_str(present),
            Test::Equals(Value::Text(name)) => {
                let p = self.bind(SqlValue::Text(name.clone()));
                out.push_str(&equals(self, &p));
            }
            _ => out.push_str("NULL"),
        }
    }

    /// `SELECT` of the visible nodes named by parameter `p`.
    fn visible_node_named(&self, p: &str, alias: &str) -> String {
        format!(
            "SELECT {alias}.id FROM nodes {alias} WHERE {alias}.name = {p} COLLATE NOCASE{}",
            self.nodes.and(&format!("{alias}.id"))
        )
    }
}

/// The operator of a comparison test and its value.
fn comparison(test: &Test) -> Option<(&'static str, &Value)> {
    match test {
        Test::Equals(v) => Some(("=", v)),
        Test::AtLeast(v) => Some((">=", v)),
        Test::AtMost(v) => Some(("<=", v)),
        Test::After(v) => Some((">", v)),
        Test::Before(v) => Some(("<", v)),
        Test::Present | Test::Substring { .. } => None,
    }
}

fn has_time(test: &Test) -> bool {
    matches!(comparison(test), Some((_, Value::Time(_))))
}

/// `initial*any1*any2*last` as a LIKE or GLOB pattern, each part escaped.
fn pattern(
    initial: &Option<String>,
    any: &[String],
    last: &Option<String>,
    wildcard: char,
    escape: fn(&mut String, &str),
) -> String {
    let mut out = String::new();
    if let Some(initial) = initial {
        escape(&mut out, initial);
    }
    out.push(wildcard);
    for part in any {
        escape(&mut out, part);
        out.push(wildcard);
    }
    if let Some(last) = last {
        escape(&mut out, last);
    }
    out
}

/// LIKE's wildcards and its escape character, escaped (`ESCAPE '\'`).
fn like_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// GLOB has no escape character: a special character is put in a class.
fn glob_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
}

fn too_deep() -> StoreError {
    StoreError::from(rusqlite::Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_TOOBIG),
        Some(format!(
            "search filter nested deeper than {MAX_FILTER_DEPTH} levels"
        )),
    ))
}

impl Field for AccountField {
    fn write(self, b: &mut Builder, out: &mut String, test: &Test) {
        use AccountField as A;
        let nullable = |sql, compare| Column {
            sql,
            compare,
            nullable: true,
        };
        match self {
            A::UserName => b.text(out, nocase("a.user_name"), test),
            A::Login => b.text(out, nocase(LOGIN), test),
            A::LoginName => b.text(out, nullable("a.login_name", Compare::NoCase), test),
            A::ShownName => b.text(out, nocase(SHOWN_NAME), test),
            A::Attribute(attr) if attr.is_number() => {
                b.number(out, attribute_column(attr), true, test);
            }
            A::Attribute(attr) => {
                b.text(out, nullable(attribute_column(attr), Compare::NoCase), test)
            }
            A::GivenName => b.text(out, nocase("a.given_name"), test),
            A::FamilyName => b.text(out, nocase("a.family_name"), test),
            A::FullName => b.text(out, nocase("a.full_name"), test),
            A::Email => b.text(out, nullable("a.email", Compare::NoCase), test),
            A::Mobile => b.text(out, nullable("a.mobile", Compare::NoCase), test),
            A::TimeZone => b.text(out, nocase("a.time_zone"), test),
            A::AccountType => b.text(out, nocase("a.account_type"), test),
            A::AuthMethod => b.text(out, nocase("a.auth_method"), test),
            A::Status => b.text(out, nocase("a.status"), test),
            A::AdminLevel => b.text(out, nocase("a.admin_level"), test),
            A::Uuid => {
                let column = Column {
                    sql: "a.uuid",
                    compare: Compare::Lower,
                    nullable: false,
                };
                b.text(out, column, test);
            }
            A::ExternalId => b.text(out, nullable("a.external_id", Compare::Exact), test),
            A::Created => b.time(out, "a.created", test),
            A::Modified => b.time(out, "a.modified", test),
            A::Role => {
                const ROLES: &str = "SELECT 1 FROM account_roles r WHERE r.account_id = a.id";
                if has_time(test) {
                    out.push_str("NULL");
                } else if *test == Test::Present {
                    let _ = write!(out, "EXISTS ({ROLES})");
                } else {
                    // Multi-valued: true when any one role passes.
                    let _ = write!(out, "EXISTS ({ROLES} AND ");
                    b.text(out, nocase("r.role"), test);
                    out.push(')');
                }
            }
            A::Manager => {
                let present = format!("(a.manager IS NOT NULL{})", b.accounts.and("a.manager"));
                b.reference(out, test, &present, |b, p| {
                    format!(
                        "(a.manager IS NOT NULL AND a.manager IN (SELECT m.id FROM accounts m \
                         WHERE m.user_name = {p} COLLATE NOCASE{}))",
                        b.accounts.and("m.id")
                    )
                });
            }
            A::RestrictedTo => {
                let present = format!(
                    "(a.restricted_to IS NOT NULL{})",
                    b.nodes.and("a.restricted_to")
                );
                b.reference(out, test, &present, |b, p| {
                    format!(
                        "(a.restricted_to IS NOT NULL AND a.restricted_to IN ({}))",
                        b.visible_node_named(p, "g")
                    )
                });
            }
            // A member of any (visible) group: the same for the chain.
            A::MemberOf | A::MemberOfChain if *test == Test::Present => {
                let _ = write!(
                    out,
                    "a.id IN (SELECT ms.account_id FROM memberships ms WHERE 1{})",
                    b.nodes.and("ms.node_id")
                );
            }
            A::MemberOf => b.reference(out, test, "", |b, p| {
                format!(
                    "a.id IN (SELECT ms.account_id FROM memberships ms WHERE ms.node_id IN ({}))",
                    b.visible_node_named(p, "g")
                )
            }),
            // The named node and everything below it. Everything below a
            // visible node is visible, so only the start is checked.
            A::MemberOfChain => b.reference(out, test, "", |b, p| {
                format!(
                    "a.id IN (SELECT ms.account_id FROM memberships ms WHERE ms.node_id IN (\
                     WITH RECURSIVE chain(id) AS ({} \
                     UNION SELECT c.id FROM nodes c JOIN chain ON c.parent = chain.id) \
                     SELECT id FROM chain))",
                    b.visible_node_named(p, "g")
                )
            }),
        }
    }
}

impl Field for NodeField {
    fn write(self, b: &mut Builder, out: &mut String, test: &Test) {
        use NodeField as N;
        match self {
            N::Name => b.text(out, nocase("n.name"), test),
            N::Uuid => {
                let column = Column {
                    sql: "n.uuid",
                    compare: Compare::Lower,
                    nullable: false,
                };
                b.text(out, column, test);
            }
            N::ExternalId => {
                let column = Column {
                    sql: "n.external_id",
                    compare: Compare::Exact,
                    nullable: true,
                };
                b.text(out, column, test);
            }
            N::Kind => b.text(out, nocase("n.kind"), test),
            N::Created => b.time(out, "n.created", test),
            N::Modified => b.time(out, "n.modified", test),
            N::GidNumber => b.number(out, "n.gid_number", false, test),
            // Any ancestor exists (and is visible) iff the parent does: the
            // visible set is closed downwards.
            N::Parent | N::ParentChain if *test == Test::Present => {
                let _ = write!(out, "(n.parent IS NOT NULL{})", b.nodes.and("n.parent"));
            }
            N::Parent => b.reference(out, test, "", |b, p| {
                format!(
                    "(n.parent IS NOT NULL AND n.parent IN ({}))",
                    b.visible_node_named(p, "g")
                )
            }),
            // Every node strictly below the named one.
            N::ParentChain => b.reference(out, test, "", |b, p| {
                format!(
                    "n.id IN (WITH RECURSIVE below(id) AS (\
                     SELECT c.id FROM nodes c WHERE c.parent IN ({}) \
                     UNION SELECT c.id FROM nodes c JOIN below ON c.parent = below.id) \
                     SELECT id FROM below)",
                    b.visible_node_named(p, "g")
                )
            }),
            N::Member => {
                let present = format!(
                    "n.id IN (SELECT ms.node_id FROM memberships ms \
                     JOIN accounts m ON m.id = ms.account_id WHERE m.archived = 0{})",
                    b.accounts.and("m.id")
                );
                b.reference(out, test, &present, |b, p| {
                    format!(
                        "n.id IN (SELECT ms.node_id FROM memberships ms WHERE ms.account_id IN (\
                         SELECT m.id FROM accounts m WHERE m.user_name = {p} COLLATE NOCASE \
                         AND m.archived = 0{}))",
                        b.accounts.and("m.id")
                    )
                });
            }
            N::Child => {
                let present = format!(
                    "n.id IN (SELECT c.parent FROM nodes c WHERE c.parent IS NOT NULL{})",
                    b.nodes.and("c.id")
                );
                b.reference(out, test, &present, |b, p| {
                    format!(
                        "n.id IN (SELECT c.parent FROM nodes c WHERE c.parent IS NOT NULL \
                         AND c.name = {p} COLLATE NOCASE{})",
                        b.nodes.and("c.id")
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_their_wildcards() {
        let p = pattern(
            &Some("a%b".into()),
            &["c_d".into()],
            &Some("e\\f".into()),
            '%',
            like_escape,
        );
        assert_eq!(p, "a\\%b%c\\_d%e\\\\f");
        let g = pattern(&None, &["x*y?[z]".into()], &None, '*', glob_escape);
        assert_eq!(g, "*x[*]y[?][[]z]*");
        assert_eq!(pattern(&None, &[], &None, '%', like_escape), "%");
    }

    #[test]
    fn a_long_list_nests_shallowly_and_the_same_shape_gives_the_same_sql() {
        let list = |names: &[&str]| {
            Filter::Or(
                names
                    .iter()
                    .map(|n| {
                        Filter::Test(
                            AccountField::UserName,
                            Test::Equals(Value::Text((*n).into())),
                        )
                    })
                    .collect(),
            )
        };
        let a = count_accounts(Visibility::All, false, &list(&["a", "b", "c"])).unwrap();
        let b = count_accounts(Visibility::All, false, &list(&["x", "y", "z"])).unwrap();
        assert_eq!(a.sql, b.sql);
        assert!(!a.sql.contains("'a'"), "values are bound: {}", a.sql);
        let names: Vec<String> = (0..4096).map(|i| format!("u{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let big = count_accounts(Visibility::All, false, &list(&refs)).unwrap();
        let mut depth = 0usize;
        let mut deepest = 0usize;
        for c in big.sql.chars() {
            match c {
                '(' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        assert!(deepest < 30, "{deepest}");
    }
}
