//! The SCIM face's table of directory attributes: where each
//! [`Attribute`] of the core sits in a User (RFC 7643 section 4.1 and the
//! enterprise extension of section 4.3), as Entra ID's and Okta's default
//! mappings send them. Rendering, parsing, filters, sorting and the PATCH
//! engine's paths all read this one table, and a test checks it against
//! the published schemas (`schemas/scim/`).
//!
//! The manual's own fields (userName, name.givenName, emails, the mobile
//! number, timezone, active, the dirgate extension) keep their mappings in
//! `resource.rs` and `filter.rs`: each has a rule of its own.

use serde_json::{Map, Value};

use super::path::{DIRGATE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA};
use crate::model::{Attribute, Attributes};

/// Where a directory attribute sits in a User.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A top-level attribute of the core User schema (`title`).
    Core(&'static str),
    /// A sub-attribute of a core complex attribute (`name.formatted`).
    Sub(&'static str, &'static str),
    /// The `value` of the entry of a multi-valued attribute whose `type`
    /// is the second (`phoneNumbers[type eq "work"]`).
    Typed(&'static str, &'static str),
    /// A sub-attribute of the entry of a multi-valued complex attribute
    /// whose `type` is the second (`addresses[type eq "work"].locality`).
    TypedSub(&'static str, &'static str, &'static str),
    /// An attribute of an extension schema.
    Extension(&'static str, &'static str),
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct ScimAttribute {
    pub place: Place,
    pub field: Attribute,
}

const fn row(place: Place, field: Attribute) -> ScimAttribute {
    ScimAttribute { place, field }
}

/// Every directory attribute of a User. All are `readWrite`, single
/// strings, compared ignoring case (`caseExact` false), like the
/// schemas say.
pub const USER_ATTRIBUTES: &[ScimAttribute] = &[
    row(Place::Core("displayName"), Attribute::DisplayName),
    row(Place::Sub("name", "formatted"), Attribute::NameFormatted),
    row(Place::Core("title"), Attribute::Title),
    row(
        Place::Core("preferredLanguage"),
        Attribute::PreferredLanguage,
    ),
    row(Place::Typed("phoneNumbers", "work"), Attribute::WorkPhone),
    row(Place::Typed("phoneNumbers", "fax"), Attribute::Fax),
    row(
        Place::TypedSub("addresses", "work", "formatted"),
        Attribute::AddressFormatted,
    ),
    row(
        Place::TypedSub("addresses", "work", "streetAddress"),
        Attribute::StreetAddress,
    ),
    row(
        Place::TypedSub("addresses", "work", "locality"),
        Attribute::Locality,
    ),
    row(
        Place::TypedSub("addresses", "work", "region"),
        Attribute::Region,
    ),
    row(
        Place::TypedSub("addresses", "work", "postalCode"),
        Attribute::PostalCode,
    ),
    row(
        Place::TypedSub("addresses", "work", "country"),
        Attribute::Country,
    ),
    row(
        Place::Extension(ENTERPRISE_USER_SCHEMA, "employeeNumber"),
        Attribute::EmployeeNumber,
    ),
    row(
        Place::Extension(ENTERPRISE_USER_SCHEMA, "department"),
        Attribute::Department,
    ),
    row(
        Place::Extension(ENTERPRISE_USER_SCHEMA, "costCenter"),
        Attribute::CostCenter,
    ),
    row(
        Place::Extension(ENTERPRISE_USER_SCHEMA, "organization"),
        Attribute::Organization,
    ),
    row(
        Place::Extension(ENTERPRISE_USER_SCHEMA, "division"),
        Attribute::Division,
    ),
    // POSIX accounts for Linux hosts (RFC 2307), in dirgate's extension.
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "uidNumber"),
        Attribute::UidNumber,
    ),
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "gidNumber"),
        Attribute::GidNumber,
    ),
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "homeDirectory"),
        Attribute::HomeDirectory,
    ),
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "loginShell"),
        Attribute::LoginShell,
    ),
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "gecos"),
        Attribute::Gecos,
    ),
    row(
        Place::Extension(DIRGATE_USER_SCHEMA, "sshPublicKeys"),
        Attribute::SshPublicKeys,
    ),
];

