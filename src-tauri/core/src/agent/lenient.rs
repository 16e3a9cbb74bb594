//! A tolerant reader of JSON and Python literals, as small models write them inside a ReAct reply.
//!
//! It lives apart from the ReAct parser ([`super::parse`]) because it is a different concern: that one finds
//! *where* an action is and what it means; this one turns a span of text into a [`Value`], forgiving single
//! quotes, `True/False/None`, unquoted keys, trailing or missing commas and unclosed brackets, and reads a Python
//! call (`weekday(year=2025)`) into a tool name and an input object. It never panics and never recurses without
//! bound, whatever the model wrote.

use serde_json::{Map, Number, Value};

/// Nesting deeper than this is not an action (and must not overflow the stack).
const MAX_DEPTH: usize = 64;

/// Reads JSON as small models write it: also single-quoted strings, `True/False/None`, unquoted keys
/// and words, trailing and missing commas, raw newlines in strings. Containers still open at the end
/// of the input (or before a character that cannot continue them) are closed there.
pub(super) struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Parser { s, pos: 0, depth: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(super) fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    pub(super) fn value(&mut self) -> Option<Value> {
        self.skip_ws();
        match self.peek()? {
            '{' => self.object(),
            '[' => self.array(),
            q @ ('"' | '\'') => self.string(q).map(Value::String),
            c if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => Some(self.number()),
            c if is_word_start(c) => Some(match self.word() {
                "true" | "True" => Value::Bool(true),
                "false" | "False" => Value::Bool(false),
                "null" | "None" => Value::Null,
                w => Value::String(w.to_string()),
            }),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        self.pos += 1; // the ASCII opening bracket
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(&mut self) -> Option<Value> {
        self.enter()?;
        let mut map = Map::new();
        loop {
            self.skip_ws();
            let key = match self.peek() {
                None => break,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(',') => {
                    self.pos += 1;
                    continue;
                }
                Some(q @ ('"' | '\'')) => self.string(q)?,
                Some(c) if is_word_start(c) || c.is_ascii_digit() => self.word().to_string(),
                Some(_) if map.is_empty() => return None,
                Some(_) => break, // e.g. a closing fence after a forgotten `}`
            };
            self.skip_ws();
            match self.bump() {
                None => break,
                Some(':' | '=') => {}
                Some(_) => return None,
            }
            self.skip_ws();
            if self.at_end() {
                break;
            }
            let v = self.value()?;
            map.insert(key, v);
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    fn array(&mut self) -> Option<Value> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                Some(',') => self.pos += 1,
                Some(c) if is_value_start(c) => items.push(self.value()?),
                Some(_) if items.is_empty() => return None,
                Some(_) => break,
            }
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }

    /// A string in `quote`s; one left open runs to the end of the input.
    fn string(&mut self, quote: char) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.bump() {
            match c {
                c if c == quote => return Some(out),
                '\\' => match self.bump() {
                    None => break,
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('0') => out.push('\0'),
                    Some('u') => out.push(self.unicode_escape()),
                    Some(c) => out.push(c), // \" \' \\ \/ and anything unknown: the character itself
                },
                c => out.push(c),
            }
        }
        Some(out)
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let n = u32::from_str_radix(h, 16).ok().filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        self.pos += 4;
        Some(n)
    }

    /// After `\u`: one code point, joining a surrogate pair.
    fn unicode_escape(&mut self) -> char {
        let Some(hi) = self.hex4() else { return 'u' };
        if (0xD800..0xDC00).contains(&hi) && self.s[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            match self.hex4() {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{FFFD}');
                }
                _ => self.pos = save,
            }
        }
        char::from_u32(hi).unwrap_or('\u{FFFD}')
    }

    /// A number; what only looks like one (`2025-03-14`) is kept as a string.
    fn number(&mut self) -> Value {
        let rest = &self.s[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        let text = &rest[..len];
        self.pos += len;
        let t = text.strip_prefix('+').unwrap_or(text);
        if let Ok(i) = t.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = t.parse::<u64>() {
            return Value::Number(u.into());
        }
        match t.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) if t.bytes().any(|b| b.is_ascii_digit()) => Value::Number(n),
            _ => Value::String(text.to_string()),
        }
    }

    /// A bare word: an unquoted key, a Python literal, or an unquoted string such as `Asia/Shanghai`.
    fn word(&mut self) -> &'a str {
        let rest = &self.s[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '-' | '/' | '+')))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// A name, or a dotted path of names: `default_api.weekday`.
    fn ident_path(&mut self) -> Option<&'a str> {
        let rest = &self.s[self.pos..];
        let mut len = 0;
        for part in rest.split('.') {
            let n = part.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(part.len());
            if n == 0 || part.starts_with(|c: char| c.is_ascii_digit()) {
                break;
            }
            len += n + 1;
            if n < part.len() {
                break;
            }
        }
        let path = rest.get(..len.checked_sub(1)?)?.trim_end_matches('.');
        if path.is_empty() {
            return None;
        }
        self.pos += path.len();
        Some(path)
    }
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_value_start(c: char) -> bool {
    matches!(c, '{' | '[' | '"' | '\'' | '-' | '+' | '.') || c.is_ascii_digit() || is_word_start(c)
}

