//! LSB init scripts read into a recipe: the header, the `DAEMON`/`DAEMON_ARGS`/
//! `PIDFILE`/`NAME`/`USER` conventions, `start-stop-daemon` calls and the
//! `init-d-script` helper. The script's own logic is never run or copied.

use super::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    words::{self, Dialect, Piece},
};

/// LSB facilities and the recipe's names for them.
const FACILITIES: &[(&str, &str)] = &[
    ("$network", "network"),
    ("$named", "names"),
    ("$time", "time"),
    ("$remote_fs", "remote-fs"),
    ("$local_fs", "local-fs"),
    ("$syslog", "syslog"),
    ("$portmap", "portmap"),
];

/// The actions every init script has, which initkit's script provides.
const STANDARD_ACTIONS: &[&str] = &[
    "start",
    "stop",
    "restart",
    "force-reload",
    "reload",
    "status",
    "try-restart",
    "condrestart",
    "*",
    "configtest",
    "testconfig",
    "test",
    "check",
];

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    let file = src.file.as_str();
    let lines: Vec<&str> = src.text.lines().collect();
    let mut r = Report::default();
    let mut header: Vec<(usize, String, String)> = Vec::new();
    let mut in_header = false;
    let mut last_key: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("### BEGIN INIT INFO") {
            in_header = true;
            continue;
        }
        if line.starts_with("### END INIT INFO") {
            in_header = false;
            continue;
        }
        if in_header {
            // `# Key: value`; a continuation is indented further (`#  text`).
            let body = line.trim_start_matches('#');
            let body = body.strip_prefix(' ').unwrap_or(body);
            if let Some((k, v)) =
                body.split_once(':').filter(|(k, _)| !k.starts_with([' ', '\t']) && !k.trim().is_empty())
            {
                header.push((i + 1, k.trim().to_owned(), v.trim().to_owned()));
                last_key = Some(header.len() - 1);
            } else if let Some(k) = last_key {
                // A continuation line of a multi-line Description.
                header[k].2.push(' ');
                header[k].2.push_str(body.trim());
            }
        }
    }
    let helper = lines.first().is_some_and(|l| l.contains("init-d-script"));
    let provides = header.iter().find(|(_, k, _)| k == "Provides").map(|(_, _, v)| v.clone());
    let stem = provides
        .as_deref()
        .and_then(|p| p.split_whitespace().next())
        .map_or_else(|| src.stem().to_owned(), str::to_owned);
    let (top, notes) = in_order(src, &lines, top_level_assignments(&lines));
    let guessed = guesses(&lines, &top, &stem);
    // Guesses first: a top-level assignment, found last, wins over them.
    let assignments: Vec<(usize, String, String)> =
        guessed.iter().map(|(l, k, v, _)| (*l, k.clone(), v.clone())).chain(top).collect();
    let get = |k: &str| assignments.iter().rev().find(|(_, n, _)| n == k).map(|(l, _, v)| (*l, v.clone()));
    let name = super::recipe_name(&stem);
    let mut d = Draft::new(&name, &name);
    d.set_list::<&str>(&[], "needs", &[]);

    for (l, k, v) in &header {
        let key = format!("LSB {k}");
        match k.as_str() {
            "Provides" => {
                for alias in v.split_whitespace().skip(1) {
                    if crate::recipe::is_recipe_name(alias) {
                        d.push(&[], "aliases", alias);
                    }
                }
                r.carried(file, *l, &key);
            }
            "Short-Description" => {
                d.set(&[], "summary", v.as_str());
                r.carried(file, *l, &key);
            }
            "Description" => {
                d.set(&[], "description", v.as_str());
                r.carried(file, *l, &key);
            }
            "Required-Start" | "Should-Start" | "X-Start-Before" => {
                for fac in v.split_whitespace() {
                    match FACILITIES.iter().find(|(n, _)| *n == fac) {
                        Some((_, f)) if k != "X-Start-Before" => d.push(&[], "needs", f),
                        _ if fac.starts_with('$') => {}
                        _ => {
                            let rel = match k.as_str() {
                                "Required-Start" => "requires",
                                "Should-Start" => "wants",
                                _ => "before",
                            };
                            if crate::recipe::Dep::parse(fac).is_ok() && fac != name {
                                d.push(&["depends"], rel, fac);
                                if rel != "before" {
                                    d.push(&["depends"], "after", fac);
                                }
                            }
                        }
                    }
                }
                let unknown: Vec<&str> = v
                    .split_whitespace()
                    .filter(|f| f.starts_with('$') && !FACILITIES.iter().any(|(n, _)| n == f))
                    .collect();
                if unknown.iter().all(|u| *u == "$all") && !unknown.is_empty() {
                    r.approximated(file, *l, &key, "`$all` (start last): ordered after the facilities only");
                } else if unknown.is_empty() {
                    r.carried(file, *l, &key);
                } else {
                    r.dropped(file, *l, &key, format!("facilities initkit does not know: {}", unknown.join(" ")));
                }
            }
            "Required-Stop" | "Should-Stop" | "X-Stop-After" => {
                r.approximated(file, *l, &key, "stop order is the reverse of start order");
            }
            "Default-Start" | "Default-Stop" => {
                r.approximated(file, *l, &key, "started in the default runlevels (2 3 4 5; multi-user.target)");
            }
            "X-Interactive" => r.dropped(file, *l, &key, "an interactive start (a passphrase prompt) is not supported"),
            _ => r.dropped(file, *l, &key, "initkit has no equivalent"),
        }
    }

    // The command: DAEMON and its arguments, or a start-stop-daemon call.
    let mut vars: Vec<(String, String)> = Vec::new();
    let ssd = start_stop_daemon(&lines);
    // What start-stop-daemon runs is what the recipe runs; a DAEMON beside a
    // different `--exec` is the program a wrapper starts (memcached's
    // start-memcached), which the report says.
    let resolve = |v: &str| expand(v, &assignments);
    let wrapper = match (get("DAEMON"), &ssd.exec) {
        (Some((_, d)), Some((l, e))) if resolve(&d) != resolve(e) && resolve(e).starts_with('/') => {
            r.approximated(
                file,
                *l,
                "start-stop-daemon --exec",
                format!(
                    "the script starts `{}`, which starts DAEMON `{}`: the recipe runs the first",
                    resolve(e),
                    resolve(&d)
                ),
            );
            true
        }
        _ => false,
    };
    let daemon = if wrapper { ssd.exec.clone() } else { get("DAEMON").or_else(|| ssd.exec.clone()) };
    let Some((dl, daemon_raw)) = daemon else {
        return Err(vec![Problem {
            file: file.into(),
            line: 1,
            message: "no DAEMON= and no start-stop-daemon --exec: cannot tell what the script runs".into(),
        }]);
    };
    let daemon_path = resolve(&daemon_raw);
    if !daemon_path.starts_with('/') || daemon_path.contains('$') {
        return Err(vec![Problem {
            file: file.into(),
            line: dl,
            message: format!("DAEMON `{daemon_raw}` is not an absolute path"),
        }]);
    }
    r.carried(file, dl, "DAEMON");
    let mut command = vec![lit(&daemon_path)];
    let args_var =
        ["DAEMON_ARGS", "DAEMON_OPTS", "OPTIONS", "ARGS", "OPTS"].iter().find_map(|k| get(k).map(|v| (*k, v)));
    if let (Some((al, _)), false) = (&ssd.args, ssd.redirections.is_empty()) {
        r.approximated(
            file,
            *al,
            "start-stop-daemon redirection",
            format!(
                "`{}`: the script's redirection of the daemon's input or output; initkit gives it its own (output in the service's log)",
                ssd.redirections.join(" ")
            ),
        );
    }
    let ssd_args = ssd.args.as_ref().filter(|(_, a)| !a.trim().is_empty());
    match (ssd_args, args_var) {
        (Some((al, args)), _) => match words::split(args, Dialect::Shell) {
            Ok(ws) => {
                for w in &ws {
                    let resolved: Vec<Piece> = w.iter().flat_map(|p| inline(p, &assignments, &mut vars)).collect();
                    command.push(words::template(&resolved));
                }
                r.carried(file, *al, "start-stop-daemon -- arguments");
            }
            Err(e) => r.dropped(file, *al, "start-stop-daemon -- arguments", e),
        },
        (None, Some((k, (al, v)))) => {
            vars.push((k.to_owned(), resolve(&v)));
            command.push(format!("{{{k}...}}"));
            r.approximated(file, al, k, format!("a setting `{k}`, word-split as data; /etc/default is not read: set it with `initkit install --set {k}=…`"));
        }
        (None, None) => {}
    }
    d.set_list(&["run"], "command", &command);
    let test = config_test(&lines, &daemon_path, &assignments, &mut vars);
    if let Some((l, argv)) = &test {
        d.set_list(&["check"], "command", argv);
        // The script runs its test as root, as it runs everything.
        d.set(&["check"], "user", "root");
        r.carried(file, *l, "config test");
    }
    for (k, v) in vars {
        if v.is_empty() && !assignments.iter().any(|(_, n, _)| *n == k) {
            r.dropped(
                file,
                1,
                &format!("${k}"),
                format!("set where the import cannot follow (a loop, a function, a sourced file): a setting with no value; give it with `--set {k}=…`"),
            );
        }
        d.set(&["vars"], &k, lit(&v));
    }
    for (l, what) in top_level_loops(&lines) {
        let key = format!("`{what}` loop");
        if what == "for" {
            r.approximated(
                file,
                l,
                &key,
                "the script repeats its work for each item (one daemon per config file?): the recipe runs one, with the values the import took; more are instances (`NAME@x`)",
            );
        } else {
            r.dropped(file, l, &key, "the script repeats its work while a condition holds: the recipe runs once");
        }
    }

    let user = get("USER").or_else(|| get("DAEMON_USER")).or(ssd.user.clone());
    match user {
        Some((l, u)) => {
            let u = resolve(&u);
            let u = u.split(':').next().unwrap_or(&u).to_owned();
            if crate::recipe::is_recipe_name(&u)
                || u.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')) && !u.is_empty()
            {
                d.set(&["run"], "user", u.as_str());
                r.carried(file, l, "user (--chuid)");
            } else {
                d.set(&["run"], "user", "root");
                r.dropped(file, l, "user (--chuid)", format!("`{u}` is not a user name"));
            }
        }
        None => d.set(&["run"], "user", "root"),
    }

    let pidfile = get("PIDFILE").or(ssd.pidfile.clone());
    let background = ssd.background || helper;
    match &pidfile {
        // init-d-script's word for a daemon with no pidfile (a task).
        Some((l, p)) if p == "none" => {
            r.approximated(file, *l, "PIDFILE", "`none`: the script keeps no pidfile, and the recipe needs none");
        }
        Some((l, p)) if !background => {
            let p = resolve(p);
            if p.starts_with('/') && !p.contains('$') {
                d.set(&["run"], "type", "forking");
                d.set(&["run"], "pidfile", lit(&p));
                r.carried(file, *l, "PIDFILE");
            } else {
                r.dropped(file, *l, "PIDFILE", format!("`{p}` is not an absolute path"));
            }
        }
        Some((l, _)) => {
            r.approximated(file, *l, "PIDFILE", "initkit records the PID it starts itself (--make-pidfile)");
        }
        None => {}
    }
    if helper {
        r.approximated(
            file,
            1,
            "init-d-script",
            "runs in the foreground under initkit's script, as the helper does with start-stop-daemon",
        );
    }

    // `mkdir -p /run/NAME` before the start: the runtime directory initkit makes.
    if let Some((l, dir, mode)) = runtime_dir(&lines, &resolve) {
        d.set(&["directories"], "runtime", dir.as_str());
        if let Some(mode) = mode {
            d.set(&["directories"], "mode", mode.as_str());
        }
        r.carried(file, l, "mkdir /run");
    }
    if let Some((l, retry)) = stop_retry(&lines) {
        let retry = resolve(retry.trim_end_matches(';'));
        match retry_schedule(&retry) {
            Some((_, _, true)) => r.approximated(
                file,
                l,
                "start-stop-daemon --retry",
                "`forever` waits without end: initkit's stop ends after its timeout, then kills",
            ),
            Some((signal, secs, false)) => {
                d.set(&["stop"], "timeout", format!("{secs}s"));
                if let Some(signal) = signal.filter(|s| s != "TERM") {
                    d.set(&["stop"], "signal", signal);
                }
                r.carried(file, l, "start-stop-daemon --retry");
            }
            None => {
                r.dropped(file, l, "start-stop-daemon --retry", format!("`{retry}` is not a schedule initkit reads"));
            }
        }
    }
    if let Some((l, sig)) = reload_signal(&lines) {
        d.set(&["reload"], "signal", sig.as_str());
        r.carried(file, l, "reload");
    }
    for (l, action) in case_actions(&lines) {
        if action == "force-stop" {
            r.approximated(
                file,
                l,
                "action `force-stop`",
                "initkit's `stop` is one: the stop signal, a wait of stop.timeout, then SIGKILL to what is left",
            );
        } else if !STANDARD_ACTIONS.contains(&action.as_str()) {
            r.dropped(
                file,
                l,
                &format!("action `{action}`"),
                "a custom action of the script; initkit's script has its own set",
            );
        } else if matches!(action.as_str(), "configtest" | "testconfig" | "test" | "check") && test.is_some() {
            r.approximated(
                file,
                l,
                &format!("action `{action}`"),
                "its test is the recipe's [check]: the gate runs it before start, reload and restart",
            );
        } else if matches!(action.as_str(), "configtest" | "testconfig" | "test" | "check") {
            r.dropped(
                file,
                l,
                &format!("action `{action}`"),
                "the config test of a script is not read; give the recipe a [check] command",
            );
        }
    }
    // A guessed value counts only where the recipe took it.
    let taken: Vec<&str> = [Some(&daemon_raw), ssd.args.as_ref().map(|(_, a)| a), pidfile.as_ref().map(|(_, p)| p)]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let needed = referenced(&taken, &assignments);
    for (l, k, v, why) in &guessed {
        if needed.contains(k) {
            r.approximated(file, *l, &format!("${k}"), format!("{why}: taken as `{v}`"));
        }
    }
    for (l, k, why) in &notes {
        if needed.contains(k) || ["PIDFILE", "DAEMON", "USER", "DAEMON_USER"].contains(&k.as_str()) {
            r.approximated(file, *l, &format!("${k}"), why.as_str());
        }
    }
    if let Some((l, _)) = get("ENABLED").or_else(|| get("START")).filter(|(_, v)| !v.is_empty()) {
        r.approximated(
            file,
            l,
            "ENABLED",
            "the switch is not carried: enabling the service with initkit says the same",
        );
    }
    Ok((name, d, r))
}

