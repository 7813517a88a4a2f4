//! The values a recipe's variables take for one instance before any settings
//! file is read: built-ins, directories, then the recipe's defaults.

use std::collections::BTreeMap;

use super::Layout;
use crate::recipe::{Recipe, Template};

pub fn defaults(recipe: &Recipe, layout: &Layout, instance: Option<&str>) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    values.insert("name".to_owned(), recipe.name.clone());
    if let Some(instance) = instance {
        values.insert("instance".to_owned(), instance.to_owned());
        values.insert("instance_path".to_owned(), crate::recipe::instance_path(instance));
    }
    let basic = values.clone();
    let resolve = |t: &Template| t.substitute(&|v| basic.get(v).cloned());
    for (var, base, dir) in [
        ("runtime_dir", layout.run(), &recipe.directories.runtime),
        ("state_dir", layout.state(), &recipe.directories.state),
        ("logs_dir", layout.log(), &recipe.directories.logs),
    ] {
        if let Some(dir) = dir {
            values.insert(var.to_owned(), format!("{base}/{}", resolve(dir)));
        }
    }
    for var in &recipe.vars {
        values.insert(var.name.clone(), resolve(&var.default));
    }
    values
}
