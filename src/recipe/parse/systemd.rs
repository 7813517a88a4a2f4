//! `[systemd]`, `[schedule]` and `[socket]`: the sandbox and what only some
//! init systems do natively.

use toml_edit::Item;

use super::{
    super::{
        model::{Relax, Systemd},
        model::{check_slice, is_account_name},
        read::{Reader, Tbl},
        schedule::{IPV6_ONLY, Schedule, Socket, check_calendar, check_listen, check_mode},
        text::Kind,
    },
    scope::{Scope, absolute_path},
};

/// The `[systemd]` table, and whether it says `notify = true` (the older
/// spelling of `run.type = "notify"`).
pub fn read_systemd(r: &mut Reader<'_>, t: Option<Tbl<'_>>, scope: &Scope) -> (Systemd, bool) {
    let mut systemd = Systemd {
        exposure_max: 2.0,
        capabilities: Vec::new(),
        memory_deny_write_execute: true,
        address_families: vec!["AF_UNIX".into(), "AF_INET".into(), "AF_INET6".into()],
        write_paths: Vec::new(),
        allow: Vec::new(),
        tasks_max: None,
        watchdog_ms: None,
        fd_store_max: None,
        ignore_on_isolate: false,
        slice: None,
    };
    let Some(t) = t else { return (systemd, false) };
    r.deny_unknown(
        t,
        &[
            "exposure_max",
            "capabilities",
            "memory_deny_write_execute",
            "address_families",
            "write_paths",
            "notify",
            "allow",
            "tasks_max",
            "watchdog",
            "fd_store_max",
            "ignore_on_isolate",
            "slice",
        ],
    );
    if let Some(max) = r.float(t, "exposure_max") {
        if (0.0..=10.0).contains(&max) {
            systemd.exposure_max = max;
        } else {
            let span = t.inner.get("exposure_max").and_then(Item::span);
            r.error(
                "systemd.exposure_max",
                span,
                "must be between 0.0 and 10.0, the range systemd-analyze security scores in",
            );
        }
    }
    if let Some(caps) = r.strings(t, "capabilities", Kind::Line) {
        for (cap, span) in caps {
            if cap.starts_with("CAP_") && cap[4..].chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                systemd.capabilities.push(cap);
            } else {
                r.error(
                    "systemd.capabilities",
                    span,
                    format!("`{cap}` is not a capability name such as CAP_NET_BIND_SERVICE"),
                );
            }
        }
    }
    if let Some(families) = r.strings(t, "address_families", Kind::Line) {
        systemd.address_families.clear();
        for (family, span) in families {
            if family.starts_with("AF_") && family[3..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                systemd.address_families.push(family);
            } else {
                r.error(
                    "systemd.address_families",
                    span,
                    format!("`{family}` is not an address family such as AF_INET"),
                );
            }
        }
    }
    if let Some(paths) = r.strings(t, "write_paths", Kind::ListPath) {
        for (i, (text, span)) in paths.into_iter().enumerate() {
            let field = format!("systemd.write_paths[{i}]");
            if let Some((path, span)) = r.parse_template(&field, &text, span, Kind::ListPath)
                && absolute_path(r, &field, &path, span, scope)
            {
                systemd.write_paths.push(path);
            }
        }
    }
    if let Some(b) = r.bool(t, "memory_deny_write_execute") {
        systemd.memory_deny_write_execute = b;
    }
    for (i, (text, span)) in r.strings(t, "allow", Kind::Line).unwrap_or_default().into_iter().enumerate() {
        match Relax::ALL.iter().find(|(_, n)| *n == text) {
            Some((relax, _)) if !systemd.allow.contains(relax) => systemd.allow.push(*relax),
            Some(_) => r.error(&format!("systemd.allow[{i}]"), span, format!("`{text}` is named twice")),
            None => {
                let names: Vec<&str> = Relax::ALL.iter().map(|(_, n)| *n).collect();
                r.error(
                    &format!("systemd.allow[{i}]"),
                    span,
                    format!("`{text}` is not a part of the sandbox initkit can lift: use {}", names.join(", ")),
                );
            }
        }
    }
    systemd.tasks_max = r.unsigned(t, "tasks_max");
    systemd.watchdog_ms = r.duration(t, "watchdog", false);
    systemd.fd_store_max = r.unsigned(t, "fd_store_max");
    systemd.ignore_on_isolate = r.bool(t, "ignore_on_isolate").unwrap_or(false);
    if let Some((slice, span)) = r.string(t, "slice", false, Kind::Line) {
        match check_slice(&slice) {
            Ok(()) => systemd.slice = Some(slice),
            Err(why) => r.error_help(
                "systemd.slice",
                span,
                format!("`{slice}` {why}"),
                "name a slice unit such as \"system-db.slice\" (letters, digits and `:_.-`, `-` for nesting)",
            ),
        }
    }
    if systemd.watchdog_ms == Some(0) {
        let span = t.inner.get("watchdog").and_then(Item::span);
        r.error("systemd.watchdog", span, "must be longer than 0 (leave it out for no watchdog)");
    }
    let notify = r.bool(t, "notify").unwrap_or(false);
    (systemd, notify)
}

