//! `POST /Bulk` (RFC 7644 section 3.7): many writes in one request. Each
//! operation runs through the same handler, as the same actor, as it would
//! as a request of its own, so every rule holds per operation. A
//! `bulkId:` reference to a resource created earlier in the request is
//! replaced by that resource's id; an operation whose reference is not yet
//! created waits for it, so clients may list operations in any order.

use std::collections::{HashMap, HashSet};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{ETAG, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::body::read_json;
use super::error::ScimError;
use super::{groups, reply, write};
use crate::core::Actor;
use crate::http::{Body, HttpFace};

/// The most operations one request may hold; advertised as
/// `bulk.maxOperations` in `schemas/scim/ServiceProviderConfig.json`.
pub const MAX_OPERATIONS: usize = 1000;
/// The largest request body, in bytes; advertised as `bulk.maxPayloadSize`.
pub const MAX_PAYLOAD_BYTES: usize = 1_048_576;

const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const BULK_ID_PREFIX: &str = "bulkId:";

/// One entry of `Operations`.
#[derive(Debug)]
struct Operation {
    method: Method,
    path: String,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Value,
}

/// What became of one operation, as the response lists it.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    location: Option<String>,
    version: Option<String>,
    /// The created resource's id (for `bulkId` references).
    id: Option<String>,
    /// The error body, for a failed operation.
    error: Option<Value>,
}

impl Outcome {
    fn failed(error: ScimError) -> Outcome {
        Outcome {
            status: error.status,
            location: None,
            version: None,
            id: None,
            error: Some(error_body(&error)),
        }
    }

    fn is_error(&self) -> bool {
        self.status.is_client_error() || self.status.is_server_error()
    }
}

fn error_body(error: &ScimError) -> Value {
    let mut body = json!({
        "schemas": [super::error::ERROR_SCHEMA],
        "status": error.status.as_str(),
        "detail": error.detail,
    });
    if let Some(t) = error.scim_type {
        body["scimType"] = Value::from(t);
    }
    body
}

fn too_large(detail: String) -> ScimError {
    ScimError::new(StatusCode::PAYLOAD_TOO_LARGE, None, detail)
}

pub async fn handle(
    face: &HttpFace,
    actor: &Actor,
    request: Request<Incoming>,
    base: &str,
) -> Result<Response<Body>, ScimError> {
    let body = read_json(request, MAX_PAYLOAD_BYTES)
        .await
        .map_err(|e| match e.status {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(format!(
                "The size of the bulk operation exceeds the maxPayloadSize ({MAX_PAYLOAD_BYTES})."
            )),
            _ => e,
        })?;
    let (operations, fail_on_errors) = parse_request(&body)?;
    let outcomes = run(face, actor, base, &operations, fail_on_errors).await;
    let listed = outcomes
        .iter()
        .map(|(index, outcome)| describe(&operations[*index], outcome))
        .collect::<Vec<_>>();
    Ok(reply::json(&json!({
        "schemas": [BULK_RESPONSE],
        "Operations": listed,
    })))
}

/// A key of a JSON object, whatever its case (clients send `Operations`
/// and `operations`).
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn parse_request(body: &Value) -> Result<(Vec<Operation>, Option<usize>), ScimError> {
    let syntax = |detail: &str| ScimError::bad_request("invalidSyntax", detail);
    let object = body
        .as_object()
        .ok_or_else(|| syntax("a bulk request is a JSON object"))?;
    let listed = field(object, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("a bulk request needs an Operations array"))?;
    if listed.len() > MAX_OPERATIONS {
        return Err(too_large(format!(
            "The number of operations ({}) exceeds maxOperations ({MAX_OPERATIONS}).",
            listed.len()
        )));
    }
    let fail_on_errors = match field(object, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    "failOnErrors must be a whole number of at least 1",
                ))
            }
        },
    };
    let mut seen = HashSet::new();
    let mut operations = Vec::with_capacity(listed.len());
    for (n, entry) in listed.iter().enumerate() {
        let op = parse_operation(entry)
            .map_err(|detail| syntax(&format!("operation {}: {detail}", n + 1)))?;
        if let Some(id) = &op.bulk_id {
            if !seen.insert(id.clone()) {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    format!("bulkId {id:?} is used by more than one operation"),
                ));
            }
        }
        operations.push(op);
    }
    Ok((operations, fail_on_errors))
}

fn parse_operation(entry: &Value) -> Result<Operation, String> {
    let object = entry.as_object().ok_or("an operation is a JSON object")?;
    let text = |name: &str| -> Result<Option<String>, String> {
        match field(object, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{name} must be a string")),
        }
    };
    let method = text("method")?.ok_or("method is required")?;
    let method = match method.to_ascii_uppercase().as_str() {
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        other => return Err(format!("{other} is not a bulk method")),
    };
    let path = text("path")?.ok_or("path is required")?;
    let data = field(object, "data").cloned().unwrap_or(Value::Null);
    if method != Method::DELETE && !data.is_object() {
        return Err(format!("{method} needs a data object"));
    }
    Ok(Operation {
        method,
        path,
        bulk_id: text("bulkId")?,
        version: text("version")?,
        data,
    })
}

