//! What must hold on a host before an install writes anything: the service's
//! user and group exist, its executable is there and executable, and (when
//! it is to start) its port is free.

use std::{
    fmt, fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use super::{
    install::Request,
    manifest::under,
    sets::SetsByInstance,
    settings::{argv, values},
};
use crate::recipe::ReadyCheck;

/// One thing the host lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    User(String),
    Group(String),
    /// The executable, as the command names it, and where it was looked for.
    Executable {
        name: String,
        at: PathBuf,
    },
    /// A port the service is to listen on, and who holds it.
    Port {
        instance: Option<String>,
        port: u16,
        holder: Option<String>,
    },
}

impl Missing {
    /// `--create-user` can make it.
    pub fn is_account(&self) -> bool {
        matches!(self, Missing::User(_) | Missing::Group(_))
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::User(u) => write!(
                f,
                "user `{u}` does not exist: install the package that creates it, or give --create-user to make a system user"
            ),
            Missing::Group(g) => write!(
                f,
                "group `{g}` does not exist: install the package that creates it, or give --create-user to make a system group"
            ),
            Missing::Executable { name, at } if at.as_os_str().is_empty() => {
                write!(
                    f,
                    "`{name}` is not found on PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"
                )
            }
            Missing::Executable { name, at } => {
                write!(f, "the executable `{name}` is not there or not executable ({} checked)", at.display())
            }
            Missing::Port { instance, port, holder } => {
                let who = instance.as_ref().map_or_else(String::new, |i| format!(" for `{i}`"));
                let by = holder.as_ref().map_or_else(String::new, |h| format!(" by {h}"));
                write!(f, "port {port}{who} is already in use{by}; --start would fail")
            }
        }
    }
}

const PATH: [&str; 6] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// Everything the host under `root` lacks for `req`. `free_ports` checks the
/// ready port of each instance not already installed (`installed`), on the
/// running host.
pub fn missing(req: &Request<'_>, installed: &[String], free_ports: bool) -> Vec<Missing> {
    let root = &req.place.root;
    let mut out = Vec::new();
    let run = &req.recipe.run;
    // A user's service runs as that user, whatever the recipe names.
    let system = req.place.user.is_none();
    if system && !account_exists(root, "passwd", &run.user) {
        out.push(Missing::User(run.user.clone()));
    }
    if let Some(g) = &run.group
        && system
        && !account_exists(root, "group", g)
    {
        out.push(Missing::Group(g.clone()));
    }
    let instances: Vec<Option<String>> =
        if req.instances.is_empty() { vec![None] } else { req.instances.iter().cloned().map(Some).collect() };
    let by_instance = SetsByInstance::new(&req.sets);
    // Read once, when a port is to be checked: one reading costs what the host's sockets cost.
    let mut listeners = None;
    for instance in &instances {
        let mut vals = values(req.recipe, &req.place, req.target, req.flavor, instance.as_deref());
        for s in by_instance.get(instance.as_deref()) {
            vals.insert(s.key.clone(), s.value.clone());
        }
        let program = run.executable.clone().or_else(|| argv(&run.command, &vals).into_iter().next());
        if let Some(program) = program
            && let Some(gap) = executable_missing(root, &program)
            && !out.contains(&gap)
        {
            out.push(gap);
        }
        if free_ports
            && !instance.as_ref().is_some_and(|i| installed.contains(i))
            && let Some(ready) = &req.recipe.ready
            && let ReadyCheck::Tcp(t) = &ready.check
        {
            let addr = t.substitute(&|v| vals.get(v).cloned());
            if let Some(port) = addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok())
                && let Some(inodes) =
                    listeners.get_or_insert_with(|| super::run::listeners(Path::new("/proc/net"))).get(&port)
            {
                let holder = holder(inodes);
                out.push(Missing::Port { instance: instance.clone(), port, holder });
            }
        }
    }
    out
}

