//! Forgotten passwords: a single-use link by email, and from the moment it
//! is sent the account cannot bind until the password is changed
//! (DESIGN.md, "Forgotten password"). A request never tells whether an
//! account exists.

use std::time::Duration;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::core::directory::{span, Directory};
use crate::core::error::{CoreError, CoreResult};
use crate::core::password::PreparedPassword;
use crate::core::random;
use crate::model::{Account, Channel, Status};
use crate::store::NewMessage;

/// How long a reset link works.
pub const RESET_LINK_LIFETIME: Duration = Duration::from_secs(3600);
/// Reset mails one account may be sent in an hour; more requests are
/// answered the same way and send nothing.
pub const RESETS_PER_HOUR: u64 = 3;

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

impl Directory {
    /// The account a person names on the forgot page: as at sign-in.
    fn account_named(&self, who: &str) -> CoreResult<Option<Account>> {
        self.account_signing_in(who)
    }

    /// `/forgot`: sends a reset link to the account's email and puts the
    /// account in the reset-pending state. Answers Ok whether or not such
    /// an account exists, is active, has an email, or was sent one too many
    /// links this hour: the caller shows the same page either way.
    /// `link_base` is the public URL of the pages (`https://host:8443`).
    pub fn request_password_reset(&self, who: &str, link_base: &str) -> CoreResult<()> {
        let Some(account) = self.account_named(who)? else {
            return Ok(());
        };
        let Some(email) = account.email.clone().filter(|e| !e.is_empty()) else {
            return Ok(());
        };
        if account.status != Status::Active || account.archived {
            return Ok(());
        }
        let now = Timestamp::now();
        let hour_ago = now - span(Duration::from_secs(3600));
        if self.store.resets_since(account.id, hour_ago)? >= RESETS_PER_HOUR {
            return Ok(());
        }
        let token = data_encoding::BASE64URL_NOPAD.encode(&random::bytes::<32>());
        let expires = now + span(RESET_LINK_LIFETIME);
        let link = format!("{}/reset?token=", link_base.trim_end_matches('/'));
        let message = self.reset_message(&account, &email, &link, &token, now, expires);
        self.store
            .issue_reset(account.id, &token_hash(&token), expires, &message, now)?;
        self.message_queued();
        self.audit(
            "anonymous",
            "account.reset-link",
            &account.user_name,
            &format!(
                "reset link sent to {}",
                crate::core::second_factor::masked(Channel::Email, &email)
            ),
            "ok: the account cannot sign in until the password is changed",
        );
        Ok(())
    }

    fn reset_message(
        &self,
        account: &Account,
        email: &str,
        link: &str,
        token: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> NewMessage {
        let zone = jiff::tz::TimeZone::get(&account.time_zone)
            .or_else(|_| jiff::tz::TimeZone::get(&self.default_time_zone))
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let when = |t: Timestamp| {
            t.to_zoned(zone.clone())
                .strftime("%H:%M on %-d %B %Y")
                .to_string()
        };
        let text = |token: &str| {
            format!(
                "Hello {name},\n\n\
                 A new password was asked for your account {user} at {asked} ({tz}).\n\n\
                 To set it, open this link (it works once, until {until}):\n\n{link}{token}\n\n\
                 Until you set a new password, your account cannot sign in.\n\
                 If you did not ask for this, tell your administrator.\n",
                name = account.display_name(),
                user = account.user_name,
                asked = when(now),
                tz = account.time_zone,
                until = when(expires),
            )
        };
        NewMessage {
            channel: Channel::Email,
            recipient: email.to_owned(),
            subject: "Set a new password".into(),
            body: text(token),
            audit_body: text("********"),
            account: Some(account.id),
        }
    }

    /// Whether a reset link still works (the reset page shows the form
    /// only then).
    pub fn reset_link_works(&self, token: &str) -> CoreResult<bool> {
        let now = Timestamp::now();
        Ok(self
            .store
            .reset_token(&token_hash(token))?
            .is_some_and(|t| t.spent.is_none() && t.expires > now))
    }

    /// `/reset`: spends the link and sets the new password (already checked
    /// against the policy and hashed), clears the reset state and forgets
    /// every recognised computer, all at once.
    pub fn reset_password(&self, token: &str, password: PreparedPassword) -> CoreResult<()> {
        let hash = token_hash(token);
        let owner = self
            .store
            .reset_token(&hash)?
            .map(|t| self.account_label(t.account));
        if self
            .store
            .spend_reset(&hash, &password.0, Timestamp::now())?
        {
            let name = owner.unwrap_or_default();
            self.audit(
                &name,
                "account.password",
                &name,
                "password set by reset link",
                "ok",
            );
            Ok(())
        } else {
            Err(CoreError::InvalidValue {
                field: "reset link",
                reason: "the link has expired or was already used: ask for a new one".into(),
            })
        }
    }
}
