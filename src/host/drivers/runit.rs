//! runit: `sv` acts (waiting on `./check` for readiness, `force-stop` for the
//! KILL after the budget) and reports; every installed instance is linked
//! into the scan directory, and a `down` file keeps one that is not enabled
//! from starting with runsvdir. A user's services (`--user`) are driven the
//! same way, as the user, in the user's `~/service`, which a runsvdir of the
//! user's own supervises. The scan-directory facts runit, s6 and daemontools
//! share are here too.

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
        logs::LogSource,
        manifest::{LinkRecord, Manifest, under},
        run::{native, native_with_progress, number_after, recorded_exit, stdout_of},
        scope::{Place, running_layout},
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

impl Runit {
    /// Where its services are on the running host: the system's, or the
    /// calling user's (`None` when the user's directories are unknown).
    fn layout(&self) -> Option<Layout> {
        running_layout(self.user)
    }
}

/// The enabled service directory of an instance, in the scan directory.
pub fn service_dir(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", dirs(layout).1, facts::service_name(name, instance))
}

/// The scan directory a supervisor's command line (`/proc/PID/cmdline`: its
/// arguments, NUL-separated) watches, when `program` is runsvdir
/// (`runsvdir [-P] DIR [LOG]`) or s6-svscan (`s6-svscan [-t MS]... [DIR]`,
/// its working directory without one: `.`).
pub fn scanner_dir(cmdline: &[u8], program: &str) -> Option<String> {
    let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
    let name = args.next()?;
    if name.rsplit('/').next() != Some(program) {
        return None;
    }
    let args: Vec<String> = args.filter(|a| !a.is_empty()).map(std::borrow::Cow::into_owned).collect();
    match program {
        "s6-svscan" => {
            // Each option takes a value, attached (`-t5000`) or next.
            let mut rest = args.iter();
            while let Some(a) = rest.next() {
                match a.strip_prefix('-') {
                    Some(opt) if opt.len() == 1 => {
                        rest.next();
                    }
                    Some(_) => {}
                    None => return Some(a.clone()),
                }
            }
            Some(".".to_owned())
        }
        _ => args.into_iter().find(|a| a != "-P"),
    }
}