/// Whether the account exists: the name service on the running host (so
/// LDAP and the like count), the root's own file otherwise; a root without
/// the file (a bare scratch tree) has nothing to check against.
fn account_exists(root: &Path, db: &str, name: &str) -> bool {
    if root == Path::new("/")
        && let Ok(o) = Command::new("getent").args([db, name]).output()
    {
        return o.status.success();
    }
    match fs::read_to_string(under(root, &format!("/etc/{db}"))) {
        Ok(text) => text.lines().any(|l| l.split(':').next() == Some(name)),
        Err(_) => true,
    }
}

fn executable_missing(root: &Path, program: &str) -> Option<Missing> {
    let runnable = |p: &Path| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.starts_with('/') {
        let at = under(root, program);
        return (!runnable(&at)).then(|| Missing::Executable { name: program.to_owned(), at });
    }
    let found = PATH.iter().any(|dir| runnable(&under(root, &format!("{dir}/{program}"))));
    (!found).then(|| Missing::Executable { name: program.to_owned(), at: PathBuf::new() })
}

/// The process holding one of the socket inodes, as `PID n (comm)`.
fn holder(inodes: &[String]) -> Option<String> {
    for proc in fs::read_dir("/proc").ok()?.flatten() {
        let pid = proc.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = fs::read_dir(proc.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if fs::read_link(fd.path()).is_ok_and(|t| inodes.iter().any(|i| Path::new(i) == t)) {
                let comm = fs::read_to_string(proc.path().join("comm")).unwrap_or_default();
                return Some(format!("PID {pid} ({})", comm.trim()));
            }
        }
    }
    None
}

/// Makes the missing system user and group under `root` (`useradd` and
/// `groupadd`, which both Debian and RHEL have): no home, no login shell.
pub fn create_accounts(
    root: &Path,
    user: &str,
    group: Option<&str>,
    missing: &[Missing],
) -> Result<Vec<String>, String> {
    let mut made = Vec::new();
    let in_root = |cmd: &mut Command| {
        if root != Path::new("/") {
            cmd.arg("--root").arg(root);
        }
    };
    if let Some(g) = group
        && missing.contains(&Missing::Group(g.to_owned()))
    {
        let mut cmd = Command::new("groupadd");
        in_root(&mut cmd);
        cmd.args(["--system", "--", g]);
        run(&mut cmd)?;
        made.push(format!("group {g}"));
    }
    if missing.contains(&Missing::User(user.to_owned())) {
        let mut cmd = Command::new("useradd");
        in_root(&mut cmd);
        cmd.args(["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"]);
        match group {
            Some(g) => cmd.args(["--gid", g]),
            None if account_exists(root, "group", user) => cmd.args(["--gid", user]),
            None => cmd.arg("--user-group"),
        };
        cmd.args(["--", user]);
        run(&mut cmd)?;
        made.push(format!("user {user}"));
    }
    Ok(made)
}

/// Removes accounts `create_accounts` made (as it recorded them: `user X`,
/// `group X`), users first; an account already gone is not an error.
pub fn remove_accounts(root: &Path, accounts: &[String]) -> Result<Vec<String>, String> {
    let mut removed = Vec::new();
    let users = accounts.iter().filter_map(|a| a.strip_prefix("user ").map(|u| ("user", "passwd", "userdel", u)));
    let groups = accounts.iter().filter_map(|a| a.strip_prefix("group ").map(|g| ("group", "group", "groupdel", g)));
    for (kind, db, tool, name) in users.chain(groups) {
        if !account_exists(root, db, name) {
            continue;
        }
        let mut cmd = Command::new(tool);
        if root != Path::new("/") {
            cmd.arg("--root").arg(root);
        }
        cmd.args(["--", name]);
        run(&mut cmd)?;
        removed.push(format!("{kind} {name}"));
    }
    Ok(removed)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("{shown} failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("{shown} could not run: {e}")),
    }
}
