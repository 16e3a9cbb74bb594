//! The five time tools, table-driven, with a fixed clock (2025-03-14 01:30:00 UTC, a Friday) and a fixed local
//! zone (Asia/Shanghai), so nothing here depends on the machine running it.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use gemma_desk_core::tools::time::{local_zone_from, parse_zone, Zone};
use gemma_desk_core::tools::{run_tool, time_tools, tool_names, ToolContext, ToolResult};
use serde_json::{json, Value};

fn ctx() -> ToolContext {
    ToolContext { now: Utc.with_ymd_and_hms(2025, 3, 14, 1, 30, 0).unwrap(), local_zone: Tz::Asia__Shanghai }
}

/// timezone_conversion's arguments.
fn conv(time: &str, from: &str, to: &str) -> Value {
    json!({"current_time": time, "current_timezone": from, "target_timezone": to})
}

fn run(tool: &str, args: &Value) -> ToolResult {
    run_tool(tool, args, &ctx())
}

/// Runs each row and checks the observation is exactly as expected.
fn check_ok(rows: &[(&str, Value, &str)]) {
    let mut failures = Vec::new();
    for (tool, args, expected) in rows {
        let result = run(tool, args);
        if result.is_error || result.observation != *expected {
            failures.push(format!("{tool} {args}\n  expected: {expected:?}\n  got:      {result:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Runs each row and checks it is an error observation containing every fragment.
fn check_err(rows: &[(&str, Value, &[&str])]) {
    let mut failures = Vec::new();
    for (tool, args, fragments) in rows {
        let result = run(tool, args);
        let good = result.is_error
            && result.observation.starts_with("error: ")
            && fragments.iter().all(|f| result.observation.contains(f));
        if !good {
            failures.push(format!("{tool} {args}\n  expected an error with {fragments:?}\n  got: {result:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn specs_are_the_five_in_order_with_object_schemas() {
    let names = ["current_time", "localtime_to_timestamp", "timestamp_to_localtime", "timezone_conversion", "weekday"];
    assert_eq!(tool_names(), names);
    let specs = time_tools();
    assert_eq!(specs.iter().map(|s| s.name).collect::<Vec<_>>(), names);
    for spec in &specs {
        assert!(!spec.description.is_empty() && spec.description.len() < 200, "{}", spec.name);
        assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
        let properties = spec.parameters["properties"].as_object().expect("properties");
        for required in spec.parameters["required"].as_array().expect("required") {
            assert!(properties.contains_key(required.as_str().unwrap()), "{} requires {required}", spec.name);
        }
        for (name, property) in properties {
            assert!(property["type"].is_string() && property["description"].is_string(), "{}.{name}", spec.name);
        }
        let serialized = serde_json::to_value(spec).unwrap();
        assert_eq!(serialized["name"], spec.name);
    }
    assert_eq!(specs[4].parameters["required"], json!(["year", "month", "day"]));
    assert_eq!(specs[1].parameters["required"], json!(["localtime"]));
}

#[test]
fn current_time() {
    check_ok(&[
        ("current_time", json!({}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", Value::Null, "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": ""}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "local"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "UTC"}), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
        ("current_time", json!({"timezone": "America/New_York"}), "2025-03-13 21:30:00 (America/New_York, UTC-04:00)"),
        ("current_time", json!({"timezone": "Europe/London"}), "2025-03-14 01:30:00 (Europe/London, UTC+00:00)"),
        ("current_time", json!({"timezone": "Asia/Kolkata"}), "2025-03-14 07:00:00 (Asia/Kolkata, UTC+05:30)"),
        ("current_time", json!({"timezone": "Asia/Kathmandu"}), "2025-03-14 07:15:00 (Asia/Kathmandu, UTC+05:45)"),
        ("current_time", json!({"timezone": "Australia/Eucla"}), "2025-03-14 10:15:00 (Australia/Eucla, UTC+08:45)"),
        ("current_time", json!({"timezone": "America/St_Johns"}), "2025-03-13 23:00:00 (America/St_Johns, UTC-02:30)"),
        (
            "current_time",
            json!({"timezone": "Pacific/Kiritimati"}),
            "2025-03-14 15:30:00 (Pacific/Kiritimati, UTC+14:00)",
        ),
        (
            "current_time",
            json!({"timezone": "Pacific/Pago_Pago"}),
            "2025-03-13 14:30:00 (Pacific/Pago_Pago, UTC-11:00)",
        ),
        ("current_time", json!({"timezone": "Pacific/Apia"}), "2025-03-14 14:30:00 (Pacific/Apia, UTC+13:00)"),
        // Custom formats: Python's strftime codes, then the zone.
        (
            "current_time",
            json!({"timezone": "UTC", "format": "%A, %B %d, %Y"}),
            "Friday, March 14, 2025 (UTC, UTC+00:00)",
        ),
        ("current_time", json!({"format": "%H:%M"}), "09:30 (Asia/Shanghai, UTC+08:00)"),
        (
            "current_time",
            json!({"format": "%Y-%m-%dT%H:%M:%S.%f%z"}),
            "2025-03-14T09:30:00.000000+0800 (Asia/Shanghai, UTC+08:00)",
        ),
        ("current_time", json!({"format": "%Z"}), "CST (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"format": "100%%"}), "100% (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"format": ""}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        // Lenient zones.
        ("current_time", json!({"timezone": "asia/shanghai"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "Beijing"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "北京"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "Asia/Beijing"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "Shanghai"}), "2025-03-14 09:30:00 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!({"timezone": "new york"}), "2025-03-13 21:30:00 (America/New_York, UTC-04:00)"),
        ("current_time", json!({"timezone": "New_York"}), "2025-03-13 21:30:00 (America/New_York, UTC-04:00)"),
        ("current_time", json!({"timezone": "america/new york"}), "2025-03-13 21:30:00 (America/New_York, UTC-04:00)"),
        ("current_time", json!({"timezone": "Tokyo"}), "2025-03-14 10:30:00 (Asia/Tokyo, UTC+09:00)"),
        ("current_time", json!({"timezone": "london"}), "2025-03-14 01:30:00 (Europe/London, UTC+00:00)"),
        (
            "current_time",
            json!({"timezone": "Buenos Aires"}),
            "2025-03-13 22:30:00 (America/Argentina/Buenos_Aires, UTC-03:00)",
        ),
        ("current_time", json!({"timezone": "US/Eastern"}), "2025-03-13 21:30:00 (US/Eastern, UTC-04:00)"),
        ("current_time", json!({"timezone": "gmt"}), "2025-03-14 01:30:00 (GMT, UTC+00:00)"),
        ("current_time", json!({"timezone": "Z"}), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
        ("current_time", json!({"timezone": ":Asia/Tokyo"}), "2025-03-14 10:30:00 (Asia/Tokyo, UTC+09:00)"),
        ("current_time", json!({"timezone": "UTC+8"}), "2025-03-14 09:30:00 (UTC+08:00)"),
        ("current_time", json!({"timezone": "GMT-5"}), "2025-03-13 20:30:00 (UTC-05:00)"),
        ("current_time", json!({"timezone": "UTC+05:30"}), "2025-03-14 07:00:00 (UTC+05:30)"),
        ("current_time", json!({"timezone": "utc + 5.5"}), "2025-03-14 07:00:00 (UTC+05:30)"),
        ("current_time", json!({"timezone": "+0545"}), "2025-03-14 07:15:00 (UTC+05:45)"),
        ("current_time", json!({"timezone": "JST"}), "2025-03-14 10:30:00 (JST, UTC+09:00)"),
        ("current_time", json!({"timezone": "EDT"}), "2025-03-13 21:30:00 (EDT, UTC-04:00)"),
        // Abbreviations are fixed offsets; when the region keeps another offset, a note says so.
        (
            "current_time",
            json!({"timezone": "PST"}),
            "2025-03-13 17:30:00 (PST, UTC-08:00)\nnote: PST is always UTC-08:00, but America/Los_Angeles is on \
             UTC-07:00 at that time; use timezone America/Los_Angeles for its clock time",
        ),
        (
            "current_time",
            json!({"timezone": "Etc/GMT+8"}),
            "2025-03-13 17:30:00 (Etc/GMT+8, UTC-08:00)\nnote: Etc/GMT+8 is UTC-08:00: IANA's Etc/GMT names have the \
             sign reversed (UTC+8 would be UTC+08:00)",
        ),
        // Arguments in other shapes.
        ("current_time", json!("Asia/Tokyo"), "2025-03-14 10:30:00 (Asia/Tokyo, UTC+09:00)"),
        ("current_time", json!("%Y"), "2025 (Asia/Shanghai, UTC+08:00)"),
        ("current_time", json!("{\"timezone\": \"Europe/London\"}"), "2025-03-14 01:30:00 (Europe/London, UTC+00:00)"),
        ("current_time", json!([{"timezone": "UTC"}]), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
        (
            "current_time",
            json!({"name": "current_time", "arguments": {"timezone": "UTC"}}),
            "2025-03-14 01:30:00 (UTC, UTC+00:00)",
        ),
        ("current_time", json!({"Timezone": "UTC"}), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
        ("current_time", json!({"timezone": "UTC", "unexpected": [1, 2]}), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
        (" Current_Time ", json!({"timezone": "UTC"}), "2025-03-14 01:30:00 (UTC, UTC+00:00)"),
    ]);
}

#[test]
fn current_time_errors() {
    check_err(&[
        (
            "current_time",
            json!({"timezone": "Beijingg"}),
            &["error: unknown time zone \"Beijingg\"; did you mean Asia/Shanghai", "IANA name"],
        ),
        ("current_time", json!({"timezone": "Asia/Shangai"}), &["did you mean Asia/Shanghai"]),
        ("current_time", json!({"timezone": "Amerca/New_Yrok"}), &["did you mean America/New_York"]),
        (
            "current_time",
            json!({"timezone": "Mars/Olympus"}),
            &["unknown time zone \"Mars/Olympus\"; use an IANA name"],
        ),
        ("current_time", json!({"timezone": "CST"}), &["\"CST\" is ambiguous", "America/Chicago", "Asia/Shanghai"]),
        ("current_time", json!({"timezone": "IST"}), &["ambiguous", "Asia/Kolkata", "Europe/Dublin"]),
        ("current_time", json!({"timezone": "UTC+25"}), &["unknown time zone \"UTC+25\""]),
        (
            "current_time",
            json!({"timezone": ["Asia/Shanghai"]}),
            &["parameter \"timezone\" must be a string, got an array"],
        ),
        ("current_time", json!({"timezone": {"name": "UTC"}}), &["must be a string, got an object"]),
        ("current_time", json!({"format": "%Q"}), &["format \"%Q\" is not a valid strftime format"]),
        ("current_time", json!({"format": "%"}), &["not a valid strftime format"]),
        ("current_time", json!(true), &["arguments must be a JSON object, got true"]),
        ("current_time", json!(42), &["current_time needs a JSON object of parameters"]),
        ("current_time", json!("{\"timezone\": "), &["arguments are not valid JSON"]),
    ]);
}

#[test]
fn localtime_to_timestamp() {
    check_ok(&[
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 00:00:00", "timezone": "Asia/Shanghai"}),
            "1704038400",
        ),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 00:00:00"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2023-12-31 16:00:00", "timezone": "UTC"}), "1704038400"),
        // Lenient local times.
        ("localtime_to_timestamp", json!({"localtime": "2024-1-1 0:0:0"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01T00:00"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2024/01/01 12:00 AM"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2024.01.01 00:00:00.999"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": " \"2024-01-01 00:00:00\" "}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2023-12-31 4:00 pm", "timezone": "utc"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2023-12-31T16:00:00Z"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2023-12-31T16:00:00Z", "timezone": "UTC"}), "1704038400"),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 00:00:00+08:00"}), "1704038400"),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 00:00:00 +0800", "timezone": "Asia/Shanghai"}),
            "1704038400",
        ),
        ("localtime_to_timestamp", json!({"localtime": "2023-12-31 16:00:00 UTC"}), "1704038400"),
        ("localtime_to_timestamp", json!("2024-01-01 00:00:00"), "1704038400"),
        ("localtime_to_timestamp", json!({"local_time": "2024-01-01 00:00:00", "tz": "Shanghai"}), "1704038400"),
        // Half-hour zones and the date line.
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 05:30:00", "timezone": "Asia/Kolkata"}),
            "1704067200",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 14:00:00", "timezone": "Pacific/Kiritimati"}),
            "1704067200",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2023-12-31 13:00:00", "timezone": "Pacific/Pago_Pago"}),
            "1704067200",
        ),
        // Far past and future.
        ("localtime_to_timestamp", json!({"localtime": "1970-01-01 00:00:00", "timezone": "UTC"}), "0"),
        ("localtime_to_timestamp", json!({"localtime": "1900-01-01 00:00:00", "timezone": "UTC"}), "-2208988800"),
        // Shanghai kept local mean time (UTC+08:05:43) until 1901.
        (
            "localtime_to_timestamp",
            json!({"localtime": "1900-01-01 00:00:00", "timezone": "Asia/Shanghai"}),
            "-2209017943",
        ),
        ("localtime_to_timestamp", json!({"localtime": "2100-01-01 00:00:00", "timezone": "UTC"}), "4102444800"),
        ("localtime_to_timestamp", json!({"localtime": "9999-12-31 23:59:59", "timezone": "UTC"}), "253402300799"),
        ("localtime_to_timestamp", json!({"localtime": "0001-01-01 00:00:00", "timezone": "UTC"}), "-62135596800"),
        ("localtime_to_timestamp", json!({"localtime": "2024-02-29 12:00:00", "timezone": "UTC"}), "1709208000"),
    ]);
}

#[test]
fn dst_gaps_move_forward_and_folds_take_the_first_occurrence() {
    check_ok(&[
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-03-10 02:30:00", "timezone": "America/New_York"}),
            "1710055800\nnote: 2024-03-10 02:30:00 does not exist in America/New_York (clocks jumped forward from \
             02:00:00 to 03:00:00); used 2024-03-10 03:30:00 (UTC-04:00) instead",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-11-03 01:30:00", "timezone": "America/New_York"}),
            "1730611800\nnote: 2024-11-03 01:30:00 occurs twice in America/New_York (clocks went back from 02:00:00 \
             to 01:00:00); used the first occurrence (UTC-04:00); the second (UTC-05:00) would give 1730615400",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-03-31 01:30:00", "timezone": "Europe/London"}),
            "1711848600\nnote: 2024-03-31 01:30:00 does not exist in Europe/London (clocks jumped forward from \
             01:00:00 to 02:00:00); used 2024-03-31 02:30:00 (UTC+01:00) instead",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-10-27 01:30:00", "timezone": "Europe/London"}),
            "1729989000\nnote: 2024-10-27 01:30:00 occurs twice in Europe/London (clocks went back from 02:00:00 to \
             01:00:00); used the first occurrence (UTC+01:00); the second (UTC+00:00) would give 1729992600",
        ),
        // Lord Howe Island moves its clocks by 30 minutes.
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-10-06 02:15:00", "timezone": "Australia/Lord_Howe"}),
            "1728143100\nnote: 2024-10-06 02:15:00 does not exist in Australia/Lord_Howe (clocks jumped forward from \
             02:00:00 to 02:30:00); used 2024-10-06 02:45:00 (UTC+11:00) instead",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-04-07 01:45:00", "timezone": "Australia/Lord_Howe"}),
            "1712414700\nnote: 2024-04-07 01:45:00 occurs twice in Australia/Lord_Howe (clocks went back from \
             02:00:00 to 01:30:00); used the first occurrence (UTC+11:00); the second (UTC+10:30) would give \
             1712416500",
        ),
        // Just outside the gap and the fold: no notes.
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-03-10 01:59:59", "timezone": "America/New_York"}),
            "1710053999",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-03-10 03:00:00", "timezone": "America/New_York"}),
            "1710054000",
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-11-03 02:00:00", "timezone": "America/New_York"}),
            "1730617200",
        ),
        // An explicit offset settles a fold.
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-11-03 01:30:00-05:00", "timezone": "America/New_York"}),
            "1730615400",
        ),
        // Samoa skipped 2011-12-30 entirely when it moved across the date line.
        (
            "timezone_conversion",
            conv("2011-12-30 12:00:00", "Pacific/Apia", "UTC"),
            "2011-12-30 22:00:00\nnote: 2011-12-30 12:00:00 does not exist in Pacific/Apia (clocks jumped forward \
             from 00:00:00 to 2011-12-31 00:00:00); used 2011-12-31 12:00:00 (UTC+14:00) instead",
        ),
        (
            "timezone_conversion",
            conv("2024-11-03 01:30:00", "America/New_York", "UTC"),
            "2024-11-03 05:30:00\nnote: 2024-11-03 01:30:00 occurs twice in America/New_York (clocks went back from \
             02:00:00 to 01:00:00); used the first occurrence (UTC-04:00); the second (UTC-05:00) would give \
             2024-11-03 06:30:00",
        ),
        (
            "timezone_conversion",
            conv("2024-03-10 02:30:00", "America/New_York", "Asia/Shanghai"),
            "2024-03-10 15:30:00\nnote: 2024-03-10 02:30:00 does not exist in America/New_York (clocks jumped \
             forward from 02:00:00 to 03:00:00); used 2024-03-10 03:30:00 (UTC-04:00) instead",
        ),
    ]);
}

#[test]
fn localtime_to_timestamp_errors() {
    check_err(&[
        ("localtime_to_timestamp", json!({}), &["error: missing parameter \"localtime\""]),
        ("localtime_to_timestamp", json!({"localtime": ""}), &["missing parameter \"localtime\""]),
        ("localtime_to_timestamp", json!({"localtime": null}), &["missing parameter \"localtime\""]),
        (
            "localtime_to_timestamp",
            json!({"localtime": "tomorrow at noon"}),
            &["error: localtime must look like YYYY-MM-DD HH:MM:SS, got \"tomorrow at noon\""],
        ),
        ("localtime_to_timestamp", json!({"localtime": "24-01-01 00:00:00"}), &["must look like YYYY-MM-DD HH:MM:SS"]),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 00:00:00 Asia/Shanghai"}), &["must look like"]),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2023-02-29 00:00:00"}),
            &["localtime \"2023-02-29 00:00:00\" is not a valid date: February 2023 has 28 days"],
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-13-01 00:00:00"}),
            &["the month must be between 1 and 12"],
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "0000-01-01 00:00:00"}),
            &["the year must be between 1 and 9999"],
        ),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 24:00:00"}), &["the hour must be 0-23"]),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 13:00 PM"}), &["the hour must be 1-12"]),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 00:60:00"}), &["minutes must be 0-59"]),
        ("localtime_to_timestamp", json!({"localtime": "2024-01-01 23:59:60"}), &["no leap seconds"]),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 00:00:00Z", "timezone": "Asia/Shanghai"}),
            &["says UTC+00:00 but timezone Asia/Shanghai is UTC+08:00 at that time; give only one of them"],
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": "2024-01-01 00:00:00", "timezone": "Nowhere"}),
            &["unknown time zone \"Nowhere\""],
        ),
        (
            "localtime_to_timestamp",
            json!({"localtime": ["2024-01-01"]}),
            &["parameter \"localtime\" must be a string, got an array"],
        ),
        ("localtime_to_timestamp", json!(1704038400), &["localtime_to_timestamp needs a JSON object of parameters"]),
    ]);
}

