//! PostgreSQL interval literals in the one form its catalog prints them.
//!
//! `pg_get_expr` prints an interval default through the type's output
//! function (`IntervalStyle` `postgres`, the default): `'25 hours'` reads
//! back as `'25:00:00'`, `INTERVAL '1' DAY` as `'1 day'`, `'1 week'` as
//! `'7 days'`. A model's literal is put in that form so that both read the
//! same. Only the plain forms are handled (signed whole numbers of years,
//! months, weeks, days, hours and minutes, seconds with a fraction, one
//! `[-]h:mm[:ss[.f]]` clock, `@` and `ago`); any other text is left as it
//! is.
//! <https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-INTERVAL-OUTPUT>

const MICROS_PER_SECOND: i128 = 1_000_000;
const MICROS_PER_MINUTE: i128 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i128 = 60 * MICROS_PER_MINUTE;

/// The months, days and microseconds an interval literal stands for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    months: i128,
    days: i128,
    micros: i128,
}

/// `text` as PostgreSQL prints the interval it denotes, or `None` where the
/// text is not one of the plain forms this reads.
pub(crate) fn postgres_interval_text(text: &str) -> Option<String> {
    parse(text).map(|parts| print(&parts))
}

/// `INTERVAL 'value' UNIT`: a whole number of one unit, as the plain text
/// `value unit` denotes it. `None` for anything else (a fraction, which a
/// qualifier truncates, or a range `HOUR TO MINUTE`).
pub(crate) fn qualified_interval_text(value: &str, unit: &str) -> Option<String> {
    let number = value.trim();
    let digits = number.strip_prefix('-').unwrap_or(number);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    postgres_interval_text(&format!("{number} {unit}"))
}

fn parse(text: &str) -> Option<Parts> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words.first() == Some(&"@") {
        words.remove(0);
    }
    let ago = words.last().is_some_and(|w| w.eq_ignore_ascii_case("ago"));
    if ago {
        words.pop();
    }
    if words.is_empty() {
        return None;
    }
    let mut parts = Parts::default();
    let mut clock_seen = false;
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if word.contains(':') {
            if clock_seen {
                return None;
            }
            clock_seen = true;
            parts.micros += clock(word)?;
            i += 1;
            continue;
        }
        // A last number without a unit is seconds (`'0'`, `'90'`).
        let Some(unit) = words.get(i + 1) else {
            parts.micros += seconds(word)?;
            i += 1;
            continue;
        };
        add(&mut parts, word, &unit.to_ascii_lowercase())?;
        i += 2;
    }
    if ago {
        parts.months = -parts.months;
        parts.days = -parts.days;
        parts.micros = -parts.micros;
    }
    Some(parts)
}

/// Adds `number unit` to `parts`. Only seconds may have a fraction.
fn add(parts: &mut Parts, number: &str, unit: &str) -> Option<()> {
    let unit = unit.trim_end_matches('s');
    if matches!(unit, "second" | "sec" | "") {
        parts.micros += seconds(number)?;
        return Some(());
    }
    let n: i128 = whole(number)?;
    match unit {
        "year" | "yr" => parts.months += 12 * n,
        "month" | "mon" => parts.months += n,
        "week" => parts.days += 7 * n,
        "day" => parts.days += n,
        "hour" | "hr" => parts.micros += n * MICROS_PER_HOUR,
        "minute" | "min" => parts.micros += n * MICROS_PER_MINUTE,
        "millisecond" | "msec" => parts.micros += n * 1000,
        "microsecond" | "usec" => parts.micros += n,
        _ => return None,
    }
    Some(())
}

