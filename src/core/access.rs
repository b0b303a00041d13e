//! Who may see and change what: the rules of `DESIGN.md`, written once.
//! Every face asks these functions (through `Directory`); none decides alone.
//!
//! - A super admin (and the operator at the command line) may do everything.
//! - An account admin acts inside its business entity's subtree, resolved at
//!   query time so subgroups created after the grant are included.
//! - An Administrator holding the user-management role changes its own
//!   sub-users and everything below them, never beyond its restricted scope,
//!   never granting a role it lacks or an account type above its own.
//! - Report Readers and Remote Assistance Technicians are read only.
//! - Everyone changes their own password, time zone and two-factor enrolment.

use crate::core::error::{CoreError, CoreResult};
use crate::model::Visibility;
use crate::model::{
    Account, AccountId, AccountType, AdminLevel, Node, NodeId, NodeKind, USER_MANAGEMENT_ROLE,
};
use crate::store::Store;

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The operator at the command line: whoever holds the data folder
    /// already holds everything in it.
    System,
    /// A signed-in account (an LDAP bind, a bearer token, a web session).
    Account(Box<Account>),
}

impl Actor {
    pub fn account(&self) -> Option<&Account> {
        match self {
            Actor::System => None,
            Actor::Account(a) => Some(a),
        }
    }
    pub fn id(&self) -> Option<AccountId> {
        self.account().map(|a| a.id)
    }
    pub fn is_super(&self) -> bool {
        match self {
            Actor::System => true,
            Actor::Account(a) => a.admin_level == AdminLevel::SuperAdmin,
        }
    }
}

/// The part of the tree an actor works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    /// The node and everything below it.
    Subtree(NodeId),
}

pub fn scope(actor: &Actor) -> Scope {
    match actor {
        Actor::System => Scope::Everywhere,
        Actor::Account(a) => match a.admin_level {
            AdminLevel::SuperAdmin => Scope::Everywhere,
            // An account admin without an entity is a broken grant: it sees
            // nothing beyond itself rather than everything.
            AdminLevel::AccountAdmin => Scope::Subtree(a.admin_entity.unwrap_or(NodeId::MIN)),
            AdminLevel::None => a.restricted_to.map_or(Scope::Everywhere, Scope::Subtree),
        },
    }
}

/// What a read by `actor` may return, as a query for the store.
pub fn visibility(actor: &Actor) -> Visibility {
    match (actor, scope(actor)) {
        (_, Scope::Everywhere) => Visibility::All,
        (Actor::Account(a), Scope::Subtree(root)) => Visibility::Subtree {
            root,
            self_id: a.id,
        },
        (Actor::System, Scope::Subtree(_)) => Visibility::All,
    }
}

fn forbidden<T>(reason: impl Into<String>) -> CoreResult<T> {
    Err(CoreError::Forbidden(reason.into()))
}

/// The checks that need the store (branches, subtrees), bound to one.
pub struct Rules<'a> {
    pub store: &'a dyn Store,
}

