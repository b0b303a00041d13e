//! The benchmark data set, written both into a dirgate data folder and as
//! LDIF for slapd: accounts `user00000`.. in groups of 50 (`group0000`..),
//! every hundredth account with the same password, hashed as argon2id with
//! the configured parameters (19456 KiB, 2 passes, 1 lane by default).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::cli::{open_directory, password_hasher, CliError};
use crate::config::Config;
use crate::core::{Actor, NewAccount, NewNode};
use crate::model::NodeKind;

/// The password of every account that has one.
pub const PASSWORD: &str = "Bench7Secret";
/// Accounts per group.
pub const GROUP_SIZE: usize = 50;
/// One account in this many has a password.
pub const PASSWORD_EVERY: usize = 100;
/// The tree both servers hold.
pub const BASE_DN: &str = "dc=example,dc=com";

pub fn user_name(i: usize) -> String {
    format!("user{i:05}")
}

pub fn group_name(g: usize) -> String {
    format!("group{g:04}")
}

pub fn person_dn(i: usize) -> String {
    format!("uid={},ou=people,{BASE_DN}", user_name(i))
}

pub fn has_password(i: usize) -> bool {
    i.is_multiple_of(PASSWORD_EVERY)
}

/// The accounts with a password, out of `accounts`.
pub fn password_accounts(accounts: usize) -> usize {
    accounts.div_ceil(PASSWORD_EVERY)
}

fn given(i: usize) -> String {
    format!("Given{i}")
}

fn family(i: usize) -> String {
    format!("Family{i}")
}

fn mail(i: usize) -> String {
    format!("{}@example.com", user_name(i))
}

/// Creates the accounts and groups in the dirgate data folder `data`
/// (bootstrapping it, so the super admin `admin` exists). Returns a SCIM
/// bearer token acting as `admin` when `token` is set.
pub fn seed_directory(
    data: &Path,
    config: &Config,
    accounts: usize,
    token: bool,
) -> Result<Option<String>, CliError> {
    let dir = open_directory(data, config)?;
    dir.bootstrap()?;
    let prepared = dir.prepare_password(PASSWORD)?;
    let sys = Actor::System;
    let mut ids = Vec::with_capacity(accounts);
    for i in 0..accounts {
        let mut new = NewAccount::named(user_name(i));
        new.given_name = given(i);
        new.family_name = family(i);
        new.email = Some(mail(i));
        if has_password(i) {
            new.password = Some(prepared.clone());
        }
        ids.push(dir.create_account(&sys, new)?.id);
    }
    for (g, members) in ids.chunks(GROUP_SIZE).enumerate() {
        let node = NewNode {
            name: group_name(g),
            kind: NodeKind::Group,
            parent: None,
            external_id: None,
        };
        let people: BTreeSet<_> = members.iter().copied().collect();
        dir.create_group(&sys, node, &people, &BTreeSet::new())?;
    }
    if !token {
        return Ok(None);
    }
    let (_, secret) = dir.issue_token(&sys, "admin", None)?;
    Ok(Some(secret))
}

/// Writes the same data set as LDIF for `slapadd`: the suffix, the two
/// organisational units, inetOrgPerson accounts with the attributes dirgate
/// shows, and groupOfNames groups. `userPassword` is `{ARGON2}` and a PHC
/// string made with `config`'s argon2 parameters (one hash, as dirgate's
/// side shares one prepared password).
pub fn write_ldif(out: &Path, config: &Config, accounts: usize) -> Result<(), CliError> {
    let phc = password_hasher(config)?.hash(PASSWORD)?;
    let io = |source| CliError::Io {
        context: format!("cannot write {}", out.display()),
        source,
    };
    let file = std::fs::File::create(out).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    let mut s = String::new();
    let _ = write!(
        s,
        "dn: {BASE_DN}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n\
         o: example\ndc: example\n\n\
         dn: ou=people,{BASE_DN}\nobjectClass: top\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{BASE_DN}\nobjectClass: top\nobjectClass: organizationalUnit\nou: groups\n\n"
    );
    for i in 0..accounts {
        let (gn, sn) = (given(i), family(i));
        let _ = write!(
            s,
            "dn: {}\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n\
             objectClass: inetOrgPerson\nuid: {}\ncn: {gn} {sn}\nsn: {sn}\ngivenName: {gn}\n\
             displayName: {gn} {sn}\nmail: {}\n",
            person_dn(i),
            user_name(i),
            mail(i)
        );
        if has_password(i) {
            let _ = writeln!(s, "userPassword: {{ARGON2}}{phc}");
        }
        s.push('\n');
        if s.len() > 1 << 16 {
            w.write_all(s.as_bytes()).map_err(io)?;
            s.clear();
        }
    }
    for g in 0..accounts.div_ceil(GROUP_SIZE) {
        let _ = write!(
            s,
            "dn: cn={},ou=groups,{BASE_DN}\nobjectClass: top\nobjectClass: groupOfNames\ncn: {}\n",
            group_name(g),
            group_name(g)
        );
        for i in g * GROUP_SIZE..((g + 1) * GROUP_SIZE).min(accounts) {
            let _ = writeln!(s, "member: {}", person_dn(i));
        }
        s.push('\n');
        if s.len() > 1 << 16 {
            w.write_all(s.as_bytes()).map_err(io)?;
            s.clear();
        }
    }
    w.write_all(s.as_bytes()).map_err(io)?;
    w.flush().map_err(io)
}

/// Writes `DN<TAB>PASSWORD` lines, one per account with a password, for
/// `ldclt -e randombinddnfromfile=FILE`.
pub fn write_bind_file(out: &Path, accounts: usize) -> Result<(), CliError> {
    let mut s = String::new();
    for i in (0..accounts).filter(|&i| has_password(i)) {
        let _ = writeln!(s, "{}\t{PASSWORD}", person_dn(i));
    }
    std::fs::write(out, s).map_err(|source| CliError::Io {
        context: format!("cannot write {}", out.display()),
        source,
    })
}
