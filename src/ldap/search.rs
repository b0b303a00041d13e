//! LDAP search: finds which parts of the tree a request reaches, asks the
//! core for the matching people and groups (as the bound actor, so scope
//! rules apply in the query), renders the entries, and pages through them
//! with RFC 2696 cookies; a search with a sort control (RFC 2891) is read
//! whole, ordered by `sort`, and paged from what was ordered.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ldap3_proto::control::{LdapControl, ServerSortRequet};
use ldap3_proto::proto::{
    LdapFilter, LdapMsg, LdapOp, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry,
};

use super::dn::{scope_covers, Reach, Target};
use super::entry::{self, Selection};
use super::filter::{account_filter, matches_entry, node_filter};
use super::schema;
use super::session::{ldap_result, LdapError, Session};
use super::sort;
use crate::core::{Actor, CoreError, CoreResult, Directory};
use crate::model::query::{AccountField, Filter, NodeField, Related, Slice, Test, Value};
use crate::model::{Account, Node};

/// Where a paged search stands between pages. Cookies name these; the state
/// itself stays on the connection, so a client cannot forge a position.
#[derive(Debug, Clone)]
pub struct PagedState {
    /// The request the cookie belongs to (base, scope, filter, attributes).
    fingerprint: String,
    phase: Phase,
    after: Option<i64>,
    sent: u64,
    /// A sorted search: the ordered entries not sent yet.
    sorted: Option<Arc<Vec<LdapSearchResultEntry>>>,
}

/// The entries that are not rows of the store.
#[derive(Debug, Clone, Copy)]
enum Fixed {
    RootDse,
    Subschema,
    Base,
    PeopleOu,
    GroupsOu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    People,
    Groups,
}

/// The paging and limits a request asked for.
struct Limits {
    /// Entries per page when paged.
    page_size: Option<u64>,
    cookie: Vec<u8>,
    /// The most entries the whole search may return.
    size_limit: u64,
    /// The sort control's keys, when the request has one.
    sort: Option<Vec<ServerSortRequet>>,
    /// Whether that control is critical.
    sort_critical: bool,
}

pub type Paged = HashMap<Vec<u8>, PagedState>;

impl Session {
    pub(super) async fn search(
        &mut self,
        msgid: i32,
        req: LdapSearchRequest,
        controls: &[LdapControl],
        sort_critical: bool,
    ) -> Vec<LdapMsg> {
        let limits = match self.search_limits(&req, controls, sort_critical) {
            Ok(l) => l,
            Err(e) => return vec![done(msgid, e.code, &e.message, [])],
        };
        let time_limit = match req.timelimit {
            t if t > 0 => Duration::from_secs(t as u64),
            _ => Duration::from_secs(3600),
        };
        match tokio::time::timeout(time_limit, self.search_inner(msgid, &req, limits)).await {
            Ok(Ok(messages)) => messages,
            Ok(Err(e)) => vec![done(msgid, e.code, &e.message, [])],
            Err(_) => vec![done(
                msgid,
                LdapResultCode::TimeLimitExceeded,
                "the search took longer than its time limit",
                [],
            )],
        }
    }

    fn search_limits(
        &self,
        req: &LdapSearchRequest,
        controls: &[LdapControl],
        sort_critical: bool,
    ) -> Result<Limits, LdapError> {
        super::filter_cost::check(&req.filter).map_err(|e| {
            LdapError::new(
                LdapResultCode::AdminLimitExceeded,
                format!("{e}: split the search"),
            )
        })?;
        let mut page_size = None;
        let mut cookie = Vec::new();
        let mut sort = None;
        for control in controls {
            match control {
                LdapControl::SimplePagedResults { size, cookie: c } => {
                    page_size = Some(u64::try_from(*size).unwrap_or(0));
                    cookie = c.clone();
                }
                LdapControl::ServerSort { sort_requests } => sort = Some(sort_requests.clone()),
                _ => {}
            }
        }
        let admin_limit = self.face.config.ldap.max_search_entries as u64;
        let client_limit = u64::try_from(req.sizelimit).unwrap_or(0);
        let size_limit = if page_size.is_some() {
            // A paged search may walk everything, page by page; each page
            // stays within the administrative limit.
            if client_limit > 0 {
                client_limit
            } else {
                u64::MAX
            }
        } else if client_limit > 0 {
            client_limit.min(admin_limit)
        } else {
            admin_limit
        };
        Ok(Limits {
            page_size: page_size.map(|p| p.min(admin_limit)),
            cookie,
            size_limit,
            sort,
            sort_critical,
        })
    }

