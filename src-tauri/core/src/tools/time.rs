//! The five local time tools: `current_time`, `localtime_to_timestamp`, `timestamp_to_localtime`,
//! `timezone_conversion` and `weekday`. They mirror Dify's built-in "Time" provider (same names, parameters and
//! output formats) so prompts written for Dify carry over, but they run here, in pure Rust, without a network.
//!
//! # Input is lenient, output is exact
//!
//! Local times may be written `2024-01-01 00:00:00`, `2024-1-1 0:0:0`, `2024-01-01T00:00`, `2024/01/01 9:30 PM`,
//! or as a date alone (midnight). A trailing `Z`, `UTC`, or offset such as `+08:00` is honoured; if a time zone
//! parameter is given too, the two must agree at that instant (otherwise the tool says so instead of guessing).
//! Timestamps may be numbers or strings, integers or floats (the fraction is dropped, towards the past).
//! Timestamps of 13, 16 or 19 digits are read as milli-, micro- or nanoseconds, and the observation says so.
//! Supported years run from 1 to 9999, like Python's `datetime` that Dify uses.
//!
//! # Time zones
//!
//! A missing time zone means the computer's zone ([`local_zone`]; in tests, [`ToolContext::local_zone`]).
//! Otherwise, in this order:
//! 1. Common abbreviations that have a single meaning stand for that **fixed** offset (`PST` is always UTC-08:00,
//!    `EDT` UTC-04:00, `JST` UTC+09:00, …); when the region they belong to keeps another offset at that moment
//!    (`PST` in July) the observation notes it and names the IANA zone to use for its clock time. Abbreviations
//!    with several meanings (`CST`, `IST`, `BST`, `AST`) are refused with the candidates listed.
//! 2. IANA names in any case, with spaces for underscores (`asia/shanghai`, `America/New York`), including the
//!    database's legacy links (`US/Eastern`, `Japan`, `UTC`, `GMT`; `CET` follows the IANA rules and so has
//!    summer time).
//! 3. A short list of well-known places that are not IANA names: `Beijing` and `北京` are Asia/Shanghai,
//!    `Washington` is America/New_York, `San Francisco` is America/Los_Angeles, `Mumbai` is Asia/Kolkata, ….
//!    `Z` and `Zulu` are UTC.
//! 4. Fixed offsets in the ISO 8601 sense: `UTC+8`, `GMT-5`, `UTC+05:30`, `+0800`, `-03:30`. (`UTC+8` is 8 hours
//!    **ahead** of UTC; note that IANA's `Etc/GMT+8` is the opposite, and the observation warns about it.)
//! 5. The last part of an IANA name when exactly one zone in a geographic region (Africa, America, Asia, …) ends
//!    with it: `Shanghai`, `new york`, `Tokyo`, `London`, `Buenos Aires`. The few duplicates are links to one
//!    zone (`America/Buenos_Aires` and `America/Argentina/Buenos_Aires`); the longer, current name is used.
//!    A name with a made-up region (`Asia/Beijing`) is looked up by its last part.
//!
//! Anything else is an error that suggests the closest names.
//!
//! # Daylight saving time
//!
//! A local time can be missing (clocks jump forward over it) or occur twice (clocks go back). The rule, like
//! Python's `zoneinfo` with `fold=0` and most calendar apps:
//! - **Fold** (the time occurs twice): the **earlier** instant (the first occurrence) is used, and the observation
//!   adds a note naming the other possibility and what it would give.
//! - **Gap** (the time does not exist): the time is moved **forward by the length of the gap** (02:30 in a one-hour
//!   gap becomes 03:30; on Lord Howe Island's 30-minute gap, 02:15 becomes 02:45), which is the instant the
//!   wall clock would show had it not been changed; the observation says the time does not exist.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz, TZ_VARIANTS};
use serde_json::{json, Map, Value};

use super::{ToolContext, ToolSpec};

/// The format `current_time` uses when none is given (Dify's default).
pub const DEFAULT_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// The format of every local time these tools print.
const OUTPUT_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;
const ZONE_EXAMPLES: &str = "Asia/Shanghai, Europe/London or America/New_York";

/// The tool names, in the order of [`specs`].
pub const TOOL_NAMES: [&str; 5] =
    ["current_time", "localtime_to_timestamp", "timestamp_to_localtime", "timezone_conversion", "weekday"];

// ---------------------------------------------------------------------------------------------------------------
// The computer's time zone
// ---------------------------------------------------------------------------------------------------------------

/// The computer's time zone: the `TZ` environment variable when it names an IANA zone (a leading `:` and a
/// `…/zoneinfo/` path prefix are allowed), else the operating system's zone (via `iana-time-zone`), else UTC.
pub fn local_zone() -> Tz {
    let tz_env = std::env::var("TZ").ok();
    local_zone_from(tz_env.as_deref(), || iana_time_zone::get_timezone().ok())
}

/// [`local_zone`] with its inputs given: the value of `TZ` (if set) and a way to ask the OS for its zone name
/// (only asked when `TZ` does not name a zone).
pub fn local_zone_from(tz_env: Option<&str>, os_zone: impl FnOnce() -> Option<String>) -> Tz {
    if let Some(tz) = tz_env.and_then(zone_from_tz_variable) {
        return tz;
    }
    os_zone().and_then(|name| zone_from_tz_variable(&name)).unwrap_or(Tz::UTC)
}

