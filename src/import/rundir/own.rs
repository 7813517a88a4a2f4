//! initkit's own runit and s6 service directories read back into the recipe
//! they were rendered from: the constants and the generated functions of
//! its run, check and control/t scripts (see render/shell/generated.rs),
//! each read as sh words, never run.

use super::lines::{Line, logical_lines};
use crate::import::{
    draft::{Draft, strings},
    report::Report,
    words::{self, Dialect, Piece, Word},
};
use crate::recipe::duration::format_duration;

/// The second line of a script initkit rendered for a service directory.
pub fn rendered_by_initkit(text: &str) -> Option<String> {
    let second = text.lines().nth(1)?;
    let rest = ["# runit run script of ", "# s6 run script of "].iter().find_map(|p| second.strip_prefix(p))?;
    let (_, name) = rest.split_once(", rendered by initkit from the recipe \"")?;
    name.split_once('"').map(|(n, _)| n.to_owned())
}

/// A script's top-level constants and its functions' bodies.
#[derive(Debug, Default)]
pub struct Parsed {
    consts: Vec<(usize, String, String)>,
    funcs: Vec<(String, usize, Vec<Line>)>,
}

pub fn parse(text: &str) -> Parsed {
    let mut p = Parsed::default();
    let mut lines = logical_lines(text).into_iter();
    while let Some(l) = lines.next() {
        if let Some(name) = l.text.strip_suffix("() {") {
            let body: Vec<Line> = lines.by_ref().take_while(|b| b.text != "}").collect();
            p.funcs.push((name.to_owned(), l.n, body));
        } else if let Some((k, v)) = l.text.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && let Ok([w]) = words::split(v, Dialect::Shell).as_deref()
            && let Some(v) = words::plain(w)
        {
            p.consts.push((l.n, k.to_owned(), v));
        }
    }
    p
}

impl Parsed {
    fn get(&self, key: &str) -> Option<(usize, &str)> {
        self.consts.iter().find(|(_, k, _)| k == key).map(|(n, _, v)| (*n, v.as_str()))
    }

    fn body(&self, name: &str) -> Option<&[Line]> {
        self.funcs.iter().find(|(n, _, _)| n == name).map(|(_, _, b)| b.as_slice())
    }
}

/// A word of initkit's sh as a recipe template: its shell variables back to
/// the recipe's (`"${v_port}"` is `{port}`, `${v_opts}` is `{opts...}`).
fn template(word: &Word) -> Option<String> {
    let renamed: Option<Word> = word
        .iter()
        .map(|p| match p {
            Piece::Lit(_) => Some(p.clone()),
            Piece::Var { name, split } => {
                let name = match name.as_str() {
                    "instance" => "instance".to_owned(),
                    "d_runtime" => "runtime_dir".to_owned(),
                    "d_state" => "state_dir".to_owned(),
                    "d_logs" => "logs_dir".to_owned(),
                    v => v.strip_prefix("v_")?.to_owned(),
                };
                Some(Piece::Var { name, split: *split })
            }
        })
        .collect();
    renamed.as_ref().map(words::template)
}

fn templates(ws: &[Word]) -> Option<Vec<String>> {
    ws.iter().map(template).collect()
}

fn split(text: &str) -> Option<Vec<Word>> {
    words::split(text, Dialect::Shell).ok()
}

/// `(set -f; LINE)`, written when a command splits a setting: LINE.
fn unwrap(t: &str) -> &str {
    t.strip_prefix("(set -f; ").and_then(|x| x.strip_suffix(')')).unwrap_or(t)
}

/// Seconds as initkit writes them (`30`, `0.500`) as a duration.
fn duration(secs: &str) -> Option<String> {
    let (whole, frac) = secs.split_once('.').unwrap_or((secs, "0"));
    let ms = whole.parse::<u64>().ok()? * 1000
        + frac.parse::<u64>().ok()? * 10u64.pow(3u32.saturating_sub(u32::try_from(frac.len()).ok()?));
    Some(format_duration(ms))
}

