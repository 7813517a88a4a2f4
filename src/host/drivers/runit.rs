//! runit: `sv` acts (waiting on `./check` for readiness, `force-stop` for the
//! KILL after the budget) and reports; a link in the scan directory enables.
//! A user's services (`--user`) are driven the same way, as the user, in the
//! user's `~/service`, which a runsvdir of the user's own supervises.

use std::{
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use crate::{
    host::config_test::reload_command,
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        error::Result,
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, native_with_progress, number_after, recorded_exit, stdout_of},
        scope::{Place, calling_user},
    },
    recipe::{Recipe, Reload, signal::Signal},
    render::{
        Flavor, Layout, Target, facts,
        runit::{LOGGER, dirs},
        service_dir::current_log,
    },
};

/// The system's runit, or (`user`) the calling user's own runsvdir.
pub struct Runit {
    user: bool,
}

pub static SYSTEM: Runit = Runit { user: false };
pub static USER: Runit = Runit { user: true };

/// How long a runsvdir gets to notice a service linked into, or removed
/// from, its scan directory (it looks every 5 s at most), and a runsv to exit.
const RUNSV_WAIT: Duration = Duration::from_secs(10);

impl Runit {
    /// Where its services are on the running host: the system's, or the
    /// calling user's (`None` when the user's directories are unknown).
    fn layout(&self) -> Option<Layout> {
        if self.user {
            calling_user().ok().map(|u| Layout { root: String::new(), user: Some(u) })
        } else {
            Some(Layout::default())
        }
    }
}

/// The enabled service directory of an instance, in the scan directory.
pub fn service_dir(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", dirs(layout).1, facts::service_name(name, instance))
}

/// Whether runsv supervises the service directory `dir` (`sv` can reach it).
fn supervised(dir: &str) -> bool {
    parse_sv(&stdout_of("sv", &["status", dir])).0 != State::Unknown
}

/// Polls `done` every 100 ms until it holds or `wait` has passed.
fn wait_until(wait: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The scan directory a runsvdir command line (`/proc/PID/cmdline`: its
/// arguments, NUL-separated) supervises: `runsvdir [-P] DIR [LOG]`.
pub fn runsvdir_dir(cmdline: &[u8]) -> Option<String> {
    let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
    let program = args.next()?;
    if program.rsplit('/').next() != Some("runsvdir") {
        return None;
    }
    args.find(|a| a != "-P" && !a.is_empty()).map(std::borrow::Cow::into_owned)
}

/// Whether a runsvdir of `uid` supervises `scan`, from /proc: the process's
/// owner, and the directory its command line names (a relative one is taken
/// from its working directory).
pub fn user_runsvdir(uid: u32, scan: &str) -> bool {
    let want = fs::canonicalize(scan).unwrap_or_else(|_| PathBuf::from(scan));
    let Ok(procs) = fs::read_dir("/proc") else { return false };
    procs.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).any(|e| {
        let proc = e.path();
        if fs::metadata(&proc).map(|m| m.uid()).ok() != Some(uid) {
            return false;
        }
        let Some(dir) = fs::read(proc.join("cmdline")).ok().and_then(|c| runsvdir_dir(&c)) else { return false };
        let dir = match Path::new(&dir) {
            d if d.is_absolute() => d.to_owned(),
            d => match fs::read_link(proc.join("cwd")) {
                Ok(cwd) => cwd.join(d),
                Err(_) => return false,
            },
        };
        fs::canonicalize(&dir).unwrap_or(dir) == want
    })
}

/// What `sv status DIR` says: state, PID and seconds up.
pub fn parse_sv(text: &str) -> (State, Option<u64>, Option<u64>) {
    // The service's own part; a log service follows after `; `.
    let main = text.split("; ").next().unwrap_or("");
    let state = if main.starts_with("run:") {
        State::Running
    } else if main.starts_with("down:") && main.contains("want up") {
        // runsv restarts it and it keeps failing.
        State::Failed
    } else if main.starts_with("down:") || main.starts_with("finish:") {
        State::Stopped
    } else {
        State::Unknown
    };
    let pid = number_after(main, "(pid ");
    let uptime = main.split(')').nth(1).and_then(|t| t.trim_start().split('s').next()?.parse().ok());
    (state, pid, uptime)
}

/// The `sv` command that sends a signal, when sv can send it (not WINCH).
pub fn sv_signal(signal: Signal) -> Option<&'static str> {
    match signal {
        Signal::Hup => Some("hup"),
        Signal::Usr1 => Some("1"),
        Signal::Usr2 => Some("2"),
        Signal::Int => Some("interrupt"),
        Signal::Quit => Some("quit"),
        Signal::Term => Some("term"),
        Signal::Kill => Some("kill"),
        Signal::Winch => None,
    }
}

