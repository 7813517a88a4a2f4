//! A restart with no window, done by the front-end where the init system's
//! own restart cannot hand sockets over (systemd, for a daemon that runs
//! itself again): the main process is signalled, and a new worker of it is
//! waited for in /proc. Whether a target hands over at all is its backend's
//! fact (the `restart.handover` rows of the field matrix): read here, not
//! repeated.

use std::{
    collections::BTreeSet,
    fs,
    time::{Duration, Instant},
};

use crate::{
    recipe::{Handover, Recipe},
    render::{Support, Target, facts::HANDOVER_SETTLE_MS, features},
};

/// Why `target` restarts `recipe` plainly although the recipe declares a
/// handover (its backend's reason); `None` when it hands over, or when the
/// recipe declares none.
pub fn plain_reason(recipe: &Recipe, target: Target) -> Option<&'static str> {
    let feature = features::handover(recipe)?;
    match target.backend().feature(feature) {
        Support::Approx(why) | Support::No(why) => Some(why),
        Support::Native(_) | Support::Initkit(_) => None,
    }
}

/// A live process: its PID and start time (clock ticks since boot), which
/// together cannot be recycled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Proc {
    pub pid: u32,
    pub start: u64,
}

/// The state and start time from a `/proc/PID/stat` line: the fields after
/// the command name, which may hold spaces and parentheses.
pub fn parse_stat(line: &str) -> Option<(char, u64)> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// `pid`, when it runs (not a zombie).
pub fn live(pid: u32) -> Option<Proc> {
    let line = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    match parse_stat(&line)? {
        ('Z' | 'X' | 'x', _) => None,
        (_, start) => Some(Proc { pid, start }),
    }
}

/// The live children of `pid`, of any of its threads.
pub fn children(pid: u32) -> BTreeSet<Proc> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { return BTreeSet::new() };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|list| list.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>())
        .filter_map(live)
        .collect()
}

/// The handover of a main process that runs itself again (`main = "same"`):
/// `signal` is sent (by the init system's tool: it returns whether it was),
/// then a child of `main` that was not there before must appear within the
/// handover's budget and still run a moment later. The new worker, or why not.
pub fn same(main: Proc, handover: &Handover, signal: impl FnOnce() -> bool) -> Result<Proc, String> {
    let before = children(main.pid);
    if !signal() {
        return Err(format!("SIG{} could not be sent", handover.signal));
    }
    let deadline = Instant::now() + Duration::from_millis(handover.timeout_ms);
    loop {
        if live(main.pid) != Some(main) {
            return Err(format!("its main process (pid {}) exited", main.pid));
        }
        if let Some(new) = children(main.pid).difference(&before).next().copied() {
            // It must stay up a moment: a worker can fail on what the test missed.
            std::thread::sleep(Duration::from_millis(HANDOVER_SETTLE_MS));
            return match live(new.pid) {
                Some(p) if p == new => Ok(new),
                _ => Err(format!("the new worker (pid {}) exited at once", new.pid)),
            };
        }
        if Instant::now() >= deadline {
            return Err(format!("no new worker within {}ms", handover.timeout_ms));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_after_the_last_parenthesis() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2 3";
        assert_eq!(parse_stat(line), Some(('S', 98765)));
        assert_eq!(parse_stat("1 (x) Z 0"), None);
    }

    #[test]
    fn this_process_is_live_and_its_child_is_found() {
        let me = live(std::process::id()).expect("this process runs");
        assert_eq!(me.pid, std::process::id());
        let mut child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep runs");
        let pid = child.id();
        let found = children(std::process::id()).iter().any(|p| p.pid == pid);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found, "the child {pid} is among this process's children");
    }
}
