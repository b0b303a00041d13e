//! The directory's operations: each validates its input, asks `access.rs`
//! whether the actor may, and only then reaches the store. Calls block; the
//! async faces reach them through `service.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::core::access::{self, check_parent_kind, Actor, Rules};
use crate::core::error::{CoreError, CoreResult};
use crate::core::model::{
    Account, AccountId, AccountType, AdminLevel, Attribute, Attributes, AuthMethod, Channel, Node,
    NodeId, NodeKind, Status, TokenInfo,
};
use crate::core::password::{PasswordHasher, PreparedPassword};
use crate::core::posix::PosixSettings;
use crate::core::query::{AccountField, Filter, NodeField, Related, Slice, Sort, Test, Value};
use crate::core::random;
use crate::core::second_factor::{self, Computer, SecondFactorSettings};
use crate::core::totp;
use crate::core::validate::{self, PasswordPolicy};
use crate::store::{
    AccountUpdate, NewAccountRow, NewMessage, NewNodeRow, NodeChange, Page, PendingCode, Store,
    StoreError, Visibility,
};

/// The name of the super admin made on the first start of an empty store.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The directory core: the one owner of every account rule.
pub struct Directory {
    pub(super) store: Arc<dyn Store>,
    policy: PasswordPolicy,
    hasher: PasswordHasher,
    pub(super) default_time_zone: String,
    second_factor: SecondFactorSettings,
    /// Called after a message is queued, so the notifier sends it now
    /// rather than at its next poll.
    message_queued: Option<Arc<dyn Fn() + Send + Sync>>,
    login_names: LoginNames,
    posix: PosixSettings,
}

/// A new account as a face or the command line asks for it. Optional fields
/// take the defaults of the actor (manager: the actor; restriction: the
/// actor's scope) or of the configuration (time zone).
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The user name; empty to derive it from `login_name`.
    pub user_name: String,
    /// The name an identity provider sent (SCIM `userName`): the account's
    /// user name when it is a valid one, else kept as its login name and
    /// the user name derived from it ([`LoginNames`]).
    pub login_name: Option<String>,
    pub password: Option<PreparedPassword>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub time_zone: Option<String>,
    pub account_type: AccountType,
    pub auth_method: AuthMethod,
    pub restricted_to: Option<NodeId>,
    pub manager: Option<AccountId>,
    pub roles: Vec<String>,
    pub status: Status,
    pub external_id: Option<String>,
    pub attributes: Attributes,
}

impl NewAccount {
    /// An active Report Reader with the Password method: the least a new
    /// account can be.
    pub fn named(user_name: impl Into<String>) -> Self {
        NewAccount {
            user_name: user_name.into(),
            login_name: None,
            password: None,
            given_name: String::new(),
            family_name: String::new(),
            email: None,
            mobile: None,
            time_zone: None,
            account_type: AccountType::ReportReader,
            auth_method: AuthMethod::Password,
            restricted_to: None,
            manager: None,
            roles: Vec::new(),
            status: Status::Active,
            external_id: None,
            attributes: Attributes::default(),
        }
    }

    /// An account named by an identity provider's login (SCIM `userName`).
    pub fn from_login(login: impl Into<String>) -> Self {
        let mut new = NewAccount::named(String::new());
        new.login_name = Some(login.into());
        new
    }
}

/// What happens to a login (SCIM `userName`) that is not a valid user name
/// (`[scim] user_names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginNames {
    /// Kept as the login name; the user name is derived from it
    /// ([`validate::derived_user_name`]).
    #[default]
    Derive,
    /// Refused, as the manual's rule for user names says.
    Strict,
}

/// A change to an account's data. `None` leaves a field alone; for optional
/// fields `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub user_name: Option<String>,
    /// A new login (SCIM `userName`): a valid user name renames an account
    /// without a login name; anything else becomes or replaces the login
    /// name, and the user name stays as it is.
    pub login_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub account_type: Option<AccountType>,
    pub auth_method: Option<AuthMethod>,
    pub restricted_to: Option<Option<NodeId>>,
    pub manager: Option<Option<AccountId>>,
    pub roles: Option<Vec<String>>,
    pub status: Option<Status>,
    pub external_id: Option<Option<String>>,
    /// Directory attributes to set (`Some`) or clear (`None`).
    pub attributes: Vec<(Attribute, Option<String>)>,
    /// A new password, written in the same change (a SCIM PUT that
    /// carries one). Anyone may set their own.
    pub password: Option<PreparedPassword>,
}

