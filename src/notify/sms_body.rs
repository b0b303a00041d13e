//! The body of one SMS: `[sms] body_template` filled in for JSON, or the
//! form under `[sms] fields`' names. The sender (`sms.rs`) posts it; the
//! configuration check renders a sample to see the template gives JSON.

use crate::config::SmsConfig;

impl SmsConfig {
    /// The JSON body for one message: `body_template` with `{to}`,
    /// `{to_digits}`, `{from}` and `{text}` replaced, in one pass (so a
    /// recipient or text that itself contains `{text}` is not replaced
    /// again), by JSON-escaped strings without their quotes.
    pub fn render(&self, to: &str, text: &str) -> String {
        render_template(
            &self.body_template,
            to,
            text,
            self.from.as_deref().unwrap_or(""),
        )
    }

    /// The form body for one message: the recipient, the sender (when
    /// `from` is set) and the text, under `fields`' names.
    pub fn render_form(&self, to: &str, text: &str) -> String {
        let names = self.field_names();
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair(&names.to, to);
        if let Some(from) = &self.from {
            form.append_pair(&names.from, from);
        }
        form.append_pair(&names.text, text);
        form.finish()
    }
}

fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// `template` with each placeholder replaced by its JSON-escaped value, in
/// one pass; the configuration check calls it with a sample.
pub(crate) fn render_template(template: &str, to: &str, text: &str, from: &str) -> String {
    let to_digits = to.trim_start_matches('+');
    let values = [
        ("{to}", to),
        ("{to_digits}", to_digits),
        ("{text}", text),
        ("{from}", from),
    ];
    let mut out = String::with_capacity(template.len() + to.len() + text.len());
    let mut rest = template;
    'outer: while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        for (placeholder, value) in values {
            if let Some(after) = tail.strip_prefix(placeholder) {
                out.push_str(&json_escaped(value));
                rest = after;
                continue 'outer;
            }
        }
        out.push('{');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use crate::config::SmsConfig;

    #[test]
    fn template_renders_escaped_json_in_one_pass() {
        let sms = SmsConfig {
            body_template: r#"{"msisdn": "{to}", "message": {"body": "{text}"}, "n": 1}"#
                .to_string(),
            ..SmsConfig::default()
        };
        let out = sms.render("{text}", "say \"hi\"\nline {to}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["msisdn"], "{text}");
        assert_eq!(v["message"]["body"], "say \"hi\"\nline {to}");
        assert_eq!(v["n"], 1);
    }
}
