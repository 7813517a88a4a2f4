//! runit and s6 service directories (`run`, with `finish`, `log/run`, s6's
//! `type`, `notification-fd`, `down`, `down-signal`, timeouts, dependencies
//! and an `env/` directory beside it) read into a recipe. initkit's own
//! directories are recognised and read back exactly.

mod chain;
mod execline;
mod lines;
mod own;
mod shell;
mod siblings;

use super::{
    Format, Source,
    draft::{Draft, lit, strings},
    ini::Problem,
    report::Report,
    words::{self, Word},
};
use crate::recipe::template;

/// The service directory's files, by their name in it.
pub(crate) struct Dir<'a> {
    src: &'a Source,
    pub(crate) prefix: String,
}

impl<'a> Dir<'a> {
    fn new(src: &'a Source) -> Dir<'a> {
        let prefix = src.file.strip_suffix("run").unwrap_or("").to_owned();
        Dir { src, prefix }
    }

    pub(crate) fn file(&self, name: &str) -> Option<&'a Source> {
        let path = format!("{}{name}", self.prefix);
        self.src.extra.iter().find(|e| e.file == path)
    }

    /// The files of a subdirectory (`env/`, `dependencies.d/`), with their names.
    pub(crate) fn files_in(&self, sub: &str) -> Vec<(&'a Source, String)> {
        let at = format!("{}{sub}/", self.prefix);
        self.src
            .extra
            .iter()
            .filter_map(|e| e.file.strip_prefix(&at).filter(|n| !n.contains('/')).map(|n| (e, n.to_owned())))
            .collect()
    }
}

pub(crate) fn first_line(src: &Source) -> &str {
    src.text.lines().next().unwrap_or("").trim()
}

pub fn import(src: &Source, format: Format) -> Result<(String, Draft, Report), Vec<Problem>> {
    let file = src.file.as_str();
    let dir = Dir::new(src);
    let target = if format == Format::S6 { "s6" } else { "runit" };
    let mut r = Report::default();
    let shebang = first_line(src);
    if !shebang.starts_with("#!") {
        return Err(vec![Problem {
            file: file.into(),
            line: 1,
            message: "a run file starts with `#!` (sh or execlineb): this one does not".into(),
        }]);
    }
    if let Some(t) = dir.file("type") {
        match first_line(t) {
            "longrun" | "" => r.carried(&t.file, 1, "type"),
            "oneshot" => {}
            other => {
                return Err(vec![Problem {
                    file: t.file.clone(),
                    line: 1,
                    message: format!("type `{other}`: not a service initkit can run (a longrun or a oneshot)"),
                }]);
            }
        }
    }
    let own_name = own::rendered_by_initkit(&src.text);
    let name = super::recipe_name(own_name.as_deref().unwrap_or(src.stem()));
    let mut d = Draft::new(&name, &format!("{name} (from {target})"));
    d.set_list::<&str>(&[], "needs", &[]);
    if own_name.is_some() {
        let mut scripts = vec![(file, own::parse(&src.text))];
        for extra in ["check", "control/t"] {
            if let Some(e) = dir.file(extra) {
                scripts.push((e.file.as_str(), own::parse(&e.text)));
            }
        }
        own::read(&scripts, &mut d, &mut r);
        for extra in ["finish", "log/run", "timeout-kill", "notification-fd"] {
            if let Some(e) = dir.file(extra) {
                r.carried(&e.file, 1, &format!("{extra} (initkit's own)"));
            }
        }
    } else if shebang.contains("execlineb") {
        execline_run(src, &dir, &mut d, &mut r)?;
    } else {
        shell_run(src, &dir, &mut d, &mut r);
    }
    if !d.has(&["run"], "command") {
        return Err(vec![Problem { file: file.into(), line: 1, message: "no command found: nothing to run".into() }]);
    }
    if !d.has(&["run"], "user") {
        d.set(&["run"], "user", "root");
    }
    siblings::read(&dir, own_name.is_some(), &mut d, &mut r);
    Ok((name, d, r))
}

