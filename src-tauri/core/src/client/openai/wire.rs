//! The wire format of `chat/completions`: the request body built from a `ChatRequest`, and the serde
//! types of the streamed chunks, with the assembly of tool calls that arrive in pieces.

use crate::chat::{ChatRequest, Message, Role, ToolCall, ToolCallFunction};
use crate::models::name_tokens;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

/// The request body. `num_ctx` and `keep_alive` have no place in this API and are left out.
pub(super) fn chat_body(req: &ChatRequest) -> Value {
    let folded;
    let messages = if is_gemma(&req.model) {
        folded = fold_system(&req.messages);
        &folded
    } else {
        &req.messages
    };
    let mut body = json!({
        "model": req.model,
        "messages": messages_json(messages),
        "stream": true,
        // The token counts come in a last chunk (servers that do not know the option ignore it).
        "stream_options": { "include_usage": true },
    });
    let o = &req.options;
    if let Some(t) = o.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(s) = o.seed {
        body["seed"] = json!(s);
    }
    if let Some(n) = o.num_predict.filter(|n| *n > 0) {
        body["max_tokens"] = json!(n);
    }
    if !o.stop.is_empty() {
        body["stop"] = json!(o.stop);
    }
    if !req.tools.is_empty() {
        body["tools"] = json!(req.tools);
    }
    if let Some(effort) = req.think.reasoning_effort() {
        body["reasoning_effort"] = json!(effort);
    }
    body
}

/// Gemma has no system role: its own chat template puts the system text at the start of the first
/// user turn, and some servers drop system messages for it instead (llama-cpp-python's `gemma`
/// format), which would lose the ReAct instructions. So for Gemma that folding is done here.
fn fold_system(messages: &[Message]) -> Vec<Message> {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let mut rest: Vec<Message> = messages.iter().filter(|m| m.role != Role::System).cloned().collect();
    if system.is_empty() {
        return rest;
    }
    let system = system.join("\n\n");
    match rest.iter_mut().find(|m| m.role == Role::User) {
        Some(first) => first.content = format!("{system}\n\n{}", first.content),
        None => rest.insert(0, Message::user(system)),
    }
    rest
}

fn is_gemma(model: &str) -> bool {
    name_tokens(model).iter().any(|t| t.starts_with("gemma"))
}

/// Messages in OpenAI's shape. A tool call keeps the id the server gave it; one without (older
/// servers, calls from elsewhere) gets one from its position, and a `tool` message without its call's
/// id answers the oldest unanswered call, in order. An assistant message's thinking goes back as
/// `reasoning` (Ollama's /v1 reads it as `thinking`; it is only set inside a tool loop).
fn messages_json(messages: &[Message]) -> Vec<Value> {
    let mut pending: VecDeque<String> = VecDeque::new();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            };
            let mut v = json!({ "role": role, "content": content_json(m) });
            if !m.tool_calls.is_empty() {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let id = c.id.clone().unwrap_or_else(|| format!("call_{i}_{j}"));
                        pending.push_back(id.clone());
                        let args = match &c.function.arguments {
                            Value::String(s) => s.clone(),
                            Value::Null => "{}".into(),
                            other => other.to_string(),
                        };
                        json!({ "id": id, "type": "function", "function": { "name": c.function.name, "arguments": args } })
                    })
                    .collect();
                v["tool_calls"] = Value::Array(calls);
            }
            if m.role == Role::Tool {
                let id = match &m.tool_call_id {
                    Some(id) => {
                        pending.retain(|p| p != id);
                        id.clone()
                    }
                    None => pending.pop_front().unwrap_or_else(|| format!("call_{i}")),
                };
                v["tool_call_id"] = json!(id);
            }
            if let Some(thinking) = m.thinking.as_ref().filter(|t| !t.is_empty()) {
                v["reasoning"] = json!(thinking);
            }
            v
        })
        .collect()
}

/// Text alone as a string; with images or audio, content parts (media first, as Gemma is prompted).
fn content_json(m: &Message) -> Value {
    if m.images.is_empty() && m.audio.is_empty() {
        return json!(m.content);
    }
    let mut parts: Vec<Value> = m
        .images
        .iter()
        .map(|b64| json!({ "type": "image_url", "image_url": { "url": format!("data:{};base64,{b64}", sniff_mime(b64)) } }))
        .collect();
    parts.extend(
        m.audio.iter().map(|b64| json!({ "type": "input_audio", "input_audio": { "data": b64, "format": "wav" } })),
    );
    if !m.content.is_empty() {
        parts.push(json!({ "type": "text", "text": m.content }));
    }
    Value::Array(parts)
}

/// The image type from the first bytes of its base64 (prepared images are JPEG or PNG).
fn sniff_mime(b64: &str) -> &'static str {
    if b64.starts_with("iVBORw0KGgo") {
        "image/png"
    } else if b64.starts_with("UklGR") {
        "image/webp"
    } else if b64.starts_with("R0lGOD") {
        "image/gif"
    } else {
        "image/jpeg"
    }
}

#[derive(Deserialize)]
pub(super) struct Chunk {
    #[serde(default)]
    pub(super) choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
    #[serde(default)]
    pub(super) timings: Option<Timings>,
}

