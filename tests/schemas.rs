//! Checks the files under `schemas/` that the faces publish: every SCIM file
//! is JSON shaped as RFC 7643 requires, and the LDAP schema is consistent.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Every `.json` file under `schemas/scim/`, parsed, by file name.
fn scim_files() -> BTreeMap<String, Value> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(schemas_dir().join("scim")).expect("schemas/scim exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("readable");
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        files.insert(name, value);
    }
    files
}

fn str_field<'a>(obj: &'a Value, key: &str, context: &str) -> &'a str {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{context}: \"{key}\" missing or not a string"))
}

fn bool_field(obj: &Value, key: &str, context: &str) -> bool {
    obj.get(key)
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("{context}: \"{key}\" missing or not a boolean"))
}

fn one_of(value: &str, allowed: &[&str], context: &str) {
    assert!(
        allowed.contains(&value),
        "{context}: {value:?} is not one of {allowed:?}"
    );
}

/// RFC 7643 section 7: the characteristics of one attribute definition, and
/// of its sub-attributes.
fn check_attribute(attr: &Value, context: &str, is_sub: bool) {
    let name = str_field(attr, "name", context);
    let context = format!("{context}.{name}");
    let ty = str_field(attr, "type", &context);
    one_of(
        ty,
        &[
            "string",
            "boolean",
            "decimal",
            "integer",
            "dateTime",
            "reference",
            "complex",
            "binary",
        ],
        &context,
    );
    bool_field(attr, "multiValued", &context);
    bool_field(attr, "required", &context);
    str_field(attr, "description", &context);
    one_of(
        str_field(attr, "mutability", &context),
        &["readOnly", "readWrite", "immutable", "writeOnly"],
        &context,
    );
    one_of(
        str_field(attr, "returned", &context),
        &["always", "never", "default", "request"],
        &context,
    );
    one_of(
        str_field(attr, "uniqueness", &context),
        &["none", "server", "global"],
        &context,
    );
    if matches!(ty, "string" | "reference" | "binary") {
        bool_field(attr, "caseExact", &context);
    }
    if ty == "reference" {
        let types = attr
            .get("referenceTypes")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{context}: a reference needs referenceTypes"));
        assert!(!types.is_empty(), "{context}: empty referenceTypes");
    }
    if let Some(values) = attr.get("canonicalValues") {
        let values = values
            .as_array()
            .unwrap_or_else(|| panic!("{context}: canonicalValues is not an array"));
        assert!(values.iter().all(Value::is_string), "{context}");
    }
    match attr.get("subAttributes") {
        Some(subs) => {
            assert_eq!(
                ty, "complex",
                "{context}: only complex attributes have sub-attributes"
            );
            // RFC 7643 section 2.3.8: a complex attribute has no complex
            // sub-attributes.
            assert!(!is_sub, "{context}: sub-attributes cannot nest");
            let subs = subs
                .as_array()
                .unwrap_or_else(|| panic!("{context}: subAttributes is not an array"));
            assert!(!subs.is_empty(), "{context}: empty subAttributes");
            let mut names = BTreeSet::new();
            for sub in subs {
                check_attribute(sub, &context, true);
                assert_ne!(sub["type"], "complex", "{context}: complex sub-attribute");
                let sub_name = str_field(sub, "name", &context).to_ascii_lowercase();
                assert!(names.insert(sub_name), "{context}: duplicate sub-attribute");
            }
        }
        None => assert_ne!(ty, "complex", "{context}: complex without subAttributes"),
    }
    if attr["mutability"] == "writeOnly" {
        assert_eq!(
            attr["returned"], "never",
            "{context}: writeOnly must never be returned"
        );
    }
}

/// The schema resources (those with "attributes"), by id.
fn schema_resources(files: &BTreeMap<String, Value>) -> BTreeMap<String, (&String, &Value)> {
    files
        .iter()
        .filter(|(_, v)| v.get("attributes").is_some())
        .map(|(file, v)| (str_field(v, "id", file).to_string(), (file, v)))
        .collect()
}

