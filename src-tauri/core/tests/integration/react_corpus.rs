//! The ReAct reply parser against what models really write: a corpus of replies, each with what it
//! must be read as, and fuzzing that it never panics.

use gemma_desk_core::agent::parse::{parse_reply, parse_reply_with_tools, ParseOutcome, Parsed};
use proptest::prelude::*;
use serde_json::{json, Value};

fn act(thought: &str, tool: &str, input: Value) -> Parsed {
    Parsed::Action { thought: thought.into(), tool: tool.into(), input }
}

fn fin(thought: &str, answer: &str) -> Parsed {
    Parsed::Final { thought: thought.into(), answer: answer.into() }
}

const WEEKDAY: &str = "weekday";

fn ymd() -> Value {
    json!({"year": 2025, "month": 3, "day": 14})
}

/// (name, reply, expected, hallucinated observation dropped)
fn corpus() -> Vec<(&'static str, &'static str, Parsed, bool)> {
    let t = "I need the weekday of 2025-03-14.";
    vec![
        (
            "the ideal form",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\n",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "uppercase JSON fence",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```JSON\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "plain fence, pretty-printed",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```\n{\n  \"action\": \"weekday\",\n  \"action_input\": {\n    \"year\": 2025,\n    \"month\": 3,\n    \"day\": 14\n  }\n}\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "bare JSON after the label, same line",
            "Thought: I need the weekday of 2025-03-14.\nAction: {\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "no Action label, no thought label",
            "I need the weekday of 2025-03-14.\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "only the blob",
            "{\"action\": \"current_time\", \"action_input\": {}}",
            act("", "current_time", json!({})),
            false,
        ),
        (
            "tool / tool_input keys",
            "Thought: Convert the time.\nAction:\n```json\n{\"tool\": \"timezone_conversion\", \"tool_input\": {\"time\": \"2025-03-14 09:00\", \"from_tz\": \"Asia/Shanghai\", \"to_tz\": \"Europe/Paris\"}}\n```",
            act(
                "Convert the time.",
                "timezone_conversion",
                json!({"time": "2025-03-14 09:00", "from_tz": "Asia/Shanghai", "to_tz": "Europe/Paris"}),
            ),
            false,
        ),
        (
            "name / arguments keys (OpenAI style)",
            "```json\n{\"name\": \"timestamp_to_localtime\", \"arguments\": {\"timestamp\": 1741915800}}\n```",
            act("", "timestamp_to_localtime", json!({"timestamp": 1741915800})),
            false,
        ),
        (
            "action_name / parameters keys",
            "Thought: Now.\n{\"action_name\": \"current_time\", \"parameters\": {\"timezone\": \"UTC\"}}",
            act("Now.", "current_time", json!({"timezone": "UTC"})),
            false,
        ),
        (
            "tool_name / args keys",
            "{\"tool_name\": \"weekday\", \"args\": {\"year\": 2025, \"month\": 3, \"day\": 14}}",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "nested function object",
            "{\"type\": \"function\", \"function\": {\"name\": \"weekday\", \"arguments\": \"{\\\"year\\\": 2025, \\\"month\\\": 3, \\\"day\\\": 14}\"}}",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "action_input as a string holding JSON",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": \"{\\\"year\\\": 2025, \\\"month\\\": 3, \\\"day\\\": 14}\"}\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "action_input as a plain string",
            "Thought: Convert it.\nAction:\n```json\n{\"action\": \"localtime_to_timestamp\", \"action_input\": \"2025-03-14 09:30\"}\n```",
            act("Convert it.", "localtime_to_timestamp", json!("2025-03-14 09:30")),
            false,
        ),
        (
            "action_input absent",
            "Thought: What time is it?\nAction:\n```json\n{\"action\": \"current_time\"}\n```",
            act("What time is it?", "current_time", json!({})),
            false,
        ),
        (
            "action_input null",
            "{\"action\": \"current_time\", \"action_input\": null}",
            act("", "current_time", json!({})),
            false,
        ),
        (
            "one-element list",
            "Action:\n```json\n[{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}]\n```",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "braces inside string values",
            "{\"action\":\"x\",\"action_input\":{\"q\":\"a}b\"}}",
            act("", "x", json!({"q": "a}b"})),
            false,
        ),
        (
            "Python quotes and literals",
            "Thought: Check.\nAction:\n```json\n{'action': 'current_time', 'action_input': {'utc': True, 'zone': None, 'verbose': False}}\n```",
            act("Check.", "current_time", json!({"utc": true, "zone": null, "verbose": false})),
            false,
        ),
        (
            "trailing commas",
            "```json\n{\n  \"action\": \"weekday\",\n  \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14,},\n}\n```",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "escaped quotes and an apostrophe in a double-quoted string",
            "{\"action\": \"echo\", \"action_input\": {\"text\": \"she said \\\"it's Friday\\\"\"}}",
            act("", "echo", json!({"text": "she said \"it's Friday\""})),
            false,
        ),
        (
            "unicode, raw and escaped",
            "思考：我需要知道东京时间。\n{\"action\": \"timezone_conversion\", \"action_input\": {\"time\": \"2025-03-14 09:00\", \"to_tz\": \"Asia/Tokyo\", \"note\": \"东京\\u00e9\"}}",
            act(
                "我需要知道东京时间。",
                "timezone_conversion",
                json!({"time": "2025-03-14 09:00", "to_tz": "Asia/Tokyo", "note": "东京é"}),
            ),
            false,
        ),
        (
            "a nested JSON string inside action_input stays a string",
            "{\"action\": \"store\", \"action_input\": {\"payload\": \"{\\\"a\\\": [1, 2]}\"}}",
            act("", "store", json!({"payload": "{\"a\": [1, 2]}"})),
            false,
        ),
        (
            "Gemma tool_code",
            "```tool_code\nweekday(year=2025, month=3, day=14)\n```",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "tool_code with print and default_api",
            "Thought: I need the weekday of 2025-03-14.\n```tool_code\nprint(default_api.weekday(year=2025, month=3, day=14))\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "tool_code with string and positional args",
            "```tool_code\ntimezone_conversion(\"2025-03-14 09:00\", from_tz='Asia/Shanghai', to_tz=\"UTC\")\n```",
            act(
                "",
                "timezone_conversion",
                json!({"arg0": "2025-03-14 09:00", "from_tz": "Asia/Shanghai", "to_tz": "UTC"}),
            ),
            false,
        ),
        (
            "tool_code without arguments",
            "Let me check the clock.\n```tool_code\ncurrent_time()\n```\nI will tell you soon.",
            act("Let me check the clock.", "current_time", json!({})),
            false,
        ),
        (
            "Gemma's own hallucinated tool_output",
            "```tool_code\ncurrent_time()\n```\n```tool_output\n2025-03-14 09:30\n```\nIt is 9:30.",
            act("", "current_time", json!({})),
            true,
        ),
        (
            "text after the blob is ignored",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\nI'll wait for the result and then answer.",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "LangChain two-line form",
            "Thought: I need the weekday of 2025-03-14.\nAction: weekday\nAction Input: {\"year\": 2025, \"month\": 3, \"day\": 14}",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "LangChain form, name only",
            "Thought: Get the time.\nAction: current_time\n",
            act("Get the time.", "current_time", json!({})),
            false,
        ),
        (
            "LangChain form, string input",
            "Thought: Convert.\nAction: localtime_to_timestamp\nAction Input: \"2025-03-14 09:30\"",
            act("Convert.", "localtime_to_timestamp", json!("2025-03-14 09:30")),
            false,
        ),
        (
            "LangChain form, Final Answer as the action",
            "Thought: Done.\nAction: Final Answer\nAction Input: It is a Friday.",
            fin("Done.", "It is a Friday."),
            false,
        ),
        (
            "a call on the Action line",
            "Thought: I need the weekday of 2025-03-14.\nAction: weekday(year=2025, month=3, day=14)",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "several actions: the first is taken",
            "Thought: Two things.\nAction:\n```json\n{\"action\": \"current_time\", \"action_input\": {}}\n```\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
            act("Two things.", "current_time", json!({})),
            false,
        ),
        (
            "Chinese around everything",
            "思考：用户问的是2025年3月14日是星期几，我需要调用工具。\n行动：\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\n等待结果。",
            act("用户问的是2025年3月14日是星期几，我需要调用工具。", WEEKDAY, ymd()),
            false,
        ),
        (
            "Final Answer",
            "Thought: I can answer now.\nFinal Answer: March 14, 2025 is a Friday.",
            fin("I can answer now.", "March 14, 2025 is a Friday."),
            false,
        ),
        (
            "final answer in lower case, multi-line",
            "thought: ok\nfinal answer:\nIt is Friday.\nHave a nice day!",
            fin("ok", "It is Friday.\nHave a nice day!"),
            false,
        ),
        (
            "bold Final Answer label",
            "**Thought:** I know it.\n**Final Answer:** **Friday**",
            fin("I know it.", "**Friday**"),
            false,
        ),
        (
            "Final Answer in the middle of a line",
            "Thought: I now know the answer. Final Answer: 3月14日是星期五。",
            fin("I now know the answer.", "3月14日是星期五。"),
            false,
        ),
        (
            "Chinese final label",
            "思考：我可以回答了。\n最终答案：2025年3月14日是星期五。",
            fin("我可以回答了。", "2025年3月14日是星期五。"),
            false,
        ),
        (
            "Final Answer as a JSON action",
            "Thought: I can answer now.\nAction:\n```json\n{\"action\": \"Final Answer\", \"action_input\": \"March 14, 2025 is a Friday.\"}\n```",
            fin("I can answer now.", "March 14, 2025 is a Friday."),
            false,
        ),
        (
            "final_answer JSON with an object input",
            "{\"action\": \"final_answer\", \"action_input\": {\"answer\": \"Friday\"}}",
            fin("", "Friday"),
            false,
        ),
        (
            "no action: the whole text is the answer",
            "Hello! How can I help you today?",
            fin("", "Hello! How can I help you today?"),
            false,
        ),
        (
            "no action, with a Thought label",
            "Thought: The user greets me.\nHello there!",
            fin("", "The user greets me.\nHello there!"),
            false,
        ),
        (
            "hallucinated observation after an action",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\nObservation: Friday\nThought: I can answer now.\nFinal Answer: It is a Friday.",
            act(t, WEEKDAY, ymd()),
            true,
        ),
        (
            "hallucinated observation, lower case and bold",
            "Thought: Time.\nAction: current_time\n**observation**: 12:00",
            act("Time.", "current_time", json!({})),
            true,
        ),
        (
            "only a hallucinated observation",
            "Observation: The time is 12:00.",
            fin("", ""),
            true,
        ),
        (
            "a final answer written after an invented observation is not trusted",
            "Thought: Let me think.\nObservation: Friday\nFinal Answer: Friday",
            fin("", "Let me think."),
            true,
        ),
        ("empty", "", fin("", ""), false),
        ("only whitespace", "  \n\t \r\n ", fin("", ""), false),
        (
            "code fence without closing",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "missing closing brace before the fence",
            "Action:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}\n```",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "CRLF line endings",
            "Thought: I need the weekday of 2025-03-14.\r\nAction:\r\n```json\r\n{\"action\": \"weekday\",\r\n \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\r\n```\r\n",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "CRLF final answer",
            "Thought: Done.\r\nFinal Answer: Friday.\r\nSee you.\r\n",
            fin("Done.", "Friday.\nSee you."),
            false,
        ),
        (
            "the blob indented",
            "Thought: I need the weekday of 2025-03-14.\n    Action:\n    ```json\n    {\"action\": \"weekday\",\n     \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n    ```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "'action:' inside the thought does not confuse",
            "Thought: I will take action: find the weekday with the right tool.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
            act("I will take action: find the weekday with the right tool.", WEEKDAY, ymd()),
            false,
        ),
        (
            "'the final answer:' in lower case mid-sentence does not end the turn",
            "Thought: Before the final answer: I need the date.\nAction:\n```json\n{\"action\": \"current_time\", \"action_input\": {}}\n```",
            act("Before the final answer: I need the date.", "current_time", json!({})),
            false,
        ),
        (
            "unknown keys are ignored",
            "{\"thought\": \"need weekday\", \"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}, \"confidence\": 0.9}",
            act("need weekday", WEEKDAY, ymd()),
            false,
        ),
        (
            "arguments flattened next to the tool name",
            "{\"action\": \"weekday\", \"year\": 2025, \"month\": 3, \"day\": 14}",
            act("", WEEKDAY, ymd()),
            false,
        ),
        (
            "ordinary JSON with a name is not an action",
            "Here is the person:\n```json\n{\"name\": \"Ada\", \"born\": 1815}\n```",
            fin("", "Here is the person:\n```json\n{\"name\": \"Ada\", \"born\": 1815}\n```"),
            false,
        ),
        (
            "malformed JSON that cannot be repaired",
            "Thought: call it\nAction:\n```json\n{\"action\" weekday, \"action_input\": {{{\n```",
            fin("", "call it\nAction:\n```json\n{\"action\" weekday, \"action_input\": {{{\n```"),
            false,
        ),
        (
            "a dangling Action label with nothing after it",
            "Thought: I will check the time.\nAction:",
            fin("", "I will check the time."),
            false,
        ),
        (
            "Action: None is no action",
            "Thought: No tool needed.\nAction: None\nThe capital of France is Paris.",
            fin("", "No tool needed.\nAction: None\nThe capital of France is Paris."),
            false,
        ),
        (
            "an action before a hallucinated Final Answer wins",
            "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\nFinal Answer: It is a Friday.",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "markdown bold labels",
            "**Thought:** I need the weekday of 2025-03-14.\n**Action:**\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
            act(t, WEEKDAY, ymd()),
            false,
        ),
        (
            "full-width colons",
            "Thought：查时间\nAction：\n```json\n{\"action\": \"current_time\", \"action_input\": {}}\n```",
            act("查时间", "current_time", json!({})),
            false,
        ),
        (
            "unquoted keys and values",
            "Action:\n```\n{action: current_time, action_input: {timezone: Asia/Shanghai}}\n```",
            act("", "current_time", json!({"timezone": "Asia/Shanghai"})),
            false,
        ),
    ]
}

