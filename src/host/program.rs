//! Where a program named on a command line really is: found on PATH or
//! against the app's directory, version-manager shims (pyenv, rbenv, asdf)
//! asked for the program they select, and a script's interpreter read from
//! its `#!` line. Each finding comes with a note the user is shown.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A program resolved to an absolute path, with what was done to get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub path: String,
    pub notes: Vec<String>,
}

/// The version managers whose shims stand in for the program they select:
/// the directory the shims live in (`~/.pyenv/shims`) and the command that
/// names the real program (`pyenv which python3`).
const MANAGERS: &[(&str, &str)] = &[(".pyenv", "pyenv"), (".rbenv", "rbenv"), (".asdf", "asdf"), ("asdf", "asdf")];

/// `word` as an absolute path: as given, relative to `cwd` when it has a `/`,
/// or found on `path` (a PATH value); a shim is replaced by the program its
/// manager selects for `cwd`.
pub fn resolve(word: &str, cwd: &Path, path: Option<&str>) -> Result<Resolved, String> {
    let mut notes = Vec::new();
    let found = if word.starts_with('/') {
        PathBuf::from(word)
    } else if word.contains('/') {
        let p = cwd.join(word);
        if !p.is_file() {
            return Err(format!("`{word}` is not a file in {}", cwd.display()));
        }
        let p = normalize(&p);
        notes.push(format!("`{word}` is {} (relative to the working directory)", p.display()));
        p
    } else {
        let Some(p) = path.into_iter().flat_map(std::env::split_paths).map(|d| d.join(word)).find(|p| p.is_file())
        else {
            return Err(format!("cannot find `{word}` on PATH: give the program as an absolute path"));
        };
        p
    };
    let found = match shim_manager(&found) {
        Some((root, manager)) => {
            let real = ask_manager(&root, manager, word_name(word), cwd)?;
            notes.push(format!(
                "`{}` is a {manager} shim: the service runs `{}`, the program {manager} selects here (`{manager} which {}`); install again after changing versions",
                found.display(),
                real.display(),
                word_name(word)
            ));
            real
        }
        None => found,
    };
    Ok(Resolved { path: found.display().to_string(), notes })
}

/// The last part of a program word (`python3` of `./bin/python3`).
fn word_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// `a/./b/../c` as `a/c`, without following links (the path may be a link on purpose).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The manager's directory and name when `p` is one of its shims.
fn shim_manager(p: &Path) -> Option<(PathBuf, &'static str)> {
    let dir = p.parent()?;
    if dir.file_name()? != "shims" {
        return None;
    }
    let root = dir.parent()?;
    let base = root.file_name()?.to_str()?;
    MANAGERS.iter().find(|(d, _)| *d == base).map(|(_, m)| (root.to_path_buf(), *m))
}

/// `MANAGER which NAME` run in `cwd` (where `.python-version` and the like
/// choose the version), the manager found beside its shims or on PATH.
fn ask_manager(root: &Path, manager: &str, name: &str, cwd: &Path) -> Result<PathBuf, String> {
    let beside = [root.join("bin").join(manager), root.join("libexec").join(manager)];
    let program = beside.iter().find(|p| p.is_file()).map_or_else(|| PathBuf::from(manager), Clone::clone);
    let out = Command::new(&program)
        .args(["which", name])
        .current_dir(cwd)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .map_err(|e| format!("`{name}` is a {manager} shim, and `{manager} which {name}` could not run: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let real = text.lines().next().unwrap_or("").trim();
    if !out.status.success() || !real.starts_with('/') || !Path::new(real).is_file() {
        return Err(format!(
            "`{name}` is a {manager} shim, and `{manager} which {name}` did not name a program: {}; give the interpreter as an absolute path",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(real))
}

/// The interpreter a script names on its `#!` line, through `env` when it
/// goes that way: `(interpreter, its arguments)`.
pub fn shebang(path: &Path) -> Option<(String, Vec<String>)> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = std::str::from_utf8(head.get(..n)?).ok().or_else(|| {
        // A line cut in the middle of a character: the first line is enough.
        let end = head[..n].iter().position(|b| *b == b'\n')?;
        std::str::from_utf8(&head[..end]).ok()
    })?;
    let line = text.strip_prefix("#!")?.lines().next()?;
    let mut words = line.split_whitespace().map(str::to_owned);
    let first = words.next()?;
    let rest: Vec<String> = words.collect();
    if first.ends_with("/env") {
        let mut rest = rest.into_iter().skip_while(|w| w.starts_with('-'));
        let program = rest.next()?;
        return Some((program, rest.collect()));
    }
    Some((first, rest))
}

/// Names that run the script given as their first non-option argument.
pub fn is_interpreter(program: &str) -> bool {
    let name = word_name(program);
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(base, "python" | "node" | "nodejs" | "ruby" | "perl" | "php" | "bash" | "sh" | "deno" | "bun")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_are_known_by_name_with_or_without_a_version() {
        assert!(is_interpreter("/usr/bin/python3.11"));
        assert!(is_interpreter("node"));
        assert!(!is_interpreter("/usr/sbin/nginx"));
    }

    #[test]
    fn a_shebang_through_env_names_the_program() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.py");
        std::fs::write(&p, "#!/usr/bin/env -S python3 -u\nprint(1)\n").unwrap();
        assert_eq!(shebang(&p), Some(("python3".into(), vec!["-u".into()])));
        std::fs::write(&p, "#!/usr/bin/python3\n").unwrap();
        assert_eq!(shebang(&p), Some(("/usr/bin/python3".into(), vec![])));
        std::fs::write(&p, "print(1)\n").unwrap();
        assert_eq!(shebang(&p), None);
    }

    #[test]
    fn a_relative_program_is_found_against_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/app"), "").unwrap();
        let r = resolve("./bin/../bin/app", dir.path(), None).unwrap();
        assert_eq!(r.path, dir.path().join("bin/app").display().to_string());
        assert_eq!(r.notes.len(), 1);
        assert!(resolve("./missing", dir.path(), None).unwrap_err().contains("is not a file"));
        assert!(resolve("no-such-program-here", dir.path(), Some("/nonexistent")).unwrap_err().contains("PATH"));
    }
}
