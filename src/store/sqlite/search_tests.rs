//! Searching, `related`, TOTP steps and node updates, on real database files.

use jiff::Timestamp;
use uuid::Uuid;

use super::search;
use super::tests::{account_row, at, node_row, raw, Fixture};
use super::SqliteStore;
use crate::model::query::{AccountField as A, Filter, NodeField as N, Slice, Sort, Test, Value};
use crate::model::{Account, AccountId, AccountType, AdminLevel, AuthMethod, NodeId, Status};
use crate::store::{AccountUpdate, NewAccountRow, Store, StoreError, Visibility};

const ALL: Visibility = Visibility::All;

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn eq<F>(field: F, value: &str) -> Filter<F> {
    Filter::Test(field, Test::Equals(text(value)))
}

fn test<F>(field: F, test: Test) -> Filter<F> {
    Filter::Test(field, test)
}

fn not<F>(f: Filter<F>) -> Filter<F> {
    Filter::Not(Box::new(f))
}

fn sub(initial: Option<&str>, any: &[&str], last: Option<&str>) -> Test {
    Test::Substring {
        initial: initial.map(str::to_owned),
        any: any.iter().map(|s| (*s).to_owned()).collect(),
        last: last.map(str::to_owned),
    }
}

const EVERYTHING: Slice = Slice {
    after: None,
    offset: 0,
    limit: u64::MAX,
};

/// The ids of the accounts matching, checking that the count agrees.
fn find(store: &SqliteStore, vis: Visibility, filter: &Filter<A>) -> Vec<AccountId> {
    let found: Vec<AccountId> = store
        .search_accounts(vis, false, filter, None, EVERYTHING)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    let count = store.count_matching_accounts(vis, false, filter).unwrap();
    assert_eq!(count, found.len() as u64, "count of {filter:?}");
    found
}

fn find_nodes(store: &SqliteStore, vis: Visibility, filter: &Filter<N>) -> Vec<NodeId> {
    let found: Vec<NodeId> = store
        .search_nodes(vis, filter, None, EVERYTHING)
        .unwrap()
        .iter()
        .map(|n| n.id)
        .collect();
    let count = store.count_matching_nodes(vis, filter).unwrap();
    assert_eq!(count, found.len() as u64, "count of {filter:?}");
    found
}

/// A small directory:
///
/// ```text
/// Acme (entity)            Globex (entity)
///  └ Sales                  └ GlobexHR
///     └ North
///        └ NorthEast
/// ```
struct Dir {
    f: Fixture,
    acme: NodeId,
    sales: NodeId,
    north: NodeId,
    northeast: NodeId,
    globex: NodeId,
    globex_hr: NodeId,
    boss: AccountId,
    jane: AccountId,
    bob: AccountId,
    nameless: AccountId,
}

fn directory() -> Dir {
    let f = Fixture::new();
    let acme = f.node("Acme", None);
    let sales = f.node("Sales", Some(acme));
    let north = f.node("North", Some(sales));
    let northeast = f.node("NorthEast", Some(north));
    let globex = f.node("Globex", None);
    let globex_hr = f.node("GlobexHR", Some(globex));

    let boss = f.account("boss");
    let jane = f
        .store
        .insert_account(&NewAccountRow {
            given_name: "Jane".into(),
            family_name: "Doe".into(),
            email: Some("jane@example.com".into()),
            mobile: Some("+15550100".into()),
            time_zone: "Europe/Paris".into(),
            account_type: AccountType::Administrator,
            auth_method: AuthMethod::TwoFactorApp,
            restricted_to: Some(sales),
            manager: Some(boss),
            admin_level: AdminLevel::AccountAdmin,
            admin_entity: Some(acme),
            roles: vec!["user-management".into()],
            status: Status::Inactive,
            external_id: Some("Ext-1".into()),
            now: at(100),
            ..account_row("jane.doe")
        })
        .unwrap();
    let bob = f
        .store
        .insert_account(&NewAccountRow {
            given_name: String::new(),
            family_name: "Builder".into(),
            email: Some(String::new()),
            now: at(200),
            ..account_row("bob")
        })
        .unwrap();
    let nameless = f
        .store
        .insert_account(&NewAccountRow {
            given_name: String::new(),
            family_name: String::new(),
            now: at(300),
            ..account_row("nameless")
        })
        .unwrap();
    f.member(sales, jane);
    f.member(north, bob);
    Dir {
        f,
        acme,
        sales,
        north,
        northeast,
        globex,
        globex_hr,
        boss,
        jane,
        bob,
        nameless,
    }
}

// --- account fields ---------------------------------------------------------

#[test]
fn every_text_field_compares_ignoring_case() {
    let d = directory();
    let s = &d.f.store;
    let cases = [
        (A::UserName, "JANE.DOE"),
        (A::GivenName, "jANE"),
        (A::FamilyName, "DOE"),
        (A::FullName, "jane doe"),
        (A::Email, "Jane@Example.COM"),
        (A::Mobile, "+15550100"),
        (A::TimeZone, "europe/paris"),
        (A::AccountType, "ADMINISTRATOR"),
        (A::AuthMethod, "Two-Factor-App"),
        (A::Status, "INACTIVE"),
        (A::AdminLevel, "Account-Admin"),
        (A::Role, "USER-management"),
        (A::Manager, "BOSS"),
        (A::RestrictedTo, "sales"),
        (A::MemberOf, "SALES"),
    ];
    for (field, value) in cases {
        assert_eq!(find(s, ALL, &eq(field, value)), vec![d.jane], "{field:?}");
        assert_eq!(
            find(s, ALL, &eq(field, "no-such-value")),
            Vec::<AccountId>::new(),
            "{field:?}"
        );
    }
}

#[test]
fn full_name_is_the_cn() {
    let d = directory();
    let s = &d.f.store;
    assert_eq!(find(s, ALL, &eq(A::FullName, "Jane Doe")), vec![d.jane]);
    assert_eq!(find(s, ALL, &eq(A::FullName, "builder")), vec![d.bob]);
    assert_eq!(find(s, ALL, &eq(A::FullName, "NAMELESS")), vec![d.nameless]);
    // The boss has the fixture's "Given Family".
    assert_eq!(find(s, ALL, &eq(A::FullName, "given family")), vec![d.boss]);
    // A rename changes it at once.
    let rename = AccountUpdate {
        given_name: Some("Janet".into()),
        ..AccountUpdate::default()
    };
    s.update_account(d.jane, &rename, None, at(400)).unwrap();
    assert_eq!(find(s, ALL, &eq(A::FullName, "Janet Doe")), vec![d.jane]);
    // Matches Account::display_name for every account.
    for a in s
        .search_accounts(ALL, true, &Filter::True, None, EVERYTHING)
        .unwrap()
    {
        assert_eq!(
            find(s, ALL, &eq(A::FullName, &a.display_name())),
            vec![a.id]
        );
    }
}

