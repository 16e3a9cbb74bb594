//! Setup shared by the core's tests against the emulator: clients with short timeouts, the fixed clock and the
//! request the agent tests ask with, and readers of what the emulator was sent. One copy here, so that a test file
//! says only what it checks, and a change to how tests connect is made once. A module of the one test binary
//! (`main.rs`), so an unused helper is a warning: a helper for a binary of its own belongs in that binary.

use chrono::TimeZone;
use gemma_desk_core::agent::{answer_with_clock, AgentEvent, AgentOutcome, AnswerRequest};
use gemma_desk_core::client::host::parse_host;
use gemma_desk_core::tools::ToolContext;
use gemma_desk_core::{Backend, ClientOptions, Error, Message, OllamaClient};
use ollama_emulator::Emulator;
use serde_json::Value;
use std::time::Duration;

/// Timeouts short enough that a cut or stalled stream fails a test in a second or two, not minutes.
pub fn quick_options() -> ClientOptions {
    ClientOptions {
        first_byte_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    }
}

/// An Ollama client for the emulator, with [`quick_options`].
pub fn ollama_client(emu: &Emulator) -> OllamaClient {
    OllamaClient::new(parse_host(&emu.url()).unwrap(), quick_options()).unwrap()
}

/// The agent tests' options: only the idle timeout is short (2 s), as a loop's rounds wait on the model.
pub fn agent_options() -> ClientOptions {
    ClientOptions { idle_timeout: Duration::from_secs(2), ..ClientOptions::default() }
}

/// 2025-03-14 01:30:00 UTC, on a computer in Shanghai.
pub fn clock() -> ToolContext {
    ToolContext {
        now: chrono::Utc.with_ymd_and_hms(2025, 3, 14, 1, 30, 0).unwrap(),
        local_zone: chrono_tz::Asia::Shanghai,
    }
}

/// A one-question request with tools on and at most `max_steps` tool calls.
pub fn ask(model: &str, q: &str, max_steps: u32) -> AnswerRequest {
    let mut r = AnswerRequest::new(model, vec![Message::user(q)]);
    r.tools = true;
    r.max_steps = max_steps;
    r
}

/// Answers `req` over `backend` at [`clock`]'s time, collecting the events on the way.
pub async fn run_agent(backend: &Backend, req: AnswerRequest) -> (Result<AgentOutcome, Error>, Vec<AgentEvent>) {
    let mut events = Vec::new();
    let r = answer_with_clock(backend, req, &clock, &mut |e| events.push(e)).await;
    (r, events)
}

/// The text that streamed to the user.
pub fn streamed(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The JSON bodies of the requests the emulator got at `path`, in order.
pub fn bodies_sent_to(emu: &Emulator, path: &str) -> Vec<Value> {
    emu.requests_to(path).into_iter().map(|r| r.body).collect()
}

/// A ReAct step asking for the weekday of 2025-03-14, as a model writes it.
pub const WEEKDAY_ACTION: &str = "Thought: I need the weekday of that date.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\n";