#[test]
fn scim_files_are_valid_json() {
    let files = scim_files();
    for expected in [
        "User.json",
        "EnterpriseUser.json",
        "DirgateUser.json",
        "Group.json",
        "DirgateGroup.json",
        "ResourceTypes.json",
        "ServiceProviderConfig.json",
    ] {
        assert!(
            files.contains_key(expected),
            "schemas/scim/{expected} missing"
        );
    }
}

#[test]
fn scim_schemas_follow_rfc7643() {
    let files = scim_files();
    let schemas = schema_resources(&files);
    assert_eq!(schemas.len(), 5, "{:?}", schemas.keys());
    for (id, (file, schema)) in &schemas {
        assert!(id.starts_with("urn:"), "{file}: id {id} is not a URN");
        str_field(schema, "name", file);
        let attrs = schema["attributes"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: attributes is not an array"));
        assert!(!attrs.is_empty(), "{file}: no attributes");
        let mut names = BTreeSet::new();
        for attr in attrs {
            check_attribute(attr, file, false);
            let name = str_field(attr, "name", file).to_ascii_lowercase();
            assert!(names.insert(name), "{file}: duplicate attribute");
        }
    }
}

#[test]
fn scim_user_and_group_have_what_the_gateway_supports() {
    let files = scim_files();
    let names = |file: &str| -> BTreeSet<String> {
        files[file]["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .map(|a| a["name"].as_str().expect("name").to_string())
            .collect()
    };
    let user = names("User.json");
    for name in [
        "id",
        "externalId",
        "userName",
        "name",
        "displayName",
        "emails",
        "phoneNumbers",
        "timezone",
        "active",
        "password",
        "groups",
        "meta",
    ] {
        assert!(user.contains(name), "User.json lacks {name}");
    }
    let find = |file: &str, name: &str| -> Value {
        files[file]["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{file} lacks {name}"))
    };
    let user_name = find("User.json", "userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = find("User.json", "password");
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(find("User.json", "groups")["mutability"], "readOnly");
    assert_eq!(find("Group.json", "displayName")["uniqueness"], "server");

    let methods = find("DirgateUser.json", "authenticationMethod");
    assert_eq!(
        methods["canonicalValues"],
        serde_json::json!([
            "Password",
            "Two Factor Email",
            "Two Factor Email Everytime",
            "Two Factor SMS",
            "Two Factor SMS Everytime",
            "Two Factor App"
        ])
    );
}

#[test]
fn scim_resource_types_name_existing_schemas() {
    let files = scim_files();
    let schemas = schema_resources(&files);
    let types = files["ResourceTypes.json"]
        .as_array()
        .expect("ResourceTypes.json is an array");
    let ids: Vec<&str> = types
        .iter()
        .map(|t| str_field(t, "id", "ResourceTypes.json"))
        .collect();
    assert_eq!(ids, ["User", "Group"]);
    for t in types {
        let context = format!("ResourceTypes.json {}", t["id"]);
        str_field(t, "name", &context);
        assert!(
            str_field(t, "endpoint", &context).starts_with('/'),
            "{context}"
        );
        let schema = str_field(t, "schema", &context);
        assert!(
            schemas.contains_key(schema),
            "{context}: unknown schema {schema}"
        );
        for ext in t["schemaExtensions"].as_array().expect("schemaExtensions") {
            let ext_id = str_field(ext, "schema", &context);
            assert!(
                schemas.contains_key(ext_id),
                "{context}: unknown extension {ext_id}"
            );
            bool_field(ext, "required", &context);
        }
    }
    // Every schema file is used by a resource type.
    let used: BTreeSet<&str> = types
        .iter()
        .flat_map(|t| {
            let exts = t["schemaExtensions"].as_array().into_iter().flatten();
            std::iter::once(&t["schema"]).chain(exts.map(|e| &e["schema"]))
        })
        .filter_map(Value::as_str)
        .collect();
    for id in schemas.keys() {
        assert!(
            used.contains(id.as_str()),
            "{id} is not used by any resource type"
        );
    }
}

#[test]
fn scim_service_provider_config_is_complete() {
    let files = scim_files();
    let spc = &files["ServiceProviderConfig.json"];
    let context = "ServiceProviderConfig.json";
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert!(bool_field(&spc[feature], "supported", context), "{feature}");
    }
    assert_eq!(spc["filter"]["maxResults"], 1000);
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    assert_eq!(spc["bulk"]["maxPayloadSize"], 1_048_576);
    let schemes = spc["authenticationSchemes"].as_array().expect("schemes");
    assert!(schemes.iter().any(|s| s["type"] == "oauthbearertoken"));
    for s in schemes {
        str_field(s, "name", context);
        str_field(s, "description", context);
    }
}

/// The parenthesised definitions in an OpenLDAP-style schema file: keyword
/// and body, comments dropped, continuation lines joined.
fn ldap_definitions(text: &str) -> Vec<(String, String)> {
    let mut joined: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let last = joined
                .last_mut()
                .expect("a continuation follows a definition");
            last.push(' ');
            last.push_str(line.trim());
        } else {
            joined.push(line.trim().to_string());
        }
    }
    joined
        .into_iter()
        .map(|d| {
            let (keyword, body) = d.split_once(' ').expect("keyword and body");
            (keyword.to_ascii_lowercase(), body.trim().to_string())
        })
        .collect()
}

