//! Durations as recipes write them: `500ms`, `10s`, `2m`, `1h`, or combinations like `1m30s`.

/// Parses a duration into milliseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let fail =
        || format!("`{text}` is not a duration: write a number with a unit, such as `500ms`, `10s`, `5m` or `1h`");
    if text.is_empty() {
        return Err(fail());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(fail());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| fail())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(fail()),
        };
        rest = &rest[unit_len..];
        total = number.checked_mul(factor).and_then(|ms| total.checked_add(ms)).ok_or_else(fail)?;
    }
    Ok(total)
}

/// Formats milliseconds the way systemd and `timeout` both accept (`90s`, `1500ms`).
pub fn format_duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("10s"), Ok(10_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000));
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
    }

    #[test]
    fn rejects_numbers_without_units_and_junk() {
        for bad in ["", "10", "s", "10x", "1.5s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn formats_for_systemd() {
        assert_eq!(format_duration(90_000), "90s");
        assert_eq!(format_duration(1_500), "1500ms");
    }
}