/// Reads an IANA name as found in `TZ` or returned by the OS: `Asia/Shanghai`, `:Asia/Shanghai`,
/// `/usr/share/zoneinfo/Asia/Shanghai`. POSIX rules such as `CST-8` are not IANA names and give `None`.
fn zone_from_tz_variable(value: &str) -> Option<Tz> {
    let value = value.trim().trim_start_matches(':');
    let value = match value.rfind("zoneinfo/") {
        Some(at) => &value[at + "zoneinfo/".len()..],
        None => value,
    };
    iana_exact(value)
}

// ---------------------------------------------------------------------------------------------------------------
// Zones
// ---------------------------------------------------------------------------------------------------------------

/// A time zone as the tools understand it: an IANA zone, or a fixed offset from UTC (written as an offset, or a
/// single-meaning abbreviation such as `PST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Iana(Tz),
    Fixed {
        offset: FixedOffset,
        /// The abbreviation the user wrote (`PST`), if any.
        abbreviation: Option<&'static str>,
        /// The IANA zone whose clocks the abbreviation belongs to, to warn when they show another offset.
        region: Option<Tz>,
    },
}

impl Zone {
    fn fixed(offset: FixedOffset) -> Zone {
        Zone::Fixed { offset, abbreviation: None, region: None }
    }

    /// `Asia/Shanghai`, `PST`, or `UTC+05:30`.
    pub fn name(&self) -> String {
        match self {
            Zone::Iana(tz) => tz.name().to_string(),
            Zone::Fixed { abbreviation: Some(abbreviation), .. } => (*abbreviation).to_string(),
            Zone::Fixed { offset, .. } => format_offset(offset.local_minus_utc()),
        }
    }

    /// The offset from UTC in force at `instant`.
    pub fn offset_at(&self, instant: DateTime<Utc>) -> FixedOffset {
        match self {
            Zone::Iana(tz) => tz.offset_from_utc_datetime(&instant.naive_utc()).fix(),
            Zone::Fixed { offset, .. } => *offset,
        }
    }

    /// `(Asia/Shanghai, UTC+08:00)`, `(PST, UTC-08:00)` or `(UTC+05:30)`.
    pub fn label_at(&self, instant: DateTime<Utc>) -> String {
        let offset = format_offset(self.offset_at(instant).local_minus_utc());
        match self {
            Zone::Fixed { abbreviation: None, .. } => format!("({offset})"),
            _ => format!("({}, {offset})", self.name()),
        }
    }

    /// The wall-clock time at `instant`.
    fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.offset_at(instant)).naive_local()
    }

    /// Warnings about how the zone was read, worth telling the model.
    fn notes_at(&self, instant: DateTime<Utc>) -> Vec<String> {
        let mut notes = Vec::new();
        match self {
            Zone::Iana(tz) => {
                let name = tz.name();
                if let Some(rest) = name.strip_prefix("Etc/GMT") {
                    if (rest.starts_with('+') || rest.starts_with('-')) && rest[1..] != *"0" {
                        let real = format_offset(self.offset_at(instant).local_minus_utc());
                        let iso = parse_signed_offset(rest).map(|o| format_offset(o.local_minus_utc()));
                        notes.push(format!(
                            "{name} is {real}: IANA's Etc/GMT names have the sign reversed (UTC{rest} would be {})",
                            iso.unwrap_or_else(|| format!("UTC{rest}"))
                        ));
                    }
                }
            }
            Zone::Fixed { offset, abbreviation: Some(abbreviation), region: Some(region) } => {
                let regional = region.offset_from_utc_datetime(&instant.naive_utc()).fix();
                if regional != *offset {
                    notes.push(format!(
                        "{abbreviation} is always {}, but {} is on {} at that time; \
                         use timezone {} for its clock time",
                        format_offset(offset.local_minus_utc()),
                        region.name(),
                        format_offset(regional.local_minus_utc()),
                        region.name()
                    ));
                }
            }
            Zone::Fixed { .. } => {}
        }
        notes
    }
}

