//! The one search language of the directory. Each face translates its own
//! filter syntax (an RFC 4515 LDAP filter, a SCIM filter) into a
//! [`Filter`] over account or node fields; the store turns it into SQL
//! (combined with the actor's visibility), so a search reads only matching
//! rows through an index where one exists.
//!
//! Three-valued logic, as both LDAP (RFC 4511 section 4.5.1.7) and SQL have
//! it: a test on an attribute the gateway does not know is `Undefined`, and
//! `NOT Undefined` is still `Undefined`; only `True` selects a row.

use std::collections::HashMap;

use jiff::Timestamp;
use uuid::Uuid;

use crate::core::model::{AccountId, NodeId};

/// A boolean expression over the fields `F` of one kind of entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<F> {
    True,
    False,
    Undefined,
    And(Vec<Filter<F>>),
    Or(Vec<Filter<F>>),
    Not(Box<Filter<F>>),
    Test(F, Test),
}

/// One comparison against a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The field has a value (is not null or empty).
    Present,
    Equals(Value),
    /// `initial*any1*any2*final`; each part optional.
    Substring {
        initial: Option<String>,
        any: Vec<String>,
        last: Option<String>,
    },
    /// `>=`
    AtLeast(Value),
    /// `<=`
    AtMost(Value),
    /// `>` (SCIM gt)
    After(Value),
    /// `<` (SCIM lt)
    Before(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Time(Timestamp),
}

/// Searchable account fields. Text comparisons ignore case except on
/// `Uuid` (compared in lower case) and `ExternalId` (exact, as SCIM's
/// `caseExact` says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountField {
    UserName,
    GivenName,
    FamilyName,
    /// "Given Family" (or whichever part exists, else the user name): the
    /// LDAP `cn` and `displayName`.
    FullName,
    Email,
    Mobile,
    TimeZone,
    /// Stored name of the `AccountType` (`as_str`).
    AccountType,
    /// Stored name of the `AuthMethod`.
    AuthMethod,
    /// Stored name of the `Status`.
    Status,
    /// Stored name of the `AdminLevel`.
    AdminLevel,
    Uuid,
    ExternalId,
    Created,
    Modified,
    /// One of the account's security roles.
    Role,
    /// The manager, by user name.
    Manager,
    /// The node the account is restricted to, by name.
    RestrictedTo,
    /// A node the account is a direct member of, by name.
    MemberOf,
    /// A member of the named node or of any node below it (LDAP's
    /// LDAP_MATCHING_RULE_IN_CHAIN on memberOf). Only `Equals` applies.
    MemberOfChain,
}

/// Searchable node fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeField {
    Name,
    Uuid,
    ExternalId,
    /// Stored name of the `NodeKind`.
    Kind,
    /// The parent node, by name.
    Parent,
    /// The parent or any ancestor, by name (in-chain membership of groups).
    ParentChain,
    /// A direct member account, by user name.
    Member,
    /// A direct child node, by name (nested groups are members too).
    Child,
    Created,
    Modified,
}

/// Which rows of a result: keyset (`after` a row id, for LDAP paging that
/// costs the same on every page) and/or offset (SCIM's startIndex), at most
/// `limit`, in row-id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub after: Option<i64>,
    pub offset: u64,
    pub limit: u64,
}

impl Slice {
    pub fn first(limit: u64) -> Slice {
        Slice {
            after: None,
            offset: 0,
            limit,
        }
    }
}

/// What a face needs to show a page of entries besides the rows: the names
/// behind ids (managers, groups), memberships and child groups, each limited
/// to what the actor may see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Related {
    pub account_names: HashMap<AccountId, String>,
    pub node_names: HashMap<NodeId, String>,
    /// The same accounts' and nodes' public ids (SCIM `id`, LDAP entryUUID).
    pub account_uuids: HashMap<AccountId, Uuid>,
    pub node_uuids: HashMap<NodeId, Uuid>,
    /// Visible groups each account is a direct member of.
    pub groups_of: HashMap<AccountId, Vec<NodeId>>,
    /// Visible direct members of each node.
    pub members_of: HashMap<NodeId, Vec<AccountId>>,
    /// Visible direct child nodes of each node.
    pub children_of: HashMap<NodeId, Vec<NodeId>>,
}