#[derive(Deserialize)]
pub(super) struct ChunkChoice {
    #[serde(default)]
    pub(super) index: u32,
    #[serde(default)]
    pub(super) delta: Delta,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Delta {
    #[serde(default)]
    pub(super) content: Option<String>,
    /// Thinking, as Ollama and vLLM name it.
    #[serde(default)]
    reasoning: Option<String>,
    /// Thinking, as llama.cpp's server and DeepSeek name it.
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(super) tool_calls: Vec<ToolCallDelta>,
}

impl Delta {
    /// This chunk's thinking, under whichever name the server uses.
    pub(super) fn reasoning(&self) -> Option<&str> {
        self.reasoning.as_deref().filter(|t| !t.is_empty()).or(self.reasoning_content.as_deref())
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
pub(super) struct Usage {
    pub(super) prompt_tokens: Option<u64>,
    pub(super) completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct Timings {
    pub(super) predicted_per_second: Option<f64>,
}

#[derive(Deserialize, Default)]
pub(super) struct ToolCallDelta {
    #[serde(default)]
    pub(super) index: Option<u64>,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) function: Option<FunctionDelta>,
}

#[derive(Deserialize, Default)]
pub(super) struct FunctionDelta {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) arguments: Option<Value>,
}

/// Tool calls arrive in pieces keyed by `index`: the id and name once, the arguments as string fragments.
#[derive(Default)]
pub(super) struct ToolCallParts {
    calls: BTreeMap<u64, PartialCall>,
}

#[derive(Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    args: String,
}

impl ToolCallParts {
    pub(super) fn add(&mut self, part: ToolCallDelta) {
        let index = part.index.unwrap_or(self.calls.len() as u64);
        let entry = self.calls.entry(index).or_default();
        if entry.id.is_none() {
            entry.id = part.id.filter(|id| !id.is_empty());
        }
        if let Some(f) = part.function {
            if let Some(name) = f.name.filter(|n| !n.is_empty()) {
                if entry.name.is_empty() {
                    entry.name = name;
                }
            }
            match f.arguments {
                Some(Value::String(s)) => entry.args.push_str(&s),
                Some(Value::Null) | None => {}
                Some(other) => entry.args.push_str(&other.to_string()),
            }
        }
    }

    pub(super) fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .filter(|(_, call)| !call.name.is_empty())
            .map(|(index, PartialCall { id, name, args })| {
                let arguments = if args.trim().is_empty() {
                    json!({})
                } else {
                    // Arguments that are not JSON go to the tool as a string, which reports the problem.
                    serde_json::from_str(&args).unwrap_or(Value::String(args))
                };
                ToolCall { id, function: ToolCallFunction { index: u32::try_from(index).ok(), name, arguments } }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_messages_answer_the_calls_in_order() {
        let mut a = Message::assistant("");
        a.tool_calls = vec![ToolCall::new("f", json!({"x": 1})), ToolCall::new("g", json!({}))];
        let msgs = vec![Message::user("q"), a, Message::new(Role::Tool, "r1"), Message::new(Role::Tool, "r2")];
        let v = messages_json(&msgs);
        assert_eq!(v[1]["tool_calls"][0]["function"]["arguments"], "{\"x\":1}");
        assert_eq!(v[2]["tool_call_id"], v[1]["tool_calls"][0]["id"]);
        assert_eq!(v[3]["tool_call_id"], v[1]["tool_calls"][1]["id"]);
    }

    #[test]
    fn gemma_gets_its_system_text_in_the_first_user_turn() {
        let msgs = vec![Message::system("Rules."), Message::user("q"), Message::assistant("a"), Message::user("q2")];
        let body = chat_body(&ChatRequest::new("gemma3:4b", msgs.clone()));
        let roles: Vec<_> = body["messages"].as_array().unwrap().iter().map(|m| m["role"].clone()).collect();
        assert_eq!(roles, [json!("user"), json!("assistant"), json!("user")]);
        assert_eq!(body["messages"][0]["content"], "Rules.\n\nq");
        // Other models keep their system role.
        let body = chat_body(&ChatRequest::new("qwen3:0.6b", msgs));
        assert_eq!(body["messages"][0], json!({"role": "system", "content": "Rules."}));
        let only = fold_system(&[Message::system("s")]);
        assert_eq!((only[0].role, only[0].content.as_str()), (Role::User, "s"));
    }

    #[test]
    fn images_become_data_uris() {
        let mut m = Message::user("what is this?");
        m.images = vec!["/9j/4AAQ".into(), "iVBORw0KGgoAAA".into()];
        let v = content_json(&m);
        assert_eq!(v[0]["image_url"]["url"], "data:image/jpeg;base64,/9j/4AAQ");
        assert_eq!(v[1]["image_url"]["url"], "data:image/png;base64,iVBORw0KGgoAAA");
        assert_eq!(v[2], json!({"type": "text", "text": "what is this?"}));
    }

    #[test]
    fn streamed_tool_call_pieces_are_joined() {
        let mut parts = ToolCallParts::default();
        let piece = |name: Option<&str>, args: &str| ToolCallDelta {
            index: Some(0),
            id: None,
            function: Some(FunctionDelta { name: name.map(String::from), arguments: Some(json!(args)) }),
        };
        parts.add(piece(Some("weekday"), "{\"year\": 20"));
        parts.add(piece(None, "25}"));
        let calls = parts.finish();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].function.name, "weekday");
        assert_eq!(calls[0].function.arguments, json!({"year": 2025}));
    }
}