/// `UTC+08:00`, `UTC-03:30`, `UTC+08:05:43` (local mean time before standard time).
pub fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("UTC{sign}{h:02}:{m:02}")
    } else {
        format!("UTC{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// Abbreviations with a single common meaning: (abbreviation, offset in minutes, region whose clocks use it).
const ABBREVIATIONS: &[(&str, i32, Tz)] = &[
    ("EST", -5 * 60, Tz::America__New_York),
    ("EDT", -4 * 60, Tz::America__New_York),
    ("CDT", -5 * 60, Tz::America__Chicago),
    ("MST", -7 * 60, Tz::America__Denver),
    ("MDT", -6 * 60, Tz::America__Denver),
    ("PST", -8 * 60, Tz::America__Los_Angeles),
    ("PDT", -7 * 60, Tz::America__Los_Angeles),
    ("AKST", -9 * 60, Tz::America__Anchorage),
    ("AKDT", -8 * 60, Tz::America__Anchorage),
    ("HST", -10 * 60, Tz::Pacific__Honolulu),
    ("CEST", 2 * 60, Tz::Europe__Berlin),
    ("EEST", 3 * 60, Tz::Europe__Athens),
    ("MSK", 3 * 60, Tz::Europe__Moscow),
    ("JST", 9 * 60, Tz::Asia__Tokyo),
    ("KST", 9 * 60, Tz::Asia__Seoul),
    ("HKT", 8 * 60, Tz::Asia__Hong_Kong),
    ("SGT", 8 * 60, Tz::Asia__Singapore),
    ("PKT", 5 * 60, Tz::Asia__Karachi),
    ("AEST", 10 * 60, Tz::Australia__Sydney),
    ("AEDT", 11 * 60, Tz::Australia__Sydney),
    ("ACST", 9 * 60 + 30, Tz::Australia__Adelaide),
    ("ACDT", 10 * 60 + 30, Tz::Australia__Adelaide),
    ("AWST", 8 * 60, Tz::Australia__Perth),
    ("NZST", 12 * 60, Tz::Pacific__Auckland),
    ("NZDT", 13 * 60, Tz::Pacific__Auckland),
];

/// Abbreviations with several common meanings: refused, with the candidates.
const AMBIGUOUS_ABBREVIATIONS: &[(&str, &str)] = &[
    ("CST", "America/Chicago (US Central), Asia/Shanghai (China) or America/Havana (Cuba)"),
    ("IST", "Asia/Kolkata (India), Europe/Dublin (Ireland) or Asia/Jerusalem (Israel)"),
    ("BST", "Europe/London (British Summer Time) or Asia/Dhaka (Bangladesh)"),
    ("AST", "America/Halifax (Atlantic) or Asia/Riyadh (Arabia)"),
];

/// Well-known places and names that are not IANA names (keys as [`words`] normalises them).
const PLACES: &[(&str, Tz)] = &[
    ("z", Tz::UTC),
    ("beijing", Tz::Asia__Shanghai),
    ("peking", Tz::Asia__Shanghai),
    ("china", Tz::Asia__Shanghai),
    ("beijing time", Tz::Asia__Shanghai),
    ("北京", Tz::Asia__Shanghai),
    ("北京时间", Tz::Asia__Shanghai),
    ("中国", Tz::Asia__Shanghai),
    ("上海", Tz::Asia__Shanghai),
    ("香港", Tz::Asia__Hong_Kong),
    ("台北", Tz::Asia__Taipei),
    ("东京", Tz::Asia__Tokyo),
    ("首尔", Tz::Asia__Seoul),
    ("新加坡", Tz::Asia__Singapore),
    ("纽约", Tz::America__New_York),
    ("洛杉矶", Tz::America__Los_Angeles),
    ("芝加哥", Tz::America__Chicago),
    ("伦敦", Tz::Europe__London),
    ("巴黎", Tz::Europe__Paris),
    ("柏林", Tz::Europe__Berlin),
    ("莫斯科", Tz::Europe__Moscow),
    ("悉尼", Tz::Australia__Sydney),
    ("迪拜", Tz::Asia__Dubai),
    ("washington", Tz::America__New_York),
    ("washington dc", Tz::America__New_York),
    ("washington d.c.", Tz::America__New_York),
    ("boston", Tz::America__New_York),
    ("miami", Tz::America__New_York),
    ("nyc", Tz::America__New_York),
    ("san francisco", Tz::America__Los_Angeles),
    ("seattle", Tz::America__Los_Angeles),
    ("silicon valley", Tz::America__Los_Angeles),
    ("la", Tz::America__Los_Angeles),
    ("houston", Tz::America__Chicago),
    ("dallas", Tz::America__Chicago),
    ("delhi", Tz::Asia__Kolkata),
    ("new delhi", Tz::Asia__Kolkata),
    ("mumbai", Tz::Asia__Kolkata),
    ("bombay", Tz::Asia__Kolkata),
    ("bangalore", Tz::Asia__Kolkata),
    ("bengaluru", Tz::Asia__Kolkata),
    ("india", Tz::Asia__Kolkata),
    ("uk", Tz::Europe__London),
    ("hongkong", Tz::Asia__Hong_Kong),
    ("saigon", Tz::Asia__Ho_Chi_Minh),
    ("ho chi minh city", Tz::Asia__Ho_Chi_Minh),
];

/// The first parts of geographic IANA names (the rest are legacy names such as `US/Eastern` or `Japan`).
const REGIONS: &[&str] =
    &["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"];

/// Last parts that name no place on their own (`Australia/West`): not looked up by themselves.
const VAGUE_SEGMENTS: &[&str] = &["north", "south", "west", "east", "central"];

struct ZoneIndex {
    /// Lower-case IANA name → zone.
    exact: HashMap<String, Tz>,
    /// Normalised last part of a geographic name → zone.
    segments: HashMap<String, Tz>,
    /// For suggestions: each zone's name as [`words`] normalises it, and its last part if geographic.
    spelled: Vec<(Tz, Vec<char>, Option<Vec<char>>)>,
}

fn index() -> &'static ZoneIndex {
    static INDEX: OnceLock<ZoneIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut exact = HashMap::new();
        let mut segments: HashMap<String, Tz> = HashMap::new();
        let mut spelled = Vec::new();
        for tz in TZ_VARIANTS.iter().copied() {
            let name = tz.name();
            exact.insert(name.to_lowercase(), tz);
            let tail = name
                .rsplit_once('/')
                .filter(|(region, _)| REGIONS.iter().any(|r| region.starts_with(r)))
                .map(|(_, tail)| words(tail).chars().collect());
            spelled.push((tz, words(name).chars().collect(), tail));
            let Some((region, _)) = name.split_once('/') else { continue };
            if !REGIONS.contains(&region) {
                continue;
            }
            let key = words(name.rsplit('/').next().unwrap_or(name));
            if VAGUE_SEGMENTS.contains(&key.as_str()) {
                continue;
            }
            let parts = name.matches('/').count();
            match segments.get(&key) {
                Some(existing) if existing.name().matches('/').count() >= parts => {}
                _ => {
                    segments.insert(key, tz);
                }
            }
        }
        ZoneIndex { exact, segments, spelled }
    })
}

