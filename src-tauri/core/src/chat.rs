//! A conversation as sent to a model, and what comes back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Prepared images, standard base64 without a `data:` prefix (what Ollama accepts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Prepared audio clips (16 kHz mono 16-bit WAV, standard base64), for models that hear. Not a field of
    /// Ollama's: each client places them (Ollama: after the images in `images`; OpenAI: `input_audio` parts).
    #[serde(skip)]
    pub audio: Vec<String>,
    /// Native tool calls the assistant made (Ollama's `tool_calls`), kept to send back as context.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: which tool produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// For a `tool` message: the id of the call it answers (Gemma 4 on Ollama gives each call one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// What the model thought before this assistant message. Only sent back inside a tool loop (after the last
    /// user message), as Ollama's Gemma 4 template expects; earlier turns go without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
}

/// A native tool call, in Ollama's shape: `{"id"?, "function": {"index"?, "name", "arguments": {…}}}`. Gemma 4
/// on Ollama 0.30+ gives every call an `id` and an `index` (its place among the calls of one turn); older
/// servers give neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub function: ToolCallFunction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallFunction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub name: String,
    #[serde(default)]
    pub arguments: serde_json::Value,
}

impl ToolCall {
    /// A call without id or index (as older servers and the ReAct loop make them).
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        ToolCall { id: None, function: ToolCallFunction { index: None, name: name.into(), arguments } }
    }
}

/// Whether (and how hard) a model thinks before it answers: Ollama's `think`. `Auto` sends nothing, leaving the
/// model's default (Gemma 4 thinks); the levels are for models that take them (Gemma 4 treats any level as on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Think {
    #[default]
    Auto,
    Off,
    On,
    Low,
    Medium,
    High,
    Max,
}

impl Think {
    pub const ALL: [Think; 7] =
        [Think::Auto, Think::Off, Think::On, Think::Low, Think::Medium, Think::High, Think::Max];

    pub fn as_str(self) -> &'static str {
        match self {
            Think::Auto => "auto",
            Think::Off => "off",
            Think::On => "on",
            Think::Low => "low",
            Think::Medium => "medium",
            Think::High => "high",
            Think::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<Think> {
        Think::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Asks the model to think: only ever sent to a model whose capabilities include `thinking`
    /// (Ollama answers 400 to any other).
    pub fn asks_to_think(self) -> bool {
        !matches!(self, Think::Auto | Think::Off)
    }

    /// Ollama's `think` field: absent, `false`, `true` or a level.
    pub fn ollama_value(self) -> Option<serde_json::Value> {
        match self {
            Think::Auto => None,
            Think::Off => Some(false.into()),
            Think::On => Some(true.into()),
            level => Some(level.as_str().into()),
        }
    }

    /// The OpenAI-style `reasoning_effort`: `none` turns thinking off; plain "on" asks for `medium`.
    pub fn reasoning_effort(self) -> Option<&'static str> {
        match self {
            Think::Auto => None,
            Think::Off => Some("none"),
            Think::On => Some("medium"),
            level => Some(level.as_str()),
        }
    }
}

/// A piece of a streamed answer: the text the user reads, or the model's thinking before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Thinking(&'a str),
}

/// For callers that show only the answer: passes its text on and drops the thinking.
pub fn text_only(mut on_delta: impl FnMut(&str)) -> impl FnMut(Piece<'_>) {
    move |p| {
        if let Piece::Text(t) = p {
            on_delta(t)
        }
    }
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            images: Vec::new(),
            audio: Vec::new(),
            tool_calls: Vec::new(),
            tool_name: None,
            tool_call_id: None,
            thinking: None,
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// Sampling and runtime options; unset fields are left to the model's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_ctx: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stop: Vec<String>,
    /// The most soft tokens per image, for models with a variable image budget (Gemma 4: up to 1,120). Servers
    /// that do not know the option ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_max_tokens: Option<u32>,
}

impl ChatOptions {
    pub fn is_empty(&self) -> bool {
        *self == ChatOptions::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub options: ChatOptions,
    /// How long Ollama keeps the model loaded afterwards ("5m", "-1", …).
    #[serde(default)]
    pub keep_alive: Option<String>,
    /// Native tools (`[{"type": "function", "function": {…}}]`). Only for models whose
    /// capabilities include `tools`: Ollama answers 400 to any other.
    #[serde(default)]
    pub tools: Vec<serde_json::Value>,
    /// Whether the model thinks first; see [`Think`].
    #[serde(default)]
    pub think: Think,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            options: ChatOptions::default(),
            keep_alive: None,
            tools: Vec::new(),
            think: Think::Auto,
        }
    }
}

/// A finished answer. Timing fields are what Ollama reports (all optional: Ollama omits zeros).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatOutcome {
    pub content: String,
    /// What the model thought before answering (empty when it did not, or was not asked to).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking: String,
    pub model: String,
    /// `stop`, `length`, …
    pub done_reason: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub total_duration_ms: Option<u64>,
    /// Tokens per second while generating, when Ollama reported enough to compute it.
    pub tokens_per_second: Option<f64>,
    /// Native tool calls the model made (only when `tools` were sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}
