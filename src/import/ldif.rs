//! An LDIF reader (RFC 2849) for content records: folded lines, comments,
//! base64 values (`attr:: ...`), attribute options dropped (`cn;lang-en`).
//! Change records other than `changetype: add` are refused: an export is
//! content, and applying modifications is not what an import does.

use std::collections::BTreeMap;

/// One entry: its DN and its attributes (names in lower case, values in
/// the order they came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub attrs: BTreeMap<String, Vec<String>>,
    /// The line the entry starts on, for messages.
    pub line: usize,
}

impl Entry {
    pub fn first(&self, name: &str) -> Option<&str> {
        self.attrs.get(name)?.first().map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.attrs.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether the entry has this object class (ignoring case).
    pub fn is_a(&self, class: &str) -> bool {
        self.all("objectclass")
            .iter()
            .any(|c| c.eq_ignore_ascii_case(class))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {reason}")]
pub struct LdifError {
    pub line: usize,
    pub reason: String,
}

fn error(line: usize, reason: impl Into<String>) -> LdifError {
    LdifError {
        line,
        reason: reason.into(),
    }
}

/// Reads every entry of an LDIF text.
pub fn parse(text: &str) -> Result<Vec<Entry>, LdifError> {
    // Unfold: a line starting with one space continues the previous one.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix(' ') {
            Some(rest) if !lines.is_empty() && !lines.last().is_some_and(|(_, l)| l.is_empty()) => {
                if let Some((_, last)) = lines.last_mut() {
                    last.push_str(rest);
                }
            }
            _ => lines.push((n + 1, raw.to_owned())),
        }
    }
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    for (line, text) in lines {
        if text.is_empty() {
            entries.extend(current.take());
            continue;
        }
        if text.starts_with('#') {
            continue;
        }
        let (name, value) = attribute(line, &text)?;
        match current.as_mut() {
            None if name == "version" => {}
            None if name == "dn" => {
                current = Some(Entry {
                    dn: value,
                    attrs: BTreeMap::new(),
                    line,
                });
            }
            None => {
                return Err(error(
                    line,
                    format!("an entry must start with dn:, not {name}:"),
                ))
            }
            Some(_) if name == "changetype" && !value.eq_ignore_ascii_case("add") => {
                return Err(error(
                    line,
                    format!("changetype: {value} records cannot be imported (only entries)"),
                ))
            }
            Some(_) if name == "changetype" => {}
            Some(entry) => entry.attrs.entry(name).or_default().push(value),
        }
    }
    entries.extend(current);
    Ok(entries)
}

/// `name: value`, `name:: base64` or `name:< url` (refused).
fn attribute(line: usize, text: &str) -> Result<(String, String), LdifError> {
    let (name, rest) = text
        .split_once(':')
        .ok_or_else(|| error(line, "expected name: value"))?;
    let name = name
        .split(';')
        .next()
        .unwrap_or(name)
        .trim()
        .to_ascii_lowercase();
    if name.is_empty() {
        return Err(error(line, "an attribute name is missing"));
    }
    let value = if let Some(encoded) = rest.strip_prefix(':') {
        let bytes = data_encoding::BASE64
            .decode(encoded.trim().as_bytes())
            .map_err(|e| error(line, format!("{name}: bad base64 ({e})")))?;
        String::from_utf8(bytes)
            .map_err(|_| error(line, format!("{name}: the value is not UTF-8 text")))?
    } else if rest.starts_with('<') {
        return Err(error(line, format!("{name}: values by URL are not read")));
    } else {
        rest.trim_start().to_owned()
    };
    Ok((name, value))
}

/// Writes one entry as LDIF: a value that is not safe as plain text
/// (RFC 2849 SAFE-STRING) is written in base64, long lines are folded.
pub fn write_entry(out: &mut String, dn: &str, attrs: &[(String, Vec<Vec<u8>>)]) {
    line(out, "dn", dn.as_bytes());
    for (name, values) in attrs {
        for v in values {
            line(out, name, v);
        }
    }
    out.push('\n');
}

fn safe(value: &[u8]) -> bool {
    match value.first() {
        None => true,
        Some(b' ' | b':' | b'<') => false,
        Some(_) => {
            value.last() != Some(&b' ')
                && value
                    .iter()
                    .all(|&b| b.is_ascii() && b != b'\n' && b != b'\r' && b != 0)
        }
    }
}

fn line(out: &mut String, name: &str, value: &[u8]) {
    let text = if safe(value) {
        format!("{name}: {}", String::from_utf8_lossy(value))
    } else {
        format!("{name}:: {}", data_encoding::BASE64.encode(value))
    };
    // Fold at 76 columns: continuation lines start with one space.
    let mut chars = text.chars().peekable();
    let mut width = 0;
    while let Some(c) = chars.next() {
        out.push(c);
        width += 1;
        if width == 76 && chars.peek().is_some() {
            out.push_str("\n ");
            width = 1;
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_base64_and_optioned_values() {
        let text = "version: 1\n\
            # a comment\n\
            dn: uid=ann,ou=people,dc=example,dc=com\n\
            objectClass: inetOrgPerson\n\
            cn;lang-en: Ann\n\x20Lee\n\
            userPassword:: e1NTSEF9YWJj\n\
            \n\
            \n\
            dn: cn=team,ou=groups,dc=example,dc=com\r\n\
            changetype: add\n\
            member: uid=ann,ou=people,dc=example,dc=com\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 2);
        let ann = &entries[0];
        assert_eq!(ann.dn, "uid=ann,ou=people,dc=example,dc=com");
        assert!(ann.is_a("INETORGPERSON"));
        assert_eq!(ann.first("cn"), Some("AnnLee"));
        assert_eq!(ann.first("userpassword"), Some("{SSHA}abc"));
        assert_eq!(entries[1].all("member").len(), 1);
        assert_eq!(entries[1].line, 10);
    }

    #[test]
    fn written_entries_read_back() {
        let mut out = String::new();
        let long = "x".repeat(200);
        let attrs = vec![
            (
                "cn".to_owned(),
                vec![b"Zo\xc3\xab".to_vec(), long.clone().into_bytes()],
            ),
            ("description".to_owned(), vec![b" leading space".to_vec()]),
        ];
        write_entry(&mut out, "uid=zoe,ou=people,dc=example,dc=com", &attrs);
        assert!(out.lines().all(|l| l.len() <= 77), "{out}");
        assert!(out.contains("cn:: "), "non-ASCII is base64: {out}");
        let back = parse(&out).unwrap();
        assert_eq!(back[0].all("cn"), ["Zo\u{eb}".to_owned(), long]);
        assert_eq!(back[0].first("description"), Some(" leading space"));
    }

    #[test]
    fn refuses_what_it_cannot_import() {
        assert_eq!(parse("cn: x\n").unwrap_err().line, 1);
        let e = parse("dn: cn=x\nchangetype: modify\n").unwrap_err();
        assert!(e.reason.contains("modify"), "{e}");
        assert!(parse("dn: cn=x\njpegPhoto:< file:///etc/passwd\n").is_err());
        assert!(parse("dn: cn=x\nuserPassword:: !!!\n").is_err());
        assert!(parse("dn: cn=x\nnovalue\n").is_err());
    }
}
