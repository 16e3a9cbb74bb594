//! Small helpers that mimic Go/Ollama formatting without pulling in extra crates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats a time the way Go marshals `time.Time` (RFC 3339 with trimmed nanoseconds), in UTC.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let nanos = d.subsec_nanos();
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut s = format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60);
    if nanos > 0 {
        s.push('.');
        s.push_str(format!("{nanos:09}").trim_end_matches('0'));
    }
    s.push('Z');
    s
}

pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

pub fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A stable, fake sha256-looking hex digest (64 chars) derived from `seed`.
pub fn fake_digest(seed: &str) -> String {
    let mut out = String::with_capacity(64);
    for round in 0u64..4 {
        // FNV-1a, salted per round so the four words differ.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Normalises a model reference the way Ollama resolves it, so "gemma3", "gemma3:latest" and
/// "registry.ollama.ai/library/gemma3:latest" all name the same model.
pub fn normalize_model(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase();
    for prefix in ["registry.ollama.ai/", "library/"] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest.to_string();
        }
    }
    let last = n.rsplit('/').next().unwrap_or(&n);
    if !last.contains(':') {
        n.push_str(":latest");
    }
    n
}

/// The fully qualified name Ollama prints in some errors, e.g. `registry.ollama.ai/library/gemma3:4b`.
pub fn qualified_model(name: &str) -> String {
    let short = normalize_model(name);
    match short.matches('/').count() {
        0 => format!("registry.ollama.ai/library/{short}"),
        1 => format!("registry.ollama.ai/{short}"),
        _ => short,
    }
}

/// Parses "4.3B" / "268.10M" / "999.89M" / "7K" into an approximate count.
pub fn parse_param_count(size: &str) -> u64 {
    let s = size.trim();
    let (num, mult) = match s.chars().last() {
        Some('B' | 'b') => (&s[..s.len() - 1], 1e9),
        Some('M' | 'm') => (&s[..s.len() - 1], 1e6),
        Some('K' | 'k') => (&s[..s.len() - 1], 1e3),
        _ => (s, 1.0),
    };
    num.parse::<f64>().map(|n| (n * mult) as u64).unwrap_or(0)
}

/// Go's `time.ParseDuration`, enough for `keep_alive` strings ("5m", "1h30m", "-1", "0").
pub fn parse_go_duration(s: &str) -> Result<f64, String> {
    let err = || format!("time: invalid duration {}", go_quote(s));
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0.0);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total_secs = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("time: missing unit in duration {}", go_quote(s))),
            other => return Err(format!("time: unknown unit {} in duration {}", go_quote(other), go_quote(s))),
        };
        rest = &rest[unit_len..];
        total_secs += n * unit;
    }
    Ok(if neg { -total_secs } else { total_secs })
}

/// Go's `%q` for simple strings.
pub fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Splits text into word-sized stream chunks whose concatenation is the original text; each
/// chunk carries the whitespace that precedes its word (" from", " the"), as tokenizers do.
pub fn word_chunks(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut seen_word = false;
    for c in text.chars() {
        if c.is_whitespace() && seen_word {
            out.push(std::mem::take(&mut cur));
            seen_word = false;
        }
        if !c.is_whitespace() {
            seen_word = true;
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_like_go() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.12Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn splits_words_losslessly() {
        let text = "Hello from  the emulator.\nBye";
        let chunks = word_chunks(text);
        assert_eq!(chunks, vec!["Hello", " from", "  the", " emulator.", "\nBye"]);
        assert_eq!(chunks.concat(), text);
        assert!(word_chunks("").is_empty());
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_model("gemma3"), "gemma3:latest");
        assert_eq!(normalize_model("registry.ollama.ai/library/Gemma3:4b"), "gemma3:4b");
        assert_eq!(qualified_model("gemma3:1b"), "registry.ollama.ai/library/gemma3:1b");
        assert_eq!(qualified_model("me/m"), "registry.ollama.ai/me/m:latest");
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_go_duration("5m"), Ok(300.0));
        assert_eq!(parse_go_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_go_duration("-1s"), Ok(-1.0));
        assert!(parse_go_duration("abc").is_err());
        assert_eq!(parse_param_count("4.3B"), 4_300_000_000);
    }
}
