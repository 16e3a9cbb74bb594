//! The core against a real engine: llama-cpp-python's OpenAI-compatible server running Gemma 3
//! 270M. Ignored by default; `tests/real-engine/run.sh` installs the engine, starts it and runs
//! these with `GEMMA_DESK_REAL_ENGINE_URL` set to its `/v1`.
//!
//! A 270M base model writes odd text: these tests assert structure (streaming, stop sequences,
//! cancel, the loop's bounds), never wording.

use gemma_desk_core::agent::{answer, AgentEvent, AnswerRequest, Mode};
use gemma_desk_core::{Backend, Capability, ChatRequest, Error, Message, OpenAiClient, ServerKind};
use std::time::Duration;

fn backend() -> (Backend, String) {
    let url = std::env::var("GEMMA_DESK_REAL_ENGINE_URL")
        .expect("GEMMA_DESK_REAL_ENGINE_URL is not set: run tests/real-engine/run.sh");
    let client = OpenAiClient::connect(&url, None).expect("a valid URL");
    (Backend::from(client), url)
}

async fn the_model(b: &Backend) -> String {
    let models = b.list_models().await.expect("the engine lists its model");
    models.first().expect("one model served").name.clone()
}

/// Deterministic and short: the engine shares two cores with everything else.
fn short(model: &str, prompt: &str, tokens: i32) -> ChatRequest {
    let mut req = ChatRequest::new(model, vec![Message::user(prompt)]);
    req.options.temperature = Some(0.0);
    req.options.seed = Some(1);
    req.options.num_predict = Some(tokens);
    req
}

#[tokio::test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
async fn lists_the_served_model_with_guessed_capabilities() {
    let (b, url) = backend();
    let s = b.status().await.unwrap();
    assert_eq!(s.kind, ServerKind::OpenAi);
    assert_eq!(s.models.len(), 1, "{:?}", s.models);
    assert!(s.capabilities_guessed, "llama.cpp does not report capabilities");
    assert_eq!(s.version, None, "not Ollama");
    let m = &s.models[0];
    assert!(m.name.contains("270m"), "{}", m.name);
    assert!(m.can(Capability::Completion) && !m.can(Capability::Vision), "270m is text-only: {:?}", m.capabilities);
    // An address that is not the API is said to be so.
    let wrong = Backend::from(OpenAiClient::connect(&url.replace("/v1", "/v2"), None).unwrap());
    assert!(matches!(wrong.list_models().await.unwrap_err(), Error::NotOllama { .. }));
}

#[tokio::test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
async fn a_chat_streams_in_pieces_and_honours_stop_and_length() {
    let (b, _) = backend();
    let model = the_model(&b).await;
    let mut pieces = Vec::new();
    let out =
        b.chat(&short(&model, "Write a long story about a cat.", 24), |d| pieces.push(d.to_string())).await.unwrap();
    assert!(pieces.len() >= 2, "streamed, not in one piece: {pieces:?}");
    assert_eq!(pieces.concat(), out.content);
    assert!(matches!(out.done_reason.as_deref(), Some("stop" | "length")), "{:?}", out.done_reason);
    if let Some(n) = out.completion_tokens {
        assert!(n <= 24, "max_tokens honoured: {n}");
    }
    // A stop sequence ends generation before it is written.
    let mut req = short(&model, "List three fruits, one per line.", 48);
    req.options.stop = vec!["\n".into()];
    let out = b.chat(&req, |_| {}).await.unwrap();
    assert!(!out.content.contains('\n'), "{:?}", out.content);
}

#[tokio::test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
async fn a_stopped_chat_ends_and_the_engine_keeps_serving() {
    let (b, _) = backend();
    let model = the_model(&b).await;
    let log_disconnects = || {
        std::env::var_os("GEMMA_DESK_REAL_ENGINE_LOG")
            .map(|log| std::fs::read_to_string(log).unwrap_or_default().matches("Disconnected from client").count())
            .unwrap_or(0)
    };
    let before = log_disconnects();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let req = short(&model, "Count from one to one thousand in words.", 1500);
    let chat = b.chat(&req, move |d| {
        let _ = tx.send(d.to_string());
    });
    let mut got = 0;
    let stopped = tokio::select! {
        r = chat => panic!("the answer should still be streaming when stopped: {r:?}"),
        _ = async { while rx.recv().await.is_some() { got += 1; if got == 5 { break; } } } => true,
    };
    // Leaving the select dropped the chat: its connection is closed, and the engine notices
    // (llama-cpp-python logs it and stops generating).
    assert!(stopped && got == 5);
    if std::env::var_os("GEMMA_DESK_REAL_ENGINE_LOG").is_some() {
        let start = std::time::Instant::now();
        while log_disconnects() <= before {
            assert!(start.elapsed() < Duration::from_secs(30), "the engine never saw the client go");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let out = tokio::time::timeout(Duration::from_secs(300), b.chat(&short(&model, "Hello", 8), |_| {}))
        .await
        .expect("the engine answers again after a stop")
        .unwrap();
    assert!(out.done_reason.is_some());
}

#[tokio::test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
async fn the_react_loop_ends_within_its_step_limit() {
    let (b, _) = backend();
    let model = the_model(&b).await;
    let mut req = AnswerRequest::new(&model, vec![Message::user("What weekday is 2025-03-14?")]);
    req.tools = true;
    req.max_steps = 2;
    req.options.temperature = Some(0.0);
    req.options.num_predict = Some(64);
    let mut deltas = String::new();
    let mut steps = 0;
    let out = answer(&b, req, &mut |e| match e {
        AgentEvent::Delta { text } => deltas.push_str(&text),
        AgentEvent::Step(_) => steps += 1,
        AgentEvent::Retract => deltas.clear(),
        AgentEvent::Thinking { .. } => {}
    })
    .await
    .unwrap();
    assert_eq!(out.mode, Mode::React, "tools are never assumed for a guessed model");
    assert!(out.steps.len() <= 2 && steps == out.steps.len());
    assert!(out.rounds >= 1 && out.rounds <= 4, "{} rounds", out.rounds);
    assert!(!out.answer.trim().is_empty());
    // Whatever this model wrote, a later round looks like this: the model's step as an assistant
    // turn, the tool's result as a user turn. The engine must take that shape.
    let turns = vec![
        Message::user("What weekday is 2025-03-14?"),
        Message::assistant(
            "Thought: I need the weekday.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```",
        ),
        Message::user("Observation: March 14, 2025 is Friday.\nContinue: write a Thought, then either an Action or the Final Answer."),
    ];
    let mut req = ChatRequest::new(&model, turns);
    req.options.num_predict = Some(16);
    req.options.stop = vec!["Observation".into()];
    let next = b.chat(&req, |_| {}).await.unwrap();
    assert!(next.done_reason.is_some() && !next.content.contains("Observation"), "{next:?}");
}
