//! Accounts: reading them, creating, changing and archiving them, their
//! passwords and admin levels.

use jiff::Timestamp;
use uuid::Uuid;

use crate::core::access::{self, Actor};
use crate::core::error::{CoreError, CoreResult};
use crate::core::password::PreparedPassword;
use crate::core::random;
use crate::core::validate;
use crate::model::Page;
use crate::model::{
    Account, AccountId, AdminLevel, Attribute, Attributes, NodeId, NodeKind, Status,
};
use crate::store::{AccountUpdate, NewAccountRow, StoreError};

use super::{usable, AccountChange, Directory, LoginNames, NewAccount};

impl Directory {
    /// Checks the policy and hashes. CPU-heavy: run on the password pool.
    pub fn prepare_password(&self, password: &str) -> CoreResult<PreparedPassword> {
        self.policy.check(password)?;
        Ok(PreparedPassword(self.hasher.hash(password)?))
    }

    /// A random password that meets the policy, for the bootstrap admin.
    pub fn generate_password(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let length = self.policy.min_length.max(24);
        loop {
            let mut raw = vec![0u8; length];
            random::fill(&mut raw);
            // 256 is not a multiple of the alphabet's size; the slight bias
            // costs a fraction of a bit per character at this length.
            let candidate: String = raw
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            if self.policy.violations(&candidate).is_empty() {
                return candidate;
            }
        }
    }

    /// Loads the account behind an actor, refusing one that may not act.
    pub fn actor(&self, id: AccountId) -> CoreResult<Actor> {
        let account = self
            .store
            .account(id)?
            .ok_or(CoreError::NotFound("account"))?;
        usable(&account)?;
        Ok(Actor::Account(Box::new(account)))
    }

    /// An account the actor may see; anything else is NotFound, so that a
    /// hidden account and a missing one answer alike. Archived accounts are
    /// hidden from every face; only the operator sees them.
    pub fn account(&self, actor: &Actor, id: AccountId) -> CoreResult<Account> {
        let account = self
            .store
            .account(id)?
            .ok_or(CoreError::NotFound("account"))?;
        self.visible(actor, account)
    }

    pub fn account_by_uuid(&self, actor: &Actor, uuid: Uuid) -> CoreResult<Account> {
        let account = self
            .store
            .account_by_uuid(uuid)?
            .ok_or(CoreError::NotFound("account"))?;
        self.visible(actor, account)
    }

    pub fn account_by_user_name(&self, actor: &Actor, user_name: &str) -> CoreResult<Account> {
        let account = self
            .store
            .account_by_user_name(user_name)?
            .ok_or(CoreError::NotFound("account"))?;
        self.visible(actor, account)
    }

    fn visible(&self, actor: &Actor, account: Account) -> CoreResult<Account> {
        let operator = matches!(actor, Actor::System);
        if account.archived && !operator {
            return Err(CoreError::NotFound("account"));
        }
        if self
            .store
            .account_visible(self.visibility(actor), account.id)?
        {
            Ok(account)
        } else {
            Err(CoreError::NotFound("account"))
        }
    }

    /// The accounts the actor may see, one page, and how many there are.
    pub fn list_accounts(&self, actor: &Actor, page: Page) -> CoreResult<(Vec<Account>, u64)> {
        let visibility = self.visibility(actor);
        let total = self.store.count_accounts(visibility, false)?;
        let accounts = self.store.list_accounts(visibility, false, page)?;
        Ok((accounts, total))
    }

    /// Creates an account. If an archived account (one SCIM deleted) has
    /// the same user name, it comes back instead: same row, same id, with
    /// the new attributes, active again (never deleted means never lost).
    pub fn create_account(&self, actor: &Actor, new: NewAccount) -> CoreResult<Account> {
        let target = new
            .login_name
            .clone()
            .unwrap_or_else(|| new.user_name.clone());
        let detail = format!(
            "type={}, method={}, password={}",
            new.account_type.display_name(),
            new.auth_method.display_name(),
            if new.password.is_some() {
                "set"
            } else {
                "none"
            }
        );
        self.audited(
            actor,
            "account.create",
            &target,
            &detail,
            || -> CoreResult<Account> {
                // A derived user name can be taken between the check and
                // the insert by a create racing this one: take the next.
                let mut taken = 0;
                loop {
                    let (row, derived) = self.checked_row(actor, new.clone(), taken)?;
                    if let Some(archived) = self.archived_named(&row)? {
                        return self.restore(actor, archived, row);
                    }
                    match self.store.create_account(&row) {
                        Err(StoreError::Conflict("user name")) if derived && taken < 20 => {
                            taken += 1;
                        }
                        other => return Ok(other?),
                    }
                }
            },
        )
    }

