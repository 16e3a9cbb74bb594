//! The tool loop against the emulator, with scripted model replies: what is sent each round, how
//! drifting output is handled, limits, errors and cancel.

use gemma_desk_core::agent::{answer_with_clock, AgentEvent, AgentOutcome, AnswerRequest, Mode};
use gemma_desk_core::client::host::parse_host;
use gemma_desk_core::{Backend, Error, OllamaClient};
use ollama_emulator::{Emulator, Reply};
use serde_json::{json, Value};
use std::time::Duration;

use crate::common::{agent_options, ask, bodies_sent_to, clock, run_agent, streamed, WEEKDAY_ACTION};

fn client(emu: &Emulator) -> Backend {
    OllamaClient::new(parse_host(&emu.url()).unwrap(), agent_options()).unwrap().into()
}

async fn run(emu: &Emulator, req: AnswerRequest) -> (Result<AgentOutcome, Error>, Vec<AgentEvent>) {
    run_agent(&client(emu), req).await
}

fn chat_bodies(emu: &Emulator) -> Vec<Value> {
    bodies_sent_to(emu, "/api/chat")
}

#[tokio::test]
async fn react_round_trip_appends_and_never_rewrites() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::chunks(&["Thought: I can answer now.\n", "Final Answer:", " 2025-03-14", " is a Friday."]));
    let (r, events) = run(&emu, ask("gemma3:4b", "2025-03-14 星期几？", 5)).await;
    let out = r.unwrap();
    assert_eq!(out.mode, Mode::React);
    assert_eq!(out.answer, "2025-03-14 is a Friday.");
    assert_eq!(out.rounds, 2);
    assert_eq!(out.steps.len(), 1);
    assert_eq!(out.steps[0].tool, "weekday");
    assert_eq!(out.steps[0].input, json!({"year": 2025, "month": 3, "day": 14}));
    assert_eq!(out.steps[0].observation, "March 14, 2025 is Friday.");
    assert_eq!(out.steps[0].thought, "I need the weekday of that date.");
    // The answer streamed after its label; the thoughts and actions did not.
    assert_eq!(streamed(&events).trim(), "2025-03-14 is a Friday.");
    assert!(matches!(events[0], AgentEvent::Step(_)));

    let bodies = chat_bodies(&emu);
    assert_eq!(bodies.len(), 2);
    for b in &bodies {
        assert!(b.get("tools").is_none(), "gemma3 has no native tools: never send `tools`");
        assert!(b["options"]["stop"].as_array().unwrap().contains(&json!("Observation")));
    }
    let first = bodies[0]["messages"].as_array().unwrap();
    let second = bodies[1]["messages"].as_array().unwrap();
    // Round two is round one plus the assistant's scratchpad: the prefix is byte-identical.
    assert_eq!(&second[..first.len()], &first[..]);
    assert_eq!(second.len(), first.len() + 1);
    assert_eq!(second[first.len()]["role"], "assistant");
    assert_eq!(
        second[first.len()]["content"],
        format!("{}\nObservation: March 14, 2025 is Friday.\n", WEEKDAY_ACTION.trim_end())
    );
    let system = first[0]["content"].as_str().unwrap();
    assert_eq!(first[0]["role"], "system");
    for name in ["current_time", "localtime_to_timestamp", "timestamp_to_localtime", "timezone_conversion", "weekday"] {
        assert!(system.contains(name), "{name} is offered");
    }
    assert_eq!(first[1], json!({"role": "user", "content": "2025-03-14 星期几？"}));
}

#[tokio::test]
async fn the_prompt_is_the_same_text_every_time() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Final Answer: hi"));
    emu.push_reply(Reply::text("Final Answer: hi again"));
    run(&emu, ask("gemma3:4b", "a", 5)).await.0.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // a clock tick must not change it
    run(&emu, ask("gemma3:4b", "a", 5)).await.0.unwrap();
    let b = chat_bodies(&emu);
    assert_eq!(b[0]["messages"][0], b[1]["messages"][0]);
}

