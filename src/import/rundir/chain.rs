//! The programs a runit or s6 run script chains before its daemon (`chpst`,
//! `s6-setuidgid`, `s6-envdir`, `s6-softlimit`, `fdmove`, `cd`, `nice`…),
//! each read into what it sets, and the command they end in.

use crate::import::{
    report::Report,
    words::{self, Piece, Word},
};

/// What a chain sets before the daemon runs, and the daemon's words.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub user: Option<(usize, String)>,
    pub group: Option<(usize, String)>,
    /// Directories the environment is read from (`chpst -e`, `s6-envdir`).
    pub envdirs: Vec<(usize, String)>,
    pub env: Vec<(usize, String, String)>,
    pub nice: Option<(usize, i64)>,
    pub oom: Option<(usize, i64)>,
    pub io: Option<(usize, &'static str, Option<i64>)>,
    pub limits: Vec<(usize, &'static str, i64)>,
    pub workdir: Option<(usize, String)>,
    /// `s6-notifyoncheck`: its `-c` probe, when it names one.
    pub notify: Option<(usize, Option<String>)>,
    pub command: Vec<Word>,
}

/// A word as text: literal, with `$NAME` for a reference (for messages and
/// values that must be plain; a reference there is reported, not followed).
pub fn text(word: &Word) -> String {
    word.iter()
        .map(|p| match p {
            Piece::Lit(l) => l.clone(),
            Piece::Var { name, .. } => format!("${name}"),
        })
        .collect()
}

/// Options in getopt style from `ws[i..]`: those in `with_arg` take the next
/// word (or the rest of their own); returns them and where the operands start.
fn opts(ws: &[Word], mut i: usize, with_arg: &str) -> (Vec<(char, String)>, usize) {
    let mut out = Vec::new();
    while let Some(w) = ws.get(i).map(text) {
        if w == "--" {
            return (out, i + 1);
        }
        let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        i += 1;
        for (at, c) in flags.char_indices() {
            if with_arg.contains(c) {
                let rest = &flags[at + c.len_utf8()..];
                let arg = if rest.is_empty() {
                    i += 1;
                    ws.get(i - 1).map(text).unwrap_or_default()
                } else {
                    rest.to_owned()
                };
                out.push((c, arg));
                break;
            }
            out.push((c, String::new()));
        }
    }
    (out, i)
}

fn number(v: &str) -> Option<i64> {
    v.parse().ok()
}

/// `ulimit`/`chpst`/`s6-softlimit` letters initkit sets, by its limit's name.
pub fn limit_key(letter: char) -> Option<&'static str> {
    match letter {
        'o' | 'n' => Some("nofile"),
        'p' | 'u' => Some("nproc"),
        'c' => Some("core"),
        'l' => Some("memlock"),
        _ => None,
    }
}