/// The `type`s of a multi-valued attribute's entries this server keeps
/// (`phoneNumbers`: the mobile number of the manual first, the primary),
/// lower case; empty for any other attribute.
pub fn entry_kinds(attr: &str) -> &'static [&'static str] {
    if attr.eq_ignore_ascii_case("phoneNumbers") {
        &["mobile", "work", "fax"]
    } else if attr.eq_ignore_ascii_case("addresses") || attr.eq_ignore_ascii_case("emails") {
        &["work"]
    } else {
        &[]
    }
}

/// The attribute at a path: `attr` (lower case) with sub-attribute `sub`
/// (lower case) in `schema` (`None`: the core schema), of the entry of
/// type `kind` of a multi-valued attribute.
pub fn at(
    schema: Option<&str>,
    attr: &str,
    sub: Option<&str>,
    kind: Option<&str>,
) -> Option<Attribute> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    USER_ATTRIBUTES.iter().find_map(|row| {
        let hit = match (row.place, schema) {
            (Place::Core(name), None) => same(name, attr) && sub.is_none(),
            (Place::Sub(name, s), None) => same(name, attr) && sub.is_some_and(|x| same(s, x)),
            (Place::Typed(name, k), None) => {
                same(name, attr)
                    && kind.is_some_and(|x| same(k, x))
                    && sub.is_none_or(|x| same(x, "value"))
            }
            (Place::TypedSub(name, k, s), None) => {
                same(name, attr)
                    && kind.is_some_and(|x| same(k, x))
                    && sub.is_some_and(|x| same(s, x))
            }
            (Place::Extension(urn, name), Some(u)) => {
                same(urn, u) && same(name, attr) && sub.is_none()
            }
            _ => false,
        };
        hit.then_some(row.field)
    })
}

/// Puts every attribute that has a value into the User `user` (and its
/// extension objects, created as needed). `name` and the multi-valued
/// lists are extended, not replaced.
pub fn render(values: &Attributes, user: &mut Map<String, Value>) {
    for row in USER_ATTRIBUTES {
        let Some(value) = values.get(row.field) else {
            continue;
        };
        let value = Value::String(value.to_owned());
        match row.place {
            Place::Core(name) => {
                user.insert(name.into(), value);
            }
            Place::Sub(name, sub) => {
                object(user, name).insert(sub.into(), value);
            }
            Place::Typed(name, kind) => {
                let mut entry = Map::new();
                entry.insert("value".into(), value);
                entry.insert("type".into(), Value::String(kind.into()));
                list(user, name).push(Value::Object(entry));
            }
            Place::TypedSub(name, kind, sub) => {
                let entries = list(user, name);
                let found = entries
                    .iter()
                    .position(|e| e.get("type").and_then(Value::as_str) == Some(kind));
                let at = match found {
                    Some(i) => i,
                    None => {
                        let mut entry = Map::new();
                        entry.insert("type".into(), Value::String(kind.into()));
                        entries.push(Value::Object(entry));
                        entries.len() - 1
                    }
                };
                if let Some(entry) = entries[at].as_object_mut() {
                    entry.insert(sub.into(), value);
                }
            }
            Place::Extension(urn, name) => {
                object(user, urn).insert(name.into(), value);
            }
        }
    }
}

fn object<'a>(user: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
    let slot = user
        .entry(name.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("made an object above"),
    }
}