#[test]
fn timestamp_to_localtime() {
    check_ok(&[
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "Asia/Shanghai"}),
            "2024-01-01 00:00:00",
        ),
        ("timestamp_to_localtime", json!({"timestamp": 1704038400}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": "1704038400"}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": 1704038400.0}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": "1704038400.0"}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": 1704038400.999}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": " 1.7040384e9 "}), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!(1704038400), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!("1704038400"), "2024-01-01 00:00:00"),
        ("timestamp_to_localtime", json!("{\"timestamp\": 1704038400, \"timezone\": \"UTC\"}"), "2023-12-31 16:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": 1704038400, "timezone": "UTC"}), "2023-12-31 16:00:00"),
        // Milliseconds and smaller units are detected and said so.
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400000i64}),
            "2024-01-01 00:00:00\nnote: 1704038400000 has 13 or more digits, so it was read as milliseconds: \
             1704038400 seconds since 1970",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": "1704038400123456"}),
            "2024-01-01 00:00:00\nnote: \"1704038400123456\" has 16 or more digits, so it was read as microseconds: \
             1704038400 seconds since 1970",
        ),
        // Far past and future, negative timestamps.
        ("timestamp_to_localtime", json!({"timestamp": 0, "timezone": "UTC"}), "1970-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": 0}), "1970-01-01 08:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": -1, "timezone": "UTC"}), "1969-12-31 23:59:59"),
        ("timestamp_to_localtime", json!({"timestamp": -0.5, "timezone": "UTC"}), "1969-12-31 23:59:59"),
        ("timestamp_to_localtime", json!({"timestamp": "-2208988800", "timezone": "UTC"}), "1900-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": -2208988800i64}), "1900-01-01 08:05:43"),
        ("timestamp_to_localtime", json!({"timestamp": 4102444800i64, "timezone": "UTC"}), "2100-01-01 00:00:00"),
        ("timestamp_to_localtime", json!({"timestamp": 253402300799i64, "timezone": "UTC"}), "9999-12-31 23:59:59"),
        ("timestamp_to_localtime", json!({"timestamp": -62135596800i64, "timezone": "UTC"}), "0001-01-01 00:00:00"),
        // Half-hour and 45-minute zones, the date line.
        ("timestamp_to_localtime", json!({"timestamp": 1704038400, "timezone": "Asia/Kolkata"}), "2023-12-31 21:30:00"),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "America/St_Johns"}),
            "2023-12-31 12:30:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "Asia/Kathmandu"}),
            "2023-12-31 21:45:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "Australia/Eucla"}),
            "2024-01-01 00:45:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "Pacific/Kiritimati"}),
            "2024-01-01 06:00:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1704038400, "timezone": "Pacific/Pago_Pago"}),
            "2023-12-31 05:00:00",
        ),
        ("timestamp_to_localtime", json!({"timestamp": 1325239199, "timezone": "Pacific/Apia"}), "2011-12-29 23:59:59"),
        ("timestamp_to_localtime", json!({"timestamp": 1325239200, "timezone": "Pacific/Apia"}), "2011-12-31 00:00:00"),
        // DST seen from the other side: every instant has exactly one local time.
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1730611800, "timezone": "America/New_York"}),
            "2024-11-03 01:30:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1730615400, "timezone": "America/New_York"}),
            "2024-11-03 01:30:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1710054000, "timezone": "America/New_York"}),
            "2024-03-10 03:00:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1728143100, "timezone": "Australia/Lord_Howe"}),
            "2024-10-06 02:45:00",
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": u64::MAX, "timezone": "UTC"}),
            "2554-07-21 23:34:33\nnote: 18446744073709551615 has 19 or more digits, so it was read as nanoseconds: \
             18446744073 seconds since 1970",
        ),
    ]);
}