/// An IANA name in any case, spaces allowed for underscores (`america/new york`).
fn iana_exact(name: &str) -> Option<Tz> {
    let key: Vec<String> =
        name.split('/').map(|part| part.split_whitespace().collect::<Vec<_>>().join("_").to_lowercase()).collect();
    index().exact.get(&key.join("/")).copied()
}

/// Lower case, with `_`, `-` and runs of white space made single spaces: `New_York` → `new york`.
fn words(s: &str) -> String {
    let lower = s.to_lowercase();
    let replaced: String =
        lower.chars().map(|c| if c == '_' || c == '-' || c.is_whitespace() { ' ' } else { c }).collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a time zone the way the module documentation describes. The error is a sentence for the model.
pub fn parse_zone(input: &str) -> Result<Zone, String> {
    let cleaned = input.trim().trim_start_matches(':').replace('\u{2212}', "-");
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return Err(format!("the time zone is empty; use an IANA name such as {ZONE_EXAMPLES}"));
    }
    let upper = cleaned.to_uppercase();
    if let Some((abbreviation, minutes, region)) = ABBREVIATIONS.iter().find(|(a, _, _)| *a == upper) {
        if let Some(offset) = FixedOffset::east_opt(minutes * 60) {
            return Ok(Zone::Fixed { offset, abbreviation: Some(abbreviation), region: Some(*region) });
        }
    }
    if let Some((abbreviation, candidates)) = AMBIGUOUS_ABBREVIATIONS.iter().find(|(a, _)| *a == upper) {
        return Err(format!(
            "time zone {abbreviation:?} is ambiguous: it may mean {candidates}; use one of those names"
        ));
    }
    if let Some(tz) = iana_exact(cleaned) {
        return Ok(Zone::Iana(tz));
    }
    if let Some(zone) = place_or_segment(cleaned) {
        return Ok(zone);
    }
    if let Some(offset) = parse_offset_zone(cleaned) {
        return Ok(Zone::fixed(offset));
    }
    if let Some((_, last)) = cleaned.rsplit_once('/') {
        if let Some(zone) = place_or_segment(last) {
            return Ok(zone);
        }
    }
    let suggestions = suggest_zones(cleaned);
    let shown = shorten(input);
    if suggestions.is_empty() {
        Err(format!("unknown time zone {shown:?}; use an IANA name such as {ZONE_EXAMPLES}"))
    } else {
        Err(format!(
            "unknown time zone {shown:?}; did you mean {}? Use an IANA name such as {ZONE_EXAMPLES}",
            join_or(&suggestions)
        ))
    }
}

fn place_or_segment(s: &str) -> Option<Zone> {
    let key = words(s);
    if let Some((_, tz)) = PLACES.iter().find(|(place, _)| *place == key) {
        return Some(Zone::Iana(*tz));
    }
    index().segments.get(&key).map(|tz| Zone::Iana(*tz))
}

/// `UTC+8`, `GMT-05:00`, `UTC+5:30`, `UTC+5.5`, `+0800`, `-03`: ISO 8601 signs (east of UTC is positive).
fn parse_offset_zone(s: &str) -> Option<FixedOffset> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let rest = ["UTC", "GMT", "Z"].iter().find_map(|p| compact.strip_prefix(p)).unwrap_or(&compact);
    parse_signed_offset(rest)
}

/// `+08:00`, `+0800`, `+08`, `+8`, `-5:30`, `+5.5` (sign required).
fn parse_signed_offset(s: &str) -> Option<FixedOffset> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if body.is_empty() || body.len() > 5 {
        return None;
    }
    let seconds: i32 = if let Some((h, m)) = body.split_once(':') {
        if h.is_empty() || h.len() > 2 || m.len() != 2 || !all_digits(h) || !all_digits(m) {
            return None;
        }
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        if m > 59 {
            return None;
        }
        h * 3600 + m * 60
    } else if let Some((h, frac)) = body.split_once('.') {
        if h.is_empty() || h.len() > 2 || !all_digits(h) || frac.is_empty() || !all_digits(frac) {
            return None;
        }
        let minutes = match frac {
            "5" | "50" => 30,
            "25" => 15,
            "75" => 45,
            "0" | "00" => 0,
            _ => return None,
        };
        h.parse::<i32>().ok()? * 3600 + minutes * 60
    } else if all_digits(body) {
        match body.len() {
            1 | 2 => body.parse::<i32>().ok()? * 3600,
            4 => {
                let (h, m): (i32, i32) = (body[..2].parse().ok()?, body[2..].parse().ok()?);
                if m > 59 {
                    return None;
                }
                h * 3600 + m * 60
            }
            _ => return None,
        }
    } else {
        return None;
    };
    if seconds > 18 * 3600 {
        return None;
    }
    FixedOffset::east_opt(sign * seconds)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Up to three zone names close to `input` (edit distance on names, last parts and places).
