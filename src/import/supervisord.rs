//! supervisord `[program:x]` sections read into recipes, one per program.

use super::{
    Source,
    draft::{Draft, lit},
    ini::{self, Problem},
    report::Report,
    systemd::span_ms,
    words::{self, Dialect},
};
use crate::recipe::duration::format_duration;

#[allow(clippy::many_single_char_names)] // (file, line, key, value) in every arm
pub fn import(src: &Source) -> Result<Vec<(String, Draft, Report)>, Vec<Problem>> {
    let file = src.file.as_str();
    let (entries, problems) = ini::parse(file, &src.text, &['#', ';']);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut programs: Vec<String> = Vec::new();
    for e in &entries {
        if let Some(p) = e.section.strip_prefix("program:")
            && !programs.iter().any(|x| x == p)
        {
            programs.push(p.to_owned());
        }
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for program in programs {
        let name = super::recipe_name(&program);
        let mut d = Draft::new(&name, &format!("{program} (from supervisord)"));
        let mut r = Report::default();
        d.set_list::<&str>(&[], "needs", &[]);
        d.set(&["restart"], "policy", "on-failure");
        let section = format!("program:{program}");
        for e in entries.iter().filter(|e| e.section == section) {
            let (l, k, v) = (e.line, e.key.as_str(), e.value.as_str());
            match k {
                "command" => match words::split(v, Dialect::Shell) {
                    Ok(ws)
                        if ws.first().and_then(words::plain).is_some_and(|w| w.starts_with('/'))
                            && words::vars(&ws).is_empty() =>
                    {
                        let argv: Vec<String> = ws.iter().map(words::template).collect();
                        d.set_list(&["run"], "command", &argv);
                        r.carried(file, l, k);
                    }
                    _ => {
                        d.set_list(
                            &["run"],
                            "command",
                            &["/bin/sh".to_owned(), "-c".to_owned(), format!("exec {}", lit(v))],
                        );
                        r.approximated(file, l, k, "run by /bin/sh -c: the command is not a plain absolute one");
                    }
                },
                "directory" => {
                    d.set(&["run"], "working_directory", lit(v));
                    r.carried(file, l, k);
                }
                "user" => {
                    d.set(&["run"], "user", v);
                    r.carried(file, l, k);
                }
                "environment" => {
                    for pair in v.split(',') {
                        if let Some((ek, ev)) = pair.split_once('=') {
                            let ek = ek.trim();
                            if !ek.is_empty() && ek.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                                d.set(&["run", "environment"], ek, lit(ev.trim().trim_matches('"').trim_matches('\'')));
                            }
                        }
                    }
                    r.carried(file, l, k);
                }
                "autorestart" => {
                    let policy = match v.to_ascii_lowercase().as_str() {
                        "true" => "always",
                        "false" => "no",
                        _ => "on-failure",
                    };
                    d.set(&["restart"], "policy", policy);
                    r.carried(file, l, k);
                }
                "stopsignal" => {
                    d.set(&["stop"], "signal", v.trim_start_matches("SIG"));
                    r.carried(file, l, k);
                }
                "stopwaitsecs" => match span_ms(v) {
                    Some(ms) => {
                        d.set(&["stop"], "timeout", format_duration(ms));
                        r.carried(file, l, k);
                    }
                    None => r.dropped(file, l, k, format!("`{v}` is not a number of seconds")),
                },
                "exitcodes" => {
                    let codes: Vec<i64> =
                        v.split(',').filter_map(|c| c.trim().parse().ok()).filter(|c| *c != 0).collect();
                    d.set_numbers(&["run"], "success_codes", &codes);
                    r.carried(file, l, k);
                }
                "umask" => {
                    d.set(&["run"], "umask", v);
                    r.carried(file, l, k);
                }
                "autostart" | "redirect_stderr" | "stopasgroup" | "killasgroup" | "process_name" => {
                    r.carried(file, l, k);
                }
                "startsecs" | "startretries" => {
                    r.approximated(file, l, k, "initkit's readiness and restart limits apply");
                }
                "stdout_logfile"
                | "stderr_logfile"
                | "stdout_logfile_maxbytes"
                | "stderr_logfile_maxbytes"
                | "stdout_logfile_backups"
                | "stderr_logfile_backups" => {
                    r.approximated(file, l, k, "output goes to the init system's log");
                }
                "priority" => r.approximated(file, l, k, "start order comes from [depends], not a number"),
                "numprocs" => r.approximated(file, l, k, "one recipe; run more with instances"),
                _ => r.dropped(file, l, k, "initkit has no equivalent"),
            }
        }
        if !d.has(&["run"], "command") {
            errors.push(Problem { file: file.into(), line: 1, message: format!("[program:{program}] has no command") });
            continue;
        }
        if !d.has(&["run"], "user") {
            d.set(&["run"], "user", "root");
        }
        out.push((name, d, r));
    }
    if out.is_empty() {
        if errors.is_empty() {
            errors.push(Problem { file: file.into(), line: 1, message: "no [program:x] sections".into() });
        }
        return Err(errors);
    }
    Ok(out)
}
