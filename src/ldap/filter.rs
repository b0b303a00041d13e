//! RFC 4515 search filters, translated into the core's search language
//! (`core::query::Filter`) for person and group entries, and evaluated in
//! memory for the few fixed entries (root DSE, base, ou entries, subschema).
//!
//! Each translation matches what `entry.rs` shows: a filter selects an
//! entry when it would match the entry as the client reads it. Where the
//! shown value differs from the stored one (display names of enums, a
//! family name standing in for sn, timestamps shown to the second), the
//! translation says so.
//!
//! Three-valued logic (RFC 4511 section 4.5.1.7): a test on an attribute
//! the gateway does not publish, an ordering test on an attribute without
//! an ordering rule, or an assertion value that is not of the attribute's
//! syntax is `Undefined`; a well-formed value that names nothing is `False`.

use std::cmp::Ordering;
use std::str::FromStr;

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use ldap3_proto::proto::{
    LdapFilter, LdapMatchingRuleAssertion, LdapSearchResultEntry, LdapSubstringFilter,
};
use uuid::Uuid;

use super::attributes;
use super::dn::{same_dn, Layout, Target};
use super::entry::{NODE_CLASSES, PERSON_CLASSES};
use super::schema::{canonical_attribute, schema, SYNTAX_DN};
use crate::model::query::{AccountField, Filter, NodeField, Test, Value};
use crate::model::{AccountType, AdminLevel, AuthMethod, NodeKind, Status};

/// LDAP_MATCHING_RULE_IN_CHAIN (Active Directory): membership through any
/// number of nested groups.
pub const OID_IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

/// A filter for person entries, as the core's account filter.
pub fn account_filter(f: &LdapFilter, layout: &Layout) -> Filter<AccountField> {
    translate(f, &|attr: &str, a: &Assertion<'_>| {
        account_item(attr, a, layout)
    })
}

/// A filter for group (and business entity) entries, as the core's node
/// filter.
pub fn node_filter(f: &LdapFilter, layout: &Layout) -> Filter<NodeField> {
    translate(f, &|attr: &str, a: &Assertion<'_>| {
        node_item(attr, a, layout)
    })
}

