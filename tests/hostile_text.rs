//! Text is data, proved for every target: recipes whose every text field is
//! drawn from hostile strings (newlines, quotes, `$()`, backquotes, `%`, `\`,
//! `;`, directives, unicode) are either refused, with a diagnostic for each bad
//! field, or rendered into artifacts that read back, in their own language,
//! exactly like the same recipe with plain markers in place of the values:
//! same lines, same directives, same commands, same words, and each marker's
//! word decodes to the hostile value byte for byte. The same holds for the
//! paths of `[conditions]` and `[conditions.any]` on the targets that test them.

mod common;

use std::path::Path;

use common::{
    PIECES,
    lex::{self, IniLine, Tok, UnitLine},
};
use initkit::{
    import::upstart,
    recipe::{
        parse_recipe,
        text::{self, Kind},
    },
    render::{Artifact, Flavor, Options, Target, envfile, render},
};
use proptest::{prelude::*, strategy::ValueTree};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Table, value};

/// What validation must refuse in one-line fields, and some of it in every field.
const CONTROL: &[&str] = &["\n", "\r", "\t", "\0", "\u{1b}[2J", "\u{7f}", "\u{85}"];

/// Hostile text that `kind` may hold, made of `PIECES` (and, in arguments,
/// newlines and tabs).
fn valid(kind: Kind) -> BoxedStrategy<String> {
    let mut pieces: Vec<&'static str> = PIECES
        .iter()
        .copied()
        .filter(|p| match kind {
            Kind::ListPath => !p.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '/')),
            Kind::Uri => !p.contains(char::is_whitespace),
            _ => true,
        })
        .collect();
    if kind == Kind::Argument {
        pieces.extend(["\n", "\t", "\n"]);
    }
    let one = prop::collection::vec(prop::sample::select(pieces), 0..8).prop_map(move |v| {
        let s = v.concat();
        // Refused in one-line fields and paths: a trailing `\` (a line continuation in
        // systemd, even before spaces) and, in paths, surrounding whitespace. Keep most cases valid.
        let s = if kind == Kind::Path { s.trim().to_owned() } else { s };
        if s.trim_end().ends_with('\\') { s + "." } else { s }
    });
    if kind == Kind::Lines { prop::collection::vec(one, 1..4).prop_map(|v| v.join("\n")).boxed() } else { one.boxed() }
}

/// Text of `kind`, now and then spoiled with something the kind cannot hold.
fn text_of(kind: Kind) -> BoxedStrategy<String> {
    let spoil = prop::sample::select(CONTROL).prop_map(str::to_owned);
    let spoil = match kind {
        Kind::ListPath => prop_oneof![spoil, Just(" ".to_owned()), Just("'".to_owned())].boxed(),
        Kind::Line | Kind::Path => prop_oneof![spoil, Just("\\".to_owned())].boxed(),
        Kind::Argument | Kind::Lines => {
            prop::sample::select(&["\r", "\0", "\u{1b}"][..]).prop_map(str::to_owned).boxed()
        }
        Kind::Uri => prop_oneof![spoil, Just(" ".to_owned())].boxed(),
    };
    prop_oneof![
        60 => valid(kind),
        1 => (valid(kind), spoil).prop_map(|(v, bad)| v + &bad),
    ]
    .boxed()
}

fn line() -> BoxedStrategy<String> {
    text_of(Kind::Line)
}

fn lines() -> BoxedStrategy<String> {
    text_of(Kind::Lines)
}

fn argument() -> BoxedStrategy<String> {
    text_of(Kind::Argument)
}

fn path() -> BoxedStrategy<String> {
    text_of(Kind::Path)
}

fn list_path() -> BoxedStrategy<String> {
    text_of(Kind::ListPath)
}

fn uri() -> BoxedStrategy<String> {
    text_of(Kind::Uri)
}

/// One text field of the generated recipe: its kind, the field path
/// validation names, a literal prefix, and the hostile value.
#[derive(Debug, Clone)]
struct Field {
    path: &'static str,
    kind: Kind,
    prefix: &'static str,
    value: String,
}

impl Field {
    fn full(&self) -> String {
        format!("{}{}", self.prefix, self.value)
    }
}

