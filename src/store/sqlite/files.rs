//! The store's files and who may read them: the data folder is the
//! service user's alone (0700), and the database, its write-ahead log and
//! shared-memory index, backups and their staging copies are 0600. SQLite
//! gives a database's side files the mode of the database file, so the
//! database is made (or narrowed) first, before SQLite opens it.

use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

const FOLDER_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `folder` (and its parents) if missing, and makes it the owner's
/// alone.
pub fn private_folder(folder: &Path) -> io::Result<()> {
    fs::create_dir_all(folder)?;
    narrow(folder, FOLDER_MODE)
}

/// Makes `file` if missing, empty, readable by its owner only; narrows an
/// existing one to that.
pub fn private_file(file: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => narrow(file, FILE_MODE),
        Err(e) => Err(e),
    }
}

/// Narrows the database's side files that exist (`-wal`, `-shm`).
pub fn narrow_side_files(database: &Path) -> io::Result<()> {
    for suffix in ["-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let side = Path::new(&name);
        if side.try_exists().unwrap_or(false) {
            narrow(side, FILE_MODE)?;
        }
    }
    Ok(())
}

/// Takes group and other permissions away (never adds any).
fn narrow(path: &Path, mode: u32) -> io::Result<()> {
    let current = fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        fs::set_permissions(path, Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_made_and_narrowed_to_the_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("data");
        private_folder(&folder).unwrap();
        assert_eq!(mode(&folder), 0o700);
        let file = folder.join("x.db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600, "an existing file is narrowed");
        let wal = folder.join("x.db-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, Permissions::from_mode(0o664)).unwrap();
        narrow_side_files(&file).unwrap();
        assert_eq!(mode(&wal), 0o600);
    }
}