    async fn search_inner(
        &mut self,
        msgid: i32,
        req: &LdapSearchRequest,
        limits: Limits,
    ) -> Result<Vec<LdapMsg>, LdapError> {
        let target = self.face.layout.classify(&req.base).map_err(|e| {
            LdapError::new(
                LdapResultCode::InvalidDNSyntax,
                format!("invalid base DN: {e}"),
            )
        })?;
        self.check_anonymous_search(&target)?;
        let reach = scope_covers(&target, &req.scope);
        let selection = Selection::new(&req.attrs, req.typesonly);
        // Only paged searches need it: made when one does.
        let fingerprint = || {
            format!(
                "{}|{:?}|{:?}|{:?}|{}|{:?}",
                req.base, req.scope, req.filter, req.attrs, req.typesonly, limits.sort
            )
        };

        // Where this page starts: a fresh search, or a cookie's position.
        let resumed = if limits.cookie.is_empty() {
            None
        } else {
            let state = self.paged.remove(&limits.cookie).ok_or_else(|| {
                LdapError::new(
                    LdapResultCode::UnwillingToPerform,
                    "unknown or expired paged-results cookie",
                )
            })?;
            if state.fingerprint != fingerprint() {
                return Err(LdapError::new(
                    LdapResultCode::UnwillingToPerform,
                    "the paged-results cookie belongs to a different search",
                ));
            }
            Some(state)
        };
        if limits.page_size == Some(0) {
            // RFC 2696: size 0 abandons the paged search.
            return Ok(vec![done(
                msgid,
                LdapResultCode::Success,
                "",
                [Some(paged_control(Vec::new()))],
            )]);
        }

        // A base search on one person or group must find it (as this actor)
        // or answer noSuchObject, exactly like a DN that does not exist.
        self.check_base_exists(&target).await?;

        let mut sort_failed = None;
        if let Some(requests) = &limits.sort {
            match sort::keys(requests) {
                Ok(keys) => {
                    let fingerprint = fingerprint();
                    return self
                        .sorted_search(
                            msgid,
                            req,
                            &limits,
                            &reach,
                            &selection,
                            keys,
                            resumed,
                            fingerprint,
                        )
                        .await;
                }
                // RFC 2891 section 1.2: a critical sort that cannot be done
                // fails the search; otherwise the entries come unsorted,
                // and the sortResult says why.
                Err(e) if limits.sort_critical => {
                    return Err(LdapError::new(
                        LdapResultCode::UnavailableCriticalExtension,
                        e.message,
                    ))
                }
                Err(e) => sort_failed = Some(e),
            }
        }
        let sort_result = sort_failed.map(|e| sort::result_control(e.code, Some(&e.attribute)));

        let sent_before = resumed.as_ref().map_or(0, |s| s.sent);
        let mut page_left = limits.page_size.unwrap_or(u64::MAX);
        let mut limit_left = limits.size_limit.saturating_sub(sent_before);
        let mut out = Vec::new();
        if resumed.is_none() {
            out.extend(self.static_entries(&reach, &req.filter, &selection));
            if out.len() as u64 > limit_left {
                out.truncate(limit_left as usize);
                return Ok(finish(
                    msgid,
                    out,
                    LdapResultCode::SizeLimitExceeded,
                    "size limit exceeded",
                    [sort_result.clone()],
                ));
            }
            page_left = page_left.saturating_sub(out.len() as u64);
            limit_left -= out.len() as u64;
        }

        // Both phases are fetched in one trip to the store pool; a phase the
        // search cannot reach, or whose filter can match nothing there, is
        // not asked at all.
        let people = (reach.people || reach.one_person.is_some())
            .then(|| self.people_filter(&req.filter, &reach))
            .filter(|f| !f.matches_nothing());
        let groups = (reach.groups || reach.one_group.is_some())
            .then(|| self.groups_filter(&req.filter, &reach))
            .filter(|f| !f.matches_nothing());
        let start = Position {
            phase: resumed.as_ref().map_or(Phase::People, |s| s.phase),
            after: resumed.as_ref().and_then(|s| s.after),
        };
        let fits = page_left.min(limit_left);
        let fetched = if people.is_none() && groups.is_none() {
            Fetched::default()
        } else {
            self.as_actor(move |d, a| d.in_snapshot(|| fetch(d, a, people, groups, start, fits)))
                .await?
        };
        let layout = &self.face.layout;
        let count = (fetched.people.len() + fetched.groups.len()) as u64;
        out.extend(
            fetched
                .people
                .iter()
                .map(|a| entry::person_entry(a, &fetched.people_related, layout, &selection)),
        );
        out.extend(
            fetched
                .groups
                .iter()
                .map(|n| entry::group_entry(n, &fetched.groups_related, layout, &selection)),
        );
        limit_left -= count;
        if let Some(next) = fetched.more {
            if limit_left == 0 {
                return Ok(finish(
                    msgid,
                    out,
                    LdapResultCode::SizeLimitExceeded,
                    "size limit exceeded",
                    [sort_result.clone()],
                ));
            }
            // The page is full: hand out a cookie for the next one.
            let sent = limits.size_limit.saturating_sub(limit_left);
            let cookie = self.remember_page(fingerprint(), next.phase, next.after, sent, None);
            let controls = [Some(paged_control(cookie)), sort_result];
            return Ok(finish(msgid, out, LdapResultCode::Success, "", controls));
        }
        let control = limits.page_size.map(|_| paged_control(Vec::new()));
        Ok(finish(
            msgid,
            out,
            LdapResultCode::Success,
            "",
            [control, sort_result],
        ))
    }