#[test]
fn timestamp_to_localtime_errors() {
    check_err(&[
        ("timestamp_to_localtime", json!({}), &["error: missing parameter \"timestamp\""]),
        (
            "timestamp_to_localtime",
            json!({"timestamp": "soon"}),
            &["timestamp must be a number of seconds", "\"soon\""],
        ),
        ("timestamp_to_localtime", json!({"timestamp": "NaN"}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": "inf"}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": "-infinity"}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": true}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": [1704038400]}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": {"value": 1}}), &["timestamp must be a number"]),
        ("timestamp_to_localtime", json!({"timestamp": 1e300}), &["is out of range", "253402300799"]),
        ("timestamp_to_localtime", json!({"timestamp": -1e300}), &["is out of range"]),
        ("timestamp_to_localtime", json!({"timestamp": "1e21"}), &["is out of range"]),
        ("timestamp_to_localtime", json!({"timestamp": "99999999999999999999999999999"}), &["is out of range"]),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 253402300800i64, "timezone": "UTC"}),
            &["outside the supported years 1-9999"],
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 253402300799i64, "timezone": "Asia/Tokyo"}),
            &["outside the supported years"],
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": -62135596801i64, "timezone": "UTC"}),
            &["outside the supported years"],
        ),
        (
            "timestamp_to_localtime",
            json!({"timestamp": 1, "timezone": "Beijingg"}),
            &["unknown time zone \"Beijingg\""],
        ),
        ("timestamp_to_localtime", json!([1, 2]), &["arguments must be a JSON object"]),
    ]);
}

