//! SCIM attribute paths (RFC 7644 section 3.10 `attrPath`) and PATCH paths
//! (section 3.5.2 `path = attrPath / valuePath [subAttr]`).
//!
//! Attribute names are kept as written; compare them with [`AttrPath::is`],
//! which ignores case as RFC 7643 section 2.1 asks. A known schema URN
//! prefix is split off (matched ignoring case, stored in its canonical
//! spelling); an unknown URN prefix is kept as written in `schema`, for the
//! caller to reject.

use std::fmt;

use super::filter::{parse_bracketed, ParseError, ScimFilter, MAX_LEN};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Our User extension.
pub const DIRGATE_USER_SCHEMA: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
/// Our Group extension.
pub const DIRGATE_GROUP_SCHEMA: &str =
    "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group";

/// The schema URNs whose prefix is split off an attribute path.
pub const KNOWN_SCHEMAS: &[&str] = &[
    USER_SCHEMA,
    GROUP_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    DIRGATE_USER_SCHEMA,
    DIRGATE_GROUP_SCHEMA,
];

/// Top-level attribute names of the core schemas (lower case): an
/// unqualified name outside this list may also name an extension attribute
/// (clients send `manager` for the enterprise one).
pub const CORE_ATTRIBUTES: &[&str] = &[
    "id",
    "externalid",
    "meta",
    "schemas",
    "username",
    "name",
    "displayname",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
    "members",
];

/// `[URI ":"] ATTRNAME *1subAttr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix: canonical spelling if known, else as written.
    pub schema: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// An unqualified path `attr` (no sub-attribute).
    pub fn new(attr: &str) -> AttrPath {
        AttrPath {
            schema: None,
            attr: attr.to_owned(),
            sub_attr: None,
        }
    }

    /// Whether this path names `name` (`"userName"` or `"name.givenName"`),
    /// ignoring case and the schema prefix.
    pub fn is(&self, name: &str) -> bool {
        let (attr, sub) = match name.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (name, None),
        };
        self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub_attr, sub) {
                (None, None) => true,
                (Some(have), Some(want)) => have.eq_ignore_ascii_case(want),
                _ => false,
            }
    }

    /// Whether the top-level attribute is `attr`, whatever the sub-attribute.
    pub fn attr_is(&self, attr: &str) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
    }

    /// Whether the schema prefix (if any) is `urn`, ignoring case. An
    /// unqualified path is in every schema.
    pub fn in_schema(&self, urn: &str) -> bool {
        self.schema
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(urn))
    }

    /// The schema prefix is one this server does not know.
    pub fn unknown_schema(&self) -> bool {
        self.schema
            .as_deref()
            .is_some_and(|s| !KNOWN_SCHEMAS.iter().any(|k| k.eq_ignore_ascii_case(s)))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A PATCH operation's `path`: `attrPath / valuePath [subAttr]`, e.g.
/// `name.givenName`, `members[value eq "2819c223"]`,
/// `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// The value filter in brackets, if any.
    pub filter: Option<Box<ScimFilter>>,
    /// The sub-attribute after a value filter (`.value`). Without a filter
    /// the sub-attribute is in `attr.sub_attr`.
    pub sub_attr: Option<String>,
}

/// Parses a PATCH `path`.
pub fn parse_patch_path(s: &str) -> Result<PatchPath, ParseError> {
    if s.len() > MAX_LEN {
        return Err(ParseError::at(
            MAX_LEN,
            format!("path longer than {MAX_LEN} bytes"),
        ));
    }
    let b = s.as_bytes();
    let mut pos = skip_ws(b, 0);
    let start = pos;
    pos = scan_attr(b, pos);
    if pos == start {
        return Err(ParseError::at(start, "expected an attribute path"));
    }
    let attr = parse_attr_path_at(&s[start..pos], start)?;
    let mut filter = None;
    let mut sub_attr = None;
    if b.get(pos) == Some(&b'[') {
        if attr.sub_attr.is_some() {
            return Err(ParseError::at(
                pos,
                "a value filter applies to an attribute, not a sub-attribute",
            ));
        }
        let (f, end) = parse_bracketed(s, pos)?;
        filter = Some(Box::new(f));
        pos = end;
        if b.get(pos) == Some(&b'.') {
            let sub_start = pos + 1;
            pos = scan_attr(b, sub_start);
            let name = &s[sub_start..pos];
            check_name(name, sub_start)?;
            sub_attr = Some(name.to_owned());
        }
    }
    let end = skip_ws(b, pos);
    if end < b.len() {
        return Err(ParseError::at(
            end,
            format!("unexpected {:?} in path", char_at(s, end)),
        ));
    }
    Ok(PatchPath {
        attr,
        filter,
        sub_attr,
    })
}

