//! Reading the model's arguments: the object itself (also as a JSON string, a one-element list or a
//! `{"name": …, "arguments": {…}}` wrapper), parameters under their usual aliases and in any case, whole numbers,
//! month names, time zones and Unix timestamps in any unit. Small models are loose about all of this, so each tool
//! asks for its parameters through these readers instead of deserialising a struct, and every refusal is a
//! sentence that tells the model what to send instead.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::local::MONTH_NAMES;
use super::zones::{all_digits, parse_zone, words, Zone};
use crate::tools::ToolContext;

// ---------------------------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------------------------

/// Whole seconds since 1970-01-01 00:00:00 UTC, with a note when the input was read in another unit.
pub(super) fn parse_timestamp(value: &Value) -> Result<(DateTime<Utc>, Option<String>), String> {
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
pub(super) fn arguments(args: &Value, depth: u8) -> Result<(Map<String, Value>, Option<Value>), String> {
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
pub(super) fn lookup<'a>(map: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
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
pub(super) fn string_param(map: &Map<String, Value>, names: &[&str]) -> Result<Option<String>, String> {
    match lookup(map, names) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("parameter {:?} must be a string, got {}", names[0], kind(other))),
    }
}

pub(super) fn required_string(map: &Map<String, Value>, names: &[&str], example: &str) -> Result<String, String> {
    string_param(map, names)?.ok_or_else(|| format!("missing parameter {:?} ({example})", names[0]))
}

/// A time zone parameter; `local` means the computer's zone. Returns the parameter name with the zone.
pub(super) fn zone_param(
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
pub(super) fn integer_param(map: &Map<String, Value>, name: &str) -> Result<i64, String> {
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

pub(super) fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// At most 80 characters of what the model sent, for quoting in errors.
pub(super) fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(77).collect();
        short.push_str("...");
        short
    }
}
