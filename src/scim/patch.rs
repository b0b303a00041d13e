//! SCIM PATCH (RFC 7644 section 3.5.2): parsing a `PatchOp` message and
//! applying its operations to the JSON rendering of a resource.
//!
//! The face renders the current resource, [`apply`]s every operation to
//! that document in memory (all or nothing) and turns the result into one
//! core update. For Groups, [`member_changes`] recognises requests that only
//! add or remove members, so the face can touch just the named members.
//!
//! Keys match ignoring case. Core attributes live at the top level of the
//! document, extension attributes under their schema URN. The dialects of
//! Entra ID (`Add` / `Replace` / `Remove`, `"True"` strings, member removal
//! by a value array) and Okta (path-less `replace` of `active`) are
//! accepted.

use serde_json::{Map, Value};

use super::filter::{CompareOp, ScimFilter, ScimValue};
use super::path::{
    parse_attr_path, parse_patch_path, AttrPath, PatchPath, CORE_ATTRIBUTES, DIRGATE_GROUP_SCHEMA,
    DIRGATE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, KNOWN_SCHEMAS, USER_SCHEMA,
};

/// The URN a PATCH request's `schemas` must hold.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

type Obj = Map<String, Value>;

/// A PATCH request that cannot be applied: answer 400 with `scim_type`
/// (`invalidSyntax`, `invalidPath`, `noTarget`, `invalidValue`,
/// `mutability`) and `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct PatchError {
    pub scim_type: &'static str,
    pub detail: String,
}

impl PatchError {
    fn syntax(detail: impl Into<String>) -> Self {
        Self::new("invalidSyntax", detail)
    }
    fn path(detail: impl Into<String>) -> Self {
        Self::new("invalidPath", detail)
    }
    fn no_target(detail: impl Into<String>) -> Self {
        Self::new("noTarget", detail)
    }
    fn value(detail: impl Into<String>) -> Self {
        Self::new("invalidValue", detail)
    }
    fn mutability(detail: impl Into<String>) -> Self {
        Self::new("mutability", detail)
    }
    fn new(scim_type: &'static str, detail: impl Into<String>) -> Self {
        PatchError {
            scim_type,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    /// Required for add and replace (may be JSON null there), optional for
    /// remove.
    pub value: Option<Value>,
    /// Set when `path` is a bare extension schema URN (`"path":
    /// "urn:...:enterprise:2.0:User"`): the operation targets the whole
    /// extension object, and `path` is `None`.
    pub extension: Option<&'static str>,
}

/// Member ids a Group PATCH adds, removes, or sets wholesale. When
/// `replace_all` is set, `add` and `remove` are empty: the list is final.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub replace_all: Option<Vec<String>>,
}

/// Multi-valued attributes (lower case), also when the document has none.
const MULTI_VALUED: &[&str] = &[
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
    "members",
    "securityroles",
];

/// Multi-valued attributes whose `value` is a resource id, compared exactly.
const ID_VALUED: &[&str] = &["members", "groups"];

/// Core attributes nobody may change (lower case).
const READ_ONLY: &[&str] = &["id", "meta", "schemas", "groups"];

/// Extension attributes nobody may change over SCIM (schema, lower-case
/// name): the admin level is granted, and a derived user name changed, at
/// the command line only.
const READ_ONLY_EXTENSION: &[(&str, &str)] = &[
    (DIRGATE_USER_SCHEMA, "adminlevel"),
    (DIRGATE_USER_SCHEMA, "username"),
];

/// Extension attributes an unqualified path may name (lower case).
const EXTENSION_ATTRIBUTES: &[(&str, &str)] = &[
    ("employeenumber", ENTERPRISE_USER_SCHEMA),
    ("costcenter", ENTERPRISE_USER_SCHEMA),
    ("organization", ENTERPRISE_USER_SCHEMA),
    ("division", ENTERPRISE_USER_SCHEMA),
    ("department", ENTERPRISE_USER_SCHEMA),
    ("manager", ENTERPRISE_USER_SCHEMA),
    ("accounttype", DIRGATE_USER_SCHEMA),
    ("authenticationmethod", DIRGATE_USER_SCHEMA),
    ("restrictedto", DIRGATE_USER_SCHEMA),
    ("securityroles", DIRGATE_USER_SCHEMA),
    ("status", DIRGATE_USER_SCHEMA),
    ("adminlevel", DIRGATE_USER_SCHEMA),
    ("kind", DIRGATE_GROUP_SCHEMA),
    ("parent", DIRGATE_GROUP_SCHEMA),
];

fn in_list(list: &[&str], name: &str) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The key of `obj` spelling `name` in any case.
fn key_of(obj: &Obj, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn get<'a>(obj: &'a Obj, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn get_mut<'a>(obj: &'a mut Obj, name: &str) -> Option<&'a mut Value> {
    obj.iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn remove_key(obj: &mut Obj, name: &str) {
    if let Some(k) = key_of(obj, name) {
        obj.remove(&k);
    }
}

/// Inserts under the existing spelling of `name`, or under `name`.
fn insert(obj: &mut Obj, name: &str, value: Value) {
    let key = key_of(obj, name).unwrap_or_else(|| name.to_owned());
    obj.insert(key, value);
}

// ---------------------------------------------------------------------
// Parsing.

/// Parses a `PatchOp` request body.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOp>, PatchError> {
    let obj = body
        .as_object()
        .ok_or_else(|| PatchError::syntax("a PATCH body must be a JSON object"))?;
    let schema_ok = get(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
        });
    if !schema_ok {
        return Err(PatchError::syntax(format!(
            "schemas must contain {PATCH_OP_SCHEMA}"
        )));
    }
    let ops = get(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| PatchError::syntax("Operations must be an array of operations"))?;
    if ops.is_empty() {
        return Err(PatchError::syntax("Operations is empty"));
    }
    ops.iter().map(parse_op).collect()
}

fn parse_op(v: &Value) -> Result<PatchOp, PatchError> {
    let obj = v
        .as_object()
        .ok_or_else(|| PatchError::syntax("each operation must be a JSON object"))?;
    let op = match get(obj, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        Some(s) => {
            return Err(PatchError::syntax(format!(
                "op must be add, replace or remove, not {s:?}"
            )))
        }
        None => return Err(PatchError::syntax("an operation needs an op")),
    };
    let mut extension = None;
    let path = match get(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if extension_urn(s).is_some() => {
            extension = extension_urn(s);
            None
        }
        Some(Value::String(s)) => {
            Some(parse_patch_path(s).map_err(|e| PatchError::path(format!("path {s:?}: {e}")))?)
        }
        Some(_) => return Err(PatchError::syntax("path must be a string")),
    };
    if let Some(p) = &path {
        if p.attr.unknown_schema() {
            return Err(PatchError::path(format!(
                "unknown schema in path {}",
                p.attr
            )));
        }
    }
    let value = get(obj, "value").cloned();
    if op != OpKind::Remove && value.is_none() {
        return Err(PatchError::syntax("add and replace need a value"));
    }
    Ok(PatchOp {
        op,
        path,
        value,
        extension,
    })
}

