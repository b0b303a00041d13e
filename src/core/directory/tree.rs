//! The organisation tree: reading, creating, moving, changing and
//! deleting nodes and groups, and groups' members.

use std::collections::BTreeSet;

use jiff::Timestamp;
use uuid::Uuid;

use crate::core::access::{check_parent_kind, Actor};
use crate::core::error::{CoreError, CoreResult};
use crate::core::validate;
use crate::model::{Account, AccountId, Node, NodeId};
use crate::model::{Page, Visibility};
use crate::store::{NewNodeRow, NodeChange};

use super::{Directory, GroupEdit, MemberEdit, NewNode};

impl Directory {
    pub fn node(&self, actor: &Actor, id: NodeId) -> CoreResult<Node> {
        let node = self.store.node(id)?.ok_or(CoreError::NotFound("group"))?;
        self.visible_node(actor, node)
    }

    pub fn node_by_uuid(&self, actor: &Actor, uuid: Uuid) -> CoreResult<Node> {
        let node = self
            .store
            .node_by_uuid(uuid)?
            .ok_or(CoreError::NotFound("group"))?;
        self.visible_node(actor, node)
    }

    pub fn node_by_name(&self, actor: &Actor, name: &str) -> CoreResult<Node> {
        let node = self
            .store
            .node_by_name(name)?
            .ok_or(CoreError::NotFound("group"))?;
        self.visible_node(actor, node)
    }

    fn visible_node(&self, actor: &Actor, node: Node) -> CoreResult<Node> {
        let seen = match self.visibility(actor) {
            Visibility::All => true,
            Visibility::Subtree { root, .. } => self.store.node_in_subtree(root, node.id)?,
            Visibility::SelfOnly { .. } => false,
        };
        if seen {
            Ok(node)
        } else {
            Err(CoreError::NotFound("group"))
        }
    }

    pub fn list_nodes(&self, actor: &Actor, page: Page) -> CoreResult<Vec<Node>> {
        Ok(self.store.list_nodes(self.visibility(actor), page)?)
    }

    pub fn create_node(&self, actor: &Actor, new: NewNode) -> CoreResult<Node> {
        self.create_group(actor, new, &BTreeSet::new(), &BTreeSet::new())
    }

    /// Creates a node with its first members and the groups moved under it,
    /// in one transaction after every right is checked.
    pub fn create_group(
        &self,
        actor: &Actor,
        new: NewNode,
        people: &BTreeSet<AccountId>,
        groups: &BTreeSet<NodeId>,
    ) -> CoreResult<Node> {
        let target = new.name.clone();
        let detail = format!(
            "kind={}, parent={}, {} people, {} subgroups",
            new.kind.display_name(),
            new.parent.map_or("(top)".into(), |p| self.node_label(p)),
            people.len(),
            groups.len()
        );
        self.audited(
            actor,
            "group.create",
            &target,
            &detail,
            || -> CoreResult<Node> {
                validate::node_name(&new.name)?;
                let parent = new.parent.map(|id| self.node(actor, id)).transpose()?;
                let rules = self.rules();
                rules.may_place_node(actor, new.parent)?;
                check_parent_kind(new.kind, parent.as_ref().map(|p| (p.kind, p.name.as_str())))?;
                self.check_may_manage(actor, people)?;
                for child in groups {
                    let child = self.node(actor, *child)?;
                    rules.may_change_node(actor, &child)?;
                    check_parent_kind(child.kind, Some((new.kind, &new.name)))?;
                }
                let gid_number = Some(self.posix.group_number(self.store.as_ref())?);
                let id = self.store.insert_node(&NewNodeRow {
                    uuid: Uuid::new_v4(),
                    name: new.name,
                    kind: new.kind,
                    gid_number,
                    parent: new.parent,
                    external_id: new.external_id,
                    members: people.iter().copied().collect(),
                    children: groups.iter().copied().collect(),
                    now: Timestamp::now(),
                })?;
                self.store.node(id)?.ok_or(CoreError::NotFound("group"))
            },
        )
    }

