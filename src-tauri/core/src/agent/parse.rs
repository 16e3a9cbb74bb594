//! Reading a ReAct reply: did the model ask for a tool, or did it answer?
//!
//! Small models drift from the format they are shown, so this parser is tolerant by design and
//! never fails: whatever it cannot read as an action is the answer. The rules, in order:
//!
//! 1. Line endings are normalised (`\r\n` and lone `\r` become `\n`).
//! 2. A hallucinated observation is never trusted: the text is cut at the first line that starts
//!    (after blanks and markdown marks `*_#>`) with `Observation` in any case, with `观察:`/`观察：`,
//!    or with Gemma's own result fence ```` ```tool_output ````. Whatever followed is dropped and
//!    [`ParseOutcome::dropped_hallucinated_observation`] is set.
//! 3. In what remains, the **earliest** of these wins (later ones are ignored: one action per reply):
//!    - a `Final Answer:` label: any case at the start of a line, or capitalised (`Final Answer:`,
//!      `FINAL ANSWER:`) anywhere in a line; also `最终答案：`/`最终回答：` anywhere. The answer is what
//!      follows the label;
//!    - a JSON object (fenced or bare, possibly inside a one-element list) naming a tool with one of
//!      the keys `action`, `action_name`, `tool`, `tool_name`, `function`, `name` (a string, or an
//!      object holding the same keys, as in `{"function": {"name": …, "arguments": …}}`). The input is
//!      the first of `action_input`, `tool_input`, `input`, `arguments`, `parameters`, `params`,
//!      `args`, `kwargs`; without one, the object's other keys (except `thought` and the like) are
//!      the input. With `name`/`function` (words that also name ordinary data) and no input key, the
//!      object is an action only if the tool is known (see [`parse_reply_with_tools`]). The JSON may
//!      use single quotes, `True/False/None`, unquoted keys, trailing or missing commas, and may lack
//!      its closing brackets (it is closed at the end of its code fence or of the text);
//!    - the LangChain form: a line `Action: weekday` (a bare tool name, or a call
//!      `weekday(year=2025)`) then optionally `Action Input: …` (JSON, a quoted or plain string) or a
//!      JSON block on the next lines; a name alone means no input (`{}`). `Action: None` is no action;
//!    - Gemma's own form: a ```` ```tool_code ```` (or `tool_call`) block holding a Python call,
//!      `weekday(year=2025, month=3, day=14)`, possibly wrapped in `print(…)` and prefixed by a module
//!      (`default_api.weekday(…)`: the last dotted segment is the tool). Keyword arguments become the
//!      input object; positional ones are named `arg0`, `arg1`, … in it. With a list of known tools,
//!      calls to them are also read in ```` ```python ````/```` ```py ````/plain fences and on a line
//!      of their own.
//! 4. A tool named `Final Answer` (any case; also `final_answer`, `final`, `最终答案`) is the final
//!    answer: its input if a string, the single string of an object, or else the input as JSON.
//! 5. An action's input is always a JSON value: `{}` when absent or null; a string holding JSON
//!    (an object or list) is decoded; any other string stays a string.
//! 6. No action at all: the whole text is the answer (a leading `Thought:` label removed, and a
//!    dangling `Action:` label at the end), with an empty thought. An empty reply is an empty answer.
//!
//! `thought` is the text before the action or final label, without its leading `Thought:` label
//! and without the `Action:` label and fence opener that introduce the blob; for a JSON action with
//! no text before it, the object's own `thought` key if it has one.
//!
//! This file finds the action and says what it means; the lenient JSON and Python-call reader it
//! uses for the blobs themselves is in `lenient.rs`.

use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