/// The flags with which a daemon tests its configuration and exits.
const TEST_FLAGS: &[&str] = &["-t", "-tt", "--test", "--test-config", "--verify-config", "--configtest"];

/// Whether line `i` is in a function or `case` branch whose name says it
/// tests the configuration (`test_config()`, `check_syntax()`,
/// `configtest)`): `-t` means threads to memcached, so the place matters.
fn in_a_test(lines: &[&str], i: usize) -> bool {
    lines[..i].iter().rev().find_map(|l| {
        let t = l.trim();
        let name = t.strip_suffix("()").or_else(|| t.strip_suffix("() {")).or_else(|| t.strip_suffix(')'))?;
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | ' ')))
            .then(|| ["test", "check", "syntax", "config"].iter().any(|w| name.contains(w)))
    }) == Some(true)
}

/// The script's config test: a line in a test function or action that runs
/// the daemon with a test flag (`$DAEMON -t $DAEMON_OPTS >/dev/null 2>&1`),
/// up to its redirections and any `||`/`&&`, as the words of a `[check]` command.
fn config_test(
    lines: &[&str],
    daemon: &str,
    assignments: &[(usize, String, String)],
    vars: &mut Vec<(String, String)>,
) -> Option<(usize, Vec<String>)> {
    lines.iter().enumerate().find_map(|(i, line)| {
        let t = line.trim();
        if t.starts_with('#') || !in_a_test(lines, i) {
            return None;
        }
        let t = t.split("||").next()?.split("&&").next()?.trim_end_matches(';').trim();
        let (t, _) = trailing_redirections(t);
        let ws = words::split(&t, Dialect::Shell).ok()?;
        // The program is a path even where `$DAEMON` is left unquoted.
        let whole = |p: &Piece| match p {
            Piece::Var { name, .. } => Piece::Var { name: name.clone(), split: false },
            lit @ Piece::Lit(_) => lit.clone(),
        };
        let first: Vec<Piece> =
            ws.first()?.iter().flat_map(|p| inline(&whole(p), assignments, &mut Vec::new())).collect();
        if words::plain(&first).as_deref() != Some(daemon)
            || !ws[1..].iter().any(|w| words::plain(w).is_some_and(|p| TEST_FLAGS.contains(&p.as_str())))
        {
            return None;
        }
        let argv = std::iter::once(lit(daemon))
            .chain(ws[1..].iter().map(|w| {
                let pieces: Vec<Piece> = w.iter().flat_map(|p| inline(p, assignments, vars)).collect();
                words::template(&pieces)
            }))
            .collect();
        Some((i + 1, argv))
    })
}