impl AccountChange {
    /// Whether the change touches only what anyone may change on their own
    /// account (their time zone; password and two-factor enrolment have
    /// their own calls).
    fn self_service_only(&self) -> bool {
        let AccountChange {
            user_name,
            login_name,
            attributes,
            password: _,
            given_name,
            family_name,
            email,
            mobile,
            time_zone: _,
            account_type,
            auth_method,
            restricted_to,
            manager,
            roles,
            status,
            external_id,
        } = self;
        user_name.is_none()
            && login_name.is_none()
            && attributes.iter().all(|(a, _)| a.self_service())
            && given_name.is_none()
            && family_name.is_none()
            && email.is_none()
            && mobile.is_none()
            && account_type.is_none()
            && auth_method.is_none()
            && restricted_to.is_none()
            && manager.is_none()
            && roles.is_none()
            && status.is_none()
            && external_id.is_none()
    }

    /// The change without the fields that would set what `current`
    /// already holds. A client that sends the whole resource back (a SCIM
    /// PUT, or a PATCH applied to the resource) asserts every field; only
    /// the ones it alters are a change, and only those need a right.
    fn without_unchanged(mut self, current: &Account) -> Self {
        fn drop_same<T: PartialEq>(field: &mut Option<T>, now: &T) {
            if field.as_ref() == Some(now) {
                *field = None;
            }
        }
        drop_same(&mut self.user_name, &current.user_name);
        if self
            .login_name
            .as_ref()
            .is_some_and(|l| l.eq_ignore_ascii_case(current.login()))
        {
            self.login_name = None;
        }
        self.attributes
            .retain(|(a, v)| v.as_deref() != current.attributes.get(*a));
        drop_same(&mut self.given_name, &current.given_name);
        drop_same(&mut self.family_name, &current.family_name);
        drop_same(&mut self.email, &current.email);
        drop_same(&mut self.mobile, &current.mobile);
        drop_same(&mut self.time_zone, &current.time_zone);
        drop_same(&mut self.account_type, &current.account_type);
        drop_same(&mut self.auth_method, &current.auth_method);
        drop_same(&mut self.restricted_to, &current.restricted_to);
        drop_same(&mut self.manager, &current.manager);
        drop_same(&mut self.status, &current.status);
        drop_same(&mut self.external_id, &current.external_id);
        if let Some(roles) = &self.roles {
            let mut wanted: Vec<String> = roles.iter().map(|r| r.to_ascii_lowercase()).collect();
            let mut held: Vec<String> = current
                .roles
                .iter()
                .map(|r| r.to_ascii_lowercase())
                .collect();
            wanted.sort();
            wanted.dedup();
            held.sort();
            if wanted == held {
                self.roles = None;
            }
        }
        self
    }
}

/// A new node of the organisation tree.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub name: String,
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    pub external_id: Option<String>,
}

/// Who a group holds after a change.
#[derive(Debug, Clone, Default)]
pub enum MemberEdit {
    /// Membership stays as it is.
    #[default]
    Keep,
    /// Exactly these people (of those the actor can see; hidden members
    /// stay), and these groups moved under it: Okta's PUT.
    Replace {
        people: BTreeSet<AccountId>,
        groups: BTreeSet<NodeId>,
    },
    /// Only the named members: Entra's add and remove.
    Change {
        add: BTreeSet<AccountId>,
        remove: BTreeSet<AccountId>,
        add_groups: BTreeSet<NodeId>,
    },
}

/// A change to a group, checked whole and then stored in one transaction.
/// `None` leaves a field as it is; `external_id: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct GroupEdit {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub members: MemberEdit,
    /// A new parent (`Some(None)`: the top of the tree).
    pub parent: Option<Option<NodeId>>,
}

