//! Accounts are never deleted: no SQL in the code removes an account row,
//! and the database itself refuses it.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.file_name().is_some_and(|n| n == "tests.rs") {
            // Unit tests that prove the database refuses the statement
            // must spell it; they serve no request.
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "sql")
        ) {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn no_sql_statement_deletes_an_account_row() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "the scan must see the sources");
    let mut offenders = Vec::new();
    for (path, text) in &files {
        // Normalise whitespace and case so "DELETE\n  FROM accounts" is caught.
        let flat = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        for table in ["accounts", "\"accounts\"", "main.accounts"] {
            for verb in [
                format!("delete from {table}"),
                format!("drop table {table}"),
                format!("replace into {table}"),
                format!("insert or replace into {table}"),
            ] {
                // The trigger that forbids deletion names the statement in
                // its own text ("before delete on accounts"), which is fine.
                if flat.contains(&verb) {
                    offenders.push(format!("{path}: {verb}"));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "account rows must never be deleted: {offenders:?}"
    );
}

#[test]
fn the_database_refuses_to_delete_an_account() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dirgate.db");
    let store = dirgate::store::SqliteStore::open(&path, 1).unwrap();
    let dir = dirgate::core::Directory::new(
        std::sync::Arc::new(store),
        Default::default(),
        dirgate::core::password::PasswordHasher::new(256, 1, 1).unwrap(),
        "UTC",
    )
    .unwrap();
    dir.bootstrap().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let err = conn.execute("DELETE FROM accounts", []).unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}
