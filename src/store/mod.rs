//! The store: one narrow interface between the directory core and the
//! database. It knows SQL and rows, nothing of LDAP, SCIM or the account
//! rules; the core decides *what* to ask (for example which part of the
//! directory an actor may see, as a [`Visibility`]) and the store only turns
//! that into a query. A second backend (a replicated SQL engine) implements
//! [`Store`] and nothing else changes.

pub mod audit;
pub mod factors;
pub mod outbox;
pub mod sqlite;

use jiff::Timestamp;
use uuid::Uuid;

use crate::model::query::{AccountField, Filter, NodeField, Related, Slice, Sort};
use crate::model::{
    Account, AccountId, AccountType, AdminLevel, Attribute, Attributes, AuthMethod, Node, NodeId,
    NodeKind, Status, TokenInfo,
};

pub use crate::model::{Page, Visibility};
pub use audit::{AuditLog, AuditRecord};
pub use factors::{Factors, PendingCode, RecognisedComputer, ResetToken};
pub use outbox::{MessageState, NewMessage, Outbox, QueuedMessage};
pub use sqlite::{backup, restore, SqliteStore};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the field is named.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// The row to change does not exist.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// An optimistic-concurrency check failed: the row changed meanwhile.
    #[error("the {0} was changed by someone else")]
    VersionMismatch(&'static str),
    /// The row is still referenced and cannot go; the reason is named.
    #[error("{0}")]
    InUse(&'static str),
    /// The database file cannot be used (corrupt, newer schema, unreadable).
    #[error("{0}")]
    Unusable(String),
    /// The database engine failed; its own words. Each backend turns its
    /// errors into this (`sqlite/convert.rs`), so the interface names no
    /// engine.
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A stored value the code cannot read back (a bad enum name, say).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything needed to insert an account, in one transaction with its roles.
#[derive(Debug, Clone)]
pub struct NewAccountRow {
    pub uuid: Uuid,
    pub user_name: String,
    pub login_name: Option<String>,
    pub password_hash: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub time_zone: String,
    pub account_type: AccountType,
    pub auth_method: AuthMethod,
    pub restricted_to: Option<NodeId>,
    pub manager: Option<AccountId>,
    pub admin_level: AdminLevel,
    pub admin_entity: Option<NodeId>,
    pub roles: Vec<String>,
    pub status: Status,
    pub external_id: Option<String>,
    pub attributes: Attributes,
    pub now: Timestamp,
}

/// Which counter a POSIX number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// An account's uidNumber (and its private group's gidNumber).
    Uid,
    /// A group's gidNumber.
    Gid,
}

impl NumberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberKind::Uid => "uid",
            NumberKind::Gid => "gid",
        }
    }
}

/// A change to an account's data: `None` leaves a field as it is; for the
/// optional fields `Some(None)` clears it. Applied in one transaction that
/// bumps `version` and `modified`.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    pub user_name: Option<String>,
    pub login_name: Option<Option<String>>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub account_type: Option<AccountType>,
    pub auth_method: Option<AuthMethod>,
    pub restricted_to: Option<Option<NodeId>>,
    pub manager: Option<Option<AccountId>>,
    pub admin_level: Option<AdminLevel>,
    pub admin_entity: Option<Option<NodeId>>,
    /// Replaces the whole role set.
    pub roles: Option<Vec<String>>,
    pub status: Option<Status>,
    pub archived: Option<bool>,
    pub reset_pending: Option<bool>,
    pub external_id: Option<Option<String>>,
    /// Directory attributes to set (`Some`) or clear (`None`).
    pub attributes: Vec<(Attribute, Option<String>)>,
    /// A new argon2id PHC string. `Some(None)` removes the password.
    pub password_hash: Option<Option<String>>,
    /// A new TOTP secret. `Some(None)` removes it.
    pub totp_secret: Option<Option<Vec<u8>>>,
    /// Forget the computers the account is recognised from and its pending
    /// code (a new password makes every computer ask again).
    pub forget_computers: bool,
}

