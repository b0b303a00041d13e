//! Field rules of the account model: user names, the password policy, time
//! zones, email addresses and phone numbers. Pure functions, no store.

use std::fmt;

use crate::core::error::{CoreError, CoreResult};
use crate::model::Attribute;

/// Longest accepted user name; LDAP RDNs and SCIM ids stay readable.
pub const MAX_USER_NAME: usize = 64;
/// Longest accepted password, in bytes: argon2 hashes anything, but a
/// megabyte "password" is an attack on the hashing pool, not a secret.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// User names hold letters and digits only (the manual). ASCII only, so that
/// "unique ignoring case" means the same thing in SQLite, LDAP and SCIM.
pub fn user_name(name: &str) -> CoreResult<()> {
    let fail = |reason| {
        Err(CoreError::InvalidUserName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_USER_NAME {
        return fail("it is longer than 64 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return fail("it may contain only letters and digits");
    }
    Ok(())
}

/// Longest accepted login name (SCIM `userName`) and external id, in bytes.
pub const MAX_LOGIN_NAME: usize = 256;
pub const MAX_EXTERNAL_ID: usize = 512;

/// A login name (what an identity provider calls the account): any
/// characters but control characters (RFC 7643 section 4.1.1), not empty,
/// bounded.
pub fn login_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    let fail = |reason: &str| {
        Err(CoreError::InvalidValue {
            field: "userName",
            reason: reason.into(),
        })
    };
    if name.is_empty() {
        return fail("is empty");
    }
    if name.len() > MAX_LOGIN_NAME {
        return fail("is longer than 256 bytes");
    }
    if name.chars().any(char::is_control) {
        return fail("contains control characters");
    }
    Ok(name.to_owned())
}

/// The user name derived from a login name that is not one: the part
/// before the last `@`, its ASCII letters and digits kept, at most
/// `MAX_USER_NAME` minus room for `suffix`, then `suffix` (the number that
/// makes it free, from 2 on; none for the first try). Never empty: a login
/// with no letter or digit there becomes `user`.
/// `Jo.Young@contoso.com` gives `JoYoung`, then `JoYoung2`, `JoYoung3`.
pub fn derived_user_name(login: &str, suffix: Option<u32>) -> String {
    let local = login.rsplit_once('@').map_or(login, |(local, _)| local);
    let mut base: String = local.chars().filter(char::is_ascii_alphanumeric).collect();
    if base.is_empty() {
        base = "user".to_owned();
    }
    let tail = suffix.map(|n| n.to_string()).unwrap_or_default();
    base.truncate(MAX_USER_NAME - tail.len());
    base + &tail
}

/// An external id (SCIM `externalId`): set by the identity provider, kept
/// exactly, bounded.
pub fn external_id(value: &str) -> CoreResult<String> {
    if value.len() > MAX_EXTERNAL_ID {
        return Err(CoreError::InvalidValue {
            field: "externalId",
            reason: format!("is longer than {MAX_EXTERNAL_ID} bytes"),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(CoreError::InvalidValue {
            field: "externalId",
            reason: "contains control characters".into(),
        });
    }
    Ok(value.to_owned())
}

/// A directory attribute's value: trimmed, bounded by the attribute's
/// limit, no control characters (line breaks only where the attribute
/// spans lines). Empty means no value.
pub fn attribute(attr: Attribute, value: &str) -> CoreResult<Option<String>> {
    let value = value.trim();
    let field = attr.display_name();
    if value.len() > attr.max_len() {
        return Err(CoreError::InvalidValue {
            field,
            reason: format!("is longer than {} bytes", attr.max_len()),
        });
    }
    let allowed = |c: char| attr.multi_line() && (c == '\n' || c == '\r');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(CoreError::InvalidValue {
            field,
            reason: "contains control characters".into(),
        });
    }
    if value.is_empty() {
        return Ok(None);
    }
    if attr.is_number() {
        // RFC 2307 numbers: 0 and up to 2^31 - 1, the range every libc
        // handles; canonical decimal, so equality is on the number.
        let n: i64 = value.parse().map_err(|_| CoreError::InvalidValue {
            field,
            reason: "must be a whole number".into(),
        })?;
        if !(0..=i64::from(i32::MAX)).contains(&n) {
            return Err(CoreError::InvalidValue {
                field,
                reason: format!("must be between 0 and {}", i32::MAX),
            });
        }
        return Ok(Some(n.to_string()));
    }
    if attr.is_path() && (!value.starts_with('/') || value.contains(':')) {
        return Err(CoreError::InvalidValue {
            field,
            reason: "must be an absolute path without ':'".into(),
        });
    }
    if attr == Attribute::Gecos && value.contains(':') {
        return Err(CoreError::InvalidValue {
            field,
            reason: "must not contain ':'".into(),
        });
    }
    if attr == Attribute::SshPublicKeys {
        for key in attr.values(value) {
            let mut parts = key.split_whitespace();
            let (Some(kind), Some(_)) = (parts.next(), parts.next()) else {
                return Err(CoreError::InvalidValue {
                    field,
                    reason: "each line must be an OpenSSH public key (type, key, comment)".into(),
                });
            };
            if !(kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-"))
            {
                return Err(CoreError::InvalidValue {
                    field,
                    reason: format!("{kind:?} is not an OpenSSH key type"),
                });
            }
        }
        return Ok(Some(attr.values(value).join("\n")));
    }
    Ok(Some(value.to_owned()))
}

/// One rule of the password policy, named so an error can say which failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    MinLength(usize),
    MaxLength,
    Uppercase,
    Lowercase,
    Digit,
    NoWordPassword,
}

impl fmt::Display for PasswordRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordRule::MinLength(n) => write!(f, "it must be at least {n} characters long"),
            PasswordRule::MaxLength => write!(f, "it must be at most {MAX_PASSWORD_BYTES} bytes"),
            PasswordRule::Uppercase => f.write_str("it must contain an upper-case letter"),
            PasswordRule::Lowercase => f.write_str("it must contain a lower-case letter"),
            PasswordRule::Digit => f.write_str("it must contain a digit"),
            PasswordRule::NoWordPassword => {
                f.write_str("it must not contain the word \"password\" in any letter case")
            }
        }
    }
}

