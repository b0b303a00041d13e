//! The rules of `DESIGN.md`, checked table by table against a real store.

use std::collections::HashMap;

use crate::core::access::Actor;
use crate::core::directory::{AccountChange, AuthError, Directory, NewAccount, NewNode};
use crate::core::error::CoreError;
use crate::core::test_support::directory;
use crate::model::Page;
use crate::model::{
    AccountId, AccountType, AdminLevel, AuthMethod, NodeId, NodeKind, Status, USER_MANAGEMENT_ROLE,
};

const PW: &str = "Correct7Horse";

/// A small organisation:
///
/// ```text
/// Acme (business entity)          Globex (business entity)
///   Sales                           Ops
///     SalesEMEA
///   Support
/// ```
///
/// and accounts (manager in brackets):
/// - boss: super admin
/// - acmeadmin: account admin of Acme
/// - mgr [acmeadmin]: Administrator + user-management, restricted to Sales
/// - sub1 [mgr]: Administrator + user-management, restricted to SalesEMEA
/// - sub2 [sub1]: Report Reader, restricted to SalesEMEA
/// - peer [acmeadmin]: Administrator + user-management, restricted to Sales
/// - plain [mgr]: Administrator without user-management, restricted to Sales
/// - reader: Report Reader holding user-management, unrestricted
/// - tech: Remote Assistance Technician, restricted to Support
/// - gx [boss]: Report Reader, restricted to Globex
/// - free: Administrator + user-management, unrestricted, manages gx2
/// - gx2 [free]: member of Ops, unrestricted Report Reader
struct World {
    dir: Directory,
    _tmp: tempfile::TempDir,
    nodes: HashMap<&'static str, NodeId>,
    accounts: HashMap<&'static str, AccountId>,
}

impl World {
    fn new() -> World {
        let (dir, tmp) = directory();
        let mut w = World {
            dir,
            _tmp: tmp,
            nodes: HashMap::new(),
            accounts: HashMap::new(),
        };
        w.node("Acme", NodeKind::BusinessEntity, None);
        w.node("Sales", NodeKind::Group, Some("Acme"));
        w.node("SalesEMEA", NodeKind::Group, Some("Sales"));
        w.node("Support", NodeKind::Group, Some("Acme"));
        w.node("Globex", NodeKind::BusinessEntity, None);
        w.node("Ops", NodeKind::Group, Some("Globex"));

        use AccountType::*;
        let um = &[USER_MANAGEMENT_ROLE][..];
        w.account("boss", Administrator, None, None, &[]);
        w.dir
            .set_admin_level(
                &Actor::System,
                w.accounts["boss"],
                AdminLevel::SuperAdmin,
                None,
            )
            .unwrap();
        w.account("acmeadmin", Administrator, None, None, &[]);
        let acme = w.nodes["Acme"];
        w.dir
            .set_admin_level(
                &Actor::System,
                w.accounts["acmeadmin"],
                AdminLevel::AccountAdmin,
                Some(acme),
            )
            .unwrap();
        w.account("mgr", Administrator, Some("Sales"), Some("acmeadmin"), um);
        w.account("sub1", Administrator, Some("SalesEMEA"), Some("mgr"), um);
        w.account("sub2", ReportReader, Some("SalesEMEA"), Some("sub1"), &[]);
        w.account("peer", Administrator, Some("Sales"), Some("acmeadmin"), um);
        w.account("plain", Administrator, Some("Sales"), Some("mgr"), &[]);
        w.account("reader", ReportReader, None, None, um);
        w.account(
            "tech",
            RemoteAssistanceTechnician,
            Some("Support"),
            None,
            &[],
        );
        w.account("gx", ReportReader, Some("Globex"), Some("boss"), &[]);
        w.account("free", Administrator, None, None, um);
        w.account("gx2", ReportReader, None, Some("free"), &[]);
        let ops = w.nodes["Ops"];
        w.dir
            .add_member(&Actor::System, ops, w.accounts["gx2"])
            .unwrap();
        w
    }

    fn node(&mut self, name: &'static str, kind: NodeKind, parent: Option<&str>) {
        let node = self
            .dir
            .create_node(
                &Actor::System,
                NewNode {
                    name: name.into(),
                    kind,
                    parent: parent.map(|p| self.nodes[p]),
                    external_id: None,
                },
            )
            .unwrap();
        self.nodes.insert(name, node.id);
    }

    fn account(
        &mut self,
        name: &'static str,
        account_type: AccountType,
        restricted_to: Option<&str>,
        manager: Option<&str>,
        roles: &[&str],
    ) {
        let mut new = NewAccount::named(name);
        new.account_type = account_type;
        new.restricted_to = restricted_to.map(|n| self.nodes[n]);
        new.manager = manager.map(|m| self.accounts[m]);
        new.roles = roles.iter().map(|r| r.to_string()).collect();
        new.password = Some(self.dir.prepare_password(PW).unwrap());
        let account = self.dir.create_account(&Actor::System, new).unwrap();
        self.accounts.insert(name, account.id);
    }

