//! `initkit new`: a recipe for a custom program, written from flags and validated before it is saved.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::{CliError, output::print};
use crate::{
    host::program,
    import::draft::lit as literal,
    recipe::{is_recipe_name, parse_recipe, signal::Signal},
};

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The recipe's name; with --from, the app's, each recipe named NAME-TYPE
    /// [default with --from: the name of the file's directory].
    #[arg(required_unless_present = "from")]
    pub(super) name: Option<String>,
    #[arg(long)]
    pub(super) summary: Option<String>,
    /// The user the service runs as [default: a user named after the service,
    /// which `initkit install --create-user` makes; `--user root` when it must be root].
    #[arg(long)]
    pub(super) user: Option<String>,
    #[arg(long)]
    pub(super) group: Option<String>,
    /// The app's directory: the service runs there, and a relative program or
    /// script is found there [default: the current directory when the command names a file in it].
    #[arg(long, visible_alias = "working-directory", value_name = "DIR")]
    pub(super) cwd: Option<PathBuf>,
    /// `KEY=VALUE`, repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub(super) env: Vec<String>,
    /// A file of `KEY=VALUE` lines the service reads at start (read as data, optional at run time).
    #[arg(long, value_name = "FILE")]
    pub(super) env_file: Option<PathBuf>,
    /// A command that tests the config, as one string with shell-like quoting.
    #[arg(long)]
    pub(super) config_test: Option<String>,
    #[arg(long)]
    pub(super) reload_signal: Option<String>,
    #[arg(long, default_value = "TERM")]
    pub(super) stop_signal: String,
    #[arg(long, default_value = "30s")]
    pub(super) stop_timeout: String,
    /// When the service is started again after it ends: on-failure, always, on-abnormal, on-abort, no.
    #[arg(long, value_name = "POLICY")]
    pub(super) restart: Option<String>,
    /// How long to wait before starting it again.
    #[arg(long, value_name = "DURATION")]
    pub(super) restart_delay: Option<String>,
    /// A TCP port the service listens on: the app gets it as `PORT` (as foreman
    /// gives it) and a start waits until something listens there. With --from,
    /// the first process type's port, foreman's way: each next type 100 more,
    /// waited on for a type whose command reads `$PORT` [default with --from: 5000].
    #[arg(long)]
    pub(super) port: Option<u16>,
    /// A command that succeeds once the service is ready (shell-like quoting).
    #[arg(long, value_name = "CMD")]
    pub(super) ready_command: Option<String>,
    /// How long a start may take to become ready before it counts as failed.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub(super) ready_timeout: String,
    /// Make the recipe multi-instance.
    #[arg(long)]
    pub(super) instances: bool,
    /// Write here instead of stdout; with --from, a directory that gets one NAME-TYPE.toml per process type.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    pub(super) force: bool,
    /// A Procfile (any file name) or a package.json: one recipe for each
    /// process type, each run in the file's directory (unless --cwd).
    #[arg(long, value_name = "FILE", conflicts_with = "command")]
    pub(super) from: Option<PathBuf>,
    /// With --from: how many of each process type run, as foreman's
    /// `--formation` says it (`all=1,web=2,worker=0`); a type run more than once
    /// is a multi-instance recipe whose instances are its ports.
    #[arg(long, short = 'm', value_name = "TYPE=N,...", requires = "from")]
    pub(super) formation: Option<String>,
    /// With --from package.json: another script run as a process type of its
    /// name, beside `start` (repeatable).
    #[arg(long = "script", value_name = "NAME", requires = "from")]
    pub(super) scripts: Vec<String>,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required_unless_present = "from")]
    command: Vec<String>,
}

/// Splits a command line with single quotes, double quotes and backslashes, as sh would (no expansion).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.push(chars.next().ok_or("unfinished escape")?),
                        Some(c) => word.push(c),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next().ok_or("unfinished escape")?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The PATH a service starts with under every init system initkit renders for.
pub(super) const SERVICE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A path from the command line made absolute against the current directory.
pub(super) fn absolute_path(p: &Path, here: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { here.join(p) }
}

/// One word of a command: text as written, or a recipe template (a
/// Procfile's `$PORT` as `{port}`), which is never taken for a program or a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Word {
    Text(String),
    Template(String),
}