#[derive(Debug, Clone)]
struct Case {
    instances: bool,
    rhel: bool,
    fields: Vec<Field>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (any::<bool>(), any::<bool>()),
        (line(), lines(), uri(), line(), argument(), argument()),
        (line(), argument(), argument(), line(), argument(), line(), argument()),
        (argument(), path(), list_path(), list_path(), path()),
    )
        .prop_map(|((instances, rhel), a, b, c)| {
            let f = |path, kind, prefix, value| Field { path, kind, prefix, value };
            Case {
                instances,
                rhel,
                fields: vec![
                    f("summary", Kind::Line, "", a.0),
                    f("description", Kind::Lines, "", a.1),
                    f("documentation[0]", Kind::Uri, "https://example.org/", a.2),
                    f("vars.setting", Kind::Line, "", a.3),
                    f("run.command[1]", Kind::Argument, "", a.4),
                    f("run.command[3]", Kind::Argument, "", a.5),
                    f("run.environment.K1", Kind::Line, "", b.0),
                    f("check.command[1]", Kind::Argument, "", b.1),
                    f("reload.command[1]", Kind::Argument, "", b.2),
                    f("stop.before[0].description", Kind::Line, "", b.3),
                    f("stop.before[0].run[1]", Kind::Argument, "", b.4),
                    f("stop.before[1].description", Kind::Line, "", b.5),
                    f("stop.before[1].poll[1]", Kind::Argument, "", b.6),
                    f("ready.command[1]", Kind::Argument, "", c.0),
                    f("run.working_directory", Kind::Path, "/srv/", c.1),
                    f("directories.state", Kind::ListPath, "probe/x", c.2),
                    f("systemd.write_paths[0]", Kind::ListPath, "/var/lib/w", c.3),
                    f("run.environment_file", Kind::Path, "/etc/probe/", c.4),
                ],
            }
        })
}

/// A value as a recipe writes it literally: braces doubled.
fn lit(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// The recipe's TOML with `text(i)` as field i's full text.
fn recipe_toml(case: &Case, text: &dyn Fn(usize) -> String) -> String {
    // Prose is plain text; everything else is a template, where braces are doubled.
    let prose = |i: usize| {
        matches!(case.fields[i].path, "summary" | "description" | "documentation[0]")
            || case.fields[i].path.ends_with(".description")
    };
    let t = |i: usize| if prose(i) { text(i) } else { lit(&text(i)) };
    let argv = |items: Vec<String>| {
        let mut a = Array::new();
        for item in items {
            a.push(item);
        }
        value(a)
    };
    let mut doc = DocumentMut::new();
    doc["name"] = value("probe");
    doc["summary"] = value(t(0));
    doc["description"] = value(t(1));
    doc["documentation"] = argv(vec![t(2)]);
    doc["vars"] = Table::new().into();
    doc["vars"]["setting"] = value(t(3));
    if case.instances {
        doc["instances"] = Table::new().into();
    }
    let mut run = Table::new();
    run["command"] = argv(vec!["/usr/bin/probe".into(), t(4), "--x={setting}".into(), t(5)]);
    run["user"] = value("probe");
    let mut env = InlineTable::new();
    env.insert("K1", t(6).into());
    run["environment"] = value(env);
    run["working_directory"] = value(t(14));
    run["environment_file"] = value(t(17));
    doc["run"] = run.into();
    doc["directories"] = Table::new().into();
    doc["directories"]["state"] = value(t(15));
    doc["check"] = Table::new().into();
    doc["check"]["command"] = argv(vec!["/usr/bin/check".into(), t(7)]);
    doc["reload"] = Table::new().into();
    doc["reload"]["command"] = argv(vec!["/usr/bin/reload".into(), t(8)]);
    let mut hooks = ArrayOfTables::new();
    let mut h0 = Table::new();
    h0["description"] = value(t(9));
    h0["run"] = argv(vec!["/usr/bin/hook".into(), t(10)]);
    h0["timeout"] = value("5s");
    hooks.push(h0);
    let mut h1 = Table::new();
    h1["description"] = value(t(11));
    h1["poll"] = argv(vec!["/usr/bin/poll".into(), t(12)]);
    h1["timeout"] = value("5s");
    hooks.push(h1);
    doc["stop"] = Table::new().into();
    doc["stop"]["before"] = hooks.into();
    doc["ready"] = Table::new().into();
    doc["ready"]["command"] = argv(vec!["/usr/bin/ready".into(), t(13)]);
    doc["systemd"] = Table::new().into();
    doc["systemd"]["write_paths"] = argv(vec![t(16)]);
    doc.to_string()
}

/// Markers stand for the hostile values, one per line of a value, so a
/// renderer that folds lines folds them the same way.
struct Marks {
    pairs: Vec<(String, String)>,
}

impl Marks {
    fn new(case: &Case) -> (Self, Vec<String>) {
        let mut pairs = Vec::new();
        let mut marked = Vec::new();
        for (n, f) in case.fields.iter().enumerate() {
            let parts: Vec<&str> =
                if f.kind == Kind::Lines { f.value.lines().collect() } else { f.value.split('\n').collect() };
            let mut m = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let token = format!("xqz{n}l{i}q");
                pairs.push((token.clone(), (*part).to_owned()));
                m.push(token);
            }
            marked.push(format!("{}{}", f.prefix, m.join("\n")));
        }
        (Marks { pairs }, marked)
    }

    fn restore(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (marker, value) in &self.pairs {
            out = out.replace(marker, value);
        }
        out
    }
}

