//! `initkit history NAME[@INSTANCE]`: an instance's recorded known good
//! configs, newest first, with their times, which one is in use, and what
//! changed from one to the next.

use std::path::PathBuf;

use super::{CliError, change, logs::which_instance, operate::not_installed, output::print, user};
use crate::{
    host::{
        good::{self, Record},
        log_time,
        manifest::{self, under},
    },
    recipe::ServiceSpec,
};

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// `NAME` or `NAME@INSTANCE`; a service with several instances installed needs one named.
    spec: String,
    /// Print JSON (see docs/json.md).
    #[arg(long)]
    json: bool,
    /// Read the manifest and the records under this root (a chroot or image).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// The calling user's services (installed with `install --user`).
    #[arg(long)]
    user: bool,
}

/// One record as `history --json` shows it.
#[derive(Debug, serde::Serialize)]
struct Shown<'a> {
    time: String,
    in_use: bool,
    files: &'a [good::Saved],
}

pub fn run(args: &HistoryArgs) -> Result<(), CliError> {
    let ServiceSpec { name, instance } = ServiceSpec::parse(&args.spec).map_err(|e| CliError::msg(e.to_string()))?;
    let place = user::place(&args.root, args.user)?;
    let Some(m) = manifest::load(&place, &name)? else {
        return Err(CliError::exit(5, not_installed(&place, &name)));
    };
    let instance = which_instance(&m, instance)?;
    let records = good::records(&place, &m.recipe, instance.as_deref());
    // The newest record the files now match is the one in use.
    let newest_matching = records.iter().position(|r| good::matches_under(&args.root, r));
    let in_use: Vec<bool> = (0..records.len()).map(|k| Some(k) == newest_matching).collect();
    if args.json {
        let shown: Vec<Shown<'_>> = records
            .iter()
            .zip(&in_use)
            .map(|(r, &in_use)| Shown { time: rfc3339(r), in_use, files: &r.files })
            .collect();
        return print(&(serde_json::to_string_pretty(&shown).unwrap_or_default() + "\n"));
    }
    let label = instance.as_ref().map_or_else(|| m.recipe.clone(), |i| format!("{}@{i}", m.recipe));
    let kept = format!("{}/{}", good::service_path(&place, &m.recipe), instance.as_deref().unwrap_or("_"));
    if records.is_empty() {
        return print(&format!(
            "{label}: no known good config recorded yet (one is recorded each time a start, restart or reload comes back ready; kept in {kept})\n"
        ));
    }
    let mut text = format!(
        "{label}: {} known good config{}, newest first (kept in {})\n",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        kept
    );
    if !in_use[0] {
        text.push_str("\nnow: the files differ from the newest known good one (not yet known good):\n");
        for (i, f) in records[0].files.iter().enumerate() {
            let now = under(&args.root, &f.path);
            let d = good::diff(
                &records[0].copy(i),
                &now,
                &format!("{} ({})", f.path, change::when(&records[0])),
                &format!("{} (now)", f.path),
            );
            text.push_str(&indent(&d, "  "));
        }
    }
    for (k, r) in records.iter().enumerate() {
        text.push_str(&format!("\n{}  {}{}\n", k + 1, change::when(r), if in_use[k] { "  (in use now)" } else { "" }));
        for f in &r.files {
            text.push_str(&format!("   {}  (hash {}, owner {}:{}, mode {:o})\n", f.path, f.hash, f.uid, f.gid, f.mode));
        }
        if let Some(older) = records.get(k + 1) {
            text.push_str(&changes(older, r));
        }
    }
    print(&text)
}

/// What changed from `older` to `newer`, file by file, as unified diffs.
fn changes(older: &Record, newer: &Record) -> String {
    let mut out = String::new();
    for (i, f) in newer.files.iter().enumerate() {
        let Some(j) = older.files.iter().position(|o| o.path == f.path) else {
            out.push_str(&format!("   {} is recorded from this one on\n", f.path));
            continue;
        };
        if older.files[j].hash == f.hash {
            continue;
        }
        let d = good::diff(
            &older.copy(j),
            &newer.copy(i),
            &format!("{} ({})", f.path, change::when(older)),
            &format!("{} ({})", f.path, change::when(newer)),
        );
        out.push_str(&indent(&d, "   "));
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().fold(String::new(), |mut acc, l| {
        acc.push_str(by);
        acc.push_str(l);
        acc.push('\n');
        acc
    })
}

fn rfc3339(r: &Record) -> String {
    r.time().map_or_else(|| r.time_ms.to_string(), log_time::rfc3339)
}