/// What the scripts of one of initkit's service directories say, into `d`.
#[allow(clippy::many_single_char_names)] // (file, line, draft, report) in every arm
pub fn read(scripts: &[(&str, Parsed)], d: &mut Draft, r: &mut Report) {
    let find_const = |key: &str| scripts.iter().find_map(|(f, p)| p.get(key).map(|(n, v)| (*f, n, v.to_owned())));
    let find_body = |name: &str| scripts.iter().find_map(|(f, p)| p.body(name).map(|b| (*f, b)));
    let run_user = find_const("RUN_USER").map(|(_, _, u)| u);
    if let Some((f, n, u)) = find_const("RUN_USER") {
        d.set(&["run"], "user", u.as_str());
        r.carried(f, n, "RUN_USER");
    }
    if let Some((f, n, g)) = find_const("RUN_GROUP").filter(|(_, _, g)| !g.is_empty()) {
        d.set(&["run"], "group", g.as_str());
        r.carried(f, n, "RUN_GROUP");
    }
    if let Some((f, body)) = find_body("ik_instance_load")
        && let Some(l) = body.iter().find(|l| l.text.starts_with("ik_load "))
        && let Some([w]) = split(&l.text["ik_load ".len()..]).as_deref()
        && let Some(i) = words::plain(w).filter(|i| !i.is_empty())
    {
        d.set(&["instances"], "default", i.as_str());
        r.approximated(f, l.n, "instance", format!("the directory runs the instance `{i}`: the recipe's default one"));
    }
    if let Some((f, body)) = find_body("ik_defaults") {
        for l in body {
            if let Some((k, v)) = l.text.strip_prefix("v_").and_then(|t| t.split_once('='))
                && let Some(v) = split(v)
                    .and_then(|ws| if ws.is_empty() { Some(String::new()) } else { templates(&ws).map(|t| t.concat()) })
            {
                d.set(&["vars"], k, v);
                r.carried(f, l.n, &format!("setting {k}"));
            }
        }
    }
    if let Some((f, body)) = find_body("ik_dirs") {
        for l in body {
            for (var, key, base) in [
                ("d_runtime=", "runtime", "/run/"),
                ("d_state=", "state", "/var/lib/"),
                ("d_logs=", "logs", "/var/log/"),
            ] {
                if let Some(v) = l.text.strip_prefix(var).and_then(|v| v.strip_prefix(base))
                    && let Some(t) = split(v).as_deref().and_then(templates).map(|t| t.concat())
                {
                    d.set(&["directories"], key, t);
                    r.carried(f, l.n, &format!("directory {key}"));
                }
            }
        }
    }
    if let Some((f, body)) = find_body("ik_prepare")
        && let Some(l) = body.iter().find(|l| l.text.starts_with("ik_mkdir "))
        && let Some(mode) = l.text.split_whitespace().nth(2).filter(|m| *m != "0755")
    {
        d.set(&["directories"], "mode", mode);
        r.carried(f, l.n, "directory mode");
    }
    if let Some((f, body)) = find_body("ik_exec") {
        for l in body {
            let t = l.text.as_str();
            if let Some(dir) = t.strip_prefix("cd -- ").and_then(|x| x.strip_suffix(" || exit 200"))
                && let Some([w]) = split(dir).as_deref()
                && let Some(dir) = template(w)
            {
                d.set(&["run"], "working_directory", dir);
                r.carried(f, l.n, "cd");
            } else if let Some(mask) = t.strip_prefix("umask ") {
                d.set(&["run"], "umask", mask);
                r.carried(f, l.n, "umask");
            } else if let Some(rest) = t.strip_prefix("ik_limit \"$ik_self\" ")
                && let Some((key, v)) = rest.split_once(' ')
                && let Ok(v) = v.parse::<i64>()
            {
                d.set(&["run", "limits"], key, v);
                r.carried(f, l.n, &format!("limit {key}"));
            } else if let Some(rest) = t.strip_prefix("ik_environment exec ") {
                exec_line(rest, f, l.n, d, r);
            }
        }
    }
    if let Some((f, body)) = find_body("ik_environment") {
        let mut files = 0;
        for l in body {
            let t = l.text.as_str();
            if t == "ik_env_file=\"$ENV_FILE\"" {
                files += 1;
                if let Some((_, _, path)) = find_const("ENV_FILE") {
                    d.set(&["run"], "environment_file", path.as_str());
                }
                r.approximated(f, l.n, "ENV_FILE", "the recipe's literal environment values are in that root-only file, not in the service directory: it is the recipe's environment_file");
            } else if let Some(v) = t.strip_prefix("ik_env_file=")
                && let Some([w]) = split(v).as_deref()
                && let Some(path) = template(w)
            {
                files += 1;
                if files > 1 {
                    d.set(&["run"], "environment_file", path);
                    r.approximated(f, l.n, "environment_file", "the recipe's own file; its literal values (in ENV_FILE) are left out: copy them into [run.environment]");
                } else {
                    d.set(&["run"], "environment_file", path);
                    r.carried(f, l.n, "environment_file");
                }
            } else if let Some(rest) = t.strip_prefix("set -- \"$@\" ")
                && let Some([w]) = split(rest).as_deref()
                && let Some(Piece::Lit(first)) = w.first()
                && let Some((k, v0)) = first.split_once('=')
            {
                let mut value = vec![Piece::Lit(v0.to_owned())];
                value.extend(w[1..].iter().cloned());
                if let Some(v) = template(&value) {
                    d.set(&["run", "environment"], k, v);
                    r.carried(f, l.n, &format!("environment {k}"));
                }
            } else if t.starts_with("case ${ik_trial_net:-} in") {
                d.set(&["check"], "trial", true);
                r.carried(f, l.n, "trial start");
            }
        }
    }
    if let Some((f, body)) = find_body("ik_check") {
        for l in body {
            let t = unwrap(&l.text);
            if t == "ik_trial" {
                d.set(&["check"], "trial", true);
                r.carried(f, l.n, "trial start");
            } else if let Some(ws) = t.strip_prefix("ik_as ").and_then(split)
                && ws.len() > 5
                && words::plain(&ws[1]).as_deref() == Some("timeout")
                && let (Some(user), Some(secs)) =
                    (words::plain(&ws[0]), words::plain(&ws[4]).as_deref().and_then(duration))
                && let Some(argv) = templates(&ws[5..])
            {
                d.set(&["check"], "command", strings(&argv));
                if run_user.as_deref() != Some(user.as_str()) {
                    d.set(&["check"], "user", user.as_str());
                }
                d.set(&["check"], "timeout", secs);
                r.carried(f, l.n, "config test");
            }
        }
    }
    if let Some((f, body)) = find_body("ik_ready") {
        for l in body {
            let t = unwrap(&l.text);
            if let Some([w]) = t.strip_prefix("ik_listening ").and_then(split).as_deref()
                && let Some(addr) = template(w)
            {
                d.set(&["ready"], "tcp", addr);
                r.carried(f, l.n, "readiness");
            } else if let Some(ws) =
                t.strip_prefix("ik_as \"$RUN_USER\" ").and_then(|x| x.strip_suffix(" >/dev/null 2>&1")).and_then(split)
                && let Some(argv) = templates(&ws)
            {
                d.set(&["ready"], "command", strings(&argv));
                r.carried(f, l.n, "readiness");
            }
        }
        if (d.has(&["ready"], "tcp") || d.has(&["ready"], "command"))
            && let Some((f, n, ms)) = find_const("READY_TIMEOUT_MS")
            && let Ok(ms) = ms.parse::<u64>()
        {
            d.set(&["ready"], "timeout", format_duration(ms));
            r.carried(f, n, "READY_TIMEOUT_MS");
        }
        if (d.has(&["ready"], "tcp") || d.has(&["ready"], "command"))
            && let Some((f, n, ms)) = find_const("READY_SETTLE_MS")
            && let Ok(ms) = ms.parse::<u64>()
            && ms > 0
        {
            d.set(&["ready"], "settle", format_duration(ms));
            r.carried(f, n, "READY_SETTLE_MS");
        }
    }
    if let Some((f, body)) = find_body("ik_do_reload") {
        for l in body {
            let t = unwrap(l.text.strip_suffix(" || return 1").unwrap_or(&l.text));
            if let Some(sig) = t.strip_prefix("kill -s ").and_then(|x| x.strip_suffix(" \"$pid\"")) {
                d.set(&["reload"], "signal", sig);
                r.carried(f, l.n, "reload signal");
            } else if let Some(ws) = t.strip_prefix("ik_as \"$RUN_USER\" ").and_then(split)
                && let Some(argv) = templates(&ws)
            {
                d.set(&["reload"], "command", strings(&argv));
                r.carried(f, l.n, "reload command");
            }
        }
    }
    if let Some((f, body)) = find_body("ik_before_stop") {
        for l in body {
            let Some(ws) = unwrap(&l.text).strip_prefix("ik_hook ").and_then(split) else { continue };
            let plain: Vec<Option<String>> = ws.iter().take(5).map(words::plain).collect();
            if let [Some(desc), Some(kind), Some(timeout), Some(interval), Some(user)] = plain.as_slice()
                && let (Some(timeout), Some(interval)) = (duration(timeout), duration(interval))
                && let Some(argv) = templates(&ws[5..])
            {
                let key = if kind == "poll" { "poll" } else { "run" };
                let mut entries =
                    vec![("description", desc.as_str().into()), (key, strings(&argv)), ("timeout", timeout.into())];
                if key == "poll" {
                    entries.push(("interval", interval.into()));
                }
                if run_user.as_deref() != Some(user.as_str()) {
                    entries.push(("user", user.as_str().into()));
                }
                d.push_table(&["stop"], "before", entries);
                r.carried(f, l.n, "pre-stop step");
            }
        }
    }
    for (key, field, setting) in [("STOP_SIGNAL", "signal", "stop signal"), ("STOP_MODE", "mode", "stop mode")] {
        if let Some((f, n, v)) = find_const(key) {
            if !(key == "STOP_MODE" && v == "mixed") {
                d.set(&["stop"], field, v.as_str());
            }
            r.carried(f, n, setting);
        }
    }
    if let Some((f, n, ms)) = find_const("STOP_TIMEOUT_MS")
        && let Ok(ms) = ms.parse::<u64>()
    {
        d.set(&["stop"], "timeout", format_duration(ms));
        r.carried(f, n, "stop timeout");
    }
}

