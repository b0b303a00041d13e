//! Reading a SCIM request body: the media type, the size limit (413 before
//! a byte past it is buffered) and the JSON syntax (400 invalidSyntax).

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, StatusCode};
use serde_json::Value;

use super::error::ScimError;

/// RFC 7644 section 3.1: `application/scim+json`; `application/json` is
/// what many clients send, and is accepted too.
fn acceptable_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/scim+json")
        || essence.eq_ignore_ascii_case("application/json")
}

fn too_large(limit: usize) -> ScimError {
    ScimError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        format!("the request body is larger than {limit} bytes"),
    )
}

pub async fn read_json(request: Request<Incoming>, limit: usize) -> Result<Value, ScimError> {
    if let Some(media) = request.headers().get(CONTENT_TYPE) {
        let media = media.to_str().unwrap_or("");
        if !acceptable_media_type(media) {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("the body must be application/scim+json, not {media}"),
            ));
        }
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let bytes = Limited::new(request.into_body(), limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large(limit)
            } else {
                ScimError::bad_request("invalidSyntax", "the request body could not be read")
            }
        })?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad_request("invalidSyntax", format!("the body is not valid JSON: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::acceptable_media_type;

    #[test]
    fn media_types() {
        assert!(acceptable_media_type("application/scim+json"));
        assert!(acceptable_media_type(
            "application/scim+json; charset=utf-8"
        ));
        assert!(acceptable_media_type("Application/JSON"));
        assert!(!acceptable_media_type("text/plain"));
        assert!(!acceptable_media_type("application/x-www-form-urlencoded"));
    }
}
