//! Facts every stage agrees on, each in one place: where a service's pidfiles,
//! locks, environment and logs live, what its units and services are called,
//! and how long a stop may take.

use super::{Flavor, Layout};
use crate::recipe::{Recipe, Template};

/// Where a service's settings live: its own file, and each instance's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub service: String,
    /// An instance's file is this followed by its name.
    pub instance_prefix: String,
}

impl Settings {
    /// The distribution's place: `/etc/default/NAME` and `/etc/default/NAME.d/INSTANCE`
    /// (`/etc/sysconfig` on RHEL).
    pub fn distribution(name: &str, layout: &Layout, flavor: Flavor) -> Settings {
        let dir = layout.settings(flavor);
        Settings { service: format!("{dir}/{name}"), instance_prefix: format!("{dir}/{name}.d/") }
    }

    pub fn instance(&self, instance: &str) -> String {
        format!("{}{instance}", self.instance_prefix)
    }

    /// The sentence the headers of artifacts say it in.
    pub fn described(&self, multi: bool) -> String {
        if multi { format!("{}, then {}INSTANCE", self.service, self.instance_prefix) } else { self.service.clone() }
    }
}

/// How long what a daemon leaves in its process group after it exits gets
/// between SIGTERM and SIGKILL.
pub const LEFTOVER_MS: u64 = 5_000;

/// The first step of a trial start, as root in its new network, mount and
/// PID namespaces (a trial sees no process of the host's, so it cannot
/// signal the running service, and all of it ends with its first process):
/// `sh -c TRIAL_SETUP initkit STAGE ADDRESS... -- COMMAND...`.
/// Loopback comes up with the host's addresses on it (what the daemon may
/// bind on the host it can bind in the trial; without `ip`, loopback stays
/// down: binding still works, a probe that connects does not). Then every
/// tree a daemon writes to (/etc /home /opt /root /run /srv /tmp /var, and each file system mounted
/// below one) is shadowed by a copy-on-write layer kept in STAGE (a fresh
/// directory on a tmpfs): the trial reads the real files, and what it writes
/// ends with it. A tree that cannot be shadowed ends the trial: it never
/// runs with the real files writable. Then COMMAND runs.
pub const TRIAL_SETUP: &str = r#"stage=$1
shift
roots='/etc /home /opt /root /run /srv /tmp /var'
ip link set lo up 2>/dev/null
while [ "$1" != -- ]; do
    ip addr add "$1" dev lo 2>/dev/null
    shift