    fn actor(&self, name: &str) -> Actor {
        self.dir.actor(self.accounts[name]).unwrap()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Read,
    ChangeName,
    ChangeOwnTimeZone,
    GrantUserManagement,
    MakeAdministrator,
    Deactivate,
    SetPassword,
    RequireReset,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Forbidden,
    NotFound,
}

fn attempt(w: &World, actor: &str, target: &str, action: Action) -> Expect {
    let a = w.actor(actor);
    let id = w.accounts[target];
    let d = &w.dir;
    let result = match action {
        Action::Read => d.account(&a, id).map(drop),
        Action::ChangeName => d
            .update_account(
                &a,
                id,
                AccountChange {
                    given_name: Some("Renamed".into()),
                    ..Default::default()
                },
                None,
            )
            .map(drop),
        Action::ChangeOwnTimeZone => d
            .update_account(
                &a,
                id,
                AccountChange {
                    time_zone: Some("Europe/Paris".into()),
                    ..Default::default()
                },
                None,
            )
            .map(drop),
        Action::GrantUserManagement => d
            .update_account(
                &a,
                id,
                AccountChange {
                    roles: Some(vec![USER_MANAGEMENT_ROLE.into()]),
                    ..Default::default()
                },
                None,
            )
            .map(drop),
        Action::MakeAdministrator => d
            .update_account(
                &a,
                id,
                AccountChange {
                    account_type: Some(AccountType::Administrator),
                    ..Default::default()
                },
                None,
            )
            .map(drop),
        Action::Deactivate => d
            .update_account(
                &a,
                id,
                AccountChange {
                    status: Some(Status::Inactive),
                    ..Default::default()
                },
                None,
            )
            .map(drop),
        Action::SetPassword => {
            let p = d.prepare_password("New7Secret").unwrap();
            d.set_password(&a, id, p)
        }
        Action::RequireReset => d.require_password_reset(&a, id),
    };
    match result {
        Ok(()) => Expect::Ok,
        Err(CoreError::Forbidden(_)) => Expect::Forbidden,
        Err(CoreError::NotFound(_)) => Expect::NotFound,
        Err(other) => panic!("{actor} -> {target} {action:?}: unexpected {other:?}"),
    }
}

#[test]
fn who_may_do_what_to_whom() {
    use Action::*;
    use Expect::*;
    // (actor, target, action, expected) written from DESIGN.md.
    let table: &[(&str, &str, Action, Expect)] = &[
        // Super admin: everything, everywhere.
        ("boss", "gx", ChangeName, Ok),
        ("boss", "acmeadmin", ChangeName, Ok),
        ("boss", "sub2", MakeAdministrator, Ok),
        // Account admin: everything inside its entity, nothing outside.
        ("acmeadmin", "sub2", ChangeName, Ok),
        ("acmeadmin", "tech", Deactivate, Ok),
        ("acmeadmin", "peer", SetPassword, Ok),
        ("acmeadmin", "gx", Read, NotFound),
        ("acmeadmin", "gx", ChangeName, NotFound),
        ("acmeadmin", "boss", ChangeName, NotFound),
        // A manager: its own branch, all the way down.
        ("mgr", "sub1", ChangeName, Ok),
        ("mgr", "sub2", ChangeName, Ok),
        ("mgr", "sub2", Deactivate, Ok),
        ("mgr", "sub2", GrantUserManagement, Ok),
        ("mgr", "sub2", MakeAdministrator, Ok),
        ("mgr", "sub2", SetPassword, Ok),
        ("mgr", "sub2", RequireReset, Ok),
        // ... but not a peer in the same scope, nor beyond its scope.
        ("mgr", "peer", Read, Ok),
        ("mgr", "peer", ChangeName, Forbidden),
        ("mgr", "peer", SetPassword, Forbidden),
        ("mgr", "tech", Read, NotFound),
        ("mgr", "gx", ChangeName, NotFound),
        // Nor upwards: invisible when above the actor's scope, refused when
        // visible (sub1 and sub2 share SalesEMEA; sub2 is a Report Reader
        // and cannot change its manager either way).
        ("sub1", "mgr", ChangeName, NotFound),
        ("peer", "mgr", ChangeName, Forbidden),
        ("sub1", "sub2", ChangeName, Ok),
        // Administrator without the user-management role: read only on others.
        ("plain", "sub2", Read, Ok),
        ("plain", "sub2", ChangeName, Forbidden),
        // Report Reader and Remote Assistance Technician: read only, even
        // holding the user-management role.
        ("reader", "gx", Read, Ok),
        ("reader", "sub2", ChangeName, Forbidden),
        ("reader", "sub2", Deactivate, Forbidden),
        ("tech", "tech", Read, Ok),
        ("tech", "sub2", Read, NotFound),
        // An unrestricted manager reaches its branch wherever it sits.
        ("free", "gx2", ChangeName, Ok),
        ("free", "gx", ChangeName, Forbidden),
        // Everyone: their own password and time zone, nothing else of theirs.
        ("sub2", "sub2", ChangeOwnTimeZone, Ok),
        ("sub2", "sub2", SetPassword, Ok),
        ("sub2", "sub2", RequireReset, Ok),
        ("sub2", "sub2", ChangeName, Forbidden),
        ("sub2", "sub2", GrantUserManagement, Forbidden),
        ("tech", "tech", MakeAdministrator, Forbidden),
        ("reader", "reader", ChangeOwnTimeZone, Ok),
        ("gx", "gx", Deactivate, Forbidden),
        // (mgr already holds user-management: granting it again would be
        // no change at all, see ones_own_account_sent_back_whole_...)
        ("plain", "plain", GrantUserManagement, Forbidden),
        // Admins are changed by super admins only.
        ("mgr", "acmeadmin", ChangeName, NotFound),
        ("free", "acmeadmin", ChangeName, Forbidden),
        ("free", "boss", SetPassword, Forbidden),
    ];
    let mut failures = Vec::new();
    for &(actor, target, action, expected) in table {
        // A fresh world per row, so one row's change cannot decide another's.
        let w = World::new();
        let got = attempt(&w, actor, target, action);
        if got != expected {
            failures.push(format!(
                "{actor} -> {target} {action:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nobody_grants_a_role_or_type_above_their_own() {
    let w = World::new();
    // sub1 holds user-management only: it cannot grant remote-assistance.
    let err = w
        .dir
        .update_account(
            &w.actor("sub1"),
            w.accounts["sub2"],
            AccountChange {
                roles: Some(vec!["remote-assistance".into()]),
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&err, CoreError::Forbidden(m) if m.contains("remote-assistance")),
        "{err}"
    );
    // Nor create a sub-user holding it.
    let mut new = NewAccount::named("newbie");
    new.roles = vec!["remote-assistance".into()];
    let err = w.dir.create_account(&w.actor("sub1"), new).unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");

    // The type rule itself, independent of the read-only rule.
    let rules = crate::core::access::Rules {
        store: w.dir.store(),
    };
    let tech = w.actor("tech");
    let err = rules
        .may_give_type(&tech, AccountType::Administrator)
        .unwrap_err();
    assert!(err.to_string().contains("above your own"), "{err}");
    assert!(rules
        .may_give_type(&tech, AccountType::ReportReader)
        .is_ok());

    // Only super admins make admins.
    let err = w
        .dir
        .set_admin_level(
            &w.actor("acmeadmin"),
            w.accounts["mgr"],
            AdminLevel::AccountAdmin,
            Some(w.nodes["Acme"]),
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");
    let err = w
        .dir
        .set_admin_level(
            &w.actor("free"),
            w.accounts["gx2"],
            AdminLevel::SuperAdmin,
            None,
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");
    // An account admin's entity must be a business entity.
    let err = w
        .dir
        .set_admin_level(
            &w.actor("boss"),
            w.accounts["mgr"],
            AdminLevel::AccountAdmin,
            Some(w.nodes["Sales"]),
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidValue { .. }), "{err}");
}

#[test]
fn a_scoped_manager_keeps_what_it_makes_inside_its_scope() {
    let w = World::new();
    let mgr = w.actor("mgr");
    // Defaults: manager is the creator, restriction is the creator's scope.
    let made = w
        .dir
        .create_account(&mgr, NewAccount::named("child"))
        .unwrap();
    assert_eq!(made.manager, Some(w.accounts["mgr"]));
    assert_eq!(made.restricted_to, Some(w.nodes["Sales"]));
    // A narrower restriction inside the scope is fine.
    let mut new = NewAccount::named("child2");
    new.restricted_to = Some(w.nodes["SalesEMEA"]);
    assert!(w.dir.create_account(&mgr, new).is_ok());
    // A restriction outside the scope is refused (Support is not visible: NotFound).
    let mut new = NewAccount::named("child3");
    new.restricted_to = Some(w.nodes["Support"]);
    assert!(matches!(
        w.dir.create_account(&mgr, new),
        Err(CoreError::NotFound(_))
    ));
    // Lifting the restriction is refused.
    let err = w
        .dir
        .update_account(
            &mgr,
            w.accounts["sub2"],
            AccountChange {
                restricted_to: Some(None),
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");
    // A manager outside the creator's branch is refused.
    let mut new = NewAccount::named("child4");
    new.manager = Some(w.accounts["peer"]);
    assert!(matches!(
        w.dir.create_account(&mgr, new),
        Err(CoreError::Forbidden(_))
    ));
    // The hierarchy cannot loop.
    let err = w
        .dir
        .update_account(
            &w.actor("boss"),
            w.accounts["mgr"],
            AccountChange {
                manager: Some(Some(w.accounts["sub2"])),
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidValue {
                field: "manager",
                ..
            }
        ),
        "{err}"
    );
    // Read-only accounts create nothing.
    let err = w
        .dir
        .create_account(&w.actor("reader"), NewAccount::named("x"))
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");
    let err = w
        .dir
        .create_account(&w.actor("plain"), NewAccount::named("x"))
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err}");
}

#[test]
fn account_admin_reaches_subgroups_created_after_the_grant() {
    let mut w = World::new();
    let admin = w.actor("acmeadmin");
    assert!(matches!(
        w.dir.node_by_name(&admin, "Ops"),
        Err(CoreError::NotFound(_))
    ));
    // A new facility under Acme, made after the grant, by someone else.
    w.node("Berlin", NodeKind::Group, Some("SalesEMEA"));
    w.account(
        "berliner",
        AccountType::ReportReader,
        Some("Berlin"),
        None,
        &[],
    );
    assert_eq!(
        w.dir.node_by_name(&admin, "Berlin").unwrap().id,
        w.nodes["Berlin"]
    );
    assert!(w.dir.account(&admin, w.accounts["berliner"]).is_ok());
    assert_eq!(
        attempt(&w, "acmeadmin", "berliner", Action::Deactivate),
        Expect::Ok
    );
    // And it can place its own new sub-users there.
    let mut new = NewAccount::named("hire");
    new.restricted_to = Some(w.nodes["Berlin"]);
    assert!(w.dir.create_account(&admin, new).is_ok());
    // The account admin may build under its entity but not at the top.
    let top = w.dir.create_node(
        &admin,
        NewNode {
            name: "Rogue".into(),
            kind: NodeKind::BusinessEntity,
            parent: None,
            external_id: None,
        },
    );
    assert!(matches!(top, Err(CoreError::Forbidden(_))), "{top:?}");
    let inside = w.dir.create_node(
        &admin,
        NewNode {
            name: "Munich".into(),
            kind: NodeKind::Group,
            parent: Some(w.nodes["SalesEMEA"]),
            external_id: None,
        },
    );
    assert!(inside.is_ok(), "{inside:?}");
}

#[test]
fn a_restricted_readers_visible_set_is_exactly_its_subtree() {
    let w = World::new();
    let names = |actor: &str| {
        let (accounts, total) = w.dir.list_accounts(&w.actor(actor), Page::ALL).unwrap();
        assert_eq!(total as usize, accounts.len());
        let mut names: Vec<String> = accounts.into_iter().map(|a| a.user_name).collect();
        names.sort();
        names
    };
    let nodes = |actor: &str| {
        let mut names: Vec<String> = w
            .dir
            .list_nodes(&w.actor(actor), Page::ALL)
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
        names.sort();
        names
    };
    // sub2 is restricted to SalesEMEA: itself and sub1 live there.
    assert_eq!(names("sub2"), ["sub1", "sub2"]);
    assert_eq!(nodes("sub2"), ["SalesEMEA"]);
    // mgr (Sales) sees Sales and SalesEMEA's people and nodes.
    assert_eq!(names("mgr"), ["mgr", "peer", "plain", "sub1", "sub2"]);
    assert_eq!(nodes("mgr"), ["Sales", "SalesEMEA"]);
    // gx (Globex): itself and the Ops member.
    assert_eq!(names("gx"), ["gx", "gx2"]);
    assert_eq!(nodes("gx"), ["Globex", "Ops"]);
    // The account admin: Acme's subtree and itself.
    assert_eq!(
        names("acmeadmin"),
        ["acmeadmin", "mgr", "peer", "plain", "sub1", "sub2", "tech"]
    );
    // Unrestricted accounts see everyone.
    assert_eq!(names("reader").len(), 12);
    // Lookups by name answer a hidden account exactly like a missing one.
    let hidden = w
        .dir
        .account_by_user_name(&w.actor("sub2"), "gx")
        .unwrap_err();
    let missing = w
        .dir
        .account_by_user_name(&w.actor("sub2"), "nobody")
        .unwrap_err();
    assert_eq!(hidden.to_string(), missing.to_string());
}

#[test]
fn authentication_refuses_every_unusable_state() {
    let w = World::new();
    let d = &w.dir;
    assert!(d.authenticate("sub2", PW).is_ok());
    assert!(d.authenticate("SUB2", PW).is_ok(), "user names ignore case");
    assert!(matches!(
        d.authenticate("sub2", "Wrong7Horse"),
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        d.authenticate("nobody", PW),
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        d.authenticate("bad name!", PW),
        Err(AuthError::InvalidCredentials)
    ));

    // Reset pending: refused even with the right password; the reason is
    // told only to someone who knows the password.
    d.require_password_reset(&Actor::System, w.accounts["sub2"])
        .unwrap();
    assert!(matches!(
        d.authenticate("sub2", PW),
        Err(AuthError::ResetPending)
    ));
    assert!(matches!(
        d.authenticate("sub2", "Wrong7Horse"),
        Err(AuthError::InvalidCredentials)
    ));
    // Changing the password ends it.
    let p = d.prepare_password("Fresh8Start").unwrap();
    d.set_password(&Actor::System, w.accounts["sub2"], p)
        .unwrap();
    assert!(d.authenticate("sub2", "Fresh8Start").is_ok());
    assert!(matches!(
        d.authenticate("sub2", PW),
        Err(AuthError::InvalidCredentials)
    ));

    // Inactive and archived accounts: invalid credentials, nothing more.
    let change = AccountChange {
        status: Some(Status::Inactive),
        ..Default::default()
    };
    d.update_account(&Actor::System, w.accounts["plain"], change, None)
        .unwrap();
    assert!(matches!(
        d.authenticate("plain", PW),
        Err(AuthError::InvalidCredentials)
    ));
    d.archive_account(&Actor::System, w.accounts["gx2"])
        .unwrap();
    assert!(matches!(
        d.authenticate("gx2", PW),
        Err(AuthError::InvalidCredentials)
    ));
    // Archived: hidden from every face, still in the store.
    assert!(matches!(
        d.account(&w.actor("boss"), w.accounts["gx2"]),
        Err(CoreError::NotFound(_))
    ));
    assert!(
        d.account(&Actor::System, w.accounts["gx2"])
            .unwrap()
            .archived
    );

    // Two-factor accounts cannot bind with the password alone.
    let change = AccountChange {
        auth_method: Some(AuthMethod::TwoFactorApp),
        ..Default::default()
    };
    d.update_account(&Actor::System, w.accounts["tech"], change, None)
        .unwrap();
    assert!(matches!(
        d.authenticate("tech", PW),
        Err(AuthError::NotEnrolled)
    ));
    let secret = crate::core::totp::new_secret();
    d.set_totp_secret(&Actor::System, w.accounts["tech"], Some(secret.clone()))
        .unwrap();
    assert!(matches!(
        d.authenticate("tech", PW),
        Err(AuthError::SecondFactorRequired(AuthMethod::TwoFactorApp))
    ));
    let step = crate::core::totp::step_of(jiff::Timestamp::now().as_second());
    let code = crate::core::totp::code_at_step(&secret, step);
    assert!(d.authenticate("tech", &format!("{PW};{code}")).is_ok());
    // Once only.
    assert!(matches!(
        d.authenticate("tech", &format!("{PW};{code}")),
        Err(AuthError::InvalidCode)
    ));
    // A wrong password with a good code is just invalid credentials.
    let code = crate::core::totp::code_at_step(&secret, step + 1);
    assert!(matches!(
        d.authenticate("tech", &format!("Wrong7Horse;{code}")),
        Err(AuthError::InvalidCredentials)
    ));
    // Email and SMS methods cannot be given until a channel is configured
    // (core::second_factor_tests covers their binds).
    let change = AccountChange {
        email: Some(Some("t@example.com".into())),
        auth_method: Some(AuthMethod::TwoFactorEmail),
        ..Default::default()
    };
    let err = d
        .update_account(&Actor::System, w.accounts["tech"], change, None)
        .unwrap_err();
    assert!(
        err.to_string().contains("configured on this server"),
        "{err}"
    );
}

#[test]
fn bad_input_gives_typed_errors_that_say_what_is_wrong() {
    let (d, _tmp) = directory();
    let sys = Actor::System;
    let err = d
        .create_account(&sys, NewAccount::named("bad.name"))
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidUserName { .. }), "{err}");
    let err = d.prepare_password("weakpassword").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("upper-case") && text.contains("digit") && text.contains("\"password\""),
        "{text}"
    );
    let mut new = NewAccount::named("tzuser");
    new.time_zone = Some("Mars/Olympus".into());
    let err = d.create_account(&sys, new).unwrap_err();
    assert!(matches!(err, CoreError::InvalidTimeZone(_)), "{err}");
    let err = "Wizard".parse::<AccountType>().unwrap_err();
    assert!(err.to_string().contains("report-reader"), "{err}");
    // A code method may come before the address it needs (identity
    // providers send attributes in separate requests, in no set order):
    // only a channel the gateway lacks is refused.
    let mut new = NewAccount::named("nomail");
    new.auth_method = AuthMethod::TwoFactorEmail;
    match d.create_account(&sys, new) {
        Ok(a) => assert_eq!(a.auth_method, AuthMethod::TwoFactorEmail),
        Err(e) => assert!(e.to_string().contains("configured on this server"), "{e}"),
    }
    let mut new = NewAccount::named("roles");
    new.roles = vec!["wizardry".into()];
    assert!(matches!(
        d.create_account(&sys, new),
        Err(CoreError::UnknownRole(_))
    ));
    // User names are unique ignoring case.
    d.create_account(&sys, NewAccount::named("Alice")).unwrap();
    let err = d
        .create_account(&sys, NewAccount::named("alice"))
        .unwrap_err();
    assert!(matches!(err, CoreError::Conflict(_)), "{err}");
    // A business entity cannot sit inside a group.
    let g = d
        .create_node(
            &sys,
            NewNode {
                name: "G".into(),
                kind: NodeKind::Group,
                parent: None,
                external_id: None,
            },
        )
        .unwrap();
    let err = d
        .create_node(
            &sys,
            NewNode {
                name: "E".into(),
                kind: NodeKind::BusinessEntity,
                parent: Some(g.id),
                external_id: None,
            },
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidTree(_)), "{err}");
    // Nor can a node move under its own subtree.
    let child = d
        .create_node(
            &sys,
            NewNode {
                name: "C".into(),
                kind: NodeKind::Group,
                parent: Some(g.id),
                external_id: None,
            },
        )
        .unwrap();
    let err = d.move_node(&sys, g.id, Some(child.id)).unwrap_err();
    assert!(matches!(err, CoreError::InvalidTree(_)), "{err}");
}

#[test]
fn bootstrap_makes_one_super_admin_once() {
    let (d, _tmp) = directory();
    let password = d.bootstrap().unwrap().expect("first start makes the admin");
    assert!(d.policy().violations(&password).is_empty());
    let admin = d.authenticate("admin", &password).unwrap();
    assert_eq!(admin.admin_level, AdminLevel::SuperAdmin);
    assert_eq!(d.bootstrap().unwrap(), None, "second start makes nothing");
}

#[test]
fn tokens_act_for_their_account_and_die_when_revoked() {
    let w = World::new();
    let d = &w.dir;
    let (info, secret) = d.issue_token(&Actor::System, "mgr", Some(30)).unwrap();
    assert!(secret.starts_with("dgt_") && secret.len() > 40);
    let actor = d.token_actor(&secret).unwrap();
    assert_eq!(actor.id(), Some(w.accounts["mgr"]));
    assert!(matches!(
        d.token_actor("dgt_guess"),
        Err(CoreError::InvalidToken)
    ));
    assert!(matches!(
        d.token_actor(&secret[..secret.len() - 1]),
        Err(CoreError::InvalidToken)
    ));
    // The operator and super admins issue anyone's tokens; an account
    // issues its own, and no one else's.
    let (by_boss, boss_secret) = d.issue_token(&w.actor("boss"), "mgr", None).unwrap();
    assert_eq!(by_boss.account, w.accounts["mgr"]);
    let (own, own_secret) = d.issue_token(&w.actor("sub1"), "sub1", None).unwrap();
    assert!(matches!(
        d.issue_token(&w.actor("sub1"), "sub2", None),
        Err(CoreError::Forbidden(_))
    ));
    // Each sees its own tokens; a super admin every one.
    let sub1_sees = d.list_tokens(&w.actor("sub1")).unwrap();
    assert!(sub1_sees.iter().all(|t| t.account == w.accounts["sub1"]));
    assert!(sub1_sees.iter().any(|t| t.id == own.id));
    assert!(d.list_tokens(&w.actor("boss")).unwrap().len() >= 3);
    // Another's token answers like a missing one; one's own is revoked.
    assert!(matches!(
        d.revoke_token(&w.actor("sub1"), by_boss.id),
        Err(CoreError::NotFound(_))
    ));
    d.revoke_token(&w.actor("sub1"), own.id).unwrap();
    assert!(d.token_actor(&own_secret).is_err());
    assert!(d.token_actor(&boss_secret).is_ok());
    // An inactive account's token stops working.
    let change = AccountChange {
        status: Some(Status::Inactive),
        ..Default::default()
    };
    d.update_account(&Actor::System, w.accounts["mgr"], change, None)
        .unwrap();
    assert!(matches!(
        d.token_actor(&secret),
        Err(CoreError::InvalidToken)
    ));
    let change = AccountChange {
        status: Some(Status::Active),
        ..Default::default()
    };
    d.update_account(&Actor::System, w.accounts["mgr"], change, None)
        .unwrap();
    assert!(d.token_actor(&secret).is_ok());
    d.revoke_token(&Actor::System, info.id).unwrap();
    assert!(matches!(
        d.token_actor(&secret),
        Err(CoreError::InvalidToken)
    ));
    let listed = d.list_tokens(&Actor::System).unwrap();
    assert!(listed.iter().any(|t| t.id == info.id && t.revoked));
}

#[test]
fn optimistic_versions_refuse_a_stale_change() {
    let w = World::new();
    let d = &w.dir;
    let before = d.account(&Actor::System, w.accounts["sub2"]).unwrap();
    let change = AccountChange {
        given_name: Some("A".into()),
        ..Default::default()
    };
    let after = d
        .update_account(
            &Actor::System,
            before.id,
            change.clone(),
            Some(before.version),
        )
        .unwrap();
    assert!(after.version > before.version);
    let err = d
        .update_account(&Actor::System, before.id, change, Some(before.version))
        .unwrap_err();
    assert!(matches!(err, CoreError::VersionMismatch(_)), "{err}");
}

#[test]
fn searches_sort_only_by_sortable_fields() {
    use crate::model::query::{AccountField, Filter, NodeField, Slice, Sort};
    let w = World::new();
    let d = &w.dir;
    let by = |field, descending| Some(Sort { field, descending });
    let names = |sort| -> Vec<String> {
        d.search_accounts(&Actor::System, &Filter::True, sort, Slice::first(100))
            .unwrap()
            .into_iter()
            .map(|a| a.user_name)
            .collect()
    };
    let up = names(by(AccountField::UserName, false));
    assert!(
        up.windows(2)
            .all(|p| p[0].to_lowercase() <= p[1].to_lowercase()),
        "{up:?}"
    );
    let down = names(by(AccountField::UserName, true));
    assert_eq!(down, up.iter().rev().cloned().collect::<Vec<_>>());
    let e = d
        .search_accounts(
            &Actor::System,
            &Filter::True,
            by(AccountField::MemberOf, false),
            Slice::first(1),
        )
        .unwrap_err();
    assert!(
        matches!(e, CoreError::InvalidValue { field: "sort", .. }),
        "{e}"
    );
    let e = d
        .search_nodes(
            &Actor::System,
            &Filter::True,
            Some(Sort {
                field: NodeField::Parent,
                descending: false,
            }),
            Slice::first(1),
        )
        .unwrap_err();
    assert!(
        matches!(e, CoreError::InvalidValue { field: "sort", .. }),
        "{e}"
    );
}

/// Every field of one's own account, as a client that sends the whole
/// resource back (a SCIM PUT, or a PATCH applied to the resource) asserts it.
fn whole(w: &World, name: &str) -> AccountChange {
    let a = w.dir.account(&Actor::System, w.accounts[name]).unwrap();
    AccountChange {
        user_name: Some(a.user_name),
        login_name: a.login_name,
        attributes: Vec::new(),
        password: None,
        given_name: Some(a.given_name),
        family_name: Some(a.family_name),
        email: Some(a.email),
        mobile: Some(a.mobile),
        time_zone: Some(a.time_zone),
        account_type: Some(a.account_type),
        auth_method: Some(a.auth_method),
        restricted_to: Some(a.restricted_to),
        manager: Some(a.manager),
        roles: Some(a.roles),
        status: Some(a.status),
        external_id: Some(a.external_id),
    }
}

#[test]
fn ones_own_account_sent_back_whole_changes_only_what_differs() {
    let w = World::new();
    let me = w.actor("sub2");
    let id = w.accounts["sub2"];
    // The time zone, with everything else repeated: a self-service change.
    let mut change = whole(&w, "sub2");
    change.time_zone = Some("Asia/Tokyo".into());
    let done = w.dir.update_account(&me, id, change, None).unwrap();
    assert_eq!(done.time_zone, "Asia/Tokyo");
    // Anything else that differs is still not one's own to change.
    let mut change = whole(&w, "sub2");
    change.family_name = Some("Renamed".into());
    assert!(matches!(
        w.dir.update_account(&me, id, change, None),
        Err(CoreError::Forbidden(_))
    ));
    let mut change = whole(&w, "sub2");
    change.account_type = Some(AccountType::Administrator);
    assert!(matches!(
        w.dir.update_account(&me, id, change, None),
        Err(CoreError::Forbidden(_))
    ));
    let mut change = whole(&w, "sub2");
    change.status = Some(Status::Inactive);
    assert!(matches!(
        w.dir.update_account(&me, id, change, None),
        Err(CoreError::Forbidden(_))
    ));
    let after = w.dir.account(&Actor::System, id).unwrap();
    assert_eq!(
        (after.family_name.as_str(), after.status),
        ("", Status::Active)
    );

    // Roles: repeating one's own is no change; dropping one is a change,
    // and not one's own to make.
    let mgr = w.actor("mgr");
    let mid = w.accounts["mgr"];
    let version = w.dir.account(&Actor::System, mid).unwrap().version;
    let same = AccountChange {
        roles: Some(vec![USER_MANAGEMENT_ROLE.to_uppercase()]),
        ..AccountChange::default()
    };
    let kept = w.dir.update_account(&mgr, mid, same, None).unwrap();
    assert_eq!((kept.version, kept.roles.len()), (version, 1));
    let dropped = AccountChange {
        roles: Some(Vec::new()),
        ..AccountChange::default()
    };
    assert!(matches!(
        w.dir.update_account(&mgr, mid, dropped, None),
        Err(CoreError::Forbidden(_))
    ));
    // Others' accounts are unaffected by this: a manager still needs its
    // rights for a whole resource sent back with one change.
    let mut change = whole(&w, "peer");
    change.family_name = Some("Renamed".into());
    assert!(matches!(
        w.dir.update_account(&mgr, w.accounts["peer"], change, None),
        Err(CoreError::Forbidden(_))
    ));
}

#[test]
fn the_right_to_set_a_password_is_asked_alone_and_changes_nothing() {
    let w = World::new();
    let d = &w.dir;
    let before = d.account(&Actor::System, w.accounts["sub2"]).unwrap();
    let ask = |actor: &str| d.check_may_set_password(&w.actor(actor), "sub2");
    // One's own, and a manager's above the account.
    assert_eq!(ask("sub2").unwrap(), w.accounts["sub2"]);
    assert_eq!(ask("sub1").unwrap(), w.accounts["sub2"]);
    assert_eq!(ask("mgr").unwrap(), w.accounts["sub2"]);
    // Visible but not managed: refused; out of sight: as a missing one.
    assert!(matches!(ask("reader"), Err(CoreError::Forbidden(_))));
    assert!(matches!(ask("peer"), Err(CoreError::Forbidden(_))));
    assert!(matches!(ask("tech"), Err(CoreError::NotFound(_))));
    assert!(matches!(
        d.check_may_set_password(&w.actor("tech"), "nosuchuser"),
        Err(CoreError::NotFound(_))
    ));
    let after = d.account(&Actor::System, w.accounts["sub2"]).unwrap();
    assert_eq!(before.version, after.version);
}

#[test]
fn the_console_reads_what_the_actor_may() {
    let w = World::new();
    let d = &w.dir;
    // Roles: a super admin may grant every known role, others what they hold.
    let all = d.grantable_roles(&w.actor("boss")).unwrap();
    assert!(all.iter().any(|r| r == "remote-assistance"));
    assert_eq!(
        d.grantable_roles(&w.actor("mgr")).unwrap(),
        ["user-management"]
    );
    assert!(d.grantable_roles(&w.actor("plain")).unwrap().is_empty());
    // Restrictions: only the actor's scope.
    let names: Vec<String> = d
        .restriction_choices(&w.actor("mgr"))
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert!(names.contains(&"Sales".to_owned()), "{names:?}");
    assert!(!names.contains(&"Globex".to_owned()), "{names:?}");
    // The whole audit log is a super admin's; one account's rows for anyone
    // who sees it; a hidden account is missing.
    assert!(d.audit_for(&w.actor("boss"), None, None, 10).is_ok());
    assert!(matches!(
        d.audit_for(&w.actor("mgr"), None, None, 10),
        Err(CoreError::Forbidden(_))
    ));
    assert!(d.audit_for(&w.actor("mgr"), Some("sub1"), None, 10).is_ok());
    // A record about a visible account that names a hidden one is left
    // out: sub1's refused attempt on gx names gx, which mgr cannot see.
    let change = AccountChange {
        family_name: Some("Probe".into()),
        ..Default::default()
    };
    assert!(d
        .update_account(&w.actor("sub1"), w.accounts["gx"], change, None)
        .is_err());
    let by_boss = d
        .audit_for(&w.actor("boss"), Some("sub1"), None, 50)
        .unwrap();
    assert!(by_boss
        .iter()
        .any(|r| r.actor == "sub1" && r.target == "gx"));
    let by_mgr = d
        .audit_for(&w.actor("mgr"), Some("sub1"), None, 50)
        .unwrap();
    assert!(by_mgr.iter().all(|r| r.target != "gx"), "{by_mgr:?}");
    assert!(d.outbox_for(&w.actor("boss"), 10).is_ok());
    assert!(matches!(
        d.outbox_for(&w.actor("mgr"), 10),
        Err(CoreError::Forbidden(_))
    ));
    // Who may manage whom, as the rules say.
    let sub1 = d.account(&Actor::System, w.accounts["sub1"]).unwrap();
    assert!(d.may_manage(&w.actor("mgr"), &sub1).unwrap());
    assert!(!d.may_manage(&w.actor("gx"), &sub1).unwrap());
    assert!(d.may_create_accounts(&w.actor("mgr")));
    assert!(!d.may_create_accounts(&w.actor("gx")));
    // A reset link needs the right to manage the account.
    assert!(matches!(
        d.send_reset_link(&w.actor("plain"), w.accounts["sub1"], "https://x"),
        Err(CoreError::Forbidden(_))
    ));
}