use super::lenient::{parse_call, Parser};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Parsed {
    /// The model asked to run a tool.
    Action {
        /// Text before the action, with a leading "Thought:" label removed, trimmed.
        thought: String,
        tool: String,
        /// An object normally; `{}` when absent; a string if the model gave a bare non-JSON string.
        input: Value,
    },
    /// The model answered (explicitly or by writing no action).
    Final {
        /// Text before the final answer, with a leading "Thought:" label removed, trimmed.
        thought: String,
        answer: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseOutcome {
    pub parsed: Parsed,
    /// The model wrote an `Observation` itself; it and everything after it were ignored.
    pub dropped_hallucinated_observation: bool,
}

/// Reads a reply without knowing the tools' names (see the module doc for the rules).
pub fn parse_reply(text: &str) -> ParseOutcome {
    parse_reply_with_tools(text, &[])
}

/// Like [`parse_reply`]; knowing the tools' names also lets a bare call `weekday(…)` (on a line of its
/// own or in a python/plain fence) and a JSON `{"name": "current_time"}` without arguments be read as
/// actions. Tools outside the list are still read from every other form (the loop reports them).
pub fn parse_reply_with_tools(text: &str, known_tools: &[&str]) -> ParseOutcome {
    let text: Cow<str> =
        if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n").into() } else { text.into() };
    let (body, dropped) = match hallucinated_observation_at(&text) {
        Some(at) => (&text[..at], true),
        None => (&text[..], false),
    };
    ParseOutcome { parsed: parse_body(body, known_tools), dropped_hallucinated_observation: dropped }
}

/// Byte offset of the first line that starts with `Observation` (any case, after blanks and
/// markdown marks), `观察:`/`观察：` or ```` ```tool_output ````: where a reply's trustworthy text ends.
pub fn hallucinated_observation_at(text: &str) -> Option<usize> {
    lines(text)
        .find(|&(_, line)| {
            let s = skip_markup(line);
            starts_with_ci(s, "observation")
                || s.starts_with("观察:")
                || s.starts_with("观察：")
                || starts_with_ci(line.trim_start(), "```tool_output")
        })
        .map(|(at, _)| at)
}

// ---------------------------------------------------------------------------------------------
// Finding the action

/// What was found, and where it starts in the text.
struct Found {
    start: usize,
    what: What,
}

enum What {
    /// A tool call; `blob` when it came in a JSON object or a fence (whose opener and `Action:`
    /// label are then not part of the thought).
    Action {
        tool: String,
        input: Value,
        own_thought: Option<String>,
        blob: bool,
    },
    FinalLabel {
        answer: String,
    },
}

fn parse_body(body: &str, known: &[&str]) -> Parsed {
    if body.trim().is_empty() {
        return Parsed::Final { thought: String::new(), answer: String::new() };
    }
    let found = [find_final_label(body), find_langchain(body), find_call(body, known), find_json(body, known)]
        .into_iter()
        .flatten()
        .min_by_key(|f| f.start);
    let Some(Found { start, what }) = found else {
        let answer = strip_dangling_action_label(strip_thought_label(body.trim()));
        return Parsed::Final { thought: String::new(), answer: answer.trim().to_string() };
    };
    let prefix = &body[..start];
    match what {
        What::FinalLabel { answer } => Parsed::Final { thought: clean_thought(prefix, false), answer },
        What::Action { tool, input, own_thought, blob } => {
            let mut thought = clean_thought(prefix, blob);
            if thought.is_empty() {
                thought = own_thought.map(|t| t.trim().to_string()).unwrap_or_default();
            }
            if is_final_name(&tool) {
                Parsed::Final { thought, answer: answer_text(input) }
            } else {
                Parsed::Action { thought, tool, input }
            }
        }
    }
}

/// `Final Answer:` and its translations. See the module doc for where they count.
fn find_final_label(text: &str) -> Option<Found> {
    let mut best: Option<(usize, usize)> = None; // (label start, answer start)
    let mut consider = |start: usize, answer_start: usize| {
        if best.is_none_or(|(s, _)| start < s) {
            best = Some((start, answer_start));
        }
    };
    if let Some((off, line, rest)) = lines(text).find_map(|(off, line)| match line_label(line) {
        Some((Label::FinalAnswer, rest)) => Some((off, line, rest)),
        _ => None,
    }) {
        consider(off + (line.len() - skip_markup(line).len()), off + rest);
    }
    for (i, _) in text.match_indices('F') {
        let before_ok = !text[..i].chars().next_back().is_some_and(char::is_alphanumeric);
        if before_ok && starts_with_ci(&text[i..], "final answer") {
            if let Some(rest) = after_colon(&text[i + "final answer".len()..]) {
                consider(i, text.len() - rest.len());
                break;
            }
        }
    }
    for label in ["最终答案", "最终回答"] {
        if let Some(i) =
            text.match_indices(label).map(|(i, _)| i).find(|&i| after_colon(&text[i + label.len()..]).is_some())
        {
            let rest = after_colon(&text[i + label.len()..]).unwrap_or_default();
            consider(i, text.len() - rest.len());
        }
    }
    best.map(|(start, answer_start)| Found {
        start,
        what: What::FinalLabel { answer: text[answer_start..].trim().to_string() },
    })
}

/// The classic two lines: `Action: weekday` / `Action Input: {...}`.
fn find_langchain(text: &str) -> Option<Found> {
    for (off, line) in lines(text) {
        let Some((Label::Action, rest)) = line_label(line) else { continue };
        let raw = line[rest..].trim();
        if raw.starts_with("```") || raw.starts_with(['{', '[']) {
            continue; // a JSON blob: find_json reads it
        }
        let name = raw.trim_matches(|c| matches!(c, '`' | '"' | '\'' | '*')).trim();
        if name.is_empty() {
            continue;
        }
        if let Some((tool, input, end)) = parse_call(name) {
            if name[end..].trim().is_empty() {
                let what = What::Action { tool, input, own_thought: None, blob: false };
                return Some(Found { start: off, what });
            }
        }
        let final_name = is_final_name(name);
        if !(final_name || is_tool_name_like(name)) || is_none_name(name) {
            continue;
        }
        let tool = clean_tool_name(name)?;
        let mut input = input_after(text, off + line.len());
        // The whole action object given again as the input.
        if let Some((_, i, _)) = action_from_value(&input, &[], 0).filter(|(t, _, _)| *t == tool) {
            input = i;
        }
        let what = What::Action { tool, input, own_thought: None, blob: false };
        return Some(Found { start: off, what });
    }
    None
}

/// The input that follows an `Action: name` line: an `Action Input:` line, or a JSON block.
fn input_after(text: &str, from: usize) -> Value {
    let Some((off, line)) = lines(&text[from..]).find(|(_, l)| !l.trim().is_empty()) else {
        return Value::Object(Map::new());
    };
    let at = from + off;
    let value_text = match line_label(line) {
        Some((Label::ActionInput, rest)) => &text[at + rest..],
        _ if line.trim_start().starts_with("```") || line.trim_start().starts_with(['{', '[']) => &text[at..],
        _ => return Value::Object(Map::new()),
    };
    let mut v = value_text.trim_start();
    if v.starts_with("```") {
        v = v.find('\n').map_or("", |nl| &v[nl + 1..]);
    }
    // Up to a closing fence, or the next labelled line.
    let end = lines(v)
        .find(|&(o, l)| o > 0 && (l.trim_start().starts_with("```") || line_label(l).is_some()))
        .map_or(v.len(), |(o, _)| o);
    let v = v[..end].trim();
    if v.starts_with(['{', '[']) {
        if let Some(value) = Parser::new(v).value() {
            return normalize_input(Some(value));
        }
    }
    let unquoted =
        ['"', '\'', '`'].iter().find_map(|&q| v.strip_prefix(q).and_then(|s| s.strip_suffix(q))).unwrap_or(v);
    normalize_input(Some(Value::String(unquoted.to_string())))
}

/// A Python call: in a `tool_code` fence (always), and with known tools also in a python or plain
/// fence, or on a line of its own.
fn find_call(text: &str, known: &[&str]) -> Option<Found> {
    let all: Vec<(usize, &str)> = lines(text).collect();
    for (idx, &(off, line)) in all.iter().enumerate() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            let lang = lang.trim().to_ascii_lowercase();
            let gemma = matches!(lang.as_str(), "tool_code" | "tool_call" | "tool_calls");
            let code = matches!(lang.as_str(), "python" | "py" | "");
            if !(gemma || code && !known.is_empty()) {
                continue;
            }
            let body_start = all.get(idx + 1).map_or(text.len(), |&(o, _)| o);
            let body_end =
                all[idx + 1..].iter().find(|(_, l)| l.trim_start().starts_with("```")).map_or(text.len(), |&(o, _)| o);
            if let Some((tool, input, _)) = parse_call(&text[body_start..body_end]) {
                if gemma || known.contains(&tool.as_str()) {
                    return Some(Found {
                        start: off,
                        what: What::Action { tool, input, own_thought: None, blob: true },
                    });
                }
            }
        } else if !known.is_empty() {
            let s = skip_markup(line).trim_start_matches('`');
            if let Some((tool, input, _)) = parse_call(s) {
                if known.contains(&tool.as_str()) {
                    let start = off + (line.len() - s.len());
                    return Some(Found { start, what: What::Action { tool, input, own_thought: None, blob: true } });
                }
            }
        }
    }
    None
}