#[test]
fn uuid_compares_lower_cased_and_external_id_exactly() {
    let d = directory();
    let s = &d.f.store;
    let jane = s.account(d.jane).unwrap().unwrap();
    let upper = jane.uuid.hyphenated().to_string().to_uppercase();
    assert_eq!(find(s, ALL, &eq(A::Uuid, &upper)), vec![d.jane]);
    assert_eq!(
        find(s, ALL, &eq(A::Uuid, &jane.uuid.to_string())),
        vec![d.jane]
    );

    assert_eq!(find(s, ALL, &eq(A::ExternalId, "Ext-1")), vec![d.jane]);
    assert!(find(s, ALL, &eq(A::ExternalId, "ext-1")).is_empty());
    assert_eq!(
        find(s, ALL, &test(A::ExternalId, sub(Some("Ext"), &[], None))),
        vec![d.jane]
    );
    assert!(find(s, ALL, &test(A::ExternalId, sub(Some("ext"), &[], None))).is_empty());
    assert_eq!(
        find(s, ALL, &test(A::ExternalId, Test::Present)),
        vec![d.jane]
    );

    assert_eq!(
        s.account_by_external_id("Ext-1").unwrap().unwrap().id,
        d.jane
    );
    assert!(s.account_by_external_id("EXT-1").unwrap().is_none());
    assert!(s.account_by_external_id("").unwrap().is_none());
}

#[test]
fn substrings_match_parts_in_order_and_escape_wildcards() {
    let f = Fixture::new();
    let s = &f.store;
    let under = f.account("a_b");
    let axb = f.account("axb");
    let percent = f.account("100%");
    let slash = f.account("back\\slash");
    let dotted = f.account("Jane.Doe");

    let like = |t: Test| find(s, ALL, &test(A::UserName, t));
    assert_eq!(like(sub(Some("a_"), &[], None)), vec![under]);
    assert_eq!(like(sub(Some("A"), &[], Some("B"))), vec![under, axb]);
    assert_eq!(like(sub(None, &["%"], None)), vec![percent]);
    assert_eq!(like(sub(None, &[], Some("\\slash"))), vec![slash]);
    assert_eq!(like(sub(Some("ja"), &["E.D"], Some("oe"))), vec![dotted]);
    // Parts do not overlap: "ja" then "ja" needs two of them.
    assert!(like(sub(Some("ja"), &[], Some("ja"))).is_empty());
    // In order: "doe" cannot come before "jane".
    assert!(like(sub(None, &["doe", "jane"], None)).is_empty());
    assert_eq!(like(sub(None, &[], None)).len(), 5);
    // Substrings of a role, a full name, a uuid.
    let uuid = s.account(axb).unwrap().unwrap().uuid.to_string();
    assert_eq!(
        find(
            s,
            ALL,
            &test(A::Uuid, sub(Some(&uuid[..8].to_uppercase()), &[], None))
        ),
        vec![axb]
    );
    assert_eq!(
        find(s, ALL, &test(A::FullName, sub(Some("given f"), &[], None))).len(),
        5
    );
}

#[test]
fn present_means_not_null_and_not_empty() {
    let d = directory();
    let s = &d.f.store;
    let present = |field| find(s, ALL, &test(field, Test::Present));
    let everyone = vec![d.boss, d.jane, d.bob, d.nameless];
    // bob's email is "" and the others' NULL.
    assert_eq!(present(A::Email), vec![d.jane]);
    assert_eq!(present(A::Mobile), vec![d.jane]);
    assert_eq!(present(A::GivenName), vec![d.boss, d.jane]);
    assert_eq!(present(A::FullName), everyone);
    assert_eq!(present(A::UserName), everyone);
    assert_eq!(present(A::Uuid), everyone);
    assert_eq!(present(A::Created), everyone);
    assert_eq!(present(A::Modified), everyone);
    assert_eq!(present(A::Role), vec![d.jane]);
    assert_eq!(present(A::Manager), vec![d.jane]);
    assert_eq!(present(A::RestrictedTo), vec![d.jane]);
    assert_eq!(present(A::MemberOf), vec![d.jane, d.bob]);
    assert_eq!(present(A::MemberOfChain), vec![d.jane, d.bob]);
    assert_eq!(
        find(s, ALL, &not(test(A::Email, Test::Present))),
        vec![d.boss, d.bob, d.nameless]
    );
}

#[test]
fn comparisons_order_text_ignoring_case_and_times_by_instant() {
    let d = directory();
    let s = &d.f.store;
    let cmp = |field, t: Test| find(s, ALL, &test(field, t));
    // boss, jane.doe, bob, nameless
    assert_eq!(
        cmp(A::UserName, Test::AtLeast(text("JANE.DOE"))),
        vec![d.jane, d.nameless]
    );
    assert_eq!(
        cmp(A::UserName, Test::After(text("JANE.DOE"))),
        vec![d.nameless]
    );
    assert_eq!(
        cmp(A::UserName, Test::AtMost(text("BOSS"))),
        vec![d.boss, d.bob]
    );
    assert_eq!(cmp(A::UserName, Test::Before(text("BOSS"))), vec![d.bob]);
    // NULL email: absent, so false either way.
    assert_eq!(cmp(A::Email, Test::AtLeast(text(""))), vec![d.jane, d.bob]);

    // Created: boss at(0), jane at(100), bob at(200), nameless at(300).
    let t = |s| Value::Time(at(s));
    assert_eq!(cmp(A::Created, Test::Equals(t(100))), vec![d.jane]);
    assert_eq!(
        cmp(A::Created, Test::AtLeast(t(200))),
        vec![d.bob, d.nameless]
    );
    assert_eq!(cmp(A::Created, Test::After(t(200))), vec![d.nameless]);
    assert_eq!(cmp(A::Created, Test::AtMost(t(100))), vec![d.boss, d.jane]);
    assert_eq!(cmp(A::Created, Test::Before(t(100))), vec![d.boss]);
    // Memberships were added at(5), bumping jane and bob.
    assert_eq!(cmp(A::Modified, Test::AtLeast(t(300))), vec![d.nameless]);
    let micro = Timestamp::from_microsecond(at(100).as_microsecond() + 1).unwrap();
    assert!(cmp(A::Created, Test::Equals(Value::Time(micro))).is_empty());
    assert_eq!(
        cmp(A::Created, Test::Before(Value::Time(micro))),
        vec![d.boss, d.jane]
    );
}

