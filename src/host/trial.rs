//! The trial start, run by the front-end: the gate of a daemon without a
//! config-test mode. The new configuration starts for real, as the service's
//! user, in a network namespace of its own (its ports are free there; the
//! host's addresses are on its loopback), with directories of its own, and
//! with whatever else it writes kept in a private copy-on-write layer
//! ([`facts::TRIAL_SETUP`]), so it neither sees nor disturbs the running
//! instance; ready within the start budget means it passed. It is then
//! killed, and its log is the report. The scripts carry the same steps in
//! shell (`ik_trial`).

use std::{
    collections::BTreeMap,
    fs::{self, DirBuilder, File},
    os::unix::{fs::DirBuilderExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use super::{config_test::Check, run::listening_sockets, settings};
use crate::{
    recipe::{ReadyCheck, Recipe, Test},
    render::{Layout, envfile, facts},
};

/// Inside the new namespaces, as root: `UMASK [RESOURCE VALUE]... -- ` and
/// then [`facts::TRIAL_SETUP`]'s arguments. Each limit as the scripts set it
/// (the hard limit when it cannot be raised).
const LIMITS: &str = r#"umask "$1"; shift
while [ "$1" != -- ]; do
    prlimit --pid $$ "--$1=$2:$2" 2>/dev/null || {
        hard=$(prlimit --pid $$ "--$1" --noheadings --raw --output HARD)
        prlimit --pid $$ "--$1=$hard:$hard"
    }
    shift 2
done
shift
"#;

/// How many lines of the trial's log a failure shows.
const LOG_LINES: usize = 8;

/// Starts `recipe` with `values` as a trial and reports how it went.
pub fn trial(recipe: &Recipe, values: &BTreeMap<String, String>) -> Check {
    if recipe.check.as_ref().map(|c| &c.test) != Some(&Test::Trial) {
        return Check::None;
    }
    // Its own directories, and the copy-on-write layers of what else it writes (on a tmpfs).
    let (dir, stage) = match (scratch_dir(&std::env::temp_dir()), scratch_dir(Path::new("/dev/shm"))) {
        (Ok(dir), Ok(stage)) => (dir, stage),
        (dir, stage) => {
            let e = [&dir, &stage].iter().find_map(|r| r.as_ref().err().map(ToString::to_string));
            for made in [dir, stage].into_iter().flatten() {
                let _ = fs::remove_dir_all(made);
            }
            return Check::Failed(format!("cannot make a directory for a trial start: {}\n", e.unwrap_or_default()));
        }
    };
    let outcome = run(recipe, values, &dir, &stage);
    // The daemon and its namespaces are gone; what it left is data, never followed through a link.
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&stage);
    match outcome {
        Ok(()) => Check::Passed,
        Err(report) => Check::Failed(report),
    }
}

/// A fresh directory under `base`, traversable by the service's user.
fn scratch_dir(base: &Path) -> std::io::Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = base.join(format!("initkit-trial.{}.{nanos}", std::process::id()));
    DirBuilder::new().mode(0o711).create(&dir)?;
    Ok(dir)
}

/// The numeric user and group the service runs as (through NSS, like the scripts).
fn ids(recipe: &Recipe) -> Result<(String, String), String> {
    let id = |args: &[&str]| {
        Command::new("id")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let user = &recipe.run.user;
    let uid = id(&["-u", user]).ok_or_else(|| format!("user '{user}' does not exist\n"))?;
    let gid = match &recipe.run.group {
        Some(group) => Command::new("getent")
            .args(["group", group])
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).split(':').nth(2).map(str::to_owned))
            .ok_or_else(|| format!("group '{group}' does not exist\n"))?,
        None => id(&["-g", user]).ok_or_else(|| format!("user '{user}' does not exist\n"))?,
    };
    Ok((uid, gid))
}

