//! Server-side sorting (RFC 2891): reads the sort keys a request names,
//! orders the entries of a search by them, each attribute with its
//! ordering rule (or the ordering of its equality rule), and writes the
//! sortResult control of the answer. Pure functions of the rendered
//! entries: what an entry holds is the core's business, not this file's.

use std::cmp::Ordering;

use ldap3_proto::control::{LdapControl, ServerSortRequet};
use ldap3_proto::proto::{LdapResultCode, LdapSearchResultEntry};

use super::filter::parse_generalized_time;
use super::schema::{schema, AttributeType};

/// The sort request control.
pub use super::schema::OID_SERVER_SORT as OID_SORT_REQUEST;
/// The sort response control.
pub const OID_SORT_RESULT: &str = "1.2.840.113556.1.4.474";

/// How the values of one key compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// caseIgnoreOrderingMatch: case and repeated spaces ignored.
    CaseIgnore,
    /// caseExactOrderingMatch: repeated spaces ignored.
    CaseExact,
    /// integerOrderingMatch.
    Integer,
    /// generalizedTimeOrderingMatch: by the instant named.
    Time,
    /// numericStringOrderingMatch: spaces ignored.
    Numeric,
    /// octetStringOrderingMatch: the bytes.
    Octets,
}

impl Rule {
    /// The rule called `name` (a name or an OID, any case).
    fn named(name: &str) -> Option<Rule> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "caseignoreorderingmatch" | "2.5.13.3" => Rule::CaseIgnore,
            "caseexactorderingmatch" | "2.5.13.6" => Rule::CaseExact,
            "integerorderingmatch" | "2.5.13.15" => Rule::Integer,
            "generalizedtimeorderingmatch" | "2.5.13.28" => Rule::Time,
            "numericstringorderingmatch" | "2.5.13.9" => Rule::Numeric,
            "octetstringorderingmatch" | "2.5.13.18" => Rule::Octets,
            _ => return None,
        })
    }

    /// The ordering that goes with an equality rule.
    fn for_equality(name: &str) -> Rule {
        match name.trim().to_ascii_lowercase().as_str() {
            "caseexactmatch" | "caseexactia5match" | "2.5.13.5" => Rule::CaseExact,
            "integermatch" | "2.5.13.14" => Rule::Integer,
            "generalizedtimematch" | "2.5.13.27" => Rule::Time,
            "numericstringmatch" | "2.5.13.8" => Rule::Numeric,
            "octetstringmatch" | "2.5.13.17" | "uuidmatch" | "1.3.6.1.1.16.2" => Rule::Octets,
            // caseIgnoreMatch, caseIgnoreIA5Match, telephoneNumberMatch,
            // distinguishedNameMatch and the rest: compared as text, case
            // ignored.
            _ => Rule::CaseIgnore,
        }
    }
}

/// One sort key, resolved against the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The attribute's name as the request gave it.
    pub attribute: String,
    /// The lower-cased names the entries may carry it under.
    names: Vec<String>,
    pub rule: Rule,
    pub reverse: bool,
}

/// Why a sort cannot be done, as RFC 2891 codes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortError {
    pub code: LdapResultCode,
    /// The key's attribute.
    pub attribute: String,
    pub message: String,
}

/// The keys of a sort request, or why they cannot be used: an attribute
/// the schema does not know (noSuchAttribute), an ordering rule this
/// gateway does not have (inappropriateMatching).
pub fn keys(requests: &[ServerSortRequet]) -> Result<Vec<Key>, SortError> {
    requests
        .iter()
        .map(|r| {
            let Some(at) = schema().attribute(&r.attribute_name) else {
                return Err(SortError {
                    code: LdapResultCode::NoSuchAttribute,
                    attribute: r.attribute_name.clone(),
                    message: format!("cannot sort by {}: no such attribute", r.attribute_name),
                });
            };
            let rule = match &r.ordering_rule {
                Some(name) => Rule::named(name).ok_or_else(|| SortError {
                    code: LdapResultCode::InappropriateMatching,
                    attribute: r.attribute_name.clone(),
                    message: format!(
                        "cannot sort by {}: no ordering rule {name}",
                        r.attribute_name
                    ),
                })?,
                None => default_rule(at),
            };
            let mut names: Vec<String> = at.names.iter().map(|n| n.to_lowercase()).collect();
            names.push(at.oid.to_lowercase());
            Ok(Key {
                attribute: r.attribute_name.clone(),
                names,
                rule,
                reverse: r.reverse_order,
            })
        })
        .collect()
}

