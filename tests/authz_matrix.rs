//! The authorisation matrix (issue 7): every actor, by every target, by
//! every action, through every face that offers it, against one real daemon
//! over real sockets. Each cell's expected answer comes from the rules of
//! `../shared/DESIGN.md` (the table in [`expected`], one rule a line, each
//! quoting the sentence it comes from); each cell is then checked: an
//! allowed action must have taken effect (read back by the super admin), a
//! denied one must get the protocol's refusal and leave the account exactly
//! as it was.
//!
//! Faces: LDAP (search for reads, Password Modify for passwords: dirgate
//! refuses every LDAP write with unwillingToPerform, the directory being
//! provisioned over SCIM); SCIM (GET, POST, PATCH, PUT); the self-service
//! pages (`/account`: the signed-in account's own data only, so only the
//! "self" rows apply there); the administrator's console (`/admin`: an
//! account's entry read, its Save posted with one field changed, and the
//! Add form).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use common::{cli, form_field, write_config, Daemon};
use serde_json::{json, Value};

const BASE: &str = "dc=example,dc=com";
const PW: &str = "Matrix7Horse";
const NEW_PW: &str = "Fresh7Stable";
const EXT: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

// --- the dimensions ----------------------------------------------------------

/// What kind of account acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The manual's OTA Admin.
    Super,
    /// Account admin of the business entity Acme.
    AccountAdmin,
    /// An Administrator holding the user-management role, with sub-users.
    Manager,
    /// An Administrator with sub-users but without the user-management role.
    ManagerWithoutRole,
    /// A plain Administrator (no role; it still has a sub-user).
    Administrator,
    ReportReader,
    RemoteTechnician,
    /// A Report Reader that holds the user-management role (and sub-users):
    /// does the role lift "read only"?
    ReaderWithRole,
}

/// Where an actor may look: its restriction (or an account admin's entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Everywhere,
    /// The business entity Acme and everything below it.
    Acme,
    /// The group Sales (in Acme) and everything below it.
    Sales,
}

/// The organisation: Acme (entity) > Sales > EMEA; Acme > Ops; Globex (entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Emea,
    Ops,
    Globex,
}

impl Place {
    fn group(self) -> &'static str {
        match self {
            Place::Emea => "EMEA",
            Place::Ops => "Ops",
            Place::Globex => "Globex",
        }
    }
}

struct ActorSpec {
    name: &'static str,
    kind: Kind,
    scope: Scope,
}

const ACTORS: &[ActorSpec] = &[
    ActorSpec {
        name: "xsuper",
        kind: Kind::Super,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xacctadm",
        kind: Kind::AccountAdmin,
        scope: Scope::Acme,
    },
    ActorSpec {
        name: "xmgr",
        kind: Kind::Manager,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xmgrr",
        kind: Kind::Manager,
        scope: Scope::Sales,
    },
    ActorSpec {
        name: "xnorole",
        kind: Kind::ManagerWithoutRole,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xnoroler",
        kind: Kind::ManagerWithoutRole,
        scope: Scope::Sales,
    },
    ActorSpec {
        name: "xadmin",
        kind: Kind::Administrator,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xadminr",
        kind: Kind::Administrator,
        scope: Scope::Sales,
    },
    ActorSpec {
        name: "xreader",
        kind: Kind::ReportReader,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xreaderr",
        kind: Kind::ReportReader,
        scope: Scope::Sales,
    },
    ActorSpec {
        name: "xtech",
        kind: Kind::RemoteTechnician,
        scope: Scope::Everywhere,
    },
    ActorSpec {
        name: "xtechr",
        kind: Kind::RemoteTechnician,
        scope: Scope::Sales,
    },
    ActorSpec {
        name: "xreaderum",
        kind: Kind::ReaderWithRole,
        scope: Scope::Everywhere,
    },
];

