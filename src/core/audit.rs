//! The audit log: every change made through the core and every failed
//! authentication, recorded once, here, whichever face asked. The face is
//! set by the caller for the work it runs (`Service` for LDAP, SCIM and the
//! pages; the command line is the default), so the operations themselves
//! need no extra argument.

use std::cell::Cell;
use std::fmt::Write as _;

use jiff::Timestamp;

use crate::core::access::Actor;
use crate::core::directory::{AccountChange, Directory, GroupEdit, MemberEdit};
use crate::core::error::CoreResult;
use crate::model::{AccountId, NodeId};
use crate::store::AuditRecord;

/// Which face a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Ldap,
    Scim,
    Web,
    Cli,
}

impl Face {
    pub fn as_str(self) -> &'static str {
        match self {
            Face::Ldap => "ldap",
            Face::Scim => "scim",
            Face::Web => "web",
            Face::Cli => "cli",
        }
    }
}

thread_local! {
    static FACE: Cell<Face> = const { Cell::new(Face::Cli) };
}

/// Runs `work` with `face` as the face of whatever it audits. The face
/// before is put back when `work` ends, also when it panics: the pool
/// thread goes on to serve other faces' calls.
pub fn with_face<T>(face: Face, work: impl FnOnce() -> T) -> T {
    /// Puts the face back on drop.
    struct Restore(Face);
    impl Drop for Restore {
        fn drop(&mut self) {
            FACE.with(|f| f.set(self.0));
        }
    }
    let _restore = Restore(FACE.with(|f| f.replace(face)));
    work()
}

fn current_face() -> Face {
    FACE.with(Cell::get)
}

pub(super) fn actor_name(actor: &Actor) -> String {
    match actor.account() {
        Some(a) => a.user_name.clone(),
        None => "system".into(),
    }
}

/// What an account change changes, by field, without secret values.
pub(super) fn describe_change(c: &AccountChange) -> String {
    let mut out = Vec::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            out.push(format!("{name}={v}"));
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let id = |v: &Option<i64>| v.map_or_else(|| "(none)".into(), |i| format!("#{i}"));
    put("user name", c.user_name.clone());
    put("first name", c.given_name.clone());
    put("last name", c.family_name.clone());
    put("email", c.email.as_ref().map(opt));
    put("mobile", c.mobile.as_ref().map(opt));
    put("time zone", c.time_zone.clone());
    put("type", c.account_type.map(|t| t.display_name().into()));
    put("method", c.auth_method.map(|m| m.display_name().into()));
    put("restricted to", c.restricted_to.as_ref().map(id));
    put("manager", c.manager.as_ref().map(id));
    put("roles", c.roles.as_ref().map(|r| r.join(" ")));
    put("status", c.status.map(|s| s.display_name().into()));
    put("external id", c.external_id.as_ref().map(opt));
    put("login name", c.login_name.clone());
    for (a, v) in &c.attributes {
        put(a.as_str(), Some(opt(v)));
    }
    // That a password was set, never what it is.
    put("password", c.password.as_ref().map(|_| "set".into()));
    if out.is_empty() {
        "nothing".into()
    } else {
        out.join(", ")
    }
}

pub(super) fn describe_edit(e: &GroupEdit) -> String {
    let mut out = String::new();
    if let Some(n) = &e.name {
        let _ = write!(out, "name={n}, ");
    }
    if let Some(x) = &e.external_id {
        let _ = write!(out, "external id={}, ", x.as_deref().unwrap_or("(none)"));
    }
    if let Some(p) = e.parent {
        let _ = write!(
            out,
            "parent={}, ",
            p.map_or("(top)".into(), |p| format!("#{p}"))
        );
    }
    match &e.members {
        MemberEdit::Keep => {}
        MemberEdit::Replace { people, groups } => {
            let _ = write!(
                out,
                "members set to {} people and {} groups",
                people.len(),
                groups.len()
            );
        }
        MemberEdit::Change {
            add,
            remove,
            add_groups,
        } => {
            let _ = write!(
                out,
                "members +{} -{}, subgroups +{}",
                add.len(),
                remove.len(),
                add_groups.len()
            );
        }
    }
    let out = out.trim_end_matches(", ").to_owned();
    if out.is_empty() {
        "nothing".into()
    } else {
        out
    }
}