#[test]
fn timezone_conversion() {
    check_ok(&[
        ("timezone_conversion", conv("2024-01-01 00:00:00", "Asia/Shanghai", "Asia/Tokyo"), "2024-01-01 01:00:00"),
        (
            "timezone_conversion",
            conv("2024-01-01 00:00:00", "Asia/Shanghai", "America/New_York"),
            "2023-12-31 11:00:00",
        ),
        (
            "timezone_conversion",
            conv("2024-07-01 00:00:00", "Asia/Shanghai", "America/New_York"),
            "2024-06-30 12:00:00",
        ),
        ("timezone_conversion", conv("2024-01-01 00:00:00", "Asia/Kolkata", "America/St_Johns"), "2023-12-31 15:00:00"),
        ("timezone_conversion", conv("2024-07-01 00:00:00", "Asia/Kolkata", "America/St_Johns"), "2024-06-30 16:00:00"),
        (
            "timezone_conversion",
            conv("2024-01-01 00:00:00", "Asia/Kathmandu", "Australia/Eucla"),
            "2024-01-01 03:00:00",
        ),
        (
            "timezone_conversion",
            conv("2024-01-01 00:00:00", "Pacific/Kiritimati", "Pacific/Pago_Pago"),
            "2023-12-30 23:00:00",
        ),
        (
            "timezone_conversion",
            conv("2023-12-30 23:00:00", "Pacific/Pago_Pago", "Pacific/Kiritimati"),
            "2024-01-01 00:00:00",
        ),
        ("timezone_conversion", conv("2024-02-29 23:30:00", "UTC", "Asia/Tokyo"), "2024-03-01 08:30:00"),
        ("timezone_conversion", conv("1900-01-01 00:00:00", "UTC", "UTC"), "1900-01-01 00:00:00"),
        ("timezone_conversion", conv("9999-12-31 23:59:59", "Asia/Tokyo", "UTC"), "9999-12-31 14:59:59"),
        ("timezone_conversion", conv("0001-01-01 12:00:00", "UTC", "Asia/Tokyo"), "0001-01-01 21:18:59"),
        // Lenient zones and times.
        ("timezone_conversion", conv("2024-1-1 9:00", "Shanghai", "new york"), "2023-12-31 20:00:00"),
        ("timezone_conversion", conv("2024-01-01T09:00:00", "UTC+8", "UTC-5"), "2023-12-31 20:00:00"),
        ("timezone_conversion", conv("2024-01-01", "北京", "London"), "2023-12-31 16:00:00"),
        ("timezone_conversion", conv("2024-01-01 01:00:00Z", "UTC", "Asia/Shanghai"), "2024-01-01 09:00:00"),
        // Missing zones are the computer's (Asia/Shanghai here).
        (
            "timezone_conversion",
            json!({"current_time": "2024-01-01 09:00:00", "target_timezone": "UTC"}),
            "2024-01-01 01:00:00",
        ),
        (
            "timezone_conversion",
            json!({"current_time": "2024-01-01 01:00:00", "current_timezone": "UTC"}),
            "2024-01-01 09:00:00",
        ),
        ("timezone_conversion", json!({"current_time": "2024-01-01 01:00:00Z"}), "2024-01-01 09:00:00"),
        (
            "timezone_conversion",
            json!({"time": "2024-01-01 09:00:00", "from_timezone": "Asia/Shanghai", "to_timezone": "Asia/Tokyo"}),
            "2024-01-01 10:00:00",
        ),
        (
            "timezone_conversion",
            Value::String(conv("2024-01-01 00:00:00", "Asia/Shanghai", "Asia/Tokyo").to_string()),
            "2024-01-01 01:00:00",
        ),
    ]);
}

