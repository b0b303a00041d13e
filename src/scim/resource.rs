//! SCIM 2.0 resources (RFC 7643): how an [`Account`] becomes a User and a
//! [`Node`] becomes a Group, how `attributes` / `excludedAttributes`
//! (RFC 7644 section 3.9) prune them, and how POST / PUT bodies become
//! [`UserInput`] / [`GroupInput`].
//!
//! Pure functions, no I/O. Rendering never shows a password or a
//! second-factor secret (an [`Account`] does not carry them). Parsing
//! checks only JSON shapes and types; the values themselves (user-name
//! rules, time zones, who may set what) are the directory core's business.
//!
//! Ids on the wire are the uuids of rows; [`Related`] carries them beside
//! the names of the rows a page refers to. Anything [`Related`] mentions
//! whose uuid it lacks is treated as not visible and left out.

use std::fmt;

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::model::query::Related;
use crate::model::{
    Account, AccountType, AdminLevel, Attribute, AuthMethod, Node, NodeKind, Status,
};

use super::attributes::{self, Place, USER_ATTRIBUTES};
// The schema URNs are defined once, with the attribute paths that use them.
use super::path::CORE_ATTRIBUTES;
pub use super::path::{
    DIRGATE_GROUP_SCHEMA, DIRGATE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA,
};

/// Every schema URN this module knows, for qualified attribute names.
const KNOWN_SCHEMAS: &[&str] = &[
    USER_SCHEMA,
    GROUP_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    DIRGATE_USER_SCHEMA,
    DIRGATE_GROUP_SCHEMA,
];

/// Formats a timestamp as RFC 3339 in UTC (`2026-01-02T03:04:05Z`, with a
/// fraction only when there is one).
pub fn rfc3339(ts: Timestamp) -> String {
    ts.to_string()
}

/// The weak ETag of a row version: `W/"N"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

fn meta(
    resource_type: &str,
    collection: &str,
    id: Uuid,
    created: Timestamp,
    modified: Timestamp,
    version: i64,
    base_url: &str,
) -> Value {
    json!({
        "resourceType": resource_type,
        "created": rfc3339(created),
        "lastModified": rfc3339(modified),
        "location": format!("{}/{collection}/{id}", trim_base(base_url)),
        "version": etag(version),
    })
}

/// Renders an account as an RFC 7643 User with the enterprise and dirgate
/// extensions, pruned by `sel`. `rel` gives the names of its manager,
/// groups and restricted scope; `names` their uuids.
pub fn user_json(a: &Account, rel: &Related, base_url: &str, sel: &Projection) -> Value {
    let base = trim_base(base_url);
    let mut user = Map::new();
    user.insert(
        "schemas".into(),
        json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, DIRGATE_USER_SCHEMA]),
    );
    user.insert("id".into(), json!(a.uuid.to_string()));
    if let Some(external) = a.external_id.as_deref().filter(|s| !s.is_empty()) {
        user.insert("externalId".into(), json!(external));
    }
    user.insert("userName".into(), json!(a.login()));

    let mut name = Map::new();
    if !a.given_name.is_empty() {
        name.insert("givenName".into(), json!(a.given_name));
    }
    if !a.family_name.is_empty() {
        name.insert("familyName".into(), json!(a.family_name));
    }
    // The formatted name is the one an identity provider sent, else the
    // names joined. displayName is only what was sent: it is an attribute
    // of its own, never made of (or made into) the names.
    if !name.is_empty() {
        name.insert("formatted".into(), json!(a.full_name()));
        user.insert("name".into(), Value::Object(name));
    }
    if let Some(email) = a.email.as_deref().filter(|s| !s.is_empty()) {
        user.insert("emails".into(), json!([{"value": email, "type": "work"}]));
    }
    if let Some(mobile) = a.mobile.as_deref().filter(|s| !s.is_empty()) {
        user.insert(
            "phoneNumbers".into(),
            json!([{"value": mobile, "type": "mobile"}]),
        );
    }
    attributes::render(&a.attributes, &mut user);
    if !a.time_zone.is_empty() {
        user.insert("timezone".into(), json!(a.time_zone));
    }
    user.insert("active".into(), json!(a.status == Status::Active));

    let groups: Vec<Value> = rel
        .groups_of
        .get(&a.id)
        .into_iter()
        .flatten()
        .filter_map(|node| {
            let uuid = rel.node_uuids.get(node)?;
            let mut g = Map::new();
            g.insert("value".into(), json!(uuid.to_string()));
            if let Some(display) = rel.node_names.get(node) {
                g.insert("display".into(), json!(display));
            }
            g.insert("$ref".into(), json!(format!("{base}/Groups/{uuid}")));
            g.insert("type".into(), json!("direct"));
            Some(Value::Object(g))
        })
        .collect();
    if !groups.is_empty() {
        user.insert("groups".into(), Value::Array(groups));
    }

    if let Some(manager) = a
        .manager
        .and_then(|m| Some((m, rel.account_uuids.get(&m)?)))
    {
        let (id, uuid) = manager;
        let mut m = Map::new();
        m.insert("value".into(), json!(uuid.to_string()));
        m.insert("$ref".into(), json!(format!("{base}/Users/{uuid}")));
        if let Some(display) = rel.account_names.get(&id) {
            m.insert("displayName".into(), json!(display));
        }
        let enterprise = user
            .entry(ENTERPRISE_USER_SCHEMA)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(e) = enterprise.as_object_mut() {
            e.insert("manager".into(), Value::Object(m));
        }
    }

    let mut ours = Map::new();
    // The user name of the manuals: the LDAP uid, what people type; the
    // same as userName unless that is a login name it was derived from.
    ours.insert("userName".into(), json!(a.user_name));
    ours.insert("accountType".into(), json!(a.account_type.display_name()));
    ours.insert(
        "authenticationMethod".into(),
        json!(a.auth_method.display_name()),
    );
    if let Some((node, uuid)) = a
        .restricted_to
        .and_then(|n| Some((n, rel.node_uuids.get(&n)?)))
    {
        let mut r = Map::new();
        r.insert("value".into(), json!(uuid.to_string()));
        r.insert("$ref".into(), json!(format!("{base}/Groups/{uuid}")));
        if let Some(display) = rel.node_names.get(&node) {
            r.insert("display".into(), json!(display));
        }
        ours.insert("restrictedTo".into(), Value::Object(r));
    }
    if !a.roles.is_empty() {
        ours.insert("securityRoles".into(), json!(a.roles));
    }
    ours.insert("status".into(), json!(a.status.display_name()));
    if a.admin_level != AdminLevel::None {
        ours.insert("adminLevel".into(), json!(a.admin_level.display_name()));
    }
    // Beside the directory attributes `attributes::render` put there.
    if let Some(Value::Object(rendered)) = user.remove(DIRGATE_USER_SCHEMA) {
        ours.extend(rendered);
    }
    user.insert(DIRGATE_USER_SCHEMA.into(), Value::Object(ours));

    user.insert(
        "meta".into(),
        meta(
            "User", "Users", a.uuid, a.created, a.modified, a.version, base_url,
        ),
    );
    let mut out = Value::Object(user);
    sel.apply(&mut out);
    out
}

