//! Password hashing: argon2id PHC strings with configurable parameters, and
//! the hashes other directories export (`{SSHA}`, `{CRYPT}`...), which are
//! kept on import, verified as they are, and replaced by argon2id on the
//! first successful bind.
//! Hashing and verifying are CPU-heavy and run on the bounded password pool
//! (see `service.rs`), never on an async worker.

use argon2::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Params, Version};

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

    /// Whether `password` matches the stored hash: an argon2 PHC string
    /// (the parameters stored in it are used, so hashes made under older
    /// settings still verify) or an imported `{SCHEME}` hash. Outputs are
    /// compared in constant time.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match Scheme::of(stored) {
            Scheme::Argon2(phc) => verify_argon2(password, phc),
            // An imported hash is quick to check: the argon2 time is spent
            // as well, so that a wrong password for such an account answers
            // no sooner than one for a missing account (which would tell
            // that the account exists).
            Scheme::Imported(scheme, rest) => {
                let right = verify_imported(scheme, rest, password);
                self.verify_decoy(password);
                right
            }
            Scheme::Unknown => {
                self.verify_decoy(password);
                false
            }
        }
    }

    /// Spends one verification's time and answers nothing.
    pub fn verify_decoy(&self, password: &str) {
        let _ = self.verify(password, &self.decoy);
    }
}

thread_local! {
    /// The argon2 working memory of this thread (19 MiB at the default
    /// parameters), kept between verifications. Allocating it afresh for
    /// each bind let glibc's allocator keep the freed blocks of every size it
    /// had seen: a bind flood grew the daemon to 2 GiB. Kept per thread, the
    /// memory is bounded by the password pool's size.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The most argon2 memory a thread keeps between verifications: 256 MiB
/// in 1 KiB blocks.
const KEPT_BLOCKS: usize = 256 * 1024;

/// Verifies an argon2 PHC string with the parameters it names, in this
/// thread's reused memory, comparing the outputs in constant time.
fn verify_argon2(password: &str, phc: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(hash) = argon2::PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.as_bytes().len()];
    let run = |memory: &mut [argon2::Block], out: &mut [u8]| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), out, memory)
    };
    let computed = if blocks > KEPT_BLOCKS {
        // An unusually costly imported hash: its memory is not kept.
        run(&mut vec![argon2::Block::default(); blocks], &mut out)
    } else {
        ARGON2_MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            run(&mut memory[..blocks], &mut out)
        })
    };
    computed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
}

/// What kind of hash a stored password is.
#[derive(Debug, PartialEq, Eq)]
enum Scheme<'a> {
    /// An argon2 PHC string (with or without OpenLDAP's `{ARGON2}`).
    Argon2(&'a str),
    /// `{SCHEME}rest` from another directory.
    Imported(Imported, &'a str),
    Unknown,
}

/// The imported schemes dirgate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// Salted SHA-1 (OpenLDAP's default).
    Ssha,
    Sha,
    Ssha256,
    Ssha512,
    /// crypt(3): SHA-512 (`$6$`) and SHA-256 (`$5$`) crypt.
    Crypt,
}

impl Scheme<'_> {
    fn of(stored: &str) -> Scheme<'_> {
        let stored = stored.trim();
        if stored.starts_with("$argon2") {
            return Scheme::Argon2(stored);
        }
        let Some(rest) = stored.strip_prefix('{') else {
            return Scheme::Unknown;
        };
        let Some((name, value)) = rest.split_once('}') else {
            return Scheme::Unknown;
        };
        match name.to_ascii_uppercase().as_str() {
            "ARGON2" => Scheme::Argon2(value),
            "SSHA" => Scheme::Imported(Imported::Ssha, value),
            "SHA" => Scheme::Imported(Imported::Sha, value),
            "SSHA256" => Scheme::Imported(Imported::Ssha256, value),
            "SSHA512" => Scheme::Imported(Imported::Ssha512, value),
            "CRYPT" if value.starts_with("$6$") || value.starts_with("$5$") => {
                Scheme::Imported(Imported::Crypt, value)
            }
            _ => Scheme::Unknown,
        }
    }
}

/// The form an imported `userPassword` is stored in: argon2 as its bare PHC
/// string, a scheme dirgate verifies as it came; `None` for a scheme it
/// cannot verify (such an account is imported without a password).
pub fn imported_hash(value: &str) -> Option<PreparedPassword> {
    match Scheme::of(value) {
        Scheme::Argon2(phc) => Some(PreparedPassword(phc.to_owned())),
        Scheme::Imported(..) => Some(PreparedPassword(value.trim().to_owned())),
        Scheme::Unknown => None,
    }
}

