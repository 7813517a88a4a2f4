//! The times in log lines: each logger's stamp read into an instant (a
//! TAI64N label decoded), an instant shown in local time, and the `--since`
//! a person types. Pure functions: the clock and the time zone come in as
//! arguments or from the C library's local time, never from a global.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::render::facts::Stamp;

/// A TAI64 label counts seconds from 2^62 at 1970-01-01 00:00:00 TAI, ten
/// seconds before the Unix epoch. Leap seconds since are not taken off: as
/// daemontools' own `tai64nlocal` reads them, and as multilog writes them
/// (its clock is `time()` plus this constant), so a label decodes to the
/// clock time the line was written at.
const TAI64_UNIX_EPOCH: i128 = (1 << 62) + 10;

/// The forms of `--since` a log file with stamps takes (the journal takes journalctl's own).
pub const SINCE_FORMS: &str =
    "`2024-01-15 10:00[:00]`, `2024-01-15`, `today`, `yesterday`, `now`, `-1h`, `30min ago` or `@UNIX-SECONDS`";

/// The instant of a TAI64N label: the 24 hexadecimal digits after its `@`.
pub fn tai64n(label: &str) -> Option<OffsetDateTime> {
    if label.len() != 24 || !label.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seconds = i128::from(u64::from_str_radix(&label[..16], 16).ok()?);
    let nanos = u32::from_str_radix(&label[16..], 16).ok()?;
    if nanos >= 1_000_000_000 {
        return None;
    }
    OffsetDateTime::from_unix_timestamp_nanos((seconds - TAI64_UNIX_EPOCH) * 1_000_000_000 + i128::from(nanos)).ok()
}

/// The local time zone's offset at `t` (UTC when the C library cannot say).
pub fn local_offset(t: OffsetDateTime) -> UtcOffset {
    UtcOffset::local_offset_at(t).unwrap_or(UtcOffset::UTC)
}

/// The instant a local wall-clock time names: the offset in force then (in
/// a gap or overlap of a change to summer time, the offset an hour off).
pub fn from_local(wall: PrimitiveDateTime) -> OffsetDateTime {
    let first = wall.assume_offset(local_offset(wall.assume_utc()));
    wall.assume_offset(local_offset(first))
}

/// `2024-01-15` and `10:20:30` of `l`, joined by `sep`.
fn date_time(l: OffsetDateTime, sep: char) -> String {
    format!(
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute(),
        l.second()
    )
}

/// `2024-01-15 10:20:30.123`, in local time: how a stamped line is shown.
pub fn shown(t: OffsetDateTime) -> String {
    let l = t.to_offset(local_offset(t));
    format!("{}.{:03}", date_time(l, ' '), l.millisecond())
}

/// `2024-01-15T10:20:30.123456+01:00`, in local time: the JSON form.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let l = t.to_offset(local_offset(t));
    let (h, m, _) = l.offset().as_hms();
    let sign = if l.offset().is_negative() { '-' } else { '+' };
    format!("{}.{:06}{sign}{:02}:{:02}", date_time(l, 'T'), l.microsecond(), h.unsigned_abs(), m.unsigned_abs())
}

/// The stamp `stamp` says a line begins with, read, and the rest of the
/// line; a line without one (or with a damaged one) is all text.
pub fn split(stamp: Stamp, line: &str) -> (Option<OffsetDateTime>, &str) {
    let found = match stamp {
        Stamp::None => None,
        Stamp::Tai64n => {
            line.strip_prefix('@').and_then(|l| Some((tai64n(l.get(..24)?)?, l.get(24..)?.strip_prefix(' ')?)))
        }
        Stamp::Utc => wall_clock(line, &['_', 'T']).map(|(wall, rest)| (wall.assume_utc(), rest)),
        Stamp::Local => wall_clock(line, &[' ']).map(|(wall, rest)| (from_local(wall), rest)),
    };
    match found {
        Some((t, rest)) => (Some(t), rest.strip_prefix(' ').unwrap_or(rest)),
        None => (None, line),
    }
}

/// `YYYY-MM-DD?HH:MM:SS[.FRACTION]` and the space after it (`?` one of
/// `separators`), at the start of `line`.
fn wall_clock<'a>(line: &'a str, separators: &[char]) -> Option<(PrimitiveDateTime, &'a str)> {
    let (date, rest) = date(line)?;
    let rest = rest.strip_prefix(separators)?;
    let (time, rest) = clock(rest, true)?;
    Some((PrimitiveDateTime::new(date, time), rest.strip_prefix(' ')?))
}

