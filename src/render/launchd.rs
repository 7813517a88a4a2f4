//! launchd: one property list per instance in /Library/LaunchDaemons (a
//! user's LaunchAgent in ~/Library/LaunchAgents), written with a real plist writer. launchd substitutes nothing, so every variable is
//! resolved here from the instance's defaults.

use plist::{Dictionary, Value};

use super::{
    Artifact, Backend, Options, Practice, Support,
    facts::{console_log, service_name},
    features::{self, Feature},
    values::defaults,
};
use crate::recipe::{Recipe, RestartPolicy, Template};

pub struct Launchd;

impl Backend for Launchd {
    fn name(&self) -> &'static str {
        "launchd"
    }

    fn per_instance(&self) -> bool {
        true
    }

    /// A LaunchAgent: rendered only, launchd cannot run here.
    fn per_user(&self) -> bool {
        true
    }

    /// launchd reads no environment file: the values go into the plist,
    /// which is then root-only.
    fn reads_env_file(&self) -> bool {
        false
    }

    fn reads_settings(&self) -> bool {
        false
    }

    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
        vec![render(recipe, options, instance)]
    }

    #[allow(clippy::match_same_arms)] // a table: one row per field
    fn feature(&self, feature: Feature) -> Support {
        match feature {
            Feature::SplitArguments => Support::Approx("split at render time: the plist holds the default's words"),
            Feature::Nice => Support::No("not rendered for launchd"),
            Feature::OomScore | Feature::IoClass | Feature::TasksMax => Support::No("launchd has no such control"),
            Feature::Relax => Support::Native("no sandbox, nothing to lift"),
            other => features::supervised(other),
        }
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => {
                Support::No("launchd has no hook; nothing on macOS runs the front-end's gate")
            }
            Practice::ConfigTestReload => Support::No("as restart"),
            Practice::OwnReload => Support::Initkit("`launchctl kill SIGNAL` with the recipe's signal"),
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => Support::Native("launchd tracks the process"),
            Practice::RuntimeDirs => Support::No("launchd creates no directories"),
            Practice::StopEscalation => {
                Support::Native("SIGTERM, then SIGKILL after `ExitTimeOut`; no other stop signal")
            }
            Practice::PreStopHooks => Support::No("launchd has no pre-stop hook"),
            Practice::Instances => Support::Native("a plist per instance"),
            Practice::Hardening => Support::No("not rendered"),
            Practice::Quoting => Support::Initkit("a real plist writer; values resolved at render time"),
            Practice::Registration => Support::Native("`RunAtLoad` in LaunchDaemons"),
            Practice::Logs => Support::No("no rotation (launchd's StandardOutPath)"),
            Practice::Readiness => Support::No("launchd has no readiness"),
        }
    }
}

/// `org.initkit.redis.a`: reverse-DNS, as launchd labels are.
pub fn label(name: &str, instance: Option<&str>) -> String {
    format!("org.initkit.{}", service_name(name, instance).replace('@', "."))
}

fn int(n: u64) -> Value {
    Value::Integer(n.into())
}

fn render(recipe: &Recipe, options: &Options, instance: Option<&str>) -> Artifact {
    let values = defaults(recipe, &options.layout, instance);
    let resolve = |t: &Template| t.substitute(&|v| values.get(v).cloned());
    let label = label(&recipe.name, instance);
    let mut d = Dictionary::new();
    d.insert("Label".into(), Value::String(label.clone()));
    d.insert(
        "ProgramArguments".into(),
        Value::Array(recipe.run.command.iter().map(|a| Value::String(resolve(a))).collect()),
    );
    // An agent runs as the user whose session loads it.
    if options.layout.user.is_none() {
        if recipe.run.user != "root" {
            d.insert("UserName".into(), Value::String(recipe.run.user.clone()));
        }
        if let Some(group) = &recipe.run.group {
            d.insert("GroupName".into(), Value::String(group.clone()));
        }
    }
    if let Some(dir) = &recipe.run.working_directory {
        d.insert("WorkingDirectory".into(), Value::String(resolve(dir)));
    }
    if !recipe.run.environment.is_empty() {
        let env: Dictionary =
            recipe.run.environment.iter().map(|(k, v)| (k.clone(), Value::String(resolve(v)))).collect();
        d.insert("EnvironmentVariables".into(), Value::Dictionary(env));
    }
    if let Some(umask) = recipe.run.umask {
        d.insert("Umask".into(), int(u64::from(umask)));
    }
    let limits: Dictionary = recipe
        .run
        .limits
        .entries()
        .into_iter()
        .map(|(k, v)| {
            let key = match k {
                "nofile" => "NumberOfFiles",
                "nproc" => "NumberOfProcesses",
                "core" => "Core",
                _ => "MemoryLock",
            };
            (key.to_owned(), int(v))
        })
        .collect();
    if !limits.is_empty() {
        d.insert("SoftResourceLimits".into(), Value::Dictionary(limits.clone()));
        d.insert("HardResourceLimits".into(), Value::Dictionary(limits));
    }
    let log = console_log(&options.layout, &recipe.name, instance);
    d.insert("StandardOutPath".into(), Value::String(log.clone()));
    d.insert("StandardErrorPath".into(), Value::String(log));
    d.insert("RunAtLoad".into(), Value::Boolean(true));
    // `always`: after every end (KeepAlive true); otherwise after a failure,
    // not after a clean exit (Restart=on-failure); the other policies are refused.
    if recipe.restart.policy == RestartPolicy::Always {
        d.insert("KeepAlive".into(), Value::Boolean(true));
    } else {
        let keep_alive: Dictionary = [("SuccessfulExit".to_owned(), Value::Boolean(false))].into_iter().collect();
        d.insert("KeepAlive".into(), Value::Dictionary(keep_alive));
    }
    // launchd sends SIGTERM, then SIGKILL after ExitTimeOut seconds.
    d.insert("ExitTimeOut".into(), int(recipe.stop.timeout_ms.div_ceil(1000)));
    let mut xml = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut xml).expect("writing a plist to memory cannot fail");
    xml.push(b'\n');
    // Environment values may be secrets, and launchd reads no other file: then root only.
    let mode = if recipe.run.environment.is_empty() { 0o644 } else { 0o600 };
    let dir = match &options.layout.user {
        Some(user) => format!("{}/Library/LaunchAgents", user.home),
        None => "/Library/LaunchDaemons".to_owned(),
    };
    Artifact::new(
        format!("{}{dir}/{label}.plist", options.layout.root),
        mode,
        String::from_utf8(xml).expect("plist XML is UTF-8"),
    )
}
