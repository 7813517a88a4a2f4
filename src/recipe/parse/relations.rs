//! `needs`, `aliases`, `wanted_by` and `[depends]`: how the service stands
//! to the machine's facilities and to other services.

use super::super::{
    condition::PATH_VARS,
    model::Facility,
    name::is_recipe_name,
    read::{Reader, Tbl, join},
    relations::{Dep, Depends, RELATIONS, is_target},
    text::Kind,
};

pub fn read_needs(r: &mut Reader<'_>, root: Tbl<'_>) -> Vec<Facility> {
    let Some(list) = r.strings(root, "needs", Kind::Line) else { return vec![Facility::Network] };
    list.into_iter()
        .enumerate()
        .filter_map(|(i, (text, span))| {
            let found = Facility::ALL.iter().find(|(_, n)| *n == text).map(|(f, _)| *f);
            if found.is_none() {
                let names: Vec<&str> = Facility::ALL.iter().map(|(_, n)| *n).collect();
                r.error(
                    &format!("needs[{i}]"),
                    span,
                    format!("`{text}` is not a facility initkit knows: use {}", names.join(", ")),
                );
            }
            found
        })
        .collect()
}

/// `aliases`: names from the same alphabet as the recipe's own, which become
/// unit names, script names and OpenRC's `provide`.
pub fn read_aliases(r: &mut Reader<'_>, root: Tbl<'_>, name: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (alias, span)) in r.strings(root, "aliases", Kind::Line).unwrap_or_default().into_iter().enumerate() {
        let field = format!("aliases[{i}]");
        if !is_recipe_name(&alias) {
            r.error(
                &field,
                span,
                format!("`{alias}` is not a service name: use lowercase letters, digits, `-` and `_`"),
            );
        } else if Some(alias.as_str()) == name || out.contains(&alias) {
            r.error(&field, span, format!("`{alias}` is named twice"));
        } else {
            out.push(alias);
        }
    }
    out
}

pub fn read_wanted_by(r: &mut Reader<'_>, root: Tbl<'_>) -> Vec<String> {
    let Some(list) = r.strings(root, "wanted_by", Kind::Line) else { return vec!["multi-user.target".to_owned()] };
    let mut out = Vec::new();
    for (i, (target, span)) in list.into_iter().enumerate() {
        if is_target(&target) {
            out.push(target);
        } else {
            r.error(
                &format!("wanted_by[{i}]"),
                span,
                format!("`{target}` is not a systemd target such as `multi-user.target`"),
            );
        }
    }
    out
}

pub fn read_depends(r: &mut Reader<'_>, t: Tbl<'_>, name: Option<&str>, instances: bool) -> Depends {
    let mut keys: Vec<&str> = RELATIONS.to_vec();
    keys.extend(["mounts", "reload_from"]);
    r.deny_unknown(t, &keys);
    let mut depends = Depends::default();
    for relation in RELATIONS.into_iter().chain(["reload_from"]) {
        for (i, (text, span)) in r.strings(t, relation, Kind::Line).unwrap_or_default().into_iter().enumerate() {
            let field = format!("{}[{i}]", join(t.path, relation));
            match Dep::parse(&text) {
                Ok(Dep::Service(s)) if Some(s.name.as_str()) == name => {
                    r.error(&field, span, format!("`{text}` is this service itself"));
                }
                Ok(Dep::Instance(s)) if Some(s.as_str()) == name => {
                    r.error(&field, span, format!("`{text}` is this service itself"));
                }
                Ok(Dep::Instance(_)) if !instances => {
                    r.error_help(
                        &field,
                        span,
                        format!("`{text}` names this service's instance, but the recipe has no [instances] table"),
                        "name an instance (`postgresql@main`), or give the recipe [instances]",
                    );
                }
                Ok(dep) => {
                    if relation == "reload_from" {
                        depends.reload_from.push(dep);
                    } else if let Some(list) = depends.relation_mut(relation) {
                        list.push(dep);
                    }
                }
                Err(e) => r.error(&field, span, e),
            }
        }
    }
    for (i, (text, span)) in r.strings(t, "mounts", Kind::ListPath).unwrap_or_default().into_iter().enumerate() {
        let field = format!("depends.mounts[{i}]");
        let Some((path, span)) = r.parse_template(&field, &text, span, Kind::ListPath) else { continue };
        if !text.starts_with('/') {
            r.error(&field, span, "must be an absolute path");
        } else if let Some(var) = path.vars().find(|v| !PATH_VARS.contains(v)) {
            r.error(&field, span, format!("`{{{var}}}` cannot be used in a mount path: only `{{name}}`, `{{instance}}` and `{{instance_path}}` can"));
        } else if !instances && path.vars().any(|v| v != "name") {
            r.error(&field, span, "the path names the instance, but the recipe has no [instances] table");
        } else {
            depends.mounts.push(path);
        }
    }
    depends
}
