//! runit and s6 service directories (`run`, with `finish`, `log/run`, s6's
//! `type`, `notification-fd`, `down` and an `env/` directory beside it) read
//! into a recipe.

use super::{Format, Source, draft::Draft, ini::Problem, report::Report};

pub fn import(src: &Source, format: Format) -> Result<(String, Draft, Report), Vec<Problem>> {
    let what = if format == Format::S6 { "s6 service directories" } else { "runit service directories" };
    Err(super::not_built(src, what))
}
