//! Problems found in a recipe, each with its file, position and field, drawn with the source line.

use std::{fmt, ops::Range, path::PathBuf};

/// One problem in one recipe file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The field, as a dotted path (`run.command[0]`); empty for the whole file.
    pub field: String,
    pub message: String,
    pub span: Option<Range<usize>>,
    pub help: Option<String>,
}

/// Every problem in one recipe, with the source needed to draw them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecipeErrors {
    pub path: PathBuf,
    pub source_text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl RecipeErrors {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.source_text[..offset.min(self.source_text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

impl fmt::Display for RecipeErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let field = if d.field.is_empty() { String::new() } else { format!("{}: ", d.field) };
            let Some(span) = &d.span else {
                writeln!(f, "error: {path}: {field}{}", d.message)?;
                if let Some(help) = &d.help {
                    writeln!(f, "  = help: {help}")?;
                }
                continue;
            };
            let (line, col) = self.line_col(span.start);
            writeln!(f, "error: {path}:{line}:{col}: {field}{}", d.message)?;
            let text = self.source_text.lines().nth(line - 1).unwrap_or("");
            let gutter = line.to_string().len();
            // Underline to the end of the span or of the line, whichever comes first.
            let line_start: usize = self.source_text.lines().take(line - 1).map(|l| l.len() + 1).sum();
            let end = span.end.min(line_start + text.len()).max(span.start + 1);
            let width = self.source_text.get(span.start..end).map_or(1, |s| s.chars().count().max(1));
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{line} | {text}")?;
            writeln!(f, "{:gutter$} | {}{}", "", " ".repeat(col - 1), "^".repeat(width))?;
            if let Some(help) = &d.help {
                writeln!(f, "{:gutter$} = help: {help}", "")?;
            }
        }
        Ok(())
    }
}
