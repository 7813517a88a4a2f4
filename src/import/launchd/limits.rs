//! `SoftResourceLimits` and `HardResourceLimits` as `run.limits`, which sets
//! both the soft and the hard limit to one value.

use super::Job;

impl Job<'_> {
    /// SoftResourceLimits and HardResourceLimits: a recipe sets both to one value.
    pub(super) fn resource_limits(&mut self) {
        const RESOURCES: [(&str, &str); 4] =
            [("NumberOfFiles", "nofile"), ("NumberOfProcesses", "nproc"), ("Core", "core"), ("MemoryLock", "memlock")];
        let f = self.file;
        // Per resource, the soft and the hard value with their key and line.
        let mut found: [[Option<(i64, usize, String)>; 2]; 4] = Default::default();
        for (hard, e) in std::mem::take(&mut self.limits) {
            let Some(limits) = e.node.as_dict() else {
                self.wrong(e, "a dictionary of limits");
                continue;
            };
            // Each limit is reported on its own line; an empty table loses nothing.
            if limits.is_empty() {
                self.r.carried(f, e.line, &e.key);
            }
            for l in limits {
                let setting = format!("{}.{}", e.key, l.key);
                let Some(i) = RESOURCES.iter().position(|(k, _)| *k == l.key) else {
                    self.r.dropped(
                        f,
                        l.line,
                        &setting,
                        "a recipe limits open files, processes, core size and locked memory only",
                    );
                    continue;
                };
                match l.node.as_int().and_then(|n| i64::try_from(n).ok()).filter(|n| *n >= 0) {
                    Some(n) => found[i][usize::from(hard)] = Some((n, l.line, setting)),
                    None => self.r.dropped(f, l.line, &setting, "not a number of 0 or more"),
                }
            }
        }
        for ((_, key), [soft, hard]) in RESOURCES.iter().zip(found) {
            let value = match (&soft, &hard) {
                (Some((s, sl, ss)), Some((h, hl, hs))) => {
                    self.r.carried(f, *sl, ss);
                    if s == h {
                        self.r.carried(f, *hl, hs);
                    } else {
                        self.r.approximated(f, *hl, hs, format!("one value for the soft and the hard limit: {s}"));
                    }
                    *s
                }
                (Some((n, line, setting)), None) | (None, Some((n, line, setting))) => {
                    let other = if soft.is_some() { "hard" } else { "soft" };
                    self.r.approximated(f, *line, setting, format!("the {other} limit is set to {n} too"));
                    *n
                }
                (None, None) => continue,
            };
            self.d.set(&["run", "limits"], key, value);
        }
    }
}
