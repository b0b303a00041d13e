//! Groups and business entities: the tree as the signed-in account sees
//! it; create, rename, move and delete, and members, as the core allows.

use std::collections::HashMap;

use hyper::{Response, StatusCode};

use super::chrome::{button, note, page, redirect, Nav, Note};
use super::{in_words, missing, Posted, SignedIn};
use crate::core::{CoreError, NewNode};
use crate::http::{Body, HttpFace};
use crate::model::Page;
use crate::model::{Node, NodeId, NodeKind};
use crate::web::page::{csrf_field, escape};
use crate::web::WebError;

fn tree(nodes: &[Node]) -> String {
    let ids: std::collections::HashSet<NodeId> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<Option<NodeId>, Vec<&Node>> = HashMap::new();
    for n in nodes {
        let parent = n.parent.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(n);
    }
    fn list(of: Option<NodeId>, children: &HashMap<Option<NodeId>, Vec<&Node>>) -> String {
        let Some(kids) = children.get(&of) else {
            return String::new();
        };
        let mut kids = kids.clone();
        kids.sort_by_key(|n| n.name.to_lowercase());
        let mut out = String::from("<ul>");
        for n in kids {
            out.push_str(&format!(
                "<li><a href=\"/admin/groups/{}\">{}</a> ({}){}</li>",
                n.uuid,
                escape(&n.name),
                escape(n.kind.display_name()),
                list(Some(n.id), children)
            ));
        }
        out.push_str("</ul>");
        out
    }
    list(None, &children)
}

fn parent_options(
    nodes: &[Node],
    current: Option<NodeId>,
    top: bool,
    skip: Option<NodeId>,
) -> String {
    let mut out = String::new();
    if top {
        out.push_str("<option value=\"\">(the top of the tree)</option>");
    }
    for n in nodes.iter().filter(|n| Some(n.id) != skip) {
        let selected = if Some(n.id) == current {
            " selected"
        } else {
            ""
        };
        out.push_str(&format!(
            "<option value=\"{}\"{selected}>{} ({})</option>",
            n.uuid,
            escape(&n.name),
            escape(n.kind.display_name())
        ));
    }
    out
}

/// The nodes the account sees, whether it may work at the top of the
/// tree, and whether it may change the tree at all.
async fn visible(face: &HttpFace, s: &SignedIn) -> Result<(Vec<Node>, bool, bool), WebError> {
    Ok(face
        .web_service
        .run_as(&s.actor, |d, a| {
            let mut nodes = d.list_nodes(a, Page::ALL)?;
            nodes.sort_by_key(|n| n.name.to_lowercase());
            let top = d.may_manage_tree(a, None)?;
            let inside = match crate::core::access::scope(a) {
                crate::core::access::Scope::Subtree(root) => d.may_manage_tree(a, Some(root))?,
                crate::core::access::Scope::Everywhere => top,
            };
            Ok((nodes, top, inside))
        })
        .await?)
}

pub async fn show(
    face: &HttpFace,
    s: &SignedIn,
    n: Option<Note>,
) -> Result<Response<Body>, WebError> {
    let (nodes, top, inside) = visible(face, s).await?;
    let mut body = note(n.as_ref());
    if nodes.is_empty() {
        body.push_str("<p>No groups or business entities.</p>");
    } else {
        body.push_str(&tree(&nodes));
    }
    if !inside {
        body.push_str("<p>You may read the tree, not change it.</p>");
        return Ok(page(
            StatusCode::OK,
            s,
            "Groups and Business Entities",
            Nav::Groups,
            &body,
        ));
    }
    body.push_str(&format!(
        "<section><h2>Create</h2><form class=\"form\" method=\"post\" action=\"/admin/groups/new\">{csrf}\
         <label for=\"name\">Name</label><input id=\"name\" name=\"name\" required>\
         <label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\">\
         <option value=\"group\">Group</option><option value=\"business-entity\">Business Entity</option></select>\
         <label for=\"parent\">Inside</label><select id=\"parent\" name=\"parent\">{parents}</select>\
         <p><button type=\"submit\">Create</button></p></form></section>",
        csrf = csrf_field(&s.session.csrf),
        parents = parent_options(&nodes, None, top, None),
    ));
    Ok(page(
        StatusCode::OK,
        s,
        "Groups and Business Entities",
        Nav::Groups,
        &body,
    ))
}