/// Why an authentication failed. Faces answer every variant with the same
/// failure code; only the variants after a right password (`ResetPending`,
/// and the second-factor ones) carry a message that tells more, so a failure
/// tells an attacker nothing about which accounts exist or their state.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password was right, but a reset was requested: it must be changed.
    #[error("a password reset was requested for this account: set a new password first")]
    ResetPending,
    /// The password was right, but the account's method needs a code too.
    #[error("{}", second_factor_hint(*.0))]
    SecondFactorRequired(AuthMethod),
    /// The password was right; the code was wrong, expired or already used.
    #[error("the one-time code is invalid, expired or already used")]
    InvalidCode,
    /// The method needs an authenticator app that was never enrolled.
    #[error("no authenticator app is enrolled for this account: ask an administrator")]
    NotEnrolled,
    /// Email and SMS codes need a delivery channel this server lacks.
    #[error("{} codes are not configured on this server", channel_name(*.0))]
    ChannelNotConfigured(AuthMethod),
    /// The password was right and a code went out (or went out moments
    /// ago): the next bind carries password and code.
    #[error("code sent by {} to {to}: bind again with your password followed by the code", .channel.display_name())]
    CodeSent { channel: Channel, to: String },
    /// The account has no address for its method's codes.
    #[error("the account has no {} for {} codes: ask an administrator", address_name(*.0), .0.display_name())]
    NoAddress(Channel),
    #[error(transparent)]
    Core(#[from] CoreError),
}

fn second_factor_hint(method: AuthMethod) -> String {
    match method {
        AuthMethod::TwoFactorApp => "a one-time code is required: append the 6-digit code from your authenticator app to your password (optionally after a ;)".into(),
        other => format!(
            "a one-time code is required ({}): append it to your password",
            other.display_name()
        ),
    }
}

fn address_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email address",
        Channel::Sms => "mobile number",
    }
}

fn channel_name(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::TwoFactorSms | AuthMethod::TwoFactorSmsEveryTime => "SMS",
        _ => "email",
    }
}

/// What the first, store-side step of an authentication found: the account
/// (if any) and its secrets. Opaque to the faces.
pub struct AuthAttempt {
    /// The name the client gave (for the audit log of a failure).
    user_name: String,
    account: Option<Account>,
    password_hash: Option<String>,
    totp_secret: Option<Vec<u8>>,
}

/// What the password step established: whether the password was right, and
/// the one-time code that came with it, if any.
pub struct PasswordVerdict {
    password_ok: bool,
    code: Option<String>,
    /// The password hashed anew with argon2id, when the stored hash came
    /// from another directory: stored once the authentication succeeds.
    rehash: Option<String>,
}

/// A std duration as a span to add to a timestamp.
pub(super) fn span(d: std::time::Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX)
}

/// Hex-free bearer token prefix, so a leaked token is recognisable in a scan.
const TOKEN_PREFIX: &str = "dgt_";

impl Directory {
    pub fn new(
        store: Arc<dyn Store>,
        policy: PasswordPolicy,
        hasher: PasswordHasher,
        default_time_zone: impl Into<String>,
    ) -> CoreResult<Self> {
        let default_time_zone = default_time_zone.into();
        validate::time_zone(&default_time_zone)?;
        Ok(Directory {
            store,
            policy,
            hasher,
            default_time_zone,
            second_factor: SecondFactorSettings::default(),
            message_queued: None,
            login_names: LoginNames::default(),
            posix: PosixSettings::default(),
        })
    }

    /// Gives accounts and groups without POSIX numbers theirs (those made
    /// before this version); at start-up, after [`Directory::bootstrap`].
    pub fn complete_posix(&self) -> CoreResult<usize> {
        self.posix.backfill(self.store.as_ref())
    }

    /// How POSIX numbers, home directories and shells are given.
    pub fn set_posix(&mut self, settings: PosixSettings) -> CoreResult<()> {
        settings.check()?;
        self.posix = settings;
        Ok(())
    }

    /// What a login that is not a valid user name becomes.
    pub fn set_login_names(&mut self, rule: LoginNames) {
        self.login_names = rule;
    }

    /// How second factors by message behave, and which channels exist.
    pub fn set_second_factor(&mut self, settings: SecondFactorSettings) {
        self.second_factor = settings;
    }

