//! Which part of the directory a read may return, and which page of it:
//! built by the core from an actor's rights, turned into a query by the
//! store.

use super::{AccountId, NodeId};

/// Which accounts and nodes a read may return. Built by the core from the
/// actor's rights; the store turns it into SQL so a restricted actor's reads
/// never load what it may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everything.
    All,
    /// The subtree under `root` (the node and every descendant, resolved at
    /// query time so nodes created later are included), the accounts in it
    /// (a member of a node in the subtree, or restricted to one), and the
    /// account `self_id` itself.
    Subtree { root: NodeId, self_id: AccountId },
    /// Only the account `self_id` and no nodes.
    SelfOnly { self_id: AccountId },
}

/// A page of a list: `offset` rows skipped, at most `limit` returned, in a
/// stable order (by row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

impl Page {
    pub const ALL: Page = Page {
        offset: 0,
        limit: u64::MAX >> 1,
    };
}