impl AccountUpdate {
    pub fn is_empty(&self) -> bool {
        self.user_name.is_none()
            && self.login_name.is_none()
            && self.attributes.is_empty()
            && self.given_name.is_none()
            && self.family_name.is_none()
            && self.email.is_none()
            && self.mobile.is_none()
            && self.time_zone.is_none()
            && self.account_type.is_none()
            && self.auth_method.is_none()
            && self.restricted_to.is_none()
            && self.manager.is_none()
            && self.admin_level.is_none()
            && self.admin_entity.is_none()
            && self.roles.is_none()
            && self.status.is_none()
            && self.archived.is_none()
            && self.reset_pending.is_none()
            && self.external_id.is_none()
            && self.password_hash.is_none()
            && self.totp_secret.is_none()
            && !self.forget_computers
    }
}

/// The secrets the core needs to authenticate an account. Never leaves the core.
#[derive(Clone)]
pub struct Credentials {
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

/// A node to insert, with its first members and the groups moved under
/// it, all in one transaction.
#[derive(Debug, Clone)]
pub struct NewNodeRow {
    pub uuid: Uuid,
    pub name: String,
    pub kind: NodeKind,
    pub gid_number: Option<i64>,
    pub parent: Option<NodeId>,
    pub external_id: Option<String>,
    pub members: Vec<AccountId>,
    pub children: Vec<NodeId>,
    pub now: Timestamp,
}

/// One change to a node, written in one transaction so a group rename and
/// its membership change land together or not at all. `None` leaves a
/// field as it is; `external_id: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct NodeChange {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub add_members: Vec<AccountId>,
    pub remove_members: Vec<AccountId>,
    /// Nodes moved under this one.
    pub adopt: Vec<NodeId>,
    /// A new parent (`Some(None)`: the top of the tree).
    pub parent: Option<Option<NodeId>>,
}

/// A stored bearer token, looked up by the SHA-256 of its secret.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub info: TokenInfo,
}

