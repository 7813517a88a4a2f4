//! Reads an Upstart job back into its settings: the way back from `/etc/init/*.conf`.

/// A command a job stanza runs: `exec ...` on one line, or a `script` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Exec(String),
    Script(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    pub description: Option<String>,
    pub instance: Option<String>,
    pub start_on: Option<String>,
    pub stop_on: Option<String>,
    pub respawn: bool,
    pub respawn_limit: Option<(u32, u32)>,
    pub task: bool,
    pub kill_signal: Option<String>,
    pub kill_timeout: Option<u64>,
    pub console: Option<String>,
    pub main: Option<Step>,
    pub pre_start: Option<Step>,
    pub post_start: Option<Step>,
    pub pre_stop: Option<Step>,
    pub env: Vec<(String, String)>,
    pub post_stop: Option<Step>,
    pub setuid: Option<String>,
    pub setgid: Option<String>,
    pub chdir: Option<String>,
    pub umask: Option<String>,
    pub nice: Option<String>,
    pub oom_score: Option<String>,
    pub reload_signal: Option<String>,
    pub manual: bool,
    /// `limit RESOURCE SOFT HARD`.
    pub limits: Vec<(String, String, String)>,
    /// `normal exit` codes and signals, as written.
    pub normal_exit: Vec<String>,
    /// The line of each stanza read, by its keyword (`exec`, `setuid`…), for reports.
    pub lines: Vec<(String, usize)>,
}

impl Job {
    /// The line a stanza was read from (1 when it is not there).
    pub fn line(&self, stanza: &str) -> usize {
        self.lines.iter().rev().find(|(k, _)| k == stanza).map_or(1, |(_, l)| *l)
    }
}

/// A stanza initkit does not understand, with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub line: usize,
    pub text: String,
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => t.to_owned(),
    }
}

/// Parses a job; stanzas it does not know are returned, not dropped silently.
pub fn parse(text: &str) -> (Job, Vec<Unknown>) {
    let mut job = Job::default();
    let mut unknown = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(w, r)| (w, r.trim()));
        // `pre-start script` ... `end script`, and the same for the others.
        let step = |rest: &str, lines: &mut std::iter::Enumerate<std::str::Lines<'_>>| -> Option<Step> {
            if let Some(cmd) = rest.strip_prefix("exec ") {
                return Some(Step::Exec(cmd.trim().to_owned()));
            }
            if rest == "script" {
                let mut body = Vec::new();
                for (_, l) in lines.by_ref() {
                    if l.trim() == "end script" {
                        break;
                    }
                    body.push(l);
                }
                return Some(Step::Script(body.join("\n")));
            }
            None
        };
        match word {
            "description" => job.description = Some(unquote(rest)),
            "instance" => job.instance = Some(rest.to_owned()),
            "start" if rest.starts_with("on ") => job.start_on = Some(rest[3..].to_owned()),
            "stop" if rest.starts_with("on ") => job.stop_on = Some(rest[3..].to_owned()),
            "respawn" if rest.is_empty() => job.respawn = true,
            "respawn" => {
                let nums: Vec<u32> =
                    rest.trim_start_matches("limit").split_whitespace().filter_map(|n| n.parse().ok()).collect();
                job.respawn_limit = (nums.len() == 2).then(|| (nums[0], nums[1]));
            }
            "task" => job.task = true,
            "kill" if rest.starts_with("signal ") => job.kill_signal = Some(rest[7..].trim().to_owned()),
            "kill" if rest.starts_with("timeout ") => job.kill_timeout = rest[8..].trim().parse().ok(),
            "console" => job.console = Some(rest.to_owned()),
            "env" => {
                if let Some((k, v)) = rest.split_once('=') {
                    job.env.push((k.to_owned(), unquote(v)));
                }
            }
            "exec" => job.main = Some(Step::Exec(rest.to_owned())),
            "script" => job.main = step("script", &mut lines),
            "pre-start" => job.pre_start = step(rest, &mut lines),
            "post-start" => job.post_start = step(rest, &mut lines),
            "pre-stop" => job.pre_stop = step(rest, &mut lines),
            "post-stop" => job.post_stop = step(rest, &mut lines),
            "setuid" => job.setuid = Some(unquote(rest)),
            "setgid" => job.setgid = Some(unquote(rest)),
            "chdir" => job.chdir = Some(unquote(rest)),
            "umask" => job.umask = Some(rest.to_owned()),
            "nice" => job.nice = Some(rest.to_owned()),
            "oom" if rest.starts_with("score ") => job.oom_score = Some(rest[6..].trim().to_owned()),
            "reload" if rest.starts_with("signal ") => job.reload_signal = Some(rest[7..].trim().to_owned()),
            "manual" => job.manual = true,
            "limit" => {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if let [res, soft, hard] = f.as_slice() {
                    job.limits.push(((*res).to_owned(), (*soft).to_owned(), (*hard).to_owned()));
                } else {
                    unknown.push(Unknown { line: n + 1, text: line.to_owned() });
                    continue;
                }
            }
            "normal" if rest.starts_with("exit") => {
                job.normal_exit.extend(rest[4..].split_whitespace().map(str::to_owned));
            }
            _ => {
                unknown.push(Unknown { line: n + 1, text: line.to_owned() });
                continue;
            }
        }
        // `kill signal` and `kill timeout`, `respawn limit`: two stanzas each.
        let key = match (word, rest.split_whitespace().next()) {
            ("kill" | "respawn", Some(sub)) => format!("{word} {sub}"),
            _ => word.to_owned(),
        };
        job.lines.push((key, n + 1));
    }
    (job, unknown)
}
