//! `dirgate import FILE.ldif [--dry-run]`: an OpenLDAP export into the
//! directory, with a progress bar on a terminal and a summary at the end.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use super::{open_directory, CliError, GlobalArgs};
use crate::config::Config;
use crate::import::{import, ImportError};

pub fn run(
    global: &GlobalArgs,
    config: &Config,
    file: &Path,
    dry_run: bool,
) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::Io {
        context: format!("cannot read {}", file.display()),
        source,
    })?;
    let dir = open_directory(&global.data, config)?;
    // Drawn only when standard error is a terminal.
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} entries {elapsed}") {
        bar.set_style(style);
    }
    let summary = import(&dir, &text, dry_run, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .map_err(|e| match e {
        ImportError::Core(e) => CliError::from(e),
        ImportError::Ldif(e) => CliError::Usage(format!("{}: {e}", file.display())),
    })?;
    bar.finish_and_clear();
    let verb = if dry_run { "would import" } else { "imported" };
    println!(
        "{verb} {} people ({} with a password, {} of them to be rehashed to argon2id at their next bind), {} groups, {} memberships",
        summary.people, summary.passwords, summary.to_rehash, summary.groups, summary.memberships
    );
    if !summary.skipped.is_empty() {
        println!("left out or changed ({}):", summary.skipped.len());
        for why in &summary.skipped {
            println!("  {why}");
        }
    }
    if dry_run {
        println!("dry run: nothing was written");
    }
    Ok(())
}
