//! The fuzz harnesses: what each target in `fuzz/` does with one input,
//! and what it checks of the answer. `tests/fuzz_corpus.rs` runs the seed
//! corpus and every saved crash through these same functions in plain
//! `cargo test`, so the fuzz targets and the regression test share one path.
//!
//! Each function panics when an answer breaks the protocol (that is what
//! a fuzzer reports as a crash), and never otherwise.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::StatusCode;
use ldap3_proto::proto::{LdapMsg, LdapOp, LdapResultCode, OID_PASSWORD_MODIFY};
use ldap3_proto::LdapCodec;
use serde_json::Value;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::config::Config;
use crate::core::audit::Face;
use crate::core::directory::{Directory, NewAccount, NewNode};
use crate::core::password::PasswordHasher;
use crate::core::throttle::ThrottleSettings;
use crate::core::validate::PasswordPolicy;
use crate::core::{Actor, Service};
use crate::http::HttpFace;
use crate::ldap::replay::{replay, End, Replay};
use crate::ldap::LdapFace;
use crate::metrics::Metrics;
use crate::model::query::Related;
use crate::model::{
    AccountId, AccountType, AdminLevel, AuthMethod, Node, NodeKind, USER_MANAGEMENT_ROLE,
};
use crate::scim::error::ERROR_SCHEMA;
use crate::scim::filter::{group_filter, group_sort, parse_filter, user_filter, user_sort};
use crate::scim::patch::{apply, matches, member_changes, parse_patch};
use crate::scim::path::{parse_attr_path, parse_patch_path};
use crate::scim::replay::Write;
use crate::scim::resource::{group_json, parse_group, parse_user, user_json, Projection};
use crate::store::SqliteStore;

/// The password of every seeded account (the corpus binds with it).
pub const PASSWORD: &str = "Corpus4Seed";
/// The base DN of the seeded directory (the default configuration's).
pub const BASE_DN: &str = "dc=example,dc=com";
const BASE_URL: &str = "https://dirgate.test/scim/v2";

/// A small organisation over a store in a folder of its own:
///
/// ```text
/// Acme (business entity)      Globex (business entity)
///   Sales  (bob)                Ops (dave)
///   Support (carol)
/// ```
///
/// admin: super admin; alice: Administrator with user management,
/// restricted to Sales, manages bob; bob: Report Reader; carol: Remote
/// Assistance Technician; dave: Report Reader with email and mobile.
pub struct World {
    runtime: tokio::runtime::Runtime,
    face: Arc<LdapFace>,
    accounts: Vec<AccountId>,
    folder: PathBuf,
}

/// The seeded accounts, in creation order.
pub const ACCOUNTS: [&str; 5] = ["admin", "alice", "bob", "carol", "dave"];

impl World {
    pub fn new() -> World {
        let folder = new_folder();
        let directory = open_directory(&folder);
        let accounts = seed(&directory, true).accounts;
        let service = Service::new(directory, 2, 1)
            .with_throttle(ThrottleSettings {
                // Failed binds must not make later inputs wait.
                free_per_account: u32::MAX,
                free_per_address: u32::MAX,
                most_wait: Duration::ZERO,
            })
            .for_face(Face::Ldap);
        let config = Config::default();
        let material =
            crate::tls::load_or_generate(&config.tls, &folder).expect("fuzz TLS material");
        let tls = crate::tls::ldap_server_config(&material).expect("fuzz TLS configuration");
        let face = LdapFace::new(service, Arc::new(config), tls, Metrics::new(None))
            .expect("default base DN");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        World {
            runtime,
            face: Arc::new(face),
            accounts,
            folder,
        }
    }