/// How many `{`/`[` are tried as the start of an action at most (bounds the work on odd input).
const MAX_JSON_STARTS: usize = 1000;

/// The first JSON object (or list starting with one) that names a tool.
fn find_json(text: &str, known: &[&str]) -> Option<Found> {
    let fence_lines: Vec<usize> =
        lines(text).filter(|(_, l)| l.trim_start().starts_with("```")).map(|(o, _)| o).collect();
    let starts = text.bytes().enumerate().filter(|&(_, b)| b == b'{' || b == b'[').map(|(i, _)| i);
    for i in starts.take(MAX_JSON_STARTS) {
        // An unclosed blob ends where its fence does.
        let limit = fence_lines.iter().copied().find(|&f| f > i).unwrap_or(text.len());
        let Some(value) = Parser::new(&text[i..limit]).value() else { continue };
        if let Some((tool, input, own_thought)) = action_from_value(&value, known, 0) {
            return Some(Found { start: i, what: What::Action { tool, input, own_thought, blob: true } });
        }
    }
    None
}

const TOOL_KEYS: [&str; 6] = ["action", "action_name", "tool", "tool_name", "function", "name"];
/// Tool keys that also name ordinary data (`{"name": "Bob", "age": 3}`).
const WEAK_TOOL_KEYS: [&str; 2] = ["function", "name"];
const INPUT_KEYS: [&str; 8] =
    ["action_input", "tool_input", "input", "arguments", "parameters", "params", "args", "kwargs"];
