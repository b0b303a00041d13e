//! `dirgate backup FILE` (while the daemon serves) and `dirgate restore
//! FILE` (while it is stopped).

use std::path::Path;

use super::{CliError, GlobalArgs, DATABASE_FILE};
use crate::daemon::DataLock;
use crate::store;

pub fn backup(global: &GlobalArgs, file: &Path) -> Result<(), CliError> {
    let source = global.data.join(DATABASE_FILE);
    if !source.exists() {
        return Err(CliError::Usage(format!(
            "there is no dirgate store in {}",
            global.data.display()
        )));
    }
    store::backup(&source, file)?;
    println!("backed up {} to {}", source.display(), file.display());
    Ok(())
}

pub fn restore(global: &GlobalArgs, file: &Path) -> Result<(), CliError> {
    // Holding the daemon's lock for the whole restore also keeps a daemon
    // from starting half-way through.
    let _lock = DataLock::take(&global.data).map_err(|e| {
        CliError::Usage(format!(
            "{e}: stop `dirgate serve` before restoring (a backup needs no stop)"
        ))
    })?;
    let target = global.data.join(DATABASE_FILE);
    store::restore(file, &target)?;
    println!("restored {} from {}", target.display(), file.display());
    Ok(())
}
