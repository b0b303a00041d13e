//! Behaviour of the SQLite store, on real database files in temporary folders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use super::migrations::latest;
use super::SqliteStore;
use crate::model::{AccountId, AccountType, AdminLevel, AuthMethod, NodeId, NodeKind, Status};
use crate::store::{
    AccountUpdate, NewAccountRow, NewNodeRow, NodeChange, Page, Store, StoreError, Visibility,
};

pub(super) fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).unwrap()
}

pub(super) struct Fixture {
    pub(super) dir: TempDir,
    pub(super) store: SqliteStore,
}

impl Fixture {
    pub(super) fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("dirgate.db"), 2).unwrap();
        Fixture { dir, store }
    }

    pub(super) fn path(&self) -> PathBuf {
        self.dir.path().join("dirgate.db")
    }

    pub(super) fn account(&self, user_name: &str) -> AccountId {
        self.store.insert_account(&account_row(user_name)).unwrap()
    }

    fn account_under(&self, user_name: &str, manager: AccountId) -> AccountId {
        let mut row = account_row(user_name);
        row.manager = Some(manager);
        self.store.insert_account(&row).unwrap()
    }

    pub(super) fn node(&self, name: &str, parent: Option<NodeId>) -> NodeId {
        self.store.insert_node(&node_row(name, parent)).unwrap()
    }

    pub(super) fn member(&self, node: NodeId, account: AccountId) {
        self.store.add_member(node, account, at(5)).unwrap();
    }

    fn list(&self, visibility: Visibility) -> Vec<AccountId> {
        let accounts = self
            .store
            .list_accounts(visibility, false, Page::ALL)
            .unwrap();
        accounts.iter().map(|a| a.id).collect()
    }
}

pub(super) fn account_row(user_name: &str) -> NewAccountRow {
    NewAccountRow {
        uuid: Uuid::new_v4(),
        user_name: user_name.to_owned(),
        login_name: None,
        attributes: Default::default(),
        password_hash: None,
        given_name: "Given".to_owned(),
        family_name: "Family".to_owned(),
        email: None,
        mobile: None,
        time_zone: "UTC".to_owned(),
        account_type: AccountType::ReportReader,
        auth_method: AuthMethod::Password,
        restricted_to: None,
        manager: None,
        admin_level: AdminLevel::None,
        admin_entity: None,
        roles: vec![],
        status: Status::Active,
        external_id: None,
        now: at(0),
    }
}

pub(super) fn node_row(name: &str, parent: Option<NodeId>) -> NewNodeRow {
    NewNodeRow {
        uuid: Uuid::new_v4(),
        name: name.to_owned(),
        kind: if parent.is_some() {
            NodeKind::Group
        } else {
            NodeKind::BusinessEntity
        },
        parent,
        external_id: None,
        gid_number: None,
        members: Vec::new(),
        children: Vec::new(),
        now: at(0),
    }
}

pub(super) fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

// --- accounts -------------------------------------------------------------

