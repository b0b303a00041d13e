//! Authenticator-app codes: TOTP (RFC 6238) with SHA-1, 6 digits and 30 s
//! steps, which every authenticator app speaks. totp-lite computes a code;
//! the skew window, the constant-time comparison and the base32 of otpauth
//! URIs are ours (it has none of them).

use subtle::ConstantTimeEq as _;
use totp_lite::{totp_custom, Sha1};

pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;
/// One step either way: a phone clock a little off still works.
const SKEW_STEPS: i64 = 1;

/// A new 160-bit secret (the size RFC 4226 recommends).
pub fn new_secret() -> Vec<u8> {
    crate::core::random::bytes::<20>().to_vec()
}

pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, user_name: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", percent(issuer), percent(user_name));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32(secret),
        percent(issuer)
    )
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The code for time step `step`.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let time = u64::try_from(step).unwrap_or(0) * STEP_SECS;
    totp_custom::<Sha1>(STEP_SECS, DIGITS as u32, secret, time)
}

pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS as i64)
}

/// The time step whose code equals `code`, within the skew window around
/// `unix_secs`. Every candidate is compared, in constant time, so the time
/// taken says nothing about which part matched.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let now = step_of(unix_secs);
    let mut found = None;
    for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
        let expected = code_at_step(secret, step);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Splits a bind credential into the password and a trailing one-time code:
/// the last six characters when they are digits, with one `;` before them
/// dropped. `None` when there is no code at the end.
pub fn split_credential(credential: &str) -> Option<(&str, &str)> {
    let len = credential.len();
    if len <= DIGITS {
        return None;
    }
    let (head, code) = credential.split_at(len - DIGITS);
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let password = head.strip_suffix(';').unwrap_or(head);
    if password.is_empty() {
        return None;
    }
    Some((password, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to the 6 digits apps show.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, code8) in [
            (59i64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at_step(secret, step_of(time)), &code8[2..], "t={time}");
        }
    }

    #[test]
    fn skew_window_is_one_step_each_way() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let step = step_of(now);
        for (offset, ok) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at_step(secret, step + offset);
            assert_eq!(
                matching_step(secret, &code, now) == Some(step + offset),
                ok,
                "offset {offset}"
            );
        }
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn credentials_split_with_and_without_semicolon() {
        assert_eq!(
            split_credential("Secret7;123456"),
            Some(("Secret7", "123456"))
        );
        assert_eq!(
            split_credential("Secret7123456"),
            Some(("Secret7", "123456"))
        );
        // A password that itself ends in digits keeps them.
        assert_eq!(
            split_credential("Pass2024;123456"),
            Some(("Pass2024", "123456"))
        );
        assert_eq!(split_credential("Secret7"), None);
        assert_eq!(split_credential("123456"), None);
        assert_eq!(split_credential("Secret7;12345x"), None);
    }

    #[test]
    fn otpauth_uri_is_scannable() {
        let uri = otpauth_uri("dirgate", "alice", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/dirgate:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=dirgate&algorithm=SHA1&digits=6&period=30"
        );
    }
}