#[tokio::test]
async fn drifting_formats_still_run_the_tool() {
    let replies = [
        // Other key names, no fence.
        "Action: {\"action_name\": \"weekday\", \"tool_input\": {\"year\": \"2025\", \"month\": \"3\", \"day\": \"14\"}}",
        // Gemma's tool_code style.
        "```tool_code\nweekday(year=2025, month=3, day=14)\n```",
        // action_input as a JSON string, then text after the blob.
        "Action:\n```json\n{\"action\": \"weekday\", \"action_input\": \"{\\\"year\\\": 2025, \\\"month\\\": 3, \\\"day\\\": 14}\"}\n```\nI will wait for the result.",
        // A hallucinated observation after the action is not trusted.
        "Action:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\nObservation: March 14, 2025 is Saturday.\nFinal Answer: Saturday",
    ];
    for reply in replies {
        let emu = Emulator::start();
        emu.push_reply(Reply::text(reply));
        emu.push_reply(Reply::text("Final Answer: Friday."));
        let (r, _) = run(&emu, ask("gemma3:4b", "weekday?", 5)).await;
        let out = r.unwrap_or_else(|e| panic!("{reply:?}: {e}"));
        assert_eq!(out.steps.len(), 1, "{reply:?}");
        assert_eq!(out.steps[0].observation, "March 14, 2025 is Friday.", "{reply:?}");
        assert_eq!(out.answer, "Friday.", "{reply:?}");
        let scratch = chat_bodies(&emu)[1]["messages"][2]["content"].as_str().unwrap().to_string();
        assert!(!scratch.contains("Saturday"), "the made-up observation is dropped: {scratch}");
    }
}

#[tokio::test]
async fn unknown_tool_and_bad_arguments_get_observations_to_act_on() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Action: {\"action\": \"get_time\", \"action_input\": {}}"));
    emu.push_reply(Reply::text(
        "Action: {\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 13, \"day\": 1}}",
    ));
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::text("Final Answer: Friday."));
    let (r, _) = run(&emu, ask("gemma3:4b", "weekday?", 5)).await;
    let out = r.unwrap();
    assert_eq!(out.steps.len(), 3);
    let unknown = &out.steps[0].observation;
    assert!(
        unknown.starts_with("error: ") && unknown.contains("current_time") && unknown.contains("weekday"),
        "{unknown}"
    );
    assert!(out.steps[1].observation.starts_with("error: "), "{}", out.steps[1].observation);
    assert_eq!(out.steps[2].observation, "March 14, 2025 is Friday.");
    assert_eq!(out.answer, "Friday.");
    assert_eq!(out.rounds, 4);
}

#[tokio::test]
async fn an_endless_tool_loop_ends_at_the_step_limit() {
    let emu = Emulator::start();
    for _ in 0..20 {
        emu.push_reply(Reply::text(WEEKDAY_ACTION));
    }
    let (r, events) = run(&emu, ask("gemma3:4b", "weekday?", 3)).await;
    let out = r.unwrap();
    assert_eq!(out.steps.len(), 3, "never more tool calls than --max-steps");
    assert!(out.rounds <= 5, "rounds {}", out.rounds);
    assert_eq!(chat_bodies(&emu).len() as u32, out.rounds);
    // Repeats are pointed out to the model, and the user gets what is known.
    assert!(out.steps[1].observation.contains("already called"), "{}", out.steps[1].observation);
    assert!(out.answer.contains("March 14, 2025 is Friday."), "{}", out.answer);
    assert_eq!(streamed(&events), out.answer);
}

#[tokio::test]
async fn a_model_that_obeys_the_limit_note_gives_its_own_answer() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::text("Final Answer: It is Friday."));
    let (r, _) = run(&emu, ask("gemma3:4b", "weekday?", 1)).await;
    let out = r.unwrap();
    assert_eq!(out.steps.len(), 1);
    assert_eq!(out.answer, "It is Friday.");
    let last = chat_bodies(&emu).pop().unwrap();
    let scratch = last["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(scratch.contains("No more tool calls are allowed"), "{scratch}");
}

#[tokio::test]
async fn an_error_mid_stream_in_a_later_round_is_reported() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::chunks(&["Final Answer: It", " is"]).error_after(1, "model runner has unexpectedly stopped"));
    let (r, events) = run(&emu, ask("gemma3:4b", "weekday?", 5)).await;
    assert_eq!(r.unwrap_err(), Error::Stream { message: "model runner has unexpectedly stopped".into() });
    assert!(matches!(events[0], AgentEvent::Step(_)), "the step before the error was reported");
}

