//! Request decoding that fails the way Ollama's Go server does (gin's `ShouldBindJSON` on top of
//! `encoding/json`), so clients see the same error strings as against the real thing.

use serde_json::{Map, Value};

/// Why a body could not be decoded.
#[derive(Debug, PartialEq)]
pub enum DecodeError {
    /// Nothing but whitespace: Go's decoder returns `io.EOF`.
    Eof,
    /// Any other error, with Go's message.
    Msg(String),
}

/// Decodes the first JSON value of `body` like `json.NewDecoder(body).Decode(&v)`:
/// trailing data after the first value is ignored, syntax errors read like Go's.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let start = skip_ws(body, 0);
    if start == body.len() {
        return Err(DecodeError::Eof);
    }
    let end = Scanner { b: body }.value(start).map_err(DecodeError::Msg)?;
    let slice = &body[start..end];
    match serde_json::from_slice(slice) {
        Ok(v) => Ok(v),
        // Go accepts invalid UTF-8 inside strings (replacing it); serde doesn't.
        Err(_) => serde_json::from_str(&String::from_utf8_lossy(slice)).map_err(|e| DecodeError::Msg(e.to_string())),
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    i
}

/// Go's `quoteChar`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = serde_json::to_string(&(c as char).to_string()).unwrap_or_default();
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn invalid(c: u8, ctx: &str) -> String {
    format!("invalid character {} {ctx}", quote_char(c))
}

const UNEXPECTED_EOF: &str = "unexpected EOF";

