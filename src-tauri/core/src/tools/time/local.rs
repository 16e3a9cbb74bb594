//! Local times: reading the wall-clock times the model writes (lenient: `2024/1/1 9:30 PM`, a date alone, a trailing
//! offset), and turning a reading in a zone into an instant under the daylight saving rule of the
//! [module documentation](super): the earlier instant of a repeated time, a missing time moved forward by the gap,
//! each with a note for the model. Apart from the zones because this is calendar arithmetic over any [`Zone`],
//! and apart from the tools because three of them share it.

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::GapInfo;

use super::args::shorten;
use super::zones::{format_offset, parse_offset_zone, Zone};

/// The format of every local time these tools print.
const OUTPUT_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

// ---------------------------------------------------------------------------------------------------------------
// Local times and daylight saving time
// ---------------------------------------------------------------------------------------------------------------

/// A local time as written: the wall-clock reading and, if it carried one, its own offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ParsedLocal {
    pub(super) naive: NaiveDateTime,
    offset: Option<FixedOffset>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
    /// Between `min` and `max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.len() < min || self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }
    /// Eats `word` (ASCII, any case) if it is next.
    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.at + word.len();
        if self.bytes.len() >= end && self.bytes[self.at..end].eq_ignore_ascii_case(word.as_bytes()) {
            self.at = end;
            true
        } else {
            false
        }
    }
    fn rest(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.at.min(self.bytes.len())..]).unwrap_or("")
    }
}