#[test]
fn a_value_of_the_wrong_kind_is_undefined() {
    let d = directory();
    let s = &d.f.store;
    let undefined = [
        test(A::UserName, Test::Equals(Value::Time(at(0)))),
        test(A::Role, Test::AtLeast(Value::Time(at(0)))),
        test(A::Created, Test::Equals(text("20240101000000Z"))),
        test(A::Modified, Test::AtLeast(text("x"))),
        test(A::Created, sub(Some("2"), &[], None)),
        test(A::Manager, sub(Some("b"), &[], None)),
        test(A::MemberOf, Test::AtLeast(text("a"))),
        test(A::RestrictedTo, Test::Before(text("z"))),
        test(A::MemberOfChain, Test::Equals(Value::Time(at(0)))),
    ];
    for f in undefined {
        assert!(find(s, ALL, &f).is_empty(), "{f:?}");
        // Undefined, not false: its negation selects nothing either.
        assert!(find(s, ALL, &not(f.clone())).is_empty(), "{f:?}");
    }
}

#[test]
fn three_valued_logic() {
    let d = directory();
    let s = &d.f.store;
    let everyone = vec![d.boss, d.jane, d.bob, d.nameless];
    let none: Vec<AccountId> = vec![];
    use Filter::{And, False, Or, True, Undefined};
    assert_eq!(find(s, ALL, &True), everyone);
    assert_eq!(find(s, ALL, &False), none);
    assert_eq!(find(s, ALL, &Undefined), none);
    assert_eq!(find(s, ALL, &not(Undefined)), none);
    assert_eq!(find(s, ALL, &Or(vec![Undefined, True])), everyone);
    assert_eq!(find(s, ALL, &Or(vec![Undefined, False])), none);
    assert_eq!(find(s, ALL, &not(Or(vec![Undefined, False]))), none);
    assert_eq!(find(s, ALL, &And(vec![Undefined, False])), none);
    assert_eq!(find(s, ALL, &not(And(vec![Undefined, False]))), everyone);
    assert_eq!(find(s, ALL, &And(vec![])), everyone);
    assert_eq!(find(s, ALL, &Or(vec![])), none);
    assert_eq!(find(s, ALL, &not(not(True))), everyone);
    // An absent value is FALSE, not undefined: (!(mail=x)) matches the
    // accounts without a mail.
    assert_eq!(
        find(s, ALL, &not(eq(A::Email, "jane@example.com"))),
        vec![d.boss, d.bob, d.nameless]
    );
    assert_eq!(
        find(s, ALL, &not(eq(A::Manager, "boss"))),
        vec![d.boss, d.bob, d.nameless]
    );
    assert_eq!(
        find(s, ALL, &not(eq(A::RestrictedTo, "sales"))),
        vec![d.boss, d.bob, d.nameless]
    );
    assert_eq!(
        find(
            s,
            ALL,
            &Or(vec![eq(A::UserName, "bob"), eq(A::MemberOf, "Sales")])
        ),
        vec![d.jane, d.bob]
    );
}

#[test]
fn member_of_chain_walks_nested_groups() {
    let d = directory();
    let s = &d.f.store;
    let deep = d.f.account("deep");
    d.f.member(d.northeast, deep);
    let top = d.f.account("top");
    d.f.member(d.acme, top);

    assert_eq!(
        find(s, ALL, &eq(A::MemberOfChain, "Acme")),
        vec![d.jane, d.bob, deep, top]
    );
    assert_eq!(
        find(s, ALL, &eq(A::MemberOfChain, "sales")),
        vec![d.jane, d.bob, deep]
    );
    assert_eq!(
        find(s, ALL, &eq(A::MemberOfChain, "NORTH")),
        vec![d.bob, deep]
    );
    assert_eq!(find(s, ALL, &eq(A::MemberOfChain, "northeast")), vec![deep]);
    assert_eq!(find(s, ALL, &eq(A::MemberOf, "Acme")), vec![top]);
    assert!(find(s, ALL, &eq(A::MemberOfChain, "Globex")).is_empty());
    // Two chains in one filter.
    assert_eq!(
        find(
            s,
            ALL,
            &Filter::And(vec![
                eq(A::MemberOfChain, "acme"),
                not(eq(A::MemberOfChain, "north"))
            ])
        ),
        vec![d.jane, top]
    );
}

#[test]
fn archived_accounts_only_when_asked_for() {
    let d = directory();
    let s = &d.f.store;
    let archive = AccountUpdate {
        archived: Some(true),
        ..AccountUpdate::default()
    };
    s.update_account(d.bob, &archive, None, at(500)).unwrap();
    assert!(find(s, ALL, &eq(A::UserName, "bob")).is_empty());
    let with_archived = s
        .search_accounts(ALL, true, &eq(A::UserName, "bob"), None, EVERYTHING)
        .unwrap();
    assert_eq!(with_archived.len(), 1);
    assert_eq!(
        s.count_matching_accounts(ALL, true, &eq(A::UserName, "bob"))
            .unwrap(),
        1
    );
    // Nor is an archived member a member for a node search.
    assert!(find_nodes(s, ALL, &eq(N::Member, "bob")).is_empty());
}

// --- visibility -------------------------------------------------------------

