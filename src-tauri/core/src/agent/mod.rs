//! Answering a message, with or without tools. Three ways, chosen per request:
//! - **plain**: tools off: one streamed chat;
//! - **native**: tools on and the model is known to take native tools (Ollama's `/api/show`
//!   capabilities, or the user's setting for an OpenAI-compatible server): the `tools` field and
//!   `tool_calls`;
//! - **ReAct**: tools on, model without native tools (Gemma 3) or not known to have them: the
//!   prompt in `prompt.rs`, the tolerant parser in `parse.rs` (with its JSON/Python reader in
//!   `lenient.rs`), generation stopped at `Observation`, tools run here.
//!
//! A thinking model's thinking (Gemma 4) streams as [`AgentEvent::Thinking`] in every way, rounds apart by a
//! blank line; inside the native loop it goes back with the assistant's `tool_calls` message, as Ollama's Gemma 4
//! template expects. `Think` asks for thinking only from a model that reports it can.
//!
//! Works over any [`Backend`]. Either tool loop makes at most `max_steps` tool calls and then ends
//! with what is known, whatever the model writes: the ReAct loop asks the model at most
//! `max_steps + 2` times. Cancelling is dropping the future: the HTTP request closes and the
//! server stops generating.

mod lenient;
pub mod parse;
mod prompt;

use crate::chat::{ChatOptions, ChatOutcome, ChatRequest, Message, Piece, Role, Think, ToolCall, ToolCallFunction};
use crate::client::backend::{Backend, Scratchpad};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::models::Capability;
use crate::tools::{run_tool, time_tools, ToolContext, ToolSpec};
use parse::{parse_reply_with_tools, Parsed};
use serde::Serialize;
use serde_json::{json, Value};

pub use prompt::{system_prompt, STOP};

/// After an observation handed over in a user turn: what to write next (fixed text, so prompts
/// stay cacheable).
const CONTINUE: &str = "Continue: write a Thought, then either an Action or the Final Answer.";

/// One tool call: what the model thought, what it called with what, and what it was told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub thought: String,
    pub tool: String,
    pub input: Value,
    pub observation: String,
}

/// What the caller sees while an answer is made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum AgentEvent {
    /// More of the answer the user reads.
    Delta { text: String },
    /// More of the model's thinking before it answers (or before a tool call). A later round's thinking starts
    /// with a blank line.
    Thinking { text: String },
    /// A tool was run.
    Step(Step),
    /// The text streamed since the last `Retract` (or the start) was not the answer after all
    /// (the model went on to call a tool): take it back.
    Retract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Plain,
    Native,
    React,
}

#[derive(Debug, Clone)]
pub struct AnswerRequest {
    pub model: String,
    /// The conversation so far, ending with the user's message (a system prompt may come first).
    pub messages: Vec<Message>,
    /// Offer the time tools.
    pub tools: bool,
    pub max_steps: u32,
    pub lang: Lang,
    pub options: ChatOptions,
    /// How long Ollama keeps the model loaded afterwards ("5m", "-1"); `None`: Ollama's default.
    pub keep_alive: Option<String>,
    /// Whether the model thinks first; anything but `Auto` is checked against the model's capabilities.
    pub think: Think,
}