    /// The archived account a new one brings back: the one with the same
    /// login (SCIM `userName`), or without a login the same user name.
    fn archived_named(&self, row: &NewAccountRow) -> CoreResult<Option<Account>> {
        let login = row.login_name.as_deref().unwrap_or(&row.user_name);
        Ok(self.store.account_by_login(login)?.filter(|a| a.archived))
    }

    /// The user name and login name of a new account: an explicit user
    /// name as it is; a login that is a valid, free user name as the user
    /// name; any other login kept as the login name (or refused, with
    /// [`LoginNames::Strict`]) with a user name derived from it, the
    /// `skip`-th free candidate on. Also whether the user name was derived.
    fn names_of(&self, new: &NewAccount, skip: u32) -> CoreResult<(String, Option<String>, bool)> {
        let Some(login) = &new.login_name else {
            validate::user_name(&new.user_name)?;
            return Ok((new.user_name.clone(), None, false));
        };
        let login = validate::login_name(login)?;
        let valid = validate::user_name(&login).is_ok();
        if !new.user_name.is_empty() {
            validate::user_name(&new.user_name)?;
            let login = (!login.eq_ignore_ascii_case(&new.user_name)).then_some(login);
            return Ok((new.user_name.clone(), login, false));
        }
        if let Some(holder) = self.store.account_by_login(&login)? {
            if !holder.archived {
                return Err(CoreError::Conflict("user name"));
            }
            // Coming back from the archive: the names it had.
            return Ok((holder.user_name, holder.login_name, false));
        }
        if valid && self.store.account_by_user_name(&login)?.is_none() {
            return Ok((login, None, false));
        }
        if self.login_names == LoginNames::Strict {
            if valid {
                return Err(CoreError::Conflict("user name"));
            }
            return Err(CoreError::InvalidUserName {
                name: login,
                reason: "it may contain only letters and digits ([scim] user_names = \"strict\"; \
                         \"derive\" keeps such a name as the login name and derives the user name)",
            });
        }
        let mut skipped = 0;
        for n in std::iter::once(None).chain((2..).map(Some)) {
            let candidate = validate::derived_user_name(&login, n);
            if self.store.account_by_user_name(&candidate)?.is_some() {
                continue;
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            return Ok((candidate, Some(login), true));
        }
        unreachable!("the candidates never run out")
    }

    /// Brings an archived account back (same id) with the attributes of
    /// `row` and nothing else: no admin level, no groups, no authenticator
    /// secret, no recognised computers (its tokens went when it was
    /// archived). One who may not bring it back is told what a taken name
    /// tells: the archived account stays as hidden as a live one.
    fn restore(&self, actor: &Actor, archived: Account, row: NewAccountRow) -> CoreResult<Account> {
        if self.rules().may_manage_account(actor, &archived).is_err() {
            return Err(CoreError::Conflict("user name"));
        }
        let update = AccountUpdate {
            user_name: Some(row.user_name),
            login_name: Some(row.login_name),
            // Its POSIX numbers are its own, for good: the ones the new row
            // was given go unused (numbers are never handed out twice).
            attributes: Attribute::ALL
                .iter()
                .map(|&a| {
                    let kept = a.is_number().then(|| archived.attributes.get(a)).flatten();
                    (a, kept.or(row.attributes.get(a)).map(str::to_owned))
                })
                .collect(),
            given_name: Some(row.given_name),
            family_name: Some(row.family_name),
            email: Some(row.email),
            mobile: Some(row.mobile),
            time_zone: Some(row.time_zone),
            account_type: Some(row.account_type),
            auth_method: Some(row.auth_method),
            restricted_to: Some(row.restricted_to),
            manager: Some(row.manager),
            roles: Some(row.roles),
            status: Some(row.status),
            archived: Some(false),
            external_id: Some(row.external_id),
            // A restored account starts from the password it is given.
            password_hash: Some(row.password_hash),
            admin_level: Some(AdminLevel::None),
            admin_entity: Some(None),
            reset_pending: Some(false),
            totp_secret: Some(None),
            forget_computers: true,
        };
        self.store
            .update_account(archived.id, &update, None, row.now)?;
        for node in self.store.memberships(archived.id)? {
            self.store.remove_member(node, archived.id, row.now)?;
        }
        self.revoke_tokens_of(archived.id)?;
        self.store
            .account(archived.id)?
            .ok_or(CoreError::NotFound("account"))
    }

    /// Every check a new account passes, and the row it becomes.
    fn checked_row(
        &self,
        actor: &Actor,
        new: NewAccount,
        skip: u32,
    ) -> CoreResult<(NewAccountRow, bool)> {
        let rules = self.rules();
        rules.may_create_accounts(actor)?;
        let (user_name, login_name, derived) = self.names_of(&new, skip)?;
        let mut attributes = Attributes::default();
        for (a, v) in new.attributes.iter() {
            attributes.set(a, validate::attribute(a, v)?);
        }
        let external_id = new
            .external_id
            .as_deref()
            .map(validate::external_id)
            .transpose()?;
        let email = new.email.as_deref().map(validate::email).transpose()?;
        let mobile = new.mobile.as_deref().map(validate::mobile).transpose()?;
        let time_zone = new
            .time_zone
            .unwrap_or_else(|| self.default_time_zone.clone());
        validate::time_zone(&time_zone)?;
        self.check_channel_configured(new.auth_method)?;
        let roles = self.known_roles(new.roles)?;

        // Defaults come from the actor, so a scoped manager's sub-user is
        // born inside the manager's scope and branch.
        let manager_id = new.manager.or(actor.id());
        let restricted_to = new.restricted_to.or(match access::scope(actor) {
            access::Scope::Subtree(root) => Some(root),
            access::Scope::Everywhere => None,
        });
        let manager = manager_id.map(|id| self.account(actor, id)).transpose()?;
        if let Some(node) = restricted_to {
            self.node(actor, node)?;
        }
        rules.may_give_type(actor, new.account_type)?;
        rules.may_grant_roles(actor, &[], &roles)?;
        rules.may_restrict_to(actor, restricted_to)?;
        rules.may_set_manager(actor, None, manager.as_ref())?;
        // Last, so a refused account uses up no number.
        self.posix
            .complete_account(self.store.as_ref(), &user_name, &mut attributes)?;

        let row = NewAccountRow {
            uuid: Uuid::new_v4(),
            user_name,
            login_name,
            password_hash: new.password.map(|p| p.0),
            given_name: validate::text("first name", &new.given_name)?,
            family_name: validate::text("last name", &new.family_name)?,
            email,
            mobile,
            time_zone,
            account_type: new.account_type,
            auth_method: new.auth_method,
            restricted_to,
            manager: manager_id,
            admin_level: AdminLevel::None,
            admin_entity: None,
            roles,
            status: new.status,
            external_id,
            attributes,
            now: Timestamp::now(),
        };
        Ok((row, derived))
    }

    /// Changes an account's data. Anyone may change their own time zone; all
    /// else needs the right to manage the target, and every value granted is
    /// checked against what the actor itself holds.
    pub fn update_account(
        &self,
        actor: &Actor,
        id: AccountId,
        change: AccountChange,
        expected_version: Option<i64>,
    ) -> CoreResult<Account> {
        let target = self.account_label(id);
        let detail = crate::core::audit::describe_change(&change);
        self.audited(
            actor,
            "account.change",
            &target,
            &detail,
            || -> CoreResult<Account> {
                let target = self.account(actor, id)?;
                let rules = self.rules();
                let is_self = actor.id() == Some(target.id);
                // One's own account sent back whole with a new time zone is
                // a change of time zone: what it repeats is not a change.
                let change = if is_self {
                    change.without_unchanged(&target)
                } else {
                    change
                };
                if !(is_self && change.self_service_only()) {
                    rules.may_manage_account(actor, &target)?;
                }

                let mut update = AccountUpdate::default();
                if let Some(name) = change.user_name {
                    validate::user_name(&name)?;
                    update.user_name = Some(name);
                }
                if let Some(login) = change.login_name {
                    self.rename_login(&target, &login, &mut update)?;
                }
                for (a, v) in change.attributes {
                    let v = v
                        .as_deref()
                        .map(|v| validate::attribute(a, v))
                        .transpose()?
                        .flatten();
                    let uid = target.attributes.get(Attribute::UidNumber);
                    if let (Attribute::UidNumber, Some(given)) = (a, v.as_deref()) {
                        if Some(given) != uid {
                            self.posix.check_uid_free(self.store.as_ref(), given)?;
                        }
                    }
                    if let Some(v) = self.posix.change(a, v, &target.user_name, uid) {
                        update.attributes.push((a, v));
                    }
                }
                if let Some(p) = change.password {
                    // A new password forgets every recognised computer and
                    // ends a pending reset, as `set_password` does.
                    update.password_hash = Some(Some(p.0));
                    update.reset_pending = Some(false);
                    update.forget_computers = true;
                }
                if let Some(v) = change.given_name {
                    update.given_name = Some(validate::text("first name", &v)?);
                }
                if let Some(v) = change.family_name {
                    update.family_name = Some(validate::text("last name", &v)?);
                }
                if let Some(v) = change.email {
                    update.email = Some(v.as_deref().map(validate::email).transpose()?);
                }
                if let Some(v) = change.mobile {
                    update.mobile = Some(v.as_deref().map(validate::mobile).transpose()?);
                }
                if let Some(tz) = change.time_zone {
                    validate::time_zone(&tz)?;
                    update.time_zone = Some(tz);
                }
                if let Some(t) = change.account_type {
                    rules.may_give_type(actor, t)?;
                    update.account_type = Some(t);
                }
                // A code method may come before the address its codes go
                // to: identity providers send attributes in separate
                // requests, in no set order. Until the address is there, a
                // bind says the account has none (`AuthError::NoAddress`).
                let method = change.auth_method.unwrap_or(target.auth_method);
                if change.auth_method.is_some_and(|m| m != target.auth_method) {
                    self.check_channel_configured(method)?;
                }
                update.auth_method = change.auth_method;
                if let Some(r) = change.restricted_to {
                    if let Some(node) = r {
                        self.node(actor, node)?;
                    }
                    rules.may_restrict_to(actor, r)?;
                    update.restricted_to = Some(r);
                }
                if let Some(m) = change.manager {
                    let manager = m.map(|id| self.account(actor, id)).transpose()?;
                    rules.may_set_manager(actor, Some(target.id), manager.as_ref())?;
                    update.manager = Some(m);
                }
                if let Some(roles) = change.roles {
                    let roles = self.known_roles(roles)?;
                    rules.may_grant_roles(actor, &target.roles, &roles)?;
                    update.roles = Some(roles);
                }
                update.status = change.status;
                update.external_id = change
                    .external_id
                    .map(|x| x.as_deref().map(validate::external_id).transpose())
                    .transpose()?;
                if update.is_empty() {
                    return Ok(target);
                }
                self.store.update_account(
                    target.id,
                    &update,
                    expected_version,
                    Timestamp::now(),
                )?;
                self.store
                    .account(target.id)?
                    .ok_or(CoreError::NotFound("account"))
            },
        )
    }

    /// A new login for `target` into `update`: see [`AccountChange::login_name`].
    fn rename_login(
        &self,
        target: &Account,
        login: &str,
        update: &mut AccountUpdate,
    ) -> CoreResult<()> {
        let login = validate::login_name(login)?;
        if login.eq_ignore_ascii_case(target.login()) {
            return Ok(());
        }
        if let Some(holder) = self.store.account_by_login(&login)? {
            if holder.id != target.id {
                return Err(CoreError::Conflict("user name"));
            }
        }
        if target.login_name.is_none() && validate::user_name(&login).is_ok() {
            update.user_name = Some(login);
        } else if login.eq_ignore_ascii_case(&target.user_name) {
            update.login_name = Some(None);
        } else if validate::user_name(&login).is_err() && self.login_names == LoginNames::Strict {
            validate::user_name(&login)?;
        } else {
            // The user name stays: applications and people know it.
            update.login_name = Some(Some(login));
        }
        Ok(())
    }

    /// Sets a password: one's own, or that of an account one manages.
    /// Clears a pending reset (the manual: the user must update their
    /// password before they can access the system again).
    pub fn set_password(
        &self,
        actor: &Actor,
        id: AccountId,
        password: PreparedPassword,
    ) -> CoreResult<()> {
        let target = self.account_label(id);
        let detail = "password changed";
        self.audited(
            actor,
            "account.password",
            &target,
            detail,
            || -> CoreResult<()> {
                let target = self.account(actor, id)?;
                if actor.id() != Some(target.id) {
                    self.rules().may_manage_account(actor, &target)?;
                }
                // A new password forgets every recognised computer: whoever knew
                // the old one may have been recognised with it.
                let update = AccountUpdate {
                    password_hash: Some(Some(password.0)),
                    reset_pending: Some(false),
                    forget_computers: true,
                    ..AccountUpdate::default()
                };
                self.store
                    .update_account(target.id, &update, None, Timestamp::now())?;
                Ok(())
            },
        )
    }

    /// Whether `actor` may set the password of the account named
    /// `user_name` (its own, or one it manages), without changing anything:
    /// a face asks this before it looks at anything else the request
    /// carries (an old password), so that a refused request learns nothing
    /// about the account. An account outside the actor's sight is NotFound,
    /// as a missing one.
    pub fn check_may_set_password(&self, actor: &Actor, user_name: &str) -> CoreResult<AccountId> {
        let target = self.account_by_user_name(actor, user_name)?;
        if actor.id() != Some(target.id) {
            self.rules().may_manage_account(actor, &target)?;
        }
        Ok(target.id)
    }

    /// Applies `update` to the actor's own account, or to one it manages.
    pub(super) fn change_own_or_managed(
        &self,
        actor: &Actor,
        id: AccountId,
        update: &AccountUpdate,
    ) -> CoreResult<()> {
        let target = self.account(actor, id)?;
        if actor.id() != Some(target.id) {
            self.rules().may_manage_account(actor, &target)?;
        }
        self.store
            .update_account(target.id, update, None, Timestamp::now())?;
        Ok(())
    }

    /// Puts an account into the reset-pending state: from now on it cannot
    /// authenticate until its password has been changed.
    pub fn require_password_reset(&self, actor: &Actor, id: AccountId) -> CoreResult<()> {
        let target = self.account_label(id);
        let detail = "a new password is required";
        self.audited(
            actor,
            "account.require-reset",
            &target,
            detail,
            || -> CoreResult<()> {
                let update = AccountUpdate {
                    reset_pending: Some(true),
                    ..AccountUpdate::default()
                };
                self.change_own_or_managed(actor, id, &update)
            },
        )
    }

    /// What a SCIM DELETE does: the account becomes inactive and archived,
    /// hidden from every face, and stays in the store. Nothing deletes.
    pub fn archive_account(&self, actor: &Actor, id: AccountId) -> CoreResult<()> {
        let target = self.account_label(id);
        let detail = "archived (inactive, hidden, kept)";
        self.audited(
            actor,
            "account.archive",
            &target,
            detail,
            || -> CoreResult<()> {
                let target = self.account(actor, id)?;
                self.rules().may_manage_account(actor, &target)?;
                let update = AccountUpdate {
                    status: Some(Status::Inactive),
                    archived: Some(true),
                    ..AccountUpdate::default()
                };
                self.store
                    .update_account(target.id, &update, None, Timestamp::now())?;
                // Its bearer tokens die with it (its web sessions and LDAP
                // binds end at their next request: the account cannot act).
                self.revoke_tokens_of(target.id)
            },
        )
    }

    /// Makes an account a super admin or an account admin of a business
    /// entity, or takes that away. Super admins only.
    pub fn set_admin_level(
        &self,
        actor: &Actor,
        id: AccountId,
        level: AdminLevel,
        entity: Option<NodeId>,
    ) -> CoreResult<Account> {
        let target = self.account_label(id);
        let detail = format!(
            "admin level={}, entity={}",
            level.display_name(),
            entity.map_or("(none)".into(), |e| self.node_label(e))
        );
        self.audited(
            actor,
            "account.admin-level",
            &target,
            &detail,
            || -> CoreResult<Account> {
                self.rules().may_grant_admin(actor)?;
                let target = self.account(actor, id)?;
                let entity = match level {
                    AdminLevel::AccountAdmin => {
                        let id = entity.ok_or_else(|| CoreError::InvalidValue {
                            field: "business entity",
                            reason: "an account admin needs the business entity it administers"
                                .into(),
                        })?;
                        let node = self.node(actor, id)?;
                        if node.kind != NodeKind::BusinessEntity {
                            return Err(CoreError::InvalidValue {
                                field: "business entity",
                                reason: format!("{} is a group, not a business entity", node.name),
                            });
                        }
                        Some(id)
                    }
                    _ => None,
                };
                let update = AccountUpdate {
                    admin_level: Some(level),
                    admin_entity: Some(entity),
                    ..AccountUpdate::default()
                };
                self.store
                    .update_account(target.id, &update, None, Timestamp::now())?;
                self.store
                    .account(target.id)?
                    .ok_or(CoreError::NotFound("account"))
            },
        )
    }

    fn known_roles(&self, mut roles: Vec<String>) -> CoreResult<Vec<String>> {
        let known = self.store.roles()?;
        for role in &mut roles {
            let canonical = known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(role))
                .ok_or_else(|| CoreError::UnknownRole(role.clone()))?;
            role.clone_from(canonical);
        }
        roles.sort();
        roles.dedup();
        Ok(roles)
    }
}