/// A recursive-descent validator mirroring the states of Go's `encoding/json` scanner.
struct Scanner<'a> {
    b: &'a [u8],
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Result<u8, String> {
        self.b.get(i).copied().ok_or_else(|| UNEXPECTED_EOF.to_string())
    }

    /// Scans one value starting at `i` (no leading whitespace), returning the index after it.
    fn value(&self, i: usize) -> Result<usize, String> {
        let i = skip_ws(self.b, i);
        match self.at(i)? {
            b'{' => self.object(i + 1),
            b'[' => self.array(i + 1),
            b'"' => self.string(i + 1),
            b'-' | b'0'..=b'9' => self.number(i),
            b't' => self.literal(i, "true"),
            b'f' => self.literal(i, "false"),
            b'n' => self.literal(i, "null"),
            c => Err(invalid(c, "looking for beginning of value")),
        }
    }

    fn object(&self, i: usize) -> Result<usize, String> {
        let mut i = skip_ws(self.b, i);
        if self.at(i)? == b'}' {
            return Ok(i + 1);
        }
        loop {
            match self.at(i)? {
                b'"' => i = self.string(i + 1)?,
                c => return Err(invalid(c, "looking for beginning of object key string")),
            }
            i = skip_ws(self.b, i);
            match self.at(i)? {
                b':' => i = self.value(i + 1)?,
                c => return Err(invalid(c, "after object key")),
            }
            i = skip_ws(self.b, i);
            match self.at(i)? {
                b',' => i = skip_ws(self.b, i + 1),
                b'}' => return Ok(i + 1),
                c => return Err(invalid(c, "after object key:value pair")),
            }
        }
    }

    fn array(&self, i: usize) -> Result<usize, String> {
        let mut i = skip_ws(self.b, i);
        if self.at(i)? == b']' {
            return Ok(i + 1);
        }
        loop {
            i = skip_ws(self.b, self.value(i)?);
            match self.at(i)? {
                b',' => i += 1,
                b']' => return Ok(i + 1),
                c => return Err(invalid(c, "after array element")),
            }
        }
    }

    fn string(&self, mut i: usize) -> Result<usize, String> {
        loop {
            match self.at(i)? {
                b'"' => return Ok(i + 1),
                b'\\' => {
                    i += 1;
                    match self.at(i)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 1,
                        b'u' => {
                            for k in 1..=4 {
                                let c = self.at(i + k)?;
                                if !c.is_ascii_hexdigit() {
                                    return Err(invalid(c, "in \\u hexadecimal character escape"));
                                }
                            }
                            i += 5;
                        }
                        c => return Err(invalid(c, "in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                _ => i += 1,
            }
        }
    }

    fn digits(&self, mut i: usize) -> usize {
        while i < self.b.len() && self.b[i].is_ascii_digit() {
            i += 1;
        }
        i
    }

    fn number(&self, mut i: usize) -> Result<usize, String> {
        if self.b[i] == b'-' {
            i += 1;
        }
        match self.at(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = self.digits(i),
            c => return Err(invalid(c, "in numeric literal")),
        }
        if self.b.get(i) == Some(&b'.') {
            match self.at(i + 1)? {
                b'0'..=b'9' => i = self.digits(i + 1),
                c => return Err(invalid(c, "after decimal point in numeric literal")),
            }
        }
        if matches!(self.b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(self.b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            match self.at(i)? {
                b'0'..=b'9' => i = self.digits(i),
                c => return Err(invalid(c, "in exponent of numeric literal")),
            }
        }
        Ok(i)
    }

    fn literal(&self, i: usize, word: &str) -> Result<usize, String> {
        for (k, expected) in word.bytes().enumerate().skip(1) {
            let c = self.at(i + k)?;
            if c != expected {
                return Err(invalid(c, &format!("in literal {word} (expecting {})", quote_char(expected))));
            }
        }
        Ok(i + word.len())
    }
}

/// `base64.StdEncoding.DecodeString` with Go's error text (`illegal base64 data at input byte N`).
/// Like Go, `\r` and `\n` are skipped and padding is required.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let corrupt = |n: usize| format!("illegal base64 data at input byte {n}");
    let src = s.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    // A port of Go's decodeQuantum loop: one 4-character quantum per iteration.
    while si < src.len() {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut done = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                // Padding is mandatory for StdEncoding, so a short final quantum is an error.
                return Err(corrupt(si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(corrupt(si - 1));
            }
            // Padding: only valid after 2 or 3 data characters.
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(corrupt(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(corrupt(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                return Err(corrupt(si));
            }
            dlen = j;
            done = true;
            break;
        }
        let v =
            (u32::from(dbuf[0]) << 18) | (u32::from(dbuf[1]) << 12) | (u32::from(dbuf[2]) << 6) | u32::from(dbuf[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if done {
            break;
        }
    }
    Ok(out)
}

/// Whether decoded image bytes are in a format Ollama's Go image decoders accept.
pub fn is_supported_image(b: &[u8]) -> bool {
    b.starts_with(&[0xFF, 0xD8, 0xFF]) // JPEG
        || b.starts_with(b"\x89PNG\r\n\x1a\n")
        || (b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP")
        || b.starts_with(b"BM")
        || b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
}

/// Go's name for the JSON kind of a value in an `UnmarshalTypeError`.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `%T` of a value decoded into `any`.
pub fn go_any_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Looks a field up like `encoding/json`: exact name first, then case-insensitively.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
        .filter(|v| !v.is_null())
}

/// The JSON kinds a Go field accepts.
#[derive(Clone, Copy, PartialEq)]
pub enum Want {
    Str,
    Bool,
    Array,
    Object,
}

/// Checks one field's kind, producing Go's `json: cannot unmarshal X into Go struct field
/// S.path of type T` on mismatch.
pub fn check(
    obj: &Map<String, Value>,
    name: &str,
    want: Want,
    strukt: &str,
    path: &str,
    go_type: &str,
) -> Result<(), String> {
    let Some(v) = field(obj, name) else {
        return Ok(());
    };
    let ok = match want {
        Want::Str => v.is_string(),
        Want::Bool => v.is_boolean(),
        Want::Array => v.is_array(),
        Want::Object => v.is_object(),
    };
    if ok {
        Ok(())
    } else {
        Err(type_error(v, strukt, path, go_type))
    }
}

pub fn type_error(v: &Value, strukt: &str, path: &str, go_type: &str) -> String {
    format!("json: cannot unmarshal {} into Go struct field {strukt}.{path} of type {go_type}", kind(v))
}

/// The top-level value must be an object (or null, which Go decodes as a no-op).
pub fn top_object(v: &Value, go_type: &str) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(format!("json: cannot unmarshal {} into Go value of type {go_type}", kind(other))),
    }
}

/// Validates `images: [base64…]` like `[]api.ImageData` and returns the decoded bytes.
pub fn decode_images(obj: &Map<String, Value>, strukt: &str, path: &str) -> Result<Vec<Vec<u8>>, String> {
    let Some(v) = field(obj, "images") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(type_error(v, strukt, path, "[]api.ImageData"));
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::Null => {}
            Value::String(s) => out.push(decode_base64(s)?),
            other => return Err(type_error(other, strukt, path, "api.ImageData")),
        }
    }
    Ok(out)
}

/// `api.ThinkValue`: a bool or one of "high", "medium", "low", "max" (GEMMA4-FACTS.md §3, the
/// wording of Ollama 0.30+). Returns whether thinking is on.
pub fn think(obj: &Map<String, Value>) -> Result<bool, String> {
    match field(obj, "think") {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if matches!(s.as_str(), "high" | "medium" | "low" | "max") => Ok(true),
        Some(Value::String(s)) => Err(format!(
            "invalid think value: {} (must be \"high\", \"medium\", \"low\", \"max\", true, or false)",
            crate::util::go_quote(s)
        )),
        Some(_) => Err("think must be a boolean or string".into()),
    }
}

/// `api.Duration` for `keep_alive`: seconds as a number, or a Go duration string. Returns
/// seconds (negative = forever).
pub fn keep_alive(obj: &Map<String, Value>) -> Result<Option<f64>, String> {
    match field(obj, "keep_alive") {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.as_f64().unwrap_or(0.0))),
        Some(Value::String(s)) => crate::util::parse_go_duration(s).map(Some),
        Some(other) => Err(format!("Unsupported type: '{}'", go_any_type(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        match decode(body.as_bytes()) {
            Err(DecodeError::Msg(m)) => m,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_read_like_go() {
        assert_eq!(decode(b"  \n"), Err(DecodeError::Eof));
        assert_eq!(msg("{bad"), "invalid character 'b' looking for beginning of object key string");
        assert_eq!(msg("{\"model\":"), "unexpected EOF");
        assert_eq!(msg("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(msg("{\"a\":1 \"b\":2}"), "invalid character '\"' after object key:value pair");
        assert_eq!(msg("[1,]"), "invalid character ']' looking for beginning of value");
        assert_eq!(msg("nope"), "invalid character 'o' in literal null (expecting 'u')");
        assert_eq!(msg("hello"), "invalid character 'h' looking for beginning of value");
        assert_eq!(msg("{\"a\":-x}"), "invalid character 'x' in numeric literal");
        assert_eq!(msg("{\"a\":\"\n\"}"), "invalid character '\\n' in string literal");
        // Trailing data after the first value is ignored, as Decoder.Decode does.
        assert!(decode(b"{\"model\":\"x\"} trailing").is_ok());
    }

    #[test]
    fn base64_errors_match_go() {
        assert_eq!(decode_base64("aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(decode_base64("aGk="), Ok(b"hi".to_vec()));
        assert_eq!(decode_base64(""), Ok(vec![]));
        assert_eq!(decode_base64("data:image/png;base64,AAAA"), Err("illegal base64 data at input byte 4".into()));
        assert_eq!(decode_base64("aGk"), Err("illegal base64 data at input byte 0".into()));
        assert_eq!(decode_base64("aGVsbG8"), Err("illegal base64 data at input byte 4".into()));
        assert_eq!(decode_base64("aG-k"), Err("illegal base64 data at input byte 2".into()));
        assert_eq!(decode_base64("aGk=x"), Err("illegal base64 data at input byte 4".into()));
    }
}
