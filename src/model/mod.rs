//! The vocabulary the directory core and the store both speak, and that
//! uses neither: the account model of `DESIGN.md` (what an account, a node
//! of the organisation tree and a bearer token are; plain data, the rules
//! that act on it live in `core/access.rs` and `core/validate.rs`), the
//! query language (`query`) and what part of the directory a read may
//! return (`visibility`).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use uuid::Uuid;

pub mod query;
mod visibility;

pub use visibility::{Page, Visibility};

/// Row id of an account in the store. Never reused: accounts are never deleted.
pub type AccountId = i64;
/// Row id of a business entity or group.
pub type NodeId = i64;

/// Declares an enum with a stable storage name and a display name for each
/// variant, and `FromStr` accepting either (ignoring case and separators),
/// so the CLI, config, LDAP and SCIM all spell the values the same way.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $stored:literal, $display:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The name stored in the database and used on every face.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $stored),+ }
            }
            /// The name a person reads, as the manuals spell it.
            pub fn display_name(self) -> &'static str {
                match self { $($name::$variant => $display),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = squash(s);
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| squash(v.as_str()) == wanted || squash(v.display_name()) == wanted)
                    .ok_or_else(|| UnknownValue {
                        kind: stringify!($name),
                        value: s.to_owned(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

/// Lower-cases and drops spaces, dashes and underscores, so that
/// "Two Factor SMS Everytime", "two-factor-sms-every-time" and
/// "twoFactorSmsEveryTime" are one value.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A value that names none of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

named_enum! {
    /// The manual's account types, from most to least powerful.
    AccountType {
        Administrator = "administrator", "Administrator";
        RemoteAssistanceTechnician = "remote-assistance-technician", "Remote Assistance Technician";
        ReportReader = "report-reader", "Report Reader";
    }
}

impl AccountType {
    /// Higher is more powerful; nobody sets a type above their own.
    pub fn rank(self) -> u8 {
        match self {
            AccountType::Administrator => 3,
            AccountType::RemoteAssistanceTechnician => 2,
            AccountType::ReportReader => 1,
        }
    }
    /// Only Administrators change anything beyond their own self-service data.
    pub fn may_write(self) -> bool {
        self == AccountType::Administrator
    }
    /// The remote-assistance right carried as a directory attribute.
    pub fn remote_assistance(self) -> bool {
        matches!(
            self,
            AccountType::Administrator | AccountType::RemoteAssistanceTechnician
        )
    }
}

named_enum! {
    /// How an account proves who it is (the manual's five, plus an app).
    AuthMethod {
        Password = "password", "Password";
        TwoFactorEmail = "two-factor-email", "Two Factor Email";
        TwoFactorEmailEveryTime = "two-factor-email-every-time", "Two Factor Email Everytime";
        TwoFactorSms = "two-factor-sms", "Two Factor SMS";
        TwoFactorSmsEveryTime = "two-factor-sms-every-time", "Two Factor SMS Everytime";
        TwoFactorApp = "two-factor-app", "Two Factor App";
    }
}

named_enum! {
    /// Where a message goes: a one-time code or a reset link.
    Channel {
        Email = "email", "email";
        Sms = "sms", "SMS";
    }
}

impl AuthMethod {
    /// The channel an email or SMS method sends its codes through.
    pub fn channel(self) -> Option<Channel> {
        match self {
            AuthMethod::TwoFactorEmail | AuthMethod::TwoFactorEmailEveryTime => {
                Some(Channel::Email)
            }
            AuthMethod::TwoFactorSms | AuthMethod::TwoFactorSmsEveryTime => Some(Channel::Sms),
            AuthMethod::Password | AuthMethod::TwoFactorApp => None,
        }
    }

    pub fn is_two_factor(self) -> bool {
        self != AuthMethod::Password
    }
    /// "Every time" methods ask for a code on every bind, the others only
    /// from an unrecognised computer. The app asks every time: a TOTP costs
    /// the user nothing to produce.
    pub fn every_time(self) -> bool {
        matches!(
            self,
            AuthMethod::TwoFactorEmailEveryTime
                | AuthMethod::TwoFactorSmsEveryTime
                | AuthMethod::TwoFactorApp
        )
    }
}

named_enum! {
    /// Accounts are never deleted; they are switched off.
    Status {
        Active = "active", "Active";
        Inactive = "inactive", "Inactive";
    }
}

named_enum! {
    /// The two specially designated levels of the user-roles manual.
    AdminLevel {
        None = "none", "None";
        AccountAdmin = "account-admin", "Account Admin";
        SuperAdmin = "super-admin", "Super Admin";
    }
}

named_enum! {
    /// A node of the organisation tree.
    NodeKind {
        BusinessEntity = "business-entity", "Business Entity";
        Group = "group", "Group";
    }
}

named_enum! {
    /// The directory attributes identity providers send and applications
    /// read, beyond the manuals' fields: text, one value each, bounded in
    /// length; the POSIX ones of Linux hosts (RFC 2307) also have the
    /// rules of `validate::attribute` and `core::posix` (numbers, paths,
    /// OpenSSH keys one a line). Every face maps them
    /// through one table of its own (`scim/attributes.rs`,
    /// `ldap/attributes.rs`); the store keeps each in a column named by
    /// its stored name.
    Attribute {
        DisplayName = "display_name", "Display Name";
        NameFormatted = "name_formatted", "Formatted Name";
        Title = "title", "Title";
        PreferredLanguage = "preferred_language", "Preferred Language";
        WorkPhone = "work_phone", "Work Phone";
        Fax = "fax", "Fax";
        AddressFormatted = "address_formatted", "Work Address";
        StreetAddress = "street_address", "Street Address";
        Locality = "locality", "City";
        Region = "region", "State or Region";
        PostalCode = "postal_code", "Postal Code";
        Country = "country", "Country";
        EmployeeNumber = "employee_number", "Employee Number";
        Department = "department", "Department";
        CostCenter = "cost_center", "Cost Center";
        Organization = "organization", "Organization";
        Division = "division", "Division";
        UidNumber = "uid_number", "UID Number";
        GidNumber = "gid_number", "GID Number";
        HomeDirectory = "home_directory", "Home Directory";
        LoginShell = "login_shell", "Login Shell";
        Gecos = "gecos", "GECOS";
        SshPublicKeys = "ssh_public_keys", "SSH Public Keys";
    }
}

impl Attribute {
    /// The longest value accepted, in bytes.
    pub fn max_len(self) -> usize {
        match self {
            Attribute::AddressFormatted | Attribute::StreetAddress => 1024,
            Attribute::PreferredLanguage => 64,
            Attribute::UidNumber | Attribute::GidNumber => 10,
            Attribute::HomeDirectory | Attribute::LoginShell => 4096,
            Attribute::SshPublicKeys => 64 * 1024,
            _ => 256,
        }
    }
    /// Whether a value may span lines (a postal address does).
    pub fn multi_line(self) -> bool {
        matches!(
            self,
            Attribute::AddressFormatted | Attribute::StreetAddress | Attribute::SshPublicKeys
        )
    }
    /// A POSIX number (RFC 2307 `uidNumber`, `gidNumber`): stored in
    /// decimal, compared and ordered as an integer.
    pub fn is_number(self) -> bool {
        matches!(self, Attribute::UidNumber | Attribute::GidNumber)
    }
    /// An absolute path (`homeDirectory`, `loginShell`).
    pub fn is_path(self) -> bool {
        matches!(self, Attribute::HomeDirectory | Attribute::LoginShell)
    }
    /// Whether the account itself may set it (its own SSH keys), besides
    /// those who manage it.
    pub fn self_service(self) -> bool {
        self == Attribute::SshPublicKeys
    }
    /// The values of a multi-valued attribute (one SSH key a line).
    pub fn values(self, value: &str) -> Vec<&str> {
        if self == Attribute::SshPublicKeys {
            value
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        } else {
            vec![value]
        }
    }
}

/// The value of every [`Attribute`] of one account; `None` where unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes([Option<String>; Attribute::ALL.len()]);

impl Attributes {
    pub fn get(&self, a: Attribute) -> Option<&str> {
        self.0[a as usize].as_deref()
    }
    pub fn set(&mut self, a: Attribute, value: Option<String>) {
        self.0[a as usize] = value;
    }
    /// The attributes that have a value, in [`Attribute::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Attribute, &str)> + '_ {
        Attribute::ALL
            .iter()
            .filter_map(|&a| self.get(a).map(|v| (a, v)))
    }
}

/// The security role that lets an account create and manage sub-users.
pub const USER_MANAGEMENT_ROLE: &str = "user-management";

/// One account, as stored (without its password hash or second-factor
/// secrets, which never leave the core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub uuid: Uuid,
    /// The user name of the manuals: letters and digits, unique ignoring
    /// case; the LDAP `uid` and what a person types at sign-in.
    pub user_name: String,
    /// What an identity provider calls the account when that is not a
    /// valid user name (a UPN, an email login): the SCIM `userName`,
    /// unique ignoring case. `None`: the user name serves as the login name.
    pub login_name: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub time_zone: String,
    pub account_type: AccountType,
    pub auth_method: AuthMethod,
    /// The node this account is restricted to; `None` sees everything.
    pub restricted_to: Option<NodeId>,
    /// The account above this one in the sub-user hierarchy.
    pub manager: Option<AccountId>,
    pub admin_level: AdminLevel,
    /// For an account admin: the business entity it administers.
    pub admin_entity: Option<NodeId>,
    /// Security roles, sorted.
    pub roles: Vec<String>,
    pub status: Status,
    /// Deleted over SCIM: inactive and hidden, but kept.
    pub archived: bool,
    /// A password reset was requested: no authentication until it is changed.
    pub reset_pending: bool,
    pub has_password: bool,
    pub totp_enrolled: bool,
    pub external_id: Option<String>,
    /// Directory attributes (title, department, work phone, ...).
    pub attributes: Attributes,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// Bumped on every change; the SCIM ETag and LDAP modify stamp.
    pub version: i64,
}

impl Account {
    /// The name an identity provider knows the account by (SCIM `userName`).
    pub fn login(&self) -> &str {
        self.login_name.as_deref().unwrap_or(&self.user_name)
    }
    /// The first and last name joined (the LDAP `cn`), else the user name.
    pub fn full_name(&self) -> String {
        match (self.given_name.is_empty(), self.family_name.is_empty()) {
            (false, false) => format!("{} {}", self.given_name, self.family_name),
            (false, true) => self.given_name.clone(),
            (true, false) => self.family_name.clone(),
            (true, true) => self.user_name.clone(),
        }
    }
    /// The name shown to people: the display name an identity provider
    /// set, else [`Account::full_name`].
    pub fn display_name(&self) -> String {
        match self.attributes.get(Attribute::DisplayName) {
            Some(shown) => shown.to_owned(),
            None => self.full_name(),
        }
    }
    pub fn has_role(&self, role: &str) -> bool {
        self.admin_level == AdminLevel::SuperAdmin || self.roles.iter().any(|r| r == role)
    }
}

/// A business entity or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: NodeId,
    pub uuid: Uuid,
    pub name: String,
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    pub external_id: Option<String>,
    /// The POSIX group number (RFC 2307 `gidNumber`), allocated once.
    pub gid_number: Option<i64>,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub version: i64,
}

/// A bearer token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: Uuid,
    pub account: AccountId,
    pub user_name: String,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_manual_spelling_and_stored_names() {
        assert_eq!(
            "Two Factor SMS Everytime".parse::<AuthMethod>(),
            Ok(AuthMethod::TwoFactorSmsEveryTime)
        );
        assert_eq!(
            "two-factor-sms-every-time".parse::<AuthMethod>(),
            Ok(AuthMethod::TwoFactorSmsEveryTime)
        );
        assert_eq!(
            "Report Reader".parse::<AccountType>(),
            Ok(AccountType::ReportReader)
        );
        let err = "Wizard".parse::<AccountType>().unwrap_err();
        assert!(err.to_string().contains("administrator"), "{err}");
    }

    #[test]
    fn account_type_ranks_order_the_manual() {
        assert!(AccountType::Administrator.rank() > AccountType::RemoteAssistanceTechnician.rank());
        assert!(AccountType::RemoteAssistanceTechnician.rank() > AccountType::ReportReader.rank());
    }
}
