//! launchd's `StartCalendarInterval` (one dictionary of Minute, Hour, Day,
//! Weekday and Month, or an array of them) as the one systemd calendar
//! expression a recipe's `schedule.calendar` holds.

use super::Job;
use crate::import::plist::{Entry, Node, short};

/// The fields in the order a calendar expression writes them, with their ranges.
const FIELDS: [(&str, u8, u8); 5] =
    [("Weekday", 0, 7), ("Month", 1, 12), ("Day", 1, 31), ("Hour", 0, 23), ("Minute", 0, 59)];

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// One launchd time: each field's values, in `FIELDS` order; none is launchd's wildcard.
type Time = [Vec<u8>; 5];

impl Job<'_> {
    /// The calendar expression of `StartCalendarInterval`, with a report line for each time.
    pub(super) fn calendar(&mut self, e: &Entry) -> Option<String> {
        let (f, k) = (self.file, e.key.as_str());
        let items: Vec<(String, &Node)> = if e.node.as_dict().is_some() {
            vec![(k.to_owned(), &e.node)]
        } else if let Some(a) = e.node.as_array() {
            a.iter().enumerate().map(|(i, n)| (format!("{k}[{}]", i + 1), n)).collect()
        } else {
            self.wrong(e, "a dictionary of a time or an array of them");
            return None;
        };
        let mut times = Vec::new();
        for (setting, node) in items {
            match time(node) {
                Ok(t) => times.push((setting, node.line, t)),
                Err(why) => self.r.dropped(f, node.line, &setting, why),
            }
        }
        let Some((_, first_line, first)) = times.first().cloned() else {
            self.r.dropped(f, e.line, k, "no time to run it at");
            return None;
        };
        let (time, mut how) = if let Some(merged) = merge(&times) {
            (merged, None)
        } else {
            for (setting, line, _) in &times[1..] {
                self.r.dropped(f, *line, setting, "a second calendar time; a recipe's schedule has one");
            }
            (first, Some(format!("only the first time (line {first_line}): a recipe's schedule has one calendar")))
        };
        if !time[0].is_empty() && !time[2].is_empty() {
            let both =
                "launchd runs it when the day or the weekday matches, as cron does; the calendar runs it when both do";
            how = Some(how.map_or_else(|| both.to_owned(), |h| format!("{h}; {both}")));
        }
        match how {
            Some(how) => self.r.approximated(f, e.line, k, how),
            None => self.r.carried(f, e.line, k),
        }
        Some(expression(&time))
    }
}

fn time(node: &Node) -> Result<Time, String> {
    let Some(fields) = node.as_dict() else {
        return Err(format!("{}, not a dictionary of Minute, Hour, Day, Weekday and Month", node.value.kind()));
    };
    let mut t = Time::default();
    for e in fields {
        let Some(i) = FIELDS.iter().position(|(name, ..)| *name == e.key) else {
            return Err(format!("`{}` is not a calendar field (Minute, Hour, Day, Weekday, Month)", short(&e.key)));
        };
        let (name, low, high) = FIELDS[i];
        match e.node.as_int().and_then(|n| u8::try_from(n).ok()).filter(|n| (low..=high).contains(n)) {
            // Weekday 7 is Sunday, as 0 is.
            Some(n) => t[i] = vec![if i == 0 { n % 7 } else { n }],
            None => return Err(format!("{name} must be a number from {low} to {high}")),
        }
    }
    Ok(t)
}

/// Times that differ in one field only, as one time with a list there.
fn merge(times: &[(String, usize, Time)]) -> Option<Time> {
    let first = &times[0].2;
    let mut differing: Option<usize> = None;
    for (_, _, t) in &times[1..] {
        for i in 0..FIELDS.len() {
            if t[i] == first[i] {
                continue;
            }
            // A wildcard is every value: it joins no list.
            if t[i].is_empty() || first[i].is_empty() || differing.is_some_and(|d| d != i) {
                return None;
            }
            differing = Some(i);
        }
    }
    let mut merged = first.clone();
    if let Some(i) = differing {
        let mut all: Vec<u8> = times.iter().flat_map(|(_, _, t)| t[i].iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        merged[i] = all;
    }
    Some(merged)
}

/// `Mon,Fri *-*-01 03:30:00`: `*` where launchd has a wildcard.
fn expression(t: &Time) -> String {
    let list = |v: &[u8]| {
        if v.is_empty() { "*".to_owned() } else { v.iter().map(|n| format!("{n:02}")).collect::<Vec<_>>().join(",") }
    };
    let days = if t[0].is_empty() {
        String::new()
    } else {
        format!("{} ", t[0].iter().map(|d| DAYS[usize::from(*d)]).collect::<Vec<_>>().join(","))
    };
    format!("{days}*-{}-{} {}:{}:00", list(&t[1]), list(&t[2]), list(&t[3]), list(&t[4]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::schedule::calendar_to_cron;

    fn t(weekday: &[u8], month: &[u8], day: &[u8], hour: &[u8], minute: &[u8]) -> Time {
        [weekday.to_vec(), month.to_vec(), day.to_vec(), hour.to_vec(), minute.to_vec()]
    }

    #[test]
    fn expressions_cron_reads_the_same() {
        let daily = expression(&t(&[], &[], &[], &[3], &[30]));
        assert_eq!(daily, "*-*-* 03:30:00");
        assert_eq!(calendar_to_cron(&daily).as_deref(), Some("30 3 * * *"));
        let weekly = expression(&t(&[1, 5], &[], &[], &[2], &[0]));
        assert_eq!(weekly, "Mon,Fri *-*-* 02:00:00");
        assert_eq!(calendar_to_cron(&weekly).as_deref(), Some("0 2 * * 1,5"));
        // A missing Minute is launchd's wildcard: every minute of that hour.
        assert_eq!(calendar_to_cron(&expression(&t(&[], &[], &[], &[4], &[]))).as_deref(), Some("* 4 * * *"));
    }

    #[test]
    fn times_that_differ_in_one_field_merge() {
        let row = |h: u8, m: u8| (String::new(), 1, t(&[], &[], &[], &[h], &[m]));
        assert_eq!(merge(&[row(9, 0), row(17, 0), row(9, 0)]), Some(t(&[], &[], &[], &[9, 17], &[0])));
        assert_eq!(merge(&[row(9, 0), row(17, 30)]), None);
        let wildcard = (String::new(), 1, t(&[], &[], &[], &[], &[0]));
        assert_eq!(merge(&[row(9, 0), wildcard]), None);
    }
}
