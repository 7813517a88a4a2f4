//! `initkit new --from FILE`: one recipe per process type of a Procfile or a
//! package.json, each command resolved as `new` resolves one, each type given
//! its `PORT` the way foreman gives it, every problem reported at once.

use std::path::{Path, PathBuf};

use super::{
    CliError,
    import::read_text,
    new::{self, NewArgs, Port, Service, Word},
    output::print,
};
use crate::{
    import::{
        self, Problem,
        draft::lit,
        package_json,
        procfile::{self, Entry},
        words,
    },
    recipe::{is_recipe_name, parse_recipe},
};

/// foreman's first port, and the step from one process type to the next.
const BASE_PORT: u16 = 5000;
const TYPE_STEP: u16 = 100;

/// One recipe to write, with the notes about it.
struct Written {
    service: Service,
    text: String,
    notes: Vec<String>,
}

pub fn run(args: &NewArgs, from: &Path) -> Result<(), CliError> {
    let file = from.display().to_string();
    let text = read_text(from).map_err(|e| CliError::msg(format!("{file}: {e}")))?;
    let here = std::env::current_dir()?;
    let dir = std::fs::canonicalize(from)?.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let cwd = new::given_cwd(args, &here)?.unwrap_or_else(|| dir.clone());
    let npm = from.file_name().is_some_and(|n| n == "package.json");
    if !npm && !args.scripts.is_empty() {
        return Err(CliError::msg("--script names a script of a package.json: give --from package.json"));
    }
    let (entries, mut notes, mut problems) = if npm {
        package_json::entries(&file, &text, &args.scripts, dir.join("server.js").is_file())
    } else {
        let (entries, problems) = procfile::entries(&file, &text);
        (entries, Vec::new(), problems)
    };
    if entries.is_empty() && problems.is_empty() {
        problems.push(Problem { file: file.clone(), line: 1, message: "no process types: not a Procfile".into() });
    }
    if npm {
        // npm would stay the app's parent, and a stop or a crash would reach npm first.
        notes.push(
            "the scripts run as `npm start` runs them, without npm: a plain command is the service's process (`node server.js` is node with the app's script), its program found in node_modules/.bin first; npm's `npm_package_*` settings are not given"
                .into(),
        );
    }
    let app = match &args.name {
        Some(name) => name.clone(),
        None => import::recipe_name(&dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
    };
    if !is_recipe_name(&app) {
        return Err(CliError::msg(format!("`{app}` is not a recipe name: use lowercase letters, digits, `-` and `_`")));
    }
    if args.name.is_none() {
        notes.push(format!(
            "the app is `{app}`, its directory's name: each recipe is {app}-TYPE (give NAME to change it)"
        ));
    }
    let counts = formation(args.formation.as_deref(), &entries)?;
    let base = args.port.unwrap_or(BASE_PORT);
    let user = new::user(args, &app, &mut notes);
    // npm runs a script with the package's own programs first on PATH.
    let bin = npm.then(|| dir.join("node_modules/.bin").display().to_string());
    let search = std::env::var("PATH").ok().map(|p| bin.as_ref().map_or(p.clone(), |b| format!("{b}:{p}")));
    let mut written = Vec::new();
    for (index, (entry, count)) in entries.iter().zip(counts).enumerate() {
        let at = |message: String| Problem { file: file.clone(), line: entry.line, message };
        if entry.kind == "release" && !npm {
            notes.push(format!(
                "{file}:{}: `release` is Heroku's release phase, run once per deploy: no recipe for it",
                entry.line
            ));
            continue;
        }
        if count == 0 {
            notes.push(format!("{file}:{}: `{}` runs 0 times (--formation): no recipe for it", entry.line, entry.kind));
            continue;
        }
        let name = format!("{app}-{}", entry.kind);
        if !is_recipe_name(&name) {
            problems.push(at(format!(
                "`{name}` is not a recipe name: name the process type with lowercase letters, digits, `-` and `_`"
            )));
            continue;
        }
        // foreman: the base, 100 more for each process type before it, one more for each instance.
        let step = u16::try_from(index).ok().and_then(|i| i.checked_mul(TYPE_STEP));
        let Some(port) = step.and_then(|s| base.checked_add(s)).filter(|p| p.checked_add(count - 1).is_some()) else {
            problems
                .push(at(format!("no port for `{}`: {base} + {TYPE_STEP} a process type is past 65535", entry.kind)));
            continue;
        };
        let (command, mut own) = match command(entry, &cwd, search.as_deref(), bin.is_some()) {
            Ok(c) => c,
            Err(e) => {
                problems.push(at(e));
                continue;
            }
        };
        let reads_port = procfile::uses_port(&entry.command);
        let environment = match (&bin, command.first()) {
            (Some(bin), Some(sh)) if sh == "/bin/sh" => {
                vec![("PATH".to_owned(), lit(&format!("{bin}:{}", new::SERVICE_PATH)))]
            }
            _ => Vec::new(),
        };
        own.push(port_note(&name, port, count, reads_port));
        let service = Service {
            summary: args.summary.clone().unwrap_or_else(|| format!("{app} {} process (from {file})", entry.kind)),
            name,
            command,
            cwd: Some(cwd.clone()),
            user: user.clone(),
            port: Some(Port { number: port, per_instance: count > 1, ready: reads_port }),
            environment,
        };
        let text = new::recipe_text(args, &service, &here, &mut own)?;
        written.push(Written { service, text, notes: own });
    }
    if written.is_empty() && problems.is_empty() {
        problems.push(Problem { file: file.clone(), line: 1, message: "no process type to run".into() });
    }
    let out_dir = args.out.as_deref();
    let mut refused: Vec<String> = problems.iter().map(|p| format!("error: {p}")).collect();
    for w in &written {
        let path = out_dir.map_or_else(|| PathBuf::from(format!("{}.toml", w.service.name)), |d| target(d, &w.service));
        // What we write must be a valid recipe: validated the way `check` does it.
        if let Err(e) = parse_recipe(&path, &w.text) {
            refused.push(e.to_string().trim_end().to_owned());
        }
        if out_dir.is_some() && path.exists() && !args.force {
            refused.push(format!("error: {} exists (use --force to replace it)", path.display()));
        }
    }
    if !refused.is_empty() {
        return Err(CliError::Message(format!("{}\nnothing was written\n", refused.join("\n"))));
    }
    if args.cwd.is_none() {
        notes.push(format!("they run in {} (the directory of {file}; --cwd to change it)", cwd.display()));
    }
    for note in &notes {
        eprintln!("note: {note}");
    }
    for w in &written {
        for note in &w.notes {
            eprintln!("note: {}: {note}", w.service.name);
        }
    }
    match out_dir {
        None if written.len() == 1 => print(&written[0].text),
        None => print(
            &written
                .iter()
                .fold(String::new(), |acc, w| format!("{acc}# ==> {}.toml <==\n{}\n", w.service.name, w.text)),
        ),
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            for w in &written {
                let path = target(dir, &w.service);
                std::fs::write(&path, &w.text)?;
                print(&format!("wrote {}\n", path.display()))?;
            }
            Ok(())
        }
    }
}

