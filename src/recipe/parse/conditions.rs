//! `[conditions]` and `[conditions.any]`: the tests a start needs, each
//! value checked here (an absolute path, a capability Linux has, a
//! virtualization systemd detects, one kernel command-line word, a security
//! test the scripts can make too).

use super::{
    super::{
        condition::{Condition, Conditions, Key, Probe},
        read::{Reader, Tbl, join},
        text::Kind,
    },
    scope::{Scope, Uses, check_scope},
};

pub fn read_conditions(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Conditions {
    let vars = &scope.vars;
    let mut keys: Vec<&str> = Key::ALL.iter().map(|k| k.key()).collect();
    keys.extend(["any", "setting"]);
    r.deny_unknown(t, &keys);
    let all = read_group(r, t, scope);
    let any = r.table(t, "any", "conditions.any").map(|a| read_any(r, t, a, scope)).unwrap_or_default();
    let mut setting = None;
    if let Some((name, span)) = r.string(t, "setting", false, Kind::Line) {
        if vars.contains(&name) {
            setting = Some(name);
        } else {
            r.error_help(
                "conditions.setting",
                span,
                format!("`{name}` is not a variable of this recipe"),
                "declare it under [vars] with its default, for example ENABLED = \"yes\"",
            );
        }
    }
    Conditions { all, any, setting }
}

/// `[conditions.any]`: systemd has one group of triggering conditions, so a
/// recipe has one; it says something only with two or more in it.
fn read_any(r: &mut Reader<'_>, parent: Tbl<'_>, t: Tbl<'_>, scope: &Scope) -> Vec<Condition> {
    let keys: Vec<&str> = Key::ALL.iter().map(|k| k.key()).collect();
    r.deny_unknown(t, &keys);
    let before = r.diagnostics.len();
    let group = read_group(r, t, scope);
    let span = parent.inner.get_key_value("any").and_then(|(k, _)| k.span());
    if group.len() < 2 && r.diagnostics.len() == before {
        let (message, help) = if group.is_empty() {
            ("`any` holds no condition", "list the alternatives, any one of which lets the service start")
        } else {
            (
                "`any` holds one condition, which must then hold like any other",
                "move it to [conditions], or add the alternatives",
            )
        };
        r.error_help("conditions.any", span, message, help);
    }
    group
}

/// The conditions of one table, in [`Key::ALL`] order; a path may name the
/// instance in a recipe that has instances.
fn read_group(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Vec<Condition> {
    let mut out = Vec::new();
    for key in Key::ALL {
        let name = key.key();
        let kind = match key {
            Key::AcPower => {
                out.extend(r.bool(t, name).map(Condition::ac_power));
                continue;
            }
            Key::Path(_) => Kind::Path,
            Key::Virtualization | Key::Capability | Key::KernelCommandLine | Key::Security => Kind::Line,
        };
        for (i, (text, span)) in r.strings(t, name, kind).unwrap_or_default().into_iter().enumerate() {
            let field = format!("{}[{i}]", join(t.path, name));
            match key.parse(&text) {
                Ok(condition) => {
                    if let Probe::Path(_, path) = &condition.probe
                        && !check_scope(r, &field, path, span.as_ref(), scope, Uses::Basic)
                    {
                        continue;
                    }
                    out.push(condition);
                }
                Err(e) => r.error(&field, span, e),
            }
        }
    }
    out
}