    /// A search with a sort control: every matching entry (at most the
    /// administrative limit of entries) read and ordered, then sent
    /// within the size limit, or page by page from the ordered list; each
    /// answer carries the sortResult.
    #[allow(clippy::too_many_arguments)]
    async fn sorted_search(
        &mut self,
        msgid: i32,
        req: &LdapSearchRequest,
        limits: &Limits,
        reach: &Reach,
        selection: &Selection,
        keys: Vec<sort::Key>,
        resumed: Option<PagedState>,
        fingerprint: String,
    ) -> Result<Vec<LdapMsg>, LdapError> {
        let sorted_ok = || Some(sort::result_control(LdapResultCode::Success, None));
        let (ordered, sent_before) = match resumed {
            Some(state) => match state.sorted {
                Some(rest) => (rest, state.sent),
                None => {
                    return Err(LdapError::new(
                        LdapResultCode::UnwillingToPerform,
                        "the paged-results cookie belongs to a different search",
                    ))
                }
            },
            None => (
                Arc::new(self.read_sorted(req, reach, selection, &keys).await?),
                0,
            ),
        };
        let limit_left = limits.size_limit.saturating_sub(sent_before);
        let page = limits.page_size.unwrap_or(u64::MAX).min(limit_left);
        let take = (ordered.len() as u64).min(page) as usize;
        let out: Vec<LdapSearchResultEntry> = ordered[..take].to_vec();
        let rest = ordered.len() - take;
        if rest > 0 && take as u64 == limit_left {
            return Ok(finish(
                msgid,
                out,
                LdapResultCode::SizeLimitExceeded,
                "size limit exceeded",
                [sorted_ok(), None],
            ));
        }
        if rest > 0 {
            let remaining = Arc::new(ordered[take..].to_vec());
            let sent = sent_before + take as u64;
            let cookie =
                self.remember_page(fingerprint, Phase::People, None, sent, Some(remaining));
            return Ok(finish(
                msgid,
                out,
                LdapResultCode::Success,
                "",
                [Some(paged_control(cookie)), sorted_ok()],
            ));
        }
        let control = limits.page_size.map(|_| paged_control(Vec::new()));
        Ok(finish(
            msgid,
            out,
            LdapResultCode::Success,
            "",
            [control, sorted_ok()],
        ))
    }