    pub fn move_node(&self, actor: &Actor, id: NodeId, parent: Option<NodeId>) -> CoreResult<Node> {
        let target = self.node_label(id);
        let detail = format!(
            "parent={}",
            parent.map_or("(top)".into(), |p| self.node_label(p))
        );
        self.audited(
            actor,
            "group.move",
            &target,
            &detail,
            || -> CoreResult<Node> {
                let node = self.node(actor, id)?;
                self.check_move(actor, &node, parent)?;
                self.store
                    .set_node_parent(node.id, parent, Timestamp::now())?;
                self.store.node(id)?.ok_or(CoreError::NotFound("group"))
            },
        )
    }

    /// Whether the actor may put `node` under `parent` (`None`: the top).
    fn check_move(&self, actor: &Actor, node: &Node, parent: Option<NodeId>) -> CoreResult<()> {
        let rules = self.rules();
        rules.may_change_node(actor, node)?;
        let new_parent = parent.map(|p| self.node(actor, p)).transpose()?;
        rules.may_place_node(actor, parent)?;
        check_parent_kind(
            node.kind,
            new_parent.as_ref().map(|p| (p.kind, p.name.as_str())),
        )?;
        if let Some(p) = parent {
            if self.store.node_in_subtree(node.id, p)? {
                return Err(CoreError::InvalidTree(format!(
                    "{} cannot move under itself or one of its subgroups",
                    node.name
                )));
            }
        }
        Ok(())
    }

    /// Renames a node and/or sets its external id, if the actor manages it.
    pub fn update_node(
        &self,
        actor: &Actor,
        id: NodeId,
        name: Option<String>,
        external_id: Option<Option<String>>,
        expected_version: Option<i64>,
    ) -> CoreResult<Node> {
        let edit = GroupEdit {
            name,
            external_id,
            ..GroupEdit::default()
        };
        self.edit_group(actor, id, edit, expected_version)
    }

    /// Changes a group's name, external id and members as one change: every
    /// right is checked first, then the store writes it in one transaction,
    /// so a refused member leaves a rename unmade too. A 10,000-member group
    /// changed by one member reads and writes that one membership.
    pub fn edit_group(
        &self,
        actor: &Actor,
        id: NodeId,
        edit: GroupEdit,
        expected_version: Option<i64>,
    ) -> CoreResult<Node> {
        let target = self.node_label(id);
        let detail = crate::core::audit::describe_edit(&edit);
        self.audited(
            actor,
            "group.change",
            &target,
            &detail,
            || -> CoreResult<Node> {
                let node = self.node(actor, id)?;
                let rules = self.rules();
                // Members are the weakest right a change needs; renaming
                // (or a new external id) is shaping the tree.
                rules.may_change_members(actor, node.id)?;
                let renamed = edit.name.as_ref().is_some_and(|n| *n != node.name)
                    || edit
                        .external_id
                        .as_ref()
                        .is_some_and(|e| *e != node.external_id);
                if renamed {
                    rules.may_change_node(actor, &node)?;
                }
                if let Some(n) = &edit.name {
                    validate::node_name(n)?;
                }
                let (add, remove, adopt) = match edit.members {
                    MemberEdit::Keep => Default::default(),
                    MemberEdit::Replace { people, groups } => {
                        let current: BTreeSet<AccountId> =
                            self.members(actor, node.id)?.into_iter().collect();
                        let gone = current.difference(&people).copied().collect();
                        let new = people.difference(&current).copied().collect();
                        (new, gone, groups)
                    }
                    MemberEdit::Change {
                        add,
                        remove,
                        add_groups,
                    } => (add, remove, add_groups),
                };
                for account in add.iter().chain(&remove) {
                    rules.may_manage_account(actor, &self.account(actor, *account)?)?;
                }
                let name = edit.name.as_deref().unwrap_or(&node.name);
                let parent = edit.parent.filter(|p| *p != node.parent);
                if let Some(new_parent) = parent {
                    self.check_move(actor, &node, new_parent)?;
                }
                for child in &adopt {
                    let child = self.node(actor, *child)?;
                    rules.may_change_node(actor, &child)?;
                    rules.may_place_node(actor, Some(node.id))?;
                    check_parent_kind(child.kind, Some((node.kind, name)))?;
                    let cycle = self.store.node_in_subtree(child.id, node.id)?
                        || match parent {
                            // Under the new parent, the child must not hold it.
                            Some(Some(p)) => self.store.node_in_subtree(child.id, p)?,
                            _ => false,
                        };
                    if cycle {
                        return Err(CoreError::InvalidTree(format!(
                            "{} cannot become a member of its own subgroup",
                            child.name
                        )));
                    }
                }
                let change = NodeChange {
                    name: edit.name,
                    external_id: edit.external_id,
                    add_members: add.into_iter().collect(),
                    remove_members: remove.into_iter().collect(),
                    adopt: adopt.into_iter().collect(),
                    parent,
                };
                self.store
                    .change_node(node.id, &change, expected_version, Timestamp::now())?;
                self.store.node(id)?.ok_or(CoreError::NotFound("group"))
            },
        )
    }

