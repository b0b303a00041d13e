//! SCIM filters (RFC 7644 section 3.4.2.2): parsing, and translation into
//! the core search language ([`Filter`] over [`AccountField`] or
//! [`NodeField`]).
//!
//! The parser is ours (see `STACK.md`: `scim_proto`'s overflows the stack
//! and rejects what real clients send). It accepts, beyond the grammar:
//! operators and keywords in any case (`Eq`, `AND`), URN-qualified paths,
//! Entra ID's `emails[type eq "work"].value eq "x"` (folded into the value
//! filter), unquoted values (`userName eq alice@x.com`) and extra
//! whitespace. It refuses input longer than [`MAX_LEN`] bytes and nesting
//! (brackets, `not`, value paths) deeper than [`MAX_DEPTH`], checking the
//! depth before it recurses, so no input can overflow the stack.

use std::fmt;

use jiff::Timestamp;

use super::attributes;
use super::path::{
    char_at, is_ws, parse_attr_path_at, scan_attr, skip_ws, AttrPath, DIRGATE_GROUP_SCHEMA,
    DIRGATE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA,
};
use crate::model::query::{AccountField, Filter, NodeField, Sort, Test, Value};
use crate::model::{AccountType, Attribute, AuthMethod, NodeKind, Status};

/// The longest filter (or PATCH path) accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// The deepest nesting of brackets, `not` and value paths accepted.
pub const MAX_DEPTH: usize = 32;

/// A filter that does not parse or cannot be translated; the SCIM layer
/// answers it with 400 `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Position(*.position))]
pub struct ParseError {
    pub message: String,
    /// Byte offset in the input, where one applies (translation errors
    /// about an attribute as a whole have none).
    pub position: Option<usize>,
}

struct Position(Option<usize>);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " at byte {p}"),
            None => Ok(()),
        }
    }
}

impl ParseError {
    pub(super) fn at(position: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            position: Some(position),
        }
    }
    fn whole(message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            position: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScimFilter {
    And(Box<ScimFilter>, Box<ScimFilter>),
    Or(Box<ScimFilter>, Box<ScimFilter>),
    Not(Box<ScimFilter>),
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: ScimValue,
    },
    Present(AttrPath),
    /// `attr[filter]`; paths inside `filter` are sub-attributes of `attr`.
    ValuePath {
        attr: AttrPath,
        filter: Box<ScimFilter>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn from_word(w: &str) -> Option<CompareOp> {
        Some(match w.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScimValue {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

/// Parses a `filter=` expression.
pub fn parse_filter(s: &str) -> Result<ScimFilter, ParseError> {
    if s.len() > MAX_LEN {
        return Err(ParseError::at(
            MAX_LEN,
            format!("filter longer than {MAX_LEN} bytes"),
        ));
    }
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        pos: 0,
    };
    let f = p.or(0)?;
    p.ws();
    if p.pos < p.b.len() {
        return Err(p.unexpected("expected 'and', 'or' or the end of the filter"));
    }
    Ok(f)
}

/// Parses the value filter of a PATCH path: `s[open]` is `[`; returns the
/// filter and the position after the closing `]`.
pub(super) fn parse_bracketed(s: &str, open: usize) -> Result<(ScimFilter, usize), ParseError> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        pos: open + 1,
    };
    let f = p.or(1)?;
    p.ws();
    p.expect(b']')?;
    Ok((f, p.pos))
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        self.pos = skip_ws(self.b, self.pos);
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        match self.peek() {
            None => ParseError::at(self.pos, format!("{expected}, found the end of the filter")),
            Some(_) => ParseError::at(
                self.pos,
                format!("{expected}, found {:?}", char_at(self.s, self.pos)),
            ),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected '{}'", c as char)))
        }
    }

    /// The end of the run of ASCII letters at the current position.
    fn word_end(&self) -> usize {
        let mut end = self.pos;
        while end < self.b.len() && self.b[end].is_ascii_alphabetic() {
            end += 1;
        }
        end
    }

    /// Consumes `kw` (any case) if it stands at the current position as a
    /// whole word.
    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.word_end();
        let whole = self.b.get(end).is_none_or(|&c| {
            !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'$'))
        });
        if whole && self.s[self.pos..end].eq_ignore_ascii_case(kw) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, ParseError> {
        if depth >= MAX_DEPTH {
            Err(ParseError::at(
                self.pos,
                format!("filter nested deeper than {MAX_DEPTH} levels"),
            ))
        } else {
            Ok(depth + 1)
        }
    }

    fn or(&mut self, depth: usize) -> Result<ScimFilter, ParseError> {
        let mut left = self.and(depth)?;
        loop {
            let save = self.pos;
            self.ws();
            if self.keyword("or") {
                let right = self.and(depth)?;
                left = ScimFilter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and(&mut self, depth: usize) -> Result<ScimFilter, ParseError> {
        let mut left = self.unary(depth)?;
        loop {
            let save = self.pos;
            self.ws();
            if self.keyword("and") {
                let right = self.unary(depth)?;
                left = ScimFilter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, depth: usize) -> Result<ScimFilter, ParseError> {
        self.ws();
        match self.peek() {
            None => return Err(self.unexpected("expected an expression")),
            Some(b'(') => return self.group(depth),
            _ => {}
        }
        let save = self.pos;
        if self.keyword("not") {
            self.ws();
            if self.peek() == Some(b'(') {
                let inner = self.group(depth)?;
                return Ok(ScimFilter::Not(Box::new(inner)));
            }
            // An attribute called "not".
            self.pos = save;
        }
        self.attr_expr(depth)
    }

    /// `"(" filter ")"` at the current position.
    fn group(&mut self, depth: usize) -> Result<ScimFilter, ParseError> {
        let inner_depth = self.enter(depth)?;
        self.pos += 1;
        let f = self.or(inner_depth)?;
        self.ws();
        self.expect(b')')?;
        Ok(f)
    }

    fn attr_expr(&mut self, depth: usize) -> Result<ScimFilter, ParseError> {
        let start = self.pos;
        self.pos = scan_attr(self.b, start);
        if self.pos == start {
            return Err(self.unexpected("expected an attribute path"));
        }
        let path = parse_attr_path_at(&self.s[start..self.pos], start)?;
        if self.peek() != Some(b'[') {
            return self.comparison(path);
        }
        if path.sub_attr.is_some() {
            return Err(ParseError::at(
                self.pos,
                "a value filter applies to an attribute, not a sub-attribute",
            ));
        }
        let inner_depth = self.enter(depth)?;
        self.pos += 1;
        let inner = self.or(inner_depth)?;
        self.ws();
        self.expect(b']')?;
        if self.peek() != Some(b'.') {
            return Ok(ScimFilter::ValuePath {
                attr: path,
                filter: Box::new(inner),
            });
        }
        // Entra ID / Okta: `emails[type eq "work"].value eq "x"`: fold the
        // test on the sub-attribute into the value filter.
        let sub_start = self.pos + 1;
        self.pos = scan_attr(self.b, sub_start);
        let sub = parse_attr_path_at(&self.s[sub_start..self.pos], sub_start)?;
        if sub.schema.is_some() || sub.sub_attr.is_some() {
            return Err(ParseError::at(
                sub_start,
                "expected a sub-attribute name after a value filter",
            ));
        }
        let test = self.comparison(sub)?;
        Ok(ScimFilter::ValuePath {
            attr: path,
            filter: Box::new(ScimFilter::And(Box::new(inner), Box::new(test))),
        })
    }

    /// `SP compareOp SP compValue` or `SP "pr"` after `path`.
    fn comparison(&mut self, path: AttrPath) -> Result<ScimFilter, ParseError> {
        let before = self.pos;
        self.ws();
        if self.pos == before && self.peek().is_some() {
            return Err(self.unexpected("expected a space after the attribute path"));
        }
        let op_start = self.pos;
        let op_end = self.word_end();
        if op_end == op_start {
            return Err(self.unexpected("expected an operator"));
        }
        let word = &self.s[op_start..op_end];
        self.pos = op_end;
        if word.eq_ignore_ascii_case("pr") {
            return Ok(ScimFilter::Present(path));
        }
        let Some(op) = CompareOp::from_word(word) else {
            return Err(ParseError::at(
                op_start,
                format!(
                    "unknown operator {word:?}; expected eq, ne, co, sw, ew, gt, ge, lt, le or pr"
                ),
            ));
        };
        let value = self.value()?;
        Ok(ScimFilter::Compare { path, op, value })
    }

    fn value(&mut self) -> Result<ScimValue, ParseError> {
        let before = self.pos;
        self.ws();
        if self.pos == before && self.peek().is_some() {
            return Err(self.unexpected("expected a space after the operator"));
        }
        match self.peek() {
            None => Err(self.unexpected("expected a value")),
            Some(b'"') => self.string().map(ScimValue::String),
            Some(_) => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if is_ws(c) || c == b')' || c == b']' {
                        break;
                    }
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err(self.unexpected("expected a value"));
                }
                Ok(bare_value(&self.s[start..self.pos]))
            }
        }
    }

    /// A JSON string at the current position.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.b.get(i) {
                None => return Err(ParseError::at(start, "unterminated string")),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let text = &self.s[start..=i];
        let decoded = serde_json::from_str::<String>(text)
            .map_err(|e| ParseError::at(start, format!("invalid string: {e}")))?;
        self.pos = i + 1;
        Ok(decoded)
    }
}

/// An unquoted value: `true`, `false`, `null` (any case), a JSON number
/// (an integer only if it fits 64 bits, so long digit strings such as
/// external ids are not rounded), else a string.
fn bare_value(tok: &str) -> ScimValue {
    if tok.eq_ignore_ascii_case("true") {
        return ScimValue::Bool(true);
    }
    if tok.eq_ignore_ascii_case("false") {
        return ScimValue::Bool(false);
    }
    if tok.eq_ignore_ascii_case("null") {
        return ScimValue::Null;
    }
    match tok.parse::<serde_json::Number>() {
        Ok(n) if n.is_i64() || n.is_u64() || tok.contains(['.', 'e', 'E']) => ScimValue::Number(n),
        _ => ScimValue::String(tok.to_owned()),
    }
}

// ---------------------------------------------------------------------
// Translation.

/// Translates a filter on Users.
pub fn user_filter(f: &ScimFilter) -> Result<Filter<AccountField>, ParseError> {
    translate(f, None, None, &user_target, user_entry_kinds)
}

/// The kinds of entry a multi-valued User attribute holds here
/// (`phoneNumbers`: mobile, work, fax), so that a filter on its entries
/// tests each entry on its own.
fn user_entry_kinds(path: &AttrPath) -> &'static [&'static str] {
    match path.schema.as_deref() {
        Some(s) if !s.eq_ignore_ascii_case(USER_SCHEMA) => &[],
        _ => attributes::entry_kinds(&path.attr),
    }
}