/// The narrow interface every backend implements (with its parts for the
/// outbox and for second factors, `outbox.rs` and `factors.rs`). All calls block; the core
/// runs them on the bounded store pool, never on an async worker. There is
/// deliberately no call that deletes an account.
pub trait Store: Outbox + Factors + AuditLog + Send + Sync + 'static {
    /// Runs `work` so that every read it makes on this thread sees one
    /// snapshot of the store (a search, its count and the names its rows
    /// refer to agree). Only for work that reads: a write made inside is
    /// committed, but reads after it in the same snapshot do not see it.
    fn snapshot(&self, work: &mut dyn FnMut()) -> StoreResult<()>;

    // --- accounts ---------------------------------------------------------
    fn insert_account(&self, row: &NewAccountRow) -> StoreResult<AccountId>;
    /// Inserts an account and returns it as stored, read in the same
    /// transaction.
    fn create_account(&self, row: &NewAccountRow) -> StoreResult<Account>;
    /// Applies `update` to account `id`. With `expected_version`, fails with
    /// `VersionMismatch` unless the stored version equals it.
    fn update_account(
        &self,
        id: AccountId,
        update: &AccountUpdate,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<()>;
    fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    fn account_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Account>>;
    /// Case-insensitive lookup, through the user-name index.
    fn account_by_user_name(&self, user_name: &str) -> StoreResult<Option<Account>>;
    /// The account whose login identity (its login name, else its user
    /// name) is `login`, ignoring case.
    fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>>;
    fn credentials(&self, id: AccountId) -> StoreResult<Option<Credentials>>;
    /// Accounts visible under `visibility`, in row-id order.
    fn list_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        page: Page,
    ) -> StoreResult<Vec<Account>>;
    fn count_accounts(&self, visibility: Visibility, include_archived: bool) -> StoreResult<u64>;
    /// Records TOTP time step `step` as used by `account`, but only if it is
    /// later than every step accepted before; false means a replay. One
    /// atomic statement, so two binds racing with one code cannot both win.
    fn use_totp_step(&self, account: AccountId, step: i64) -> StoreResult<bool>;
    /// Whether account `id` lies within `visibility`.
    fn account_visible(&self, visibility: Visibility, id: AccountId) -> StoreResult<bool>;
    /// Whether `target` is below `manager` in the sub-user hierarchy (a
    /// sub-user, a sub-user's sub-user, and so on; not `manager` itself).
    fn in_branch(&self, manager: AccountId, target: AccountId) -> StoreResult<bool>;

    /// Accounts matching `filter` within `visibility` (archived ones only
    /// with `include_archived`), in `sort` order (row-id order without
    /// one), one `slice` of them.
    fn search_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        filter: &Filter<AccountField>,
        sort: Option<Sort<AccountField>>,
        slice: Slice,
    ) -> StoreResult<Vec<Account>>;
    fn count_matching_accounts(
        &self,
        visibility: Visibility,
        include_archived: bool,
        filter: &Filter<AccountField>,
    ) -> StoreResult<u64>;
    /// Account by its SCIM externalId (exact).
    fn account_by_external_id(&self, external_id: &str) -> StoreResult<Option<Account>>;
    /// Names, memberships and children for showing these rows, each
    /// limited to `visibility` (a hidden group is not named).
    fn related(
        &self,
        visibility: Visibility,
        accounts: &[&Account],
        nodes: &[&Node],
    ) -> StoreResult<Related>;

    // --- organisation tree ------------------------------------------------
    fn search_nodes(
        &self,
        visibility: Visibility,
        filter: &Filter<NodeField>,
        sort: Option<Sort<NodeField>>,
        slice: Slice,
    ) -> StoreResult<Vec<Node>>;
    fn count_matching_nodes(
        &self,
        visibility: Visibility,
        filter: &Filter<NodeField>,
    ) -> StoreResult<u64>;
    fn node_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Node>>;
    fn insert_node(&self, row: &NewNodeRow) -> StoreResult<NodeId>;
    /// Hands out the next POSIX number of `kind` in `min..=max`, atomically:
    /// never one handed out before (the counter only goes up), nor one an
    /// account's uidNumber or a group's gidNumber holds. `None` when the
    /// range is used up.
    fn allocate_number(&self, kind: NumberKind, min: i64, max: i64) -> StoreResult<Option<i64>>;
    /// Gives a node that has none its gidNumber (groups made before
    /// POSIX numbers existed).
    fn set_node_gid_number(&self, id: NodeId, gid: i64, now: Timestamp) -> StoreResult<()>;
    fn node(&self, id: NodeId) -> StoreResult<Option<Node>>;
    fn node_by_name(&self, name: &str) -> StoreResult<Option<Node>>;
    fn list_nodes(&self, visibility: Visibility, page: Page) -> StoreResult<Vec<Node>>;
    fn set_node_parent(
        &self,
        id: NodeId,
        parent: Option<NodeId>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Removes a node and its memberships in one transaction. Refuses
    /// (`InUse`) while a node sits under it or an account is restricted to
    /// it or administers it: their meaning would silently change.
    fn delete_node(&self, id: NodeId) -> StoreResult<()>;
    /// Whether `node` is `root` or below it.
    fn node_in_subtree(&self, root: NodeId, node: NodeId) -> StoreResult<bool>;
    fn add_member(&self, node: NodeId, account: AccountId, now: Timestamp) -> StoreResult<()>;
    fn remove_member(&self, node: NodeId, account: AccountId, now: Timestamp) -> StoreResult<()>;
    /// Direct members of `node`, in row-id order.
    fn members(&self, node: NodeId) -> StoreResult<Vec<AccountId>>;
    /// Applies `change` to node `id`, all of it or none. With
    /// `expected_version`, `VersionMismatch` unless it matches. Bumps the
    /// version of the node and of every account whose membership changed.
    fn change_node(
        &self,
        id: NodeId,
        change: &NodeChange,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Nodes `account` is a direct member of.
    fn memberships(&self, account: AccountId) -> StoreResult<Vec<NodeId>>;

    // --- security roles ---------------------------------------------------
    fn roles(&self) -> StoreResult<Vec<String>>;
    fn insert_role(&self, name: &str) -> StoreResult<()>;

    // --- bearer tokens ----------------------------------------------------
    fn insert_token(
        &self,
        id: Uuid,
        account: AccountId,
        secret_hash: &[u8; 32],
        expires: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The live-or-not token whose secret hashes to `secret_hash`.
    fn token_by_hash(&self, secret_hash: &[u8; 32]) -> StoreResult<Option<TokenRow>>;
    fn list_tokens(&self) -> StoreResult<Vec<TokenInfo>>;
    /// Marks the token revoked; `NotFound` if there is none.
    fn revoke_token(&self, id: Uuid, now: Timestamp) -> StoreResult<()>;
}
