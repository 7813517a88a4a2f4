//! docs/catalogue.md's table is the catalogue's own: generated from the
//! recipes and where build.rs found they ran (the test descriptions beside
//! them, each end-to-end suite's `# proves on` line); INITKIT_WRITE_DOCS=1
//! writes it.

mod common;

use std::{fs, path::Path};

use initkit::{
    catalogue::proven_on,
    recipe::{Check, HandoverMain, Recipe, Reload, Template},
};

/// A command as a reader recognises it: the program's base name and the
/// first arguments.
/// `env` and its assignments are skipped, to show the program itself.
fn short(command: &[Template]) -> String {
    let words: Vec<String> = command.iter().map(ToString::to_string).collect();
    let skip = if words.first().is_some_and(|w| w.ends_with("/env")) {
        1 + words[1..].iter().take_while(|w| w.contains('=') && !w.starts_with('-')).count()
    } else {
        0
    };
    let rest = &words[skip..];
    let mut words: Vec<String> = rest.iter().take(3).cloned().collect();
    if let Some(first) = words.first_mut() {
        *first = first.rsplit('/').next().unwrap_or(first).to_owned();
    }
    let more = if rest.len() > 3 { " …" } else { "" };
    format!("`{}{more}`", words.join(" ").replace('|', "\\|"))
}

fn row(r: &Recipe, on: &[&str]) -> String {
    let name = if r.instances.is_some() { format!("{}@", r.name) } else { r.name.clone() };
    let check = match r.check.as_ref().map(Check::command) {
        None => "none".to_owned(),
        Some(Some(command)) => short(command),
        Some(None) => "trial start".to_owned(),
    };
    let reload = match &r.reload {
        Some(Reload::Signal(s)) => format!("SIG{}", s.name()),
        Some(Reload::Command(c)) => short(c),
        None => "none".to_owned(),
    };
    let stop = if r.stop.before.is_empty() {
        format!("SIG{}", r.stop.signal.name())
    } else {
        let steps: Vec<&str> = r.stop.before.iter().map(|h| h.description.as_str()).collect();
        format!("{}, then SIG{}", steps.join("; "), r.stop.signal.name())
    };
    let restart = match r.restart.handover.as_ref().map(|h| (h.signal, h.main)) {
        None => "stop, start".to_owned(),
        Some((s, HandoverMain::Child { finish })) => {
            format!("handover: SIG{s}, a new main process, SIG{finish} to the old")
        }
        Some((s, HandoverMain::Same)) => format!("handover: SIG{s}, new workers"),
    };
    let on = if on.is_empty() { "not yet".to_owned() } else { on.join(", ") };
    format!(
        "| {name} | {} | {check} | {reload} | {restart} | {stop} | {:.1} | {on} |\n",
        r.summary.replace('|', "\\|"),
        r.systemd.exposure_max
    )
}

#[test]
fn the_catalogue_doc_is_the_catalogues_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let recipes = common::catalogue();
    let names: Vec<String> = recipes.iter().map(|r| r.name.clone()).collect();

    let mut table = String::from(
        "| service | what | gate | reload | restart | stop | exposure cap | ran on |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &recipes {
        table.push_str(&row(r, proven_on(&r.name)));
    }
    let path = root.join("docs/catalogue.md");
    let doc = fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- table: generated from the recipes -->\n", "<!-- end of table -->\n");
    let start = doc.find(begin).expect("the table's start marker") + begin.len();
    let stop = doc.find(end).expect("the table's end marker");
    if std::env::var("INITKIT_WRITE_DOCS").as_deref() == Ok("1") {
        fs::write(&path, format!("{}{table}{}", &doc[..start], &doc[stop..])).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..stop],
        table,
        "docs/catalogue.md is stale: run INITKIT_WRITE_DOCS=1 cargo test --test catalogue_doc"
    );
    // "ran on" means in CI: every suite the column is drawn from is one .ci/run runs.
    let ci = fs::read_to_string(root.join(".ci/run")).unwrap();
    for entry in fs::read_dir(root.join("tests/e2e")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let claims = text.lines().any(|l| l.starts_with("# proves on "))
            || file == "catalogue.sh"
            || file == "catalogue_systemd.sh"
            || file == "catalogue_runit.sh";
        if claims {
            assert!(
                ci.lines().any(|l| l.starts_with("suite ") && l.contains(&format!("tests/e2e/{file} "))),
                "docs/catalogue.md claims what tests/e2e/{file} runs, but .ci/run does not run it"
            );
        }
    }
    let untested: Vec<&String> = names.iter().filter(|n| proven_on(n).is_empty()).collect();
    assert!(untested.is_empty(), "every recipe runs somewhere for real; these do not: {untested:?}");
    let ungated: Vec<&str> = recipes.iter().filter(|r| r.check.is_none()).map(|r| r.name.as_str()).collect();
    assert!(
        ungated.is_empty(),
        "every recipe has a gate, a config test or `[check] trial = true` (docs/recipes.md); these have none: {ungated:?}"
    );
}