#[test]
fn every_account_field_round_trips() {
    let f = Fixture::new();
    let entity = f.node("Acme", None);
    let group = f.node("Sales", Some(entity));
    let boss = f.account("boss");
    let row = NewAccountRow {
        uuid: Uuid::new_v4(),
        user_name: "JaneDoe7".to_owned(),
        login_name: None,
        attributes: Default::default(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        given_name: "Jane".to_owned(),
        family_name: "Doe".to_owned(),
        email: Some("jane@example.com".to_owned()),
        mobile: Some("+15550100".to_owned()),
        time_zone: "Europe/Paris".to_owned(),
        account_type: AccountType::RemoteAssistanceTechnician,
        auth_method: AuthMethod::TwoFactorSmsEveryTime,
        restricted_to: Some(group),
        manager: Some(boss),
        admin_level: AdminLevel::AccountAdmin,
        admin_entity: Some(entity),
        roles: vec!["user-management".to_owned(), "remote-assistance".to_owned()],
        status: Status::Inactive,
        external_id: Some("ext-42".to_owned()),
        now: Timestamp::from_microsecond(1_700_000_000_123_456).unwrap(),
    };
    let id = f.store.insert_account(&row).unwrap();

    let a = f.store.account(id).unwrap().unwrap();
    assert_eq!(a.id, id);
    assert_eq!(a.uuid, row.uuid);
    assert_eq!(a.user_name, "JaneDoe7");
    assert_eq!(a.given_name, "Jane");
    assert_eq!(a.family_name, "Doe");
    assert_eq!(a.email.as_deref(), Some("jane@example.com"));
    assert_eq!(a.mobile.as_deref(), Some("+15550100"));
    assert_eq!(a.time_zone, "Europe/Paris");
    assert_eq!(a.account_type, AccountType::RemoteAssistanceTechnician);
    assert_eq!(a.auth_method, AuthMethod::TwoFactorSmsEveryTime);
    assert_eq!(a.restricted_to, Some(group));
    assert_eq!(a.manager, Some(boss));
    assert_eq!(a.admin_level, AdminLevel::AccountAdmin);
    assert_eq!(a.admin_entity, Some(entity));
    assert_eq!(
        a.roles,
        vec!["remote-assistance", "user-management"],
        "sorted"
    );
    assert_eq!(a.status, Status::Inactive);
    assert!(!a.archived);
    assert!(!a.reset_pending);
    assert!(a.has_password);
    assert!(!a.totp_enrolled);
    assert_eq!(a.external_id.as_deref(), Some("ext-42"));
    assert_eq!(a.created, row.now, "microseconds survive");
    assert_eq!(a.modified, row.now);
    assert_eq!(a.version, 1);

    assert_eq!(f.store.account_by_uuid(row.uuid).unwrap(), Some(a.clone()));
    assert_eq!(
        f.store.account_by_user_name("janedoe7").unwrap(),
        Some(a.clone())
    );
    assert_eq!(f.store.account_by_user_name("nobody").unwrap(), None);
    assert_eq!(f.store.account(9999).unwrap(), None);

    let creds = f.store.credentials(id).unwrap().unwrap();
    assert_eq!(creds.password_hash, row.password_hash);
    assert_eq!(creds.totp_secret, None);
}

#[test]
fn update_sets_clears_and_bumps_version() {
    let f = Fixture::new();
    let node = f.node("Ops", None);
    let id = f.account("alice");
    let update = AccountUpdate {
        user_name: Some("Alice2".to_owned()),
        email: Some(Some("a@example.com".to_owned())),
        restricted_to: Some(Some(node)),
        roles: Some(vec!["user-management".to_owned()]),
        archived: Some(true),
        reset_pending: Some(true),
        password_hash: Some(Some("$argon2id$x".to_owned())),
        totp_secret: Some(Some(vec![1, 2, 3])),
        account_type: Some(AccountType::Administrator),
        ..AccountUpdate::default()
    };
    f.store
        .update_account(id, &update, Some(1), at(60))
        .unwrap();
    let a = f.store.account(id).unwrap().unwrap();
    assert_eq!(a.user_name, "Alice2");
    assert_eq!(a.email.as_deref(), Some("a@example.com"));
    assert_eq!(a.restricted_to, Some(node));
    assert_eq!(a.roles, vec!["user-management"]);
    assert!(a.archived && a.reset_pending && a.has_password && a.totp_enrolled);
    assert_eq!(a.account_type, AccountType::Administrator);
    assert_eq!(a.given_name, "Given", "fields not named stay");
    assert_eq!(a.version, 2);
    assert_eq!(a.modified, at(60));
    assert_eq!(a.created, at(0));
    let creds = f.store.credentials(id).unwrap().unwrap();
    assert_eq!(creds.totp_secret, Some(vec![1, 2, 3]));

    // Some(None) clears; an empty role list removes every role.
    let clear = AccountUpdate {
        email: Some(None),
        restricted_to: Some(None),
        password_hash: Some(None),
        totp_secret: Some(None),
        roles: Some(vec![]),
        ..AccountUpdate::default()
    };
    f.store.update_account(id, &clear, None, at(70)).unwrap();
    let a = f.store.account(id).unwrap().unwrap();
    assert_eq!(a.email, None);
    assert_eq!(a.restricted_to, None);
    assert!(!a.has_password && !a.totp_enrolled);
    assert!(a.roles.is_empty());
    assert_eq!(a.version, 3);
}

#[test]
fn stale_version_is_a_mismatch_and_changes_nothing() {
    let f = Fixture::new();
    let id = f.account("bob");
    let rename = AccountUpdate {
        given_name: Some("Robert".to_owned()),
        ..AccountUpdate::default()
    };
    f.store.update_account(id, &rename, Some(1), at(1)).unwrap();
    let err = f
        .store
        .update_account(id, &rename, Some(1), at(2))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::VersionMismatch("account")),
        "{err:?}"
    );
    assert_eq!(f.store.account(id).unwrap().unwrap().version, 2);

    let err = f
        .store
        .update_account(777, &rename, Some(1), at(2))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");
    let err = f
        .store
        .update_account(777, &rename, None, at(2))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");
}