/// `N` digits at the start of `s`, as a number.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    head.bytes().all(|b| b.is_ascii_digit()).then(|| (head.parse().ok(), &s[n..])).and_then(|(v, r)| Some((v?, r)))
}

/// `YYYY-MM-DD` at the start of `s`.
fn date(s: &str) -> Option<(Date, &str)> {
    let (year, s) = digits(s, 4)?;
    let (month, s) = digits(s.strip_prefix('-')?, 2)?;
    let (day, s) = digits(s.strip_prefix('-')?, 2)?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Some((Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?, s))
}

/// `HH:MM[:SS[.FRACTION]]` at the start of `s` (the seconds required when `seconds`).
fn clock(s: &str, seconds: bool) -> Option<(Time, &str)> {
    let (hour, s) = digits(s, 2)?;
    let (minute, mut s) = digits(s.strip_prefix(':')?, 2)?;
    let mut second = 0;
    let mut nanos = 0;
    if let Some(r) = s.strip_prefix(':') {
        (second, s) = digits(r, 2)?;
        if let Some(r) = s.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            let fraction = &r[..n.min(9)];
            nanos = format!("{fraction:0<9}").parse().ok()?;
            s = &r[n..];
        }
    } else if seconds {
        return None;
    }
    let time =
        Time::from_hms_nano(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?, nanos);
    Some((time.ok()?, s))
}

