//! `dirgate import FILE.ldif`: people and groups from an OpenLDAP export.
//! People (`uid` plus a person class) become accounts; `groupOfNames`,
//! `groupOfUniqueNames` and `posixGroup` entries become groups with their
//! members, a member that is a group nesting it. Password hashes are kept
//! as they came (`{ARGON2}` as its PHC string; `{SSHA}`, `{CRYPT}`... until
//! the first bind replaces them with argon2id). Everything goes through the
//! directory core as the system actor, so every account rule applies.

pub mod ldif;

use std::collections::{BTreeSet, HashMap};

use crate::core::password::imported_hash;
use crate::core::{Actor, CoreError, Directory, GroupEdit, MemberEdit, NewAccount, NewNode};
use crate::model::Attribute;
use crate::model::{AccountId, NodeId, NodeKind};

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub people: usize,
    pub groups: usize,
    pub memberships: usize,
    /// Accounts whose password hash came along.
    pub passwords: usize,
    /// Of those, hashes to be replaced by argon2id at the first bind.
    pub to_rehash: usize,
    /// Entries left out, each with the reason.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Ldif(#[from] ldif::LdifError),
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// The RFC 2307 attributes of a posixAccount an export carries (lower
/// case, as the LDIF reader names them).
const POSIX_ATTRIBUTES: &[(&str, Attribute)] = &[
    ("uidnumber", Attribute::UidNumber),
    ("gidnumber", Attribute::GidNumber),
    ("homedirectory", Attribute::HomeDirectory),
    ("loginshell", Attribute::LoginShell),
    ("gecos", Attribute::Gecos),
];

