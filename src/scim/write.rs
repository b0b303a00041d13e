//! Changing users: `POST /Users` (which also brings back an archived
//! account of the same user name, with the same id), `PUT /Users/{id}`
//! (a full replace) and `DELETE /Users/{id}` (which archives: accounts are
//! never deleted). Every change goes through the core as the token's actor.

use hyper::header::IF_MATCH;
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::patch::{apply, parse_patch, PatchError, PatchOp};
use super::reply;
use super::resource::{
    parse_user, parse_user_replacement, user_json, Projection, ResourceError, UserInput,
};
use crate::core::password::PreparedPassword;
use crate::core::{AccountChange, Actor, CoreError, Directory, NewAccount};
use crate::http::{Body, HttpFace};
use crate::model::query::Related;
use crate::model::{Account, AccountType, Attribute, AuthMethod, Status};

impl From<ResourceError> for ScimError {
    fn from(e: ResourceError) -> Self {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some(e.scim_type.as_str()),
            e.detail,
        )
    }
}

/// What a SCIM body becomes once its ids are resolved against the store.
struct Resolved {
    manager: Option<i64>,
    restricted_to: Option<i64>,
}

/// Turns the ids a body names into rows the actor can see; an id it
/// cannot see is a bad value, not a hint that it exists.
fn resolve(d: &Directory, actor: &Actor, input: &UserInput) -> Result<Resolved, CoreError> {
    let manager = input
        .manager
        .map(|m| d.account_by_uuid(actor, m).map(|a| a.id))
        .transpose()
        .map_err(|_| CoreError::InvalidValue {
            field: "manager",
            reason: "no such user".into(),
        })?;
    let restricted_to = input
        .restricted_to
        .map(|n| d.node_by_uuid(actor, n).map(|g| g.id))
        .transpose()
        .map_err(|_| CoreError::InvalidValue {
            field: "restrictedTo",
            reason: "no such group".into(),
        })?;
    Ok(Resolved {
        manager,
        restricted_to,
    })
}

fn status_of(active: Option<bool>) -> Status {
    match active {
        Some(false) => Status::Inactive,
        _ => Status::Active,
    }
}

/// The resource as it now stands, with its ETag and (for creates) 201 and
/// its Location.
async fn answer(
    face: &HttpFace,
    actor: &Actor,
    account: Account,
    base: &str,
    created: bool,
    projection: &Projection,
) -> Result<Response<Body>, ScimError> {
    let (account, related) = face
        .service
        .run_as(actor, move |d, actor| {
            let related = d.related(actor, &[&account], &[])?;
            Ok((account, related))
        })
        .await?;
    let json = user_json(&account, &related, base, projection);
    Ok(reply::resource(&json, account.version, created))
}

/// The whole resource with its ETag (and, when created, 201 and Location).
fn render(account: &Account, related: &Related, base: &str, created: bool) -> Response<Body> {
    let json = user_json(account, related, base, &Projection::all());
    reply::resource(&json, account.version, created)
}

pub async fn create_user(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let input = parse_user(body)?;
    let login = input
        .user_name
        .clone()
        .ok_or_else(|| ScimError::bad_request("invalidValue", "userName is required"))?;
    let password = prepared(face, input.password.clone()).await?;
    let account = face
        .service
        .run_as(actor, move |d, who| {
            let ids = resolve(d, who, &input)?;
            // The core decides what the login becomes: the user name, or a
            // login name with a user name derived from it.
            let mut new = NewAccount::from_login(login);
            new.password = password;
            new.given_name = input.given_name.unwrap_or_default();
            new.family_name = input.family_name.unwrap_or_default();
            for (a, v) in input.attributes {
                new.attributes.set(a, v);
            }
            new.email = input.email;
            new.mobile = input.mobile;
            new.time_zone = input.time_zone;
            new.account_type = input.account_type.unwrap_or(AccountType::ReportReader);
            new.auth_method = input.auth_method.unwrap_or(AuthMethod::Password);
            new.restricted_to = ids.restricted_to;
            new.manager = ids.manager;
            new.roles = input.roles.unwrap_or_default();
            new.status = status_of(input.active);
            new.external_id = input.external_id;
            // What the answer shows, read in the same trip to the store pool.
            let account = d.create_account(who, new)?;
            let related = d.related(who, &[&account], &[])?;
            Ok((account, related))
        })
        .await?;
    let (account, related) = account;
    Ok(render(&account, &related, base, true))
}

