//! `initkit detect`: the host's init system and the evidence for it.

use std::path::Path;

use super::{CliError, output::print};
use crate::{
    host::detect::{detect, detect_host},
    render::Target,
};

pub fn run(json: bool, explain: bool, root: Option<&Path>) -> Result<(), CliError> {
    let detection = match root {
        Some(root) if !root.is_dir() => {
            return Err(CliError::msg(format!("--root {} does not exist or is not a directory", root.display())));
        }
        Some(root) => detect(root, None),
        None => detect_host(),
    };
    if json {
        return print(&(serde_json::to_string_pretty(&detection).unwrap_or_default() + "\n"));
    }
    let mut text = format!("{}\n", detection.init.map_or("unknown", Target::name));
    if explain {
        for e in &detection.evidence {
            let arrow = e.points_to.map(|p| format!(" -> {}", p.name())).unwrap_or_default();
            text.push_str(&format!("  evidence: {}{arrow}\n", e.fact));
        }
        if let Some(family) = detection.family {
            text.push_str(&format!("  family: {}\n", family.name()));
        }
    }
    print(&text)?;
    if detection.init.is_none() {
        return Err(CliError::exit(1, "error: no evidence of any init system initkit knows\n"));
    }
    Ok(())
}