fn run(recipe: &Recipe, values: &BTreeMap<String, String>, dir: &Path, stage: &Path) -> Result<(), String> {
    let (uid, gid) = ids(recipe)?;
    let mut values = values.clone();
    let mode = recipe.directories.mode.unwrap_or(0o755);
    for (var, sub) in [("runtime_dir", "run"), ("state_dir", "state"), ("logs_dir", "log")] {
        if values.contains_key(var) {
            let path = dir.join(sub);
            DirBuilder::new()
                .mode(mode)
                .create(&path)
                .and_then(|()| std::os::unix::fs::chown(&path, uid.parse().ok(), gid.parse().ok()))
                .map_err(|e| format!("cannot make {}: {e}\n", path.display()))?;
            values.insert(var.to_owned(), path.to_string_lossy().into_owned());
        }
    }

    let log_path = dir.join("console.log");
    let log = File::create(&log_path).map_err(|e| format!("cannot make {}: {e}\n", log_path.display()))?;
    let err_log = log.try_clone().map_err(|e| e.to_string())?;
    let argv = settings::argv(&recipe.run.command, &values);
    let umask = format!("{:04o}", recipe.run.umask.unwrap_or(0o022));
    // The parent-death signal: an initkit killed mid-trial leaves no trial
    // running (unshare's --kill-child ends the rest).
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--pdeathsig",
        "KILL",
        "--",
        "unshare",
        "--net",
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--",
        "sh",
        "-c",
        &format!("{LIMITS}{}", facts::TRIAL_SETUP),
        "initkit",
    ])
    .arg(&umask);
    for (key, value) in recipe.run.limits.entries() {
        cmd.arg(key).arg(value.to_string());
    }
    cmd.arg("--").arg(stage).args(host_addresses()).arg("--").args(as_user(recipe, &uid, &gid)).args(&argv);
    let workdir = recipe.run.working_directory.as_ref().map(|w| w.substitute(&|v| values.get(v).cloned()));
    cmd.current_dir(workdir.as_deref().unwrap_or("/"))
        .env_clear()
        .envs(environment(recipe, &values))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run unshare for a trial start: {e}\n"))?;
    let outcome = watch(recipe, &values, &uid, &gid, &child);
    end(&mut child);
    outcome.map_err(|why| {
        let text = fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_LINES)..].join("\n");
        format!("a trial start of the new configuration {why}; its last lines:\n{tail}\n")
    })
}

/// The host's addresses (`ip -o addr show`), for the trial's loopback:
/// link-local ones and loopback's own left out.
fn host_addresses() -> Vec<String> {
    let text = Command::new("ip")
        .args(["-o", "addr", "show"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (interface, address) = (f.get(1)?, f.get(3)?);
            let address = address.split('/').next()?;
            (*interface != "lo" && !address.starts_with("fe80:")).then(|| address.to_owned())
        })
        .collect()
}

/// `setpriv` to the service's user, or nothing for root.
fn as_user(recipe: &Recipe, uid: &str, gid: &str) -> Vec<String> {
    if recipe.run.user == "root" {
        return Vec::new();
    }
    [
        "setpriv".to_owned(),
        format!("--reuid={uid}"),
        format!("--regid={gid}"),
        "--init-groups".to_owned(),
        "--".to_owned(),
    ]
    .into()
}

/// The service's environment, as the artifacts give it: a clean one, the
/// recipe's literal values, the operator's file, then the templated values.
fn environment(recipe: &Recipe, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let user = &recipe.run.user;
    let home = Command::new("getent")
        .args(["passwd", user])
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).split(':').nth(5).map(str::to_owned))
        .unwrap_or_else(|| "/".to_owned());
    let mut env = vec![
        ("PATH".to_owned(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()),
        ("HOME".to_owned(), home),
        ("USER".to_owned(), user.clone()),
        ("LOGNAME".to_owned(), user.clone()),
    ];
    let mut files = Vec::new();
    if facts::has_env_file(recipe) {
        files.push(facts::env_file(recipe, &Layout::default()));
    }
    if let Some(file) = &recipe.run.environment_file {
        files.push(file.substitute(&|v| values.get(v).cloned()));
    }
    for file in files {
        env.extend(envfile::parse(&fs::read_to_string(file).unwrap_or_default()));
    }
    for (key, value) in &recipe.run.environment {
        if facts::env_is_templated(value) {
            env.push((key.clone(), value.substitute(&|v| values.get(v).cloned())));
        }
    }
    env
}