/// The top-level assignments with the settings file the script sources
/// (`. /etc/default/NAME`, or init-d-script's, after the script) in its
/// place, each value resolved against those before it: `USER=$USER` after
/// the file keeps the file's value, `X="$X -v"` extends the earlier X, and
/// `X=${Y:-d}` is Y's value, or `d` when Y is set where the import cannot
/// follow (a command's output), which the notes say (line, name, why).
#[allow(clippy::type_complexity)]
fn in_order(
    src: &Source,
    lines: &[&str],
    top: Vec<(usize, String, String)>,
) -> (Vec<(usize, String, String)>, Vec<(usize, String, String)>) {
    let mut all = top;
    let sourced = |l: &&str| {
        let t = l.trim_start();
        (t.starts_with(". /etc/default/")
            || t.starts_with(". /etc/sysconfig/")
            || t.starts_with("source /etc/default/"))
        .then_some(())
    };
    let at = lines
        .iter()
        .position(|l| sourced(l).is_some())
        .map(|i| i + 1)
        .or_else(|| lines.iter().any(|l| l.contains(". /lib/init/init-d-script")).then_some(lines.len() + 1));
    let file = src.extra.iter().find(|e| e.file.contains("/default/") || e.file.contains("/sysconfig/"));
    if let (Some(at), Some(file)) = (at, file) {
        let text: Vec<&str> = file.text.lines().collect();
        let defaults = top_level_assignments(&text).into_iter().map(|(_, k, v)| (at, k, v));
        all.extend(defaults);
        all.sort_by_key(|(l, _, _)| *l);
    }
    let mut out: Vec<(usize, String, String)> = Vec::new();
    let mut notes = Vec::new();
    for (l, k, v) in all {
        let raw = lines.get(l.wrapping_sub(1)).map_or("", |r| r.trim());
        // `X="${X:-d}"`: a value set before wins over the default.
        if (raw.contains(&format!("${{{k}:-"))
            || raw.contains(&format!("${{{k}-"))
            || raw.contains(&format!("${{{k}:=")))
            && out.iter().any(|(_, n, _)| *n == k)
        {
            continue;
        }
        // `X=${Y:-d}`: Y's value, or the default.
        if let Some((other, default)) = v
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .and_then(|r| r.split_once(":-"))
            .filter(|(o, d)| crate::recipe::template::is_var_name(o) && !d.contains(['$', '`', '"', '\'', '\\']))
        {
            match out.iter().rev().find(|(_, n, _)| n == other) {
                Some((_, _, value)) if !value.is_empty() => out.push((l, k, value.clone())),
                _ => {
                    notes.push((l, k.clone(), format!("`${{{other}:-…}}`: {other} is set where the import cannot follow (a command's output); taken as the default")));
                    out.push((l, k, default.to_owned()));
                }
            }
            continue;
        }
        // A reference to X in X's own value with no X before it is empty, as sh has it.
        let itself = v.contains(&format!("${k}")) || v.contains(&format!("${{{k}}}"));
        let earlier = out.iter().any(|(_, n, _)| *n == k);
        let resolved = expand(&v, &out);
        let resolved = if itself && !earlier { without_var(&resolved, &k) } else { resolved };
        // `X=$X` says nothing new.
        if resolved.is_empty() && itself {
            continue;
        }
        out.push((l, k, resolved));
    }
    (out, notes)
}