fn suggest_zones(input: &str) -> Vec<String> {
    let key: Vec<char> = words(input).chars().collect();
    if key.is_empty() || key.len() > 40 {
        return Vec::new();
    }
    let last: Vec<char> = words(input.rsplit('/').next().unwrap_or(input)).chars().collect();
    let mut scored: Vec<(usize, &'static str)> = Vec::new();
    let mut consider = |typed: &[char], candidate: &[char], name: &'static str| {
        let limit = (candidate.len() / 3).max(1);
        if typed.len().abs_diff(candidate.len()) <= limit {
            let distance = edit_distance(typed, candidate);
            if distance <= limit {
                scored.push((distance, name));
            }
        }
    };
    for (tz, full, tail) in &index().spelled {
        consider(&key, full, tz.name());
        if let Some(tail) = tail {
            consider(&key, tail, tz.name());
            consider(&last, tail, tz.name());
        }
    }
    for (place, tz) in PLACES {
        let place: Vec<char> = place.chars().collect();
        if place.len() >= 4 {
            consider(&key, &place, tz.name());
            consider(&last, &place, tz.name());
        }
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Local times and daylight saving time
// ---------------------------------------------------------------------------------------------------------------

/// A local time as written: the wall-clock reading and, if it carried one, its own offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ParsedLocal {
    naive: NaiveDateTime,
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
fn parse_local(param: &str, raw: &str) -> Result<ParsedLocal, String> {
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

const MONTH_NAMES: [&str; 12] = [
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
fn make_date(year: i64, month: i64, day: i64) -> Result<NaiveDate, String> {
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
fn local_to_instant(
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
fn render_local(instant: DateTime<Utc>, zone: &Zone) -> Result<String, String> {
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

// ---------------------------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------------------------

/// Whole seconds since 1970-01-01 00:00:00 UTC, with a note when the input was read in another unit.
fn parse_timestamp(value: &Value) -> Result<(DateTime<Utc>, Option<String>), String> {
    enum Raw {
        Int(i128),
        Float(f64),
    }
    let shown = shorten(&display_value(value));
    let not_a_number =
        || format!("timestamp must be a number of seconds since 1970-01-01 00:00:00 UTC, like 1704038400; got {shown}");
    let raw = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Raw::Int(i128::from(i)),
            (_, Some(u), _) => Raw::Int(i128::from(u)),
            (_, _, Some(f)) => Raw::Float(f),
            _ => return Err(not_a_number()),
        },
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix(".0").filter(|t| all_digits(t.trim_start_matches(['-', '+']))).unwrap_or(t);
            if let Ok(i) = t.parse::<i128>() {
                Raw::Int(i)
            } else if let Some(f) = t.parse::<f64>().ok().filter(|_| t.bytes().any(|b| b.is_ascii_digit())) {
                Raw::Float(f)
            } else {
                return Err(not_a_number());
            }
        }
        _ => return Err(not_a_number()),
    };
    let out_of_range = || {
        format!(
            "timestamp {shown} is out of range; timestamps (in seconds) must be between -62135596800 \
             (0001-01-01 00:00:00 UTC) and 253402300799 (9999-12-31 23:59:59 UTC)"
        )
    };
    let magnitude = match raw {
        Raw::Int(i) => i.unsigned_abs() as f64,
        Raw::Float(f) if f.is_finite() => f.abs(),
        Raw::Float(_) => return Err(not_a_number()),
    };
    let (power, unit, digits) = if magnitude < 1e12 {
        (0, "seconds", 0)
    } else if magnitude < 1e15 {
        (3, "milliseconds", 13)
    } else if magnitude < 1e18 {
        (6, "microseconds", 16)
    } else if magnitude < 1e21 {
        (9, "nanoseconds", 19)
    } else {
        return Err(out_of_range());
    };
    let seconds: i64 = match raw {
        Raw::Int(i) => {
            let divisor = 10i128.pow(power);
            i64::try_from(i.div_euclid(divisor)).map_err(|_| out_of_range())?
        }
        Raw::Float(f) => {
            let scaled = (f / 10f64.powi(power as i32)).floor();
            if !scaled.is_finite() || scaled.abs() >= 1e13 {
                return Err(out_of_range());
            }
            scaled as i64
        }
    };
    let instant = DateTime::from_timestamp(seconds, 0).ok_or_else(out_of_range)?;
    let note = (power > 0).then(|| {
        format!("{shown} has {digits} or more digits, so it was read as {unit}: {seconds} seconds since 1970")
    });
    Ok((instant, note))
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------------------------

/// The arguments as an object. Accepts an object, a JSON string holding one, a one-element array, and the
/// `{"name": …, "arguments": {…}}` wrapper some models produce. A bare string or number is returned as the
/// second element, for the tool to read as its main parameter.
fn arguments(args: &Value, depth: u8) -> Result<(Map<String, Value>, Option<Value>), String> {
    let not_object = || format!("arguments must be a JSON object, got {}", shorten(&display_value(args)));
    if depth > 4 {
        return Err(not_object());
    }
    match args {
        Value::Null => Ok((Map::new(), None)),
        Value::Object(map) => {
            let wrapper = map.iter().find(|(k, v)| {
                matches!(normal_key(k).as_str(), "arguments" | "parameters" | "args" | "input")
                    && (v.is_object() || v.is_string())
            });
            if let Some((_, inner)) = wrapper {
                let only_wrapper_keys = map.keys().all(|k| {
                    matches!(
                        normal_key(k).as_str(),
                        "arguments" | "parameters" | "args" | "input" | "name" | "tool" | "function" | "type" | "id"
                    )
                });
                if only_wrapper_keys {
                    return arguments(inner, depth + 1);
                }
            }
            Ok((map.clone(), None))
        }
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('{') || t.starts_with('[') {
                match serde_json::from_str::<Value>(t) {
                    Ok(inner) => arguments(&inner, depth + 1),
                    Err(_) if t.starts_with('{') => Err(format!("arguments are not valid JSON: {}", shorten(t))),
                    Err(_) => Ok((Map::new(), Some(Value::String(t.to_string())))),
                }
            } else if t.is_empty() {
                Ok((Map::new(), None))
            } else {
                Ok((Map::new(), Some(Value::String(t.to_string()))))
            }
        }
        Value::Number(_) => Ok((Map::new(), Some(args.clone()))),
        Value::Array(items) => match items.as_slice() {
            [] => Ok((Map::new(), None)),
            [one] => arguments(one, depth + 1),
            _ => Err(not_object()),
        },
        Value::Bool(_) => Err(not_object()),
    }
}

/// `Time_Zone` → `timezone`.
fn normal_key(key: &str) -> String {
    key.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
}

/// The first of `names` present (exactly, else ignoring case and `_`), skipping nulls and empty strings.
fn lookup<'a>(map: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    let present = |v: &&Value| !(v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()));
    for name in names {
        if let Some(v) = map.get(*name).filter(present) {
            return Some(v);
        }
    }
    for name in names {
        let wanted = normal_key(name);
        if let Some((_, v)) = map.iter().find(|(k, v)| normal_key(k) == wanted && present(v)) {
            return Some(v);
        }
    }
    None
}

/// A string parameter (numbers are accepted as their text).
fn string_param(map: &Map<String, Value>, names: &[&str]) -> Result<Option<String>, String> {
    match lookup(map, names) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("parameter {:?} must be a string, got {}", names[0], kind(other))),
    }
}

fn required_string(map: &Map<String, Value>, names: &[&str], example: &str) -> Result<String, String> {
    string_param(map, names)?.ok_or_else(|| format!("missing parameter {:?} ({example})", names[0]))
}

/// A time zone parameter; `local` means the computer's zone. Returns the parameter name with the zone.
fn zone_param(
    map: &Map<String, Value>,
    names: &[&'static str],
    ctx: &ToolContext,
) -> Result<Option<(&'static str, Zone)>, String> {
    let Some(text) = string_param(map, names)? else { return Ok(None) };
    let zone = match words(&text).as_str() {
        "local" | "localtime" | "local time" | "system" | "default" => Zone::Iana(ctx.local_zone),
        _ => parse_zone(&text)?,
    };
    Ok(Some((names[0], zone)))
}

/// A whole-number parameter; `month` also takes English month names, `day` ordinals such as `14th`.
fn integer_param(map: &Map<String, Value>, name: &str) -> Result<i64, String> {
    let value = lookup(map, &[name]).ok_or_else(|| format!("missing parameter {name:?} (a whole number)"))?;
    let bad = || format!("parameter {name:?} must be a whole number, got {}", shorten(&display_value(value)));
    let from_float = |f: f64| {
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
            Some(f as i64)
        } else {
            None
        }
    };
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(from_float)).ok_or_else(bad),
        Value::String(s) => {
            let t = s.trim();
            if name == "month" {
                let lower = t.to_lowercase();
                if lower.len() >= 3 {
                    if let Some(i) = MONTH_NAMES.iter().position(|m| m.to_lowercase().starts_with(&lower)) {
                        return Ok(i as i64 + 1);
                    }
                }
            }
            let t = if name == "day" {
                ["st", "nd", "rd", "th"].iter().find_map(|s| t.strip_suffix(s)).unwrap_or(t)
            } else {
                t
            };
            t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().and_then(from_float)).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// At most 80 characters of what the model sent, for quoting in errors.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(77).collect();
        short.push_str("...");
        short
    }
}

