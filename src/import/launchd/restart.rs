//! When launchd starts the job again and at load (`KeepAlive`, the older
//! `OnDemand`, `RunAtLoad`) as the recipe's restart policy, and what an
//! installed recipe does at boot instead.

use super::Job;
use crate::import::{
    plist::{Entry, Value},
    report::Outcome,
};

impl Job<'_> {
    /// KeepAlive (or the older OnDemand) as the restart policy.
    pub(super) fn restart(&mut self) {
        let f = self.file;
        let policy = match (self.keep_alive, self.on_demand) {
            (Some(e), on_demand) => {
                if let Some(o) = on_demand {
                    self.r.dropped(f, o.line, &o.key, "KeepAlive says it: OnDemand is its old, inverted name");
                }
                self.keep_alive(e)
            }
            (None, Some(o)) => match self.boolean(o) {
                Some(on_demand) => {
                    self.r.approximated(
                        f,
                        o.line,
                        &o.key,
                        format!("the old, inverted name of KeepAlive: read as KeepAlive {}", !on_demand),
                    );
                    self.alive_at_load = !on_demand;
                    if on_demand { "no" } else { "always" }
                }
                None => "no",
            },
            (None, None) => "no",
        };
        let policy = if self.scheduled && matches!(policy, "always" | "on-abnormal") {
            let why = Outcome::Dropped(
                "a task on a schedule runs at its times: a recipe's task is not started again after every end".into(),
            );
            for key in ["KeepAlive", "OnDemand"] {
                self.restate(key, &why);
            }
            "no"
        } else {
            policy
        };
        self.d.set(&["restart"], "policy", policy);
    }

    pub(super) fn keep_alive(&mut self, e: &Entry) -> &'static str {
        let f = self.file;
        let conditions = match &e.node.value {
            Value::Bool(b) => {
                self.r.carried(f, e.line, &e.key);
                self.alive_at_load = *b;
                return if *b { "always" } else { "no" };
            }
            Value::Dict(conditions) => conditions,
            _ => {
                self.wrong(e, "true, false or a dictionary of conditions");
                return "no";
            }
        };
        self.r.carried(f, e.line, &e.key);
        if conditions.is_empty() {
            self.restate(&e.key, &Outcome::Approximated("no condition: never restarted".into()));
            return "no";
        }
        let mut policy = None;
        let mut conditional = false;
        for c in conditions {
            let key = format!("KeepAlive.{}", c.key);
            match (c.key.as_str(), c.node.as_bool()) {
                ("SuccessfulExit", Some(false)) => {
                    policy = Some("on-failure");
                    self.alive_at_load = true;
                    self.r.carried(f, c.line, &key);
                }
                ("SuccessfulExit", Some(true)) => {
                    policy = Some("always");
                    self.alive_at_load = true;
                    self.r.approximated(
                        f,
                        c.line,
                        &key,
                        "restarted after every end: launchd restarts it only after a clean exit, which no recipe policy says",
                    );
                }
                ("Crashed", Some(true)) => {
                    policy.get_or_insert("on-abort");
                    self.r.approximated(f, c.line, &key, "restarted after an uncaught signal (`on-abort`)");
                }
                ("Crashed", Some(false)) => {
                    policy.get_or_insert("always");
                    self.r.approximated(
                        f,
                        c.line,
                        &key,
                        "restarted after every end: launchd leaves a crashed job down, which no recipe policy says",
                    );
                }
                ("SuccessfulExit" | "Crashed", None) => {
                    self.r.dropped(f, c.line, &key, format!("{}, not true or false", c.node.value.kind()));
                }
                ("PathState" | "OtherJobEnabled" | "OtherJobActive" | "NetworkState" | "AfterInitialDemand", _) => {
                    conditional = true;
                    self.r.approximated(
                        f,
                        c.line,
                        &key,
                        "not checked: the restart policy alone says when it is started again",
                    );
                }
                _ => self.r.dropped(f, c.line, &key, "not a KeepAlive condition launchd has"),
            }
        }
        policy.unwrap_or(if conditional { "always" } else { "no" })
    }

    /// RunAtLoad: an installed recipe is enabled at boot, or its timer or socket is.
    pub(super) fn at_load(&mut self) {
        let f = self.file;
        let triggered = self.scheduled || self.d.has(&[], "socket");
        match self.run_at_load {
            Some((true, line)) if self.scheduled => self.r.approximated(
                f,
                line,
                "RunAtLoad",
                "launchd runs it at load too; the recipe's task runs at its times only",
            ),
            Some((true, line)) if triggered => self.r.approximated(
                f,
                line,
                "RunAtLoad",
                "launchd starts it at load too; the recipe's service starts at its first connection",
            ),
            Some((_, line)) if triggered || self.alive_at_load => self.r.carried(f, line, "RunAtLoad"),
            Some((true, line)) => self.r.carried(f, line, "RunAtLoad"),
            None if triggered || self.alive_at_load => {}
            Some((false, _)) | None => {
                let line = self.run_at_load.map_or(self.root_line, |(_, l)| l);
                self.r.approximated(
                    f,
                    line,
                    "RunAtLoad",
                    format!(
                        "launchd starts it only when asked (`launchctl kickstart`); `initkit install` enables it at boot: `initkit disable {}` keeps it off",
                        self.name
                    ),
                );
            }
        }
    }
}