impl Word {
    fn text(&self) -> Option<&str> {
        match self {
            Word::Text(t) => Some(t),
            Word::Template(_) => None,
        }
    }

    fn template(&self) -> String {
        match self {
            Word::Text(t) => literal(t),
            Word::Template(t) => t.clone(),
        }
    }
}

/// A command resolved: its words as recipe templates, with the program (and
/// an interpreter's script) as absolute paths.
pub(super) struct Resolved {
    pub command: Vec<String>,
    /// How each was found, for the user.
    pub notes: Vec<String>,
    /// Whether it named a file relative to the working directory.
    pub relative: bool,
}

/// Resolves a command as `new` does: the program found on `path` (a PATH
/// value) or against `cwd`, a shim replaced, an interpreter's script made
/// absolute, a script's `#!` interpreter checked on the service's PATH.
pub(super) fn resolve_command(words: &[Word], cwd: &Path, path: Option<&str>) -> Result<Resolved, String> {
    let Some(first) = words.first().and_then(Word::text) else {
        return Err("the program is not a plain word".into());
    };
    let program = program::resolve(first, cwd, path)?;
    let mut notes = program.notes;
    let mut relative = !first.starts_with('/') && first.contains('/');
    let mut script = None;
    if program::is_interpreter(&program.path) {
        // `python3 app.py`: the script is the first word that is not an option.
        let at = words.iter().skip(1).position(|w| w.text().is_none_or(|t| !t.starts_with('-'))).map(|i| i + 1);
        if let Some((i, w)) = at.and_then(|i| words[i].text().map(|w| (i, w))) {
            let candidate = absolute_path(Path::new(w), cwd);
            if candidate.is_file() {
                if !w.starts_with('/') {
                    relative = true;
                    notes.push(format!("the script `{w}` is {}", candidate.display()));
                }
                script = Some((i, candidate.display().to_string()));
            }
        }
    } else if let Some((interpreter, _)) = program::shebang(Path::new(&program.path)) {
        // `#!/usr/bin/env python3` looks on the service's PATH, not the shell's.
        let service = program::resolve(&interpreter, cwd, Some(SERVICE_PATH)).ok().map(|r| r.path);
        let shell = program::resolve(&interpreter, cwd, path).ok().map(|r| r.path);
        match (&service, &shell) {
            (Some(svc), Some(sh)) if !interpreter.starts_with('/') && svc != sh => notes.push(format!(
                "`{}` is a script whose `#!` line finds `{interpreter}` on the service's PATH: {svc}, not {sh} as in your shell; to run it with that one, give it first (`-- {sh} {}`)",
                program.path, program.path
            )),
            (Some(svc), _) => notes.push(format!("`{}` is a script: its `#!` line runs it with {svc}", program.path)),
            (None, _) if interpreter.starts_with('/') => {
                return Err(format!("`{}` runs with {interpreter} (its `#!` line), which does not exist", program.path));
            }
            (None, _) => {
                return Err(format!(
                    "`{}` is a script whose `#!` line looks for `{interpreter}` on the service's PATH ({SERVICE_PATH}), where there is none: give the interpreter first (`-- /path/to/{interpreter} {}`)",
                    program.path, program.path
                ));
            }
        }
    }
    let mut runs = program.path.clone();
    let mut command = vec![literal(&program.path)];
    for (i, w) in words.iter().enumerate().skip(1) {
        command.push(match &script {
            Some((at, abs)) if *at == i => {
                runs = format!("{runs} {abs}");
                literal(abs)
            }
            _ => w.template(),
        });
    }
    notes.push(format!("the scripts know the service's process by its PID and start time; it runs {runs}"));
    Ok(Resolved { command, notes, relative })
}

/// The words of a command line from the command line: all text.
fn text_words(words: &[String]) -> Vec<Word> {
    words.iter().cloned().map(Word::Text).collect()
}

/// A command given on the command line, resolved against the shell's PATH.
fn resolve_given(words: &[String], cwd: &Path) -> Result<Resolved, CliError> {
    let path = std::env::var("PATH").ok();
    resolve_command(&text_words(words), cwd, path.as_deref()).map_err(CliError::msg)
}

