//! launchd property lists (`/Library/LaunchDaemons/*.plist`) read into a
//! recipe: each key carried, approximated or dropped, with its line. A plist
//! initkit rendered (`org.initkit.NAME[.INSTANCE]`) reads back to a recipe
//! that renders the same plist.

mod calendar;
mod keys;
mod limits;
mod restart;
mod sockets;

use std::collections::HashMap;

use super::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    plist::{self, Entry, short},
    report::{Outcome, Report},
};
use crate::recipe::{
    check_instance_name, is_recipe_name,
    text::{Kind, check},
};

/// The label prefix of the plists initkit renders.
const OWN_PREFIX: &str = "org.initkit.";

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    let root = plist::parse(&src.file, &src.text)?;
    let Some(keys) = root.as_dict() else {
        return Err(vec![Problem {
            file: src.file.clone(),
            line: root.line,
            message: format!("the property list holds {}, not the dictionary of a job", root.value.kind()),
        }]);
    };
    let mut job = Job::new(src, keys, root.line);
    // The last of two same keys counts, as launchd reads them.
    let last: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, e)| (e.key.as_str(), i)).collect();
    for (i, e) in keys.iter().enumerate() {
        match last.get(e.key.as_str()) {
            Some(&j) if j != i => {
                let line = keys[j].line;
                job.r.dropped(job.file, e.line, &e.key, format!("given again on line {line}: the last one counts"));
            }
            _ => job.key(e),
        }
    }
    job.finish()
}

/// A job's keys as they are read, with what is decided once all are known.
struct Job<'a> {
    file: &'a str,
    /// The line of the job's dictionary: where a missing key is reported.
    root_line: usize,
    d: Draft,
    r: Report,
    problems: Vec<Problem>,
    name: String,
    instance: Option<String>,
    program: Option<(String, usize)>,
    arguments: Vec<(String, usize)>,
    keep_alive: Option<&'a Entry>,
    on_demand: Option<&'a Entry>,
    /// launchd starts the job as soon as it is loaded, whatever RunAtLoad says.
    alive_at_load: bool,
    run_at_load: Option<(bool, usize)>,
    /// SoftResourceLimits (false) and HardResourceLimits (true).
    limits: Vec<(bool, &'a Entry)>,
    sockets: Option<&'a Entry>,
    inetd: Option<&'a Entry>,
    scheduled: bool,
}

