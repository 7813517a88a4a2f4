//! `initkit new`: a recipe for a custom program, written from flags and validated before it is saved.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::{CliError, output::print};
use crate::recipe::{is_recipe_name, parse_recipe, signal::Signal};

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The recipe's name.
    name: String,
    #[arg(long)]
    summary: Option<String>,
    /// The user the service runs as.
    #[arg(long, default_value = "root")]
    user: String,
    #[arg(long)]
    group: Option<String>,
    #[arg(long)]
    working_directory: Option<String>,
    /// `KEY=VALUE`, repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// A command that tests the config, as one string with shell-like quoting.
    #[arg(long)]
    config_test: Option<String>,
    #[arg(long)]
    reload_signal: Option<String>,
    #[arg(long, default_value = "TERM")]
    stop_signal: String,
    #[arg(long, default_value = "30s")]
    stop_timeout: String,
    /// A TCP port the service listens on; start waits for it.
    #[arg(long)]
    port: Option<u16>,
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

/// An absolute path for `program`: as given, or found on PATH.
fn absolute(program: &str) -> Result<String, CliError> {
    if program.starts_with('/') {
        return Ok(program.to_owned());
    }
    if !program.contains('/')
        && let Some(path) = std::env::var_os("PATH")
    {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(program);
            if candidate.is_file() {
                return Ok(candidate.display().to_string());
            }
        }
    }
    Err(CliError::msg(format!("cannot find `{program}`: give the program as an absolute path")))
}

/// Escapes `{` and `}` so a literal argument is not read as a variable.
fn literal(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

fn argv(words: &[String]) -> Result<Array, CliError> {
    let mut array = Array::new();
    for (i, word) in words.iter().enumerate() {
        array.push(if i == 0 { literal(&absolute(word)?) } else { literal(word) });
    }
    Ok(array)
}

pub fn run(args: &NewArgs) -> Result<(), CliError> {
    if !is_recipe_name(&args.name) {
        return Err(CliError::msg(format!(
            "`{}` is not a recipe name: use lowercase letters, digits, `-` and `_`",
            args.name
        )));
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
    run["command"] = value(argv(&args.command)?);
    run["user"] = value(&args.user);
    if let Some(group) = &args.group {
        run["group"] = value(group);
    }
    if let Some(dir) = &args.working_directory {
        run["working_directory"] = value(literal(dir));
    }
    if !args.env.is_empty() {
        let mut env = InlineTable::new();
        for pair in &args.env {
            let (k, v) =
                pair.split_once('=').ok_or_else(|| CliError::msg(format!("--env {pair:?} is not KEY=VALUE")))?;
            env.insert(k, literal(v).into());
        }
        run["environment"] = value(env);
    }
    doc["run"] = Item::Table(run);
    if let Some(test) = &args.config_test {
        let words = split_words(test).map_err(|e| CliError::msg(format!("--config-test: {e}")))?;
        if words.is_empty() {
            return Err(CliError::msg("--config-test is empty"));
        }
        let mut check = Table::new();
        check["command"] = value(argv(&words)?);
        doc["check"] = Item::Table(check);
    }
    if let Some(signal) = &args.reload_signal {
        Signal::parse(signal).map_err(|e| CliError::msg(format!("--reload-signal: {e}")))?;
        let mut reload = Table::new();
        reload["signal"] = value(signal.to_ascii_uppercase());
        doc["reload"] = Item::Table(reload);
    }
    let mut stop = Table::new();
    stop["signal"] = value(args.stop_signal.to_ascii_uppercase());
    stop["timeout"] = value(&args.stop_timeout);
    doc["stop"] = Item::Table(stop);
    if args.port.is_some() {
        let mut ready = Table::new();
        ready["tcp"] = value("127.0.0.1:{port}");
        ready["timeout"] = value("30s");
        doc["ready"] = Item::Table(ready);
    }
    let text = format!("# Written by `initkit new`; see docs/recipes.md for every field.\n{doc}");
    // What we write must be a valid recipe: validate it the same way `check` does.
    let shown = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.name)));
    parse_recipe(&shown, &text)?;
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