/// The instant `--since` names, `now` being the present: a local date and
/// time (`Z` or ` UTC` after it: UTC), a day, a time before now, or Unix
/// seconds. `None`: not a time (see [`SINCE_FORMS`]).
pub fn since(text: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let text = text.trim();
    let today = || {
        let local = now.to_offset(local_offset(now));
        PrimitiveDateTime::new(local.date(), Time::MIDNIGHT)
    };
    match text {
        "now" => return Some(now),
        "today" => return Some(from_local(today())),
        "yesterday" => return Some(from_local(today() - Duration::days(1))),
        _ => {}
    }
    if let Some(seconds) = text.strip_prefix('@') {
        return OffsetDateTime::from_unix_timestamp(seconds.parse().ok()?).ok();
    }
    if let Some(ago) = text.strip_prefix('-').or_else(|| text.strip_suffix("ago")) {
        return now.checked_sub(span(ago)?);
    }
    let (utc, text) = match text.strip_suffix('Z').or_else(|| text.strip_suffix(" UTC")) {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (day, rest) = date(text)?;
    let wall = if rest.is_empty() {
        PrimitiveDateTime::new(day, Time::MIDNIGHT)
    } else {
        let (time, rest) = clock(rest.strip_prefix([' ', 'T'])?, false)?;
        if !rest.is_empty() {
            return None;
        }
        PrimitiveDateTime::new(day, time)
    };
    Some(if utc { wall.assume_utc() } else { from_local(wall) })
}

/// `1h30min`, `2 days`, `90s`: a length of time, as systemd.time(7) writes them.
fn span(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        let count: i64 = rest[..n].parse().ok()?;
        rest = rest[n..].trim_start();
        let word = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..word] {
            "s" | "sec" | "secs" | "second" | "seconds" => Duration::SECOND,
            "m" | "min" | "mins" | "minute" | "minutes" => Duration::MINUTE,
            "h" | "hr" | "hour" | "hours" => Duration::HOUR,
            "d" | "day" | "days" => Duration::DAY,
            "w" | "week" | "weeks" => Duration::WEEK,
            _ => return None,
        };
        total = total.checked_add(unit.checked_mul(i32::try_from(count).ok()?)?)?;
        rest = rest[word..].trim_start();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> OffsetDateTime {
        since(&format!("{text}Z"), OffsetDateTime::UNIX_EPOCH).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn tai64n_labels_decode_to_the_clock_time_they_were_written_at() {
        // 2^62 + 10 is the Unix epoch.
        assert_eq!(tai64n("400000000000000a00000000"), Some(OffsetDateTime::UNIX_EPOCH));
        // Labels decoded by hand: (seconds - 2^62 - 10) since the epoch, and the nanoseconds.
        assert_eq!(tai64n("4000000037c219bf2ef02e94"), Some(utc("1999-08-24 04:04:05.787492500")));
        assert_eq!(tai64n("4000000065a4f0861dcd6500"), Some(utc("2024-01-15 08:44:44.500000000")));
        assert_eq!(tai64n("4000000065a4f086"), None, "TAI64 without the nanoseconds");
        assert_eq!(tai64n("4000000065a4f0863b9aca00"), None, "a billion nanoseconds");
        assert_eq!(tai64n("4000000065a4f0861dcd650g"), None);
    }

    #[test]
    fn each_loggers_stamp_is_read_and_taken_off() {
        let (t, text) = split(Stamp::Tai64n, "@4000000065a4f0861dcd6500 ready to accept connections");
        assert_eq!((t, text), (Some(utc("2024-01-15 08:44:44.5")), "ready to accept connections"));
        let (t, text) = split(Stamp::Utc, "2024-01-15_08:44:44.50000 listening");
        assert_eq!((t, text), (Some(utc("2024-01-15 08:44:44.5")), "listening"));
        let (t, text) = split(Stamp::Utc, "2024-01-15T08:44:44.500000000 listening");
        assert_eq!((t, text), (Some(utc("2024-01-15 08:44:44.5")), "listening"));
        // s6-log's T: local time and two spaces; the offset is this machine's.
        let (t, text) = split(Stamp::Local, "2024-01-15 08:44:44.500000000  up");
        assert_eq!(text, "up");
        let wall = PrimitiveDateTime::new(date("2024-01-15").unwrap().0, Time::from_hms_milli(8, 44, 44, 500).unwrap());
        assert_eq!(t, Some(from_local(wall)));
        // Not a stamp: the whole line is text.
        assert_eq!(split(Stamp::Tai64n, "@40000000 short"), (None, "@40000000 short"));
        assert_eq!(split(Stamp::Utc, "2024-13-01_00:00:00.0 x"), (None, "2024-13-01_00:00:00.0 x"));
        assert_eq!(split(Stamp::None, "@4000000065a4f0861dcd6500 x").1, "@4000000065a4f0861dcd6500 x");
    }

    #[test]
    fn since_takes_dates_days_and_spans() {
        let now = utc("2024-01-15 12:00:00");
        assert_eq!(since("now", now), Some(now));
        assert_eq!(since("-1h", now), Some(utc("2024-01-15 11:00:00")));
        assert_eq!(since("1h30min ago", now), Some(utc("2024-01-15 10:30:00")));
        assert_eq!(since("2 days ago", now), Some(utc("2024-01-13 12:00:00")));
        assert_eq!(since("@1705320000", now), Some(now));
        assert_eq!(since("2024-01-15T10:00Z", now), Some(utc("2024-01-15 10:00:00")));
        assert_eq!(since("2024-01-15 10:00:05 UTC", now), Some(utc("2024-01-15 10:00:05")));
        let wall = PrimitiveDateTime::new(date("2024-01-15").unwrap().0, Time::from_hms(10, 0, 0).unwrap());
        assert_eq!(since("2024-01-15 10:00", now), Some(from_local(wall)));
        assert_eq!(since("2024-01-15", now), Some(from_local(wall.replace_time(Time::MIDNIGHT))));
        assert_eq!(since("yesterday", now).zip(since("today", now)).map(|(y, t)| t - y), Some(Duration::DAY));
        for bad in ["", "soon", "-", "5 fortnights ago", "2024-01-15 25:00", "2024-01-15 10:00 extra", "15/01/2024"] {
            assert_eq!(since(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn times_show_as_local_wall_clock_and_rfc3339() {
        let t = utc("2024-01-15 08:44:44.5");
        let offset = local_offset(t);
        let wall = t.to_offset(offset);
        assert!(shown(t).starts_with(&format!("{:04}-{:02}-{:02} ", wall.year(), u8::from(wall.month()), wall.day())));
        assert!(shown(t).ends_with(":44.500"), "{}", shown(t));
        assert_eq!(rfc3339(t).len(), "2024-01-15T08:44:44.500000+00:00".len());
        if offset == UtcOffset::UTC {
            assert_eq!(shown(t), "2024-01-15 08:44:44.500");
            assert_eq!(rfc3339(t), "2024-01-15T08:44:44.500000+00:00");
        }
    }
}