impl Rules<'_> {
    fn in_scope_account(
        &self,
        actor: &Account,
        scope: Scope,
        target: AccountId,
    ) -> CoreResult<bool> {
        Ok(match scope {
            Scope::Everywhere => true,
            Scope::Subtree(root) => self.store.account_visible(
                Visibility::Subtree {
                    root,
                    self_id: actor.id,
                },
                target,
            )?,
        })
    }

    fn in_scope_node(&self, scope: Scope, node: NodeId) -> CoreResult<bool> {
        Ok(match scope {
            Scope::Everywhere => true,
            Scope::Subtree(root) => self.store.node_in_subtree(root, node)?,
        })
    }

    /// May `actor` change `target`'s account data, roles and status?
    /// (The caller has already checked that the actor can see the target.)
    pub fn may_manage_account(&self, actor: &Actor, target: &Account) -> CoreResult<()> {
        let a = match actor {
            Actor::System => return Ok(()),
            Actor::Account(a) if a.admin_level == AdminLevel::SuperAdmin => return Ok(()),
            Actor::Account(a) => a,
        };
        if a.id == target.id {
            return forbidden(
                "you may change only your own password, time zone and two-factor enrolment",
            );
        }
        if !a.account_type.may_write() {
            return forbidden(format!(
                "a {} account is read only",
                a.account_type.display_name()
            ));
        }
        if target.admin_level != AdminLevel::None {
            return forbidden("only a super admin may change a super admin or an account admin");
        }
        match a.admin_level {
            AdminLevel::AccountAdmin => {
                if self.in_scope_account(a, scope(actor), target.id)? {
                    Ok(())
                } else {
                    forbidden(format!(
                        "{} is outside your business entity",
                        target.user_name
                    ))
                }
            }
            _ => {
                if !a.has_role(USER_MANAGEMENT_ROLE) {
                    return forbidden("changing other accounts needs the user-management role");
                }
                if !self.store.in_branch(a.id, target.id)? {
                    return forbidden(format!(
                        "{} is not in your branch of sub-users",
                        target.user_name
                    ));
                }
                if !self.in_scope_account(a, scope(actor), target.id)? {
                    return forbidden(format!(
                        "{} is outside your restricted scope",
                        target.user_name
                    ));
                }
                Ok(())
            }
        }
    }

    /// May `actor` create accounts at all?
    pub fn may_create_accounts(&self, actor: &Actor) -> CoreResult<()> {
        let a = match actor {
            Actor::System => return Ok(()),
            Actor::Account(a) if a.admin_level == AdminLevel::SuperAdmin => return Ok(()),
            Actor::Account(a) => a,
        };
        if !a.account_type.may_write() {
            return forbidden(format!(
                "a {} account is read only",
                a.account_type.display_name()
            ));
        }
        if a.admin_level == AdminLevel::AccountAdmin || a.has_role(USER_MANAGEMENT_ROLE) {
            Ok(())
        } else {
            forbidden("creating accounts needs the user-management role")
        }
    }

    /// Nobody sets an account type above their own.
    pub fn may_give_type(&self, actor: &Actor, wanted: AccountType) -> CoreResult<()> {
        match actor.account() {
            Some(a) if !actor.is_super() && wanted.rank() > a.account_type.rank() => {
                forbidden(format!(
                    "you cannot give the account type {}, which is above your own ({})",
                    wanted.display_name(),
                    a.account_type.display_name()
                ))
            }
            _ => Ok(()),
        }
    }

    /// Nobody grants a security role they do not hold. Removing a role is
    /// part of managing the account and needs nothing more.
    pub fn may_grant_roles(
        &self,
        actor: &Actor,
        before: &[String],
        after: &[String],
    ) -> CoreResult<()> {
        let Some(a) = actor.account() else {
            return Ok(());
        };
        for role in after.iter().filter(|r| !before.contains(r)) {
            if !a.has_role(role) {
                return forbidden(format!(
                    "you cannot grant the security role {role}, which you do not hold"
                ));
            }
        }
        Ok(())
    }

    /// A scoped actor keeps everything it makes inside its scope: the
    /// restriction it sets must be its own node or one below it.
    pub fn may_restrict_to(&self, actor: &Actor, wanted: Option<NodeId>) -> CoreResult<()> {
        match (scope(actor), wanted) {
            (Scope::Everywhere, _) => Ok(()),
            (Scope::Subtree(_), None) => {
                forbidden("you cannot lift a restriction: the account must stay within your scope")
            }
            (Scope::Subtree(root), Some(node)) => {
                if self.store.node_in_subtree(root, node)? {
                    Ok(())
                } else {
                    forbidden("you cannot restrict an account to a group outside your own scope")
                }
            }
        }
    }

    /// The manager of an account an actor makes or changes must be inside
    /// the actor's realm (itself or its branch, or its entity for an account
    /// admin), and the hierarchy must not loop.
    pub fn may_set_manager(
        &self,
        actor: &Actor,
        target: Option<AccountId>,
        manager: Option<&Account>,
    ) -> CoreResult<()> {
        if let (Some(t), Some(m)) = (target, manager) {
            if m.id == t || self.store.in_branch(t, m.id)? {
                return Err(CoreError::InvalidValue {
                    field: "manager",
                    reason: format!(
                        "{} is this account or one of its sub-users: the hierarchy would loop",
                        m.user_name
                    ),
                });
            }
        }
        let a = match actor {
            Actor::System => return Ok(()),
            Actor::Account(a) if a.admin_level == AdminLevel::SuperAdmin => return Ok(()),
            Actor::Account(a) => a,
        };
        let Some(m) = manager else {
            return forbidden("an account you manage must have a manager in your branch");
        };
        let allowed = if a.admin_level == AdminLevel::AccountAdmin {
            m.id == a.id || self.in_scope_account(a, scope(actor), m.id)?
        } else {
            m.id == a.id || self.store.in_branch(a.id, m.id)?
        };
        if allowed {
            Ok(())
        } else {
            forbidden(format!(
                "{} is outside your branch and cannot be made a manager by you",
                m.user_name
            ))
        }
    }

    /// The tree (DESIGN.md, "Groups and business entities"): a super admin
    /// creates, renames, moves and deletes nodes anywhere; an account admin
    /// does so inside its own entity, never the entity itself, never across
    /// entities; nobody else shapes the tree (the user-management role
    /// manages people, not the tree). These two functions are the whole rule.
    ///
    /// May `actor` put a node (a new one, or one it moves) under `parent`?
    /// `None` means the top of the tree.
    pub fn may_place_node(&self, actor: &Actor, parent: Option<NodeId>) -> CoreResult<()> {
        let a = match self.tree_shaper(actor)? {
            None => return Ok(()),
            Some(a) => a,
        };
        let root = a.admin_entity.unwrap_or(NodeId::MIN);
        match parent {
            None => forbidden("only a super admin may work at the top of the tree"),
            Some(p) if self.store.node_in_subtree(root, p)? => Ok(()),
            Some(_) => Err(CoreError::NotFound("group")),
        }
    }

    /// May `actor` rename, move or delete `node` itself?
    pub fn may_change_node(&self, actor: &Actor, node: &Node) -> CoreResult<()> {
        let a = match self.tree_shaper(actor)? {
            None => return Ok(()),
            Some(a) => a,
        };
        let root = a.admin_entity.unwrap_or(NodeId::MIN);
        if node.id == root {
            return forbidden(
                "an account admin cannot rename, move or delete its own business entity",
            );
        }
        if self.store.node_in_subtree(root, node.id)? {
            Ok(())
        } else {
            Err(CoreError::NotFound("group"))
        }
    }

    /// `Ok(None)` for an actor that shapes the tree everywhere, the account
    /// admin for one that shapes its own entity, refused for anyone else.
    fn tree_shaper<'a>(&self, actor: &'a Actor) -> CoreResult<Option<&'a Account>> {
        let a = match actor {
            Actor::System => return Ok(None),
            Actor::Account(a) if a.admin_level == AdminLevel::SuperAdmin => return Ok(None),
            Actor::Account(a) => a,
        };
        if !a.account_type.may_write() {
            return forbidden(format!(
                "a {} account is read only",
                a.account_type.display_name()
            ));
        }
        if a.admin_level != AdminLevel::AccountAdmin {
            return forbidden(
                "groups and business entities are created, renamed, moved and deleted by super admins and account admins",
            );
        }
        Ok(Some(a))
    }

    /// May `actor` change who is a member of `node`? (Each person added or
    /// removed is checked with `may_manage_account` as well.) An account
    /// admin inside its entity, the entity included; a user-management
    /// holder in groups inside its own scope.
    pub fn may_change_members(&self, actor: &Actor, node: NodeId) -> CoreResult<()> {
        let a = match actor {
            Actor::System => return Ok(()),
            Actor::Account(a) if a.admin_level == AdminLevel::SuperAdmin => return Ok(()),
            Actor::Account(a) => a,
        };
        if !a.account_type.may_write() {
            return forbidden(format!(
                "a {} account is read only",
                a.account_type.display_name()
            ));
        }
        if a.admin_level != AdminLevel::AccountAdmin && !a.has_role(USER_MANAGEMENT_ROLE) {
            return forbidden("changing group members needs the user-management role");
        }
        if self.in_scope_node(scope(actor), node)? {
            Ok(())
        } else {
            Err(CoreError::NotFound("group"))
        }
    }

    /// Only super admins make super admins and account admins (the manual's
    /// OTA Admin rule).
    pub fn may_grant_admin(&self, actor: &Actor) -> CoreResult<()> {
        if actor.is_super() {
            Ok(())
        } else {
            forbidden("only a super admin may create super admins and account admins")
        }
    }

    /// The whole audit log is a super admin's to read; anyone else reads
    /// the records of one account it can see (`seen`, already checked
    /// visible by the caller).
    pub fn may_read_audit(&self, actor: &Actor, seen: Option<&Account>) -> CoreResult<()> {
        if actor.is_super() || seen.is_some() {
            Ok(())
        } else {
            forbidden("the whole audit log is for super admins: choose one account")
        }
    }

    /// The outbox names every recipient: super admins only.
    pub fn may_read_outbox(&self, actor: &Actor) -> CoreResult<()> {
        if actor.is_super() {
            Ok(())
        } else {
            forbidden("the outbox is for super admins")
        }
    }

    /// A bearer token acts with its account's rights: the operator and
    /// super admins issue and revoke anyone's, an account its own.
    pub fn may_handle_token(&self, actor: &Actor, owner: AccountId) -> CoreResult<()> {
        if actor.is_super() || actor.id() == Some(owner) {
            Ok(())
        } else {
            forbidden("only a super admin may handle another account's tokens")
        }
    }
}

/// Tree shape: business entities sit at the top or under other business
/// entities (an MSP's customers); groups sit anywhere. `parent` is the
/// parent's kind and name (the parent may be a group about to be created).
pub fn check_parent_kind(kind: NodeKind, parent: Option<(NodeKind, &str)>) -> CoreResult<()> {
    match (kind, parent) {
        (NodeKind::BusinessEntity, Some((parent_kind, parent_name)))
            if parent_kind != NodeKind::BusinessEntity =>
        {
            Err(CoreError::InvalidTree(format!(
                "a business entity cannot sit inside the group {parent_name}"
            )))
        }
        _ => Ok(()),
    }
}