#[test]
fn timezone_conversion_errors() {
    check_err(&[
        ("timezone_conversion", json!({"target_timezone": "UTC"}), &["missing parameter \"current_time\""]),
        (
            "timezone_conversion",
            conv("2024-01-01 00:00:00", "Asia/Shanghai", "Asia/Tokio"),
            &["unknown time zone \"Asia/Tokio\"; did you mean Asia/Tokyo"],
        ),
        ("timezone_conversion", conv("2024/13/45", "UTC", "UTC"), &["current_time \"2024/13/45\" is not a valid date"]),
        (
            "timezone_conversion",
            conv("noon", "UTC", "UTC"),
            &["current_time must look like YYYY-MM-DD HH:MM:SS, got \"noon\""],
        ),
        (
            "timezone_conversion",
            conv("9999-12-31 23:00:00", "UTC", "Asia/Tokyo"),
            &["outside the supported years 1-9999"],
        ),
        ("timezone_conversion", conv("2024-01-01 00:00:00+09:00", "Asia/Shanghai", "UTC"), &["give only one of them"]),
        (
            "timezone_conversion",
            json!("2024-01-01 00:00:00"),
            &["timezone_conversion needs a JSON object", "current_timezone"],
        ),
    ]);
}

#[test]
fn weekday() {
    check_ok(&[
        ("weekday", json!({"year": 2025, "month": 3, "day": 14}), "March 14, 2025 is Friday."),
        ("weekday", json!({"year": 2024, "month": 2, "day": 29}), "February 29, 2024 is Thursday."),
        ("weekday", json!({"year": 2000, "month": 2, "day": 29}), "February 29, 2000 is Tuesday."),
        ("weekday", json!({"year": 1900, "month": 1, "day": 1}), "January 1, 1900 is Monday."),
        ("weekday", json!({"year": 2100, "month": 12, "day": 31}), "December 31, 2100 is Friday."),
        ("weekday", json!({"year": 9999, "month": 12, "day": 31}), "December 31, 9999 is Friday."),
        ("weekday", json!({"year": 1, "month": 1, "day": 1}), "January 1, 1 is Monday."),
        ("weekday", json!({"year": 1970, "month": 1, "day": 1}), "January 1, 1970 is Thursday."),
        // Lenient numbers, month names, ordinals, a date string.
        ("weekday", json!({"year": "2025", "month": "3", "day": "14"}), "March 14, 2025 is Friday."),
        ("weekday", json!({"year": 2025.0, "month": 3.0, "day": 14.0}), "March 14, 2025 is Friday."),
        ("weekday", json!({"year": " 2025 ", "month": "March", "day": "14th"}), "March 14, 2025 is Friday."),
        ("weekday", json!({"year": 2025, "month": "mar", "day": "1st"}), "March 1, 2025 is Saturday."),
        ("weekday", json!({"Year": 2025, "Month": 3, "Day": 14}), "March 14, 2025 is Friday."),
        ("weekday", json!("2025-03-14"), "March 14, 2025 is Friday."),
        ("weekday", json!({"date": "2025-03-14"}), "March 14, 2025 is Friday."),
        ("weekday", json!("{\"year\": 2025, \"month\": 3, \"day\": 14}"), "March 14, 2025 is Friday."),
    ]);
    check_err(&[
        (
            "weekday",
            json!({"year": 2023, "month": 2, "day": 29}),
            &["error: 2023-02-29 is not a valid date: February 2023 has 28 days"],
        ),
        ("weekday", json!({"year": 2024, "month": 4, "day": 31}), &["April 2024 has 30 days"]),
        ("weekday", json!({"year": 2024, "month": 13, "day": 1}), &["the month must be between 1 and 12, got 13"]),
        ("weekday", json!({"year": 0, "month": 1, "day": 1}), &["the year must be between 1 and 9999, got 0"]),
        ("weekday", json!({"year": 10000, "month": 1, "day": 1}), &["the year must be between 1 and 9999"]),
        ("weekday", json!({"year": -5, "month": 1, "day": 1}), &["the year must be between 1 and 9999"]),
        ("weekday", json!({"year": i64::MAX, "month": i64::MIN, "day": u64::MAX}), &["error: "]),
        (
            "weekday",
            json!({"year": 2025, "month": 3.5, "day": 1}),
            &["parameter \"month\" must be a whole number, got 3.5"],
        ),
        (
            "weekday",
            json!({"year": 2025, "month": "Smarch", "day": 1}),
            &["parameter \"month\" must be a whole number"],
        ),
        ("weekday", json!({"year": 2025, "month": 3}), &["missing parameter \"day\""]),
        ("weekday", json!({}), &["missing parameter \"year\""]),
        ("weekday", json!({"year": [2025], "month": 3, "day": 14}), &["parameter \"year\" must be a whole number"]),
        ("weekday", json!({"year": 1e300, "month": 3, "day": 14}), &["must be a whole number"]),
        ("weekday", json!(20250314), &["weekday needs a JSON object"]),
        ("weekday", json!("next friday"), &["must look like YYYY-MM-DD"]),
    ]);
}

