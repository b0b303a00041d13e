//! The shapes of a successful SCIM answer: a JSON body, a resource with its
//! ETag (and, when created, 201 and its Location), or 204 with the ETag.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE, ETAG, LOCATION};
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::error::CONTENT_TYPE_SCIM;
use super::resource::etag;
use crate::http::Body;

/// 200 with a SCIM JSON body.
pub fn json(value: &Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_SCIM));
    response
}

fn with_etag(mut response: Response<Body>, version: i64) -> Response<Body> {
    if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, tag);
    }
    response
}

/// A resource at `version`; 201 with its `meta.location` when `created`.
pub fn resource(value: &Value, version: i64, created: bool) -> Response<Body> {
    let mut response = with_etag(json(value), version);
    if created {
        *response.status_mut() = StatusCode::CREATED;
        if let Some(Ok(location)) = value["meta"]["location"]
            .as_str()
            .map(HeaderValue::from_str)
        {
            response.headers_mut().insert(LOCATION, location);
        }
    }
    response
}

/// 204 (a PATCH nobody asked attributes back from, a DELETE), with the
/// resource's new ETag when there is one.
pub fn no_content(version: Option<i64>) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    match version {
        Some(v) => with_etag(response, v),
        None => response,
    }
}