#[test]
fn a_restricted_reader_learns_nothing_of_hidden_groups_and_accounts() {
    let d = directory();
    let s = &d.f.store;
    let admin = d.f.account("globexadmin");
    // Visible to the Globex admin (member of GlobexHR), but also in the
    // hidden Sales, managed by the hidden boss, restricted to hidden North.
    let both = s
        .insert_account(&NewAccountRow {
            manager: Some(d.boss),
            restricted_to: Some(d.north),
            admin_entity: Some(d.acme),
            ..account_row("both")
        })
        .unwrap();
    d.f.member(d.globex_hr, both);
    d.f.member(d.sales, both);
    let vis = Visibility::Subtree {
        root: d.globex,
        self_id: admin,
    };

    assert_eq!(find(s, vis, &Filter::True), vec![admin, both]);
    // Everyone sees these through `All`...
    for f in [
        eq(A::MemberOf, "Sales"),
        eq(A::MemberOfChain, "Acme"),
        eq(A::RestrictedTo, "North"),
        eq(A::Manager, "boss"),
    ] {
        assert_eq!(find(s, ALL, &f).last(), Some(&both), "{f:?}");
        // ...but the Globex admin gets nothing, and a negation treats the
        // hidden reference as absent.
        assert!(find(s, vis, &f).is_empty(), "{f:?}");
        assert_eq!(find(s, vis, &not(f.clone())), vec![admin, both], "{f:?}");
    }
    assert!(find(s, vis, &test(A::Manager, Test::Present)).is_empty());
    assert!(find(s, vis, &test(A::RestrictedTo, Test::Present)).is_empty());
    assert_eq!(find(s, vis, &test(A::MemberOf, Test::Present)), vec![both]);
    assert_eq!(find(s, vis, &eq(A::MemberOf, "globexhr")), vec![both]);
    assert_eq!(find(s, vis, &eq(A::MemberOfChain, "GLOBEX")), vec![both]);
    // A manager visible to the reader is found.
    let visible_boss = s
        .insert_account(&NewAccountRow {
            manager: Some(admin),
            ..account_row("underling")
        })
        .unwrap();
    d.f.member(d.globex, visible_boss);
    assert_eq!(
        find(s, vis, &eq(A::Manager, "globexadmin")),
        vec![visible_boss]
    );

    // Nodes: only the subtree, and no references out of it.
    assert_eq!(
        find_nodes(s, vis, &Filter::True),
        vec![d.globex, d.globex_hr]
    );
    assert!(find_nodes(s, vis, &eq(N::Name, "Sales")).is_empty());
    assert!(find_nodes(s, vis, &eq(N::Parent, "Acme")).is_empty());
    assert_eq!(
        find_nodes(s, vis, &eq(N::Member, "both")),
        vec![d.globex_hr]
    );
    assert!(find_nodes(s, vis, &eq(N::Member, "boss")).is_empty());
    // GlobexHR's parent is visible, Globex's parent does not exist.
    assert_eq!(
        find_nodes(s, vis, &test(N::Parent, Test::Present)),
        vec![d.globex_hr]
    );

    // related: hidden groups and the hidden manager are not named.
    let both_row = s.account(both).unwrap().unwrap();
    let hr = s.node(d.globex_hr).unwrap().unwrap();
    let r = s.related(vis, &[&both_row], &[&hr]).unwrap();
    assert_eq!(r.groups_of.get(&both), Some(&vec![d.globex_hr]));
    assert!(!r.node_names.contains_key(&d.sales));
    assert!(!r.node_names.contains_key(&d.north)); // restricted_to
    assert!(!r.node_names.contains_key(&d.acme)); // admin_entity
    assert!(!r.account_names.contains_key(&d.boss)); // manager
    assert_eq!(r.account_names.get(&both).map(String::as_str), Some("both"));
    assert_eq!(
        r.node_names.get(&d.globex_hr).map(String::as_str),
        Some("GlobexHR")
    );
    assert_eq!(r.members_of.get(&d.globex_hr), Some(&vec![both]));
    // Everything, through `All`.
    let r = s.related(ALL, &[&both_row], &[&hr]).unwrap();
    assert_eq!(r.groups_of.get(&both), Some(&vec![d.sales, d.globex_hr]));
    for node in [d.sales, d.north, d.acme, d.globex, d.globex_hr] {
        assert!(r.node_names.contains_key(&node), "{node}");
    }
    assert_eq!(
        r.account_names.get(&d.boss).map(String::as_str),
        Some("boss")
    );

    // Self only: the account itself, and no nodes at all.
    let me = Visibility::SelfOnly { self_id: both };
    assert_eq!(find(s, me, &Filter::True), vec![both]);
    assert!(find(s, me, &eq(A::MemberOf, "GlobexHR")).is_empty());
    assert!(find_nodes(s, me, &Filter::True).is_empty());
    let r = s.related(me, &[&both_row], &[&hr]).unwrap();
    assert!(r.node_names.is_empty() && r.groups_of.is_empty() && r.members_of.is_empty());
    assert_eq!(r.account_names.len(), 1);
}

// --- paging -----------------------------------------------------------------

#[test]
fn keyset_paging_walks_every_row_once() {
    let f = Fixture::new();
    // Names sort in another order than ids: paging follows the ids.
    let all: Vec<AccountId> = (0..26)
        .map(|i| f.account(&format!("user{:02}", (i * 7) % 26)))
        .collect();
    let filter = test(A::UserName, Test::Present);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .store
            .search_accounts(
                ALL,
                false,
                &filter,
                None,
                Slice {
                    after,
                    offset: 0,
                    limit: 7,
                },
            )
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        after = page.last().map(|a| a.id);
        seen.extend(page.iter().map(|a| a.id));
    }
    assert_eq!(seen, all);
    assert_eq!(
        f.store
            .count_matching_accounts(ALL, false, &filter)
            .unwrap(),
        26
    );

    // Offset paging (SCIM startIndex), and both together.
    let page = |after, offset, limit| -> Vec<AccountId> {
        f.store
            .search_accounts(
                ALL,
                false,
                &filter,
                None,
                Slice {
                    after,
                    offset,
                    limit,
                },
            )
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(page(None, 10, 5), all[10..15].to_vec());
    assert_eq!(page(Some(all[4]), 2, 3), all[7..10].to_vec());
    assert_eq!(page(None, u64::MAX, u64::MAX), Vec::<AccountId>::new());
    assert_eq!(page(None, 0, 0), Vec::<AccountId>::new());
    let nodes: Vec<NodeId> = (0..5).map(|i| f.node(&format!("n{i}"), None)).collect();
    let node_page = f
        .store
        .search_nodes(
            ALL,
            &Filter::True,
            None,
            Slice {
                after: Some(nodes[1]),
                offset: 1,
                limit: 2,
            },
        )
        .unwrap();
    let ids: Vec<NodeId> = node_page.iter().map(|n| n.id).collect();
    assert_eq!(ids, nodes[3..5].to_vec());
}

// --- robustness -------------------------------------------------------------