/// The extension schema a path names as a whole (ignoring case and
/// surrounding blanks), if it is one. RFC 7644's `attrPath` grammar wants an
/// attribute after the URN, but clients (and compliance testers) address a
/// whole extension this way, the way a path names a whole complex
/// attribute; a core schema URN is not accepted: that would be the resource.
fn extension_urn(path: &str) -> Option<&'static str> {
    let path = path.trim();
    KNOWN_SCHEMAS
        .iter()
        .copied()
        .filter(|u| !is_core_urn(u))
        .find(|u| u.eq_ignore_ascii_case(path))
}

// ---------------------------------------------------------------------
// Applying.

/// Applies `ops` in order to `doc` (a resource's SCIM JSON). If any
/// operation fails, `doc` is left as it was.
pub fn apply(doc: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    let mut work = doc.clone();
    let obj = work
        .as_object_mut()
        .ok_or_else(|| PatchError::value("the resource is not a JSON object"))?;
    for op in ops {
        match op.extension {
            Some(urn) => apply_extension(obj, op.op, urn, op.value.as_ref())?,
            None => apply_one(obj, op.op, op.path.as_ref(), op.value.as_ref())?,
        }
    }
    if let Some(before) = doc.as_object() {
        reconcile(before, obj)?;
    }
    *doc = work;
    Ok(())
}

/// An operation on a whole extension object: add and replace set the
/// attributes the value names (as a path-less operation holding the value
/// under the URN would), remove drops the object.
fn apply_extension(
    doc: &mut Obj,
    kind: OpKind,
    urn: &str,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    match (kind, value) {
        (OpKind::Remove, _) => {
            remove_key(doc, urn);
            Ok(())
        }
        (_, Some(v @ Value::Object(_))) => apply_pathless(doc, kind, urn, v),
        (_, Some(Value::Null)) if kind == OpKind::Replace => {
            remove_key(doc, urn);
            Ok(())
        }
        _ => Err(PatchError::value(format!(
            "{urn} must be an object of attributes"
        ))),
    }
}

/// Attribute `attr` of the extension `urn` in `doc`, if any.
fn ext_attr<'a>(doc: &'a Obj, urn: &str, attr: &str) -> Option<&'a Value> {
    get(doc, urn)
        .and_then(Value::as_object)
        .and_then(|o| get(o, attr))
        .filter(|v| !v.is_null())
}

/// The extension object `urn` of `doc`, created if absent.
fn ext_obj<'a>(doc: &'a mut Obj, urn: &str) -> Result<&'a mut Obj, PatchError> {
    container(doc, &Scope::Ext(urn.to_owned()), true)?
        .ok_or_else(|| PatchError::value(format!("{urn} is not an object")))
}

/// Text of a string value, lower-cased, for comparisons ignoring case.
fn folded(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_ascii_lowercase)
}

/// Keeps the patched document saying one thing where dirgate holds one
/// value under two names, and refuses changes to immutable attributes.
/// `before` is the document as it was, `after` the same after every
/// operation:
///
/// - `active` and the extension's `status` are the same fact: when only
///   one of them was changed, the other follows it (else the stale one
///   would win or lose depending on which the face reads first).
/// - A removed `securityRoles` list becomes an empty one: the face reads a
///   missing list as "leave the roles as they are".
/// - A Group's `kind` is immutable (a business entity is created as one).
fn reconcile(before: &Obj, after: &mut Obj) -> Result<(), PatchError> {
    let status_before = folded(ext_attr(before, DIRGATE_USER_SCHEMA, "status"));
    let status_after = folded(ext_attr(after, DIRGATE_USER_SCHEMA, "status"));
    let active_before = get(before, "active").cloned();
    let active_after = get(after, "active").cloned();
    if active_after != active_before {
        if let Some(active) = active_after.as_ref().and_then(as_bool) {
            if ext_attr(after, DIRGATE_USER_SCHEMA, "status").is_some() {
                let status = if active { "Active" } else { "Inactive" };
                insert(
                    ext_obj(after, DIRGATE_USER_SCHEMA)?,
                    "status",
                    Value::String(status.into()),
                );
            }
        }
    } else if status_after != status_before {
        match status_after.as_deref() {
            Some("active") => insert(after, "active", Value::Bool(true)),
            Some("inactive") => insert(after, "active", Value::Bool(false)),
            _ => {}
        }
    }

    if ext_attr(before, DIRGATE_USER_SCHEMA, "securityRoles").is_some()
        && ext_attr(after, DIRGATE_USER_SCHEMA, "securityRoles").is_none()
    {
        insert(
            ext_obj(after, DIRGATE_USER_SCHEMA)?,
            "securityRoles",
            Value::Array(Vec::new()),
        );
    }

    let kind_before = folded(ext_attr(before, DIRGATE_GROUP_SCHEMA, "kind"));
    if kind_before.is_some() && folded(ext_attr(after, DIRGATE_GROUP_SCHEMA, "kind")) != kind_before
    {
        return Err(PatchError::mutability(
            "kind cannot be changed once set: a group or business entity is created as one",
        ));
    }
    Ok(())
}

fn apply_one(
    doc: &mut Obj,
    kind: OpKind,
    path: Option<&PatchPath>,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    match path {
        Some(p) => apply_path(doc, kind, p, value),
        None if kind == OpKind::Remove => Err(PatchError::no_target("remove needs a path")),
        None => {
            let Some(Value::Object(items)) = value else {
                return Err(PatchError::value(
                    "without a path, value must be an object of attributes",
                ));
            };
            for (k, v) in items {
                apply_pathless(doc, kind, k, v)?;
            }
            Ok(())
        }
    }
}

/// One key of a path-less add / replace value.
fn apply_pathless(doc: &mut Obj, kind: OpKind, key: &str, v: &Value) -> Result<(), PatchError> {
    if let Some(urn) = KNOWN_SCHEMAS.iter().find(|u| u.eq_ignore_ascii_case(key)) {
        let Value::Object(attrs) = v else {
            return Err(PatchError::value(format!(
                "{urn} must be an object of attributes"
            )));
        };
        for (k, v) in attrs {
            let mut attr = parse_attr_path(k)
                .map_err(|e| PatchError::path(format!("attribute {k:?}: {e}")))?;
            if attr.schema.is_some() {
                return Err(PatchError::path(format!(
                    "attribute {k:?} inside {urn} is qualified"
                )));
            }
            attr.schema = Some((*urn).to_owned());
            apply_attr(doc, kind, &attr, v)?;
        }
        return Ok(());
    }
    let attr =
        parse_attr_path(key).map_err(|e| PatchError::path(format!("attribute {key:?}: {e}")))?;
    if attr.unknown_schema() {
        return Err(PatchError::path(format!("unknown schema in {key:?}")));
    }
    apply_attr(doc, kind, &attr, v)
}

