//! Searching and counting accounts and nodes, the names and memberships
//! shown with them, and reads in one snapshot of the store.

use crate::core::access::Actor;
use crate::core::error::{CoreError, CoreResult};
use crate::model::query::{AccountField, Filter, NodeField, Related, Slice, Sort};
use crate::model::{Account, Node};

use super::Directory;

impl Directory {
    /// Accounts matching `filter` among those the actor may see, in `sort`
    /// order (row-id order without one).
    pub fn search_accounts(
        &self,
        actor: &Actor,
        filter: &Filter<AccountField>,
        sort: Option<Sort<AccountField>>,
        slice: Slice,
    ) -> CoreResult<Vec<Account>> {
        check_sortable(sort.map(|s| (s.field, s.field.sortable())))?;
        Ok(self
            .store
            .search_accounts(self.visibility(actor), false, filter, sort, slice)?)
    }

    pub fn count_accounts(&self, actor: &Actor, filter: &Filter<AccountField>) -> CoreResult<u64> {
        Ok(self
            .store
            .count_matching_accounts(self.visibility(actor), false, filter)?)
    }

    /// Nodes matching `filter` among those the actor may see, in `sort`
    /// order (row-id order without one).
    pub fn search_nodes(
        &self,
        actor: &Actor,
        filter: &Filter<NodeField>,
        sort: Option<Sort<NodeField>>,
        slice: Slice,
    ) -> CoreResult<Vec<Node>> {
        check_sortable(sort.map(|s| (s.field, s.field.sortable())))?;
        Ok(self
            .store
            .search_nodes(self.visibility(actor), filter, sort, slice)?)
    }

    pub fn count_nodes(&self, actor: &Actor, filter: &Filter<NodeField>) -> CoreResult<u64> {
        Ok(self
            .store
            .count_matching_nodes(self.visibility(actor), filter)?)
    }

    /// Runs `work` with every read it makes seeing one snapshot of the
    /// store: a page of a search, its total and the names its entries refer
    /// to agree with each other, and the database is locked once instead
    /// of once per statement. For work that only reads (see
    /// `Store::snapshot`).
    pub fn in_snapshot<T>(&self, work: impl FnOnce() -> CoreResult<T>) -> CoreResult<T> {
        let mut work = Some(work);
        let mut out = None;
        self.store
            .snapshot(&mut || out = work.take().map(|w| w()))?;
        out.unwrap_or(Err(CoreError::ShuttingDown))
    }

    /// Names and memberships for showing these entries, limited to what
    /// the actor may see: several statements, read in one snapshot.
    pub fn related(
        &self,
        actor: &Actor,
        accounts: &[&Account],
        nodes: &[&Node],
    ) -> CoreResult<Related> {
        self.in_snapshot(|| {
            Ok(self
                .store
                .related(self.visibility(actor), accounts, nodes)?)
        })
    }
}

/// A sort the store cannot serve is refused (the fields' `sortable()`
/// is the one list of what may be sorted by).
fn check_sortable<F: std::fmt::Debug>(sort: Option<(F, bool)>) -> CoreResult<()> {
    match sort {
        Some((field, false)) => Err(CoreError::InvalidValue {
            field: "sort",
            reason: format!("cannot sort by {field:?}"),
        }),
        _ => Ok(()),
    }
}
