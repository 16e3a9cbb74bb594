//! The OpenAI-compatible `/v1` surface, as Ollama's middleware translates it to and from the
//! native handlers.
//!
//! Thinking crosses it as Ollama 0.30+ does (GEMMA4-FACTS.md §9): `reasoning.effort` or
//! `reasoning_effort` in, mapped to `think`; `delta.reasoning` (`message.reasoning`) out, a
//! message holding both reasoning and content split into two chunks. Audio comes in as
//! `input_audio` parts and joins the images, as `FromChatRequest` does (§5).

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::gojson::{self, check, field, DecodeError, Want};
use crate::reply::Reply;
use crate::server::{
    bad_request, chat_model, check_inputs, check_runnable, interruption, json_status, json_with, metrics, next_reply,
    sorted_models, ChatParsed, Failure, Gen, St, Wire, JSON,
};
use crate::state::Shared;
use crate::stream::Step;
use crate::util::{go_quote, unix_secs};

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<()>,
    code: Option<()>,
}

fn error_value(status: u16, message: &str) -> Value {
    // openai.NewError: the type follows the status.
    let kind = match status {
        400 => "invalid_request_error",
        404 => "not_found_error",
        _ => "api_error",
    };
    json!({ "error": ErrorBody { message, kind, param: None, code: None } })
}

/// `{"error":{"message","type","param":null,"code":null}}` with this status.
pub fn error_response(status: u16, message: &str) -> Response {
    json_status(status, &error_value(status, message))
}

/// `/v1`: OpenAI's error objects, server-sent events; an error mid-stream is an event of its own, and no `[DONE]`
/// follows it.
const OPENAI: Wire = Wire {
    error: error_response,
    stream_error: error_event,
    stream_type: "text/event-stream",
    whole_type: "application/json",
};

fn error_event(message: &str) -> Step {
    sse(&error_value(500, message))
}

/// The namespace part of a model name, as `owned_by` reports it ("library" for official models).
fn owned_by(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    parts.pop().unwrap_or("library").to_string()
}

/// A model as `/v1/models` lists it.
fn model_object(name: &str, modified: SystemTime) -> Value {
    json!({ "id": name, "object": "model", "created": unix_secs(modified), "owned_by": owned_by(name) })
}

pub async fn models(State(st): St) -> Response {
    let data: Vec<Value> = sorted_models(&st).iter().map(|m| model_object(&m.spec.name, m.modified_at)).collect();
    // Go marshals the nil slice of an empty list as null.
    let data = if data.is_empty() { Value::Null } else { Value::Array(data) };
    json_with(StatusCode::OK, JSON, &json!({ "object": "list", "data": data }))
}

pub async fn model(State(st): St, Path(name): Path<String>) -> Response {
    let found = st.lock().installed(&name).map(|m| m.modified_at);
    match found {
        Some(modified) => json_with(StatusCode::OK, JSON, &model_object(&name, modified)),
        None => error_response(404, &format!("model '{name}' not found")),
    }
}

/// Decodes an `openai.ChatCompletionRequest` and converts its messages like `FromChatRequest`; with it, the `think`
/// its reasoning effort maps to (`None` leaves the model's default).
fn parse(v: &Value) -> Result<(ChatParsed, Option<Value>), String> {
    const S: &str = "ChatCompletionRequest";
    let obj = gojson::top_object(v, "openai.ChatCompletionRequest")?;
    // This struct's fields and Go types: alike in shape to `server::parse_chat`'s, a twin on purpose (each list
    // is one Go struct's, as its decoder names them in errors).
    check(&obj, "model", Want::Str, S, "model", "string")?;
    check(&obj, "messages", Want::Array, S, "messages", "[]openai.Message")?;
    check(&obj, "stream", Want::Bool, S, "stream", "bool")?;
    check(&obj, "stream_options", Want::Object, S, "stream_options", "openai.StreamOptions")?;
    check(&obj, "tools", Want::Array, S, "tools", "[]api.Tool")?;
    check(&obj, "reasoning", Want::Object, S, "reasoning", "openai.Reasoning")?;
    check(&obj, "reasoning_effort", Want::Str, S, "reasoning_effort", "string")?;
    let messages = field(&obj, "messages").and_then(Value::as_array).cloned().unwrap_or_default();
    for m in &messages {
        if !(m.is_object() || m.is_null()) {
            return Err(gojson::type_error(m, S, "messages", "openai.Message"));
        }
        if let Value::Object(m) = m {
            check(m, "role", Want::Str, "Message", "messages.role", "string")?;
            check(m, "tool_calls", Want::Array, "Message", "messages.tool_calls", "[]openai.ToolCall")?;
        }
    }
    if messages.is_empty() {
        return Err("[] is too short - 'messages'".into());
    }

    let mut p = ChatParsed::new(obj, messages.len());
    for m in &messages {
        let empty = Map::new();
        let m = m.as_object().unwrap_or(&empty);
        let role = field(m, "role").and_then(Value::as_str).unwrap_or("");
        let mut text = String::new();
        match m.get("content").unwrap_or(&Value::Null) {
            Value::String(s) => text.push_str(s),
            Value::Array(parts) => {
                for part in parts {
                    text.push_str(&convert_part(part, &mut p.images)?);
                }
            }
            other => {
                // content is only optional if tool calls are present
                if field(m, "tool_calls").is_none() {
                    return Err(format!("invalid message content type: {}", gojson::go_any_type(other)));
                }
            }
        }
        p.add(role, &text);
    }
    // `reasoning.effort` wins over `reasoning_effort` whenever `reasoning` is present.
    let effort = match field(&p.obj, "reasoning") {
        Some(r) => r.get("effort").and_then(Value::as_str).unwrap_or(""),
        None => field(&p.obj, "reasoning_effort").and_then(Value::as_str).unwrap_or(""),
    };
    let think = think_from_effort(effort)?;
    Ok((p, think))
}

