//! `--user`: the calling user's services. Refused as root on the running
//! host (root's services are the system's: install without --user), and
//! where no user manager runs (systemd's, or a runsvdir or s6-svscan of the
//! user's own for runit and s6); lingering is explained, or enabled with
//! `--linger`.

use std::{
    path::Path,
    thread,
    time::{Duration, Instant},
};

use super::CliError;
use crate::{
    host::{
        driver::user_driver,
        drivers::{runit::user_scanner, systemd::user_manager_socket},
        run::{native, stdout_of},
        scope::Place,
    },
    render::{Target, runit, s6, sh, user::UserDirs},
};

/// How long a user manager that lingering started gets to come up.
const MANAGER_WAIT: Duration = Duration::from_secs(10);

/// The system's services under `root`, or (with `user`) the calling user's.
pub fn place(root: &Path, user: bool) -> Result<Place, CliError> {
    let place = Place::new(root, user)?;
    if let Some(u) = &place.user
        && u.uid == 0
        && place.live()
    {
        return Err(CliError::msg(
            "--user is for an ordinary user's own services, and this is root: install a system service \
             (without --user, with the recipe's `user`), or run initkit as that user: \
             `runuser -u NAME -- env XDG_RUNTIME_DIR=/run/user/UID initkit ... --user`",
        ));
    }
    Ok(place)
}

/// On the running host, for a user's services: the target has a user
/// manager initkit drives, and it runs (with `linger`, lingering is enabled
/// first and its manager waited for). Returns notes for the report.
pub fn ready(place: &Place, target: Target, linger: bool) -> Result<Vec<String>, CliError> {
    let Some(user) = place.user.as_ref().filter(|_| place.live()) else { return Ok(Vec::new()) };
    if user_driver(target).is_none() {
        return Err(CliError::msg(format!(
            "{} has no user manager initkit can drive: --user installs systemd user units, or runit or s6 service \
             directories for a runsvdir or s6-svscan of the user's own (`initkit render --user --target launchd` writes a LaunchAgent)",
            target.name()
        )));
    }
    match target {
        Target::Runit => scanner_ready(user, linger, &Scanner::RUNIT, &runit::dirs(&place.layout()).1),
        Target::S6 => scanner_ready(user, linger, &Scanner::S6, &s6::dirs(&place.layout()).1),
        Target::Systemd
        | Target::Launchd
        | Target::Sysv
        | Target::Daemontools
        | Target::Supervisord
        | Target::Openrc
        | Target::Upstart => systemd_ready(user, linger),
    }
}

/// The supervisor of a user's own service directories.
struct Scanner {
    target: &'static str,
    /// Its program, as /proc shows it.
    program: &'static str,
    /// How to start it over a directory (`{}`: the quoted directory).
    command: &'static str,
    /// The section of docs/targets.md on it.
    doc: &'static str,
}

impl Scanner {
    const RUNIT: Scanner =
        Scanner { target: "runit", program: "runsvdir", command: "runsvdir -P {}", doc: "A user's runsvdir" };
    const S6: Scanner =
        Scanner { target: "s6", program: "s6-svscan", command: "s6-svscan {}", doc: "A user's s6-svscan" };
}

/// A runit or s6 user service needs its supervisor (runsvdir, s6-svscan)
/// running as the user over the user's scan directory: without one,
/// nothing would start what is linked there, so nothing is written.
fn scanner_ready(user: &UserDirs, linger: bool, how: &Scanner, scan: &str) -> Result<Vec<String>, CliError> {
    let Scanner { target, program, command, doc } = how;
    if linger {
        return Err(CliError::msg(format!(
            "--linger is for systemd's user manager (logind); under {target}, a {program} of one's own runs for as \
             long as what started it: drop --linger"
        )));
    }
    if user_scanner(user.uid, scan, program) {
        return Ok(Vec::new());
    }
    let q = sh::quote(scan);
    let run = command.replace("{}", &q);
    Err(CliError::msg(format!(
        "no {program} runs as {name} over {scan}, so nothing would start a service linked there; nothing was written\n  \
         = help: start one as {name}: `mkdir -p {q} && setsid {run} </dev/null >/dev/null 2>&1 &`, \
         and keep it across reboots with the crontab line `@reboot {run}` (`crontab -e`); \
         or have root run it as a {target} service at boot (docs/targets.md, \"{doc}\")",
        name = user.name
    )))
}

/// A systemd user service needs the user's manager.
fn systemd_ready(user: &UserDirs, linger: bool) -> Result<Vec<String>, CliError> {
    let mut notes = Vec::new();
    if linger && !lingers(user) {
        if native("loginctl", &["enable-linger".to_owned(), user.name.clone()]) != 0 {
            return Err(CliError::msg(format!(
                "`loginctl enable-linger {}` failed (it may need root: `sudo loginctl enable-linger {}`); nothing was written",
                user.name, user.name
            )));
        }
        notes.push(format!("enabled lingering for {}: the user's manager runs from boot, without a login", user.name));
    }
    let socket = user_manager_socket(&user.runtime);
    let deadline = Instant::now() + if linger { MANAGER_WAIT } else { Duration::ZERO };
    while !Path::new(&socket).exists() {
        if Instant::now() >= deadline {
            return Err(CliError::msg(format!(
                "no systemd user manager runs for {} ({socket} is missing); nothing was written\n  \
                 = help: log in as {} (a login starts it), or enable lingering: `loginctl enable-linger {}` \
                 or `initkit install --user --linger`; under su or runuser, set XDG_RUNTIME_DIR=/run/user/{}",
                user.name, user.name, user.name, user.uid
            )));
        }
        thread::sleep(Duration::from_millis(100));
    }
    if !lingers(user) {
        notes.push(format!(
            "lingering is off for {0}: the service runs only while {0} is logged in, and does not start at boot; \
             `loginctl enable-linger {0}` (or install --linger) keeps it running",
            user.name
        ));
    }
    Ok(notes)
}

/// Whether logind keeps the user's manager running without a login.
fn lingers(user: &UserDirs) -> bool {
    stdout_of("loginctl", &["show-user", &user.name, "-p", "Linger", "--value"]).trim() == "yes"
}