/// A `--config-test` or `--ready-command` string as a resolved command.
fn resolve_flag(flag: &str, line: &str, cwd: &Path) -> Result<Array, CliError> {
    let words = split_words(line).map_err(|e| CliError::msg(format!("{flag}: {e}")))?;
    if words.is_empty() {
        return Err(CliError::msg(format!("{flag} is empty")));
    }
    Ok(resolve_given(&words, cwd)?.command.into_iter().collect())
}

/// One recipe `new` writes: what differs between the process types of one `--from` file.
pub(super) struct Service {
    pub name: String,
    pub summary: String,
    /// The command as recipe templates.
    pub command: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub user: String,
    pub port: Option<Port>,
    /// Settings beside the flags' `--env`, as templates (npm's `node_modules/.bin` on PATH).
    pub environment: Vec<(String, String)>,
}

/// The port a service gets as `PORT`.
pub(super) struct Port {
    pub number: u16,
    /// Several run (foreman's `web=2`): the recipe is multi-instance, each instance named by its port.
    pub per_instance: bool,
    /// A start waits until something listens there.
    pub ready: bool,
}

pub fn run(args: &NewArgs) -> Result<(), CliError> {
    if let Some(from) = &args.from {
        return super::new_from::run(args, from);
    }
    let name = args.name.clone().unwrap_or_default();
    if !is_recipe_name(&name) {
        return Err(CliError::msg(format!(
            "`{name}` is not a recipe name: use lowercase letters, digits, `-` and `_`"
        )));
    }
    let here = std::env::current_dir()?;
    let cwd = given_cwd(args, &here)?;
    let resolved = resolve_given(&args.command, cwd.as_deref().unwrap_or(&here))?;
    let mut notes = resolved.notes;
    // A command naming a file of this directory runs here, not in `/`.
    let cwd = cwd.or_else(|| resolved.relative.then(|| here.clone()));
    if args.cwd.is_none()
        && let Some(dir) = &cwd
    {
        notes.push(format!("it runs in {} (the current directory; --cwd to change it)", dir.display()));
    }
    let service = Service {
        user: user(args, &name, &mut notes),
        summary: args.summary.clone().unwrap_or_else(|| format!("{name} (written by initkit new)")),
        name,
        command: resolved.command,
        cwd,
        port: args.port.map(|number| Port { number, per_instance: false, ready: true }),
        environment: Vec::new(),
    };
    let text = recipe_text(args, &service, &here, &mut notes)?;
    // What we write must be a valid recipe: validate it the same way `check` does.
    let shown = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.toml", service.name)));
    parse_recipe(&shown, &text)?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    match &args.out {
        None => print(&text),
        Some(path) => write_new(path, &text, args.force),
    }
}

/// `--cwd`, absolute, when it is a directory.
pub(super) fn given_cwd(args: &NewArgs, here: &Path) -> Result<Option<PathBuf>, CliError> {
    let cwd = args.cwd.as_deref().map(|c| absolute_path(c, here));
    if let Some(dir) = &cwd
        && !dir.is_dir()
    {
        return Err(CliError::msg(format!("--cwd {}: not a directory", dir.display())));
    }
    Ok(cwd)
}

/// `--user`, or a user named `app` (with a note saying so).
pub(super) fn user(args: &NewArgs, app: &str, notes: &mut Vec<String>) -> String {
    args.user.clone().unwrap_or_else(|| {
        notes.push(format!(
            "it runs as the user `{app}`: `initkit install --create-user` makes it when it does not exist; --user names another (root only when it must)"
        ));
        app.to_owned()
    })
}