done
shift
trees=$(
    for tree in $roots; do
        [ -d "$tree" ] && [ ! -L "$tree" ] && printf '%s\n' "$tree"
    done
    while read -r _ _ _ _ point _; do
        for tree in $roots; do
            case $point in "$tree"|"$tree"/*) printf '%s\n' "$point" ;; esac
        done
    done </proc/self/mountinfo
)
trees=$(printf '%s\n' "$trees" | grep -v '[\]' | sort -u)
set -f
IFS='
'
# What is mounted below a tree is out of reach once the tree is shadowed:
# every lower layer is taken first, parents before children. A tree itself
# must be shadowed; a file system below one is shadowed too, or (a special
# one, or a single file such as a container's /etc/resolv.conf) bound back
# read-only, or left out.
n=0
for point in $trees; do
    n=$((n + 1))
    at=$stage/$n
    mkdir "$at" || exit 1
    case " $roots " in *" $point "*) root=1 ;; *) root=0 ;; esac
    if [ -d "$point" ]; then
        mkdir "$at/lower" "$at/upper" "$at/work" || exit 1
        # The shadow's top takes its owner and mode from the upper layer's.
        chown --reference="$point" "$at/upper" && chmod --reference="$point" "$at/upper" || exit 1
    else
        : >"$at/lower" || exit 1
    fi
    if ! mount --bind "$point" "$at/lower"; then
        [ "$root" = 1 ] && exit 1
        rm -rf "$at"
    fi
done
n=0
for point in $trees; do
    n=$((n + 1))
    at=$stage/$n
    [ -e "$at" ] || continue
    if [ -d "$at/lower" ] && mount -t overlay overlay -o "lowerdir=$at/lower,upperdir=$at/upper,workdir=$at/work" "$point"; then
        continue
    fi
    if [ -d "$at/lower" ] && case " $roots " in *" $point "*) true ;; *) false ;; esac; then
        echo "initkit: cannot shadow $point with a copy-on-write layer; no trial with the real files writable" >&2
        exit 1
    fi
    mount --bind "$at/lower" "$point" 2>/dev/null && mount -o remount,bind,ro "$point" 2>/dev/null
done
unset IFS
set +f
exec "$@""#;

/// How long a trial start must stay up once it is ready: some daemons listen
/// before they check the rest (beanstalkd opens its port, then fails to lock
/// its binlog), so a first probe can catch a start that is about to die.
pub const TRIAL_SETTLE_MS: u64 = 500;

/// How long the new process of a handover (a new main process with its
/// workers, or a new worker) must stay up for the handover to count: a worker
/// can still fail on what the config test does not look at.
pub const HANDOVER_SETTLE_MS: u64 = 300;

/// How long a daemon without a readiness check must stay up before a start
/// counts as done: one that rejects its config exits well within it.
pub const SETTLE_MS: u64 = 1_000;

/// The root-owned directory of a service's pidfiles and locks.
pub fn pid_dir(recipe: &Recipe, layout: &Layout) -> String {
    format!("{}/initkit/{}", layout.run(), recipe.name)
}

/// The pidfile of an instance (or of the service) on the running host.
pub fn pidfile(name: &str, instance: Option<&str>) -> String {
    pidfile_in(&Layout::default(), name, instance)
}

/// The pidfile a supervisor's wrapper writes, under `/run` or a user's
/// runtime directory.
pub fn pidfile_in(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/initkit/{name}/{}.pid", layout.run(), instance.unwrap_or(name))
}

/// Where a supervisor's wrapper records how the daemon last ended (its wait
/// status), beside the pidfile: under `/run`, or a user's runtime directory.
pub fn exit_file(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/initkit/{name}/{}.exit", layout.run(), instance.unwrap_or(name))
}

/// The directory of initkit's logs of a service: the console logs of its
/// scripts, its supervisors' log directories, launchd's output.
pub fn log_dir(layout: &Layout, name: &str) -> String {
    format!("{}/initkit/{name}", layout.log())
}

/// The file an instance's output goes to where no logger of the init
/// system's takes it: the console log the SysV and OpenRC scripts write
/// (`ik_load` in shell/lib.sh builds the same path from `CONSOLE_LOG_DIR`,
/// which is [`log_dir`]), and launchd's `StandardOutPath`.
pub fn console_log(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/{}.log", log_dir(layout, name), instance.unwrap_or(name))
}

/// How a log marks the time of each line: what `initkit logs` decodes and
/// filters `--since` by. The loggers' flags that make them are beside it
/// (`LOGGER` in runit.rs, s6.rs and daemontools.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// None: each line is as the daemon wrote it.
    None,
    /// A TAI64N label and a space, `@4000000065a4f0b21dcd6500 ` (multilog's `t`).
    Tai64n,
    /// UTC, `2024-01-15_10:20:30.12345 ` (svlogd's `-tt`).
    Utc,
    /// Local time, `2024-01-15 10:20:30.123456789  ` (s6-log's `T`).
    Local,
}

/// The root-only file of the recipe's literal environment values.
pub fn env_file(recipe: &Recipe, layout: &Layout) -> String {
    format!("{}/env/{}", layout.initkit_config(), recipe.name)
}

/// A value that refers to a variable is resolved where the service starts;
/// a literal one goes to the root-only environment file.
pub fn env_is_templated(value: &Template) -> bool {
    value.as_literal().is_none()
}

/// Whether the recipe has literal environment values (and so an environment file).
pub fn has_env_file(recipe: &Recipe) -> bool {
    recipe.run.environment.iter().any(|(_, v)| !env_is_templated(v))
}

/// Milliseconds a stop may take, pre-stop steps included, before anything is killed.
pub fn stop_budget_ms(recipe: &Recipe) -> u64 {
    recipe.stop.timeout_ms + recipe.stop.before.iter().map(|h| h.timeout_ms + 2_000).sum::<u64>()
}

/// The service's name for one instance: `redis@a`, or `nginx`. It is the
/// directory name for runit, s6 and daemontools and the supervisord program
/// name: names are drawn from an alphabet all of them take literally, so two
/// instances never share one.
pub fn service_name(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("{name}@{i}"),
        None => name.to_owned(),
    }
}

/// The systemd unit of an instance: `redis@a.service`, `nginx.service`.
/// Instance names need no escaping in a unit name (see recipe::name).
pub fn unit_name(name: &str, instance: Option<&str>) -> String {
    format!("{}.service", service_name(name, instance))
}

/// A `case` pattern that matches every word of [`crate::recipe::YES`] in any
/// case: `[Yy][Ee][Ss]|…`.
pub fn yes_pattern() -> String {
    crate::recipe::YES
        .iter()
        .map(|w| {
            w.chars()
                .map(
                    |c| {
                        if c.is_ascii_alphabetic() {
                            format!("[{}{}]", c.to_ascii_uppercase(), c)
                        } else {
                            c.to_string()
                        }
                    },
                )
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_write_their_console_log_where_initkit_logs_reads_it() {
        let lib = include_str!("shell/lib.sh");
        assert!(lib.contains("console_log=\"$CONSOLE_LOG_DIR/$instance.log\""), "an instance's console log");
        assert!(lib.contains("console_log=\"$CONSOLE_LOG_DIR/$NAME.log\""), "the service's console log");
        let layout = Layout::default();
        assert_eq!(console_log(&layout, "redis", Some("a")), format!("{}/a.log", log_dir(&layout, "redis")));
        assert_eq!(console_log(&layout, "nginx", None), "/var/log/initkit/nginx/nginx.log");
    }
}
