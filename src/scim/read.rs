//! Reading resources: `GET /Users/{id}`, `GET /Users`, `GET /Me`,
//! `GET /Groups/{id}`, `GET /Groups`. Every read runs as the token's actor,
//! so the core's visibility decides what exists; an id outside the actor's
//! scope is 404 exactly like an unknown one.

use hyper::header::{HeaderValue, IF_NONE_MATCH};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use super::discovery::LIST_RESPONSE;
use super::error::ScimError;
use super::filter::{group_filter, parse_filter, user_filter};
use super::reply;
use super::resource::{etag, group_json, user_json, Projection};
use crate::core::model::{Account, Node};
use crate::core::query::{Filter, Slice};
use crate::core::{Actor, CoreResult, Directory};
use crate::http::{Body, HttpFace};

/// The most resources one list answer holds (advertised as filter.maxResults).
pub const MAX_RESULTS: u64 = 1000;
/// The page size when a client names none.
const DEFAULT_COUNT: u64 = 100;

/// The query parameters of a list or read (RFC 7644 section 3.4.2).
#[derive(Debug, Default)]
pub struct Query {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl Query {
    pub fn from_uri<B>(request: &Request<B>) -> Query {
        let mut q = Query::default();
        let raw = request.uri().query().unwrap_or("");
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match key.to_ascii_lowercase().as_str() {
                "filter" => &mut q.filter,
                "startindex" => &mut q.start_index,
                "count" => &mut q.count,
                "attributes" => &mut q.attributes,
                "excludedattributes" => &mut q.excluded_attributes,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        q
    }

    /// The same parameters from a `POST .search` body (RFC 7644 section
    /// 3.4.3), where attribute lists are JSON arrays.
    pub fn from_search_body(body: &Value) -> Result<Query, ScimError> {
        let text = |key: &str| -> Option<String> {
            let (_, v) = body
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))?;
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Array(items) => Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => None,
            }
        };
        if !body.is_object() {
            return Err(ScimError::bad_request(
                "invalidSyntax",
                "a search request is a JSON object",
            ));
        }
        Ok(Query {
            filter: text("filter"),
            start_index: text("startIndex"),
            count: text("count"),
            attributes: text("attributes"),
            excluded_attributes: text("excludedAttributes"),
        })
    }

    fn projection(&self) -> Projection {
        Projection::new(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }

    /// startIndex (1-based; below 1 means 1) and count (0 = totals only;
    /// capped at MAX_RESULTS), as RFC 7644 section 3.4.2.4 reads them.
    fn window(&self) -> Result<(u64, u64), ScimError> {
        let number = |name: &str, value: &Option<String>, default: i64| -> Result<i64, ScimError> {
            match value {
                None => Ok(default),
                Some(v) => v.trim().parse::<i64>().map_err(|_| {
                    ScimError::bad_request(
                        "invalidValue",
                        format!("{name} must be an integer, not {v:?}"),
                    )
                }),
            }
        };
        let start = number("startIndex", &self.start_index, 1)?.max(1) as u64;
        let count = number("count", &self.count, DEFAULT_COUNT as i64)?.max(0) as u64;
        Ok((start, count.min(MAX_RESULTS)))
    }
}

fn parse_id(id: &str, what: &'static str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found(format!("no such {what}")))
}

/// One resource, with its ETag; 304 when the client's copy is current.
fn single(resource: Value, version: i64, if_none_match: Option<&HeaderValue>) -> Response<Body> {
    let tag = etag(version);
    let current = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if current {
        let mut response = reply::no_content(Some(version));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    reply::resource(&resource, version, false)
}

fn render_user(
    d: &Directory,
    actor: &Actor,
    account: Account,
) -> CoreResult<(Account, crate::core::query::Related)> {
    let related = d.related(actor, &[&account], &[])?;
    Ok((account, related))
}

pub async fn user<B>(
    face: &HttpFace,
    actor: &Actor,
    request: &Request<B>,
    base: &str,
    id: &str,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id, "user")?;
    let (account, related) = face
        .service
        .run_as(actor, move |d, a| {
            let account = d.account_by_uuid(a, uuid)?;
            render_user(d, a, account)
        })
        .await?;
    let query = Query::from_uri(request);
    let json = user_json(&account, &related, base, &query.projection());
    Ok(single(
        json,
        account.version,
        request.headers().get(IF_NONE_MATCH),
    ))
}

/// `/Me`: the token's own account (RFC 7644 section 3.11).
pub async fn me<B>(
    face: &HttpFace,
    actor: &Actor,
    request: &Request<B>,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let Some(own) = actor.account() else {
        return Err(ScimError::not_found("this token stands for no account"));
    };
    user(face, actor, request, base, &own.uuid.to_string()).await
}