    /// Every entry a sorted search matches, in order, with the requested
    /// attributes; more than the administrative limit is refused.
    async fn read_sorted(
        &self,
        req: &LdapSearchRequest,
        reach: &Reach,
        selection: &Selection,
        keys: &[sort::Key],
    ) -> Result<Vec<LdapSearchResultEntry>, LdapError> {
        let all = Selection::all();
        let mut entries: Vec<_> = self
            .static_entries(reach, &req.filter, &all)
            .iter()
            .map(|full| sort::sort_values(keys, full))
            .zip(self.static_entries(reach, &req.filter, selection))
            .collect();
        let people = (reach.people || reach.one_person.is_some())
            .then(|| self.people_filter(&req.filter, reach))
            .filter(|f| !f.matches_nothing());
        let groups = (reach.groups || reach.one_group.is_some())
            .then(|| self.groups_filter(&req.filter, reach))
            .filter(|f| !f.matches_nothing());
        let cap = self.face.config.ldap.max_search_entries as u64;
        let start = Position {
            phase: Phase::People,
            after: None,
        };
        let fetched = if people.is_none() && groups.is_none() {
            Fetched::default()
        } else {
            self.as_actor(move |d, a| d.in_snapshot(|| fetch(d, a, people, groups, start, cap)))
                .await?
        };
        if fetched.more.is_some() {
            return Err(LdapError::new(
                LdapResultCode::AdminLimitExceeded,
                format!("more than {cap} entries match: too many to sort; narrow the filter"),
            ));
        }
        let layout = &self.face.layout;
        for a in &fetched.people {
            let full = entry::person_entry(a, &fetched.people_related, layout, &all);
            let shown = entry::person_entry(a, &fetched.people_related, layout, selection);
            entries.push((sort::sort_values(keys, &full), shown));
        }
        for n in &fetched.groups {
            let full = entry::group_entry(n, &fetched.groups_related, layout, &all);
            let shown = entry::group_entry(n, &fetched.groups_related, layout, selection);
            entries.push((sort::sort_values(keys, &full), shown));
        }
        sort::sort(keys, &mut entries);
        Ok(entries.into_iter().map(|(_, e)| e).collect())
    }

    /// Keeps a paged search's position on the connection and names it with
    /// a random cookie. The state a connection may hold is bounded.
    fn remember_page(
        &mut self,
        fingerprint: String,
        phase: Phase,
        after: Option<i64>,
        sent: u64,
        sorted: Option<Arc<Vec<LdapSearchResultEntry>>>,
    ) -> Vec<u8> {
        if self.paged.len() >= 16 {
            self.paged.clear();
        }
        let cookie = crate::core::random::bytes::<16>().to_vec();
        self.paged.insert(
            cookie.clone(),
            PagedState {
                fingerprint,
                phase,
                after,
                sent,
                sorted,
            },
        );
        cookie
    }

    fn check_anonymous_search(&self, target: &Target) -> Result<(), LdapError> {
        if self.bound.is_some() {
            return Ok(());
        }
        let public = matches!(target, Target::RootDse | Target::Subschema);
        let allowed =
            public && self.face.config.ldap.anonymous == crate::config::AnonymousAccess::RootDse;
        if allowed {
            Ok(())
        } else {
            Err(LdapError::new(
                LdapResultCode::InsufficentAccessRights,
                if public {
                    "anonymous access is disabled: bind first"
                } else {
                    "anonymous access reaches only the root DSE and the schema: bind first"
                },
            ))
        }
    }

