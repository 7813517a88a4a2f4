//! Which variables a field may refer to, and the readers of values that use
//! them: absolute paths, commands, account names.

use std::ops::Range;

use super::super::{
    model::{BUILTIN_VARS, is_account_name},
    read::{Reader, Tbl, join},
    template::{Segment, Template},
    text::Kind,
};

/// Which variables a template may refer to.
pub struct Scope {
    pub instances: bool,
    pub dirs: [bool; 3],
    pub vars: Vec<String>,
}

/// Which variables a field may use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Uses {
    /// `{name}`, `{instance}` and `{instance_path}`: defaults, directories
    /// and conditions, resolved before anything else.
    Basic,
    /// Those and the directories: a path in a directive that expands no
    /// settings (systemd's `WorkingDirectory=`, `EnvironmentFile=`).
    Paths,
    /// Every variable.
    All,
}

impl Scope {
    fn allows(&self, var: &str, uses: Uses) -> Result<(), String> {
        match var {
            "name" => Ok(()),
            "instance" | "instance_path" if self.instances => Ok(()),
            "instance" | "instance_path" => Err(format!("`{{{var}}}` is used but the recipe has no [instances] table")),
            _ if uses == Uses::Basic => Err(format!(
                "`{{{var}}}` cannot be used here: only `{{name}}`, `{{instance}}` and `{{instance_path}}` can"
            )),
            _ if uses == Uses::Paths && !matches!(var, "runtime_dir" | "state_dir" | "logs_dir") => Err(format!(
                "`{{{var}}}` cannot be used in this path: systemd expands no settings there; use `{{name}}`, `{{instance}}` or a directory variable"
            )),
            "runtime_dir" | "state_dir" | "logs_dir" => {
                let i = ["runtime_dir", "state_dir", "logs_dir"].iter().position(|d| *d == var).unwrap_or(0);
                if self.dirs[i] {
                    Ok(())
                } else {
                    let key = ["runtime", "state", "logs"][i];
                    Err(format!("`{{{var}}}` is used but [directories] has no `{key}`"))
                }
            }
            _ if self.vars.iter().any(|v| v == var) => Ok(()),
            _ => Err(format!(
                "unknown variable `{{{var}}}`: declare it under [vars], or use one of {}",
                BUILTIN_VARS.map(|b| format!("{{{b}}}")).join(", ")
            )),
        }
    }
}

/// Checks that every variable in `template` is in scope, pointing at the string if not.
pub fn check_scope(
    r: &mut Reader<'_>,
    field: &str,
    template: &Template,
    span: Option<&Range<usize>>,
    scope: &Scope,
    uses: Uses,
) -> bool {
    let mut ok = true;
    for var in template.vars() {
        if let Err(message) = scope.allows(var, uses) {
            r.error(field, span.cloned(), message);
            ok = false;
        }
    }
    ok
}

/// An absolute path in a directive that expands no settings.
pub fn path_in_scope(r: &mut Reader<'_>, t: Tbl<'_>, key: &str, scope: &Scope) -> Option<Template> {
    let (template, span) = r.template(t, key, false, Kind::Path)?;
    let field = join(t.path, key);
    absolute_path(r, &field, &template, span, scope).then_some(template)
}

/// Whether a path template starts with `/` or a directory variable and uses
/// only what a path directive can expand; reports it when not.
pub fn absolute_path(
    r: &mut Reader<'_>,
    field: &str,
    template: &Template,
    span: Option<Range<usize>>,
    scope: &Scope,
) -> bool {
    let absolute = match template.segments.first() {
        Some(Segment::Literal(l)) => l.starts_with('/'),
        Some(Segment::Var(v)) => matches!(v.as_str(), "runtime_dir" | "state_dir" | "logs_dir"),
        Some(Segment::Words(_)) | None => false,
    };
    if !absolute {
        r.error(field, span, "must be an absolute path: start with `/` or a directory variable such as `{state_dir}`");
        return false;
    }
    check_scope(r, field, template, span.as_ref(), scope, Uses::Paths)
}

/// A command: its program an absolute path without variables, every argument in scope.
pub fn argv_in_scope(
    r: &mut Reader<'_>,
    t: Tbl<'_>,
    key: &str,
    required: bool,
    scope: &Scope,
) -> Option<Vec<Template>> {
    let (argv, _) = r.argv(t, key, required)?;
    let field = join(t.path, key);
    let mut ok = true;
    for (i, (arg, span)) in argv.iter().enumerate() {
        ok &= check_scope(r, &format!("{field}[{i}]"), arg, span.as_ref(), scope, Uses::All);
    }
    let program = argv[0].0.as_literal();
    if !program.as_deref().is_some_and(|p| p.starts_with('/')) {
        r.error_help(
            &format!("{field}[0]"),
            argv[0].1.clone(),
            "the program must be an absolute path without variables",
            "init systems do not search PATH the same way; write for example \"/usr/bin/redis-server\"",
        );
        ok = false;
    }
    ok.then(|| argv.into_iter().map(|(t, _)| t).collect())
}

/// A user or group name, as `useradd` takes it.
pub fn account(r: &mut Reader<'_>, t: Tbl<'_>, key: &str) -> Option<String> {
    let (name, span) = r.string(t, key, false, Kind::Line)?;
    if is_account_name(&name) {
        Some(name)
    } else {
        r.error(&join(t.path, key), span, format!("`{name}` is not a user or group name"));
        None
    }
}

/// One of a fixed set of words, reported with the set when it is not.
pub fn choice<T: Copy>(r: &mut Reader<'_>, t: Tbl<'_>, key: &str, all: &[(T, &str)]) -> Option<T> {
    let (text, span) = r.string(t, key, false, Kind::Line)?;
    let found = all.iter().find(|(_, n)| *n == text).map(|(v, _)| *v);
    if found.is_none() {
        let names: Vec<&str> = all.iter().map(|(_, n)| *n).collect();
        r.error(&join(t.path, key), span, format!("`{text}` is not one of {}", names.join(", ")));
    }
    found
}
