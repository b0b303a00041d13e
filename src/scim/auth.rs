//! Who is asking: the account behind `Authorization: Bearer TOKEN`, through
//! the core (tokens are issued by `dirgate token issue` and stored hashed).

use hyper::header::AUTHORIZATION;
use hyper::Request;

use super::error::ScimError;
use crate::core::{Actor, CoreError};
use crate::http::HttpFace;

pub async fn actor<B>(face: &HttpFace, request: &Request<B>) -> Result<Actor, ScimError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ScimError::unauthorized("an Authorization: Bearer token is required"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .ok_or_else(|| ScimError::unauthorized("the Authorization header must be: Bearer TOKEN"))?;
    face.service
        .run(move |d| d.token_actor(&token))
        .await
        .map_err(|e| match e {
            CoreError::InvalidToken => {
                ScimError::unauthorized("the bearer token is invalid, expired or revoked")
            }
            other => ScimError::from(other),
        })
}
