//! Scripted replies and recorded requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::media::MediaItem;
use crate::util::word_chunks;

/// One scripted answer, consumed FIFO by `/api/chat`, `/api/generate` and `/v1/chat/completions`.
/// Every field is optional in JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// Content pieces, one per stream line (joined for non-streamed requests).
    pub chunks: Vec<String>,
    /// Native tool calls, e.g. `[{"function":{"name":"f","arguments":{"x":1}}}]`. Models with
    /// `tool_call_ids` get an `id` and `function.index` added where the script has none (§4).
    pub tool_calls: Option<Value>,
    /// Thinking pieces, streamed as `message.thinking` (`/v1`: `delta.reasoning`) before the
    /// content, when the model thinks and the request did not turn thinking off (§3).
    pub thinking: Vec<String>,
    /// The last thinking piece and the first content piece arrive in one message, as when a
    /// token straddles the end of thinking (`/v1` splits such a message in two, §9).
    pub thinking_joins_content: bool,
    /// The raw text of a tool call Ollama's gemma4 parser could not read, e.g.
    /// `call:get_time{timezone='Asia/Tokyo'}` (#17882, §4). It is dropped: the turn ends with no
    /// `tool_calls` and no content from it, `done_reason` "stop".
    pub mangled_tool_call: Option<String>,
    /// ⚠ The other reading of a mangled call: its raw text arrives as content (as servers that
    /// fall back to text do).
    pub mangled_call_as_content: bool,
    /// Sleep before each chunk.
    pub delay_ms: u64,
    /// Sleep before sending the response headers at all.
    pub first_byte_delay_ms: u64,
    /// Not 0/200: answer with this HTTP status and `{"error": error}` (or the /v1 error shape).
    pub status: u16,
    /// Message for `status`, or for `error_after`.
    pub error: Option<String>,
    /// After N chunks send an `{"error": …}` line (HTTP 200) and end the stream, no done line.
    pub error_after: Option<usize>,
    /// After N chunks abruptly close the connection (the client sees a truncated body).
    pub cut_after: Option<usize>,
    /// After N chunks send nothing more but keep the connection open until the client leaves.
    pub stall_after: Option<usize>,
    /// `stop` when absent; `length`, … otherwise.
    pub done_reason: Option<String>,
    /// Only consumed by requests for this model.
    pub model: Option<String>,
}

impl Reply {
    /// A reply whose text is streamed word by word.
    pub fn text(text: &str) -> Reply {
        Reply { chunks: word_chunks(text), ..Reply::default() }
    }

    /// A reply streamed exactly as these pieces.
    pub fn chunks(chunks: &[&str]) -> Reply {
        Reply { chunks: chunks.iter().map(|c| c.to_string()).collect(), ..Reply::default() }
    }

    /// A reply that only calls tools (no content), e.g.
    /// `json!([{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}])`.
    pub fn with_tool_calls(tool_calls: Value) -> Reply {
        Reply::default().tool_calls(tool_calls)
    }

    /// Adds thinking, streamed word by word before the content.
    pub fn thinking(mut self, text: &str) -> Reply {
        self.thinking = word_chunks(text);
        self
    }

    /// Adds thinking streamed exactly as these pieces.
    pub fn thinking_chunks(mut self, chunks: &[&str]) -> Reply {
        self.thinking = chunks.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Sends the last thinking piece together with the first content piece.
    pub fn thinking_joins_content(mut self) -> Reply {
        self.thinking_joins_content = true;
        self
    }

    /// A turn whose only tool call the gemma4 parser could not read (`raw` is what the model
    /// wrote, e.g. `call:get_time{timezone='Asia/Tokyo'}`): no `tool_calls`, empty content.
    pub fn mangled_tool_call(raw: &str) -> Reply {
        Reply { mangled_tool_call: Some(raw.into()), ..Reply::default() }
    }

    /// ⚠ Makes a mangled call's raw text arrive as content instead of vanishing.
    pub fn mangled_call_as_content(mut self) -> Reply {
        self.mangled_call_as_content = true;
        self
    }

    /// Adds native tool calls to this reply.
    pub fn tool_calls(mut self, tool_calls: Value) -> Reply {
        self.tool_calls = Some(tool_calls);
        self
    }

    pub fn delay_ms(mut self, ms: u64) -> Reply {
        self.delay_ms = ms;
        self
    }

    pub fn first_byte_delay_ms(mut self, ms: u64) -> Reply {
        self.first_byte_delay_ms = ms;
        self
    }

    /// Fails the whole request with this HTTP status and message.
    pub fn status(mut self, code: u16, message: &str) -> Reply {
        self.status = code;
        self.error = Some(message.into());
        self
    }

    pub fn error_after(mut self, chunks: usize, message: &str) -> Reply {
        self.error_after = Some(chunks);
        self.error = Some(message.into());
        self
    }

    pub fn cut_after(mut self, chunks: usize) -> Reply {
        self.cut_after = Some(chunks);
        self
    }

    pub fn stall_after(mut self, chunks: usize) -> Reply {
        self.stall_after = Some(chunks);
        self
    }

    pub fn done_reason(mut self, reason: &str) -> Reply {
        self.done_reason = Some(reason.into());
        self
    }

    /// Only match requests for `model`.
    pub fn for_model(mut self, model: &str) -> Reply {
        self.model = Some(model.into());
        self
    }

    pub(crate) fn is_error_status(&self) -> bool {
        self.status != 0 && self.status != 200
    }

    pub(crate) fn error_message(&self) -> String {
        self.error.clone().unwrap_or_else(|| "an error was encountered while running the model".into())
    }

    pub(crate) fn content(&self) -> String {
        self.chunks.concat()
    }

    pub(crate) fn thinking_text(&self) -> String {
        self.thinking.concat()
    }

    /// The reply as one request streams it: the thinking only if `think` (§3), a mangled call's
    /// raw text as content in that reading (§4).
    pub(crate) fn resolved(mut self, think: bool) -> Reply {
        if !think {
            self.thinking.clear();
        }
        if let (Some(raw), true) = (&self.mangled_tool_call, self.mangled_call_as_content) {
            self.chunks.push(raw.clone());
        }
        self
    }

    /// The streamed messages of a resolved reply, as (thinking, content), before any tool calls.
    pub(crate) fn pieces(&self) -> Vec<(&str, &str)> {
        let mut pieces: Vec<(&str, &str)> = self.thinking.iter().map(|t| (t.as_str(), "")).collect();
        let mut content = self.chunks.iter().map(String::as_str);
        if self.thinking_joins_content && !pieces.is_empty() {
            if let (Some(last), Some(first)) = (pieces.last_mut(), content.next()) {
                last.1 = first;
            }
        }
        pieces.extend(content.map(|c| ("", c)));
        pieces
    }
}

/// A request as the emulator received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Lower-case names; repeated headers are joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// Parsed JSON, a JSON string of the raw text when it isn't JSON, or null when empty.
    pub body: Value,
    /// True when the client went away before the emulator finished sending the response.
    pub client_disconnected: bool,
    /// The images and audio the body carries, decoded (format, pixel size, WAV format and
    /// length), in order; see `media.rs`.
    #[serde(default)]
    pub media: Vec<MediaItem>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}