pub async fn group<B>(
    face: &HttpFace,
    actor: &Actor,
    request: &Request<B>,
    base: &str,
    id: &str,
) -> Result<Response<Body>, ScimError> {
    let uuid = parse_id(id, "group")?;
    let (node, related) = face
        .service
        .run_as(actor, move |d, a| {
            let node = d.node_by_uuid(a, uuid)?;
            let related = d.related(a, &[], &[&node])?;
            Ok((node, related))
        })
        .await?;
    let query = Query::from_uri(request);
    let json = group_json(&node, &related, base, &query.projection());
    Ok(single(
        json,
        node.version,
        request.headers().get(IF_NONE_MATCH),
    ))
}

fn invalid_filter(e: impl std::fmt::Display) -> ScimError {
    ScimError::bad_request("invalidFilter", e.to_string())
}

fn list_response(total: u64, start: u64, resources: Vec<Value>) -> Response<Body> {
    reply::json(&json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
}

pub async fn users(
    face: &HttpFace,
    actor: &Actor,
    query: Query,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let filter = match &query.filter {
        Some(text) => {
            user_filter(&parse_filter(text).map_err(invalid_filter)?).map_err(invalid_filter)?
        }
        None => Filter::True,
    };
    let (start, count) = query.window()?;
    let slice = Slice {
        after: None,
        offset: start - 1,
        limit: count,
    };
    let (total, page) = face
        .service
        .run_as(actor, move |d, a| {
            let total = d.count_accounts(a, &filter)?;
            let rows = if count == 0 {
                Vec::new()
            } else {
                d.search_accounts(a, &filter, slice)?
            };
            let related = d.related(a, &rows.iter().collect::<Vec<_>>(), &[])?;
            Ok((total, (rows, related)))
        })
        .await?;
    let projection = query.projection();
    let (rows, related) = page;
    let resources = rows
        .iter()
        .map(|a| user_json(a, &related, base, &projection))
        .collect();
    Ok(list_response(total, start, resources))
}

pub async fn groups(
    face: &HttpFace,
    actor: &Actor,
    query: Query,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let filter = match &query.filter {
        Some(text) => {
            group_filter(&parse_filter(text).map_err(invalid_filter)?).map_err(invalid_filter)?
        }
        None => Filter::True,
    };
    let (start, count) = query.window()?;
    let slice = Slice {
        after: None,
        offset: start - 1,
        limit: count,
    };
    let (total, rows, related): (u64, Vec<Node>, _) = face
        .service
        .run_as(actor, move |d, a| {
            let total = d.count_nodes(a, &filter)?;
            let rows = if count == 0 {
                Vec::new()
            } else {
                d.search_nodes(a, &filter, slice)?
            };
            let related = d.related(a, &[], &rows.iter().collect::<Vec<_>>())?;
            Ok((total, rows, related))
        })
        .await?;
    let projection = query.projection();
    let resources = rows
        .iter()
        .map(|n| group_json(n, &related, base, &projection))
        .collect();
    Ok(list_response(total, start, resources))
}

/// `POST /.search` at the root (RFC 7644 section 3.4.3): Users, then
/// Groups, paged as one list. A filter that names only one type's
/// attributes matches nothing of the other.
pub async fn search_all(
    face: &HttpFace,
    actor: &Actor,
    query: Query,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let parsed = match &query.filter {
        Some(text) => Some(parse_filter(text).map_err(invalid_filter)?),
        None => None,
    };
    let (users, groups) = match &parsed {
        None => (Filter::True, Filter::True),
        Some(f) => match (user_filter(f), group_filter(f)) {
            (Err(e), Err(_)) => return Err(invalid_filter(e)),
            (u, g) => (u.unwrap_or(Filter::False), g.unwrap_or(Filter::False)),
        },
    };
    let (start, count) = query.window()?;
    let (total, people, nodes, related) = face
        .service
        .run_as(actor, move |d, a| {
            let user_total = d.count_accounts(a, &users)?;
            let group_total = d.count_nodes(a, &groups)?;
            let skip = start - 1;
            let people = if count > 0 && skip < user_total {
                let slice = Slice {
                    after: None,
                    offset: skip,
                    limit: count,
                };
                d.search_accounts(a, &users, slice)?
            } else {
                Vec::new()
            };
            let room = count - people.len() as u64;
            let nodes = if room > 0 {
                let slice = Slice {
                    after: None,
                    offset: skip.saturating_sub(user_total),
                    limit: room,
                };
                d.search_nodes(a, &groups, slice)?
            } else {
                Vec::new()
            };
            let related = d.related(
                a,
                &people.iter().collect::<Vec<_>>(),
                &nodes.iter().collect::<Vec<_>>(),
            )?;
            Ok((user_total + group_total, people, nodes, related))
        })
        .await?;
    let projection = query.projection();
    let resources = people
        .iter()
        .map(|a| user_json(a, &related, base, &projection))
        .chain(
            nodes
                .iter()
                .map(|n| group_json(n, &related, base, &projection)),
        )
        .collect();
    Ok(list_response(total, start, resources))
}