fn apply_attr(doc: &mut Obj, kind: OpKind, attr: &AttrPath, v: &Value) -> Result<(), PatchError> {
    let path = PatchPath {
        attr: attr.clone(),
        filter: None,
        sub_attr: None,
    };
    apply_path(doc, kind, &path, Some(v))
}

/// Where an attribute lives: the top level, or under an extension URN (as
/// spelled in the document if present there).
enum Scope {
    Core,
    Ext(String),
}

fn is_core_urn(s: &str) -> bool {
    s.eq_ignore_ascii_case(USER_SCHEMA) || s.eq_ignore_ascii_case(GROUP_SCHEMA)
}

fn resolve(doc: &Obj, attr: &AttrPath) -> Result<Scope, PatchError> {
    if attr.unknown_schema() {
        return Err(PatchError::path(format!("unknown schema in path {attr}")));
    }
    if let Some(s) = &attr.schema {
        if is_core_urn(s) {
            return Ok(Scope::Core);
        }
        return Ok(Scope::Ext(key_of(doc, s).unwrap_or_else(|| s.clone())));
    }
    let name = &attr.attr;
    if in_list(CORE_ATTRIBUTES, name) || key_of(doc, name).is_some() {
        return Ok(Scope::Core);
    }
    let holder = doc.iter().find(|(k, v)| {
        k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
            && v.as_object().is_some_and(|o| key_of(o, name).is_some())
    });
    if let Some((k, _)) = holder {
        return Ok(Scope::Ext(k.clone()));
    }
    if let Some((_, urn)) = EXTENSION_ATTRIBUTES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Ok(Scope::Ext((*urn).to_owned()));
    }
    Ok(Scope::Core)
}

/// The object holding attributes of `scope`; `None` if it is absent and
/// `create` is false.
fn container<'a>(
    doc: &'a mut Obj,
    scope: &Scope,
    create: bool,
) -> Result<Option<&'a mut Obj>, PatchError> {
    let urn = match scope {
        Scope::Core => return Ok(Some(doc)),
        Scope::Ext(urn) => urn,
    };
    let missing = get(doc, urn).is_none_or(Value::is_null);
    if missing {
        if !create {
            return Ok(None);
        }
        insert(doc, urn, Value::Object(Map::new()));
    }
    match get_mut(doc, urn) {
        Some(Value::Object(o)) => Ok(Some(o)),
        _ => Err(PatchError::value(format!("{urn} is not an object"))),
    }
}

fn apply_path(
    doc: &mut Obj,
    kind: OpKind,
    p: &PatchPath,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let scope = resolve(doc, &p.attr)?;
    let name = p.attr.attr.as_str();
    let (read_only, current) = match &scope {
        Scope::Core => (in_list(READ_ONLY, name), get(doc, name)),
        Scope::Ext(urn) => (
            READ_ONLY_EXTENSION.iter().any(|(schema, attr)| {
                urn.eq_ignore_ascii_case(schema) && name.eq_ignore_ascii_case(attr)
            }),
            ext_attr(doc, urn, name),
        ),
    };
    if read_only {
        // Repeating the current value (clients echo `id`) changes nothing.
        let same = kind != OpKind::Remove
            && p.filter.is_none()
            && p.attr.sub_attr.is_none()
            && value.is_some()
            && current == value;
        if same {
            return Ok(());
        }
        return Err(PatchError::mutability(format!("{name} cannot be changed")));
    }
    let Some(obj) = container(doc, &scope, kind != OpKind::Remove)? else {
        return Ok(());
    };
    if let Some(filter) = &p.filter {
        return apply_filtered(obj, kind, name, filter, p.sub_attr.as_deref(), value);
    }
    match (&p.attr.sub_attr, kind) {
        (Some(sub), OpKind::Remove) => {
            match get_mut(obj, name) {
                Some(Value::Object(o)) => {
                    remove_key(o, sub);
                    if o.is_empty() {
                        remove_key(obj, name);
                    }
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        remove_key(item, sub);
                    }
                }
                _ => {}
            }
            Ok(())
        }
        (Some(sub), _) => {
            let v = value.ok_or_else(|| PatchError::syntax("add and replace need a value"))?;
            if get(obj, name).is_some_and(Value::is_array) {
                return Err(PatchError::path(format!(
                    "{name}.{sub}: {name} is multi-valued; select values with a filter"
                )));
            }
            if !get(obj, name).is_some_and(Value::is_object) {
                if v.is_null() {
                    return Ok(());
                }
                insert(obj, name, Value::Object(Map::new()));
            }
            if let Some(Value::Object(o)) = get_mut(obj, name) {
                put(o, sub, v, kind);
                if o.is_empty() {
                    remove_key(obj, name);
                }
            }
            Ok(())
        }
        (None, OpKind::Remove) => {
            let exact = in_list(ID_VALUED, name);
            match (value, get_mut(obj, name)) {
                (Some(v @ (Value::Array(_) | Value::Object(_))), Some(Value::Array(items))) => {
                    let gone: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    items.retain(|item| !gone.iter().any(|g| same_item(item, g, exact)));
                    if items.is_empty() {
                        remove_key(obj, name);
                    }
                }
                _ => remove_key(obj, name),
            }
            Ok(())
        }
        (None, _) => {
            let v = value.ok_or_else(|| PatchError::syntax("add and replace need a value"))?;
            put(obj, name, v, kind);
            Ok(())
        }
    }
}

/// Whether a value is `true` or Entra's `"True"`.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether two values of a multi-valued attribute are the same value: by
/// their `value` sub-attribute if both have one, else by equality.
fn same_item(a: &Value, b: &Value, exact: bool) -> bool {
    let key = |v: &Value| -> Option<String> {
        match v {
            Value::Object(o) => match get(o, "value") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            },
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    };
    match (key(a), key(b)) {
        (Some(x), Some(y)) if exact => x == y,
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(&y),
        _ => a == b,
    }
}

