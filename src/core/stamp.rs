//! A fingerprint of an account's current password, so that whatever keeps
//! a sign-in alive (a web session) can tell that the password was changed
//! since, through any face, and end it: a new password shuts out whoever
//! knew the old one.

use sha2::{Digest, Sha256};

use crate::core::access::Actor;
use crate::core::directory::Directory;
use crate::core::error::{CoreError, CoreResult};
use crate::model::AccountId;

/// Changes whenever the password is set, even to the same password (the
/// stored hash has a fresh salt each time). Not a secret, but kept in
/// memory only.
pub type PasswordStamp = [u8; 32];

impl Directory {
    /// The account behind `id` as an actor (refused when it may not act)
    /// and the stamp of its current password.
    pub fn actor_with_password_stamp(&self, id: AccountId) -> CoreResult<(Actor, PasswordStamp)> {
        let actor = self.actor(id)?;
        let hash = self
            .store
            .credentials(id)?
            .and_then(|c| c.password_hash)
            .unwrap_or_default();
        Ok((actor, Sha256::digest(hash.as_bytes()).into()))
    }

    /// The account behind a sign-in made earlier (an LDAP connection's
    /// bind), as it is now: refused when it may no longer act or when its
    /// password has changed since `stamp` was taken.
    pub fn actor_if_unchanged(&self, id: AccountId, stamp: &PasswordStamp) -> CoreResult<Actor> {
        let (actor, now) = self.actor_with_password_stamp(id)?;
        if bool::from(subtle::ConstantTimeEq::ct_eq(&now[..], &stamp[..])) {
            Ok(actor)
        } else {
            Err(CoreError::AccountUnusable("its password was changed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::directory::NewAccount;

    #[test]
    fn the_stamp_changes_with_every_new_password_only() {
        let (d, _tmp) = crate::core::test_support::directory();
        let mut new = NewAccount::named("ann");
        new.password = Some(d.prepare_password("Correct7Horse").unwrap());
        let ann = d.create_account(&Actor::System, new).unwrap();

        let (_, first) = d.actor_with_password_stamp(ann.id).unwrap();
        let change = crate::core::AccountChange {
            time_zone: Some("Europe/Paris".into()),
            ..Default::default()
        };
        d.update_account(&Actor::System, ann.id, change, None)
            .unwrap();
        assert_eq!(d.actor_with_password_stamp(ann.id).unwrap().1, first);
        let same_again = d.prepare_password("Correct7Horse").unwrap();
        d.set_password(&Actor::System, ann.id, same_again).unwrap();
        assert_ne!(d.actor_with_password_stamp(ann.id).unwrap().1, first);
    }
}