impl Directory {
    /// The name an account is recorded under (its user name, or `#id`).
    pub(super) fn account_label(&self, id: AccountId) -> String {
        match self.store.account(id) {
            Ok(Some(a)) => a.user_name,
            _ => format!("#{id}"),
        }
    }

    pub(super) fn node_label(&self, id: NodeId) -> String {
        match self.store.node(id) {
            Ok(Some(n)) => n.name,
            _ => format!("#{id}"),
        }
    }

    fn record(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        result: &str,
    ) -> AuditRecord {
        AuditRecord {
            at: Timestamp::now(),
            actor: actor.chars().take(128).collect(),
            face: current_face().as_str().into(),
            action: action.into(),
            target: target.chars().take(128).collect(),
            detail: detail.into(),
            result: result.chars().take(512).collect(),
        }
    }

    /// Records one event in a transaction of its own. A failure to record
    /// is logged, not returned: what it describes has happened (or been
    /// refused) already.
    pub(super) fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        result: &str,
    ) {
        let record = self.record(actor, action, target, detail, result);
        self.append(&record);
    }

    fn append(&self, record: &AuditRecord) {
        if let Err(e) = self.store.append_audit(record) {
            tracing::error!(error = %e, action = %record.action, "cannot write the audit log");
        }
    }

    /// Runs a core operation by `actor` and records it. The record is
    /// handed to the store first, which writes it in the same transaction as
    /// the operation's first write: a change and its audit row land together
    /// or not at all. A refused operation (nothing written) gets its row
    /// afterwards, with the reason.
    pub(super) fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: &str,
        operation: impl FnOnce() -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut record = self.record(&actor_name(actor), action, target, detail, "ok");
        self.store.stage_audit(record.clone());
        let result = operation();
        let unwritten = self.store.take_staged_audit();
        match (&result, unwritten) {
            // Written with the change.
            (Ok(_), None) => {}
            // Succeeded without writing (nothing to change): record it now.
            (Ok(_), Some(r)) => self.append(&r),
            (Err(e), _) => {
                record.result = format!("refused: {e}").chars().take(512).collect();
                self.append(&record);
            }
        }
        result
    }

    /// Records that authentications for `user` (or from `from`) now wait.
    pub fn record_throttle(&self, user: &str, from: &str) {
        self.audit(
            user,
            "authenticate.throttle",
            user,
            &format!("from {from}"),
            "failed authentications now wait, doubling with each further failure",
        );
    }

    /// A password change refused because the old password given was wrong:
    /// a failed authentication of `target`, recorded as one.
    pub fn record_wrong_old_password(&self, actor: &Actor, target: &str, from: &str) {
        self.audit(
            &actor_name(actor),
            "account.password",
            target,
            &format!("from {from}"),
            "refused: the old password is wrong",
        );
    }

    /// The newest audit records (for `dirgate audit`).
    pub fn audit_records(
        &self,
        user: Option<&str>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> CoreResult<Vec<AuditRecord>> {
        Ok(self.store.audit_records(user, since, limit)?)
    }
}

#[cfg(test)]
mod face_tests {
    use super::*;

    #[test]
    fn a_panic_inside_with_face_leaves_the_thread_with_its_face() {
        assert_eq!(current_face(), Face::Cli);
        let caught = std::panic::catch_unwind(|| {
            with_face(Face::Scim, || {
                assert_eq!(current_face(), Face::Scim);
                panic!("a request's work panicked");
            })
        });
        assert!(caught.is_err());
        assert_eq!(current_face(), Face::Cli, "the face is put back");
        assert_eq!(with_face(Face::Ldap, current_face), Face::Ldap);
        assert_eq!(current_face(), Face::Cli);
    }
}