/// Renders a business entity or group as an RFC 7643 Group with the
/// dirgate extension, pruned by `sel`. Members are the node's visible
/// member accounts (`type` "User") and child nodes (`type` "Group").
pub fn group_json(n: &Node, rel: &Related, base_url: &str, sel: &Projection) -> Value {
    let base = trim_base(base_url);
    let mut group = Map::new();
    group.insert(
        "schemas".into(),
        json!([GROUP_SCHEMA, DIRGATE_GROUP_SCHEMA]),
    );
    group.insert("id".into(), json!(n.uuid.to_string()));
    if let Some(external) = n.external_id.as_deref().filter(|s| !s.is_empty()) {
        group.insert("externalId".into(), json!(external));
    }
    group.insert("displayName".into(), json!(n.name));

    let member = |uuid: &Uuid, display: Option<&String>, kind: &str, collection: &str| {
        let mut m = Map::new();
        m.insert("value".into(), json!(uuid.to_string()));
        if let Some(display) = display {
            m.insert("display".into(), json!(display));
        }
        m.insert("type".into(), json!(kind));
        m.insert("$ref".into(), json!(format!("{base}/{collection}/{uuid}")));
        Value::Object(m)
    };
    let mut members: Vec<Value> = rel
        .members_of
        .get(&n.id)
        .into_iter()
        .flatten()
        .filter_map(|acc| {
            let uuid = rel.account_uuids.get(acc)?;
            Some(member(uuid, rel.account_names.get(acc), "User", "Users"))
        })
        .collect();
    members.extend(
        rel.children_of
            .get(&n.id)
            .into_iter()
            .flatten()
            .filter_map(|child| {
                let uuid = rel.node_uuids.get(child)?;
                Some(member(uuid, rel.node_names.get(child), "Group", "Groups"))
            }),
    );
    if !members.is_empty() {
        group.insert("members".into(), Value::Array(members));
    }

    let mut ours = Map::new();
    ours.insert("kind".into(), json!(n.kind.display_name()));
    if let Some((node, uuid)) = n.parent.and_then(|p| Some((p, rel.node_uuids.get(&p)?))) {
        let mut p = Map::new();
        p.insert("value".into(), json!(uuid.to_string()));
        p.insert("$ref".into(), json!(format!("{base}/Groups/{uuid}")));
        if let Some(display) = rel.node_names.get(&node) {
            p.insert("display".into(), json!(display));
        }
        ours.insert("parent".into(), Value::Object(p));
    }
    group.insert(DIRGATE_GROUP_SCHEMA.into(), Value::Object(ours));
    group.insert(
        "meta".into(),
        meta(
            "Group", "Groups", n.uuid, n.created, n.modified, n.version, base_url,
        ),
    );
    let mut out = Value::Object(group);
    sel.apply(&mut out);
    out
}

// ---------------------------------------------------------------------------
// Projection: `attributes` and `excludedAttributes`.

/// One attribute name of a projection, lower case, split into segments.
/// A name qualified by an extension URN starts with that URN; core URNs
/// are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AttrPath {
    segs: Vec<String>,
    /// Unqualified and not a core attribute: may name an extension's.
    loose: bool,
}

impl AttrPath {
    fn parse(name: &str) -> Option<AttrPath> {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return None;
        }
        if name.starts_with("urn:") {
            let known = KNOWN_SCHEMAS
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .find(|s| name == *s || name.starts_with(&format!("{s}:")));
            let (urn, rest) = match known {
                Some(urn) => {
                    let rest = name.get(urn.len() + 1..).unwrap_or("").to_owned();
                    (urn, rest)
                }
                None => match name.rsplit_once(':') {
                    Some((urn, rest)) => (urn.to_owned(), rest.to_owned()),
                    None => (name.clone(), String::new()),
                },
            };
            let core =
                urn == USER_SCHEMA.to_ascii_lowercase() || urn == GROUP_SCHEMA.to_ascii_lowercase();
            let mut segs = if core { Vec::new() } else { vec![urn] };
            segs.extend(rest.split('.').filter(|s| !s.is_empty()).map(str::to_owned));
            if segs.is_empty() {
                return None;
            }
            return Some(AttrPath { segs, loose: false });
        }
        let segs: Vec<String> = name
            .split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let loose = segs
            .first()
            .is_some_and(|s| !CORE_ATTRIBUTES.contains(&s.as_str()));
        (!segs.is_empty()).then_some(AttrPath { segs, loose })
    }

    /// The part of a node path this name is compared with.
    fn view<'a>(&self, p: &'a [String]) -> &'a [String] {
        match p.first() {
            Some(first) if self.loose && first.starts_with("urn:") => &p[1..],
            _ => p,
        }
    }

    /// This name is `p` or an ancestor of `p`.
    fn covers(&self, p: &[String]) -> bool {
        let p = self.view(p);
        p.len() >= self.segs.len() && p[..self.segs.len()] == self.segs[..]
    }

    /// `p` is a strict ancestor of this name.
    fn below(&self, p: &[String]) -> bool {
        let p = self.view(p);
        p.len() < self.segs.len() && self.segs[..p.len()] == *p
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    All,
    Only(Vec<AttrPath>),
    Except(Vec<AttrPath>),
}

/// What to keep of a resource: RFC 7644 section 3.9's `attributes` and
/// `excludedAttributes`, with RFC 7643's `returned` rules. `id`, `schemas`
/// and `meta.resourceType` are always present; every other attribute the
/// gateway renders is "returned: default" (present unless excluded, or
/// unless `attributes` is given and names neither it, an ancestor nor a
/// descendant); `password` is never present. Names are case-insensitive,
/// may be dotted (`name.givenName`) and URN-qualified
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
/// or a whole extension's URN). An unqualified name that is not a core
/// attribute also matches extension attributes of that name. When both
/// parameters are given, `attributes` wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    mode: Mode,
}

enum Decision {
    Keep,
    Descend,
    Drop,
}

fn parse_list(list: Option<&str>) -> Vec<AttrPath> {
    list.into_iter()
        .flat_map(|l| l.split(','))
        .filter_map(AttrPath::parse)
        .collect()
}

fn is_always(p: &[String]) -> bool {
    matches!(p, [a] if a == "id" || a == "schemas")
        || matches!(p, [m, r] if m == "meta" && r == "resourcetype")
}

fn leads_to_always(p: &[String]) -> bool {
    matches!(p, [m] if m == "meta")
}

/// What the server sets and shows only when `attributes` names it
/// (`returned: "request"` in the schemas, RFC 7643 section 7): the display
/// names of what a reference points to, and the user name derived from a
/// login.
fn is_on_request(p: &[String]) -> bool {
    let ext = |urn: &str, attr: &str, sub: &str| matches!(p, [u, a, s] if u.eq_ignore_ascii_case(urn) && a == attr && s == sub);
    matches!(p, [m, d] if m == "members" && d == "display")
        || ext(ENTERPRISE_USER_SCHEMA, "manager", "displayname")
        || ext(DIRGATE_USER_SCHEMA, "restrictedto", "display")
        || ext(DIRGATE_GROUP_SCHEMA, "parent", "display")
        || matches!(p, [u, a] if u.eq_ignore_ascii_case(DIRGATE_USER_SCHEMA) && a == "username")
}

