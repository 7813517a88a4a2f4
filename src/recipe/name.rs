//! Service and instance names: the one parser for `NAME[@INSTANCE]`, and the only
//! place that decides what a name may contain.
//!
//! Names become file names, unit names, program names and shell words on nine
//! init systems, so they are drawn from an alphabet every one of them takes
//! literally: a recipe name is `[a-z0-9][a-z0-9_-]*`, an instance name
//! `[A-Za-z0-9_][A-Za-z0-9_.-]*`, each at most 64 bytes. Neither can be `.`,
//! `..`, empty, or contain `/`, `@`, `:`, a space or a control character, so
//! every mapping to a path or a native name is the identity and two instances
//! can never share a file.

use std::fmt;

/// The longest recipe or instance name, in bytes.
pub const MAX_NAME: usize = 64;

/// Why a name was refused, worded for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

/// A parsed `NAME[@INSTANCE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: String,
    pub instance: Option<String>,
}

impl ServiceSpec {
    /// Parses `NAME` or `NAME@INSTANCE`, checking both parts.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let (name, instance) = match text.split_once('@') {
            Some((name, instance)) => (name, Some(instance)),
            None => (text, None),
        };
        check_recipe_name(name)?;
        if let Some(instance) = instance {
            check_instance_name(instance)?;
        }
        Ok(ServiceSpec { name: name.to_owned(), instance: instance.map(str::to_owned) })
    }
}

impl fmt::Display for ServiceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            Some(i) => write!(f, "{}@{i}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Recipe names: `[a-z0-9][a-z0-9_-]*`, at most 64 bytes.
pub fn check_recipe_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('a'..='z' | '0'..='9'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
        && name.len() <= MAX_NAME;
    if ok {
        Ok(())
    } else {
        Err(NameError(format!(
            "{} is not a recipe name: use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most {MAX_NAME})",
            shown(name)
        )))
    }
}

pub fn is_recipe_name(name: &str) -> bool {
    check_recipe_name(name).is_ok()
}

/// Instance names: `[A-Za-z0-9_][A-Za-z0-9_.-]*`, at most 64 bytes.
pub fn check_instance_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.len() <= MAX_NAME;
    if ok {
        Ok(())
    } else {
        Err(NameError(format!(
            "{} is not an instance name: use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_` (at most {MAX_NAME})",
            shown(name)
        )))
    }
}

/// A name as it appears in a message: quoted and escaped, so a hostile one
/// cannot draw on the terminal or pass for something else.
fn shown(name: &str) -> String {
    if name.is_empty() { "an empty name".to_owned() } else { format!("{name:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names() {
        for good in ["cache", "a-b", "a.b", "11212", "_x", "A_1.2-3", &"x".repeat(64)] {
            assert!(check_instance_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", ".x", "-x", "a/b", "a b", "a\nb", "it's", "$x", "a:b", "a@b", "é", &"x".repeat(65)]
        {
            assert!(check_instance_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recipe_names() {
        assert!(check_recipe_name("php-fpm").is_ok());
        for bad in ["", "Redis", "-x", "a.b", "../x", "a/b", "a@b"] {
            assert!(check_recipe_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn specs() {
        assert_eq!(
            ServiceSpec::parse("redis@a-1").unwrap(),
            ServiceSpec { name: "redis".into(), instance: Some("a-1".into()) }
        );
        assert_eq!(ServiceSpec::parse("nginx").unwrap().instance, None);
        for bad in ["../../../../tmp/x", "redis@", "redis@../x", "@a", "redis@a@b", "a/b@c"] {
            assert!(ServiceSpec::parse(bad).is_err(), "{bad:?}");
        }
        let e = ServiceSpec::parse("../../x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"../../x\" is not a recipe name: use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most 64)"
        );
    }
}
