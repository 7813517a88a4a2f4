//! The job's keys, one arm each: what a recipe field says the same is
//! carried, what it says otherwise approximated, the rest dropped with why.

use super::Job;
use crate::{
    import::{
        draft::lit,
        plist::{Entry, Value, short},
    },
    recipe::{
        duration::format_duration,
        is_account_name,
        text::{Kind, check},
    },
};

/// Keys that say something only macOS has, each with why it is dropped.
const MACOS_ONLY: &[(&str, &str)] = &[
    ("MachServices", "Mach services exist on macOS only"),
    ("WatchPaths", "started when a path changes: a recipe has no path trigger"),
    ("QueueDirectories", "started while a directory is not empty: a recipe has no path trigger"),
    ("StartOnMount", "started at every mount: a recipe has no mount trigger"),
    ("LaunchOnlyOnce", "run once per boot and never again: a recipe's service can be started again"),
    ("EnableTransactions", "macOS's exit when idle (launchd transactions)"),
    ("EnablePressuredExit", "macOS's exit under memory pressure"),
    ("LimitLoadToHosts", "launchd's host lists"),
    ("LimitLoadFromHosts", "launchd's host lists"),
    ("LimitLoadToSessionType", "launchd's login sessions"),
    ("LimitLoadToHardware", "launchd's hardware conditions"),
    ("LimitLoadFromHardware", "launchd's hardware conditions"),
    ("SessionCreate", "a macOS security session"),
    ("LowPriorityBackgroundIO", "macOS's throttling of background I/O"),
    ("HopefullyExitsFirst", "launchd's shutdown order hints"),
    ("HopefullyExitsLast", "launchd's shutdown order hints"),
    ("TimeOut", "an idle time-out: a recipe's service runs until it is stopped"),
    ("StandardInPath", "a service's standard input is /dev/null"),
    ("RootDirectory", "a recipe has no chroot"),
    ("Debug", "launchd's own log level"),
    ("WaitForDebugger", "macOS's debugger hook"),
    ("EnableGlobbing", "arguments are passed as written, never globbed"),
    ("AssociatedBundleIdentifiers", "macOS app bundles"),
    ("BundleProgram", "macOS app bundles"),
    ("MaterializeDatalessFiles", "macOS's dataless files"),
    ("LegacyTimers", "macOS's timer coalescing"),
];