#[test]
fn unknown_tools_list_the_valid_ones() {
    let result = run("foo", &json!({}));
    assert_eq!(
        result,
        ToolResult {
            observation: "error: unknown tool \"foo\"; valid tools: current_time, localtime_to_timestamp, \
                          timestamp_to_localtime, timezone_conversion, weekday"
                .to_string(),
            is_error: true,
        }
    );
    assert!(run("", &json!({})).observation.starts_with("error: unknown tool \"\""));
}

#[test]
fn zone_parsing_rules() {
    assert_eq!(parse_zone("asia/SHANGHAI"), Ok(Zone::Iana(Tz::Asia__Shanghai)));
    assert_eq!(parse_zone("Indianapolis"), Ok(Zone::Iana(Tz::America__Indiana__Indianapolis)));
    assert_eq!(parse_zone("Ho Chi Minh"), Ok(Zone::Iana(Tz::Asia__Ho_Chi_Minh)));
    assert_eq!(parse_zone("port au prince"), Ok(Zone::Iana(Tz::America__PortauPrince)));
    assert_eq!(parse_zone("Calcutta"), Ok(Zone::Iana(Tz::Asia__Calcutta)));
    assert_eq!(parse_zone("Etc/GMT-14"), Ok(Zone::Iana(Tz::Etc__GMTMinus14)));
    assert_eq!(parse_zone("GMT-0"), Ok(Zone::Iana(Tz::GMTMinus0)));
    assert_eq!(parse_zone("America/Port-au-Prince"), Ok(Zone::Iana(Tz::America__PortauPrince)));
    assert_eq!(parse_zone("America/Port au Prince"), Ok(Zone::Iana(Tz::America__PortauPrince)));
    assert_eq!(parse_zone(" America / New York "), Ok(Zone::Iana(Tz::America__New_York)));
    // IANA's own names win over the abbreviation rule except for the fixed US ones.
    assert_eq!(parse_zone("CET"), Ok(Zone::Iana(Tz::CET)));
    assert!(matches!(parse_zone("EST"), Ok(Zone::Fixed { abbreviation: Some("EST"), .. })));
    // Legacy names that are not one place are not guessed.
    assert!(parse_zone("West").is_err());
    assert!(parse_zone("Eastern").is_err());
    assert!(parse_zone("UTC8").is_err());
    assert!(parse_zone("").is_err());
}