/// The daemon's words as a recipe command, or a located reason it is not one.
fn command(ws: &[Word]) -> Result<(Vec<String>, bool), String> {
    let program = ws.first().and_then(words::plain).ok_or("the program is not a plain word")?;
    for v in words::vars(ws) {
        if !template::is_var_name(&v) || template::reserved_var(&v).is_some() {
            return Err(format!("`${v}` is not a setting a recipe can have"));
        }
    }
    let mut argv: Vec<String> = ws.iter().map(words::template).collect();
    let found_on_path = !program.starts_with('/');
    if found_on_path {
        argv.insert(0, "/usr/bin/env".into());
    }
    Ok((argv, found_on_path))
}

/// The chain, its command and the environment directories it reads.
fn launch(
    l: &chain::Launch,
    dir: &Dir<'_>,
    file: &str,
    line: usize,
    d: &mut Draft,
    r: &mut Report,
) -> Result<(), String> {
    let (argv, on_path) = command(&l.command)?;
    d.set_list(&["run"], "command", &argv);
    if on_path {
        r.approximated(file, line, "command", "the program is found on PATH by /usr/bin/env");
    } else {
        r.carried(file, line, "command");
    }
    for (key, what, value) in [("user", "user", &l.user), ("group", "group", &l.group)] {
        if let Some((n, v)) = value {
            if crate::recipe::is_account_name(v) {
                d.set(&["run"], key, v.as_str());
                r.carried(file, *n, what);
            } else {
                r.dropped(file, *n, what, format!("`{v}` is not a {what} name"));
            }
        }
    }
    if let Some((n, w)) = &l.workdir {
        workdir(w, file, *n, d, r);
    }
    if let Some((n, v)) = l.nice {
        d.set(&["run"], "nice", v.clamp(-20, 19));
        r.carried(file, n, "nice");
    }
    if let Some((n, v)) = l.oom {
        d.set(&["run"], "oom_score_adjust", v.clamp(-1000, 1000));
        r.carried(file, n, "oom score");
    }
    if let Some((n, class, prio)) = l.io {
        d.set(&["run"], "io_class", class);
        if let Some(p) = prio {
            d.set(&["run"], "io_priority", p.clamp(0, 7));
        }
        r.carried(file, n, "ionice");
    }
    for (_, key, v) in &l.limits {
        d.set(&["run", "limits"], key, *v);
    }
    for (n, k, v) in &l.env {
        env_value(k, v, file, *n, d, r);
    }
    for (n, e) in &l.envdirs {
        let base = e.trim_end_matches('/').trim_start_matches("./");
        let files = dir.files_in("env");
        if base == "env" || e.trim_end_matches('/') == format!("{}env", dir.prefix) {
            for (f, key) in files {
                let value = f.text.lines().next().unwrap_or("").trim_end().replace('\0', "\n");
                if f.text.is_empty() {
                    r.approximated(
                        &f.file,
                        1,
                        &key,
                        "an empty file unsets the variable: the recipe's environment is clean already",
                    );
                } else {
                    env_value(&key, &value, &f.file, 1, d, r);
                }
            }
            r.carried(file, *n, "environment directory");
        } else {
            r.dropped(
                file,
                *n,
                "environment directory",
                format!("`{e}` is not the service directory's env/: its files are not read"),
            );
        }
    }
    if let Some((n, probe)) = &l.notify {
        ready_probe(probe.as_deref(), file, *n, d, r);
    }
    Ok(())
}

fn workdir(w: &str, file: &str, n: usize, d: &mut Draft, r: &mut Report) {
    if w.starts_with('/') && !w.contains(char::is_control) {
        d.set(&["run"], "working_directory", lit(w));
        r.carried(file, n, "working directory");
    } else {
        r.dropped(file, n, "working directory", format!("`{w}` is not an absolute path"));
    }
}