fn with_notes(main: String, notes: Vec<String>) -> String {
    let mut out = main;
    let mut seen: Vec<&String> = Vec::new();
    for note in &notes {
        if !seen.contains(&note) {
            let _ = write!(out, "\nnote: {note}");
            seen.push(note);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The tools
// ---------------------------------------------------------------------------------------------------------------

const TIMEZONE_HELP: &str = "IANA time zone name such as Asia/Shanghai, Europe/London or America/New_York; \
                             UTC and offsets like UTC+8 work too. Default: this computer's time zone.";

/// The five tools' descriptions and JSON Schemas, in the order of [`TOOL_NAMES`].
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "current_time",
            description: "Get the current date and time, in a time zone. \
                          Returns e.g. 2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00).",
            parameters: json!({
                "type": "object",
                "properties": {
                    "timezone": { "type": "string", "description": TIMEZONE_HELP },
                    "format": {
                        "type": "string",
                        "description": "strftime format, default %Y-%m-%d %H:%M:%S. \
                                        %A gives the weekday name, %B the month name, %Z the zone abbreviation."
                    }
                },
                "required": []
            }),
        },
        ToolSpec {
            name: "localtime_to_timestamp",
            description: "Convert a local date and time in a time zone to a Unix timestamp (seconds since \
                          1970-01-01 00:00:00 UTC). Returns e.g. 1704038400.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "localtime": {
                        "type": "string",
                        "description": "Local date and time as YYYY-MM-DD HH:MM:SS, e.g. 2024-01-01 00:00:00."
                    },
                    "timezone": { "type": "string", "description": TIMEZONE_HELP }
                },
                "required": ["localtime"]
            }),
        },
        ToolSpec {
            name: "timestamp_to_localtime",
            description: "Convert a Unix timestamp (seconds since 1970-01-01 00:00:00 UTC) to the local date and \
                          time in a time zone. Returns YYYY-MM-DD HH:MM:SS.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "timestamp": {
                        "type": "number",
                        "description": "Unix timestamp in seconds, e.g. 1704038400. 13-digit milliseconds are \
                                        detected."
                    },
                    "timezone": { "type": "string", "description": TIMEZONE_HELP }
                },
                "required": ["timestamp"]
            }),
        },
        ToolSpec {
            name: "timezone_conversion",
            description: "Convert a date and time from one time zone to another. Returns YYYY-MM-DD HH:MM:SS in \
                          the target time zone.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "current_time": {
                        "type": "string",
                        "description": "The date and time to convert, as YYYY-MM-DD HH:MM:SS, \
                                        e.g. 2024-01-01 09:00:00."
                    },
                    "current_timezone": {
                        "type": "string",
                        "description": "The time zone current_time is in, e.g. Asia/Shanghai. \
                                        Default: this computer's time zone."
                    },
                    "target_timezone": {
                        "type": "string",
                        "description": "The time zone to convert to, e.g. America/New_York."
                    }
                },
                "required": ["current_time", "target_timezone"]
            }),
        },
        ToolSpec {
            name: "weekday",
            description: "Find the day of the week of a date. Returns e.g. March 14, 2025 is Friday.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "year": { "type": "integer", "description": "Year, e.g. 2025." },
                    "month": { "type": "integer", "description": "Month, 1-12." },
                    "day": { "type": "integer", "description": "Day of the month, 1-31." }
                },
                "required": ["year", "month", "day"]
            }),
        },
    ]
}

