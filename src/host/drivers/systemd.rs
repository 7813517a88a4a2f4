//! systemd: `systemctl` acts, `systemctl show` reports, links in
//! `multi-user.target.wants` enable, `daemon-reload` follows a change, the
//! journal (`journalctl`) holds the logs. A user's services are the same
//! through the user's manager: `systemctl --user`, links in
//! `~/.config/systemd/user/default.target.wants`, the user's journal.

use std::path::Path;

use crate::{
    host::{
        action::{Action, State, Status, describe_exit},
        driver::{Ctx, Driver, Signs},
        error::Result,
        handover,
        logs::{Line, LogQuery, LogSource},
        manifest::{LinkRecord, Manifest},
        run::{native, native_with_progress, stdout_of, uptime_seconds_now},
    },
    recipe::{Handover, HandoverMain, Recipe},
    render::{
        Flavor, Layout, Target,
        facts::{service_name, unit_name},
        systemd::USER_WANTED_BY,
    },
};

/// The system's manager, or (with `user`) the calling user's.
pub struct Systemd {
    pub user: bool,
}

pub static SYSTEM: Systemd = Systemd { user: false };
pub static USER: Systemd = Systemd { user: true };

impl Systemd {
    /// A restart of a daemon that runs itself again (`main = "same"`): its
    /// main process gets the signal through `systemctl kill --kill-whom=main`,
    /// and a new worker of it is waited for; a plain `systemctl restart` when
    /// it is not running, or when none comes. Says which it did.
    fn hand_over(&self, ctx: &Ctx<'_>, h: &Handover, instance: Option<&str>) -> i32 {
        let unit = unit_name(ctx.name, instance);
        let label = service_name(ctx.name, instance);
        let status = self.status(ctx.name, instance);
        let main = status.pid.filter(|_| status.state == State::Running).and_then(handover::live);
        let plain = |why: &str| {
            eprintln!("warning: {label}: the handover did not come through ({why}); restarting plainly");
            let code = native_with_progress(
                "systemctl",
                &self.systemctl(&["restart", unit.as_str()]),
                &Action::Restart.waiting_on(&label, ctx.recipe),
            );
            if code == 0 {
                println!("{label}: restarted plainly (the handover did not come through)");
            }
            code
        };
        let Some(main) = main else {
            return native_with_progress(
                "systemctl",
                &self.systemctl(&["restart", unit.as_str()]),
                &Action::Restart.waiting_on(&label, ctx.recipe),
            );
        };
        let signal = format!("--signal=SIG{}", h.signal);
        let sent =
            || native("systemctl", &self.systemctl(&["kill", "--kill-whom=main", signal.as_str(), unit.as_str()])) == 0;
        match handover::same(main, h, sent) {
            Ok(new) => {
                println!("{label}: restarted with a handover: new workers (pid {}) of main pid {}", new.pid, main.pid);
                0
            }
            Err(why) => plain(&why),
        }
    }

    /// `systemctl`'s arguments for this manager: `--user` first for a user's.
    fn systemctl<S: AsRef<str>>(&self, args: &[S]) -> Vec<String> {
        let scope = self.user.then(|| "--user".to_owned());
        scope.into_iter().chain(args.iter().map(|a| a.as_ref().to_owned())).collect()
    }
}

/// What `systemctl show -p LoadState -p ActiveState -p MainPID -p ActiveEnterTimestampMonotonic` says.
pub fn parse_show(text: &str) -> (State, Option<u32>, Option<u64>) {
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix('=')).unwrap_or("");
    let state = match (get("LoadState"), get("ActiveState")) {
        ("not-found", _) => State::Unknown,
        (_, "active" | "reloading") => State::Running,
        (_, "failed") => State::Failed,
        (_, "activating") => State::Starting,
        (_, "inactive" | "deactivating") => State::Stopped,
        _ => State::Unknown,
    };
    let pid = get("MainPID").parse::<u32>().ok().filter(|p| *p > 0);
    let since = get("ActiveEnterTimestampMonotonic").parse::<u64>().ok().filter(|t| *t > 0);
    (state, pid, since)
}

