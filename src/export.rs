//! `dirgate export --format ldif|json`: everything back out. LDIF uses the
//! LDAP face's own entries (what `ldapsearch` shows), so the file loads
//! into another directory; JSON uses the SCIM face's resources. Password
//! hashes only with `secrets` (as `userPassword: {ARGON2}...` or the
//! imported scheme it still has, and `passwordHash` in JSON).

use serde_json::{json, Value};

use crate::core::{Actor, CoreResult, Directory};
use crate::import::ldif;
use crate::ldap::dn::Layout;
use crate::ldap::entry::{group_entry, person_entry, Selection};
use crate::model::Page;
use crate::model::{Account, Node};
use crate::scim::resource::{group_json, user_json, Projection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ldif,
    Json,
}

/// The whole directory (accounts not archived, every group) as text.
pub fn export(
    dir: &Directory,
    layout: &Layout,
    format: Format,
    secrets: bool,
) -> CoreResult<String> {
    let system = Actor::System;
    let (accounts, _) = dir.list_accounts(&system, Page::ALL)?;
    let nodes = dir.list_nodes(&system, Page::ALL)?;
    let related = dir.related(
        &system,
        &accounts.iter().collect::<Vec<_>>(),
        &nodes.iter().collect::<Vec<_>>(),
    )?;
    let hash = |a: &Account| -> CoreResult<Option<String>> {
        if !secrets {
            return Ok(None);
        }
        Ok(dir
            .store()
            .credentials(a.id)?
            .and_then(|c| c.password_hash)
            .map(|h| {
                if h.starts_with("$argon2") {
                    format!("{{ARGON2}}{h}")
                } else {
                    h
                }
            }))
    };
    match format {
        Format::Ldif => {
            let mut out = String::from("version: 1\n\n");
            let sel = Selection::all();
            for a in &accounts {
                let e = person_entry(a, &related, layout, &sel);
                let mut attrs: Vec<(String, Vec<Vec<u8>>)> = e
                    .attributes
                    .into_iter()
                    .map(|p| (p.atype, p.vals))
                    .collect();
                if let Some(h) = hash(a)? {
                    attrs.push(("userPassword".into(), vec![h.into_bytes()]));
                }
                ldif::write_entry(&mut out, &e.dn, &attrs);
            }
            for n in ordered(&nodes) {
                let e = group_entry(n, &related, layout, &sel);
                let attrs: Vec<(String, Vec<Vec<u8>>)> = e
                    .attributes
                    .into_iter()
                    .map(|p| (p.atype, p.vals))
                    .collect();
                ldif::write_entry(&mut out, &e.dn, &attrs);
            }
            Ok(out)
        }
        Format::Json => {
            let all = Projection::all();
            let mut users = Vec::with_capacity(accounts.len());
            for a in &accounts {
                let mut u = user_json(a, &related, "", &all);
                if let Some(h) = hash(a)? {
                    u["passwordHash"] = Value::from(h);
                }
                users.push(u);
            }
            let groups: Vec<Value> = ordered(&nodes)
                .into_iter()
                .map(|n| group_json(n, &related, "", &all))
                .collect();
            let doc = json!({"users": users, "groups": groups});
            Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
        }
    }
}

/// Parents before their children, so a reader can create them in order.
fn ordered(nodes: &[Node]) -> Vec<&Node> {
    let mut out: Vec<&Node> = Vec::with_capacity(nodes.len());
    let mut placed = std::collections::HashSet::new();
    while out.len() < nodes.len() {
        let before = out.len();
        for n in nodes {
            if !placed.contains(&n.id) && n.parent.is_none_or(|p| placed.contains(&p)) {
                placed.insert(n.id);
                out.push(n);
            }
        }
        if out.len() == before {
            // A parent outside the list (cannot happen with Actor::System);
            // the rest in row order rather than nothing.
            out.extend(nodes.iter().filter(|n| !placed.contains(&n.id)));
            break;
        }
    }
    out
}