impl AnswerRequest {
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        AnswerRequest {
            model: model.into(),
            messages,
            tools: false,
            max_steps: 5,
            lang: Lang::En,
            options: ChatOptions::default(),
            keep_alive: None,
            think: Think::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentOutcome {
    pub answer: String,
    pub model: String,
    pub steps: Vec<Step>,
    /// How many times the model was asked.
    pub rounds: u32,
    pub mode: Mode,
    /// Of the last round.
    pub done_reason: Option<String>,
    pub tokens_per_second: Option<f64>,
    /// Each round's thinking, in order (rounds without any left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thinking: Vec<String>,
    /// Of the last round, as the server counted them: the prompt (the whole conversation, photos included) and
    /// the answer. Together, how full the context is.
    #[serde(skip)]
    pub prompt_tokens: Option<u64>,
    #[serde(skip)]
    pub completion_tokens: Option<u64>,
}

/// The clock and zone the tools use; tests fix them.
pub type Clock = dyn Fn() -> ToolContext + Send + Sync;

pub async fn answer(
    client: &Backend,
    req: AnswerRequest,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<AgentOutcome> {
    answer_with_clock(client, req, &ToolContext::system, on_event).await
}

pub async fn answer_with_clock(
    client: &Backend,
    req: AnswerRequest,
    clock: &Clock,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<AgentOutcome> {
    let mut req = req;
    req.think = checked_think(client, &req.model, req.think).await?;
    if !req.tools {
        return run_plain(client, req, on_event).await;
    }
    // Never send `tools` to a model without the capability: Ollama answers 400.
    if client.supports_native_tools(&req.model).await? {
        run_native(client, req, clock, on_event).await
    } else {
        run_react(client, req, clock, on_event).await
    }
}

/// `think` as it may be sent to `model`: asking to think needs a model that reports it can (Ollama answers
/// 400 to any other, and other servers may ignore it silently); turning thinking off a model that does not
/// think sends nothing. `Auto` is sent as nothing and needs no question to the server.
async fn checked_think(client: &Backend, model: &str, think: Think) -> Result<Think> {
    if think == Think::Auto {
        return Ok(think);
    }
    let thinks = client.model_can(model, Capability::Thinking).await?;
    match (think.asks_to_think(), thinks) {
        (_, true) => Ok(think),
        (true, false) => Err(Error::ModelUnable { model: model.to_string(), what: Capability::Thinking.job().into() }),
        (false, false) => Ok(Think::Auto),
    }
}

/// The chat request for one round.
fn round_request(req: &AnswerRequest, messages: Vec<Message>, options: ChatOptions) -> ChatRequest {
    let mut chat = ChatRequest::new(req.model.clone(), messages);
    chat.options = options;
    chat.keep_alive = req.keep_alive.clone();
    chat.think = req.think;
    chat
}

/// Passes a round's thinking on as it streams, a blank line before it when an earlier round thought too.
struct ThinkingRounds {
    rounds: Vec<String>,
    this_round: bool,
}

impl ThinkingRounds {
    fn new() -> Self {
        ThinkingRounds { rounds: Vec::new(), this_round: false }
    }

    fn piece(&mut self, text: &str) -> AgentEvent {
        let text = if !self.this_round && !self.rounds.is_empty() { format!("\n\n{text}") } else { text.to_string() };
        self.this_round = true;
        AgentEvent::Thinking { text }
    }

    /// Keeps a finished round's thinking.
    fn end_round(&mut self, out: &ChatOutcome) {
        if !out.thinking.trim().is_empty() {
            self.rounds.push(out.thinking.clone());
        }
        self.this_round = false;
    }
}

async fn run_plain(
    client: &Backend,
    req: AnswerRequest,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<AgentOutcome> {
    let chat = round_request(&req, req.messages.clone(), req.options.clone());
    let mut thinking = ThinkingRounds::new();
    let out = ask(client, &chat, &mut thinking, on_event).await?;
    Ok(outcome(out.content.clone(), &req.model, Vec::new(), 1, Mode::Plain, &out, thinking))
}

/// One round whose text all goes to the user as it streams (plain and native), its thinking too.
async fn ask(
    client: &Backend,
    chat: &ChatRequest,
    thinking: &mut ThinkingRounds,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<ChatOutcome> {
    let out = client
        .chat_stream(chat, |p| match p {
            Piece::Thinking(t) => on_event(thinking.piece(t)),
            Piece::Text(t) => on_event(AgentEvent::Delta { text: t.to_string() }),
        })
        .await?;
    thinking.end_round(&out);
    Ok(out)
}

fn outcome(
    answer: String,
    model: &str,
    steps: Vec<Step>,
    rounds: u32,
    mode: Mode,
    last: &ChatOutcome,
    thinking: ThinkingRounds,
) -> AgentOutcome {
    AgentOutcome {
        answer,
        model: model.to_string(),
        steps,
        rounds,
        mode,
        done_reason: last.done_reason.clone(),
        tokens_per_second: last.tokens_per_second,
        thinking: thinking.rounds,
        prompt_tokens: last.prompt_tokens,
        completion_tokens: last.completion_tokens,
    }
}

/// Run a tool, noticing when the model repeats a call it already made (small models loop).
fn run_step(tool: &str, input: &Value, steps: &[Step], clock: &Clock, lang: Lang) -> String {
    if let Some(prev) = steps.iter().find(|s| s.tool == tool && s.input == *input) {
        let nudge = lang.pick(
            "You already called this tool with the same input; use this result and write the Final Answer.",
            "你已经用相同的输入调用过这个工具；请使用这个结果并写出 Final Answer。",
        );
        return format!("{} ({nudge})", prev.observation);
    }
    run_tool(tool, input, &clock()).observation
}

/// What the user gets when the model is still calling tools at the limit.
fn fallback_answer(steps: &[Step], lang: Lang) -> String {
    let n = steps.len();
    match steps.last() {
        Some(s) => match lang {
            Lang::En => format!("I could not finish within {n} tool calls. The last result was: {}", s.observation),
            Lang::Zh => format!("在 {n} 次工具调用内未能完成。最后一次的结果是：{}", s.observation),
        },
        None => lang.pick("I could not find an answer.", "未能得出答案。").to_string(),
    }
}

async fn run_react(
    client: &Backend,
    req: AnswerRequest,
    clock: &Clock,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<AgentOutcome> {
    let tools = time_tools();
    let tool_names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    // The caller's own system prompt (if any) is kept, inside ours: one system message, fixed text.
    let (user_system, rest): (Vec<_>, Vec<_>) = req.messages.iter().cloned().partition(|m| m.role == Role::System);
    let user_system = user_system.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n\n");
    let mut base = vec![Message::system(system_prompt(&tools, Some(user_system.as_str()).filter(|s| !s.is_empty())))];
    base.extend(rest);

    let mut options = req.options.clone();
    options.stop.push(STOP.to_string());
    // The model's earlier steps, only ever appended to (so the server can reuse its prompt cache):
    // one assistant turn it continues, or finished turns (see `Scratchpad`).
    let style = client.scratchpad();
    let mut scratch = String::new();
    let mut turns: Vec<Message> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut rounds = 0;
    let mut limit_told = false;
    let mut thinking = ThinkingRounds::new();
    loop {
        rounds += 1;
        let mut messages = base.clone();
        match style {
            // A trailing assistant message is continued, not closed: the prompt grows by appending.
            Scratchpad::ContinueAssistant if !scratch.is_empty() => messages.push(Message::assistant(scratch.clone())),
            Scratchpad::ContinueAssistant => {}
            Scratchpad::Turns => messages.extend(turns.iter().cloned()),
        }
        let chat = round_request(&req, messages, options.clone());
        let mut streamer = FinalAnswerStreamer::default();
        let out = client
            .chat_stream(&chat, |p| match p {
                Piece::Thinking(t) => on_event(thinking.piece(t)),
                Piece::Text(t) => {
                    for s in streamer.push(t) {
                        on_event(match s {
                            Streamed::Text(text) => AgentEvent::Delta { text },
                            Streamed::Retract => AgentEvent::Retract,
                        });
                    }
                }
            })
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                // The partial answer stays visible, as in a plain chat — unless it was heading for a tool call.
                if !streamer.showed_text() {
                    if let Parsed::Final { answer, .. } = parse_reply_with_tools(&streamer.buf, &tool_names).parsed {
                        if !answer.is_empty() {
                            on_event(AgentEvent::Delta { text: answer });
                        }
                    }
                }
                return Err(e);
            }
        };
        thinking.end_round(&out);
        let parsed = parse_reply_with_tools(&out.content, &tool_names);
        match parsed.parsed {
            Parsed::Final { answer, .. } => {
                // An empty answer (small models do that) is replaced by what is known, never shown blank.
                let answer = if answer.trim().is_empty() { fallback_answer(&steps, req.lang) } else { answer };
                if !streamer.showed_text() {
                    on_event(AgentEvent::Delta { text: answer.clone() });
                }
                return Ok(outcome(answer, &req.model, steps, rounds, Mode::React, &out, thinking));
            }
            Parsed::Action { thought, tool, input } => {
                if streamer.showed_text() {
                    on_event(AgentEvent::Retract); // it was not the answer
                }
                let written = cut_at_observation(&out.content).trim_end();
                if steps.len() as u32 >= req.max_steps {
                    if limit_told {
                        let answer = fallback_answer(&steps, req.lang);
                        on_event(AgentEvent::Delta { text: answer.clone() });
                        return Ok(outcome(answer, &req.model, steps, rounds, Mode::React, &out, thinking));
                    }
                    // One last chance to answer with what is known.
                    limit_told = true;
                    let note = "No more tool calls are allowed. Write the Final Answer now with what you know.";
                    match style {
                        Scratchpad::ContinueAssistant => {
                            scratch.push_str(&format!("{written}\nObservation: {note}\nThought:"))
                        }
                        Scratchpad::Turns => {
                            turns.push(Message::assistant(written));
                            turns.push(Message::user(format!("Observation: {note}")));
                        }
                    }
                    continue;
                }
                let observation = run_step(&tool, &input, &steps, clock, req.lang);
                match style {
                    Scratchpad::ContinueAssistant => {
                        scratch.push_str(&format!("{written}\nObservation: {observation}\n"))
                    }
                    Scratchpad::Turns => {
                        turns.push(Message::assistant(written));
                        turns.push(Message::user(format!("Observation: {observation}\n{CONTINUE}")));
                    }
                }
                let step = Step { thought, tool, input, observation };
                on_event(AgentEvent::Step(step.clone()));
                steps.push(step);
            }
        }
    }
}

/// The model's text up to an observation it wrote itself (never trusted): the parser's rule.
fn cut_at_observation(text: &str) -> &str {
    match parse::hallucinated_observation_at(text) {
        Some(at) => &text[..at],
        None => text,
    }
}

/// Streams a ReAct reply's answer as it is written, holding back what is not for the user:
/// - after a `Final Answer:` label (the parser's rule: any case at the start of a line,
///   capitalised mid-line, or `最终答案：`), everything streams;
/// - a reply that starts as plain prose (no `Thought:`, `Action`, fence or JSON first) streams
///   at once — models often answer directly — until an action shows up in it, when the caller
///   is told to take that text back (`retract`);
/// - anything else waits for the label, or for the parsed answer at the end of the round.
#[derive(Default)]
struct FinalAnswerStreamer {
    buf: String,
    started: bool,
    /// Streaming prose that may yet turn out to precede an action.
    prose: bool,
    /// Bytes of `buf` already emitted in prose mode.
    emitted: usize,
}

enum Streamed {
    Text(String),
    Retract,
}

impl FinalAnswerStreamer {
    const REACT_STARTS: [&'static str; 10] =
        ["thought", "action", "final answer", "```", "{", "[", "question", "思考", "最终", "**"];

    fn push(&mut self, delta: &str) -> Vec<Streamed> {
        if self.started {
            return vec![Streamed::Text(delta.to_string())];
        }
        self.buf.push_str(delta);
        let mut out = Vec::new();
        if let Some(end) = label_end(&self.buf) {
            self.started = true;
            if std::mem::take(&mut self.prose) && self.emitted > 0 {
                out.push(Streamed::Retract); // the prose before the label was a thought after all
            }
            let rest = self.buf[end..].trim_start();
            if !rest.is_empty() {
                out.push(Streamed::Text(rest.to_string()));
            }
            return out;
        }
        if self.prose {
            if looks_like_action(&self.buf) {
                self.prose = false;
                out.push(Streamed::Retract);
            } else if self.buf.len() > self.emitted {
                out.push(Streamed::Text(self.buf[self.emitted..].to_string()));
                self.emitted = self.buf.len();
            }
            return out;
        }
        let head = self.buf.trim_start();
        // Decided as soon as the start cannot grow into a ReAct label: "The…" streams at its first token,
        // "Th…" waits for one more. (Waiting for 16 characters cost two token intervals before the first text.)
        let decided = head.chars().count() >= 16 || head.contains('\n') || !could_start_react(head);
        if self.emitted == 0 && decided && !starts_like_react(head) && !looks_like_action(head) {
            self.prose = true;
            self.emitted = self.buf.len();
            out.push(Streamed::Text(self.buf.clone()));
        }
        out
    }

    /// Whether text of this round reached the user and was not taken back.
    fn showed_text(&self) -> bool {
        self.started || (self.prose && self.emitted > 0)
    }
}

/// Whether `head` is the beginning of a ReAct label (or empty): more text is needed to tell.
fn could_start_react(head: &str) -> bool {
    let lower = head.to_lowercase();
    FinalAnswerStreamer::REACT_STARTS.iter().any(|m| m.starts_with(&lower))
}

fn starts_like_react(head: &str) -> bool {
    let lower = head.to_lowercase();
    FinalAnswerStreamer::REACT_STARTS.iter().any(|m| lower.starts_with(m))
}

/// An action anywhere in the text: an `Action` line, a code fence, or an `"action"` key.
fn looks_like_action(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start().to_lowercase();
        l.starts_with("action") || l.starts_with("```")
    }) || text.contains("\"action\"")
}

/// Where the answer starts after a final-answer label in `text`, if there is one.
fn label_end(text: &str) -> Option<usize> {
    const LABEL: &str = "final answer:";
    let mut offset = 0;
    let mut best: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let lead = line.len() - line.trim_start_matches([' ', '\t', '*']).len();
        let body = &line[lead..];
        if body.len() >= LABEL.len()
            && body.is_char_boundary(LABEL.len())
            && body[..LABEL.len()].eq_ignore_ascii_case(LABEL)
        {
            best = Some(offset + lead + LABEL.len());
            break;
        }
        offset += line.len();
    }
    for label in ["Final Answer:", "FINAL ANSWER:", "最终答案：", "最终答案:"] {
        if let Some(i) = text.find(label) {
            let end = i + label.len();
            best = Some(best.map_or(end, |b| b.min(end)));
        }
    }
    // A bold label ends with `**` after the colon.
    best.map(|b| if text[b..].starts_with("**") { b + 2 } else { b })
}

async fn run_native(
    client: &Backend,
    req: AnswerRequest,
    clock: &Clock,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Result<AgentOutcome> {
    let specs: Vec<Value> = time_tools().iter().map(native_tool).collect();
    let mut messages = req.messages.clone();
    let mut steps: Vec<Step> = Vec::new();
    let mut rounds = 0;
    let mut thinking = ThinkingRounds::new();
    loop {
        rounds += 1;
        let mut chat = round_request(&req, messages.clone(), req.options.clone());
        let at_limit = steps.len() as u32 >= req.max_steps;
        if !at_limit {
            chat.tools = specs.clone();
        }
        let out = ask(client, &chat, &mut thinking, on_event).await?;
        // What the model thought before acting: its words if it wrote any, else its thinking.
        let thought = Some(out.content.trim()).filter(|c| !c.is_empty()).unwrap_or(out.thinking.trim()).to_string();
        let mut assistant = Message::assistant(out.content.clone());
        // Inside the loop the thinking goes back with the call it led to (Ollama's Gemma 4 template keeps it).
        assistant.thinking = Some(out.thinking.clone()).filter(|t| !t.is_empty());
        if out.tool_calls.is_empty() && !at_limit {
            if let Some(raw) = unread_call(&out.content) {
                // Ollama could not parse the call (Gemma 4 writing `key=v`): the model is told and may retry.
                if !out.content.is_empty() {
                    on_event(AgentEvent::Retract);
                }
                let observation = unread_call_note(raw, req.lang);
                messages.push(assistant);
                messages.push(Message::user(observation.clone()));
                let tool = raw_call_name(raw).unwrap_or("?").to_string();
                let step = Step { thought, tool, input: Value::String(raw.to_string()), observation };
                on_event(AgentEvent::Step(step.clone()));
                steps.push(step);
                continue;
            }
        }
        if out.tool_calls.is_empty() || at_limit {
            let answer = if out.content.trim().is_empty() && at_limit {
                let a = fallback_answer(&steps, req.lang);
                on_event(AgentEvent::Delta { text: a.clone() });
                a
            } else {
                out.content.clone()
            };
            return Ok(outcome(answer, &req.model, steps, rounds, Mode::Native, &out, thinking));
        }
        let calls: Vec<ToolCall> =
            out.tool_calls.iter().take((req.max_steps as usize) - steps.len()).cloned().collect();
        assistant.tool_calls = calls.clone();
        messages.push(assistant);
        for call in calls {
            let ToolCallFunction { name, arguments, .. } = call.function;
            let observation = run_step(&name, &arguments, &steps, clock, req.lang);
            // Both the name and the id: Ollama matches a result to its call by `tool_call_id` when there is one.
            let mut tool_msg = Message::new(Role::Tool, observation.clone());
            tool_msg.tool_name = Some(name.clone());
            tool_msg.tool_call_id = call.id;
            messages.push(tool_msg);
            let step = Step { thought: thought.clone(), tool: name, input: arguments, observation };
            on_event(AgentEvent::Step(step.clone()));
            steps.push(step);
        }
    }
}

/// A tool call Ollama could not read, as the round left it: nothing at all (Ollama's Gemma 4 parser drops a call
/// whose arguments it cannot parse, #17882), or the call's raw text as content (`call:get_time{…}`, or its
/// `<|tool_call>` markers, from servers that fall back to text). `None` for an answer.
fn unread_call(content: &str) -> Option<&str> {
    let t = content.trim();
    let raw = t.is_empty() || t.starts_with("call:") || t.contains("<|tool_call>") || t.starts_with("<tool_call>");
    raw.then_some(t)
}

/// The tool named in a raw call's text (`call:NAME{…}`), if it can be made out.
fn raw_call_name(raw: &str) -> Option<&str> {
    let rest = &raw[raw.find("call:")? + "call:".len()..];
    let name = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?;
    (!name.is_empty()).then_some(name)
}

/// What the model is told after a call that could not be read (fixed text, so prompts stay cacheable).
fn unread_call_note(raw: &str, lang: Lang) -> String {
    let seen = if raw.is_empty() { String::new() } else { format!(" ({raw})") };
    match lang {
        Lang::En => format!(
            "Your tool call could not be read{seen}. Call the tool again with its arguments as JSON, for example \
             {{\"timezone\": \"Asia/Tokyo\"}}, or write your answer."
        ),
        Lang::Zh => format!(
            "无法读取你的工具调用{seen}。请用 JSON 形式的参数重新调用工具，例如 {{\"timezone\": \"Asia/Tokyo\"}}，或直接写出回答。"
        ),
    }
}

fn native_tool(t: &ToolSpec) -> Value {
    json!({ "type": "function", "function": { "name": t.name, "description": t.description, "parameters": t.parameters } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_only_after_the_final_answer_label() {
        fn text(v: Vec<Streamed>) -> Option<String> {
            match v.as_slice() {
                [] => None,
                [Streamed::Text(t)] => Some(t.clone()),
                _ => panic!("expected at most one text"),
            }
        }
        let mut s = FinalAnswerStreamer::default();
        assert_eq!(text(s.push("Thought: I can answer now.\nFinal ")), None);
        assert_eq!(text(s.push("Answer: It is")), Some("It is".into()));
        assert_eq!(text(s.push(" Friday.")), Some(" Friday.".into()));
        let mut s = FinalAnswerStreamer::default();
        assert_eq!(text(s.push("Final Answer:")), None);
        assert!(s.started);
        assert_eq!(text(s.push(" 现在是")), Some(" 现在是".into()));
        let mut s = FinalAnswerStreamer::default();
        assert_eq!(text(s.push("Thought: I will give the final answer: soon")), None, "lower case mid-line is prose");
        assert_eq!(text(s.push("\n**Final Answer:** 12:00")), Some("12:00".into()));
        let mut s = FinalAnswerStreamer::default();
        assert_eq!(text(s.push("思考：可以回答了。\n最终答案：星期五")), Some("星期五".into()));
    }

    #[test]
    fn plain_prose_streams_at_once_and_is_taken_back_if_an_action_follows() {
        let mut s = FinalAnswerStreamer::default();
        assert!(matches!(s.push("Hello").as_slice(), [Streamed::Text(t)] if t == "Hello"), "no label starts so");
        assert!(matches!(s.push(" there.").as_slice(), [Streamed::Text(t)] if t == " there."));
        assert!(s.showed_text());
        // A start that may still become a label waits only until it cannot.
        for (first, next, shown) in [
            ("Th", "e time", "The time"),
            ("Act", "ually, no", "Actually, no"),
            ("最", "近", "最近"),
            (" ", "Hi", " Hi"),
        ] {
            let mut s = FinalAnswerStreamer::default();
            assert!(s.push(first).is_empty(), "{first:?} could start a label");
            assert!(matches!(s.push(next).as_slice(), [Streamed::Text(t)] if t == shown), "{first:?} + {next:?}");
        }
        let mut s = FinalAnswerStreamer::default();
        assert!(s.push("Thou").is_empty() && s.push("ght: first").is_empty(), "a Thought is not shown");
        let mut s = FinalAnswerStreamer::default();
        assert!(matches!(s.push("Let me look that up for you.").as_slice(), [Streamed::Text(_)]));
        assert!(matches!(s.push("\nAction: {\"action\": \"weekday\"}").as_slice(), [Streamed::Retract]));
        assert!(s.push(" more").is_empty());
        assert!(!s.showed_text());
        let mut s = FinalAnswerStreamer::default();
        s.push("I think it is late in the day.");
        assert!(
            matches!(s.push("\nFinal Answer: 5 pm").as_slice(), [Streamed::Retract, Streamed::Text(t)] if t == "5 pm")
        );
    }

    #[test]
    fn calls_ollama_could_not_read_are_recognised() {
        assert_eq!(unread_call(""), Some(""));
        assert_eq!(unread_call(" call:get_time{timezone='Asia/Tokyo'} "), Some("call:get_time{timezone='Asia/Tokyo'}"));
        assert_eq!(unread_call("It is 9:30 in Tokyo."), None);
        assert_eq!(raw_call_name("call:get_time{timezone=x}"), Some("get_time"));
        assert_eq!(raw_call_name("<|tool_call>call:weekday{}<tool_call|>"), Some("weekday"));
        assert_eq!(raw_call_name(""), None);
        assert!(unread_call_note("", Lang::Zh).contains("JSON"));
    }

    #[test]
    fn hallucinated_observations_are_cut() {
        assert_eq!(cut_at_observation("Action: x\nObservation: made up\nmore"), "Action: x\n");
        assert_eq!(cut_at_observation("Action: x\n观察：编的"), "Action: x\n");
        assert_eq!(cut_at_observation("no observation here"), "no observation here");
    }
}