/// One line of text for a summary: control characters as blanks.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
impl<'a> Job<'a> {
    fn new(src: &'a Source, keys: &'a [Entry], root_line: usize) -> Job<'a> {
        let file = src.file.as_str();
        let mut r = Report::default();
        let mut problems = Vec::new();
        let label = keys.iter().rfind(|e| e.key == "Label");
        let text = label.and_then(|e| e.node.as_str()).filter(|l| !l.is_empty());
        let own = text.and_then(|l| l.strip_prefix(OWN_PREFIX)).and_then(|rest| {
            let (name, instance) = match rest.split_once('.') {
                Some((n, i)) => (n, Some(i)),
                None => (rest, None),
            };
            (is_recipe_name(name) && instance.is_none_or(|i| check_instance_name(i).is_ok()))
                .then(|| (name.to_owned(), instance.map(str::to_owned)))
        });
        let (name, instance) = match (label, text, own) {
            (Some(e), _, Some(own)) => {
                r.carried(file, e.line, "Label");
                own
            }
            (Some(e), Some(l), None) => {
                let name = super::recipe_name(l);
                r.approximated(
                    file,
                    e.line,
                    "Label",
                    format!("the recipe's name is `{name}`; rendered for launchd, its label is {OWN_PREFIX}{name}"),
                );
                (name, None)
            }
            (Some(e), None, _) => {
                if e.node.as_str().is_none() {
                    problems.push(Problem {
                        file: file.to_owned(),
                        line: e.node.line,
                        message: format!("Label is {}, not a string", e.node.value.kind()),
                    });
                }
                let name = super::recipe_name(src.stem());
                r.approximated(file, e.line, "Label", format!("empty: the name `{name}` comes from the file name"));
                (name, None)
            }
            (None, ..) => {
                let name = super::recipe_name(src.stem());
                r.approximated(
                    file,
                    root_line,
                    "Label",
                    format!("no Label, which launchd needs: the name `{name}` comes from the file name"),
                );
                (name, None)
            }
        };
        let summary = format!("{} (launchd job)", one_line(text.unwrap_or(src.stem())));
        let mut d = Draft::new(&name, &summary);
        d.set_list::<&str>(&[], "needs", &[]);
        // The command leads [run], as in the recipes people write; it is filled in last.
        d.set_list::<&str>(&["run"], "command", &[]);
        Job {
            file,
            root_line,
            d,
            r,
            problems,
            name,
            instance,
            program: None,
            arguments: Vec::new(),
            keep_alive: None,
            on_demand: None,
            alive_at_load: false,
            run_at_load: None,
            limits: Vec::new(),
            sockets: None,
            inetd: None,
            scheduled: false,
        }
    }

    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { file: self.file.to_owned(), line, message });
    }

    /// Replaces what the report says of `setting` (decided once every key is read).
    fn restate(&mut self, setting: &str, outcome: &Outcome) {
        for e in self.r.entries.iter_mut().filter(|e| e.setting == setting) {
            e.outcome = outcome.clone();
        }
    }

    fn wrong(&mut self, e: &Entry, want: &str) {
        self.r.dropped(self.file, e.line, &e.key, format!("{}, not {want}", e.node.value.kind()));
    }

    fn string(&mut self, e: &'a Entry) -> Option<&'a str> {
        let s = e.node.as_str();
        if s.is_none() {
            self.wrong(e, "a string");
        }
        s
    }

    fn boolean(&mut self, e: &Entry) -> Option<bool> {
        let b = e.node.as_bool();
        if b.is_none() {
            self.wrong(e, "true or false");
        }
        b
    }

    fn integer(&mut self, e: &Entry) -> Option<i128> {
        let n = e.node.as_int();
        if n.is_none() {
            self.wrong(e, "an integer");
        }
        n
    }

    /// What is decided once every key is read.
    fn finish(mut self) -> Result<(String, Draft, Report), Vec<Problem>> {
        self.command();
        self.resource_limits();
        if self.scheduled {
            self.d.set(&["run"], "type", "oneshot");
        }
        self.restart();
        self.sockets();
        self.at_load();
        if !self.d.has(&["run"], "user") {
            self.d.set(&["run"], "user", "root");
        }
        if let Some(instance) = &self.instance {
            self.d.set(&["instances"], "default", instance.as_str());
        }
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok((self.name, self.d, self.r))
    }

    /// ProgramArguments, with Program as the program when it is given.
    fn command(&mut self) {
        let f = self.file;
        let mut argv = std::mem::take(&mut self.arguments);
        let program = self.program.take();
        let from = if program.is_some() { "Program" } else { "ProgramArguments" };
        match (program, argv.first()) {
            (None, None) => {
                let line = self.root_line;
                return self.problem(line, "no Program or ProgramArguments: nothing to run".into());
            }
            (Some((p, line)), None) => {
                self.r.carried(f, line, "Program");
                argv.push((p, line));
            }
            (Some((p, line)), Some((first, _))) => {
                if *first == p {
                    self.r.carried(f, line, "Program");
                } else {
                    self.r.approximated(
                        f,
                        line,
                        "Program",
                        format!("runs with its own path as argv[0], not `{}`", short(first)),
                    );
                }
                argv[0] = (p, line);
            }
            (None, Some(_)) => {}
        }
        let (program, line) = argv[0].clone();
        if !program.starts_with('/') {
            // launchd looks a bare name up in its PATH; env(1) does the same.
            self.r.approximated(
                f,
                line,
                from,
                format!(
                    "`{}` is looked up in PATH by /usr/bin/env, as launchd looks it up (a recipe's program is an absolute path)",
                    short(&program)
                ),
            );
            argv.insert(0, ("/usr/bin/env".to_owned(), line));
        }
        for (a, line) in &argv {
            if let Err(why) = check(Kind::Argument, a) {
                self.problem(*line, format!("the argument `{}` {why}", short(a)));
            }
        }
        let words: Vec<String> = argv.iter().map(|(a, _)| lit(a)).collect();
        self.d.set_list(&["run"], "command", &words);
    }
}