const THOUGHT_KEYS: [&str; 5] = ["thought", "thoughts", "reasoning", "reason", "explanation"];
/// Keys that are never a flattened argument.
const META_KEYS: [&str; 4] = ["type", "id", "observation", "final_answer"];

/// `(tool, input, the object's own thought)` when the value describes a tool call.
fn action_from_value(v: &Value, known: &[&str], depth: usize) -> Option<(String, Value, Option<String>)> {
    let m = match v {
        Value::Array(items) => {
            return items.first().filter(|x| x.is_object()).and_then(|x| action_from_value(x, known, depth))
        }
        Value::Object(m) => m,
        _ => return None,
    };
    let input_key = INPUT_KEYS.iter().copied().find(|k| m.contains_key(*k));
    let own_thought = THOUGHT_KEYS.iter().find_map(|k| m.get(*k)).and_then(Value::as_str).map(str::to_string);
    for key in TOOL_KEYS {
        let tool = match m.get(key) {
            Some(Value::String(s)) => s,
            Some(inner @ Value::Object(_)) if depth < 3 => {
                // {"function": {"name": ..., "arguments": ...}}
                let Some((tool, mut input, thought)) = action_from_value(inner, known, depth + 1) else { continue };
                if input.as_object().is_some_and(Map::is_empty) {
                    if let Some(k) = input_key {
                        input = normalize_input(m.get(k).cloned());
                    }
                }
                return Some((tool, input, thought.or(own_thought)));
            }
            _ => continue,
        };
        let Some(tool) = clean_tool_name(tool) else { continue };
        let input = match input_key {
            Some(k) => normalize_input(m.get(k).cloned()),
            None => {
                if WEAK_TOOL_KEYS.contains(&key) && !known.contains(&tool.as_str()) && !is_final_name(&tool) {
                    return None;
                }
                let rest: Map<String, Value> = m
                    .iter()
                    .filter(|(k, _)| {
                        let k = k.as_str();
                        !TOOL_KEYS.contains(&k) && !THOUGHT_KEYS.contains(&k) && !META_KEYS.contains(&k)
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(rest)
            }
        };
        return Some((tool, input, own_thought));
    }
    None
}

/// `{}` for nothing; a string holding a JSON object or list is decoded; anything else is kept.
fn normalize_input(v: Option<Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Value::Object(Map::new());
            }
            if t.starts_with(['{', '[']) {
                let mut p = Parser::new(t);
                if let Some(v @ (Value::Object(_) | Value::Array(_))) = p.value() {
                    p.skip_ws();
                    if p.at_end() {
                        return v;
                    }
                }
            }
            Value::String(t.to_string())
        }
        Some(v) => v,
    }
}

/// The text of a final answer given as a tool input.
fn answer_text(input: Value) -> String {
    match input {
        Value::String(s) => match line_label(s.trim()) {
            Some((Label::FinalAnswer, rest)) => s.trim()[rest..].trim().to_string(),
            _ => s.trim().to_string(),
        },
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        Value::Object(m) if m.len() == 1 && m.values().all(Value::is_string) => {
            m.values().next().and_then(Value::as_str).unwrap_or_default().trim().to_string()
        }
        v => v.to_string(),
    }
}