#[test]
fn failed_update_rolls_back_entirely() {
    let f = Fixture::new();
    let id = f.account("carol");
    let update = AccountUpdate {
        given_name: Some("Changed".to_owned()),
        roles: Some(vec!["no-such-role".to_owned()]),
        ..AccountUpdate::default()
    };
    let err = f
        .store
        .update_account(id, &update, None, at(1))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound("security role")),
        "{err:?}"
    );
    let a = f.store.account(id).unwrap().unwrap();
    assert_eq!((a.given_name.as_str(), a.version), ("Given", 1));
}

#[test]
fn user_name_is_unique_ignoring_case() {
    let f = Fixture::new();
    f.account("Dave");
    let err = f.store.insert_account(&account_row("dAVE")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict("user name")), "{err:?}");

    let other = f.account("Eve");
    let rename = AccountUpdate {
        user_name: Some("DAVE".to_owned()),
        ..AccountUpdate::default()
    };
    let err = f
        .store
        .update_account(other, &rename, None, at(1))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("user name")), "{err:?}");

    let mut same_uuid = account_row("Frank");
    same_uuid.uuid = f.store.account(other).unwrap().unwrap().uuid;
    let err = f.store.insert_account(&same_uuid).unwrap_err();
    assert!(matches!(err, StoreError::Conflict("uuid")), "{err:?}");
}

#[test]
fn missing_references_are_named() {
    let f = Fixture::new();
    let mut row = account_row("gina");
    row.roles = vec!["wizardry".to_owned()];
    let err = f.store.insert_account(&row).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound("security role")),
        "{err:?}"
    );
    assert_eq!(
        f.store.account_by_user_name("gina").unwrap(),
        None,
        "rolled back"
    );

    let mut row = account_row("gina");
    row.manager = Some(404);
    let err = f.store.insert_account(&row).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("manager")), "{err:?}");

    let mut row = account_row("gina");
    row.restricted_to = Some(404);
    let err = f.store.insert_account(&row).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound("group to restrict to")),
        "{err:?}"
    );
}

#[test]
fn the_database_refuses_to_delete_an_account() {
    let f = Fixture::new();
    f.account("henry");
    let conn = raw(&f.path());
    let err = conn.execute("DELETE FROM accounts", []).unwrap_err();
    assert!(
        err.to_string().contains("accounts are never deleted"),
        "{err}"
    );
    let count: i64 = conn
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn a_bad_stored_enum_is_corrupt() {
    let f = Fixture::new();
    let id = f.account("ivan");
    raw(&f.path())
        .execute(
            "UPDATE accounts SET account_type = 'wizard' WHERE id = ?1",
            [id],
        )
        .unwrap();
    let err = f.store.account(id).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("wizard"), "{err}");
}

// --- visibility -----------------------------------------------------------

#[test]
fn subtree_follows_the_tree_as_it_grows() {
    let f = Fixture::new();
    let root = f.node("Acme", None);
    let child = f.node("AcmeSales", Some(root));
    let sibling = f.node("Globex", None);
    let sibling_child = f.node("GlobexSales", Some(sibling));

    let admin = f.account("admin"); // the actor, member of nothing
    let in_child = f.account("inchild");
    f.member(child, in_child);
    let restricted = {
        let mut row = account_row("restricted");
        row.restricted_to = Some(root);
        f.store.insert_account(&row).unwrap()
    };
    let outside = f.account("outside");
    f.member(sibling_child, outside);
    let nowhere = f.account("nowhere");

    let vis = Visibility::Subtree {
        root,
        self_id: admin,
    };
    assert_eq!(f.list(vis), vec![admin, in_child, restricted]);
    assert_eq!(f.store.count_accounts(vis, false).unwrap(), 3);
    let nodes: Vec<NodeId> = f
        .store
        .list_nodes(vis, Page::ALL)
        .unwrap()
        .iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(nodes, vec![root, child]);

    // A group created after the grant, and a person put in it.
    let grandchild = f.node("AcmeSalesNorth", Some(child));
    let late = f.account("late");
    assert!(!f.store.account_visible(vis, late).unwrap());
    f.member(grandchild, late);
    assert_eq!(f.list(vis), vec![admin, in_child, restricted, late]);
    assert_eq!(f.store.count_accounts(vis, false).unwrap(), 4);
    assert_eq!(f.store.list_nodes(vis, Page::ALL).unwrap().len(), 3);

    for id in [admin, in_child, restricted, late] {
        assert!(f.store.account_visible(vis, id).unwrap(), "{id}");
    }
    for id in [outside, nowhere] {
        assert!(!f.store.account_visible(vis, id).unwrap(), "{id}");
    }

    // Moving a node out of the subtree takes its people with it.
    f.store
        .set_node_parent(grandchild, Some(sibling), at(9))
        .unwrap();
    assert!(!f.store.account_visible(vis, late).unwrap());
}

