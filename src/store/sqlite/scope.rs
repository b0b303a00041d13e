//! [`Visibility`] as SQL, written once here and used by every query that
//! lists, counts or checks accounts and nodes: a restricted reader's query
//! never loads a row it may not see, and every face gets the same answer.

use rusqlite::ToSql;

use crate::store::Visibility;

/// The node `:root` and every node below it, walked when the query runs, so
/// nodes created after a grant are in it. `UNION` (not `UNION ALL`) drops
/// repeats, so even a corrupt parent cycle ends.
const SUBTREE: &str = "WITH RECURSIVE subtree(id) AS (
    SELECT id FROM nodes WHERE id = :root
    UNION
    SELECT n.id FROM nodes n JOIN subtree s ON n.parent = s.id
) ";

/// Accounts visible under a subtree: the actor itself, anyone restricted to
/// a node of the subtree, and anyone member of a node of the subtree. Built
/// as a set of ids so the restricted_to and membership indexes do the work.
const SUBTREE_ACCOUNTS: &str = "a.id IN (
    SELECT :self_id
    UNION SELECT id FROM accounts WHERE restricted_to IN (SELECT id FROM subtree)
    UNION SELECT account_id FROM memberships WHERE node_id IN (SELECT id FROM subtree)
)";

/// A piece of SQL that limits a query to what a [`Visibility`] allows.
pub(super) struct Scope {
    /// Goes before `SELECT` (may be empty).
    pub with: &'static str,
    /// Goes in the `WHERE` clause.
    pub condition: &'static str,
    /// The named parameters `with` and `condition` use, and only those
    /// (SQLite refuses to bind a name the statement does not have).
    params: Vec<(&'static str, i64)>,
}

impl Scope {
    /// Limits a query over `accounts a`.
    pub fn accounts(visibility: Visibility) -> Scope {
        match visibility {
            Visibility::All => Scope {
                with: "",
                condition: "1",
                params: vec![],
            },
            Visibility::Subtree { root, self_id } => Scope {
                with: SUBTREE,
                condition: SUBTREE_ACCOUNTS,
                params: vec![(":root", root), (":self_id", self_id)],
            },
            Visibility::SelfOnly { self_id } => Scope {
                with: "",
                condition: "a.id = :self_id",
                params: vec![(":self_id", self_id)],
            },
        }
    }

    /// Limits a query over `nodes n`.
    pub fn nodes(visibility: Visibility) -> Scope {
        match visibility {
            Visibility::All => Scope {
                with: "",
                condition: "1",
                params: vec![],
            },
            Visibility::Subtree { root, .. } => Scope {
                with: SUBTREE,
                condition: "n.id IN (SELECT id FROM subtree)",
                params: vec![(":root", root)],
            },
            Visibility::SelfOnly { .. } => Scope {
                with: "",
                condition: "0",
                params: vec![],
            },
        }
    }

    /// The scope's parameters followed by the query's own, ready to bind.
    pub fn params<'a>(&'a self, own: &[(&'a str, &'a dyn ToSql)]) -> Vec<(&'a str, &'a dyn ToSql)> {
        self.params
            .iter()
            .map(|(name, value)| (*name, value as &dyn ToSql))
            .chain(own.iter().copied())
            .collect()
    }
}