impl ActorSpec {
    fn account_type(&self) -> &'static str {
        match self.kind {
            Kind::ReportReader | Kind::ReaderWithRole => "Report Reader",
            Kind::RemoteTechnician => "Remote Assistance Technician",
            _ => "Administrator",
        }
    }
    /// Security roles held (a super admin holds every role without a list).
    fn roles(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::AccountAdmin | Kind::Manager | Kind::ReaderWithRole => &["user-management"],
            _ => &[],
        }
    }
    fn holds(&self, role: &str) -> bool {
        self.kind == Kind::Super || self.roles().contains(&role)
    }
    fn restricted_to(&self) -> Option<&'static str> {
        (self.scope == Scope::Sales).then_some("Sales")
    }
    /// Where this actor's out-of-scope targets live: just outside its scope
    /// (a sibling group for a restricted actor, the other entity otherwise).
    fn outside(&self) -> Place {
        match self.scope {
            Scope::Sales => Place::Ops,
            Scope::Acme | Scope::Everywhere => Place::Globex,
        }
    }
    /// "the user then sees only that node and its subgroups, and the people
    /// in them"; the account admin: "everything inside one business entity".
    fn sees(&self, place: Place) -> bool {
        match self.scope {
            Scope::Everywhere => true,
            Scope::Acme => place != Place::Globex,
            Scope::Sales => place == Place::Emea,
        }
    }
    fn sub(&self) -> String {
        format!("{}sub", self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// The actor's own account (for a create: a new direct sub-user).
    Myself,
    /// Below the actor in the hierarchy (a sub-user's sub-user), inside its scope.
    OwnBranch,
    /// Inside the actor's scope, under another manager.
    OtherBranch,
    /// Outside the actor's scope, under another manager.
    OutsideScope,
    /// Below the actor in the hierarchy, but placed outside its scope.
    BranchOutsideScope,
}

const TARGETS: &[Target] = &[
    Target::Myself,
    Target::OwnBranch,
    Target::OtherBranch,
    Target::OutsideScope,
    Target::BranchOutsideScope,
];

/// The manager and the place of a target (or of a new account).
#[derive(Debug, Clone)]
enum Manager {
    Actor,
    ActorsSub,
    Peer,
    PeerOutside,
}

fn shape(a: &ActorSpec, t: Target) -> (Manager, Place) {
    match t {
        Target::Myself => (Manager::Actor, Place::Emea),
        Target::OwnBranch => (Manager::ActorsSub, Place::Emea),
        Target::OtherBranch => (Manager::Peer, Place::Emea),
        Target::OutsideScope => (Manager::PeerOutside, a.outside()),
        Target::BranchOutsideScope => (Manager::ActorsSub, a.outside()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Read,
    Create,
    /// Account data: the family name.
    ChangeAttributes,
    /// The self-service attribute.
    ChangeTimeZone,
    /// Grant the security role user-management (take it away from an
    /// account that holds it: an actor's own, for the self rows).
    ChangeRoles,
    /// Grant the security role remote-assistance (which only the super
    /// admin holds).
    GrantRoleNotHeld,
    /// Account type: to Administrator (to Remote Assistance Technician when
    /// the account already is an Administrator).
    ChangeType,
    /// Make the account an account admin (a super admin, if it is one).
    ChangeAdminLevel,
    Deactivate,
    ResetPassword,
    /// LDAP Password Modify carrying a wrong old password: must not become
    /// a way to test passwords of accounts one may not change.
    ResetPasswordWrongOld,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Face {
    Ldap,
    Scim,
    Web,
    Console,
}

const FACES: &[Face] = &[Face::Ldap, Face::Scim, Face::Web, Face::Console];

/// The actions each face offers, and on which targets.
fn applies(face: Face, action: Action, target: Target) -> bool {
    use Action::*;
    match face {
        // LDAP writes are refused for everyone (unwillingToPerform): the
        // LDAP face reads, and changes passwords with Password Modify.
        Face::Ldap => matches!(action, Read | ResetPassword | ResetPasswordWrongOld),
        Face::Scim => action != ResetPasswordWrongOld,
        // The pages only ever address the signed-in account.
        Face::Web => {
            target == Target::Myself && matches!(action, Read | ChangeTimeZone | ResetPassword)
        }
        // The console sets no password (it sends reset links) and grants
        // admin levels in a form of its own, for super admins only.
        Face::Console => !matches!(
            action,
            ResetPassword | ResetPasswordWrongOld | ChangeAdminLevel
        ),
    }
}

// --- the expected answers -------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Done: it took effect.
    Allow,
    /// Refused because of the rules: SCIM 403, LDAP insufficientAccessRights.
    Forbidden,
    /// The target is outside what the actor may see, answered exactly as a
    /// missing entry: SCIM 404, LDAP an empty search / noSuchObject.
    Hidden,
    /// A create naming a manager or group the actor cannot see: SCIM 400
    /// invalidValue ("no such user"), or 403 when the actor may not create
    /// at all; never a hint that the hidden one exists.
    UnseenReference,
    /// The attribute cannot be changed through this face: SCIM 400 mutability.
    ReadOnly,
    /// Password Modify with a wrong old password on an account the actor
    /// may change: LDAP invalidCredentials.
    WrongOldPassword,
}

/// The table: the expected answer of every cell, from DESIGN.md, first
/// matching rule wins.
fn expected(a: &ActorSpec, t: Target, action: Action) -> Expect {
    use Action::*;
    use Expect::*;
    let me = t == Target::Myself;
    let (manager, place) = shape(a, t);
    let read_only = matches!(
        a.kind,
        Kind::ReportReader | Kind::RemoteTechnician | Kind::ReaderWithRole
    );

    if action == ResetPasswordWrongOld {
        // The same verdict as a reset; where a reset would be done, the
        // wrong old password is what is refused.
        return match expected(a, t, ResetPassword) {
            Allow => WrongOldPassword,
            other => other,
        };
    }
    if action == Create {
        let manager_seen = match manager {
            Manager::Actor | Manager::ActorsSub | Manager::Peer => true,
            Manager::PeerOutside => a.sees(a.outside()),
        };
        return match () {
            // "restrict access to ...: the user then sees only that node and its subgroups, and the people in them, and nothing else, through every face"
            _ if !manager_seen || !a.sees(place) => UnseenReference,
            // "Super admin: everything, everywhere"
            _ if a.kind == Kind::Super => Allow,
            // "Report Reader: read only. Remote Assistance Technician: read only" (holding a role does not lift it)
            _ if read_only => Forbidden,
            // "Account admin: everything inside one business entity" (manager and group are inside: seen above)
            _ if a.kind == Kind::AccountAdmin => Allow,
            // "A user holding the user-management role creates sub-users": its own (itself or its branch as the manager)
            _ if a.kind == Kind::Manager => {
                if matches!(manager, Manager::Actor | Manager::ActorsSub) {
                    Allow
                } else {
                    Forbidden
                }
            }
            // Without the user-management role nobody creates accounts (Administrator or not).
            _ => Forbidden,
        };
    }
    if action == Read {
        // "Anyone may read and change their own password, ..."; "restrict access to ...: sees only that node and its subgroups, and the people in them, and nothing else, through every face"; "Account admin: everything inside one business entity"
        return if me || a.sees(place) { Allow } else { Hidden };
    }
    // "A bound user's search returns only what that user may see" (and an entry outside it answers as a missing one)
    if !me && !a.sees(place) {
        return Hidden;
    }
    // adminLevel is readOnly in SCIM ("Granted with the dirgate command line, never over SCIM", schemas/scim/DirgateUser.json; RFC 7644 3.5.2: 400 mutability, for everyone, the super admin included); "Super admin: the only one who may create super admins and account admins"
    if action == ChangeAdminLevel {
        return ReadOnly;
    }
    // "Anyone may read and change their own password, time zone and two-factor enrolment."
    if me && matches!(action, ChangeTimeZone | ResetPassword) {
        return Allow;
    }
    // "Super admin: everything, everywhere"
    if a.kind == Kind::Super {
        return Allow;
    }
    // Beyond those three, one's own account is changed by those above it: the user-management sentence names "its own sub-users ... and nothing else".
    if me {
        return Forbidden;
    }
    // "Report Reader: read only. Remote Assistance Technician: read only, plus the remote-assistance right"
    if read_only {
        return Forbidden;
    }
    // "security roles: named permissions ...; nobody grants a role they do not hold" (the targets here hold no role: these are grants)
    if action == ChangeRoles && !a.holds("user-management")
        || action == GrantRoleNotHeld && !a.holds("remote-assistance")
    {
        return Forbidden;
    }
    match a.kind {
        // "Account admin: everything inside one business entity" (inside: seen above)
        Kind::AccountAdmin => Allow,
        // "A user holding the user-management role ... may change the account data, roles and status of its own sub-users and of everything below them in its branch, and nothing else; never beyond its own restricted scope"
        Kind::Manager if matches!(manager, Manager::ActorsSub) => Allow,
        Kind::Manager => Forbidden,
        // Without the user-management role: "and nothing else".
        _ => Forbidden,
    }
}

// --- the cells ------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Cell {
    actor: usize,
    target: Target,
    action: Action,
    face: Face,
    expect: Expect,
    /// Who acts: the actor, or (for a change of one's own account) a fresh
    /// copy of it, so that one cell cannot spoil the next.
    acting: String,
    /// The account acted on (for a create: the new account's user name).
    subject: String,
}

const ACTIONS: &[Action] = &[
    Action::Read,
    Action::Create,
    Action::ChangeAttributes,
    Action::ChangeTimeZone,
    Action::ChangeRoles,
    Action::GrantRoleNotHeld,
    Action::ChangeType,
    Action::ChangeAdminLevel,
    Action::Deactivate,
    Action::ResetPassword,
    Action::ResetPasswordWrongOld,
];

/// An account the fixture creates: name, manager, group, and for actors
/// and their copies the actor spec it follows.
#[derive(Debug, Clone)]
struct NewAccount {
    name: String,
    manager: Option<String>,
    member_of: Option<Place>,
    actor: Option<usize>,
}

fn generate() -> (Vec<Cell>, Vec<NewAccount>) {
    let mut cells = Vec::new();
    let mut accounts = Vec::new();
    let mut n = 0;
    for (i, a) in ACTORS.iter().enumerate() {
        accounts.push(NewAccount {
            name: a.name.into(),
            manager: None,
            member_of: None,
            actor: Some(i),
        });
        accounts.push(NewAccount {
            name: a.sub(),
            manager: Some(a.name.into()),
            member_of: Some(Place::Emea),
            actor: None,
        });
        // One read target per actor and target, shared by the faces.
        let mut read_targets = BTreeMap::new();
        for &t in TARGETS {
            if t == Target::Myself {
                continue;
            }
            let name = format!("r{}{}", a.name, t as u8);
            accounts.push(target_account(a, t, &name));
            read_targets.insert(t, name);
        }
        for &face in FACES {
            for &action in ACTIONS {
                for &t in TARGETS {
                    if !applies(face, action, t) {
                        continue;
                    }
                    n += 1;
                    let (acting, subject) = match (action, t) {
                        (Action::Create, _) => (a.name.to_owned(), format!("new{n}")),
                        (Action::Read, Target::Myself) => (a.name.to_owned(), a.name.to_owned()),
                        (Action::Read, _) => (a.name.to_owned(), read_targets[&t].clone()),
                        (_, Target::Myself) => {
                            let copy = format!("{}c{n}", a.name);
                            accounts.push(NewAccount {
                                name: copy.clone(),
                                manager: None,
                                member_of: None,
                                actor: Some(i),
                            });
                            (copy.clone(), copy)
                        }
                        (_, _) => {
                            let name = format!("t{n}");
                            accounts.push(target_account(a, t, &name));
                            (a.name.to_owned(), name)
                        }
                    };
                    cells.push(Cell {
                        actor: i,
                        target: t,
                        action,
                        face,
                        expect: expected(a, t, action),
                        acting,
                        subject,
                    });
                }
            }
        }
    }
    (cells, accounts)
}

/// An account placed as `t` is to actor `a`: under the manager and in the
/// group that target's shape gives.
fn target_account(a: &ActorSpec, t: Target, name: &str) -> NewAccount {
    let (m, place) = shape(a, t);
    NewAccount {
        name: name.to_owned(),
        manager: Some(manager_name(a, &m)),
        member_of: Some(place),
        actor: None,
    }
}

fn manager_name(a: &ActorSpec, m: &Manager) -> String {
    match m {
        Manager::Actor => a.name.into(),
        Manager::ActorsSub => a.sub(),
        Manager::Peer => "xpeer".into(),
        Manager::PeerOutside => format!("xpeer{}", a.outside().group().to_lowercase()),
    }
}

// --- HTTP over a plain socket ------------------------------------------------------

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let Some((size, rest)) = s.split_once("\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        s = &rest[size + 2..];
    }
}

struct Scim {
    addr: SocketAddr,
}

impl Scim {
    fn call(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let auth = format!("Bearer {token}");
        let text = body.map(Value::to_string).unwrap_or_default();
        http(
            self.addr,
            method,
            &format!("/scim/v2{path}"),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/scim+json"),
            ],
            &text,
        )
    }
}

