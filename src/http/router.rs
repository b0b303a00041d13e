//! Picks the handler for each HTTP request, and counts what the SCIM API and
//! the pages answered (`crate::metrics`).

use std::time::Instant;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::{HttpFace, Peer};
use crate::config::MetricsAccess;
use crate::metrics::Face;

pub type Body = Full<Bytes>;

/// The SCIM resources and endpoints named in the operation label; anything
/// else is "other", so a client cannot make up new labels.
const SCIM_ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "Me",
    "Bulk",
    ".search",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
];

/// `peer` is the client (the self-service pages limit by its address and
/// recognise computers by it). Every answer says `nosniff` (a JSON or text
/// answer is never to be read as something else); an answer over HTTPS
/// also tells the browser to use HTTPS only from now on (a year).
pub async fn route(face: &HttpFace, request: Request<Incoming>, peer: Peer) -> Response<Body> {
    let mut response = dispatch(face, request, peer).await;
    let headers = response.headers_mut();
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if !peer.via_proxy {
        headers
            .entry(STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

async fn dispatch(face: &HttpFace, request: Request<Incoming>, peer: Peer) -> Response<Body> {
    let path = request.uri().path();
    if path == crate::scim::PREFIX || path.starts_with(&format!("{}/", crate::scim::PREFIX)) {
        let operation = scim_operation(request.method(), &path[crate::scim::PREFIX.len()..]);
        let started = Instant::now();
        let response = crate::scim::handle(face, request).await;
        let status = response.status();
        face.metrics
            .operation(Face::Scim, &operation, status.as_str(), started);
        return response;
    }
    if crate::web::serves(path) {
        let operation = web_operation(request.method(), path);
        let started = Instant::now();
        let response = crate::web::handle(face, request, peer).await;
        let status = response.status();
        face.metrics
            .operation(Face::Web, &operation, status.as_str(), started);
        return response;
    }
    match (request.method(), path) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/metrics") if metrics_allowed(face, peer, request.headers()) => {
            metrics(face).await
        }
        _ => crate::scim::error::ScimError::not_found("no such endpoint").into_response(),
    }
}

/// `[http] metrics` applied to this request.
fn metrics_allowed(face: &HttpFace, peer: Peer, headers: &HeaderMap) -> bool {
    match face.config.http.metrics {
        MetricsAccess::Off => false,
        MetricsAccess::Everyone => true,
        MetricsAccess::Loopback => {
            // Behind a proxy every client has the proxy's address: only a
            // request the proxy did not forward is from this machine.
            let forwarded = headers.contains_key("x-forwarded-for")
                || headers.contains_key(hyper::header::FORWARDED);
            peer.addr.ip().to_canonical().is_loopback() && !(peer.via_proxy && forwarded)
        }
    }
}

async fn metrics(face: &HttpFace) -> Response<Body> {
    let m = face.metrics.clone();
    let rendered = tokio::task::spawn_blocking(move || m.render())
        .await
        .unwrap_or_else(|e| Err(format!("rendering did not finish: {e}")));
    match rendered {
        Ok(body) => {
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics unavailable");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "metrics unavailable; see the server log\n",
            )
        }
    }
}

/// "GET Users", "PATCH Groups", "POST Bulk": the method and the first path
/// segment after the SCIM prefix (`rest` starts with `/` or is empty).
fn scim_operation(method: &Method, rest: &str) -> String {
    let segment = rest.trim_start_matches('/').split('/').next().unwrap_or("");
    let endpoint = match SCIM_ENDPOINTS.iter().find(|e| **e == segment) {
        Some(e) => e,
        None if segment.is_empty() => "root",
        None => "other",
    };
    format!("{} {endpoint}", method_name(method))
}

/// "GET /forgot", "POST /account": the page, without what follows it.
fn web_operation(method: &Method, path: &str) -> String {
    let page = match path {
        "/forgot" => "/forgot",
        "/reset" => "/reset",
        "/" => "/",
        p if p == "/admin" || p.starts_with("/admin/") => "/admin",
        _ => "/account",
    };
    format!("{} {page}", method_name(method))
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_operations_name_only_known_endpoints() {
        assert_eq!(scim_operation(&Method::GET, "/Users"), "GET Users");
        assert_eq!(scim_operation(&Method::GET, "/Users/abc"), "GET Users");
        assert_eq!(scim_operation(&Method::PATCH, "/Groups/x"), "PATCH Groups");
        assert_eq!(scim_operation(&Method::POST, "/Bulk"), "POST Bulk");
        assert_eq!(scim_operation(&Method::GET, "/alice-secret"), "GET other");
        assert_eq!(scim_operation(&Method::GET, ""), "GET root");
        assert_eq!(web_operation(&Method::GET, "/account/x"), "GET /account");
        assert_eq!(
            web_operation(&Method::POST, "/admin/accounts/x/save"),
            "POST /admin"
        );
        assert_eq!(web_operation(&Method::GET, "/"), "GET /");
    }
}
