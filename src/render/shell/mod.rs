//! Shell scripts: one builder assembles every script initkit renders from a
//! header, the constants and functions the script uses, and a main. The
//! shell code lives in `.sh` files beside this one; the functions a recipe
//! needs written for it come from [`generated`].
//!
//! A script carries only what it reaches: the builder starts from the main
//! and follows every `ik_…` name and `$CONSTANT` it mentions, so a runit
//! check script is a dozen lines, not the whole library, and shellcheck runs
//! with no file-wide suppression.

mod conditions;
pub mod generated;

use std::collections::BTreeSet;

use super::sh;

/// The library every script draws from, in the order functions are emitted.
const LIBRARY: [&str; 3] = [include_str!("lib.sh"), include_str!("conditions.sh"), include_str!("actions.sh")];

/// The mains, one per kind of script.
pub const SYSV_MAIN: &str = include_str!("sysv.sh");
pub const OPENRC_MAIN: &str = include_str!("openrc.sh");
pub const WRAPPER_MAIN: &str = include_str!("wrapper.sh");
pub const RUNIT_RUN: &str = include_str!("runit_run.sh");
pub const RUNIT_CHECK: &str = include_str!("runit_check.sh");
pub const RUNIT_CONTROL: &str = include_str!("runit_control.sh");
pub const RUNIT_FINISH: &str = include_str!("runit_finish.sh");
pub const UPSTART_HELPER: &str = include_str!("upstart_helper.sh");

/// A function definition with the comment lines directly above it.
#[derive(Debug, Clone)]
struct Unit {
    name: String,
    text: String,
}

/// Splits shell text into its function definitions (`name() {` at the start
/// of a line, up to the `}` that starts a line, or a one-line definition).
fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut comments: Vec<&str> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            comments.push(line);
            continue;
        }
        let Some((name, rest)) = line.split_once("() {") else {
            comments.clear();
            continue;
        };
        let mut body = comments.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        comments.clear();
        body.push_str(line);
        body.push('\n');
        if !rest.trim_end().ends_with('}') || rest.trim_start().starts_with('#') {
            for inner in lines.by_ref() {
                body.push_str(inner);
                body.push('\n');
                if inner == "}" {
                    break;
                }
            }
        }
        out.push(Unit { name: name.trim().to_owned(), text: body });
    }
    out
}

/// The library's functions, by name, as they appear in every script that
/// uses them (for golden files that show the library once).
pub fn library() -> Vec<(String, String)> {
    LIBRARY.iter().flat_map(|t| units(t)).map(|u| (u.name, u.text)).collect()
}

/// The `ik_…` names a text mentions.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("ik_") {
        let start = i + at;
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .map_or(text.len(), |e| start + e);
        if boundary {
            out.insert(text[start..end].to_owned());
        }
        i = end.max(start + 3);
    }
    out
}

/// Whether `text` reads the shell variable `name`: `$NAME`, `${NAME…}`, or
/// the bare name, as arithmetic (`$((now + NAME))`) reads it: any whole-word
/// use. Constants are upper-case, so nothing else matches by accident.
fn reads(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// A script: a header (shebang and comments), constants, the recipe's
/// generated functions, and a main (which may define functions of its own).
pub struct Script<'a> {
    pub header: String,
    pub consts: Vec<(&'static str, String)>,
    /// The recipe's functions, by name: kept apart, never parsed out of text
    /// (a recipe's value could hold a line that looks like a function's end).
    pub generated: Vec<(String, String)>,
    pub main: &'a str,
    /// Lines after the constants, before the functions (for example OpenRC's PATH).
    pub setup: &'a str,
}

impl Script<'_> {
    /// The script's text, with only the functions and constants its main reaches.
    pub fn build(&self) -> String {
        // A recipe's own function of a library name replaces the library's
        // (a restart with a handover is the recipe's `ik_restart_one`).
        let mut all: Vec<Unit> = LIBRARY
            .iter()
            .flat_map(|t| units(t))
            .filter(|u| !self.generated.iter().any(|(name, _)| *name == u.name))
            .collect();
        all.extend(self.generated.iter().map(|(name, text)| Unit { name: name.clone(), text: text.clone() }));
        let mut wanted = names(self.main);
        wanted.extend(names(self.setup));
        let mut done = BTreeSet::new();
        while let Some(name) = wanted.iter().find(|n| !done.contains(*n)).cloned() {
            done.insert(name.clone());
            if let Some(unit) = all.iter().find(|u| u.name == name) {
                wanted.extend(names(&unit.text));
            }
        }
        let chosen: Vec<&Unit> = all.iter().filter(|u| done.contains(&u.name)).collect();
        let mut body: String = chosen.iter().map(|u| u.text.as_str()).collect::<Vec<_>>().join("\n");
        body.push('\n');
        body.push_str(self.main);

        let mut s = self.header.clone();
        s.push_str("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
        for (key, value) in &self.consts {
            if !reads(&body, key) && !reads(self.setup, key) {
                continue;
            }
            let quoted = sh::quote(value);
            if value.contains(['$', '`']) {
                s.push_str("# shellcheck disable=SC2016 # a literal value, single-quoted on purpose\n");
            }
            s.push_str(&format!("{key}={quoted}\n"));
        }
        // Pidfiles are world-readable (a PID is no secret, and status reads
        // them without root); console logs are made root-only where they are opened.
        s.push_str("export PATH\numask 022\n");
        s.push_str(self.setup);
        s.push('\n');
        s.push_str(&body);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_split_with_their_comments() {
        let u = units("# says hi\nik_a() {\n    ik_b\n}\n\nik_b() { :; }\nx=1\n");
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].name, "ik_a");
        assert_eq!(u[0].text, "# says hi\nik_a() {\n    ik_b\n}\n");
        assert_eq!(u[1].text, "ik_b() { :; }\n");
    }

    #[test]
    fn only_what_the_main_reaches_is_included() {
        let script = Script {
            header: "#!/bin/sh\n".into(),
            consts: vec![("NAME", "x".into()), ("UNUSED", "y".into())],
            generated: vec![("ik_ready".into(), "ik_ready() {\n    ik_listening \"$NAME:1\"\n}\n".into())],
            main: "ik_ready\n",
            setup: "",
        }
        .build();
        assert!(script.contains("ik_listening() {"), "{script}");
        assert!(script.contains("NAME=x"), "{script}");
        assert!(!script.contains("UNUSED"), "{script}");
        assert!(!script.contains("ik_start_one"), "{script}");
    }

    #[test]
    fn reads_whole_names_only() {
        assert!(reads("a $NAME b", "NAME"));
        assert!(reads("\"${NAME}\"", "NAME"));
        assert!(!reads("$NAMES", "NAME"));
        assert!(reads("$((now + NAME))", "NAME"));
    }
}