/// A browser on the pages: its cookies.
struct Browser {
    addr: SocketAddr,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn request(&mut self, method: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if !cookie.is_empty() {
            headers.push(("Cookie", &cookie));
        }
        let a = http(self.addr, method, path, &headers, &body);
        for c in a.header("set-cookie") {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        a
    }

    /// Opens /account and posts `action` with its CSRF token and `fields`.
    fn fill(&mut self, action: &str, fields: &[(&str, &str)]) -> Answer {
        let page = self.request("GET", "/account", &[]);
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = form_field(&page.body, "csrf");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.request("POST", action, &all)
    }
}

// --- the fixture ------------------------------------------------------------------

struct World {
    d: Daemon,
    _tmp: tempfile::TempDir,
    scim: Scim,
    root: String,
    /// user name -> SCIM id
    ids: HashMap<String, String>,
    /// group name -> SCIM id
    groups: HashMap<String, String>,
    /// user name -> bearer token
    tokens: HashMap<String, String>,
    db: rusqlite::Connection,
    /// The answer to an id that names nobody.
    missing: Value,
}

impl World {
    fn user(&self, name: &str) -> Value {
        let a = self.scim.call(
            &self.root,
            "GET",
            &format!("/Users/{}", self.ids[name]),
            None,
        );
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        a.json()
    }
    fn find(&self, name: &str) -> Option<Value> {
        let filter = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &format!("userName eq \"{name}\""))
            .finish();
        let a = self
            .scim
            .call(&self.root, "GET", &format!("/Users?{filter}"), None);
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["Resources"].get(0).cloned()
    }
    fn hash(&self, name: &str) -> Option<String> {
        self.db
            .query_row(
                "SELECT password_hash FROM accounts WHERE user_name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    }
}

fn dn(user: &str) -> String {
    format!("uid={user},ou=people,{BASE}")
}

fn build(accounts: &[NewAccount]) -> World {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "");
    let d = Daemon::start_in(&tmp.path().join("data"), &config);
    d.secret(PW);
    d.secret(NEW_PW);
    cli(&d, &["group", "add", "Acme", "--entity"], None);
    cli(&d, &["group", "add", "Sales", "--parent", "Acme"], None);
    cli(&d, &["group", "add", "EMEA", "--parent", "Sales"], None);
    cli(&d, &["group", "add", "Ops", "--parent", "Acme"], None);
    cli(&d, &["group", "add", "Globex", "--entity"], None);
    let root = cli(&d, &["token", "issue", "admin"], None)
        .trim()
        .to_owned();
    let scim = Scim {
        addr: d.http.unwrap(),
    };

    let listed = scim.call(&root, "GET", "/Groups", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let groups: HashMap<String, String> = listed.json()["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["displayName"].as_str().unwrap().to_owned(),
                g["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    // Everyone in one /Bulk: the peers first (other managers), then the
    // actors, their copies, their sub-users and the targets; then the
    // memberships that place them.
    let mut all: Vec<NewAccount> = ["xpeer", "xpeerops", "xpeerglobex"]
        .iter()
        .zip([Place::Emea, Place::Ops, Place::Globex])
        .map(|(name, place)| NewAccount {
            name: (*name).into(),
            manager: None,
            member_of: Some(place),
            actor: None,
        })
        .collect();
    all.extend_from_slice(accounts);
    let mut ops = Vec::new();
    let mut members: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for acc in &all {
        let mut ext = serde_json::Map::new();
        let mut user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "userName": acc.name,
            "name": {"givenName": "Test", "familyName": acc.name},
        });
        match acc.actor.map(|i| &ACTORS[i]) {
            Some(spec) => {
                user["password"] = json!(PW);
                ext.insert("accountType".into(), json!(spec.account_type()));
                if !spec.roles().is_empty() {
                    ext.insert("securityRoles".into(), json!(spec.roles()));
                }
                if let Some(g) = spec.restricted_to() {
                    ext.insert("restrictedTo".into(), json!({"value": groups[g]}));
                }
            }
            None => {
                ext.insert("accountType".into(), json!("Report Reader"));
            }
        }
        user[EXT] = Value::Object(ext);
        if let Some(m) = &acc.manager {
            user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
                json!({"manager": {"value": format!("bulkId:{m}")}});
        }
        if let Some(p) = acc.member_of {
            members
                .entry(p.group())
                .or_default()
                .push(json!({"value": format!("bulkId:{}", acc.name)}));
        }
        ops.push(json!({"method": "POST", "path": "/Users", "bulkId": acc.name, "data": user}));
    }
    for (group, list) in members {
        ops.push(json!({
            "method": "PATCH",
            "path": format!("/Groups/{}", groups[group]),
            "data": {"schemas": [PATCH_OP],
                     "Operations": [{"op": "add", "path": "members", "value": list}]},
        }));
    }
    // At most 1,000 operations a request: later requests name the accounts
    // earlier ones made by their ids (a bulkId reaches only its own request).
    let mut ids: HashMap<String, String> = HashMap::new();
    for chunk in ops.chunks(1000) {
        let mut text = Value::Array(chunk.to_vec()).to_string();
        for (bulk_id, id) in &ids {
            text = text.replace(&format!("\"bulkId:{bulk_id}\""), &format!("\"{id}\""));
        }
        let chunk: Value = serde_json::from_str(&text).unwrap();
        let bulk = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": chunk,
        });
        let answer = scim.call(&root, "POST", "/Bulk", Some(&bulk));
        assert_eq!(answer.status, 200, "{}", answer.body);
        for op in answer.json()["Operations"].as_array().unwrap() {
            let status = op["status"].as_str().unwrap_or("");
            assert!(status.starts_with('2'), "bulk operation failed: {op}");
            if let Some(bulk_id) = op["bulkId"].as_str() {
                let location = op["location"].as_str().unwrap();
                ids.insert(
                    bulk_id.to_owned(),
                    location.rsplit('/').next().unwrap().to_owned(),
                );
            }
        }
    }

