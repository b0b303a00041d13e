//! Entries as LDAP clients see them: an account as an inetOrgPerson, a
//! business entity or group as a groupOfNames, and the fixed entries of
//! the tree (base, `ou=people`, `ou=groups`).
//!
//! Names of other entries (manager, groups, members, parent) come from
//! `Related`, which the core fills with only what the reader may see: a
//! name missing there is left out, never guessed. Nothing secret is
//! emitted (no password, no second-factor state).

use std::collections::HashSet;

use jiff::Timestamp;
use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

use super::attributes::{shown_values, PERSON_ATTRIBUTES};
use super::dn::{Layout, SUBSCHEMA_DN};
use super::schema::{canonical_attribute, schema};
use crate::model::query::Related;
use crate::model::{Account, AdminLevel, Node};

/// The object classes of a person entry.
pub const PERSON_CLASSES: &[&str] = &[
    "top",
    "person",
    "organizationalPerson",
    "inetOrgPerson",
    "dirgatePerson",
    "posixAccount",
    "ldapPublicKey",
];

/// The object classes of a group (or business entity) entry.
pub const NODE_CLASSES: &[&str] = &["top", "groupOfNames", "dirgateNode", "posixGroup"];

/// Which attributes a search asked for (RFC 4511 section 4.5.1.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    all_user: bool,
    all_operational: bool,
    /// Lower-cased canonical names asked for, directly or through `@class`.
    named: HashSet<String>,
    types_only: bool,
}

impl Selection {
    /// From a search request's attribute list: empty or `*` is every user
    /// attribute, `+` every operational one (RFC 3673), `1.1` alone none,
    /// `@class` the attributes of that object class (RFC 4529), anything
    /// else a name or OID, without regard to case.
    pub fn new(requested: &[String], types_only: bool) -> Selection {
        let mut sel = Selection {
            all_user: requested.is_empty(),
            all_operational: false,
            named: HashSet::new(),
            types_only,
        };
        for asked in requested {
            let asked = asked.trim();
            match asked {
                "*" => sel.all_user = true,
                "+" => sel.all_operational = true,
                // "No attributes": it selects nothing on its own, and
                // alongside other names it is ignored.
                "1.1" | "" => {}
                _ => {
                    if let Some(class) = asked.strip_prefix('@') {
                        for name in schema().class_attributes(class) {
                            sel.named.insert(name.to_lowercase());
                        }
                    } else {
                        sel.named.insert(canonical_name(asked));
                    }
                }
            }
        }
        sel
    }

    /// Every attribute with its values: the entry to evaluate a filter on,
    /// since a filter may test attributes the client did not ask to see.
    pub fn all() -> Selection {
        Selection {
            all_user: true,
            all_operational: true,
            named: HashSet::new(),
            types_only: false,
        }
    }

    pub fn types_only(&self) -> bool {
        self.types_only
    }

    /// Whether an attribute (by canonical name) is to be returned.
    pub fn wants(&self, name: &str, operational: bool) -> bool {
        let all = if operational {
            self.all_operational
        } else {
            self.all_user
        };
        all || self.named.contains(super::schema::lower(name).as_ref())
    }

    /// For the root DSE, whose attributes clients expect without `+`.
    pub fn wants_root_dse(&self, name: &str) -> bool {
        self.all_user
            || self.all_operational
            || self.named.contains(super::schema::lower(name).as_ref())
    }
}

/// The lower-cased canonical name of an attribute description; options
/// (`;lang-en`) are kept, so that they select nothing we emit.
fn canonical_name(asked: &str) -> String {
    canonical_attribute(asked).map_or_else(|| asked.to_lowercase(), str::to_lowercase)
}

/// Collects an entry's attributes as the selection wants them. Whether an
/// attribute is operational comes from the published schema, so the two
/// cannot disagree.
pub(super) struct EntryBuilder<'a> {
    sel: &'a Selection,
    root_dse: bool,
    attributes: Vec<LdapPartialAttribute>,
}

impl<'a> EntryBuilder<'a> {
    pub(super) fn new(sel: &'a Selection) -> Self {
        EntryBuilder {
            sel,
            root_dse: false,
            attributes: Vec::new(),
        }
    }