impl<'a> Job<'a> {
    // A table, one arm per key; (file, line, key) as one letter each keeps it readable.
    #[allow(clippy::many_single_char_names)]
    pub(super) fn key(&mut self, e: &'a Entry) {
        let (f, l, k) = (self.file, e.line, e.key.as_str());
        match k {
            "Label" => {}
            "Program" => match e.node.as_str() {
                Some(p) => self.program = Some((p.to_owned(), e.line)),
                None => self.problem(e.node.line, format!("Program is {}, not a path", e.node.value.kind())),
            },
            "ProgramArguments" => self.arguments(e),
            "UserName" | "GroupName" => self.account(e),
            "WorkingDirectory" => {
                if let Some(dir) = self.string(e) {
                    match check(Kind::Path, dir) {
                        Ok(()) if dir.starts_with('/') => {
                            self.d.set(&["run"], "working_directory", lit(dir));
                            self.r.carried(f, l, k);
                        }
                        Ok(()) => self.r.dropped(f, l, k, format!("`{}` is not an absolute path", short(dir))),
                        Err(why) => self.r.dropped(f, l, k, format!("the path {why}")),
                    }
                }
            }
            "EnvironmentVariables" => self.environment(e),
            "KeepAlive" => self.keep_alive = Some(e),
            "OnDemand" => self.on_demand = Some(e),
            "RunAtLoad" => {
                if let Some(b) = self.boolean(e) {
                    self.run_at_load = Some((b, l));
                }
            }
            "ThrottleInterval" => match self.integer(e).and_then(|n| u64::try_from(n).ok()?.checked_mul(1000)) {
                Some(ms) => {
                    self.d.set(&["restart"], "delay", format_duration(ms));
                    self.r.approximated(
                        f,
                        l,
                        k,
                        "the restart delay: launchd keeps starts this far apart, the recipe waits this long after each end",
                    );
                }
                None if e.node.as_int().is_some() => self.r.dropped(f, l, k, "not a number of seconds"),
                None => {}
            },
            "ExitTimeOut" => match self.integer(e) {
                Some(0) => self.r.dropped(
                    f,
                    l,
                    k,
                    "0 is no time-out at all to launchd; a recipe's stop timeout is finite (30s when not given)",
                ),
                Some(n) => match u64::try_from(n).ok().and_then(|n| n.checked_mul(1000)) {
                    Some(ms) => {
                        self.d.set(&["stop"], "timeout", format_duration(ms));
                        self.r.carried(f, l, k);
                    }
                    None => self.r.dropped(f, l, k, "not a number of seconds"),
                },
                None => {}
            },
            "Nice" => match self.integer(e) {
                Some(n) if (-20..=19).contains(&n) => {
                    self.d.set(&["run"], "nice", i64::try_from(n).unwrap_or(0));
                    self.r.carried(f, l, k);
                }
                Some(n) => self.r.dropped(f, l, k, format!("{n} is not a nice value from -20 to 19")),
                None => {}
            },
            "Umask" => self.umask(e),
            "SoftResourceLimits" => self.limits.push((false, e)),
            "HardResourceLimits" => self.limits.push((true, e)),
            "StartInterval" => match self.integer(e).and_then(|n| u64::try_from(n).ok()?.checked_mul(1000)) {
                Some(ms) if ms > 0 => {
                    self.d.set(&["schedule"], "every", format_duration(ms));
                    self.scheduled = true;
                    self.r.carried(f, l, k);
                }
                Some(_) => self.r.dropped(f, l, k, "0 seconds: never started"),
                None if e.node.as_int().is_some() => self.r.dropped(f, l, k, "not a number of seconds"),
                None => {}
            },
            "StartCalendarInterval" => {
                if let Some(calendar) = self.calendar(e) {
                    self.d.set(&["schedule"], "calendar", calendar);
                    self.scheduled = true;
                }
            }
            "Sockets" => self.sockets = Some(e),
            "inetdCompatibility" => self.inetd = Some(e),
            "StandardOutPath" | "StandardErrorPath" => self.log(e),
            "Disabled" => match self.boolean(e) {
                Some(true) => self.r.approximated(
                    f,
                    l,
                    k,
                    format!(
                        "launchd would not load it; `initkit install` enables it at boot: `initkit disable {}` keeps it off",
                        self.name
                    ),
                ),
                Some(false) => self.r.carried(f, l, k),
                None => {}
            },
            "ProcessType" => match self.string(e) {
                Some("Standard") => self.r.carried(f, l, k),
                Some(class @ ("Background" | "Adaptive" | "Interactive")) => self.r.approximated(
                    f,
                    l,
                    k,
                    format!(
                        "launchd's {class} class throttles or favours the job's CPU and I/O; the recipe runs it at normal priority (run.nice and run.io_class say otherwise)"
                    ),
                ),
                Some(other) => self.r.dropped(f, l, k, format!("`{}` is not a launchd process type", short(other))),
                None => {}
            },
            "AbandonProcessGroup" => match self.boolean(e) {
                Some(true) => {
                    self.d.set(&["stop"], "mode", "process");
                    self.r.approximated(
                        f,
                        l,
                        k,
                        "what the job started is left running when it ends or is stopped (`stop.mode = \"process\"`)",
                    );
                }
                Some(false) => self.r.carried(f, l, k),
                None => {}
            },
            "InitGroups" => match self.boolean(e) {
                Some(true) => self.r.carried(f, l, k),
                Some(false) => self.r.dropped(f, l, k, "initkit's targets always give the user its supplementary groups"),
                None => {}
            },
            "LowPriorityIO" => match self.boolean(e) {
                Some(true) => {
                    self.d.set(&["run"], "io_class", "idle");
                    self.r.approximated(f, l, k, "I/O in the idle class (`run.io_class = \"idle\"`)");
                }
                Some(false) => self.r.carried(f, l, k),
                None => {}
            },
            "ServiceDescription" => {
                if let Some(text) = self.string(e) {
                    match check(Kind::Line, text) {
                        Ok(()) => {
                            self.d.set(&[], "summary", text);
                            self.r.carried(f, l, k);
                        }
                        Err(why) => self.r.dropped(f, l, k, format!("a summary is one line: it {why}")),
                    }
                }
            }
            other => match MACOS_ONLY.iter().find(|(key, _)| *key == other) {
                Some((_, why)) => self.r.dropped(f, l, k, *why),
                None => self.r.dropped(f, l, k, "a launchd key initkit has no equivalent for"),
            },
        }
    }