/// Parses a plain attribute path (as in `attributes=`, `sortBy=`).
pub fn parse_attr_path(s: &str) -> Result<AttrPath, ParseError> {
    if s.len() > MAX_LEN {
        return Err(ParseError::at(
            MAX_LEN,
            format!("path longer than {MAX_LEN} bytes"),
        ));
    }
    let b = s.as_bytes();
    let start = skip_ws(b, 0);
    let end = scan_attr(b, start);
    if end == start {
        return Err(ParseError::at(start, "expected an attribute path"));
    }
    let rest = skip_ws(b, end);
    if rest < b.len() {
        return Err(ParseError::at(
            rest,
            format!("unexpected {:?} in attribute path", char_at(s, rest)),
        ));
    }
    parse_attr_path_at(&s[start..end], start)
}

/// Splits `text` (found at byte `base` of the input) into schema, attribute
/// and sub-attribute, checking the names.
pub(super) fn parse_attr_path_at(text: &str, base: usize) -> Result<AttrPath, ParseError> {
    let mut schema = None;
    let mut rest = text;
    let mut rest_at = base;
    if text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        let known = KNOWN_SCHEMAS.iter().find(|k| {
            text.len() >= k.len()
                && text.is_char_boundary(k.len())
                && text[..k.len()].eq_ignore_ascii_case(k)
                && (text.len() == k.len() || text.as_bytes()[k.len()] == b':')
        });
        let split = match known {
            Some(k) => {
                if text.len() == k.len() {
                    return Err(ParseError::at(
                        base + text.len(),
                        "expected an attribute name after the schema URN",
                    ));
                }
                schema = Some((*k).to_owned());
                k.len()
            }
            None => {
                // "urn:" holds a colon, so this always finds one.
                let i = text.rfind(':').unwrap_or(3);
                schema = Some(text[..i].to_owned());
                i
            }
        };
        rest = &text[split + 1..];
        rest_at = base + split + 1;
    }
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    check_name(attr, rest_at)?;
    let sub_attr = match sub {
        Some(sub) => {
            let sub_at = rest_at + attr.len() + 1;
            if let Some(i) = sub.find('.') {
                return Err(ParseError::at(
                    sub_at + i,
                    "an attribute path has at most one sub-attribute",
                ));
            }
            check_name(sub, sub_at)?;
            Some(sub.to_owned())
        }
        None => None,
    };
    Ok(AttrPath {
        schema,
        attr: attr.to_owned(),
        sub_attr,
    })
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`;
/// `$ref` is allowed too.
fn check_name(name: &str, at: usize) -> Result<(), ParseError> {
    let mut chars = name.char_indices();
    match chars.next() {
        None => return Err(ParseError::at(at, "expected an attribute name")),
        Some((_, c)) if c.is_ascii_alphabetic() || c == '$' => {}
        Some((_, c)) => {
            return Err(ParseError::at(
                at,
                format!("an attribute name starts with a letter, not {c:?}"),
            ))
        }
    }
    for (i, c) in chars {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ParseError::at(
                at + i,
                format!("invalid character {c:?} in attribute name"),
            ));
        }
    }
    Ok(())
}

pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

pub(super) fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && is_ws(b[pos]) {
        pos += 1;
    }
    pos
}

/// The end of an attribute-path token starting at `pos`.
pub(super) fn scan_attr(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && !is_ws(b[pos]) && !matches!(b[pos], b'(' | b')' | b'[' | b']' | b'"') {
        pos += 1;
    }
    pos
}

/// The character at byte `pos` (for messages).
pub(super) fn char_at(s: &str, pos: usize) -> char {
    s.get(pos..)
        .and_then(|r| r.chars().next())
        .unwrap_or('\u{FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompareOp, ScimValue};

    fn p(s: &str) -> AttrPath {
        parse_attr_path(s).unwrap()
    }

    #[test]
    fn plain_and_sub_attribute_paths() {
        assert_eq!(p("userName"), AttrPath::new("userName"));
        let n = p("name.givenName");
        assert_eq!(n.attr, "name");
        assert_eq!(n.sub_attr.as_deref(), Some("givenName"));
        assert!(n.is("NAME.GIVENNAME"));
        assert!(!n.is("name"));
        assert!(!n.is("name.familyName"));
        assert!(p("USERNAME").is("userName"));
        assert!(p("groups.$ref").is("groups.$ref"));
        assert_eq!(p("name.givenName").to_string(), "name.givenName");
    }

    #[test]
    fn known_urns_are_split_ignoring_case() {
        let a = p("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName");
        assert_eq!(a.schema.as_deref(), Some(USER_SCHEMA));
        assert!(a.is("name.givenName"));
        let a = p("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName");
        assert_eq!(a.schema.as_deref(), Some(USER_SCHEMA));
        assert_eq!(a.attr, "userName");
        let a = p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        assert_eq!(a.schema.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert!(a.is("manager"));
        assert!(!a.unknown_schema());
        let a = p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        assert!(a.is("manager.value"));
        let a = p("urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:accountType");
        assert_eq!(a.schema.as_deref(), Some(DIRGATE_USER_SCHEMA));
        let a = p("urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group:kind");
        assert_eq!(a.schema.as_deref(), Some(DIRGATE_GROUP_SCHEMA));
        let a = p("urn:ietf:params:scim:schemas:core:2.0:Group:displayName");
        assert_eq!(a.schema.as_deref(), Some(GROUP_SCHEMA));
        assert!(a.in_schema(GROUP_SCHEMA));
        assert!(!a.in_schema(USER_SCHEMA));
        assert!(p("displayName").in_schema(GROUP_SCHEMA));
    }

    #[test]
    fn unknown_urns_are_kept() {
        let a = p("urn:example:params:scim:schemas:extension:foo:2.0:User:badge.number");
        assert_eq!(
            a.schema.as_deref(),
            Some("urn:example:params:scim:schemas:extension:foo:2.0:User")
        );
        assert_eq!(a.attr, "badge");
        assert_eq!(a.sub_attr.as_deref(), Some("number"));
        assert!(a.unknown_schema());
    }

    #[test]
    fn bad_attribute_paths() {
        let e = parse_attr_path("a.b.c").unwrap_err();
        assert_eq!(e.position, Some(3));
        let e = parse_attr_path("1abc").unwrap_err();
        assert_eq!(e.position, Some(0));
        let e = parse_attr_path("user*Name").unwrap_err();
        assert_eq!(e.position, Some(4));
        assert!(e.to_string().contains("byte 4"), "{e}");
        let e = parse_attr_path("urn:ietf:params:scim:schemas:core:2.0:User").unwrap_err();
        assert!(e.to_string().contains("attribute name"), "{e}");
        assert!(parse_attr_path("").is_err());
        assert!(parse_attr_path("name.").is_err());
        assert!(parse_attr_path("userName x").is_err());
        assert!(parse_attr_path(&"a".repeat(5000)).is_err());
    }

    #[test]
    fn patch_paths() {
        let pp = parse_patch_path("name.givenName").unwrap();
        assert!(pp.attr.is("name.givenName"));
        assert!(pp.filter.is_none() && pp.sub_attr.is_none());

        let pp = parse_patch_path("members[value eq \"2819c223\"]").unwrap();
        assert!(pp.attr.is("members"));
        assert_eq!(
            pp.filter.as_deref(),
            Some(&ScimFilter::Compare {
                path: AttrPath::new("value"),
                op: CompareOp::Eq,
                value: ScimValue::String("2819c223".into()),
            })
        );
        assert!(pp.sub_attr.is_none());

        let pp = parse_patch_path("emails[type eq \"work\"].value").unwrap();
        assert!(pp.attr.is("emails"));
        assert!(pp.filter.is_some());
        assert_eq!(pp.sub_attr.as_deref(), Some("value"));

        let pp =
            parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
                .unwrap();
        assert_eq!(pp.attr.schema.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert!(pp.attr.is("manager"));

        let pp = parse_patch_path(
            "urn:ietf:params:scim:schemas:core:2.0:User:emails[type Eq \"work\"].value",
        )
        .unwrap();
        assert_eq!(pp.attr.schema.as_deref(), Some(USER_SCHEMA));
        assert_eq!(pp.sub_attr.as_deref(), Some("value"));

        let pp = parse_patch_path("  userName  ").unwrap();
        assert!(pp.attr.is("userName"));
    }

    #[test]
    fn bad_patch_paths() {
        let e = parse_patch_path("emails[type eq \"work\"").unwrap_err();
        assert!(e.to_string().contains("']'"), "{e}");
        let e = parse_patch_path("emails[type eq \"work\"] x").unwrap_err();
        assert_eq!(e.position, Some(23));
        assert!(parse_patch_path("emails[type eq \"work\"].").is_err());
        assert!(parse_patch_path("name.givenName[value pr]").is_err());
        assert!(parse_patch_path("").is_err());
        assert!(parse_patch_path("emails[]").is_err());
        assert!(
            parse_patch_path(&format!("a[{}b pr{}]", "(".repeat(2000), ")".repeat(2000))).is_err()
        );
        assert!(parse_patch_path(&"x".repeat(5000)).is_err());
    }
}