/// An attribute's ordering rule, inherited from its superiors, or the
/// ordering of its equality rule.
fn default_rule(at: &AttributeType) -> Rule {
    let mut current = Some(at);
    let mut equality = None;
    // The superior chain is short; the bound only guards against a loop.
    for _ in 0..8 {
        let Some(t) = current else { break };
        if let Some(rule) = t.ordering.as_deref().and_then(Rule::named) {
            return rule;
        }
        if equality.is_none() {
            equality = t.equality.clone();
        }
        current = t.sup.as_deref().and_then(|s| schema().attribute(s));
    }
    equality
        .as_deref()
        .map_or(Rule::CaseIgnore, Rule::for_equality)
}

/// A value made comparable by its rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sortable {
    Text(String),
    Integer(i128),
    Time(i128),
    Bytes(Vec<u8>),
}

fn sortable(rule: Rule, value: &[u8]) -> Option<Sortable> {
    let text = || String::from_utf8_lossy(value).into_owned();
    let spaced = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match rule {
        Rule::CaseIgnore => Sortable::Text(spaced(text()).to_lowercase()),
        Rule::CaseExact => Sortable::Text(spaced(text())),
        Rule::Numeric => Sortable::Text(text().replace(' ', "")),
        Rule::Integer => Sortable::Integer(text().trim().parse().ok()?),
        Rule::Time => Sortable::Time(parse_generalized_time(&text())?.as_nanosecond()),
        Rule::Octets => Sortable::Bytes(value.to_vec()),
    })
}

/// The value an entry sorts by for `key`: its least value, or its greatest
/// in reverse order; `None` when it has none the rule can read.
fn value_of(key: &Key, entry: &LdapSearchResultEntry) -> Option<Sortable> {
    let values = entry
        .attributes
        .iter()
        .filter(|a| key.names.contains(&a.atype.to_lowercase()))
        .flat_map(|a| a.vals.iter())
        .filter_map(|v| sortable(key.rule, v));
    match key.reverse {
        false => values.min(),
        true => values.max(),
    }
}

/// The values each entry sorts by, one per key, read from the entry with
/// every attribute (which may hold keys the client did not ask to see).
pub fn sort_values(keys: &[Key], full: &LdapSearchResultEntry) -> Vec<Option<Sortable>> {
    keys.iter().map(|k| value_of(k, full)).collect()
}