#[test]
fn self_only_and_all() {
    let f = Fixture::new();
    let root = f.node("Acme", None);
    let me = f.account("me");
    let other = f.account("other");
    f.member(root, other);

    let mine = Visibility::SelfOnly { self_id: me };
    assert_eq!(f.list(mine), vec![me]);
    assert_eq!(f.store.count_accounts(mine, true).unwrap(), 1);
    assert!(f.store.account_visible(mine, me).unwrap());
    assert!(!f.store.account_visible(mine, other).unwrap());
    assert!(f.store.list_nodes(mine, Page::ALL).unwrap().is_empty());

    assert_eq!(f.list(Visibility::All), vec![me, other]);
    assert_eq!(
        f.store
            .list_nodes(Visibility::All, Page::ALL)
            .unwrap()
            .len(),
        1
    );
    assert!(f.store.account_visible(Visibility::All, other).unwrap());
    assert!(!f.store.account_visible(Visibility::All, 999).unwrap());
}

#[test]
fn archived_accounts_are_hidden_unless_asked_for() {
    let f = Fixture::new();
    let kept = f.account("kept");
    let gone = f.account("gone");
    let archive = AccountUpdate {
        archived: Some(true),
        status: Some(Status::Inactive),
        ..AccountUpdate::default()
    };
    f.store.update_account(gone, &archive, None, at(1)).unwrap();

    assert_eq!(f.list(Visibility::All), vec![kept]);
    assert_eq!(f.store.count_accounts(Visibility::All, false).unwrap(), 1);
    let all = f
        .store
        .list_accounts(Visibility::All, true, Page::ALL)
        .unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![kept, gone]
    );
    assert_eq!(f.store.count_accounts(Visibility::All, true).unwrap(), 2);
    // Still there, by every lookup: archived is never deleted.
    assert!(f.store.account(gone).unwrap().unwrap().archived);
}

#[test]
fn pages_follow_row_id_order() {
    let f = Fixture::new();
    // Inserted in non-alphabetical order, so a sort by name would differ.
    let ids: Vec<AccountId> = ["zed", "amy", "mia", "bo", "kim"]
        .iter()
        .map(|n| f.account(n))
        .collect();
    let page = |offset, limit| {
        f.store
            .list_accounts(Visibility::All, false, Page { offset, limit })
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(0, 2), ids[0..2]);
    assert_eq!(page(2, 2), ids[2..4]);
    assert_eq!(page(4, 2), ids[4..5]);
    assert!(page(5, 2).is_empty());
    assert!(page(0, 0).is_empty());
    assert_eq!(page(0, u64::MAX), ids, "a huge limit is clamped");
    assert!(page(u64::MAX, 10).is_empty(), "a huge offset is clamped");
}

// --- hierarchy and tree ---------------------------------------------------

#[test]
fn in_branch_walks_the_manager_chain() {
    let f = Fixture::new();
    let top = f.account("top");
    let mid = f.account_under("mid", top);
    let low = f.account_under("low", mid);
    let bottom = f.account_under("bottom", low);
    let sibling = f.account_under("sibling", top);

    assert!(f.store.in_branch(top, mid).unwrap());
    assert!(f.store.in_branch(top, bottom).unwrap(), "depth 3");
    assert!(f.store.in_branch(mid, bottom).unwrap());
    assert!(!f.store.in_branch(bottom, top).unwrap(), "not upwards");
    assert!(!f.store.in_branch(top, top).unwrap(), "not itself");
    assert!(!f.store.in_branch(sibling, low).unwrap(), "not a sibling's");
    assert!(!f.store.in_branch(mid, sibling).unwrap());

    // A cycle (which the core never writes) still ends.
    let loop_back = AccountUpdate {
        manager: Some(Some(bottom)),
        ..AccountUpdate::default()
    };
    f.store
        .update_account(top, &loop_back, None, at(1))
        .unwrap();
    assert!(!f.store.in_branch(sibling, low).unwrap());
    assert!(f.store.in_branch(low, top).unwrap());
}

