//! `initkit check`: validate recipe files, every problem in every file; as
//! text with the line drawn, or `--json`.

use std::path::PathBuf;

use super::{CliError, output::print};
use crate::recipe::{RecipeErrors, parse_recipe};

/// One problem, as `check --json` reports it.
#[derive(Debug, serde::Serialize)]
pub struct Problem {
    pub field: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

/// One file, as `check --json` reports it.
#[derive(Debug, serde::Serialize)]
pub struct FileReport {
    pub file: String,
    /// The recipe's name when the file is valid.
    pub recipe: Option<String>,
    pub problems: Vec<Problem>,
}

fn problems(e: &RecipeErrors) -> Vec<Problem> {
    e.diagnostics
        .iter()
        .map(|d| {
            let at = d.span.as_ref().map(|s| e.line_col(s.start));
            Problem {
                field: d.field.clone(),
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
                message: d.message.clone(),
                help: d.help.clone(),
            }
        })
        .collect()
}

pub fn run(paths: &[PathBuf], json: bool) -> Result<(), CliError> {
    let mut report = String::new();
    let mut files = Vec::new();
    let mut failed = 0;
    let mut count = 0;
    for path in paths {
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                report.push_str(&format!("error: cannot read {file}: {e}\n"));
                let message = format!("cannot read it: {e}");
                let problem = Problem { field: String::new(), line: None, column: None, message, help: None };
                files.push(FileReport { file, recipe: None, problems: vec![problem] });
                failed += 1;
                count += 1;
                continue;
            }
        };
        match parse_recipe(path, &text) {
            Ok(recipe) => {
                if !json {
                    print(&format!("ok: {file} ({})\n", recipe.name))?;
                }
                files.push(FileReport { file, recipe: Some(recipe.name), problems: Vec::new() });
            }
            Err(e) => {
                report.push_str(&e.to_string());
                failed += 1;
                count += e.diagnostics.len();
                files.push(FileReport { file, recipe: None, problems: problems(&e) });
            }
        }
    }
    if json {
        print(&(serde_json::to_string_pretty(&files).unwrap_or_default() + "\n"))?;
        return if failed == 0 { Ok(()) } else { Err(CliError::exit(1, String::new())) };
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::Message(format!("{report}{count} problem(s) in {failed} file(s)\n")))
    }
}
