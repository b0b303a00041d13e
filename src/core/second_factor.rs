//! The parts of a second factor that are not the bind itself: which
//! computer a bind comes from, the settings, one-time codes (made, hashed,
//! compared), and the masked addresses a bind's answer may show.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::core::random;
use crate::model::Channel;

/// Where a bind comes from, as far as recognising computers goes: the TLS
/// client certificate's SHA-256 when one was presented (it survives address
/// changes and NAT), else the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Computer {
    Address(IpAddr),
    Certificate([u8; 32]),
    /// Nothing to recognise (the command line, tests): always unrecognised.
    Unknown,
}

impl Computer {
    /// The stored name: `address:IP` or `certificate:HEX`.
    pub fn key(&self) -> Option<String> {
        match self {
            Computer::Address(ip) => Some(format!("address:{}", canonical(*ip))),
            Computer::Certificate(hash) => Some(format!(
                "certificate:{}",
                data_encoding::HEXLOWER.encode(hash)
            )),
            Computer::Unknown => None,
        }
    }
}

/// An IPv4 client seen through an IPv6 socket is the same computer.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// How second factors by message behave; from `[second_factor]` and from
/// which channels `[email]` and `[sms]` configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorSettings {
    pub code_lifetime: Duration,
    /// Wrong codes allowed before the code is dropped.
    pub code_tries: u32,
    /// No new code is sent more often than this; a bind in between is told
    /// to use the code already sent.
    pub resend_interval: Duration,
    /// How long a computer stays recognised after a two-factor bind.
    pub remember_computer: Duration,
    pub email: bool,
    pub sms: bool,
}

impl Default for SecondFactorSettings {
    fn default() -> Self {
        SecondFactorSettings {
            code_lifetime: Duration::from_secs(300),
            code_tries: 5,
            resend_interval: Duration::from_secs(60),
            remember_computer: Duration::from_secs(30 * 86_400),
            email: false,
            sms: false,
        }
    }
}

impl SecondFactorSettings {
    pub fn has(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
        }
    }
}

/// Digits in an email or SMS code (the same as an authenticator app's).
pub const CODE_DIGITS: usize = 6;

/// A fresh code: six random digits.
pub fn new_code() -> String {
    let mut bytes = [0u8; 8];
    random::fill(&mut bytes);
    let n = u64::from_le_bytes(bytes) % 10u64.pow(CODE_DIGITS as u32);
    format!("{n:0width$}", width = CODE_DIGITS)
}

/// What is stored of a code: a hash bound to the account, so one code
/// cannot be replayed against another account's row.
pub fn code_hash(account: Uuid, code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update(code.trim().as_bytes());
    h.finalize().into()
}

/// Constant-time comparison of two stored hashes.
pub fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// An address shown in a bind's answer, masked: the channel is named and
/// enough is shown for the person to know which of their addresses it is.
pub fn masked(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Email => mask_email(address),
        Channel::Sms => mask_phone(address),
    }
}

/// `jane.doe@example.com` → `j***@example.com`.
fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `+447700900123` → `+44 *** *** 123`: the country code and the last
/// three digits. Country codes are prefix-free (ITU-T E.164): 1 and 7 are
/// one digit, the two-digit ones are listed, the rest have three.
fn mask_phone(number: &str) -> String {
    const TWO_DIGIT: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let last = &digits[digits.len().saturating_sub(3)..];
    if !number.trim_start().starts_with('+') || digits.len() < 7 {
        return format!("*** *** {last}");
    }
    let cc_len = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT.iter().any(|cc| digits.starts_with(cc)) {
        2
    } else {
        3
    };
    format!("+{} *** *** {last}", &digits[..cc_len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_but_recognisable() {
        assert_eq!(masked(Channel::Sms, "+44 7700 900123"), "+44 *** *** 123");
        assert_eq!(masked(Channel::Sms, "+447700900123"), "+44 *** *** 123");
        assert_eq!(masked(Channel::Sms, "+14155550123"), "+1 *** *** 123");
        assert_eq!(masked(Channel::Sms, "+353861234567"), "+353 *** *** 567");
        assert_eq!(masked(Channel::Sms, "07700 900123"), "*** *** 123");
        assert_eq!(
            masked(Channel::Email, "jane.doe@example.com"),
            "j***@example.com"
        );
        assert!(!masked(Channel::Email, "jane.doe@example.com").contains("jane"));
    }

    #[test]
    fn codes_are_six_digits_and_hashed_per_account() {
        let code = new_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(same_hash(&code_hash(a, &code), &code_hash(a, &code)));
        assert!(!same_hash(&code_hash(a, &code), &code_hash(b, &code)));
        let codes: std::collections::HashSet<String> = (0..50).map(|_| new_code()).collect();
        assert!(codes.len() > 40, "codes repeat too often");
    }

    #[test]
    fn computers_have_stable_keys() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(Computer::Address(v4).key(), Computer::Address(mapped).key());
        assert_eq!(
            Computer::Address(v4).key().as_deref(),
            Some("address:192.0.2.7")
        );
        let cert = Computer::Certificate([0xab; 32]).key().unwrap();
        assert_eq!(cert, format!("certificate:{}", "ab".repeat(32)));
        assert_eq!(Computer::Unknown.key(), None);
    }
}