    // Admin levels are granted at the command line only; then one token
    // for every account that acts over SCIM.
    let actors: Vec<&NewAccount> = all.iter().filter(|a| a.actor.is_some()).collect();
    let tokens: HashMap<String, String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<&NewAccount>> = actors
            .chunks(actors.len().div_ceil(4))
            .map(<[_]>::to_vec)
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let d = &d;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for acc in chunk {
                        let spec = &ACTORS[acc.actor.unwrap()];
                        match spec.kind {
                            Kind::Super => {
                                cli(d, &["user", "set", &acc.name, "--admin", "super"], None);
                            }
                            Kind::AccountAdmin => {
                                cli(
                                    d,
                                    &[
                                        "user",
                                        "set",
                                        &acc.name,
                                        "--admin",
                                        "account",
                                        "--admin-entity",
                                        "Acme",
                                    ],
                                    None,
                                );
                            }
                            _ => {}
                        }
                        let token = cli(d, &["token", "issue", &acc.name], None)
                            .trim()
                            .to_owned();
                        out.push((acc.name.clone(), token));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    let db = rusqlite::Connection::open_with_flags(
        d.data.join("dirgate.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let missing = scim
        .call(
            &root,
            "GET",
            "/Users/00000000-0000-4000-8000-000000000000",
            None,
        )
        .json();
    World {
        d,
        _tmp: tmp,
        scim,
        root,
        ids,
        groups,
        tokens,
        db,
        missing,
    }
}

// --- checking one cell ------------------------------------------------------------

/// Runs a cell; an error says how the daemon disagreed with the table.
fn check(w: &World, ldap: &mut Ldap, cell: &Cell) -> Result<(), String> {
    match cell.face {
        Face::Scim => check_scim(w, cell),
        Face::Ldap => check_ldap(w, ldap, cell),
        Face::Web => check_web(w, cell),
        Face::Console => check_console(w, cell),
    }
}

/// Is `a` the refusal `expect` calls for? (SCIM error body included.)
fn scim_refusal(w: &World, a: &Answer, expect: Expect) -> Result<(), String> {
    let body = a.json();
    let wanted: &[u16] = match expect {
        Expect::Forbidden => &[403],
        Expect::Hidden => &[404],
        Expect::UnseenReference => &[400, 403],
        Expect::ReadOnly => &[400],
        Expect::Allow | Expect::WrongOldPassword => unreachable!(),
    };
    if !wanted.contains(&a.status) {
        return Err(format!("answered {} {}", a.status, a.body));
    }
    if body["schemas"][0] != ERROR || body["status"].as_str() != Some(a.status.to_string().as_str())
    {
        return Err(format!("not a SCIM error body: {}", a.body));
    }
    let scim_type = body["scimType"].as_str();
    match (expect, a.status) {
        (Expect::UnseenReference, 400) if scim_type != Some("invalidValue") => {
            Err(format!("scimType: {}", a.body))
        }
        (Expect::ReadOnly, _) if scim_type != Some("mutability") => {
            Err(format!("scimType: {}", a.body))
        }
        // A hidden account reads exactly like a missing one.
        (Expect::Hidden, _) if body["detail"] != w.missing["detail"] => Err(format!(
            "hidden, but not answered as missing ({}): {}",
            w.missing, a.body
        )),
        _ => Ok(()),
    }
}

fn check_scim(w: &World, cell: &Cell) -> Result<(), String> {
    let a = &ACTORS[cell.actor];
    let token = &w.tokens[&cell.acting];
    let path = |name: &str| format!("/Users/{}", w.ids[name]);
    let patch = |ops: Value| json!({"schemas": [PATCH_OP], "Operations": ops});

    if cell.action == Action::Create {
        let (m, place) = shape(a, cell.target);
        let manager = manager_name(a, &m);
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "userName": cell.subject,
            "name": {"givenName": "New", "familyName": "Account"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                {"manager": {"value": w.ids[&manager]}},
            EXT: {"accountType": "Report Reader",
                  "restrictedTo": {"value": w.groups[place.group()]}},
        });
        let answer = w.scim.call(token, "POST", "/Users", Some(&body));
        let found = w.find(&cell.subject);
        return match cell.expect {
            Expect::Allow => {
                if answer.status != 201 {
                    return Err(format!("answered {} {}", answer.status, answer.body));
                }
                let found = found.ok_or("answered 201 but no account")?;
                let got = &found["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
                    ["manager"]["value"];
                if got != &json!(w.ids[&manager]) {
                    return Err(format!("created with the wrong manager: {found}"));
                }
                Ok(())
            }
            e => {
                scim_refusal(w, &answer, e)?;
                match found {
                    None => Ok(()),
                    Some(f) => Err(format!("refused but created: {f}")),
                }
            }
        };
    }

    let before = w.user(&cell.subject);
    let hash_before = w.hash(&cell.subject);
    let answer = match cell.action {
        Action::Read => w.scim.call(token, "GET", &path(&cell.subject), None),
        Action::ChangeAttributes => w.scim.call(
            token,
            "PATCH",
            &path(&cell.subject),
            Some(&patch(json!([{"op": "replace", "path": "name.familyName", "value": "Changed"}]))),
        ),
        Action::ChangeTimeZone => w.scim.call(
            token,
            "PATCH",
            &path(&cell.subject),
            Some(&patch(json!([{"op": "replace", "path": "timezone", "value": "Asia/Tokyo"}]))),
        ),
        Action::ChangeRoles if has_role(&before, "user-management") => w.scim.call(
            token,
            "PATCH",
            &path(&cell.subject),
            Some(&patch(json!([{"op": "remove", "path": format!("{EXT}:securityRoles[value eq \"user-management\"]")}]))),
        ),
        Action::ChangeRoles | Action::GrantRoleNotHeld => {
            let role = if cell.action == Action::ChangeRoles { "user-management" } else { "remote-assistance" };
            w.scim.call(
                token,
                "PATCH",
                &path(&cell.subject),
                Some(&patch(json!([{"op": "add", "path": format!("{EXT}:securityRoles"), "value": [role]}]))),
            )
        }
        Action::ChangeType => {
            // PUT: the whole resource as the actor reads it (as a client
            // does: GET, change, PUT), with another type; the super
            // admin's reading where the actor cannot read it.
            let seen = w.scim.call(token, "GET", &path(&cell.subject), None);
            let mut body = if seen.status == 200 { seen.json() } else { before.clone() };
            body[EXT]["accountType"] = json!(new_type(&before));
            w.scim.call(token, "PUT", &path(&cell.subject), Some(&body))
        }
        Action::ChangeAdminLevel => {
            // Always another level than the account has: an account admin
            // reaches for super admin.
            let level = if before[EXT]["adminLevel"] == "Account Admin" { "Super Admin" } else { "Account Admin" };
            w.scim.call(
                token,
                "PATCH",
                &path(&cell.subject),
                Some(&patch(json!([{"op": "replace", "path": format!("{EXT}:adminLevel"), "value": level}]))),
            )
        }
        Action::Deactivate => w.scim.call(
            token,
            "PATCH",
            &path(&cell.subject),
            Some(&patch(json!([{"op": "replace", "path": "active", "value": false}]))),
        ),
        Action::ResetPassword => w.scim.call(
            token,
            "PATCH",
            &path(&cell.subject),
            Some(&patch(json!([{"op": "replace", "path": "password", "value": NEW_PW}]))),
        ),
        Action::Create | Action::ResetPasswordWrongOld => unreachable!(),
    };
    let after = w.user(&cell.subject);
    let hash_after = w.hash(&cell.subject);
    match cell.expect {
        Expect::Allow => {
            if !(200..300).contains(&answer.status) {
                return Err(format!("answered {} {}", answer.status, answer.body));
            }
            let took = match cell.action {
                Action::Read => {
                    let got = answer.json();
                    got["userName"] == json!(cell.subject) && got.get("password").is_none()
                }
                Action::ChangeAttributes => after["name"]["familyName"] == "Changed",
                Action::ChangeTimeZone => after["timezone"] == "Asia/Tokyo",
                Action::ChangeRoles => {
                    has_role(&after, "user-management") != has_role(&before, "user-management")
                }
                Action::GrantRoleNotHeld => has_role(&after, "remote-assistance"),
                Action::ChangeType => after[EXT]["accountType"] == json!(new_type(&before)),
                Action::Deactivate => after["active"] == false,
                Action::ResetPassword => hash_after.is_some() && hash_after != hash_before,
                _ => unreachable!(),
            };
            if took {
                Ok(())
            } else {
                Err(format!(
                    "answered {} but nothing took effect: {after}",
                    answer.status
                ))
            }
        }
        e => {
            scim_refusal(w, &answer, e)?;
            if after != before || hash_after != hash_before {
                return Err(format!(
                    "refused, but the account changed: {before} -> {after}"
                ));
            }
            Ok(())
        }
    }
}

fn new_type(before: &Value) -> &'static str {
    if before[EXT]["accountType"] == "Administrator" {
        "Remote Assistance Technician"
    } else {
        "Administrator"
    }
}

fn has_role(user: &Value, role: &str) -> bool {
    user[EXT]["securityRoles"]
        .as_array()
        .is_some_and(|r| r.iter().any(|v| v == role))
}

/// One bound LDAP connection per acting account, made on first use.
struct Ldap {
    url: String,
    conns: HashMap<String, ldap3::LdapConn>,
}

impl Ldap {
    fn conn(&mut self, user: &str) -> &mut ldap3::LdapConn {
        let url = self.url.clone();
        self.conns.entry(user.to_owned()).or_insert_with(|| {
            let mut c = ldap3::LdapConn::new(&url).unwrap();
            c.simple_bind(&dn(user), PW).unwrap().success().unwrap();
            c
        })
    }
}

fn check_ldap(w: &World, ldap: &mut Ldap, cell: &Cell) -> Result<(), String> {
    let conn = ldap.conn(&cell.acting);
    match cell.action {
        Action::Read => {
            let (entries, _) = conn
                .search(
                    &format!("ou=people,{BASE}"),
                    ldap3::Scope::Subtree,
                    &format!("(uid={})", cell.subject),
                    vec!["uid", "userPassword"],
                )
                .unwrap()
                .success()
                .map_err(|e| format!("search failed: {e}"))?;
            let got = entries.len();
            let wanted = usize::from(cell.expect == Expect::Allow);
            if got != wanted {
                return Err(format!("search found {got} entries"));
            }
            if let Some(e) = entries.into_iter().next() {
                let e = ldap3::SearchEntry::construct(e);
                if e.attrs.contains_key("userPassword") || e.bin_attrs.contains_key("userPassword")
                {
                    return Err("a password was returned".into());
                }
            }
            // The same through a base search on the DN: missing and hidden alike.
            let base = conn
                .search(
                    &dn(&cell.subject),
                    ldap3::Scope::Base,
                    "(objectClass=*)",
                    vec!["1.1"],
                )
                .unwrap();
            let rc = base.1.rc;
            let wanted_rc = if cell.expect == Expect::Allow { 0 } else { 32 };
            if rc != wanted_rc {
                return Err(format!("base search answered {rc}, not {wanted_rc}"));
            }
            Ok(())
        }
        Action::ResetPassword | Action::ResetPasswordWrongOld => {
            let before = w.hash(&cell.subject);
            let subject_dn = dn(&cell.subject);
            let old = (cell.action == Action::ResetPasswordWrongOld).then_some("Wrong7Guess99");
            let res = conn
                .extended(ldap3::exop::PasswordModify {
                    user_id: Some(&subject_dn),
                    old_pass: old,
                    new_pass: Some(NEW_PW),
                })
                .unwrap();
            let rc = res.1.rc;
            let after = w.hash(&cell.subject);
            let wanted = match cell.expect {
                Expect::Allow => 0,
                Expect::Forbidden => 50,
                Expect::Hidden => 32,
                Expect::WrongOldPassword => 49,
                e => unreachable!("{e:?}"),
            };
            if rc != wanted {
                return Err(format!(
                    "Password Modify answered {rc} ({}), not {wanted}",
                    res.1.text
                ));
            }
            let changed = after != before;
            if changed != (cell.expect == Expect::Allow) {
                return Err(format!("password changed: {changed}"));
            }
            Ok(())
        }
        other => unreachable!("{other:?} over LDAP"),
    }
}

fn check_web(w: &World, cell: &Cell) -> Result<(), String> {
    let mut b = Browser {
        addr: w.d.http.unwrap(),
        cookies: HashMap::new(),
    };
    let signed = b.fill(
        "/account",
        &[("user", &cell.acting), ("password", PW), ("code", "")],
    );
    if signed.status != 303 {
        return Err(format!("sign-in answered {}", signed.status));
    }
    let hash_before = w.hash(&cell.subject);
    let answer = match cell.action {
        Action::Read => b.request("GET", "/account", &[]),
        Action::ChangeTimeZone => b.fill("/account/time-zone", &[("time_zone", "Asia/Tokyo")]),
        Action::ResetPassword => b.fill(
            "/account/password",
            &[("old", PW), ("new", NEW_PW), ("new2", NEW_PW)],
        ),
        other => unreachable!("{other:?} on the pages"),
    };
    let after = w.user(&cell.subject);
    if cell.expect != Expect::Allow {
        unreachable!("the pages only hold one's own account");
    }
    if answer.status != 200 {
        return Err(format!("answered {}", answer.status));
    }
    let took = match cell.action {
        Action::Read => answer.body.contains(&format!("({})", cell.subject)),
        Action::ChangeTimeZone => after["timezone"] == "Asia/Tokyo",
        Action::ResetPassword => w.hash(&cell.subject) != hash_before,
        _ => unreachable!(),
    };
    if took {
        Ok(())
    } else {
        Err("answered 200 but nothing took effect".into())
    }
}

/// Signs in to the console as `user`; the browser and the session's CSRF
/// token.
fn console(w: &World, user: &str) -> Result<(Browser, String), String> {
    let mut b = Browser {
        addr: w.d.http.unwrap(),
        cookies: HashMap::new(),
    };
    let page = b.request("GET", "/admin", &[]);
    let csrf = form_field(&page.body, "csrf");
    let signed = b.request(
        "POST",
        "/admin/sign-in",
        &[
            ("csrf", &csrf),
            ("user", user),
            ("password", PW),
            ("code", ""),
        ],
    );
    if signed.status != 303 {
        return Err(format!("console sign-in answered {}", signed.status));
    }
    let home = b.request("GET", "/admin", &[]);
    if home.status != 200 {
        return Err(format!("the console answered {}", home.status));
    }
    let csrf = form_field(&home.body, "csrf");
    Ok((b, csrf))
}

/// Is `a` the console's refusal `expect` calls for? A hidden account
/// answers exactly as a missing one.
fn console_refusal(
    b: &mut Browser,
    a: &Answer,
    expect: Expect,
    missing_path: &str,
) -> Result<(), String> {
    let wanted: &[u16] = match expect {
        Expect::Forbidden => &[403],
        Expect::Hidden => &[404],
        Expect::UnseenReference => &[400, 403],
        _ => unreachable!(),
    };
    if !wanted.contains(&a.status) {
        return Err(format!("answered {}", a.status));
    }
    if expect == Expect::Hidden {
        let missing = b.request("GET", missing_path, &[]);
        if missing.body != a.body {
            return Err("hidden, but not answered as missing".into());
        }
    }
    Ok(())
}

fn check_console(w: &World, cell: &Cell) -> Result<(), String> {
    let a = &ACTORS[cell.actor];
    let (mut b, csrf) = console(w, &cell.acting)?;
    if cell.action == Action::Create {
        let (m, place) = shape(a, cell.target);
        let manager = manager_name(a, &m);
        let answer = b.request(
            "POST",
            "/admin/accounts/new",
            &[
                ("csrf", &csrf),
                ("user_name", &cell.subject),
                ("password", PW),
                ("password2", PW),
                ("first_name", "New"),
                ("last_name", "Account"),
                ("account_type", "report-reader"),
                ("auth_method", "password"),
                ("restricted_to", &w.groups[place.group()]),
                ("manager", &manager),
            ],
        );
        let found = w.find(&cell.subject);
        return match cell.expect {
            Expect::Allow => {
                if answer.status != 303 {
                    return Err(format!("answered {}", answer.status));
                }
                let found = found.ok_or("answered 303 but no account")?;
                let got = &found["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
                    ["manager"]["value"];
                if got != &json!(w.ids[&manager]) {
                    return Err(format!("created with the wrong manager: {found}"));
                }
                Ok(())
            }
            e => {
                console_refusal(&mut b, &answer, e, "/admin/accounts/nosuchaccount")?;
                match found {
                    None => Ok(()),
                    Some(f) => Err(format!("refused but created: {f}")),
                }
            }
        };
    }
    let entry = format!("/admin/accounts/{}", cell.subject);
    let before = w.user(&cell.subject);
    let new_type_stored = if new_type(&before) == "Administrator" {
        "administrator"
    } else {
        "remote-assistance-technician"
    };
    let removing = has_role(&before, "user-management");
    let change: Vec<(&str, &str)> = match cell.action {
        Action::Read => Vec::new(),
        Action::ChangeAttributes => vec![("last_name", "Changed")],
        Action::ChangeTimeZone => vec![("time_zone", "Asia/Tokyo")],
        Action::ChangeRoles if removing => vec![("roles-shown", "1")],
        Action::ChangeRoles => vec![("roles-shown", "1"), ("role-user-management", "on")],
        Action::GrantRoleNotHeld => vec![("roles-shown", "1"), ("role-remote-assistance", "on")],
        Action::ChangeType => vec![("account_type", new_type_stored)],
        Action::Deactivate => vec![("status", "inactive")],
        other => unreachable!("{other:?} in the console"),
    };
    let answer = if cell.action == Action::Read {
        b.request("GET", &entry, &[])
    } else {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(change);
        b.request("POST", &format!("{entry}/save"), &form)
    };
    let after = w.user(&cell.subject);
    match cell.expect {
        Expect::Allow => {
            if answer.status != 200 {
                return Err(format!("answered {}", answer.status));
            }
            let took = match cell.action {
                Action::Read => answer
                    .body
                    .contains(&format!("<dt>User Name</dt><dd>{}</dd>", cell.subject)),
                Action::ChangeAttributes => after["name"]["familyName"] == "Changed",
                Action::ChangeTimeZone => after["timezone"] == "Asia/Tokyo",
                Action::ChangeRoles => has_role(&after, "user-management") != removing,
                Action::GrantRoleNotHeld => has_role(&after, "remote-assistance"),
                Action::ChangeType => after[EXT]["accountType"] == json!(new_type(&before)),
                Action::Deactivate => after["active"] == false,
                _ => unreachable!(),
            };
            if took {
                Ok(())
            } else {
                Err(format!("answered 200 but nothing took effect: {after}"))
            }
        }
        e => {
            let missing = if cell.action == Action::Read {
                "/admin/accounts/nosuchaccount".to_owned()
            } else {
                "/admin/accounts/nosuchaccount/save".to_owned()
            };
            if e == Expect::Hidden && cell.action != Action::Read {
                // A post to a missing account's entry, for the comparison.
                let m = b.request("POST", &missing, &[("csrf", &csrf)]);
                if m.status != answer.status || m.body != answer.body {
                    return Err(format!(
                        "hidden answered {}, missing {}",
                        answer.status, m.status
                    ));
                }
            } else {
                console_refusal(&mut b, &answer, e, &missing)?;
            }
            if after != before {
                return Err(format!(
                    "refused, but the account changed: {before} -> {after}"
                ));
            }
            Ok(())
        }
    }
}

#[test]
fn every_cell_of_the_authorisation_matrix() {
    let started = Instant::now();
    let (cells, accounts) = generate();
    let w = build(&accounts);
    let setup = started.elapsed();
    let mut ldap = Ldap {
        url: format!("ldap://{}", w.d.ldap.unwrap()),
        conns: HashMap::new(),
    };

    let mut failures = Vec::new();
    let mut checked: BTreeMap<(Face, &str), usize> = BTreeMap::new();
    for cell in &cells {
        if let Err(why) = check(&w, &mut ldap, cell) {
            failures.push(format!(
                "{:?} {} {:?} {:?} (expected {:?}, acting {}, on {}): {why}",
                cell.face,
                ACTORS[cell.actor].name,
                cell.action,
                cell.target,
                cell.expect,
                cell.acting,
                cell.subject
            ));
        }
        *checked
            .entry((cell.face, ACTORS[cell.actor].name))
            .or_default() += 1;
    }

    let total: usize = checked.values().sum();
    println!(
        "authorisation matrix: {total} cells checked in {:?} (setup {setup:?})",
        started.elapsed()
    );
    for &face in FACES {
        let n: usize = checked
            .iter()
            .filter(|((f, _), _)| *f == face)
            .map(|(_, n)| n)
            .sum();
        println!("  {face:?}: {n}");
    }
    for a in ACTORS {
        let per: Vec<String> = FACES
            .iter()
            .map(|f| format!("{f:?} {}", checked.get(&(*f, a.name)).copied().unwrap_or(0)))
            .collect();
        println!(
            "  {:<10} {:?}/{:?}: {}",
            a.name,
            a.kind,
            a.scope,
            per.join(", ")
        );
    }
    let mut by_expect: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cells {
        *by_expect.entry(format!("{:?}", c.expect)).or_default() += 1;
    }
    println!("  expected answers: {by_expect:?}");
    assert_eq!(total, cells.len(), "every generated cell is checked");
    assert!(
        failures.is_empty(),
        "{} of {total} cells disagree with DESIGN.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// --- the node rights of the tree (issue 14, item 2) ----------------------------

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const OURS_GROUP: &str = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group";

/// What an actor tries on the tree. Each cell acts on a group of its own
/// (made by the super admin under the place), so no cell spoils another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeAction {
    /// A new business entity at the top of the tree.
    CreateTop,
    /// A new group under the place's group.
    CreateUnder,
    Rename,
    /// Under Ops (under EMEA for a group in Ops): within Acme, or from
    /// Globex into Acme (the attack of the review).
    Move,
    Delete,
    /// Rename the business entity Acme itself (and back).
    RenameEntity,
    /// Put the actor's own sub-user into the group.
    AddOwnSubUser,
}

const NODE_ACTIONS: &[NodeAction] = &[
    NodeAction::CreateTop,
    NodeAction::CreateUnder,
    NodeAction::Rename,
    NodeAction::Move,
    NodeAction::Delete,
    NodeAction::RenameEntity,
    NodeAction::AddOwnSubUser,
];

const PLACES: &[Place] = &[Place::Emea, Place::Ops, Place::Globex];

fn move_destination(place: Place) -> Place {
    if place == Place::Ops {
        Place::Emea
    } else {
        Place::Ops
    }
}

/// The expected answer of a node cell, from DESIGN.md, first matching
/// rule wins.
fn node_expected(a: &ActorSpec, action: NodeAction, place: Place) -> Expect {
    use Expect::*;
    use NodeAction::*;
    let read_only = matches!(
        a.kind,
        Kind::ReportReader | Kind::RemoteTechnician | Kind::ReaderWithRole
    );
    // "restrict access to ...: the user then sees only that node and its subgroups ... and nothing else, through every face"
    match action {
        CreateUnder if !a.sees(place) => return UnseenReference,
        Rename | Move | Delete | AddOwnSubUser if !a.sees(place) => return Hidden,
        Move if !a.sees(move_destination(place)) => return UnseenReference,
        RenameEntity if a.scope == Scope::Sales => return Hidden,
        _ => {}
    }
    // "a super admin creates, renames, moves and deletes them anywhere"
    if a.kind == Kind::Super {
        return Allow;
    }
    // "Report Reader: read only. Remote Assistance Technician: read only"
    if read_only {
        return Forbidden;
    }
    match (a.kind, action) {
        // "a user-management holder manages people, not the tree, and places its sub-users only in groups inside its own scope"
        (Kind::Manager | Kind::AccountAdmin, AddOwnSubUser) => Allow,
        (_, AddOwnSubUser) => Forbidden,
        // "an account admin does so inside its own entity (never the entity itself, never across entities)"
        (Kind::AccountAdmin, CreateTop | RenameEntity) => Forbidden,
        (Kind::AccountAdmin, _) => Allow,
        // "a user-management holder manages people, not the tree"; nobody else shapes it either.
        _ => Forbidden,
    }
}

fn group_body(name: &str, kind: &str, parent: Option<&str>) -> Value {
    let mut ours = json!({"kind": kind});
    if let Some(p) = parent {
        ours["parent"] = json!({"value": p});
    }
    json!({"schemas": [GROUP, OURS_GROUP], "displayName": name, OURS_GROUP: ours})
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Runs one node cell: the answer and, read back by the super admin,
/// whether it took effect.
fn check_node(
    w: &World,
    a: &ActorSpec,
    action: NodeAction,
    place: Place,
    n: usize,
    expect: Expect,
) -> Result<(), String> {
    let token = &w.tokens[a.name];
    let root = &w.root;
    let parent = &w.groups[place.group()];
    // The group the cell acts on, when it acts on one.
    let own = match action {
        NodeAction::Rename | NodeAction::Move | NodeAction::Delete | NodeAction::AddOwnSubUser => {
            let made = w.scim.call(
                root,
                "POST",
                "/Groups",
                Some(&group_body(&format!("node{n}"), "Group", Some(parent))),
            );
            assert_eq!(made.status, 201, "{}", made.body);
            Some(made.json()["id"].as_str().unwrap().to_owned())
        }
        _ => None,
    };
    let path = |id: &str| format!("/Groups/{id}");
    let (answer, took) = match action {
        NodeAction::CreateTop | NodeAction::CreateUnder => {
            let name = format!("made{n}");
            let body = if action == NodeAction::CreateTop {
                group_body(&name, "Business Entity", None)
            } else {
                group_body(&name, "Group", Some(parent))
            };
            let answer = w.scim.call(token, "POST", "/Groups", Some(&body));
            let filter = form_urlencoded::Serializer::new(String::new())
                .append_pair("filter", &format!("displayName eq \"{name}\""))
                .finish();
            let found = w.scim.call(root, "GET", &format!("/Groups?{filter}"), None);
            (answer, found.json()["totalResults"] == 1)
        }
        NodeAction::Rename => {
            let id = own.as_deref().unwrap();
            let answer = w.scim.call(
                token,
                "PATCH",
                &path(id),
                Some(&patch(json!([{"op": "replace", "path": "displayName", "value": format!("renamed{n}")}]))),
            );
            let after = w.scim.call(root, "GET", &path(id), None).json();
            (answer, after["displayName"] == format!("renamed{n}"))
        }
        NodeAction::Move => {
            let id = own.as_deref().unwrap();
            let dest = &w.groups[move_destination(place).group()];
            let answer = w.scim.call(
                token,
                "PATCH",
                &path(id),
                Some(&patch(json!([{"op": "replace", "path": format!("{OURS_GROUP}:parent"), "value": {"value": dest}}]))),
            );
            let after = w.scim.call(root, "GET", &path(id), None).json();
            (
                answer,
                after[OURS_GROUP]["parent"]["value"] == dest.as_str(),
            )
        }
        NodeAction::Delete => {
            let id = own.as_deref().unwrap();
            let answer = w.scim.call(token, "DELETE", &path(id), None);
            let after = w.scim.call(root, "GET", &path(id), None);
            (answer, after.status == 404)
        }
        NodeAction::RenameEntity => {
            let acme = &w.groups["Acme"];
            let answer = w.scim.call(
                token,
                "PATCH",
                &path(acme),
                Some(&patch(
                    json!([{"op": "replace", "path": "displayName", "value": "Acme2"}]),
                )),
            );
            let after = w.scim.call(root, "GET", &path(acme), None).json();
            let took = after["displayName"] == "Acme2";
            if took {
                let back = w.scim.call(
                    root,
                    "PATCH",
                    &path(acme),
                    Some(&patch(
                        json!([{"op": "replace", "path": "displayName", "value": "Acme"}]),
                    )),
                );
                assert!((200..300).contains(&back.status), "{}", back.body);
            }
            (answer, took)
        }
        NodeAction::AddOwnSubUser => {
            let id = own.as_deref().unwrap();
            let sub = &w.ids[&a.sub()];
            let answer = w.scim.call(
                token,
                "PATCH",
                &path(id),
                Some(&patch(
                    json!([{"op": "add", "path": "members", "value": [{"value": sub}]}]),
                )),
            );
            let after = w.scim.call(root, "GET", &path(id), None).json();
            let took = after["members"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x["value"] == sub.as_str()));
            (answer, took)
        }
    };
    if took != (expect == Expect::Allow) {
        return Err(format!(
            "took effect: {took}; answered {} {}",
            answer.status, answer.body
        ));
    }
    match expect {
        Expect::Allow if (200..300).contains(&answer.status) => Ok(()),
        Expect::Allow => Err(format!("answered {} {}", answer.status, answer.body)),
        Expect::Hidden if answer.status == 404 => Ok(()),
        Expect::Forbidden if answer.status == 403 => Ok(()),
        Expect::UnseenReference if answer.status == 400 || answer.status == 403 => Ok(()),
        _ => Err(format!("answered {} {}", answer.status, answer.body)),
    }
}

#[test]
fn every_node_right_of_the_tree() {
    let started = Instant::now();
    // Only the actors and their sub-users.
    let accounts: Vec<NewAccount> = ACTORS
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            [
                NewAccount {
                    name: a.name.into(),
                    manager: None,
                    member_of: None,
                    actor: Some(i),
                },
                NewAccount {
                    name: a.sub(),
                    manager: Some(a.name.into()),
                    member_of: Some(Place::Emea),
                    actor: None,
                },
            ]
        })
        .collect();
    let w = build(&accounts);
    let mut failures = Vec::new();
    let mut by_expect: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for a in ACTORS {
        for &action in NODE_ACTIONS {
            let places: &[Place] = match action {
                NodeAction::CreateTop | NodeAction::RenameEntity => &[Place::Emea],
                _ => PLACES,
            };
            for &place in places {
                n += 1;
                let expect = node_expected(a, action, place);
                *by_expect.entry(format!("{expect:?}")).or_default() += 1;
                if let Err(why) = check_node(&w, a, action, place, n, expect) {
                    failures.push(format!(
                        "{} {action:?} {place:?} (expected {expect:?}): {why}",
                        a.name
                    ));
                }
            }
        }
    }
    println!(
        "node rights: {n} cells checked in {:?}; expected answers: {by_expect:?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} node cells disagree with DESIGN.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