fn clean_tool_name(name: &str) -> Option<String> {
    let n = name.trim_matches(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\''));
    let n = n.strip_suffix("()").unwrap_or(n);
    let n = ["default_api.", "functions."].iter().find_map(|p| n.strip_prefix(p)).unwrap_or(n).trim();
    (!n.is_empty() && n.len() <= 64 && !n.contains('\n')).then(|| n.to_string())
}

fn is_final_name(name: &str) -> bool {
    let n: String = name.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).flat_map(char::to_lowercase).collect();
    matches!(n.as_str(), "finalanswer" | "final" | "最终答案" | "最终回答")
}

fn is_none_name(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "none" | "null" | "n/a" | "no" | "nothing")
}

fn is_tool_name_like(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && s.len() <= 64
}

// ---------------------------------------------------------------------------------------------
// Labels and thoughts

#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
    Thought,
    Action,
    ActionInput,
    FinalAnswer,
}

/// Each label's spellings; longer ones first where one starts another.
const LABELS: [(Label, &[&str]); 4] = [
    (Label::FinalAnswer, &["final answer", "final_answer", "最终答案", "最终回答"]),
    (Label::ActionInput, &["action input", "action_input", "action-input"]),
    (Label::Action, &["action", "行动", "动作"]),
    (Label::Thought, &["thought", "思考"]),
];

/// A line that starts with a label and a colon (markdown around them allowed): the label, and the
/// offset in `line` of what follows.
fn line_label(line: &str) -> Option<(Label, usize)> {
    let s = skip_markup(line);
    for (label, names) in LABELS {
        for name in names {
            if starts_with_ci(s, name) {
                if let Some(rest) = after_colon(&s[name.len()..]) {
                    return Some((label, line.len() - rest.len()));
                }
            }
        }
    }
    None
}

/// After a label: optional markdown, a colon (ASCII or full-width), then the closing markdown of a
/// bold label. `None` when there is no colon.
fn after_colon(s: &str) -> Option<&str> {
    let s = s.trim_start_matches([' ', '\t', '*', '_']);
    let s = s.strip_prefix(':').or_else(|| s.strip_prefix('：'))?;
    let t = s.trim_start_matches([' ', '\t']);
    let unbolded = t.trim_start_matches(['*', '_']);
    if unbolded.len() < t.len() && unbolded.chars().next().is_none_or(char::is_whitespace) {
        Some(unbolded)
    } else {
        Some(s)
    }
}

/// The thought before an action or final label.
fn clean_thought(prefix: &str, blob: bool) -> String {
    let mut s = prefix.trim_end();
    if blob {
        // The fence opener (```json) and `Action:` label that introduce the blob.
        let last = s.rfind('\n').map_or(0, |i| i + 1);
        if let Some(f) = s[last..].find("```") {
            s = s[..last + f].trim_end();
        }
        s = strip_dangling_action_label(s);
    }
    strip_thought_label(s.trim_start()).trim_end_matches(['*', '_']).trim().to_string()
}

/// Removes a last line that is only an `Action:` label.
fn strip_dangling_action_label(s: &str) -> &str {
    let s = s.trim_end();
    let last = s.rfind('\n').map_or(0, |i| i + 1);
    match line_label(&s[last..]) {
        Some((Label::Action, rest)) if s[last + rest..].trim().is_empty() => s[..last].trim_end(),
        _ => s,
    }
}

fn strip_thought_label(s: &str) -> &str {
    match line_label(s) {
        Some((Label::Thought, rest)) => s[rest..].trim_start(),
        _ => s,
    }
}

// ---------------------------------------------------------------------------------------------
// Small text helpers

/// Lines with their byte offsets, without their `\n`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |off, line| {
        let at = *off;
        *off += line.len();
        Some((at, line.strip_suffix('\n').unwrap_or(line)))
    })
}

fn skip_markup(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | '#' | '>'))
}

/// ASCII-case-insensitive prefix test; non-ASCII must match exactly, so `&s[pat.len()..]` is safe
/// after a match.
fn starts_with_ci(s: &str, pat: &str) -> bool {
    s.len() >= pat.len() && s.as_bytes()[..pat.len()].eq_ignore_ascii_case(pat.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(line_label("**Final Answer:** x"), Some((Label::FinalAnswer, 17)));
        assert_eq!(line_label("Action Input: {}"), Some((Label::ActionInput, 13)));
        assert_eq!(line_label("Actions: x"), None);
        assert_eq!(line_label("思考：好"), Some((Label::Thought, "思考：".len())));
        assert_eq!(hallucinated_observation_at("a\n  **Observation**: b"), Some(2));
    }
}