#[test]
fn local_zone_honours_tz_then_the_os_then_utc() {
    let never = || -> Option<String> { panic!("the OS must not be asked when TZ names a zone") };
    assert_eq!(local_zone_from(Some("Asia/Tokyo"), never), Tz::Asia__Tokyo);
    assert_eq!(local_zone_from(Some(":Europe/London"), never), Tz::Europe__London);
    assert_eq!(local_zone_from(Some("/usr/share/zoneinfo/America/New_York"), never), Tz::America__New_York);
    assert_eq!(local_zone_from(Some("asia/kolkata"), never), Tz::Asia__Kolkata);
    assert_eq!(local_zone_from(Some("CST-8"), || Some("America/Chicago".into())), Tz::America__Chicago);
    assert_eq!(local_zone_from(Some(""), || Some("Asia/Kathmandu".into())), Tz::Asia__Kathmandu);
    assert_eq!(local_zone_from(None, || Some("Europe/Berlin".into())), Tz::Europe__Berlin);
    assert_eq!(local_zone_from(None, || Some("Not/A_Zone".into())), Tz::UTC);
    assert_eq!(local_zone_from(None, || None), Tz::UTC);
    // The real thing answers something, without panicking.
    let system = ToolContext::system();
    assert!(!system.local_zone.name().is_empty());
    assert!(!run_tool("current_time", &json!({}), &system).is_error);
}

/// Hand-made awkward arguments: nothing may panic, every result is well-formed.
#[test]
fn crafted_junk_never_panics() {
    let crafted = vec![
        json!(null),
        json!([]),
        json!({}),
        json!(""),
        json!("{}"),
        json!("[[[[[[[[[[]]]]]]]]]]"),
        json!("\"\\\"{}\\\"\""),
        json!({"arguments": "{\"arguments\": \"{\\\"arguments\\\": {}}\"}"}),
        json!({"timestamp": f64::MAX, "timezone": "Pacific/Kiritimati"}),
        json!({"timestamp": f64::MIN_POSITIVE}),
        json!({"timestamp": -62135596800i64, "timezone": "Pacific/Pago_Pago"}),
        json!({"localtime": "0001-01-01 00:00:00", "timezone": "Pacific/Kiritimati"}),
        json!({"localtime": "9999-12-31 23:59:59", "timezone": "Etc/GMT+12"}),
        json!({"localtime": "9999-12-31 23:59:59-18:00"}),
        json!({"localtime": "0001-01-01 00:00:00+18:00"}),
        conv("0001-01-01 00:00:00", "UTC", "America/Adak"),
        json!({"format": "%Y".repeat(100)}),
        json!({"format": "%".repeat(300)}),
        json!({"format": "%.3f %3f %:z %::z %#z %+ %s %j %U %G %e %k %l %P %p %C %n %t %-d %_d %0d %X %x %r %R %T"}),
        json!({"format": "%D %F %h %u %w %V %g %y %ü %E %O %Ey %Od %5f %.7f %:::z"}),
        json!({"timezone": "x".repeat(10_000)}),
        json!({"timezone": "Asia/".repeat(1000)}),
        json!({"timezone": "/"}),
        json!({"timezone": "+"}),
        json!({"timezone": "UTC+99:99"}),
        json!({"timezone": "\u{2212}05:00"}),
        json!({"localtime": "2024-01-01 00:00:00".repeat(1000)}),
        json!({"localtime": "2024-01-01 00:00:00+"}),
        json!({"localtime": "2024-01-01 00:00:00 UTC+99"}),
        json!({"localtime": "2024-01-01T"}),
        json!({"localtime": "2024-01-01 12:"}),
        json!({"localtime": "2024-01-01 12:00:00."}),
        json!({"localtime": "２０２４-01-01 00:00:00"}),
        json!({"year": "9".repeat(400), "month": "1", "day": "1"}),
        json!({"year": "", "month": null, "day": {}}),
        json!({"date": ""}),
    ];
    for args in &crafted {
        for tool in tool_names() {
            assert_well_formed(tool, args);
        }
    }
}