#[test]
fn nodes_subtree_and_names() {
    let f = Fixture::new();
    let root = f.node("Acme", None);
    let child = f.node("Sales", Some(root));
    let grandchild = f.node("North", Some(child));
    let other = f.node("Globex", None);

    assert!(f.store.node_in_subtree(root, root).unwrap());
    assert!(f.store.node_in_subtree(root, grandchild).unwrap());
    assert!(!f.store.node_in_subtree(child, root).unwrap());
    assert!(!f.store.node_in_subtree(root, other).unwrap());

    let node = f.store.node_by_name("sALES").unwrap().unwrap();
    assert_eq!(
        (node.id, node.parent, node.kind),
        (child, Some(root), NodeKind::Group)
    );
    assert_eq!(
        f.store.node(root).unwrap().unwrap().kind,
        NodeKind::BusinessEntity
    );

    let err = f.store.insert_node(&node_row("ACME", None)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict("group name")), "{err:?}");
    let err = f
        .store
        .insert_node(&node_row("Orphan", Some(404)))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound("parent group")),
        "{err:?}"
    );

    f.store
        .set_node_parent(grandchild, Some(other), at(3))
        .unwrap();
    let moved = f.store.node(grandchild).unwrap().unwrap();
    assert_eq!(
        (moved.parent, moved.version, moved.modified),
        (Some(other), 2, at(3))
    );
    assert!(f.store.node_in_subtree(other, grandchild).unwrap());
    let err = f.store.set_node_parent(404, None, at(3)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("group")), "{err:?}");
}

#[test]
fn membership_changes_bump_both_versions() {
    let f = Fixture::new();
    let node = f.node("Team", None);
    let a = f.account("ann");
    let b = f.account("ben");

    f.store.add_member(node, b, at(10)).unwrap();
    f.store.add_member(node, a, at(10)).unwrap();
    f.store.add_member(node, a, at(20)).unwrap(); // already a member: no-op
    assert_eq!(f.store.members(node).unwrap(), vec![a, b]);
    assert_eq!(f.store.memberships(a).unwrap(), vec![node]);
    let ann = f.store.account(a).unwrap().unwrap();
    assert_eq!((ann.version, ann.modified), (2, at(10)));
    assert_eq!(f.store.node(node).unwrap().unwrap().version, 3);

    f.store.remove_member(node, a, at(30)).unwrap();
    f.store.remove_member(node, a, at(40)).unwrap(); // gone already: Ok
    assert_eq!(f.store.members(node).unwrap(), vec![b]);
    assert!(f.store.memberships(a).unwrap().is_empty());
    let ann = f.store.account(a).unwrap().unwrap();
    assert_eq!((ann.version, ann.modified), (3, at(30)));

    let err = f.store.add_member(404, a, at(50)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("group")), "{err:?}");
    let err = f.store.add_member(node, 404, at(50)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");
}

#[test]
fn a_node_change_lands_whole_or_not_at_all() {
    let f = Fixture::new();
    let team = f.node("Team", None);
    let taken = f.node("Taken", None);
    let sub = f.node("Sub", Some(taken));
    let (a, b) = (f.account("ann"), f.account("ben"));
    f.member(team, a);
    let before = f.store.node(team).unwrap().unwrap();

    // A rename onto a taken name, with a membership change: nothing lands.
    let clash = NodeChange {
        name: Some("TAKEN".into()),
        add_members: vec![b],
        remove_members: vec![a],
        adopt: vec![sub],
        ..NodeChange::default()
    };
    let err = f.store.change_node(team, &clash, None, at(30)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict("group name")), "{err:?}");
    // A missing member after a rename: nothing lands either.
    let ghost = NodeChange {
        name: Some("Renamed".into()),
        add_members: vec![b, 404],
        ..NodeChange::default()
    };
    let err = f.store.change_node(team, &ghost, None, at(30)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");
    assert_eq!(f.store.node(team).unwrap().unwrap(), before);
    assert_eq!(f.store.members(team).unwrap(), vec![a]);
    assert_eq!(f.store.node(sub).unwrap().unwrap().parent, Some(taken));
    assert_eq!(f.store.account(b).unwrap().unwrap().version, 1);

    // The same change with a free name lands whole, in one version step.
    let ok = NodeChange {
        name: Some("Renamed".into()),
        ..clash
    };
    f.store
        .change_node(team, &ok, Some(before.version), at(40))
        .unwrap();
    let after = f.store.node(team).unwrap().unwrap();
    assert_eq!(
        (after.name.as_str(), after.version, after.modified),
        ("Renamed", before.version + 1, at(40))
    );
    assert_eq!(f.store.members(team).unwrap(), vec![b]);
    assert_eq!(f.store.node(sub).unwrap().unwrap().parent, Some(team));
    assert!(matches!(
        f.store
            .change_node(team, &NodeChange::default(), Some(before.version), at(50)),
        Err(StoreError::VersionMismatch("group"))
    ));
}