fn target(dir: &Path, service: &Service) -> PathBuf {
    dir.join(format!("{}.toml", service.name))
}

/// How many of each process type run, from foreman's `all=1,web=2,worker=0`
/// (one each unless said): in the entries' order.
fn formation(spec: Option<&str>, entries: &[Entry]) -> Result<Vec<u16>, CliError> {
    let mut counts = vec![1; entries.len()];
    let Some(spec) = spec else { return Ok(counts) };
    let mut bad = Vec::new();
    let pairs = spec.split(',').filter(|p| !p.trim().is_empty()).map(|p| {
        p.split_once('=').and_then(|(k, n)| n.trim().parse::<u16>().ok().map(|n| (k.trim(), n))).ok_or(p.trim())
    });
    // `all` first, whatever its place, so a type's own count wins.
    let mut pairs: Vec<Result<(&str, u16), &str>> = pairs.collect();
    pairs.sort_by_key(|p| !matches!(p, Ok(("all", _))));
    for pair in pairs {
        match pair {
            Ok(("all", n)) => counts.iter_mut().for_each(|c| *c = n),
            Ok((kind, n)) => match entries.iter().position(|e| e.kind == kind) {
                Some(i) => counts[i] = n,
                None => bad.push(format!(
                    "--formation: no process type `{kind}`; the file has {}",
                    entries.iter().map(|e| format!("`{}`", e.kind)).collect::<Vec<_>>().join(", ")
                )),
            },
            Err(p) => bad.push(format!("--formation: `{p}` is not TYPE=N (as in web=2,worker=1)")),
        }
    }
    if bad.is_empty() {
        Ok(counts)
    } else {
        Err(CliError::Message(bad.iter().map(|b| format!("error: {b}")).collect::<Vec<_>>().join("\n")))
    }
}

/// One process type's command as recipe templates, with notes: a plain
/// command resolved as `new` resolves one (its `$PORT` the recipe's
/// `{port}`); anything the shell gives a meaning kept whole, as data, as the
/// argument of `/bin/sh -c` (foreman runs every line that way).
fn command(entry: &Entry, cwd: &Path, path: Option<&str>, npm: bool) -> Result<(Vec<String>, Vec<String>), String> {
    match procfile::argv(&entry.command) {
        Ok(ws) => {
            let words: Vec<Word> = ws
                .iter()
                .map(|w| match words::plain(w) {
                    Some(text) => Word::Text(text),
                    None => Word::Template(words::template_naming(w, Some("PORT"), "{port}")),
                })
                .collect();
            let resolved = new::resolve_command(&words, cwd, path)?;
            Ok((resolved.command, resolved.notes))
        }
        Err(why) => {
            let (line, simple) = procfile::shell_line(&entry.command);
            let finds = if npm { "node_modules/.bin, then the service's PATH" } else { "the service's PATH" };
            let process = if simple {
                "sh execs the command, which is then the service's process"
            } else {
                "the shell stays the service's process"
            };
            Ok((
                vec!["/bin/sh".to_owned(), "-c".to_owned(), lit(&line)],
                vec![format!(
                    "its command is shell ({why}): it runs whole, as one argument, by /bin/sh -c, as foreman runs it; the shell finds its programs on {finds} when it starts, so none is resolved here; {process}"
                )],
            ))
        }
    }
}

/// What `PORT` a process type gets, and how to install several.
fn port_note(name: &str, port: u16, count: u16, reads_port: bool) -> String {
    let ready = if reads_port { "; a start waits until it listens there" } else { "" };
    if count == 1 {
        return format!("PORT={port} (foreman's port for it){ready}");
    }
    let instances: Vec<String> = (0..count).map(|i| format!("{name}@{}", port + i)).collect();
    let unused = if reads_port { "" } else { "; its command does not read $PORT, so its instances may collide" };
    format!(
        "it runs {count} times: each instance is its port, PORT={port} to {}{ready}{unused}: `initkit install {}`",
        port + count - 1,
        instances.join(" ")
    )
}