    /// Deletes a group the actor manages (never an account: those are only
    /// archived). The root of the actor's own scope is not its to delete.
    pub fn delete_node(&self, actor: &Actor, id: NodeId) -> CoreResult<()> {
        let target = self.node_label(id);
        let detail = "deleted";
        self.audited(
            actor,
            "group.delete",
            &target,
            detail,
            || -> CoreResult<()> {
                let node = self.node(actor, id)?;
                let rules = self.rules();
                rules.may_change_node(actor, &node)?;
                // A delete is allowed only when each of its effects would
                // be: every membership it ends must be one the actor could
                // end on its own (hidden members included, unnamed).
                if !actor.is_super() {
                    for member in self.store.members(node.id)? {
                        let allowed = match self.store.account(member)? {
                            Some(account) => rules.may_manage_account(actor, &account).is_ok(),
                            None => true,
                        };
                        if !allowed {
                            return Err(CoreError::Forbidden(format!(
                                "{} has members you may not remove; remove the others first",
                                node.name
                            )));
                        }
                    }
                }
                Ok(self.store.delete_node(node.id)?)
            },
        )
    }

    /// Direct members of a node the actor may see, limited to what it may see.
    pub fn members(&self, actor: &Actor, node: NodeId) -> CoreResult<Vec<AccountId>> {
        let node = self.node(actor, node)?;
        let related = self.related(actor, &[], &[&node])?;
        Ok(related
            .members_of
            .get(&node.id)
            .cloned()
            .unwrap_or_default())
    }

    /// Whether the actor may change each of these accounts (for example put
    /// them into a group it is about to create): checked before any write.
    pub fn check_may_manage(
        &self,
        actor: &Actor,
        accounts: &BTreeSet<AccountId>,
    ) -> CoreResult<()> {
        let rules = self.rules();
        for id in accounts {
            rules.may_manage_account(actor, &self.account(actor, *id)?)?;
        }
        Ok(())
    }

    /// Puts an account into a group. The actor must manage both.
    pub fn add_member(&self, actor: &Actor, node: NodeId, account: AccountId) -> CoreResult<()> {
        let target = self.node_label(node);
        let detail = format!("member + {}", self.account_label(account));
        self.audited(
            actor,
            "group.change",
            &target,
            &detail,
            || -> CoreResult<()> {
                let (node, account) = self.membership_checks(actor, node, account)?;
                Ok(self
                    .store
                    .add_member(node.id, account.id, Timestamp::now())?)
            },
        )
    }

    pub fn remove_member(&self, actor: &Actor, node: NodeId, account: AccountId) -> CoreResult<()> {
        let target = self.node_label(node);
        let detail = format!("member - {}", self.account_label(account));
        self.audited(
            actor,
            "group.change",
            &target,
            &detail,
            || -> CoreResult<()> {
                let (node, account) = self.membership_checks(actor, node, account)?;
                Ok(self
                    .store
                    .remove_member(node.id, account.id, Timestamp::now())?)
            },
        )
    }

    fn membership_checks(
        &self,
        actor: &Actor,
        node: NodeId,
        account: AccountId,
    ) -> CoreResult<(Node, Account)> {
        let node = self.node(actor, node)?;
        let account = self.account(actor, account)?;
        let rules = self.rules();
        rules.may_change_members(actor, node.id)?;
        rules.may_manage_account(actor, &account)?;
        Ok((node, account))
    }
}
