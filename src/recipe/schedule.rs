//! Tasks started on a schedule and services started by a socket: the
//! `[schedule]` and `[socket]` tables, and the one translation of a systemd
//! calendar into cron's five fields, for init systems without timers.

/// `[schedule]`: a one-shot task started at calendar times or at an interval.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    /// A systemd calendar expression (`daily`, `Mon..Fri *-*-* 03:00`).
    pub calendar: Option<String>,
    /// Every this long, counted from boot and then from each run's start.
    pub every_ms: Option<u64>,
    /// A run missed while the machine was off happens at the next boot.
    pub persistent: bool,
    /// Each run is delayed by a random time up to this (spreads a fleet's load).
    pub random_delay_ms: Option<u64>,
    /// The random delay is drawn once per machine and timer, and kept
    /// (systemd's `FixedRandomDelay=`): each run is as late as the last.
    pub fixed_random_delay: bool,
}

/// `[socket]`: the init system listens, and starts the service at the first
/// connection, handing it the sockets (systemd's socket activation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Socket {
    /// `ListenStream=`: `PORT`, `ADDRESS:PORT`, `[V6]:PORT` or a unix socket path.
    pub stream: Vec<String>,
    /// `ListenDatagram=`, the same forms.
    pub datagram: Vec<String>,
    /// One service instance per connection, its standard input and output
    /// the connection (inetd style, `Accept=yes`).
    pub accept: bool,
    /// `SocketMode=`: the access mode of a socket path (octal, `0600`).
    pub mode: Option<String>,
    /// `SocketUser=` / `SocketGroup=`: who owns a socket path.
    pub user: Option<String>,
    pub group: Option<String>,
    /// `BindIPv6Only=`: `default`, `both` or `ipv6-only`.
    pub ipv6_only: Option<String>,
}

/// The values `socket.ipv6_only` takes, as systemd's `BindIPv6Only=`.
pub const IPV6_ONLY: [&str; 3] = ["default", "both", "ipv6-only"];

/// Whether `text` is a file mode as `SocketMode=` takes it: three or four octal digits.
pub fn check_mode(text: &str) -> Result<(), String> {
    if (3..=4).contains(&text.len()) && text.chars().all(|c| ('0'..='7').contains(&c)) {
        Ok(())
    } else {
        Err(format!("`{text}` is not a file mode: write three or four octal digits, such as \"0660\""))
    }
}

/// Whether `text` is a listening address a socket unit takes.
pub fn check_listen(text: &str) -> Result<(), String> {
    if text.starts_with('/') {
        return if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(format!("`{text}`: a socket path holds no blank or control character"))
        } else {
            Ok(())
        };
    }
    let port = text.rsplit_once(':').map_or(text, |(_, p)| p);
    let host = text.rsplit_once(':').map(|(h, _)| h);
    let host_ok = host.is_none_or(|h| {
        !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']' | '%' | '-'))
    });
    match port.parse::<u16>() {
        Ok(p) if p > 0 && host_ok => Ok(()),
        _ => Err(format!(
            "`{text}` is not a listening address: write a port (`8080`), `ADDRESS:PORT` (`127.0.0.1:8080`, `[::1]:8080`) or an absolute socket path"
        )),
    }
}

/// The shorthands systemd knows, with their cron fields.
const SHORTHANDS: [(&str, &str); 9] = [
    ("minutely", "* * * * *"),
    ("hourly", "0 * * * *"),
    ("daily", "0 0 * * *"),
    ("weekly", "0 0 * * 1"),
    ("monthly", "0 0 1 * *"),
    ("quarterly", "0 0 1 1,4,7,10 *"),
    ("semiannually", "0 0 1 1,7 *"),
    ("yearly", "0 0 1 1 *"),
    ("annually", "0 0 1 1 *"),
];

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Checks a calendar expression's characters and shape (systemd parses it
/// fully; `systemd-analyze calendar` is the authority).
pub fn check_calendar(text: &str) -> Result<(), String> {
    let ok = !text.trim().is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '-' | ':' | '.' | ',' | '/' | '~' | ' '));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a calendar expression: write a systemd calendar such as `daily`, `hourly`, `*-*-* 03:30:00` or `Mon..Fri 08:00`"
        ))
    }
}

/// One field of a calendar in cron's syntax: `*`, numbers, `a..b` ranges,
/// `a,b` lists and `/step`; `max` is the field's highest value (for `a/step`).
fn cron_field(text: &str, max: u32) -> Option<String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (base, step) = match part.split_once('/') {
            Some((b, s)) => (b, Some(s.parse::<u32>().ok()?)),
            None => (part, None),
        };
        let base = if base == "*" {
            "*".to_owned()
        } else if let Some((a, b)) = base.split_once("..") {
            format!("{}-{}", a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)
        } else {
            let n = base.parse::<u32>().ok()?;
            if step.is_some() { format!("{n}-{max}") } else { n.to_string() }
        };
        out.push(match step {
            Some(s) => format!("{base}/{s}"),
            None => base,
        });
    }
    Some(out.join(","))
}