/// `ik_environment exec CHAIN ARGV`: the priorities the chain sets, and the command.
#[allow(clippy::many_single_char_names)] // (file, line, draft, report, index)
fn exec_line(rest: &str, f: &str, n: usize, d: &mut Draft, r: &mut Report) {
    let Some(ws) = split(rest) else {
        r.dropped(f, n, "command", "not the words initkit writes");
        return;
    };
    let text: Vec<String> = ws.iter().map(super::chain::text).collect();
    let mut i = 0;
    while let Some(w) = text.get(i) {
        match w.as_str() {
            "setsid" => i += 1,
            "nice" if text.get(i + 1).map(String::as_str) == Some("-n") => {
                if let Some(v) = text.get(i + 2).and_then(|v| v.parse::<i64>().ok()) {
                    d.set(&["run"], "nice", v);
                    r.carried(f, n, "nice");
                }
                i += 3;
            }
            "choom" => {
                if let Some(v) = text.get(i + 2).and_then(|v| v.parse::<i64>().ok()) {
                    d.set(&["run"], "oom_score_adjust", v);
                    r.carried(f, n, "choom");
                }
                i += 4;
            }
            "ionice" => {
                let class = match text.get(i + 2).map(String::as_str) {
                    Some("1") => "realtime",
                    Some("2") => "best-effort",
                    _ => "idle",
                };
                d.set(&["run"], "io_class", class);
                i += 3;
                if text.get(i).map(String::as_str) == Some("-n")
                    && let Some(p) = text.get(i + 1).and_then(|p| p.parse::<i64>().ok())
                {
                    d.set(&["run"], "io_priority", p);
                    i += 2;
                }
                r.carried(f, n, "ionice");
            }
            "setpriv" => {
                while text.get(i).is_some_and(|w| w != "--") {
                    i += 1;
                }
                i += 1;
            }
            "chpst" => i += 3,
            "s6-setuidgid" | "setuidgid" => i += 2,
            _ => break,
        }
    }
    match templates(&ws[i.min(ws.len())..]) {
        Some(argv) if !argv.is_empty() => {
            d.set(&["run"], "command", strings(&argv));
            r.carried(f, n, "command");
        }
        _ => r.dropped(f, n, "command", "not the words initkit writes"),
    }
}
