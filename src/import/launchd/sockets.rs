//! launchd's `Sockets` (with `inetdCompatibility`) read into the recipe's
//! `[socket]`: the listening addresses systemd opens and hands to the service.

use std::net::IpAddr;

use super::Job;
use crate::import::plist::{Node, Value, short};
use crate::recipe::schedule::check_listen;

/// The keys of a socket that say where it listens; the others are reported one by one.
const READ: [&str; 7] =
    ["SockType", "SockPassive", "SockNodeName", "SockServiceName", "SockFamily", "SockPathName", "SockProtocol"];

fn other_key(key: &str) -> &'static str {
    match key {
        "SockPathMode" => "a recipe has no socket mode: systemd creates it 0666",
        "SockPathOwner" | "SockPathGroup" => "a recipe has no socket owner: root's",
        "Bonjour" => "Bonjour advertising is macOS's",
        "MulticastGroup" => "a recipe joins no multicast group",
        "SecureSocketWithKey" => "a per-user secure socket is macOS's",
        _ => "a socket key initkit has no equivalent for",
    }
}

impl Job<'_> {
    /// `Sockets`: each listener a `socket.stream` or `socket.datagram` address.
    pub(super) fn sockets(&mut self) {
        let f = self.file;
        let Some(e) = self.sockets else {
            if let Some(i) = self.inetd {
                self.r.dropped(f, i.line, &i.key, "no Sockets: there is no connection to hand over");
            }
            return;
        };
        if self.scheduled {
            let why = "a recipe is started by a socket or by a schedule, not both: the schedule is kept";
            self.r.dropped(f, e.line, &e.key, why);
            if let Some(i) = self.inetd {
                self.r.dropped(f, i.line, &i.key, why);
            }
            return;
        }
        let Some(groups) = e.node.as_dict() else {
            return self.wrong(e, "a dictionary of named sockets");
        };
        let mut kept = 0;
        for g in groups {
            let listeners: Vec<&Node> = match &g.node.value {
                Value::Dict(_) => vec![&g.node],
                Value::Array(a) => a.iter().collect(),
                _ => {
                    let why = format!("{}, not a socket's dictionary or an array of them", g.node.value.kind());
                    self.r.dropped(f, g.line, &format!("Sockets.{}", g.key), why);
                    continue;
                }
            };
            let many = listeners.len() > 1;
            for (i, node) in listeners.into_iter().enumerate() {
                let setting = if many { format!("Sockets.{}[{}]", g.key, i + 1) } else { format!("Sockets.{}", g.key) };
                if let Some((list, address, how)) = self.listener(node, &setting) {
                    self.d.push(&["socket"], list, &address);
                    kept += 1;
                    match how {
                        Some(how) => self.r.approximated(f, node.line, &setting, how),
                        None => self.r.carried(f, node.line, &setting),
                    }
                }
            }
        }
        if kept == 0 {
            self.r.dropped(f, e.line, &e.key, "no socket initkit can listen on");
            if let Some(i) = self.inetd {
                self.r.dropped(f, i.line, &i.key, "no socket initkit can listen on");
            }
            return;
        }
        if self.accept() {
            self.r.carried(f, e.line, &e.key);
        } else {
            self.r.approximated(
                f,
                e.line,
                &e.key,
                "socket activation the systemd way: the service is handed its sockets as LISTEN_FDS (sd_listen_fds), not by launch_activate_socket; a daemon that only checks in with launchd needs its systemd mode",
            );
        }
    }

    /// `inetdCompatibility`: `Wait = false` is a process per connection (`accept`).
    fn accept(&mut self) -> bool {
        let f = self.file;
        let Some(i) = self.inetd else { return false };
        let wait = i.node.as_dict().and_then(|d| d.iter().rfind(|w| w.key == "Wait")).and_then(|w| w.node.as_bool());
        let stream = self.d.get_list(&["socket"], "stream").is_some_and(|s| !s.is_empty());
        match wait {
            Some(false) if stream && self.instance.is_none() => {
                self.d.set(&["socket"], "accept", true);
                self.r.carried(f, i.line, &i.key);
                true
            }
            Some(false) => {
                self.r.dropped(f, i.line, &i.key, "a process per connection needs a stream socket and no instances");
                false
            }
            Some(true) => {
                self.r.approximated(
                    f,
                    i.line,
                    &i.key,
                    "the daemon is handed the listening socket as file descriptor 3 (LISTEN_FDS), not as its standard input",
                );
                false
            }
            None => {
                self.r.dropped(f, i.line, &i.key, "expected a dictionary with `Wait` true or false");
                false
            }
        }
    }

    /// One socket's list (`stream` or `datagram`), address and, when it is
    /// not quite launchd's, how; `None` (reported) for one a recipe cannot say.
    fn listener(&mut self, node: &Node, setting: &str) -> Option<(&'static str, String, Option<String>)> {
        let f = self.file;
        let Some(keys) = node.as_dict() else {
            self.r.dropped(f, node.line, setting, format!("{}, not a socket's dictionary", node.value.kind()));
            return None;
        };
        for k in keys.iter().filter(|k| !READ.contains(&k.key.as_str())) {
            self.r.dropped(f, k.line, &format!("{setting}.{}", k.key), other_key(&k.key));
        }
        let get = |key: &str| keys.iter().rfind(|k| k.key == key).map(|k| &k.node);
        let text = |key: &str| get(key).and_then(Node::as_str);
        let mut refuse = |why: String| {
            self.r.dropped(f, node.line, setting, why);
            None
        };
        let list = match text("SockType").unwrap_or("stream") {
            "stream" => "stream",
            "dgram" => "datagram",
            other => {
                return refuse(format!("a `{}` socket: a recipe's are stream and datagram sockets", short(other)));
            }
        };
        if get("SockPassive").and_then(Node::as_bool) == Some(false) {
            return refuse("a socket launchd connects rather than listens on".into());
        }
        match (text("SockProtocol"), list) {
            (None | Some("TCP"), "stream") | (None | Some("UDP"), "datagram") => {}
            (p, _) => return refuse(format!("SockProtocol `{}` is not its type's", short(p.unwrap_or("?")))),
        }
        let mut how = None;
        let address = if let Some(path) = text("SockPathName") {
            path.to_owned()
        } else if text("SockFamily") == Some("Unix") {
            return refuse("a Unix socket without SockPathName".into());
        } else {
            let port = match get("SockServiceName").map(|n| &n.value) {
                Some(Value::Integer(n)) => u16::try_from(*n).ok(),
                Some(Value::String(s)) if s.chars().all(|c| c.is_ascii_digit()) => s.parse::<u16>().ok(),
                Some(Value::String(s)) => {
                    return refuse(format!("`{}` is a service name: write its port number", short(s)));
                }
                Some(_) | None => return refuse("no SockServiceName (a port) or SockPathName".into()),
            };
            let Some(port) = port else { return refuse("SockServiceName is not a port number".into()) };
            match text("SockNodeName") {
                Some(host) => match host.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => format!("{a}:{port}"),
                    Ok(IpAddr::V6(a)) => format!("[{a}]:{port}"),
                    Err(_) if host == "localhost" => {
                        how = Some("localhost as 127.0.0.1: launchd listens on ::1 as well".to_owned());
                        format!("127.0.0.1:{port}")
                    }
                    Err(_) => {
                        return refuse(format!("`{}` is a host name: systemd listens on an address", short(host)));
                    }
                },
                None => match text("SockFamily") {
                    Some("IPv4") => format!("0.0.0.0:{port}"),
                    Some("IPv6") => format!("[::]:{port}"),
                    _ => port.to_string(),
                },
            }
        };
        match check_listen(&address) {
            Ok(()) => Some((list, address, how)),
            Err(why) => refuse(why),
        }
    }
}