/// The part of a DN before the first comma, as `(attribute, value)` in
/// lower case.
fn first_rdn(dn: &str) -> Option<(String, String)> {
    let rdn = dn.split(',').next()?;
    let (a, v) = rdn.split_once('=')?;
    Some((a.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
}

/// DNs compare without regard to case or spaces after commas.
fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

fn is_person(e: &ldif::Entry) -> bool {
    e.first("uid").is_some()
        && [
            "inetorgperson",
            "person",
            "organizationalperson",
            "posixaccount",
            "account",
        ]
        .iter()
        .any(|c| e.is_a(c))
}

fn is_group(e: &ldif::Entry) -> bool {
    ["groupofnames", "groupofuniquenames", "posixgroup"]
        .iter()
        .any(|c| e.is_a(c))
}

/// Imports `text`. `progress(done, total)` is called after each entry.
pub fn import(
    dir: &Directory,
    text: &str,
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Summary, ImportError> {
    let entries = ldif::parse(text)?;
    let total = entries.len();
    let system = Actor::System;
    let mut summary = Summary::default();
    // DN (normalised) → the account made from it, and uid → the same.
    let mut people: HashMap<String, Option<AccountId>> = HashMap::new();
    let mut uids: HashMap<String, Option<AccountId>> = HashMap::new();
    let mut done = 0;

    for e in entries.iter().filter(|e| is_person(e)) {
        done += 1;
        progress(done, total);
        let uid = e.first("uid").unwrap_or_default().to_owned();
        let mut new = NewAccount::named(uid.clone());
        new.given_name = e.first("givenname").unwrap_or_default().to_owned();
        new.family_name = e.first("sn").unwrap_or_default().to_owned();
        new.email = e.first("mail").map(str::to_owned);
        new.mobile = e.first("mobile").map(str::to_owned);
        // A posixAccount keeps its numbers, so files on Linux hosts keep
        // their owners (the core checks them, and numbers new accounts).
        for (name, attr) in POSIX_ATTRIBUTES {
            if let Some(v) = e.first(name) {
                new.attributes.set(*attr, Some(v.to_owned()));
            }
        }
        let keys = e.all("sshpublickey");
        if !keys.is_empty() {
            new.attributes
                .set(Attribute::SshPublicKeys, Some(keys.join("\n")));
        }
        if let Some(stored) = e.first("userpassword") {
            match imported_hash(stored) {
                Some(hash) => {
                    summary.passwords += 1;
                    summary.to_rehash += usize::from(crate::core::password::needs_rehash(stored));
                    new.password = Some(hash);
                }
                None => summary.skipped.push(format!(
                    "{}: password in a scheme dirgate cannot verify; imported without a password",
                    e.dn
                )),
            }
        }
        let made = if dry_run {
            match crate::core::validate::user_name(&uid) {
                Ok(()) => Ok(None),
                Err(err) => Err(err),
            }
        } else {
            dir.create_account(&system, new).map(|a| Some(a.id))
        };
        match made {
            Ok(id) => {
                summary.people += 1;
                people.insert(dn_key(&e.dn), id);
                uids.insert(uid.to_ascii_lowercase(), id);
            }
            Err(err) => summary.skipped.push(format!("{}: {err}", e.dn)),
        }
    }

    // Groups first without members, so any group can then hold any other.
    let mut groups: HashMap<String, Option<NodeId>> = HashMap::new();
    for e in entries.iter().filter(|e| is_group(e)) {
        let Some(name) = e.first("cn").map(str::to_owned) else {
            summary
                .skipped
                .push(format!("{}: a group without cn", e.dn));
            continue;
        };
        let made = if dry_run {
            crate::core::validate::node_name(&name).map(|()| None)
        } else {
            let new = NewNode {
                name,
                kind: NodeKind::Group,
                parent: None,
                external_id: None,
            };
            dir.create_node(&system, new).map(|n| Some(n.id))
        };
        match made {
            Ok(id) => {
                summary.groups += 1;
                groups.insert(dn_key(&e.dn), id);
            }
            Err(err) => summary.skipped.push(format!("{}: {err}", e.dn)),
        }
    }
    for e in entries.iter().filter(|e| is_group(e)) {
        done += 1;
        progress(done, total);
        let Some(&group) = groups.get(&dn_key(&e.dn)) else {
            continue;
        };
        let mut add = BTreeSet::new();
        let mut add_groups = BTreeSet::new();
        let mut named = 0;
        let dns = e
            .all("member")
            .iter()
            .chain(e.all("uniquemember"))
            // groupOfUniqueNames may tag a DN with `#'0110'B`.
            .map(|m| m.split('#').next().unwrap_or(m).to_owned());
        for member in dns {
            let key = dn_key(&member);
            if let Some(&id) = people.get(&key) {
                named += 1;
                add.extend(id);
            } else if let Some(&id) = groups.get(&key) {
                named += 1;
                add_groups.extend(id);
            } else if let Some(id) = first_rdn(&member)
                .filter(|(a, _)| a == "uid")
                .and_then(|(_, v)| uids.get(&v).copied())
            {
                named += 1;
                add.extend(id);
            } else if !member.is_empty() {
                summary
                    .skipped
                    .push(format!("{}: member {member} is not in the file", e.dn));
            }
        }
        // rfc2307bis groups (dirgate's own export among them) name their
        // people twice, by DN and by memberUid: the DNs are read then.
        let by_dn = !e.all("member").is_empty() || !e.all("uniquemember").is_empty();
        let member_uids = if by_dn { &[][..] } else { e.all("memberuid") };
        for uid in member_uids {
            match uids.get(&uid.to_ascii_lowercase()) {
                Some(&id) => {
                    named += 1;
                    add.extend(id);
                }
                None => summary
                    .skipped
                    .push(format!("{}: memberUid {uid} is not in the file", e.dn)),
            }
        }
        summary.memberships += named;
        if let Some(group) = group {
            let edit = GroupEdit {
                members: MemberEdit::Change {
                    add,
                    remove: BTreeSet::new(),
                    add_groups,
                },
                ..GroupEdit::default()
            };
            if let Err(err) = dir.edit_group(&system, group, edit, None) {
                summary.skipped.push(format!("{}: members: {err}", e.dn));
            }
        }
    }
    progress(total, total);
    Ok(summary)
}