#[test]
fn a_node_is_inserted_with_its_members_or_not_at_all() {
    let f = Fixture::new();
    let root = f.node("Root", None);
    let child = f.node("Child", Some(root));
    let a = f.account("ann");
    let row = NewNodeRow {
        members: vec![a],
        children: vec![child],
        ..node_row("Team", Some(root))
    };
    let team = f.store.insert_node(&row).unwrap();
    assert_eq!(f.store.members(team).unwrap(), vec![a]);
    assert_eq!(f.store.node(child).unwrap().unwrap().parent, Some(team));
    assert_eq!(f.store.node(team).unwrap().unwrap().version, 1);

    let broken = NewNodeRow {
        members: vec![a, 404],
        ..node_row("Broken", Some(root))
    };
    let err = f.store.insert_node(&broken).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");
    assert!(f.store.node_by_name("Broken").unwrap().is_none());
}

#[test]
fn roles_are_seeded_and_unique() {
    let f = Fixture::new();
    assert_eq!(
        f.store.roles().unwrap(),
        vec!["remote-assistance", "user-management"]
    );
    f.store.insert_role("auditing").unwrap();
    let err = f.store.insert_role("auditing").unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("security role")),
        "{err:?}"
    );
    assert_eq!(f.store.roles().unwrap()[0], "auditing");

    let mut row = account_row("judy");
    row.roles = vec!["auditing".to_owned(), "auditing".to_owned()];
    let id = f.store.insert_account(&row).unwrap();
    assert_eq!(
        f.store.account(id).unwrap().unwrap().roles,
        vec!["auditing"]
    );
}

// --- tokens ---------------------------------------------------------------

#[test]
fn tokens_insert_lookup_list_revoke() {
    let f = Fixture::new();
    let owner = f.account("owner");
    let (id1, id2) = (Uuid::new_v4(), Uuid::new_v4());
    f.store
        .insert_token(id1, owner, &[1; 32], Some(at(3600)), at(1))
        .unwrap();
    f.store
        .insert_token(id2, owner, &[2; 32], None, at(2))
        .unwrap();

    let found = f.store.token_by_hash(&[1; 32]).unwrap().unwrap().info;
    assert_eq!(found.id, id1);
    assert_eq!(found.account, owner);
    assert_eq!(found.user_name, "owner");
    assert_eq!(
        (found.created, found.expires, found.revoked),
        (at(1), Some(at(3600)), false)
    );
    assert!(f.store.token_by_hash(&[9; 32]).unwrap().is_none());

    let listed = f.store.list_tokens().unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![id1, id2]
    );
    assert_eq!(listed[1].expires, None);

    f.store.revoke_token(id1, at(5)).unwrap();
    f.store.revoke_token(id1, at(6)).unwrap(); // twice is fine
    assert!(
        f.store
            .token_by_hash(&[1; 32])
            .unwrap()
            .unwrap()
            .info
            .revoked
    );
    assert!(
        !f.store
            .token_by_hash(&[2; 32])
            .unwrap()
            .unwrap()
            .info
            .revoked
    );
    let err = f.store.revoke_token(Uuid::new_v4(), at(7)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("token")), "{err:?}");

    let err = f
        .store
        .insert_token(Uuid::new_v4(), owner, &[2; 32], None, at(8))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("token secret")),
        "{err:?}"
    );
    let err = f
        .store
        .insert_token(Uuid::new_v4(), 404, &[3; 32], None, at(8))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("account")), "{err:?}");

    // Only the hash is kept.
    let stored: Vec<u8> = raw(&f.path())
        .query_row(
            "SELECT secret_hash FROM tokens WHERE id = ?1",
            [id2.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, vec![2; 32]);
}