/// Every `bulkId:` reference in an operation's path and data.
fn references(op: &Operation) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => {
                if let Some(id) = s.strip_prefix(BULK_ID_PREFIX) {
                    out.push(id.to_owned());
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for segment in op.path.split('/') {
        if let Some(id) = segment.strip_prefix(BULK_ID_PREFIX) {
            out.push(id.to_owned());
        }
    }
    walk(&op.data, &mut out);
    out
}

/// `value` with every `bulkId:` reference replaced by the created id.
fn substitute(value: &Value, created: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix(BULK_ID_PREFIX).and_then(|b| created.get(b)) {
            Some(id) => Value::String(id.clone()),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, created)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, created)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn substitute_path(path: &str, created: &HashMap<String, String>) -> String {
    path.split('/')
        .map(|segment| {
            segment
                .strip_prefix(BULK_ID_PREFIX)
                .and_then(|b| created.get(b))
                .map_or(segment, String::as_str)
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs the operations in order, an operation that refers to one not yet
/// run waiting for it. Stops once `fail_on_errors` operations failed.
/// Returns (index into `operations`, outcome) in the order they ran.
async fn run(
    face: &HttpFace,
    actor: &Actor,
    base: &str,
    operations: &[Operation],
    fail_on_errors: Option<usize>,
) -> Vec<(usize, Outcome)> {
    let declared: HashSet<&str> = operations
        .iter()
        .filter_map(|op| op.bulk_id.as_deref())
        .collect();
    let mut created: HashMap<String, String> = HashMap::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut pending: Vec<usize> = (0..operations.len()).collect();
    let mut done = Vec::with_capacity(operations.len());
    let mut errors = 0;
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        for &index in &pending {
            let op = &operations[index];
            let refs = references(op);
            let outcome = if let Some(bad) = refs.iter().find(|r| failed.contains(*r)) {
                Outcome::failed(ScimError::new(
                    StatusCode::CONFLICT,
                    Some("invalidValue"),
                    format!("bulkId {bad:?} names an operation that failed"),
                ))
            } else if let Some(unknown) = refs.iter().find(|r| !declared.contains(r.as_str())) {
                Outcome::failed(ScimError::new(
                    StatusCode::CONFLICT,
                    Some("invalidValue"),
                    format!("no operation in this request has bulkId {unknown:?}"),
                ))
            } else if refs.iter().any(|r| !created.contains_key(r)) {
                waiting.push(index);
                continue;
            } else {
                execute(face, actor, base, op, &created).await
            };
            if let Some(bulk_id) = &op.bulk_id {
                match (&outcome.id, outcome.is_error()) {
                    (Some(id), false) => {
                        created.insert(bulk_id.clone(), id.clone());
                    }
                    (_, true) => {
                        failed.insert(bulk_id.clone());
                    }
                    _ => {}
                }
            }
            errors += usize::from(outcome.is_error());
            done.push((index, outcome));
            if fail_on_errors.is_some_and(|limit| errors >= limit) {
                return done;
            }
        }
        if waiting.len() == pending.len() {
            // Nothing could run: the rest refer to each other in a circle
            // (RFC 7644 section 3.7.1 lets a server answer 409).
            for index in waiting {
                done.push((
                    index,
                    Outcome::failed(ScimError::new(
                        StatusCode::CONFLICT,
                        Some("invalidValue"),
                        "the bulkId references of this operation form a circle",
                    )),
                ));
                errors += 1;
                if fail_on_errors.is_some_and(|limit| errors >= limit) {
                    break;
                }
            }
            return done;
        }
        pending = waiting;
    }
    done
}

/// Runs one operation through the handler its own request would reach.
async fn execute(
    face: &HttpFace,
    actor: &Actor,
    base: &str,
    op: &Operation,
    created: &HashMap<String, String>,
) -> Outcome {
    let path = substitute_path(&op.path, created);
    let data = substitute(&op.data, created);
    let expected = match op.version.as_deref().map(write::version_named) {
        Some(Err(e)) => return Outcome::failed(e),
        Some(Ok(v)) => v,
        None => None,
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let answer = match (&op.method, segments.as_slice()) {
        (&Method::POST, ["Users"]) => write::create_user(face, actor, &data, base).await,
        (&Method::PUT, ["Users", id]) => {
            write::replace_user(face, actor, &data, base, id, expected).await
        }
        (&Method::PATCH, ["Users", id]) => {
            write::patch_user(face, actor, &data, base, id, expected, None).await
        }
        (&Method::DELETE, ["Users", id]) => write::delete_user(face, actor, id).await,
        (&Method::POST, ["Groups"]) => groups::create_group(face, actor, &data, base).await,
        (&Method::PUT, ["Groups", id]) => {
            groups::replace_group(face, actor, &data, base, id, expected).await
        }
        (&Method::PATCH, ["Groups", id]) => {
            groups::patch_group(face, actor, &data, base, id, expected, None).await
        }
        (&Method::DELETE, ["Groups", id]) => groups::delete_group(face, actor, id).await,
        _ => Err(ScimError::bad_request(
            "invalidPath",
            format!(
                "{} {} is not a bulk operation: POST to /Users or /Groups, or PUT, PATCH or DELETE /Users/{{id}} or /Groups/{{id}}",
                op.method, op.path
            ),
        )),
    };
    let location = match segments.as_slice() {
        [kind, id] => Some(format!("{}/{kind}/{id}", base.trim_end_matches('/'))),
        _ => None,
    };
    match answer {
        Ok(response) => succeeded(response, location).await,
        Err(e) => Outcome {
            location,
            ..Outcome::failed(e)
        },
    }
}

/// Reads what a handler answered back into an outcome.
async fn succeeded(response: Response<Body>, location: Option<String>) -> Outcome {
    let (parts, body) = response.into_parts();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let id = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    Outcome {
        status: parts.status,
        location: header(LOCATION).or(location),
        version: header(ETAG),
        id,
        error: None,
    }
}

/// One entry of the response's `Operations` (RFC 7644 section 3.7.3).
fn describe(op: &Operation, outcome: &Outcome) -> Value {
    let mut entry = json!({
        "method": op.method.as_str(),
        "status": outcome.status.as_str(),
    });
    if let Some(bulk_id) = &op.bulk_id {
        entry["bulkId"] = Value::from(bulk_id.as_str());
    }
    if let Some(location) = &outcome.location {
        entry["location"] = Value::from(location.as_str());
    }
    if let Some(version) = &outcome.version {
        entry["version"] = Value::from(version.as_str());
    }
    if let Some(error) = &outcome.error {
        entry["response"] = error.clone();
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(value: Value) -> Operation {
        parse_operation(&value).unwrap()
    }

    #[test]
    fn advertised_limits_are_the_enforced_ones() {
        let config: Value = serde_json::from_str(include_str!(
            "../../schemas/scim/ServiceProviderConfig.json"
        ))
        .unwrap();
        assert_eq!(config["bulk"]["supported"], true);
        assert_eq!(config["bulk"]["maxOperations"], MAX_OPERATIONS);
        assert_eq!(config["bulk"]["maxPayloadSize"], MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn references_are_found_in_paths_and_nested_data() {
        let o = op(json!({
            "method": "patch",
            "path": "/Groups/bulkId:g1",
            "data": {"Operations": [{"op": "add", "path": "members",
                "value": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}, {"value": "plain"}]}]}
        }));
        assert_eq!(o.method, Method::PATCH);
        assert_eq!(references(&o), vec!["g1", "u1", "u2"]);
        let created: HashMap<String, String> = [("g1", "G"), ("u1", "U")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(substitute_path(&o.path, &created), "/Groups/G");
        let data = substitute(&o.data, &created);
        let values = &data["Operations"][0]["value"];
        assert_eq!(values[0]["value"], "U");
        assert_eq!(values[1]["value"], "bulkId:u2");
        assert_eq!(values[2]["value"], "plain");
    }

    #[test]
    fn malformed_requests_are_refused_whole() {
        let err = |body: Value| parse_request(&body).unwrap_err();
        assert_eq!(err(json!([])).scim_type, Some("invalidSyntax"));
        assert_eq!(err(json!({"schemas": []})).scim_type, Some("invalidSyntax"));
        let e = err(json!({"Operations": [{"method": "GET", "path": "/Users"}]}));
        assert!(e.detail.contains("operation 1"), "{}", e.detail);
        let e = err(json!({"Operations": [{"method": "POST", "path": "/Users"}]}));
        assert!(e.detail.contains("data"), "{}", e.detail);
        let e = err(json!({"failOnErrors": 0, "Operations": []}));
        assert_eq!(e.scim_type, Some("invalidValue"));
        let twice = json!({"method": "POST", "path": "/Users", "bulkId": "a", "data": {}});
        let e = err(json!({"Operations": [twice.clone(), twice]}));
        assert_eq!(e.scim_type, Some("invalidValue"));
        let many = vec![json!({"method": "DELETE", "path": "/Users/x"}); MAX_OPERATIONS + 1];
        assert_eq!(
            err(json!({"Operations": many})).status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let (ops, fail) = parse_request(
            &json!({"operations": [{"method": "DELETE", "path": "/Users/x"}],
                "FAILONERRORS": 2}),
        )
        .unwrap();
        assert_eq!((ops.len(), fail), (1, Some(2)));
    }
}
