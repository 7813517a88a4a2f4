//! The files of a service directory beside its run script: finish (a
//! restart pace and cleanup steps), log/run, down, down-signal, s6's
//! timeouts, type, notification-fd and dependencies, and env/ files no
//! chain reads.

use super::{Dir, first_line, lines};
use crate::import::{
    Source,
    draft::{Draft, strings},
    report::Report,
    words,
};
use crate::recipe::duration::format_duration;

/// The other files of the directory: finish, log/run, down, s6's files.
pub fn read(dir: &Dir<'_>, own: bool, d: &mut Draft, r: &mut Report) {
    if let Some(t) = dir.file("type")
        && first_line(t) == "oneshot"
    {
        d.set(&["run"], "type", "oneshot");
        r.carried(&t.file, 1, "type");
    }
    if !own {
        if let Some(f) = dir.file("finish") {
            finish(f, d, r);
        }
        if let Some(l) = dir.file("log/run") {
            let logger = ["svlogd", "s6-log", "multilog", "logger"].into_iter().find(|x| l.text.contains(x));
            match logger {
                Some(x) => r.approximated(
                    &l.file,
                    1,
                    "log/run",
                    format!("{x}: the output goes to the log initkit's render keeps for the target (its own log/run)"),
                ),
                None => r.dropped(&l.file, 1, "log/run", "a logger initkit does not know"),
            }
        }
        if let Some(t) = dir.file("timeout-kill") {
            match first_line(t).parse::<u64>() {
                Ok(ms) if ms > 0 => {
                    d.set(&["stop"], "timeout", format_duration(ms));
                    r.carried(&t.file, 1, "timeout-kill");
                }
                _ => r.dropped(
                    &t.file,
                    1,
                    "timeout-kill",
                    "not a number of milliseconds above 0: initkit always kills after stop.timeout",
                ),
            }
        }
        if let Some(nf) = dir.file("notification-fd") {
            if d.has(&["ready"], "command") {
                r.carried(&nf.file, 1, "notification-fd");
            } else {
                r.dropped(&nf.file, 1, "notification-fd", "the daemon writes its readiness to this fd itself; a recipe has no such probe: give it a [ready] check");
            }
        }
    }
    if let Some(s) = dir.file("down-signal") {
        let sig = first_line(s).trim_start_matches("SIG");
        if crate::recipe::signal::Signal::parse(sig).is_ok() {
            d.set(&["stop"], "signal", sig);
            r.carried(&s.file, 1, "down-signal");
        } else {
            r.dropped(&s.file, 1, "down-signal", format!("`{sig}` is not a signal initkit sends"));
        }
    }
    if let Some(f) = dir.file("down") {
        r.approximated(
            &f.file,
            1,
            "down",
            "not started at boot there: installed but not enabled; `initkit enable` says otherwise",
        );
    }
    if let Some(f) = dir.file("timeout-finish") {
        r.dropped(&f.file, 1, "timeout-finish", "the finish script's budget: initkit's steps have their own timeouts");
    }
    if let Some(f) = dir.file("max-death-tally") {
        r.dropped(&f.file, 1, "max-death-tally", "initkit keeps no record of past deaths");
    }
    let mut deps: Vec<(String, usize, String)> = Vec::new();
    if let Some(f) = dir.file("dependencies") {
        for (i, l) in f.text.lines().enumerate() {
            if !l.trim().is_empty() && !l.trim_start().starts_with('#') {
                deps.push((f.file.clone(), i + 1, l.trim().to_owned()));
            }
        }
    }
    for (f, n) in dir.files_in("dependencies.d") {
        deps.push((f.file.clone(), 1, n));
    }
    for (f, n, dep) in deps {
        if dep.starts_with("s6rc-") {
            r.dropped(&f, n, &format!("dependency {dep}"), "s6-rc's own service: initkit needs no such thing");
        } else if crate::recipe::is_recipe_name(&dep) {
            d.push(&["depends"], "requires", &dep);
            d.push(&["depends"], "after", &dep);
            r.carried(&f, n, &format!("dependency {dep}"));
        } else {
            r.dropped(&f, n, &format!("dependency {dep}"), "not a service name");
        }
    }
    for (f, key) in dir.files_in("env") {
        if d.get_str(&["run", "environment"], &key).is_none() && !r.entries.iter().any(|e| e.file == f.file) {
            r.dropped(&f.file, 1, &key, "the run script does not read env/ (no chpst -e, s6-envdir or envdir)");
        }
    }
}

/// `finish`: a pause before the restart, and cleanup steps after a stop.
fn finish(f: &Source, d: &mut Draft, r: &mut Report) {
    let file = f.file.as_str();
    if first_line(f).contains("execlineb") {
        r.dropped(file, 1, "finish", "an execline finish script is not read: add its cleanup as [[stop.after]] steps");
        return;
    }
    for l in lines::logical_lines(&f.text) {
        let t = l.text.as_str();
        if let Some(secs) =
            t.strip_prefix("sleep ").and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| (0.0..86_400.0).contains(s))
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // within a day, positive
            d.set(&["restart"], "delay", format_duration((secs * 1000.0) as u64));
            r.carried(file, l.n, "sleep (restart delay)");
            continue;
        }
        if t.starts_with("exit") {
            r.dropped(file, l.n, "exit", "its status decides nothing in a recipe: the supervisor restarts the daemon");
            continue;
        }
        match words::split(t, words::Dialect::Shell) {
            Ok(ws)
                if ws.first().and_then(words::plain).is_some_and(|p| {
                    p.starts_with('/')
                        || (!p.contains('=')
                            && !["if", "then", "fi", "case", "esac", "echo", "printf", "[", "test"]
                                .contains(&p.as_str()))
                }) && words::vars(&ws).is_empty() =>
            {
                let mut run: Vec<String> = ws.iter().map(words::template).collect();
                if !run[0].starts_with('/') {
                    run.insert(0, "/usr/bin/env".into());
                }
                d.push_table(
                    &["stop"],
                    "after",
                    vec![
                        ("description", format!("cleanup: {}", run.join(" ")).into()),
                        ("run", strings(&run)),
                        ("timeout", "90s".into()),
                        ("user", "root".into()),
                    ],
                );
                r.approximated(
                    file,
                    l.n,
                    "finish command",
                    "a step after the stop, as root, within 90s (not after a crash)",
                );
            }
            _ => r.dropped(
                file,
                l.n,
                "finish line",
                "shell logic or a message of the finish script, not a cleanup command",
            ),
        }
    }
}
