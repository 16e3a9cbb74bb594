//! Tools the model can call. For now the five local time tools ([`time`]), which mirror Dify's built-in Time
//! provider. Everything here is pure and synchronous: the agent loop calls [`run_tool`] with the model's arguments
//! and hands the [`ToolResult::observation`] back to the model verbatim.

pub mod time;

/// A tool as announced to the model (Ollama's `tools` field takes `name`, `description` and `parameters`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    /// Short English aimed at small models; it goes into the prompt.
    pub description: &'static str,
    /// JSON Schema object: `{"type":"object","properties":{…},"required":[…]}`.
    pub parameters: serde_json::Value,
}

/// What the tools need from the outside world, so that tests can fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolContext {
    /// The current instant.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The zone used when the model gives none: the computer's zone ([`time::local_zone`]).
    pub local_zone: chrono_tz::Tz,
}

impl ToolContext {
    /// The real clock and the computer's time zone.
    pub fn system() -> ToolContext {
        ToolContext { now: chrono::Utc::now(), local_zone: time::local_zone() }
    }
}

/// The outcome of one tool call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolResult {
    /// Exactly what the model gets. Errors start with `error: ` and say what to do instead.
    pub observation: String,
    pub is_error: bool,
}

impl ToolResult {
    fn ok(observation: String) -> ToolResult {
        ToolResult { observation, is_error: false }
    }
    fn error(reason: &str) -> ToolResult {
        ToolResult { observation: format!("error: {reason}"), is_error: true }
    }
}

/// The five time tools, in this order: `current_time`, `localtime_to_timestamp`, `timestamp_to_localtime`,
/// `timezone_conversion`, `weekday`.
pub fn time_tools() -> Vec<ToolSpec> {
    time::specs()
}

/// The names of the tools [`run_tool`] knows, in the order of [`time_tools`].
pub fn tool_names() -> Vec<&'static str> {
    time::TOOL_NAMES.to_vec()
}

/// Runs tool `name` with the model's arguments (an object, a JSON string holding one, or for single-parameter
/// tools a bare value). Never panics: every failure is an error observation the model can act on.
pub fn run_tool(name: &str, args: &serde_json::Value, ctx: &ToolContext) -> ToolResult {
    let wanted = name.trim().to_ascii_lowercase();
    let Some(known) = time::TOOL_NAMES.iter().copied().find(|n| *n == wanted) else {
        let shown: String = name.chars().take(80).collect();
        return ToolResult::error(&format!("unknown tool {shown:?}; valid tools: {}", time::TOOL_NAMES.join(", ")));
    };
    // The tools are written not to panic; this is a last line of defence for the agent loop.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| time::run(known, args, ctx)));
    match outcome {
        Ok(Ok(observation)) => ToolResult::ok(observation),
        Ok(Err(reason)) => ToolResult::error(&reason),
        Err(_) => ToolResult::error(&format!("internal error in {known}; try different arguments")),
    }
}