/// `thinkFromReasoningEffort` (§9): OpenAI's scale clamped to Ollama's levels.
fn think_from_effort(effort: &str) -> Result<Option<Value>, String> {
    Ok(match effort {
        "" => None,
        "none" => Some(json!(false)),
        "minimal" => Some(json!("low")),
        "low" | "medium" | "high" | "max" => Some(json!(effort)),
        "xhigh" | "ultra" => Some(json!("max")),
        other => {
            return Err(format!(
                "invalid reasoning value: {} (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")",
                go_quote(other)
            ))
        }
    })
}

/// One content part: returns its text (empty for images, whose bytes go to `images`).
fn convert_part(part: &Value, images: &mut Vec<Vec<u8>>) -> Result<String, String> {
    let invalid = || "invalid message format".to_string();
    let part = part.as_object().ok_or_else(invalid)?;
    match part.get("type").and_then(Value::as_str) {
        Some("text") => part.get("text").and_then(Value::as_str).map(String::from).ok_or_else(invalid),
        Some("image_url") => {
            let url = match part.get("image_url") {
                Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
                Some(Value::String(s)) => Some(s.as_str()),
                _ => None,
            }
            .ok_or_else(invalid)?;
            let data = ["jpeg", "jpg", "png", "webp"]
                .iter()
                .map(|t| format!("data:image/{t};base64,"))
                .chain(std::iter::once("data:;base64,".to_string()))
                .find_map(|prefix| url.strip_prefix(prefix.as_str()))
                .ok_or_else(|| "invalid image input".to_string())?;
            images.push(gojson::decode_base64(data).map_err(|_| invalid())?);
            Ok(String::new())
        }
        // Audio joins the images; its `format` is ignored (§5).
        Some("input_audio") => {
            let audio = part.get("input_audio").and_then(Value::as_object).ok_or("invalid input_audio format")?;
            let data = audio.get("data").and_then(Value::as_str).ok_or("invalid input_audio format: missing data")?;
            images.push(gojson::decode_base64(data).map_err(|e| format!("invalid input_audio base64 data: {e}"))?);
            Ok(String::new())
        }
        _ => Err(invalid()),
    }
}

pub async fn chat_completions(State(st): St, body: Bytes) -> Response {
    answer_chat(&st, &body).await.unwrap_or_else(|(code, msg)| error_response(code, &msg))
}

async fn answer_chat(st: &Shared, body: &[u8]) -> Result<Response, Failure> {
    let v = gojson::decode(body).map_err(|e| match e {
        // The middleware reports the decoder's error verbatim, so an empty body says "EOF".
        DecodeError::Eof => bad_request("EOF".into()),
        DecodeError::Msg(m) => bad_request(m),
    })?;
    let (p, think) = parse(&v).map_err(bad_request)?;
    // From here on the native ChatHandler runs, its errors re-shaped by the middleware.
    let spec = chat_model(st, &p.model)?;
    check_runnable(&spec, &p.model, p.has_tools, &think, "chat")?;
    check_inputs(&spec, &think, &p.images)?;
    let include_usage =
        field(&p.obj, "stream_options").and_then(|o| o.get("include_usage")).and_then(Value::as_bool).unwrap_or(false);
    // Unlike the native API, /v1 streams only when asked to.
    let g = p.generation(spec, &think, false);
    let reply = next_reply(st, &g);
    let id = format!("chatcmpl-{}", st.completion_id());
    Ok(respond(g, reply, id, include_usage).await)
}