// --- opening files --------------------------------------------------------

#[test]
fn a_new_file_and_its_folder_are_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("nested").join("dirgate.db");
    let store = SqliteStore::open(&path, 1).unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);

    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, latest());
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    let id = {
        let store = SqliteStore::open(&path, 2).unwrap();
        store.insert_account(&account_row("kate")).unwrap()
    };
    for _ in 0..2 {
        let store = SqliteStore::open(&path, 2).unwrap();
        assert_eq!(store.account(id).unwrap().unwrap().user_name, "kate");
        assert_eq!(store.roles().unwrap().len(), 2, "seed rows not repeated");
    }
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, latest());
}

fn assert_refused_unchanged(path: &Path, expected: &[&str]) {
    let before = std::fs::read(path).unwrap();
    let err = SqliteStore::open(path, 1).unwrap_err();
    let StoreError::Unusable(message) = &err else {
        panic!("expected Unusable, got {err:?}");
    };
    assert!(message.contains(&path.display().to_string()), "{message}");
    for part in expected {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
    assert_eq!(std::fs::read(path).unwrap(), before, "file bytes changed");
}

#[test]
fn a_file_that_is_not_sqlite_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    assert_refused_unchanged(
        &path,
        &[
            "is not a dirgate database",
            "file is not a database",
            "left unchanged",
        ],
    );
}

#[test]
fn a_newer_schema_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE future (x INTEGER);
             PRAGMA application_id = 1684632167;
             PRAGMA user_version = 99;",
        )
        .unwrap();
    }
    assert_refused_unchanged(
        &path,
        &[
            "has schema version 99",
            &format!("knows only up to {}", latest()),
            "upgrade dirgate",
            "left unchanged",
        ],
    );
}

#[test]
fn another_applications_database_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    raw(&path)
        .execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    assert_refused_unchanged(&path, &["is not a dirgate database", "another application"]);
}

#[test]
fn an_empty_file_becomes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteStore::open(&path, 1).unwrap();
    assert_eq!(store.roles().unwrap().len(), 2);
}

// --- concurrency ----------------------------------------------------------

#[test]
fn readers_are_shared_between_threads() {
    let dir = tempfile::tempdir().unwrap();
    // One reader for eight threads: every read waits its turn.
    let store = Arc::new(SqliteStore::open(&dir.path().join("dirgate.db"), 1).unwrap());
    let id = store.insert_account(&account_row("shared")).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for j in 0..50 {
                    assert!(store.account(id).unwrap().is_some());
                    if j % 10 == 0 {
                        let name = format!("t{i}x{j}");
                        store.insert_account(&account_row(&name)).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        store.count_accounts(Visibility::All, true).unwrap(),
        1 + 8 * 5
    );
}

#[test]
fn closing_the_store_checkpoints_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    let store = SqliteStore::open(&path, 2).unwrap();
    store.insert_account(&account_row("closer")).unwrap();
    assert!(store.account_by_user_name("closer").unwrap().is_some());
    drop(store);
    // The writer closed last, folded the log into the file and removed it.
    assert!(!dir.path().join("dirgate.db-wal").exists());
}

#[test]
fn a_staged_audit_record_commits_with_the_change_or_not_at_all() {
    use crate::store::{AuditLog, AuditRecord};
    let f = Fixture::new();
    let record = |action: &str| AuditRecord {
        at: at(1),
        actor: "system".into(),
        face: "cli".into(),
        action: action.into(),
        target: "Team".into(),
        detail: "".into(),
        result: "ok".into(),
    };
    let team = f.node("Team", None);
    f.node("Taken", None);
    // A write that fails leaves the record staged and writes nothing.
    f.store.stage_audit(record("group.rename"));
    let clash = NodeChange {
        name: Some("Taken".into()),
        ..NodeChange::default()
    };
    assert!(f.store.change_node(team, &clash, None, at(2)).is_err());
    assert!(f.store.audit_records(None, None, 10).unwrap().is_empty());
    assert_eq!(
        f.store.take_staged_audit().map(|r| r.action),
        Some("group.rename".into())
    );
    // A write that succeeds takes the record into its own transaction.
    f.store.stage_audit(record("group.rename"));
    let fine = NodeChange {
        name: Some("Crew".into()),
        ..NodeChange::default()
    };
    f.store.change_node(team, &fine, None, at(3)).unwrap();
    assert!(f.store.take_staged_audit().is_none());
    let rows = f.store.audit_records(Some("team"), None, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "group.rename");
}

