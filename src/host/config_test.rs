//! The config test, run by the front-end with an instance's real values and
//! the service's user, within its budget, before a restart or reload.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    os::unix::fs::MetadataExt,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::settings;
use crate::{recipe::Recipe, render::seconds};

/// The primary group id of `user`, from /etc/passwd.
pub fn gid_of(user: &str) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == user).then(|| f[3].to_owned())
    })
}

/// A command run as `user` with a clean environment, like the artifacts do.
/// Unprivileged (a user's own service), initkit cannot become anyone else,
/// and the service runs as that user too: the command runs as it is.
fn as_user(user: &str, argv: &[String]) -> Command {
    let unprivileged = fs::metadata("/proc/self").is_ok_and(|m| m.uid() != 0);
    let mut cmd = if user == "root" || unprivileged {
        Command::new(&argv[0])
    } else {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={user}"))
            .arg(format!("--regid={}", gid_of(user).unwrap_or_else(|| user.to_owned())))
            .arg("--init-groups")
            .arg("--")
            .arg(&argv[0]);
        c
    };
    cmd.args(&argv[1..]).env_clear().env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    cmd
}

/// Runs the recipe's reload command for one instance on the running host, as
/// the service's user with the instance's values (the settings of `place`:
/// the system's, or a user's); its exit code (3 when the recipe reloads by
/// signal or not at all).
pub fn reload_command(
    recipe: &Recipe,
    place: &super::scope::Place,
    target: crate::render::Target,
    flavor: crate::render::Flavor,
    instance: Option<&str>,
) -> i32 {
    let Some(crate::recipe::Reload::Command(command)) = &recipe.reload else { return 3 };
    let values = settings::values(recipe, place, target, flavor, instance);
    let argv = settings::argv(command, &values);
    match as_user(&recipe.run.user, &argv).status() {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", argv[0]);
            1
        }
    }
}

/// The outcome of a config test.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Passed,
    Failed(String),
    /// The recipe has no config test.
    None,
}

/// Runs the recipe's config test for one instance, within its budget.
pub fn config_test(recipe: &Recipe, values: &BTreeMap<String, String>) -> Check {
    let Some(check) = &recipe.check else { return Check::None };
    let Some(command) = check.command() else { return super::trial::trial(recipe, values) };
    let argv = settings::argv(command, values);
    let user = check.user.as_deref().unwrap_or(&recipe.run.user);
    let child = as_user(user, &argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Check::Failed(format!("cannot run {}: {e}\n", argv[0])),
    };
    // Read both streams while waiting: a full pipe would stall the test (mariadbd prints a lot).
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            buf
        })
    })
    .collect();
    let deadline = Instant::now() + Duration::from_millis(check.timeout_ms);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let mut output = String::new();
    for reader in readers {
        output.push_str(&String::from_utf8_lossy(&reader.join().unwrap_or_default()));
    }
    match status {
        Some(s) if s.success() => Check::Passed,
        Some(s) if output.is_empty() => Check::Failed(format!("{} exited with {s}\n", argv[0])),
        Some(_) => Check::Failed(output),
        None => {
            Check::Failed(format!("{output}the config test did not finish within {}s\n", seconds(check.timeout_ms)))
        }
    }
}
