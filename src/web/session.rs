//! Signed-in sessions and CSRF tokens.
//!
//! A session is a random 256-bit id in a `Secure; HttpOnly; SameSite=Strict`
//! cookie; the server keeps only the id's SHA-256, in memory, with the
//! account, a per-session CSRF token and a pending authenticator secret.
//! Sessions end after a quiet spell, at sign-out, or when the account
//! changes its password elsewhere.
//!
//! Before sign-in (the forgot, reset and sign-in forms) the CSRF token is a
//! signed double-submit token: a random nonce and its HMAC-SHA256 under a
//! key made at start, in a cookie and in the form; both must be there,
//! equal, and carry a valid signature.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use hyper::header::COOKIE;
use hyper::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::random;
use crate::core::stamp::PasswordStamp;
use crate::model::AccountId;

/// The session cookie. `__Host-`: only from a secure origin, no Domain,
/// path `/`, so no neighbour site can set or read it.
pub const SESSION_COOKIE: &str = "__Host-dirgate-session";
/// The pre-sign-in CSRF cookie.
pub const CSRF_COOKIE: &str = "__Host-dirgate-csrf";
/// A session with no request for this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(15 * 60);
/// Above this many sessions, ended ones are dropped at the next sign-in.
const PRUNE_ABOVE: usize = 10_000;

fn encode(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

type HmacSha256 = Hmac<Sha256>;

/// A key of SHA-256's block size: HMAC uses it as it is.
type MacKey = [u8; 64];

fn mac(key: &MacKey) -> HmacSha256 {
    <HmacSha256 as Mac>::new(&(*key).into())
}

/// RFC 2104 HMAC with SHA-256.
#[cfg(test)]
fn hmac_sha256(key: &MacKey, message: &[u8]) -> [u8; 32] {
    let mut m = mac(key);
    m.update(message);
    m.finalize().into_bytes().into()
}

/// Constant-time equality of two strings (their lengths may show).
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// What a page needs of a live session.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: String,
    pub account: AccountId,
    /// The account's password when the session began (or last changed it).
    pub stamp: PasswordStamp,
    pub csrf: String,
    pub pending_totp: Option<Vec<u8>>,
}

struct Session {
    account: AccountId,
    stamp: PasswordStamp,
    csrf: String,
    pending_totp: Option<Vec<u8>>,
    last_seen: Instant,
}

pub struct Sessions {
    key: MacKey,
    idle: Duration,
    live: Mutex<HashMap<[u8; 32], Session>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(SESSION_IDLE)
    }
}