#[test]
fn a_deeply_nested_filter_fails_cleanly_or_works() {
    let d = directory();
    let s = &d.f.store;
    for depth in [200, 2000] {
        let mut f = eq(A::UserName, "bob");
        let mut nf = eq(N::Name, "Sales");
        for i in 0..depth {
            f = if i % 2 == 0 {
                not(f)
            } else {
                Filter::And(vec![Filter::True, f])
            };
            nf = Filter::Or(vec![Filter::False, nf]);
        }
        match s.search_accounts(ALL, false, &f, None, EVERYTHING) {
            // 100 NOTs: bob again.
            Ok(rows) => assert_eq!(rows.iter().map(|a| a.id).collect::<Vec<_>>(), vec![d.bob]),
            Err(StoreError::Backend(_)) => {}
            Err(e) => panic!("{e}"),
        }
        assert!(matches!(
            s.count_matching_accounts(ALL, false, &f),
            Ok(1) | Err(StoreError::Backend(_))
        ));
        match s.search_nodes(ALL, &nf, None, EVERYTHING) {
            Ok(rows) => assert_eq!(rows.len(), 1),
            Err(StoreError::Backend(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    // A store that refused a filter still works.
    assert_eq!(find(s, ALL, &eq(A::UserName, "bob")), vec![d.bob]);
}

#[test]
fn a_long_list_of_alternatives_works() {
    let f = Fixture::new();
    let ids: Vec<AccountId> = (0..50).map(|i| f.account(&format!("u{i}"))).collect();
    let names: Vec<Filter<A>> = (0..3000)
        .map(|i| eq(A::UserName, &format!("U{i}")))
        .collect();
    assert_eq!(find(&f.store, ALL, &Filter::Or(names)), ids);
}

// --- TOTP -------------------------------------------------------------------

#[test]
fn totp_steps_are_used_once_and_in_order() {
    let f = Fixture::new();
    let s = &f.store;
    let id = f.account("totp");
    let version = s.account(id).unwrap().unwrap().version;
    assert!(s.use_totp_step(id, 1000).unwrap());
    assert!(!s.use_totp_step(id, 1000).unwrap(), "replay");
    assert!(!s.use_totp_step(id, 999).unwrap(), "an older step");
    assert!(s.use_totp_step(id, 1001).unwrap());
    assert!(!s.use_totp_step(999_999, 5).unwrap(), "no such account");
    let after = s.account(id).unwrap().unwrap();
    assert_eq!(after.version, version, "not a change of the account");

    // A new secret starts over; another change does not.
    let other = AccountUpdate {
        given_name: Some("X".into()),
        ..AccountUpdate::default()
    };
    s.update_account(id, &other, None, at(9)).unwrap();
    assert!(!s.use_totp_step(id, 1001).unwrap());
    let secret = AccountUpdate {
        totp_secret: Some(Some(vec![7; 20])),
        ..AccountUpdate::default()
    };
    s.update_account(id, &secret, None, at(10)).unwrap();
    assert!(s.use_totp_step(id, 5).unwrap());
    assert!(!s.use_totp_step(id, 5).unwrap());
}

// --- nodes ------------------------------------------------------------------

#[test]
fn every_node_field() {
    let d = directory();
    let s = &d.f.store;
    let nf = |f: &Filter<N>| find_nodes(s, ALL, f);
    let ext = s
        .insert_node(&crate::store::NewNodeRow {
            external_id: Some("G-1".into()),
            now: at(50),
            ..node_row("External", Some(d.globex))
        })
        .unwrap();

    assert_eq!(nf(&eq(N::Name, "SALES")), vec![d.sales]);
    assert_eq!(
        nf(&test(N::Name, sub(Some("north"), &[], None))),
        vec![d.north, d.northeast]
    );
    assert_eq!(
        nf(&test(N::Name, Test::AtLeast(text("north")))),
        vec![d.sales, d.north, d.northeast]
    );
    let uuid = s.node(d.north).unwrap().unwrap().uuid;
    assert_eq!(
        nf(&eq(N::Uuid, &uuid.to_string().to_uppercase())),
        vec![d.north]
    );
    assert_eq!(nf(&eq(N::ExternalId, "G-1")), vec![ext]);
    assert!(nf(&eq(N::ExternalId, "g-1")).is_empty());
    assert_eq!(nf(&test(N::ExternalId, Test::Present)), vec![ext]);
    assert_eq!(nf(&eq(N::Kind, "BUSINESS-ENTITY")), vec![d.acme, d.globex]);
    assert_eq!(nf(&eq(N::Parent, "acme")), vec![d.sales]);
    assert_eq!(
        nf(&eq(N::ParentChain, "acme")),
        vec![d.sales, d.north, d.northeast]
    );
    assert_eq!(nf(&eq(N::ParentChain, "north")), vec![d.northeast]);
    assert!(nf(&eq(N::ParentChain, "northeast")).is_empty());
    assert_eq!(
        nf(&test(N::Parent, Test::Present)),
        vec![d.sales, d.north, d.northeast, d.globex_hr, ext]
    );
    assert_eq!(nf(&test(N::ParentChain, Test::Present)).len(), 5);
    assert_eq!(nf(&eq(N::Member, "JANE.DOE")), vec![d.sales]);
    assert_eq!(nf(&test(N::Member, Test::Present)), vec![d.sales, d.north]);
    assert_eq!(nf(&eq(N::Child, "north")), vec![d.sales]);
    assert_eq!(nf(&eq(N::Child, "nothing")), Vec::<NodeId>::new());
    assert_eq!(
        nf(&test(N::Child, Test::Present)),
        vec![d.acme, d.sales, d.north, d.globex]
    );
    // A missing child reference is FALSE, not NULL, for every node.
    assert_eq!(nf(&not(eq(N::Child, "north"))).len(), 6);
    assert_eq!(
        nf(&test(N::Created, Test::AtLeast(Value::Time(at(50))))),
        vec![ext]
    );
    assert_eq!(
        nf(&test(N::Created, Test::Equals(Value::Time(at(0))))).len(),
        6
    );
    // Adding members at(5) modified Sales and North.
    assert_eq!(
        nf(&test(N::Modified, Test::AtLeast(Value::Time(at(5))))),
        vec![d.sales, d.north, ext]
    );
    assert!(nf(&test(N::Modified, Test::AtLeast(text("x")))).is_empty());
    assert!(nf(&not(test(N::Member, sub(Some("j"), &[], None)))).is_empty());
    assert!(nf(&not(test(N::Name, Test::Equals(Value::Time(at(0)))))).is_empty());
}

#[test]
fn node_by_uuid_and_update_node() {
    let f = Fixture::new();
    let s = &f.store;
    let update = |id, name: Option<&str>, external_id: Option<Option<&str>>, expected, now| {
        let change = crate::store::NodeChange {
            name: name.map(str::to_owned),
            external_id: external_id.map(|e| e.map(str::to_owned)),
            ..Default::default()
        };
        s.change_node(id, &change, expected, now)
    };
    let root = f.node("Root", None);
    let other = f.node("Other", None);
    let n = s.node(root).unwrap().unwrap();
    assert_eq!(s.node_by_uuid(n.uuid).unwrap(), Some(n.clone()));
    assert!(s.node_by_uuid(Uuid::new_v4()).unwrap().is_none());

    update(
        root,
        Some("Renamed"),
        Some(Some("X-1")),
        Some(n.version),
        at(20),
    )
    .unwrap();
    let renamed = s.node(root).unwrap().unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.external_id.as_deref(), Some("X-1"));
    assert_eq!(renamed.version, n.version + 1);
    assert_eq!(renamed.modified, at(20));
    assert_eq!(s.node_by_name("RENAMED").unwrap().map(|n| n.id), Some(root));

    // Clearing the external id only; the name stays.
    update(root, None, Some(None), None, at(21)).unwrap();
    let cleared = s.node(root).unwrap().unwrap();
    assert_eq!(cleared.name, "Renamed");
    assert_eq!(cleared.external_id, None);
    assert_eq!(cleared.version, n.version + 2);

    assert!(matches!(
        update(root, Some("Stale"), None, Some(n.version), at(22)),
        Err(StoreError::VersionMismatch("group"))
    ));
    assert!(matches!(
        update(9999, Some("Ghost"), None, None, at(22)),
        Err(StoreError::NotFound("group"))
    ));
    assert!(matches!(
        update(root, Some("OTHER"), None, None, at(22)),
        Err(StoreError::Conflict("group name"))
    ));
    assert_eq!(s.node(root).unwrap().unwrap().version, n.version + 2);
    assert_eq!(s.node(other).unwrap().unwrap().name, "Other");
}

// --- related ----------------------------------------------------------------

#[test]
fn related_names_memberships_and_children() {
    let d = directory();
    let s = &d.f.store;
    let jane = s.account(d.jane).unwrap().unwrap();
    let bob = s.account(d.bob).unwrap().unwrap();
    let acme = s.node(d.acme).unwrap().unwrap();
    let sales = s.node(d.sales).unwrap().unwrap();
    let extra = d.f.account("extra");
    d.f.member(d.sales, extra);
    d.f.member(d.north, d.jane);
    let archived = d.f.account("archived");
    d.f.member(d.sales, archived);
    s.update_account(
        archived,
        &AccountUpdate {
            archived: Some(true),
            ..AccountUpdate::default()
        },
        None,
        at(9),
    )
    .unwrap();

    let r = s.related(ALL, &[&jane, &bob], &[&acme, &sales]).unwrap();
    let name = |id: &AccountId| r.account_names.get(id).map(String::as_str);
    assert_eq!(name(&d.jane), Some("jane.doe"));
    assert_eq!(name(&d.bob), Some("bob"));
    assert_eq!(name(&d.boss), Some("boss")); // jane's manager
    assert_eq!(name(&extra), Some("extra")); // member of Sales
    assert_eq!(name(&archived), None);
    assert_eq!(r.account_names.len(), 4);

    let node = |id: &NodeId| r.node_names.get(id).map(String::as_str);
    assert_eq!(node(&d.acme), Some("Acme"));
    assert_eq!(node(&d.sales), Some("Sales"));
    assert_eq!(node(&d.north), Some("North")); // bob's group, Sales' child
    assert_eq!(r.node_names.len(), 3);

    assert_eq!(r.groups_of.get(&d.jane), Some(&vec![d.sales, d.north]));
    assert_eq!(r.groups_of.get(&d.bob), Some(&vec![d.north]));
    assert_eq!(r.members_of.get(&d.sales), Some(&vec![d.jane, extra]));
    assert_eq!(r.members_of.get(&d.acme), None);
    assert_eq!(r.children_of.get(&d.acme), Some(&vec![d.sales]));
    assert_eq!(r.children_of.get(&d.sales), Some(&vec![d.north]));

    assert_eq!(s.related(ALL, &[], &[]).unwrap(), Default::default());
}

#[test]
fn a_ten_thousand_member_group() {
    let f = Fixture::new();
    let group = f.node("Big", None);
    f.account("outsider");
    {
        // Bulk rows straight into the file, in one transaction.
        let mut conn = raw(&f.path());
        let tx = conn.transaction().unwrap();
        tx.execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
             INSERT INTO accounts (uuid, user_name, given_name, family_name, time_zone,
                 account_type, auth_method, admin_level, status, created, modified, version)
             SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
                    || substr(lower(hex(randomblob(2))), 2) || '-a'
                    || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
                 'bulk' || i, 'Bulk', 'User' || i, 'UTC', 'report-reader', 'password',
                 'none', 'active', 0, 0, 1
             FROM n;
             INSERT INTO memberships (node_id, account_id)
             SELECT {group}, id FROM accounts WHERE user_name LIKE 'bulk%';"
        ))
        .unwrap();
        tx.commit().unwrap();
    }
    let node = f.store.node(group).unwrap().unwrap();
    let r = f.store.related(ALL, &[], &[&node]).unwrap();
    let members = &r.members_of[&group];
    assert_eq!(members.len(), 10_000);
    assert!(members.windows(2).all(|w| w[0] < w[1]), "sorted by id");
    assert_eq!(r.account_names.len(), 10_000);

    let filter = eq(A::MemberOf, "big");
    assert_eq!(
        f.store
            .count_matching_accounts(ALL, false, &filter)
            .unwrap(),
        10_000
    );
    let page = f
        .store
        .search_accounts(ALL, false, &filter, None, Slice::first(100))
        .unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(page[0].id, members[0]);
    let all = f
        .store
        .search_accounts(ALL, false, &filter, None, EVERYTHING)
        .unwrap();
    let accounts: Vec<&Account> = all.iter().collect();
    let r = f.store.related(ALL, &accounts, &[]).unwrap();
    assert_eq!(r.groups_of.len(), 10_000);
    assert_eq!(r.node_names.len(), 1);
    // And restricted to the group's subtree.
    let vis = Visibility::Subtree {
        root: group,
        self_id: members[0],
    };
    assert_eq!(
        f.store
            .count_matching_accounts(vis, false, &filter)
            .unwrap(),
        10_000
    );
    let r = f.store.related(vis, &[], &[&node]).unwrap();
    assert_eq!(r.members_of[&group].len(), 10_000);
}

// --- query plans ------------------------------------------------------------

/// The plan of the account search for `filter`, one line per step.
fn account_plan(f: &Fixture, filter: &Filter<A>) -> Vec<String> {
    let query = search::accounts(ALL, false, filter, None, Slice::first(10)).unwrap();
    plan(f, &query)
}

fn plan(f: &Fixture, query: &search::Query) -> Vec<String> {
    let conn = raw(&f.path());
    let sql = format!("EXPLAIN QUERY PLAN {}", query.sql);
    let mut stmt = search::prepare(&conn, &sql, &query.binds).unwrap();
    let mut rows = stmt.raw_query();
    let mut lines = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        lines.push(row.get::<_, String>(3).unwrap());
    }
    lines
}