/// The password policy of the user-roles manual, plus a configurable length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min_length: 8 }
    }
}

impl PasswordPolicy {
    /// Every rule the password breaks, in a fixed order; empty when it passes.
    pub fn violations(&self, password: &str) -> Vec<PasswordRule> {
        let mut broken = Vec::new();
        if password.chars().count() < self.min_length {
            broken.push(PasswordRule::MinLength(self.min_length));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            broken.push(PasswordRule::MaxLength);
        }
        if !password.chars().any(char::is_uppercase) {
            broken.push(PasswordRule::Uppercase);
        }
        if !password.chars().any(char::is_lowercase) {
            broken.push(PasswordRule::Lowercase);
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            broken.push(PasswordRule::Digit);
        }
        if password.to_lowercase().contains("password") {
            broken.push(PasswordRule::NoWordPassword);
        }
        broken
    }

    pub fn check(&self, password: &str) -> CoreResult<()> {
        let broken = self.violations(password);
        if broken.is_empty() {
            Ok(())
        } else {
            Err(CoreError::PasswordPolicy(broken))
        }
    }
}

/// An IANA time zone name, checked against the bundled tz database.
pub fn time_zone(name: &str) -> CoreResult<()> {
    if name.is_empty() || name.len() > 64 || jiff::tz::TimeZone::get(name).is_err() {
        return Err(CoreError::InvalidTimeZone(name.to_owned()));
    }
    Ok(())
}