/// Converts native tool calls to OpenAI's shape (arguments as a JSON string).
fn openai_tool_calls(calls: &Value) -> Value {
    let calls = calls.as_array().cloned().unwrap_or_default();
    let converted: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, tc)| {
            let f = tc.get("function").cloned().unwrap_or(Value::Null);
            let id = tc
                .get("id")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| format!("call_{}", &crate::util::fake_digest(&format!("{i}{tc}"))[..8]));
            let args = match f.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => "{}".into(),
            };
            json!({
                "id": id,
                "index": f.get("index").and_then(Value::as_u64).unwrap_or(i as u64),
                "type": "function",
                "function": { "name": f.get("name").cloned().unwrap_or(json!("")), "arguments": args },
            })
        })
        .collect();
    Value::Array(converted)
}

#[derive(Serialize)]
struct Delta<'a> {
    role: &'static str,
    /// Left out only on the reasoning half of a split message (§9).
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    reasoning: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Value>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    finish_reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Value>,
}

fn sse(v: &impl Serialize) -> Step {
    let data = serde_json::to_string(v).unwrap_or_default();
    Step::line(format!("data: {data}\n\n"))
}

async fn respond(g: Gen, reply: Reply, id: String, include_usage: bool) -> Response {
    if let Some(r) = OPENAI.error_status(&reply).await {
        return r;
    }
    let created = unix_secs(SystemTime::now());
    let m = metrics(g.prompt_tokens, &reply);
    let usage = json!({
        "prompt_tokens": m.prompt_eval_count,
        "completion_tokens": m.eval_count,
        "total_tokens": m.prompt_eval_count + m.eval_count,
    });
    let tool_calls = reply.tool_calls.as_ref().map(openai_tool_calls);
    let finish_reason = if tool_calls.is_some() {
        "tool_calls".to_string()
    } else {
        reply.done_reason.clone().unwrap_or_else(|| "stop".into())
    };
    let interrupt = interruption(&reply);
    let pieces = reply.pieces();

    if !g.stream {
        if let Some(r) = OPENAI.unstreamed_interruption(&reply, interrupt, pieces.len(), reply.delay_ms).await {
            return r;
        }
        let mut message = json!({ "role": "assistant", "content": reply.content() });
        if !reply.thinking.is_empty() {
            message["reasoning"] = json!(reply.thinking_text());
        }
        if let Some(calls) = tool_calls {
            message["tool_calls"] = calls;
        }
        return json_with(
            StatusCode::OK,
            JSON,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": created,
                "model": g.model,
                "system_fingerprint": "fp_ollama",
                "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason }],
                "usage": usage,
            }),
        );
    }

    let chunk = |delta: Delta, finish: Option<&str>| {
        sse(&Chunk {
            id: &id,
            object: "chat.completion.chunk",
            created,
            model: &g.model,
            system_fingerprint: "fp_ollama",
            choices: vec![ChunkChoice { index: 0, delta, finish_reason: finish }],
            usage: None,
        })
    };
    let text =
        |content: &'static str| Delta { role: "assistant", content: Some(content), reasoning: "", tool_calls: None };
    let mut steps = Vec::new();
    for i in 0..=pieces.len() {
        if OPENAI.interrupted(&mut steps, interrupt, i, &reply) {
            return OPENAI.stream(steps);
        }
        if let Some(&(reasoning, content)) = pieces.get(i) {
            steps.push(Step::Sleep(reply.delay_ms));
            let delta = |content| Delta { role: "assistant", content, reasoning, tool_calls: None };
            if reasoning.is_empty() || content.is_empty() {
                steps.push(chunk(delta(Some(content)), None));
            } else {
                // `ToStreamChunks`: reasoning first (no content), then the content alone.
                steps.push(chunk(delta(None), None));
                steps.push(chunk(Delta { reasoning: "", ..delta(Some(content)) }, None));
            }
        }
    }
    if let Some(calls) = tool_calls {
        steps.push(chunk(Delta { tool_calls: Some(calls), ..text("") }, None));
    }
    steps.push(chunk(text(""), Some(&finish_reason)));
    if include_usage {
        steps.push(sse(&Chunk {
            id: &id,
            object: "chat.completion.chunk",
            created,
            model: &g.model,
            system_fingerprint: "fp_ollama",
            choices: Vec::new(),
            usage: Some(usage),
        }));
    }
    steps.push(Step::line("data: [DONE]\n\n"));
    OPENAI.stream(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_by_is_the_namespace() {
        assert_eq!(owned_by("gemma3:4b"), "library");
        assert_eq!(owned_by("me/model:1"), "me");
        assert_eq!(owned_by("host.io/me/model:1"), "me");
    }

    #[test]
    fn tool_calls_get_string_arguments() {
        let v = openai_tool_calls(&json!([{"function":{"name":"f","arguments":{"x":1}}}]));
        assert_eq!(v[0]["type"], "function");
        assert_eq!(v[0]["function"]["arguments"], "{\"x\":1}");
        assert!(v[0]["id"].as_str().unwrap().starts_with("call_"));
    }
}