#[test]
fn corpus_is_read_as_expected() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (name, reply, parsed, dropped) in cases {
        let got = parse_reply(reply);
        let want = ParseOutcome { parsed, dropped_hallucinated_observation: dropped };
        if got != want {
            failures.push(format!("{name}:\n  reply: {reply:?}\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn known_tools_widen_the_call_forms() {
    let tools = ["current_time", "weekday"];
    let python = "Thought: I need the weekday of 2025-03-14.\n```python\nweekday(year=2025, month=3, day=14)\n```";
    let bare = "I need the weekday of 2025-03-14.\nweekday(year=2025, month=3, day=14)";
    let no_args = "{\"name\": \"current_time\"}";
    let t = "I need the weekday of 2025-03-14.";
    assert_eq!(parse_reply_with_tools(python, &tools).parsed, act(t, WEEKDAY, ymd()));
    assert_eq!(parse_reply_with_tools(bare, &tools).parsed, act(t, WEEKDAY, ymd()));
    assert_eq!(parse_reply_with_tools(no_args, &tools).parsed, act("", "current_time", json!({})));
    // Without the list these are answers (code a user asked for; ordinary data).
    assert!(matches!(parse_reply(python).parsed, Parsed::Final { .. }));
    assert!(matches!(parse_reply(bare).parsed, Parsed::Final { .. }));
    assert!(matches!(parse_reply(no_args).parsed, Parsed::Final { .. }));
    // Python code calling something else stays an answer even with the list.
    let code = "Here you go:\n```python\nprint(sorted([3, 1, 2]))\n```";
    assert!(matches!(parse_reply_with_tools(code, &tools).parsed, Parsed::Final { .. }));
}

#[test]
fn outcome_serialises_for_the_ui() {
    let v = serde_json::to_value(parse_reply("Final Answer: hi")).unwrap();
    assert_eq!(
        v,
        json!({"parsed": {"Final": {"thought": "", "answer": "hi"}}, "dropped_hallucinated_observation": false})
    );
}

/// Pieces of ReAct replies, glued at random.
const FRAGMENTS: &[&str] = &[
    "Thought:",
    "Thought：",
    "Action:",
    "Action: ",
    "Action Input:",
    "Final Answer:",
    "最终答案：",
    "Observation",
    "Observation:",
    "observation",
    "观察：",
    "```",
    "```json",
    "```tool_code",
    "```tool_output",
    "```python",
    "\n",
    "\r\n",
    "\r",
    " ",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ":",
    ",",
    "=",
    "\"",
    "'",
    "\\",
    "\\u",
    "\\ud83d",
    "\\u00e9",
    "\"action\"",
    "\"action_input\"",
    "'name'",
    "\"arguments\"",
    "\"Final Answer\"",
    "weekday",
    "print(",
    "default_api.",
    "year=2025",
    "True",
    "None",
    "2025",
    "-1.5e3",
    "星期五",
    "é",
    "😀",
    "**",
    "#",
    ">",
    "\u{0}",
    "\u{feff}",
];

fn react_ish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "\\PC{0,4}",
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn check_invariants(s: &str, out: &ParseOutcome) {
    let (thought, text) = match &out.parsed {
        Parsed::Action { thought, tool, .. } => (thought, tool),
        Parsed::Final { thought, answer } => (thought, answer),
    };
    assert_eq!(thought.trim(), thought, "thought is trimmed");
    assert_eq!(text.trim(), text, "tool or answer is trimmed");
    if let Parsed::Action { tool, .. } = &out.parsed {
        assert!(!tool.is_empty());
    }
    let lower = s.to_lowercase();
    if !lower.contains("observation") && !lower.contains("tool_output") && !s.contains("观察") {
        assert!(!out.dropped_hallucinated_observation);
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC*") {
        let out = parse_reply(&s);
        check_invariants(&s, &out);
        let _ = parse_reply_with_tools(&s, &["weekday", "current_time"]);
    }

    #[test]
    fn never_panics_on_react_fragments(s in react_ish()) {
        let out = parse_reply(&s);
        check_invariants(&s, &out);
        let _ = parse_reply_with_tools(&s, &["weekday", "current_time"]);
        // Line endings never matter.
        let unix = s.replace('\r', "");
        prop_assert_eq!(parse_reply(&unix.replace('\n', "\r\n")), parse_reply(&unix));
    }

    #[test]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = parse_reply(&s);
    }
}
