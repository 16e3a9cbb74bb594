//! Time zones as the model writes them: the computer's own zone, and [`parse_zone`], which reads IANA names in any
//! case, single-meaning abbreviations, well-known places, fixed offsets and the last part of an IANA name, in the
//! order the [module documentation](super) gives. Everything that knows a zone's name lives here, so the tables of
//! abbreviations and places, the name index and the "did you mean" suggestions sit beside the one reader that uses
//! them.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{Tz, TZ_VARIANTS};

use super::args::shorten;

const ZONE_EXAMPLES: &str = "Asia/Shanghai, Europe/London or America/New_York";

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
    pub(super) fn fixed(offset: FixedOffset) -> Zone {
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
    pub(super) fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.offset_at(instant)).naive_local()
    }

    /// Warnings about how the zone was read, worth telling the model.
    pub(super) fn notes_at(&self, instant: DateTime<Utc>) -> Vec<String> {
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
pub(super) fn words(s: &str) -> String {
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
pub(super) fn parse_offset_zone(s: &str) -> Option<FixedOffset> {
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

pub(super) fn all_digits(s: &str) -> bool {
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