/// A password a body carries, checked and hashed on the password pool.
async fn prepared(
    face: &HttpFace,
    password: Option<String>,
) -> Result<Option<PreparedPassword>, ScimError> {
    match password {
        Some(p) => Ok(Some(face.service.prepare_password(p).await?)),
        None => Ok(None),
    }
}

fn parse_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found("no such user"))
}

/// `If-Match` as the stored version it names (`W/"7"` or `"7"`); `*`
/// matches anything. A tag that names no version cannot match: 412.
pub fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ScimError> {
    match headers.get(IF_MATCH) {
        None => Ok(None),
        Some(value) => version_named(value.to_str().unwrap_or("")),
    }
}

/// The version an entity tag names (also a `/Bulk` operation's `version`).
pub fn version_named(tag: &str) -> Result<Option<i64>, ScimError> {
    let text = tag.trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "If-Match names no version of this resource",
            )
        })
}

pub async fn replace_user(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
    id: &str,
    expected: Option<i64>,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id)?;
    let input = parse_user_replacement(body)?;
    // The password is hashed first, on the password pool; the rest of the
    // replace and the password are then one write.
    let password = prepared(face, input.password.clone()).await?;
    let account = face
        .service
        .run_as(actor, move |d, who| {
            let current = d.account_by_uuid(who, uuid)?;
            let mut change = change_of(d, who, input, Cleared::default())?;
            change.password = password;
            d.update_account(who, current.id, change, expected)
        })
        .await?;
    answer(face, actor, account, base, false, &Projection::all()).await
}

/// How often a PATCH is applied again to a fresh version when another
/// write landed between its read and its write.
const PATCH_TRIES: usize = 50;

/// What one try at a PATCH came to.
enum Patched {
    Done(Box<Account>),
    /// The operations set a password: it must be hashed (on the password
    /// pool) before the write.
    NeedsPassword(String),
    Refused(ScimError),
}

/// PATCH (RFC 7644 section 3.5.2): the operations are applied to the
/// resource as the actor sees it, all or none, and the result is stored
/// as one change at the version that was read. When another write landed
/// in between, the operations are applied again to the new version (or,
/// with If-Match, the request fails 412): concurrent PATCHes of one user
/// never lose each other's changes. Answered 200 with the resource, pruned
/// by `projection` (`None`: 204, for `/Bulk`).
pub async fn patch_user(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
    id: &str,
    expected: Option<i64>,
    projection: Option<Projection>,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id)?;
    let ops = parse_patch(body).map_err(patch_error)?;
    let mut password: Option<PreparedPassword> = None;
    let account = loop {
        let ops = ops.clone();
        let base_owned = base.to_owned();
        let prepared = password.clone();
        let tried = face
            .service
            .run_as(actor, move |d, who| {
                patch_once(d, who, uuid, &ops, &base_owned, expected, prepared)
            })
            .await?;
        match tried {
            Patched::Done(account) => break *account,
            Patched::Refused(e) => return Err(e),
            Patched::NeedsPassword(plain) if password.is_none() => {
                password = Some(face.service.prepare_password(plain).await?);
            }
            Patched::NeedsPassword(_) => {
                return Err(ScimError::new(
                    StatusCode::CONFLICT,
                    None,
                    "the password changed while the request was applied",
                ))
            }
        }
    };
    match projection {
        Some(projection) => answer(face, actor, account, base, false, &projection).await,
        None => Ok(reply::no_content(Some(account.version))),
    }
}

