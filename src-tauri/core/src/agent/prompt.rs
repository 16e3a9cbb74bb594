//! The ReAct prompt for models without native function calling (Gemma 3 on Ollama).
//!
//! It is fixed text plus the tool list: no timestamps or other per-request data, so the rendered
//! prompt is byte-identical from round to round and Ollama can reuse its prompt cache. Each round
//! only appends to the assistant's scratchpad (see `agent::run_react`).

use crate::tools::ToolSpec;
use serde_json::json;

/// What generation stops at: the model must not write the tool's result itself.
pub const STOP: &str = "Observation";

pub fn system_prompt(tools: &[ToolSpec], extra_instructions: Option<&str>) -> String {
    let list: Vec<_> = tools
        .iter()
        .map(|t| json!({ "name": t.name, "description": t.description, "parameters": t.parameters }))
        .collect();
    let tool_json = serde_json::to_string_pretty(&list).expect("tool specs serialise");
    let names = tools.iter().map(|t| format!("\"{}\"", t.name)).collect::<Vec<_>>().join(", ");
    let extra = extra_instructions.map(|s| format!("{}\n\n", s.trim())).unwrap_or_default();
    // Small models follow a worked example far better than rules, so one is given; the final
    // answer is a plain labelled line rather than a JSON blob, which they get wrong less often.
    format!(
        r#"{extra}You are a helpful assistant. Reply in the language of the user's question.

You cannot know the current date or time, or do date arithmetic reliably, by yourself. For those, use these tools:

{tool_json}

To use a tool, write a Thought, then an Action with one JSON object in a code block, and stop:

Thought: what you need to find out
Action:
```json
{{"action": "TOOL_NAME", "action_input": {{"PARAMETER": "VALUE"}}}}
```

The tool's result will then be given to you as a line starting with "Observation:". Never write an Observation yourself. Use one tool at a time, as many times as you need. When you know the answer, write:

Thought: I can answer now.
Final Answer: your answer to the user

If no tool is needed, write the Final Answer right away. Valid values for "action": {names}.

Example:
Thought: I need the weekday of 2025-03-14.
Action:
```json
{{"action": "weekday", "action_input": {{"year": 2025, "month": 3, "day": 14}}}}
```
Observation: March 14, 2025 is Friday.
Thought: I can answer now.
Final Answer: March 14, 2025 is a Friday."#
    )
}