/// Orders `entries` (each with its [`sort_values`]) by `keys`: key by key,
/// ascending or, for a reverse key, descending; an entry without a value
/// for a key comes after those with one (RFC 2891 section 1.2: as if its
/// value were greater than any other), so before them in reverse order.
/// Ties keep their order.
pub fn sort(keys: &[Key], entries: &mut [(Vec<Option<Sortable>>, LdapSearchResultEntry)]) {
    entries.sort_by(|(a, _), (b, _)| {
        for (i, key) in keys.iter().enumerate() {
            let ordering = match (&a[i], &b[i]) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let ordering = if key.reverse {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

/// The sortResult control (RFC 2891 section 1.2): SEQUENCE { sortResult
/// ENUMERATED, attributeType [0] AttributeDescription OPTIONAL }, encoded
/// here because the protocol library writes the attribute untagged.
pub fn result_control(code: LdapResultCode, attribute: Option<&str>) -> LdapControl {
    let mut inner = vec![0x0a, 0x01, code as u8];
    if let Some(attribute) = attribute {
        inner.push(0x80);
        push_length(&mut inner, attribute.len());
        inner.extend_from_slice(attribute.as_bytes());
    }
    let mut value = vec![0x30];
    push_length(&mut value, inner.len());
    value.extend_from_slice(&inner);
    LdapControl::Unknown {
        oid: OID_SORT_RESULT.to_string(),
        criticality: false,
        value: Some(value),
    }
}

/// A BER definite length.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use ldap3_proto::proto::LdapPartialAttribute;

    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: dn.to_string(),
            attributes: attrs
                .iter()
                .map(|(t, vs)| LdapPartialAttribute {
                    atype: t.to_string(),
                    vals: vs.iter().map(|v| v.as_bytes().to_vec()).collect(),
                })
                .collect(),
        }
    }

    fn request(attr: &str, rule: Option<&str>, reverse: bool) -> ServerSortRequet {
        ServerSortRequet {
            attribute_name: attr.to_string(),
            ordering_rule: rule.map(str::to_string),
            reverse_order: reverse,
        }
    }

    fn sorted(keys: &[Key], entries: Vec<LdapSearchResultEntry>) -> Vec<String> {
        let mut with: Vec<_> = entries
            .into_iter()
            .map(|e| (sort_values(keys, &e), e))
            .collect();
        sort(keys, &mut with);
        with.into_iter().map(|(_, e)| e.dn).collect()
    }

    #[test]
    fn text_ignores_case_and_missing_values_go_last() {
        let entries = vec![
            entry("b", &[("cn", &["bob"])]),
            entry("none", &[]),
            entry("a", &[("cn", &["Alice"])]),
            entry("c", &[("CN", &["carol", "Aaron"])]),
        ];
        let forward = keys(&[request("cn", None, false)]).unwrap();
        assert_eq!(forward[0].rule, Rule::CaseIgnore);
        // carol's least value is Aaron.
        assert_eq!(sorted(&forward, entries.clone()), ["c", "a", "b", "none"]);
        let reverse = keys(&[request("commonName", None, true)]).unwrap();
        // In reverse her greatest, carol; the entry without a value first.
        assert_eq!(sorted(&reverse, entries), ["none", "c", "b", "a"]);
    }

    #[test]
    fn numbers_times_and_named_rules() {
        let entries = vec![
            entry("ten", &[("uid", &["10"])]),
            entry("nine", &[("uid", &["9"])]),
        ];
        let as_text = keys(&[request("uid", None, false)]).unwrap();
        assert_eq!(sorted(&as_text, entries.clone()), ["ten", "nine"]);
        let as_numbers = keys(&[request("uid", Some("2.5.13.15"), false)]).unwrap();
        assert_eq!(sorted(&as_numbers, entries), ["nine", "ten"]);

        let times = vec![
            entry("later", &[("createTimestamp", &["20240101120000Z"])]),
            entry("earlier", &[("createTimestamp", &["20240101130000+0200"])]),
        ];
        let by_time = keys(&[request("createTimestamp", None, false)]).unwrap();
        assert_eq!(by_time[0].rule, Rule::Time);
        assert_eq!(sorted(&by_time, times), ["earlier", "later"]);
    }

    #[test]
    fn a_second_key_breaks_ties() {
        let entries = vec![
            entry("1", &[("sn", &["Young"]), ("givenName", &["Jo"])]),
            entry("2", &[("sn", &["young"]), ("givenName", &["Al"])]),
            entry("3", &[("sn", &["Adams"]), ("givenName", &["Zed"])]),
        ];
        let k = keys(&[request("sn", None, false), request("givenName", None, true)]).unwrap();
        assert_eq!(sorted(&k, entries), ["3", "1", "2"]);
    }

    #[test]
    fn unknown_attributes_and_rules_are_named() {
        let e = keys(&[request("noSuchThing", None, false)]).unwrap_err();
        assert_eq!(e.code, LdapResultCode::NoSuchAttribute);
        assert_eq!(e.attribute, "noSuchThing");
        let e = keys(&[request("cn", Some("1.2.3.4"), false)]).unwrap_err();
        assert_eq!(e.code, LdapResultCode::InappropriateMatching);
    }

    #[test]
    fn the_result_control_is_ber() {
        let LdapControl::Unknown { oid, value, .. } =
            result_control(LdapResultCode::NoSuchAttribute, Some("cn"))
        else {
            panic!("not raw");
        };
        assert_eq!(oid, OID_SORT_RESULT);
        assert_eq!(
            value.unwrap(),
            [0x30, 0x07, 0x0a, 0x01, 16, 0x80, 0x02, b'c', b'n']
        );
        let LdapControl::Unknown { value, .. } = result_control(LdapResultCode::Success, None)
        else {
            panic!("not raw");
        };
        assert_eq!(value.unwrap(), [0x30, 0x03, 0x0a, 0x01, 0x00]);
    }
}
