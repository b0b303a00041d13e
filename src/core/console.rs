//! The operations the administrator's console needs beyond those the other
//! faces use: which roles and restrictions an actor may hand out, the audit
//! log and the outbox as the actor may read them, a reset link sent by a
//! manager, and bearer tokens of one's own. Each asks `access.rs` first.

use crate::core::access::{Actor, Rules};
use crate::core::directory::Directory;
use crate::core::error::{CoreError, CoreResult};
use crate::model::Page;
use crate::model::{Account, AccountId, Node, NodeId};
use crate::store::{AuditRecord, QueuedMessage};

impl Directory {
    fn console_rules(&self) -> Rules<'_> {
        Rules {
            store: &*self.store,
        }
    }

    /// The security roles `actor` may give an account: every known role
    /// for a super admin, else those it holds itself.
    pub fn grantable_roles(&self, actor: &Actor) -> CoreResult<Vec<String>> {
        let known = self.store.roles()?;
        Ok(match actor.account() {
            Some(a) if !actor.is_super() => known.into_iter().filter(|r| a.has_role(r)).collect(),
            _ => known,
        })
    }

    /// The groups and business entities `actor` may restrict an account
    /// to: those it sees (its own scope and below).
    pub fn restriction_choices(&self, actor: &Actor) -> CoreResult<Vec<Node>> {
        let mut nodes = self.list_nodes(actor, Page::ALL)?;
        nodes.sort_by_key(|n| n.name.to_lowercase());
        Ok(nodes)
    }

    /// The newest audit records `actor` may read: the whole log for a
    /// super admin, else those by or about one account it can see.
    pub fn audit_for(
        &self,
        actor: &Actor,
        user: Option<&str>,
        since: Option<jiff::Timestamp>,
        limit: u32,
    ) -> CoreResult<Vec<AuditRecord>> {
        let user = user.map(str::trim).filter(|u| !u.is_empty());
        let seen = match user {
            Some(name) => Some(self.account_by_user_name(actor, name)?),
            None => None,
        };
        self.console_rules().may_read_audit(actor, seen.as_ref())?;
        let name = seen.as_ref().map(|a| a.user_name.as_str());
        let mut records = self.store.audit_records(name, since, limit)?;
        if !actor.is_super() {
            // A record by or about a visible account may name another that
            // the actor may not see: it is left out, as that account is.
            records.retain(|r| self.name_seen(actor, &r.actor) && self.name_seen(actor, &r.target));
        }
        Ok(records)
    }

    /// Whether an audit record's actor or target is one `actor` may see:
    /// the operator, nobody (a failed sign-in's name), or a visible account
    /// or group.
    fn name_seen(&self, actor: &Actor, name: &str) -> bool {
        matches!(name, "system" | "anonymous")
            || self.account_by_user_name(actor, name).is_ok()
            || self.node_by_name(actor, name).is_ok()
    }

    /// The newest messages of the outbox (their masked text only).
    pub fn outbox_for(&self, actor: &Actor, limit: u32) -> CoreResult<Vec<QueuedMessage>> {
        self.console_rules().may_read_outbox(actor)?;
        let mut messages = self.store.recent_messages(limit)?;
        for m in &mut messages {
            m.body = None;
        }
        Ok(messages)
    }

    /// A manager sends an account it manages a password-reset link, as
    /// `/forgot` would: from then on the account cannot authenticate until
    /// a new password is set. Refused when the account has no email.
    pub fn send_reset_link(&self, actor: &Actor, id: AccountId, link_base: &str) -> CoreResult<()> {
        let target = self.account(actor, id)?;
        self.console_rules().may_manage_account(actor, &target)?;
        if target.email.as_deref().is_none_or(str::is_empty) {
            return Err(CoreError::InvalidValue {
                field: "email",
                reason: format!(
                    "{} has no email address to send a link to",
                    target.user_name
                ),
            });
        }
        self.request_password_reset(&target.user_name, link_base)
    }

    /// Whether `actor` may create accounts (the console offers Add then).
    pub fn may_create_accounts(&self, actor: &Actor) -> bool {
        self.console_rules().may_create_accounts(actor).is_ok()
    }

    /// Whether `actor` may change `target`'s data and status; `Ok(false)`
    /// when the rules refuse, an error only when the store fails.
    pub fn may_manage(&self, actor: &Actor, target: &Account) -> CoreResult<bool> {
        match self.console_rules().may_manage_account(actor, target) {
            Ok(()) => Ok(true),
            Err(CoreError::Forbidden(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `actor` may shape the tree at `node` (put nodes under it;
    /// `None`: the top).
    pub fn may_manage_tree(&self, actor: &Actor, node: Option<NodeId>) -> CoreResult<bool> {
        match self.console_rules().may_place_node(actor, node) {
            Ok(()) => Ok(true),
            Err(CoreError::Forbidden(_) | CoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