/// Whether a supervisor (`program`: runsvdir, s6-svscan) of `uid` watches
/// `scan`, from /proc: the process's owner, and the directory its command
/// line names (a relative one is taken from its working directory).
pub fn user_scanner(uid: u32, scan: &str, program: &str) -> bool {
    let want = fs::canonicalize(scan).unwrap_or_else(|_| PathBuf::from(scan));
    let Ok(procs) = fs::read_dir("/proc") else { return false };
    procs.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).any(|e| {
        let proc = e.path();
        if fs::metadata(&proc).map(|m| m.uid()).ok() != Some(uid) {
            return false;
        }
        let Some(dir) = fs::read(proc.join("cmdline")).ok().and_then(|c| scanner_dir(&c, program)) else {
            return false;
        };
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
            wait_supervised(&dir, "supervise/ok");
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

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        Vec::new()
    }

    /// The system's `/etc/sv` and `/etc/service`, or the user's own.
    fn scan_dirs(&self) -> Option<(String, String)> {
        self.layout().map(|l| dirs(&l))
    }

    /// `sv exit`: runsv ends once the service is down, then its `supervise`
    /// directories go.
    fn release(&self, name: &str, instance: Option<&str>) {
        let Some((defs, _)) = self.scan_dirs() else { return };
        let dir = format!("{defs}/{}", facts::service_name(name, instance));
        release_supervise(&dir, &SUPERVISE, || {
            native("sv", &["exit".to_owned(), dir.clone()]);
        });
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

/// The link in the scan directory that has the supervisor run a service directory.
pub fn scan_link(dirs: (&str, &str), name: &str, instance: Option<&str>) -> Vec<LinkRecord> {
    let service = facts::service_name(name, instance);
    vec![LinkRecord {
        path: format!("{}/{service}", dirs.1),
        target: format!("{}/{service}", dirs.0),
        instance: instance.map(str::to_owned),
        backup: None,
    }]
}

/// The file that keeps a linked service directory down when its supervisor
/// comes up (runit, s6 and daemontools all read `down`).
pub fn down_file(dirs: (&str, &str), name: &str, instance: Option<&str>) -> String {
    format!("{}/{}/down", dirs.0, facts::service_name(name, instance))
}

/// Whether an instance starts with its supervisor (at boot): its service
/// directory is linked into the scan directory and holds no `down` file.
pub fn starts_with_supervisor(root: &Path, m: &Manifest, dirs: (&str, &str), instance: Option<&str>) -> bool {
    let linked = scan_link(dirs, &m.recipe, instance).iter().all(|l| m.links.iter().any(|r| r.path == l.path));
    linked && !under(root, &down_file(dirs, &m.recipe, instance)).exists()
}

/// Whether a supervise process (runsv, daemontools' supervise) runs for a
/// service directory: it holds `supervise/ok` open for reading, so that a
/// non-blocking open for writing succeeds (what `sv` and `svok` check).
pub fn supervised(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(dir.join("supervise/ok")).is_ok()
}

/// How a supervisor keeps its state in a service directory.
pub struct Supervise {
    /// Whether its supervise process runs for a directory.
    pub running: fn(&Path) -> bool,
    /// The directories it makes there (its state, never a file initkit or an operator wrote).
    pub state: &'static [&'static str],
}

/// runsv's and daemontools' supervise.
pub const SUPERVISE: Supervise = Supervise { running: supervised, state: &["supervise"] };

/// Asks the supervise processes of `dir` (and of its `log`) to exit with
/// `ask`, waits for them (the service is already stopped), then removes the
/// state directories they made.
pub fn release_supervise(dir: &str, how: &Supervise, ask: impl Fn()) {
    let dir = Path::new(dir);
    let log = dir.join("log");
    let running = || (how.running)(dir) || (how.running)(&log);
    if running() {
        ask();
        let since = Instant::now();
        while running() && since.elapsed() < PICKUP * 2 {
            thread::sleep(Duration::from_millis(25));
        }
    }
    for d in [dir, log.as_path()] {
        if !(how.running)(d) {
            for state in how.state {
                let _ = std::fs::remove_dir_all(d.join(state));
            }
        }
    }
}

/// How long a supervisor may take to notice a new link: runsvdir and svscan
/// look at their scan directory every five seconds.
const PICKUP: Duration = Duration::from_secs(7);

/// Waits until the supervisor runs for a service directory just linked:
/// `probe` (a file its supervise process makes, relative to `dir`) exists.
/// After the wait, the native tool says what is wrong.
pub fn wait_supervised(dir: &str, probe: &str) {
    let file = Path::new(dir).join(probe);
    let since = Instant::now();
    while !file.exists() && Path::new(dir).exists() && since.elapsed() < PICKUP {
        thread::sleep(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn reads_the_scan_directory_of_a_runsvdir_command_line() {
        let dir = |c: &[u8]| scanner_dir(c, "runsvdir");
        assert_eq!(dir(b"runsvdir\0-P\0/home/u/service\0"), Some("/home/u/service".to_owned()));
        assert_eq!(dir(b"/usr/bin/runsvdir\0service\0log: ......\0"), Some("service".to_owned()));
        assert_eq!(dir(b"runsvdir\0-P\0"), None);
        assert_eq!(dir(b"runsv\0/home/u/service\0"), None, "a runsv is not a runsvdir");
        assert_eq!(dir(b"sh\0-c\0runsvdir -P /home/u/service\0"), None, "nor a shell naming one");
        assert_eq!(dir(b"s6-svscan\0/home/u/service\0"), None, "nor an s6-svscan");
    }

    #[test]
    fn reads_the_scan_directory_of_an_s6_svscan_command_line() {
        let dir = |c: &[u8]| scanner_dir(c, "s6-svscan");
        assert_eq!(dir(b"/usr/bin/s6-svscan\0/home/u/.config/s6/service\0"), Some("/home/u/.config/s6/service".into()));
        assert_eq!(
            dir(b"s6-svscan\0-t\x005000\0-d3\0svc\0"),
            Some("svc".to_owned()),
            "options and their values skipped"
        );
        assert_eq!(dir(b"s6-svscan\0-t\x005000\0"), Some(".".to_owned()), "without one: its working directory");
        assert_eq!(dir(b"runsvdir\0/home/u/service\0"), None, "a runsvdir is not an s6-svscan");
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
        let since = Instant::now();
        while !user_scanner(uid, &scan, "runsvdir") && since.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(25));
        }
        let found = user_scanner(uid, &scan, "runsvdir");
        let other_uid = user_scanner(uid + 1, &scan, "runsvdir");
        let other_dir = user_scanner(uid, &dir.path().to_string_lossy(), "runsvdir");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found, "the runsvdir over {scan} is found");
        assert!(!other_uid && !other_dir, "not for another uid or directory");
        assert!(!user_scanner(uid, &scan, "runsvdir"), "nor once it has ended");
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