/// Runs tool `name` (already known to be one of [`TOOL_NAMES`]). `Ok` is the observation, `Err` the reason for
/// an error observation (without the `error: ` prefix).
pub fn run(name: &str, args: &Value, ctx: &ToolContext) -> Result<String, String> {
    let (mut map, bare) = arguments(args, 0)?;
    if let Some(bare) = bare {
        let main = match (name, &bare) {
            ("current_time", Value::String(s)) if s.contains('%') => "format",
            ("current_time", Value::String(_)) => "timezone",
            ("localtime_to_timestamp", Value::String(_)) => "localtime",
            ("timestamp_to_localtime", _) => "timestamp",
            ("weekday", Value::String(_)) => "date",
            _ => {
                return Err(format!(
                    "{name} needs a JSON object of parameters, like {}; got {}",
                    example_args(name),
                    shorten(&display_value(&bare))
                ))
            }
        };
        map.insert(main.to_string(), bare);
    }
    match name {
        "current_time" => current_time(&map, ctx),
        "localtime_to_timestamp" => localtime_to_timestamp(&map, ctx),
        "timestamp_to_localtime" => timestamp_to_localtime(&map, ctx),
        "timezone_conversion" => timezone_conversion(&map, ctx),
        "weekday" => weekday(&map),
        _ => Err(format!("unknown tool {name:?}")),
    }
}

fn example_args(name: &str) -> &'static str {
    match name {
        "current_time" => r#"{"timezone": "Asia/Shanghai"}"#,
        "localtime_to_timestamp" => r#"{"localtime": "2024-01-01 00:00:00", "timezone": "Asia/Shanghai"}"#,
        "timestamp_to_localtime" => r#"{"timestamp": 1704038400, "timezone": "Asia/Shanghai"}"#,
        "timezone_conversion" => concat!(
            r#"{"current_time": "2024-01-01 09:00:00", "current_timezone": "Asia/Shanghai", "#,
            r#""target_timezone": "America/New_York"}"#
        ),
        _ => r#"{"year": 2025, "month": 3, "day": 14}"#,
    }
}

const TIMEZONE_NAMES: &[&str] = &["timezone", "tz", "time_zone", "zone"];