/// Sets attribute `name` of `obj` to `v` with add (`kind` Add) or replace
/// semantics: multi-valued attributes get `v`'s values appended (add) or
/// become them (replace); complex values are merged; others are set. A
/// null replaces to nothing.
fn put(obj: &mut Obj, name: &str, v: &Value, kind: OpKind) {
    if v.is_null() {
        if kind == OpKind::Replace {
            remove_key(obj, name);
        }
        return;
    }
    let existing = get_mut(obj, name);
    let multi = in_list(MULTI_VALUED, name) || existing.as_ref().is_some_and(|e| e.is_array());
    if multi {
        let exact = in_list(ID_VALUED, name);
        let new: Vec<Value> = match v {
            Value::Array(a) => a.iter().filter(|i| !i.is_null()).cloned().collect(),
            other => vec![other.clone()],
        };
        let mut list = match existing {
            Some(Value::Array(items)) if kind == OpKind::Add => std::mem::take(items),
            _ => Vec::new(),
        };
        // The last value given as primary; at most one stays primary.
        let mut primary = None;
        for item in new {
            let is_primary = item.as_object().is_some_and(|o| truthy(get(o, "primary")));
            let at = match list.iter().position(|e| same_item(e, &item, exact)) {
                Some(i) => {
                    if let (Value::Object(old), Value::Object(add)) = (&mut list[i], &item) {
                        for (k, v) in add {
                            insert(old, k, v.clone());
                        }
                    } else {
                        list[i] = item;
                    }
                    i
                }
                None => {
                    list.push(item);
                    list.len() - 1
                }
            };
            if is_primary {
                primary = Some(at);
            }
        }
        if let Some(p) = primary {
            for (i, item) in list.iter_mut().enumerate() {
                if let Value::Object(o) = item {
                    if i != p && truthy(get(o, "primary")) {
                        insert(o, "primary", Value::Bool(false));
                    }
                }
            }
        }
        if list.is_empty() {
            remove_key(obj, name);
        } else {
            insert(obj, name, Value::Array(list));
        }
        return;
    }
    match (existing, v) {
        (Some(Value::Object(old)), Value::Object(new)) => {
            for (k, v) in new {
                put(old, k, v, OpKind::Replace);
            }
        }
        _ => insert(obj, name, v.clone()),
    }
}

