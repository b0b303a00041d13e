//! POSIX accounts and groups for Linux hosts (RFC 2307, rfc2307bis): the
//! numbers an account and a group are given when made, and the defaults of
//! its home directory and shell. Numbers come from the store's counters,
//! which only go up: a number handed out once is never handed out again
//! (accounts are never deleted, and neither are their numbers).

use jiff::Timestamp;

use crate::core::error::{CoreError, CoreResult};
use crate::model::query::{AccountField, Filter, NodeField, Slice, Test, Value};
use crate::model::Visibility;
use crate::model::{Attribute, Attributes};
use crate::store::{AccountUpdate, NumberKind, Store};

/// How many rows the backfill reads at a time.
const BACKFILL_PAGE: u64 = 500;

/// How POSIX values are given (`[posix]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosixSettings {
    /// Accounts' uidNumbers come from `uid_min..=uid_max`.
    pub uid_min: i64,
    pub uid_max: i64,
    /// Groups' gidNumbers come from `gid_min..=gid_max` (apart from the
    /// uid range, whose numbers are the users' private groups).
    pub gid_min: i64,
    pub gid_max: i64,
    /// The gidNumber of every new account; `None`: its private group, the
    /// number of its uidNumber.
    pub default_gid: Option<i64>,
    /// `{user}` stands for the user name.
    pub home_directory: String,
    pub login_shell: String,
}

impl Default for PosixSettings {
    fn default() -> Self {
        PosixSettings {
            uid_min: 10_000,
            uid_max: 59_999,
            gid_min: 60_000,
            gid_max: 64_999,
            default_gid: None,
            home_directory: "/home/{user}".into(),
            login_shell: "/bin/bash".into(),
        }
    }
}

impl PosixSettings {
    /// The ranges must be sane and apart, so a group never gets a user's
    /// private-group number.
    pub fn check(&self) -> CoreResult<()> {
        let bad = |reason: &str| CoreError::InvalidValue {
            field: "[posix] ranges",
            reason: reason.to_owned(),
        };
        let max = i64::from(i32::MAX);
        if !(1..=max).contains(&self.uid_min) || !(self.uid_min..=max).contains(&self.uid_max) {
            return Err(bad("need 1 <= uid_min <= uid_max <= 2147483647"));
        }
        if !(1..=max).contains(&self.gid_min) || !(self.gid_min..=max).contains(&self.gid_max) {
            return Err(bad("need 1 <= gid_min <= gid_max <= 2147483647"));
        }
        if self.uid_min <= self.gid_max && self.gid_min <= self.uid_max {
            return Err(bad("the uid and gid ranges overlap"));
        }
        if !self.home_directory.starts_with('/') || !self.login_shell.starts_with('/') {
            return Err(bad("home_directory and login_shell must be absolute paths"));
        }
        Ok(())
    }

    /// Fills in what a new account lacks: a uidNumber from the counter, its
    /// gidNumber, home directory and shell. What was given is kept (and
    /// checked for uniqueness by the store's index).
    pub fn complete_account(
        &self,
        store: &dyn Store,
        user_name: &str,
        attributes: &mut Attributes,
    ) -> CoreResult<()> {
        if let Some(given) = attributes.get(Attribute::UidNumber) {
            self.check_uid_free(store, given)?;
        } else {
            let n = store
                .allocate_number(NumberKind::Uid, self.uid_min, self.uid_max)?
                .ok_or(CoreError::InUse("the uidNumber range is used up"))?;
            attributes.set(Attribute::UidNumber, Some(n.to_string()));
        }
        if attributes.get(Attribute::GidNumber).is_none() {
            let gid = match self.default_gid {
                Some(gid) => gid.to_string(),
                None => attributes
                    .get(Attribute::UidNumber)
                    .unwrap_or_default()
                    .to_owned(),
            };
            attributes.set(Attribute::GidNumber, Some(gid));
        }
        if attributes.get(Attribute::HomeDirectory).is_none() {
            let home = self.home_directory.replace("{user}", user_name);
            attributes.set(Attribute::HomeDirectory, Some(home));
        }
        if attributes.get(Attribute::LoginShell).is_none() {
            attributes.set(Attribute::LoginShell, Some(self.login_shell.clone()));
        }
        Ok(())
    }

    /// A uidNumber an administrator gives must not be a group's
    /// gidNumber: it is also the number of the account's private group.
    /// (Another account's uidNumber is refused by the store's index.)
    pub fn check_uid_free(&self, store: &dyn Store, uid: &str) -> CoreResult<()> {
        let group = Filter::Test(
            NodeField::GidNumber,
            Test::Equals(Value::Text(uid.to_owned())),
        );
        if store
            .search_nodes(Visibility::All, &group, None, Slice::first(1))?
            .is_empty()
        {
            Ok(())
        } else {
            Err(CoreError::Conflict("UID number (a group's GID number)"))
        }
    }

