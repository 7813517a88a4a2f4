//! Recipes: the TOML a person writes, read into a validated model with every problem reported.

pub mod capability;
pub mod condition;
pub mod diagnostic;
pub mod duration;
pub mod model;
pub mod name;
pub mod parse;
mod read;
pub mod relations;
pub mod schedule;
pub mod security;
pub mod signal;
pub mod template;
pub mod text;
pub mod virtualization;

pub use capability::Capability;
pub use condition::{Condition, Conditions, Key as ConditionKey, PathTest, Probe, YES};
pub use diagnostic::{Diagnostic, RecipeErrors};
pub use model::*;
pub use name::{ServiceSpec, check_instance_name, check_recipe_name, is_recipe_name};
pub use parse::parse_recipe;
pub use relations::{Dep, Depends};
pub use schedule::{Schedule, Socket};
pub use security::Security;
pub use template::{Segment, Template};
pub use virtualization::Virtualization;
