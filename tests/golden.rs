//! One snapshot per catalogue recipe × target × flavour, reviewed like code.

mod common;

use initkit::render::{Flavor, Options, Target, render};

#[test]
fn every_recipe_target_and_flavor_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for recipe in common::catalogue() {
        for target in Target::ALL {
            for flavor in Flavor::ALL {
                let options = Options { flavor, ..Options::default() };
                let artifacts = render(&recipe, target, &options).expect("catalogue recipes render");
                let mut text = String::new();
                for a in &artifacts {
                    text.push_str(&format!("==> {} (mode {:o}) <==\n{}\n", a.path, a.mode, a.content));
                }
                insta::assert_snapshot!(format!("{}-{}-{}", recipe.name, target.name(), flavor.name()), text);
            }
        }
    }
}
