//! Upstart jobs (`/etc/init/NAME.conf`) read into a recipe: each stanza the
//! parser in `upstart.rs` reads, carried, approximated or dropped.

use super::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    upstart::{Step, parse},
    words::{self, Dialect},
};

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    let file = src.file.as_str();
    let (job, unknown) = parse(&src.text);
    let mut r = Report::default();
    let mut problems = Vec::new();
    for u in &unknown {
        let word = u.text.split_whitespace().next().unwrap_or("");
        if word == "expect" {
            problems.push(Problem {
                file: file.into(),
                line: u.line,
                message: format!(
                    "`{}`: Upstart follows the fork by ptrace; initkit needs the daemon in the foreground: run it so and drop the stanza",
                    u.text
                ),
            });
        } else {
            r.dropped(file, u.line, &format!("`{word}`"), "a stanza initkit has no equivalent for");
        }
    }
    let Some(main) = &job.main else {
        problems.push(Problem { file: file.into(), line: 1, message: "no `exec` or `script`: nothing to run".into() });
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let name = super::recipe_name(src.stem());
    let mut d = Draft::new(&name, job.description.as_deref().unwrap_or(&name));
    d.set_list::<&str>(&[], "needs", &[]);
    if job.description.is_some() {
        r.carried(file, job.line("description"), "description");
    }
    let env: Vec<(String, String)> = job.env.clone();
    for (k, v) in &env {
        d.set(&["run", "environment"], k, lit(v));
    }
    if !env.is_empty() {
        r.carried(file, job.line("env"), "env");
    }
    // The instance variable (`instance $PORT`) is the recipe's instance.
    let instance_var = job.instance.as_deref().and_then(|i| i.strip_prefix('$')).map(|v| v.trim_matches(['{', '}']));
    if let Some(var) = instance_var {
        d.set(&["instances"], "default", "main");
        r.approximated(
            file,
            job.line("instance"),
            "instance",
            format!("`${var}` is the instance name: `initkit install NAME@VALUE`"),
        );
    }
    let mut vars: Vec<String> = Vec::new();
    let command = |step: &Step, vars: &mut Vec<String>| -> (Vec<String>, bool) {
        match step {
            Step::Exec(line) => match words::split(line, Dialect::Shell) {
                Ok(ws) if ws.first().and_then(words::plain).is_some_and(|w| w.starts_with('/')) => {
                    let argv = ws.iter().map(|w| words::template_with_instance(w, instance_var)).collect();
                    for v in words::vars(&ws) {
                        if Some(v.as_str()) != instance_var && !vars.contains(&v) {
                            vars.push(v);
                        }
                    }
                    (argv, true)
                }
                // A relative program or shell syntax: the shell Upstart uses runs it.
                _ => (vec!["/bin/sh".into(), "-c".into(), lit(&format!("exec {line}"))], false),
            },
            Step::Script(body) => (vec!["/bin/sh".into(), "-e".into(), "-c".into(), lit(body)], false),
        }
    };
    let (argv, direct) = command(main, &mut vars);
    d.set_list(&["run"], "command", &argv);
    let main_line = job.line(if matches!(main, Step::Exec(_)) { "exec" } else { "script" });
    if direct {
        r.carried(file, main_line, "exec");
    } else {
        r.approximated(
            file,
            main_line,
            "exec",
            "run by /bin/sh as Upstart runs it; the shell's variables are not settings",
        );
    }
    for v in &vars {
        let default = env.iter().find(|(k, _)| k == v).map(|(_, val)| val.clone());
        if default.is_none() {
            r.dropped(
                file,
                main_line,
                &format!("${v}"),
                format!("not set by an `env` stanza: a setting with no value; give it with `--set {v}=…`"),
            );
        }
        d.set(&["vars"], v, lit(&default.unwrap_or_default()));
    }
    let user = job.setuid.clone().unwrap_or_else(|| "root".into());
    d.set(&["run"], "user", user.as_str());
    if job.setuid.is_some() {
        r.carried(file, job.line("setuid"), "setuid");
    }
    if let Some(g) = &job.setgid {
        d.set(&["run"], "group", g.as_str());
        r.carried(file, job.line("setgid"), "setgid");
    }
    if let Some(dir) = &job.chdir {
        d.set(&["run"], "working_directory", lit(dir));
        r.carried(file, job.line("chdir"), "chdir");
    }
    if let Some(u) = &job.umask {
        d.set(&["run"], "umask", format!("{u:0>4}"));
        r.carried(file, job.line("umask"), "umask");
    }
    if let Some(n) = job.nice.as_deref().and_then(|n| n.parse::<i64>().ok()) {
        d.set(&["run"], "nice", n);
        r.carried(file, job.line("nice"), "nice");
    }
    if let Some(o) = job.oom_score.as_deref().and_then(|o| o.parse::<i64>().ok()) {
        d.set(&["run"], "oom_score_adjust", o);
        r.carried(file, job.line("oom"), "oom score");
    }
    for (res, soft, _) in &job.limits {
        let key = match res.as_str() {
            "nofile" | "nproc" | "core" | "memlock" => res.as_str(),
            _ => {
                r.dropped(
                    file,
                    job.line("limit"),
                    &format!("limit {res}"),
                    "initkit sets nofile, nproc, core and memlock",
                );
                continue;
            }
        };
        match soft.parse::<i64>() {
            Ok(n) => {
                d.set(&["run", "limits"], key, n);
                r.carried(file, job.line("limit"), &format!("limit {res}"));
            }
            Err(_) => r.dropped(file, job.line("limit"), &format!("limit {res}"), format!("`{soft}` is not a number")),
        }
    }
    if job.task {
        d.set(&["run"], "type", "oneshot");
        r.carried(file, job.line("task"), "task");
    }
    // Upstart respawns a service after any end but `stop`; a task after a failure.
    let policy = match (job.respawn, job.task) {
        (false, _) => "no",
        (true, false) => "always",
        (true, true) => "on-failure",
    };
    d.set(&["restart"], "policy", policy);
    if job.respawn {
        r.carried(file, job.line("respawn"), "respawn");
    }
    if let Some((count, secs)) = job.respawn_limit {
        d.set(&["restart"], "burst", i64::from(count));
        d.set(&["restart"], "interval", format!("{secs}s"));
        r.carried(file, job.line("respawn limit"), "respawn limit");
    }
    let codes: Vec<i64> =
        job.normal_exit.iter().filter_map(|c| c.parse::<i64>().ok()).filter(|c| (1..=255).contains(c)).collect();
    if !job.normal_exit.is_empty() {
        d.set_numbers(&["run"], "success_codes", &codes);
        if codes.len() == job.normal_exit.iter().filter(|c| *c != "0").count() {
            r.carried(file, job.line("normal"), "normal exit");
        } else {
            r.approximated(
                file,
                job.line("normal"),
                "normal exit",
                "the exit codes only; a signal is not a clean end in a recipe",
            );
        }
    }
    for (sig, table, stanza, at) in [
        (&job.kill_signal, "stop", "kill signal", "kill signal"),
        (&job.reload_signal, "reload", "reload signal", "reload"),
    ] {
        if let Some(sig) = sig {
            let sig = sig.trim_start_matches("SIG");
            if crate::recipe::signal::Signal::parse(sig).is_ok() {
                d.set(&[table], "signal", sig);
                r.carried(file, job.line(at), stanza);
            } else {
                r.dropped(file, job.line(at), stanza, format!("`{sig}` is not a signal initkit sends"));
            }
        }
    }
    if let Some(t) = job.kill_timeout {
        d.set(&["stop"], "timeout", format!("{t}s"));
        r.carried(file, job.line("kill timeout"), "kill timeout");
    }
    for (step, path, list, stanza) in [
        (&job.pre_start, "start", "before", "pre-start"),
        (&job.post_start, "start", "after", "post-start"),
        (&job.pre_stop, "stop", "before", "pre-stop"),
        (&job.post_stop, "stop", "after", "post-stop"),
    ] {
        let Some(step) = step else { continue };
        let (argv, _) = command(step, &mut Vec::new());
        let timeout = if stanza == "pre-stop" { "30s" } else { "90s" };
        d.push_step(path, list, format!("{stanza} from {}", super::base_name(file)), &argv, timeout, None);
        r.approximated(
            file,
            job.line(stanza),
            stanza,
            "run by /bin/sh within 90s (30s before a stop), as the service's user",
        );
    }
    if let Some(on) = &job.start_on {
        if on.contains("net-device-up") || on.contains("network") {
            d.push(&[], "needs", "network");
        }
        if on.contains("filesystem") || on.contains("remote-filesystems") {
            d.push(&[], "needs", "remote-fs");
        }
        r.approximated(
            file,
            job.line("start"),
            "start on",
            "started at boot (multi-user), after the facilities it names",
        );
    }
    if job.stop_on.is_some() {
        r.approximated(file, job.line("stop"), "stop on", "stopped at shutdown");
    }
    if job.manual {
        r.approximated(
            file,
            job.line("manual"),
            "manual",
            "installed but not enabled: `initkit enable` says otherwise",
        );
    }
    if let Some(c) = &job.console {
        r.approximated(
            file,
            job.line("console"),
            "console",
            format!("`console {c}`: initkit keeps the console output in its log"),
        );
    }
    Ok((name, d, r))
}