fn full_scan_of(lines: &[String], alias: &str) -> bool {
    lines
        .iter()
        .any(|l| l == &format!("SCAN {alias}") || l.starts_with(&format!("SCAN {alias} ")))
}

#[test]
fn equality_and_modified_since_use_indexes() {
    let d = directory();
    let jane = d.f.store.account(d.jane).unwrap().unwrap();
    let cases = [
        (eq(A::UserName, "jane.doe"), "accounts_user_name"),
        (eq(A::Email, "jane@example.com"), "accounts_email"),
        (eq(A::Uuid, &jane.uuid.to_string()), "autoindex"),
        (eq(A::FullName, "Jane Doe"), "accounts_full_name"),
        (eq(A::ExternalId, "Ext-1"), "accounts_external_id"),
        (eq(A::Manager, "boss"), "accounts_manager"),
        (eq(A::MemberOf, "Sales"), "nodes_name"),
        (eq(A::MemberOfChain, "Sales"), "nodes_name"),
        (
            test(A::Modified, Test::AtLeast(Value::Time(at(1)))),
            "accounts_modified",
        ),
        (
            test(A::Created, Test::AtLeast(Value::Time(at(1)))),
            "accounts_created",
        ),
    ];
    for (filter, index) in cases {
        let lines = account_plan(&d.f, &filter);
        assert!(!full_scan_of(&lines, "a"), "{filter:?}: {lines:#?}");
        assert!(
            lines.iter().any(|l| l.contains(index)),
            "{filter:?} uses {index}: {lines:#?}"
        );
    }
    let node_cases = [
        (eq(N::Name, "Sales"), "nodes_name"),
        (eq(N::ExternalId, "x"), "nodes_external_id"),
        (eq(N::Parent, "Acme"), "nodes_parent"),
        (eq(N::Member, "bob"), "accounts_user_name"),
    ];
    for (filter, index) in node_cases {
        let query = search::nodes(ALL, &filter, None, Slice::first(10)).unwrap();
        let lines = plan(&d.f, &query);
        assert!(!full_scan_of(&lines, "n"), "{filter:?}: {lines:#?}");
        assert!(
            lines.iter().any(|l| l.contains(index)),
            "{filter:?} uses {index}: {lines:#?}"
        );
    }
}

