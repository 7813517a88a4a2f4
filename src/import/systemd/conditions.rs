//! A unit's `Condition…=` and `Assert…=` settings read into `[conditions]`:
//! the triggering (`|`) ones, of which one holding is enough, into
//! `[conditions.any]`; a value a recipe cannot hold is dropped with the
//! reason validation gives.

use super::{Entry, Mapper};
use crate::import::draft::lit;
use crate::recipe::{Condition, ConditionKey, Probe, virtualization};

/// How many triggering conditions, and how many triggering assertions, the
/// unit has: systemd keeps a group of each.
pub fn triggering(entries: &[Entry]) -> [usize; 2] {
    let count = |prefix: &str| {
        entries.iter().filter(|e| e.section == "Unit" && e.key.starts_with(prefix) && e.value.starts_with('|')).count()
    };
    [count("Condition"), count("Assert")]
}

/// A value as a recipe writes it: systemd's other booleans as the one a
/// recipe takes, a capability name in upper case.
fn normal(key: ConditionKey, value: &str) -> String {
    match key {
        ConditionKey::Virtualization => match virtualization::boolean(value) {
            Some(yes) => if yes { "yes" } else { "no" }.to_owned(),
            None => value.to_owned(),
        },
        ConditionKey::Capability => value.to_ascii_uppercase(),
        ConditionKey::AcPower => match virtualization::boolean(value) {
            Some(on) => on.to_string(),
            None => value.to_owned(),
        },
        ConditionKey::Path(_) | ConditionKey::KernelCommandLine | ConditionKey::Security => value.to_owned(),
    }
}

/// The value as a recipe writes it: `%%` as `%`; a path is template text,
/// and in a template unit's `%i` is `{instance}` and `%I` `{instance_path}`
/// (the instance with `-` as `/`); another specifier has no recipe equivalent.
fn literal(value: &str, path: bool, template: bool) -> Result<String, String> {
    let path_of_template = path && template;
    let mut out = String::new();
    let mut chars = value.chars();
    let text = |c: char| if path { lit(&c.to_string()) } else { c.to_string() };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push_str(&text(c));
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('i') if path_of_template => out.push_str("{instance}"),
            Some('I') if path_of_template => out.push_str("{instance_path}"),
            Some(other) => {
                let what = match (path, template) {
                    (true, true) => "a condition's path names the instance (`%i`, `%I`), no other specifier",
                    (true, false) if matches!(other, 'i' | 'I') => "the unit is no template: there is no instance",
                    (true, false) => "a condition's path names no variable but the instance, in a template unit",
                    (false, _) => "a recipe's conditions are literal, with no variable",
                };
                return Err(format!("the specifier `%{other}`: {what}"));
            }
            None => return Err("a `%` that ends the value".to_owned()),
        }
    }
    Ok(out)
}

// The mapping reads (file, line, key, value) as the other arms do.
#[allow(clippy::many_single_char_names)]
impl Mapper {
    pub(super) fn condition(&mut self, f: &str, l: usize, key: &str, k: &str, v: &str) {
        let assertion = k.starts_with("Assert");
        let Some(kind) = ConditionKey::of_systemd(k) else {
            return self.r.dropped(
                f,
                l,
                key,
                "initkit's conditions test paths, virtualization, capabilities, the kernel command line, AC power and security",
            );
        };
        // systemd reads `|`, then `!`, each maybe followed by blanks.
        let (trigger, rest) = match v.strip_prefix('|') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, v),
        };
        let (negate, rest) = match rest.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, rest),
        };
        let value = match literal(rest, matches!(kind, ConditionKey::Path(_)), self.template) {
            Ok(value) => normal(kind, &value),
            Err(e) => return self.r.dropped(f, l, key, e),
        };
        let condition = match kind.parse(&format!("{}{value}", if negate { "!" } else { "" })) {
            Ok(c) => c,
            Err(e) => return self.r.dropped(f, l, key, e),
        };
        // One triggering condition alone must hold, as a plain one does.
        let grouped = trigger && self.triggering[usize::from(assertion)] > 1;
        if grouped && assertion && self.triggering[0] > 1 {
            return self.r.dropped(
                f,
                l,
                key,
                "a second group of triggering (`|`) settings, the assertions': a recipe has one [conditions.any]",
            );
        }
        if grouped {
            self.any.push(condition.clone());
        }
        self.put(if grouped { &["conditions", "any"] } else { &["conditions"] }, &condition);
        if assertion {
            self.r.approximated(f, l, key, "an unmet assertion skips the start instead of failing it");
        } else {
            self.r.carried(f, l, key);
        }
    }

    fn put(&mut self, table: &[&str], condition: &Condition) {
        let key = condition.probe.key().key();
        match condition.probe {
            Probe::AcPower => self.d.set(table, key, !condition.negate),
            Probe::Path(..)
            | Probe::Virtualization(_)
            | Probe::Capability(_)
            | Probe::KernelCommandLine(_)
            | Probe::Security(_) => {
                self.d.push(table, key, &condition.value());
            }
        }
    }

    /// A group left with one condition (its others dropped) is a plain one.
    pub(super) fn lone_trigger(&mut self) {
        if let [only] = self.any.as_slice() {
            let only = only.clone();
            self.d.remove(&["conditions"], "any");
            self.put(&["conditions"], &only);
        }
    }
}
