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

use super::{AccountId, Attribute, NodeId};

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

impl<F> Filter<F> {
    /// Whether no entry can match, whatever is stored: a face skips the
    /// trip to the store for such a search (an LDAP `(uid=x)` reaches the
    /// groups too, where it is always false). Conservative: `false` means
    /// only "perhaps".
    pub fn matches_nothing(&self) -> bool {
        match self {
            Filter::False | Filter::Undefined => true,
            Filter::True | Filter::Test(..) => false,
            Filter::And(parts) => parts.iter().any(Filter::matches_nothing),
            Filter::Or(parts) => parts.iter().all(Filter::matches_nothing),
            // NOT True is False; NOT of anything else may match something
            // (NOT False is True, NOT Undefined stays Undefined: both fine
            // to run).
            Filter::Not(inner) => matches!(**inner, Filter::True),
        }
    }
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
    /// The login identity: the login name, else the user name (SCIM
    /// `userName`).
    Login,
    /// The login name alone (absent where the user name serves as one).
    LoginName,
    /// The display name, else [`AccountField::FullName`] (LDAP
    /// `displayName`).
    ShownName,
    /// A directory attribute.
    Attribute(Attribute),
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
    /// The POSIX group number, compared as an integer.
    GidNumber,
    Created,
    Modified,
}

/// The order of a search: by one field, then by row id, so that entries
/// with equal keys keep one order from page to page (SCIM pages by offset).
/// Without a `Sort` a search is in row-id order, which LDAP paging relies
/// on (`Slice::after` is a row id).
///
/// Entries without a value (an absent or empty field) come last when
/// ascending and first when descending, as RFC 7644 section 3.4.2.3 asks;
/// with the row id following the same direction, a descending order is the
/// ascending one exactly reversed. Text compares as the field's filters do
/// (ignoring ASCII case, except `Uuid` and `ExternalId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

impl AccountField {
    /// Whether a search can be ordered by this field: the single-valued
    /// fields of the account itself. Roles and memberships are many values;
    /// the manager and restriction are references (their names live in
    /// other rows, which the reader may not see).
    pub fn sortable(self) -> bool {
        use AccountField as A;
        !matches!(
            self,
            A::Role | A::Manager | A::RestrictedTo | A::MemberOf | A::MemberOfChain
        )
    }
}

impl NodeField {
    /// Whether a search can be ordered by this field (see
    /// [`AccountField::sortable`]).
    pub fn sortable(self) -> bool {
        use NodeField as N;
        !matches!(self, N::Parent | N::ParentChain | N::Member | N::Child)
    }
}

/// Which rows of a result: keyset (`after` a row id, for LDAP paging that
/// costs the same on every page) and/or offset (SCIM's startIndex), at most
/// `limit`, in row-id order or a [`Sort`]'s. `after` keeps the rows with
/// a larger id whatever the order, so it pages only in row-id order.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn name(v: &str) -> Filter<AccountField> {
        Filter::Test(AccountField::UserName, Test::Equals(Value::Text(v.into())))
    }

    #[test]
    fn only_filters_that_can_never_match_say_so() {
        let never = [
            Filter::False,
            Filter::Undefined,
            Filter::And(vec![name("a"), Filter::False]),
            Filter::Or(vec![Filter::False, Filter::Undefined]),
            Filter::Not(Box::new(Filter::True)),
            Filter::Or(vec![]),
        ];
        for f in &never {
            assert!(f.matches_nothing(), "{f:?}");
        }
        let perhaps = [
            Filter::True,
            name("a"),
            Filter::Or(vec![Filter::False, name("a")]),
            Filter::Not(Box::new(Filter::False)),
            Filter::Not(Box::new(name("a"))),
            Filter::And(vec![]),
        ];
        for f in &perhaps {
            assert!(!f.matches_nothing(), "{f:?}");
        }
    }
}
