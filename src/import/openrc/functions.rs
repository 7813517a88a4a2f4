//! The functions of an openrc-run script: `depend()`, the config test
//! (`checkconfig`), the `start_pre`/`start_post`/`stop_pre`/`stop_post`
//! hooks, `reload()`; any other function or top-level shell is reported.

use super::{
    context::Context,
    script::{Function, Statement},
};
use crate::import::draft::lit;

/// Names a config-test function goes by.
const CHECKS: [&str; 7] =
    ["checkconfig", "configtest", "checkconf", "check_config", "testconfig", "config_test", "test_config"];

/// openrc's message helpers: what they print does not change the service.
const MESSAGES: [&str; 16] = [
    "ebegin", "eend", "einfo", "einfon", "ewarn", "ewarnn", "eerror", "eerrorn", "vebegin", "veend", "veinfo",
    "vewarn", "eindent", "eoutdent", "return", ":",
];

/// Words that start or end shell control flow.
const SHELL_WORDS: [&str; 16] =
    ["if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "[", "[[", "test", "!"];

/// openrc facilities and the recipe's names for them.
const FACILITIES: [(&str, &str); 8] = [
    ("net", "network"),
    ("net-online", "network"),
    ("dns", "names"),
    ("logger", "syslog"),
    ("localmount", "local-fs"),
    ("netmount", "remote-fs"),
    ("ntp-client", "time"),
    ("rpcbind", "portmap"),
];

pub fn read(cx: &mut Context) {
    let file = cx.file.clone();
    let check = check_function(cx);
    // Each action with where it is named.
    let named: Vec<(String, usize, String)> = ["extra_commands", "extra_started_commands", "extra_stopped_commands"]
        .iter()
        .filter_map(|k| cx.scalar(k))
        .flat_map(|(f, l, v)| v.split_whitespace().map(|a| (f.clone(), l, a.to_owned())).collect::<Vec<_>>())
        .collect();
    let extras: Vec<String> = named.iter().map(|(_, _, a)| a.clone()).collect();
    for f in cx.script.functions.clone() {
        match f.name.as_str() {
            "depend" => depend(cx, &f),
            "start_pre" => steps(cx, &f, "start", "before", check.as_deref()),
            "start_post" => steps(cx, &f, "start", "after", check.as_deref()),
            "stop_pre" => steps(cx, &f, "stop", "before", check.as_deref()),
            "stop_post" => steps(cx, &f, "stop", "after", check.as_deref()),
            "reload" => reload(cx, &f, check.as_deref()),
            n if Some(n) == check.as_deref() => {}
            "start" | "stop" | "status" => cx.report.dropped(
                &file,
                f.line,
                &format!("{}()", f.name),
                "the script's own action: initkit's script does it, with `command` as openrc-run's default would",
            ),
            n if extras.iter().any(|e| e == n) => cx.report.dropped(
                &file,
                f.line,
                &format!("action `{n}`"),
                "a custom action of the script; initkit's script has its own set",
            ),
            _ => {
                cx.report.dropped(
                    &file,
                    f.line,
                    &format!("{}()", f.name),
                    "a function of the script's own: shell code",
                );
            }
        }
    }
    for (f, l, e) in &named {
        if e != "reload" && Some(e.as_str()) != check.as_deref() && cx.script.function(e).is_none() {
            cx.report.dropped(f, *l, &format!("action `{e}`"), "named, but the script has no such function");
        }
    }
    for st in cx.script.other.clone() {
        let word = st.text.split_whitespace().next().unwrap_or("").to_owned();
        cx.report.dropped(&file, st.line, &format!("`{word}`"), "shell code at the top of the script: not read");
    }
}

/// The statements of a body, split at unquoted `;`.
fn parts(body: &[Statement]) -> Vec<Statement> {
    let mut out = Vec::new();
    for st in body {
        let mut quote = None;
        let mut start = 0;
        let t = &st.text;
        for (at, c) in t.char_indices() {
            match (quote, c) {
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, ';') if !t[at..].starts_with(";;") && !t[..at].ends_with(';') => {
                    out.push(Statement { line: st.line, text: t[start..at].trim().to_owned() });
                    start = at + 1;
                }
                _ => {}
            }
        }
        out.push(Statement { line: st.line, text: t[start..].trim().to_owned() });
    }
    out.retain(|s| !s.text.is_empty());
    out
}

fn is_message(text: &str) -> bool {
    let w = text.split_whitespace().next().unwrap_or("");
    MESSAGES.contains(&w) || w == "true"
}

/// A statement with its failure handling (`|| return 1`) taken off.
fn bare(text: &str) -> &str {
    let mut t = text.trim();
    for suffix in ["|| return 1", "|| return $?", "|| return", "|| exit 1", "|| eend $?", "|| eend 1"] {
        if let Some(s) = t.strip_suffix(suffix) {
            t = s.trim_end();
        }
    }
    t
}

/// The config-test function: named in `extra_commands` or called by the
/// hooks, under one of its usual names.
fn check_function(cx: &mut Context) -> Option<String> {
    let name = CHECKS.iter().find(|n| cx.script.function(n).is_some())?.to_string();
    let f = cx.script.function(&name)?.clone();
    let body: Vec<Statement> = parts(&f.body).into_iter().filter(|s| !is_message(&s.text)).collect();
    let file = cx.file.clone();
    let setting = format!("{name}()");
    let [st] = body.as_slice() else {
        cx.report.dropped(&file, f.line, &setting, "not one plain command: give the recipe a [check] command");
        return Some(name);
    };
    let mark = cx.mark();
    match cx.argv(bare(&st.text)) {
        Ok(argv) if argv.first().is_some_and(|p| p.starts_with('/')) => {
            cx.draft.set_list(&["check"], "command", &argv);
            // openrc-run runs it as root, whoever the daemon runs as.
            if cx.draft.get_str(&["run"], "user").as_deref() != Some("root") {
                cx.draft.set(&["check"], "user", "root");
            }
            cx.report.carried(&file, st.line, &setting);
        }
        Ok(_) => {
            cx.rollback(mark);
            cx.report.dropped(&file, st.line, &setting, "its program is not an absolute path");
        }
        Err(e) => cx.report.dropped(&file, st.line, &setting, format!("{e}: give the recipe a [check] command")),
    }
    Some(name)
}

/// `depend()`: `need`, `use`, `want`, `after`, `before`, `provide`.
fn depend(cx: &mut Context, f: &Function) {
    let file = cx.file.clone();
    for st in parts(&f.body) {
        let mut words = st.text.split_whitespace();
        let rel = words.next().unwrap_or("").to_owned();
        let names: Vec<String> = words.map(str::to_owned).collect();
        relation(cx, (&file, st.line, &format!("depend {rel}")), &rel, &names);
    }
}

/// One `depend()` line (or conf.d's `rc_need`…) as needs, depends and aliases.
pub fn relation(cx: &mut Context, (file, line, setting): (&str, usize, &str), rel: &str, names: &[String]) {
    let (list, after) = match rel {
        "need" => (Some("requires"), true),
        "want" => (Some("wants"), true),
        // `use`: ordered after it when it is started, never started for it.
        "use" | "after" => (None, true),
        "before" => (Some("before"), false),
        "provide" => {
            for n in names {
                if crate::recipe::is_recipe_name(n) && *n != cx.name {
                    cx.draft.push(&[], "aliases", n);
                }
            }
            cx.report.carried(file, line, setting);
            return;
        }
        "keyword" => {
            cx.report.dropped(file, line, setting, "openrc's keywords (where it is not run) have no equivalent");
            return;
        }
        _ => {
            cx.report.dropped(file, line, &format!("`{rel}`"), "not a depend() word initkit reads");
            return;
        }
    };
    let mut unknown = Vec::new();
    for n in names {
        if let Some((_, facility)) = FACILITIES.iter().find(|(o, _)| o == n) {
            if rel != "before" {
                cx.draft.push(&[], "needs", facility);
            }
            continue;
        }
        if n == "*" || crate::recipe::Dep::parse(n).is_err() || *n == cx.name {
            unknown.push(n.as_str());
            continue;
        }
        if let Some(list) = list {
            cx.draft.push(&["depends"], list, n);
        }
        if after {
            cx.draft.push(&["depends"], "after", n);
        }
    }
    if unknown.is_empty() {
        cx.report.carried(file, line, setting);
    } else {
        cx.report.dropped(file, line, setting, format!("not service names initkit orders by: {}", unknown.join(" ")));
    }
}

/// A hook's statements as steps; `checkpath -d` of the service's
/// directories is its [directories], a call of the config test is [check].
fn steps(cx: &mut Context, f: &Function, table: &str, list: &str, check: Option<&str>) {
    let file = cx.file.clone();
    let base = crate::import::base_name(&file).to_owned();
    let mut flow_line = None;
    for st in parts(&f.body) {
        let text = bare(&st.text);
        if is_message(text) {
            continue;
        }
        let first = text.split_whitespace().next().unwrap_or("");
        let setting = format!("{}()", f.name);
        if Some(first) == check || CHECKS.contains(&first) {
            cx.report.carried(&file, st.line, &format!("{setting} {first}"));
            continue;
        }
        if SHELL_WORDS.contains(&first) {
            // One entry a line: `if …; then` is one piece of control flow.
            if flow_line == Some(st.line) {
                continue;
            }
            flow_line = Some(st.line);
            cx.report.dropped(
                &file,
                st.line,
                &format!("{setting} `{first}`"),
                "shell control flow, not read (initkit's script tests the config before a start, restart and reload itself); the commands inside are read one by one",
            );
            continue;
        }
        if first == "checkpath" {
            checkpath(cx, st.line, text);
            continue;
        }
        let timeout = if table == "stop" && list == "before" { "30s" } else { "90s" };
        let description = format!("{} from {base}", f.name);
        let mark = cx.mark();
        match cx.argv(text) {
            Ok(argv) if argv.first().is_some_and(|p| p.starts_with('/')) => {
                cx.draft.push_step(table, list, description, &argv, timeout, None);
                cx.report.approximated(
                    &file,
                    st.line,
                    &setting,
                    format!("a step within {timeout}, as the service's user"),
                );
            }
            Ok(argv) if !argv.is_empty() && !text.contains('$') => {
                let run = vec!["/bin/sh".to_owned(), "-c".to_owned(), lit(text)];
                cx.draft.push_step(table, list, description, &run, timeout, None);
                cx.report.approximated(
                    &file,
                    st.line,
                    &setting,
                    format!("run by /bin/sh -c (its program is found on PATH) within {timeout}, as the service's user"),
                );
            }
            Ok(_) => {
                cx.rollback(mark);
                cx.report.dropped(
                    &file,
                    st.line,
                    &setting,
                    "names the script's variables in a relative command: shell code",
                );
            }
            Err(e) => cx.report.dropped(&file, st.line, &setting, format!("{e}: shell code, not a command")),
        }
    }
}

/// `checkpath -d [-m MODE] [-o OWNER] DIR…`: under /run, /var/lib and
/// /var/log, the recipe's runtime, state and logs directories.
fn checkpath(cx: &mut Context, line: usize, text: &str) {
    let file = cx.file.clone();
    let mark = cx.mark();
    let argv = cx.argv(text);
    // Its paths are the recipe's directories, never settings.
    cx.rollback(mark);
    let argv = match argv {
        Ok(a) => a,
        Err(e) => {
            cx.report.dropped(&file, line, "checkpath", e);
            return;
        }
    };
    let mut dir = false;
    let mut mode = None;
    let mut paths = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-d" | "--directory" | "-D" | "--directory-truncate" => dir = true,
            "-m" | "--mode" | "-o" | "--owner" => {
                if argv[i].starts_with("-m") || argv[i] == "--mode" {
                    mode = argv.get(i + 1).cloned();
                }
                i += 1;
            }
            "-q" | "--quiet" | "-W" | "--writable" => {}
            p => paths.push(p.to_owned()),
        }
        i += 1;
    }
    if !dir {
        cx.report.dropped(&file, line, "checkpath", "not a directory: initkit makes the service's directories only");
        return;
    }
    let mut carried = true;
    for p in &paths {
        let key = [("/run/", "runtime"), ("/var/run/", "runtime"), ("/var/lib/", "state"), ("/var/log/", "logs")]
            .iter()
            .find_map(|(prefix, key)| p.strip_prefix(prefix).map(|rest| (*key, rest.trim_end_matches('/'))));
        match key {
            Some((key, rest))
                if !rest.is_empty()
                    && !rest.contains(['{', '}'])
                    && !cx.draft.has(&["directories"], key)
                    && rest.split('/').all(|c| !c.is_empty() && c != "..")
                    && !rest.contains(['"', '\'', '\\', ' ']) =>
            {
                cx.draft.set(&["directories"], key, rest);
            }
            _ => carried = false,
        }
    }
    if let Some(m) = mode.filter(|m| m.len() <= 4 && !m.is_empty() && m.chars().all(|c| c.is_digit(8))) {
        cx.draft.set(&["directories"], "mode", format!("{m:0>4}"));
    }
    if carried {
        cx.report.carried(&file, line, "checkpath");
    } else {
        cx.report.approximated(
            &file,
            line,
            "checkpath",
            "only one directory each under /run, /var/lib and /var/log is made, owned by the service's user",
        );
    }
}

/// `reload()`: the signal it sends (`start-stop-daemon --signal HUP`,
/// `kill -HUP`), or its one plain command.
fn reload(cx: &mut Context, f: &Function, check: Option<&str>) {
    let file = cx.file.clone();
    let body: Vec<Statement> = parts(&f.body)
        .into_iter()
        .filter(|s| !is_message(&s.text))
        .filter(|s| {
            let first = s.text.split_whitespace().next().unwrap_or("");
            Some(first) != check && !CHECKS.contains(&first)
        })
        .collect();
    for st in &body {
        if let Some(sig) = signal_of(&st.text) {
            cx.draft.set(&["reload"], "signal", sig.as_str());
            cx.report.carried(&file, st.line, "reload()");
            return;
        }
    }
    if let [st] = body.as_slice() {
        let mark = cx.mark();
        match cx.argv(bare(&st.text)) {
            Ok(argv) if argv.first().is_some_and(|p| p.starts_with('/')) => {
                cx.draft.set_list(&["reload"], "command", &argv);
                cx.report.carried(&file, st.line, "reload()");
                return;
            }
            _ => cx.rollback(mark),
        }
    }
    cx.report.dropped(&file, f.line, "reload()", "neither a signal nor one plain command: shell code");
}

/// The signal a line sends to the daemon.
fn signal_of(text: &str) -> Option<String> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    let daemon_tool =
        text.contains("start-stop-daemon") || text.contains("supervise-daemon") || text.contains("supervisor}");
    for (j, t) in toks.iter().enumerate() {
        let sig = match *t {
            "--signal" | "-s" if daemon_tool || toks.first() == Some(&"kill") => toks.get(j + 1).copied(),
            x if toks.first() == Some(&"kill") && j == 1 && x.starts_with('-') && x.len() > 1 => Some(&x[1..]),
            x if x.starts_with("--signal=") => x.strip_prefix("--signal="),
            _ => None,
        };
        if let Some(sig) = sig {
            let sig = sig.trim_matches('"').trim_start_matches("SIG");
            if crate::recipe::signal::Signal::parse(sig).is_ok() {
                return Some(sig.to_owned());
            }
        }
    }
    None
}