/// Reloads one instance the recipe's way: its signal through `sv` (or
/// `kill` to the PID runsv reports, for a signal sv cannot send), or its
/// command as the service's user.
fn reload(ctx: &Ctx<'_>, place: &Place, dir: String, instance: Option<&str>, wait: u64) -> i32 {
    match &ctx.recipe.reload {
        Some(Reload::Signal(signal)) => match sv_signal(*signal) {
            Some(cmd) => native("sv", &["-w".into(), wait.to_string(), cmd.into(), dir]),
            None => match parse_sv(&stdout_of("sv", &["status", &dir])).1 {
                Some(pid) => native("kill", &["-s".into(), signal.name().into(), pid.to_string()]),
                None => 7,
            },
        },
        Some(Reload::Command(_)) => reload_command(ctx.recipe, place, Target::Runit, ctx.flavor, instance),
        None => 3,
    }
}

impl Driver for Runit {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let Some(layout) = self.layout() else { return 1 };
        let budget = facts::stop_budget_ms(ctx.recipe) / 1000 + 5;
        let ready = ctx.recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms) / 1000 + 5;
        let mut code = 0;
        for i in instances {
            let dir = service_dir(&layout, ctx.name, i.as_deref());
            let (wait, cmd) = match action {
                Action::Start => (ready, "start"),
                // force-stop: down, and KILL once the wait runs out.
                Action::Stop => (budget, "force-stop"),
                Action::Restart => (budget + ready, "restart"),
                Action::Reload => {
                    let place = Place { root: PathBuf::from("/"), user: layout.user.clone() };
                    let c = reload(ctx, &place, dir, i.as_deref(), budget);
                    if code == 0 {
                        code = c;
                    }
                    continue;
                }
            };
            let what = ctx.waiting_on(action, i.as_deref());
            let c = native_with_progress("sv", &["-w".into(), wait.to_string(), cmd.into(), dir], &what);
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let layout = self.layout().unwrap_or_default();
        let dir = service_dir(&layout, name, instance);
        let (state, pid, uptime) = match self.layout() {
            Some(_) => parse_sv(&stdout_of("sv", &["status", &dir])),
            None => (State::Unknown, None, None),
        };
        Status::new(instance, dir, state, pid.and_then(|p| u32::try_from(p).ok()), uptime)
            .with_last_exit(recorded_exit(&layout, name, instance))
    }

    fn enable_links(&self, recipe: &Recipe, layout: &Layout, _: Flavor, instance: Option<&str>) -> Vec<LinkRecord> {
        let (defs, scan) = dirs(&Layout { root: String::new(), ..layout.clone() });
        scan_link((&defs, &scan), &recipe.name, instance)
    }

    /// A user's runsvdir supervises (and starts) a service linked into its
    /// scan directory once it has looked there: waited for, so that a
    /// `--start` or `initkit start` right after finds its runsv.
    fn after_change(&self, m: &mut Manifest, enable: bool) -> Result<bool> {
        if self.user && enable {
            for link in &m.links {
                if Path::new(&link.path).is_symlink() {
                    wait_until(RUNSV_WAIT, || supervised(&link.path));
                }
            }
        }
        Ok(false)
    }

    /// A user's service, stopped already: out of the scan directory (else
    /// runsvdir starts its runsv again), its runsv told to exit and waited
    /// for, and the `supervise` directories runsv made removed, so that an
    /// uninstall leaves nothing. The system's runsv are left to runsvdir.
    fn disable_natively(&self, m: &mut Manifest, instance: Option<&str>) -> bool {
        let Some(layout) = self.layout().filter(|_| self.user) else { return false };
        let instances: Vec<Option<&str>> = match instance {
            Some(i) => vec![Some(i)],
            None if m.instances.is_empty() => vec![None],
            None => m.instances.iter().map(|i| Some(i.as_str())).collect(),
        };
        let (defs, _) = dirs(&layout);
        for i in instances {
            let service = facts::service_name(&m.recipe, i);
            let (def, link) = (format!("{defs}/{service}"), service_dir(&layout, &m.recipe, i));
            if fs::read_link(&link).is_ok_and(|t| t == Path::new(&def)) {
                let _ = fs::remove_file(&link);
            }
            if supervised(&def) {
                stdout_of("sv", &["exit", &def]);
                wait_until(RUNSV_WAIT, || !supervised(&def));
            }
            for made in [format!("{def}/supervise"), format!("{def}/log/supervise")] {
                if fs::symlink_metadata(&made).is_ok_and(|m| m.is_dir()) {
                    let _ = fs::remove_dir_all(&made);
                }
            }
        }
        false
    }

    /// svlogd's `current` in the instance's log directory.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File {
            path: current_log(&self.layout().unwrap_or_default(), &m.recipe, instance),
            stamp: LOGGER.stamp,
        }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["runit", "runit-init"],
            process: Some("runsvdir"),
            image_init: &["runit"],
            installed: &[],
            fallback: false,
        }
    }
}

