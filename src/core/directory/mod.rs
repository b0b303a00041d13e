//! The directory core: the `Directory` that owns every account rule, its
//! construction and settings, the helpers its operations share, and the
//! types the faces hand it (`NewAccount`, `AccountChange`, `NewNode`,
//! `GroupEdit`, `AuthError`, ...). Each operation validates its input, asks
//! `access.rs` whether the actor may, and only then reaches the store. Calls
//! block; the async faces reach them through `service.rs`. The operations
//! live by job in the files beside this one.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::core::access::{self, Actor, Rules};
use crate::core::error::{CoreError, CoreResult};
use crate::core::password::{PasswordHasher, PreparedPassword};
use crate::core::posix::PosixSettings;
use crate::core::second_factor::SecondFactorSettings;
use crate::core::validate::{self, PasswordPolicy};
use crate::model::Visibility;
use crate::model::{
    Account, AccountId, AccountType, Attribute, Attributes, AuthMethod, Channel, NodeId, NodeKind,
    Status,
};
use crate::store::Store;

mod accounts;
mod authentication;
mod bootstrap;
mod search;
mod tokens;
mod tree;

pub use authentication::{AuthAttempt, PasswordVerdict};
pub use bootstrap::BOOTSTRAP_ADMIN;

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

/// A std duration as a span to add to a timestamp.
pub(super) fn span(d: std::time::Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX)
}

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

    /// The store query for what `actor` may see.
    pub fn visibility(&self, actor: &Actor) -> Visibility {
        access::visibility(actor)
    }
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