/// One filter item, whatever its LDAP form.
#[derive(Debug, Clone, Copy)]
enum Assertion<'a> {
    Equal(&'a str),
    Present,
    Substring(&'a LdapSubstringFilter),
    AtLeast(&'a str),
    AtMost(&'a str),
    /// `attr:1.2.840.113556.1.4.1941:=value`.
    InChain(&'a str),
}

/// Walks the boolean structure and hands each item, with its attribute's
/// canonical lower-case name, to `item`.
fn translate<F>(f: &LdapFilter, item: &dyn Fn(&str, &Assertion<'_>) -> Filter<F>) -> Filter<F> {
    let leaf = |attr: &str, a: Assertion<'_>| item(&attribute_key(attr), &a);
    match f {
        LdapFilter::And(fs) => Filter::And(fs.iter().map(|f| translate(f, item)).collect()),
        LdapFilter::Or(fs) => Filter::Or(fs.iter().map(|f| translate(f, item)).collect()),
        LdapFilter::Not(f) => Filter::Not(Box::new(translate(f, item))),
        LdapFilter::Equality(attr, v) => leaf(attr, Assertion::Equal(v)),
        // Approximate match is implementation-defined (RFC 4511 section
        // 4.5.1.7.6); here it is plain equality, which already ignores case
        // for every text attribute the gateway has.
        LdapFilter::Approx(attr, v) => leaf(attr, Assertion::Equal(v)),
        LdapFilter::Present(attr) => leaf(attr, Assertion::Present),
        LdapFilter::Substring(attr, s) => leaf(attr, Assertion::Substring(s)),
        LdapFilter::GreaterOrEqual(attr, v) => leaf(attr, Assertion::AtLeast(v)),
        LdapFilter::LessOrEqual(attr, v) => leaf(attr, Assertion::AtMost(v)),
        LdapFilter::Extensible(m) => match extensible(m) {
            Some((attr, a)) => leaf(attr, a),
            None => Filter::Undefined,
        },
    }
}

/// The extensible matches the gateway understands: no rule (the
/// attribute's own equality, RFC 4511 section 4.5.1.7.7) and in-chain.
/// Matching the DN's attributes (`:dn:`), a rule without an attribute, or
/// any other rule is Undefined.
fn extensible(m: &LdapMatchingRuleAssertion) -> Option<(&str, Assertion<'_>)> {
    if m.dn_attributes {
        return None;
    }
    let attr = m.type_.as_deref()?;
    match m.matching_rule.as_deref() {
        None => Some((attr, Assertion::Equal(&m.match_value))),
        Some(OID_IN_CHAIN) => Some((attr, Assertion::InChain(&m.match_value))),
        Some(_) => None,
    }
}

/// The lower-cased canonical name of an attribute named by any of its
/// names or its OID; unknown names are only lower-cased.
fn attribute_key(attr: &str) -> String {
    canonical_attribute(attr).map_or_else(|| attr.to_lowercase(), str::to_lowercase)
}

fn account_item(attr: &str, a: &Assertion<'_>, layout: &Layout) -> Filter<AccountField> {
    use AccountField as A;
    match attr {
        "objectclass" => object_class(a, PERSON_CLASSES),
        "uid" => text(A::UserName, a),
        "cn" => text(A::FullName, a),
        "displayname" => text(A::ShownName, a),
        "dirgateloginname" => text(A::LoginName, a),
        "givenname" => text(A::GivenName, a),
        "sn" => surname(a),
        "mail" => text(A::Email, a),
        "mobile" => text(A::Mobile, a),
        "dirgatetimezone" => text(A::TimeZone, a),
        "dirgatesecurityrole" => text(A::Role, a),
        "employeetype" | "dirgateaccounttype" => named::<AccountType, _>(A::AccountType, a),
        "dirgateauthmethod" => named::<AuthMethod, _>(A::AuthMethod, a),
        "dirgatestatus" => named::<Status, _>(A::Status, a),
        "dirgateadminlevel" => named::<AdminLevel, _>(A::AdminLevel, a),
        "dirgateremoteassistance" => remote_assistance(a),
        "entryuuid" => uuid(A::Uuid, a),
        "manager" => dn_valued(A::Manager, a, layout, person_name),
        "memberof" => match a {
            Assertion::InChain(v) => dn_equals(A::MemberOfChain, v, layout, group_name),
            _ => dn_valued(A::MemberOf, a, layout, group_name),
        },
        "dirgaterestrictedto" => dn_valued(A::RestrictedTo, a, layout, group_name),
        "createtimestamp" => time(A::Created, a),
        "modifytimestamp" => time(A::Modified, a),
        // The directory attributes (title, department, ...).
        other => match attributes::attribute_named(other) {
            Some(attr) if attr.is_number() => number(A::Attribute(attr), a),
            Some(attr) => text(A::Attribute(attr), a),
            // userPassword is never readable, so never testable; everything
            // else is not an attribute of person entries.
            None => Filter::Undefined,
        },
    }
}

fn node_item(attr: &str, a: &Assertion<'_>, layout: &Layout) -> Filter<NodeField> {
    use NodeField as N;
    match attr {
        "objectclass" => object_class(a, NODE_CLASSES),
        "cn" => text(N::Name, a),
        "entryuuid" => uuid(N::Uuid, a),
        "member" => member(a, layout),
        "memberuid" => text(N::Member, a),
        "gidnumber" => number(N::GidNumber, a),
        // A group's memberOf is its parent: nested groups are members of
        // the group above them.
        "memberof" => match a {
            Assertion::InChain(v) => dn_equals(N::ParentChain, v, layout, group_name),
            _ => dn_valued(N::Parent, a, layout, group_name),
        },
        "dirgateparent" => dn_valued(N::Parent, a, layout, group_name),
        "dirgatenodekind" => named::<NodeKind, _>(N::Kind, a),
        "createtimestamp" => time(N::Created, a),
        "modifytimestamp" => time(N::Modified, a),
        _ => Filter::Undefined,
    }
}

/// objectClass against the fixed classes of the kind of entry: decided
/// here, without the store.
fn object_class<F>(a: &Assertion<'_>, classes: &[&str]) -> Filter<F> {
    let verdict = |b: bool| if b { Filter::True } else { Filter::False };
    match a {
        Assertion::Present => Filter::True,
        Assertion::Equal(v) => verdict(classes.iter().any(|c| c.eq_ignore_ascii_case(v))),
        Assertion::Substring(s) => verdict(classes.iter().any(|c| substring_matches(s, c))),
        _ => Filter::Undefined,
    }
}

/// A text attribute backed by one field. Values go to the store as given;
/// it folds case. The gateway's text attributes have no ordering rule, so
/// `>=` and `<=` on them are Undefined (RFC 4511 section 4.5.1.7.3).
fn text<F>(field: F, a: &Assertion<'_>) -> Filter<F> {
    match a {
        Assertion::Equal(v) => Filter::Test(field, Test::Equals(Value::Text((*v).to_owned()))),
        Assertion::Present => Filter::Test(field, Test::Present),
        Assertion::Substring(s) => Filter::Test(field, substring(s)),
        _ => Filter::Undefined,
    }
}

/// An INTEGER attribute (uidNumber, gidNumber): equality and ordering
/// (integerMatch, integerOrderingMatch), no substrings. The store compares
/// the numbers; a value that is not one makes the test undefined.
fn number<F>(field: F, a: &Assertion<'_>) -> Filter<F> {
    let value = |v: &str| Value::Text(v.to_owned());
    match a {
        Assertion::Equal(v) => Filter::Test(field, Test::Equals(value(v))),
        Assertion::AtLeast(v) => Filter::Test(field, Test::AtLeast(value(v))),
        Assertion::AtMost(v) => Filter::Test(field, Test::AtMost(value(v))),
        Assertion::Present => Filter::Test(field, Test::Present),
        _ => Filter::Undefined,
    }
}

fn substring(s: &LdapSubstringFilter) -> Test {
    Test::Substring {
        initial: s.initial.clone(),
        any: s.any.clone(),
        last: s.final_.clone(),
    }
}

/// sn shows the family name, or the user name when there is none (sn is
/// required by `person`), so a test on sn looks where the entry does.
fn surname(a: &Assertion<'_>) -> Filter<AccountField> {
    use AccountField::{FamilyName, UserName};
    match a {
        Assertion::Present => Filter::True,
        Assertion::Equal(_) | Assertion::Substring(_) => Filter::Or(vec![
            text(FamilyName, a),
            Filter::And(vec![
                Filter::Not(Box::new(Filter::Test(FamilyName, Test::Present))),
                text(UserName, a),
            ]),
        ]),
        _ => Filter::Undefined,
    }
}

/// The enums of the model, as entries show them (display names) and the
/// store keeps them (`as_str`).
trait Named: Copy + FromStr + 'static {
    fn all() -> &'static [Self];
    fn stored(self) -> &'static str;
    fn shown(self) -> &'static str;
    /// Whether an entry shows this value at all.
    fn is_shown(self) -> bool {
        true
    }
}

macro_rules! named {
    ($($t:ty),+) => {$(
        impl Named for $t {
            fn all() -> &'static [Self] { <$t>::ALL }
            fn stored(self) -> &'static str { self.as_str() }
            fn shown(self) -> &'static str { self.display_name() }
        }
    )+};
}
named!(AccountType, AuthMethod, Status, NodeKind);

impl Named for AdminLevel {
    fn all() -> &'static [Self] {
        AdminLevel::ALL
    }
    fn stored(self) -> &'static str {
        self.as_str()
    }
    fn shown(self) -> &'static str {
        self.display_name()
    }
    /// An account with no admin level has no dirgateAdminLevel attribute.
    fn is_shown(self) -> bool {
        self != AdminLevel::None
    }
}

/// An attribute holding one enum value. Equality accepts the display name
/// or the stored name in any case and spacing (the model's lenient
/// parser); a value naming no variant matches nothing. Substrings match
/// the display name the entry shows, decided here over the few variants.
fn named<E: Named, F: Copy>(field: F, a: &Assertion<'_>) -> Filter<F> {
    let is = |e: E| Filter::Test(field, Test::Equals(Value::Text(e.stored().to_owned())));
    match a {
        Assertion::Equal(v) => match v.parse::<E>() {
            Ok(e) if e.is_shown() => is(e),
            _ => Filter::False,
        },
        Assertion::Present => {
            let hidden: Vec<_> = E::all()
                .iter()
                .copied()
                .filter(|e| !e.is_shown())
                .map(is)
                .collect();
            if hidden.is_empty() {
                Filter::Test(field, Test::Present)
            } else {
                Filter::Not(Box::new(any_of(hidden)))
            }
        }
        Assertion::Substring(s) => any_of(
            E::all()
                .iter()
                .copied()
                .filter(|e| e.is_shown() && substring_matches(s, e.shown()))
                .map(is)
                .collect(),
        ),
        _ => Filter::Undefined,
    }
}

/// An OR that stays simple: none is False, one is itself.
fn any_of<F>(mut fs: Vec<Filter<F>>) -> Filter<F> {
    match fs.len() {
        0 => Filter::False,
        1 => fs.remove(0),
        _ => Filter::Or(fs),
    }
}

/// dirgateRemoteAssistance is carried by the account type: TRUE for the
/// types that have the right. It is Boolean syntax, so a value other than
/// TRUE or FALSE is Undefined (taken in any case, as clients vary).
fn remote_assistance(a: &Assertion<'_>) -> Filter<AccountField> {
    let with_right = |right: bool| {
        any_of(
            AccountType::ALL
                .iter()
                .filter(|t| t.remote_assistance() == right)
                .map(|t| {
                    Filter::Test(
                        AccountField::AccountType,
                        Test::Equals(Value::Text(t.as_str().to_owned())),
                    )
                })
                .collect(),
        )
    };
    match a {
        Assertion::Present => Filter::True,
        Assertion::Equal(v) if v.eq_ignore_ascii_case("TRUE") => with_right(true),
        Assertion::Equal(v) if v.eq_ignore_ascii_case("FALSE") => with_right(false),
        _ => Filter::Undefined,
    }
}

/// entryUUID: a value that is not a UUID is Undefined; the store keeps
/// UUIDs in lower-case hyphenated form.
fn uuid<F>(field: F, a: &Assertion<'_>) -> Filter<F> {
    match a {
        Assertion::Present => Filter::Test(field, Test::Present),
        Assertion::Equal(v) => match Uuid::parse_str(v.trim()) {
            Ok(u) => Filter::Test(field, Test::Equals(Value::Text(u.hyphenated().to_string()))),
            Err(_) => Filter::Undefined,
        },
        _ => Filter::Undefined,
    }
}

fn person_name(t: Target) -> Option<String> {
    match t {
        Target::Person(name) => Some(name),
        _ => None,
    }
}

fn group_name(t: Target) -> Option<String> {
    match t {
        Target::Group(name) => Some(name),
        _ => None,
    }
}

/// A DN-valued attribute backed by a field holding a name: presence, and
/// equality with a DN of the right kind. DNs have no substring or
/// ordering rule.
fn dn_valued<F>(
    field: F,
    a: &Assertion<'_>,
    layout: &Layout,
    name: fn(Target) -> Option<String>,
) -> Filter<F> {
    match a {
        Assertion::Present => Filter::Test(field, Test::Present),
        Assertion::Equal(v) => dn_equals(field, v, layout, name),
        _ => Filter::Undefined,
    }
}

/// `field = name` for a DN naming an entry of the right kind; any other
/// valid DN matches nothing, and an invalid one is Undefined.
fn dn_equals<F>(
    field: F,
    dn: &str,
    layout: &Layout,
    name: fn(Target) -> Option<String>,
) -> Filter<F> {
    match layout.classify(dn) {
        Ok(target) => match name(target) {
            Some(n) => Filter::Test(field, Test::Equals(Value::Text(n))),
            None => Filter::False,
        },
        Err(_) => Filter::Undefined,
    }
}

/// A group's members are people and, for nested groups, child groups.
fn member(a: &Assertion<'_>, layout: &Layout) -> Filter<NodeField> {
    match a {
        Assertion::Present => Filter::Or(vec![
            Filter::Test(NodeField::Member, Test::Present),
            Filter::Test(NodeField::Child, Test::Present),
        ]),
        Assertion::Equal(v) => match layout.classify(v) {
            Ok(Target::Person(n)) => Filter::Test(NodeField::Member, Test::Equals(Value::Text(n))),
            Ok(Target::Group(n)) => Filter::Test(NodeField::Child, Test::Equals(Value::Text(n))),
            Ok(_) => Filter::False,
            Err(_) => Filter::Undefined,
        },
        _ => Filter::Undefined,
    }
}

/// createTimestamp and modifyTimestamp. Entries show them truncated to the
/// second, so each test compares with what is shown: `= t` holds for a
/// stored time in [t, t+1s), `>= t` from the next whole second at or after
/// t, `<= t` before the whole second after t. A value that is not
/// GeneralizedTime is Undefined.
fn time<F: Copy>(field: F, a: &Assertion<'_>) -> Filter<F> {
    let at = |test: fn(Value) -> Test, t: Timestamp| Filter::Test(field, test(Value::Time(t)));
    let parsed = |v: &str| parse_generalized_time(v).and_then(|t| Some((floor_second(t)?, t)));
    match a {
        Assertion::Present => Filter::Test(field, Test::Present),
        Assertion::Equal(v) => match parsed(v) {
            Some((floor, t)) if floor == t => match next_second(t) {
                Some(next) => Filter::And(vec![at(Test::AtLeast, t), at(Test::Before, next)]),
                None => at(Test::AtLeast, t),
            },
            // No shown (whole-second) value equals a time with a fraction.
            Some(_) => Filter::False,
            None => Filter::Undefined,
        },
        Assertion::AtLeast(v) => match parsed(v) {
            Some((floor, t)) if floor == t => at(Test::AtLeast, t),
            Some((floor, _)) => match next_second(floor) {
                Some(ceil) => at(Test::AtLeast, ceil),
                None => Filter::False,
            },
            None => Filter::Undefined,
        },
        Assertion::AtMost(v) => match parsed(v) {
            Some((floor, _)) => match next_second(floor) {
                Some(next) => at(Test::Before, next),
                None => Filter::True,
            },
            None => Filter::Undefined,
        },
        _ => Filter::Undefined,
    }
}

fn floor_second(t: Timestamp) -> Option<Timestamp> {
    Timestamp::from_second(
        t.as_nanosecond()
            .div_euclid(1_000_000_000)
            .try_into()
            .ok()?,
    )
    .ok()
}

fn next_second(t: Timestamp) -> Option<Timestamp> {
    t.checked_add(SignedDuration::from_secs(1)).ok()
}

/// Parses GeneralizedTime (RFC 4517 section 3.3.13):
/// `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|+hh[mm]|-hh[mm])`. A fraction is
/// of the last unit given; a leap second (60) is read as 59.
pub fn parse_generalized_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if !matches!(digits, 10 | 12 | 14) {
        return None;
    }
    let (fixed, rest) = s.split_at(digits);
    let num = |i: usize, n: usize| fixed.get(i..i + n)?.parse::<i16>().ok();
    let year = num(0, 4)?;
    let month = i8::try_from(num(4, 2)?).ok()?;
    let day = i8::try_from(num(6, 2)?).ok()?;
    let hour = i8::try_from(num(8, 2)?).ok()?;
    let minute = if digits >= 12 {
        i8::try_from(num(10, 2)?).ok()?
    } else {
        0
    };
    let second = if digits == 14 {
        i8::try_from(num(12, 2)?).ok()?.min(59)
    } else {
        0
    };

    // The fraction, in nanoseconds of the last unit given.
    let (fraction, zone) = match rest.strip_prefix(['.', ',']) {
        Some(after) => {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let (frac, zone) = after.split_at(n);
            let unit_nanos: i128 = match digits {
                10 => 3_600_000_000_000,
                12 => 60_000_000_000,
                _ => 1_000_000_000,
            };
            // Nine digits are as fine as a nanosecond; more add nothing.
            let kept = &frac[..n.min(9)];
            let value: i128 = kept.parse().ok()?;
            (value * unit_nanos / 10_i128.pow(kept.len() as u32), zone)
        }
        None => (0, rest),
    };

    let offset_seconds = match zone.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), hh @ ..] if hh.len() == 2 || hh.len() == 4 => {
            let part = |i: usize| zone.get(i..i + 2)?.parse::<i32>().ok();
            let hours = part(1)?;
            let minutes = if hh.len() == 4 { part(3)? } else { 0 };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };

    let civil = DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    let start = Offset::from_seconds(offset_seconds)
        .ok()?
        .to_timestamp(civil)
        .ok()?;
    let nanos = i64::try_from(fraction).ok()?;
    start.checked_add(SignedDuration::from_nanos(nanos)).ok()
}

