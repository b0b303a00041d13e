//! Enrolling an authenticator app: a new secret is stored only once the
//! person has shown one good code from it, and that code is then spent, so
//! it cannot also open a bind (DESIGN.md: "a used code is not accepted
//! twice").

use jiff::Timestamp;

use crate::core::access::Actor;
use crate::core::directory::Directory;
use crate::core::error::{CoreError, CoreResult};
use crate::core::totp;
use crate::model::AccountId;

impl Directory {
    /// Stores `secret` as the account's authenticator secret (one's own,
    /// or a sub-user's) if `code` is its current code, and spends that
    /// code. A wrong code changes nothing.
    pub fn confirm_totp_enrolment(
        &self,
        actor: &Actor,
        id: AccountId,
        secret: Vec<u8>,
        code: &str,
    ) -> CoreResult<()> {
        let Some(step) = totp::matching_step(&secret, code.trim(), Timestamp::now().as_second())
        else {
            return Err(CoreError::InvalidValue {
                field: "one-time code",
                reason: "it is not the code the app shows now".into(),
            });
        };
        self.set_totp_secret(actor, id, Some(secret))?;
        // A new secret starts the used steps afresh, so this records.
        self.store.use_totp_step(id, step)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::directory::{AuthError, NewAccount};
    use crate::model::AuthMethod;

    #[test]
    fn a_good_code_enrols_and_is_spent() {
        let (d, _tmp) = crate::core::test_support::directory();
        let mut new = NewAccount::named("ann");
        new.password = Some(d.prepare_password("Correct7Horse").unwrap());
        new.auth_method = AuthMethod::TwoFactorApp;
        let ann = d.create_account(&Actor::System, new).unwrap();
        let me = d.actor(ann.id).unwrap();

        let secret = totp::new_secret();
        let now = Timestamp::now().as_second();
        let code = totp::code_at_step(&secret, totp::step_of(now));
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(matches!(
            d.confirm_totp_enrolment(&me, ann.id, secret.clone(), wrong),
            Err(CoreError::InvalidValue { .. })
        ));
        assert!(!d.actor(ann.id).unwrap().account().unwrap().totp_enrolled);

        d.confirm_totp_enrolment(&me, ann.id, secret.clone(), &code)
            .unwrap();
        assert!(d.actor(ann.id).unwrap().account().unwrap().totp_enrolled);
        // The enrolment code does not open a bind afterwards.
        assert!(matches!(
            d.authenticate("ann", &format!("Correct7Horse;{code}")),
            Err(AuthError::InvalidCode)
        ));
    }
}