    /// The world the fuzz targets share, built on first use.
    pub fn shared() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(World::new)
    }

    fn directory(&self) -> &Directory {
        self.face.service.directory()
    }

    /// Raw bytes on a new plain connection from the loopback address: the
    /// answers, checked (see [`check_ldap`]).
    pub fn ldap_request(&self, data: &[u8]) -> Replay {
        let replayed = self.runtime.block_on(replay(self.face.clone(), data));
        check_ldap(&replayed);
        // A Password Modify may have changed a seeded password: put them
        // back, so the next input's binds mean what the corpus says.
        let changed = replayed.exchanges.iter().any(|e| {
            matches!(&e.request.op, LdapOp::ExtendedRequest(r) if r.name == OID_PASSWORD_MODIFY)
        });
        if changed {
            self.reset_passwords();
        }
        replayed
    }

    fn reset_passwords(&self) {
        let d = self.directory();
        for id in &self.accounts {
            let prepared = d.prepare_password(PASSWORD).expect("seed password");
            d.set_password(&Actor::System, *id, prepared)
                .expect("reset seeded password");
        }
    }

    /// The SCIM documents of a seeded user and group, as the SCIM face
    /// renders them: what PATCH bodies are applied to.
    pub fn scim_documents(&self) -> (Value, Value) {
        let d = self.directory();
        let alice = d
            .account(&Actor::System, self.accounts[1])
            .expect("seeded alice");
        let sales = d
            .node_by_name(&Actor::System, "Sales")
            .expect("seeded Sales");
        let related: Related = d
            .related(&Actor::System, &[&alice], &[&sales])
            .expect("relations");
        (
            user_json(&alice, &related, BASE_URL, &Projection::all()),
            group_json(&sales, &related, BASE_URL, &Projection::all()),
        )
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

const FOLDER_PREFIX: &str = "dirgate-fuzz-";

/// A new folder for a world's store.
fn new_folder() -> PathBuf {
    forget_stale_folders();
    let folder = scratch().join(format!(
        "{}{}-{}",
        FOLDER_PREFIX,
        std::process::id(),
        crate::core::random::request_id()
    ));
    std::fs::create_dir_all(&folder).expect("fuzz world folder");
    folder
}

/// A directory over a new store in `folder`, with argon2 parameters small
/// enough for a fuzzer.
fn open_directory(folder: &Path) -> Directory {
    let store = SqliteStore::open(&folder.join("dirgate.db"), 2).expect("fuzz store");
    let hasher = PasswordHasher::new(256, 1, 1).expect("argon2 parameters");
    Directory::new(Arc::new(store), PasswordPolicy::default(), hasher, "UTC")
        .expect("fuzz directory")
}

/// Memory-backed when there is one: a fuzzer writes the audit log a lot.
fn scratch() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// The shared world lives in a static and is never dropped: a later run
/// removes the folders of processes that are gone.
fn forget_stale_folders() {
    let Ok(entries) = std::fs::read_dir(scratch()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(FOLDER_PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What the seed made.
struct Seeded {
    accounts: Vec<AccountId>,
    nodes: Vec<Node>,
}

/// Seeds the organisation of [`World`]; without passwords when
/// `passwords` is false (a SCIM world, rebuilt often, needs none).
fn seed(d: &Directory, passwords: bool) -> Seeded {
    let sys = &Actor::System;
    let node = |name: &str, kind, parent| {
        d.create_node(
            sys,
            NewNode {
                name: name.into(),
                kind,
                parent,
                external_id: Some(format!("ext-{name}")),
            },
        )
        .expect("seed node")
    };
    let acme = node("Acme", NodeKind::BusinessEntity, None);
    let sales = node("Sales", NodeKind::Group, Some(acme.id));
    let support = node("Support", NodeKind::Group, Some(acme.id));
    let globex = node("Globex", NodeKind::BusinessEntity, None);
    let ops = node("Ops", NodeKind::Group, Some(globex.id));
    let account = |name: &str,
                   kind: AccountType,
                   restricted_to,
                   manager,
                   roles: &[&str],
                   email: Option<&str>| {
        let mut new = NewAccount::named(name);
        new.given_name = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        new.family_name = "Example".into();
        new.account_type = kind;
        new.auth_method = AuthMethod::Password;
        new.restricted_to = restricted_to;
        new.manager = manager;
        new.roles = roles.iter().map(|r| r.to_string()).collect();
        new.email = email.map(str::to_owned);
        new.mobile = email.map(|_| "+15550100".to_owned());
        new.external_id = Some(format!("okta-{name}"));
        if passwords {
            new.password = Some(d.prepare_password(PASSWORD).expect("seed password"));
        }
        d.create_account(sys, new).expect("seed account").id
    };
    let um = &[USER_MANAGEMENT_ROLE][..];
    let admin = account("admin", AccountType::Administrator, None, None, &[], None);
    d.set_admin_level(sys, admin, AdminLevel::SuperAdmin, None)
        .expect("super admin");
    let alice = account(
        "alice",
        AccountType::Administrator,
        Some(sales.id),
        Some(admin),
        um,
        Some("alice@example.com"),
    );
    let bob = account(
        "bob",
        AccountType::ReportReader,
        Some(sales.id),
        Some(alice),
        &[],
        None,
    );
    let carol = account(
        "carol",
        AccountType::RemoteAssistanceTechnician,
        Some(support.id),
        None,
        &[],
        None,
    );
    let dave = account(
        "dave",
        AccountType::ReportReader,
        None,
        None,
        &[],
        Some("dave@example.com"),
    );
    d.add_member(sys, sales.id, alice).expect("member");
    d.add_member(sys, sales.id, bob).expect("member");
    d.add_member(sys, support.id, carol).expect("member");
    d.add_member(sys, ops.id, dave).expect("member");
    Seeded {
        accounts: vec![admin, alice, bob, carol, dave],
        nodes: vec![acme, sales, support, globex, ops],
    }
}

/// The `ldap_request` fuzz target: raw bytes through the LDAP codec and
/// session of one connection, against the shared seeded world.
pub fn ldap_request(data: &[u8]) -> Replay {
    World::shared().ldap_request(data)
}

/// What every answer must be, whatever the request.
///
/// - every reply carries its request's message id, and encodes to BER
///   that decodes back into one message with that id;
/// - each request kind gets the answers RFC 4511 gives it: one response of
///   its own kind; a search, entries and references then exactly one
///   `SearchResultDone`; abandon and unbind, nothing (or, when they carry
///   an unsupported critical control, one refusal);
/// - malformed input ends in the notice of disconnection (message id 0),
///   StartTLS in its own extended response.
pub fn check_ldap(replayed: &Replay) {
    for exchange in &replayed.exchanges {
        let id = exchange.request.msgid;
        let replies = &exchange.replies;
        for reply in replies {
            assert_eq!(reply.msgid, id, "reply to message {id} carries another id");
            round_trip(reply);
        }
        let one = |what: &str, ok: fn(&LdapOp) -> bool| {
            assert_eq!(replies.len(), 1, "{what}: {} replies", replies.len());
            assert!(
                ok(&replies[0].op),
                "{what}: wrong reply {:?}",
                replies[0].op
            );
        };
        match &exchange.request.op {
            LdapOp::BindRequest(_) => one("bind", |op| matches!(op, LdapOp::BindResponse(_))),
            LdapOp::SearchRequest(_) => {
                let (last, entries) = replies.split_last().expect("a search has an answer");
                assert!(
                    matches!(last.op, LdapOp::SearchResultDone(_)),
                    "a search ends with SearchResultDone, not {:?}",
                    last.op
                );
                for entry in entries {
                    assert!(
                        matches!(
                            entry.op,
                            LdapOp::SearchResultEntry(_) | LdapOp::SearchResultReference(_)
                        ),
                        "inside a search: {:?}",
                        entry.op
                    );
                }
            }
            LdapOp::CompareRequest(_) => {
                one("compare", |op| matches!(op, LdapOp::CompareResult(_)))
            }
            LdapOp::ExtendedRequest(_) => {
                if !matches!(replayed.end, End::StartTls(_))
                    || !std::ptr::eq(exchange, replayed.exchanges.last().expect("this one"))
                {
                    one("extended", |op| matches!(op, LdapOp::ExtendedResponse(_)))
                }
            }
            LdapOp::AddRequest(_) => one("add", |op| matches!(op, LdapOp::AddResponse(_))),
            LdapOp::ModifyRequest(_) => one("modify", |op| matches!(op, LdapOp::ModifyResponse(_))),
            LdapOp::DelRequest(_) => one("delete", |op| matches!(op, LdapOp::DelResponse(_))),
            LdapOp::ModifyDNRequest(_) => {
                one("modify DN", |op| matches!(op, LdapOp::ModifyDNResponse(_)))
            }
            LdapOp::AbandonRequest(_) | LdapOp::UnbindRequest => assert!(
                replies.len() <= 1,
                "abandon and unbind have no answer: {replies:?}"
            ),
            // Server messages sent by a client: refused as a protocol error.
            _ => one("a server-only message", |op| {
                matches!(op, LdapOp::ExtendedResponse(r)
                    if matches!(r.res.code, LdapResultCode::ProtocolError
                        | LdapResultCode::UnavailableCriticalExtension))
            }),
        }
    }
    match &replayed.end {
        End::Malformed(notice) => {
            assert_eq!(notice.msgid, 0, "a notice of disconnection has id 0");
            round_trip(notice);
        }
        End::StartTls(answer) => {
            let last = replayed.exchanges.last().expect("the StartTLS request");
            assert_eq!(answer.msgid, last.request.msgid);
            assert!(matches!(answer.op, LdapOp::ExtendedResponse(_)));
            round_trip(answer);
        }
        End::Closed => {
            let last = replayed.exchanges.last().expect("the unbind");
            assert!(matches!(last.request.op, LdapOp::UnbindRequest));
        }
        End::Drained | End::Incomplete => {}
    }
}

/// An answer is sendable: it encodes, and a client decodes the bytes back
/// into exactly one message with the same id.
fn round_trip(msg: &LdapMsg) {
    let mut codec = LdapCodec::default();
    let mut buffer = BytesMut::new();
    codec
        .encode(msg.clone(), &mut buffer)
        .expect("an answer encodes");
    let back = codec
        .decode(&mut buffer)
        .expect("an answer decodes")
        .expect("a whole answer");
    assert_eq!(back.msgid, msg.msgid);
    assert!(buffer.is_empty(), "one answer, one message");
}

/// The `scim_filter` fuzz target: the input (as UTF-8) as a SCIM filter,
/// a PATCH path, an attribute path (`attributes=`, `sortBy=`), and a
/// filter matched against a user and a group document.
pub fn scim_filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (user, group) = sample_documents();
    if let Ok(filter) = parse_filter(text) {
        let _ = user_filter(&filter);
        let _ = group_filter(&filter);
        let _ = matches(user, &filter);
        let _ = matches(group, &filter);
    }
    if let Ok(path) = parse_patch_path(text) {
        if let Some(filter) = &path.filter {
            let _ = matches(user, filter);
        }
    }
    if let Ok(path) = parse_attr_path(text) {
        let _ = user_sort(&path, false);
        let _ = group_sort(&path, true);
        // What an attribute path prints is what it parses from.
        let printed = path.to_string();
        let again = parse_attr_path(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
        assert_eq!(again, path, "{text:?} printed as {printed:?}");
    }
    let projection = Projection::new(Some(text), None);
    projection.apply(&mut user.clone());
    let projection = Projection::new(None, Some(text));
    projection.apply(&mut group.clone());
}

/// The first half of the `scim_body` target: the input as a SCIM request
/// body, parsed as a user and as a group (create and replace), and as a
/// PatchOp applied to a seeded user's and group's documents, whose results
/// are parsed again as the PATCH handlers do.
pub fn scim_body_parsing(data: &[u8]) {
    // What `scim::body::read_json` does with the bytes.
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = parse_user(&body);
    let _ = parse_group(&body);
    let Ok(ops) = parse_patch(&body) else {
        return;
    };
    let _ = member_changes(&ops);
    let (user, group) = sample_documents();
    let mut user = user.clone();
    if apply(&mut user, &ops).is_ok() {
        let _ = parse_user(&user);
    }
    let mut group = group.clone();
    if apply(&mut group, &ops).is_ok() {
        let _ = parse_group(&group);
    }
}

/// The `scim_body` fuzz target: [`scim_body_parsing`], then the body
/// through the SCIM write handlers as the super admin (create, replace and
/// patch, of users and groups) against a seeded store. Every answer is
/// checked (see [`check_scim_answer`]). A write that succeeded changed the
/// store: the seeded one is then put back, so every input meets the same
/// directory.
pub fn scim_body(data: &[u8]) {
    scim_body_parsing(data);
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    static SCIM: Mutex<Option<ScimWorld>> = Mutex::new(None);
    let mut guard = SCIM.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let world = guard.get_or_insert_with(ScimWorld::new);
    if world.writes(&body) {
        world.reset();
    }
}

/// The SCIM face over a store of its own, seeded as [`World`]'s (without
/// passwords), with a copy of the seeded store to go back to.
pub struct ScimWorld {
    runtime: tokio::runtime::Runtime,
    face: Option<HttpFace>,
    admin: Actor,
    user: String,
    other_user: String,
    group: String,
    other_group: String,
    folder: PathBuf,
}

impl ScimWorld {
    pub fn new() -> ScimWorld {
        let folder = new_folder();
        let directory = open_directory(&folder);
        let seeded = seed(&directory, false);
        let sys = &Actor::System;
        let uuid = |i: usize| {
            directory
                .account(sys, seeded.accounts[i])
                .expect("seeded account")
                .uuid
                .to_string()
        };
        let (user, other_user) = (uuid(1), uuid(2));
        let admin = directory.actor(seeded.accounts[0]).expect("admin actor");
        crate::store::backup(&folder.join("dirgate.db"), &folder.join("seeded.db"))
            .expect("copy of the seeded store");
        ScimWorld {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
            face: Some(scim_face(directory)),
            admin,
            user,
            other_user,
            group: seeded.nodes[1].uuid.to_string(),
            other_group: seeded.nodes[2].uuid.to_string(),
            folder,
        }
    }

    /// Puts the seeded store back (far cheaper than seeding a new one).
    pub fn reset(&mut self) {
        // The store closes with the last handle on it.
        self.face = None;
        let db = self.folder.join("dirgate.db");
        crate::store::restore(&self.folder.join("seeded.db"), &db).expect("seeded store back");
        self.face = Some(scim_face(open_directory(&self.folder)));
    }

    /// Sends `body` to every write; true when one succeeded.
    pub fn writes(&self, body: &Value) -> bool {
        self.answers(body).iter().any(|s| s.is_success())
    }

    /// Sends `body` to each write in turn (create, replace and patch a
    /// user, then the same of a group), checks each answer and returns its
    /// status.
    pub fn answers(&self, body: &Value) -> Vec<StatusCode> {
        let writes = [
            Write::CreateUser,
            Write::ReplaceUser(&self.other_user),
            Write::PatchUser(&self.user),
            Write::CreateGroup,
            Write::ReplaceGroup(&self.other_group),
            Write::PatchGroup(&self.group),
        ];
        let Some(face) = &self.face else {
            return Vec::new();
        };
        let mut statuses = Vec::new();
        for what in writes {
            let (status, bytes) = self.runtime.block_on(async {
                let response =
                    crate::scim::replay::answer(face, &self.admin, what, body, BASE_URL).await;
                let status = response.status();
                let bytes = match response.into_body().collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(never) => match never {},
                };
                (status, bytes)
            });
            check_scim_answer(what, status, &bytes);
            statuses.push(status);
        }
        statuses
    }
}

/// The SCIM face over `directory`.
fn scim_face(directory: Directory) -> HttpFace {
    HttpFace::new(
        Service::new(directory, 2, 1).for_face(Face::Scim),
        Arc::new(Config::default()),
        "https://dirgate.test".into(),
        Metrics::new(None),
    )
}

impl Default for ScimWorld {
    fn default() -> Self {
        ScimWorld::new()
    }
}

impl Drop for ScimWorld {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// What every SCIM write answer must be: never a server error (a request
/// body, however wrong, is the client's fault: 4xx); an error in the
/// RFC 7644 error shape with its own status; a success, the resource (with
/// its id and schemas), or nothing for 204.
pub fn check_scim_answer(what: Write<'_>, status: StatusCode, body: &[u8]) {
    assert!(
        !status.is_server_error(),
        "{what:?}: {status} {}",
        String::from_utf8_lossy(body)
    );
    if status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "{what:?}: 204 with a body");
        return;
    }
    let doc: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what:?}: {status} answer is not JSON: {e}"));
    if status.is_success() {
        assert!(
            doc["id"].is_string(),
            "{what:?}: {status} without an id: {doc}"
        );
        assert!(
            doc["schemas"].is_array(),
            "{what:?}: {status} without schemas"
        );
    } else {
        assert!(status.is_client_error(), "{what:?}: {status}");
        assert_eq!(doc["schemas"][0], ERROR_SCHEMA, "{what:?}: {doc}");
        assert_eq!(doc["status"], status.as_str(), "{what:?}: {doc}");
    }
}

fn sample_documents() -> &'static (Value, Value) {
    static DOCUMENTS: OnceLock<(Value, Value)> = OnceLock::new();
    DOCUMENTS.get_or_init(|| World::shared().scim_documents())
}