/// How the last main process ended, from `ExecMainCode` (1 exited, 2 killed,
/// 3 dumped core) and `ExecMainStatus`; none while one runs or before any ran.
pub fn parse_last_exit(text: &str) -> Option<String> {
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix('='));
    let status: u32 = get("ExecMainStatus")?.parse().ok()?;
    match get("ExecMainCode")? {
        "1" => Some(describe_exit(status.min(128))),
        "2" | "3" => Some(describe_exit(128 + status)),
        _ => None,
    }
}

/// The unit that enabling links: the timer of a task on a schedule, the
/// socket of a socket-activated service, else the service itself.
fn entry_suffix(schedule: bool, socket: bool) -> &'static str {
    if schedule {
        "timer"
    } else if socket {
        "socket"
    } else {
        "service"
    }
}

fn entry_unit(name: &str, instance: Option<&str>, suffix: &str) -> String {
    format!("{}.{suffix}", service_name(name, instance))
}

/// The units an action works on. A socket-activated service is started by
/// its socket, and stopped with it (else the next connection starts it
/// again; with `Accept=yes`, every connection's instance); a task on a
/// schedule is started by arming its timer, and stopped with it.
fn units_for(recipe: &Recipe, name: &str, instance: Option<&str>, action: Action) -> Vec<String> {
    let service = unit_name(name, instance);
    let entry = entry_suffix(recipe.schedule.is_some(), recipe.socket.is_some());
    if entry == "service" {
        return vec![service];
    }
    let entry = entry_unit(name, instance, entry);
    let accept = recipe.socket.as_ref().is_some_and(|s| s.accept);
    let served = if accept { format!("{}@*.service", service_name(name, instance)) } else { service };
    match action {
        Action::Start | Action::Restart => vec![entry],
        Action::Stop => vec![entry, served],
        Action::Reload if accept => Vec::new(),
        Action::Reload => vec![served],
    }
}

/// The unit whose journal is the log of `instance`: its own; for a
/// template installed without instances (an `Accept=yes` socket's service,
/// one unit per connection), every unit made from it.
pub fn journal_unit(m: &Manifest, instance: Option<&str>) -> String {
    let template = format!("/{}@.service", m.recipe);
    match instance {
        None if m.files.iter().any(|f| f.path.ends_with(&template)) => format!("{}@*.service", m.recipe),
        i => unit_name(&m.recipe, i),
    }
}

/// The `journalctl` arguments that show `query` of `unit`'s journal (the
/// journal files under `root` when it is not `/`). Each value is one
/// `--option=value` argument, so a `--since` of `-1h` is never an option.
/// A user's unit is matched with `--user-unit`: the user's own journal files
/// and any others the user may read.
pub fn journal_args(unit: &str, user: bool, root: &Path, query: &LogQuery) -> Vec<String> {
    let mut args = vec![
        "--no-pager".to_owned(),
        if user { format!("--user-unit={unit}") } else { format!("--unit={unit}") },
        format!("--output={}", if query.json { "json" } else { "short-iso" }),
        format!("--lines={}", query.lines),
    ];
    if query.follow {
        args.push("--follow".to_owned());
    }
    if let Some(since) = &query.since {
        args.push(format!("--since={since}"));
    }
    if root != Path::new("/") {
        args.push(format!("--root={}", root.display()));
    }
    args
}

/// One entry of `journalctl --output=json`: its time and message (a
/// message that is not UTF-8 comes as an array of bytes).
pub fn parse_journal_entry(json: &str) -> Option<Line> {
    let entry: serde_json::Value = serde_json::from_str(json).ok()?;
    let micros: i128 = entry.get("__REALTIME_TIMESTAMP")?.as_str()?.parse().ok()?;
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok();
    let text = match entry.get("MESSAGE") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(bytes)) => {
            let bytes: Vec<u8> = bytes.iter().filter_map(|b| u8::try_from(b.as_u64()?).ok()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::new(),
    };
    Some(Line { time, text })
}

fn running() -> bool {
    Path::new("/run/systemd/system").exists()
}