/// A deliberately plain address check: one `@`, something each side, no
/// spaces, and a dot or `localhost` in the domain. Delivery is the real test.
pub fn email(address: &str) -> CoreResult<String> {
    let address = address.trim();
    let bad = |reason: &str| CoreError::InvalidValue {
        field: "email",
        reason: format!("{address:?} {reason}"),
    };
    if address.len() > 254 {
        return Err(bad("is longer than 254 characters"));
    }
    let (local, domain) = address.split_once('@').ok_or_else(|| bad("has no @"))?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(bad("is not of the form name@domain"));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains spaces or control characters"));
    }
    if !(domain.contains('.') || domain.eq_ignore_ascii_case("localhost"))
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad("has no valid domain"));
    }
    Ok(address.to_owned())
}

/// A mobile number for SMS: digits with an optional leading `+`; spaces,
/// dashes, dots and brackets are dropped. Returned in that normal form.
pub fn mobile(number: &str) -> CoreResult<String> {
    let bad = |reason: &str| CoreError::InvalidValue {
        field: "mobile phone",
        reason: format!("{number:?} {reason}"),
    };
    let trimmed = number.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(bad(
                    "may contain only digits, spaces, dashes and a leading +",
                ))
            }
        }
    }
    if !(6..=15).contains(&digits.len()) {
        return Err(bad("must have between 6 and 15 digits"));
    }
    Ok(format!("{plus}{digits}"))
}

/// Names of groups and business entities: printable, no leading or trailing
/// space, and none of the characters that would need escaping in an LDAP DN.
pub fn node_name(name: &str) -> CoreResult<()> {
    let bad = |reason: &str| CoreError::InvalidValue {
        field: "group name",
        reason: format!("{name:?} {reason}"),
    };
    if name.trim().is_empty() {
        return Err(bad("is empty"));
    }
    if name.len() > 128 {
        return Err(bad("is longer than 128 bytes"));
    }
    if name != name.trim() {
        return Err(bad("starts or ends with a space"));
    }
    if name.chars().any(|c| {
        c.is_control() || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' | '#')
    }) {
        return Err(bad(
            "contains a control character or one of , + \" \\ < > ; = #",
        ));
    }
    Ok(())
}