// --- migration --------------------------------------------------------------

#[test]
fn a_version_one_file_gains_the_search_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirgate.db");
    {
        let conn = raw(&path);
        conn.execute_batch(include_str!("migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1684632167;
             PRAGMA user_version = 1;
             INSERT INTO accounts (uuid, user_name, given_name, family_name, time_zone,
                 account_type, auth_method, admin_level, status, created, modified, version)
             VALUES ('00000000-0000-4000-8000-000000000001', 'old', 'Old', 'Timer', 'UTC',
                 'report-reader', 'password', 'none', 'active', 0, 0, 1);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path, 1).unwrap();
    let found = store
        .search_accounts(ALL, false, &eq(A::FullName, "old timer"), None, EVERYTHING)
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(store.use_totp_step(found[0].id, 1).unwrap());
}

// --- sorting ----------------------------------------------------------------

const EVERY_ACCOUNT_FIELD: [A; 20] = [
    A::UserName,
    A::GivenName,
    A::FamilyName,
    A::FullName,
    A::Email,
    A::Mobile,
    A::TimeZone,
    A::AccountType,
    A::AuthMethod,
    A::Status,
    A::AdminLevel,
    A::Uuid,
    A::ExternalId,
    A::Created,
    A::Modified,
    A::Role,
    A::Manager,
    A::RestrictedTo,
    A::MemberOf,
    A::MemberOfChain,
];

const EVERY_NODE_FIELD: [N; 10] = [
    N::Name,
    N::Uuid,
    N::ExternalId,
    N::Kind,
    N::Parent,
    N::ParentChain,
    N::Member,
    N::Child,
    N::Created,
    N::Modified,
];

/// The ids of all accounts in the order of `field`.
fn sorted(store: &SqliteStore, field: A, descending: bool) -> Vec<AccountId> {
    sorted_page(store, field, descending, 0, u64::MAX)
}

fn sorted_page(
    store: &SqliteStore,
    field: A,
    descending: bool,
    offset: u64,
    limit: u64,
) -> Vec<AccountId> {
    let slice = Slice {
        after: None,
        offset,
        limit,
    };
    let sort = Some(Sort { field, descending });
    store
        .search_accounts(ALL, false, &Filter::True, sort, slice)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect()
}

fn sorted_nodes(store: &SqliteStore, field: N, descending: bool) -> Vec<NodeId> {
    let sort = Some(Sort { field, descending });
    store
        .search_nodes(ALL, &Filter::True, sort, EVERYTHING)
        .unwrap()
        .iter()
        .map(|n| n.id)
        .collect()
}

fn reversed<T: Clone>(v: &[T]) -> Vec<T> {
    v.iter().rev().cloned().collect()
}

#[test]
fn the_store_sorts_by_exactly_the_fields_the_core_calls_sortable() {
    let d = directory();
    let s = &d.f.store;
    for field in EVERY_ACCOUNT_FIELD {
        let up = sorted(s, field, false);
        if field.sortable() {
            assert_eq!(up.len(), 4, "{field:?}");
            // Descending is ascending exactly reversed, ties and nulls too.
            assert_eq!(sorted(s, field, true), reversed(&up), "{field:?}");
        } else {
            // Never asked (the core refuses); the store falls back to ids.
            assert_eq!(up, vec![d.boss, d.jane, d.bob, d.nameless], "{field:?}");
        }
    }
    for field in EVERY_NODE_FIELD {
        let up = sorted_nodes(s, field, false);
        if field.sortable() {
            assert_eq!(sorted_nodes(s, field, true), reversed(&up), "{field:?}");
        } else {
            assert_eq!(
                up,
                vec![d.acme, d.sales, d.north, d.northeast, d.globex, d.globex_hr],
                "{field:?}"
            );
        }
    }
}

#[test]
fn absent_values_sort_last_ascending_and_first_descending() {
    let d = directory();
    let s = &d.f.store;
    // boss "Given", jane "Jane"; bob and nameless have an empty given name,
    // which SCIM shows as absent.
    assert_eq!(
        sorted(s, A::GivenName, false),
        vec![d.boss, d.jane, d.bob, d.nameless]
    );
    assert_eq!(
        sorted(s, A::GivenName, true),
        vec![d.nameless, d.bob, d.jane, d.boss]
    );
    // Only jane has an email (bob's is empty, the others NULL).
    assert_eq!(
        sorted(s, A::Email, false),
        vec![d.jane, d.boss, d.bob, d.nameless]
    );
    assert_eq!(
        sorted(s, A::Email, true),
        vec![d.nameless, d.bob, d.boss, d.jane]
    );
    assert_eq!(
        sorted(s, A::ExternalId, false),
        vec![d.jane, d.boss, d.bob, d.nameless]
    );
    // Family names: "Builder", "Doe", "Family"; nameless has none.
    assert_eq!(
        sorted(s, A::FamilyName, false),
        vec![d.bob, d.jane, d.boss, d.nameless]
    );
    // Times: created at 0 (boss), 100, 200, 300.
    assert_eq!(
        sorted(s, A::Created, true),
        vec![d.nameless, d.bob, d.jane, d.boss]
    );
    // "active" before "inactive" (jane).
    assert_eq!(
        sorted(s, A::Status, false),
        vec![d.boss, d.bob, d.nameless, d.jane]
    );
}

#[test]
fn text_sorts_ignoring_case_except_exact_fields() {
    let f = Fixture::new();
    let mut ids = Vec::new();
    for (name, external) in [("bravo", "b"), ("Charlie", "A"), ("alpha", "a")] {
        ids.push(
            f.store
                .insert_account(&NewAccountRow {
                    external_id: Some(external.into()),
                    ..account_row(name)
                })
                .unwrap(),
        );
    }
    let [bravo, charlie, alpha] = ids[..] else {
        unreachable!()
    };
    assert_eq!(
        sorted(&f.store, A::UserName, false),
        vec![alpha, bravo, charlie]
    );
    // externalId is caseExact: "A" < "a" < "b".
    assert_eq!(
        sorted(&f.store, A::ExternalId, false),
        vec![charlie, alpha, bravo]
    );

    let zed = f.node("zed", None);
    let able = f.node("Able", None);
    let mid = f.node("mid", Some(zed));
    assert_eq!(sorted_nodes(&f.store, N::Name, false), vec![able, mid, zed]);
    assert_eq!(sorted_nodes(&f.store, N::Name, true), vec![zed, mid, able]);
    // Entities ("business-entity") before groups.
    assert_eq!(sorted_nodes(&f.store, N::Kind, false), vec![zed, able, mid]);
}

#[test]
fn equal_keys_page_in_id_order_without_repeats_or_gaps() {
    let f = Fixture::new();
    // Three family names over 20 accounts, ids in another order than names.
    let ids: Vec<AccountId> = (0..20)
        .map(|i| {
            f.store
                .insert_account(&NewAccountRow {
                    family_name: ["Smith", "adams", "Jones"][i % 3].into(),
                    ..account_row(&format!("u{i:02}"))
                })
                .unwrap()
        })
        .collect();
    let of = |k: usize| -> Vec<AccountId> {
        ids.iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == k)
            .map(|(_, id)| *id)
            .collect()
    };
    let expected: Vec<AccountId> = [of(1), of(2), of(0)].concat();
    assert_eq!(sorted(&f.store, A::FamilyName, false), expected);
    for descending in [false, true] {
        let whole = sorted(&f.store, A::FamilyName, descending);
        let mut paged = Vec::new();
        for start in (0..20).step_by(3) {
            paged.extend(sorted_page(&f.store, A::FamilyName, descending, start, 3));
        }
        assert_eq!(paged, whole, "descending {descending}");
    }
    assert_eq!(
        sorted_page(&f.store, A::FamilyName, true, 0, 2),
        reversed(&expected)[..2].to_vec()
    );
}