/// A service directory is enabled by a link in the scan directory.
pub fn scan_link(dirs: (&str, &str), name: &str, instance: Option<&str>) -> Vec<LinkRecord> {
    let service = facts::service_name(name, instance);
    vec![LinkRecord {
        path: format!("{}/{service}", dirs.1),
        target: format!("{}/{service}", dirs.0),
        instance: instance.map(str::to_owned),
        backup: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn reads_the_scan_directory_of_a_runsvdir_command_line() {
        assert_eq!(runsvdir_dir(b"runsvdir\0-P\0/home/u/service\0"), Some("/home/u/service".to_owned()));
        assert_eq!(runsvdir_dir(b"/usr/bin/runsvdir\0service\0log: ......\0"), Some("service".to_owned()));
        assert_eq!(runsvdir_dir(b"runsvdir\0-P\0"), None);
        assert_eq!(runsvdir_dir(b"runsv\0/home/u/service\0"), None, "a runsv is not a runsvdir");
        assert_eq!(runsvdir_dir(b"sh\0-c\0runsvdir -P /home/u/service\0"), None, "nor a shell naming one");
    }

    /// A process named runsvdir (a copy of sleep, whose argument is then
    /// the scan directory too, relative to its working directory) is found
    /// in /proc for its owner and that directory only.
    #[test]
    fn finds_a_runsvdir_of_the_uid_over_the_directory_in_proc() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("1000");
        fs::create_dir(&scan).unwrap();
        fs::copy("/bin/sleep", dir.path().join("runsvdir")).unwrap();
        let mut child = std::process::Command::new("./runsvdir").arg("1000").current_dir(dir.path()).spawn().unwrap();
        let uid = fs::metadata("/proc/self").unwrap().uid();
        let scan = scan.to_string_lossy();
        let found = wait_until(Duration::from_secs(5), || user_runsvdir(uid, &scan));
        let other_uid = user_runsvdir(uid + 1, &scan);
        let other_dir = user_runsvdir(uid, &dir.path().to_string_lossy());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found, "the runsvdir over {scan} is found");
        assert!(!other_uid && !other_dir, "not for another uid or directory");
        assert!(!user_runsvdir(uid, &scan), "nor once it has ended");
    }

    #[test]
    fn parses_recorded_outputs() {
        assert_eq!(parse_sv(&fixture("runit-sv-status-running.txt")), (State::Running, Some(26), Some(9)));
        assert_eq!(parse_sv(&fixture("runit-sv-status-running-with-log.txt")), (State::Running, Some(25), Some(9)));
        assert_eq!(parse_sv(&fixture("runit-sv-status-stopped.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-normally-down.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-crash-loop.txt")).0, State::Failed);
        assert_eq!(parse_sv(&fixture("runit-sv-status-finish.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-no-such-service.txt")).0, State::Unknown);
        assert_eq!(parse_sv(&fixture("runit-sv-status-not-supervised.txt")).0, State::Unknown);
    }
}
