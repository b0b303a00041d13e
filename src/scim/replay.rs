//! SCIM writes from an already parsed JSON body, without HTTP: the same
//! handler functions `scim::route` calls for `POST`, `PUT` and `PATCH` on
//! `/Users` and `/Groups`.
//!
//! Why this exists: those handlers are private to the SCIM face and the
//! router reaches them only with a `hyper::Request<Incoming>`, which only a
//! real connection makes; the `scim_body` fuzz target and its corpus test
//! (through `crate::fuzzing`) need them from a body. It stays thin: the
//! token, headers and body reading (`body::read_json`) are left out.

use hyper::Response;
use serde_json::Value;

use super::resource::Projection;
use super::{groups, write};
use crate::core::Actor;
use crate::http::{Body, HttpFace};

/// Which write, and on which resource id.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    CreateUser,
    ReplaceUser(&'a str),
    PatchUser(&'a str),
    CreateGroup,
    ReplaceGroup(&'a str),
    PatchGroup(&'a str),
}

/// The answer the handler gives (an error as its SCIM error response).
pub async fn answer(
    face: &HttpFace,
    actor: &Actor,
    what: Write<'_>,
    body: &Value,
    base: &str,
) -> Response<Body> {
    let answer = match what {
        Write::CreateUser => write::create_user(face, actor, body, base).await,
        Write::ReplaceUser(id) => write::replace_user(face, actor, body, base, id, None).await,
        Write::PatchUser(id) => {
            write::patch_user(face, actor, body, base, id, None, Some(Projection::all())).await
        }
        Write::CreateGroup => groups::create_group(face, actor, body, base).await,
        Write::ReplaceGroup(id) => groups::replace_group(face, actor, body, base, id, None).await,
        Write::PatchGroup(id) => {
            groups::patch_group(face, actor, body, base, id, None, Some(Projection::all())).await
        }
    };
    answer.unwrap_or_else(|e| e.into_response())
}