impl Sessions {
    pub fn new(idle: Duration) -> Self {
        Sessions {
            key: random::bytes::<64>(),
            idle,
            live: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session for `account`; its id goes into the cookie.
    pub fn create(&self, account: AccountId, stamp: PasswordStamp) -> SessionView {
        let id = encode(&random::bytes::<32>());
        let csrf = encode(&random::bytes::<32>());
        let now = Instant::now();
        let mut live = self.lock();
        if live.len() > PRUNE_ABOVE {
            let idle = self.idle;
            live.retain(|_, s| now.duration_since(s.last_seen) < idle);
        }
        live.insert(
            digest(&id),
            Session {
                account,
                stamp,
                csrf: csrf.clone(),
                pending_totp: None,
                last_seen: now,
            },
        );
        SessionView {
            id,
            account,
            stamp,
            csrf,
            pending_totp: None,
        }
    }

    /// The live session with this id, its idle clock restarted; an expired
    /// one is dropped.
    pub fn get(&self, id: &str) -> Option<SessionView> {
        let key = digest(id);
        let now = Instant::now();
        let mut live = self.lock();
        let session = live.get_mut(&key)?;
        if now.duration_since(session.last_seen) >= self.idle {
            live.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(SessionView {
            id: id.to_owned(),
            account: session.account,
            stamp: session.stamp,
            csrf: session.csrf.clone(),
            pending_totp: session.pending_totp.clone(),
        })
    }

    /// Sets or clears the authenticator secret waiting for its first code.
    pub fn set_pending_totp(&self, id: &str, secret: Option<Vec<u8>>) {
        if let Some(s) = self.lock().get_mut(&digest(id)) {
            s.pending_totp = secret;
        }
    }

    /// Records the password this session itself just set.
    pub fn set_stamp(&self, id: &str, stamp: PasswordStamp) {
        if let Some(s) = self.lock().get_mut(&digest(id)) {
            s.stamp = stamp;
        }
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(&digest(id));
    }

    /// Ends every session of `account` but the one with id `keep`.
    pub fn end_others(&self, account: AccountId, keep: &str) {
        let keep = digest(keep);
        self.lock()
            .retain(|key, s| s.account != account || *key == keep);
    }

    /// A fresh signed token for the pre-sign-in forms.
    pub fn new_form_token(&self) -> String {
        let nonce = random::bytes::<32>();
        let mut m = mac(&self.key);
        m.update(&nonce);
        format!("{}.{}", encode(&nonce), encode(&m.finalize().into_bytes()))
    }

    /// Whether `token` is one this server signed.
    pub fn form_token_valid(&self, token: &str) -> bool {
        let Some((nonce, mac)) = token.split_once('.') else {
            return false;
        };
        let codec = data_encoding::BASE64URL_NOPAD;
        let (Ok(nonce), Ok(mac)) = (codec.decode(nonce.as_bytes()), codec.decode(mac.as_bytes()))
        else {
            return false;
        };
        if nonce.len() != 32 {
            return false;
        }
        let mut check = self::mac(&self.key);
        check.update(&nonce);
        // verify_slice compares in constant time.
        check.verify_slice(&mac).is_ok()
    }

    /// The pre-sign-in check: the form's token equals the cookie's, and
    /// the server signed it.
    pub fn form_token_matches(&self, headers: &HeaderMap, field: &str) -> bool {
        match cookie(headers, CSRF_COOKIE) {
            Some(cookie) => same(&cookie, field) && self.form_token_valid(field),
            None => false,
        }
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value for a secure, script-proof, same-site cookie;
/// `None` deletes it.
pub fn set_cookie(name: &str, value: Option<&str>) -> String {
    let attributes = "Path=/; Secure; HttpOnly; SameSite=Strict";
    match value {
        Some(v) => format!("{name}={v}; {attributes}"),
        None => format!("{name}=; Max-Age=0; {attributes}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn hmac_matches_rfc4231() {
        // RFC 4231 test case 2; HMAC pads a short key with zeros, so the
        // 4-byte key padded to 64 bytes gives the same MAC.
        let mut key = [0u8; 64];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, b"what do ya want for nothing?");
        assert_eq!(
            data_encoding::HEXLOWER.encode(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sessions_live_until_idle_or_ended() {
        let s = Sessions::new(Duration::from_secs(60));
        let a = s.create(7, [0; 32]);
        assert_eq!(s.get(&a.id).map(|v| v.account), Some(7));
        assert!(s.get("not-a-session").is_none());
        s.set_pending_totp(&a.id, Some(vec![1, 2]));
        assert_eq!(s.get(&a.id).and_then(|v| v.pending_totp), Some(vec![1, 2]));
        let b = s.create(7, [0; 32]);
        s.end_others(7, &b.id);
        assert!(s.get(&a.id).is_none());
        assert!(s.get(&b.id).is_some());
        s.end(&b.id);
        assert!(s.get(&b.id).is_none());

        let quick = Sessions::new(Duration::ZERO);
        let c = quick.create(1, [0; 32]);
        assert!(quick.get(&c.id).is_none());
    }

    #[test]
    fn form_tokens_are_signed_and_double_submitted() {
        let s = Sessions::default();
        let t = s.new_form_token();
        assert!(s.form_token_valid(&t));
        assert!(!s.form_token_valid("abc.def"));
        assert!(!Sessions::default().form_token_valid(&t), "another key");
        let mut headers = HeaderMap::new();
        assert!(!s.form_token_matches(&headers, &t));
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("x=1; {CSRF_COOKIE}={t}")).unwrap(),
        );
        assert!(s.form_token_matches(&headers, &t));
        assert!(!s.form_token_matches(&headers, ""));
        assert!(!s.form_token_matches(&headers, &s.new_form_token()));
    }
}
