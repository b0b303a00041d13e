//! Changing groups: `POST /Groups`, `PUT /Groups/{id}`, `PATCH` and
//! `DELETE`. A group's members are people (memberships) and groups (its
//! children in the one organisation tree), so a member of type Group moves
//! that group under this one. Each request becomes one core call, which
//! checks every id and right before its one store transaction: a refused
//! request changes nothing.

use std::collections::BTreeSet;

use hyper::Response;
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::patch::{apply, member_changes, parse_patch, MemberChanges};
use super::reply;
use super::resource::{
    group_json, parse_group, parse_group_replacement, MemberInput, MemberType, Projection,
};
use super::write::patch_error;
use crate::core::{Actor, CoreError, CoreResult, Directory, GroupEdit, MemberEdit, NewNode};
use crate::http::{Body, HttpFace};
use crate::model::query::Related;
use crate::model::{AccountId, Node, NodeId, NodeKind};

/// A group's members, resolved to rows the actor can see.
#[derive(Default)]
struct Members {
    people: BTreeSet<AccountId>,
    groups: BTreeSet<NodeId>,
}

impl Members {
    /// Membership made exactly these (Okta's PUT, a PATCH replace).
    fn replacing(self) -> MemberEdit {
        MemberEdit::Replace {
            people: self.people,
            groups: self.groups,
        }
    }
}

fn resolve_members(d: &Directory, actor: &Actor, members: &[MemberInput]) -> CoreResult<Members> {
    let mut out = Members::default();
    for m in members {
        let person = match m.kind {
            Some(MemberType::Group) => None,
            _ => d.account_by_uuid(actor, m.value).ok(),
        };
        match person {
            Some(a) => {
                out.people.insert(a.id);
            }
            None => {
                let group = match m.kind {
                    Some(MemberType::User) => None,
                    _ => d.node_by_uuid(actor, m.value).ok(),
                };
                let g = group.ok_or_else(|| CoreError::InvalidValue {
                    field: "members",
                    reason: format!("no such user or group {}", m.value),
                })?;
                out.groups.insert(g.id);
            }
        }
    }
    Ok(out)
}

async fn answer(
    face: &HttpFace,
    actor: &Actor,
    node: Node,
    base: &str,
    created: bool,
    projection: &Projection,
) -> Result<Response<Body>, ScimError> {
    let (node, related) = face
        .service
        .run_as(actor, move |d, actor| {
            let related = d.related(actor, &[], &[&node])?;
            Ok((node, related))
        })
        .await?;
    let json = group_json(&node, &related, base, projection);
    Ok(reply::resource(&json, node.version, created))
}

/// The whole resource with its ETag (and, when created, 201 and Location).
fn render(node: &Node, related: &Related, base: &str, created: bool) -> Response<Body> {
    let json = group_json(node, related, base, &Projection::all());
    reply::resource(&json, node.version, created)
}

pub async fn create_group(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let input = parse_group(body)?;
    let name = input
        .display_name
        .clone()
        .ok_or_else(|| ScimError::bad_request("invalidValue", "displayName is required"))?;
    let node = face
        .service
        .run_as(actor, move |d, who| {
            let parent = input.parent.map(|p| parent_id(d, who, p)).transpose()?;
            let members = resolve_members(d, who, input.members.as_deref().unwrap_or_default())?;
            let new = NewNode {
                name,
                kind: input.kind.unwrap_or(NodeKind::Group),
                parent,
                external_id: input.external_id,
            };
            // What the answer shows, read in the same trip to the store pool.
            let node = d.create_group(who, new, &members.people, &members.groups)?;
            let related = d.related(who, &[], &[&node])?;
            Ok((node, related))
        })
        .await?;
    let (node, related) = node;
    Ok(render(&node, &related, base, true))
}

/// A parent named in a body: one the actor cannot see is a bad value.
fn parent_id(d: &Directory, actor: &Actor, uuid: Uuid) -> CoreResult<NodeId> {
    d.node_by_uuid(actor, uuid)
        .map(|n| n.id)
        .map_err(|_| CoreError::InvalidValue {
            field: "parent",
            reason: "no such group".into(),
        })
}

/// `kind` is fixed at creation (published as immutable).
fn check_kind(node: &Node, kind: Option<NodeKind>) -> CoreResult<()> {
    match kind {
        Some(k) if k != node.kind => Err(CoreError::Immutable("kind")),
        _ => Ok(()),
    }
}

fn parse_group_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found("no such group"))
}