fn cron_days(text: &str) -> Option<String> {
    let day = |d: &str| DAYS.iter().position(|n| d.to_ascii_lowercase().starts_with(n)).map(|i| i.to_string());
    let mut out = Vec::new();
    for part in text.split(',') {
        out.push(match part.split_once("..") {
            Some((a, b)) => format!("{}-{}", day(a)?, day(b)?),
            None => day(part)?,
        });
    }
    Some(out.join(","))
}

/// The calendar in cron's five fields (`MIN HOUR DOM MON DOW`), when cron
/// can say it: years `*`, seconds 0, no `~` (last days).
pub fn calendar_to_cron(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some((_, cron)) = SHORTHANDS.iter().find(|(s, _)| *s == text) {
        return Some((*cron).to_owned());
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let dow = match words.first() {
        Some(w) if w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) => {
            let d = cron_days(w)?;
            words.remove(0);
            d
        }
        _ => "*".to_owned(),
    };
    let (date, time) = match words.as_slice() {
        [d, t] if d.contains('-') && t.contains(':') => (*d, *t),
        [t] if t.contains(':') => ("*-*-*", *t),
        [d] if d.contains('-') => (*d, "00:00:00"),
        [] if dow != "*" => ("*-*-*", "00:00:00"),
        _ => return None,
    };
    let date: Vec<&str> = date.split('-').collect();
    let (year, month, day) = match date.as_slice() {
        [y, m, d] => (*y, *m, *d),
        [m, d] => ("*", *m, *d),
        _ => return None,
    };
    let time: Vec<&str> = time.split(':').collect();
    let (hour, minute, second) = match time.as_slice() {
        [h, m] => (*h, *m, "00"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if year != "*" || !matches!(second, "0" | "00") || text.contains('~') {
        return None;
    }
    Some(format!(
        "{} {} {} {} {dow}",
        cron_field(minute, 59)?,
        cron_field(hour, 23)?,
        cron_field(day, 31)?,
        cron_field(month, 12)?
    ))
}

/// An interval in cron's fields, when it divides an hour or a day evenly.
pub fn every_to_cron(ms: u64) -> Option<String> {
    let minutes = ms / 60_000;
    if !ms.is_multiple_of(60_000) || minutes == 0 {
        return None;
    }
    if minutes < 60 && 60 % minutes == 0 {
        return Some(if minutes == 1 { "* * * * *".to_owned() } else { format!("*/{minutes} * * * *") });
    }
    let hours = minutes / 60;
    if minutes.is_multiple_of(60) && hours < 24 && 24 % hours == 0 {
        return Some(if hours == 1 { "0 * * * *".to_owned() } else { format!("0 */{hours} * * *") });
    }
    (minutes == 24 * 60).then(|| "0 0 * * *".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_cron_can_say() {
        assert_eq!(calendar_to_cron("daily").as_deref(), Some("0 0 * * *"));
        assert_eq!(calendar_to_cron("*-*-* 03:30:00").as_deref(), Some("30 3 * * *"));
        assert_eq!(calendar_to_cron("Mon..Fri 08:00").as_deref(), Some("0 8 * * 1-5"));
        assert_eq!(calendar_to_cron("Sat,Sun *-*-* 6:15").as_deref(), Some("15 6 * * 6,0"));
        assert_eq!(calendar_to_cron("*-*-01 00:00:00").as_deref(), Some("0 0 1 * *"));
        assert_eq!(calendar_to_cron("*:0/15").as_deref(), Some("0-59/15 * * * *"));
        assert_eq!(calendar_to_cron("*-*-* *:00/5:00").as_deref(), Some("0-59/5 * * * *"));
    }

    #[test]
    fn calendars_cron_cannot_say() {
        for text in ["2027-01-01 00:00", "*-*-* 00:00:30", "*-02~01", "hourly daily", "nonsense"] {
            assert_eq!(calendar_to_cron(text), None, "{text}");
        }
    }

    #[test]
    fn intervals() {
        assert_eq!(every_to_cron(15 * 60_000).as_deref(), Some("*/15 * * * *"));
        assert_eq!(every_to_cron(2 * 3_600_000).as_deref(), Some("0 */2 * * *"));
        assert_eq!(every_to_cron(86_400_000).as_deref(), Some("0 0 * * *"));
        assert_eq!(every_to_cron(7 * 60_000), None);
        assert_eq!(every_to_cron(30_000), None);
    }

    #[test]
    fn listen_addresses() {
        for ok in ["22", "127.0.0.1:8080", "[::1]:53", "/run/x.sock", "0.0.0.0:1"] {
            assert!(check_listen(ok).is_ok(), "{ok}");
        }
        for bad in ["", "0", "x:y", "host:99999", "/run/a b", "a b:22"] {
            assert!(check_listen(bad).is_err(), "{bad}");
        }
    }
}
