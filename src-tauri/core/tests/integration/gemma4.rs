//! Gemma 4 on today's Ollama, against the emulator speaking it (tests/emulator/GEMMA4-FACTS.md): thinking streams
//! before the answer and is kept beside it, `think` is sent only as the model takes it, native tool calls carry
//! ids that the results answer, a call Ollama could not read becomes an observation, and `/v1` reasoning arrives
//! as thinking. Gemma 3's behaviour is covered, unchanged, by the other modules.

use gemma_desk_core::agent::{AgentEvent, AnswerRequest, Mode};
use gemma_desk_core::chat::{ChatRequest, Piece, Think};
use gemma_desk_core::client::host::parse_host;
use gemma_desk_core::store::Store;
use gemma_desk_core::turn::{Turn, TurnEvent};
use gemma_desk_core::{Backend, Error, Message, OllamaClient, OpenAiClient};
use ollama_emulator::{Emulator, ModelSpec, Reply};
use serde_json::json;

use crate::common::{agent_options, ask, bodies_sent_to, ollama_client, quick_options, run_agent, streamed};

/// The emulator with Gemma 4 e4b installed beside the defaults (gemma3:4b, gemma3:1b, qwen3:0.6b).
fn with_gemma4() -> Emulator {
    let emu = Emulator::start();
    let mut models = ModelSpec::defaults();
    models.push(ModelSpec::gemma4_e4b());
    emu.set_models(models);
    emu
}

fn backend(emu: &Emulator) -> Backend {
    OllamaClient::new(parse_host(&emu.url()).unwrap(), agent_options()).unwrap().into()
}

/// The answer as the user sees it at the end: text taken back by a `Retract` is gone.
fn shown(events: &[AgentEvent]) -> String {
    let (mut text, mut mark) = (String::new(), 0);
    for e in events {
        match e {
            AgentEvent::Delta { text: t } => text.push_str(t),
            AgentEvent::Retract => {
                text.truncate(mark);
                mark = text.len();
            }
            _ => {}
        }
    }
    text
}