fn no_entry_kinds(_: &AttrPath) -> &'static [&'static str] {
    &[]
}

/// Translates a filter on Groups.
pub fn group_filter(f: &ScimFilter) -> Result<Filter<NodeField>, ParseError> {
    translate(f, None, None, &|p, c, _| group_target(p, c), no_entry_kinds)
}

/// The order a `sortBy` on Users asks for (RFC 7644 section 3.4.2.3),
/// through the same attribute mapping as filters.
pub fn user_sort(path: &AttrPath, descending: bool) -> Result<Sort<AccountField>, ParseError> {
    sort_of(
        user_target(path, None, None)?,
        path,
        descending,
        AccountField::sortable,
    )
}

/// The order a `sortBy` on Groups asks for.
pub fn group_sort(path: &AttrPath, descending: bool) -> Result<Sort<NodeField>, ParseError> {
    sort_of(
        group_target(path, None)?,
        path,
        descending,
        NodeField::sortable,
    )
}

/// A sort by the field `target` names, if the core can order by it. The
/// RFC (section 3.4.2.3) sorts a complex attribute only through a
/// sub-attribute (`name.givenName`), so `name` alone is refused, as are the
/// fixed sub-attributes (`emails.type`) and multi-valued references.
fn sort_of<F: Copy>(
    target: Target<F>,
    path: &AttrPath,
    descending: bool,
    sortable: fn(F) -> bool,
) -> Result<Sort<F>, ParseError> {
    let field = match target {
        Target::Text(f) | Target::Time(f) | Target::Enum(f, _) | Target::Fallback(_, f) => f,
        // `active` is the status "active"; the only other status,
        // "inactive", sorts after it, so false-before-true (ascending) is
        // the status descending.
        Target::Active(f) if sortable(f) => {
            return Ok(Sort {
                field: f,
                descending: !descending,
            })
        }
        Target::Complex(_) => {
            return Err(ParseError::whole(format!(
                "{path} is complex; sort by one of its sub-attributes"
            )))
        }
        Target::Unknown => return Err(ParseError::whole(format!("unknown attribute {path}"))),
        Target::Active(_) | Target::Const { .. } | Target::Unsupported(_) => {
            return Err(ParseError::whole(format!("cannot sort by {path}")))
        }
    };
    if !sortable(field) {
        return Err(ParseError::whole(format!("cannot sort by {path}")));
    }
    Ok(Sort { field, descending })
}

/// What an attribute path means for one resource type.
enum Target<F> {
    /// A text field.
    Text(F),
    /// The first text field, else (where it has no value) the second: a
    /// value an identity provider may set, shown as made of others when
    /// it did not (`name.formatted`).
    Fallback(F, F),
    /// A dateTime field.
    Time(F),
    /// A field holding an enum's stored name; the function maps a value
    /// (any spelling) to it.
    Enum(F, fn(&str) -> Option<&'static str>),
    /// `active`: true when this status field is "active".
    Active(F),
    /// A sub-attribute with a fixed value, present when `guard` holds
    /// (our one email is of type "work").
    Const { guard: Filter<F>, value: Const },
    /// A complex attribute: present when the filter holds; compares with
    /// nothing.
    Complex(Filter<F>),
    /// An attribute this server does not know: matches nothing.
    Unknown,
    /// Known, but not searchable (yet).
    Unsupported(&'static str),
}

#[derive(Clone, Copy)]
enum Const {
    Str(&'static str),
    Bool(bool),
}

/// What an attribute path means, read inside the value filter of the
/// second (if any), in the entry of the kind named third (if any) of a
/// multi-valued attribute.
type Resolve<F> =
    dyn Fn(&AttrPath, Option<&AttrPath>, Option<&'static str>) -> Result<Target<F>, ParseError>;

/// The kinds of entry of a multi-valued attribute (none: one field).
type Kinds = fn(&AttrPath) -> &'static [&'static str];

/// Whether a target holds: its presence.
fn presence<F: Copy + PartialEq>(target: Target<F>) -> Result<Filter<F>, ParseError> {
    Ok(match target {
        Target::Text(field) | Target::Time(field) | Target::Enum(field, _) => present(field),
        Target::Fallback(first, second) => or(vec![present(first), present(second)]),
        Target::Active(_) => Filter::True,
        Target::Const { guard, .. } | Target::Complex(guard) => guard,
        Target::Unknown => Filter::False,
        Target::Unsupported(msg) => return Err(ParseError::whole(msg)),
    })
}

fn translate<F: Copy + PartialEq>(
    f: &ScimFilter,
    ctx: Option<&AttrPath>,
    kind: Option<&'static str>,
    resolve: &Resolve<F>,
    kinds: Kinds,
) -> Result<Filter<F>, ParseError> {
    // A test on an entry of a multi-valued attribute with several kinds
    // of entry, outside a value filter, holds when it holds for one entry.
    if let (None, ScimFilter::Present(path) | ScimFilter::Compare { path, .. }) = (ctx, f) {
        let ks = kinds(path);
        if kind.is_none() && ks.len() > 1 {
            let mut parts = Vec::new();
            for &k in ks {
                parts.push(translate(f, None, Some(k), resolve, kinds)?);
            }
            return Ok(or(parts));
        }
    }
    Ok(match f {
        ScimFilter::And(..) => {
            let mut parts = Vec::new();
            for g in chain(f, true) {
                parts.push(translate(g, ctx, kind, resolve, kinds)?);
            }
            and(parts)
        }
        ScimFilter::Or(..) => {
            let mut parts = Vec::new();
            for g in chain(f, false) {
                parts.push(translate(g, ctx, kind, resolve, kinds)?);
            }
            or(parts)
        }
        ScimFilter::Not(g) => not(translate(g, ctx, kind, resolve, kinds)?),
        ScimFilter::Present(path) => presence(resolve(path, ctx, kind)?)?,
        ScimFilter::Compare { path, op, value } => {
            compare(resolve(path, ctx, kind)?, path, *op, value)?
        }
        ScimFilter::ValuePath { attr, filter } => {
            if ctx.is_some() {
                return Err(ParseError::whole(format!(
                    "a value filter inside a value filter ({attr}) is not supported"
                )));
            }
            // Every test inside the brackets is on one and the same entry.
            let ks = kinds(attr);
            let each: Vec<Option<&'static str>> = if ks.len() > 1 {
                ks.iter().map(|&k| Some(k)).collect()
            } else {
                vec![ks.first().copied()]
            };
            let mut parts = Vec::new();
            for k in each {
                let target = resolve(attr, None, k)?;
                if matches!(target, Target::Unknown) {
                    continue;
                }
                let guard = presence(target)?;
                parts.push(and(vec![
                    guard,
                    translate(filter, Some(attr), k, resolve, kinds)?,
                ]));
            }
            or(parts)
        }
    })
}

/// The operands of a chain of `and` (or `or`), walked without recursion
/// down the left-nested spine the parser builds.
fn chain(f: &ScimFilter, want_and: bool) -> Vec<&ScimFilter> {
    let mut rights = Vec::new();
    let mut cur = f;
    while let (ScimFilter::And(l, r), true) | (ScimFilter::Or(l, r), false) = (cur, want_and) {
        rights.push(&**r);
        cur = l;
    }
    rights.push(cur);
    rights.reverse();
    rights
}

fn present<F>(field: F) -> Filter<F> {
    Filter::Test(field, Test::Present)
}

/// Adds `p` unless an equal operand is there already.
fn push_new<F: PartialEq>(out: &mut Vec<Filter<F>>, p: Filter<F>) {
    if !out.contains(&p) {
        out.push(p);
    }
}

fn and<F: PartialEq>(parts: Vec<Filter<F>>) -> Filter<F> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Filter::True => {}
            Filter::False => return Filter::False,
            Filter::And(inner) => inner.into_iter().for_each(|p| push_new(&mut out, p)),
            p => push_new(&mut out, p),
        }
    }
    match out.len() {
        0 => Filter::True,
        1 => out.pop().unwrap_or(Filter::True),
        _ => Filter::And(out),
    }
}