    pub(super) fn root_dse(sel: &'a Selection) -> Self {
        EntryBuilder {
            root_dse: true,
            ..EntryBuilder::new(sel)
        }
    }

    /// Adds `name` (canonical spelling) with its non-empty values; an
    /// attribute with no value is not shown at all.
    pub(super) fn add<I, S>(&mut self, name: &'static str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let wanted = if self.root_dse {
            self.sel.wants_root_dse(name)
        } else {
            let operational = schema().attribute(name).is_some_and(|a| a.operational);
            self.sel.wants(name, operational)
        };
        if !wanted {
            return;
        }
        let vals: Vec<Vec<u8>> = values
            .into_iter()
            .map(Into::into)
            .filter(|v| !v.is_empty())
            .map(String::into_bytes)
            .collect();
        if vals.is_empty() {
            return;
        }
        self.attributes.push(LdapPartialAttribute {
            atype: name.to_owned(),
            vals: if self.sel.types_only {
                Vec::new()
            } else {
                vals
            },
        });
    }

    pub(super) fn finish(self, dn: impl Into<String>) -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: dn.into(),
            attributes: self.attributes,
        }
    }
}

/// A time as GeneralizedTime (RFC 4517 section 3.3.13), in UTC to the
/// second: `YYYYMMDDHHMMSSZ`.
pub fn generalized_time(t: Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

fn bool_value(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// An account as `uid=<name>,ou=people,<base>`.
pub fn person_entry(
    a: &Account,
    rel: &Related,
    layout: &Layout,
    sel: &Selection,
) -> LdapSearchResultEntry {
    let dn = layout.person_dn(&a.user_name);
    let node_dn = |id| rel.node_names.get(&id).map(|name| layout.group_dn(name));
    let full_name = a.full_name();
    let shown_name = a.display_name();
    // sn is required by `person`; the user name stands in for a missing
    // family name, as it does in `display_name`.
    let surname = if a.family_name.is_empty() {
        &a.user_name
    } else {
        &a.family_name
    };
    let manager = a
        .manager
        .and_then(|id| rel.account_names.get(&id))
        .map(|name| layout.person_dn(name));
    let groups: Vec<String> = rel
        .groups_of
        .get(&a.id)
        .into_iter()
        .flatten()
        .filter_map(|&id| node_dn(id))
        .collect();

    let mut b = EntryBuilder::new(sel);
    b.add("objectClass", PERSON_CLASSES.iter().copied());
    b.add("uid", [a.user_name.as_str()]);
    b.add("cn", [full_name.as_str()]);
    b.add("sn", [surname.as_str()]);
    b.add("givenName", [a.given_name.as_str()]);
    b.add("displayName", [shown_name.as_str()]);
    b.add("mail", a.email.iter().cloned());
    b.add("mobile", a.mobile.iter().cloned());
    for &(name, attr) in PERSON_ATTRIBUTES {
        b.add(
            name,
            a.attributes
                .get(attr)
                .map(|v| shown_values(attr, v))
                .unwrap_or_default(),
        );
    }
    b.add("employeeType", [a.account_type.display_name()]);
    b.add("manager", manager);
    b.add("memberOf", groups);
    b.add("dirgateAccountType", [a.account_type.display_name()]);
    b.add("dirgateAuthMethod", [a.auth_method.display_name()]);
    b.add("dirgateRestrictedTo", a.restricted_to.and_then(node_dn));
    b.add("dirgateTimeZone", [a.time_zone.as_str()]);
    b.add("dirgateStatus", [a.status.display_name()]);
    b.add("dirgateSecurityRole", a.roles.iter().cloned());
    b.add(
        "dirgateRemoteAssistance",
        [bool_value(a.account_type.remote_assistance())],
    );
    if a.admin_level != AdminLevel::None {
        b.add("dirgateAdminLevel", [a.admin_level.display_name()]);
    }
    b.add("dirgateAdminEntity", a.admin_entity.and_then(node_dn));
    b.add("dirgateLoginName", a.login_name.iter().cloned());
    add_operational(&mut b, &dn, "inetOrgPerson", false);
    b.add("entryUUID", [a.uuid.hyphenated().to_string()]);
    b.add("createTimestamp", [generalized_time(a.created)]);
    b.add("modifyTimestamp", [generalized_time(a.modified)]);
    b.finish(dn)
}

/// A business entity or group as `cn=<name>,ou=groups,<base>`. Nested
/// groups are listed as members of their parent, so that clients that
/// expand groupOfNames recursively find the people below.
pub fn group_entry(
    n: &Node,
    rel: &Related,
    layout: &Layout,
    sel: &Selection,
) -> LdapSearchResultEntry {
    let dn = layout.group_dn(&n.name);
    let member_names: Vec<&String> = rel
        .members_of
        .get(&n.id)
        .into_iter()
        .flatten()
        .filter_map(|id| rel.account_names.get(id))
        .collect();
    let people = member_names.iter().map(|name| layout.person_dn(name));
    let children = rel
        .children_of
        .get(&n.id)
        .into_iter()
        .flatten()
        .filter_map(|id| rel.node_names.get(id))
        .map(|name| layout.group_dn(name));
    let parent = n
        .parent
        .and_then(|id| rel.node_names.get(&id))
        .map(|name| layout.group_dn(name));

    let mut b = EntryBuilder::new(sel);
    b.add("objectClass", NODE_CLASSES.iter().copied());
    b.add("cn", [n.name.as_str()]);
    b.add("member", people.chain(children));
    // rfc2307bis: the people by user name too, for hosts that read
    // memberUid (nested groups are only members).
    b.add("memberUid", member_names.iter().map(|n| n.as_str()));
    b.add("gidNumber", n.gid_number.map(|g| g.to_string()));
    b.add("memberOf", parent.clone());
    b.add("dirgateParent", parent);
    b.add("dirgateNodeKind", [n.kind.display_name()]);
    add_operational(&mut b, &dn, "groupOfNames", false);
    b.add("entryUUID", [n.uuid.hyphenated().to_string()]);
    b.add("createTimestamp", [generalized_time(n.created)]);
    b.add("modifyTimestamp", [generalized_time(n.modified)]);
    b.finish(dn)
}

/// The base entry: a `domain` when the base starts with `dc=`, an
/// `organizationalUnit` for `ou=`, else an `organization` named by the
/// first RDN's value.
pub fn base_entry(layout: &Layout, sel: &Selection) -> LdapSearchResultEntry {
    let rdn = layout.base_rdn();
    let value = rdn.value.as_str();
    let mut b = EntryBuilder::new(sel);
    let structural = match rdn.attr.as_str() {
        "dc" => {
            b.add("objectClass", ["top", "domain"]);
            b.add("dc", [value]);
            "domain"
        }
        "ou" => {
            b.add("objectClass", ["top", "organizationalUnit"]);
            b.add("ou", [value]);
            "organizationalUnit"
        }
        _ => {
            b.add("objectClass", ["top", "organization"]);
            b.add("o", [value]);
            "organization"
        }
    };
    add_operational(&mut b, layout.base_dn(), structural, true);
    b.finish(layout.base_dn())
}

/// `ou=people,<base>`.
pub fn people_ou_entry(layout: &Layout, sel: &Selection) -> LdapSearchResultEntry {
    ou_entry(layout.people_dn(), "people", sel)
}

/// `ou=groups,<base>`.
pub fn groups_ou_entry(layout: &Layout, sel: &Selection) -> LdapSearchResultEntry {
    ou_entry(layout.groups_dn(), "groups", sel)
}

fn ou_entry(dn: &str, ou: &str, sel: &Selection) -> LdapSearchResultEntry {
    let mut b = EntryBuilder::new(sel);
    b.add("objectClass", ["top", "organizationalUnit"]);
    b.add("ou", [ou]);
    add_operational(&mut b, dn, "organizationalUnit", true);
    b.finish(dn)
}

/// The operational attributes every entry of the tree has.
fn add_operational(b: &mut EntryBuilder<'_>, dn: &str, structural: &str, children: bool) {
    b.add("entryDN", [dn]);
    b.add("structuralObjectClass", [structural]);
    b.add("subschemaSubentry", [SUBSCHEMA_DN]);
    b.add("hasSubordinates", [bool_value(children)]);
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use uuid::Uuid;

    use super::*;
    use crate::model::{AccountType, AuthMethod, NodeKind, Status};

    fn layout() -> Layout {
        Layout::new("dc=example,dc=com").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn account() -> Account {
        Account {
            id: 1,
            uuid: Uuid::parse_str("6f1d2e3c-0000-4000-8000-00000000abcd").unwrap(),
            user_name: "alice".into(),
            login_name: None,
            given_name: "Alice".into(),
            family_name: "Smith".into(),
            email: Some("alice@example.com".into()),
            mobile: Some("+33612345678".into()),
            time_zone: "Europe/Paris".into(),
            account_type: AccountType::ReportReader,
            auth_method: AuthMethod::TwoFactorSmsEveryTime,
            restricted_to: Some(10),
            manager: Some(2),
            admin_level: AdminLevel::AccountAdmin,
            admin_entity: Some(11),
            roles: vec!["reports".into(), "user-management".into()],
            status: Status::Active,
            archived: false,
            reset_pending: true,
            has_password: true,
            totp_enrolled: true,
            external_id: Some("ext-1".into()),
            attributes: Default::default(),
            created: ts("2024-01-02T03:04:05.678Z"),
            modified: ts("2024-06-07T08:09:10Z"),
            version: 3,
        }
    }

    fn node() -> Node {
        Node {
            id: 10,
            uuid: Uuid::parse_str("00000000-0000-4000-8000-000000000010").unwrap(),
            name: "Sales, EMEA".into(),
            kind: NodeKind::Group,
            parent: Some(11),
            external_id: None,
            gid_number: None,
            created: ts("2023-01-01T00:00:00Z"),
            modified: ts("2023-02-01T00:00:00Z"),
            version: 1,
        }
    }

    fn related() -> Related {
        Related {
            account_names: HashMap::from([
                (1, "alice".into()),
                (2, "bob".into()),
                (3, "carol".into()),
            ]),
            node_names: HashMap::from([
                (10, "Sales, EMEA".into()),
                (11, "Acme".into()),
                (12, "Deals".into()),
            ]),
            groups_of: HashMap::from([(1, vec![10, 11, 99])]),
            members_of: HashMap::from([(10, vec![1, 3, 98])]),
            children_of: HashMap::from([(10, vec![12, 97])]),
            ..Related::default()
        }
    }

    fn sel(names: &[&str]) -> Selection {
        Selection::new(
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            false,
        )
    }

    /// The values of attribute `name` as text (shared with `schema`'s tests).
    pub(crate) fn values<'a>(e: &'a LdapSearchResultEntry, name: &str) -> Vec<&'a str> {
        e.attributes
            .iter()
            .find(|a| a.atype == name)
            .map(|a| {
                a.vals
                    .iter()
                    .map(|v| std::str::from_utf8(v).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The attribute names of an entry, in order.
    pub(crate) fn names(e: &LdapSearchResultEntry) -> Vec<&str> {
        e.attributes.iter().map(|a| a.atype.as_str()).collect()
    }

    #[test]
    fn person_entry_shows_every_user_attribute() {
        let e = person_entry(&account(), &related(), &layout(), &sel(&[]));
        assert_eq!(e.dn, "uid=alice,ou=people,dc=example,dc=com");
        assert_eq!(
            values(&e, "objectClass"),
            [
                "top",
                "person",
                "organizationalPerson",
                "inetOrgPerson",
                "dirgatePerson",
                "posixAccount",
                "ldapPublicKey"
            ]
        );
        assert_eq!(values(&e, "uid"), ["alice"]);
        assert_eq!(values(&e, "cn"), ["Alice Smith"]);
        assert_eq!(values(&e, "sn"), ["Smith"]);
        assert_eq!(values(&e, "givenName"), ["Alice"]);
        assert_eq!(values(&e, "displayName"), ["Alice Smith"]);
        assert_eq!(values(&e, "mail"), ["alice@example.com"]);
        assert_eq!(values(&e, "mobile"), ["+33612345678"]);
        assert_eq!(values(&e, "employeeType"), ["Report Reader"]);
        assert_eq!(
            values(&e, "manager"),
            ["uid=bob,ou=people,dc=example,dc=com"]
        );
        assert_eq!(
            values(&e, "memberOf"),
            [
                "cn=Sales\\, EMEA,ou=groups,dc=example,dc=com",
                "cn=Acme,ou=groups,dc=example,dc=com"
            ]
        );
        assert_eq!(values(&e, "dirgateAccountType"), ["Report Reader"]);
        assert_eq!(
            values(&e, "dirgateAuthMethod"),
            ["Two Factor SMS Everytime"]
        );
        assert_eq!(
            values(&e, "dirgateRestrictedTo"),
            ["cn=Sales\\, EMEA,ou=groups,dc=example,dc=com"]
        );
        assert_eq!(values(&e, "dirgateTimeZone"), ["Europe/Paris"]);
        assert_eq!(values(&e, "dirgateStatus"), ["Active"]);
        assert_eq!(
            values(&e, "dirgateSecurityRole"),
            ["reports", "user-management"]
        );
        assert_eq!(values(&e, "dirgateRemoteAssistance"), ["FALSE"]);
        assert_eq!(values(&e, "dirgateAdminLevel"), ["Account Admin"]);
        assert_eq!(
            values(&e, "dirgateAdminEntity"),
            ["cn=Acme,ou=groups,dc=example,dc=com"]
        );
        // Operational attributes need `+` or their name.
        for op in ["entryUUID", "createTimestamp", "entryDN", "hasSubordinates"] {
            assert!(!names(&e).contains(&op), "{op}");
        }
    }

    #[test]
    fn person_entry_operational_attributes() {
        let e = person_entry(&account(), &related(), &layout(), &sel(&["+"]));
        assert_eq!(
            names(&e),
            [
                "entryDN",
                "structuralObjectClass",
                "subschemaSubentry",
                "hasSubordinates",
                "entryUUID",
                "createTimestamp",
                "modifyTimestamp"
            ]
        );
        assert_eq!(
            values(&e, "entryUUID"),
            ["6f1d2e3c-0000-4000-8000-00000000abcd"]
        );
        assert_eq!(values(&e, "createTimestamp"), ["20240102030405Z"]);
        assert_eq!(values(&e, "modifyTimestamp"), ["20240607080910Z"]);
        assert_eq!(
            values(&e, "entryDN"),
            ["uid=alice,ou=people,dc=example,dc=com"]
        );
        assert_eq!(values(&e, "structuralObjectClass"), ["inetOrgPerson"]);
        assert_eq!(values(&e, "subschemaSubentry"), ["cn=Subschema"]);
        assert_eq!(values(&e, "hasSubordinates"), ["FALSE"]);
    }

    #[test]
    fn names_fall_back_and_empty_values_are_omitted() {
        let mut a = account();
        a.given_name.clear();
        a.family_name.clear();
        a.email = Some(String::new());
        a.mobile = None;
        a.roles.clear();
        a.admin_level = AdminLevel::None;
        a.account_type = AccountType::RemoteAssistanceTechnician;
        let e = person_entry(&a, &related(), &layout(), &sel(&[]));
        assert_eq!(values(&e, "cn"), ["alice"]);
        assert_eq!(values(&e, "sn"), ["alice"]);
        assert_eq!(values(&e, "displayName"), ["alice"]);
        assert_eq!(values(&e, "dirgateRemoteAssistance"), ["TRUE"]);
        assert_eq!(values(&e, "employeeType"), ["Remote Assistance Technician"]);
        for absent in [
            "givenName",
            "mail",
            "mobile",
            "dirgateSecurityRole",
            "dirgateAdminLevel",
        ] {
            assert!(!names(&e).contains(&absent), "{absent}");
        }

        a.given_name = "Al".into();
        let e = person_entry(&a, &related(), &layout(), &sel(&["cn", "sn"]));
        assert_eq!(values(&e, "cn"), ["Al"]);
        assert_eq!(values(&e, "sn"), ["alice"]);
    }

    #[test]
    fn hidden_manager_and_groups_are_not_shown() {
        let mut rel = related();
        rel.account_names.remove(&2);
        rel.node_names.remove(&10);
        rel.node_names.remove(&11);
        let e = person_entry(&account(), &rel, &layout(), &sel(&[]));
        for absent in [
            "manager",
            "memberOf",
            "dirgateRestrictedTo",
            "dirgateAdminEntity",
        ] {
            assert!(!names(&e).contains(&absent), "{absent}");
        }
        let e = person_entry(&account(), &Related::default(), &layout(), &sel(&[]));
        assert!(!names(&e).contains(&"memberOf"));
    }

    #[test]
    fn no_secret_ever_appears() {
        let e = person_entry(&account(), &related(), &layout(), &Selection::all());
        let e2 = person_entry(
            &account(),
            &related(),
            &layout(),
            &sel(&["userPassword", "*", "+"]),
        );
        for e in [e, e2] {
            for a in &e.attributes {
                let lower = a.atype.to_lowercase();
                assert!(
                    !["password", "secret", "totp", "reset"]
                        .iter()
                        .any(|s| lower.contains(s)),
                    "{}",
                    a.atype
                );
                for v in &a.vals {
                    assert_ne!(v.as_slice(), b"ext-1", "external ids are SCIM's");
                }
            }
        }
    }

    #[test]
    fn selection_by_name_ignores_case_and_answers_canonically() {
        let e = person_entry(
            &account(),
            &related(),
            &layout(),
            &sel(&["GIVENNAME", "MAIL", "entryuuid"]),
        );
        assert_eq!(names(&e), ["givenName", "mail", "entryUUID"]);
        // Aliases and OIDs name the same attribute.
        let e = person_entry(
            &account(),
            &related(),
            &layout(),
            &sel(&["surname", "2.5.4.3"]),
        );
        assert_eq!(names(&e), ["cn", "sn"]);
        // `*` plus a named operational attribute.
        let e = person_entry(
            &account(),
            &related(),
            &layout(),
            &sel(&["*", "createTimestamp"]),
        );
        assert!(names(&e).contains(&"uid"));
        assert!(names(&e).contains(&"createTimestamp"));
        assert!(!names(&e).contains(&"entryUUID"));
        // `*` and `+` together: everything.
        let everything = person_entry(&account(), &related(), &layout(), &sel(&["*", "+"]));
        let all = person_entry(&account(), &related(), &layout(), &Selection::all());
        assert_eq!(everything, all);
        // An attribute with options selects nothing we emit.
        let e = person_entry(&account(), &related(), &layout(), &sel(&["cn;lang-fr"]));
        assert!(e.attributes.is_empty());
    }

    #[test]
    fn selection_no_attributes() {
        let e = person_entry(&account(), &related(), &layout(), &sel(&["1.1"]));
        assert_eq!(e.dn, "uid=alice,ou=people,dc=example,dc=com");
        assert!(e.attributes.is_empty());
        // Next to other names, 1.1 is ignored.
        let e = person_entry(&account(), &related(), &layout(), &sel(&["1.1", "uid"]));
        assert_eq!(names(&e), ["uid"]);
    }

    #[test]
    fn selection_by_object_class() {
        let e = person_entry(&account(), &related(), &layout(), &sel(&["@dirgatePerson"]));
        assert_eq!(
            names(&e),
            [
                "objectClass",
                "dirgateAccountType",
                "dirgateAuthMethod",
                "dirgateRestrictedTo",
                "dirgateTimeZone",
                "dirgateStatus",
                "dirgateSecurityRole",
                "dirgateRemoteAssistance",
                "dirgateAdminLevel",
                "dirgateAdminEntity"
            ]
        );
        let e = person_entry(&account(), &related(), &layout(), &sel(&["@inetorgperson"]));
        assert!(names(&e).contains(&"uid"));
        assert!(!names(&e).contains(&"dirgateStatus"));
    }

    #[test]
    fn types_only_returns_names_without_values() {
        let s = Selection::new(&[], true);
        assert!(s.types_only());
        let e = person_entry(&account(), &related(), &layout(), &s);
        let full = person_entry(&account(), &related(), &layout(), &sel(&[]));
        assert_eq!(names(&e), names(&full));
        assert!(e.attributes.iter().all(|a| a.vals.is_empty()));
    }

    #[test]
    fn group_entry_shows_members_children_and_parent() {
        let e = group_entry(&node(), &related(), &layout(), &sel(&["*", "+"]));
        assert_eq!(e.dn, "cn=Sales\\, EMEA,ou=groups,dc=example,dc=com");
        assert_eq!(
            values(&e, "objectClass"),
            ["top", "groupOfNames", "dirgateNode", "posixGroup"]
        );
        assert_eq!(values(&e, "cn"), ["Sales, EMEA"]);
        assert_eq!(values(&e, "memberUid"), ["alice", "carol"]);
        assert_eq!(
            values(&e, "member"),
            [
                "uid=alice,ou=people,dc=example,dc=com",
                "uid=carol,ou=people,dc=example,dc=com",
                "cn=Deals,ou=groups,dc=example,dc=com"
            ]
        );
        assert_eq!(
            values(&e, "memberOf"),
            ["cn=Acme,ou=groups,dc=example,dc=com"]
        );
        assert_eq!(
            values(&e, "dirgateParent"),
            ["cn=Acme,ou=groups,dc=example,dc=com"]
        );
        assert_eq!(values(&e, "dirgateNodeKind"), ["Group"]);
        assert_eq!(
            values(&e, "entryUUID"),
            ["00000000-0000-4000-8000-000000000010"]
        );
        assert_eq!(values(&e, "createTimestamp"), ["20230101000000Z"]);
        assert_eq!(values(&e, "modifyTimestamp"), ["20230201000000Z"]);
        assert_eq!(
            values(&e, "entryDN"),
            ["cn=Sales\\, EMEA,ou=groups,dc=example,dc=com"]
        );
        assert_eq!(values(&e, "structuralObjectClass"), ["groupOfNames"]);
        assert_eq!(values(&e, "hasSubordinates"), ["FALSE"]);
        assert_eq!(values(&e, "subschemaSubentry"), ["cn=Subschema"]);
    }

    #[test]
    fn group_entry_hides_what_is_not_named() {
        let mut n = node();
        n.kind = NodeKind::BusinessEntity;
        let e = group_entry(&n, &Related::default(), &layout(), &sel(&[]));
        assert_eq!(names(&e), ["objectClass", "cn", "dirgateNodeKind"]);
        assert_eq!(values(&e, "dirgateNodeKind"), ["Business Entity"]);
    }

    #[test]
    fn fixed_entries() {
        let all = sel(&["*", "+"]);
        let e = base_entry(&layout(), &all);
        assert_eq!(e.dn, "dc=example,dc=com");
        assert_eq!(values(&e, "objectClass"), ["top", "domain"]);
        assert_eq!(values(&e, "dc"), ["example"]);
        assert_eq!(values(&e, "structuralObjectClass"), ["domain"]);
        assert_eq!(values(&e, "hasSubordinates"), ["TRUE"]);
        assert_eq!(values(&e, "entryDN"), ["dc=example,dc=com"]);

        let org = Layout::new("o=Acme Corp,c=FR").unwrap();
        let e = base_entry(&org, &all);
        assert_eq!(values(&e, "objectClass"), ["top", "organization"]);
        assert_eq!(values(&e, "o"), ["Acme Corp"]);

        let ou = Layout::new("ou=Directory,o=Acme").unwrap();
        assert_eq!(values(&base_entry(&ou, &all), "ou"), ["Directory"]);

        let e = people_ou_entry(&layout(), &all);
        assert_eq!(e.dn, "ou=people,dc=example,dc=com");
        assert_eq!(values(&e, "objectClass"), ["top", "organizationalUnit"]);
        assert_eq!(values(&e, "ou"), ["people"]);
        assert_eq!(values(&e, "hasSubordinates"), ["TRUE"]);
        let e = groups_ou_entry(&layout(), &sel(&[]));
        assert_eq!(e.dn, "ou=groups,dc=example,dc=com");
        assert_eq!(names(&e), ["objectClass", "ou"]);
        assert_eq!(values(&e, "ou"), ["groups"]);
    }

    #[test]
    fn generalized_time_is_utc_to_the_second() {
        assert_eq!(
            generalized_time(ts("2024-12-31T23:59:59.999+01:00")),
            "20241231225959Z"
        );
    }
}