    /// What to call after a message is queued (the notifier's wake-up).
    pub fn on_message_queued(&mut self, hook: Arc<dyn Fn() + Send + Sync>) {
        self.message_queued = Some(hook);
    }

    pub fn second_factor(&self) -> &SecondFactorSettings {
        &self.second_factor
    }

    /// Email and SMS methods can be given only when this server can send
    /// their codes.
    fn check_channel_configured(&self, method: AuthMethod) -> CoreResult<()> {
        match method.channel() {
            Some(channel) if !self.second_factor.has(channel) => Err(CoreError::InvalidValue {
                field: "authentication method",
                reason: format!(
                    "{} needs {} configured on this server ([{}] in the configuration)",
                    method.display_name(),
                    match channel {
                        Channel::Email => "email (SMTP)",
                        Channel::Sms => "an SMS gateway",
                    },
                    channel.as_str()
                ),
            }),
            _ => Ok(()),
        }
    }

    pub(super) fn message_queued(&self) {
        if let Some(hook) = &self.message_queued {
            hook();
        }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The store itself, shared: for the notifier, which reads and updates
    /// the outbox below the core.
    pub fn shared_store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            store: &*self.store,
        }
    }

    pub fn policy(&self) -> PasswordPolicy {
        self.policy
    }

    // --- passwords ---------------------------------------------------------

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

    // --- bootstrap ---------------------------------------------------------

    /// On an empty store, creates the super admin `admin` with a random
    /// password and returns that password (to be shown once). Otherwise None.
    pub fn bootstrap(&self) -> CoreResult<Option<String>> {
        if self.store.count_accounts(Visibility::All, true)? > 0 {
            return Ok(None);
        }
        let password = self.generate_password();
        let prepared = self.prepare_password(&password)?;
        let row = NewAccountRow {
            uuid: Uuid::new_v4(),
            user_name: BOOTSTRAP_ADMIN.to_owned(),
            login_name: None,
            password_hash: Some(prepared.0),
            given_name: String::new(),
            family_name: "Administrator".to_owned(),
            email: None,
            mobile: None,
            time_zone: self.default_time_zone.clone(),
            account_type: AccountType::Administrator,
            auth_method: AuthMethod::Password,
            restricted_to: None,
            manager: None,
            admin_level: AdminLevel::SuperAdmin,
            admin_entity: None,
            roles: Vec::new(),
            status: Status::Active,
            external_id: None,
            attributes: Attributes::default(),
            now: Timestamp::now(),
        };
        self.store.insert_account(&row)?;
        Ok(Some(password))
    }

    // --- reading -----------------------------------------------------------

    /// The store query for what `actor` may see.
    pub fn visibility(&self, actor: &Actor) -> Visibility {
        access::visibility(actor)
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

    // --- changing accounts -------------------------------------------------

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
    fn change_own_or_managed(
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

    /// Revokes every live bearer token acting as `id`.
    fn revoke_tokens_of(&self, id: AccountId) -> CoreResult<()> {
        let now = Timestamp::now();
        for token in self.store.list_tokens()? {
            if token.account == id && !token.revoked {
                self.store.revoke_token(token.id, now)?;
            }
        }
        Ok(())
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

    // --- the organisation tree --------------------------------------------

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

    // --- authentication ----------------------------------------------------

    /// The account a person or an application names to sign in or bind:
    /// its user name, its login name, or an email address that exactly one
    /// active account has (every face: LDAP binds, the pages, `/forgot`).
    pub(super) fn account_signing_in(&self, who: &str) -> CoreResult<Option<Account>> {
        let who = who.trim();
        if who.is_empty() || who.len() > validate::MAX_LOGIN_NAME {
            return Ok(None);
        }
        if validate::user_name(who).is_ok() {
            if let Some(a) = self.store.account_by_user_name(who)? {
                return Ok(Some(a));
            }
        }
        if let Some(a) = self.store.account_by_login(who)? {
            return Ok(Some(a));
        }
        if !who.contains('@') {
            return Ok(None);
        }
        let filter = Filter::And(vec![
            Filter::Test(AccountField::Email, Test::Equals(Value::Text(who.into()))),
            Filter::Test(
                AccountField::Status,
                Test::Equals(Value::Text(Status::Active.as_str().into())),
            ),
        ]);
        let found =
            self.store
                .search_accounts(Visibility::All, false, &filter, None, Slice::first(2))?;
        Ok(match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    /// Step one (store pool): find the account and its secrets.
    pub fn begin_authentication(&self, user_name: &str) -> CoreResult<AuthAttempt> {
        let account = self.account_signing_in(user_name)?;
        let credentials = match &account {
            Some(a) => self.store.credentials(a.id)?,
            None => None,
        };
        let (password_hash, totp_secret) = match credentials {
            Some(c) => (c.password_hash, c.totp_secret),
            None => (None, None),
        };
        Ok(AuthAttempt {
            user_name: user_name.chars().take(64).collect(),
            account,
            password_hash,
            totp_secret,
        })
    }

    /// Step two (password pool): check the credential, which for a
    /// two-factor account may be the password followed by a code. A
    /// password that itself ends in digits still works: when the split
    /// reading fails, the whole credential is tried as the password.
    pub fn check_credential(&self, attempt: &AuthAttempt, credential: &str) -> PasswordVerdict {
        let two_factor = attempt
            .account
            .as_ref()
            .is_some_and(|a| a.auth_method.is_two_factor());
        if two_factor {
            if let Some((password, code)) = totp::split_credential(credential) {
                if self.verify(attempt, password) {
                    return PasswordVerdict {
                        password_ok: true,
                        code: Some(code.to_owned()),
                        rehash: self.rehash(attempt, password),
                    };
                }
            }
        }
        let password_ok = self.verify(attempt, credential);
        PasswordVerdict {
            password_ok,
            code: None,
            rehash: password_ok
                .then(|| self.rehash(attempt, credential))
                .flatten(),
        }
    }

    /// An argon2id hash of a right password whose stored hash was imported
    /// (`{SSHA}`, `{CRYPT}`...), to replace it.
    fn rehash(&self, attempt: &AuthAttempt, password: &str) -> Option<String> {
        let stored = attempt.password_hash.as_deref()?;
        if !crate::core::password::needs_rehash(stored) {
            return None;
        }
        self.hasher.hash(password).ok()
    }

    /// One argon2 verification whether or not the account exists.
    fn verify(&self, attempt: &AuthAttempt, password: &str) -> bool {
        match &attempt.password_hash {
            Some(phc) => self.hasher.verify(password, phc),
            None => {
                self.hasher.verify_decoy(password);
                false
            }
        }
    }

    /// Whether the password alone is right (a password change's check of
    /// the old password: no second factor, no code sent).
    pub fn password_matches(&self, attempt: &AuthAttempt, password: &str) -> bool {
        self.verify(attempt, password)
            && attempt
                .account
                .as_ref()
                .is_some_and(|a| a.status == Status::Active && !a.archived)
    }

    /// Step three (store pool): the verdict. Only after the right password
    /// does an answer say anything about the account's state. `computer` is
    /// where the bind comes from, for methods that ask for a code only from
    /// computers not yet recognised.
    pub fn finish_authentication(
        &self,
        attempt: AuthAttempt,
        mut verdict: PasswordVerdict,
        computer: &Computer,
    ) -> Result<Account, AuthError> {
        let rehash = verdict.rehash.take();
        let name = attempt.user_name.clone();
        let account = self.verdict(attempt, verdict, computer).inspect_err(|e| {
            // Every failed authentication, with where it came from; a code
            // sent is a step, not a failure, but it is worth a line too.
            let from = computer.key().unwrap_or_else(|| "(unknown)".into());
            let result = match e {
                AuthError::CodeSent { .. } => e.to_string(),
                _ => format!("refused: {e}"),
            };
            self.audit(&name, "authenticate", &name, &from, &result);
        })?;
        if let Some(phc) = rehash {
            // The imported hash goes at the first successful bind; nothing
            // else about the account changes.
            let update = AccountUpdate {
                password_hash: Some(Some(phc)),
                ..AccountUpdate::default()
            };
            self.store
                .update_account(account.id, &update, None, Timestamp::now())
                .map_err(|e| AuthError::Core(e.into()))?;
        }
        Ok(account)
    }

    fn verdict(
        &self,
        attempt: AuthAttempt,
        verdict: PasswordVerdict,
        computer: &Computer,
    ) -> Result<Account, AuthError> {
        let Some(account) = attempt.account else {
            return Err(AuthError::InvalidCredentials);
        };
        if !verdict.password_ok || account.status != Status::Active || account.archived {
            return Err(AuthError::InvalidCredentials);
        }
        if account.reset_pending {
            return Err(AuthError::ResetPending);
        }
        match (account.auth_method, account.auth_method.channel()) {
            (AuthMethod::Password, _) => Ok(account),
            (_, Some(channel)) => self.message_factor(account, channel, verdict.code, computer),
            (_, None) => {
                let secret = attempt.totp_secret.ok_or(AuthError::NotEnrolled)?;
                let code = verdict
                    .code
                    .ok_or(AuthError::SecondFactorRequired(account.auth_method))?;
                let step = totp::matching_step(&secret, &code, Timestamp::now().as_second())
                    .ok_or(AuthError::InvalidCode)?;
                // A code is good once: the step is recorded atomically and a
                // second bind with the same (or an older) code is refused.
                if self
                    .store
                    .use_totp_step(account.id, step)
                    .map_err(CoreError::from)?
                {
                    Ok(account)
                } else {
                    Err(AuthError::InvalidCode)
                }
            }
        }
    }

    /// The email or SMS second factor: from a recognised computer (for the
    /// methods that are not "every time") the password is enough; else a
    /// bind without a code sends one, and a bind with one spends it.
    fn message_factor(
        &self,
        account: Account,
        channel: Channel,
        code: Option<String>,
        computer: &Computer,
    ) -> Result<Account, AuthError> {
        let settings = &self.second_factor;
        let every_time = account.auth_method.every_time();
        let computer = computer.key().filter(|_| !every_time);
        let now = Timestamp::now();
        let store_error = |e: crate::store::StoreError| AuthError::Core(e.into());
        if let (None, Some(key)) = (&code, &computer) {
            if self
                .store
                .computer_recognised(account.id, key, now)
                .map_err(store_error)?
            {
                return Ok(account);
            }
        }
        if !settings.has(channel) {
            return Err(AuthError::ChannelNotConfigured(account.auth_method));
        }
        let address = match channel {
            Channel::Email => account.email.clone(),
            Channel::Sms => account.mobile.clone(),
        }
        .filter(|a| !a.trim().is_empty())
        .ok_or(AuthError::NoAddress(channel))?;
        let sent = AuthError::CodeSent {
            channel,
            to: second_factor::masked(channel, &address),
        };
        let Some(code) = code else {
            // A bind moments after a code went out is told to use it, not
            // sent another: a client retrying cannot flood a phone. This
            // holds for a code that died of wrong tries too: guessing it
            // out does not buy a fresh one sooner.
            let pending = self.store.pending_code(account.id).map_err(store_error)?;
            if let Some(p) = pending {
                let resend_at = p.created + span(settings.resend_interval);
                if p.channel == channel && p.expires > now && now < resend_at {
                    return Err(sent);
                }
            }
            let code = second_factor::new_code();
            let expires = now + span(settings.code_lifetime);
            let pending = PendingCode {
                code_hash: second_factor::code_hash(account.uuid, &code),
                channel,
                created: now,
                expires,
                tries: 0,
            };
            let message = self.code_message(&account, channel, &address, &code, expires);
            self.store
                .issue_code(account.id, &pending, &message, now)
                .map_err(store_error)?;
            self.message_queued();
            return Err(sent);
        };
        let given = second_factor::code_hash(account.uuid, &code);
        let pending = self.store.pending_code(account.id).map_err(store_error)?;
        // A code that had its wrong tries is dead, though kept (its time
        // still spaces the next one).
        let matches = pending.is_some_and(|p| {
            p.channel == channel
                && p.tries < settings.code_tries
                && p.expires > now
                && second_factor::same_hash(&p.code_hash, &given)
        });
        if matches
            && self
                .store
                .spend_code(account.id, &given, now)
                .map_err(store_error)?
        {
            if let Some(key) = computer {
                let until = now + span(settings.remember_computer);
                self.store
                    .recognise_computer(account.id, &key, now, until)
                    .map_err(store_error)?;
            }
            return Ok(account);
        }
        self.store
            .wrong_code(account.id, settings.code_tries)
            .map_err(store_error)?;
        Err(AuthError::InvalidCode)
    }

    /// The message that carries a code, its expiry shown in the account's
    /// time zone; the audit copy has the code masked.
    fn code_message(
        &self,
        account: &Account,
        channel: Channel,
        address: &str,
        code: &str,
        expires: Timestamp,
    ) -> NewMessage {
        let zone = jiff::tz::TimeZone::get(&account.time_zone)
            .or_else(|_| jiff::tz::TimeZone::get(&self.default_time_zone))
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let at = expires.to_zoned(zone);
        let until = format!(
            "{} ({})",
            at.strftime("%H:%M on %-d %B %Y"),
            account.time_zone
        );
        let text = |code: &str| match channel {
            Channel::Sms => format!("Your dirgate sign-in code is {code}. It expires at {until}."),
            Channel::Email => format!(
                "Hello {},\n\nYour sign-in code is {code}.\n\nIt expires at {until}. \
                 If you did not just try to sign in, tell your administrator: \
                 someone knows your password.\n",
                account.display_name()
            ),
        };
        NewMessage {
            channel,
            recipient: address.to_owned(),
            subject: "Your sign-in code".into(),
            body: text(code),
            audit_body: text("******"),
            account: Some(account.id),
        }
    }

    /// All three steps in one thread: for the command line and tests.
    pub fn authenticate(&self, user_name: &str, credential: &str) -> Result<Account, AuthError> {
        self.authenticate_from(user_name, credential, &Computer::Unknown)
    }

    /// All three steps in one thread, from `computer`.
    pub fn authenticate_from(
        &self,
        user_name: &str,
        credential: &str,
        computer: &Computer,
    ) -> Result<Account, AuthError> {
        let attempt = self.begin_authentication(user_name)?;
        let verdict = self.check_credential(&attempt, credential);
        self.finish_authentication(attempt, verdict, computer)
    }

    /// The computers an account is recognised from: one's own, or those of
    /// an account the actor manages.
    pub fn computers(
        &self,
        actor: &Actor,
        id: AccountId,
    ) -> CoreResult<Vec<crate::store::RecognisedComputer>> {
        let target = self.account(actor, id)?;
        if actor.id() != Some(target.id) {
            self.rules().may_manage_account(actor, &target)?;
        }
        Ok(self.store.computers(target.id, Timestamp::now())?)
    }

    /// Forgets one recognised computer, or all; how many went.
    pub fn forget_computers(
        &self,
        actor: &Actor,
        id: AccountId,
        which: Option<Uuid>,
    ) -> CoreResult<u64> {
        let target = self.account_label(id);
        let detail = match which {
            Some(c) => format!("forgot computer {c}"),
            None => "forgot every computer".into(),
        };
        self.audited(
            actor,
            "account.computers",
            &target,
            &detail,
            || -> CoreResult<u64> {
                let target = self.account(actor, id)?;
                if actor.id() != Some(target.id) {
                    self.rules().may_manage_account(actor, &target)?;
                }
                Ok(self.store.forget_computers(target.id, which)?)
            },
        )
    }

    /// Sets or removes the authenticator-app secret of an account: one's
    /// own (enrolment is self-service) or one's sub-user's.
    pub fn set_totp_secret(
        &self,
        actor: &Actor,
        id: AccountId,
        secret: Option<Vec<u8>>,
    ) -> CoreResult<()> {
        let target = self.account_label(id);
        let detail = if secret.is_some() {
            "authenticator app enrolled"
        } else {
            "authenticator app removed"
        };
        self.audited(
            actor,
            "account.totp",
            &target,
            detail,
            || -> CoreResult<()> {
                let update = AccountUpdate {
                    totp_secret: Some(secret),
                    ..AccountUpdate::default()
                };
                self.change_own_or_managed(actor, id, &update)
            },
        )
    }

    // --- searching ---------------------------------------------------------

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

    // --- bearer tokens -----------------------------------------------------

    /// Issues a bearer token acting with `user_name`'s rights: the
    /// operator and super admins for anyone, an account for itself. The secret is returned
    /// once and stored only as its SHA-256.
    pub fn issue_token(
        &self,
        actor: &Actor,
        user_name: &str,
        expires_days: Option<u32>,
    ) -> CoreResult<(TokenInfo, String)> {
        let target = user_name.to_owned();
        let detail = format!(
            "bearer token issued, expires in {}",
            expires_days.map_or("never".into(), |d| format!("{d} days"))
        );
        self.audited(
            actor,
            "token.issue",
            &target,
            &detail,
            || -> CoreResult<(TokenInfo, String)> {
                let account = self.account_by_user_name(actor, user_name)?;
                self.rules().may_handle_token(actor, account.id)?;
                usable(&account)?;
                let secret = format!(
                    "{TOKEN_PREFIX}{}",
                    data_encoding::BASE64URL_NOPAD.encode(&random::bytes::<32>())
                );
                let now = Timestamp::now();
                let expires = expires_days
                    .map(|days| {
                        now.checked_add(jiff::SignedDuration::from_hours(i64::from(days) * 24))
                            .map_err(|_| CoreError::InvalidValue {
                                field: "expiry",
                                reason: format!("{days} days is too far ahead"),
                            })
                    })
                    .transpose()?;
                let id = Uuid::new_v4();
                self.store
                    .insert_token(id, account.id, &token_hash(&secret), expires, now)?;
                let info = TokenInfo {
                    id,
                    account: account.id,
                    user_name: account.user_name,
                    created: now,
                    expires,
                    revoked: false,
                };
                Ok((info, secret))
            },
        )
    }

    /// The actor a bearer token stands for. The lookup is by the token's
    /// SHA-256, an index probe that reveals nothing about secrets near it.
    pub fn token_actor(&self, secret: &str) -> CoreResult<Actor> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Err(CoreError::InvalidToken);
        }
        // The token and its account in one snapshot (and one lock of the
        // database): every SCIM request starts here.
        self.in_snapshot(|| {
            let row = self
                .store
                .token_by_hash(&token_hash(secret))?
                .ok_or(CoreError::InvalidToken)?;
            let live = !row.info.revoked && row.info.expires.is_none_or(|e| e > Timestamp::now());
            if !live {
                return Err(CoreError::InvalidToken);
            }
            self.actor(row.info.account)
                .map_err(|_| CoreError::InvalidToken)
        })
    }

    pub fn list_tokens(&self, actor: &Actor) -> CoreResult<Vec<TokenInfo>> {
        // Super admins see every token, anyone else its own.
        let mut tokens = self.store.list_tokens()?;
        if !actor.is_super() {
            tokens.retain(|t| Some(t.account) == actor.id());
        }
        Ok(tokens)
    }

    pub fn revoke_token(&self, actor: &Actor, id: Uuid) -> CoreResult<()> {
        let target = format!("token {id}");
        let detail = "revoked";
        self.audited(
            actor,
            "token.revoke",
            &target,
            detail,
            || -> CoreResult<()> {
                let owner = self
                    .store
                    .list_tokens()?
                    .into_iter()
                    .find(|t| t.id == id)
                    .ok_or(CoreError::NotFound("token"))?;
                if !actor.is_super() && Some(owner.account) != actor.id() {
                    // Another's token answers like a missing one.
                    return Err(CoreError::NotFound("token"));
                }
                self.rules().may_handle_token(actor, owner.account)?;
                Ok(self.store.revoke_token(id, Timestamp::now())?)
            },
        )
    }
}

fn token_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// An account that may act: active, not archived, no reset pending.
fn usable(account: &Account) -> CoreResult<()> {
    if account.archived {
        Err(CoreError::AccountUnusable("it is archived"))
    } else if account.status != Status::Active {
        Err(CoreError::AccountUnusable("it is inactive"))
    } else if account.reset_pending {
        Err(CoreError::AccountUnusable("a password reset is pending"))
    } else {
        Ok(())
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