/// Free text such as first and last names: no control characters, bounded.
pub fn text(field: &'static str, value: &str) -> CoreResult<String> {
    let value = value.trim();
    if value.len() > 256 {
        return Err(CoreError::InvalidValue {
            field,
            reason: "is longer than 256 bytes".into(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(CoreError::InvalidValue {
            field,
            reason: "contains control characters".into(),
        });
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_user_names_follow_the_documented_rule() {
        assert_eq!(derived_user_name("Jo.Young@contoso.com", None), "JoYoung");
        assert_eq!(
            derived_user_name("Jo.Young@contoso.com", Some(2)),
            "JoYoung2"
        );
        assert_eq!(derived_user_name("first.last", None), "firstlast");
        assert_eq!(derived_user_name("a@b@example.org", None), "ab");
        assert_eq!(derived_user_name("..@x", None), "user");
        assert_eq!(derived_user_name("élodie.ça@x", None), "lodiea");
        let long = "a".repeat(100) + "@x";
        assert_eq!(derived_user_name(&long, None).len(), MAX_USER_NAME);
        let numbered = derived_user_name(&long, Some(12));
        assert_eq!(numbered.len(), MAX_USER_NAME);
        assert!(numbered.ends_with("12"));
        for login in ["Jo.Young@contoso.com", "..@x", &long] {
            assert!(user_name(&derived_user_name(login, Some(99))).is_ok());
        }
    }

    #[test]
    fn attribute_values_are_bounded_and_single_line_unless_addresses() {
        assert_eq!(
            attribute(Attribute::Title, "  Engineer ").ok(),
            Some(Some("Engineer".into()))
        );
        assert_eq!(attribute(Attribute::Title, "   ").ok(), Some(None));
        assert!(attribute(Attribute::Title, &"x".repeat(257)).is_err());
        assert!(attribute(Attribute::Title, "a\nb").is_err());
        assert!(attribute(Attribute::AddressFormatted, "1 Road\nTown").is_ok());
        assert_eq!(
            attribute(Attribute::UidNumber, " 010001 ").ok(),
            Some(Some("10001".into()))
        );
        assert!(attribute(Attribute::UidNumber, "-1").is_err());
        assert!(attribute(Attribute::GidNumber, "x").is_err());
        assert!(attribute(Attribute::HomeDirectory, "home/x").is_err());
        assert!(attribute(Attribute::LoginShell, "/bin/bash").is_ok());
        assert!(attribute(Attribute::SshPublicKeys, "ssh-ed25519 AAAA a\nbogus").is_err());
        assert!(external_id(&"x".repeat(MAX_EXTERNAL_ID + 1)).is_err());
        assert!(login_name("Jo.Young@contoso.com").is_ok());
        assert!(login_name("").is_err());
        assert!(login_name("a\u{0}b").is_err());
    }

    #[test]
    fn user_names() {
        let cases: &[(&str, bool)] = &[
            ("alice", true),
            ("Alice42", true),
            ("42", true),
            ("", false),
            ("al ice", false),
            ("al.ice", false),
            ("al_ice", false),
            ("alice@example.com", false),
            ("ålice", false),
            (&"a".repeat(64), true),
            (&"a".repeat(65), false),
        ];
        for (name, ok) in cases {
            assert_eq!(user_name(name).is_ok(), *ok, "{name:?}");
        }
        let err = user_name("a-b").unwrap_err().to_string();
        assert!(err.contains("only letters and digits"), "{err}");
    }

    #[test]
    fn password_policy_names_each_broken_rule() {
        use PasswordRule::*;
        let policy = PasswordPolicy { min_length: 10 };
        let cases: &[(&str, &[PasswordRule])] = &[
            ("Correct7Horse", &[]),
            ("short1A", &[MinLength(10)]),
            ("alllowercase1", &[Uppercase]),
            ("ALLUPPERCASE1", &[Lowercase]),
            ("NoDigitsHereAtAll", &[Digit]),
            ("MyPassWord123", &[NoWordPassword]),
            ("xPASSWORDx9", &[NoWordPassword]),
            ("pass", &[MinLength(10), Uppercase, Digit]),
            ("", &[MinLength(10), Uppercase, Lowercase, Digit]),
        ];
        for (pw, expected) in cases {
            assert_eq!(policy.violations(pw), expected.to_vec(), "{pw:?}");
        }
        let err = policy.check("MyPassWord123").unwrap_err().to_string();
        assert!(err.contains("\"password\""), "{err}");
        let long = format!("Aa1{}", "x".repeat(MAX_PASSWORD_BYTES));
        assert_eq!(policy.violations(&long), vec![MaxLength]);
    }

    #[test]
    fn time_zones_are_iana_names() {
        for ok in ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"] {
            assert!(time_zone(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Mars/Olympus",
            "Europe/Londn",
            "../../etc/passwd",
            "GMT+25",
        ] {
            let err = time_zone(bad).unwrap_err();
            assert!(matches!(err, CoreError::InvalidTimeZone(_)), "{bad}");
        }
    }

    #[test]
    fn emails_and_mobiles() {
        assert_eq!(email(" a@example.com ").unwrap(), "a@example.com");
        assert!(email("root@localhost").is_ok());
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a b@c.com",
            "a@b@c.com",
            "a@nodot",
            "a@.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(mobile("+44 (0) 7700-900 123").unwrap(), "+4407700900123");
        assert_eq!(mobile("07700900123").unwrap(), "07700900123");
        for bad in [
            "",
            "+",
            "12345",
            "+44 7700 9001 2345 678",
            "call me",
            "+44x",
        ] {
            assert!(mobile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn node_names() {
        assert!(node_name("Sales EMEA").is_ok());
        for bad in ["", " x", "x ", "a,b", "a=b", "a\nb", "a+b"] {
            assert!(node_name(bad).is_err(), "{bad:?}");
        }
    }
}
