//! The SCIM 2.0 face (RFC 7643, RFC 7644) under `/scim/v2`. It translates
//! HTTP requests into core calls and core answers into SCIM JSON: `auth`
//! finds the actor behind a bearer token, `discovery` serves the schema
//! documents from `schemas/scim/`, `filter` and `path` parse SCIM's filter
//! and attribute-path languages, `resource` maps accounts and groups to and
//! from SCIM JSON, `error` shapes every failure as a SCIM error body.

pub mod attributes;
mod auth;
mod body;
mod bulk;
mod discovery;
pub mod error;
pub mod filter;
mod groups;
pub mod patch;
pub mod path;
mod read;
#[doc(hidden)]
pub mod replay;
mod reply;
pub mod resource;
mod write;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use crate::http::{Body, HttpFace};
use error::ScimError;

/// Where the SCIM endpoint lives on the HTTP listener.
pub const PREFIX: &str = "/scim/v2";

/// Serves one request whose path starts with [`PREFIX`].
pub async fn handle(face: &HttpFace, request: Request<Incoming>) -> Response<Body> {
    match route(face, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn route(face: &HttpFace, request: Request<Incoming>) -> Result<Response<Body>, ScimError> {
    let path = request
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    let base = discovery::base_url(&request, face);
    // Every SCIM request, discovery included, needs a valid token: the
    // schema says what this directory holds, which is nobody else's business.
    let actor = auth::actor(face, &request).await?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["ServiceProviderConfig"]) => Ok(discovery::service_provider_config(&base)),
        (&Method::GET, ["Schemas"]) => Ok(discovery::schemas(&base)),
        (&Method::GET, ["Schemas", id]) => discovery::schema(&base, id),
        (&Method::GET, ["ResourceTypes"]) => Ok(discovery::resource_types(&base)),
        (&Method::GET, ["ResourceTypes", id]) => discovery::resource_type(&base, id),
        (&Method::GET, ["Users"]) => {
            read::users(face, &actor, read::Query::from_uri(&request), &base).await
        }
        (&Method::GET, ["Users", id]) => read::user(face, &actor, &request, &base, id).await,
        (&Method::GET, ["Me"]) => read::me(face, &actor, &request, &base).await,
        (&Method::GET, ["Groups"]) => {
            read::groups(face, &actor, read::Query::from_uri(&request), &base).await
        }
        (&Method::GET, ["Groups", id]) => read::group(face, &actor, &request, &base, id).await,
        (&Method::POST, ["Users"]) => {
            let body = body::read_json(request, face.config.http.max_body_bytes).await?;
            write::create_user(face, &actor, &body, &base).await
        }
        (&Method::PUT, ["Users", id]) => {
            let (id, expected, _, body) = write_request(face, request, id).await?;
            write::replace_user(face, &actor, &body, &base, &id, expected).await
        }
        (&Method::PATCH, ["Users", id]) => {
            let (id, expected, projection, body) = write_request(face, request, id).await?;
            let projection = projection.unwrap_or_else(resource::Projection::all);
            write::patch_user(face, &actor, &body, &base, &id, expected, Some(projection)).await
        }
        (&Method::DELETE, ["Users", id]) => write::delete_user(face, &actor, id).await,
        (&Method::POST, [".search"]) => {
            let body = body::read_json(request, face.config.http.max_body_bytes).await?;
            read::search_all(face, &actor, read::Query::from_search_body(&body)?, &base).await
        }
        (&Method::POST, ["Users", ".search"]) => {
            let body = body::read_json(request, face.config.http.max_body_bytes).await?;
            read::users(face, &actor, read::Query::from_search_body(&body)?, &base).await
        }
        (&Method::POST, ["Groups"]) => {
            let body = body::read_json(request, face.config.http.max_body_bytes).await?;
            groups::create_group(face, &actor, &body, &base).await
        }
        (&Method::PUT, ["Groups", id]) => {
            let (id, expected, _, body) = write_request(face, request, id).await?;
            groups::replace_group(face, &actor, &body, &base, &id, expected).await
        }
        (&Method::PATCH, ["Groups", id]) => {
            let (id, expected, projection, body) = write_request(face, request, id).await?;
            let projection = projection.unwrap_or_else(resource::Projection::all);
            groups::patch_group(face, &actor, &body, &base, &id, expected, Some(projection)).await
        }
        (&Method::DELETE, ["Groups", id]) => groups::delete_group(face, &actor, id).await,
        (&Method::POST, ["Groups", ".search"]) => {
            let body = body::read_json(request, face.config.http.max_body_bytes).await?;
            read::groups(face, &actor, read::Query::from_search_body(&body)?, &base).await
        }
        (&Method::POST, ["Bulk"]) => bulk::handle(face, &actor, request, &base).await,
        // The discovery documents are read only (RFC 7644 section 4).
        (_, ["ServiceProviderConfig" | "Schemas" | "ResourceTypes", ..]) => Err(ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "the discovery endpoints answer GET only",
        )),
        _ => Err(ScimError::not_found("no such SCIM endpoint")),
    }
}

/// What a PUT or PATCH brings besides its target: the version `If-Match`
/// names, whether attributes were asked back (RFC 7644 section 3.5.2:
/// without them a PATCH may answer 204), and the JSON body.
async fn write_request(
    face: &HttpFace,
    request: Request<Incoming>,
    id: &str,
) -> Result<
    (
        String,
        Option<i64>,
        Option<resource::Projection>,
        serde_json::Value,
    ),
    ScimError,
> {
    let id = id.to_owned();
    let expected = write::expected_version(request.headers())?;
    let query = read::Query::from_uri(&request);
    // The projection asked for, if any.
    let wants = (query.attributes.is_some() || query.excluded_attributes.is_some()).then(|| {
        resource::Projection::new(
            query.attributes.as_deref(),
            query.excluded_attributes.as_deref(),
        )
    });
    let body = body::read_json(request, face.config.http.max_body_bytes).await?;
    Ok((id, expected, wants, body))
}
