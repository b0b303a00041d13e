//! The directory's names (DESIGN.md, "LDAP directory layout"):
//!
//! ```text
//! <base>                            the configured base DN
//!   ou=people,<base>                uid=<user name>,ou=people,<base>
//!   ou=groups,<base>                cn=<group name>,ou=groups,<base>
//! cn=Subschema                      the subschema entry
//! ""                                the root DSE
//! ```
//!
//! `Layout` builds these names and `Layout::classify` reads a DN a client
//! sent (RFC 4514 string form) back into what it names. Nothing here
//! decides whether the entry exists or may be seen: that is the core's.

use ldap3_proto::proto::LdapSearchScope;

use super::schema;

/// The DN of the subschema entry (RFC 4512 section 4.2).
pub const SUBSCHEMA_DN: &str = "cn=Subschema";

/// A DN that is not valid RFC 4514 syntax; the session answers
/// invalidDNSyntax (34).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DN {dn:?}: {reason}")]
pub struct DnError {
    pub dn: String,
    pub reason: String,
}

/// One `type=value` of an RDN. The type is lower-cased and, when it is an
/// alias or an OID of an attribute type the gateway knows, replaced by that
/// type's name, so `CN`, `commonName` and `2.5.4.3` compare equal. The
/// value is unescaped and keeps its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    pub attr: String,
    pub value: String,
}

/// A relative distinguished name: one or more AVAs joined by `+`.
pub type Rdn = Vec<Ava>;

/// What a DN names in this directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The empty DN.
    RootDse,
    /// `cn=Subschema`.
    Subschema,
    /// The base DN itself.
    Base,
    /// `ou=people,<base>`.
    People,
    /// `ou=groups,<base>`.
    Groups,
    /// `uid=<name>,ou=people,<base>`: the uid value, unescaped.
    Person(String),
    /// `cn=<name>,ou=groups,<base>`: the cn value, unescaped.
    Group(String),
    /// Neither at nor under the base (nor the root DSE or subschema).
    Outside,
    /// Under the base but not one of the shapes above, so no such entry.
    Missing,
}

/// The names of the tree under one configured base DN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The base as RDNs, for comparing.
    base_rdns: Vec<Rdn>,
    /// The base re-written in one spelling (no spaces after commas), so
    /// every DN the gateway shows is spelled the same way.
    base: String,
    people: String,
    groups: String,
}

impl Layout {
    /// The layout under `base_dn` (e.g. `dc=example,dc=com`). The root DSE
    /// cannot be the base, so an empty DN is refused like an invalid one.
    pub fn new(base_dn: &str) -> Result<Layout, DnError> {
        let base_rdns = parse_dn(base_dn)?;
        if base_rdns.is_empty() {
            return Err(DnError {
                dn: base_dn.to_owned(),
                reason: "the base DN is empty".to_owned(),
            });
        }
        let base = format_dn(&base_rdns);
        Ok(Layout {
            people: format!("ou=people,{base}"),
            groups: format!("ou=groups,{base}"),
            base_rdns,
            base,
        })
    }

    pub fn base_dn(&self) -> &str {
        &self.base
    }

    pub fn people_dn(&self) -> &str {
        &self.people
    }

    pub fn groups_dn(&self) -> &str {
        &self.groups
    }

    /// The first (leftmost) AVA of the base, e.g. `dc` and `example`: the
    /// base entry shows it as an attribute.
    pub fn base_rdn(&self) -> &Ava {
        // `new` refuses an empty base and `parse_dn` never yields an empty RDN.
        &self.base_rdns[0][0]
    }

    /// `uid=<name>,ou=people,<base>`.
    pub fn person_dn(&self, user_name: &str) -> String {
        format!("uid={},{}", escape_value(user_name), self.people)
    }

    /// `cn=<name>,ou=groups,<base>`; group names may hold any character.
    pub fn group_dn(&self, name: &str) -> String {
        format!("cn={},{}", escape_value(name), self.groups)
    }

