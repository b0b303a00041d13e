//! Authentication: a sign-in or bind in its steps (begin, check the
//! password, finish with the second factor), recognised computers and
//! authenticator-app secrets.

use jiff::Timestamp;
use uuid::Uuid;

use crate::core::access::Actor;
use crate::core::error::{CoreError, CoreResult};
use crate::core::second_factor::{self, Computer};
use crate::core::totp;
use crate::core::validate;
use crate::model::query::{AccountField, Filter, Slice, Test, Value};
use crate::model::Visibility;
use crate::model::{Account, AccountId, AuthMethod, Channel, Status};
use crate::store::{AccountUpdate, NewMessage, PendingCode};

use super::{span, AuthError, Directory};

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

impl Directory {
    /// The account a person or an application names to sign in or bind:
    /// its user name, its login name, or an email address that exactly one
    /// active account has (every face: LDAP binds, the pages, `/forgot`).
    pub(in crate::core) fn account_signing_in(&self, who: &str) -> CoreResult<Option<Account>> {
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
}