fn list<'a>(user: &'a mut Map<String, Value>, name: &str) -> &'a mut Vec<Value> {
    let slot = user
        .entry(name.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(a) => a,
        _ => unreachable!("made a list above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_has_exactly_one_place() {
        for &a in Attribute::ALL {
            let rows = USER_ATTRIBUTES.iter().filter(|r| r.field == a).count();
            assert_eq!(rows, 1, "{a:?}");
        }
    }

    /// The schema attribute (or sub-attribute) a place names, from the
    /// published files.
    fn published(place: Place) -> serde_json::Value {
        let user: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/scim/User.json")).unwrap();
        let enterprise: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/scim/EnterpriseUser.json")).unwrap();
        let dirgate: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/scim/DirgateUser.json")).unwrap();
        let find = |schema: &serde_json::Value, name: &str| {
            schema["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap_or_else(|| panic!("{name} is not published"))
                .clone()
        };
        let sub = |attr: serde_json::Value, name: &str| {
            attr["subAttributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap_or_else(|| panic!("{name} is not published under {}", attr["name"]))
                .clone()
        };
        match place {
            Place::Core(name) => find(&user, name),
            Place::Sub(name, s) => sub(find(&user, name), s),
            Place::Typed(name, kind) => {
                let attr = find(&user, name);
                let kinds = sub(attr.clone(), "type")["canonicalValues"].clone();
                assert!(
                    kinds.as_array().unwrap().iter().any(|k| k == kind),
                    "{name}.type lists {kind}"
                );
                sub(attr, "value")
            }
            Place::TypedSub(name, kind, s) => {
                let attr = find(&user, name);
                let kinds = sub(attr.clone(), "type")["canonicalValues"].clone();
                assert!(
                    kinds.as_array().unwrap().iter().any(|k| k == kind),
                    "{name}.type lists {kind}"
                );
                sub(attr, s)
            }
            Place::Extension(urn, name) if urn == DIRGATE_USER_SCHEMA => find(&dirgate, name),
            Place::Extension(urn, name) => {
                assert_eq!(urn, ENTERPRISE_USER_SCHEMA);
                find(&enterprise, name)
            }
        }
    }

    #[test]
    fn the_table_matches_the_published_schemas() {
        for row in USER_ATTRIBUTES {
            let a = published(row.place);
            assert_eq!(a["type"], "string", "{:?}", row.place);
            assert_eq!(a["multiValued"], false, "{:?}", row.place);
            assert_eq!(a["mutability"], "readWrite", "{:?}", row.place);
            assert_eq!(a["caseExact"], false, "{:?}", row.place);
            assert_eq!(a["returned"], "default", "{:?}", row.place);
        }
        // The multi-valued attributes' entry kinds are the published types.
        for attr in ["phoneNumbers", "addresses", "emails"] {
            let user: serde_json::Value =
                serde_json::from_str(include_str!("../../schemas/scim/User.json")).unwrap();
            let a = user["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == attr)
                .unwrap()
                .clone();
            let kinds: Vec<&str> = a["subAttributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == "type")
                .unwrap()["canonicalValues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(kinds, entry_kinds(attr), "{attr}");
        }
    }

    #[test]
    fn paths_find_their_attribute() {
        assert_eq!(at(None, "title", None, None), Some(Attribute::Title));
        assert_eq!(
            at(None, "name", Some("formatted"), None),
            Some(Attribute::NameFormatted)
        );
        assert_eq!(
            at(None, "phonenumbers", None, Some("work")),
            Some(Attribute::WorkPhone)
        );
        assert_eq!(
            at(None, "phonenumbers", Some("value"), Some("fax")),
            Some(Attribute::Fax)
        );
        assert_eq!(
            at(None, "addresses", Some("postalcode"), Some("work")),
            Some(Attribute::PostalCode)
        );
        assert_eq!(
            at(Some(ENTERPRISE_USER_SCHEMA), "department", None, None),
            Some(Attribute::Department)
        );
        assert_eq!(at(None, "department", None, None), None);
        assert_eq!(at(None, "phonenumbers", None, Some("mobile")), None);
    }
}
