//! `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes`, served from the
//! JSON documents in `schemas/scim/` (compiled in, so what is published is
//! what this binary was built with), with `meta.location` made absolute.

use std::sync::LazyLock;

use hyper::header::HOST;
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::error::ScimError;
use super::{reply, PREFIX};
use crate::http::{Body, HttpFace};

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

const SCHEMA_FILES: [&str; 5] = [
    include_str!("../../schemas/scim/User.json"),
    include_str!("../../schemas/scim/EnterpriseUser.json"),
    include_str!("../../schemas/scim/DirgateUser.json"),
    include_str!("../../schemas/scim/Group.json"),
    include_str!("../../schemas/scim/DirgateGroup.json"),
];
const RESOURCE_TYPES: &str = include_str!("../../schemas/scim/ResourceTypes.json");
const SERVICE_PROVIDER_CONFIG: &str = include_str!("../../schemas/scim/ServiceProviderConfig.json");

/// Parsed once. The files are checked by `tests/schemas.rs`; a file that
/// does not parse is published as null rather than stopping the server.
static SCHEMAS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    SCHEMA_FILES
        .iter()
        .map(|text| serde_json::from_str(text).unwrap_or(Value::Null))
        .map(with_time_zones)
        .collect()
});

/// The User schema with `timezone`'s canonical values: the IANA names of
/// the time zone database this binary validates against (bundled, so the
/// list and the check never disagree). A client can offer them to choose
/// from; the schema file cannot list them without going stale.
fn with_time_zones(mut schema: Value) -> Value {
    let Some(attributes) = schema.get_mut("attributes").and_then(Value::as_array_mut) else {
        return schema;
    };
    for attribute in attributes {
        if attribute.get("name").and_then(Value::as_str) == Some("timezone") {
            let mut names: Vec<String> = jiff::tz::db()
                .available()
                .map(|n| n.to_string())
                .filter(|n| n.contains('/') || n == "UTC")
                .collect();
            names.sort();
            attribute["canonicalValues"] = json!(names);
        }
    }
    schema
}
static TYPES: LazyLock<Vec<Value>> =
    LazyLock::new(|| serde_json::from_str(RESOURCE_TYPES).unwrap_or_default());
static CONFIG: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SERVICE_PROVIDER_CONFIG).unwrap_or(Value::Null));

/// The absolute base of the SCIM endpoint as the client reached it. Always
/// https: the plain listener exists only behind a TLS-terminating proxy.
pub fn base_url<B>(request: &Request<B>, face: &HttpFace) -> String {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(str::to_owned)
        .or_else(|| face.config.http.https_listen.addr().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("https://{host}{PREFIX}")
}

/// `meta.location` in the files is relative to the endpoint.
fn located(mut doc: Value, base: &str) -> Value {
    if let Some(location) = doc.pointer_mut("/meta/location") {
        if let Some(relative) = location.as_str() {
            if relative.starts_with('/') {
                *location = Value::from(format!("{base}{relative}"));
            }
        }
    }
    doc
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub fn service_provider_config(base: &str) -> Response<Body> {
    reply::json(&located(CONFIG.clone(), base))
}

pub fn schemas(base: &str) -> Response<Body> {
    reply::json(&list(
        SCHEMAS.iter().map(|s| located(s.clone(), base)).collect(),
    ))
}

pub fn schema(base: &str, id: &str) -> Result<Response<Body>, ScimError> {
    SCHEMAS
        .iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|sid| sid.eq_ignore_ascii_case(id))
        })
        .map(|s| reply::json(&located(s.clone(), base)))
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))
}

pub fn resource_types(base: &str) -> Response<Body> {
    reply::json(&list(
        TYPES.iter().map(|t| located(t.clone(), base)).collect(),
    ))
}

pub fn resource_type(base: &str, id: &str) -> Result<Response<Body>, ScimError> {
    TYPES
        .iter()
        .find(|t| {
            t["id"]
                .as_str()
                .is_some_and(|tid| tid.eq_ignore_ascii_case(id))
        })
        .map(|t| reply::json(&located(t.clone(), base)))
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id}")))
}