/// A Python call `name(args)` at the start of `s` (after blanks): `(tool, input, end offset)`.
/// `print(f(...))` is `f(...)`; a module path before the name is dropped.
pub(super) fn parse_call(s: &str) -> Option<(String, Value, usize)> {
    parse_call_nested(s, 0)
}

fn parse_call_nested(s: &str, depth: usize) -> Option<(String, Value, usize)> {
    let mut p = Parser::new(s);
    p.skip_ws();
    let path = p.ident_path()?;
    p.skip_ws();
    if p.bump()? != '(' {
        return None;
    }
    let name = path.rsplit('.').next().unwrap_or(path);
    if name == "print" {
        p.skip_ws();
        if depth >= 4 {
            return None;
        }
        let (tool, input, end) = parse_call_nested(&s[p.pos..], depth + 1)?;
        p.pos += end;
        p.skip_ws();
        if p.peek() == Some(')') {
            p.pos += 1;
        }
        return Some((tool, input, p.pos));
    }
    let mut args = Map::new();
    let mut positional = 0;
    loop {
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(')') => {
                p.pos += 1;
                break;
            }
            Some(',') => p.pos += 1,
            Some(_) => {
                let save = p.pos;
                if let Some(key) = p.ident_path().filter(|k| !k.contains('.')) {
                    p.skip_ws();
                    if p.peek() == Some('=') && !p.s[p.pos..].starts_with("==") {
                        p.pos += 1;
                        let v = p.value()?;
                        args.insert(key.to_string(), v);
                        continue;
                    }
                }
                p.pos = save;
                let v = p.value()?;
                args.insert(format!("arg{positional}"), v);
                positional += 1;
            }
        }
    }
    Some((name.to_string(), Value::Object(args), p.pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(s: &str) -> Option<Value> {
        Parser::new(s).value()
    }

    #[test]
    fn reads_strict_and_sloppy_json() {
        assert_eq!(
            read(r#"{"a": [1, 2.5, -3], "b": null, "c": "x\"y\u00e9\ud83d\ude00"}"#),
            Some(json!({"a": [1, 2.5, -3], "b": null, "c": "x\"yé😀"}))
        );
        assert_eq!(read("{'a': True, 'b': None, 'c': 'it\\'s',}"), Some(json!({"a": true, "b": null, "c": "it's"})));
        assert_eq!(read("{a: 1 b: 'x'}"), Some(json!({"a": 1, "b": "x"})));
        assert_eq!(read(r#"{"q": "a}b", "r": "{"}"#), Some(json!({"q": "a}b", "r": "{"})));
        assert_eq!(read(r#"{"a": {"b": 1}"#), Some(json!({"a": {"b": 1}})));
        assert_eq!(read("{\"a\": 1\n```"), Some(json!({"a": 1})));
        assert_eq!(read(r#"{"d": 2025-03-14, "m": 03}"#), Some(json!({"d": "2025-03-14", "m": 3})));
        assert_eq!(read("{ not json"), None);
        assert_eq!(read(&"[".repeat(10_000)), None);
    }

    #[test]
    fn reads_python_calls() {
        let call = |s| parse_call(s).map(|(t, i, _)| (t, i));
        assert_eq!(
            call("weekday(year=2025, month=3, day=14)"),
            Some(("weekday".into(), json!({"year": 2025, "month": 3, "day": 14})))
        );
        assert_eq!(call("print(default_api.weekday(year=2025))"), Some(("weekday".into(), json!({"year": 2025}))));
        assert_eq!(call("f('a', x=\"b\", y=[1, 2])"), Some(("f".into(), json!({"arg0": "a", "x": "b", "y": [1, 2]}))));
        assert_eq!(call("current_time()"), Some(("current_time".into(), json!({}))));
        assert_eq!(call("print('hello')"), None);
        assert_eq!(call("not a call"), None);
    }
}