/// PUT: the body is the group's whole new state; Okta replaces membership
/// wholesale this way.
pub async fn replace_group(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
    id: &str,
    expected: Option<i64>,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_group_id(id)?;
    let input = parse_group_replacement(body)?;
    let node = face
        .service
        .run_as(actor, move |d, who| {
            let node = d.node_by_uuid(who, uuid)?;
            check_kind(&node, input.kind)?;
            let members = resolve_members(d, who, input.members.as_deref().unwrap_or_default())?;
            // A PUT without a parent keeps it (RFC 7644 section 3.5.1: an
            // omitted attribute may be read as not asserted).
            let parent = input.parent.map(|p| parent_id(d, who, p)).transpose()?;
            let edit = GroupEdit {
                name: input.display_name,
                external_id: Some(input.external_id),
                members: members.replacing(),
                parent: parent.map(Some),
            };
            d.edit_group(who, node.id, edit, expected)
        })
        .await?;
    answer(face, actor, node, base, false, &Projection::all()).await
}

/// Deletes a group (never a user: users are archived). Refused with 409
/// while anything still depends on the group.
pub async fn delete_group(
    face: &HttpFace,
    actor: &Actor,
    id: &str,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_group_id(id)?;
    face.service
        .run_as(actor, move |d, who| {
            let node = d.node_by_uuid(who, uuid)?;
            d.delete_node(who, node.id)
        })
        .await?;
    Ok(reply::no_content(None))
}

/// The members a PATCH names, by id, resolved to rows the actor can see.
fn named_members(d: &Directory, actor: &Actor, ids: &[String]) -> CoreResult<Members> {
    let inputs = ids
        .iter()
        .map(|v| {
            Uuid::parse_str(v)
                .map(|value| MemberInput { value, kind: None })
                .map_err(|_| CoreError::InvalidValue {
                    field: "members",
                    reason: format!("{v:?} is not a member id"),
                })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    resolve_members(d, actor, &inputs)
}

fn member_edit(d: &Directory, actor: &Actor, changes: &MemberChanges) -> CoreResult<MemberEdit> {
    Ok(match &changes.replace_all {
        Some(all) => named_members(d, actor, all)?.replacing(),
        None => {
            let add = named_members(d, actor, &changes.add)?;
            let remove = named_members(d, actor, &changes.remove)?;
            MemberEdit::Change {
                add: add.people,
                remove: remove.people,
                add_groups: add.groups,
            }
        }
    })
}

/// PATCH of a group. Requests about members only (Entra's add/remove,
/// Okta's wholesale replace) touch just the members they name; anything
/// else is applied to the group as the actor sees it and stored as a
/// replace. Answered 200 with the group, pruned by `projection` (`None`:
/// 204, for `/Bulk`).
pub async fn patch_group(
    face: &HttpFace,
    actor: &Actor,
    body: &Value,
    base: &str,
    id: &str,
    expected: Option<i64>,
    projection: Option<Projection>,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_group_id(id)?;
    let ops = parse_patch(body).map_err(patch_error)?;
    let node = match member_changes(&ops) {
        Some(changes) => {
            face.service
                .run_as(actor, move |d, who| {
                    let node = d.node_by_uuid(who, uuid)?;
                    let edit = GroupEdit {
                        members: member_edit(d, who, &changes)?,
                        ..GroupEdit::default()
                    };
                    d.edit_group(who, node.id, edit, expected)
                })
                .await?
        }
        // The operations are applied to the group as read and written at
        // that version; when another write landed in between they are
        // applied again to the new version (with If-Match: 412), so two
        // PATCHes never lose each other's changes.
        None => {
            let mut tries = 0;
            loop {
                tries += 1;
                let base_owned = base.to_owned();
                let (before, version) = face
                    .service
                    .run_as(actor, move |d, who| {
                        let node = d.node_by_uuid(who, uuid)?;
                        let related = d.related(who, &[], &[&node])?;
                        let json = group_json(&node, &related, &base_owned, &Projection::all());
                        Ok((json, node.version))
                    })
                    .await?;
                if expected.is_some_and(|e| e != version) {
                    return Err(CoreError::VersionMismatch("group").into());
                }
                let mut doc = before.clone();
                apply(&mut doc, &ops).map_err(patch_error)?;
                let input = parse_group(&doc)?;
                // A PATCH that removes the parent moves the group to the top.
                let had_parent = parse_group(&before)?.parent.is_some();
                let written = face
                    .service
                    .run_as(actor, move |d, who| {
                        let node = d.node_by_uuid(who, uuid)?;
                        check_kind(&node, input.kind)?;
                        let members =
                            resolve_members(d, who, input.members.as_deref().unwrap_or_default())?;
                        let parent = match input.parent {
                            Some(p) => Some(Some(parent_id(d, who, p)?)),
                            None if had_parent => Some(None),
                            None => None,
                        };
                        let edit = GroupEdit {
                            name: input.display_name,
                            external_id: Some(input.external_id),
                            members: members.replacing(),
                            parent,
                        };
                        d.edit_group(who, node.id, edit, Some(version))
                    })
                    .await;
                match written {
                    Err(CoreError::VersionMismatch(_)) if expected.is_none() && tries < 50 => {}
                    other => break other?,
                }
            }
        }
    };
    if let Some(projection) = projection {
        answer(face, actor, node, base, false, &projection).await
    } else {
        Ok(reply::no_content(Some(node.version)))
    }
}
