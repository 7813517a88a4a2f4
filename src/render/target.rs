//! The init systems initkit renders for, and the one trait each one's backend
//! implements. Adding a tenth is a file in `render/` (and one in `host/`) and
//! a line in each `match` below; the compiler lists what is missing.

use serde::Serialize;

use super::{
    Artifact, Options, daemontools, features::Feature, launchd, openrc, runit, s6, supervisord, systemd, sysv, upstart,
};
use crate::recipe::Recipe;

/// The init systems initkit renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Systemd,
    Sysv,
    Runit,
    S6,
    Daemontools,
    Supervisord,
    Openrc,
    Upstart,
    Launchd,
}

impl Target {
    pub const ALL: [Target; 9] = [
        Target::Systemd,
        Target::Sysv,
        Target::Runit,
        Target::S6,
        Target::Daemontools,
        Target::Supervisord,
        Target::Openrc,
        Target::Upstart,
        Target::Launchd,
    ];

    /// The backend that renders for this init system.
    pub fn backend(self) -> &'static dyn Backend {
        match self {
            Target::Systemd => &systemd::Systemd,
            Target::Sysv => &sysv::Sysv,
            Target::Runit => &runit::Runit,
            Target::S6 => &s6::S6,
            Target::Daemontools => &daemontools::Daemontools,
            Target::Supervisord => &supervisord::Supervisord,
            Target::Openrc => &openrc::Openrc,
            Target::Upstart => &upstart::Upstart,
            Target::Launchd => &launchd::Launchd,
        }
    }

    pub fn name(self) -> &'static str {
        self.backend().name()
    }

    /// Targets that render one service per instance (a directory or a program).
    pub fn per_instance(self) -> bool {
        self.backend().per_instance()
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The practices of DESIGN.md, as rows of the capability matrix in docs/targets.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Practice {
    ConfigTestRestart,
    ConfigTestReload,
    OwnReload,
    LsbCodes,
    ProcessIdentity,
    RuntimeDirs,
    StopEscalation,
    PreStopHooks,
    Instances,
    Hardening,
    Quoting,
    Registration,
    Logs,
    Readiness,
}

impl Practice {
    pub const ALL: [Practice; 14] = [
        Practice::ConfigTestRestart,
        Practice::ConfigTestReload,
        Practice::OwnReload,
        Practice::LsbCodes,
        Practice::ProcessIdentity,
        Practice::RuntimeDirs,
        Practice::StopEscalation,
        Practice::PreStopHooks,
        Practice::Instances,
        Practice::Hardening,
        Practice::Quoting,
        Practice::Registration,
        Practice::Logs,
        Practice::Readiness,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Practice::ConfigTestRestart => "1. config test before restart",
            Practice::ConfigTestReload => "1. config test before reload",
            Practice::OwnReload => "2. the daemon's own reload",
            Practice::LsbCodes => "3. LSB exit codes",
            Practice::ProcessIdentity => "4. the process it started, and only it",
            Practice::RuntimeDirs => "5. runtime dirs at every start, no chown -R",
            Practice::StopEscalation => "6. stop with escalation",
            Practice::PreStopHooks => "7. pre-stop hooks with budgets",
            Practice::Instances => "8. instances",
            Practice::Hardening => "9. hardening",
            Practice::Quoting => "10. quoting, no eval",
            Practice::Registration => "11. registration per family",
            Practice::Logs => "12. logs and rotation",
            Practice::Readiness => "readiness",
        }
    }
}

/// How a backend meets a practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// The init system does it; initkit configures it.
    Native(&'static str),
    /// The rendered scripts, the stop wrapper or the front-end do it.
    Initkit(&'static str),
    /// Rendered as something close, and how it differs.
    Approx(&'static str),
    /// Not possible there, and why.
    No(&'static str),
}

impl Support {
    pub fn cell(self) -> String {
        let (word, how) = match self {
            Support::Native(h) => ("native", h),
            Support::Initkit(h) => ("initkit", h),
            Support::Approx(h) => ("approx", h),
            Support::No(h) => ("no", h),
        };
        // A Markdown table cell: a `|` of the text (systemd's triggering prefix) is escaped.
        let how = how.replace('|', "\\|");
        if how.is_empty() { word.to_owned() } else { format!("{word} ({how})") }
    }
}

/// What every init system's renderer provides.
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// One service (a directory or a program) per instance, rather than one
    /// unit or script that serves them all.
    fn per_instance(&self) -> bool;
    /// Its artifacts read the root-only environment file (launchd cannot).
    fn reads_env_file(&self) -> bool {
        true
    }
    /// Whether it runs services of an ordinary user (`install --user`): a
    /// user manager or agent of its own.
    fn per_user(&self) -> bool {
        false
    }
    /// Where the settings of a service and its instances live.
    fn settings(&self, name: &str, layout: &super::Layout, flavor: super::Flavor) -> super::facts::Settings {
        super::facts::Settings::distribution(name, layout, flavor)
    }
    /// Its artifacts read the settings files at run time (launchd's values
    /// are resolved when it is rendered).
    fn reads_settings(&self) -> bool {
        true
    }
    /// The artifacts: those of `instance` on a per-instance target, of the
    /// whole service otherwise. Pure: no file is read.
    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact>;
    /// How it meets each practice, for docs/targets.md.
    fn support(&self, practice: Practice) -> Support;
    /// What it makes of each recipe field beyond the practices: a field it
    /// answers `No` for is refused at render time, with that reason.
    fn feature(&self, feature: Feature) -> Support;
    /// What it cannot render of this recipe's values beyond its fields (a
    /// schedule cron cannot say), one line each.
    fn refusals(&self, _recipe: &Recipe) -> Vec<String> {
        Vec::new()
    }
}

/// The capability matrix of docs/targets.md, as the backends declare it.
pub fn matrix() -> String {
    let mut s = String::from("| practice |");
    for t in Target::ALL {
        s.push_str(&format!(" {} |", t.name()));
    }
    s.push_str("\n|---|");
    for _ in Target::ALL {
        s.push_str("---|");
    }
    s.push('\n');
    for p in Practice::ALL {
        s.push_str(&format!("| {} |", p.title()));
        for t in Target::ALL {
            s.push_str(&format!(" {} |", t.backend().support(p).cell()));
        }
        s.push('\n');
    }
    s
}
