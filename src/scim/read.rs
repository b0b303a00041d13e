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
use super::filter::{group_filter, group_sort, parse_filter, user_filter, user_sort, ParseError};
use super::path::{parse_attr_path, AttrPath};
use super::reply;
use super::resource::{etag, group_json, user_json, Projection};
use crate::core::{Actor, CoreResult, Directory};
use crate::http::{Body, HttpFace};
use crate::model::query::{AccountField, Filter, NodeField, Slice, Sort};
use crate::model::{Account, Node};

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
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
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
                "sortby" => &mut q.sort_by,
                "sortorder" => &mut q.sort_order,
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
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
        })
    }

    fn projection(&self) -> Projection {
        Projection::new(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }

    /// sortBy and sortOrder (RFC 7644 section 3.4.2.3): the attribute and
    /// whether descending, or `None` without a sortBy (a sortOrder alone
    /// orders nothing and is ignored). sortOrder is "ascending" (the
    /// default) or "descending", in any case.
    ///
    /// A sortBy this server cannot sort by is 400 `invalidValue`. The RFC
    /// says the sortBy attribute's value "SHALL be used to order the
    /// returned responses" and names no fallback, so ignoring it would hand
    /// back a silently wrong order; section 3.12 lists `invalidValue` for
    /// a value "not compatible with the operation or attribute type" on
    /// GET (3.4.2) and POST query (3.4.3).
    fn sort(&self) -> Result<Option<(AttrPath, bool)>, ScimError> {
        let Some(by) = self.sort_by.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let path = parse_attr_path(by).map_err(invalid_sort)?;
        let descending = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    format!("sortOrder must be \"ascending\" or \"descending\", not {o:?}"),
                ))
            }
        };
        Ok(Some((path, descending)))
    }

    /// The order of a Users list.
    fn user_sort(&self) -> Result<Option<Sort<AccountField>>, ScimError> {
        self.sort()?
            .map(|(path, descending)| user_sort(&path, descending).map_err(invalid_sort))
            .transpose()
    }

    /// The order of a Groups list.
    fn group_sort(&self) -> Result<Option<Sort<NodeField>>, ScimError> {
        self.sort()?
            .map(|(path, descending)| group_sort(&path, descending).map_err(invalid_sort))
            .transpose()
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
) -> CoreResult<(Account, crate::model::query::Related)> {
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

fn invalid_sort(e: ParseError) -> ScimError {
    ScimError::bad_request("invalidValue", format!("sortBy: {e}"))
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
    let sort = query.user_sort()?;
    let (start, count) = query.window()?;
    let slice = Slice {
        after: None,
        offset: start - 1,
        limit: count,
    };
    let (total, page) = face
        .service
        .run_as(actor, move |d, a| {
            d.in_snapshot(|| {
                let total = d.count_accounts(a, &filter)?;
                let rows = if count == 0 {
                    Vec::new()
                } else {
                    d.search_accounts(a, &filter, sort, slice)?
                };
                let related = d.related(a, &rows.iter().collect::<Vec<_>>(), &[])?;
                Ok((total, (rows, related)))
            })
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
    let sort = query.group_sort()?;
    let (start, count) = query.window()?;
    let slice = Slice {
        after: None,
        offset: start - 1,
        limit: count,
    };
    let (total, rows, related): (u64, Vec<Node>, _) = face
        .service
        .run_as(actor, move |d, a| {
            d.in_snapshot(|| {
                let total = d.count_nodes(a, &filter)?;
                let rows = if count == 0 {
                    Vec::new()
                } else {
                    d.search_nodes(a, &filter, sort, slice)?
                };
                let related = d.related(a, &[], &rows.iter().collect::<Vec<_>>())?;
                Ok((total, rows, related))
            })
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
///
/// With a sortBy, each type is sorted on its own and the two lists are
/// joined, never merged: an attribute both types have (`displayName`,
/// `id`, `externalId`, `meta.created`, `meta.lastModified`) orders Users
/// among themselves, then Groups among themselves. An attribute only one
/// type has leaves the other with no value, and RFC 7644 section 3.4.2.3
/// puts resources without a value last ascending, first descending; so
/// that type's list goes after (ascending) or before (descending) the
/// sorted one. A sortBy neither type can sort by is 400 `invalidValue`.
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
    let (user_order, group_order, users_first) = match query.sort()? {
        None => (None, None, true),
        Some((path, descending)) => {
            match (user_sort(&path, descending), group_sort(&path, descending)) {
                (Err(e), Err(_)) => return Err(invalid_sort(e)),
                (Ok(u), Err(_)) => (Some(u), None, !descending),
                (Err(_), Ok(g)) => (None, Some(g), descending),
                (Ok(u), Ok(g)) => (Some(u), Some(g), true),
            }
        }
    };
    let (start, count) = query.window()?;
    let (total, people, nodes, related) = face
        .service
        .run_as(actor, move |d, a| {
            d.in_snapshot(|| {
                let user_total = d.count_accounts(a, &users)?;
                let group_total = d.count_nodes(a, &groups)?;
                let skip = start - 1;
                let (people, nodes) = if users_first {
                    let people = match first_part(skip, count, user_total) {
                        Some(slice) => d.search_accounts(a, &users, user_order, slice)?,
                        None => Vec::new(),
                    };
                    let nodes = match second_part(skip, count, user_total, people.len()) {
                        Some(slice) => d.search_nodes(a, &groups, group_order, slice)?,
                        None => Vec::new(),
                    };
                    (people, nodes)
                } else {
                    let nodes = match first_part(skip, count, group_total) {
                        Some(slice) => d.search_nodes(a, &groups, group_order, slice)?,
                        None => Vec::new(),
                    };
                    let people = match second_part(skip, count, group_total, nodes.len()) {
                        Some(slice) => d.search_accounts(a, &users, user_order, slice)?,
                        None => Vec::new(),
                    };
                    (people, nodes)
                };
                let related = d.related(
                    a,
                    &people.iter().collect::<Vec<_>>(),
                    &nodes.iter().collect::<Vec<_>>(),
                )?;
                Ok((user_total + group_total, people, nodes, related))
            })
        })
        .await?;
    let projection = query.projection();
    let users_json = people
        .iter()
        .map(|a| user_json(a, &related, base, &projection));
    let groups_json = nodes
        .iter()
        .map(|n| group_json(n, &related, base, &projection));
    let resources = if users_first {
        users_json.chain(groups_json).collect()
    } else {
        groups_json.chain(users_json).collect()
    };
    Ok(list_response(total, start, resources))
}

/// The slice of the first list of a joined page that skips `skip` rows and
/// holds at most `count`, when the first list (of `first_total` rows)
/// reaches into the page.
fn first_part(skip: u64, count: u64, first_total: u64) -> Option<Slice> {
    (count > 0 && skip < first_total).then_some(Slice {
        after: None,
        offset: skip,
        limit: count,
    })
}

/// The slice of the second list that fills the page after `got` rows of
/// the first.
fn second_part(skip: u64, count: u64, first_total: u64, got: usize) -> Option<Slice> {
    let room = count.saturating_sub(got as u64);
    (room > 0).then_some(Slice {
        after: None,
        offset: skip.saturating_sub(first_total),
        limit: room,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(q: &str) -> Query {
        let request = Request::builder()
            .uri(format!("/scim/v2/Users?{q}"))
            .body(())
            .unwrap();
        Query::from_uri(&request)
    }

    fn sort_of(q: &Query) -> Option<(String, bool)> {
        q.sort().unwrap().map(|(p, d)| (p.to_string(), d))
    }

    #[test]
    fn sort_parameters_from_the_uri_and_a_search_body() {
        let q = uri("sortBy=name.familyName&sortOrder=descending");
        assert_eq!(sort_of(&q), Some(("name.familyName".into(), true)));
        let q = uri("SORTBY=userName&SortOrder=DESCENDING");
        assert_eq!(sort_of(&q), Some(("userName".into(), true)));
        let q = uri("sortBy=userName&sortOrder=Ascending");
        assert_eq!(sort_of(&q), Some(("userName".into(), false)));
        // Ascending by default; a sortOrder alone orders nothing.
        assert_eq!(
            sort_of(&uri("sortBy=userName")),
            Some(("userName".into(), false))
        );
        assert_eq!(sort_of(&uri("sortOrder=descending")), None);
        assert_eq!(sort_of(&uri("sortBy=")), None);
        assert_eq!(sort_of(&uri("")), None);
        let q = uri("sortBy=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser%3AuserName");
        assert_eq!(
            q.user_sort().unwrap(),
            Some(Sort {
                field: AccountField::Login,
                descending: false
            })
        );

        let body = json!({"sortBy": "meta.lastModified", "SORTORDER": "descending"});
        let q = Query::from_search_body(&body).unwrap();
        assert_eq!(sort_of(&q), Some(("meta.lastModified".into(), true)));
        assert_eq!(
            q.group_sort().unwrap(),
            Some(Sort {
                field: NodeField::Modified,
                descending: true
            })
        );
    }

    #[test]
    fn bad_sort_parameters_are_invalid_values() {
        for q in [
            "sortBy=userName&sortOrder=down",
            "sortBy=user*Name",
            "sortBy=a.b.c",
        ] {
            let e = uri(q).sort().unwrap_err();
            assert_eq!(e.scim_type, Some("invalidValue"), "{q}");
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{q}");
        }
        for q in ["sortBy=nickName", "sortBy=name", "sortBy=members"] {
            let e = uri(q).user_sort().unwrap_err();
            assert_eq!(e.scim_type, Some("invalidValue"), "{q}");
        }
        assert!(uri("sortBy=userName").group_sort().is_err());
    }

    #[test]
    fn a_joined_page_takes_the_first_list_then_fills_from_the_second() {
        let slice = |offset, limit| Slice {
            after: None,
            offset,
            limit,
        };
        // 5 in the first list, pages of 3.
        assert_eq!(first_part(0, 3, 5), Some(slice(0, 3)));
        assert_eq!(second_part(0, 3, 5, 3), None);
        assert_eq!(first_part(3, 3, 5), Some(slice(3, 3)));
        assert_eq!(second_part(3, 3, 5, 2), Some(slice(0, 1)));
        assert_eq!(first_part(6, 3, 5), None);
        assert_eq!(second_part(6, 3, 5, 0), Some(slice(1, 3)));
        // count=0 asks for totals only.
        assert_eq!(first_part(0, 0, 5), None);
        assert_eq!(second_part(0, 0, 5, 0), None);
    }
}