/// SHA-crypt (`$6$[rounds=N$]salt$hash`, `$5$...`): recomputed with the
/// stored salt and rounds, compared in constant time. (sha-crypt's own
/// check function needs its `simple` feature, which pulls a second random
/// number generator into the build.)
fn crypt_matches(value: &str, password: &str) -> bool {
    use subtle::ConstantTimeEq;
    let mut parts = value.split('$').skip(1);
    let (Some(id), Some(second)) = (parts.next(), parts.next()) else {
        return false;
    };
    let (rounds, salt, hash) = match second.strip_prefix("rounds=") {
        Some(n) => match (n.parse::<usize>(), parts.next(), parts.next()) {
            (Ok(n), Some(salt), Some(hash)) => (n, salt, hash),
            _ => return false,
        },
        None => match parts.next() {
            Some(hash) => (sha_crypt::ROUNDS_DEFAULT, second, hash),
            None => return false,
        },
    };
    // The specification clamps rounds into its range.
    let rounds = rounds.clamp(sha_crypt::ROUNDS_MIN, sha_crypt::ROUNDS_MAX);
    let computed = match id {
        "6" => sha_crypt::Sha512Params::new(rounds).ok().and_then(|p| {
            sha_crypt::sha512_crypt_b64(password.as_bytes(), salt.as_bytes(), &p).ok()
        }),
        "5" => sha_crypt::Sha256Params::new(rounds).ok().and_then(|p| {
            sha_crypt::sha256_crypt_b64(password.as_bytes(), salt.as_bytes(), &p).ok()
        }),
        _ => None,
    };
    computed.is_some_and(|c| c.as_bytes().ct_eq(hash.as_bytes()).into())
}

/// Whether a stored hash should be replaced by argon2id at the next
/// successful bind (it came from another directory).
pub fn needs_rehash(stored: &str) -> bool {
    !matches!(Scheme::of(stored), Scheme::Argon2(_))
}

fn verify_imported(scheme: Imported, value: &str, password: &str) -> bool {
    use sha1::Sha1;
    use sha2::{Digest, Sha256, Sha512};
    use subtle::ConstantTimeEq;

    fn salted<D: Digest>(decoded: &[u8], password: &str) -> bool {
        let size = <D as Digest>::output_size();
        if decoded.len() < size {
            return false;
        }
        let (digest, salt) = decoded.split_at(size);
        let mut h = D::new();
        h.update(password.as_bytes());
        h.update(salt);
        h.finalize().as_slice().ct_eq(digest).into()
    }
    if scheme == Imported::Crypt {
        return crypt_matches(value, password);
    }
    let Ok(decoded) = data_encoding::BASE64.decode(value.trim().as_bytes()) else {
        return false;
    };
    match scheme {
        Imported::Ssha => salted::<Sha1>(&decoded, password),
        Imported::Ssha256 => salted::<Sha256>(&decoded, password),
        Imported::Ssha512 => salted::<Sha512>(&decoded, password),
        Imported::Sha => {
            let digest = Sha1::digest(password.as_bytes());
            digest.as_slice().ct_eq(&decoded).into()
        }
        Imported::Crypt => false,
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

    #[test]
    fn imported_hashes_verify_and_ask_to_be_replaced() {
        let h = PasswordHasher::new(1024, 1, 1).unwrap();
        // Made by `slappasswd -h {SSHA} -s Secret7Pass` and friends.
        let ssha = {
            use sha1::{Digest, Sha1};
            let salt = b"8bytes!!";
            let mut d = Sha1::new();
            d.update(b"Secret7Pass");
            d.update(salt);
            let mut raw = d.finalize().to_vec();
            raw.extend_from_slice(salt);
            format!("{{SSHA}}{}", data_encoding::BASE64.encode(&raw))
        };
        assert!(h.verify("Secret7Pass", &ssha));
        assert!(!h.verify("Secret7pass", &ssha));
        assert!(needs_rehash(&ssha));
        let sha = format!(
            "{{SHA}}{}",
            data_encoding::BASE64.encode(&<sha1::Sha1 as sha2::Digest>::digest(b"Secret7Pass"))
        );
        assert!(h.verify("Secret7Pass", &sha));
        // crypt(3) SHA-512: the test vector of its specification, as
        // `openssl passwd -6 -salt saltstring 'Hello world!'` prints it.
        let crypt = "{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert!(h.verify("Hello world!", crypt));
        assert!(!h.verify("Hello world", crypt));
        // argon2 with OpenLDAP's prefix is kept as a bare PHC string.
        let phc = h.hash("Secret7Pass").unwrap();
        let kept = imported_hash(&format!("{{ARGON2}}{phc}")).unwrap();
        assert_eq!(kept.0, phc);
        assert!(!needs_rehash(&kept.0));
        assert!(imported_hash("{MD5}abc").is_none());
        assert!(!h.verify("x", "{MD5}abc"));
    }
}