fn has_marker(text: &str) -> bool {
    text.contains("xqz")
}

/// How each language shows free text that validation let through: a
/// control character (only tab, here) becomes a space.
fn flat(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn same_len<T: std::fmt::Debug>(what: &str, h: &[T], m: &[T]) -> Result<(), String> {
    if h.len() == m.len() {
        return Ok(());
    }
    let at = h.iter().zip(m).position(|(a, b)| format!("{a:?}") != format!("{b:?}")).unwrap_or(h.len().min(m.len()));
    Err(format!(
        "{what}: {} items against {} with markers; first difference at {at}: {:?} vs {:?}",
        h.len(),
        m.len(),
        h.get(at),
        m.get(at)
    ))
}

/// Tokens without shellcheck's notes: initkit adds one where a value holds a
/// quoted `$`, a fixed text that says nothing about the value.
fn without_notes(tokens: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    let mut skip_newline = false;
    for t in tokens {
        match &t {
            Tok::Comment(c) if c.starts_with(" shellcheck disable=SC2016 # a literal") => skip_newline = true,
            Tok::Newline if skip_newline => skip_newline = false,
            _ => {
                skip_newline = false;
                out.push(t);
            }
        }
    }
    out
}

fn compare_sh(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let th = without_notes(lex::sh(h)?);
    let tm = without_notes(lex::sh(m)?);
    same_len("sh tokens", &th, &tm)?;
    for (a, b) in th.iter().zip(&tm) {
        let ok = match (a, b) {
            (Tok::Word(x), Tok::Word(y)) if has_marker(y) => lex::sh_unquote(x) == marks.restore(&lex::sh_unquote(y)),
            (Tok::Comment(x), Tok::Comment(y)) => *x == flat(&marks.restore(y)),
            (x, y) => x == y,
        };
        if !ok {
            return Err(format!("sh token {a:?} does not read as {b:?}"));
        }
    }
    Ok(())
}

fn compare_unit(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let lh = lex::unit(h)?;
    let lm = lex::unit(m)?;
    same_len("unit lines", &lh, &lm)?;
    for (a, b) in lh.iter().zip(&lm) {
        let ok = match (a, b) {
            (UnitLine::Entry(kh, vh), UnitLine::Entry(km, vm)) if kh == km => {
                if kh.starts_with("Exec") || kh == "Environment" {
                    let dollars = kh.starts_with("Exec");
                    let wh: Vec<String> =
                        lex::systemd_words(vh)?.iter().map(|w| lex::systemd_specifiers(w, dollars)).collect();
                    let wm: Vec<String> = lex::systemd_words(vm)?
                        .iter()
                        .map(|w| marks.restore(&lex::systemd_specifiers(w, dollars)))
                        .collect();
                    wh == wm
                } else {
                    // systemd trims a value's surrounding whitespace, as the lexer does for `vh`.
                    lex::systemd_specifiers(vh, false)
                        == flat(&marks.restore(&lex::systemd_specifiers(vm, false))).trim()
                }
            }
            (UnitLine::Comment(x), UnitLine::Comment(y)) => *x == flat(&marks.restore(y)),
            (x, y) => x == y,
        };
        if !ok {
            return Err(format!("unit line {a:?} does not read as {b:?}"));
        }
    }
    Ok(())
}

fn compare_ini(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let lh = lex::ini(h)?;
    let lm = lex::ini(m)?;
    same_len("INI lines", &lh, &lm)?;
    for (a, b) in lh.iter().zip(&lm) {
        let ok = match (a, b) {
            (IniLine::Entry(kh, vh), IniLine::Entry(km, vm)) => {
                kh == km && lex::systemd_specifiers(vh, false) == marks.restore(&lex::systemd_specifiers(vm, false))
            }
            (IniLine::Comment(x), IniLine::Comment(y)) => {
                lex::systemd_specifiers(x, false) == flat(&marks.restore(&lex::systemd_specifiers(y, false)))
            }
            (x, y) => x == y,
        };
        if !ok {
            return Err(format!("INI line {a:?} does not read as {b:?}"));
        }
    }
    Ok(())
}

fn compare_upstart(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let (jh, uh) = upstart::parse(h);
    let (mut jm, um) = upstart::parse(m);
    jm.description = jm.description.map(|d| flat(&marks.restore(&d)));
    if jh != jm || uh != um {
        return Err(format!("Upstart job {jh:?} / {uh:?} does not read as {jm:?} / {um:?}"));
    }
    same_len("Upstart lines", &h.lines().collect::<Vec<_>>(), &m.lines().collect::<Vec<_>>())
}

fn compare_plist(h: &plist::Value, m: &plist::Value, marks: &Marks) -> Result<(), String> {
    let ok = match (h, m) {
        (plist::Value::String(a), plist::Value::String(b)) => *a == marks.restore(b),
        (plist::Value::Array(a), plist::Value::Array(b)) => {
            same_len("plist array", a, b)?;
            return a.iter().zip(b).try_for_each(|(x, y)| compare_plist(x, y, marks));
        }
        (plist::Value::Dictionary(a), plist::Value::Dictionary(b)) => {
            if a.keys().ne(b.keys()) {
                return Err(format!(
                    "plist keys {:?} vs {:?}",
                    a.keys().collect::<Vec<_>>(),
                    b.keys().collect::<Vec<_>>()
                ));
            }
            return a.iter().zip(b.iter()).try_for_each(|((_, x), (_, y))| compare_plist(x, y, marks));
        }
        (x, y) => x == y,
    };
    if ok { Ok(()) } else { Err(format!("plist value {h:?} does not read as {m:?}")) }
}

/// A `KEY=VALUE` file (settings, environment), read as systemd reads
/// EnvironmentFile=; a commented-out `#KEY=VALUE` is read the same way.
fn compare_envfile(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let lh: Vec<&str> = h.split('\n').collect();
    let lm: Vec<&str> = m.split('\n').collect();
    same_len("lines", &lh, &lm)?;
    for (a, b) in lh.iter().zip(&lm) {
        let entry =
            |l: &str| l.trim_start_matches('#').split_once('=').map(|(k, v)| (k.to_owned(), envfile::unquote(v)));
        let ok = match (entry(a), entry(b)) {
            (Some((ka, va)), Some((kb, vb))) => ka == kb && va == marks.restore(&vb),
            (None, None) => *a == marks.restore(b),
            _ => false,
        };
        if !ok {
            return Err(format!("line {a:?} does not read as {b:?}"));
        }
    }
    Ok(())
}

fn compare_lines(h: &str, m: &str, marks: &Marks) -> Result<(), String> {
    let lh: Vec<&str> = h.split('\n').collect();
    let lm: Vec<&str> = m.split('\n').collect();
    same_len("lines", &lh, &lm)?;
    for (a, b) in lh.iter().zip(&lm) {
        if *a != marks.restore(b) {
            return Err(format!("line {a:?} does not read as {b:?}"));
        }
    }
    Ok(())
}

/// Reads `h` in its artifact's language and compares it with `m`.
fn compare(h: &Artifact, m: &Artifact, marks: &Marks) -> Result<(), String> {
    if h.path != m.path || h.mode != m.mode {
        return Err(format!("{} ({:o}) vs {} ({:o})", h.path, h.mode, m.path, m.mode));
    }
    let (hc, mc) = (h.content.as_str(), m.content.as_str());
    if hc.starts_with("#!/bin/sh") || hc.starts_with("#!/sbin/openrc-run") {
        compare_sh(hc, mc, marks)
    } else if h.path.ends_with(".service") {
        compare_unit(hc, mc, marks)
    } else if h.path.contains("/supervisor/conf.d/") {
        compare_ini(hc, mc, marks)
    } else if h.path.contains("/etc/init/") {
        compare_upstart(hc, mc, marks)
    } else if ["/initkit/env/", "/default/", "/sysconfig/", "/conf.d/"].iter().any(|d| h.path.contains(d)) {
        compare_envfile(hc, mc, marks)
    } else if Path::new(&h.path).extension().is_some_and(|e| e == "plist") {
        let read = |c: &str| plist::Value::from_reader_xml(c.as_bytes()).map_err(|e| e.to_string());
        compare_plist(&read(hc)?, &read(mc)?, marks)
    } else {
        compare_lines(hc, mc, marks)
    }
}

/// Returns whether the case rendered (true) or was refused as it must be (false).
fn check_case(case: &Case) -> Result<bool, String> {
    let hostile = recipe_toml(case, &|i| case.fields[i].full());
    let bad: Vec<&Field> = case.fields.iter().filter(|f| text::check(f.kind, &f.full()).is_err()).collect();
    let recipe = match parse_recipe(Path::new("probe.toml"), &hostile) {
        Ok(r) => r,
        Err(e) => {
            // Refused: exactly the fields whose text their kind cannot hold, each named.
            if bad.is_empty() {
                return Err(format!("a recipe with only valid text was refused:\n{e}\n{hostile}"));
            }
            for f in &bad {
                if !e.diagnostics.iter().any(|d| d.field == f.path && d.span.is_some()) {
                    return Err(format!("{} holds bad text but no diagnostic names it:\n{e}", f.path));
                }
            }
            return Ok(false);
        }
    };
    if !bad.is_empty() {
        return Err(format!("{bad:?} hold text their kind refuses, yet the recipe validated"));
    }
    let (marks, marked) = Marks::new(case);
    let plain = recipe_toml(case, &|i| marked[i].clone());
    let marker_recipe = parse_recipe(Path::new("probe.toml"), &plain).map_err(|e| format!("markers refused: {e}"))?;
    // The flavour changes paths and headers, not escaping: each case draws one.
    let flavor = if case.rhel { Flavor::Rhel } else { Flavor::Debian };
    for target in Target::ALL {
        let options = Options { flavor, instance: case.instances.then(|| "a_1".to_owned()), ..Options::default() };
        let h = render(&recipe, target, &options).map_err(|e| e.to_string())?;
        let m = render(&marker_recipe, target, &options).map_err(|e| e.to_string())?;
        same_len("artifacts", &h, &m)?;
        for (a, b) in h.iter().zip(&m) {
            compare(a, b, &marks).map_err(|e| format!("{} {}: {}: {e}", target.name(), flavor.name(), a.path))?;
        }
    }
    Ok(true)
}

fn cases() -> u32 {
    std::env::var("INITKIT_HOSTILE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000)
}

#[test]
fn hostile_text_is_refused_or_stays_data_on_every_target() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let rendered = std::cell::Cell::new(0u32);
    let refused = std::cell::Cell::new(0u32);
    let result = runner.run(&case(), |c| {
        match check_case(&c) {
            Ok(true) => rendered.set(rendered.get() + 1),
            Ok(false) => refused.set(refused.get() + 1),
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{c:?}"))),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "hostile text: {} recipes rendered for all {} targets and read back; {} refused with every bad field named",
        rendered.get(),
        Target::ALL.len(),
        refused.get()
    );
    // Most cases must render, or the property says little about the escapers.
    assert!(rendered.get() * 2 > cases(), "only {} of {} cases rendered", rendered.get(), cases());
}

/// A fixed case with the nastiest value in every field, which must render.
#[test]
fn a_fixed_hostile_recipe_renders_as_data() {
    let nasty = "it's \"$(touch /tmp/ik-pwned)\" `id` ${HOME} %i %% \\ ; # [Service] ExecStartPre=/bin/true ]]> ü";
    let mut case = Case { instances: true, rhel: true, fields: Vec::new() };
    let strategy = case_fields();
    for (path, kind, prefix) in strategy {
        let value = match kind {
            Kind::ListPath => nasty.replace([' ', '/', '"', '\'', '\\'], "_"),
            Kind::Uri => nasty.replace(' ', "_"),
            Kind::Argument | Kind::Lines => format!("{nasty}\n{nasty}"),
            _ => nasty.to_owned(),
        };
        case.fields.push(Field { path, kind, prefix, value });
    }
    assert_eq!(check_case(&case), Ok(true));
}

fn case_fields() -> Vec<(&'static str, Kind, &'static str)> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    case().new_tree(&mut runner).unwrap().current().fields.into_iter().map(|f| (f.path, f.kind, f.prefix)).collect()
}

/// The condition paths of a recipe (`[conditions]` and `[conditions.any]`,
/// plain and negated), each a hostile path: literal text, no template.
/// Condition paths, in a recipe with instances or without: with them, a
/// path names the instance (`{instance}`, `{instance_path}`) before its
/// hostile text.
fn condition_fields() -> impl Strategy<Value = Case> {
    (any::<bool>(), any::<bool>(), prop::collection::vec(path(), 7)).prop_map(|(rhel, instances, values)| {
        let (a, b) = if instances { ("/srv/{instance}/", "/srv/{instance_path}.") } else { ("/srv/", "/srv/") };
        let not = |p: &'static str| if instances { "!/srv/{instance_path}/" } else { p };
        let paths = [
            ("conditions.path_exists[0]", a),
            ("conditions.path_exists[1]", not("!/srv/")),
            ("conditions.directory_not_empty[0]", b),
            ("conditions.path_is_mount_point[0]", not("!/srv/")),
            ("conditions.any.path_is_read_write[0]", a),
            ("conditions.any.path_is_read_write[1]", not("!/srv/")),
            ("conditions.any.path_is_symbolic_link[0]", b),
        ];
        let fields = paths
            .iter()
            .zip(values)
            .map(|((path, prefix), value)| Field { path, kind: Kind::Path, prefix, value })
            .collect();
        Case { instances, rhel, fields }
    })
}

/// The recipe's TOML with `text(i)` as condition i's path (a template).
fn conditions_toml(instances: bool, text: &dyn Fn(usize) -> String) -> String {
    let list = |items: &[usize]| {
        let mut a = Array::new();
        for i in items {
            a.push(text(*i));
        }
        value(a)
    };
    let mut doc = DocumentMut::new();
    doc["name"] = value("probe");
    doc["summary"] = value("a probe");
    let mut c = Table::new();
    c["path_exists"] = list(&[0, 1]);
    c["directory_not_empty"] = list(&[2]);
    c["path_is_mount_point"] = list(&[3]);
    let mut any = Table::new();
    any["path_is_read_write"] = list(&[4, 5]);
    any["path_is_symbolic_link"] = list(&[6]);
    c["any"] = any.into();
    doc["conditions"] = c.into();
    if instances {
        doc["instances"] = Table::new().into();
    }
    let mut run = Table::new();
    run["command"] = value(Array::from_iter(["/usr/bin/probe"]));
    run["user"] = value("probe");
    doc["run"] = run.into();
    doc.to_string()
}

/// Returns whether the case rendered (true) or was refused as it must be (false).
fn check_conditions(case: &Case) -> Result<bool, String> {
    // The prefix is template text (it may name the instance); the value is literal.
    let hostile =
        conditions_toml(case.instances, &|i| format!("{}{}", case.fields[i].prefix, lit(&case.fields[i].value)));
    let bad: Vec<&Field> = case.fields.iter().filter(|f| text::check(f.kind, &f.full()).is_err()).collect();
    let recipe = match parse_recipe(Path::new("probe.toml"), &hostile) {
        Ok(r) => r,
        Err(e) => {
            if bad.is_empty() {
                return Err(format!("a recipe with only valid paths was refused:\n{e}\n{hostile}"));
            }
            for f in &bad {
                if !e.diagnostics.iter().any(|d| d.field == f.path && d.span.is_some()) {
                    return Err(format!("{} holds a bad path but no diagnostic names it:\n{e}", f.path));
                }
            }
            return Ok(false);
        }
    };
    if !bad.is_empty() {
        return Err(format!("{bad:?} hold text a path refuses, yet the recipe validated"));
    }
    let (marks, marked) = Marks::new(case);
    let marker_recipe = parse_recipe(Path::new("probe.toml"), &conditions_toml(case.instances, &|i| marked[i].clone()))
        .map_err(|e| format!("markers refused: {e}"))?;
    let flavor = if case.rhel { Flavor::Rhel } else { Flavor::Debian };
    let options = Options { flavor, ..Options::default() };
    for target in Target::ALL {
        let rendered = render(&recipe, target, &options);
        if !matches!(target, Target::Systemd | Target::Sysv | Target::Openrc) {
            // The supervisors refuse conditions, whatever their text.
            if rendered.is_ok() {
                return Err(format!("{} rendered conditions it cannot test", target.name()));
            }
            continue;
        }
        let h = rendered.map_err(|e| e.to_string())?;
        let m = render(&marker_recipe, target, &options).map_err(|e| e.to_string())?;
        same_len("artifacts", &h, &m)?;
        for (a, b) in h.iter().zip(&m) {
            compare(a, b, &marks).map_err(|e| format!("{} {}: {}: {e}", target.name(), flavor.name(), a.path))?;
        }
    }
    Ok(true)
}

#[test]
fn hostile_condition_paths_are_refused_or_stay_data() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases() / 10,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let rendered = std::cell::Cell::new(0u32);
    let result = runner.run(&condition_fields(), |c| {
        match check_conditions(&c) {
            Ok(true) => rendered.set(rendered.get() + 1),
            Ok(false) => {}
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{c:?}"))),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(rendered.get() * 2 > cases() / 10, "only {} of {} cases rendered", rendered.get(), cases() / 10);
}

#[test]
fn a_fixed_hostile_condition_path_renders_as_data() {
    let nasty = "it's \"$(touch /tmp/ik-pwned)\" `id` ${HOME} %i %% | ! ; # [Unit] ConditionPathExists=|/ ]]> ü";
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut case = condition_fields().new_tree(&mut runner).unwrap().current();
    for f in &mut case.fields {
        f.value = nasty.to_owned();
    }
    assert_eq!(check_conditions(&case), Ok(true));
}

proptest! {
    /// `systemd.slice` lands bare on a `Slice=` line, so it is held to a unit
    /// name: any hostile text is refused at the field, and what passes is one
    /// `Slice=` line of unit-name characters, the value byte for byte.
    #[test]
    fn a_hostile_slice_is_refused_or_one_plain_line(
        stem in prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..4).prop_map(|p| p.concat()),
        ok in "[a-z0-9:_.]{1,8}",
        hostile in any::<bool>(),
    ) {
        let slice = if hostile { format!("{ok}{stem}.slice") } else { format!("{ok}.slice") };
        let mut doc = DocumentMut::new();
        doc["name"] = value("probe");
        doc["summary"] = value("probe");
        doc["run"] = Table::new().into();
        doc["run"]["command"] = value(Array::from_iter(["/usr/bin/probe"]));
        doc["run"]["user"] = value("probe");
        doc["systemd"] = Table::new().into();
        doc["systemd"]["slice"] = value(slice.clone());
        match parse_recipe(Path::new("probe.toml"), &doc.to_string()) {
            Err(e) => {
                prop_assert!(e.diagnostics.iter().all(|d| d.field == "systemd.slice" && d.span.is_some()), "{e}");
                prop_assert!(initkit::recipe::check_slice(&slice).is_err());
            }
            Ok(recipe) => {
                prop_assert!(slice.chars().all(|c| c.is_ascii_alphanumeric() || ":_.-".contains(c)));
                let unit = &render(&recipe, Target::Systemd, &Options::default()).unwrap()[0].content;
                let lines: Vec<&str> = unit.lines().filter(|l| l.starts_with("Slice=")).collect();
                prop_assert_eq!(lines, vec![format!("Slice={slice}")]);
            }
        }
    }
}
