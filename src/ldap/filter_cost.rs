//! What a search filter may cost: how many tests it holds and how deeply
//! it nests. A filter beyond either is refused before anything is asked of
//! the store (adminLimitExceeded, saying which limit), so that one client's
//! filter of thousands of terms cannot hold the store pool that every
//! search and bind shares.

use ldap3_proto::proto::LdapFilter;

use super::filter::OID_IN_CHAIN;

/// Terms a filter may hold: every test and every `&`, `|`, `!`, plus one
/// for each middle piece of a substring test; a nested-membership test
/// weighs more.
pub const MOST_TERMS: usize = 512;
/// How deeply `&`, `|` and `!` may nest.
pub const MOST_DEPTH: usize = 32;
/// What one nested-membership test (`1.2.840.113556.1.4.1941`) weighs: it
/// walks the tree.
const IN_CHAIN_WEIGHT: usize = 16;

/// Why a filter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooCostly {
    #[error("the filter holds more than {MOST_TERMS} terms")]
    Terms,
    #[error("the filter nests deeper than {MOST_DEPTH} levels")]
    Depth,
}

/// Checks `filter` against both limits, without recursion (the nesting
/// is what is being checked).
pub fn check(filter: &LdapFilter) -> Result<(), TooCostly> {
    let mut terms = 0usize;
    let mut stack = vec![(filter, 1usize)];
    while let Some((f, depth)) = stack.pop() {
        if depth > MOST_DEPTH {
            return Err(TooCostly::Depth);
        }
        terms += match f {
            LdapFilter::And(fs) | LdapFilter::Or(fs) => {
                stack.extend(fs.iter().map(|f| (f, depth + 1)));
                1
            }
            LdapFilter::Not(f) => {
                stack.push((f, depth + 1));
                1
            }
            LdapFilter::Substring(_, s) => 1 + s.any.len(),
            LdapFilter::Extensible(m) if m.matching_rule.as_deref() == Some(OID_IN_CHAIN) => {
                IN_CHAIN_WEIGHT
            }
            _ => 1,
        };
        if terms > MOST_TERMS {
            return Err(TooCostly::Terms);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(n: usize) -> LdapFilter {
        LdapFilter::Equality("uid".into(), format!("user{n}"))
    }

    #[test]
    fn many_terms_and_deep_nesting_are_refused_ordinary_filters_pass() {
        let ordinary = LdapFilter::And(vec![
            LdapFilter::Equality("objectClass".into(), "person".into()),
            LdapFilter::Or((0..50).map(eq).collect()),
        ]);
        assert_eq!(check(&ordinary), Ok(()));
        let wide = LdapFilter::Or((0..=MOST_TERMS).map(eq).collect());
        assert_eq!(check(&wide), Err(TooCostly::Terms));
        let mut deep = eq(0);
        for _ in 0..MOST_DEPTH {
            deep = LdapFilter::Not(Box::new(deep));
        }
        assert_eq!(check(&deep), Err(TooCostly::Depth));
    }
}
