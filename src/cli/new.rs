//! `initkit new`: a recipe for a custom program, written from flags and validated before it is saved.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::{CliError, output::print};
use crate::{
    host::program,
    recipe::{is_recipe_name, parse_recipe, signal::Signal},
};

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The recipe's name.
    name: String,
    #[arg(long)]
    summary: Option<String>,
    /// The user the service runs as [default: a user named after the service,
    /// which `initkit install --create-user` makes; `--user root` when it must be root].
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    group: Option<String>,
    /// The app's directory: the service runs there, and a relative program or
    /// script is found there [default: the current directory when the command names a file in it].
    #[arg(long, visible_alias = "working-directory", value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// `KEY=VALUE`, repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// A file of `KEY=VALUE` lines the service reads at start (read as data, optional at run time).
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// A command that tests the config, as one string with shell-like quoting.
    #[arg(long)]
    config_test: Option<String>,
    #[arg(long)]
    reload_signal: Option<String>,
    #[arg(long, default_value = "TERM")]
    stop_signal: String,
    #[arg(long, default_value = "30s")]
    stop_timeout: String,
    /// When the service is started again after it ends: on-failure, always, on-abnormal, on-abort, no.
    #[arg(long, value_name = "POLICY")]
    restart: Option<String>,
    /// How long to wait before starting it again.
    #[arg(long, value_name = "DURATION")]
    restart_delay: Option<String>,
    /// A TCP port the service listens on: the app gets it as `PORT` (as foreman
    /// gives it) and a start waits until something listens there.
    #[arg(long)]
    port: Option<u16>,
    /// A command that succeeds once the service is ready (shell-like quoting).
    #[arg(long, value_name = "CMD")]
    ready_command: Option<String>,
    /// How long a start may take to become ready before it counts as failed.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    ready_timeout: String,
    /// Make the recipe multi-instance.
    #[arg(long)]
    instances: bool,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    force: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true)]
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
const SERVICE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Escapes `{` and `}` so a literal argument is not read as a variable.
fn literal(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// A path from the command line made absolute against the current directory.
fn absolute_path(p: &Path, here: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { here.join(p) }
}

/// The command with its program (and an interpreter's script) as absolute
/// paths, the notes saying how, and whether it named a file relative to `cwd`.
fn resolve_command(words: &[String], cwd: &Path) -> Result<(Vec<String>, Vec<String>, bool), CliError> {
    let path = std::env::var("PATH").ok();
    let program = program::resolve(&words[0], cwd, path.as_deref()).map_err(CliError::msg)?;
    let mut notes = program.notes;
    let mut relative = !words[0].starts_with('/') && words[0].contains('/');
    let mut out = vec![program.path.clone()];
    let mut script = None;
    if program::is_interpreter(&program.path) {
        // `python3 app.py`: the script is the first word that is not an option.
        if let Some(i) = words.iter().skip(1).position(|w| !w.starts_with('-')).map(|i| i + 1) {
            let w = &words[i];
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
        let shell = program::resolve(&interpreter, cwd, path.as_deref()).ok().map(|r| r.path);
        match (&service, &shell) {
            (Some(svc), Some(sh)) if !interpreter.starts_with('/') && svc != sh => notes.push(format!(
                "`{}` is a script whose `#!` line finds `{interpreter}` on the service's PATH: {svc}, not {sh} as in your shell; to run it with that one, give it first (`-- {sh} {}`)",
                program.path, program.path
            )),
            (Some(svc), _) => notes.push(format!("`{}` is a script: its `#!` line runs it with {svc}", program.path)),
            (None, _) if interpreter.starts_with('/') => {
                return Err(CliError::msg(format!("`{}` runs with {interpreter} (its `#!` line), which does not exist", program.path)));
            }
            (None, _) => {
                return Err(CliError::msg(format!(
                    "`{}` is a script whose `#!` line looks for `{interpreter}` on the service's PATH ({SERVICE_PATH}), where there is none: give the interpreter first (`-- /path/to/{interpreter} {}`)",
                    program.path, program.path
                )));
            }
        }
    }
    for (i, w) in words.iter().enumerate().skip(1) {
        out.push(match &script {
            Some((at, abs)) if *at == i => abs.clone(),
            _ => w.clone(),
        });
    }
    notes.push(format!(
        "the scripts know the service's process by its PID and start time; it runs {}",
        out.iter().take(if script.is_some() { 2 } else { 1 }).cloned().collect::<Vec<_>>().join(" ")
    ));
    Ok((out, notes, relative))
}

fn array(words: &[String]) -> Array {
    words.iter().map(|w| literal(w)).collect()
}

pub fn run(args: &NewArgs) -> Result<(), CliError> {
    if !is_recipe_name(&args.name) {
        return Err(CliError::msg(format!(
            "`{}` is not a recipe name: use lowercase letters, digits, `-` and `_`",
            args.name
        )));
    }
    let here = std::env::current_dir()?;
    let cwd = args.cwd.as_deref().map(|c| absolute_path(c, &here));
    if let Some(dir) = &cwd
        && !dir.is_dir()
    {
        return Err(CliError::msg(format!("--cwd {}: not a directory", dir.display())));
    }
    let (command, mut notes, relative) = resolve_command(&args.command, cwd.as_deref().unwrap_or(&here))?;
    // A command naming a file of this directory runs here, not in `/`.
    let cwd = cwd.or_else(|| relative.then(|| here.clone()));
    if args.cwd.is_none()
        && let Some(dir) = &cwd
    {
        notes.push(format!("it runs in {} (the current directory; --cwd to change it)", dir.display()));
    }
    let mut doc = DocumentMut::new();
    doc["name"] = value(&args.name);
    doc["summary"] = value(args.summary.clone().unwrap_or_else(|| format!("{} (written by initkit new)", args.name)));
    if let Some(port) = args.port {
        let mut vars = Table::new();
        vars["port"] = value(port.to_string());
        doc["vars"] = Item::Table(vars);
    }
    if args.instances {
        doc["instances"] = Item::Table(Table::new());
    }
    let mut run = Table::new();
    run["command"] = value(array(&command));
    let user = args.user.clone().unwrap_or_else(|| {
        notes.push(format!(
            "it runs as the user `{0}`: `initkit install --create-user` makes it when it does not exist; --user names another (root only when it must)",
            args.name
        ));
        args.name.clone()
    });
    run["user"] = value(&user);
    if let Some(group) = &args.group {
        run["group"] = value(group);
    }
    if let Some(dir) = &cwd {
        run["working_directory"] = value(literal(&dir.display().to_string()));
    }
    let mut env = InlineTable::new();
    for pair in &args.env {
        let (k, v) = pair.split_once('=').ok_or_else(|| CliError::msg(format!("--env {pair:?} is not KEY=VALUE")))?;
        env.insert(k, literal(v).into());
    }
    if args.port.is_some() && !env.contains_key("PORT") {
        env.insert("PORT", "{port}".into());
    }
    if !env.is_empty() {
        run["environment"] = value(env);
    }
    if let Some(file) = &args.env_file {
        let file = absolute_path(file, cwd.as_deref().unwrap_or(&here));
        if !file.is_file() {
            notes.push(format!("{} does not exist yet: the service starts without it", file.display()));
        }
        run["environment_file"] = value(literal(&file.display().to_string()));
    }
    doc["run"] = Item::Table(run);
    if let Some(dir) = &cwd {
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
        let words = split_words(test).map_err(|e| CliError::msg(format!("--config-test: {e}")))?;
        if words.is_empty() {
            return Err(CliError::msg("--config-test is empty"));
        }
        let (words, _, _) = resolve_command(&words, cwd.as_deref().unwrap_or(&here))?;
        let mut check = Table::new();
        check["command"] = value(array(&words));
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
    if args.port.is_some() || args.ready_command.is_some() {
        let mut ready = Table::new();
        if args.port.is_some() {
            ready["tcp"] = value("127.0.0.1:{port}");
        }
        if let Some(cmd) = &args.ready_command {
            let words = split_words(cmd).map_err(|e| CliError::msg(format!("--ready-command: {e}")))?;
            if words.is_empty() {
                return Err(CliError::msg("--ready-command is empty"));
            }
            let (words, _, _) = resolve_command(&words, cwd.as_deref().unwrap_or(&here))?;
            ready["command"] = value(array(&words));
        }
        ready["timeout"] = value(&args.ready_timeout);
        doc["ready"] = Item::Table(ready);
    }
    let text = format!("# Written by `initkit new`; see docs/recipes.md for every field.\n{doc}");
    // What we write must be a valid recipe: validate it the same way `check` does.
    let shown = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.name)));
    parse_recipe(&shown, &text)?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    match &args.out {
        None => print(&text),
        Some(path) => write_new(path, &text, args.force),
    }
}

fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
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