fn node_id(nodes: &[Node], uuid: &str) -> Option<NodeId> {
    nodes
        .iter()
        .find(|n| n.uuid.to_string() == uuid)
        .map(|n| n.id)
}

pub async fn create(face: &HttpFace, p: Posted) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let (nodes, _, _) = visible(face, s).await?;
    let kind = p
        .fields
        .get("kind")
        .parse::<NodeKind>()
        .unwrap_or(NodeKind::Group);
    let parent_text = p.fields.get("parent");
    let parent = node_id(&nodes, parent_text);
    if parent.is_none() && !parent_text.is_empty() {
        return show(
            face,
            s,
            Some(Note::Refused(
                "There is no such group or business entity.".into(),
            )),
        )
        .await;
    }
    let new = NewNode {
        name: p.fields.get("name").trim().to_owned(),
        kind,
        parent,
        external_id: None,
    };
    let result = face
        .web_service
        .run_as(&s.actor, move |d, a| d.create_node(a, new))
        .await;
    match result {
        Ok(n) => Ok(redirect(&format!("/admin/groups/{}", n.uuid))),
        Err(e) => show(face, s, Some(Note::Refused(in_words(e)?))).await,
    }
}

pub async fn show_one(
    face: &HttpFace,
    s: &SignedIn,
    uuid: &str,
    n: Option<Note>,
) -> Result<Response<Body>, WebError> {
    let Ok(uuid) = uuid.parse::<uuid::Uuid>() else {
        return Ok(missing(s, "group"));
    };
    let found = face
        .web_service
        .run_as(&s.actor, move |d, a| {
            let node = match d.node_by_uuid(a, uuid) {
                Ok(n) => n,
                Err(CoreError::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let members = d.members(a, node.id)?;
            let related = d.related(a, &[], &[&node])?;
            let mut names: Vec<String> = members
                .iter()
                .filter_map(|m| d.account(a, *m).ok().map(|acc| acc.user_name))
                .collect();
            names.sort_by_key(|n| n.to_lowercase());
            let parent = node
                .parent
                .and_then(|p| related.node_names.get(&p).cloned());
            let manages = d.may_manage_tree(a, Some(node.id))?;
            let mut nodes = d.list_nodes(a, Page::ALL)?;
            nodes.sort_by_key(|n| n.name.to_lowercase());
            let top = d.may_manage_tree(a, None)?;
            Ok(Some((node, names, parent, manages, nodes, top)))
        })
        .await?;
    let Some((node, members, parent, manages, nodes, top)) = found else {
        return Ok(missing(s, "group"));
    };
    let csrf = &s.session.csrf;
    let base = format!("/admin/groups/{}", node.uuid);
    let mut body = format!(
        "<p><a href=\"/admin/groups\">Groups</a> › {name}</p>{note}\
         <dl><dt>Name</dt><dd>{name}</dd><dt>Kind</dt><dd>{kind}</dd><dt>Inside</dt><dd>{parent}</dd></dl>\
         <section><h2>Members</h2>",
        name = escape(&node.name),
        note = note(n.as_ref()),
        kind = escape(node.kind.display_name()),
        parent = escape(parent.as_deref().unwrap_or("(the top of the tree)")),
    );
    if members.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str("<ul>");
        for m in &members {
            let remove = if manages {
                format!(
                    " <form class=\"inline\" method=\"post\" action=\"{base}/remove-member\">{c}\
                     <input type=\"hidden\" name=\"user\" value=\"{u}\"><button type=\"submit\" class=\"quiet\">Remove</button></form>",
                    c = csrf_field(csrf),
                    u = escape(m)
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<li><a href=\"/admin/accounts/{u}\">{u}</a>{remove}</li>",
                u = escape(m)
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    if manages {
        body.push_str(&format!(
            "<form class=\"form\" method=\"post\" action=\"{base}/add-member\">{c}\
             <label for=\"member\">Add the member (user name)</label><input id=\"member\" name=\"user\" required autocapitalize=\"none\">\
             <p><button type=\"submit\">Add member</button></p></form>\
             <section><h2>Rename</h2><form class=\"form\" method=\"post\" action=\"{base}/rename\">{c}\
             <label for=\"new-name\">New name</label><input id=\"new-name\" name=\"name\" value=\"{name}\" required>\
             <p><button type=\"submit\">Rename</button></p></form></section>\
             <section><h2>Move</h2><form class=\"form\" method=\"post\" action=\"{base}/move\">{c}\
             <label for=\"move-parent\">Inside</label><select id=\"move-parent\" name=\"parent\">{parents}</select>\
             <p><button type=\"submit\">Move</button></p></form></section>\
             <section><h2>Delete</h2><p>Only when nothing depends on it (subgroups, restricted accounts).</p>{delete}</section>",
            c = csrf_field(csrf),
            name = escape(&node.name),
            parents = parent_options(&nodes, node.parent, top, Some(node.id)),
            delete = button(csrf, &format!("{base}/delete"), "Delete", true),
        ));
    } else {
        body.push_str("<p>You may read this group, not change it.</p>");
    }
    Ok(page(StatusCode::OK, s, &node.name, Nav::Groups, &body))
}

pub async fn act(
    face: &HttpFace,
    p: Posted,
    uuid: &str,
    action: &str,
) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let Ok(parsed) = uuid.parse::<uuid::Uuid>() else {
        return Ok(missing(s, "group"));
    };
    let (nodes, _, _) = visible(face, s).await?;
    let Some(id) = nodes.iter().find(|n| n.uuid == parsed).map(|n| n.id) else {
        return Ok(missing(s, "group"));
    };
    let user = p.fields.get("user").trim().to_owned();
    let name = p.fields.get("name").trim().to_owned();
    let parent_text = p.fields.get("parent").to_owned();
    let parent = node_id(&nodes, &parent_text);
    if action == "move" && parent.is_none() && !parent_text.is_empty() {
        return show_one(
            face,
            s,
            uuid,
            Some(Note::Refused(
                "There is no such group or business entity.".into(),
            )),
        )
        .await;
    }
    let deleting = action == "delete";
    let action = action.to_owned();
    let result = face
        .web_service
        .run_as(&s.actor, move |d, a| -> Result<Note, CoreError> {
            Ok(match action.as_str() {
                "rename" => {
                    d.update_node(a, id, Some(name.clone()), None, None)?;
                    Note::Done(format!("Renamed to {name}."))
                }
                "move" => {
                    d.move_node(a, id, parent)?;
                    Note::Done("Moved.".into())
                }
                "delete" => {
                    d.delete_node(a, id)?;
                    Note::Done("Deleted.".into())
                }
                "add-member" | "remove-member" => {
                    let account = d.account_by_user_name(a, &user)?;
                    if action == "add-member" {
                        d.add_member(a, id, account.id)?;
                        Note::Done(format!("{user} is a member now."))
                    } else {
                        d.remove_member(a, id, account.id)?;
                        Note::Done(format!("{user} is no longer a member."))
                    }
                }
                _ => return Err(CoreError::NotFound("page")),
            })
        })
        .await;
    match result {
        Ok(n) if deleting => show(face, s, Some(n)).await,
        Ok(n) => show_one(face, s, uuid, Some(n)).await,
        Err(CoreError::NotFound("page")) => Err(WebError::NotFound),
        Err(e) => show_one(face, s, uuid, Some(Note::Refused(in_words(e)?))).await,
    }
}