/// Whether an on-request path lies below `p`: kept whole, `p` would keep it.
fn leads_to_on_request(p: &[String]) -> bool {
    let urn = |u: &str| p.first().is_some_and(|f| f.eq_ignore_ascii_case(u));
    match p.len() {
        1 => {
            p[0] == "members"
                || urn(ENTERPRISE_USER_SCHEMA)
                || urn(DIRGATE_USER_SCHEMA)
                || urn(DIRGATE_GROUP_SCHEMA)
        }
        2 => {
            (urn(ENTERPRISE_USER_SCHEMA) && p[1] == "manager")
                || (urn(DIRGATE_USER_SCHEMA) && p[1] == "restrictedto")
                || (urn(DIRGATE_GROUP_SCHEMA) && p[1] == "parent")
        }
        _ => false,
    }
}

impl Projection {
    /// The whole resource (no `attributes`, no `excludedAttributes`).
    pub fn all() -> Projection {
        Projection::default()
    }

    /// From the query parameters (or body fields of a POST `.search`),
    /// each a comma-separated list of attribute names.
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let only = parse_list(attributes);
        if !only.is_empty() {
            return Projection {
                mode: Mode::Only(only),
            };
        }
        let except = parse_list(excluded);
        if !except.is_empty() {
            return Projection {
                mode: Mode::Except(except),
            };
        }
        Projection::all()
    }

    fn decide(&self, p: &[String]) -> Decision {
        if matches!(p, [a] if a == "password") {
            return Decision::Drop;
        }
        if is_on_request(p) {
            let named = match &self.mode {
                Mode::Only(names) => names.iter().any(|r| r.view(p) == r.segs.as_slice()),
                _ => false,
            };
            return if named {
                Decision::Keep
            } else {
                Decision::Drop
            };
        }
        let decision = self.decide_default(p);
        if matches!(decision, Decision::Keep) && leads_to_on_request(p) {
            return Decision::Descend;
        }
        decision
    }

    /// The decision for a `returned: "default"` attribute.
    fn decide_default(&self, p: &[String]) -> Decision {
        match &self.mode {
            Mode::All => Decision::Keep,
            Mode::Only(names) => {
                if is_always(p) || names.iter().any(|r| r.covers(p)) {
                    Decision::Keep
                } else if leads_to_always(p) || names.iter().any(|r| r.below(p)) {
                    Decision::Descend
                } else {
                    Decision::Drop
                }
            }
            Mode::Except(names) => {
                if is_always(p) {
                    Decision::Keep
                } else if names.iter().any(|r| r.covers(p)) {
                    if leads_to_always(p) {
                        Decision::Descend
                    } else {
                        Decision::Drop
                    }
                } else if names.iter().any(|r| r.below(p)) {
                    Decision::Descend
                } else {
                    Decision::Keep
                }
            }
        }
    }

    /// Prunes a rendered resource in place.
    pub fn apply(&self, resource: &mut Value) {
        if let Value::Object(obj) = resource {
            self.prune_object(obj, &mut Vec::new());
        }
    }

    fn prune_object(&self, obj: &mut Map<String, Value>, path: &mut Vec<String>) {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for key in keys {
            path.push(key.to_ascii_lowercase());
            let keep = match self.decide(path) {
                Decision::Keep => true,
                Decision::Drop => false,
                Decision::Descend => obj.get_mut(&key).is_some_and(|v| self.prune_value(v, path)),
            };
            if !keep {
                obj.remove(&key);
            }
            path.pop();
        }
    }

    /// Prunes below `path`; whether anything is left.
    fn prune_value(&self, v: &mut Value, path: &mut Vec<String>) -> bool {
        match v {
            Value::Object(obj) => {
                self.prune_object(obj, path);
                !obj.is_empty()
            }
            Value::Array(items) => {
                items.retain_mut(|item| match item {
                    Value::Object(obj) => {
                        self.prune_object(obj, path);
                        !obj.is_empty()
                    }
                    _ => false,
                });
                !items.is_empty()
            }
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing request bodies.

/// The SCIM `scimType` of a bad request (RFC 7644 section 3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// A value of the wrong type or shape for its attribute.
    InvalidValue,
    /// The body is not a SCIM resource at all.
    InvalidSyntax,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidSyntax => "invalidSyntax",
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request body the face cannot use: answer 400 with `scim_type` and
/// `detail`, which names the attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ResourceError {
    pub scim_type: ScimType,
    pub detail: String,
}

impl ResourceError {
    fn value(detail: impl Into<String>) -> Self {
        ResourceError {
            scim_type: ScimType::InvalidValue,
            detail: detail.into(),
        }
    }
    fn syntax(detail: impl Into<String>) -> Self {
        ResourceError {
            scim_type: ScimType::InvalidSyntax,
            detail: detail.into(),
        }
    }
}

/// The settable fields of a User body (POST or PUT). `None` means the
/// attribute was absent or null; whether that leaves a field alone or
/// clears it is the face's decision (PUT replaces). Values are unchecked:
/// the core validates them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserInput {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Every directory attribute of [`USER_ATTRIBUTES`], `None` where the
    /// body has none.
    pub attributes: Vec<(Attribute, Option<String>)>,
    /// The primary `emails[].value`, else the first of type work, else the
    /// first.
    pub email: Option<String>,
    /// `phoneNumbers[type eq "mobile"].value`, else the first.
    pub mobile: Option<String>,
    pub time_zone: Option<String>,
    /// `active`, else the dirgate extension's `status`.
    pub active: Option<bool>,
    /// Never shown by `Debug`.
    pub password: Option<String>,
    /// The enterprise `manager`: a User id.
    pub manager: Option<Uuid>,
    pub account_type: Option<AccountType>,
    pub auth_method: Option<AuthMethod>,
    /// The dirgate `restrictedTo`: a Group id.
    pub restricted_to: Option<Uuid>,
    pub roles: Option<Vec<String>>,
}

impl UserInput {
    /// The `name.formatted` the body holds.
    pub fn name_formatted(&self) -> Option<String> {
        self.attributes
            .iter()
            .find(|(a, _)| *a == Attribute::NameFormatted)
            .and_then(|(_, v)| v.clone())
    }
}

impl fmt::Debug for UserInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserInput")
            .field("user_name", &self.user_name)
            .field("external_id", &self.external_id)
            .field("given_name", &self.given_name)
            .field("family_name", &self.family_name)
            .field("attributes", &self.attributes)
            .field("email", &self.email)
            .field("mobile", &self.mobile)
            .field("time_zone", &self.time_zone)
            .field("active", &self.active)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("manager", &self.manager)
            .field("account_type", &self.account_type)
            .field("auth_method", &self.auth_method)
            .field("restricted_to", &self.restricted_to)
            .field("roles", &self.roles)
            .finish()
    }
}

/// Whether a member reference names a User or a Group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberType {
    User,
    Group,
}

/// One `members[]` entry of a Group body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    pub value: Uuid,
    /// `None` when the client did not say: the face looks both up.
    pub kind: Option<MemberType>,
}

/// The settable fields of a Group body (POST or PUT); `None` as for
/// [`UserInput`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInput {
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub members: Option<Vec<MemberInput>>,
    pub kind: Option<NodeKind>,
    /// The dirgate `parent`: a Group id.
    pub parent: Option<Uuid>,
}