#[allow(clippy::many_single_char_names)] // (key, value, line, draft, report)
fn env_value(k: &str, v: &str, file: &str, n: usize, d: &mut Draft, r: &mut Report) {
    let name_ok = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !name_ok {
        r.dropped(file, n, k, "not an environment variable name");
    } else if v.chars().any(|c| c.is_control() && c != '\t') || v.ends_with('\\') {
        r.dropped(file, n, k, "a value of more than one line (or ending in `\\`) is not an environment value");
    } else {
        d.set(&["run", "environment"], k, lit(v));
        r.carried(file, n, &format!("environment {k}"));
    }
}

/// `s6-notifyoncheck -c PROBE`: a readiness command when PROBE is plain words.
fn ready_probe(probe: Option<&str>, file: &str, n: usize, d: &mut Draft, r: &mut Report) {
    let argv = probe.and_then(|p| words::split(p, words::Dialect::Shell).ok()).and_then(|ws| {
        (ws.first().and_then(words::plain).is_some_and(|w| w.starts_with('/')) && words::vars(&ws).is_empty())
            .then(|| ws.iter().map(words::template).collect::<Vec<_>>())
    });
    match argv {
        Some(argv) => {
            d.set(&["ready"], "command", strings(&argv));
            r.carried(file, n, "s6-notifyoncheck");
        }
        None => r.dropped(
            file,
            n,
            "s6-notifyoncheck",
            "its probe is ./data/check or not plain words: give the recipe a [ready] check",
        ),
    }
}

fn execline_run(src: &Source, dir: &Dir<'_>, d: &mut Draft, r: &mut Report) -> Result<(), Vec<Problem>> {
    let file = src.file.as_str();
    let s = execline::read(&src.text).map_err(|(line, message)| vec![Problem { file: file.into(), line, message }])?;
    r.carried(file, 1, "execlineb");
    for (n, prog, words) in &s.steps {
        match words.as_deref() {
            Some(ws) if prog != "background" && !ws.is_empty() => {
                let mut run: Vec<String> = ws.iter().map(|w| lit(w)).collect();
                if !run[0].starts_with('/') {
                    run.insert(0, "/usr/bin/env".into());
                }
                step(d, &run);
                r.approximated(file, *n, prog, "a step before the start, as root, within 90s");
            }
            _ => r.dropped(file, *n, prog, "a block that nests another, or runs in the background"),
        }
    }
    let line = s.lines.first().copied().unwrap_or(1);
    if let Some(at) = s.block_at {
        let shell =
            first_line(src).trim_start_matches("#!").split_whitespace().next().unwrap_or("/bin/execlineb").to_owned();
        let body = src.text.split_once('\n').map_or("", |(_, b)| b);
        d.set_list(&["run"], "command", &[shell, "-Pc".into(), lit(body)]);
        r.approximated(file, at, "command", "a block in the chain: the script is kept whole, run by execlineb");
        return Ok(());
    }
    let l = chain::read(&s.words, &s.lines, file, r);
    launch(
        &l,
        dir,
        file,
        l.command.first().and_then(|_| s.lines.get(s.words.len() - l.command.len())).copied().unwrap_or(line),
        d,
        r,
    )
    .map_err(|m| vec![Problem { file: file.into(), line, message: m }])
}

fn step(d: &mut Draft, run: &[String]) {
    d.push_table(
        &["start"],
        "before",
        vec![
            ("description", format!("setup: {}", run.join(" ")).into()),
            ("run", strings(run)),
            ("timeout", "90s".into()),
            ("user", "root".into()),
        ],
    );
}

