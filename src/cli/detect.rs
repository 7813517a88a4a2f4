//! `initkit detect`: the host's init system and the evidence for it.

use super::{CliError, output::print};
use crate::host::detect::detect_host;

pub fn run(json: bool) -> Result<(), CliError> {
    let detection = detect_host();
    if json {
        return print(&(serde_json::to_string_pretty(&detection).unwrap_or_default() + "\n"));
    }
    let mut text = format!("{}\n", detection.init);
    for e in &detection.evidence {
        let arrow = e.points_to.map(|p| format!(" -> {p}")).unwrap_or_default();
        text.push_str(&format!("  evidence: {}{arrow}\n", e.fact));
    }
    print(&text)
}