type Obj = Map<String, Value>;

/// The attribute `name` of `obj`, ignoring case; null counts as absent.
fn field<'a>(obj: &'a Obj, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn as_object<'a>(v: &'a Value, attr: &str) -> Result<&'a Obj, ResourceError> {
    v.as_object()
        .ok_or_else(|| ResourceError::value(format!("{attr} must be a complex value (an object)")))
}

/// A string, or a number given for one.
fn as_string(v: &Value, attr: &str) -> Result<String, ResourceError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ResourceError::value(format!("{attr} must be a string"))),
    }
}

fn string_field(obj: &Obj, name: &str, attr: &str) -> Result<Option<String>, ResourceError> {
    field(obj, name).map(|v| as_string(v, attr)).transpose()
}

/// A boolean, or Entra's `"True"` / `"False"` strings.
fn as_bool(v: &Value, attr: &str) -> Result<bool, ResourceError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ResourceError::value(format!("{attr} must be a boolean"))),
    }
}

/// A multi-valued attribute's values (a single value counts as one).
fn as_list<'a>(v: &'a Value, attr: &str) -> Result<Vec<&'a Value>, ResourceError> {
    match v {
        Value::Array(items) => Ok(items.iter().filter(|i| !i.is_null()).collect()),
        Value::Object(_) | Value::String(_) => Ok(vec![v]),
        _ => Err(ResourceError::value(format!(
            "{attr} must be multi-valued (an array)"
        ))),
    }
}

fn parse_uuid(s: &str, attr: &str) -> Result<Option<Uuid>, ResourceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(s)
        .map(Some)
        .map_err(|_| ResourceError::value(format!("{attr} must be a resource id, not {s:?}")))
}

/// A reference given as `{"value": "<id>"}` or as the plain id string.
fn as_reference(v: &Value, attr: &str) -> Result<Option<Uuid>, ResourceError> {
    match v {
        Value::String(s) => parse_uuid(s, attr),
        Value::Object(obj) => match (field(obj, "value"), field(obj, "$ref")) {
            (Some(value), _) => parse_uuid(&as_string(value, &format!("{attr}.value"))?, attr),
            // The resource's URI alone: its id is the last segment.
            (None, Some(uri)) => {
                let uri = as_string(uri, &format!("{attr}.$ref"))?;
                parse_uuid(uri.rsplit('/').next().unwrap_or_default(), attr)
            }
            (None, None) => Ok(None),
        },
        _ => Err(ResourceError::value(format!(
            "{attr} must be an object with a value, or an id"
        ))),
    }
}

fn as_enum<T: std::str::FromStr>(v: &Value, attr: &str) -> Result<T, ResourceError>
where
    T::Err: fmt::Display,
{
    let s = as_string(v, attr)?;
    s.parse::<T>()
        .map_err(|e| ResourceError::value(format!("{attr}: {e}")))
}

/// The body as an object, with a well-formed `schemas` if any (unknown
/// URNs in it are tolerated).
fn body_object(body: &Value) -> Result<&Obj, ResourceError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ResourceError::syntax("the request body must be a JSON object"))?;
    if let Some(schemas) = field(obj, "schemas") {
        let ok = schemas
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(ResourceError::syntax("schemas must be an array of URNs"));
        }
        // A PatchOp, SearchRequest or BulkRequest sent to the wrong method
        // would otherwise be read as a resource with every field left out.
        let message = schemas
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|urn| urn.starts_with(MESSAGE_SCHEMA_PREFIX));
        if let Some(urn) = message {
            return Err(ResourceError::syntax(format!(
                "the body is a {urn} message, not a resource: \
                 it goes with another method or endpoint"
            )));
        }
    }
    Ok(obj)
}

/// The URNs of SCIM's protocol messages (RFC 7644 section 3.1).
const MESSAGE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:api:messages:2.0:";

/// A User body for PUT: as `parse_user`, and since a PUT states the whole
/// resource, its one required attribute must be there (RFC 7643 section
/// 4.1.1; RFC 7644 section 3.12, `invalidValue`: "a required value was
/// missing").
pub fn parse_user_replacement(body: &Value) -> Result<UserInput, ResourceError> {
    let input = parse_user(body)?;
    if input.user_name.is_none() {
        return Err(ResourceError::value(
            "userName is required: a PUT replaces the whole user",
        ));
    }
    Ok(input)
}

/// A Group body for PUT: `displayName` is required, as for `parse_user_replacement`.
pub fn parse_group_replacement(body: &Value) -> Result<GroupInput, ResourceError> {
    let input = parse_group(body)?;
    if input.display_name.is_none() {
        return Err(ResourceError::value(
            "displayName is required: a PUT replaces the whole group",
        ));
    }
    Ok(input)
}

/// An extension's attribute: nested under the URN, or flat as
/// `"<urn>:<attr>"` at the top level.
fn ext_field<'a>(body: &'a Obj, ext: Option<&'a Obj>, urn: &str, attr: &str) -> Option<&'a Value> {
    ext.and_then(|e| field(e, attr))
        .or_else(|| field(body, &format!("{urn}:{attr}")))
}

fn extension<'a>(body: &'a Obj, urn: &str) -> Result<Option<&'a Obj>, ResourceError> {
    field(body, urn).map(|v| as_object(v, urn)).transpose()
}