/// `text` without its references to `name` (`$name`, `${name}`), blanks
/// around them closed up.
fn without_var(text: &str, name: &str) -> String {
    let mut out = text.replace(&format!("${{{name}}}"), "");
    let plain = format!("${name}");
    let mut at = 0;
    while let Some(i) = out[at..].find(&plain).map(|i| i + at) {
        let end = i + plain.len();
        if out[end..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            at = end;
        } else {
            out.replace_range(i..end, "");
            at = i;
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `NAME=value` lines outside functions (no leading blanks), with `export`.
fn top_level_assignments(lines: &[&str]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else { continue };
        if k.is_empty()
            || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || k.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let v = v.split(" #").next().unwrap_or(v).trim();
        // `X="${X:-default}"`: a default /etc/default may override.
        let unquoted = v.trim_matches('"');
        if let Some(default) = unquoted
            .strip_prefix(&format!("${{{k}:-"))
            .or_else(|| unquoted.strip_prefix(&format!("${{{k}-")))
            .and_then(|d| d.strip_suffix('}'))
            .filter(|d| !d.contains(['$', '`', '"', '\'', '\\']))
        {
            out.push((i + 1, k.to_owned(), default.to_owned()));
            continue;
        }
        // `X="${Y:-default}"`: kept as written, for [`in_order`] to resolve.
        if unquoted.strip_prefix("${").and_then(|r| r.strip_suffix('}')).and_then(|r| r.split_once(":-")).is_some_and(
            |(o, d)| crate::recipe::template::is_var_name(o) && !d.contains(['$', '`', '"', '\'', '\\', '}']),
        ) {
            out.push((i + 1, k.to_owned(), unquoted.to_owned()));
            continue;
        }
        let v = match words::split(v, Dialect::Shell) {
            Ok(ws) if ws.len() == 1 => ws[0]
                .iter()
                .map(|p| match p {
                    Piece::Lit(l) => l.clone(),
                    Piece::Var { name, .. } => format!("${{{name}}}"),
                })
                .collect(),
            Ok(ws) if ws.is_empty() => String::new(),
            _ => continue,
        };
        out.push((i + 1, k.to_owned(), v));
    }
    out
}

/// Values for names the script sets only inside a loop, a branch or a
/// function, where the import cannot follow: an indented `X=value` that comes
/// out as plain text, and `NAME` as the script's own name (init-d-script's
/// default) when nothing gives it one. Each with its line and why.
fn guesses(lines: &[&str], top: &[(usize, String, String)], stem: &str) -> Vec<(usize, String, String, &'static str)> {
    let mut out: Vec<(usize, String, String, &'static str)> = Vec::new();
    // What is known so far, to fill guesses in with: the top level, then each guess.
    let mut env: Vec<(usize, String, String)> = top.to_vec();
    let indented: Vec<(usize, String, String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with([' ', '\t']))
        .filter_map(|(i, l)| {
            let l = l.trim_start();
            let l = l.strip_prefix("local ").unwrap_or(l);
            top_level_assignments(&[l]).pop().map(|(_, k, v)| (i + 1, k, v))
        })
        .collect();
    // Where the script sets it, however it does.
    let first_line = |k: &str| {
        lines
            .iter()
            .position(|l| l.trim_start().strip_prefix(k).is_some_and(|r| r.starts_with('=')))
            .map_or(1, |i| i + 1)
    };
    if !top.iter().any(|(_, n, _)| n == "NAME") && indented.iter().all(|(_, k, v)| k != "NAME" || v.contains('$')) {
        out.push((first_line("NAME"), "NAME".into(), stem.to_owned(), "NAME is set where the import cannot follow"));
        env.push((first_line("NAME"), "NAME".into(), stem.to_owned()));
    }
    // `[ -n "$X" ] || X=value`: the script's fallback when its own lookup
    // (a config file it reads, say) gave nothing.
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        let Some((test, assignment)) = t.split_once(" ] || ") else { continue };
        let Some(var) = test.strip_prefix("[ -n \"$").and_then(|v| v.strip_suffix('"')) else { continue };
        let Some((_, k, v)) = top_level_assignments(&[assignment]).pop() else { continue };
        if k == var && !v.contains(['$', '`']) && !env.iter().any(|(_, n, _)| *n == k) {
            env.push((i + 1, k.clone(), v.clone()));
            out.push((i + 1, k, v, "the script's fallback when its own lookup (a config file it reads?) finds none"));
        }
    }
    for (l, k, v) in &indented {
        if env.iter().any(|(_, n, _)| n == k) {
            continue;
        }
        let value = expand(v, &env);
        if !value.contains(['$', '`']) {
            env.push((*l, k.clone(), value.clone()));
            out.push((*l, k.clone(), value, "set inside a loop, a branch or a function"));
        }
    }
    out
}

/// The names the values refer to, and the names those refer to.
fn referenced(values: &[&str], assignments: &[(usize, String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    while let Some(v) = todo.pop() {
        let mut rest = v.as_str();
        while let Some(at) = rest.find('$') {
            let after = &rest[at + 1..];
            let after = after.strip_prefix('{').unwrap_or(after);
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            let name = &after[..end];
            if !name.is_empty() && !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
                todo.extend(assignments.iter().filter(|(_, k, _)| k == name).map(|(_, _, v)| v.clone()));
            }
            rest = &after[end..];
        }
    }
    out
}

/// `for`/`while`/`until` loops outside functions and outside the case arms.
fn top_level_loops(lines: &[&str]) -> Vec<(usize, &'static str)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            ["for", "while", "until"]
                .into_iter()
                .find(|w| l.strip_prefix(w).is_some_and(|rest| rest.starts_with([' ', '(', '\t'])))
                .map(|w| (i + 1, w))
        })
        .collect()
}

/// A value with `$X`/`${X}` references to earlier assignments filled in
/// (whole names only: `$DAEMON` is not the start of `$DAEMONBOOTSTRAP`).
pub(super) fn expand(v: &str, assignments: &[(usize, String, String)]) -> String {
    let mut s = v.to_owned();
    for _ in 0..4 {
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, len) = if let Some(b) = after.strip_prefix('{') {
                b.find('}').map_or(("", 0), |end| (&b[..end], end + 2))
            } else {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            };
            match assignments.iter().rev().find(|(_, k, _)| k == name) {
                Some((_, _, val)) if !name.is_empty() => out.push_str(val),
                _ => out.push_str(&rest[at..at + 1 + len]),
            }
            rest = &rest[at + 1 + len..];
        }
        out.push_str(rest);
        if out == s {
            break;
        }
        s = out;
    }
    s
}

