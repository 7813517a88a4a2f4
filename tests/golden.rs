//! Golden files a person can review: one test per catalogue recipe × target,
//! the Debian rendering in full, the RHEL one as a diff against it (only where
//! there is one), and the shell library once, in its own file: in a script,
//! each library function it includes appears as a one-line reference.

mod common;

use initkit::render::{Flavor, Layout, Options, Target, render, shell, user::UserDirs};

/// The artifacts as one text, with library functions replaced by references.
fn text(recipe: &str, target: Target, flavor: Flavor) -> String {
    text_with(recipe, target, &Options { flavor, ..Options::default() })
}

fn text_with(recipe: &str, target: Target, options: &Options) -> String {
    let recipe = common::catalogue().into_iter().find(|r| r.name == recipe).expect("a catalogue recipe");
    let library = shell::library();
    let mut out = String::new();
    for a in render(&recipe, target, options).expect("catalogue recipes render") {
        let mut content = a.content.clone();
        for (name, body) in &library {
            content = content.replace(body.as_str(), &format!("# [library: {name}]\n"));
        }
        out.push_str(&format!("==> {} (mode {:o}) <==\n{content}\n", a.path, a.mode));
    }
    out
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

fn check(recipe: &str, target: Target) {
    let debian = text(recipe, target, Flavor::Debian);
    let rhel = text(recipe, target, Flavor::Rhel);
    settings().bind(|| {
        insta::assert_snapshot!(format!("{recipe}-{}", target.name()), debian);
        if rhel != debian {
            let diff = similar::TextDiff::from_lines(&debian, &rhel).unified_diff().context_radius(1).to_string();
            insta::assert_snapshot!(format!("{recipe}-{}-rhel", target.name()), diff);
        }
    });
}

/// A user's own service (`install --user`) under a runsvdir of the user's:
/// everything in the user's directories, and no drop to the recipe's user.
#[test]
fn prometheus_runit_user() {
    let user = UserDirs {
        name: "u".to_owned(),
        uid: 1000,
        home: "/home/u".to_owned(),
        config: "/home/u/.config".to_owned(),
        state: "/home/u/.local/state".to_owned(),
        runtime: "/run/user/1000".to_owned(),
    };
    let options = Options { layout: Layout { root: String::new(), user: Some(user) }, ..Options::default() };
    let text = text_with("prometheus", Target::Runit, &options);
    settings().bind(|| insta::assert_snapshot!("prometheus-runit-user", text));
}

#[test]
fn the_shell_library() {
    let library: String = shell::library().into_iter().map(|(_, body)| body + "\n").collect();
    settings().bind(|| insta::assert_snapshot!("shell-library", library));
}

macro_rules! golden {
    ($($test:ident: $recipe:literal, $target:ident;)*) => {
        $(
            #[test]
            fn $test() {
                check($recipe, Target::$target);
            }
        )*
    };
}

include!(concat!(env!("OUT_DIR"), "/golden_cases.rs"));