/// Reads `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][ AM|PM][Z|UTC|±HH:MM]`, with `/` or `.` allowed in the date.
pub(super) fn parse_local(param: &str, raw: &str) -> Result<ParsedLocal, String> {
    let shown = shorten(raw);
    let shape = || format!("{param} must look like YYYY-MM-DD HH:MM:SS, got {shown:?}");
    let text = raw.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let mut c = Cursor { bytes: text.as_bytes(), at: 0 };

    let year = c.number(4, 4).ok_or_else(shape)?;
    let separator = c.peek().filter(|b| matches!(b, b'-' | b'/' | b'.')).ok_or_else(shape)?;
    c.at += 1;
    let month = c.number(1, 2).ok_or_else(shape)?;
    if !c.eat(separator) {
        return Err(shape());
    }
    let day = c.number(1, 2).ok_or_else(shape)?;
    let date = make_date(i64::from(year), i64::from(month), i64::from(day))
        .map_err(|why| format!("{param} {shown:?} is not a valid date: {why}"))?;

    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let mut offset = None;
    if !c.done() {
        if !(c.eat(b'T') || c.eat(b't')) {
            let before = c.at;
            while c.peek().is_some_and(|b| b.is_ascii_whitespace() || b == b',') {
                c.at += 1;
            }
            if c.at == before {
                return Err(shape());
            }
        }
        hour = c.number(1, 2).ok_or_else(shape)?;
        if !c.eat(b':') {
            return Err(shape());
        }
        minute = c.number(1, 2).ok_or_else(shape)?;
        if c.eat(b':') {
            second = c.number(1, 2).ok_or_else(shape)?;
            if c.eat(b'.') || c.eat(b',') {
                c.number(1, 9).ok_or_else(shape)?;
            }
        }
        c.skip_spaces();
        let meridiem = if c.eat_word("am") || c.eat_word("a.m.") {
            Some(false)
        } else if c.eat_word("pm") || c.eat_word("p.m.") {
            Some(true)
        } else {
            None
        };
        if let Some(pm) = meridiem {
            if !(1..=12).contains(&hour) {
                return Err(format!("{param} {shown:?} is not a valid time: with AM/PM the hour must be 1-12"));
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        c.skip_spaces();
        if !c.done() {
            let zone_text = c.rest();
            offset = if zone_text.eq_ignore_ascii_case("z") {
                Some(FixedOffset::east_opt(0).ok_or_else(shape)?)
            } else if zone_text.starts_with(['+', '-', 'u', 'U', 'g', 'G']) {
                let rest: String = zone_text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
                match rest.as_str() {
                    "UTC" | "GMT" => FixedOffset::east_opt(0),
                    _ => parse_offset_zone(&rest),
                }
            } else {
                None
            };
            if offset.is_none() {
                return Err(shape());
            }
        }
    }
    if hour > 23 {
        return Err(format!("{param} {shown:?} is not a valid time: the hour must be 0-23"));
    }
    if minute > 59 {
        return Err(format!("{param} {shown:?} is not a valid time: minutes must be 0-59"));
    }
    if second > 59 {
        return Err(format!("{param} {shown:?} is not a valid time: seconds must be 0-59 (no leap seconds)"));
    }
    let naive = date.and_hms_opt(hour, minute, second).ok_or_else(shape)?;
    Ok(ParsedLocal { naive, offset })
}

pub(super) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A calendar date, or why not: `February 2023 has 28 days`.
pub(super) fn make_date(year: i64, month: i64, day: i64) -> Result<NaiveDate, String> {
    if !(i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&year) {
        return Err(format!("the year must be between {MIN_YEAR} and {MAX_YEAR}, got {year}"));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("the month must be between 1 and 12, got {month}"));
    }
    let (y, m) = (year as i32, month as u32);
    let first_of_next =
        if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
    let days = first_of_next.and_then(|d| d.pred_opt()).map(|d| i64::from(d.day())).unwrap_or(31);
    if !(1..=days).contains(&day) {
        return Err(format!("{} {year} has {days} days, got day {day}", MONTH_NAMES[(m - 1) as usize]));
    }
    NaiveDate::from_ymd_opt(y, m, day as u32).ok_or_else(|| format!("{year}-{month}-{day} is not a valid date"))
}

/// How a wall-clock reading maps to instants in a zone.
enum Resolution {
    Unique(DateTime<Utc>),
    /// The reading occurs twice: `first` and `second` instants.
    Fold {
        first: DateTime<Utc>,
        second: DateTime<Utc>,
    },
    /// The reading does not exist; `instant` is the reading moved forward by the gap, which ran (in wall-clock
    /// readings) from `begin` to `end`.
    Gap {
        instant: DateTime<Utc>,
        begin: NaiveDateTime,
        end: NaiveDateTime,
    },
}

fn resolve_local(zone: &Zone, local: NaiveDateTime) -> Result<Resolution, String> {
    let tz = match zone {
        Zone::Fixed { offset, .. } => {
            return offset
                .from_local_datetime(&local)
                .single()
                .map(|dt| Resolution::Unique(dt.with_timezone(&Utc)))
                .ok_or_else(|| "that time is out of range".to_string());
        }
        Zone::Iana(tz) => tz,
    };
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => Ok(Resolution::Unique(dt.with_timezone(&Utc))),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            Ok(Resolution::Fold { first: a.min(b), second: a.max(b) })
        }
        LocalResult::None => {
            let out_of_range = || format!("{} does not exist in {}", local.format(OUTPUT_FORMAT), tz.name());
            let gap = GapInfo::new(&local, tz).ok_or_else(out_of_range)?;
            let (begin, before) = gap.begin.ok_or_else(out_of_range)?;
            let end = gap.end.ok_or_else(out_of_range)?.naive_local();
            let instant =
                before.fix().from_local_datetime(&local).single().ok_or_else(out_of_range)?.with_timezone(&Utc);
            Ok(Resolution::Gap { instant, begin, end })
        }
    }
}

