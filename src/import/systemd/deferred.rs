//! Settings whose effect depends on the rest of the unit, so they are
//! reported once the whole unit is read: `PermissionsStartOnly=` (which
//! commands run as root) and `NonBlocking=` (whether there is a socket).

use super::{Mapper, yes};

type At = (String, usize, String);

#[derive(Debug, Default)]
pub struct Deferred {
    permissions_start_only: Option<(At, bool)>,
    non_blocking: Option<(At, bool)>,
}

// The mapping reads (file, line, key, value) as the other arms do.
#[allow(clippy::many_single_char_names)]
impl Mapper {
    pub(super) fn defer(&mut self, f: &str, l: usize, key: &str, k: &str, v: &str) {
        let on = if yes(v) {
            true
        } else if matches!(v.to_ascii_lowercase().as_str(), "no" | "false" | "off" | "0") {
            false
        } else {
            return self.r.dropped(f, l, key, format!("`{v}` is not a boolean"));
        };
        let at = Some(((f.to_owned(), l, key.to_owned()), on));
        if k == "NonBlocking" {
            self.deferred.non_blocking = at;
        } else {
            self.deferred.permissions_start_only = at;
        }
    }

    /// Reports the deferred settings: called once the steps, the config test
    /// and the socket are known.
    pub(super) fn settle(&mut self) {
        if let Some(((f, l, key), on)) = self.deferred.permissions_start_only.take() {
            self.start_only(&f, l, &key, on);
        }
        if let Some(((f, l, key), on)) = self.deferred.non_blocking.take() {
            // systemd sets O_NONBLOCK only on the descriptors socket
            // activation passes (systemd.exec(5)); without a socket there are none.
            if !on || !self.d.has(&[], "socket") {
                self.r.carried(&f, l, &key);
            } else {
                self.r.dropped(
                    &f,
                    l,
                    &key,
                    "the socket's descriptors are passed in blocking mode: a recipe's socket has no `NonBlocking=`",
                );
            }
        }
    }

    /// `PermissionsStartOnly=yes`: `User=` and the like apply to
    /// `ExecStart=` alone; every other command runs with full privileges.
    /// A recipe's steps and config test say so with `user = "root"`.
    fn start_only(&mut self, f: &str, l: usize, key: &str, on: bool) {
        let user = self.d.get_str(&["run"], "user");
        let root = user.as_deref().is_none_or(|u| u == "root");
        if !on || (root && !self.d.has(&["run"], "group")) {
            // The default, or no user to drop to: every command runs as root anyway.
            return self.r.carried(f, l, key);
        }
        if root {
            return self.r.dropped(
                f,
                l,
                key,
                "the other commands run with the service's `Group=`: a recipe's root steps keep its group",
            );
        }
        for (table, list) in [("start", "before"), ("start", "after"), ("stop", "after")] {
            self.d.set_in_rows(&[table], list, "user", "root");
        }
        if self.d.has(&["check"], "command") {
            self.d.set(&["check"], "user", "root");
        }
        let unprivileged: Vec<&str> = [("stop", "ExecStop="), ("reload", "ExecReload=")]
            .into_iter()
            .filter(|(table, _)| self.d.has(&[table], "command"))
            .map(|(_, k)| k)
            .collect();
        if unprivileged.is_empty() {
            self.r.carried(f, l, key);
        } else {
            self.r.dropped(
                f,
                l,
                key,
                format!(
                    "{} runs as the service's user: a recipe's stop and reload commands have no `user` \
                     (its start and stop steps and its config test run as root)",
                    unprivileged.join(" and ")
                ),
            );
        }
    }
}
