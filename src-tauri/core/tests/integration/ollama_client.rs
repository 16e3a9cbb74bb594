//! The core's Ollama client against the emulator: what it sends, and how it reads every kind of
//! answer Ollama gives.

use gemma_desk_core::client::host::parse_host;
use gemma_desk_core::{Capability, ChatRequest, ClientOptions, Error, Message, OllamaClient};
use ollama_emulator::{Emulator, Reply};
use std::time::Duration;

use crate::common::ollama_client;

fn hi(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

#[tokio::test]
async fn status_reports_version_and_models_with_capabilities() {
    let emu = Emulator::start();
    emu.set_version("0.9.1");
    let s = ollama_client(&emu).status().await.unwrap();
    assert_eq!(s.version, "0.9.1");
    assert_eq!(s.host, emu.url());
    let g = s.models.iter().find(|m| m.name == "gemma3:4b").unwrap();
    assert!(g.can(Capability::Vision) && g.can(Capability::Completion) && !g.can(Capability::Tools));
    assert_eq!(g.vision_image_size, Some(896));
    assert_eq!(g.context_length, Some(131072));
    assert_eq!(g.family.as_deref(), Some("gemma3"));
    let small = s.models.iter().find(|m| m.name == "gemma3:1b").unwrap();
    assert!(!small.can(Capability::Vision));
    assert_eq!(small.vision_image_size, None);
    // One /api/show per model, and never an Origin header.
    assert_eq!(emu.requests_to("/api/show").len(), s.models.len());
    assert!(emu.requests().iter().all(|r| !r.headers.contains_key("origin")));
}

#[tokio::test]
async fn chat_streams_deltas_in_order_and_returns_the_whole_answer() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Gem", "ma ", "3", " here"]).delay_ms(20));
    let mut seen = Vec::new();
    let out = ollama_client(&emu).chat(&hi("gemma3:4b"), |d| seen.push(d.to_string())).await.unwrap();
    assert_eq!(seen, ["Gem", "ma ", "3", " here"]);
    assert_eq!(out.content, "Gemma 3 here");
    assert_eq!(out.done_reason.as_deref(), Some("stop"));
    assert_eq!(out.model, "gemma3:4b");
}

#[tokio::test]
async fn multi_turn_context_and_options_are_sent_as_given() {
    let emu = Emulator::start();
    let mut req = ChatRequest::new(
        "gemma3:1b",
        vec![Message::system("Be brief."), Message::user("a"), Message::assistant("b"), Message::user("c")],
    );
    req.options.temperature = Some(0.2);
    req.keep_alive = Some("10m".into());
    ollama_client(&emu).chat(&req, |_| {}).await.unwrap();
    let body = &emu.requests_to("/api/chat")[0].body;
    assert_eq!(body["messages"].as_array().unwrap().len(), 4);
    assert_eq!(body["messages"][2], serde_json::json!({"role": "assistant", "content": "b"}));
    assert_eq!(body["options"], serde_json::json!({"temperature": 0.2f32}));
    assert_eq!(body["keep_alive"], "10m");
}

#[tokio::test]
async fn an_unset_option_is_not_sent() {
    let emu = Emulator::start();
    ollama_client(&emu).chat(&hi("gemma3:1b"), |_| {}).await.unwrap();
    let body = &emu.requests_to("/api/chat")[0].body;
    assert!(body.get("options").is_none() && body.get("keep_alive").is_none(), "{body}");
}

#[tokio::test]
async fn http_errors_map_to_what_they_mean() {
    let emu = Emulator::start();
    let c = ollama_client(&emu);
    let e = c.chat(&hi("nope:1b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::ModelNotFound { model: "nope:1b".into() });

    emu.push_reply(Reply::default().status(503, "server busy, please try again.  maximum pending requests exceeded"));
    assert!(matches!(c.chat(&hi("gemma3:4b"), |_| {}).await, Err(Error::Busy { .. })));

    emu.push_reply(Reply::default().status(500, "model runner has unexpectedly stopped"));
    let e = c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::Server { status: 500, message: "model runner has unexpectedly stopped".into() });

    emu.push_reply(Reply::default().status(400, "invalid options: foo"));
    let e = c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::Server { status: 400, message: "invalid options: foo".into() });
}