/// A piece of an argument: a reference to a script variable is filled in when
/// the script sets it, else it becomes a setting.
fn inline(p: &Piece, assignments: &[(usize, String, String)], vars: &mut Vec<(String, String)>) -> Vec<Piece> {
    match p {
        Piece::Var { name, split } => match assignments.iter().rev().find(|(_, k, _)| k == name) {
            Some((_, _, v)) if !split => vec![Piece::Lit(expand(v, assignments))],
            Some((_, _, v)) => {
                if !vars.iter().any(|(k, _)| k == name) {
                    vars.push((name.clone(), expand(v, assignments)));
                }
                vec![p.clone()]
            }
            None => {
                if !vars.iter().any(|(k, _)| k == name) {
                    vars.push((name.clone(), String::new()));
                }
                vec![p.clone()]
            }
        },
        lit @ Piece::Lit(_) => vec![lit.clone()],
    }
}

#[derive(Default)]
struct Ssd {
    exec: Option<(usize, String)>,
    args: Option<(usize, String)>,
    user: Option<(usize, String)>,
    pidfile: Option<(usize, String)>,
    background: bool,
    /// The call's own redirections after the arguments (`>/dev/null 2>&1`).
    redirections: Vec<String>,
}

/// The arguments without the redirections that end the call, and those
/// redirections: `$ARGS >>$LOG 2>&1` gives `$ARGS` and `>>$LOG`, `2>&1`.
fn trailing_redirections(args: &str) -> (String, Vec<String>) {
    let is_op = |t: &str| {
        let t = t.trim_start_matches(|c: char| c.is_ascii_digit());
        t.starts_with('>') || t.starts_with('<')
    };
    let bare = |t: &str| matches!(t.trim_start_matches(|c: char| c.is_ascii_digit()), ">" | ">>" | "<" | ">|");
    let mut toks: Vec<&str> = args.split_whitespace().collect();
    let mut taken = Vec::new();
    loop {
        match toks.as_slice() {
            [.., op, target] if bare(op) && !is_op(target) => {
                taken.push(format!("{op} {target}"));
                toks.truncate(toks.len() - 2);
            }
            [.., last] if is_op(last) && !bare(last) => {
                taken.push((*last).to_owned());
                toks.pop();
            }
            _ => break,
        }
    }
    taken.reverse();
    if taken.is_empty() { (args.to_owned(), taken) } else { (toks.join(" "), taken) }
}