fn thinking_of(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Thinking { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn thinking_streams_before_the_answer_and_comes_back_apart_from_it() {
    let emu = with_gemma4();
    emu.push_reply(Reply::text("Paris is the capital.").thinking("The user asks about France. Easy."));
    let mut pieces = Vec::new();
    let out = ollama_client(&emu)
        .chat_stream(&ChatRequest::new("gemma4:e4b", vec![Message::user("Capital of France?")]), |p| {
            pieces.push(match p {
                Piece::Thinking(t) => ("thinking", t.to_string()),
                Piece::Text(t) => ("text", t.to_string()),
            })
        })
        .await
        .unwrap();
    let first_text = pieces.iter().position(|(k, _)| *k == "text").unwrap();
    assert!(first_text > 0 && pieces[..first_text].iter().all(|(k, _)| *k == "thinking"), "{pieces:?}");
    assert_eq!(out.thinking, "The user asks about France. Easy.");
    assert_eq!(out.content, "Paris is the capital.");
    // Auto sends no `think`: the model's default (Gemma 4 thinks).
    assert!(bodies_sent_to(&emu, "/api/chat")[0].get("think").is_none());
}

#[tokio::test]
async fn think_is_sent_as_ollama_takes_it_and_never_truthy_to_a_model_without_thinking() {
    let emu = with_gemma4();
    for (think, sent) in [(Think::Off, json!(false)), (Think::On, json!(true)), (Think::High, json!("high"))] {
        emu.push_reply(Reply::text("ok"));
        let mut req = AnswerRequest::new("gemma4:e4b", vec![Message::user("hi")]);
        req.think = think;
        run_agent(&backend(&emu), req).await.0.unwrap();
        assert_eq!(bodies_sent_to(&emu, "/api/chat").pop().unwrap()["think"], sent, "{think:?}");
    }
    // Gemma 3 does not think: asking it to is refused before anything is sent (the CLI's exit 4) …
    let before = emu.requests_to("/api/chat").len();
    let mut req = AnswerRequest::new("gemma3:4b", vec![Message::user("hi")]);
    req.think = Think::On;
    let e = run_agent(&backend(&emu), req).await.0.unwrap_err();
    assert_eq!(e, Error::ModelUnable { model: "gemma3:4b".into(), what: "think".into() });
    assert_eq!(e.exit_code(), 4);
    assert_eq!(emu.requests_to("/api/chat").len(), before, "nothing sent");
    // … and "off" to it sends nothing at all.
    emu.push_reply(Reply::text("ok"));
    let mut req = AnswerRequest::new("gemma3:4b", vec![Message::user("hi")]);
    req.think = Think::Off;
    run_agent(&backend(&emu), req).await.0.unwrap();
    assert!(bodies_sent_to(&emu, "/api/chat").pop().unwrap().get("think").is_none());
    // A truthy `think` that reaches Ollama anyway (a hand-typed name, a stale list) is the same error.
    let mut req = ChatRequest::new("gemma3:4b", vec![Message::user("hi")]);
    req.think = Think::On;
    let e = ollama_client(&emu).chat(&req, |_| {}).await.unwrap_err();
    assert!(matches!(e, Error::ModelUnable { ref what, .. } if what == "think"), "{e:?}");
}

#[tokio::test]
async fn a_gemma4_time_question_thinks_calls_tools_natively_with_ids_and_answers() {
    let emu = with_gemma4();
    emu.push_reply(Reply::default().thinking("Two zones: Shanghai and New York.").tool_calls(json!([
        {"function": {"name": "current_time", "arguments": {"timezone": "Asia/Shanghai"}}},
        {"function": {"name": "current_time", "arguments": {"timezone": "America/New_York"}}}
    ])));
    emu.push_reply(Reply::text("Shanghai 09:30, New York 21:30.").thinking("Now I can answer."));
    let (r, events) = run_agent(&backend(&emu), ask("gemma4:e4b", "上海和纽约现在几点？", 5)).await;
    let out = r.unwrap();
    assert_eq!(out.mode, Mode::Native);
    assert_eq!(out.steps.len(), 2, "both calls of one turn run");
    assert_eq!(out.steps[0].thought, "Two zones: Shanghai and New York.", "the trace shows the thinking");
    assert_eq!(out.thinking, ["Two zones: Shanghai and New York.", "Now I can answer."]);
    assert_eq!(thinking_of(&events), "Two zones: Shanghai and New York.\n\nNow I can answer.");
    let first_step = events.iter().position(|e| matches!(e, AgentEvent::Step(_))).unwrap();
    assert!(matches!(events[0], AgentEvent::Thinking { .. }) && first_step > 0, "thinking shows before the call");
    assert_eq!(streamed(&events), "Shanghai 09:30, New York 21:30.");

    let b = bodies_sent_to(&emu, "/api/chat");
    let msgs = b[1]["messages"].as_array().unwrap();
    let (assistant, results) = (&msgs[1], &msgs[2..]);
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["thinking"], "Two zones: Shanghai and New York.", "thinking stays in the loop");
    let ids: Vec<&str> =
        assistant["tool_calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(results.len(), 2);
    for (result, id) in results.iter().zip(&ids) {
        assert_eq!(result["role"], "tool");
        assert_eq!(result["tool_name"], "current_time");
        assert_eq!(result["tool_call_id"], *id, "each result answers its call");
    }
    assert!(results[0]["content"].as_str().unwrap().starts_with("2025-03-14 09:30"), "{}", results[0]["content"]);
    assert!(results[1]["content"].as_str().unwrap().starts_with("2025-03-13 21:30"), "{}", results[1]["content"]);
}

#[tokio::test]
async fn a_call_ollama_could_not_read_becomes_an_observation_the_model_retries_from() {
    for as_content in [false, true] {
        let emu = with_gemma4();
        let mangled = Reply::mangled_tool_call("call:current_time{timezone='Asia/Tokyo'}").thinking("Tokyo time.");
        emu.push_reply(if as_content { mangled.mangled_call_as_content() } else { mangled });
        emu.push_reply(Reply::with_tool_calls(
            json!([{"function": {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}}]),
        ));
        emu.push_reply(Reply::text("It is 10:30 in Tokyo."));
        let (r, events) = run_agent(&backend(&emu), ask("gemma4:e4b", "What time is it in Tokyo?", 5)).await;
        let out = r.unwrap();
        assert_eq!(out.answer, "It is 10:30 in Tokyo.", "as content: {as_content}");
        assert_eq!(shown(&events), "It is 10:30 in Tokyo.", "the raw call does not stay in the answer");
        assert_eq!(out.steps.len(), 2);
        assert!(out.steps[0].observation.contains("could not be read"), "{}", out.steps[0].observation);
        let b = bodies_sent_to(&emu, "/api/chat");
        let told = b[1]["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(told["role"], "user", "a note the model reads, not an orphan tool result");
        assert!(told["content"].as_str().unwrap().contains("JSON"));
        if as_content {
            assert_eq!(out.steps[0].tool, "current_time");
        }
    }
}

#[tokio::test]
async fn a_model_that_only_ever_writes_unreadable_calls_ends_at_the_step_limit() {
    let emu = with_gemma4();
    for _ in 0..3 {
        emu.push_reply(Reply::mangled_tool_call("call:current_time{timezone=x}"));
    }
    let (r, _) = run_agent(&backend(&emu), ask("gemma4:e4b", "time?", 2)).await;
    let out = r.unwrap();
    assert_eq!(out.rounds, 3, "two notes, then a last round without tools");
    assert!(!out.answer.is_empty());
}

#[tokio::test]
async fn thinking_is_saved_with_the_answer_and_not_sent_back_in_later_turns() {
    let emu = with_gemma4();
    let backend = Backend::connect(gemma_desk_core::ServerKind::Ollama, Some(&emu.url()), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let request = |history: Vec<Message>| AnswerRequest::new("gemma4:e4b", history);

    emu.push_reply(Reply::text("Hello!").thinking("A greeting."));
    let turn = Turn::send(&store, None, "hi", Vec::new(), "gemma4:e4b").unwrap();
    let mut thought = String::new();
    let saved = turn
        .answer(&backend, request, &mut |e| {
            if let TurnEvent::Agent(AgentEvent::Thinking { text }) = e {
                thought.push_str(&text);
            }
        })
        .await
        .unwrap();
    assert_eq!(thought, "A greeting.");
    assert_eq!(saved.answer.thinking.as_deref(), Some("A greeting."));
    assert_eq!(saved.answer.content, "Hello!", "the answer alone");
    assert_eq!(store.message(saved.answer.id).unwrap().thinking.as_deref(), Some("A greeting."));

    emu.push_reply(Reply::text("Fine.").thinking("Small talk."));
    let conversation = Some(saved.conversation.id);
    let turn = Turn::send(&store, conversation, "how are you?", Vec::new(), "gemma4:e4b").unwrap();
    turn.answer(&backend, request, &mut |_| {}).await.unwrap();
    let sent = bodies_sent_to(&emu, "/api/chat").pop().unwrap();
    let earlier = &sent["messages"][1];
    assert_eq!(earlier["content"], "Hello!");
    assert!(earlier.get("thinking").is_none(), "an earlier turn's thinking stays home: {earlier}");

    // Exports carry it: Markdown as a quoted block, the backup file as a field.
    let md = store.export_markdown(saved.conversation.id, gemma_desk_core::Lang::En).unwrap();
    assert!(md.contains("> **Thinking**") && md.contains("> A greeting."), "{md}");
}

#[tokio::test]
async fn openai_compatible_servers_send_reasoning_and_take_reasoning_effort() {
    let emu = with_gemma4();
    let base = gemma_desk_core::client::openai::base_url(&format!("{}/v1", emu.url())).unwrap();
    let client = OpenAiClient::new(base, None, quick_options()).unwrap();
    emu.push_reply(Reply::text("Paris.").thinking("France's capital."));
    let mut req = ChatRequest::new("gemma4:e4b", vec![Message::user("Capital of France?")]);
    req.think = Think::High;
    let mut thinking = String::new();
    let out = client
        .chat_stream(&req, |p| {
            if let Piece::Thinking(t) = p {
                thinking.push_str(t)
            }
        })
        .await
        .unwrap();
    assert_eq!((thinking.as_str(), out.thinking.as_str()), ("France's capital.", "France's capital."));
    assert_eq!(out.content, "Paris.");
    let body = bodies_sent_to(&emu, "/v1/chat/completions").pop().unwrap();
    assert_eq!(body["reasoning_effort"], "high");
    // Off is `none`, which Ollama reads as `think: false`: no thinking comes back.
    emu.push_reply(Reply::text("Paris.").thinking("France's capital."));
    req.think = Think::Off;
    let out = client.chat(&req, |_| {}).await.unwrap();
    assert_eq!(out.thinking, "");
    assert_eq!(bodies_sent_to(&emu, "/v1/chat/completions").pop().unwrap()["reasoning_effort"], "none");
}
