//! The life cycle: `[check]`, `[reload]`, `[start]`, `[stop]` with their
//! steps, `[ready]` and `[restart]`.

use toml_edit::Item;

use super::{
    super::{
        model::{
            Check, Handover, HandoverMain, Hook, HookAction, Ready, ReadyCheck, Reload, Restart, RestartPolicy, Start,
            Stop, StopMode, Test,
        },
        read::{Reader, Tbl, join},
        signal::Signal,
        text::Kind,
    },
    scope::{Scope, Uses, account, argv_in_scope, check_scope, choice},
};

/// `[check]`: the daemon's config test (`command`), or a trial start
/// (`trial = true`) for a daemon that has none.
pub fn read_check(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Check> {
    r.deny_unknown(t, &["command", "user", "timeout", "trial"]);
    let has = |key: &str| t.inner.get(key).is_some();
    if has("trial") {
        for key in ["command", "user", "timeout"] {
            if let Some((k, _)) = t.inner.get_key_value(key) {
                r.error_help(
                    &join(t.path, key),
                    k.span(),
                    format!("`{key}` does not go with `trial`"),
                    "a trial start runs the service's own command as its user, within its readiness budget ([ready] timeout)",
                );
            }
        }
        if r.bool(t, "trial") == Some(false) {
            let span = t.inner.get("trial").and_then(Item::span);
            r.error_help(
                "check.trial",
                span,
                "`trial = false` says nothing",
                "give the config test as `command`, or remove [check] when the service has no gate",
            );
        }
        return Some(Check { test: Test::Trial, user: None, timeout_ms: 0 });
    }
    // Every field is read, so every problem is reported, before any is used.
    let command = argv_in_scope(r, t, "command", true, scope);
    let user = account(r, t, "user");
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(30_000);
    Some(Check { test: Test::Command(command?), user, timeout_ms })
}

pub fn read_reload(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Reload> {
    r.deny_unknown(t, &["signal", "command"]);
    match (t.inner.contains_key("signal"), t.inner.contains_key("command")) {
        (true, false) => signal(r, t, "signal").map(Reload::Signal),
        (false, true) => argv_in_scope(r, t, "command", true, scope).map(Reload::Command),
        _ => {
            r.error("reload", t.span(), "give exactly one of `signal` or `command`");
            None
        }
    }
}

fn signal(r: &mut Reader<'_>, t: Tbl<'_>, key: &str) -> Option<Signal> {
    let (text, span) = r.string(t, key, false, Kind::Line)?;
    Signal::parse(&text).map_err(|e| r.error(&join(t.path, key), span, e)).ok()
}

/// Whether the steps of `key` may say `optional` (a failing step fails a
/// start; steps of a stop never fail it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fatal {
    Yes,
    Never,
}

/// `[[TABLE.KEY]]`: steps in order; `None` when one of them is bad.
fn read_hooks(r: &mut Reader<'_>, t: Tbl<'_>, key: &str, scope: &Scope, fatal: Fatal) -> Option<Vec<Hook>> {
    let field = join(t.path, key);
    let mut out = Vec::new();
    let mut ok = true;
    match t.inner.get(key) {
        None => {}
        Some(Item::ArrayOfTables(hooks)) => {
            for (i, hook) in hooks.iter().enumerate() {
                let path = format!("{field}[{i}]");
                let ht = Tbl::new(hook, hook.span(), &path);
                match read_hook(r, ht, scope, fatal) {
                    Some(h) => out.push(h),
                    None => ok = false,
                }
            }
        }
        Some(other) => {
            r.error(&field, other.span(), format!("expected [[{field}]] tables, one per step"));
            ok = false;
        }
    }
    ok.then_some(out)
}

fn read_hook(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope, fatal: Fatal) -> Option<Hook> {
    r.deny_unknown(t, &["description", "run", "poll", "interval", "timeout", "user", "optional"]);
    let description = r.string(t, "description", true, Kind::Line).map(|(d, _)| d);
    let timeout_ms = r.duration(t, "timeout", true);
    let user = account(r, t, "user");
    let optional = r.bool(t, "optional").unwrap_or(false);
    if fatal == Fatal::Never && t.inner.contains_key("optional") {
        let span = t.inner.get_key_value("optional").and_then(|(k, _)| k.span());
        r.error_help(
            &join(t.path, "optional"),
            span,
            "steps of a stop are always optional",
            "a failed or late step is reported and the stop goes on; remove `optional`",
        );
    }
    let action = match (t.inner.contains_key("run"), t.inner.contains_key("poll")) {
        (true, false) => argv_in_scope(r, t, "run", true, scope).map(HookAction::Run),
        (false, true) => {
            let interval_ms = r.duration(t, "interval", false).unwrap_or(1_000);
            argv_in_scope(r, t, "poll", true, scope).map(|command| HookAction::Poll { command, interval_ms })
        }
        _ => {
            r.error(
                t.path,
                t.span(),
                "give exactly one of `run` (a command run once) or `poll` (a command retried until it succeeds)",
            );
            None
        }
    };
    Some(Hook { description: description?, action: action?, timeout_ms: timeout_ms?, user, optional })
}

pub fn read_start(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Start> {
    r.deny_unknown(t, &["before", "after"]);
    let before = read_hooks(r, t, "before", scope, Fatal::Yes);
    let after = read_hooks(r, t, "after", scope, Fatal::Yes);
    Some(Start { before: before?, after: after? })
}

pub fn default_stop() -> Stop {
    Stop {
        signal: Signal::Term,
        timeout_ms: 30_000,
        before: Vec::new(),
        command: None,
        mode: StopMode::Mixed,
        after: Vec::new(),
    }
}

pub fn read_stop(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Stop> {
    r.deny_unknown(t, &["signal", "timeout", "before", "command", "mode", "after"]);
    // Every field is read, so every problem is reported, before any is used.
    let signal = if t.inner.contains_key("signal") { signal(r, t, "signal") } else { Some(Signal::Term) };
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(30_000);
    let before = read_hooks(r, t, "before", scope, Fatal::Never);
    let after = read_hooks(r, t, "after", scope, Fatal::Never);
    let command =
        if t.inner.contains_key("command") { Some(argv_in_scope(r, t, "command", true, scope)) } else { None };
    let mode = if t.inner.contains_key("mode") { choice(r, t, "mode", &StopMode::ALL) } else { Some(StopMode::Mixed) };
    Some(Stop {
        signal: signal?,
        timeout_ms,
        before: before?,
        command: match command {
            Some(c) => Some(c?),
            None => None,
        },
        mode: mode?,
        after: after?,
    })
}

pub fn read_ready(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Ready> {
    r.deny_unknown(t, &["tcp", "command", "timeout", "settle"]);
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(10_000);
    let settle_ms = r.duration(t, "settle", false).unwrap_or(0);
    let check = match (t.inner.contains_key("tcp"), t.inner.contains_key("command")) {
        (true, false) => {
            let (tcp, span) = r.template(t, "tcp", true, Kind::Path)?;
            let ok = check_scope(r, "ready.tcp", &tcp, span.as_ref(), scope, Uses::All);
            if !tcp.to_string().contains(':') {
                r.error("ready.tcp", span, "expected `host:port`, for example \"{bind}:{port}\"");
                return None;
            }
            ok.then_some(ReadyCheck::Tcp(tcp))?
        }
        (false, true) => ReadyCheck::Command(argv_in_scope(r, t, "command", true, scope)?),
        _ => {
            r.error("ready", t.span(), "give exactly one of `tcp` or `command`");
            return None;
        }
    };
    Some(Ready { check, timeout_ms, settle_ms })
}

pub fn read_restart(r: &mut Reader<'_>, t: Tbl<'_>, task: bool) -> Option<Restart> {
    r.deny_unknown(t, &["policy", "delay", "burst", "interval", "prevent_codes", "handover"]);
    let mut restart = Restart::default_for(task);
    let policy = if t.inner.contains_key("policy") { choice(r, t, "policy", &RestartPolicy::ALL) } else { None };
    if let Some(p) = policy {
        restart.policy = p;
    }
    if let Some(d) = r.duration(t, "delay", false) {
        restart.delay_ms = d;
    }
    restart.burst = r.integer(t, "burst", 1..=10_000).and_then(|n| u32::try_from(n).ok());
    restart.interval_ms = r.duration(t, "interval", false);
    if restart.interval_ms.is_some() != restart.burst.is_some() {
        r.error_help(
            "restart",
            t.span(),
            "`burst` and `interval` go together: at most `burst` starts within `interval`",
            "for example burst = 5, interval = \"10s\"",
        );
    }
    restart.prevent_codes = r.exit_codes(t, "prevent_codes");
    let handover = r.table(t, "handover", "restart.handover").map(|h| read_handover(r, h));
    restart.handover = match handover {
        Some(None) => return None,
        Some(h) => h,
        None => None,
    };
    (policy.is_some() || !t.inner.contains_key("policy")).then_some(restart)
}

/// `[restart.handover]`: the signal that begins it, where the main process
/// is after it, and (for a new main process) the signal that ends the old one.
fn read_handover(r: &mut Reader<'_>, t: Tbl<'_>) -> Option<Handover> {
    r.deny_unknown(t, &["signal", "main", "finish", "timeout"]);
    // Every field is read, so every problem is reported, before any is used.
    let begin = signal(r, t, "signal");
    if !t.inner.contains_key("signal") {
        r.error_help(
            "restart.handover.signal",
            t.span(),
            "missing `signal`: what the main process gets to begin the handover",
            "nginx and haproxy: signal = \"USR2\"",
        );
    }
    let main = r.string(t, "main", false, Kind::Line);
    let finish = if t.inner.contains_key("finish") { signal(r, t, "finish") } else { None };
    let finish_span = t.inner.get_key_value("finish").and_then(|(k, _)| k.span());
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(10_000);
    let main = match main {
        None => {
            r.error_help(
                "restart.handover.main",
                t.span(),
                "missing `main`: where the main process is once the handover is done",
                "\"child\" (a new main started by the old one: nginx) or \"same\" (it runs itself again: haproxy -W)",
            );
            None
        }
        Some((text, span)) => match (text.as_str(), finish) {
            ("child", Some(finish)) => Some(HandoverMain::Child { finish }),
            ("child", None) => {
                if !t.inner.contains_key("finish") {
                    r.error_help(
                        "restart.handover.finish",
                        span,
                        "`main = \"child\"` needs `finish`: the signal that ends the old main process",
                        "nginx: finish = \"QUIT\" (a graceful shutdown of the old master)",
                    );
                }
                None
            }
            ("same", _) => {
                if t.inner.contains_key("finish") {
                    r.error_help(
                        "restart.handover.finish",
                        finish_span,
                        "`finish` does not go with `main = \"same\"`: there is no old main process to end",
                        "remove `finish`; the daemon ends its old workers itself",
                    );
                    None
                } else {
                    Some(HandoverMain::Same)
                }
            }
            (other, _) => {
                r.error(
                    "restart.handover.main",
                    span,
                    format!("`{other}` is not one of {}", HandoverMain::NAMES.join(", ")),
                );
                None
            }
        },
    };
    Some(Handover { signal: begin?, main: main?, timeout_ms })
}