#[tokio::test]
async fn images_to_a_text_only_model_are_understood_from_ollamas_500() {
    let emu = Emulator::start();
    let mut req = hi("gemma3:1b");
    // A 1×1 PNG.
    req.messages[0].images =
        vec!["iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into()];
    let e = ollama_client(&emu).chat(&req, |_| {}).await.unwrap_err();
    assert_eq!(e, Error::ModelUnable { model: "gemma3:1b".into(), what: "see images".into() });
}

#[tokio::test]
async fn an_error_line_inside_a_stream_ends_it_after_the_partial_text() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["one ", "two"]).error_after(1, "an error was encountered while running the model"));
    let mut got = String::new();
    let e = ollama_client(&emu).chat(&hi("gemma3:4b"), |d| got.push_str(d)).await.unwrap_err();
    assert_eq!(got, "one ");
    assert_eq!(e, Error::Stream { message: "an error was encountered while running the model".into() });
}

#[tokio::test]
async fn a_cut_connection_is_not_an_answer() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["a", "b", "c"]).delay_ms(30).cut_after(2));
    let mut got = String::new();
    let e = ollama_client(&emu).chat(&hi("gemma3:4b"), |d| got.push_str(d)).await.unwrap_err();
    assert_eq!((got.as_str(), e), ("ab", Error::ConnectionCut));
}

#[tokio::test]
async fn a_stalled_stream_times_out() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["a", "b"]).stall_after(1));
    let started = std::time::Instant::now();
    let e = ollama_client(&emu).chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::Stalled { secs: 1 });
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn dropping_the_chat_closes_the_connection() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["x"; 100]).delay_ms(50));
    let c = ollama_client(&emu);
    let req = hi("gemma3:4b");
    let mut n = 0;
    let r = tokio::time::timeout(Duration::from_millis(400), c.chat(&req, |_| n += 1)).await;
    assert!(r.is_err(), "still streaming when cancelled");
    assert!(n > 0 && n < 100);
    // Ollama learns of a cancel only through the closed connection.
    let start = std::time::Instant::now();
    while !emu.requests_to("/api/chat")[0].client_disconnected {
        assert!(start.elapsed() < Duration::from_secs(5), "the emulator never saw the client go");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = OllamaClient::new(parse_host(&format!("127.0.0.1:{port}")).unwrap(), ClientOptions::default()).unwrap();
    match c.status().await {
        Err(Error::Unreachable { host, .. }) => assert_eq!(host, format!("http://127.0.0.1:{port}")),
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_is_not_ollama_is_named_so() {
    let emu = Emulator::start();
    // Right server, wrong base path: Go's plain-text 404.
    let c =
        OllamaClient::new(parse_host(&format!("{}/not-here", emu.url())).unwrap(), ClientOptions::default()).unwrap();
    assert!(matches!(c.status().await, Err(Error::NotOllama { .. })));
}

#[tokio::test]
async fn resolve_model_checks_before_anything_is_sent() {
    let emu = Emulator::start();
    let c = ollama_client(&emu);
    assert_eq!(c.resolve_model(None, &[]).await.unwrap(), "gemma3:4b");
    assert_eq!(c.resolve_model(None, &[Capability::Vision]).await.unwrap(), "gemma3:4b");
    assert_eq!(c.resolve_model(Some("qwen3:0.6b"), &[Capability::Tools]).await.unwrap(), "qwen3:0.6b");
    let e = c.resolve_model(Some("gemma3:1b"), &[Capability::Vision]).await.unwrap_err();
    assert_eq!(e, Error::ModelUnable { model: "gemma3:1b".into(), what: "see images".into() });
    let e = c.resolve_model(Some("missing:7b"), &[Capability::Vision]).await.unwrap_err();
    assert_eq!(e, Error::ModelNotFound { model: "missing:7b".into() });
    emu.set_models(vec![ollama_emulator::ModelSpec::gemma3_1b()]);
    let e = c.resolve_model(None, &[Capability::Vision]).await.unwrap_err();
    assert_eq!(e, Error::NoSuitableModel { what: "see images".into() });
    assert!(emu.requests_to("/api/chat").is_empty());
}
