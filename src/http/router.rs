//! Picks the handler for each HTTP request.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::{HttpFace, Peer};

pub type Body = Full<Bytes>;

/// `peer` is the client (the self-service pages limit by its address and
/// recognise computers by it).
pub async fn route(face: &HttpFace, request: Request<Incoming>, peer: Peer) -> Response<Body> {
    let path = request.uri().path();
    if path == crate::scim::PREFIX || path.starts_with(&format!("{}/", crate::scim::PREFIX)) {
        return crate::scim::handle(face, request).await;
    }
    if crate::web::serves(path) {
        return crate::web::handle(face, request, peer).await;
    }
    match (request.method(), path) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        _ => crate::scim::error::ScimError::not_found("no such endpoint").into_response(),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