/// The first instant after `from` at which `zone` stops using the offset it has at `from` (searched up to `to`).
fn transition_between(zone: &Zone, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let start = zone.offset_at(from);
    let (mut lo, mut hi) = (from.timestamp(), to.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match DateTime::from_timestamp(mid, 0) {
            Some(t) if zone.offset_at(t) == start => lo = mid,
            _ => hi = mid,
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(to)
}

/// Clock reading `t`, shortened to the time of day when it falls on `day`.
fn clock(t: NaiveDateTime, day: NaiveDate) -> String {
    if t.date() == day {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format(OUTPUT_FORMAT).to_string()
    }
}

/// Turns a local-time parameter into an instant, following the DST rule of the module documentation.
/// `render_alternative` describes the other occurrence of a repeated time in the tool's terms.
/// Returns the instant, the zone used, and notes for the observation.
pub(super) fn local_to_instant(
    param: &str,
    raw: &str,
    zone_param: Option<(&str, Zone)>,
    default_zone: Zone,
    render_alternative: &dyn Fn(DateTime<Utc>) -> Result<String, String>,
) -> Result<(DateTime<Utc>, Zone, Vec<String>), String> {
    let parsed = parse_local(param, raw)?;
    let mut notes = Vec::new();
    let shown = shorten(raw);
    let (instant, zone) = match parsed.offset {
        Some(offset) => {
            let instant = offset
                .from_local_datetime(&parsed.naive)
                .single()
                .ok_or_else(|| format!("{param} {shown:?} is out of range"))?
                .with_timezone(&Utc);
            match zone_param {
                Some((zone_name, zone)) => {
                    let zone_offset = zone.offset_at(instant);
                    if zone_offset != offset {
                        return Err(format!(
                            "{param} {shown:?} says {} but {zone_name} {} is {} at that time; give only one of them",
                            format_offset(offset.local_minus_utc()),
                            zone.name(),
                            format_offset(zone_offset.local_minus_utc())
                        ));
                    }
                    (instant, zone)
                }
                None => (instant, Zone::fixed(offset)),
            }
        }
        None => {
            let zone = zone_param.map(|(_, zone)| zone).unwrap_or(default_zone);
            let written = parsed.naive.format(OUTPUT_FORMAT);
            let zone_name = zone.name();
            match resolve_local(&zone, parsed.naive).map_err(|why| format!("{param} {shown:?}: {why}"))? {
                Resolution::Unique(instant) => (instant, zone),
                Resolution::Fold { first, second } => {
                    let change = transition_between(&zone, first, second);
                    let (before, after) = (zone.offset_at(first), zone.offset_at(second));
                    let day = parsed.naive.date();
                    notes.push(format!(
                        "{written} occurs twice in {zone_name} (clocks went back from {} to {}); used the first \
                         occurrence ({}); the second ({}) would give {}",
                        clock(change.with_timezone(&before).naive_local(), day),
                        clock(change.with_timezone(&after).naive_local(), day),
                        format_offset(before.local_minus_utc()),
                        format_offset(after.local_minus_utc()),
                        render_alternative(second)?
                    ));
                    (first, zone)
                }
                Resolution::Gap { instant, begin, end } => {
                    let day = parsed.naive.date();
                    notes.push(format!(
                        "{written} does not exist in {zone_name} (clocks jumped forward from {} to {}); used {} ({}) \
                         instead",
                        clock(begin, day),
                        clock(end, day),
                        zone.local(instant).format(OUTPUT_FORMAT),
                        format_offset(zone.offset_at(instant).local_minus_utc())
                    ));
                    (instant, zone)
                }
            }
        }
    };
    notes.extend(zone.notes_at(instant));
    Ok((instant, zone, notes))
}

/// The wall-clock reading of `instant` in `zone` as `YYYY-MM-DD HH:MM:SS`, if its year is supported.
pub(super) fn render_local(instant: DateTime<Utc>, zone: &Zone) -> Result<String, String> {
    let local = zone.local(instant);
    if !(MIN_YEAR..=MAX_YEAR).contains(&local.year()) {
        return Err(format!(
            "the result is outside the supported years {MIN_YEAR}-{MAX_YEAR} (it would be year {} in {})",
            local.year(),
            zone.name()
        ));
    }
    Ok(local.format(OUTPUT_FORMAT).to_string())
}
