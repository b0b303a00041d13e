//! Bearer tokens: issuing, resolving to an actor, listing and revoking.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::core::access::Actor;
use crate::core::error::{CoreError, CoreResult};
use crate::core::random;
use crate::model::{AccountId, TokenInfo};

use super::{usable, Directory};

/// Hex-free bearer token prefix, so a leaked token is recognisable in a scan.
const TOKEN_PREFIX: &str = "dgt_";

impl Directory {
    /// Revokes every live bearer token acting as `id`.
    pub(super) fn revoke_tokens_of(&self, id: AccountId) -> CoreResult<()> {
        let now = Timestamp::now();
        for token in self.store.list_tokens()? {
            if token.account == id && !token.revoked {
                self.store.revoke_token(token.id, now)?;
            }
        }
        Ok(())
    }

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