/// Whether the process has exited (a zombie not yet reaped counts as gone;
/// while it is one, its process group ID cannot be reused).
fn exited(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned)))
        .is_none_or(|state| matches!(state.as_str(), "Z" | "X" | "x"))
}

/// Waits until the trial is ready (`Ok`) or exits or runs out of its budget (`Err`, why).
fn watch(
    recipe: &Recipe,
    values: &BTreeMap<String, String>,
    uid: &str,
    gid: &str,
    child: &Child,
) -> Result<(), String> {
    let pid = child.id();
    let budget = recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms);
    let started = Instant::now();
    // Until it is in its own namespace, a probe of it would see the host's ports.
    let host = fs::read_link("/proc/self/ns/net").ok();
    while !exited(pid)
        && fs::read_link(format!("/proc/{pid}/ns/net")).ok() == host
        && started.elapsed() < Duration::from_millis(budget)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    loop {
        if exited(pid) {
            return Err("exited".to_owned());
        }
        let ready = match recipe.ready.as_ref().map(|r| &r.check) {
            Some(ReadyCheck::Tcp(addr)) => {
                let addr = addr.substitute(&|v| values.get(v).cloned());
                addr.rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                    .is_some_and(|port| !listening_sockets(Path::new(&format!("/proc/{pid}/net")), port).is_empty())
            }
            // Its root and directory too: entering a mount namespace alone
            // leaves a probe at the namespace's root, outside a chroot.
            Some(ReadyCheck::Command(c)) => Command::new("nsenter")
                .arg(format!("--net=/proc/{pid}/ns/net"))
                .arg(format!("--mount=/proc/{pid}/ns/mnt"))
                .arg(format!("--root=/proc/{pid}/root"))
                .arg(format!("--wd=/proc/{pid}/cwd"))
                .arg("--")
                .args(as_user(recipe, uid, gid))
                .args(settings::argv(c, values))
                .env_clear()
                .envs(environment(recipe, values))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            None => started.elapsed() >= Duration::from_millis(facts::SETTLE_MS),
        };
        // Ready counts only while it is still running, and still a moment later:
        // some daemons listen before they fail.
        if ready && !exited(pid) {
            let settled = Instant::now() + Duration::from_millis(facts::TRIAL_SETTLE_MS);
            while Instant::now() < settled {
                if exited(pid) {
                    return Err("exited right after it became ready".to_owned());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            return Ok(());
        }
        if started.elapsed() >= Duration::from_millis(budget) {
            return Err(format!("was not ready within {budget}ms"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ends the trial with KILL, not the stop signal: a daemon that saves at
/// shutdown writes nothing. The leader is reaped last, so the group ID stays
/// its own until then.
fn end(child: &mut Child) {
    let pid = child.id();
    // The first process of its PID namespace goes first, and the whole
    // namespace with it, whatever session or group its processes made.
    // The unshare before it exits once all of them are gone.
    let kill = |target: &str| {
        let _ = Command::new("kill").args(["-s", "KILL", "--", target]).stderr(Stdio::null()).status();
    };
    let inits = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    if let Some(init) = inits.split_whitespace().next() {
        kill(init);
        let deadline = Instant::now() + Duration::from_millis(facts::LEFTOVER_MS);
        while !exited(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    kill(&format!("-{pid}"));
    let _ = child.wait();
}
