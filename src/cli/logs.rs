//! `initkit logs NAME[@INSTANCE]`: one instance's log, from where its init
//! system keeps it (its driver says where): the journal through
//! `journalctl`, or the file its script, supervisor or logger writes; the
//! last lines, the lines since a time, and then, with `--follow`, the lines
//! as they are written.

use std::{
    io,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::Duration,
};

use time::OffsetDateTime;

use super::{
    CliError,
    operate::{not_installed, unknown_instance},
    output::print,
    user,
};
use crate::{
    host::{
        driver::driver_of,
        drivers::systemd,
        log_time,
        logs::{self, Follower, Line, LogError, LogQuery, LogSource},
        manifest::{self, Manifest, under},
    },
    recipe::ServiceSpec,
    render::facts::Stamp,
};

/// How long following waits when nothing new was written.
const POLL: Duration = Duration::from_millis(200);

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// `NAME` or `NAME@INSTANCE`; a service with several instances installed needs one named.
    spec: String,
    /// After the last lines, print each line as it is written, through rotation, until Ctrl-C.
    #[arg(short, long)]
    follow: bool,
    /// How many of the last lines to print.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 20)]
    lines: usize,
    /// Only lines from TIME on. The journal takes any time journalctl takes; the
    /// logs of runit, s6 and daemontools, whose lines carry times, take
    /// `2024-01-15 10:00`, `2024-01-15`, `today`, `yesterday`, `-1h`, `30min ago`
    /// or `@UNIX-SECONDS` (local time); a log without times refuses it.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Print the lines as JSON (see docs/json.md); not with --follow.
    #[arg(long)]
    json: bool,
    /// Read the manifest and the log under this root (a chroot or image).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// A service of the calling user (installed with `install --user`): the user's journal.
    #[arg(long)]
    user: bool,
}

pub fn run(args: &LogsArgs) -> Result<(), CliError> {
    let query = LogQuery { lines: args.lines, follow: args.follow, since: args.since.clone(), json: args.json };
    if query.json && query.follow {
        return Err(CliError::exit(2, "error: --json prints one document, so it cannot --follow; drop one of them\n"));
    }
    let ServiceSpec { name, instance } = ServiceSpec::parse(&args.spec).map_err(|e| CliError::msg(e.to_string()))?;
    let place = user::place(&args.root, args.user)?;
    let Some(m) = manifest::load(&place, &name)? else {
        return Err(CliError::exit(5, not_installed(&place, &name)));
    };
    let instance = which_instance(&m, instance)?;
    let label = instance.as_ref().map_or_else(|| m.recipe.clone(), |i| format!("{}@{i}", m.recipe));
    match driver_of(&m).log_source(&m, instance.as_deref()) {
        LogSource::Journal { unit, user } => journal(&args.root, &unit, user, &query),
        LogSource::File { path, stamp } => file(&m, &label, &under(&args.root, &path), stamp, &query),
    }
}

/// The instance whose log is meant: the one named (installed), the only
/// one installed, or none for a service without instances.
pub(super) fn which_instance(m: &Manifest, instance: Option<String>) -> Result<Option<String>, CliError> {
    match (instance, m.instances.as_slice()) {
        (Some(i), installed) if !installed.contains(&i) => Err(CliError::exit(2, unknown_instance(m, &i))),
        (Some(i), _) => Ok(Some(i)),
        (None, []) => Ok(None),
        (None, [only]) => Ok(Some(only.clone())),
        (None, [first, ..]) => Err(CliError::exit(
            2,
            format!(
                "error: `{name}` has several instances ({}), each with its own log: name one, as `initkit logs {name}@{first}`\n",
                m.instances.join(", "),
                name = m.recipe
            ),
        )),
    }
}

/// `journalctl` shows the unit's journal; its exit code is the command's.
fn journal(root: &Path, unit: &str, user: bool, query: &LogQuery) -> Result<(), CliError> {
    let mut command = Command::new("journalctl");
    command.args(systemd::journal_args(unit, user, root, query));
    let cannot_run = |e: io::Error| {
        CliError::exit(
            1,
            if e.kind() == io::ErrorKind::NotFound {
                format!("error: journalctl is not installed: the log of {unit} is in the journal, which it reads\n")
            } else {
                format!("error: cannot run journalctl: {e}\n")
            },
        )
    };
    let status = if query.json {
        let out = command.stderr(Stdio::inherit()).output().map_err(cannot_run)?;
        let lines: Vec<Line> =
            String::from_utf8_lossy(&out.stdout).lines().filter_map(systemd::parse_journal_entry).collect();
        print_json(&lines)?;
        out.status
    } else {
        command.status().map_err(cannot_run)?
    };
    match status.code() {
        Some(0) => Ok(()),
        code => Err(CliError::exit(code.unwrap_or(1), String::new())),
    }
}

/// The file's last lines (from `--since` on), then, following, what is written to it.
fn file(m: &Manifest, label: &str, path: &Path, stamp: Stamp, query: &LogQuery) -> Result<(), CliError> {
    let since = match (&query.since, stamp) {
        (None, _) => None,
        (Some(_), Stamp::None) => {
            return Err(CliError::exit(
                2,
                format!(
                    "error: the {} log of `{label}` has no times: {} holds each line as the daemon wrote it, so --since cannot pick lines from it; use -n N for the last N\n",
                    m.target.name(),
                    path.display()
                ),
            ));
        }
        (Some(text), Stamp::Tai64n | Stamp::Utc | Stamp::Local) => {
            Some(log_time::since(text, OffsetDateTime::now_utc()).ok_or_else(|| {
                CliError::exit(2, format!("error: --since `{text}` is not a time: give {}\n", log_time::SINCE_FORMS))
            })?)
        }
    };
    let mut opened = match logs::open(path) {
        Ok(f) => Some(f),
        Err(LogError::NotYet(_)) if query.follow => {
            eprintln!("note: no log yet at {}: the service has not written anything; waiting for it", path.display());
            None
        }
        Err(e) => return Err(log_error(&e)),
    };
    let mut offset = 0;
    if let Some(f) = &mut opened {
        let mut tail = logs::tail(f, path, stamp, query.lines, since).map_err(|e| log_error(&e))?;
        if query.follow && tail.partial {
            // The line being written is printed whole once it ends.
            tail.lines.pop();
        }
        let lines: Vec<Line> = tail.lines.iter().map(|raw| Line::read(stamp, raw)).collect();
        if query.json {
            return print_json(&lines);
        }
        print_lines(&lines)?;
        offset = tail.complete_to;
    }
    if !query.follow {
        return Ok(());
    }
    let mut follower = Follower::new(path, opened, offset).map_err(|e| log_error(&e))?;
    loop {
        let lines = follower.poll().map_err(|e| log_error(&e))?;
        if lines.is_empty() {
            thread::sleep(POLL);
        } else {
            print_lines(&lines.iter().map(|raw| Line::read(stamp, raw)).collect::<Vec<_>>())?;
        }
    }
}

fn log_error(e: &LogError) -> CliError {
    CliError::exit(1, format!("error: {e}\n"))
}

fn print_lines(lines: &[Line]) -> Result<(), CliError> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.shown());
        text.push('\n');
    }
    print(&text)
}

fn print_json(lines: &[Line]) -> Result<(), CliError> {
    print(&(serde_json::to_string_pretty(lines).unwrap_or_default() + "\n"))
}
