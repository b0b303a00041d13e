//! Reading a posted form (`application/x-www-form-urlencoded`) with a size
//! limit: 413 before a byte past it is buffered.

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::Request;

use super::WebError;

/// The largest form accepted: the pages' forms are a few short fields.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The fields of a posted form; the first of a repeated name counts.
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form {
            fields: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    /// Whether the form has a field of this name.
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// The names of the fields that start with `prefix`, without it.
    pub fn names_after<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter_map(move |(n, _)| n.strip_prefix(prefix))
    }

    /// A field's value, or "" when it is missing.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

pub async fn read(request: Request<Incoming>) -> Result<Form, WebError> {
    let media = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(WebError::MediaType);
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_FORM_BYTES) {
        return Err(WebError::TooLarge);
    }
    let bytes = Limited::new(request.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                WebError::TooLarge
            } else {
                WebError::BadRequest("the form could not be read")
            }
        })?
        .to_bytes();
    Ok(Form::parse(&bytes))
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn fields_are_decoded_and_the_first_counts() {
        let f = Form::parse(b"a=1+2&b=%3Cx%3E&a=3");
        assert_eq!(f.get("a"), "1 2");
        assert_eq!(f.get("b"), "<x>");
        assert_eq!(f.get("missing"), "");
    }
}
