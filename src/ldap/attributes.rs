//! The LDAP face's table of directory attributes: the inetOrgPerson (RFC
//! 2798, RFC 4519) or posixAccount (RFC 2307) name of each [`Attribute`]
//! of the core, or the gateway's own where no standard one exists. Entries, filters and the
//! schema all read this one table.
//!
//! `displayName` is not here: it shows the display name, else the full
//! name (`AccountField::ShownName`), so it keeps its own line in
//! `entry.rs` and `filter.rs`.

use crate::model::Attribute;

/// `(LDAP name, attribute)`, in the order entries show them.
pub const PERSON_ATTRIBUTES: &[(&str, Attribute)] = &[
    ("title", Attribute::Title),
    ("preferredLanguage", Attribute::PreferredLanguage),
    ("telephoneNumber", Attribute::WorkPhone),
    ("facsimileTelephoneNumber", Attribute::Fax),
    ("postalAddress", Attribute::AddressFormatted),
    ("street", Attribute::StreetAddress),
    ("l", Attribute::Locality),
    ("st", Attribute::Region),
    ("postalCode", Attribute::PostalCode),
    ("c", Attribute::Country),
    ("employeeNumber", Attribute::EmployeeNumber),
    ("departmentNumber", Attribute::Department),
    ("o", Attribute::Organization),
    ("dirgateCostCenter", Attribute::CostCenter),
    ("dirgateDivision", Attribute::Division),
    // RFC 2307 (posixAccount), and openssh-lpk's ldapPublicKey.
    ("uidNumber", Attribute::UidNumber),
    ("gidNumber", Attribute::GidNumber),
    ("homeDirectory", Attribute::HomeDirectory),
    ("loginShell", Attribute::LoginShell),
    ("gecos", Attribute::Gecos),
    ("sshPublicKey", Attribute::SshPublicKeys),
];

/// The attribute an LDAP name (lower case, canonical) stands for.
pub fn attribute_named(lower: &str) -> Option<Attribute> {
    PERSON_ATTRIBUTES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(lower))
        .map(|&(_, a)| a)
}

/// The values LDAP shows for a stored one: one each SSH key, a postal
/// address with its lines separated by `$` (RFC 4517 section 3.3.28).
pub fn shown_values(attr: Attribute, value: &str) -> Vec<String> {
    attr.values(value)
        .into_iter()
        .map(|v| shown(attr, v))
        .collect()
}

/// A value as LDAP shows it: a postal address's lines are separated by
/// `$` (RFC 4517 section 3.3.28).
pub fn shown(attr: Attribute, value: &str) -> String {
    if attr == Attribute::AddressFormatted {
        value
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("$")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_but_the_display_name_and_formatted_name_has_one_ldap_name() {
        for &a in Attribute::ALL {
            let n = PERSON_ATTRIBUTES.iter().filter(|(_, x)| *x == a).count();
            let expected = usize::from(!matches!(
                a,
                Attribute::DisplayName | Attribute::NameFormatted
            ));
            assert_eq!(n, expected, "{a:?}");
        }
    }

    #[test]
    fn postal_addresses_use_dollar_separators() {
        assert_eq!(
            shown(Attribute::AddressFormatted, "1 Main St\nSpringfield\n"),
            "1 Main St$Springfield"
        );
        assert_eq!(shown(Attribute::Title, "a$b"), "a$b");
    }
}
