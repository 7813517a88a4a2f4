//! The catalogue: recipes embedded in the binary, overridden by files in
//! `/etc/initkit/recipes` and then the user's config directory (later ones win).

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::recipe::{Recipe, RecipeErrors, parse_recipe};

// `EMBEDDED`: every recipes/*.toml, and `PROVEN`: where each ran, from build.rs.
include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// The init systems an embedded recipe's real daemon ran on in the
/// end-to-end suites (empty for a local recipe).
pub fn proven_on(name: &str) -> &'static [&'static str] {
    PROVEN.iter().find(|(n, _)| *n == name).map_or(&[], |(_, on)| on)
}

/// Where a recipe's text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Embedded,
    File(PathBuf),
}

impl Source {
    /// The path used in messages: the file, or `<embedded>/NAME.toml`.
    pub fn display_path(&self, name: &str) -> PathBuf {
        match self {
            Source::Embedded => PathBuf::from(format!("<embedded>/{name}.toml")),
            Source::File(path) => path.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub source: Source,
    pub text: String,
    /// Earlier definitions this one overrides.
    pub overrides: Vec<Source>,
}

impl Entry {
    pub fn parse(&self) -> Result<Recipe, RecipeErrors> {
        parse_recipe(&self.source.display_path(&self.name), &self.text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

pub struct Catalogue {
    pub entries: Vec<Entry>,
    /// Override directories that exist but could not be read (skipped).
    pub warnings: Vec<String>,
}

/// The override directories, in order: system-wide, then the user's.
pub fn default_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/etc/initkit/recipes")];
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")));
    if let Some(config) = config {
        dirs.push(config.join("initkit/recipes"));
    }
    dirs
}

impl Catalogue {
    /// The embedded recipes, then each directory's `*.toml` files in turn.
    /// A directory that does not exist is skipped.
    pub fn load(dirs: &[PathBuf]) -> Result<Catalogue, CatalogueError> {
        let mut entries: Vec<Entry> = EMBEDDED
            .iter()
            .map(|(name, text)| Entry {
                name: (*name).to_owned(),
                source: Source::Embedded,
                text: (*text).to_owned(),
                overrides: Vec::new(),
            })
            .collect();
        let mut warnings = Vec::new();
        for dir in dirs {
            let listing = match fs::read_dir(dir) {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                // Another user's config directory: its overrides are not ours to use.
                Err(e) => {
                    warnings.push(format!("skipping recipe overrides in {}: {e}", dir.display()));
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = listing
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text =
                    fs::read_to_string(&path).map_err(|source| CatalogueError::Read { path: path.clone(), source })?;
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let source = Source::File(path);
                if let Some(existing) = entries.iter_mut().find(|e| e.name == name) {
                    existing.overrides.push(std::mem::replace(&mut existing.source, source));
                    existing.text = text;
                } else {
                    entries.push(Entry { name, source, text, overrides: Vec::new() });
                }
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Catalogue { entries, warnings })
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }
}