/// Every change of UTC offset in 2024, in every zone: a time inside a gap moves forward by the gap, a time
/// inside a fold takes the first occurrence and names the second.
#[test]
fn every_2024_gap_and_fold_follows_the_rule() {
    use chrono::{Offset, TimeZone};
    let offset = |tz: Tz, t: i64| {
        tz.offset_from_utc_datetime(&chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc())
            .fix()
            .local_minus_utc() as i64
    };
    let (start, end) = (1_704_067_200i64, 1_735_689_600i64); // 2024-01-01 .. 2025-01-01 UTC
    let (mut gaps, mut folds) = (0, 0);
    for tz in chrono_tz::TZ_VARIANTS {
        let mut t = start;
        while t < end {
            let next = t + 3600;
            let (before, after) = (offset(tz, t), offset(tz, next));
            if before != after {
                // The exact second of the change.
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if offset(tz, mid) == before {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                let change = hi;
                // A wall-clock reading inside the gap or fold, as seconds.
                let middle = change + before.min(after) + (before - after).abs() / 2;
                let local =
                    chrono::DateTime::from_timestamp(middle, 0).unwrap().format("%Y-%m-%d %H:%M:%S").to_string();
                let result = run("localtime_to_timestamp", &json!({"localtime": local, "timezone": tz.name()}));
                let first_line = result.observation.lines().next().unwrap_or_default();
                if after > before {
                    gaps += 1;
                    assert_eq!(first_line, (middle - before).to_string(), "gap in {tz} at {local}: {result:?}");
                    assert!(result.observation.contains("does not exist"), "{tz} {local}: {result:?}");
                } else {
                    folds += 1;
                    assert_eq!(first_line, (middle - before).to_string(), "fold in {tz} at {local}: {result:?}");
                    let other = format!("would give {}", middle - after);
                    assert!(result.observation.contains(&other), "{tz} {local}: {result:?}");
                }
            }
            t = next;
        }
    }
    assert!(gaps > 100 && folds > 100, "{gaps} gaps, {folds} folds");
}

fn assert_well_formed(tool: &str, args: &Value) {
    let result = run(tool, args);
    assert!(!result.observation.contains("internal error"), "{tool} panicked on {args}");
    assert_eq!(result.is_error, result.observation.starts_with("error: "), "{tool} {args}: {result:?}");
    assert!(!result.observation.is_empty());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that look like the tools' inputs, so that random strings often get deep into the parsers.
    const FRAGMENTS: &[&str] = &[
        "",
        " ",
        "2024",
        "-",
        "/",
        ":",
        "T",
        "Z",
        "+",
        "08",
        "00",
        "99",
        "1",
        "0",
        "9999",
        "0001",
        "13",
        "29",
        "02",
        "-05:00",
        "+14",
        "UTC",
        "GMT",
        "Asia/Shanghai",
        "America/New_York",
        "%",
        "%Y",
        "%Q",
        "%f",
        "%%",
        "%-d",
        "%.3f",
        "北京",
        "é",
        "\u{0}",
        "\n",
        "AM",
        "pm",
        ".",
        ",",
        "1e308",
        "NaN",
        "inf",
        "{",
        "}",
        "[",
        "\"",
        "Etc/GMT+8",
        "PST",
        "CST",
        "1704038400",
        "1704038400000",
        "-62135596801",
        "253402300800",
        "Lord_Howe",
        "a",
    ];
    const KEYS: &[&str] = &[
        "timezone",
        "format",
        "localtime",
        "timestamp",
        "current_time",
        "current_timezone",
        "target_timezone",
        "year",
        "month",
        "day",
        "date",
        "arguments",
        "name",
        "tz",
        "Time_Zone",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(FRAGMENTS), 0..7).prop_map(|parts| parts.concat()),
            ".{0,40}",
        ]
    }

    fn junk() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            any::<f64>().prop_map(|f| json!(f)),
            (-1e13f64..1e13).prop_map(|f| json!(f)),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..5)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
                // Models sometimes send the object as a JSON string.
                prop::collection::vec((prop::sample::select(KEYS), text()), 0..4).prop_map(|pairs| {
                    let map: serde_json::Map<String, Value> =
                        pairs.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
                    Value::String(Value::Object(map).to_string())
                }),
            ]
        })
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(chrono_tz::TZ_VARIANTS.to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn junk_never_panics(tool in prop::sample::select(tool_names()), args in junk()) {
            assert_well_formed(tool, &args);
        }

        /// Every instant's local time in every zone maps back to that instant (or, in a fold, names it as the
        /// other occurrence), and timezone_conversion agrees with the two other tools.
        #[test]
        fn local_times_round_trip(
            timestamp in -62_135_400_000i64..253_402_100_000,
            from in zone(),
            to in zone(),
        ) {
            let local = run("timestamp_to_localtime", &json!({"timestamp": timestamp, "timezone": from.name()}));
            prop_assert!(!local.is_error, "{local:?}");
            let local = local.observation.lines().next().unwrap_or_default().to_string();
            let back = run("localtime_to_timestamp", &json!({"localtime": local, "timezone": from.name()}));
            prop_assert!(!back.is_error, "{back:?}");
            let first_line = back.observation.lines().next().unwrap_or_default().to_string();
            let other = format!("would give {timestamp}");
            prop_assert!(
                first_line == timestamp.to_string() || back.observation.contains(&other),
                "{timestamp} in {from}: {local} -> {}", back.observation
            );
            let converted = run(
                "timezone_conversion",
                &json!({"current_time": local, "current_timezone": from.name(), "target_timezone": to.name()}),
            );
            let direct = run("timestamp_to_localtime", &json!({"timestamp": first_line, "timezone": to.name()}));
            prop_assert_eq!(converted.observation.lines().next(), direct.observation.lines().next());
        }
    }
}