fn apply_filtered(
    obj: &mut Obj,
    kind: OpKind,
    name: &str,
    filter: &ScimFilter,
    sub: Option<&str>,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let exact = in_list(ID_VALUED, name);
    let hits: Vec<usize> = match get(obj, name) {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter(|(_, e)| matches_with(e, filter, exact))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    };
    if kind == OpKind::Remove {
        if let Some(Value::Array(items)) = get_mut(obj, name) {
            match sub {
                Some(sub) => {
                    for &i in &hits {
                        if let Some(Value::Object(o)) = items.get_mut(i) {
                            remove_key(o, sub);
                        }
                    }
                }
                None => {
                    let mut i = 0;
                    items.retain(|_| {
                        let keep = !hits.contains(&i);
                        i += 1;
                        keep
                    });
                    if items.is_empty() {
                        remove_key(obj, name);
                    }
                }
            }
        }
        return Ok(());
    }
    let v = value.ok_or_else(|| PatchError::syntax("add and replace need a value"))?;
    if hits.is_empty() {
        if kind == OpKind::Replace {
            return Err(PatchError::no_target(format!(
                "no value of {name} matches the filter"
            )));
        }
        // Add to a filter that matches nothing (Entra:
        // `emails[type eq "work"].value`): a new value carrying the
        // filter's equalities.
        let mut seed = Map::new();
        if !seed_from(filter, &mut seed) {
            return Err(PatchError::no_target(format!(
                "no value of {name} matches the filter"
            )));
        }
        match (sub, v) {
            (Some(sub), v) => insert(&mut seed, sub, v.clone()),
            (None, Value::Object(o)) => {
                for (k, v) in o {
                    insert(&mut seed, k, v.clone());
                }
            }
            (None, _) => {
                return Err(PatchError::value(format!(
                    "a value of {name} must be an object"
                )))
            }
        }
        put(
            obj,
            name,
            &Value::Array(vec![Value::Object(seed)]),
            OpKind::Add,
        );
        return Ok(());
    }
    if sub.is_none() && !v.is_object() {
        return Err(PatchError::value(format!(
            "a value of {name} must be an object"
        )));
    }
    if let Some(Value::Array(items)) = get_mut(obj, name) {
        for &i in &hits {
            let Some(item) = items.get_mut(i) else {
                continue;
            };
            match (sub, kind) {
                (Some(sub), _) => {
                    if !item.is_object() {
                        *item = Value::Object(Map::new());
                    }
                    if let Value::Object(o) = item {
                        put(o, sub, v, OpKind::Replace);
                    }
                }
                (None, OpKind::Replace) => *item = v.clone(),
                (None, _) => {
                    if let (Value::Object(o), Value::Object(add)) = (item, v) {
                        for (k, v) in add {
                            put(o, k, v, OpKind::Replace);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Collects the `attr eq value` terms of a conjunction into `seed`; false
/// if the filter is anything else.
fn seed_from(f: &ScimFilter, seed: &mut Obj) -> bool {
    match f {
        ScimFilter::And(a, b) => seed_from(a, seed) && seed_from(b, seed),
        ScimFilter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() && path.schema.is_none() => {
            let v = match value {
                ScimValue::String(s) => Value::String(s.clone()),
                ScimValue::Number(n) => Value::Number(n.clone()),
                ScimValue::Bool(b) => Value::Bool(*b),
                ScimValue::Null => return false,
            };
            insert(seed, &path.attr, v);
            true
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------
// Value filters.

/// Whether one value of a multi-valued attribute matches a value filter
/// (paths in `f` are its sub-attributes; a plain string value is its own
/// `value`). Strings compare ignoring case.
pub fn matches(element: &Value, f: &ScimFilter) -> bool {
    matches_with(element, f, false)
}

/// As [`matches`]; with `exact_value`, `value` (an id) compares exactly.
fn matches_with(element: &Value, f: &ScimFilter, exact_value: bool) -> bool {
    match f {
        ScimFilter::And(a, b) => {
            matches_with(element, a, exact_value) && matches_with(element, b, exact_value)
        }
        ScimFilter::Or(a, b) => {
            matches_with(element, a, exact_value) || matches_with(element, b, exact_value)
        }
        ScimFilter::Not(a) => !matches_with(element, a, exact_value),
        ScimFilter::Present(path) => lookup(element, path).is_some_and(present),
        ScimFilter::Compare { path, op, value } => {
            let exact = exact_value && path.attr.eq_ignore_ascii_case("value");
            match lookup(element, path) {
                Some(Value::Array(items)) => items.iter().any(|i| compare(i, *op, value, exact)),
                Some(v) => compare(v, *op, value, exact),
                None => match (op, value) {
                    (CompareOp::Eq, ScimValue::Null) => true,
                    (CompareOp::Ne, ScimValue::Null) => false,
                    (CompareOp::Ne, _) => true,
                    _ => false,
                },
            }
        }
        ScimFilter::ValuePath { attr, filter } => match lookup(element, attr) {
            Some(Value::Array(items)) => items.iter().any(|i| matches_with(i, filter, false)),
            Some(v) => matches_with(v, filter, false),
            None => false,
        },
    }
}

fn lookup<'a>(element: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let v = match element {
        Value::Object(o) => get(o, &path.attr)?,
        simple if path.attr.eq_ignore_ascii_case("value") && path.sub_attr.is_none() => {
            return Some(simple)
        }
        _ => return None,
    };
    match &path.sub_attr {
        None => Some(v),
        Some(sub) => get(v.as_object()?, sub),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn compare(have: &Value, op: CompareOp, want: &ScimValue, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (have, want) {
        (Value::Null, ScimValue::Null) => Some(Ordering::Equal),
        (_, ScimValue::Null) | (Value::Null, _) => None,
        (_, ScimValue::Bool(w)) => as_bool(have).map(|h| h.cmp(w)),
        (Value::Bool(h), ScimValue::String(s)) => {
            as_bool(&Value::String(s.clone())).map(|w| h.cmp(&w))
        }
        (Value::Number(h), ScimValue::Number(w)) => match (h.as_f64(), w.as_f64()) {
            (Some(h), Some(w)) => h.partial_cmp(&w),
            _ => None,
        },
        (Value::String(h), ScimValue::String(w)) => {
            let (h, w) = if exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                CompareOp::Co => return h.contains(&w),
                CompareOp::Sw => return h.starts_with(&w),
                CompareOp::Ew => return h.ends_with(&w),
                _ => Some(h.cmp(&w)),
            }
        }
        (Value::String(h), ScimValue::Number(w)) => {
            match (h.trim().parse::<f64>().ok(), w.as_f64()) {
                (Some(h), Some(w)) => h.partial_cmp(&w),
                _ => None,
            }
        }
        (Value::Number(h), ScimValue::String(w)) => {
            return compare(&Value::String(h.to_string()), op, want, exact)
                || match (h.as_f64(), w.trim().parse::<f64>().ok()) {
                    (Some(h), Some(w)) => ordering_ok(h.partial_cmp(&w), op),
                    _ => false,
                };
        }
        _ => None,
    };
    match ordering {
        Some(o) => ordering_ok(Some(o), op),
        None => op == CompareOp::Ne,
    }
}

fn ordering_ok(o: Option<std::cmp::Ordering>, op: CompareOp) -> bool {
    use std::cmp::Ordering::*;
    match (o, op) {
        (None, CompareOp::Ne) => true,
        (None, _) => false,
        (Some(o), CompareOp::Eq) => o == Equal,
        (Some(o), CompareOp::Ne) => o != Equal,
        (Some(o), CompareOp::Gt) => o == Greater,
        (Some(o), CompareOp::Ge) => o != Less,
        (Some(o), CompareOp::Lt) => o == Less,
        (Some(o), CompareOp::Le) => o != Greater,
        // co / sw / ew only apply to strings.
        (Some(_), _) => false,
    }
}

// ---------------------------------------------------------------------
// Group members.

/// Whether `attr` is the Group `members` attribute.
fn is_members(attr: &AttrPath) -> bool {
    attr.is("members") && attr.schema.as_deref().is_none_or(is_core_urn)
}

/// The member ids of a `members` value (an array or a single member), or
/// `None` if one lacks a string `value`.
fn member_ids(v: &Value) -> Option<Vec<String>> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|m| match m.as_object().and_then(|o| get(o, "value")) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The id in `value eq "<id>"`.
fn member_filter_id(f: &ScimFilter) -> Option<String> {
    match f {
        ScimFilter::Compare {
            path,
            op: CompareOp::Eq,
            value: ScimValue::String(s),
        } if path.is("value") && path.schema.is_none() => Some(s.clone()),
        _ => None,
    }
}

enum MemberStep {
    Add(Vec<String>),
    Remove(Vec<String>),
    Replace(Vec<String>),
}

fn member_step(op: &PatchOp) -> Option<MemberStep> {
    match (&op.path, op.op) {
        (None, OpKind::Remove) => None,
        (None, kind) => {
            let obj = op.value.as_ref()?.as_object()?;
            if obj.len() != 1 {
                return None;
            }
            let (k, v) = obj.iter().next()?;
            if !is_members(&parse_attr_path(k).ok()?) {
                return None;
            }
            let ids = member_ids(v)?;
            Some(if kind == OpKind::Add {
                MemberStep::Add(ids)
            } else {
                MemberStep::Replace(ids)
            })
        }
        (Some(p), kind) => {
            if !is_members(&p.attr) || p.sub_attr.is_some() {
                return None;
            }
            match (&p.filter, kind) {
                (Some(f), OpKind::Remove) => Some(MemberStep::Remove(vec![member_filter_id(f)?])),
                (Some(_), _) => None,
                (None, OpKind::Add) => Some(MemberStep::Add(member_ids(op.value.as_ref()?)?)),
                (None, OpKind::Replace) => {
                    Some(MemberStep::Replace(member_ids(op.value.as_ref()?)?))
                }
                (None, OpKind::Remove) => match &op.value {
                    Some(v) if !v.is_null() => Some(MemberStep::Remove(member_ids(v)?)),
                    _ => Some(MemberStep::Replace(Vec::new())),
                },
            }
        }
    }
}

fn push_unique(list: &mut Vec<String>, id: String) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// For a Group PATCH whose every operation adds, removes or replaces
/// `members`, the net change of member ids; `None` for any other request.
pub fn member_changes(ops: &[PatchOp]) -> Option<MemberChanges> {
    if ops.is_empty() {
        return None;
    }
    let mut out = MemberChanges::default();
    for op in ops {
        match member_step(op)? {
            MemberStep::Replace(ids) => {
                let mut all = Vec::new();
                for id in ids {
                    push_unique(&mut all, id);
                }
                out = MemberChanges {
                    add: Vec::new(),
                    remove: Vec::new(),
                    replace_all: Some(all),
                };
            }
            MemberStep::Add(ids) => {
                for id in ids {
                    match &mut out.replace_all {
                        Some(all) => push_unique(all, id),
                        None => {
                            out.remove.retain(|r| r != &id);
                            push_unique(&mut out.add, id);
                        }
                    }
                }
            }
            MemberStep::Remove(ids) => {
                for id in ids {
                    match &mut out.replace_all {
                        Some(all) => all.retain(|a| a != &id),
                        None => {
                            out.add.retain(|a| a != &id);
                            push_unique(&mut out.remove, id);
                        }
                    }
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MGR: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const OURS: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, MGR, OURS],
            "id": "u1",
            "userName": "alice",
            "name": {"givenName": "Alice", "familyName": "Smith", "formatted": "Alice Smith"},
            "active": true,
            "emails": [
                {"value": "alice@work.example", "type": "work", "primary": true},
                {"value": "alice@home.example", "type": "home"}
            ],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
            "groups": [{"value": "g1", "display": "Staff"}],
            MGR: {"manager": {"value": "m1", "displayName": "Bob"}},
            OURS: {"accountType": "Person", "status": "Active", "securityRoles": ["auditor"]},
            "meta": {"resourceType": "User", "version": "W/\"1\""}
        })
    }

    fn group() -> Value {
        json!({
            "schemas": [GROUP_SCHEMA],
            "id": "g1",
            "displayName": "Staff",
            "members": [
                {"value": "id1", "type": "User"},
                {"value": "id2", "type": "User"},
                {"value": "ID3", "type": "Group"}
            ]
        })
    }

    fn ops(list: Value) -> Vec<PatchOp> {
        parse_patch(&json!({"schemas": [PATCH_OP_SCHEMA], "Operations": list})).unwrap()
    }

    fn patched(mut doc: Value, list: Value) -> Value {
        apply(&mut doc, &ops(list)).unwrap();
        doc
    }

    fn fails(doc: Value, list: Value) -> PatchError {
        let mut after = doc.clone();
        let e = apply(&mut after, &ops(list)).unwrap_err();
        assert_eq!(after, doc, "a failed PATCH must leave the document alone");
        e
    }

    fn member_values(doc: &Value) -> Vec<&str> {
        doc["members"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn parse_accepts_entra_spelling() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "operations": [
                {"op": "Add", "path": "members", "value": [{"value": "x"}]},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Remove", "path": "members[value eq \"y\"]"},
                {"op": "replace", "path": "", "value": {"active": false}}
            ]
        });
        let ops = parse_patch(&body).unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0].op, OpKind::Add);
        assert_eq!(ops[1].op, OpKind::Replace);
        assert_eq!(ops[1].value, Some(json!("False")));
        assert_eq!(ops[2].op, OpKind::Remove);
        assert!(ops[2].path.as_ref().unwrap().filter.is_some());
        assert!(ops[2].value.is_none());
        assert!(ops[3].path.is_none());
    }

    #[test]
    fn parse_errors() {
        let st = |b: Value| parse_patch(&b).unwrap_err().scim_type;
        let s = json!([PATCH_OP_SCHEMA]);
        assert_eq!(st(json!([])), "invalidSyntax");
        assert_eq!(
            st(json!({"schemas": [USER_SCHEMA], "Operations": [{"op": "add", "value": {}}]})),
            "invalidSyntax"
        );
        assert_eq!(st(json!({"Operations": []})), "invalidSyntax");
        assert_eq!(st(json!({"schemas": s})), "invalidSyntax");
        assert_eq!(st(json!({"schemas": s, "Operations": []})), "invalidSyntax");
        assert_eq!(
            st(json!({"schemas": s, "Operations": [{"op": "move", "path": "a"}]})),
            "invalidSyntax"
        );
        assert_eq!(
            st(json!({"schemas": s, "Operations": [{"op": "add", "path": "a"}]})),
            "invalidSyntax"
        );
        assert_eq!(
            st(json!({"schemas": s, "Operations": [{"op": "remove", "path": "emails[type eq"}]})),
            "invalidPath"
        );
        assert_eq!(
            st(json!({"schemas": s, "Operations": [{"op": "remove", "path": "urn:x:y:z:attr"}]})),
            "invalidPath"
        );
        assert_eq!(
            st(json!({"schemas": s, "Operations": [{"op": "remove", "path": 3}]})),
            "invalidSyntax"
        );
    }

    #[test]
    fn okta_deactivation_and_entra_boolean_string() {
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {"active": false}}]),
        );
        assert_eq!(u["active"], json!(false));
        let u = patched(
            user(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(u["active"], json!("False"));
    }

    #[test]
    fn pathless_add_with_dotted_and_urn_keys() {
        let u = patched(
            user(),
            json!([{"op": "add", "value": {
                "name.givenName": "Alicia",
                "nickName": "Ali",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "m2", "$ref": null},
                OURS: {"accountType": "Service"},
                "emails": [{"value": "alice@new.example", "type": "other"}]
            }}]),
        );
        assert_eq!(u["name"]["givenName"], "Alicia");
        assert_eq!(u["name"]["familyName"], "Smith");
        assert_eq!(u["nickName"], "Ali");
        assert_eq!(u[MGR]["manager"]["value"], "m2");
        // Complex values merge: the display name stays.
        assert_eq!(u[MGR]["manager"]["displayName"], "Bob");
        assert_eq!(u[OURS]["accountType"], "Service");
        assert_eq!(u[OURS]["status"], "Active");
        assert_eq!(u["emails"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn add_appends_without_duplicates() {
        let u = patched(
            user(),
            json!([{"op": "add", "path": "emails", "value": [
                {"value": "ALICE@work.example", "type": "work"},
                {"value": "a@other.example", "type": "other", "primary": true}
            ]}]),
        );
        let emails = u["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 3);
        // The new primary demotes the old one.
        assert_eq!(emails[0]["primary"], json!(false));
        assert_eq!(emails[2]["primary"], json!(true));
        let u = patched(
            user(),
            json!([{"op": "add", "path": "name", "value": {"middleName": "J"}}]),
        );
        assert_eq!(u["name"]["middleName"], "J");
        assert_eq!(u["name"]["givenName"], "Alice");
        let u = patched(
            user(),
            json!([{"op": "add", "path": "NAME.GIVENNAME", "value": "Al"}]),
        );
        assert_eq!(u["name"]["givenName"], "Al");
        assert!(u["name"].get("GIVENNAME").is_none());
    }

    #[test]
    fn pathless_replace_replaces_lists() {
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {
                "emails": [{"value": "only@x.example", "type": "work"}],
                "name": {"givenName": "Al"},
                "userName": "al"
            }}]),
        );
        assert_eq!(
            u["emails"],
            json!([{"value": "only@x.example", "type": "work"}])
        );
        assert_eq!(u["name"]["givenName"], "Al");
        assert_eq!(u["name"]["familyName"], "Smith");
        assert_eq!(u["userName"], "al");
    }

    #[test]
    fn replace_with_path_and_null() {
        let u = patched(
            user(),
            json!([
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m9"},
                {"op": "replace", "path": "phoneNumbers", "value": [{"value": "1", "type": "work"}]},
                {"op": "replace", "path": "name.familyName", "value": null}
            ]),
        );
        assert_eq!(u[MGR]["manager"], "m9");
        assert_eq!(u["phoneNumbers"], json!([{"value": "1", "type": "work"}]));
        assert!(u["name"].get("familyName").is_none());
        // An unqualified extension attribute goes where it lives.
        let u = patched(
            user(),
            json!([{"op": "replace", "path": "status", "value": "Suspended"},
                   {"op": "add", "path": "department", "value": "R&D"}]),
        );
        assert_eq!(u[OURS]["status"], "Suspended");
        assert_eq!(u[MGR]["department"], "R&D");
        assert!(u.get("status").is_none());
    }

    #[test]
    fn value_filter_sub_attribute_replace() {
        let u = patched(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.example"}]),
        );
        assert_eq!(u["emails"][0]["value"], "new@work.example");
        assert_eq!(u["emails"][0]["type"], "work");
        assert_eq!(u["emails"][1]["value"], "alice@home.example");

        let u = patched(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"home\" or type eq \"WORK\"].type", "value": "other"}]),
        );
        assert_eq!(u["emails"][0]["type"], "other");
        assert_eq!(u["emails"][1]["type"], "other");

        let u = patched(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\" and primary eq true]", "value": {"value": "w@x", "type": "work"}}]),
        );
        assert_eq!(u["emails"][0], json!({"value": "w@x", "type": "work"}));

        let e = fails(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
        );
        assert_eq!(e.scim_type, "noTarget");
        let e = fails(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\" and primary eq false]", "value": {"value": "x"}}]),
        );
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn entra_add_creates_filtered_value() {
        let u = patched(
            user(),
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0199"}]),
        );
        let phones = u["phoneNumbers"].as_array().unwrap();
        assert_eq!(phones.len(), 2);
        assert_eq!(phones[1], json!({"type": "work", "value": "+1 555 0199"}));
        // A matching value is updated, not duplicated.
        let u = patched(
            user(),
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1"}]),
        );
        assert_eq!(
            u["phoneNumbers"],
            json!([{"value": "+1", "type": "mobile"}])
        );
    }

    #[test]
    fn remove_forms() {
        let u = patched(
            user(),
            json!([
                {"op": "remove", "path": "emails[type eq \"home\"]"},
                {"op": "remove", "path": "name.formatted"},
                {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
                {"op": "remove", "path": "phoneNumbers"},
                {"op": "remove", "path": "nickName"}
            ]),
        );
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
        assert!(u["name"].get("formatted").is_none());
        assert!(u[MGR].get("manager").is_none());
        assert!(u.get("phoneNumbers").is_none());
        let u = patched(
            user(),
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
        );
        assert!(u["emails"][0].get("primary").is_none());
        let e = fails(user(), json!([{"op": "remove"}]));
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn group_member_forms() {
        let g = patched(
            group(),
            json!([{"op": "Add", "path": "members", "value": [{"value": "id4", "$ref": null}, {"value": "id1"}]}]),
        );
        assert_eq!(member_values(&g), ["id1", "id2", "ID3", "id4"]);
        let g = patched(
            group(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "id1"}, {"value": "id3"}]}]),
        );
        // Ids compare exactly: "id3" is not "ID3".
        assert_eq!(member_values(&g), ["id2", "ID3"]);
        let g = patched(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"id2\"]"}]),
        );
        assert_eq!(member_values(&g), ["id1", "ID3"]);
        let g = patched(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"id3\"]"}]),
        );
        assert_eq!(member_values(&g).len(), 3);
        let g = patched(
            group(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "z"}]}]),
        );
        assert_eq!(member_values(&g), ["z"]);
        let g = patched(group(), json!([{"op": "remove", "path": "members"}]));
        assert!(g.get("members").is_none());
        let g = patched(
            group(),
            json!([{"op": "replace", "value": {"displayName": "Crew"}}]),
        );
        assert_eq!(g["displayName"], "Crew");
        assert_eq!(member_values(&g).len(), 3);
    }

    #[test]
    fn read_only_attributes() {
        for list in [
            json!([{"op": "replace", "path": "id", "value": "other"}]),
            json!([{"op": "remove", "path": "meta"}]),
            json!([{"op": "add", "path": "groups", "value": [{"value": "g2"}]}]),
            json!([{"op": "remove", "path": "groups[value eq \"g1\"]"}]),
            json!([{"op": "replace", "value": {"schemas": [USER_SCHEMA]}}]),
            json!([{"op": "replace", "path": "meta.version", "value": "x"}]),
        ] {
            assert_eq!(fails(user(), list).scim_type, "mutability");
        }
        // Echoing the id unchanged (Okta) is harmless.
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {"id": "u1", "active": false}}]),
        );
        assert_eq!(u["active"], json!(false));
    }

    #[test]
    fn the_admin_level_is_read_only() {
        let level = format!("{OURS}:adminLevel");
        for list in [
            json!([{"op": "replace", "path": level, "value": "Account Admin"}]),
            json!([{"op": "add", "path": level, "value": "Super Admin"}]),
            json!([{"op": "replace", "value": {OURS: {"adminLevel": "Account Admin"}}}]),
        ] {
            assert_eq!(fails(user(), list).scim_type, "mutability");
        }
        let mut admin = user();
        admin[OURS]["adminLevel"] = json!("Account Admin");
        assert_eq!(
            fails(admin.clone(), json!([{"op": "remove", "path": level}])).scim_type,
            "mutability"
        );
        // Echoing it unchanged changes nothing.
        let same = patched(
            admin.clone(),
            json!([{"op": "replace", "path": level, "value": "Account Admin"}]),
        );
        assert_eq!(same, admin);
    }

    #[test]
    fn a_bare_extension_urn_path_targets_the_whole_extension() {
        let u = patched(
            user(),
            json!([{"op": "add", "path": MGR, "value": {"manager": {"value": "m2"}}}]),
        );
        assert_eq!(u[MGR]["manager"]["value"], "m2");
        let u = patched(
            user(),
            json!([{"op": "replace", "path": OURS.to_uppercase(), "value": {"accountType": "Administrator"}}]),
        );
        assert_eq!(u[OURS]["accountType"], "Administrator");
        // Attributes the value does not name are left alone (RFC 7644
        // section 3.5.2.3 for a complex target).
        assert_eq!(u[OURS]["securityRoles"], json!(["auditor"]));
        let u = patched(user(), json!([{"op": "remove", "path": MGR}]));
        assert!(u.get(MGR).is_none(), "{u}");
        let e = fails(user(), json!([{"op": "add", "path": MGR, "value": "m2"}]));
        assert_eq!(e.scim_type, "invalidValue");
        // The core schema is the resource itself, not a path.
        let body = json!({"schemas": [PATCH_OP_SCHEMA],
            "Operations": [{"op": "add", "path": USER_SCHEMA, "value": {}}]});
        assert_eq!(parse_patch(&body).unwrap_err().scim_type, "invalidPath");
    }

    #[test]
    fn active_and_status_stay_in_step() {
        let u = patched(
            user(),
            json!([{"op": "replace", "path": format!("{OURS}:status"), "value": "Inactive"}]),
        );
        assert_eq!(u["active"], json!(false));
        let u = patched(
            u,
            json!([{"op": "replace", "path": "status", "value": "active"}]),
        );
        assert_eq!(u["active"], json!(true));
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {"active": "False"}}]),
        );
        assert_eq!(u[OURS]["status"], "Inactive");
        // Both named: the request says what it says.
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {"active": false, OURS: {"status": "Inactive"}}}]),
        );
        assert_eq!(
            (&u["active"], &u[OURS]["status"]),
            (&json!(false), &json!("Inactive"))
        );
    }

    #[test]
    fn a_display_name_is_its_own_attribute_and_never_rewrites_the_names() {
        let names = user()["name"].clone();
        let u = patched(
            user(),
            json!([{"op": "replace", "path": "displayName", "value": "Mary Ann Jones"}]),
        );
        assert_eq!(u["name"], names);
        assert_eq!(u["displayName"], "Mary Ann Jones");
        let u = patched(user(), json!([{"op": "remove", "path": "displayName"}]));
        assert_eq!(u["name"], names, "removing it leaves the names");
        assert!(u.get("displayName").is_none());
    }

    #[test]
    fn removed_roles_become_an_empty_list() {
        let u = patched(
            user(),
            json!([{"op": "remove", "path": format!("{OURS}:securityRoles")}]),
        );
        assert_eq!(u[OURS]["securityRoles"], json!([]));
        let u = patched(
            user(),
            json!([{"op": "remove", "path": "securityRoles[value eq \"auditor\"]"}]),
        );
        assert_eq!(u[OURS]["securityRoles"], json!([]));
    }

    #[test]
    fn kind_is_immutable() {
        const NODE: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group";
        let mut g = group();
        g[NODE] = json!({"kind": "Group"});
        for list in [
            json!([{"op": "replace", "path": format!("{NODE}:kind"), "value": "Business Entity"}]),
            json!([{"op": "remove", "path": "kind"}]),
            json!([{"op": "remove", "path": NODE}]),
        ] {
            assert_eq!(fails(g.clone(), list).scim_type, "mutability");
        }
        // The same kind, in any case, is no change.
        let after = patched(
            g.clone(),
            json!([{"op": "add", "path": "kind", "value": "group"}]),
        );
        assert_eq!(after[NODE]["kind"], "group");
    }

    #[test]
    fn atomic() {
        let e = fails(
            user(),
            json!([
                {"op": "replace", "path": "userName", "value": "changed"},
                {"op": "replace", "path": "emails[type eq \"pager\"]", "value": {"value": "x"}}
            ]),
        );
        assert_eq!(e.scim_type, "noTarget");
        let e = fails(
            user(),
            json!([
                {"op": "add", "path": "nickName", "value": "x"},
                {"op": "add", "value": "not an object"}
            ]),
        );
        assert_eq!(e.scim_type, "invalidValue");
        let e = fails(
            user(),
            json!([{"op": "add", "path": "emails.value", "value": "x"}]),
        );
        assert_eq!(e.scim_type, "invalidPath");
    }

    fn f(s: &str) -> ScimFilter {
        super::super::filter::parse_filter(s).unwrap()
    }

    #[test]
    fn filter_matching() {
        let e = json!({"value": "A@X.example", "type": "work", "primary": "True", "n": 5, "sub": {"k": "v"}});
        assert!(matches(&e, &f("value eq \"a@x.example\"")));
        assert!(matches(&e, &f("value co \"@x\"")));
        assert!(matches(&e, &f("value sw \"a@\" and value ew \".EXAMPLE\"")));
        assert!(matches(&e, &f("type eq \"home\" or primary eq true")));
        assert!(matches(&e, &f("not (type eq \"home\")")));
        assert!(!matches(&e, &f("type ne \"work\"")));
        assert!(matches(&e, &f("n gt 4 and n le 5 and n lt 6 and n ge 5")));
        assert!(!matches(&e, &f("n gt 5")));
        assert!(matches(&e, &f("primary pr and sub.k eq \"V\"")));
        assert!(!matches(&e, &f("display pr")));
        assert!(matches(&e, &f("display ne \"x\"")));
        assert!(matches(&e, &f("value gt \"a\"")));
        assert!(matches(&json!("Auditor"), &f("value eq \"auditor\"")));
        assert!(matches(&json!({"active": false}), &f("active eq false")));
        assert!(matches(&json!({"active": true}), &f("active eq \"TRUE\"")));
        assert!(matches(&json!({"n": 7}), &f("n eq \"7\"")));
    }

    #[test]
    fn member_changes_forms() {
        let mc = |list: Value| member_changes(&ops(list));
        assert_eq!(
            mc(
                json!([{"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])
            ),
            Some(MemberChanges {
                add: vec!["a".into(), "b".into()],
                ..Default::default()
            })
        );
        assert_eq!(
            mc(json!([{"op": "add", "value": {"members": [{"value": "a"}]}}])),
            Some(MemberChanges {
                add: vec!["a".into()],
                ..Default::default()
            })
        );
        assert_eq!(
            mc(
                json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])
            ),
            Some(MemberChanges {
                remove: vec!["a".into(), "b".into()],
                ..Default::default()
            })
        );
        assert_eq!(
            mc(json!([
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "add", "path": "members", "value": [{"value": "c"}]},
                {"op": "add", "path": "members", "value": {"value": "a"}}
            ])),
            Some(MemberChanges {
                add: vec!["c".into(), "a".into()],
                ..Default::default()
            })
        );
        assert_eq!(
            mc(json!([
                {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "add", "path": "members", "value": [{"value": "c"}]}
            ])),
            Some(MemberChanges {
                replace_all: Some(vec!["b".into(), "c".into()]),
                ..Default::default()
            })
        );
        assert_eq!(
            mc(json!([{"op": "replace", "value": {"members": []}}])),
            Some(MemberChanges {
                replace_all: Some(vec![]),
                ..Default::default()
            })
        );
        assert_eq!(
            mc(json!([{"op": "remove", "path": "members"}])),
            Some(MemberChanges {
                replace_all: Some(vec![]),
                ..Default::default()
            })
        );
        // Mixed or unusual requests go the general way.
        assert_eq!(
            mc(json!([
                {"op": "add", "path": "members", "value": [{"value": "a"}]},
                {"op": "replace", "path": "displayName", "value": "x"}
            ])),
            None
        );
        assert_eq!(
            mc(json!([{"op": "replace", "value": {"members": [], "displayName": "x"}}])),
            None
        );
        assert_eq!(
            mc(json!([{"op": "remove", "path": "members[type eq \"User\"]"}])),
            None
        );
        assert_eq!(
            mc(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}])),
            None
        );
        assert_eq!(
            mc(json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}])),
            None
        );
    }
}