/// The first `start-stop-daemon --start` call, continuation lines joined.
fn start_stop_daemon(lines: &[&str]) -> Ssd {
    let mut out = Ssd::default();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let mut call = lines[i].trim().to_owned();
        while call.ends_with('\\') && i + 1 < lines.len() {
            call.pop();
            i += 1;
            call.push(' ');
            call.push_str(lines[i].trim());
        }
        i += 1;
        if !call.contains("start-stop-daemon")
            || !(call.contains("--start") || call.contains(" -S"))
            || call.contains("--test")
        {
            continue;
        }
        let call = call.split(['|', ';']).next().unwrap_or(&call).replace("|| return 2", "");
        let (opts, args) = match call.split_once(" -- ") {
            Some((o, a)) => (o.to_owned(), Some(a.trim().trim_end_matches("|| return 2").to_owned())),
            None => (call.clone(), None),
        };
        let toks: Vec<&str> = opts.split_whitespace().collect();
        let l = first + 1;
        for (j, t) in toks.iter().enumerate() {
            let next = toks.get(j + 1).map(|s| s.trim_matches('"').to_owned());
            match *t {
                "--exec" | "-x" | "--startas" | "-a" => out.exec = next.map(|v| (l, v)),
                "--chuid" | "-c" | "--user" | "-u" if out.user.is_none() => out.user = next.map(|v| (l, v)),
                "--pidfile" | "-p" => out.pidfile = next.map(|v| (l, v)),
                "--background" | "-b" => out.background = true,
                _ => {}
            }
        }
        out.args = args.map(|a| {
            let (a, redirections) = trailing_redirections(&a);
            out.redirections = redirections;
            (l, a)
        });
        break;
    }
    out
}