/// Evaluates a filter against an entry built in memory (the root DSE, the
/// base and ou entries, the subschema entry), three-valued: `None` is
/// Undefined. Attribute names and values compare without regard to case,
/// DN values as DNs; an absent attribute the schema knows is False, one it
/// does not know is Undefined. Extensible matches are Undefined.
///
/// Build the entry with `Selection::all()`: a filter may test attributes
/// the client did not ask to see.
pub fn matches_entry(f: &LdapFilter, entry: &LdapSearchResultEntry) -> Option<bool> {
    match f {
        LdapFilter::And(fs) => {
            let mut result = Some(true);
            for f in fs {
                match matches_entry(f, entry) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        LdapFilter::Or(fs) => {
            let mut result = Some(false);
            for f in fs {
                match matches_entry(f, entry) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        LdapFilter::Not(f) => matches_entry(f, entry).map(|b| !b),
        LdapFilter::Equality(attr, v) | LdapFilter::Approx(attr, v) => {
            let dn = schema().syntax_of(attr) == Some(SYNTAX_DN);
            test_values(entry, attr, |x| {
                Some(x.to_lowercase() == v.to_lowercase() || (dn && same_dn(x, v)))
            })
        }
        LdapFilter::Present(attr) => test_values(entry, attr, |_| Some(true)),
        LdapFilter::Substring(attr, s) => {
            test_values(entry, attr, |x| Some(substring_matches(s, x)))
        }
        LdapFilter::GreaterOrEqual(attr, v) => order(entry, attr, v, Ordering::is_ge),
        LdapFilter::LessOrEqual(attr, v) => order(entry, attr, v, Ordering::is_le),
        LdapFilter::Extensible(_) => None,
    }
}

/// True when some value passes, Undefined when none does and some test was
/// undefined, False otherwise (and for an absent attribute the schema
/// knows; Undefined for one it does not).
fn test_values(
    entry: &LdapSearchResultEntry,
    attr: &str,
    test: impl Fn(&str) -> Option<bool>,
) -> Option<bool> {
    let key = attribute_key(attr);
    let Some(found) = entry
        .attributes
        .iter()
        .find(|a| attribute_key(&a.atype) == key)
    else {
        return schema().attribute(attr).map(|_| false);
    };
    let mut result = Some(false);
    for v in &found.vals {
        match test(&String::from_utf8_lossy(v)) {
            Some(true) => return Some(true),
            None => result = None,
            Some(false) => {}
        }
    }
    result
}

/// Ordering applies only to attributes with an ordering rule among those
/// the fixed entries carry: the timestamps.
fn order(
    entry: &LdapSearchResultEntry,
    attr: &str,
    v: &str,
    wanted: fn(Ordering) -> bool,
) -> Option<bool> {
    let ordered = schema()
        .attribute(attr)
        .is_some_and(|a| a.ordering.is_some());
    if !ordered {
        return None;
    }
    let asserted = parse_generalized_time(v)?;
    test_values(entry, attr, |x| {
        parse_generalized_time(x).map(|t| wanted(t.cmp(&asserted)))
    })
}

/// `initial*any*...*final` against one value, ignoring case. Each part is
/// found after the previous one, and the final part after all of them.
pub fn substring_matches(s: &LdapSubstringFilter, value: &str) -> bool {
    let value = value.to_lowercase();
    let mut rest = value.as_str();
    if let Some(initial) = &s.initial {
        match rest.strip_prefix(initial.to_lowercase().as_str()) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    for part in &s.any {
        let part = part.to_lowercase();
        match rest.find(part.as_str()) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    match &s.final_ {
        Some(last) => rest.ends_with(last.to_lowercase().as_str()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use ldap3_proto::proto::LdapPartialAttribute;

    use super::*;
    use crate::ldap::entry::{people_ou_entry, Selection};
    use crate::ldap::schema::root_dse;

    use crate::model::Attribute;
    use AccountField as A;
    use NodeField as N;

    fn layout() -> Layout {
        Layout::new("dc=example,dc=com").unwrap()
    }

    fn eq(attr: &str, v: &str) -> LdapFilter {
        LdapFilter::Equality(attr.into(), v.into())
    }

    fn acc(f: &LdapFilter) -> Filter<AccountField> {
        account_filter(f, &layout())
    }

    fn node(f: &LdapFilter) -> Filter<NodeField> {
        node_filter(f, &layout())
    }

    fn is<F>(field: F, v: &str) -> Filter<F> {
        Filter::Test(field, Test::Equals(Value::Text(v.into())))
    }

    fn present<F>(field: F) -> Filter<F> {
        Filter::Test(field, Test::Present)
    }

    fn sub(s: &str) -> LdapSubstringFilter {
        LdapSubstringFilter::from(s)
    }

    fn chain(attr: &str, rule: Option<&str>, v: &str, dn_attributes: bool) -> LdapFilter {
        LdapFilter::Extensible(LdapMatchingRuleAssertion {
            matching_rule: rule.map(Into::into),
            type_: Some(attr.into()),
            match_value: v.into(),
            dn_attributes,
        })
    }

    fn time(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn object_class_is_decided_here() {
        for c in [
            "top",
            "PERSON",
            "organizationalPerson",
            "inetorgperson",
            "dirgatePerson",
        ] {
            assert_eq!(acc(&eq("objectClass", c)), Filter::True, "{c}");
        }
        assert_eq!(acc(&eq("objectclass", "groupOfNames")), Filter::False);
        assert_eq!(
            acc(&LdapFilter::Present("OBJECTCLASS".into())),
            Filter::True
        );
        assert_eq!(
            acc(&LdapFilter::Substring("objectClass".into(), sub("inet*"))),
            Filter::True
        );
        assert_eq!(
            acc(&LdapFilter::Substring("objectClass".into(), sub("*group*"))),
            Filter::False
        );
        assert_eq!(
            acc(&LdapFilter::GreaterOrEqual(
                "objectClass".into(),
                "a".into()
            )),
            Filter::Undefined
        );
        for c in ["top", "groupOfNames", "DIRGATENODE"] {
            assert_eq!(node(&eq("objectClass", c)), Filter::True, "{c}");
        }
        assert_eq!(node(&eq("objectClass", "person")), Filter::False);
        assert_eq!(
            node(&LdapFilter::Present("objectClass".into())),
            Filter::True
        );
    }

    #[test]
    fn text_attributes_map_to_fields() {
        for (attr, field) in [
            ("uid", A::UserName),
            ("UID", A::UserName),
            ("cn", A::FullName),
            ("commonName", A::FullName),
            ("displayName", A::ShownName),
            ("title", A::Attribute(Attribute::Title)),
            ("l", A::Attribute(Attribute::Locality)),
            ("localityName", A::Attribute(Attribute::Locality)),
            ("departmentNumber", A::Attribute(Attribute::Department)),
            ("givenname", A::GivenName),
            ("mail", A::Email),
            ("Mobile", A::Mobile),
            ("dirgateTimeZone", A::TimeZone),
            ("dirgateSecurityRole", A::Role),
        ] {
            assert_eq!(acc(&eq(attr, "Value")), is(field, "Value"), "{attr}");
            assert_eq!(
                acc(&LdapFilter::Approx(attr.into(), "Value".into())),
                is(field, "Value")
            );
            assert_eq!(acc(&LdapFilter::Present(attr.into())), present(field));
            assert_eq!(
                acc(&LdapFilter::Substring(attr.into(), sub("a*b*c"))),
                Filter::Test(
                    field,
                    Test::Substring {
                        initial: Some("a".into()),
                        any: vec!["b".into()],
                        last: Some("c".into())
                    }
                )
            );
            // No ordering rule on these attributes.
            assert_eq!(
                acc(&LdapFilter::GreaterOrEqual(attr.into(), "m".into())),
                Filter::Undefined
            );
            assert_eq!(
                acc(&LdapFilter::LessOrEqual(attr.into(), "m".into())),
                Filter::Undefined
            );
        }
        // Extensible match without a rule is the attribute's equality.
        assert_eq!(
            acc(&chain("uid", None, "bob", false)),
            is(A::UserName, "bob")
        );
    }

    #[test]
    fn surname_looks_where_the_entry_does() {
        let fallback = |t: Filter<AccountField>, u: Filter<AccountField>| {
            Filter::Or(vec![
                t,
                Filter::And(vec![Filter::Not(Box::new(present(A::FamilyName))), u]),
            ])
        };
        assert_eq!(
            acc(&eq("sn", "Smith")),
            fallback(is(A::FamilyName, "Smith"), is(A::UserName, "Smith"))
        );
        assert_eq!(acc(&eq("surname", "Smith")), acc(&eq("sn", "Smith")));
        let s = Test::Substring {
            initial: Some("Sm".into()),
            any: vec![],
            last: None,
        };
        assert_eq!(
            acc(&LdapFilter::Substring("SN".into(), sub("Sm*"))),
            fallback(
                Filter::Test(A::FamilyName, s.clone()),
                Filter::Test(A::UserName, s)
            )
        );
        assert_eq!(acc(&LdapFilter::Present("sn".into())), Filter::True);
    }

    #[test]
    fn enums_compare_stored_names() {
        for attr in ["employeeType", "dirgateAccountType", "DIRGATEACCOUNTTYPE"] {
            assert_eq!(
                acc(&eq(attr, "Report Reader")),
                is(A::AccountType, "report-reader")
            );
            assert_eq!(
                acc(&eq(attr, "report-reader")),
                is(A::AccountType, "report-reader")
            );
            assert_eq!(acc(&eq(attr, "Wizard")), Filter::False);
            assert_eq!(
                acc(&LdapFilter::Present(attr.into())),
                present(A::AccountType)
            );
        }
        assert_eq!(
            acc(&eq("dirgateAuthMethod", "Two Factor SMS Everytime")),
            is(A::AuthMethod, "two-factor-sms-every-time")
        );
        assert_eq!(
            acc(&eq("dirgateStatus", "INACTIVE")),
            is(A::Status, "inactive")
        );
        assert_eq!(acc(&eq("dirgateStatus", "gone")), Filter::False);
        assert_eq!(
            acc(&eq("dirgateAdminLevel", "Super Admin")),
            is(A::AdminLevel, "super-admin")
        );
        // Entries show no dirgateAdminLevel for "None".
        assert_eq!(acc(&eq("dirgateAdminLevel", "None")), Filter::False);
        assert_eq!(
            acc(&LdapFilter::Present("dirgateAdminLevel".into())),
            Filter::Not(Box::new(is(A::AdminLevel, "none")))
        );
        assert_eq!(
            node(&eq("dirgateNodeKind", "Business Entity")),
            is(N::Kind, "business-entity")
        );
        assert_eq!(node(&eq("dirgateNodeKind", "Planet")), Filter::False);
        // Substrings match display names, decided over the variants.
        assert_eq!(
            acc(&LdapFilter::Substring("employeeType".into(), sub("*Re*"))),
            Filter::Or(vec![
                is(A::AccountType, "remote-assistance-technician"),
                is(A::AccountType, "report-reader")
            ])
        );
        assert_eq!(
            acc(&LdapFilter::Substring(
                "dirgateAuthMethod".into(),
                sub("*app")
            )),
            is(A::AuthMethod, "two-factor-app")
        );
        assert_eq!(
            acc(&LdapFilter::Substring("dirgateStatus".into(), sub("x*"))),
            Filter::False
        );
        assert_eq!(
            acc(&LdapFilter::Substring(
                "dirgateAdminLevel".into(),
                sub("*n*")
            )),
            Filter::Or(vec![
                is(A::AdminLevel, "account-admin"),
                is(A::AdminLevel, "super-admin")
            ])
        );
        assert_eq!(
            acc(&LdapFilter::GreaterOrEqual(
                "dirgateStatus".into(),
                "a".into()
            )),
            Filter::Undefined
        );
    }

    #[test]
    fn remote_assistance_is_the_account_type() {
        assert_eq!(
            acc(&eq("dirgateRemoteAssistance", "TRUE")),
            Filter::Or(vec![
                is(A::AccountType, "administrator"),
                is(A::AccountType, "remote-assistance-technician")
            ])
        );
        assert_eq!(
            acc(&eq("dirgateremoteassistance", "false")),
            is(A::AccountType, "report-reader")
        );
        assert_eq!(
            acc(&eq("dirgateRemoteAssistance", "yes")),
            Filter::Undefined
        );
        assert_eq!(
            acc(&LdapFilter::Present("dirgateRemoteAssistance".into())),
            Filter::True
        );
    }

    #[test]
    fn entry_uuid() {
        let u = "6F1D2E3C-0000-4000-8000-00000000ABCD";
        assert_eq!(
            acc(&eq("entryUUID", u)),
            is(A::Uuid, "6f1d2e3c-0000-4000-8000-00000000abcd")
        );
        assert_eq!(
            node(&eq("entryuuid", u)),
            is(N::Uuid, "6f1d2e3c-0000-4000-8000-00000000abcd")
        );
        assert_eq!(acc(&eq("entryUUID", "nope")), Filter::Undefined);
        assert_eq!(
            acc(&LdapFilter::Present("entryUUID".into())),
            present(A::Uuid)
        );
        assert_eq!(
            acc(&LdapFilter::Substring("entryUUID".into(), sub("6f*"))),
            Filter::Undefined
        );
    }

    #[test]
    fn dn_valued_account_attributes() {
        let bob = "uid=bob,ou=people,dc=example,dc=com";
        let sales = "CN=Sales\\2C EMEA, ou=Groups, dc=Example, dc=com";
        assert_eq!(acc(&eq("manager", bob)), is(A::Manager, "bob"));
        assert_eq!(acc(&eq("manager", sales)), Filter::False);
        assert_eq!(acc(&eq("manager", "dc=other")), Filter::False);
        assert_eq!(acc(&eq("manager", "not a dn")), Filter::Undefined);
        assert_eq!(
            acc(&LdapFilter::Present("manager".into())),
            present(A::Manager)
        );
        assert_eq!(acc(&eq("memberOf", sales)), is(A::MemberOf, "Sales, EMEA"));
        assert_eq!(acc(&eq("memberOf", bob)), Filter::False);
        assert_eq!(
            acc(&LdapFilter::Present("memberOf".into())),
            present(A::MemberOf)
        );
        assert_eq!(
            acc(&eq("dirgateRestrictedTo", sales)),
            is(A::RestrictedTo, "Sales, EMEA")
        );
        assert_eq!(
            acc(&LdapFilter::Present("dirgateRestrictedTo".into())),
            present(A::RestrictedTo)
        );
        assert_eq!(
            acc(&LdapFilter::Substring("memberOf".into(), sub("cn=*"))),
            Filter::Undefined
        );
    }

    #[test]
    fn in_chain_membership() {
        let sales = "cn=Sales,ou=groups,dc=example,dc=com";
        assert_eq!(
            acc(&chain("memberOf", Some(OID_IN_CHAIN), sales, false)),
            is(A::MemberOfChain, "Sales")
        );
        assert_eq!(
            acc(&chain("MEMBEROF", Some(OID_IN_CHAIN), sales, false)),
            is(A::MemberOfChain, "Sales")
        );
        assert_eq!(
            node(&chain("memberOf", Some(OID_IN_CHAIN), sales, false)),
            is(N::ParentChain, "Sales")
        );
        assert_eq!(
            acc(&chain(
                "memberOf",
                Some(OID_IN_CHAIN),
                "uid=x,ou=people,dc=example,dc=com",
                false
            )),
            Filter::False
        );
        assert_eq!(
            acc(&chain("memberOf", Some(OID_IN_CHAIN), "bad", false)),
            Filter::Undefined
        );
        // :dn:, another rule, a rule on another attribute, or no attribute.
        assert_eq!(
            acc(&chain("memberOf", Some(OID_IN_CHAIN), sales, true)),
            Filter::Undefined
        );
        assert_eq!(
            acc(&chain(
                "memberOf",
                Some("1.2.840.113556.1.4.803"),
                sales,
                false
            )),
            Filter::Undefined
        );
        assert_eq!(
            acc(&chain(
                "memberOf",
                Some("1.2.840.113556.1.4.1941 "),
                sales,
                false
            )),
            Filter::Undefined
        );
        assert_eq!(
            acc(&chain("uid", Some(OID_IN_CHAIN), "x", false)),
            Filter::Undefined
        );
        let no_attr = LdapFilter::Extensible(LdapMatchingRuleAssertion {
            matching_rule: Some(OID_IN_CHAIN.into()),
            type_: None,
            match_value: sales.into(),
            dn_attributes: false,
        });
        assert_eq!(acc(&no_attr), Filter::Undefined);
    }

    #[test]
    fn node_attributes() {
        let alice = "uid=alice,ou=people,dc=example,dc=com";
        let deals = "cn=Deals,ou=groups,dc=example,dc=com";
        assert_eq!(node(&eq("cn", "Sales")), is(N::Name, "Sales"));
        assert_eq!(node(&LdapFilter::Present("CN".into())), present(N::Name));
        assert_eq!(node(&eq("member", alice)), is(N::Member, "alice"));
        assert_eq!(node(&eq("member", deals)), is(N::Child, "Deals"));
        assert_eq!(
            node(&eq("member", "ou=people,dc=example,dc=com")),
            Filter::False
        );
        assert_eq!(node(&eq("member", "x")), Filter::Undefined);
        assert_eq!(
            node(&LdapFilter::Present("member".into())),
            Filter::Or(vec![present(N::Member), present(N::Child)])
        );
        assert_eq!(node(&eq("memberOf", deals)), is(N::Parent, "Deals"));
        assert_eq!(node(&eq("dirgateParent", deals)), is(N::Parent, "Deals"));
        assert_eq!(node(&eq("dirgateParent", alice)), Filter::False);
        assert_eq!(
            node(&LdapFilter::Present("dirgateParent".into())),
            present(N::Parent)
        );
        for unknown in ["uid", "mail", "userPassword", "dirgateStatus", "foo"] {
            assert_eq!(node(&eq(unknown, "x")), Filter::Undefined, "{unknown}");
        }
    }

    #[test]
    fn unknown_and_secret_attributes_are_undefined() {
        for attr in [
            "userPassword",
            "USERPASSWORD",
            "foo",
            "dirgateResetPending",
            "cn;lang-fr",
        ] {
            assert_eq!(acc(&eq(attr, "x")), Filter::Undefined, "{attr}");
            assert_eq!(
                acc(&LdapFilter::Present(attr.into())),
                Filter::Undefined,
                "{attr}"
            );
        }
    }

    #[test]
    fn boolean_structure_is_kept() {
        let f = LdapFilter::And(vec![
            eq("objectClass", "person"),
            LdapFilter::Or(vec![eq("uid", "a"), eq("foo", "b")]),
            LdapFilter::Not(Box::new(eq("mail", "c"))),
        ]);
        assert_eq!(
            acc(&f),
            Filter::And(vec![
                Filter::True,
                Filter::Or(vec![is(A::UserName, "a"), Filter::Undefined]),
                Filter::Not(Box::new(is(A::Email, "c"))),
            ])
        );
        assert_eq!(acc(&LdapFilter::And(vec![])), Filter::And(vec![]));
    }

    #[test]
    fn timestamps_compare_with_what_entries_show() {
        let t = time("2024-01-02T03:04:05Z");
        let next = time("2024-01-02T03:04:06Z");
        let at = |test: fn(Value) -> Test, t| Filter::Test(A::Created, test(Value::Time(t)));
        assert_eq!(
            acc(&eq("createTimestamp", "20240102030405Z")),
            Filter::And(vec![at(Test::AtLeast, t), at(Test::Before, next)])
        );
        assert_eq!(
            acc(&eq("createTimestamp", "20240102030405.5Z")),
            Filter::False
        );
        assert_eq!(
            acc(&LdapFilter::GreaterOrEqual(
                "createTimestamp".into(),
                "20240102030405Z".into()
            )),
            at(Test::AtLeast, t)
        );
        assert_eq!(
            acc(&LdapFilter::GreaterOrEqual(
                "createTimestamp".into(),
                "20240102030404.2Z".into()
            )),
            at(Test::AtLeast, t)
        );
        assert_eq!(
            acc(&LdapFilter::LessOrEqual(
                "createTimestamp".into(),
                "20240102030405Z".into()
            )),
            at(Test::Before, next)
        );
        assert_eq!(
            acc(&LdapFilter::LessOrEqual(
                "createTimestamp".into(),
                "20240102030405.9Z".into()
            )),
            at(Test::Before, next)
        );
        assert_eq!(acc(&eq("createTimestamp", "yesterday")), Filter::Undefined);
        assert_eq!(
            acc(&LdapFilter::Present("createTimestamp".into())),
            present(A::Created)
        );
        assert_eq!(
            acc(&LdapFilter::Substring(
                "createTimestamp".into(),
                sub("2024*")
            )),
            Filter::Undefined
        );
        assert_eq!(
            acc(&LdapFilter::GreaterOrEqual(
                "MODIFYTIMESTAMP".into(),
                "20240102030405Z".into()
            )),
            Filter::Test(A::Modified, Test::AtLeast(Value::Time(t)))
        );
        assert_eq!(
            node(&LdapFilter::GreaterOrEqual(
                "modifyTimestamp".into(),
                "20240102030405Z".into()
            )),
            Filter::Test(N::Modified, Test::AtLeast(Value::Time(t)))
        );
        assert_eq!(
            node(&LdapFilter::LessOrEqual(
                "createTimestamp".into(),
                "20240102030405Z".into()
            )),
            Filter::Test(N::Created, Test::Before(Value::Time(next)))
        );
    }

    #[test]
    fn generalized_time_forms() {
        let t = |s| parse_generalized_time(s);
        assert_eq!(t("20240102030405Z"), Some(time("2024-01-02T03:04:05Z")));
        assert_eq!(
            t("20240102030405.25Z"),
            Some(time("2024-01-02T03:04:05.25Z"))
        );
        assert_eq!(t("20240102030405,5Z"), Some(time("2024-01-02T03:04:05.5Z")));
        assert_eq!(t("20240102030405+0130"), Some(time("2024-01-02T01:34:05Z")));
        assert_eq!(t("20240102030405-05"), Some(time("2024-01-02T08:04:05Z")));
        assert_eq!(t("202401020304Z"), Some(time("2024-01-02T03:04:00Z")));
        assert_eq!(t("2024010203Z"), Some(time("2024-01-02T03:00:00Z")));
        assert_eq!(t("2024010203.5Z"), Some(time("2024-01-02T03:30:00Z")));
        assert_eq!(t("202401020304.5Z"), Some(time("2024-01-02T03:04:30Z")));
        assert_eq!(t("20241231235960Z"), Some(time("2024-12-31T23:59:59Z")));
        assert_eq!(
            t("20240102030405.1234567891234Z"),
            Some(time("2024-01-02T03:04:05.123456789Z"))
        );
        for bad in [
            "",
            "20240102030405",
            "2024010203040Z",
            "20241302030405Z",
            "20240230030405Z",
            "20240102250405Z",
            "20240102030405.Z",
            "20240102030405+2400",
            "20240102030405+01:00",
            "20240102030405ZZ",
            "x20240102030405Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    fn fixed_entry() -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: "ou=people,dc=example,dc=com".into(),
            attributes: vec![
                LdapPartialAttribute {
                    atype: "objectClass".into(),
                    vals: vec![b"top".to_vec(), b"organizationalUnit".to_vec()],
                },
                LdapPartialAttribute {
                    atype: "ou".into(),
                    vals: vec![b"people".to_vec()],
                },
                LdapPartialAttribute {
                    atype: "createTimestamp".into(),
                    vals: vec![b"20240102030405Z".to_vec()],
                },
                LdapPartialAttribute {
                    atype: "entryDN".into(),
                    vals: vec![b"ou=people,dc=example,dc=com".to_vec()],
                },
            ],
        }
    }

    #[test]
    fn in_memory_matching_ignores_case() {
        let e = fixed_entry();
        let m = |f: &LdapFilter| matches_entry(f, &e);
        assert_eq!(m(&LdapFilter::Present("OBJECTCLASS".into())), Some(true));
        assert_eq!(m(&eq("objectclass", "ORGANIZATIONALUNIT")), Some(true));
        assert_eq!(
            m(&LdapFilter::Approx("ou".into(), "People".into())),
            Some(true)
        );
        assert_eq!(m(&eq("objectClass", "person")), Some(false));
        assert_eq!(
            m(&LdapFilter::Substring(
                "objectClass".into(),
                sub("org*unit")
            )),
            Some(true)
        );
        assert_eq!(
            m(&LdapFilter::Substring("ou".into(), sub("*eo*le"))),
            Some(true)
        );
        assert_eq!(
            m(&LdapFilter::Substring("ou".into(), sub("peo*eop"))),
            Some(false)
        );
        // DN values compare as DNs.
        assert_eq!(
            m(&eq("entryDN", "OU=People, DC=example, DC=com")),
            Some(true)
        );
        // An attribute the schema knows but the entry lacks is False; an
        // unknown one is Undefined.
        assert_eq!(m(&eq("cn", "x")), Some(false));
        assert_eq!(m(&LdapFilter::Present("uid".into())), Some(false));
        assert_eq!(m(&eq("foo", "x")), None);
        assert_eq!(m(&LdapFilter::Present("foo".into())), None);
        assert_eq!(m(&chain("ou", None, "people", false)), None);
    }

    #[test]
    fn in_memory_matching_is_three_valued() {
        let e = fixed_entry();
        let m = |f: &LdapFilter| matches_entry(f, &e);
        let t = eq("ou", "people");
        let f = eq("ou", "groups");
        let u = eq("foo", "bar");
        let and = |v: Vec<&LdapFilter>| LdapFilter::And(v.into_iter().cloned().collect());
        let or = |v: Vec<&LdapFilter>| LdapFilter::Or(v.into_iter().cloned().collect());
        let not = |x: &LdapFilter| LdapFilter::Not(Box::new(x.clone()));
        assert_eq!(m(&and(vec![&t, &u])), None);
        assert_eq!(m(&and(vec![&f, &u])), Some(false));
        assert_eq!(m(&and(vec![&t, &t])), Some(true));
        assert_eq!(m(&or(vec![&t, &u])), Some(true));
        assert_eq!(m(&or(vec![&f, &u])), None);
        assert_eq!(m(&or(vec![&f, &f])), Some(false));
        assert_eq!(m(&not(&u)), None);
        assert_eq!(m(&not(&f)), Some(true));
        assert_eq!(m(&and(vec![])), Some(true));
        assert_eq!(m(&or(vec![])), Some(false));
    }

    #[test]
    fn in_memory_ordering() {
        let e = fixed_entry();
        let m = |f: &LdapFilter| matches_entry(f, &e);
        let ge = |a: &str, v: &str| LdapFilter::GreaterOrEqual(a.into(), v.into());
        let le = |a: &str, v: &str| LdapFilter::LessOrEqual(a.into(), v.into());
        assert_eq!(m(&ge("createTimestamp", "20240101000000Z")), Some(true));
        assert_eq!(m(&ge("createTimestamp", "20250101000000Z")), Some(false));
        assert_eq!(m(&le("createTimestamp", "20240102030405Z")), Some(true));
        assert_eq!(m(&le("createTimestamp", "20240102040405+0100")), Some(true));
        assert_eq!(m(&ge("createTimestamp", "garbage")), None);
        assert_eq!(m(&ge("modifyTimestamp", "20240101000000Z")), Some(false));
        assert_eq!(m(&ge("ou", "a")), None);
    }

    #[test]
    fn in_memory_matching_on_built_entries() {
        let all = Selection::all();
        let dse = root_dse(&layout(), &all);
        assert_eq!(
            matches_entry(&LdapFilter::Present("objectClass".into()), &dse),
            Some(true)
        );
        assert_eq!(
            matches_entry(&eq("supportedLDAPVersion", "3"), &dse),
            Some(true)
        );
        assert_eq!(
            matches_entry(&eq("namingContexts", "DC=Example,DC=Com"), &dse),
            Some(true)
        );
        let ou = people_ou_entry(&layout(), &all);
        assert_eq!(
            matches_entry(&eq("hasSubordinates", "true"), &ou),
            Some(true)
        );
    }

    #[test]
    fn substring_matching() {
        let m = |p: &str, v: &str| substring_matches(&sub(p), v);
        assert!(m("ab*", "ABC"));
        assert!(m("*bc", "abc"));
        assert!(m("a*c", "abc"));
        assert!(m("*b*", "abc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("ab*bc", "abc"), "parts may not overlap");
        assert!(!m("a*b*b*c", "abc"));
        assert!(m("*", "anything"));
    }
}