#[test]
fn ldap_schema_is_consistent() {
    let text = fs::read_to_string(schemas_dir().join("ldap/dirgate.schema")).expect("readable");
    let base = text
        .lines()
        .find_map(|l| l.trim_start_matches('#').trim().strip_prefix("base"))
        .map(|b| b.trim().to_string())
        .expect("the base OID is written at the top");
    assert!(base.starts_with("2.25."), "{base}");

    let mut oids = BTreeSet::new();
    let mut attr_names = BTreeSet::new();
    let mut classes = Vec::new();
    for (keyword, body) in ldap_definitions(&text) {
        assert!(body.starts_with("( ") && body.ends_with(" )"), "{body}");
        assert_eq!(
            body.matches('(').count(),
            body.matches(')').count(),
            "unbalanced: {body}"
        );
        assert_eq!(
            body.matches('\'').count() % 2,
            0,
            "unbalanced quotes: {body}"
        );
        let oid = body[2..]
            .split_whitespace()
            .next()
            .expect("oid")
            .to_string();
        let name = body
            .split("NAME '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("NAME")
            .to_string();
        assert!(body.contains(" DESC '"), "{name} has no DESC");
        assert!(oids.insert(oid.clone()), "duplicate OID {oid}");
        match keyword.as_str() {
            "attributetype" => {
                assert!(oid.starts_with(&format!("{base}.1.")), "{name}: {oid}");
                assert!(
                    body.contains(" SYNTAX 1.3.6.1.4.1.1466.115.121.1."),
                    "{name}"
                );
                assert!(body.contains(" EQUALITY "), "{name}");
                assert!(
                    attr_names.insert(name.to_ascii_lowercase()),
                    "duplicate {name}"
                );
            }
            "objectclass" => {
                assert!(oid.starts_with(&format!("{base}.2.")), "{name}: {oid}");
                classes.push((name, body));
            }
            other => panic!("unknown keyword {other}"),
        }
    }
    assert_eq!(attr_names.len(), 15);
    assert_eq!(classes.len(), 2);
    for (name, body) in &classes {
        assert!(body.contains(" AUXILIARY "), "{name}");
        let may = body
            .split(" MAY ( ")
            .nth(1)
            .and_then(|rest| rest.split(" )").next())
            .expect("MAY list");
        for attr in may.split('$').map(str::trim) {
            assert!(
                attr_names.contains(&attr.to_ascii_lowercase()),
                "{name} allows undefined {attr}"
            );
        }
    }
    // Every attribute belongs to one of the classes.
    let all_may: BTreeSet<String> = classes
        .iter()
        .flat_map(|(_, body)| {
            body.split(" MAY ( ")
                .nth(1)
                .and_then(|rest| rest.split(" )").next())
                .unwrap_or("")
                .split('$')
                .map(|a| a.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(all_may, attr_names);
}