    pub(super) fn arguments(&mut self, e: &Entry) {
        let Some(items) = e.node.as_array() else {
            return self
                .problem(e.node.line, format!("ProgramArguments is {}, not an array of strings", e.node.value.kind()));
        };
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(a) => self.arguments.push((a.to_owned(), item.line)),
                None => self.problem(
                    item.line,
                    format!("argument {} of ProgramArguments is {}, not a string", i + 1, item.value.kind()),
                ),
            }
        }
        self.r.carried(self.file, e.line, "ProgramArguments");
    }

    pub(super) fn account(&mut self, e: &Entry) {
        let field = if e.key == "UserName" { "user" } else { "group" };
        match e.node.as_str() {
            Some(v) if is_account_name(v) => {
                self.d.set(&["run"], field, v);
                self.r.carried(self.file, e.line, &e.key);
            }
            // Left out, the job would run as root: refused instead.
            Some(v) => self.problem(
                e.node.line,
                format!(
                    "`{}` is not a {field} name initkit takes (lowercase letters, digits, `_` and `-`, at most 32)",
                    short(v)
                ),
            ),
            None => self.problem(e.node.line, format!("{} is {}, not a name", e.key, e.node.value.kind())),
        }
    }

    pub(super) fn environment(&mut self, e: &Entry) {
        let Some(vars) = e.node.as_dict() else { return self.wrong(e, "a dictionary of names and strings") };
        let mut kept = 0;
        for v in vars {
            let setting = format!("EnvironmentVariables.{}", v.key);
            let name_ok = v.key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && v.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            match v.node.as_str() {
                _ if !name_ok => {
                    self.r.dropped(
                        self.file,
                        v.line,
                        &setting,
                        "not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
                    );
                }
                None => {
                    self.r.dropped(self.file, v.line, &setting, format!("{}, not a string", v.node.value.kind()));
                }
                Some(value) => match check(Kind::Line, value) {
                    Ok(()) => {
                        self.d.set(&["run", "environment"], &v.key, lit(value));
                        kept += 1;
                    }
                    Err(why) => self.r.dropped(self.file, v.line, &setting, format!("an environment value {why}")),
                },
            }
        }
        // What is not kept has its own line; an empty table loses nothing.
        if kept > 0 || vars.is_empty() {
            self.r.carried(self.file, e.line, &e.key);
        }
    }

    pub(super) fn umask(&mut self, e: &Entry) {
        let (f, l) = (self.file, e.line);
        let mask = match &e.node.value {
            Value::Integer(n) => u32::try_from(*n).ok(),
            Value::String(s) => u32::from_str_radix(s.trim_start_matches("0o"), 8).ok(),
            _ => return self.wrong(e, "an integer or an octal string"),
        };
        match mask.filter(|m| *m <= 0o777) {
            Some(m) => {
                self.d.set(&["run"], "umask", format!("{m:04o}"));
                self.r.carried(f, l, &e.key);
            }
            None => self.r.dropped(f, l, &e.key, "not a umask from 0 to 0777"),
        }
    }

    pub(super) fn log(&mut self, e: &'a Entry) {
        let own = format!("/initkit/{}/{}.log", self.name, self.instance.as_deref().unwrap_or(&self.name));
        let Some(path) = self.string(e) else { return };
        if path.starts_with('/') && path.ends_with(&own) {
            return self.r.carried(self.file, e.line, &e.key);
        }
        self.r.approximated(
            self.file,
            e.line,
            &e.key,
            format!(
                "initkit keeps the output itself (the journal under systemd, the supervisor's log elsewhere, /var/log{own} under launchd); `{}` is not written",
                short(path)
            ),
        );
    }
}
