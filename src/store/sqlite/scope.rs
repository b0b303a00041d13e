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
macro_rules! subtree_account_ids {
    () => {
        "SELECT :self_id
    UNION SELECT id FROM accounts WHERE restricted_to IN (SELECT id FROM subtree)
    UNION SELECT account_id FROM memberships WHERE node_id IN (SELECT id FROM subtree)"
    };
}

const SUBTREE_ACCOUNTS: &str = concat!("a.id IN (\n    ", subtree_account_ids!(), "\n)");

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

/// The `WITH` clause every query under `visibility` starts with (it defines
/// `subtree` for the sets below), the same for accounts and nodes.
pub(super) fn with(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Subtree { .. } => SUBTREE,
        Visibility::All | Visibility::SelfOnly { .. } => "",
    }
}

/// Every named parameter any fragment of this file may use under
/// `visibility`. A statement binds the ones it has (see `search::prepare`).
pub(super) fn binds(visibility: Visibility) -> Vec<(&'static str, i64)> {
    match visibility {
        Visibility::All => vec![],
        Visibility::Subtree { root, self_id } => vec![(":root", root), (":self_id", self_id)],
        Visibility::SelfOnly { self_id } => vec![(":self_id", self_id)],
    }
}

/// The ids of the accounts or nodes a [`Visibility`] allows, for limiting
/// rows other than the query's main one (a manager, a group named in a
/// filter, the members of a node) to what the reader may see.
#[derive(Debug, Clone, Copy)]
pub(super) enum Visible {
    Every,
    /// A `SELECT` of the ids.
    Set(&'static str),
    Nothing,
}

impl Visible {
    pub fn accounts(visibility: Visibility) -> Visible {
        match visibility {
            Visibility::All => Visible::Every,
            Visibility::Subtree { .. } => Visible::Set(subtree_account_ids!()),
            Visibility::SelfOnly { .. } => Visible::Set("SELECT :self_id"),
        }
    }

    pub fn nodes(visibility: Visibility) -> Visible {
        match visibility {
            Visibility::All => Visible::Every,
            Visibility::Subtree { .. } => Visible::Set("SELECT id FROM subtree"),
            Visibility::SelfOnly { .. } => Visible::Nothing,
        }
    }

    /// `" AND <id> is visible"`, to append to a condition (empty when
    /// everything is).
    pub fn and(self, id: &str) -> String {
        match self {
            Visible::Every => String::new(),
            Visible::Set(ids) => format!(" AND {id} IN ({ids})"),
            Visible::Nothing => " AND 0".to_owned(),
        }
    }
}
