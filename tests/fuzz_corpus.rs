//! The fuzz targets' seed corpus and saved crash inputs, in plain `cargo
//! test` (issue 7): every file of `fuzz/corpus/TARGET/` and
//! `fuzz/regressions/TARGET/` goes through the same function the fuzz
//! target `TARGET` calls (`dirgate::fuzzing`), which panics on a crash or an
//! answer of the wrong shape. Also checks that the LDAP seeds mean what
//! their names say against the seeded directory, and holds the generator
//! of the seeds (`DIRGATE_WRITE_SEED_CORPUS=1 cargo test --test fuzz_corpus`).

use std::path::{Path, PathBuf};

use dirgate::fuzzing::{self, BASE_DN, PASSWORD};
use dirgate::ldap::replay::{End, Replay};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapCompareRequest, LdapDerefAliases, LdapExtendedRequest,
    LdapFilter, LdapModify, LdapModifyRequest, LdapModifyType, LdapMsg, LdapOp,
    LdapPartialAttribute, LdapPasswordModifyRequest, LdapResultCode, LdapSearchRequest,
    LdapSearchScope, SaslCredentials,
};
use ldap3_proto::{parse_ldap_filter_str, LdapCodec};
use tokio_util::codec::Encoder;

const TARGETS: [&str; 3] = ["ldap_request", "scim_filter", "scim_body"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn run(target: &str, data: &[u8]) {
    match target {
        "ldap_request" => {
            fuzzing::ldap_request(data);
        }
        "scim_filter" => fuzzing::scim_filter(data),
        "scim_body" => fuzzing::scim_body(data),
        other => panic!("no fuzz target {other}"),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_saved_crash_passes_its_harness() {
    for target in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            seeds.len() >= 20,
            "{target}: only {} seeds in fuzz/corpus/{target}",
            seeds.len()
        );
        let crashes = files(&fuzz_dir().join("regressions").join(target));
        for file in seeds.iter().chain(&crashes) {
            let data = std::fs::read(file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(target, &data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
        }
    }
}

fn replay_seed(name: &str) -> Replay {
    let data = std::fs::read(fuzz_dir().join("corpus/ldap_request").join(name)).unwrap();
    fuzzing::ldap_request(&data)
}

fn codes(replay: &Replay) -> Vec<LdapResultCode> {
    replay
        .exchanges
        .iter()
        .filter_map(|e| e.replies.last())
        .filter_map(|m| match &m.op {
            LdapOp::BindResponse(r) => Some(r.res.code.clone()),
            LdapOp::ExtendedResponse(r) => Some(r.res.code.clone()),
            LdapOp::SearchResultDone(r)
            | LdapOp::CompareResult(r)
            | LdapOp::ModifyResponse(r)
            | LdapOp::AddResponse(r)
            | LdapOp::DelResponse(r)
            | LdapOp::ModifyDNResponse(r) => Some(r.code.clone()),
            _ => None,
        })
        .collect()
}

fn entries(replay: &Replay, exchange: usize) -> Vec<String> {
    replay.exchanges[exchange]
        .replies
        .iter()
        .filter_map(|m| match &m.op {
            LdapOp::SearchResultEntry(e) => Some(e.dn.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ldap_seeds_get_the_answers_their_names_promise() {
    use LdapResultCode as C;
    let r = replay_seed("bind-admin-whoami.ber");
    assert_eq!(codes(&r), [C::Success, C::Success]);
    let LdapOp::ExtendedResponse(whoami) = &r.exchanges[1].replies[0].op else {
        panic!("whoami answer");
    };
    assert_eq!(
        whoami.value.as_deref(),
        Some(format!("dn:uid=admin,ou=people,{BASE_DN}").as_bytes())
    );

    let r = replay_seed("bind-admin-search-people.ber");
    assert_eq!(codes(&r), [C::Success, C::Success]);
    let people = entries(&r, 1);
    for name in fuzzing::ACCOUNTS {
        let dn = format!("uid={name},ou=people,{BASE_DN}");
        assert!(people.contains(&dn), "{dn} missing from {people:?}");
    }

    // alice is restricted to Sales: she sees Sales' people, not dave (Ops).
    let r = replay_seed("bind-alice-search-base.ber");
    assert_eq!(codes(&r), [C::Success, C::Success]);
    let seen = entries(&r, 1);
    assert!(seen.contains(&format!("uid=bob,ou=people,{BASE_DN}")));
    assert!(!seen.contains(&format!("uid=dave,ou=people,{BASE_DN}")));

    let r = replay_seed("bind-wrong-password.ber");
    assert_eq!(codes(&r), [C::InvalidCredentials]);

    let r = replay_seed("bind-admin-modify.ber");
    assert_eq!(codes(&r), [C::Success, C::UnwillingToPerform]);

    let r = replay_seed("bind-admin-compare-mail.ber");
    assert_eq!(codes(&r), [C::Success, C::CompareTrue]);

    // A password change through the harness leaves the seeded passwords
    // as they were for the next input.
    let r = replay_seed("bind-alice-passwd-bob.ber");
    assert_eq!(codes(&r), [C::Success, C::Success]);
    let r = replay_seed("bind-bob.ber");
    assert_eq!(codes(&r), [C::Success]);

    let r = replay_seed("search-critical-unknown-control.ber");
    assert_eq!(codes(&r), [C::UnavailableCriticalExtension]);

    let r = replay_seed("starttls-then-bytes.ber");
    match &r.end {
        End::StartTls(m) => match &m.op {
            LdapOp::ExtendedResponse(x) => assert_eq!(x.res.code, C::OperationsError),
            other => panic!("StartTLS answer {other:?}"),
        },
        other => panic!("StartTLS end {other:?}"),
    }

    let r = replay_seed("bind-unbind-search.ber");
    assert!(matches!(r.end, End::Closed));
    assert_eq!(r.exchanges.len(), 2, "nothing after the unbind is read");

    let r = replay_seed("truncated-bind.ber");
    assert!(matches!(r.end, End::Incomplete));
    let r = replay_seed("wrong-outer-tag.ber");
    assert!(matches!(r.end, End::Malformed(_)));
}

#[test]
fn scim_body_seeds_reach_the_handlers() {
    let statuses = |name: &str| {
        let text = std::fs::read(fuzz_dir().join("corpus/scim_body").join(name)).unwrap();
        let body = serde_json::from_slice(&text).unwrap();
        // A fresh store each time: the seeds' writes would otherwise meet
        // each other's changes.
        fuzzing::ScimWorld::new()
            .answers(&body)
            .iter()
            .map(|s| s.as_u16())
            .collect::<Vec<_>>()
    };
    // [create user, replace user, patch user, create group, replace group,
    // patch group]
    let created = statuses("okta-create-user.json");
    assert_eq!(created[0], 201, "{created:?}");
    assert_eq!(created[1], 409, "the user name was just taken: {created:?}");
    let replaced = statuses("replace-bob.json");
    assert_eq!(replaced[0], 409, "bob exists: {replaced:?}");
    assert_eq!(replaced[1], 200, "a PUT of bob as a whole: {replaced:?}");
    let created = statuses("create-group-plain.json");
    assert_eq!(created[3], 201, "{created:?}");
    let refused = statuses("create-group.json");
    assert_eq!(refused[3], 400, "its member does not exist: {refused:?}");
    let patched = statuses("entra-patch-deactivate.json");
    assert_eq!(patched[2], 200, "{patched:?}");
    assert_eq!(patched[0], 400, "a PatchOp is no user: {patched:?}");
    let refused = statuses("okta-patch-group-rename.json");
    assert_eq!(
        refused[5], 400,
        "the id it names is not Sales': {refused:?}"
    );
    let refused = statuses("patch-bad-op.json");
    assert_eq!((refused[2], refused[5]), (400, 400), "{refused:?}");
}

// The generator of the seed corpus.

fn encode(msgs: &[LdapMsg]) -> Vec<u8> {
    let mut codec = LdapCodec::default();
    let mut buffer = tokio_util::bytes::BytesMut::new();
    for m in msgs {
        codec.encode(m.clone(), &mut buffer).unwrap();
    }
    buffer.to_vec()
}

fn msg(id: i32, op: LdapOp) -> LdapMsg {
    LdapMsg::new(id, op)
}

fn bind(id: i32, dn: &str, pw: &str) -> LdapMsg {
    msg(
        id,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: dn.into(),
            cred: LdapBindCred::Simple(pw.into()),
        }),
    )
}

fn person(name: &str) -> String {
    format!("uid={name},ou=people,{BASE_DN}")
}

/// A filter in RFC 4515 text, with `{member}`-style DN values added as
/// equality tests (ldap3_proto's text parser refuses `=` inside a value).
fn filter_with(text: &str, dn_tests: &[(&str, String)]) -> LdapFilter {
    let parsed = parse_ldap_filter_str(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    if dn_tests.is_empty() {
        return parsed;
    }
    let mut all = vec![parsed];
    all.extend(
        dn_tests
            .iter()
            .map(|(a, v)| LdapFilter::Equality(a.to_string(), v.clone())),
    );
    LdapFilter::And(all)
}

fn search(id: i32, base: &str, scope: LdapSearchScope, filter: &str, attrs: &[&str]) -> LdapMsg {
    search_f(id, base, scope, filter_with(filter, &[]), attrs)
}

fn search_f(
    id: i32,
    base: &str,
    scope: LdapSearchScope,
    filter: LdapFilter,
    attrs: &[&str],
) -> LdapMsg {
    msg(
        id,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: base.into(),
            scope,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: attrs.iter().map(|a| a.to_string()).collect(),
        }),
    )
}

fn with_controls(mut m: LdapMsg, ctrl: Vec<LdapControl>) -> LdapMsg {
    m.ctrl = ctrl;
    m
}

fn extended(id: i32, name: &str, value: Option<Vec<u8>>) -> LdapMsg {
    msg(
        id,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: name.into(),
            value,
        }),
    )
}

fn passwd(id: i32, who: Option<&str>, old: Option<&str>, new: Option<&str>) -> LdapMsg {
    msg(
        id,
        LdapOp::ExtendedRequest(
            LdapPasswordModifyRequest {
                user_identity: who.map(str::to_owned),
                old_password: old.map(str::to_owned),
                new_password: new.map(str::to_owned),
            }
            .into(),
        ),
    )
}

const WHOAMI: &str = "1.3.6.1.4.1.4203.1.11.3";
const STARTTLS: &str = "1.3.6.1.4.1.1466.20037";

fn ldap_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use LdapSearchScope::{Base, OneLevel, Subtree};
    let admin = || bind(1, &person("admin"), PASSWORD);
    let people = format!("ou=people,{BASE_DN}");
    let groups = format!("ou=groups,{BASE_DN}");
    let mut seeds: Vec<(&'static str, Vec<LdapMsg>)> = vec![
        ("bind-admin.ber", vec![admin()]),
        ("bind-anonymous.ber", vec![bind(1, "", "")]),
        ("bind-bare-name.ber", vec![bind(1, "alice", PASSWORD)]),
        ("bind-bob.ber", vec![bind(1, &person("bob"), PASSWORD)]),
        (
            "bind-wrong-password.ber",
            vec![bind(1, &person("carol"), "Wrong1Guess")],
        ),
        (
            "bind-unauthenticated.ber",
            vec![bind(1, &person("alice"), "")],
        ),
        (
            "bind-group-dn.ber",
            vec![bind(1, &format!("cn=Sales,{groups}"), PASSWORD)],
        ),
        (
            "bind-version2.ber",
            vec![msg(
                1,
                LdapOp::BindRequest(LdapBindRequest {
                    version: 2,
                    dn: person("admin"),
                    cred: LdapBindCred::Simple(PASSWORD.into()),
                }),
            )],
        ),
        (
            "bind-sasl.ber",
            vec![msg(
                1,
                LdapOp::BindRequest(LdapBindRequest {
                    version: 3,
                    dn: String::new(),
                    cred: LdapBindCred::SASL(SaslCredentials {
                        mechanism: "EXTERNAL".into(),
                        credentials: Vec::new(),
                    }),
                }),
            )],
        ),
        (
            "bind-admin-whoami.ber",
            vec![admin(), extended(2, WHOAMI, None)],
        ),
        ("whoami-anonymous.ber", vec![extended(1, WHOAMI, None)]),
        (
            "bind-admin-search-people.ber",
            vec![
                admin(),
                search(
                    2,
                    &people,
                    Subtree,
                    "(objectClass=inetOrgPerson)",
                    &["uid", "cn", "mail", "memberOf", "manager", "+"],
                ),
            ],
        ),
        (
            "bind-admin-search-groups.ber",
            vec![
                admin(),
                search(
                    2,
                    &groups,
                    OneLevel,
                    "(objectClass=groupOfNames)",
                    &["cn", "member", "memberOf", "dirgateNodeKind"],
                ),
            ],
        ),
        (
            "bind-alice-search-base.ber",
            vec![
                bind(1, &person("alice"), PASSWORD),
                search(2, BASE_DN, Subtree, "(uid=*)", &["uid"]),
            ],
        ),
        (
            "search-root-dse.ber",
            vec![search(
                1,
                "",
                Base,
                "(objectClass=*)",
                &[
                    "namingContexts",
                    "supportedControl",
                    "supportedExtension",
                    "supportedLDAPVersion",
                    "subschemaSubentry",
                ],
            )],
        ),
        (
            "search-subschema.ber",
            vec![search(
                1,
                "cn=subschema",
                Base,
                "(objectClass=subschema)",
                &["objectClasses", "attributeTypes", "ldapSyntaxes"],
            )],
        ),
        (
            "search-anonymous-people.ber",
            vec![search(1, &people, Subtree, "(uid=alice)", &[])],
        ),
        (
            "bind-admin-search-nextcloud.ber",
            vec![
                admin(),
                search(
                    2,
                    BASE_DN,
                    Subtree,
                    "(&(|(objectclass=inetOrgPerson))(|(uid=alice)(mailPrimaryAddress=alice)(mail=alice)))",
                    &["dn", "uid", "displayname", "mail", "memberof", "entryuuid"],
                ),
            ],
        ),
        (
            "bind-admin-search-sssd.ber",
            vec![
                admin(),
                search(
                    2,
                    &people,
                    Subtree,
                    "(&(uid=bob)(objectclass=posixAccount)(&(uidNumber=*)(!(uidNumber=0))))",
                    &["objectClass", "uid", "userPassword", "uidNumber", "gidNumber", "gecos", "homeDirectory", "loginShell"],
                ),
            ],
        ),
        (
            "bind-admin-search-complex.ber",
            vec![
                admin(),
                search_f(
                    2,
                    BASE_DN,
                    Subtree,
                    filter_with(
                        "(&(|(uid=al*)(mail=*@example.com)(cn~=bob))(!(dirgateStatus=inactive))(employeeType>=Administrator)(sn<=Z))",
                        &[("memberOf", format!("cn=Sales,{groups}"))],
                    ),
                    &["*", "+"],
                ),
            ],
        ),
        (
            "bind-admin-search-substrings.ber",
            vec![
                admin(),
                search(
                    2,
                    &people,
                    Subtree,
                    "(|(cn=*li*ce*)(givenName=B*)(mail=*example.com)(uid:caseIgnoreMatch:=CAROL)(createTimestamp>=20200101000000Z))",
                    &["uid", "createTimestamp", "modifyTimestamp", "entryUUID"],
                ),
            ],
        ),
        (
            "bind-admin-search-member-of-tree.ber",
            vec![
                admin(),
                search_f(
                    2,
                    &groups,
                    Subtree,
                    LdapFilter::Or(vec![
                        LdapFilter::Equality("member".into(), person("dave")),
                        LdapFilter::Equality("memberOf".into(), format!("cn=Acme,{groups}")),
                        LdapFilter::Equality("cn".into(), "Ops".into()),
                    ]),
                    &["cn", "member"],
                ),
            ],
        ),
        (
            "bind-admin-search-person-base.ber",
            vec![
                admin(),
                search(2, &person("bob"), Base, "(objectClass=*)", &["1.1"]),
            ],
        ),
        (
            "bind-admin-search-typesonly-sizelimit.ber",
            vec![
                admin(),
                msg(
                    2,
                    LdapOp::SearchRequest(LdapSearchRequest {
                        base: BASE_DN.into(),
                        scope: Subtree,
                        aliases: LdapDerefAliases::Always,
                        sizelimit: 2,
                        timelimit: 5,
                        typesonly: true,
                        filter: LdapFilter::Present("objectClass".into()),
                        attrs: Vec::new(),
                    }),
                ),
            ],
        ),
        (
            "bind-admin-search-paged.ber",
            vec![
                admin(),
                with_controls(
                    search(2, &people, Subtree, "(objectClass=*)", &["uid"]),
                    vec![LdapControl::SimplePagedResults {
                        size: 2,
                        cookie: Vec::new(),
                    }],
                ),
                with_controls(
                    search(3, &people, Subtree, "(objectClass=*)", &["uid"]),
                    vec![LdapControl::SimplePagedResults {
                        size: 2,
                        cookie: b"not-a-cookie".to_vec(),
                    }],
                ),
            ],
        ),
        (
            "search-critical-unknown-control.ber",
            vec![with_controls(
                search(1, BASE_DN, Base, "(objectClass=*)", &[]),
                vec![LdapControl::Unknown {
                    oid: "1.2.3.4.5.6".into(),
                    criticality: true,
                    value: None,
                }],
            )],
        ),
        (
            "bind-admin-compare-mail.ber",
            vec![
                admin(),
                msg(
                    2,
                    LdapOp::CompareRequest(LdapCompareRequest {
                        dn: person("alice"),
                        atype: "mail".into(),
                        val: b"alice@example.com".to_vec(),
                    }),
                ),
            ],
        ),
        (
            "bind-admin-compare-password.ber",
            vec![
                admin(),
                msg(
                    2,
                    LdapOp::CompareRequest(LdapCompareRequest {
                        dn: person("bob"),
                        atype: "userPassword".into(),
                        val: PASSWORD.as_bytes().to_vec(),
                    }),
                ),
                msg(
                    3,
                    LdapOp::CompareRequest(LdapCompareRequest {
                        dn: format!("cn=Sales,{groups}"),
                        atype: "member".into(),
                        val: person("bob").into_bytes(),
                    }),
                ),
            ],
        ),
        (
            "bind-alice-passwd-bob.ber",
            vec![
                bind(1, &person("alice"), PASSWORD),
                passwd(2, Some(&person("bob")), None, Some("Changed9Pass")),
            ],
        ),
        (
            "bind-bob-passwd-own.ber",
            vec![
                bind(1, "bob", PASSWORD),
                passwd(2, None, Some(PASSWORD), Some("Another8Word")),
            ],
        ),
        (
            "bind-bob-passwd-generated.ber",
            vec![
                bind(1, "bob", PASSWORD),
                extended(2, ldap3_proto::proto::OID_PASSWORD_MODIFY, None),
            ],
        ),
        (
            "passwd-anonymous.ber",
            vec![passwd(1, Some("dave"), Some("x"), Some("Short1"))],
        ),
        ("starttls.ber", vec![extended(1, STARTTLS, None)]),
        (
            "bind-admin-modify.ber",
            vec![
                admin(),
                msg(
                    2,
                    LdapOp::ModifyRequest(LdapModifyRequest {
                        dn: person("bob"),
                        changes: vec![LdapModify {
                            operation: LdapModifyType::Replace,
                            modification: LdapPartialAttribute {
                                atype: "mail".into(),
                                vals: vec![b"bob@example.com".to_vec()],
                            },
                        }],
                    }),
                ),
            ],
        ),
        (
            "add-delete-moddn.ber",
            vec![
                msg(
                    1,
                    LdapOp::AddRequest(ldap3_proto::proto::LdapAddRequest {
                        dn: person("eve"),
                        attributes: Vec::new(),
                    }),
                ),
                msg(2, LdapOp::DelRequest(person("bob"))),
                msg(
                    3,
                    LdapOp::ModifyDNRequest(ldap3_proto::proto::LdapModifyDNRequest {
                        dn: person("bob"),
                        newrdn: "uid=robert".into(),
                        deleteoldrdn: true,
                        new_superior: None,
                    }),
                ),
            ],
        ),
        (
            "bind-unbind-search.ber",
            vec![
                admin(),
                msg(2, LdapOp::UnbindRequest),
                search(3, BASE_DN, Base, "(objectClass=*)", &[]),
            ],
        ),
        (
            "abandon-unknown-extended.ber",
            vec![
                msg(1, LdapOp::AbandonRequest(7)),
                extended(2, "1.3.6.1.4.1.99999.1", Some(b"\x30\x00".to_vec())),
            ],
        ),
        (
            "server-message-from-client.ber",
            vec![msg(
                1,
                LdapOp::SearchResultDone(ldap3_proto::proto::LdapResult {
                    code: LdapResultCode::Success,
                    matcheddn: String::new(),
                    message: String::new(),
                    referral: Vec::new(),
                }),
            )],
        ),
        (
            "bind-carol-search-pipelined.ber",
            vec![
                bind(1, &person("carol"), PASSWORD),
                search(2, &groups, Subtree, "(cn=*)", &["cn"]),
                search(3, &people, OneLevel, "(!(uid=carol))", &["uid", "dirgateAccountType"]),
                extended(4, WHOAMI, None),
                msg(5, LdapOp::UnbindRequest),
            ],
        ),
    ];
    let mut raw: Vec<(&'static str, Vec<u8>)> =
        seeds.drain(..).map(|(n, m)| (n, encode(&m))).collect();
    let mut starttls_then = encode(&[extended(1, STARTTLS, None)]);
    starttls_then.extend_from_slice(b"\x16\x03\x01\x00\x05hello");
    raw.push(("starttls-then-bytes.ber", starttls_then));
    let whole = encode(&[admin()]);
    raw.push(("truncated-bind.ber", whole[..whole.len() - 4].to_vec()));
    let mut wrong = whole.clone();
    wrong[0] = 0x31;
    raw.push(("wrong-outer-tag.ber", wrong));
    raw
}

const FILTER_SEEDS: &[&str] = &[
    r#"userName eq "alice""#,
    r#"userName eq "Alice@Example.com""#,
    r#"externalId eq "okta-alice""#,
    r#"id eq "2819c223-7f76-453a-919d-413861904646""#,
    r#"emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[primary eq true].value"#,
    r#"emails[type eq "work"].value"#,
    r#"phoneNumbers[type eq "mobile"].value"#,
    r#"name.familyName sw "Ex""#,
    r#"name.givenName"#,
    r#"meta.lastModified gt "2024-01-01T00:00:00Z""#,
    r#"meta.created le "2030-12-31T23:59:59.999Z" and meta.resourceType eq "User""#,
    r#"active eq true and not (userType eq "Report Reader")"#,
    r#"not(active eq false)"#,
    r#"title pr or (userName co "a" and userName ew "e")"#,
    r#"userName eq null"#,
    r#"userName eq "a\"b\\c\u00e9""#,
    r#"timezone eq "Europe/Paris""#,
    r#"displayName eq "Sales""#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"].display"#,
    r#"groups[display eq "Sales"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2819c223-7f76-453a-919d-413861904646""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName pr"#,
    r#"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:accountType eq "Administrator""#,
    r#"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:restrictedTo"#,
    r#"securityRoles[value eq "user-management"]"#,
    r#"userName gt "a" and userName lt "z" or externalId ne "x""#,
    r#"((userName eq "a") or (userName eq "b")) and active eq true"#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"addresses[type eq "work" and postalCode eq "90210"].streetAddress"#,
    "userName,name.givenName,emails",
    "meta.version",
];

const BODY_SEEDS: &[(&str, &str)] = &[
    (
        "okta-create-user.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"erin","name":{"givenName":"Erin","familyName":"Example"},"emails":[{"primary":true,"value":"erin@example.com","type":"work"}],"displayName":"Erin Example","locale":"en-US","externalId":"00u1abcd","groups":[],"password":"Okta9Pass","active":true}"#,
    ),
    (
        "entra-create-user.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"a1b2c3","userName":"frank","active":true,"displayName":"Frank Example","emails":[{"primary":true,"type":"work","value":"frank@example.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"Frank Example","familyName":"Example","givenName":"Frank"},"phoneNumbers":[{"type":"mobile","value":"+15550101"}],"title":"Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":{"value":"2819c223-7f76-453a-919d-413861904646"}}}"#,
    ),
    (
        "dirgate-create-user.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User"],"userName":"gina","timezone":"Europe/Paris","urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User":{"accountType":"Report Reader","authenticationMethod":"Two Factor App","restrictedTo":{"value":"2819c223-7f76-453a-919d-413861904646"}},"securityRoles":[{"value":"user-management"}]}"#,
    ),
    (
        "replace-user.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","userName":"alice","name":{"givenName":"Alice","familyName":"Renamed"},"active":false,"emails":[{"value":"a@example.com","type":"home"},{"value":"b@example.com","type":"work","primary":true}],"meta":{"version":"W/\"3\""}}"#,
    ),
    (
        "replace-bob.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User"],"userName":"bob","name":{"givenName":"Bob","familyName":"Builder"},"active":true,"timezone":"Europe/London","phoneNumbers":[{"type":"mobile","value":"+447700900123"}],"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User":{"accountType":"Report Reader"}}"#,
    ),
    (
        "create-group-plain.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Marketing","externalId":"grp-2"}"#,
    ),
    (
        "create-group.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Marketing","externalId":"grp-1","members":[{"value":"2819c223-7f76-453a-919d-413861904646","display":"alice"}]}"#,
    ),
    (
        "create-entity.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group"],"displayName":"Initech","urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group":{"kind":"business entity","parent":{"value":"2819c223-7f76-453a-919d-413861904646"}}}"#,
    ),
    (
        "okta-put-group.json",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Sales","members":[{"value":"2819c223-7f76-453a-919d-413861904646","display":"bob"},{"value":"902c246b-6245-4190-8e05-00816be7344a"}]}"#,
    ),
    (
        "entra-patch-deactivate.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"#,
    ),
    (
        "entra-patch-attributes.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Alice Q"},{"op":"Add","path":"emails[type eq \"work\"].value","value":"alice.q@example.com"},{"op":"Replace","path":"name.familyName","value":"Q"},{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+15550199"},{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2819c223-7f76-453a-919d-413861904646"}]}"#,
    ),
    (
        "entra-patch-members-add.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"2819c223-7f76-453a-919d-413861904646"}]}]}"#,
    ),
    (
        "entra-patch-members-remove.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]}"#,
    ),
    (
        "patch-remove-members-value.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members","value":[{"value":"2819c223-7f76-453a-919d-413861904646"},{"value":"902c246b-6245-4190-8e05-00816be7344a"}]}]}"#,
    ),
    (
        "okta-patch-group-rename.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Sales EMEA"}}]}"#,
    ),
    (
        "okta-patch-deactivate.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#,
    ),
    (
        "patch-pathless-add.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"name.givenName":"Al","emails":[{"value":"x@example.com","type":"other"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Ops"}}]}"#,
    ),
    (
        "patch-remove-manager.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}"#,
    ),
    (
        "patch-remove-emails-filter.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\" and primary eq true]"},{"op":"remove","path":"phoneNumbers"}]}"#,
    ),
    (
        "patch-replace-filtered-primary.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[primary eq true]","value":{"value":"new@example.com","type":"work","primary":true}}]}"#,
    ),
    (
        "patch-dirgate-extension.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User:accountType","value":"Administrator"},{"op":"add","path":"securityRoles","value":[{"value":"user-management"}]},{"op":"replace","path":"timezone","value":"America/New_York"}]}"#,
    ),
    (
        "patch-username.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"alice2"},{"op":"replace","path":"externalId","value":null}]}"#,
    ),
    (
        "patch-group-parent.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group:parent","value":{"value":"2819c223-7f76-453a-919d-413861904646"}},{"op":"replace","path":"members","value":[]}]}"#,
    ),
    (
        "patch-no-operations.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}"#,
    ),
    (
        "patch-bad-op.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"userName","value":"x"}]}"#,
    ),
    (
        "search-request.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":["userName","emails"],"filter":"userName sw \"a\"","sortBy":"name.familyName","sortOrder":"descending","startIndex":1,"count":10}"#,
    ),
    (
        "bulk-request.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[{"method":"POST","path":"/Users","bulkId":"q1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"hank"}},{"method":"PATCH","path":"/Groups/abf4dd94-a4c0-4f67-89c9-76b03340cb9b","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:q1"}]}]}}]}"#,
    ),
    (
        "not-an-object.json",
        r#"["userName", 1, null, true, 2.5e10]"#,
    ),
];