    /// What `dn` names. Attribute types and the fixed parts of the layout
    /// compare without regard to case; the uid or cn of a person or group
    /// is returned as written (the core compares names without case).
    pub fn classify(&self, dn: &str) -> Result<Target, DnError> {
        let rdns = parse_dn(dn)?;
        if rdns.is_empty() {
            return Ok(Target::RootDse);
        }
        if rdns.len() == 1 && single(&rdns[0], "cn").is_some_and(|v| same_text(v, "subschema")) {
            return Ok(Target::Subschema);
        }
        let Some(split) = rdns.len().checked_sub(self.base_rdns.len()) else {
            return Ok(Target::Outside);
        };
        if !same_rdns(&rdns[split..], &self.base_rdns) {
            return Ok(Target::Outside);
        }
        let below = &rdns[..split];
        let container = |rdn: &Rdn| single(rdn, "ou").map(str::to_lowercase);
        let target = match below {
            [] => Target::Base,
            [ou] => match container(ou).as_deref() {
                Some("people") => Target::People,
                Some("groups") => Target::Groups,
                _ => Target::Missing,
            },
            [leaf, ou] => match (
                container(ou).as_deref(),
                single(leaf, "uid"),
                single(leaf, "cn"),
            ) {
                (Some("people"), Some(uid), _) => Target::Person(uid.to_owned()),
                (Some("groups"), _, Some(cn)) => Target::Group(cn.to_owned()),
                _ => Target::Missing,
            },
            _ => Target::Missing,
        };
        Ok(target)
    }
}

/// Whether two DN strings name the same entry (same types, values equal
/// without regard to case). Invalid DNs are equal to nothing.
pub fn same_dn(a: &str, b: &str) -> bool {
    match (parse_dn(a), parse_dn(b)) {
        (Ok(a), Ok(b)) => same_rdns(&a, &b),
        _ => false,
    }
}

/// The value of `rdn` when it is the single AVA `attr=value`.
fn single<'a>(rdn: &'a Rdn, attr: &str) -> Option<&'a str> {
    match rdn.as_slice() {
        [ava] if ava.attr == attr => Some(&ava.value),
        _ => None,
    }
}

/// The layout's names (dc, ou, cn, uid) all match with caseIgnore rules.
fn same_text(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn same_rdns(a: &[Rdn], b: &[Rdn]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_rdn(x, y))
}

/// AVAs of a multi-valued RDN are a set: order does not matter.
fn same_rdn(a: &Rdn, b: &Rdn) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| {
            b.iter()
                .any(|y| x.attr == y.attr && same_text(&x.value, &y.value))
        })
}

/// Which sets of entries a search can return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub root_dse: bool,
    pub base: bool,
    pub people_ou: bool,
    pub groups_ou: bool,
    /// Every person entry (the core filters by filter and visibility).
    pub people: bool,
    /// Every group entry.
    pub groups: bool,
    /// Only this person (by uid, as the client wrote it).
    pub one_person: Option<String>,
    /// Only this group (by cn).
    pub one_group: Option<String>,
    pub subschema: bool,
}

impl Reach {
    /// Nothing at all: the base names no entry of this directory, or the
    /// scope has nothing below it.
    pub fn is_empty(&self) -> bool {
        *self == Reach::default()
    }
}

/// Which entries a search from `base` with `scope` covers. The tree is
/// flat below the two ou entries (groups nest by attribute, not by DN), so
/// person and group entries have no children.
///
/// `Outside` and `Missing` reach nothing; the session answers noSuchObject.
/// A one-level or subtree search from the root DSE reaches nothing too
/// (OpenLDAP would list the naming context for one-level; clients find the
/// base through `namingContexts` instead).
pub fn scope_covers(base: &Target, scope: &LdapSearchScope) -> Reach {
    use LdapSearchScope::{Base, Children, OneLevel, Subtree};
    let mut r = Reach::default();
    match (base, scope) {
        (Target::RootDse, Base) => r.root_dse = true,
        (Target::Subschema, Base) => r.subschema = true,
        (Target::Base, Base) => r.base = true,
        (Target::Base, OneLevel) => {
            r.people_ou = true;
            r.groups_ou = true;
        }
        (Target::Base, Subtree | Children) => {
            r.base = *scope == Subtree;
            r.people_ou = true;
            r.groups_ou = true;
            r.people = true;
            r.groups = true;
        }
        (Target::People, Base) => r.people_ou = true,
        (Target::People, OneLevel | Children) => r.people = true,
        (Target::People, Subtree) => {
            r.people_ou = true;
            r.people = true;
        }
        (Target::Groups, Base) => r.groups_ou = true,
        (Target::Groups, OneLevel | Children) => r.groups = true,
        (Target::Groups, Subtree) => {
            r.groups_ou = true;
            r.groups = true;
        }
        (Target::Person(uid), Base | Subtree) => r.one_person = Some(uid.clone()),
        (Target::Group(cn), Base | Subtree) => r.one_group = Some(cn.clone()),
        _ => {}
    }
    r
}