#[tokio::test]
async fn cancel_mid_loop_closes_the_request() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::chunks(&["Final Answer: "; 100]).delay_ms(50));
    let c = client(&emu);
    let mut steps = 0;
    let mut count_steps = |e| {
        if matches!(e, AgentEvent::Step(_)) {
            steps += 1
        }
    };
    let fut = answer_with_clock(&c, ask("gemma3:4b", "weekday?", 5), &clock, &mut count_steps);
    assert!(tokio::time::timeout(Duration::from_millis(600), fut).await.is_err());
    assert_eq!(steps, 1);
    let start = std::time::Instant::now();
    while !emu.requests_to("/api/chat").get(1).is_some_and(|r| r.client_disconnected) {
        assert!(start.elapsed() < Duration::from_secs(5), "round two was not cancelled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_model_with_native_tools_uses_them() {
    let emu = Emulator::start();
    emu.push_reply(
        Reply::default()
            .tool_calls(json!([{"function": {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}}])),
    );
    emu.push_reply(Reply::text("It is 10:30 in Tokyo."));
    let (r, events) = run(&emu, ask("qwen3:0.6b", "What time is it in Tokyo?", 5)).await;
    let out = r.unwrap();
    assert_eq!(out.mode, Mode::Native);
    assert_eq!(out.answer, "It is 10:30 in Tokyo.");
    assert_eq!(out.steps.len(), 1);
    assert!(out.steps[0].observation.starts_with("2025-03-14 10:30:00"), "{}", out.steps[0].observation);
    assert_eq!(streamed(&events), "It is 10:30 in Tokyo.");
    let b = chat_bodies(&emu);
    let tools = b[0]["tools"].as_array().expect("native tools sent");
    assert_eq!(tools.len(), 5);
    assert_eq!(tools[0]["type"], "function");
    assert!(b[0]["options"].get("stop").is_none(), "no ReAct stop sequence in native mode");
    let msgs = b[1]["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(msgs[1]["tool_calls"][0]["function"]["name"], "current_time");
    assert_eq!(msgs[2]["role"], "tool");
    assert_eq!(msgs[2]["tool_name"], "current_time");
    assert_eq!(msgs[2]["content"], out.steps[0].observation);
}

#[tokio::test]
async fn tools_off_is_a_plain_chat() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Plain ", "answer"]));
    let mut req = ask("gemma3:4b", "hi", 5);
    req.tools = false;
    let (r, events) = run(&emu, req).await;
    let out = r.unwrap();
    assert_eq!((out.mode, out.answer.as_str(), out.rounds), (Mode::Plain, "Plain answer", 1));
    assert_eq!(streamed(&events), "Plain answer");
    let b = &chat_bodies(&emu)[0];
    assert_eq!(b["messages"], json!([{"role": "user", "content": "hi"}]));
    assert!(b.get("tools").is_none() && b.get("options").is_none());
    assert!(emu.requests_to("/api/show").is_empty());
}

#[tokio::test]
async fn a_short_partial_answer_survives_an_error() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Partial ", "answer"]).error_after(2, "boom"));
    let (r, events) = run(&emu, ask("gemma3:4b", "hi", 5)).await;
    assert!(r.is_err());
    assert_eq!(streamed(&events), "Partial answer");
}

#[tokio::test]
async fn a_photo_and_a_time_question_meet_in_one_turn() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::text("Final Answer: A cat, photographed on a Friday."));
    // A 1×1 PNG, as the image module would prepare it.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let mut req = ask("gemma3:4b", "What is in the photo, and what weekday was 2025-03-14?", 5);
    req.messages[0].images = vec![png.into()];
    let (r, _) = run(&emu, req).await;
    assert_eq!(r.unwrap().answer, "A cat, photographed on a Friday.");
    for body in chat_bodies(&emu) {
        let user = body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "user").unwrap().clone();
        assert_eq!(user["images"], json!([png]), "the photo goes with every round");
    }
}