/// Picks one value of a multi-valued complex attribute: a primary one,
/// else one of type `prefer`, else the first.
fn pick<'a>(items: &[&'a Value], prefer: &str) -> Option<&'a Value> {
    let primary = |v: &Value| {
        v.as_object()
            .and_then(|o| field(o, "primary"))
            .is_some_and(|p| as_bool(p, "primary").unwrap_or(false))
    };
    let typed = |v: &Value| {
        v.as_object()
            .and_then(|o| field(o, "type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(prefer))
    };
    items
        .iter()
        .find(|v| primary(v))
        .or_else(|| items.iter().find(|v| typed(v)))
        .or_else(|| items.first())
        .copied()
}

/// The `value` of a chosen multi-valued entry (an object or a bare string).
fn entry_value(v: &Value, attr: &str) -> Result<Option<String>, ResourceError> {
    match v {
        Value::Object(o) => string_field(o, "value", &format!("{attr}.value")),
        other => as_string(other, attr).map(Some),
    }
}

fn multi_value(
    obj: &Obj,
    name: &str,
    prefer: &str,
    primary_first: bool,
) -> Result<Option<String>, ResourceError> {
    let Some(v) = field(obj, name) else {
        return Ok(None);
    };
    let items = as_list(v, name)?;
    for item in &items {
        if !item.is_object() && !item.is_string() {
            return Err(ResourceError::value(format!(
                "{name} entries must be complex values"
            )));
        }
    }
    let chosen = if primary_first {
        pick(&items, prefer)
    } else {
        let typed = items.iter().copied().find(|v| {
            v.as_object()
                .and_then(|o| field(o, "type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(prefer))
        });
        typed.or_else(|| items.first().copied())
    };
    match chosen {
        Some(v) => entry_value(v, name),
        None => Ok(None),
    }
}

/// The entry of type `kind` of multi-valued `name` (no entry typed so: the
/// first of a type this server does not keep, or untyped).
fn typed_entry<'a>(
    obj: &'a Obj,
    name: &str,
    kind: &str,
) -> Result<Option<&'a Value>, ResourceError> {
    let Some(v) = field(obj, name) else {
        return Ok(None);
    };
    let items = as_list(v, name)?;
    let type_of = |v: &Value| {
        v.as_object()
            .and_then(|o| field(o, "type"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let kinds = attributes::entry_kinds(name);
    let typed = items
        .iter()
        .find(|v| type_of(v).is_some_and(|t| t.eq_ignore_ascii_case(kind)));
    // An entry without a known type is the attribute's first kind (the
    // mobile number, the work address), as a single-address client means.
    let fallback = || {
        if kinds.first().is_some_and(|k| k.eq_ignore_ascii_case(kind)) {
            items.iter().find(|v| {
                type_of(v).is_none_or(|t| !kinds.iter().any(|k| k.eq_ignore_ascii_case(&t)))
            })
        } else {
            None
        }
    };
    Ok(typed.or_else(fallback).copied())
}

/// Every directory attribute of a User body, `None` where it has none.
fn parse_attributes(obj: &Obj) -> Result<Vec<(Attribute, Option<String>)>, ResourceError> {
    let mut out = Vec::with_capacity(USER_ATTRIBUTES.len());
    for row in USER_ATTRIBUTES {
        let value = match row.place {
            Place::Core(name) => string_field(obj, name, name)?,
            Place::Sub(name, sub) => match field(obj, name) {
                Some(v) => string_field(as_object(v, name)?, sub, &format!("{name}.{sub}"))?,
                None => None,
            },
            Place::Typed(name, kind) => match typed_entry(obj, name, kind)? {
                Some(entry) => entry_value(entry, name)?,
                None => None,
            },
            Place::TypedSub(name, kind, sub) => match typed_entry(obj, name, kind)? {
                Some(entry) => {
                    string_field(as_object(entry, name)?, sub, &format!("{name}.{sub}"))?
                }
                None => None,
            },
            Place::Extension(urn, name) => {
                let ext = extension(obj, urn)?;
                ext_field(obj, ext, urn, name)
                    .map(|v| as_string(v, name))
                    .transpose()?
            }
        };
        out.push((row.field, value));
    }
    Ok(out)
}

/// Parses a User body (POST / PUT). Attribute names are case-insensitive,
/// unknown attributes and schema URNs are ignored.
pub fn parse_user(body: &Value) -> Result<UserInput, ResourceError> {
    let obj = body_object(body)?;
    let mut input = UserInput {
        user_name: string_field(obj, "userName", "userName")?,
        external_id: string_field(obj, "externalId", "externalId")?,
        time_zone: string_field(obj, "timezone", "timezone")?,
        password: string_field(obj, "password", "password")?,
        ..UserInput::default()
    };
    if let Some(name) = field(obj, "name") {
        let name = as_object(name, "name")?;
        input.given_name = string_field(name, "givenName", "name.givenName")?;
        input.family_name = string_field(name, "familyName", "name.familyName")?;
    }
    input.email = multi_value(obj, "emails", "work", true)?;
    input.mobile = match typed_entry(obj, "phoneNumbers", "mobile")? {
        Some(entry) => entry_value(entry, "phoneNumbers")?,
        None => None,
    };
    input.attributes = parse_attributes(obj)?;
    input.active = field(obj, "active")
        .map(|v| as_bool(v, "active"))
        .transpose()?;

    let enterprise = extension(obj, ENTERPRISE_USER_SCHEMA)?;
    if let Some(m) = ext_field(obj, enterprise, ENTERPRISE_USER_SCHEMA, "manager") {
        input.manager = as_reference(m, "manager")?;
    }

    let ours = extension(obj, DIRGATE_USER_SCHEMA)?;
    let ext = |attr: &str| ext_field(obj, ours, DIRGATE_USER_SCHEMA, attr);
    input.account_type = ext("accountType")
        .map(|v| as_enum(v, "accountType"))
        .transpose()?;
    input.auth_method = ext("authenticationMethod")
        .map(|v| as_enum(v, "authenticationMethod"))
        .transpose()?;
    if let Some(r) = ext("restrictedTo") {
        input.restricted_to = as_reference(r, "restrictedTo")?;
    }
    if let Some(roles) = ext("securityRoles") {
        let roles = as_list(roles, "securityRoles")?
            .into_iter()
            .map(|r| match r {
                Value::Object(o) => string_field(o, "value", "securityRoles.value")?
                    .ok_or_else(|| ResourceError::value("securityRoles entries need a value")),
                other => as_string(other, "securityRoles"),
            })
            .collect::<Result<Vec<_>, _>>()?;
        input.roles = Some(roles);
    }
    if input.active.is_none() {
        input.active = ext("status")
            .map(|v| as_enum::<Status>(v, "status"))
            .transpose()?
            .map(|s| s == Status::Active);
    }
    Ok(input)
}

/// Parses a Group body (POST / PUT), as leniently as [`parse_user`].
pub fn parse_group(body: &Value) -> Result<GroupInput, ResourceError> {
    let obj = body_object(body)?;
    let mut input = GroupInput {
        display_name: string_field(obj, "displayName", "displayName")?,
        external_id: string_field(obj, "externalId", "externalId")?,
        ..GroupInput::default()
    };
    if let Some(members) = field(obj, "members") {
        let members = as_list(members, "members")?
            .into_iter()
            .map(|m| {
                let m = as_object(m, "members")?;
                let value = match field(m, "value") {
                    Some(v) => parse_uuid(&as_string(v, "members.value")?, "members.value")?,
                    None => None,
                }
                .ok_or_else(|| ResourceError::value("members entries need a value"))?;
                let kind = match string_field(m, "type", "members.type")? {
                    None => None,
                    Some(t) if t.eq_ignore_ascii_case("user") => Some(MemberType::User),
                    Some(t) if t.eq_ignore_ascii_case("group") => Some(MemberType::Group),
                    Some(t) => {
                        return Err(ResourceError::value(format!(
                            "members.type must be User or Group, not {t:?}"
                        )))
                    }
                };
                Ok(MemberInput { value, kind })
            })
            .collect::<Result<Vec<_>, _>>()?;
        input.members = Some(members);
    }
    let ours = extension(obj, DIRGATE_GROUP_SCHEMA)?;
    let ext = |attr: &str| ext_field(obj, ours, DIRGATE_GROUP_SCHEMA, attr);
    input.kind = ext("kind").map(|v| as_enum(v, "kind")).transpose()?;
    if let Some(p) = ext("parent") {
        input.parent = as_reference(p, "parent")?;
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://dir.example.com/scim/v2/";

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn account() -> Account {
        Account {
            id: 7,
            uuid: uuid(0x7),
            user_name: "jdoe".into(),
            login_name: None,
            given_name: "Jane".into(),
            family_name: "Doe".into(),
            email: Some("jane@example.com".into()),
            mobile: Some("+15550100".into()),
            time_zone: "Europe/Paris".into(),
            account_type: AccountType::RemoteAssistanceTechnician,
            auth_method: AuthMethod::TwoFactorSmsEveryTime,
            restricted_to: Some(20),
            manager: Some(3),
            admin_level: AdminLevel::AccountAdmin,
            admin_entity: Some(20),
            roles: vec!["reports".into(), "user-management".into()],
            status: Status::Active,
            archived: false,
            reset_pending: true,
            has_password: true,
            totp_enrolled: true,
            external_id: Some("okta-00u1".into()),
            attributes: Default::default(),
            created: ts("2026-01-02T03:04:05Z"),
            modified: ts("2026-02-03T04:05:06Z"),
            version: 42,
        }
    }

    fn node() -> Node {
        Node {
            id: 21,
            uuid: uuid(0x21),
            name: "Support".into(),
            kind: NodeKind::Group,
            parent: Some(20),
            external_id: Some("entra-g1".into()),
            gid_number: None,
            created: ts("2026-01-01T00:00:00Z"),
            modified: ts("2026-01-05T00:00:00Z"),
            version: 3,
        }
    }

    fn related() -> Related {
        let mut rel = Related::default();
        rel.account_names.insert(3, "boss".into());
        rel.account_names.insert(7, "jdoe".into());
        rel.node_names.insert(20, "Acme".into());
        rel.node_names.insert(21, "Support".into());
        rel.node_names.insert(22, "Night shift".into());
        rel.groups_of.insert(7, vec![21]);
        rel.members_of.insert(21, vec![7]);
        rel.children_of.insert(21, vec![22]);
        rel.account_uuids.insert(3, uuid(0x3));
        rel.account_uuids.insert(7, uuid(0x7));
        for n in [20, 21, 22] {
            rel.node_uuids.insert(n, uuid(n as u128));
        }
        rel
    }

    fn user(sel: &Projection) -> Value {
        let rel = related();
        user_json(&account(), &rel, BASE, sel)
    }

    fn id(n: u128) -> String {
        uuid(n).to_string()
    }

    #[test]
    fn user_renders_every_attribute() {
        let u = user(&Projection::all());
        assert_eq!(
            u["schemas"],
            json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, DIRGATE_USER_SCHEMA])
        );
        assert_eq!(u["id"], json!(id(7)));
        assert_eq!(u["externalId"], "okta-00u1");
        assert_eq!(u["userName"], "jdoe");
        assert_eq!(
            u["name"],
            json!({"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe"})
        );
        assert!(
            u.get("displayName").is_none(),
            "a display name is shown only when one was set"
        );
        assert_eq!(
            u["emails"],
            json!([{"value": "jane@example.com", "type": "work"}])
        );
        assert_eq!(
            u["phoneNumbers"],
            json!([{"value": "+15550100", "type": "mobile"}])
        );
        assert_eq!(u["timezone"], "Europe/Paris");
        assert_eq!(u["active"], true);
        let base = "https://dir.example.com/scim/v2";
        assert_eq!(
            u["groups"],
            json!([{"value": id(21), "display": "Support",
                    "$ref": format!("{base}/Groups/{}", id(21)), "type": "direct"}])
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"manager": {"value": id(3),
                               "$ref": format!("{base}/Users/{}", id(3))}})
        );
        assert_eq!(
            u[DIRGATE_USER_SCHEMA],
            json!({
                "accountType": "Remote Assistance Technician",
                "authenticationMethod": "Two Factor SMS Everytime",
                "restrictedTo": {"value": id(20),
                                 "$ref": format!("{base}/Groups/{}", id(20))},
                "securityRoles": ["reports", "user-management"],
                "status": "Active",
                "adminLevel": "Account Admin",
            })
        );
        assert_eq!(
            u["meta"],
            json!({
                "resourceType": "User",
                "created": "2026-01-02T03:04:05Z",
                "lastModified": "2026-02-03T04:05:06Z",
                "location": format!("{base}/Users/{}", id(7)),
                "version": "W/\"42\"",
            })
        );
        assert_eq!(u.as_object().unwrap().len(), 13, "{u:#}");
        // What the server sets is shown when asked for (returned: request).
        let asked = user(&Projection::new(
            Some(&format!(
                "{ENTERPRISE_USER_SCHEMA}:manager.displayName,\
                 {DIRGATE_USER_SCHEMA}:restrictedTo.display,{DIRGATE_USER_SCHEMA}:userName"
            )),
            None,
        ));
        assert_eq!(
            asked[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"displayName": "boss"})
        );
        assert_eq!(
            asked[DIRGATE_USER_SCHEMA],
            json!({"restrictedTo": {"display": "Acme"}, "userName": "jdoe"})
        );
    }

    #[test]
    fn user_omits_empty_and_invisible_attributes() {
        let mut a = account();
        a.email = None;
        a.mobile = Some(String::new());
        a.external_id = None;
        a.given_name.clear();
        a.family_name.clear();
        a.admin_level = AdminLevel::None;
        a.roles.clear();
        a.status = Status::Inactive;
        // Manager and scope not visible: no uuid for them.
        let mut rel = related();
        rel.account_uuids.remove(&3);
        rel.node_uuids.remove(&20);
        let u = user_json(&a, &rel, BASE, &Projection::all());
        let obj = u.as_object().unwrap();
        for absent in [
            "emails",
            "phoneNumbers",
            "externalId",
            "name",
            ENTERPRISE_USER_SCHEMA,
        ] {
            assert!(!obj.contains_key(absent), "{absent} in {u:#}");
        }
        assert!(u.get("displayName").is_none(), "no names, no display name");
        assert_eq!(u["active"], false);
        assert_eq!(
            u[DIRGATE_USER_SCHEMA],
            json!({"accountType": "Remote Assistance Technician",
                   "authenticationMethod": "Two Factor SMS Everytime",
                   "status": "Inactive"})
        );
    }

    #[test]
    fn no_secret_in_output() {
        let text = user(&Projection::all()).to_string().to_lowercase();
        for secret in ["password", "totp", "secret", "reset", "argon"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let named = user(&Projection::new(Some("password,userName"), None));
        assert!(named.get("password").is_none());
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn attributes_keeps_named_and_always() {
        let u = user(&Projection::new(Some("userName"), None));
        assert_eq!(keys(&u), ["id", "meta", "schemas", "userName"]);
        assert_eq!(u["meta"], json!({"resourceType": "User"}));
        // Case-insensitive, several names.
        let u = user(&Projection::new(Some("USERNAME, Emails"), None));
        assert_eq!(keys(&u), ["emails", "id", "meta", "schemas", "userName"]);
    }

    #[test]
    fn attributes_naming_a_sub_attribute() {
        let u = user(&Projection::new(Some("name.givenName,emails.value"), None));
        assert_eq!(keys(&u), ["emails", "id", "meta", "name", "schemas"]);
        assert_eq!(u["name"], json!({"givenName": "Jane"}));
        assert_eq!(u["emails"], json!([{"value": "jane@example.com"}]));
        let u = user(&Projection::new(Some("meta.lastModified"), None));
        assert_eq!(
            u["meta"],
            json!({"resourceType": "User", "lastModified": "2026-02-03T04:05:06Z"})
        );
    }

    #[test]
    fn excluded_attributes() {
        let u = user(&Projection::new(None, Some("emails,name.givenName")));
        assert!(u.get("emails").is_none());
        assert_eq!(
            u["name"],
            json!({"familyName": "Doe", "formatted": "Jane Doe"})
        );
        assert_eq!(u["userName"], "jdoe");
        assert!(u.get(DIRGATE_USER_SCHEMA).is_some());
        // Always-returned attributes cannot be excluded.
        let u = user(&Projection::new(None, Some("id,schemas,meta")));
        assert_eq!(u["id"], json!(id(7)));
        assert!(u["schemas"].is_array());
        assert_eq!(u["meta"], json!({"resourceType": "User"}));
    }

    #[test]
    fn urn_qualified_names() {
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let u = user(&Projection::new(Some(manager), None));
        assert_eq!(keys(&u), ["id", "meta", "schemas", ENTERPRISE_USER_SCHEMA]);
        assert_eq!(u[ENTERPRISE_USER_SCHEMA]["manager"]["value"], json!(id(3)));

        let sub = "URN:DIRGATE:params:scim:schemas:extension:dirgate:2.0:User:restrictedTo.display";
        let core = "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName";
        let u = user(&Projection::new(Some(&format!("{sub},{core}")), None));
        assert_eq!(
            u[DIRGATE_USER_SCHEMA],
            json!({"restrictedTo": {"display": "Acme"}})
        );
        assert_eq!(u["name"], json!({"familyName": "Doe"}));
        assert!(u.get("userName").is_none());

        // A whole extension, excluded.
        let u = user(&Projection::new(None, Some(DIRGATE_USER_SCHEMA)));
        assert!(u.get(DIRGATE_USER_SCHEMA).is_none());
        assert!(u.get(ENTERPRISE_USER_SCHEMA).is_some());

        // Unqualified extension attribute names, as some clients send them.
        let u = user(&Projection::new(Some("manager,accountType"), None));
        assert_eq!(
            keys(&u),
            [
                "id",
                "meta",
                "schemas",
                DIRGATE_USER_SCHEMA,
                ENTERPRISE_USER_SCHEMA
            ]
        );
        assert_eq!(
            u[DIRGATE_USER_SCHEMA],
            json!({"accountType": "Remote Assistance Technician"})
        );
        let u = user(&Projection::new(None, Some("securityRoles")));
        assert!(u[DIRGATE_USER_SCHEMA].get("securityRoles").is_none());
    }

    #[test]
    fn attributes_wins_over_excluded() {
        let u = user(&Projection::new(Some("userName"), Some("userName")));
        assert_eq!(u["userName"], "jdoe");
        assert_eq!(Projection::new(Some(" , "), None), Projection::all());
    }

    #[test]
    fn group_renders_every_attribute() {
        let rel = related();
        let g = group_json(&node(), &rel, BASE, &Projection::all());
        let base = "https://dir.example.com/scim/v2";
        assert_eq!(
            g,
            json!({
                "schemas": [GROUP_SCHEMA, DIRGATE_GROUP_SCHEMA],
                "id": id(0x21),
                "externalId": "entra-g1",
                "displayName": "Support",
                "members": [
                    {"value": id(7), "type": "User",
                     "$ref": format!("{base}/Users/{}", id(7))},
                    {"value": id(22), "type": "Group",
                     "$ref": format!("{base}/Groups/{}", id(22))},
                ],
                DIRGATE_GROUP_SCHEMA: {
                    "kind": "Group",
                    "parent": {"value": id(20),
                               "$ref": format!("{base}/Groups/{}", id(20))},
                },
                "meta": {
                    "resourceType": "Group",
                    "created": "2026-01-01T00:00:00Z",
                    "lastModified": "2026-01-05T00:00:00Z",
                    "location": format!("{base}/Groups/{}", id(0x21)),
                    "version": "W/\"3\"",
                },
            })
        );
        let g = group_json(&node(), &rel, BASE, &Projection::new(None, Some("members")));
        assert!(g.get("members").is_none());
        assert_eq!(g["displayName"], "Support");
        let g = group_json(
            &node(),
            &rel,
            BASE,
            &Projection::new(Some("displayName"), None),
        );
        assert_eq!(keys(&g), ["displayName", "id", "meta", "schemas"]);
        let g = group_json(
            &node(),
            &rel,
            BASE,
            &Projection::new(Some("members.display"), None),
        );
        assert_eq!(
            g["members"],
            json!([{"display": "jdoe"}, {"display": "Night shift"}])
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(etag(7), "W/\"7\"");
        assert_eq!(rfc3339(ts("2026-03-04T05:06:07Z")), "2026-03-04T05:06:07Z");
        assert_eq!(
            rfc3339(ts("2026-03-04T06:06:07.5+01:00")),
            "2026-03-04T05:06:07.5Z"
        );
    }

    #[test]
    fn parses_okta_user() {
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "jdoe",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "displayName": "Jane Doe",
            "emails": [
                {"value": "home@example.com", "type": "home"},
                {"primary": true, "value": "jane@example.com", "type": "work"}
            ],
            "phoneNumbers": [
                {"value": "+1555000", "type": "work"},
                {"value": "+1555111", "type": "mobile"}
            ],
            "locale": "en-US",
            "externalId": "00u1",
            "groups": [],
            "password": "Secret123",
            "active": true
        });
        let u = parse_user(&body).unwrap();
        let attribute = |a: Attribute| {
            u.attributes
                .iter()
                .find(|(x, _)| *x == a)
                .and_then(|(_, v)| v.clone())
        };
        assert_eq!(
            attribute(Attribute::DisplayName).as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(attribute(Attribute::WorkPhone).as_deref(), Some("+1555000"));
        assert_eq!(attribute(Attribute::Title), None);
        assert_eq!(
            UserInput {
                attributes: Vec::new(),
                ..u.clone()
            },
            UserInput {
                user_name: Some("jdoe".into()),
                external_id: Some("00u1".into()),
                given_name: Some("Jane".into()),
                family_name: Some("Doe".into()),
                email: Some("jane@example.com".into()),
                mobile: Some("+1555111".into()),
                time_zone: None,
                active: Some(true),
                password: Some("Secret123".into()),
                ..UserInput::default()
            }
        );
        assert!(!format!("{u:?}").contains("Secret123"));
    }

    #[test]
    fn parses_entra_user() {
        let body = json!({
            "schemas": [
                USER_SCHEMA,
                ENTERPRISE_USER_SCHEMA,
                "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
            ],
            "externalId": "9a2f",
            "UserName": "AdeleV",
            "Active": "False",
            "displayName": "Adele Vance",
            "emails": [{"value": "adele@contoso.com", "type": "other"},
                       {"value": "adele@work.contoso.com", "type": "Work"}],
            "meta": {"resourceType": "User"},
            "TimeZone": "America/New_York",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
                "Manager": "00000000-0000-0000-0000-000000000003",
                "department": "Sales"
            },
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {
                "x": 1
            },
            (DIRGATE_USER_SCHEMA): {
                "accountType": "report reader",
                "authenticationMethod": "two-factor-app",
                "restrictedTo": {"value": id(20)},
                "securityRoles": ["user-management", {"value": "reports"}],
                "status": "Active"
            }
        });
        let u = parse_user(&body).unwrap();
        assert_eq!(u.user_name.as_deref(), Some("AdeleV"));
        assert_eq!(u.external_id.as_deref(), Some("9a2f"));
        assert_eq!(u.active, Some(false), "active wins over status");
        assert_eq!(
            u.attributes
                .iter()
                .find(|(a, _)| *a == Attribute::DisplayName)
                .and_then(|(_, v)| v.as_deref()),
            Some("Adele Vance")
        );
        assert_eq!(u.email.as_deref(), Some("adele@work.contoso.com"));
        assert_eq!(u.time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(u.manager, Some(uuid(3)));
        assert_eq!(u.account_type, Some(AccountType::ReportReader));
        assert_eq!(u.auth_method, Some(AuthMethod::TwoFactorApp));
        assert_eq!(u.restricted_to, Some(uuid(20)));
        assert_eq!(
            u.roles,
            Some(vec!["user-management".to_owned(), "reports".to_owned()])
        );

        // Manager as an object, active as "True", status as a fallback.
        let body = json!({
            "userName": "x",
            "active": "True",
            ENTERPRISE_USER_SCHEMA: {"manager": {"value": id(3)}},
        });
        let u = parse_user(&body).unwrap();
        assert_eq!((u.active, u.manager), (Some(true), Some(uuid(3))));
        let body = json!({DIRGATE_USER_SCHEMA: {"status": "inactive"}});
        assert_eq!(parse_user(&body).unwrap().active, Some(false));
        // Flat extension attribute, empty manager value, nulls.
        let body = json!({
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": ""},
            "emails": null,
            "name": {"givenName": null},
        });
        let u = parse_user(&body).unwrap();
        assert_eq!((u.manager, u.email, u.given_name), (None, None, None));
        // A lone name.formatted stands in for displayName; a single phone
        // number object is taken as a list of one.
        let body = json!({
            "name": {"formatted": "Ann Lee"},
            "phoneNumbers": {"value": "+1555222", "type": "work"},
        });
        let u = parse_user(&body).unwrap();
        // The formatted name is an attribute of its own, and a work number
        // is not the mobile one codes go to.
        assert_eq!(u.name_formatted().as_deref(), Some("Ann Lee"));
        assert_eq!(
            (u.given_name.as_deref(), u.family_name.as_deref()),
            (None, None)
        );
        assert_eq!(u.mobile, None);
        assert!(u
            .attributes
            .contains(&(Attribute::WorkPhone, Some("+1555222".into()))));
        let body = json!({
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": id(3),
        });
        assert_eq!(parse_user(&body).unwrap().manager, Some(uuid(3)));
    }

    fn err(body: Value) -> ResourceError {
        parse_user(&body).unwrap_err()
    }

    #[test]
    fn user_type_errors() {
        let e = err(json!({"userName": true}));
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(e.detail.contains("userName"), "{e}");
        let e = err(json!({"active": "maybe"}));
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(e.to_string().contains("active"), "{e}");
        let e = err(json!({"name": "Jane Doe"}));
        assert!(e.detail.contains("name"), "{e}");
        let e = err(json!({"emails": [{"value": 5.5e0, "type": "work"}, 3]}));
        assert!(e.detail.contains("emails"), "{e}");
        let e = err(json!({ENTERPRISE_USER_SCHEMA: {"manager": {"value": "not-an-id"}}}));
        assert!(e.detail.contains("manager"), "{e}");
        let e = err(json!({DIRGATE_USER_SCHEMA: {"accountType": "Wizard"}}));
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(e.detail.contains("accountType"), "{e}");
        let e = err(json!({DIRGATE_USER_SCHEMA: {"securityRoles": 3}}));
        assert!(e.detail.contains("securityRoles"), "{e}");
        let e = err(json!({DIRGATE_USER_SCHEMA: "x"}));
        assert!(e.detail.contains(DIRGATE_USER_SCHEMA), "{e}");

        let e = err(json!(["userName"]));
        assert_eq!(e.scim_type, ScimType::InvalidSyntax);
        assert_eq!(e.scim_type.as_str(), "invalidSyntax");
        let e = err(json!({"schemas": USER_SCHEMA}));
        assert_eq!(e.scim_type, ScimType::InvalidSyntax);
        assert!(e.detail.contains("schemas"), "{e}");
        assert_eq!(ScimType::InvalidValue.to_string(), "invalidValue");
    }

    #[test]
    fn parses_group() {
        let body = json!({
            "schemas": [GROUP_SCHEMA, DIRGATE_GROUP_SCHEMA],
            "displayName": "Support",
            "externalId": "g1",
            "Members": [
                {"value": id(7), "type": "User", "display": "jdoe"},
                {"value": id(22), "type": "group"},
                {"value": id(8)}
            ],
            (DIRGATE_GROUP_SCHEMA): {"kind": "Business Entity", "parent": {"value": id(20)}}
        });
        let g = parse_group(&body).unwrap();
        assert_eq!(
            g,
            GroupInput {
                display_name: Some("Support".into()),
                external_id: Some("g1".into()),
                members: Some(vec![
                    MemberInput {
                        value: uuid(7),
                        kind: Some(MemberType::User)
                    },
                    MemberInput {
                        value: uuid(22),
                        kind: Some(MemberType::Group)
                    },
                    MemberInput {
                        value: uuid(8),
                        kind: None
                    },
                ]),
                kind: Some(NodeKind::BusinessEntity),
                parent: Some(uuid(20)),
            }
        );
        let g = parse_group(&json!({"displayName": "x", "members": []})).unwrap();
        assert_eq!(g.members, Some(vec![]));
        assert_eq!(g.parent, None);

        let e = parse_group(&json!({"members": [{"value": id(7), "type": "Robot"}]})).unwrap_err();
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(e.detail.contains("members.type"), "{e}");
        let e = parse_group(&json!({"members": [{"display": "x"}]})).unwrap_err();
        assert!(e.detail.contains("members"), "{e}");
        let e = parse_group(&json!({"displayName": {"a": 1}})).unwrap_err();
        assert!(e.detail.contains("displayName"), "{e}");
        let e = parse_group(&json!({DIRGATE_GROUP_SCHEMA: {"kind": "Planet"}})).unwrap_err();
        assert!(e.detail.contains("kind"), "{e}");
        let e = parse_group(&json!("Support")).unwrap_err();
        assert_eq!(e.scim_type, ScimType::InvalidSyntax);
    }

    #[test]
    fn a_replacement_states_its_required_attribute_and_no_message_is_a_resource() {
        let user = json!({"schemas": [USER_SCHEMA], "name": {"givenName": "Ann"}});
        let e = parse_user_replacement(&user).unwrap_err();
        assert_eq!(
            (e.scim_type, e.detail.contains("userName")),
            (ScimType::InvalidValue, true)
        );
        let group = json!({"schemas": [GROUP_SCHEMA], "members": []});
        let e = parse_group_replacement(&group).unwrap_err();
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(parse_user_replacement(&json!({"userName": "ann"})).is_ok());
        assert!(parse_group_replacement(&json!({"displayName": "Sales"})).is_ok());
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        });
        for e in [
            parse_user(&patch).unwrap_err(),
            parse_group(&patch).unwrap_err(),
        ] {
            assert_eq!(e.scim_type, ScimType::InvalidSyntax, "{}", e.detail);
        }
    }
}