    async fn check_base_exists(&self, target: &Target) -> Result<(), LdapError> {
        let found = match target {
            Target::Outside | Target::Missing => false,
            Target::Person(name) => {
                let name = name.clone();
                self.as_actor(move |d, a| Ok(d.account_by_user_name(a, &name).is_ok()))
                    .await?
            }
            Target::Group(name) => {
                let name = name.clone();
                self.as_actor(move |d, a| Ok(d.node_by_name(a, &name).is_ok()))
                    .await?
            }
            _ => true,
        };
        if found {
            Ok(())
        } else {
            let matched = match target {
                Target::Outside => String::new(),
                Target::Person(_) => self.face.layout.people_dn().to_owned(),
                Target::Group(_) => self.face.layout.groups_dn().to_owned(),
                _ => self.face.layout.base_dn().to_owned(),
            };
            Err(LdapError {
                code: LdapResultCode::NoSuchObject,
                message: "no such entry".into(),
                matched,
            })
        }
    }

    /// The fixed entries a search reaches that match its filter, with the
    /// requested attributes. The filter is tested on every attribute, since
    /// it may name ones the client did not ask to see.
    fn static_entries(
        &self,
        reach: &Reach,
        filter: &LdapFilter,
        selection: &Selection,
    ) -> Vec<LdapSearchResultEntry> {
        let layout = &self.face.layout;
        let build = |which: Fixed, sel: &Selection| match which {
            Fixed::RootDse => schema::root_dse(layout, sel),
            Fixed::Subschema => schema::subschema_entry(sel),
            Fixed::Base => entry::base_entry(layout, sel),
            Fixed::PeopleOu => entry::people_ou_entry(layout, sel),
            Fixed::GroupsOu => entry::groups_ou_entry(layout, sel),
        };
        let all = Selection::all();
        [
            (reach.root_dse, Fixed::RootDse),
            (reach.subschema, Fixed::Subschema),
            (reach.base, Fixed::Base),
            (reach.people_ou, Fixed::PeopleOu),
            (reach.groups_ou, Fixed::GroupsOu),
        ]
        .into_iter()
        .filter(|(reached, _)| *reached)
        .filter(|(_, which)| matches(filter, &build(*which, &all)))
        .map(|(_, which)| build(which, selection))
        .collect()
    }

    fn people_filter(&self, filter: &LdapFilter, reach: &Reach) -> Filter<AccountField> {
        let f = account_filter(filter, &self.face.layout);
        match &reach.one_person {
            Some(name) => Filter::And(vec![
                Filter::Test(
                    AccountField::UserName,
                    Test::Equals(Value::Text(name.clone())),
                ),
                f,
            ]),
            None => f,
        }
    }

    fn groups_filter(&self, filter: &LdapFilter, reach: &Reach) -> Filter<NodeField> {
        let f = node_filter(filter, &self.face.layout);
        match &reach.one_group {
            Some(name) => Filter::And(vec![
                Filter::Test(NodeField::Name, Test::Equals(Value::Text(name.clone()))),
                f,
            ]),
            None => f,
        }
    }

    /// The bound actor as of its bind. Anonymous sessions never reach the
    /// core's data. Only for what needs no rights; anything that acts goes
    /// through `as_actor`, which reads the account as it is now.
    pub(super) fn actor(&self) -> Result<Actor, LdapError> {
        self.bound
            .clone()
            .ok_or_else(|| LdapError::new(LdapResultCode::InsufficentAccessRights, "bind first"))
    }

