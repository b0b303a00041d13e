//! Every SCIM failure as RFC 7644 section 3.12 has it: an HTTP status, the
//! error schema, the status again as a string, a `scimType` where one
//! applies, and a `detail` a person can act on.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};

use crate::core::CoreError;
use crate::http::Body;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const CONTENT_TYPE_SCIM: &str = "application/scim+json";

#[derive(Debug, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::UNAUTHORIZED, None, detail)
    }
    pub fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn into_response(self) -> Response<Body> {
        let mut body = serde_json::json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_str(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = serde_json::Value::from(t);
        }
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_SCIM));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static("GET"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 section 3.
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dirgate\""),
            );
        }
        response
    }
}

impl From<CoreError> for ScimError {
    /// The core's verdicts in SCIM's words.
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        let (status, scim_type) = match &e {
            CoreError::NotFound(_) => (S::NOT_FOUND, None),
            CoreError::Forbidden(_) => (S::FORBIDDEN, None),
            CoreError::Conflict(_) => (S::CONFLICT, Some("uniqueness")),
            CoreError::InUse(_) => (S::CONFLICT, None),
            CoreError::VersionMismatch(_) => (S::PRECONDITION_FAILED, None),
            CoreError::InvalidToken | CoreError::AccountUnusable(_) => (S::UNAUTHORIZED, None),
            CoreError::PasswordPolicy(_)
            | CoreError::InvalidUserName { .. }
            | CoreError::InvalidTimeZone(_)
            | CoreError::InvalidValue { .. }
            | CoreError::UnknownValue(_)
            | CoreError::UnknownRole(_) => (S::BAD_REQUEST, Some("invalidValue")),
            CoreError::InvalidTree(_) => (S::BAD_REQUEST, Some("invalidValue")),
            CoreError::Immutable(_) => (S::BAD_REQUEST, Some("mutability")),
            CoreError::ShuttingDown => (S::SERVICE_UNAVAILABLE, None),
            CoreError::Hashing(_) | CoreError::Store(_) => (S::INTERNAL_SERVER_ERROR, None),
        };
        let detail = if status == S::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "scim request failed");
            "internal error; see the server log".to_owned()
        } else {
            e.to_string()
        };
        ScimError::new(status, scim_type, detail)
    }
}
