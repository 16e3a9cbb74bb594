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
//!
//! # Where things are
//!
//! `zones.rs` reads time zones ([`parse_zone`]), `local.rs` reads local times and applies the rule above, `args.rs`
//! reads the model's arguments; this file holds the five tools: what they announce to the model ([`specs`]) and
//! what they do ([`run`]).

mod args;
mod local;
mod zones;

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Map, Value};

use super::{ToolContext, ToolSpec};
use args::{
    arguments, display_value, integer_param, lookup, parse_timestamp, required_string, shorten, string_param,
    zone_param,
};
use local::{local_to_instant, make_date, parse_local, render_local, MONTH_NAMES};
pub use zones::{format_offset, local_zone, local_zone_from, parse_zone, Zone};

/// The format `current_time` uses when none is given (Dify's default).
pub const DEFAULT_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The tool names, in the order of [`specs`].
pub const TOOL_NAMES: [&str; 5] =
    ["current_time", "localtime_to_timestamp", "timestamp_to_localtime", "timezone_conversion", "weekday"];

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

/// The observation: `main`, then each distinct note on a line of its own.
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