/// Reads the chain in `ws` (the words of the exec'd line), reporting each program.
#[allow(clippy::many_single_char_names)] // (words, index, launch, report) throughout
pub fn read(ws: &[Word], lines: &[usize], file: &str, r: &mut Report) -> Launch {
    let mut l = Launch::default();
    let mut i = 0;
    let mut pending_user: Option<String> = None;
    let limit =
        |l: &mut Launch, r: &mut Report, line: usize, prog: &str, c: char, v: &str| match (limit_key(c), number(v)) {
            (Some(key), Some(n)) if n >= 0 => {
                l.limits.push((line, key, n));
                r.carried(file, line, &format!("{prog} -{c}"));
            }
            (Some(_), _) => r.dropped(file, line, &format!("{prog} -{c}"), format!("`{v}` is not a number")),
            (None, _) => r.dropped(
                file,
                line,
                &format!("{prog} -{c}"),
                "a limit initkit does not set (it sets open files, processes, core size and locked memory)",
            ),
        };
    while let Some(word) = ws.get(i) {
        let Some(prog) = words::plain(word) else { break };
        let line = lines.get(i).copied().unwrap_or(1);
        let base = prog.rsplit('/').next().unwrap_or(&prog).to_owned();
        match base.as_str() {
            "exec" => i += 1,
            "chpst" => {
                let (o, next) = opts(ws, i + 1, "ueUnopcmdftrlLb/C");
                i = next;
                for (c, v) in o {
                    let what = format!("chpst -{c}");
                    match c {
                        'u' => {
                            let mut parts = v.split(':');
                            l.user = parts.next().map(|u| (line, u.to_owned()));
                            l.group = parts.next().map(|g| (line, g.to_owned()));
                            if parts.next().is_some() {
                                r.approximated(file, line, &what, "the first group only: a recipe has one group");
                            }
                        }
                        'e' => l.envdirs.push((line, v)),
                        'n' => match number(&v) {
                            Some(n) => l.nice = Some((line, n)),
                            None => r.dropped(file, line, &what, format!("`{v}` is not a number")),
                        },
                        'C' => l.workdir = Some((line, v)),
                        'o' | 'p' | 'c' | 'm' | 'd' | 'f' | 't' | 'r' => limit(&mut l, r, line, "chpst", c, &v),
                        'U' => {
                            r.approximated(file, line, &what, "$UID and $GID are not set: the recipe names its user");
                        }
                        'P' => {
                            r.approximated(
                                file,
                                line,
                                &what,
                                "initkit starts the daemon in a process group of its own",
                            );
                        }
                        'v' => {}
                        _ => r.dropped(
                            file,
                            line,
                            &what,
                            "locks, argv[0], chroot and closed descriptors are not recipe fields",
                        ),
                    }
                }
            }
            "s6-setuidgid" | "setuidgid" => {
                let account = ws.get(i + 1).map(text).unwrap_or_default();
                let mut parts = account.split(':');
                l.user = parts.next().map(|u| (line, u.to_owned()));
                l.group = parts.next().map(|g| (line, g.to_owned()));
                i += 2;
            }
            "s6-envuidgid" | "envuidgid" => {
                let (_, next) = opts(ws, i + 1, "D");
                pending_user = ws.get(next).map(text);
                i = next + 1;
                r.approximated(file, line, &base, "$UID and $GID are not set: the recipe names its user");
            }
            "s6-applyuidgid" => {
                let (o, next) = opts(ws, i + 1, "ugG");
                i = next;
                if o.iter().any(|(c, _)| *c == 'U')
                    && let Some(u) = pending_user.take()
                {
                    l.user = Some((line, u));
                } else {
                    r.dropped(file, line, &base, "numeric ids are not names: give the recipe a user name");
                }
            }
            "s6-envdir" | "envdir" => {
                let (_, next) = opts(ws, i + 1, "c");
                if let Some(d) = ws.get(next) {
                    l.envdirs.push((line, text(d)));
                }
                i = next + 1;
            }
            "s6-softlimit" | "softlimit" => {
                let (o, next) = opts(ws, i + 1, "acdflmoprst");
                i = next;
                for (c, v) in o {
                    limit(&mut l, r, line, &base, c, &v);
                }
            }
            "fdmove" => {
                let (o, next) = opts(ws, i + 1, "");
                let (to, from) = (ws.get(next).map(text), ws.get(next + 1).map(text));
                i = next + 2;
                if o.iter().any(|(c, _)| *c == 'c') && to.as_deref() == Some("2") && from.as_deref() == Some("1") {
                    r.carried(file, line, "fdmove -c 2 1");
                } else {
                    r.dropped(file, line, "fdmove", "descriptors other than stderr to stdout are not recipe fields");
                }
            }
            "fdclose" | "fdswap" | "fdreserve" | "redirfd" => {
                let (_, next) = opts(ws, i + 1, "");
                i = next + if base == "fdclose" { 1 } else { 2 };
                r.dropped(file, line, &base, "initkit gives the daemon stdin from /dev/null and logs its output");
            }
            "cd" => {
                l.workdir = ws.get(i + 1).map(|d| (line, text(d)));
                i += 2;
            }
            "s6-notifyoncheck" => {
                let (o, next) = opts(ws, i + 1, "3stTwnc");
                i = next;
                l.notify = Some((line, o.into_iter().find(|(c, _)| *c == 'c').map(|(_, v)| v)));
            }
            "nice" => {
                let (o, next) = opts(ws, i + 1, "n");
                let n = o.first().map_or(Some(10), |(c, v)| if *c == 'n' { number(v) } else { None });
                match n {
                    Some(n) => l.nice = Some((line, n)),
                    None => r.dropped(file, line, "nice", "not a number"),
                }
                i = next;
            }
            "choom" => {
                let (o, next) = opts(ws, i + 1, "n");
                match o.iter().find(|(c, _)| *c == 'n').and_then(|(_, v)| number(v)) {
                    Some(n) => l.oom = Some((line, n)),
                    None => r.dropped(file, line, "choom", "no `-n` score"),
                }
                i = next;
            }
            "ionice" => {
                let (o, next) = opts(ws, i + 1, "cn");
                let class = o.iter().find(|(c, _)| *c == 'c').map(|(_, v)| v.as_str());
                let class = match class {
                    Some("1" | "realtime") => Some("realtime"),
                    Some("2" | "best-effort") => Some("best-effort"),
                    Some("3" | "idle") => Some("idle"),
                    _ => None,
                };
                let prio = o.iter().find(|(c, _)| *c == 'n').and_then(|(_, v)| number(v));
                match class {
                    Some(c) => l.io = Some((line, c, prio)),
                    None => r.dropped(file, line, "ionice", "no class initkit knows"),
                }
                i = next;
            }
            "export" if ws.len() > i + 2 => {
                l.env.push((line, text(&ws[i + 1]), text(&ws[i + 2])));
                i += 3;
            }
            "env" => {
                let (o, mut next) = opts(ws, i + 1, "u");
                if o.iter().any(|(c, _)| *c == 'i') {
                    r.carried(file, line, "env -i");
                }
                while let Some((k, v)) = ws.get(next).map(text).as_deref().and_then(|w| w.split_once('=')) {
                    l.env.push((line, k.to_owned(), v.to_owned()));
                    next += 1;
                }
                i = next;
            }
            "emptyenv" => {
                let (_, next) = opts(ws, i + 1, "");
                i = next;
                r.carried(file, line, "emptyenv");
            }
            "s6-setsid" | "setsid" | "pgrphack" => {
                let (_, next) = opts(ws, i + 1, "g");
                i = next;
                r.carried(file, line, &base);
            }
            _ => break,
        }
    }
    l.command = ws[i.min(ws.len())..].to_vec();
    l
}
