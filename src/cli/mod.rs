//! The command line: clap structures and the dispatch to one module per command.

mod check;
mod detect;
mod list;
mod new;
mod output;
mod render;
mod resolve;
mod show;

use std::{path::PathBuf, process::ExitCode};

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
    /// List the catalogue's recipes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a recipe and the file it came from.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Render a recipe into artifacts for an init system.
    Render {
        /// A catalogue recipe, `NAME@INSTANCE`, or a path to a recipe file.
        recipe: String,
        #[arg(long, value_enum)]
        target: Target,
        #[arg(long, value_enum, default_value_t = Flavor::Debian)]
        flavor: Flavor,
        /// Write the artifacts under this directory (at their host paths) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Render for a host whose file system starts at this prefix (paths inside
        /// the artifacts change too); for tests and staging.
        #[arg(long, hide = true)]
        prefix: Option<String>,
    },
    /// Write a recipe for a custom program.
    New(Box<new::NewArgs>),
    /// Validate recipe files and report every problem.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Say which init system this host runs, and why.
    Detect {
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { json } => list::run(json),
        Command::Show { name, json } => show::run(&name, json),
        Command::Render { recipe, target, flavor, out, prefix } => {
            render::run(&recipe, target, flavor, out.as_deref(), prefix.unwrap_or_default())
        }
        Command::New(args) => new::run(&args),
        Command::Check { paths } => check::run(&paths),
        Command::Detect { json } => detect::run(json),
    };
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}
