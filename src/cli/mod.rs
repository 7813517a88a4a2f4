//! The command line: clap structures and the dispatch to one module per command.

mod change;
mod check;
mod detect;
mod enable;
mod history;
mod import;
mod install;
mod list;
mod logs;
mod new;
mod new_from;
mod operate;
mod output;
mod render;
mod resolve;
mod show;
mod status;
mod suggest;
mod user;

use std::{path::PathBuf, process::ExitCode};

pub use check::{FileReport, Problem};
pub use operate::TestReport;
pub use status::Row;

use clap::{Parser, Subcommand};

use crate::render::{Flavor, Target};
pub use output::CliError;

#[derive(Parser, Debug)]
#[command(name = "initkit", version, about = "Service recipes rendered into native, standalone init artifacts")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the catalogue's recipes, or what is installed.
    List {
        /// Print JSON (see docs/json.md).
        #[arg(long)]
        json: bool,
        /// What initkit installed on this host (or under --root).
        #[arg(long)]
        installed: bool,
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// With --installed: the calling user's services (`install --user`).
        #[arg(long)]
        user: bool,
    },
    /// Show a recipe and the file it came from; with `@INSTANCE`, that instance's values.
    Show {
        /// `NAME` or `NAME@INSTANCE`.
        name: String,
        /// Print JSON (see docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Render a recipe into artifacts for an init system.
    Render {
        /// A catalogue recipe, `NAME@INSTANCE`, or a path to a recipe file.
        recipe: String,
        /// The init system; the running host's, as `install` detects it, when not given.
        #[arg(long, value_enum)]
        target: Option<Target>,
        /// The distribution family; the running host's when not given.
        #[arg(long, value_enum)]
        flavor: Option<Flavor>,
        /// Write the artifacts under this directory (at their host paths) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Render for a host whose file system starts at this prefix: every path
        /// inside the artifacts changes too (for tests and staging trees).
        #[arg(long)]
        prefix: Option<String>,
        /// A service of the calling user: a systemd user unit (no User=,
        /// WantedBy=default.target), or a launchd LaunchAgent.
        #[arg(long)]
        user: bool,
    },
    /// Write a recipe for a custom program.
    New(Box<new::NewArgs>),
    /// Validate recipe files and report every problem.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON (see docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Say which init system this host runs, and why.
    Detect {
        /// Print JSON (see docs/json.md).
        #[arg(long)]
        json: bool,
        /// Print the evidence.
        #[arg(long)]
        explain: bool,
        /// Look at a chroot or image instead of the running host.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Read units, init scripts, supervisord programs or Procfiles into recipes, with a fidelity report.
    Import(Box<import::ImportArgs>),
    /// Import a unit or script, then render it for another init system.
    Convert(Box<import::ConvertArgs>),
    /// Install a recipe's artifacts, record them, and optionally enable and start them.
    Install(Box<install::InstallArgs>),
    /// Remove what install wrote, restoring any file it replaced.
    Uninstall(install::UninstallArgs),
    /// Start installed services at boot (the native way).
    Enable(enable::EnableArgs),
    /// Do not start them at boot; nothing else changes.
    Disable(enable::EnableArgs),
    /// Start services (`NAME`: every installed instance; `NAME@INSTANCE`: one).
    Start(Specs),
    /// Stop services.
    Stop(Specs),
    /// Test the config, then restart; a failing test changes nothing. Each
    /// instance is then watched until ready, and its config recorded as the
    /// last known good when it is.
    Restart(Changes),
    /// Test the config, then reload, then watch as restart does.
    Reload(Changes),
    /// Every installed service (or those named): target, enabled, state, PID,
    /// uptime; the exit code is LSB's status code of the worst.
    Status(Report),
    /// Run the recipe's config test for each instance.
    Configtest(Report),
    /// An instance's log, from where its init system keeps it (the journal, a
    /// console log, the supervisor's or logger's file): the last lines, or
    /// those since a time, then followed as they are written.
    Logs(logs::LogsArgs),
    /// An instance's known good configs (recorded when a start, restart or
    /// reload came back ready), newest first, with what changed.
    History(history::HistoryArgs),
}

#[derive(clap::Args, Debug)]
struct Specs {
    /// `NAME` (every installed instance) or `NAME@INSTANCE`; several may be given.
    #[arg(required = true)]
    specs: Vec<String>,
    /// The calling user's services (installed with `install --user`): `systemctl --user`.
    #[arg(long)]
    user: bool,
}

#[derive(clap::Args, Debug)]
struct Changes {
    /// `NAME` (every installed instance) or `NAME@INSTANCE`; several may be given.
    #[arg(required = true)]
    specs: Vec<String>,
    /// When an instance does not come back ready, put its last known good
    /// config back and restart it (the exit code is still 7).
    #[arg(long)]
    rollback: bool,
    /// The calling user's services (installed with `install --user`): `systemctl --user`.
    #[arg(long)]
    user: bool,
}

#[derive(clap::Args, Debug)]
struct Report {
    /// `NAME` (every installed instance) or `NAME@INSTANCE`; several may be given.
    specs: Vec<String>,
    /// Print JSON (see docs/json.md).
    #[arg(long)]
    json: bool,
    /// The calling user's services (installed with `install --user`): `systemctl --user`.
    #[arg(long)]
    user: bool,
}

/// Runs a front-end action on the services the specs name, the system's or
/// (with `--user`) the calling user's.
fn operate_in(
    user: bool,
    specs: &[String],
    action: operate::Action,
    json: bool,
    rollback: bool,
) -> Result<(), CliError> {
    operate::run(&user::place(std::path::Path::new("/"), user)?, specs, action, json, rollback)
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { json, installed: false, .. } => list::run(json),
        Command::List { json, installed: true, root, user } => {
            user::place(&root, user).and_then(|place| list::run_installed(&place, json))
        }
        Command::Show { name, json } => show::run(&name, json),
        Command::Render { recipe, target, flavor, out, prefix, user } => {
            render::run(&recipe, target, flavor, out.as_deref(), prefix.unwrap_or_default(), user)
        }
        Command::New(args) => new::run(&args),
        Command::Check { paths, json } => check::run(&paths, json),
        Command::Detect { json, explain, root } => detect::run(json, explain, root.as_deref()),
        Command::Import(args) => import::run_import(&args),
        Command::Convert(args) => import::run_convert(&args),
        Command::Install(args) => install::run_install(&args),
        Command::Uninstall(args) => install::run_uninstall(&args),
        Command::Enable(args) => enable::run(&args, true),
        Command::Disable(args) => enable::run(&args, false),
        Command::Start(t) => operate_in(t.user, &t.specs, operate::Action::Start, false, false),
        Command::Stop(t) => operate_in(t.user, &t.specs, operate::Action::Stop, false, false),
        Command::Restart(t) => operate_in(t.user, &t.specs, operate::Action::Restart, false, t.rollback),
        Command::Reload(t) => operate_in(t.user, &t.specs, operate::Action::Reload, false, t.rollback),
        Command::Status(t) => operate_in(t.user, &t.specs, operate::Action::Status, t.json, false),
        Command::Configtest(t) if t.specs.is_empty() => {
            Err(CliError::msg("configtest needs a service: `initkit configtest NAME[@INSTANCE]`"))
        }
        Command::Configtest(t) => operate_in(t.user, &t.specs, operate::Action::Configtest, t.json, false),
        Command::Logs(args) => logs::run(&args),
        Command::History(args) => history::run(&args),
    };
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Exit(code, message)) => {
            eprint!("{message}");
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(e) => {
            eprint!("{e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}