/// The committed seed corpus in `fuzz/corpus/` is exactly what the seeds
/// above generate. After changing them, run this test with
/// `DIRGATE_WRITE_SEED_CORPUS=1` to write the files, then commit them.
#[test]
fn the_committed_seed_corpus_is_what_the_seeds_generate() {
    let corpus = fuzz_dir().join("corpus");
    let writing = std::env::var_os("DIRGATE_WRITE_SEED_CORPUS").is_some();
    let mut stale = Vec::new();
    let mut check = |target: &str, name: &str, data: &[u8]| {
        let dir = corpus.join(target);
        if writing {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), data).unwrap();
        } else if std::fs::read(dir.join(name)).ok().as_deref() != Some(data) {
            stale.push(format!("{target}/{name}"));
        }
    };
    for (name, data) in ldap_seeds() {
        check("ldap_request", name, &data);
    }
    for (i, text) in FILTER_SEEDS.iter().enumerate() {
        check(
            "scim_filter",
            &format!("filter-{i:02}.txt"),
            text.as_bytes(),
        );
    }
    for (name, text) in BODY_SEEDS {
        serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        check("scim_body", name, text.as_bytes());
    }
    assert!(
        stale.is_empty(),
        "seed files missing or different from their generator (rerun with \
         DIRGATE_WRITE_SEED_CORPUS=1): {stale:?}"
    );
}