/// The recipe's text for `service`, with the settings every recipe of one
/// `new` shares from the flags; the caller validates it.
pub(super) fn recipe_text(
    args: &NewArgs,
    service: &Service,
    here: &Path,
    notes: &mut Vec<String>,
) -> Result<String, CliError> {
    let cwd = service.cwd.as_deref();
    let mut doc = DocumentMut::new();
    doc["name"] = value(&service.name);
    doc["summary"] = value(&service.summary);
    if let Some(port) = &service.port {
        let mut vars = Table::new();
        vars["port"] = value(if port.per_instance { "{instance}".to_owned() } else { port.number.to_string() });
        doc["vars"] = Item::Table(vars);
    }
    if args.instances || service.port.as_ref().is_some_and(|p| p.per_instance) {
        let mut instances = Table::new();
        if let Some(port) = service.port.as_ref().filter(|p| p.per_instance) {
            instances["default"] = value(port.number.to_string());
        }
        doc["instances"] = Item::Table(instances);
    }
    let mut run = Table::new();
    run["command"] = value(service.command.iter().collect::<Array>());
    run["user"] = value(&service.user);
    if let Some(group) = &args.group {
        run["group"] = value(group);
    }
    if let Some(dir) = cwd {
        run["working_directory"] = value(literal(&dir.display().to_string()));
    }
    let mut env = InlineTable::new();
    for pair in &args.env {
        let (k, v) = pair.split_once('=').ok_or_else(|| CliError::msg(format!("--env {pair:?} is not KEY=VALUE")))?;
        env.insert(k, literal(v).into());
    }
    for (k, v) in &service.environment {
        if !env.contains_key(k) {
            env.insert(k, v.into());
        }
    }
    if service.port.is_some() && !env.contains_key("PORT") {
        env.insert("PORT", "{port}".into());
    }
    if !env.is_empty() {
        run["environment"] = value(env);
    }
    if let Some(file) = &args.env_file {
        let file = absolute_path(file, cwd.unwrap_or(here));
        if !file.is_file() {
            notes.push(format!("{} does not exist yet: the service starts without it", file.display()));
        }
        run["environment_file"] = value(literal(&file.display().to_string()));
    }
    doc["run"] = Item::Table(run);
    if let Some(dir) = cwd {
        // The app's own directory is where it keeps its files: the sandbox lets it write there.
        let mut sd = Table::new();
        let d = dir.display().to_string();
        if crate::render::systemd::hidden_by_protect_home(&d) {
            sd["allow"] = value(Array::from_iter(["home"]));
            notes.push(format!(
                "{d} is under a home directory: systemd's sandbox lets the service in (systemd.allow = [\"home\"])"
            ));
        }
        sd["write_paths"] = value(Array::from_iter([literal(&d)]));
        doc["systemd"] = Item::Table(sd);
    }
    if let Some(test) = &args.config_test {
        let mut check = Table::new();
        check["command"] = value(resolve_flag("--config-test", test, cwd.unwrap_or(here))?);
        doc["check"] = Item::Table(check);
    }
    if let Some(signal) = &args.reload_signal {
        Signal::parse(signal).map_err(|e| CliError::msg(format!("--reload-signal: {e}")))?;
        let mut reload = Table::new();
        reload["signal"] = value(signal.to_ascii_uppercase());
        doc["reload"] = Item::Table(reload);
    }
    if args.restart.is_some() || args.restart_delay.is_some() {
        let mut restart = Table::new();
        if let Some(policy) = &args.restart {
            restart["policy"] = value(policy);
        }
        if let Some(delay) = &args.restart_delay {
            restart["delay"] = value(delay);
        }
        doc["restart"] = Item::Table(restart);
    }
    let mut stop = Table::new();
    stop["signal"] = value(args.stop_signal.to_ascii_uppercase());
    stop["timeout"] = value(&args.stop_timeout);
    doc["stop"] = Item::Table(stop);
    let ready_port = service.port.as_ref().is_some_and(|p| p.ready);
    if ready_port || args.ready_command.is_some() {
        let mut ready = Table::new();
        if ready_port {
            ready["tcp"] = value("127.0.0.1:{port}");
        }
        if let Some(cmd) = &args.ready_command {
            ready["command"] = value(resolve_flag("--ready-command", cmd, cwd.unwrap_or(here))?);
        }
        ready["timeout"] = value(&args.ready_timeout);
        doc["ready"] = Item::Table(ready);
    }
    Ok(format!("# Written by `initkit new`; see docs/recipes.md for every field.\n{doc}"))
}

pub(super) fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    if path.exists() && !force {
        return Err(CliError::msg(format!(
            "{} exists; nothing was written (use --force to replace it)",
            path.display()
        )));
    }
    std::fs::write(path, text)?;
    print(&format!("wrote {}\n", path.display()))
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn splits_like_sh() {
        assert_eq!(
            split_words(r#"nginx -t -g 'daemon off;' "a \"b\"" c\ d"#).unwrap(),
            ["nginx", "-t", "-g", "daemon off;", "a \"b\"", "c d"]
        );
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'x").is_err());
    }
}