#[test]
fn reads_in_a_snapshot_see_one_state_and_release_their_reader() {
    let f = Fixture::new();
    f.account("first");
    let count = |s: &SqliteStore| s.count_accounts(Visibility::All, false).unwrap();
    let mut seen = Vec::new();
    f.store
        .snapshot(&mut || {
            seen.push(count(&f.store));
            // A write committed in the middle is not seen by later reads
            // of the same snapshot, nested snapshots included.
            f.account("second");
            seen.push(count(&f.store));
            f.store
                .snapshot(&mut || seen.push(count(&f.store)))
                .unwrap();
        })
        .unwrap();
    assert_eq!(seen, [1, 1, 1]);
    // Afterwards reads see the write again, and both readers are free: two
    // snapshots on two threads at once finish (a leaked reader would hang).
    assert_eq!(count(&f.store), 2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..50 {
                    f.store
                        .snapshot(&mut || assert_eq!(count(&f.store), 2))
                        .unwrap();
                }
            });
        }
    });
}

/// Pages the database file itself holds (its header's count), leaving out
/// what is only in the write-ahead log.
fn pages_in_file(path: &Path) -> u32 {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .get(28..32)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[test]
fn commits_are_checkpointed_into_the_database_file_beside_the_writer() {
    let f = Fixture::new();
    let before = pages_in_file(&f.path());
    for i in 0..300 {
        f.account(&format!("user{i}"));
    }
    // 256 commits wake the checkpointer (the writer's own checkpoint would
    // wait for 20,000 pages of log): the rows reach the file itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while pages_in_file(&f.path()) < before + 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was checkpointed: {} pages in the file, {before} before",
            pages_in_file(&f.path())
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn rows_are_read_by_the_positions_their_columns_have() {
    use super::convert::{ACCOUNT_COLUMNS, ACCOUNT_COLUMN_NAMES, NODE_COLUMNS, NODE_COLUMN_NAMES};
    let f = Fixture::new();
    let conn = Connection::open(f.path()).unwrap();
    let names = |sql: &str| -> Vec<String> {
        let stmt = conn.prepare(sql).unwrap();
        stmt.column_names().map(str::to_owned).collect()
    };
    assert_eq!(
        names(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a")),
        ACCOUNT_COLUMN_NAMES
    );
    assert_eq!(
        names(&format!("SELECT {NODE_COLUMNS} FROM nodes n")),
        NODE_COLUMN_NAMES
    );
}

#[test]
fn posix_numbers_are_handed_out_once_skipping_those_held() {
    use crate::model::Attribute;
    use crate::store::NumberKind;
    let f = Fixture::new();
    let s = &f.store;
    assert_eq!(
        s.allocate_number(NumberKind::Uid, 100, 103).unwrap(),
        Some(100)
    );
    // 101 is held by an account an administrator numbered by hand.
    let held = f.account("held");
    let update = AccountUpdate {
        attributes: vec![(Attribute::UidNumber, Some("101".into()))],
        ..AccountUpdate::default()
    };
    s.update_account(held, &update, None, at(1)).unwrap();
    assert_eq!(
        s.allocate_number(NumberKind::Uid, 100, 103).unwrap(),
        Some(102)
    );
    // Given up by the account, 101 is still never handed out: the counter
    // only goes up.
    let update = AccountUpdate {
        attributes: vec![(Attribute::UidNumber, Some("150".into()))],
        ..AccountUpdate::default()
    };
    s.update_account(held, &update, None, at(2)).unwrap();
    assert_eq!(
        s.allocate_number(NumberKind::Uid, 100, 103).unwrap(),
        Some(103)
    );
    assert_eq!(s.allocate_number(NumberKind::Uid, 100, 103).unwrap(), None);
    // A second account cannot take a number one holds.
    let other = f.account("other");
    let taken = AccountUpdate {
        attributes: vec![(Attribute::UidNumber, Some("150".into()))],
        ..AccountUpdate::default()
    };
    assert!(matches!(
        s.update_account(other, &taken, None, at(3)),
        Err(StoreError::Conflict("UID number"))
    ));
    // Groups count from their own counter, and skip an account's number.
    assert_eq!(
        s.allocate_number(NumberKind::Gid, 150, 160).unwrap(),
        Some(151)
    );
}
