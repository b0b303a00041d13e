//! Changing users: `POST /Users` (which also brings back an archived
//! account of the same user name, with the same id), `PUT /Users/{id}`
//! (a full replace) and `DELETE /Users/{id}` (which archives: accounts are
//! never deleted). Every change goes through the core as the token's actor.

use hyper::header::IF_MATCH;
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::patch::{apply, parse_patch, PatchError};
use super::reply;
use super::resource::{
    parse_user, parse_user_replacement, user_json, Projection, ResourceError, UserInput,
};
use crate::core::model::{Account, AccountType, AuthMethod, Status};
use crate::core::query::Related;
use crate::core::{AccountChange, Actor, CoreError, Directory, NewAccount};
use crate::http::{Body, HttpFace};

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
) -> Result<Response<Body>, ScimError> {
    let (account, related) = face
        .service
        .run_as(actor, move |d, actor| {
            let related = d.related(actor, &[&account], &[])?;
            Ok((account, related))
        })
        .await?;
    Ok(render(&account, &related, base, created))
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
    let user_name = input
        .user_name
        .clone()
        .ok_or_else(|| ScimError::bad_request("invalidValue", "userName is required"))?;
    let password = match input.password.clone() {
        Some(p) => Some(face.service.prepare_password(p).await?),
        None => None,
    };
    let account = face
        .service
        .run_as(actor, move |d, who| {
            let ids = resolve(d, who, &input)?;
            let mut new = NewAccount::named(user_name);
            new.password = password;
            new.given_name = input.given_name.unwrap_or_default();
            new.family_name = input.family_name.unwrap_or_default();
            if new.given_name.is_empty() && new.family_name.is_empty() {
                new.family_name = input.display_name.unwrap_or_default();
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
    let account = replace_with(face, actor, uuid, input, Cleared::default(), expected).await?;
    answer(face, actor, account, base, false).await
}

/// PATCH (RFC 7644 section 3.5.2): the operations are applied to the
/// resource as the actor sees it, all or none, and the result is stored
/// as one change. 204 unless the client asked for attributes back.
pub async fn patch_user(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
    id: &str,
    expected: Option<i64>,
    wants_resource: bool,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id)?;
    let ops = parse_patch(body).map_err(patch_error)?;
    let base_owned = base.to_owned();
    let before = face
        .service
        .run_as(actor, move |d, who| {
            let account = d.account_by_uuid(who, uuid)?;
            let related = d.related(who, &[&account], &[])?;
            Ok(user_json(
                &account,
                &related,
                &base_owned,
                &Projection::all(),
            ))
        })
        .await?;
    let mut doc = before.clone();
    apply(&mut doc, &ops).map_err(patch_error)?;
    let mut input = parse_user(&doc)?;
    // The PATCH engine already turned a changed displayName into names; a
    // displayName left over after `name` was removed must not put it back.
    input.display_name = None;
    // A PUT that leaves out the manager keeps it (RFC 7644 section 3.5.1
    // lets a server read an omitted attribute as not asserted); a PATCH
    // that removes it means it.
    let had = parse_user(&before)?;
    let cleared = Cleared {
        manager: had.manager.is_some() && input.manager.is_none(),
        restricted_to: had.restricted_to.is_some() && input.restricted_to.is_none(),
    };
    let account = replace_with(face, actor, uuid, input, cleared, expected).await?;
    if wants_resource {
        answer(face, actor, account, base, false).await
    } else {
        Ok(reply::no_content(Some(account.version)))
    }
}

pub fn patch_error(e: PatchError) -> ScimError {
    ScimError::new(StatusCode::BAD_REQUEST, Some(e.scim_type), e.detail)
}

/// References a PATCH removed, which `replace_with` clears rather than keeps.
#[derive(Debug, Default, Clone, Copy)]
struct Cleared {
    manager: bool,
    restricted_to: bool,
}

/// Stores `input` as the whole new state of the account (PUT, and PATCH
/// after its operations were applied).
async fn replace_with(
    face: &HttpFace,
    actor: &Actor,
    uuid: Uuid,
    input: UserInput,
    cleared: Cleared,
    expected: Option<i64>,
) -> Result<Account, ScimError> {
    let password = match input.password.clone() {
        Some(p) => Some(face.service.prepare_password(p).await?),
        None => None,
    };
    let account = face
        .service
        .run_as(actor, move |d, who| {
            let current = d.account_by_uuid(who, uuid)?;
            let ids = resolve(d, who, &input)?;
            // What the body leaves out is cleared, except what a client
            // cannot clear (user name, type, method: kept) and references
            // only a PATCH removes (manager, scope).
            let change = AccountChange {
                user_name: input.user_name,
                given_name: Some(input.given_name.unwrap_or_default()),
                // A lone displayName stands for the names, as on create.
                family_name: Some(input.family_name.or(input.display_name).unwrap_or_default()),
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
            };
            let changed = d.update_account(who, current.id, change, expected)?;
            if let Some(p) = password {
                d.set_password(who, current.id, p)?;
                return d.account(who, current.id);
            }
            Ok(changed)
        })
        .await?;
    Ok(account)
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