/// The first `mkdir [-p] /run/NAME` (or `/var/run/NAME`), with the mode a
/// `chmod MODE` of the same directory gives it.
fn runtime_dir(lines: &[&str], resolve: &dyn Fn(&str) -> String) -> Option<(usize, String, Option<String>)> {
    let under_run = |arg: &str| {
        let path = resolve(arg.trim_matches('"'));
        let name = path.strip_prefix("/run/").or_else(|| path.strip_prefix("/var/run/"))?.trim_end_matches('/');
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .then(|| name.to_owned())
    };
    let (l, name) = lines.iter().enumerate().find_map(|(i, line)| {
        let toks: Vec<&str> = line.split_whitespace().collect();
        (toks.first() == Some(&"mkdir")).then(|| toks[1..].iter().find_map(|t| under_run(t)).map(|n| (i + 1, n)))?
    })?;
    let mode = lines.iter().find_map(|line| {
        let toks: Vec<&str> = line.split_whitespace().collect();
        match toks.as_slice() {
            ["chmod", mode, rest @ ..]
                if mode.len() <= 4
                    && mode.chars().all(|c| c.is_digit(8))
                    && rest.iter().any(|t| under_run(t).as_deref() == Some(&name)) =>
            {
                Some(format!("{mode:0>4}"))
            }
            _ => None,
        }
    });
    Some((l, name, mode))
}