    /// A new group's gidNumber.
    pub fn group_number(&self, store: &dyn Store) -> CoreResult<i64> {
        store
            .allocate_number(NumberKind::Gid, self.gid_min, self.gid_max)?
            .ok_or(CoreError::InUse("the gidNumber range is used up"))
    }
}

impl PosixSettings {
    /// Gives the accounts and groups made before POSIX numbers existed
    /// (or by a path that gives none) their numbers and defaults; at
    /// start-up. The number of entries changed.
    pub fn backfill(&self, store: &dyn Store) -> CoreResult<usize> {
        let mut changed = 0;
        let unnumbered = Filter::Not(Box::new(Filter::Test(
            AccountField::Attribute(Attribute::UidNumber),
            Test::Present,
        )));
        let mut after = None;
        loop {
            let slice = Slice {
                after,
                ..Slice::first(BACKFILL_PAGE)
            };
            let accounts =
                store.search_accounts(Visibility::All, true, &unnumbered, None, slice)?;
            for a in &accounts {
                let mut filled = a.attributes.clone();
                self.complete_account(store, &a.user_name, &mut filled)?;
                let update = AccountUpdate {
                    attributes: filled
                        .iter()
                        .filter(|(attr, _)| a.attributes.get(*attr).is_none())
                        .map(|(attr, v)| (attr, Some(v.to_owned())))
                        .collect(),
                    ..AccountUpdate::default()
                };
                store.update_account(a.id, &update, None, Timestamp::now())?;
                changed += 1;
            }
            match accounts.last() {
                Some(last) if accounts.len() as u64 == BACKFILL_PAGE => after = Some(last.id),
                _ => break,
            }
        }
        let unnumbered = Filter::Not(Box::new(Filter::Test(NodeField::GidNumber, Test::Present)));
        let mut after = None;
        loop {
            let slice = Slice {
                after,
                ..Slice::first(BACKFILL_PAGE)
            };
            let nodes = store.search_nodes(Visibility::All, &unnumbered, None, slice)?;
            for n in &nodes {
                let gid = self.group_number(store)?;
                store.set_node_gid_number(n.id, gid, Timestamp::now())?;
                changed += 1;
            }
            match nodes.last() {
                Some(last) if nodes.len() as u64 == BACKFILL_PAGE => after = Some(last.id),
                _ => break,
            }
        }
        Ok(changed)
    }
}

impl PosixSettings {
    /// What a change of `attr` to `value` stores for the account
    /// `user_name` holding `uid`: `None` leaves it as it is. A uidNumber is
    /// never taken away (a SCIM PUT that omits it keeps it); a gidNumber,
    /// home directory or shell removed goes back to its default, as Linux
    /// hosts need one.
    pub fn change(
        &self,
        attr: Attribute,
        value: Option<String>,
        user_name: &str,
        uid: Option<&str>,
    ) -> Option<Option<String>> {
        if value.is_some() {
            return Some(value);
        }
        match attr {
            Attribute::UidNumber => None,
            Attribute::GidNumber => Some(
                self.default_gid
                    .map(|g| g.to_string())
                    .or(uid.map(str::to_owned)),
            ),
            Attribute::HomeDirectory => {
                Some(Some(self.home_directory.replace("{user}", user_name)))
            }
            Attribute::LoginShell => Some(Some(self.login_shell.clone())),
            _ => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ranges_are_apart_and_overlaps_refused() {
        assert!(PosixSettings::default().check().is_ok());
        let overlap = PosixSettings {
            gid_min: 50_000,
            ..PosixSettings::default()
        };
        assert!(overlap.check().is_err());
    }

    #[test]
    fn a_uid_number_stays_and_the_required_values_fall_back_to_defaults() {
        let p = PosixSettings::default();
        let uid = Some("10001");
        assert_eq!(p.change(Attribute::UidNumber, None, "al", uid), None);
        assert_eq!(
            p.change(Attribute::UidNumber, Some("10002".into()), "al", uid),
            Some(Some("10002".into()))
        );
        assert_eq!(
            p.change(Attribute::GidNumber, None, "al", uid),
            Some(Some("10001".into()))
        );
        assert_eq!(
            p.change(Attribute::HomeDirectory, None, "al", uid),
            Some(Some("/home/al".into()))
        );
        assert_eq!(
            p.change(Attribute::SshPublicKeys, None, "al", uid),
            Some(None)
        );
    }
}