/// The socket a user's manager listens on, in the user's runtime directory:
/// there while it runs (`systemctl --user` talks to it).
pub fn user_manager_socket(runtime: &str) -> String {
    format!("{runtime}/systemd/private")
}

impl Systemd {
    /// Whether this manager runs: the system's as PID 1, a user's for the
    /// calling user (its socket in `$XDG_RUNTIME_DIR`).
    fn runs(&self) -> bool {
        if !self.user {
            return running();
        }
        std::env::var("XDG_RUNTIME_DIR").is_ok_and(|dir| Path::new(&user_manager_socket(&dir)).exists())
    }
}

impl Driver for Systemd {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        if action == Action::Restart
            && let Some(h) = &ctx.recipe.restart.handover
            && h.main == HandoverMain::Same
            && handover::plain_reason(ctx.recipe, Target::Systemd).is_none()
            && ctx.recipe.socket.is_none()
        {
            let mut code = 0;
            for i in instances {
                let c = self.hand_over(ctx, h, i.as_deref());
                if code == 0 {
                    code = c;
                }
            }
            return code;
        }
        let mut args = vec![action.verb().to_owned()];
        args.extend(instances.iter().flat_map(|i| units_for(ctx.recipe, ctx.name, i.as_deref(), action)));
        if args.len() == 1 {
            // Nothing to act on: each connection of an `Accept=yes` socket is its own, fresh instance.
            return 0;
        }
        native_with_progress("systemctl", &self.systemctl(&args), &action.waiting_on(ctx.name, ctx.recipe))
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let unit = unit_name(name, instance);
        let text = stdout_of(
            "systemctl",
            &self.systemctl(&[
                "show",
                &unit,
                "-p",
                "LoadState",
                "-p",
                "ActiveState",
                "-p",
                "MainPID",
                "-p",
                "ActiveEnterTimestampMonotonic",
                "-p",
                "ExecMainCode",
                "-p",
                "ExecMainStatus",
            ]),
        );
        let (state, pid, since) = parse_show(&text);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let uptime = since.and_then(|t| uptime_seconds_now().map(|now| (now - t as f64 / 1e6).max(0.0) as u64));
        Status::new(instance, unit, state, pid, uptime).with_last_exit(parse_last_exit(&text))
    }

    /// A task on a schedule is enabled by its timer, a socket-activated
    /// service by its socket; any other service by a link in each target's
    /// `.wants` it names (`install.wanted_by`), and one per alias.
    fn enable_links(&self, recipe: &Recipe, layout: &Layout, _: Flavor, instance: Option<&str>) -> Vec<LinkRecord> {
        let units = layout.systemd_units();
        let suffix = entry_suffix(recipe.schedule.is_some(), recipe.socket.is_some());
        let name = &recipe.name;
        let template = recipe.instances.is_some();
        let file = if template { format!("{name}@.{suffix}") } else { format!("{name}.{suffix}") };
        let unit = entry_unit(name, instance, suffix);
        let link = |path: String| LinkRecord {
            path,
            target: format!("{units}/{file}"),
            instance: instance.map(str::to_owned),
            backup: None,
        };
        let targets: Vec<&str> = match suffix {
            "timer" => vec!["timers.target"],
            "socket" => vec!["sockets.target"],
            _ if layout.user.is_some() => vec![USER_WANTED_BY],
            _ => recipe.wanted_by.iter().map(String::as_str).collect(),
        };
        let mut links: Vec<LinkRecord> = targets.iter().map(|t| link(format!("{units}/{t}.wants/{unit}"))).collect();
        if suffix == "service" {
            for alias in &recipe.aliases {
                links.push(link(format!("{units}/{}", entry_unit(alias, instance, "service"))));
            }
        }
        links
    }

    /// On the running host, systemd's own answer (a package's link to the
    /// same unit name counts); under a root, the links recorded.
    fn enabled(&self, root: &Path, m: &Manifest, instance: Option<&str>) -> bool {
        if root == Path::new("/") && self.runs() {
            let has = |end: &str| m.files.iter().any(|f| f.path.ends_with(end));
            let suffix = entry_suffix(has(".timer"), has(".socket"));
            let said =
                stdout_of("systemctl", &self.systemctl(&["is-enabled", &entry_unit(&m.recipe, instance, suffix)]));
            return matches!(said.trim(), "enabled" | "enabled-runtime");
        }
        m.links.iter().any(|l| l.instance.as_deref() == instance)
    }

    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::Journal { unit: journal_unit(m, instance), user: self.user }
    }

    fn after_change(&self, _: &mut Manifest, _: bool) -> Result<bool> {
        if self.runs() {
            native("systemctl", &self.systemctl(&["daemon-reload"]));
        }
        Ok(false)
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: Some("/run/systemd/system"),
            pid1: &["systemd"],
            process: None,
            image_init: &["/systemd"],
            installed: &[],
            fallback: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn the_last_exit_reads_as_a_person_says_it() {
        let show =
            |code: &str, status: &str| format!("ActiveState=failed\nExecMainCode={code}\nExecMainStatus={status}\n");
        assert_eq!(parse_last_exit(&show("1", "3")).as_deref(), Some("exit 3"));
        assert_eq!(parse_last_exit(&show("1", "0")).as_deref(), Some("exit 0"));
        assert_eq!(parse_last_exit(&show("2", "9")).as_deref(), Some("signal KILL"));
        assert_eq!(parse_last_exit(&show("3", "11")).as_deref(), Some("signal SEGV"));
        assert_eq!(parse_last_exit(&show("0", "0")), None, "a main process that has not ended");
        assert_eq!(parse_last_exit("ActiveState=active\n"), None);
        assert_eq!(describe_exit(143), "signal TERM");
        assert_eq!(describe_exit(128 + 40), "signal 40");
    }

    #[test]
    fn parses_recorded_outputs() {
        assert_eq!(parse_show(&fixture("systemctl-show-active.txt")), (State::Running, Some(108), Some(705_376_830)));
        assert_eq!(parse_show(&fixture("systemctl-show-failed.txt")).0, State::Failed);
        assert_eq!(parse_show(&fixture("systemctl-show-activating-auto-restart.txt")).0, State::Starting);
        assert_eq!(parse_show(&fixture("systemctl-show-inactive-stopped.txt")), (State::Stopped, None, None));
        assert_eq!(parse_show(&fixture("systemctl-show-no-such-unit-loadstate.txt")).0, State::Unknown);
    }

    fn query(lines: usize, follow: bool, since: Option<&str>, json: bool) -> LogQuery {
        LogQuery { lines, follow, since: since.map(str::to_owned), json }
    }

    #[test]
    fn journalctl_is_asked_for_the_instances_unit_with_each_value_one_argument() {
        let root = Path::new("/");
        assert_eq!(
            journal_args("redis@a.service", false, root, &query(20, false, None, false)),
            ["--no-pager", "--unit=redis@a.service", "--output=short-iso", "--lines=20"]
        );
        assert_eq!(
            journal_args("nginx.service", false, Path::new("/srv/image"), &query(5, true, Some("-1h; rm -rf /"), true)),
            [
                "--no-pager",
                "--unit=nginx.service",
                "--output=json",
                "--lines=5",
                "--follow",
                "--since=-1h; rm -rf /",
                "--root=/srv/image"
            ]
        );
        let mut m = Manifest::new("redis", crate::render::Target::Systemd, Flavor::Debian);
        assert_eq!(journal_unit(&m, None), "redis.service");
        m.files.push(crate::host::manifest::FileRecord {
            path: "/etc/systemd/system/redis@.service".into(),
            hash: String::new(),
            backup: None,
            instance: None,
            mode: None,
        });
        assert_eq!(journal_unit(&m, Some("a")), "redis@a.service");
        assert_eq!(journal_unit(&m, None), "redis@*.service", "an Accept=yes service: every connection's unit");
    }

    #[test]
    fn journal_entries_read_as_lines() {
        let line = parse_journal_entry(
            r#"{"__REALTIME_TIMESTAMP":"1705308284500000","MESSAGE":"Ready to accept connections"}"#,
        )
        .unwrap();
        assert_eq!(line.time.map(time::OffsetDateTime::unix_timestamp), Some(1_705_308_284));
        assert_eq!(line.text, "Ready to accept connections");
        let bytes = parse_journal_entry(r#"{"__REALTIME_TIMESTAMP":"0","MESSAGE":[104,105,255]}"#).unwrap();
        assert_eq!(bytes.text, "hi\u{fffd}");
        assert_eq!(parse_journal_entry("not json"), None);
    }

    fn links_of(toml: &str, instance: Option<&str>) -> Vec<(String, String)> {
        let recipe = crate::recipe::parse_recipe(Path::new("t.toml"), toml).expect("the recipe parses");
        SYSTEM
            .enable_links(&recipe, &Layout::default(), Flavor::Debian, instance)
            .into_iter()
            .map(|l| (l.path, l.target))
            .collect()
    }

    const BASE: &str =
        "name = \"t\"\nsummary = \"t\"\n[run]\ncommand = [\"/bin/sleep\", \"1000\"]\nuser = \"nobody\"\n";

    #[test]
    fn enabling_links_the_unit_that_starts_the_service() {
        let plain = links_of(BASE, None);
        assert_eq!(
            plain,
            vec![(
                "/etc/systemd/system/multi-user.target.wants/t.service".into(),
                "/etc/systemd/system/t.service".into()
            )]
        );
        let wanted = links_of(
            &format!("wanted_by = [\"graphical.target\", \"network-online.target\"]\naliases = [\"tee\"]\n{BASE}"),
            None,
        );
        let paths: Vec<&str> = wanted.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/etc/systemd/system/graphical.target.wants/t.service",
                "/etc/systemd/system/network-online.target.wants/t.service",
                "/etc/systemd/system/tee.service",
            ]
        );
        assert!(wanted.iter().all(|l| l.1 == "/etc/systemd/system/t.service"));
    }

    #[test]
    fn a_socket_or_a_timer_is_what_starts_and_stops_with_its_service() {
        let recipe = |extra: &str| crate::recipe::parse_recipe(Path::new("t.toml"), &format!("{BASE}{extra}")).unwrap();
        let accept = recipe("[socket]\nstream = [\"127.0.0.1:7000\"]\naccept = true\n");
        assert_eq!(units_for(&accept, "t", None, Action::Start), ["t.socket"]);
        assert_eq!(units_for(&accept, "t", None, Action::Stop), ["t.socket", "t@*.service"]);
        assert!(units_for(&accept, "t", None, Action::Reload).is_empty());
        let socket = recipe("[socket]\nstream = [\"127.0.0.1:7000\"]\n");
        assert_eq!(units_for(&socket, "t", None, Action::Stop), ["t.socket", "t.service"]);
        assert_eq!(units_for(&socket, "t", None, Action::Reload), ["t.service"]);
        let timed = recipe("type = \"oneshot\"\n[schedule]\nevery = \"1h\"\n");
        assert_eq!(units_for(&timed, "t", None, Action::Restart), ["t.timer"]);
        assert_eq!(units_for(&timed, "t", None, Action::Stop), ["t.timer", "t.service"]);
        let plain = recipe("");
        assert_eq!(units_for(&plain, "t", Some("a"), Action::Stop), ["t@a.service"]);
    }

    #[test]
    fn a_task_on_a_schedule_is_enabled_by_its_timer_and_a_socket_service_by_its_socket() {
        let timed = links_of(&format!("{BASE}type = \"oneshot\"\n[schedule]\nevery = \"1h\"\n"), None);
        assert_eq!(
            timed,
            vec![("/etc/systemd/system/timers.target.wants/t.timer".into(), "/etc/systemd/system/t.timer".into())]
        );
        let socket = links_of(&format!("{BASE}[socket]\nstream = [\"127.0.0.1:7000\"]\naccept = true\n"), None);
        assert_eq!(
            socket,
            vec![("/etc/systemd/system/sockets.target.wants/t.socket".into(), "/etc/systemd/system/t.socket".into())]
        );
    }
}
