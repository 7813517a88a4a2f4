//! Whether instances came back healthy after a restart or reload: running
//! under their init system, ready by the recipe's own probe, and still the
//! same process a moment later.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::{
    action::{State, Status},
    driver::Driver,
    run::listeners,
    settings,
};
use crate::recipe::{ReadyCheck, Recipe};

/// How long a ready instance must keep running, as the same process, to
/// count (longer when the recipe's `ready.settle` says so).
const SETTLE: Duration = Duration::from_millis(300);
/// How long to wait without a readiness probe in the recipe.
const DEFAULT_BUDGET_MS: u64 = 10_000;
/// How often to look again.
const POLL: Duration = Duration::from_millis(50);

/// One instance to look at: its name and its settings' values.
pub struct Instance<'a> {
    pub instance: Option<&'a str>,
    pub values: &'a BTreeMap<String, String>,
}

/// For each instance, in order: `Ok` once it runs, passes its readiness
/// probe (within the recipe's ready timeout, 10 s without one) and is still
/// the same process a moment later; otherwise why not, in words. The
/// instances are watched together, so many cost what one costs. After an
/// action that `failed`, an instance that is not running is not waited for.
pub fn came_back(
    driver: &dyn Driver,
    recipe: &Recipe,
    name: &str,
    instances: &[Instance<'_>],
    failed: bool,
) -> Vec<Result<(), String>> {
    let budget = Duration::from_millis(recipe.ready.as_ref().map_or(DEFAULT_BUDGET_MS, |r| r.timeout_ms));
    let started = Instant::now();
    let mut verdicts: Vec<Option<Result<(), String>>> = instances.iter().map(|_| None).collect();
    let mut why: Vec<String> = instances.iter().map(|_| "it was never seen running".to_owned()).collect();
    loop {
        // Every instance that is up and ready now, with the process seen.
        let mut ready_now: Vec<(usize, Option<u32>)> = Vec::new();
        let listening = listeners_if_needed(recipe);
        for (k, inst) in instances.iter().enumerate() {
            if verdicts[k].is_some() {
                continue;
            }
            let status = driver.status(name, inst.instance);
            if status.state != State::Running {
                why[k] = describe(&status);
                if failed && matches!(status.state, State::Stopped | State::Failed | State::Dead) {
                    verdicts[k] = Some(Err(why[k].clone()));
                }
            } else if let Some(not_ready) = unready(recipe, inst.values, listening.as_ref()) {
                why[k] = not_ready;
            } else {
                ready_now.push((k, status.pid));
            }
        }
        if !ready_now.is_empty() {
            let settle = recipe.ready.as_ref().map_or(SETTLE, |r| SETTLE.max(Duration::from_millis(r.settle_ms)));
            std::thread::sleep(settle);
            for (k, pid) in ready_now {
                let again = driver.status(name, instances[k].instance);
                if again.state == State::Running && again.pid == pid {
                    verdicts[k] = Some(Ok(()));
                } else {
                    why[k] = format!("it became ready, then {}", describe(&again));
                }
            }
        }
        if verdicts.iter().all(Option::is_some) {
            break;
        }
        if started.elapsed() >= budget {
            for (k, v) in verdicts.iter_mut().enumerate() {
                if v.is_none() {
                    *v = Some(Err(format!("{} (waited {:.1} s)", why[k], budget.as_secs_f64())));
                }
            }
            break;
        }
        std::thread::sleep(POLL);
    }
    verdicts.into_iter().map(|v| v.unwrap_or(Ok(()))).collect()
}

fn describe(status: &Status) -> String {
    let s = match status.state {
        State::Running => "it runs, but as another process",
        State::Starting => "it is still starting",
        State::Stopped => "it is not running",
        State::Failed => "it failed",
        State::Dead => "its pidfile names no process",
        State::Unknown => "its state is unknown",
    };
    match &status.last_exit {
        Some(e) => format!("{s} (its last process ended: {e})"),
        None => s.to_owned(),
    }
}

/// The listening TCP sockets by port, read once a round, when the recipe probes a port.
fn listeners_if_needed(recipe: &Recipe) -> Option<HashMap<u16, Vec<String>>> {
    match recipe.ready.as_ref().map(|r| &r.check) {
        Some(ReadyCheck::Tcp(_)) => Some(listeners(Path::new("/proc/self/net"))),
        _ => None,
    }
}

/// Why the recipe's readiness probe does not pass, from the host (`None`
/// when it passes, or there is none): a listener on the port, or the
/// command succeeding as the service's user.
fn unready(
    recipe: &Recipe,
    values: &BTreeMap<String, String>,
    listening: Option<&HashMap<u16, Vec<String>>>,
) -> Option<String> {
    match recipe.ready.as_ref().map(|r| &r.check) {
        None => None,
        Some(ReadyCheck::Tcp(addr)) => {
            let addr = addr.substitute(&|v| values.get(v).cloned());
            let port = addr.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
            match port {
                Some(p) if listening.is_some_and(|l| l.contains_key(&p)) => None,
                _ => Some(format!("it runs, but nothing listens on {addr}")),
            }
        }
        Some(ReadyCheck::Command(c)) => {
            let argv = settings::argv(c, values);
            let (program, rest) = argv.split_first()?;
            let mut cmd = if recipe.run.user == "root" {
                Command::new(program)
            } else {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", &recipe.run.user, "--", program]);
                cmd
            };
            let ok = cmd
                .args(rest)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            (!ok).then(|| format!("it runs, but its readiness command `{}` does not succeed", argv.join(" ")))
        }
    }
}