pub fn read_schedule(r: &mut Reader<'_>, t: Tbl<'_>) -> Option<Schedule> {
    r.deny_unknown(t, &["calendar", "every", "persistent", "random_delay", "fixed_random_delay"]);
    let calendar = r.string(t, "calendar", false, Kind::Line).and_then(|(text, span)| match check_calendar(&text) {
        Ok(()) => Some(text),
        Err(e) => {
            r.error("schedule.calendar", span, e);
            None
        }
    });
    let every_ms = r.duration(t, "every", false);
    if every_ms == Some(0) {
        let span = t.inner.get("every").and_then(Item::span);
        r.error("schedule.every", span, "must be longer than 0");
    }
    if !t.inner.contains_key("calendar") && !t.inner.contains_key("every") {
        r.error_help(
            "schedule",
            t.span(),
            "a schedule needs `calendar` or `every`",
            "for example calendar = \"daily\" or every = \"15m\"",
        );
        return None;
    }
    let random_delay_ms = r.duration(t, "random_delay", false);
    let fixed_random_delay = r.bool(t, "fixed_random_delay").unwrap_or(false);
    if fixed_random_delay && random_delay_ms.is_none() {
        let span = t.inner.get_key_value("fixed_random_delay").and_then(|(k, _)| k.span());
        r.error_help(
            "schedule.fixed_random_delay",
            span,
            "`fixed_random_delay` says how `random_delay` is drawn, and there is no `random_delay`",
            "give random_delay (for example random_delay = \"1h\"), or leave fixed_random_delay out",
        );
    }
    Some(Schedule {
        calendar,
        every_ms,
        persistent: r.bool(t, "persistent").unwrap_or(false),
        random_delay_ms,
        fixed_random_delay,
    })
}

pub fn read_socket(r: &mut Reader<'_>, t: Tbl<'_>) -> Option<Socket> {
    r.deny_unknown(t, &["stream", "datagram", "accept", "mode", "user", "group", "ipv6_only"]);
    let mut socket = Socket { accept: r.bool(t, "accept").unwrap_or(false), ..Socket::default() };
    for (key, list) in [("stream", &mut socket.stream), ("datagram", &mut socket.datagram)] {
        for (i, (text, span)) in r.strings(t, key, Kind::Line).unwrap_or_default().into_iter().enumerate() {
            match check_listen(&text) {
                Ok(()) => list.push(text),
                Err(e) => r.error(&format!("socket.{key}[{i}]"), span, e),
            }
        }
    }
    if let Some((mode, span)) = r.string(t, "mode", false, Kind::Line) {
        match check_mode(&mode) {
            Ok(()) => socket.mode = Some(mode),
            Err(e) => r.error("socket.mode", span, e),
        }
    }
    for (key, slot) in [("user", &mut socket.user), ("group", &mut socket.group)] {
        if let Some((name, span)) = r.string(t, key, false, Kind::Line) {
            if is_account_name(&name) {
                *slot = Some(name);
            } else {
                r.error(&format!("socket.{key}"), span, format!("`{name}` is not a {key} name"));
            }
        }
    }
    if let Some((v, span)) = r.string(t, "ipv6_only", false, Kind::Line) {
        if IPV6_ONLY.contains(&v.as_str()) {
            socket.ipv6_only = Some(v);
        } else {
            r.error("socket.ipv6_only", span, format!("`{v}` is not one of {}", IPV6_ONLY.join(", ")));
        }
    }
    if socket.stream.is_empty() && socket.datagram.is_empty() {
        r.error_help(
            "socket",
            t.span(),
            "a socket needs an address to listen on",
            "for example stream = [\"127.0.0.1:8080\"]",
        );
        return None;
    }
    Some(socket)
}
