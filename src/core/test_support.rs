//! What the core's tests share: a directory over a fresh store.

use std::sync::Arc;

use crate::core::directory::Directory;
use crate::core::password::PasswordHasher;
use crate::core::validate::PasswordPolicy;
use crate::store::SqliteStore;

/// A directory over a new store in a temporary folder (kept alive by the
/// returned guard), with argon2 parameters small enough for tests.
pub fn directory() -> (Directory, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&tmp.path().join("dirgate.db"), 2).unwrap();
    let hasher = PasswordHasher::new(256, 1, 1).unwrap();
    let dir = Directory::new(Arc::new(store), PasswordPolicy::default(), hasher, "UTC").unwrap();
    (dir, tmp)
}