#[test]
fn sorting_keeps_the_filter_and_visibility_and_writes_no_request_text() {
    let d = directory();
    let s = &d.f.store;
    let vis = Visibility::Subtree {
        root: d.sales,
        self_id: d.boss,
    };
    let sort = Some(Sort {
        field: A::UserName,
        descending: true,
    });
    let found: Vec<AccountId> = s
        .search_accounts(vis, false, &Filter::True, sort, EVERYTHING)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    // jane (restricted to Sales), bob (member of North), boss (self).
    assert_eq!(found, vec![d.jane, d.boss, d.bob]);
    let query = search::accounts(ALL, false, &Filter::True, sort, Slice::first(10)).unwrap();
    assert!(
        query
            .sql
            .contains("ORDER BY a.user_name COLLATE NOCASE DESC NULLS FIRST, a.id DESC"),
        "{}",
        query.sql
    );
    let query = search::nodes(
        ALL,
        &Filter::True,
        Some(Sort {
            field: N::ExternalId,
            descending: false,
        }),
        Slice::first(10),
    )
    .unwrap();
    assert!(
        query
            .sql
            .contains("ORDER BY NULLIF(n.external_id, '') ASC NULLS LAST, n.id ASC"),
        "{}",
        query.sql
    );
    // Without a sort: row-id order, as LDAP paging needs.
    let query = search::accounts(ALL, false, &Filter::True, None, Slice::first(10)).unwrap();
    assert!(query.sql.contains("ORDER BY a.id LIMIT"), "{}", query.sql);
}
