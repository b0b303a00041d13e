//! Password hashing: argon2id PHC strings with configurable parameters.
//! Hashing and verifying are CPU-heavy and run on the bounded password pool
//! (see `service.rs`), never on an async worker.

use argon2::{Algorithm, Argon2, Params, Version};
use argon2::{PasswordHasher as _, PasswordVerifier as _};

use crate::core::error::{CoreError, CoreResult};

/// argon2id with the parameters of the configuration.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when an account does
    /// not exist, so that a bind for a missing user costs the same time as
    /// one for a real user and does not reveal which names exist.
    decoy: String,
}

/// A password that passed the policy and has been hashed. Only the core makes
/// one, so no face can store a password the policy would refuse.
#[derive(Clone)]
pub struct PreparedPassword(pub(crate) String);

impl std::fmt::Debug for PreparedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreparedPassword(..)")
    }
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> CoreResult<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| CoreError::Hashing(format!("argon2 parameters: {e}")))?;
        let mut hasher = PasswordHasher {
            params,
            decoy: String::new(),
        };
        let mut random = [0u8; 24];
        crate::core::random::fill(&mut random);
        hasher.decoy = hasher.hash(&data_encoding::BASE64URL_NOPAD.encode(&random))?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new PHC string with a fresh random salt.
    pub fn hash(&self, password: &str) -> CoreResult<String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Hashing(e.to_string()))
    }

    /// Whether `password` matches `phc`. The parameters stored in the PHC
    /// string are used, so hashes made under older settings still verify.
    /// argon2's verifier compares the outputs in constant time.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.argon2()
            .verify_password(password.as_bytes(), phc)
            .is_ok()
    }

    /// Spends one verification's time and answers nothing.
    pub fn verify_decoy(&self, password: &str) {
        let _ = self.verify(password, &self.decoy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = PasswordHasher::new(1024, 1, 1).unwrap();
        let phc = h.hash("Correct7Horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{phc}");
        assert!(h.verify("Correct7Horse", &phc));
        assert!(!h.verify("correct7horse", &phc));
        assert!(!h.verify("Correct7Horse", "not a phc string"));
        // The same password hashes differently each time (random salt).
        assert_ne!(phc, h.hash("Correct7Horse").unwrap());
    }

    #[test]
    fn old_parameters_still_verify() {
        let old = PasswordHasher::new(2048, 2, 1).unwrap();
        let phc = old.hash("Correct7Horse").unwrap();
        let new = PasswordHasher::new(1024, 1, 1).unwrap();
        assert!(new.verify("Correct7Horse", &phc));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(PasswordHasher::new(1, 0, 1).is_err());
    }
}