#[allow(clippy::many_single_char_names)] // (script, line, draft, report) throughout
fn shell_run(src: &Source, dir: &Dir<'_>, d: &mut Draft, r: &mut Report) {
    let file = src.file.as_str();
    let s = shell::read(&src.text, file, r);
    let mut assigns = Vec::new();
    for (n, f) in &s.sourced {
        let base = f.trim_start_matches("./");
        match dir.file("conf").filter(|_| base == "conf" || *f == format!("{}conf", dir.prefix)) {
            Some(conf) => {
                let c = shell::read(&conf.text, &conf.file, r);
                for (cn, k, w, e) in c.assigns {
                    assigns.push((conf.file.clone(), cn, k, w, e));
                }
                r.carried(file, *n, ". ./conf");
            }
            None if f.starts_with('/') => {
                d.set(&["run"], "environment_file", lit(f));
                r.approximated(
                    file,
                    *n,
                    &format!(". {f}"),
                    "read as KEY=VALUE lines, never sourced: shell code in it is not run",
                );
            }
            None => r.dropped(file, *n, &format!(". {f}"), "not a file of the service directory the import has"),
        }
    }
    for (n, k, w, e) in &s.assigns {
        assigns.push((file.to_owned(), *n, k.clone(), w.clone(), *e));
    }
    if let Some((n, w)) = &s.workdir {
        workdir(w, file, *n, d, r);
    }
    if let Some((n, m)) = &s.umask {
        d.set(&["run"], "umask", m.as_str());
        r.carried(file, *n, "umask");
    }
    for (n, key, v) in &s.limits {
        d.set(&["run", "limits"], key, *v);
        r.carried(file, *n, &format!("ulimit {key}"));
    }
    for (n, dep) in &s.deps {
        if crate::recipe::is_recipe_name(dep) {
            d.push(&["depends"], "requires", dep);
            d.push(&["depends"], "after", dep);
            r.carried(file, *n, &format!("sv start {dep}"));
        } else {
            r.dropped(file, *n, &format!("sv start {dep}"), "not a service name");
        }
    }
    for (n, ws) in &s.steps {
        match ws.first().and_then(words::plain).filter(|p| p.starts_with('/') || !p.contains('/')) {
            Some(_) if words::vars(ws).is_empty() => {
                let mut run: Vec<String> = ws.iter().map(words::template).collect();
                if !run[0].starts_with('/') {
                    run.insert(0, "/usr/bin/env".into());
                }
                step(d, &run);
                r.approximated(file, *n, "setup command", "a step before the start, as root, within 90s");
            }
            _ => r.dropped(file, *n, "setup command", "it uses the script's variables: not a step on its own"),
        }
    }
    let Some((n, text, ws)) = &s.main else { return };
    let whole = |d: &mut Draft, r: &mut Report, why: &str| {
        let line = if s.exec { format!("exec {text}") } else { text.clone() };
        d.set_list(&["run"], "command", &["/bin/sh".to_owned(), "-c".to_owned(), lit(&line)]);
        r.approximated(file, *n, "command", format!("run by /bin/sh -c, kept whole: {why}"));
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return whole(d, r, e),
    };
    let l = chain::read(ws, &vec![*n; ws.len()], file, r);
    if let Err(e) = launch(&l, dir, file, *n, d, r) {
        return whole(d, r, &e);
    }
    if !s.exec {
        r.approximated(file, *n, "command", "run without exec: the recipe runs it as the daemon itself");
    }
    let mut exported: Vec<&str> = s.exported.iter().map(String::as_str).collect();
    exported.extend(assigns.iter().filter(|a| a.4).map(|a| a.2.as_str()));
    let used = words::vars(&l.command);
    for (f, an, k, w, _) in &assigns {
        let value = chain::text(w);
        if used.contains(k) {
            d.set(&["vars"], k, lit(&value));
            r.carried(f, *an, k);
        } else if exported.contains(&k.as_str()) {
            env_value(k, &value, f, *an, d, r);
        } else {
            r.dropped(f, *an, k, "a variable of the script that the command does not use and that is not exported");
        }
    }
    for v in used {
        if !assigns.iter().any(|a| a.2 == v) {
            d.set(&["vars"], &v, "");
            r.dropped(
                file,
                *n,
                &format!("${v}"),
                format!("not set by the script: a setting with no value; give it with `--set {v}=…`"),
            );
        }
    }
}
