//! The logrotate snippet for the console logs the SysV script writes.

use super::{Artifact, Options, facts};
use crate::recipe::Recipe;

pub fn render(recipe: &Recipe, options: &Options) -> Artifact {
    let dir = facts::log_dir(&options.layout, &recipe.name);
    // copytruncate: the daemon holds its stdout open and cannot be told to reopen it.
    let content = format!(
        "# Console output of {name}, written by /etc/init.d/{name} (rendered by initkit).\n\
         \"{dir}/*.log\" {{\n    weekly\n    rotate 8\n    maxsize 100M\n    missingok\n    notifempty\n    compress\n    delaycompress\n    copytruncate\n    su root root\n}}\n",
        name = recipe.name
    );
    Artifact::new(format!("{}/logrotate.d/initkit-{}", options.layout.etc(), recipe.name), 0o644, content)
}
