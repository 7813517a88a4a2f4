//! The sandbox an imported service gets under systemd when its source ran it
//! without one: initkit's own, opened just enough for what such daemons do.

use super::{draft::Draft, report::Report};

/// What a root daemon commonly needs from its capabilities: binding low
/// ports, dropping to its user, owning and reading its files, signalling its
/// workers, raising its own limits.
const ROOT_CAPABILITIES: &[&str] = &[
    "CAP_NET_BIND_SERVICE",
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_KILL",
    "CAP_SYS_RESOURCE",
];

/// Opens initkit's sandbox for a service whose source gave it none: /var and
/// /run writable, the home directories when it works in one, and as root the
/// capabilities above, reported as the approximation it is.
pub fn open_for_unsandboxed(d: &mut Draft, r: &mut Report, file: &str, line: usize) {
    let root = d.get_str(&["run"], "user").is_none_or(|u| u == "root");
    let home =
        d.get_str(&["run"], "working_directory").is_some_and(|w| crate::render::systemd::hidden_by_protect_home(&w));
    d.push(&["systemd"], "allow", "writes");
    if home {
        d.push(&["systemd"], "allow", "home");
    }
    let caps = root && !d.has(&["systemd"], "capabilities");
    if caps {
        d.set_list(&["systemd"], "capabilities", ROOT_CAPABILITIES);
        d.set(&["systemd"], "exposure_max", 3.5);
    }
    r.approximated(
        file,
        line,
        "sandbox",
        format!(
            "the source runs the daemon without a sandbox; under systemd it gets initkit's with /var and /run writable{}{}: tighten systemd.allow{} once it runs",
            if home { ", its home directory" } else { "" },
            if caps { " and the capabilities a root daemon commonly uses" } else { "" },
            if caps { " and systemd.capabilities" } else { "" },
        ),
    );
}
