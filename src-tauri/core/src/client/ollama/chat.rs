//! Streamed chat over `/api/chat`: the request body, and the NDJSON lines read back into a
//! `ChatOutcome`.

use super::OllamaClient;
use crate::chat::{text_only, ChatOutcome, ChatRequest, Message, Piece};
use crate::client::ndjson::NdjsonReader;
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};

impl OllamaClient {
    /// Streamed chat over `/api/chat`, the answer's text only: see [`chat_stream`](Self::chat_stream).
    pub async fn chat(&self, req: &ChatRequest, on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        self.chat_stream(req, text_only(on_delta)).await
    }

    /// Streamed chat over `/api/chat`. `on_piece` gets each piece of thinking and of text as it arrives (a
    /// thinking model sends its thinking first); the whole answer comes back at the end. Dropping the future
    /// closes the connection, which is how Ollama learns to stop generating.
    pub async fn chat_stream(&self, req: &ChatRequest, mut on_piece: impl FnMut(Piece<'_>)) -> Result<ChatOutcome> {
        let body = chat_body(req);
        let resp = self.http.post(self.url("api/chat")).json(&body).send().await.map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(&req.model)).await?;
        let mut lines = NdjsonReader::new(resp, self.opts.first_byte_timeout, self.opts.idle_timeout);
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        while let Some(line) = lines.next().await? {
            let chunk: ChatChunk =
                serde_json::from_value(line).map_err(|e| Error::Protocol { detail: e.to_string() })?;
            if let Some(message) = chunk.error {
                return Err(classify_stream_error(message, &req.model));
            }
            if let Some(m) = chunk.message {
                if !m.thinking.is_empty() {
                    on_piece(Piece::Thinking(&m.thinking));
                    out.thinking.push_str(&m.thinking);
                }
                if !m.content.is_empty() {
                    on_piece(Piece::Text(&m.content));
                    out.content.push_str(&m.content);
                }
                out.tool_calls.extend(m.tool_calls);
            }
            if chunk.done {
                out.done_reason = chunk.done_reason;
                out.prompt_tokens = chunk.prompt_eval_count;
                out.completion_tokens = chunk.eval_count;
                out.total_duration_ms = chunk.total_duration.map(|ns| ns / 1_000_000);
                out.tokens_per_second = match (chunk.eval_count, chunk.eval_duration) {
                    (Some(n), Some(ns)) if ns > 0 => Some(n as f64 / (ns as f64 / 1e9)),
                    _ => None,
                };
                return Ok(out);
            }
        }
        // The body ended cleanly but without `done: true`: the answer is incomplete.
        Err(Error::ConnectionCut)
    }
}

fn classify_stream_error(message: String, model: &str) -> Error {
    if message.contains("missing data required for image input") {
        Error::ModelUnable { model: model.to_string(), what: "see images".into() }
    } else {
        Error::Stream { message }
    }
}

fn chat_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "messages": req.messages.iter().map(message_json).collect::<Vec<_>>(),
        "stream": true,
    });
    if !req.options.is_empty() {
        body["options"] = serde_json::to_value(&req.options).unwrap_or(Value::Null);
    }
    if let Some(k) = &req.keep_alive {
        body["keep_alive"] = json!(k);
    }
    if !req.tools.is_empty() {
        body["tools"] = json!(req.tools);
    }
    if let Some(think) = req.think.ollama_value() {
        body["think"] = think;
    }
    body
}

/// A message in Ollama's shape. Audio goes in `images` too: Ollama tells sound from pictures by the bytes.
fn message_json(m: &Message) -> Value {
    let mut v = serde_json::to_value(m).expect("messages serialise");
    if !m.audio.is_empty() {
        let all: Vec<&String> = m.images.iter().chain(&m.audio).collect();
        v["images"] = json!(all);
    }
    v
}

#[derive(Deserialize)]
struct ChatChunk {
    #[serde(default)]
    message: Option<ChunkMessage>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    error: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    total_duration: Option<u64>,
}

#[derive(Deserialize)]
struct ChunkMessage {
    #[serde(default)]
    content: String,
    /// A thinking model's thinking, streamed before the content (Ollama 0.9+).
    #[serde(default)]
    thinking: String,
    /// Ollama streams native tool calls in a message of their own, before the `done` line.
    #[serde(default)]
    tool_calls: Vec<crate::chat::ToolCall>,
}