fn current_time(map: &Map<String, Value>, ctx: &ToolContext) -> Result<String, String> {
    let zone = zone_param(map, TIMEZONE_NAMES, ctx)?.map(|(_, z)| z).unwrap_or(Zone::Iana(ctx.local_zone));
    let format = string_param(map, &["format", "fmt", "time_format"])?.unwrap_or_else(|| DEFAULT_FORMAT.to_string());
    let now = ctx.now;
    render_local(now, &zone)?;
    let text = format_instant(now, &zone, &format)?;
    Ok(with_notes(format!("{text} {}", zone.label_at(now)), zone.notes_at(now)))
}

/// strftime as in Python: `%f` is microseconds (chrono's `%6f`). Invalid formats are errors, not panics.
fn format_instant(instant: DateTime<Utc>, zone: &Zone, format: &str) -> Result<String, String> {
    if format.chars().count() > 200 {
        return Err("format is too long (at most 200 characters)".to_string());
    }
    let mut translated = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch == '%' {
            match chars.next() {
                Some('f') => translated.push_str("%6f"),
                Some(next) => {
                    translated.push('%');
                    translated.push(next);
                }
                None => translated.push('%'),
            }
        } else {
            translated.push(ch);
        }
    }
    let mut out = String::new();
    let written = match zone {
        Zone::Iana(tz) => write!(out, "{}", instant.with_timezone(tz).format(&translated)),
        Zone::Fixed { offset, .. } => write!(out, "{}", instant.with_timezone(offset).format(&translated)),
    };
    written.map_err(|_| {
        format!("format {:?} is not a valid strftime format; use codes like %Y-%m-%d %H:%M:%S", shorten(format))
    })?;
    Ok(out)
}

const LOCALTIME_EXAMPLE: &str = "a local time like 2024-01-01 00:00:00";

fn localtime_to_timestamp(map: &Map<String, Value>, ctx: &ToolContext) -> Result<String, String> {
    let names = ["localtime", "local_time", "time", "datetime", "date_time", "date"];
    let localtime = required_string(map, &names, LOCALTIME_EXAMPLE)?;
    let zone = zone_param(map, TIMEZONE_NAMES, ctx)?;
    let (instant, _, notes) = local_to_instant("localtime", &localtime, zone, Zone::Iana(ctx.local_zone), &|other| {
        Ok(other.timestamp().to_string())
    })?;
    Ok(with_notes(instant.timestamp().to_string(), notes))
}

fn timestamp_to_localtime(map: &Map<String, Value>, ctx: &ToolContext) -> Result<String, String> {
    let value = lookup(map, &["timestamp", "ts", "unix_timestamp", "epoch", "time"])
        .ok_or_else(|| "missing parameter \"timestamp\" (Unix seconds like 1704038400)".to_string())?;
    let (instant, unit_note) = parse_timestamp(value)?;
    let zone = zone_param(map, TIMEZONE_NAMES, ctx)?.map(|(_, z)| z).unwrap_or(Zone::Iana(ctx.local_zone));
    let text = render_local(instant, &zone)?;
    let mut notes: Vec<String> = unit_note.into_iter().collect();
    notes.extend(zone.notes_at(instant));
    Ok(with_notes(text, notes))
}

fn timezone_conversion(map: &Map<String, Value>, ctx: &ToolContext) -> Result<String, String> {
    let names = ["current_time", "time", "localtime", "local_time", "datetime", "date_time", "source_time"];
    let current_time = required_string(map, &names, "the time to convert, like 2024-01-01 09:00:00")?;
    let source = zone_param(
        map,
        &["current_timezone", "source_timezone", "from_timezone", "timezone", "from_tz", "source_tz", "from"],
        ctx,
    )?;
    let target = zone_param(map, &["target_timezone", "to_timezone", "destination_timezone", "to_tz", "to"], ctx)?
        .map(|(_, z)| z)
        .unwrap_or(Zone::Iana(ctx.local_zone));
    let (instant, _, mut notes) =
        local_to_instant("current_time", &current_time, source, Zone::Iana(ctx.local_zone), &|other| {
            render_local(other, &target)
        })?;
    let text = render_local(instant, &target)?;
    notes.extend(target.notes_at(instant));
    Ok(with_notes(text, notes))
}

fn weekday(map: &Map<String, Value>) -> Result<String, String> {
    let date = match lookup(map, &["year"]) {
        None if lookup(map, &["date"]).is_some() => {
            let text = required_string(map, &["date"], "a date like 2025-03-14")?;
            parse_local("date", &text)?.naive.date()
        }
        _ => {
            let (year, month, day) =
                (integer_param(map, "year")?, integer_param(map, "month")?, integer_param(map, "day")?);
            make_date(year, month, day)
                .map_err(|why| format!("{year}-{month:02}-{day:02} is not a valid date: {why}"))?
        }
    };
    let weekday = match date.weekday() {
        chrono::Weekday::Mon => "Monday",
        chrono::Weekday::Tue => "Tuesday",
        chrono::Weekday::Wed => "Wednesday",
        chrono::Weekday::Thu => "Thursday",
        chrono::Weekday::Fri => "Friday",
        chrono::Weekday::Sat => "Saturday",
        chrono::Weekday::Sun => "Sunday",
    };
    let month = MONTH_NAMES[date.month0() as usize];
    Ok(format!("{month} {}, {} is {weekday}.", date.day(), date.year()))
}