/// Escapes an attribute value for a DN string (RFC 4514 section 2.4), and
/// `=` as well, as OpenLDAP does, so that no reader splits a value there.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// Writes RDNs back as a DN string in one spelling.
pub fn format_dn(rdns: &[Rdn]) -> String {
    rdns.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|ava| format!("{}={}", ava.attr, escape_value(&ava.value)))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses an RFC 4514 DN string into its RDNs, leftmost first. The empty
/// string is the empty DN (the root DSE). Spaces around `,`, `+` and `=`
/// are tolerated, as most servers do; unescaped trailing spaces of a value
/// are dropped (RFC 4514 requires a significant trailing space to be
/// escaped). A `#hex` value (BER encoding) is kept as written, in lower
/// case: no name in this directory is written that way.
pub fn parse_dn(dn: &str) -> Result<Vec<Rdn>, DnError> {
    Parser {
        dn,
        chars: dn.chars().collect(),
        pos: 0,
    }
    .dn()
}

struct Parser<'a> {
    dn: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, DnError> {
        Err(DnError {
            dn: self.dn.to_owned(),
            reason: reason.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    fn dn(mut self) -> Result<Vec<Rdn>, DnError> {
        let mut rdns = Vec::new();
        self.skip_spaces();
        if self.peek().is_none() {
            return Ok(rdns);
        }
        let mut rdn = Vec::new();
        loop {
            rdn.push(self.ava()?);
            match self.peek() {
                None => {
                    rdns.push(rdn);
                    return Ok(rdns);
                }
                Some('+') => self.pos += 1,
                Some(',') => {
                    self.pos += 1;
                    rdns.push(std::mem::take(&mut rdn));
                }
                Some(c) => return self.fail(format!("unexpected {c:?}")),
            }
        }
    }

    /// `type = value`, leaving the position on the `,`, `+` or the end.
    fn ava(&mut self) -> Result<Ava, DnError> {
        self.skip_spaces();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let attr: String = self.chars[start..self.pos].iter().collect();
        if !is_attribute_type(&attr) {
            return if attr.is_empty() {
                self.fail("an attribute type is missing")
            } else {
                self.fail(format!("{attr:?} is not an attribute type"))
            };
        }
        self.skip_spaces();
        if self.peek() != Some('=') {
            return self.fail(format!("no '=' after {attr:?}"));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = if self.peek() == Some('#') {
            self.hex_value()?
        } else {
            self.string_value()?
        };
        let attr = schema::canonical_attribute(&attr)
            .map_or_else(|| attr.to_lowercase(), str::to_lowercase);
        Ok(Ava { attr, value })
    }

    /// `#` followed by hex pairs (a BER value), kept as written.
    fn hex_value(&mut self) -> Result<String, DnError> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let digits = self.pos - start - 1;
        if digits == 0 || !digits.is_multiple_of(2) {
            return self.fail("a '#' value needs pairs of hex digits");
        }
        let value: String = self.chars[start..self.pos].iter().collect();
        self.skip_spaces();
        match self.peek() {
            None | Some(',') | Some('+') => Ok(value.to_lowercase()),
            Some(c) => self.fail(format!("unexpected {c:?} after a '#' value")),
        }
    }

    /// A string value with `\c` and `\hh` escapes. Bytes from hex pairs
    /// are collected and decoded as UTF-8 at the end, since one character
    /// may be written as several pairs (`\C3\A9`).
    fn string_value(&mut self) -> Result<String, DnError> {
        let mut bytes = Vec::new();
        // Length of `bytes` up to the last character that is not an
        // unescaped space: what is left after trailing spaces are dropped.
        let mut significant = 0;
        while let Some(c) = self.peek() {
            match c {
                ',' | '+' => break,
                '\\' => {
                    self.pos += 1;
                    self.escape(&mut bytes)?;
                    significant = bytes.len();
                }
                '"' | ';' | '<' | '>' | '\0' => {
                    return self.fail(format!("{c:?} must be escaped in a value"));
                }
                _ => {
                    self.pos += 1;
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    if c != ' ' {
                        significant = bytes.len();
                    }
                }
            }
        }
        bytes.truncate(significant);
        match String::from_utf8(bytes) {
            Ok(value) => Ok(value),
            Err(_) => self.fail("escaped bytes are not UTF-8"),
        }
    }

    /// After a backslash: an escaped special character or a hex pair.
    fn escape(&mut self, bytes: &mut Vec<u8>) -> Result<(), DnError> {
        let Some(c) = self.peek() else {
            return self.fail("the DN ends in a lone backslash");
        };
        if c.is_ascii_hexdigit() {
            let pair = self
                .chars
                .get(self.pos + 1)
                .filter(|d| d.is_ascii_hexdigit())
                .and_then(|d| c.to_digit(16).zip(d.to_digit(16)));
            let Some((hi, lo)) = pair else {
                return self.fail("a '\\' hex escape needs two hex digits");
            };
            // Two hex digits always fit a byte.
            bytes.push((hi * 16 + lo) as u8);
            self.pos += 2;
            return Ok(());
        }
        if matches!(
            c,
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | ' ' | '#' | '='
        ) {
            bytes.push(c as u8);
            self.pos += 1;
            return Ok(());
        }
        self.fail(format!("{c:?} cannot be escaped"))
    }
}

/// RFC 4512 `descr` (a letter, then letters, digits and hyphens) or
/// `numericoid` (digits separated by dots).
fn is_attribute_type(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => chars.all(|c| c.is_ascii_alphanumeric() || c == '-'),
        Some(c) if c.is_ascii_digit() => s
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new("dc=example,dc=com").unwrap()
    }

    fn classify(dn: &str) -> Target {
        layout().classify(dn).unwrap()
    }

    #[test]
    fn layout_builds_the_fixed_names() {
        let l = Layout::new("DC=Example , dc=com").unwrap();
        assert_eq!(l.base_dn(), "dc=Example,dc=com");
        assert_eq!(l.people_dn(), "ou=people,dc=Example,dc=com");
        assert_eq!(l.groups_dn(), "ou=groups,dc=Example,dc=com");
        assert_eq!(
            l.person_dn("alice"),
            "uid=alice,ou=people,dc=Example,dc=com"
        );
        assert_eq!(l.group_dn("Sales"), "cn=Sales,ou=groups,dc=Example,dc=com");
        assert_eq!(
            l.base_rdn(),
            &Ava {
                attr: "dc".into(),
                value: "Example".into()
            }
        );
        assert_eq!(SUBSCHEMA_DN, "cn=Subschema");
    }

    #[test]
    fn layout_refuses_an_empty_or_invalid_base() {
        assert!(Layout::new("").is_err());
        assert!(Layout::new("  ").is_err());
        assert!(Layout::new("dc=,,x").is_err());
    }

    #[test]
    fn escaping_follows_rfc_4514() {
        assert_eq!(escape_value("Sales, EMEA"), "Sales\\, EMEA");
        assert_eq!(escape_value("a+b"), "a\\+b");
        assert_eq!(escape_value("say \"hi\""), "say \\\"hi\\\"");
        assert_eq!(escape_value("#1"), "\\#1");
        assert_eq!(escape_value("a#1"), "a#1");
        assert_eq!(escape_value(" lead"), "\\ lead");
        assert_eq!(escape_value("trail "), "trail\\ ");
        assert_eq!(escape_value("in side"), "in side");
        assert_eq!(escape_value("a\\b;c<d>e=f"), "a\\\\b\\;c\\<d\\>e\\=f");
        assert_eq!(escape_value("nul\0"), "nul\\00");
    }

    #[test]
    fn escaped_group_names_round_trip() {
        let l = layout();
        for name in [
            "Sales, EMEA",
            "R+D",
            "\"Quoted\"",
            "#hash",
            " spaced ",
            "back\\slash",
            "a=b;c<d>",
            "Ünïcødé",
            "",
        ] {
            let dn = l.group_dn(name);
            assert_eq!(l.classify(&dn).unwrap(), Target::Group(name.into()), "{dn}");
        }
        let dn = l.person_dn("bob");
        assert_eq!(l.classify(&dn).unwrap(), Target::Person("bob".into()));
    }

    #[test]
    fn hex_escapes_decode_as_utf8() {
        assert_eq!(
            classify("cn=Sales\\2C EMEA,ou=groups,dc=example,dc=com"),
            Target::Group("Sales, EMEA".into())
        );
        assert_eq!(
            classify("cn=caf\\C3\\A9,ou=groups,dc=example,dc=com"),
            Target::Group("café".into())
        );
        assert!(layout()
            .classify("cn=\\C3,ou=groups,dc=example,dc=com")
            .is_err());
    }

    #[test]
    fn classify_ignores_case_and_spaces_in_the_fixed_parts() {
        assert_eq!(
            classify("UID=Alice , OU=People , DC=EXAMPLE , DC=Com"),
            Target::Person("Alice".into())
        );
        assert_eq!(
            classify("cn = Sales EMEA ,ou=GROUPS,dc=example,dc=com"),
            Target::Group("Sales EMEA".into())
        );
        assert_eq!(classify("dc=example,  dc=com"), Target::Base);
        assert_eq!(classify("  "), Target::RootDse);
        // Aliases and OIDs of the types name the same thing.
        assert_eq!(
            classify("commonName=Ops,ou=groups,dc=example,dc=com"),
            Target::Group("Ops".into())
        );
        assert_eq!(
            classify("0.9.2342.19200300.100.1.1=bob,2.5.4.11=people,dc=example,dc=com"),
            Target::Person("bob".into())
        );
        // A significant trailing space is escaped; an unescaped one is not.
        assert_eq!(
            classify("cn=Ops\\ ,ou=groups,dc=example,dc=com"),
            Target::Group("Ops ".into())
        );
    }

    #[test]
    fn classify_names_every_target() {
        assert_eq!(classify(""), Target::RootDse);
        assert_eq!(classify("cn=Subschema"), Target::Subschema);
        assert_eq!(classify("CN=SUBSCHEMA"), Target::Subschema);
        assert_eq!(classify("dc=example,dc=com"), Target::Base);
        assert_eq!(classify("ou=people,dc=example,dc=com"), Target::People);
        assert_eq!(classify("ou=groups,dc=example,dc=com"), Target::Groups);
        assert_eq!(
            classify("uid=alice,ou=people,dc=example,dc=com"),
            Target::Person("alice".into())
        );
        assert_eq!(
            classify("cn=Sales,ou=groups,dc=example,dc=com"),
            Target::Group("Sales".into())
        );
        for outside in [
            "dc=com",
            "dc=other,dc=com",
            "dc=example,dc=org",
            "uid=alice,ou=people,dc=other,dc=com",
            "cn=Subschema,dc=example",
            "o=acme",
        ] {
            assert_eq!(classify(outside), Target::Outside, "{outside}");
        }
        for missing in [
            "ou=other,dc=example,dc=com",
            "uid=x,ou=groups,dc=example,dc=com",
            "cn=x,ou=people,dc=example,dc=com",
            "cn=x,dc=example,dc=com",
            "uid=a,uid=b,ou=people,dc=example,dc=com",
            "uid=a+cn=b,ou=people,dc=example,dc=com",
            "ou=people+ou=groups,dc=example,dc=com",
        ] {
            assert_eq!(classify(missing), Target::Missing, "{missing}");
        }
    }

    #[test]
    fn invalid_dns_are_errors() {
        let l = layout();
        for bad in [
            "dc=example,",
            ",dc=example",
            "dc=example,,dc=com",
            "example",
            "=x",
            "dc example",
            "d_c=x",
            "1.=x",
            "cn=a\\",
            "cn=a\\q",
            "cn=a\\4",
            "cn=a\"b",
            "cn=a;b",
            "cn=a<b",
            "cn=#12x",
            "cn=#123",
            "cn=#",
        ] {
            let err = l.classify(bad).unwrap_err();
            assert_eq!(err.dn, bad);
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn hex_values_are_kept_as_written() {
        assert_eq!(
            parse_dn("cn=#04024869,dc=x").unwrap()[0][0],
            Ava {
                attr: "cn".into(),
                value: "#04024869".into()
            }
        );
        assert_eq!(
            classify("cn=#0A,ou=groups,dc=example,dc=com"),
            Target::Group("#0a".into())
        );
    }

    #[test]
    fn same_dn_compares_without_case_or_spacing() {
        assert!(same_dn("uid=A,ou=People,dc=x", "UID=a, ou=people, DC=X"));
        assert!(same_dn("cn=a+ou=b,dc=x", "ou=b+cn=a,dc=x"));
        assert!(!same_dn("uid=a,dc=x", "uid=b,dc=x"));
        assert!(!same_dn("uid=a,dc=x", "uid=a;dc=x"));
    }

    fn reach(base: Target, scope: LdapSearchScope) -> Reach {
        scope_covers(&base, &scope)
    }

    #[test]
    fn reach_of_every_base_and_scope() {
        use LdapSearchScope::{Base, Children, OneLevel, Subtree};
        let none = Reach::default();
        assert!(none.is_empty());

        assert_eq!(
            reach(Target::RootDse, Base),
            Reach {
                root_dse: true,
                ..none.clone()
            }
        );
        for s in [OneLevel, Subtree, Children] {
            assert!(reach(Target::RootDse, s.clone()).is_empty());
            assert!(reach(Target::Subschema, s.clone()).is_empty());
            assert!(reach(Target::Outside, s.clone()).is_empty());
            assert!(reach(Target::Missing, s).is_empty());
        }
        assert_eq!(
            reach(Target::Subschema, Base),
            Reach {
                subschema: true,
                ..none.clone()
            }
        );
        assert!(reach(Target::Outside, Base).is_empty());
        assert!(reach(Target::Missing, Base).is_empty());

        assert_eq!(
            reach(Target::Base, Base),
            Reach {
                base: true,
                ..none.clone()
            }
        );
        assert_eq!(
            reach(Target::Base, OneLevel),
            Reach {
                people_ou: true,
                groups_ou: true,
                ..none.clone()
            }
        );
        let everything_below = Reach {
            people_ou: true,
            groups_ou: true,
            people: true,
            groups: true,
            ..none.clone()
        };
        assert_eq!(reach(Target::Base, Children), everything_below);
        assert_eq!(
            reach(Target::Base, Subtree),
            Reach {
                base: true,
                ..everything_below
            }
        );

        assert_eq!(
            reach(Target::People, Base),
            Reach {
                people_ou: true,
                ..none.clone()
            }
        );
        let all_people = Reach {
            people: true,
            ..none.clone()
        };
        assert_eq!(reach(Target::People, OneLevel), all_people);
        assert_eq!(reach(Target::People, Children), all_people);
        assert_eq!(
            reach(Target::People, Subtree),
            Reach {
                people_ou: true,
                ..all_people
            }
        );

        assert_eq!(
            reach(Target::Groups, Base),
            Reach {
                groups_ou: true,
                ..none.clone()
            }
        );
        let all_groups = Reach {
            groups: true,
            ..none.clone()
        };
        assert_eq!(reach(Target::Groups, OneLevel), all_groups);
        assert_eq!(reach(Target::Groups, Children), all_groups);
        assert_eq!(
            reach(Target::Groups, Subtree),
            Reach {
                groups_ou: true,
                ..all_groups
            }
        );

        let alice = Reach {
            one_person: Some("alice".into()),
            ..none.clone()
        };
        assert_eq!(reach(Target::Person("alice".into()), Base), alice);
        assert_eq!(reach(Target::Person("alice".into()), Subtree), alice);
        assert!(reach(Target::Person("alice".into()), OneLevel).is_empty());
        assert!(reach(Target::Person("alice".into()), Children).is_empty());

        let sales = Reach {
            one_group: Some("Sales".into()),
            ..none
        };
        assert_eq!(reach(Target::Group("Sales".into()), Base), sales);
        assert_eq!(reach(Target::Group("Sales".into()), Subtree), sales);
        assert!(reach(Target::Group("Sales".into()), OneLevel).is_empty());
        assert!(reach(Target::Group("Sales".into()), Children).is_empty());
    }
}
