//! The tool loop over an OpenAI-compatible server (the emulator's `/v1`): ReAct with the
//! scratchpad as finished turns, native tools with OpenAI's ids, and a loop that ends within its
//! limit whatever the model writes.

use gemma_desk_core::agent::{AgentEvent, AgentOutcome, AnswerRequest, Mode};
use gemma_desk_core::client::openai::base_url;
use gemma_desk_core::{Backend, Error, OpenAiClient};
use ollama_emulator::{Emulator, Reply};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::{agent_options, ask, bodies_sent_to, run_agent, streamed, WEEKDAY_ACTION};

fn backend(emu: &Emulator) -> Backend {
    OpenAiClient::new(base_url(&format!("{}/v1", emu.url())).unwrap(), None, agent_options()).unwrap().into()
}

async fn run(emu: &Emulator, req: AnswerRequest) -> (Result<AgentOutcome, Error>, Vec<AgentEvent>) {
    run_agent(&backend(emu), req).await
}

fn chat_bodies(emu: &Emulator) -> Vec<Value> {
    bodies_sent_to(emu, "/v1/chat/completions")
}

#[tokio::test]
async fn react_hands_over_steps_as_finished_turns() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(WEEKDAY_ACTION));
    emu.push_reply(Reply::chunks(&["Thought: I can answer now.\n", "Final Answer:", " a Friday."]));
    let (r, events) = run(&emu, ask("gemma3:4b", "What weekday is 2025-03-14?", 5)).await;
    let out = r.unwrap();
    assert_eq!((out.mode, out.rounds, out.steps.len()), (Mode::React, 2, 1));
    assert_eq!(out.answer, "a Friday.");
    assert!(out.steps[0].observation.contains("Friday"), "{:?}", out.steps[0]);
    assert!(events.iter().any(|e| matches!(e, AgentEvent::Step(_))));
    let bodies = chat_bodies(&emu);
    assert_eq!(bodies.len(), 2);
    for b in &bodies {
        assert!(b["stop"].as_array().unwrap().contains(&json!("Observation")), "{b}");
        assert!(b.get("tools").is_none(), "gemma3 gets no native tools");
    }
    let first = bodies[0]["messages"].as_array().unwrap();
    let second = bodies[1]["messages"].as_array().unwrap();
    // Append-only: the second request starts with the first one's messages.
    assert_eq!(&second[..first.len()], &first[..]);
    let roles: Vec<_> = second.iter().map(|m| m["role"].as_str().unwrap()).collect();
    // Gemma has no system role: the instructions open the first user turn. And no trailing
    // assistant turn is left to continue.
    assert_eq!(roles, ["user", "assistant", "user"]);
    let first_user = second[0]["content"].as_str().unwrap();
    assert!(first_user.contains("Final Answer:") && first_user.ends_with("What weekday is 2025-03-14?"));
    assert!(second[1]["content"].as_str().unwrap().contains("\"action\": \"weekday\""));
    let obs = second[2]["content"].as_str().unwrap();
    assert!(obs.starts_with("Observation: ") && obs.contains("Friday") && obs.contains("Final Answer"), "{obs}");
}

#[tokio::test]
async fn native_tools_carry_openai_ids_from_call_to_result() {
    let emu = Emulator::start();
    emu.push_reply(Reply::with_tool_calls(
        json!([{"function": {"name": "weekday", "arguments": {"year": 2025, "month": 3, "day": 14}}}]),
    ));
    emu.push_reply(Reply::text("It is a Friday."));
    let (r, _) = run(&emu, ask("qwen3:0.6b", "What weekday is 2025-03-14?", 5)).await;
    let out = r.unwrap();
    assert_eq!((out.mode, out.steps.len(), out.answer.as_str()), (Mode::Native, 1, "It is a Friday."));
    let bodies = chat_bodies(&emu);
    assert_eq!(bodies[0]["tools"].as_array().unwrap().len(), 5);
    let msgs = bodies[1]["messages"].as_array().unwrap();
    let call = &msgs[1]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "weekday");
    assert_eq!(serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap()["day"], 14);
    assert_eq!(msgs[2]["role"], "tool");
    assert_eq!(msgs[2]["tool_call_id"], call["id"]);
    assert!(msgs[2]["content"].as_str().unwrap().contains("Friday"));
}

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_is_stopped_at_the_limit() {
    let emu = Emulator::start();
    for _ in 0..10 {
        emu.push_reply(Reply::text(WEEKDAY_ACTION));
    }
    let (r, events) = run(&emu, ask("gemma3:4b", "weekday?", 3)).await;
    let out = r.unwrap();
    assert_eq!((out.steps.len(), out.rounds), (3, 5), "3 steps, one more chance, then the fallback");
    assert!(out.answer.contains("3 tool calls"), "{}", out.answer);
    assert_eq!(chat_bodies(&emu).len(), 5);
    assert!(streamed(&events).contains(&out.answer));
}

/// Pieces a small model might write, in any order and number.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(WEEKDAY_ACTION.to_string()),
        Just("Action: {\"action\": \"current_time\", \"action_input\": {}}\n".to_string()),
        Just("Action: {\"action\": \"no_such_tool\"}\n".to_string()),
        Just("Observation: I made this up\n".to_string()),
        Just("Thought: hmm\n".to_string()),
        Just("Final Answer: done\n".to_string()),
        Just("```json\n{\"action\": \"weekday\", \"action_input\": \"tomorrow\"}\n```\n".to_string()),
        Just(String::new()),
        "[ -~\\n]{0,40}",
        "\\PC{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_loop_ends_within_its_limit_whatever_the_model_writes(
        replies in prop::collection::vec(prop::collection::vec(piece(), 0..4), 1..9),
        max_steps in 0u32..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let emu = Emulator::start();
        for r in &replies {
            emu.push_reply(Reply::chunks(&r.iter().map(String::as_str).collect::<Vec<_>>()));
        }
        let (r, _) = rt.block_on(run(&emu, ask("gemma3:4b", "What time is it?", max_steps)));
        let out = r.unwrap();
        prop_assert!(out.steps.len() as u32 <= max_steps);
        prop_assert!(out.rounds <= max_steps + 2, "{} rounds", out.rounds);
        prop_assert_eq!(chat_bodies(&emu).len() as u32, out.rounds);
        prop_assert!(!out.answer.trim().is_empty(), "never a blank answer");
    }
}
