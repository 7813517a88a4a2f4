//! `ik_conditions`, written for one recipe: each of its `[conditions]` as a
//! shell test, every value through `sh::quote`; of `[conditions.any]` one
//! holding is enough. The tests of the machine are the library's
//! (`conditions.sh`).

use std::fmt::Write as _;

use crate::{
    recipe::{Condition, PathTest, Probe, Recipe, Template, YES},
    render::{facts, sh},
};

/// `ik_conditions`: 0 when every start condition holds; otherwise 1, with
/// what must hold and does not in `$ik_unmet`. `sh_var` names the shell
/// variable of a setting.
pub fn function(recipe: &Recipe, sh_var: &dyn Fn(&str) -> String) -> String {
    let conditions = &recipe.conditions;
    // A path may name the instance (`{instance}`): one sh word, as data.
    let word = |t: &Template| {
        let t = t.expand(&|v| (v == "name").then(|| Template::literal(&recipe.name)));
        sh::word(&t, sh_var)
    };
    let test = |c: &Condition| test(c, &word);
    let mut s = String::from("ik_conditions() {\n    ik_unmet=''\n");
    for c in &conditions.all {
        let _ =
            writeln!(s, "    if {}; then :; else ik_unmet={}; return 1; fi", test(c), word(&c.requirement_template()));
    }
    if !conditions.any.is_empty() {
        let tests: Vec<String> = conditions.any.iter().map(test).collect();
        let mut unmet = Template::literal("one of these must hold: ");
        for (i, c) in conditions.any.iter().enumerate() {
            if i > 0 {
                unmet.push_literal("; ");
            }
            unmet.segments.extend(c.requirement_template().segments);
        }
        let _ = writeln!(
            s,
            "    if {}; then\n        :\n    else\n        ik_unmet={}\n        return 1\n    fi",
            tests.join(" ||\n        "),
            word(&unmet)
        );
    }
    if let Some(var) = &conditions.setting {
        let _ = writeln!(
            s,
            "    case ${{{v}}} in\n        {pat}) ;;\n        *) ik_unmet={msg}; return 1 ;;\n    esac",
            v = sh_var(var),
            pat = facts::yes_pattern(),
            msg = sh::quote(&format!("{var} is not one of {} in the settings", YES.join(", ")))
        );
    }
    s.push_str("    return 0\n}\n\n");
    s
}

/// One condition as a compound command that succeeds when it holds; `word`
/// writes a path as one sh word.
fn test(c: &Condition, word: &dyn Fn(&Template) -> String) -> String {
    let t = match &c.probe {
        Probe::Path(test, path) => {
            let p = word(path);
            match test {
                PathTest::Exists => format!("[ -e {p} ]"),
                PathTest::IsDirectory => format!("[ -d {p} ]"),
                PathTest::FileNotEmpty => format!("[ -f {p} ] && [ -s {p} ]"),
                PathTest::FileIsExecutable => format!("[ -f {p} ] && [ -x {p} ]"),
                PathTest::DirectoryNotEmpty => format!("ik_dir_not_empty {p}"),
                PathTest::IsReadWrite => format!("ik_read_write {p}"),
                PathTest::IsMountPoint => format!("ik_mount_point {p}"),
                PathTest::IsSymbolicLink => format!("[ -L {p} ]"),
            }
        }
        Probe::Virtualization(v) => format!("ik_virt {}", sh::quote(v.name())),
        // The bit's number; the message names the capability.
        Probe::Capability(cap) => format!("ik_cap {}", cap.bit),
        Probe::KernelCommandLine(word) => format!("ik_cmdline {}", sh::quote(word)),
        Probe::AcPower => "ik_ac_power".to_owned(),
        Probe::Security(s) => format!("ik_security {}", sh::quote(s.name())),
    };
    format!("{}{{ {t}; }}", if c.negate { "! " } else { "" })
}