/// The `--retry` schedule of the first `start-stop-daemon --stop` call.
fn stop_retry(lines: &[&str]) -> Option<(usize, String)> {
    lines.iter().enumerate().find_map(|(i, line)| {
        if !line.contains("start-stop-daemon") || !(line.contains("--stop") || line.contains(" -K")) {
            return None;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        toks.iter().enumerate().find_map(|(j, t)| {
            let v = match t.split_once('=') {
                Some(("--retry", v)) => Some(v),
                _ if matches!(*t, "--retry" | "-R") => toks.get(j + 1).copied(),
                _ => None,
            }?;
            Some((i + 1, v.trim_matches('"').to_owned()))
        })
    })
}

/// A `--retry` schedule: the first signal (TERM when only a number is
/// given), how long it waits for it, and whether it repeats `forever`.
pub(super) fn retry_schedule(retry: &str) -> Option<(Option<String>, u64, bool)> {
    if let Ok(n) = retry.parse::<u64>() {
        return Some((None, n, false));
    }
    let mut parts = retry.split('/').peekable();
    let forever = parts.peek() == Some(&"forever");
    if forever {
        parts.next();
    }
    let signal = parts.next()?.trim_start_matches('-').trim_start_matches("SIG");
    let secs = parts.next()?.parse::<u64>().ok()?;
    let signal = match signal {
        "15" => "TERM",
        s => crate::recipe::signal::Signal::parse(s).ok().map(|_| s)?,
    };
    Some((Some(signal.to_owned()), secs, forever))
}

/// `reload)` arms that send a signal (`--signal HUP`, `killproc -HUP`).
fn reload_signal(lines: &[&str]) -> Option<(usize, String)> {
    let start = lines.iter().position(|l| l.trim_start().starts_with("reload") && l.contains(')'))?;
    for (i, line) in lines.iter().enumerate().skip(start + 1).take(15) {
        let t = line.trim();
        if t == ";;" {
            break;
        }
        let toks: Vec<&str> = t.split_whitespace().collect();
        for (j, tok) in toks.iter().enumerate() {
            let sig = match *tok {
                "--signal" | "-s" if t.contains("start-stop-daemon") => toks.get(j + 1).copied(),
                x if t.contains("killproc") && x.starts_with('-') && x.len() > 1 => Some(&x[1..]),
                _ => None,
            };
            if let Some(sig) = sig {
                let sig = sig.trim_start_matches("SIG").trim_matches('"');
                if crate::recipe::signal::Signal::parse(sig).is_ok() {
                    return Some((i + 1, sig.to_owned()));
                }
            }
        }
    }
    None
}

/// The actions of the script's main `case "$1"`, as its arms name them.
fn case_actions(lines: &[&str]) -> Vec<(usize, String)> {
    let Some(start) =
        lines.iter().position(|l| l.trim_start().starts_with("case \"$1\"") || l.trim_start().starts_with("case $1"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut depth = 0;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let t = line.trim();
        if t.starts_with("case ") {
            depth += 1;
        }
        if t == "esac" || t.starts_with("esac") {
            if depth == 0 {
                break;
            }
            depth -= 1;
            continue;
        }
        if depth == 0
            && !t.starts_with('#')
            && !t.starts_with("echo")
            && let Some((pat, _)) = t.split_once(')')
            && (!pat.contains(' ') || pat.contains('|'))
        {
            for a in pat.split('|') {
                let a = a.trim().trim_matches('"').trim_start_matches('(');
                if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*')) {
                    out.push((i + 1, a.to_owned()));
                }
            }
        }
    }
    out
}