fn whole(number: &str) -> Option<i128> {
    let digits = number.strip_prefix(['-', '+']).unwrap_or(number);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// `[-]s[.f]` seconds in microseconds (up to six fraction digits).
fn seconds(number: &str) -> Option<i128> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (int, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && fraction.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 6
    {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let fraction: i128 = format!("{fraction:0<6}").parse().ok()?;
    let micros = int * MICROS_PER_SECOND + fraction;
    Some(if negative { -micros } else { micros })
}

/// `[-]h:mm[:ss[.f]]` in microseconds.
fn clock(word: &str) -> Option<i128> {
    let (negative, unsigned) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word.strip_prefix('+').unwrap_or(word)),
    };
    let fields: Vec<&str> = unsigned.split(':').collect();
    let (hours, minutes, secs) = match fields.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let micros =
        whole(hours)? * MICROS_PER_HOUR + whole(minutes)? * MICROS_PER_MINUTE + seconds(secs)?;
    if hours.starts_with(['-', '+'])
        || minutes.starts_with(['-', '+'])
        || secs.starts_with(['-', '+'])
    {
        return None;
    }
    Some(if negative { -micros } else { micros })
}

fn print(parts: &Parts) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut field = |n: i128, singular: &str, plural: &str| {
        if n != 0 {
            out.push(format!("{n} {}", if n == 1 { singular } else { plural }));
        }
    };
    // PostgreSQL splits months into years and months, each with the sign.
    field(parts.months / 12, "year", "years");
    field(parts.months % 12, "mon", "mons");
    field(parts.days, "day", "days");
    if parts.micros != 0 || out.is_empty() {
        let sign = if parts.micros < 0 { "-" } else { "" };
        let total = parts.micros.abs();
        let hours = total / MICROS_PER_HOUR;
        let minutes = total % MICROS_PER_HOUR / MICROS_PER_MINUTE;
        let secs = total % MICROS_PER_MINUTE / MICROS_PER_SECOND;
        let fraction = total % MICROS_PER_SECOND;
        let mut clock = format!("{sign}{hours:02}:{minutes:02}:{secs:02}");
        if fraction != 0 {
            let digits = format!("{fraction:06}");
            clock.push('.');
            clock.push_str(digits.trim_end_matches('0'));
        }
        out.push(clock);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs and PostgreSQL 15's output for them (`SELECT '…'::interval`).
    #[test]
    fn literals_print_as_postgres_prints_them() {
        let cases = [
            ("1 day", "1 day"),
            ("2 days", "2 days"),
            ("-1 day", "-1 days"),
            ("1 year", "1 year"),
            ("-1 year", "-1 years"),
            ("2 mons", "2 mons"),
            ("1 month", "1 mon"),
            ("25 hours", "25:00:00"),
            ("90 minutes", "01:30:00"),
            ("1 week", "7 days"),
            ("1 day 2 hours", "1 day 02:00:00"),
            ("0", "00:00:00"),
            ("1 second", "00:00:01"),
            ("1.5 seconds", "00:00:01.5"),
            ("-1 hour", "-01:00:00"),
            ("1 day -1 hour", "1 day -01:00:00"),
            ("1 year 1 month", "1 year 1 mon"),
            ("@ 1 day ago", "-1 days"),
            ("1:30", "01:30:00"),
            ("00:00:00.000001", "00:00:00.000001"),
            ("1 millisecond", "00:00:00.001"),
        ];
        for (input, printed) in cases {
            assert_eq!(
                postgres_interval_text(input).as_deref(),
                Some(printed),
                "{input}"
            );
            // The catalog's text reads as itself.
            assert_eq!(
                postgres_interval_text(printed).as_deref(),
                Some(printed),
                "{printed}"
            );
        }
        assert_eq!(postgres_interval_text("1.5 days"), None);
        assert_eq!(postgres_interval_text("P1D"), None);
        assert_eq!(postgres_interval_text("soon"), None);
    }

    #[test]
    fn a_qualified_whole_number_is_that_many_units() {
        assert_eq!(
            qualified_interval_text("1", "DAY").as_deref(),
            Some("1 day")
        );
        assert_eq!(
            qualified_interval_text("2", "HOUR").as_deref(),
            Some("02:00:00")
        );
        assert_eq!(
            qualified_interval_text("90", "MINUTE").as_deref(),
            Some("01:30:00")
        );
        assert_eq!(
            qualified_interval_text("3", "MONTH").as_deref(),
            Some("3 mons")
        );
        assert_eq!(qualified_interval_text("1.5", "DAY"), None);
    }
}
