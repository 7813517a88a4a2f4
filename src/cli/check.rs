//! `initkit check`: validate recipe files, every problem in every file.

use std::path::PathBuf;

use super::{CliError, output::print};
use crate::recipe::parse_recipe;

pub fn run(paths: &[PathBuf]) -> Result<(), CliError> {
    let mut report = String::new();
    let mut failed = 0;
    let mut problems = 0;
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                report.push_str(&format!("error: cannot read {}: {e}\n", path.display()));
                failed += 1;
                problems += 1;
                continue;
            }
        };
        match parse_recipe(path, &text) {
            Ok(recipe) => print(&format!("ok: {} ({})\n", path.display(), recipe.name))?,
            Err(e) => {
                report.push_str(&e.to_string());
                failed += 1;
                problems += e.diagnostics.len();
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::Message(format!("{report}{problems} problem(s) in {failed} file(s)\n")))
    }
}