/// Reads the user, applies the operations, writes the result at the
/// version read; again on a newer version while tries last.
fn patch_once(
    d: &Directory,
    who: &Actor,
    uuid: Uuid,
    ops: &[PatchOp],
    base: &str,
    expected: Option<i64>,
    password: Option<PreparedPassword>,
) -> Result<Patched, CoreError> {
    for _ in 0..PATCH_TRIES {
        let account = d.account_by_uuid(who, uuid)?;
        if expected.is_some_and(|e| e != account.version) {
            return Err(CoreError::VersionMismatch("account"));
        }
        let related = d.related(who, &[&account], &[])?;
        let before = user_json(&account, &related, base, &Projection::all());
        let mut doc = before.clone();
        if let Err(e) = apply(&mut doc, ops) {
            return Ok(Patched::Refused(patch_error(e)));
        }
        let (mut input, had) = match (parse_user(&doc), parse_user(&before)) {
            (Ok(input), Ok(had)) => (input, had),
            (Err(e), _) | (_, Err(e)) => return Ok(Patched::Refused(e.into())),
        };
        // The formatted name shown without one stored is the names joined:
        // left as it was, it is not a value the client set.
        if account.attributes.get(Attribute::NameFormatted).is_none() {
            let shown = had.name_formatted();
            for (a, v) in &mut input.attributes {
                if *a == Attribute::NameFormatted && v.as_deref() == shown.as_deref() {
                    *v = None;
                }
            }
        }
        if let Some(plain) = input.password.take() {
            if password.is_none() {
                return Ok(Patched::NeedsPassword(plain));
            }
        }
        // A PUT that leaves out the manager keeps it (RFC 7644 section
        // 3.5.1 lets a server read an omitted attribute as not asserted); a
        // PATCH that removes it means it.
        let cleared = Cleared {
            manager: had.manager.is_some() && input.manager.is_none(),
            restricted_to: had.restricted_to.is_some() && input.restricted_to.is_none(),
        };
        let mut change = change_of(d, who, input, cleared)?;
        change.password = password.clone();
        match d.update_account(who, account.id, change, Some(account.version)) {
            Err(CoreError::VersionMismatch(_)) if expected.is_none() => continue,
            other => return other.map(|a| Patched::Done(Box::new(a))),
        }
    }
    Err(CoreError::VersionMismatch("account"))
}

pub fn patch_error(e: PatchError) -> ScimError {
    ScimError::new(StatusCode::BAD_REQUEST, Some(e.scim_type), e.detail)
}

/// References a PATCH removed, which `change_of` clears rather than keeps.
#[derive(Debug, Default, Clone, Copy)]
struct Cleared {
    manager: bool,
    restricted_to: bool,
}

/// The change that makes `input` the whole new state of the account (PUT,
/// and PATCH after its operations were applied).
fn change_of(
    d: &Directory,
    who: &Actor,
    input: UserInput,
    cleared: Cleared,
) -> Result<AccountChange, CoreError> {
    let ids = resolve(d, who, &input)?;
    // What the body leaves out is cleared, except what a client cannot
    // clear (user name, type, method: kept) and references only a PATCH
    // removes (manager, scope).
    Ok(AccountChange {
        login_name: input.user_name,
        user_name: None,
        given_name: Some(input.given_name.unwrap_or_default()),
        family_name: Some(input.family_name.unwrap_or_default()),
        email: Some(input.email),
        mobile: Some(input.mobile),
        time_zone: input.time_zone,
        account_type: input.account_type,
        auth_method: input.auth_method,
        restricted_to: keep_or_set(
            input.restricted_to,
            ids.restricted_to,
            cleared.restricted_to,
        ),
        manager: keep_or_set(input.manager, ids.manager, cleared.manager),
        roles: input.roles,
        status: Some(status_of(input.active)),
        external_id: Some(input.external_id),
        attributes: input.attributes,
        password: None,
    })
}

/// `None` keeps a reference, `Some(None)` clears it, `Some(id)` sets it.
fn keep_or_set<T>(given: Option<Uuid>, resolved: Option<T>, cleared: bool) -> Option<Option<T>> {
    match given {
        Some(_) => Some(resolved),
        None if cleared => Some(None),
        None => None,
    }
}

pub async fn delete_user(
    face: &HttpFace,
    actor: &Actor,
    id: &str,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id)?;
    face.service
        .run_as(actor, move |d, who| {
            let account = d.account_by_uuid(who, uuid)?;
            d.archive_account(who, account.id)
        })
        .await?;
    Ok(reply::no_content(None))
}