fn or<F: PartialEq>(parts: Vec<Filter<F>>) -> Filter<F> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Filter::False => {}
            Filter::True => return Filter::True,
            Filter::Or(inner) => inner.into_iter().for_each(|p| push_new(&mut out, p)),
            p => push_new(&mut out, p),
        }
    }
    match out.len() {
        0 => Filter::False,
        1 => out.pop().unwrap_or(Filter::False),
        _ => Filter::Or(out),
    }
}

fn not<F>(f: Filter<F>) -> Filter<F> {
    match f {
        Filter::True => Filter::False,
        Filter::False => Filter::True,
        Filter::Not(inner) => *inner,
        f => Filter::Not(Box::new(f)),
    }
}

/// A value as text, for text fields (`None` for null).
fn text_of(v: &ScimValue) -> Option<String> {
    match v {
        ScimValue::String(s) => Some(s.clone()),
        ScimValue::Number(n) => Some(n.to_string()),
        ScimValue::Bool(b) => Some(b.to_string()),
        ScimValue::Null => None,
    }
}

fn bool_of(v: &ScimValue) -> Option<bool> {
    match v {
        ScimValue::Bool(b) => Some(*b),
        ScimValue::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        ScimValue::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn text_test<F: Copy + PartialEq>(field: F, op: CompareOp, v: Value) -> Filter<F> {
    let text = match &v {
        Value::Text(t) => t.clone(),
        Value::Time(t) => t.to_string(),
    };
    let test = |t| Filter::Test(field, t);
    match op {
        CompareOp::Eq => test(Test::Equals(v)),
        CompareOp::Ne => and(vec![present(field), not(test(Test::Equals(v)))]),
        CompareOp::Co => test(Test::Substring {
            initial: None,
            any: vec![text],
            last: None,
        }),
        CompareOp::Sw => test(Test::Substring {
            initial: Some(text),
            any: Vec::new(),
            last: None,
        }),
        CompareOp::Ew => test(Test::Substring {
            initial: None,
            any: Vec::new(),
            last: Some(text),
        }),
        CompareOp::Gt => test(Test::After(v)),
        CompareOp::Ge => test(Test::AtLeast(v)),
        CompareOp::Lt => test(Test::Before(v)),
        CompareOp::Le => test(Test::AtMost(v)),
    }
}

/// `eq null` / `ne null`: absent / present (RFC 7644: null is unassigned).
fn null_test<F>(
    path: &AttrPath,
    op: CompareOp,
    present: Filter<F>,
) -> Result<Filter<F>, ParseError> {
    match op {
        CompareOp::Eq => Ok(not(present)),
        CompareOp::Ne => Ok(present),
        _ => Err(ParseError::whole(format!(
            "{path} {op} null: null compares only with eq or ne"
        ))),
    }
}

fn compare<F: Copy + PartialEq>(
    target: Target<F>,
    path: &AttrPath,
    op: CompareOp,
    value: &ScimValue,
) -> Result<Filter<F>, ParseError> {
    Ok(match target {
        Target::Unknown => Filter::False,
        Target::Unsupported(msg) => return Err(ParseError::whole(msg)),
        Target::Complex(guard) => match value {
            ScimValue::Null => null_test(path, op, guard)?,
            _ => Filter::False,
        },
        Target::Text(field) => match text_of(value) {
            None => null_test(path, op, present(field))?,
            Some(t) => text_test(field, op, Value::Text(t)),
        },
        Target::Fallback(first, second) => match text_of(value) {
            None => null_test(path, op, or(vec![present(first), present(second)]))?,
            Some(t) => or(vec![
                text_test(first, op, Value::Text(t.clone())),
                and(vec![
                    not(present(first)),
                    text_test(second, op, Value::Text(t)),
                ]),
            ]),
        },
        Target::Enum(field, parse) => match text_of(value) {
            None => null_test(path, op, present(field))?,
            Some(t) => match (op, parse(&t)) {
                (CompareOp::Eq, Some(name)) => text_test(field, op, Value::Text(name.into())),
                (CompareOp::Eq, None) => Filter::False,
                (CompareOp::Ne, Some(name)) => text_test(field, op, Value::Text(name.into())),
                (CompareOp::Ne, None) => present(field),
                _ => text_test(field, op, Value::Text(t)),
            },
        },
        Target::Time(field) => {
            if matches!(value, ScimValue::Null) {
                return null_test(path, op, present(field));
            }
            let t = match value {
                ScimValue::String(s) => s.parse::<Timestamp>().map_err(|e| {
                    ParseError::whole(format!("{path}: {s:?} is not an RFC 3339 dateTime: {e}"))
                })?,
                _ => {
                    return Err(ParseError::whole(format!(
                        "{path} compares with a dateTime string"
                    )))
                }
            };
            let test = |t| Filter::Test(field, t);
            let v = Value::Time(t);
            let equal = || {
                and(vec![
                    test(Test::AtLeast(v.clone())),
                    test(Test::AtMost(v.clone())),
                ])
            };
            match op {
                CompareOp::Eq => equal(),
                CompareOp::Ne => and(vec![present(field), not(equal())]),
                CompareOp::Gt => test(Test::After(v)),
                CompareOp::Ge => test(Test::AtLeast(v)),
                CompareOp::Lt => test(Test::Before(v)),
                CompareOp::Le => test(Test::AtMost(v)),
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                    return Err(ParseError::whole(format!(
                        "{path} {op}: {op} does not apply to a dateTime"
                    )))
                }
            }
        }
        Target::Active(field) => {
            if matches!(value, ScimValue::Null) {
                return null_test(path, op, Filter::True);
            }
            let Some(b) = bool_of(value) else {
                return Err(ParseError::whole(format!(
                    "{path} compares with true or false"
                )));
            };
            let want = match op {
                CompareOp::Eq => b,
                CompareOp::Ne => !b,
                _ => {
                    return Err(ParseError::whole(format!(
                        "{path} {op}: a boolean compares only with eq or ne"
                    )))
                }
            };
            let status = if want {
                Status::Active
            } else {
                Status::Inactive
            };
            Filter::Test(field, Test::Equals(Value::Text(status.as_str().to_owned())))
        }
        Target::Const { guard, value: c } => {
            if matches!(value, ScimValue::Null) {
                return null_test(path, op, guard);
            }
            let hit = match c {
                Const::Str(have) => {
                    let Some(want) = text_of(value) else {
                        return Ok(Filter::False);
                    };
                    let have = have.to_lowercase();
                    let want = want.to_lowercase();
                    match op {
                        CompareOp::Eq => have == want,
                        CompareOp::Ne => have != want,
                        CompareOp::Co => have.contains(&want),
                        CompareOp::Sw => have.starts_with(&want),
                        CompareOp::Ew => have.ends_with(&want),
                        CompareOp::Gt => have > want,
                        CompareOp::Ge => have >= want,
                        CompareOp::Lt => have < want,
                        CompareOp::Le => have <= want,
                    }
                }
                Const::Bool(have) => {
                    let Some(want) = bool_of(value) else {
                        return Err(ParseError::whole(format!(
                            "{path} compares with true or false"
                        )));
                    };
                    match op {
                        CompareOp::Eq => have == want,
                        CompareOp::Ne => have != want,
                        _ => {
                            return Err(ParseError::whole(format!(
                                "{path} {op}: a boolean compares only with eq or ne"
                            )))
                        }
                    }
                }
            };
            if hit {
                guard
            } else {
                Filter::False
            }
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Unqualified: any of the resource's schemas.
    Any,
    Core,
    Enterprise,
    Extension,
}

/// The (lower-cased) attribute and sub-attribute `path` names, read inside
/// the value filter of `ctx` if any, and the schema it is qualified with.
fn effective<'a>(
    path: &'a AttrPath,
    ctx: Option<&'a AttrPath>,
) -> Option<(Option<&'a str>, String, Option<String>)> {
    match ctx {
        None => Some((
            path.schema.as_deref(),
            path.attr.to_ascii_lowercase(),
            path.sub_attr.as_deref().map(str::to_ascii_lowercase),
        )),
        // Inside `emails[...]` names are sub-attributes of `emails`;
        // anything deeper is unknown.
        Some(outer) if path.schema.is_none() && path.sub_attr.is_none() => Some((
            outer.schema.as_deref(),
            outer.attr.to_ascii_lowercase(),
            Some(path.attr.to_ascii_lowercase()),
        )),
        Some(_) => None,
    }
}

fn scope_of(
    schema: Option<&str>,
    resource: &str,
    schemas: &[(&str, Scope)],
    foreign: &[&str],
) -> Result<Scope, ParseError> {
    let Some(s) = schema else {
        return Ok(Scope::Any);
    };
    if let Some((_, scope)) = schemas.iter().find(|(urn, _)| urn.eq_ignore_ascii_case(s)) {
        return Ok(*scope);
    }
    if foreign.iter().any(|urn| urn.eq_ignore_ascii_case(s)) {
        return Err(ParseError::whole(format!(
            "schema {s} does not apply to {resource}"
        )));
    }
    Err(ParseError::whole(format!("unknown schema {s}")))
}

fn user_target(
    path: &AttrPath,
    ctx: Option<&AttrPath>,
    kind: Option<&'static str>,
) -> Result<Target<AccountField>, ParseError> {
    use AccountField as A;
    let Some((schema, attr, sub)) = effective(path, ctx) else {
        return Ok(Target::Unknown);
    };
    let scope = scope_of(
        schema,
        "Users",
        &[
            (USER_SCHEMA, Scope::Core),
            (ENTERPRISE_USER_SCHEMA, Scope::Enterprise),
            (DIRGATE_USER_SCHEMA, Scope::Extension),
        ],
        &[GROUP_SCHEMA, DIRGATE_GROUP_SCHEMA],
    )?;
    let sub = sub.as_deref();
    let email = || present(A::Email);
    // The phone number of the entry of kind `kind` (none: the primary, the
    // mobile number of the manual).
    let phone = match kind {
        None | Some("mobile") => A::Mobile,
        Some(k) => match attributes::at(None, "phonenumbers", None, Some(k)) {
            Some(a) => A::Attribute(a),
            None => return Ok(Target::Unknown),
        },
    };
    let address_parts = || {
        or([
            "formatted",
            "streetaddress",
            "locality",
            "region",
            "postalcode",
            "country",
        ]
        .iter()
        .filter_map(|s| attributes::at(None, "addresses", Some(s), Some("work")))
        .map(|a| present(A::Attribute(a)))
        .collect())
    };
    if matches!(scope, Scope::Any | Scope::Core) {
        let core = match (attr.as_str(), sub) {
            ("id", None) => Some(Target::Text(A::Uuid)),
            ("externalid", None) => Some(Target::Text(A::ExternalId)),
            // The login: a login name, else the user name.
            ("username", None) => Some(Target::Text(A::Login)),
            ("name", None) => Some(Target::Complex(or(vec![
                present(A::GivenName),
                present(A::FamilyName),
            ]))),
            ("name", Some("givenname")) => Some(Target::Text(A::GivenName)),
            ("name", Some("familyname")) => Some(Target::Text(A::FamilyName)),
            ("name", Some("formatted")) => Some(Target::Fallback(
                A::Attribute(Attribute::NameFormatted),
                A::FullName,
            )),
            ("addresses", None) => Some(Target::Complex(address_parts())),
            ("addresses", Some("type")) => Some(Target::Const {
                guard: address_parts(),
                value: Const::Str("work"),
            }),
            ("addresses", Some("primary")) => Some(Target::Const {
                guard: address_parts(),
                value: Const::Bool(true),
            }),
            ("emails", None | Some("value")) => Some(Target::Text(A::Email)),
            ("emails", Some("type")) => Some(Target::Const {
                guard: email(),
                value: Const::Str("work"),
            }),
            ("emails", Some("primary")) => Some(Target::Const {
                guard: email(),
                value: Const::Bool(true),
            }),
            ("phonenumbers", None | Some("value")) => Some(Target::Text(phone)),
            ("phonenumbers", Some("type")) => Some(Target::Const {
                guard: present(phone),
                value: Const::Str(kind.unwrap_or("mobile")),
            }),
            ("phonenumbers", Some("primary")) => Some(Target::Const {
                guard: present(phone),
                value: Const::Bool(phone == A::Mobile),
            }),
            ("timezone", None) => Some(Target::Text(A::TimeZone)),
            ("active", None) => Some(Target::Active(A::Status)),
            ("groups", _) => Some(Target::Unsupported("filtering on groups is not supported")),
            ("meta", None) => Some(Target::Complex(Filter::True)),
            ("meta", Some("created")) => Some(Target::Time(A::Created)),
            ("meta", Some("lastmodified")) => Some(Target::Time(A::Modified)),
            ("meta", Some("resourcetype")) => Some(Target::Const {
                guard: Filter::True,
                value: Const::Str("User"),
            }),
            // The directory attributes of the core schema.
            (attr, sub) => attributes::at(None, attr, sub, kind.or(Some("work")))
                .map(|a| Target::Text(A::Attribute(a))),
        };
        if let Some(t) = core {
            return Ok(t);
        }
    }
    if matches!(scope, Scope::Any | Scope::Enterprise) {
        if attr == "manager" {
            return Ok(Target::Unsupported("filtering on manager is not supported"));
        }
        if let Some(a) = attributes::at(Some(ENTERPRISE_USER_SCHEMA), &attr, sub, None) {
            return Ok(Target::Text(A::Attribute(a)));
        }
    }
    if matches!(scope, Scope::Any | Scope::Extension) {
        let ext = match (attr.as_str(), sub) {
            ("accounttype", None) => Some(Target::Enum(A::AccountType, |s| {
                s.parse::<AccountType>().ok().map(AccountType::as_str)
            })),
            ("authenticationmethod", None) => Some(Target::Enum(A::AuthMethod, |s| {
                s.parse::<AuthMethod>().ok().map(AuthMethod::as_str)
            })),
            ("status", None) => Some(Target::Enum(A::Status, |s| {
                s.parse::<Status>().ok().map(Status::as_str)
            })),
            ("securityroles", None) => Some(Target::Text(A::Role)),
            ("username", None) => Some(Target::Text(A::UserName)),
            ("restrictedto", None) => Some(Target::Complex(present(A::RestrictedTo))),
            ("restrictedto", Some("display")) => Some(Target::Text(A::RestrictedTo)),
            ("restrictedto", Some("value")) => Some(Target::Unsupported(
                "filtering on restrictedTo.value is not supported; use restrictedTo.display",
            )),
            _ => None,
        };
        if let Some(t) = ext {
            return Ok(t);
        }
    }
    Ok(Target::Unknown)
}

fn group_target(path: &AttrPath, ctx: Option<&AttrPath>) -> Result<Target<NodeField>, ParseError> {
    use NodeField as N;
    let Some((schema, attr, sub)) = effective(path, ctx) else {
        return Ok(Target::Unknown);
    };
    let scope = scope_of(
        schema,
        "Groups",
        &[
            (GROUP_SCHEMA, Scope::Core),
            (DIRGATE_GROUP_SCHEMA, Scope::Extension),
        ],
        &[USER_SCHEMA, ENTERPRISE_USER_SCHEMA, DIRGATE_USER_SCHEMA],
    )?;
    let sub = sub.as_deref();
    if matches!(scope, Scope::Any | Scope::Core) {
        let core = match (attr.as_str(), sub) {
            ("id", None) => Some(Target::Text(N::Uuid)),
            ("externalid", None) => Some(Target::Text(N::ExternalId)),
            ("displayname", None) => Some(Target::Text(N::Name)),
            ("members", _) => Some(Target::Unsupported("filtering on members is not supported")),
            ("meta", None) => Some(Target::Complex(Filter::True)),
            ("meta", Some("created")) => Some(Target::Time(N::Created)),
            ("meta", Some("lastmodified")) => Some(Target::Time(N::Modified)),
            ("meta", Some("resourcetype")) => Some(Target::Const {
                guard: Filter::True,
                value: Const::Str("Group"),
            }),
            _ => None,
        };
        if let Some(t) = core {
            return Ok(t);
        }
    }
    if matches!(scope, Scope::Any | Scope::Extension) {
        let ext = match (attr.as_str(), sub) {
            ("kind", None) => Some(Target::Enum(N::Kind, |s| {
                s.parse::<NodeKind>().ok().map(NodeKind::as_str)
            })),
            ("parent", None) => Some(Target::Complex(present(N::Parent))),
            ("parent", Some("display")) => Some(Target::Text(N::Parent)),
            ("parent", Some("value")) => Some(Target::Unsupported(
                "filtering on parent.value is not supported; use parent.display",
            )),
            _ => None,
        };
        if let Some(t) = ext {
            return Ok(t);
        }
    }
    Ok(Target::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountField as A;
    use CompareOp::*;

    fn parse(s: &str) -> ScimFilter {
        parse_filter(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn err(s: &str) -> ParseError {
        match parse_filter(s) {
            Ok(f) => panic!("{s} parsed as {f:?}"),
            Err(e) => e,
        }
    }
    fn cmp(path: &str, op: CompareOp, value: ScimValue) -> ScimFilter {
        ScimFilter::Compare {
            path: super::super::path::parse_attr_path(path).unwrap(),
            op,
            value,
        }
    }
    fn s(v: &str) -> ScimValue {
        ScimValue::String(v.into())
    }
    fn b(f: ScimFilter) -> Box<ScimFilter> {
        Box::new(f)
    }
    fn user(s: &str) -> Filter<AccountField> {
        user_filter(&parse(s)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn user_err(s: &str) -> String {
        match user_filter(&parse(s)) {
            Ok(f) => panic!("{s} translated to {f:?}"),
            Err(e) => e.to_string(),
        }
    }
    fn group(s: &str) -> Filter<NodeField> {
        group_filter(&parse(s)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn t<F>(field: F, test: Test) -> Filter<F> {
        Filter::Test(field, test)
    }
    fn text(v: &str) -> Value {
        Value::Text(v.into())
    }
    fn eq<F>(field: F, v: &str) -> Filter<F> {
        t(field, Test::Equals(text(v)))
    }

    #[test]
    fn every_operator_in_any_case() {
        let ops = [
            ("eq", Eq),
            ("ne", Ne),
            ("co", Co),
            ("sw", Sw),
            ("ew", Ew),
            ("gt", Gt),
            ("ge", Ge),
            ("lt", Lt),
            ("le", Le),
        ];
        for (word, op) in ops {
            let upper = word.to_uppercase();
            let title = format!("{}{}", &upper[..1], &word[1..]);
            for w in [word.to_string(), upper, title] {
                assert_eq!(
                    parse(&format!("userName {w} \"bjensen\"")),
                    cmp("userName", op, s("bjensen")),
                    "{w}"
                );
            }
        }
        for w in ["pr", "PR", "Pr"] {
            assert_eq!(
                parse(&format!("title {w}")),
                ScimFilter::Present(AttrPath::new("title"))
            );
        }
        let e = err("userName like \"x\"");
        assert_eq!(e.position, Some(9));
        assert!(e.to_string().contains("unknown operator"), "{e}");
    }

    #[test]
    fn values_of_every_kind() {
        assert_eq!(
            parse("active eq true"),
            cmp("active", Eq, ScimValue::Bool(true))
        );
        assert_eq!(
            parse("active eq FALSE"),
            cmp("active", Eq, ScimValue::Bool(false))
        );
        assert_eq!(
            parse("manager eq Null"),
            cmp("manager", Eq, ScimValue::Null)
        );
        assert_eq!(
            parse("age gt 42"),
            cmp("age", Gt, ScimValue::Number(42.into()))
        );
        assert_eq!(
            parse("score le -1.5e3"),
            cmp("score", Le, ScimValue::Number("-1.5e3".parse().unwrap()))
        );
        // Does not survive as a number: kept as written.
        assert_eq!(
            parse("externalId eq 12345678901234567890123"),
            cmp("externalId", Eq, s("12345678901234567890123"))
        );
        assert_eq!(parse("externalId eq 007"), cmp("externalId", Eq, s("007")));
        assert_eq!(
            parse("phone eq +15551234"),
            cmp("phone", Eq, s("+15551234"))
        );
    }

    #[test]
    fn json_escapes() {
        assert_eq!(
            parse(r#"displayName eq "a \"quoted\" \\ name""#),
            cmp("displayName", Eq, s(r#"a "quoted" \ name"#))
        );
        assert_eq!(
            parse(r#"displayName eq "caf\u00e9 \ud83d\ude00 \n\t\/""#),
            cmp("displayName", Eq, s("caf\u{e9} \u{1F600} \n\t/"))
        );
        assert_eq!(
            parse("displayName eq \"José\""),
            cmp("displayName", Eq, s("José"))
        );
        assert_eq!(parse(r#"displayName eq """#), cmp("displayName", Eq, s("")));
        assert_eq!(parse(r#"x eq "a)b]c""#), cmp("x", Eq, s("a)b]c")));
        let e = err(r#"displayName eq "bad \x escape""#);
        assert_eq!(e.position, Some(15));
        let e = err(r#"displayName eq "\u12"#);
        assert_eq!(e.position, Some(15));
        let e = err(r#"userName eq "open"#);
        assert_eq!(e.position, Some(12));
        assert!(e.to_string().contains("unterminated"), "{e}");
        let e = err("userName eq \"a\\");
        assert_eq!(e.position, Some(12));
    }

    #[test]
    fn precedence_not_and_or() {
        let a = || cmp("a", Eq, s("1"));
        let bb = || cmp("b", Eq, s("2"));
        let c = || cmp("c", Eq, s("3"));
        // and binds tighter than or, on either side.
        assert_eq!(
            parse(r#"a eq "1" or b eq "2" and c eq "3""#),
            ScimFilter::Or(b(a()), b(ScimFilter::And(b(bb()), b(c()))))
        );
        assert_eq!(
            parse(r#"a eq "1" AND b eq "2" Or c eq "3""#),
            ScimFilter::Or(b(ScimFilter::And(b(a()), b(bb()))), b(c()))
        );
        // brackets override.
        assert_eq!(
            parse(r#"(a eq "1" or b eq "2") and c eq "3""#),
            ScimFilter::And(b(ScimFilter::Or(b(a()), b(bb()))), b(c()))
        );
        // not binds tightest.
        assert_eq!(
            parse(r#"not (a eq "1") and b eq "2""#),
            ScimFilter::And(b(ScimFilter::Not(b(a()))), b(bb()))
        );
        assert_eq!(
            parse(r#"NOT(a eq "1" or b eq "2")"#),
            ScimFilter::Not(b(ScimFilter::Or(b(a()), b(bb()))))
        );
        // left associative chains
        assert_eq!(
            parse(r#"a eq "1" and b eq "2" and c eq "3""#),
            ScimFilter::And(b(ScimFilter::And(b(a()), b(bb()))), b(c()))
        );
        // extra whitespace everywhere
        assert_eq!(
            parse("  (  a   eq  \"1\"\t)\n and\r\n( not  ( b eq \"2\" ) )  "),
            ScimFilter::And(b(a()), b(ScimFilter::Not(b(bb()))))
        );
        // an attribute may be called "not", "and" or "or"
        assert_eq!(parse("not pr"), ScimFilter::Present(AttrPath::new("not")));
        assert_eq!(
            parse("and pr or or pr"),
            ScimFilter::Or(
                b(ScimFilter::Present(AttrPath::new("and"))),
                b(ScimFilter::Present(AttrPath::new("or")))
            )
        );
    }

    #[test]
    fn value_paths_and_sub_attributes() {
        assert_eq!(
            parse(r#"emails[type eq "work" and value co "@example.com"]"#),
            ScimFilter::ValuePath {
                attr: AttrPath::new("emails"),
                filter: b(ScimFilter::And(
                    b(cmp("type", Eq, s("work"))),
                    b(cmp("value", Co, s("@example.com")))
                )),
            }
        );
        let f = parse(r#"name.familyName co "O'Malley""#);
        assert_eq!(f, cmp("name.familyName", Co, s("O'Malley")));
        let f = parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#);
        assert_eq!(f, cmp("meta.lastModified", Gt, s("2011-05-13T04:42:34Z")));
        let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "B""#);
        let ScimFilter::Compare { path, .. } = &f else {
            panic!("{f:?}")
        };
        assert_eq!(path.schema.as_deref(), Some(USER_SCHEMA));
        assert!(path.is("name.givenName"));
        let f = parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
        );
        let ScimFilter::Compare { path, .. } = &f else {
            panic!("{f:?}")
        };
        assert_eq!(path.schema.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert!(path.is("manager.value"));
        // value path in a bigger filter
        assert_eq!(
            parse(r#"userType eq "Employee" and (emails.type eq "work")"#),
            ScimFilter::And(
                b(cmp("userType", Eq, s("Employee"))),
                b(cmp("emails.type", Eq, s("work")))
            )
        );
        // errors
        let e = err(r#"emails[type eq "work""#);
        assert_eq!(e.position, Some(21));
        let e = err(r#"name.givenName[x pr]"#);
        assert_eq!(e.position, Some(14));
        assert!(err("emails[]").to_string().contains("attribute path"));
    }

    #[test]
    fn entra_and_okta_forms() {
        // Entra ID: a value path, then a sub-attribute and a comparison.
        let want = ScimFilter::ValuePath {
            attr: AttrPath::new("emails"),
            filter: b(ScimFilter::And(
                b(cmp("type", Eq, s("work"))),
                b(cmp("value", Eq, s("a@x.com"))),
            )),
        };
        assert_eq!(parse(r#"emails[type eq "work"].value eq "a@x.com""#), want);
        assert_eq!(parse(r#"emails[type Eq "work"].value EQ "a@x.com""#), want);
        // Entra ID: unquoted externalId.
        assert_eq!(
            parse("externalId eq jyoung"),
            cmp("externalId", Eq, s("jyoung"))
        );
        assert_eq!(
            parse("externalId eq 5ae6a6f8-1b74-4a1d-a7a8-3e5b3f0c9c1a"),
            cmp("externalId", Eq, s("5ae6a6f8-1b74-4a1d-a7a8-3e5b3f0c9c1a"))
        );
        // Okta.
        assert_eq!(parse(r#"userName eq "x""#), cmp("userName", Eq, s("x")));
        assert_eq!(
            parse("userName eq alice@x.com"),
            cmp("userName", Eq, s("alice@x.com"))
        );
        assert_eq!(
            parse("(userName eq alice@x.com)"),
            cmp("userName", Eq, s("alice@x.com"))
        );
        assert_eq!(
            parse("members[value eq 2819c223]"),
            ScimFilter::ValuePath {
                attr: AttrPath::new("members"),
                filter: b(cmp("value", Eq, s("2819c223"))),
            }
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value pr"#),
            ScimFilter::ValuePath {
                attr: AttrPath::new("emails"),
                filter: b(ScimFilter::And(
                    b(cmp("type", Eq, s("work"))),
                    b(ScimFilter::Present(AttrPath::new("value"))),
                )),
            }
        );
        assert!(parse_filter(r#"emails[type eq "work"]. eq "x""#).is_err());
        assert!(parse_filter(r#"emails[type eq "work"].value.x eq "x""#).is_err());
    }

    #[test]
    fn syntax_errors_with_positions() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("   ", 3),
            ("userName", 8),
            ("userName eq", 11),
            ("userName eq )", 12),
            ("userName eq \"x\" and", 19),
            ("userName eq \"x\" xor b pr", 16),
            ("userName eq \"x\")", 15),
            ("(userName eq \"x\"", 16),
            ("userName eq\"x\"", 11),
            ("userName\teq \"x\" andx pr", 16),
            ("not userName eq \"x\"", 4),
            ("1abc eq \"x\"", 0),
            ("a.b.c eq \"x\"", 3),
            ("user*Name eq \"x\"", 4),
            ("userName eq \"x\" (", 16),
        ];
        for (input, pos) in cases {
            let e = err(input);
            assert_eq!(e.position, Some(*pos), "{input:?}: {e}");
            assert!(e.to_string().contains(&format!("at byte {pos}")), "{e}");
        }
    }

    #[test]
    fn limits_never_crash() {
        // Too long.
        let long = format!("userName eq \"{}\"", "x".repeat(5000));
        let e = err(&long);
        assert_eq!(e.position, Some(MAX_LEN));
        // Exactly the limit is fine.
        let fits = format!("userName eq \"{}\"", "x".repeat(MAX_LEN - 14));
        assert_eq!(fits.len(), MAX_LEN);
        assert!(parse_filter(&fits).is_ok());
        // 2,000 nested brackets (short enough to pass the length check).
        let deep = format!("{}a pr{}", "(".repeat(2000), ")".repeat(2000));
        assert!(deep.len() <= MAX_LEN);
        let e = err(&deep);
        assert!(e.to_string().contains("nested deeper"), "{e}");
        assert_eq!(e.position, Some(MAX_DEPTH));
        // 100,000 `not (`: too long, and too deep within the length.
        let nots = format!("{}a pr{}", "not (".repeat(100_000), ")".repeat(100_000));
        assert!(parse_filter(&nots).is_err());
        let nots = format!("{}a pr{}", "not (".repeat(600), ")".repeat(600));
        assert!(nots.len() <= MAX_LEN);
        assert!(err(&nots).to_string().contains("nested deeper"));
        // Nested value paths.
        let vp = format!("{}a pr{}", "a[".repeat(1000), "]".repeat(1000));
        assert!(err(&vp).to_string().contains("nested deeper"));
        // Exactly at the limit parses; one more does not.
        let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse_filter(&ok).is_ok());
        let ok = format!("{}a pr{}", "not(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse_filter(&ok).is_ok());
        let over = format!(
            "{}a pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(parse_filter(&over).is_err());
        // Many unbalanced brackets and garbage.
        assert!(parse_filter(&")".repeat(4000)).is_err());
        assert!(parse_filter(&"[".repeat(4000)).is_err());
        assert!(parse_filter(&"\"".repeat(4000)).is_err());
        assert!(parse_filter(&"\\".repeat(4000)).is_err());
        // The longest and/or chain translates (iteratively) without trouble.
        let chain = vec!["a pr"; 500].join(" or ");
        assert!(chain.len() <= MAX_LEN);
        let f = parse(&chain);
        assert_eq!(user_filter(&f), Ok(Filter::False));
        let chain = vec!["userName pr"; 250].join(" and ");
        assert!(chain.len() <= MAX_LEN);
        assert_eq!(user(&chain), t(A::Login, Test::Present));
        let chain = (0..250)
            .map(|i| format!("id eq {i}"))
            .collect::<Vec<_>>()
            .join(" or ");
        assert!(chain.len() <= MAX_LEN);
        match user(&chain) {
            Filter::Or(v) => {
                assert_eq!(v.len(), 250);
                assert_eq!(v[7], eq(A::Uuid, "7"));
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn worst_cases_fit_a_small_stack() {
        let run = || {
            let deep = format!("{}a pr{}", "(".repeat(2000), ")".repeat(2000));
            assert!(parse_filter(&deep).is_err());
            let at_limit = format!(
                "{}userName pr{}",
                "not (".repeat(MAX_DEPTH),
                ")".repeat(MAX_DEPTH)
            );
            assert!(user_filter(&parse(&at_limit)).is_ok());
            let chain = vec!["a pr"; 500].join(" or ");
            assert_eq!(user_filter(&parse(&chain)), Ok(Filter::False));
        };
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(run)
            .unwrap();
        handle.join().unwrap();
    }

    #[test]
    fn fuzzish_inputs_do_not_panic() {
        let pieces = [
            "(", ")", "[", "]", "\"", "\\", " ", "not", "and", "or", "pr", "eq", "a", ".", ":",
            "urn:", "1", "é", "\"x\"", "true", "null",
        ];
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            let mut input = String::new();
            let n = (seed % 12) as usize;
            for _ in 0..n {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                input.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            if let Ok(f) = parse_filter(&input) {
                let _ = user_filter(&f);
                let _ = group_filter(&f);
            }
            let _ = super::super::path::parse_patch_path(&input);
        }
    }

    // ---- translation ----

    #[test]
    fn user_text_attributes_every_op() {
        let cases = [
            ("id", A::Uuid),
            ("userName", A::Login),
            ("USERNAME", A::Login),
            ("externalId", A::ExternalId),
            ("name.givenName", A::GivenName),
            ("name.familyName", A::FamilyName),
            ("displayName", A::Attribute(Attribute::DisplayName)),
            ("emails", A::Email),
            ("emails.value", A::Email),
            ("timezone", A::TimeZone),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                A::Login,
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:user:name.givenName",
                A::GivenName,
            ),
            (
                "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:securityRoles",
                A::Role,
            ),
            ("securityRoles", A::Role),
            ("restrictedTo.display", A::RestrictedTo),
        ];
        for (attr, field) in cases {
            assert_eq!(user(&format!("{attr} eq \"v\"")), eq(field, "v"), "{attr}");
            assert_eq!(
                user(&format!("{attr} Ne \"v\"")),
                Filter::And(vec![
                    t(field, Test::Present),
                    Filter::Not(Box::new(eq(field, "v")))
                ]),
                "{attr}"
            );
            assert_eq!(
                user(&format!("{attr} co \"v\"")),
                t(
                    field,
                    Test::Substring {
                        initial: None,
                        any: vec!["v".into()],
                        last: None
                    }
                )
            );
            assert_eq!(
                user(&format!("{attr} sw \"v\"")),
                t(
                    field,
                    Test::Substring {
                        initial: Some("v".into()),
                        any: vec![],
                        last: None
                    }
                )
            );
            assert_eq!(
                user(&format!("{attr} ew \"v\"")),
                t(
                    field,
                    Test::Substring {
                        initial: None,
                        any: vec![],
                        last: Some("v".into())
                    }
                )
            );
            assert_eq!(
                user(&format!("{attr} gt \"v\"")),
                t(field, Test::After(text("v")))
            );
            assert_eq!(
                user(&format!("{attr} ge \"v\"")),
                t(field, Test::AtLeast(text("v")))
            );
            assert_eq!(
                user(&format!("{attr} lt \"v\"")),
                t(field, Test::Before(text("v")))
            );
            assert_eq!(
                user(&format!("{attr} le \"v\"")),
                t(field, Test::AtMost(text("v")))
            );
            assert_eq!(user(&format!("{attr} pr")), t(field, Test::Present));
            assert_eq!(
                user(&format!("{attr} eq null")),
                Filter::Not(Box::new(t(field, Test::Present)))
            );
            assert_eq!(user(&format!("{attr} ne null")), t(field, Test::Present));
        }
        // Numbers and booleans compare as their text.
        assert_eq!(user("externalId eq 42"), eq(A::ExternalId, "42"));
        assert_eq!(user("userName eq alice@x.com"), eq(A::Login, "alice@x.com"));
        assert!(user_err("userName co null").contains("null"));
    }

    #[test]
    fn user_emails_and_phones_value_paths() {
        let email_eq = eq(A::Email, "a@x.com");
        let present = t(A::Email, Test::Present);
        // Entra's form.
        assert_eq!(
            user(r#"emails[type eq "work"].value eq "a@x.com""#),
            Filter::And(vec![present.clone(), email_eq.clone()])
        );
        assert_eq!(
            user(r#"emails[type eq "WORK"].value eq "a@x.com""#),
            Filter::And(vec![present.clone(), email_eq.clone()])
        );
        assert_eq!(
            user(r#"emails[type eq "home"].value eq "a@x.com""#),
            Filter::False
        );
        assert_eq!(
            user(r#"emails[value eq "a@x.com"]"#),
            Filter::And(vec![present.clone(), email_eq.clone()])
        );
        assert_eq!(user(r#"emails[type eq "work"]"#), present.clone());
        assert_eq!(user(r#"emails[type ne "work"]"#), Filter::False);
        assert_eq!(user(r#"emails[type ne "home"]"#), present.clone());
        assert_eq!(user(r#"emails[primary eq true]"#), present.clone());
        assert_eq!(user(r#"emails[primary eq "True"]"#), present.clone());
        assert_eq!(user(r#"emails[primary eq false]"#), Filter::False);
        assert_eq!(user(r#"emails[type pr]"#), present.clone());
        assert_eq!(user(r#"emails[display eq "x"]"#), Filter::False);
        assert_eq!(user(r#"emails.type eq "work""#), present.clone());
        assert_eq!(user(r#"emails.primary eq true"#), present.clone());
        assert_eq!(
            user(r#"emails[type eq "work" or type eq "home"]"#),
            present.clone()
        );
        assert_eq!(
            user(r#"emails[type eq "work" and value co "@x.com"]"#),
            Filter::And(vec![
                present.clone(),
                t(
                    A::Email,
                    Test::Substring {
                        initial: None,
                        any: vec!["@x.com".into()],
                        last: None
                    }
                )
            ])
        );
        // Phones.
        let mpresent = t(A::Mobile, Test::Present);
        assert_eq!(
            user(r#"phoneNumbers[type eq "mobile"].value eq "+1555""#),
            Filter::And(vec![mpresent.clone(), eq(A::Mobile, "+1555")])
        );
        // Each kind of entry on its own: the work number.
        let wpresent = t(A::Attribute(Attribute::WorkPhone), Test::Present);
        assert_eq!(
            user(r#"phoneNumbers[type eq "work"].value eq "+1555""#),
            Filter::And(vec![
                wpresent,
                eq(A::Attribute(Attribute::WorkPhone), "+1555")
            ])
        );
        assert_eq!(
            user("urn:ietf:params:scim:schemas:core:2.0:User:phoneNumbers[type eq \"mobile\"]"),
            mpresent
        );
        assert!(user_err(r#"emails[value[x pr]]"#).contains("value filter inside"));
    }

    #[test]
    fn user_active_and_enums() {
        assert_eq!(user("active eq true"), eq(A::Status, "active"));
        assert_eq!(user("active Eq False"), eq(A::Status, "inactive"));
        assert_eq!(user(r#"active eq "True""#), eq(A::Status, "active"));
        assert_eq!(user(r#"active eq "false""#), eq(A::Status, "inactive"));
        assert_eq!(user("active ne true"), eq(A::Status, "inactive"));
        assert_eq!(user("active pr"), Filter::True);
        assert!(user_err("active eq \"maybe\"").contains("true or false"));
        assert!(user_err("active gt true").contains("eq or ne"));

        let ns = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
        assert_eq!(
            user(&format!("{ns}:accountType eq \"Report Reader\"")),
            eq(A::AccountType, "report-reader")
        );
        assert_eq!(
            user("accountType eq \"administrator\""),
            eq(A::AccountType, "administrator")
        );
        assert_eq!(user("accountType eq \"Wizard\""), Filter::False);
        assert_eq!(
            user("accountType ne \"Wizard\""),
            t(A::AccountType, Test::Present)
        );
        assert_eq!(
            user("accountType ne \"Administrator\""),
            Filter::And(vec![
                t(A::AccountType, Test::Present),
                Filter::Not(Box::new(eq(A::AccountType, "administrator")))
            ])
        );
        assert_eq!(
            user(&format!(
                "{ns}:authenticationMethod eq \"Two Factor SMS Everytime\""
            )),
            eq(A::AuthMethod, "two-factor-sms-every-time")
        );
        assert_eq!(user("authenticationMethod eq \"bogus\""), Filter::False);
        assert_eq!(
            user(&format!("{ns}:status eq \"Inactive\"")),
            eq(A::Status, "inactive")
        );
        assert_eq!(user("status eq \"gone\""), Filter::False);
        assert_eq!(user("status pr"), t(A::Status, Test::Present));
        assert_eq!(
            user("accountType sw \"report\""),
            t(
                A::AccountType,
                Test::Substring {
                    initial: Some("report".into()),
                    any: vec![],
                    last: None
                }
            )
        );
    }

    #[test]
    fn user_meta_times() {
        let ts: Timestamp = "2024-05-13T04:42:34Z".parse().unwrap();
        let v = Value::Time(ts);
        for (attr, field) in [
            ("meta.created", A::Created),
            ("meta.lastModified", A::Modified),
        ] {
            let q = |op: &str| user(&format!("{attr} {op} \"2024-05-13T04:42:34Z\""));
            assert_eq!(q("gt"), t(field, Test::After(v.clone())));
            assert_eq!(q("GE"), t(field, Test::AtLeast(v.clone())));
            assert_eq!(q("lt"), t(field, Test::Before(v.clone())));
            assert_eq!(q("le"), t(field, Test::AtMost(v.clone())));
            let equal = Filter::And(vec![
                t(field, Test::AtLeast(v.clone())),
                t(field, Test::AtMost(v.clone())),
            ]);
            assert_eq!(q("eq"), equal.clone());
            assert_eq!(
                q("ne"),
                Filter::And(vec![t(field, Test::Present), Filter::Not(Box::new(equal))])
            );
            assert_eq!(user(&format!("{attr} pr")), t(field, Test::Present));
            assert!(user_err(&format!("{attr} co \"2024\"")).contains("dateTime"));
            assert!(user_err(&format!("{attr} gt \"yesterday\"")).contains("RFC 3339"));
            assert!(user_err(&format!("{attr} gt 5")).contains("dateTime"));
        }
        // Offsets are accepted.
        let ts2: Timestamp = "2024-05-13T06:42:34+02:00".parse().unwrap();
        assert_eq!(ts, ts2);
        assert_eq!(
            user("meta.created gt \"2024-05-13T06:42:34+02:00\""),
            t(A::Created, Test::After(v))
        );
        assert_eq!(user("meta.resourceType eq \"User\""), Filter::True);
        assert_eq!(user("meta.resourceType eq \"Group\""), Filter::False);
        assert_eq!(user("meta pr"), Filter::True);
        assert_eq!(user("meta.version eq \"W/1\""), Filter::False);
    }

    #[test]
    fn user_unknown_and_unsupported() {
        assert_eq!(user("nickName eq \"boss\""), Filter::False);
        assert_eq!(user("nickName pr"), Filter::False);
        assert_eq!(
            user("nickName eq \"x\" or userName eq \"y\""),
            eq(A::Login, "y")
        );
        assert_eq!(user("not (nickName eq \"boss\")"), Filter::True);
        assert_eq!(user("userName.foo eq \"x\""), Filter::False);
        assert_eq!(user("name eq \"x\""), Filter::False);
        assert_eq!(
            user("name pr"),
            Filter::Or(vec![
                t(A::GivenName, Test::Present),
                t(A::FamilyName, Test::Present)
            ])
        );
        // A known extension, but not an attribute we know.
        assert_eq!(
            user("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nickName eq \"1\""),
            Filter::False
        );
        // The core schema does not hold extension attributes.
        assert_eq!(
            user("urn:ietf:params:scim:schemas:core:2.0:User:accountType eq \"Administrator\""),
            Filter::False
        );
        assert!(user_err("groups eq \"x\"").contains("groups is not supported"));
        assert!(user_err("groups.value eq \"x\"").contains("groups is not supported"));
        assert!(user_err("groups[value eq \"x\"]").contains("groups is not supported"));
        assert!(user_err(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\""
        )
        .contains("manager"));
        assert!(user_err("restrictedTo.value eq \"x\"").contains("not supported"));
        // Unknown schema URN: an error, not an empty result.
        let e = user_err("urn:example:foo:2.0:User:userName eq \"x\"");
        assert!(e.contains("unknown schema urn:example:foo:2.0:User"), "{e}");
        let e = user_err("urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"x\"");
        assert!(e.contains("does not apply to Users"), "{e}");
    }

    #[test]
    fn user_logic() {
        assert_eq!(
            user(r#"userName eq "a" and (active eq true or not (timezone pr))"#),
            Filter::And(vec![
                eq(A::Login, "a"),
                Filter::Or(vec![
                    eq(A::Status, "active"),
                    Filter::Not(Box::new(t(A::TimeZone, Test::Present)))
                ])
            ])
        );
        assert_eq!(user("not (not (userName pr))"), t(A::Login, Test::Present));
        assert_eq!(
            user(r#"userName eq "a" and userName eq "b" and userName eq "c""#),
            Filter::And(vec![
                eq(A::Login, "a"),
                eq(A::Login, "b"),
                eq(A::Login, "c")
            ])
        );
    }

    #[test]
    fn group_attributes() {
        use NodeField as N;
        assert_eq!(group("id eq \"abc\""), eq(N::Uuid, "abc"));
        assert_eq!(group("displayName eq \"Sales\""), eq(N::Name, "Sales"));
        assert_eq!(group("DISPLAYNAME Eq \"Sales\""), eq(N::Name, "Sales"));
        assert_eq!(
            group("urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw \"Sa\""),
            t(
                N::Name,
                Test::Substring {
                    initial: Some("Sa".into()),
                    any: vec![],
                    last: None
                }
            )
        );
        assert_eq!(group("externalId eq abc"), eq(N::ExternalId, "abc"));
        assert_eq!(
            group("externalId ne \"abc\""),
            Filter::And(vec![
                t(N::ExternalId, Test::Present),
                Filter::Not(Box::new(eq(N::ExternalId, "abc")))
            ])
        );
        let ts: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            group("meta.lastModified ge \"2024-01-01T00:00:00Z\""),
            t(N::Modified, Test::AtLeast(Value::Time(ts)))
        );
        assert_eq!(
            group("meta.created lt \"2024-01-01T00:00:00Z\""),
            t(N::Created, Test::Before(Value::Time(ts)))
        );
        assert_eq!(
            group("urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group:kind eq \"Business Entity\""),
            eq(N::Kind, "business-entity")
        );
        assert_eq!(group("kind eq \"planet\""), Filter::False);
        assert_eq!(group("parent.display eq \"Acme\""), eq(N::Parent, "Acme"));
        assert_eq!(group("meta.resourceType eq \"Group\""), Filter::True);
        assert_eq!(group("userName eq \"x\""), Filter::False);
        let e = group_filter(&parse("members[value eq \"2819c223\"]")).unwrap_err();
        assert!(e.to_string().contains("members is not supported"), "{e}");
        assert!(group_filter(&parse("members.value eq \"x\"")).is_err());
        assert!(group_filter(&parse("members eq \"x\"")).is_err());
        let e = group_filter(&parse(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("does not apply to Groups"), "{e}");
        assert!(group_filter(&parse("urn:x:y:displayName eq \"x\"")).is_err());
    }

    fn by(field: A, descending: bool) -> Sort<A> {
        Sort { field, descending }
    }
    fn user_sort_of(path: &str, descending: bool) -> Result<Sort<A>, ParseError> {
        user_sort(
            &super::super::path::parse_attr_path(path).unwrap(),
            descending,
        )
    }
    fn group_sort_of(path: &str) -> Result<Sort<NodeField>, ParseError> {
        group_sort(&super::super::path::parse_attr_path(path).unwrap(), false)
    }

    #[test]
    fn sort_attributes_map_as_filters_do() {
        let cases = [
            ("id", A::Uuid),
            ("userName", A::Login),
            ("USERNAME", A::Login),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                A::Login,
            ),
            ("externalId", A::ExternalId),
            ("displayName", A::Attribute(Attribute::DisplayName)),
            ("name.givenName", A::GivenName),
            ("Name.FamilyName", A::FamilyName),
            ("name.formatted", A::FullName),
            ("displayName", A::Attribute(Attribute::DisplayName)),
            ("title", A::Attribute(Attribute::Title)),
            ("emails", A::Email),
            ("emails.value", A::Email),
            ("phoneNumbers", A::Mobile),
            ("phoneNumbers.value", A::Mobile),
            ("timezone", A::TimeZone),
            ("meta.created", A::Created),
            ("meta.lastModified", A::Modified),
            ("accountType", A::AccountType),
            (
                "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:status",
                A::Status,
            ),
        ];
        for (path, field) in cases {
            assert_eq!(user_sort_of(path, false), Ok(by(field, false)), "{path}");
            assert_eq!(user_sort_of(path, true), Ok(by(field, true)), "{path}");
        }
        // active is the status "active", which sorts before "inactive":
        // false-before-true is the status descending.
        assert!(Status::Active.as_str() < Status::Inactive.as_str());
        assert_eq!(user_sort_of("active", false), Ok(by(A::Status, true)));
        assert_eq!(user_sort_of("active", true), Ok(by(A::Status, false)));

        use NodeField as N;
        for (path, field) in [
            ("id", N::Uuid),
            ("displayName", N::Name),
            (
                "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
                N::Name,
            ),
            ("externalId", N::ExternalId),
            ("meta.created", N::Created),
            ("META.LASTMODIFIED", N::Modified),
            ("kind", N::Kind),
        ] {
            assert_eq!(
                group_sort_of(path),
                Ok(Sort {
                    field,
                    descending: false
                }),
                "{path}"
            );
        }
    }

    #[test]
    fn unsortable_attributes_are_refused() {
        for (path, why) in [
            ("name", "complex"),
            ("meta", "complex"),
            ("nickName", "unknown attribute"),
            ("emails.type", "cannot sort"),
            ("emails.primary", "cannot sort"),
            ("groups", "cannot sort"),
            ("securityRoles", "cannot sort"),
            ("restrictedTo.display", "cannot sort"),
            ("manager", "cannot sort"),
            ("meta.resourceType", "cannot sort"),
            (
                "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
                "does not apply",
            ),
            ("urn:x:y:userName", "unknown schema"),
        ] {
            let e = user_sort_of(path, false).unwrap_err();
            assert!(e.to_string().contains(why), "{path}: {e}");
        }
        for path in [
            "members",
            "members.value",
            "userName",
            "parent.display",
            "parent",
        ] {
            assert!(group_sort_of(path).is_err(), "{path}");
        }
    }
}