    /// Runs a core call on the store pool as the bound account as it is
    /// now (read in the same trip): its current status, roles, scope and
    /// reset state. When it may no longer act, or its password changed
    /// since the bind, the call is not made: the request is answered as on
    /// an unbound connection and the connection becomes unbound (see
    /// `Session::handle`).
    pub(super) async fn as_actor<T, F>(&self, call: F) -> Result<T, LdapError>
    where
        T: Send + 'static,
        F: FnOnce(&Directory, &Actor) -> CoreResult<T> + Send + 'static,
    {
        let id = self
            .actor()?
            .id()
            .ok_or_else(|| LdapError::new(LdapResultCode::InsufficentAccessRights, "bind first"))?;
        let stamp = self.bound_stamp;
        let outcome = self
            .face
            .service
            .run(move |d| match d.actor_if_unchanged(id, &stamp) {
                Ok(actor) => Ok(Some(call(d, &actor))),
                Err(CoreError::AccountUnusable(_) | CoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            })
            .await
            .map_err(LdapError::from_core)?;
        match outcome {
            Some(result) => result.map_err(LdapError::from_core),
            None => {
                self.revoked.store(true, Ordering::Relaxed);
                Err(LdapError::new(
                    LdapResultCode::InsufficentAccessRights,
                    REVOKED,
                ))
            }
        }
    }
}

/// The answer to a request on a connection whose account can no longer act.
pub(super) const REVOKED: &str =
    "bind first: the account this connection bound as can no longer act as it did (inactive, archived, reset pending or password changed)";

/// Where a search resumes: the phase and the last row id sent in it.
#[derive(Debug, Clone, Copy)]
struct Position {
    phase: Phase,
    after: Option<i64>,
}

/// What one trip to the store found for a search.
#[derive(Default)]
struct Fetched {
    people: Vec<Account>,
    people_related: Related,
    groups: Vec<Node>,
    groups_related: Related,
    /// Where the next page starts, when more entries match than fitted.
    more: Option<Position>,
}

/// Up to `fits` matching people and then groups from `start`, the names
/// they refer to, and where to go on if more match. One row more than fits
/// is asked for each phase; its presence says there is more.
fn fetch(
    d: &Directory,
    actor: &Actor,
    people: Option<Filter<AccountField>>,
    groups: Option<Filter<NodeField>>,
    start: Position,
    fits: u64,
) -> CoreResult<Fetched> {
    let mut out = Fetched::default();
    let mut left = fits;
    let slice = |after: Option<i64>, left: u64| Slice {
        after,
        offset: 0,
        limit: left.saturating_add(1),
    };
    if start.phase == Phase::People {
        if let Some(filter) = &people {
            let mut rows = d.search_accounts(actor, filter, None, slice(start.after, left))?;
            let more = rows.len() as u64 > left;
            rows.truncate(left as usize);
            left -= rows.len() as u64;
            out.people_related = d.related(actor, &rows.iter().collect::<Vec<_>>(), &[])?;
            if more {
                let after = rows.last().map(|a| a.id).or(start.after);
                out.more = Some(Position {
                    phase: Phase::People,
                    after,
                });
                out.people = rows;
                return Ok(out);
            }
            out.people = rows;
        }
    }
    if let Some(filter) = &groups {
        let after = match start.phase {
            Phase::Groups => start.after,
            Phase::People => None,
        };
        let mut rows = d.search_nodes(actor, filter, None, slice(after, left))?;
        let more = rows.len() as u64 > left;
        rows.truncate(left as usize);
        out.groups_related = d.related(actor, &[], &rows.iter().collect::<Vec<_>>())?;
        if more {
            out.more = Some(Position {
                phase: Phase::Groups,
                after: rows.last().map(|n| n.id).or(after),
            });
        }
        out.groups = rows;
    }
    Ok(out)
}

fn matches(filter: &LdapFilter, entry: &LdapSearchResultEntry) -> bool {
    matches_entry(filter, entry) == Some(true)
}

fn paged_control(cookie: Vec<u8>) -> LdapControl {
    LdapControl::SimplePagedResults { size: 0, cookie }
}

fn finish<const N: usize>(
    msgid: i32,
    entries: Vec<LdapSearchResultEntry>,
    code: LdapResultCode,
    message: &str,
    controls: [Option<LdapControl>; N],
) -> Vec<LdapMsg> {
    let mut out: Vec<LdapMsg> = entries
        .into_iter()
        .map(|e| LdapMsg::new(msgid, LdapOp::SearchResultEntry(e)))
        .collect();
    out.push(done(msgid, code, message, controls));
    out
}

fn done<const N: usize>(
    msgid: i32,
    code: LdapResultCode,
    message: &str,
    controls: [Option<LdapControl>; N],
) -> LdapMsg {
    let op = LdapOp::SearchResultDone(ldap_result(code, message));
    let controls: Vec<LdapControl> = controls.into_iter().flatten().collect();
    match controls.is_empty() {
        false => LdapMsg::new_with_ctrls(msgid, op, controls),
        true => LdapMsg::new(msgid, op),
    }
}
