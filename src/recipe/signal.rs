//! Signals a recipe may name for stop and reload.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hup,
    Int,
    Quit,
    Kill,
    Usr1,
    Usr2,
    Term,
    Winch,
}

const ALL: [(Signal, &str); 8] = [
    (Signal::Hup, "HUP"),
    (Signal::Int, "INT"),
    (Signal::Quit, "QUIT"),
    (Signal::Kill, "KILL"),
    (Signal::Usr1, "USR1"),
    (Signal::Usr2, "USR2"),
    (Signal::Term, "TERM"),
    (Signal::Winch, "WINCH"),
];

impl Signal {
    /// Accepts `TERM` or `SIGTERM`, in any case.
    pub fn parse(text: &str) -> Result<Self, String> {
        let upper = text.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        ALL.iter().find(|(_, name)| *name == bare).map(|(s, _)| *s).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|(_, n)| *n).collect();
            format!("`{text}` is not a signal initkit knows: use one of {}", names.join(", "))
        })
    }

    /// The name without `SIG`, as `kill -s` and systemd's `KillSignal=SIG…` want it.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(s, _)| *s == self).map_or("TERM", |(_, n)| n)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_prefix() {
        assert_eq!(Signal::parse("SIGusr2"), Ok(Signal::Usr2));
        assert_eq!(Signal::parse("hup"), Ok(Signal::Hup));
        assert!(Signal::parse("SIGFOO").unwrap_err().contains("USR2"));
    }
}
