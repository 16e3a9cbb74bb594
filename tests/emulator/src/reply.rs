//! Scripted replies and recorded requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::word_chunks;

/// One scripted answer, consumed FIFO by `/api/chat`, `/api/generate` and `/v1/chat/completions`.
/// Every field is optional in JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// Content pieces, one per stream line (joined for non-streamed requests).
    pub chunks: Vec<String>,
    /// Native tool calls, e.g. `[{"function":{"name":"f","arguments":{"x":1}}}]`.
    pub tool_calls: Option<Value>,
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
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}
