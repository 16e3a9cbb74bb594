//! The OpenAI-compatible client: against the emulator's `/v1` (Ollama behind its OpenAI-compatible
//! API) for what Ollama sends, and against a small scripted server for what other servers
//! (llama.cpp, vLLM, LM Studio) send that Ollama does not.

use gemma_desk_core::client::openai::base_url;
use gemma_desk_core::{Backend, Capability, ChatRequest, Error, Message, OpenAiClient, ServerKind};
use ollama_emulator::{Emulator, Reply, DEFAULT_VERSION};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{bodies_sent_to, quick_options};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn client_at(url: &str, key: Option<&str>) -> OpenAiClient {
    OpenAiClient::new(base_url(url).unwrap(), key, quick_options()).unwrap()
}

fn client(emu: &Emulator) -> OpenAiClient {
    client_at(&format!("{}/v1", emu.url()), None)
}

fn hi(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

fn chat_bodies(emu: &Emulator) -> Vec<Value> {
    bodies_sent_to(emu, "/v1/chat/completions")
}

#[tokio::test]
async fn ollama_behind_v1_reports_its_models_capabilities() {
    let emu = Emulator::start();
    let backend = Backend::from(client(&emu));
    let s = backend.status().await.unwrap();
    assert_eq!(s.kind, ServerKind::OpenAi);
    assert_eq!(s.host, format!("{}/v1", emu.url()));
    assert_eq!(s.version.as_deref(), Some(DEFAULT_VERSION));
    assert!(!s.capabilities_guessed && !s.insecure);
    let names: Vec<_> = s.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["gemma3:4b", "gemma3:1b", "qwen3:0.6b"]);
    let g = &s.models[0];
    assert!(g.can(Capability::Vision) && !g.can(Capability::Tools));
    assert_eq!(g.vision_image_size, Some(896));
    assert!(!s.models[1].can(Capability::Vision));
    assert!(s.models[2].can(Capability::Tools));
    assert_eq!(emu.requests_to("/v1/models").len(), 1);
    assert_eq!(emu.requests_to("/api/show").len(), 3);
    assert!(backend.supports_native_tools("qwen3:0.6b").await.unwrap());
    assert!(!backend.supports_native_tools("gemma3:4b").await.unwrap());
    assert_eq!(backend.vision_image_size("gemma3:4b").await, Some(896));
}

#[tokio::test]
async fn chat_streams_sse_deltas_and_sends_only_what_the_api_has() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Gem", "ma ", "3", " here"]).delay_ms(10));
    let mut req = ChatRequest::new("gemma3:4b", vec![Message::system("Be brief."), Message::user("a")]);
    req.options.temperature = Some(0.2);
    req.options.seed = Some(7);
    req.options.num_predict = Some(64);
    req.options.num_ctx = Some(8192);
    req.options.stop = vec!["Observation".into()];
    req.keep_alive = Some("5m".into());
    let mut seen = Vec::new();
    let out = client(&emu).chat(&req, |d| seen.push(d.to_string())).await.unwrap();
    assert_eq!(seen, ["Gem", "ma ", "3", " here"]);
    assert_eq!(out.content, "Gemma 3 here");
    assert_eq!(out.done_reason.as_deref(), Some("stop"));
    assert!(out.prompt_tokens.is_some() && out.completion_tokens.is_some(), "usage from the last chunk: {out:?}");
    let body = &chat_bodies(&emu)[0];
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    // Gemma has no system role: the system text opens the first user turn, as its template does.
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Be brief.\n\na"}]));
    assert_eq!((body["max_tokens"].as_i64(), body["seed"].as_i64()), (Some(64), Some(7)));
    assert_eq!(body["stop"], json!(["Observation"]));
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    // Not part of this API: never sent.
    for absent in ["options", "num_ctx", "keep_alive", "tools"] {
        assert!(body.get(absent).is_none(), "{absent} sent: {body}");
    }
    assert!(emu.requests_to("/v1/chat/completions")[0].header("authorization").is_none());
}

#[tokio::test]
async fn images_go_as_data_uris_and_a_blind_model_is_caught() {
    let emu = Emulator::start();
    let c = client(&emu);
    let mut msg = Message::user("What is this?");
    msg.images = vec![PNG.into()];
    let out = c.chat(&ChatRequest::new("gemma3:4b", vec![msg.clone()]), |_| {}).await.unwrap();
    assert!(!out.content.is_empty());
    let content = &chat_bodies(&emu)[0]["messages"][0]["content"];
    assert_eq!(content[0]["image_url"]["url"], format!("data:image/png;base64,{PNG}"));
    assert_eq!(content[1], json!({"type": "text", "text": "What is this?"}));
    // Ollama says which models see: a text-only one is refused before anything is sent…
    let e = c.resolve_model(Some("gemma3:1b"), &[Capability::Vision]).await.unwrap_err();
    assert_eq!(e, Error::ModelUnable { model: "gemma3:1b".into(), what: "see images".into() });
    assert_eq!(c.resolve_model(None, &[Capability::Vision]).await.unwrap(), "gemma3:4b");
    // …and the server's own refusal means the same.
    let e = c.chat(&ChatRequest::new("gemma3:1b", vec![msg]), |_| {}).await.unwrap_err();
    assert!(matches!(e, Error::ModelUnable { .. }), "{e:?}");
}

#[tokio::test]
async fn http_errors_in_openai_shape_are_mapped() {
    let emu = Emulator::start();
    let c = client(&emu);
    let e = c.chat(&hi("nope:1b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::ModelNotFound { model: "nope:1b".into() });
    emu.push_reply(Reply::default().status(503, "server busy, please try again.  maximum pending requests exceeded"));
    assert!(matches!(c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err(), Error::Busy { .. }));
    emu.push_reply(Reply::default().status(500, "model runner has unexpectedly stopped"));
    let e = c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err();
    assert_eq!(e, Error::Server { status: 500, message: "model runner has unexpectedly stopped".into() });
    // A base URL that is not the API at all.
    let e = client_at(&format!("{}/nope", emu.url()), None).model_ids().await.unwrap_err();
    assert!(matches!(e, Error::NotOllama { .. }), "{e:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let e = client_at(&format!("http://{closed}/v1"), None).model_ids().await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
}

#[tokio::test]
async fn stream_failures_keep_what_arrived_and_say_what_happened() {
    let emu = Emulator::start();
    let c = client(&emu);
    let mut seen = String::new();
    emu.push_reply(Reply::chunks(&["one ", "two ", "three"]).error_after(2, "out of memory"));
    let e = c.chat(&hi("gemma3:4b"), |d| seen.push_str(d)).await.unwrap_err();
    assert_eq!(e, Error::Stream { message: "out of memory".into() });
    assert_eq!(seen, "one two ");
    emu.push_reply(Reply::chunks(&["one ", "two"]).cut_after(1));
    assert_eq!(c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err(), Error::ConnectionCut);
    emu.push_reply(Reply::chunks(&["one ", "two"]).stall_after(1));
    assert!(matches!(c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err(), Error::Stalled { .. }));
    emu.push_reply(Reply::text("late").first_byte_delay_ms(5_000));
    assert!(matches!(c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap_err(), Error::Stalled { .. }));
}

#[tokio::test]
async fn the_api_key_goes_as_a_bearer_token() {
    let emu = Emulator::start();
    emu.set_api_key(Some("sk-test".into()));
    let e = client(&emu).model_ids().await.unwrap_err();
    assert_eq!(e, Error::Server { status: 401, message: "Incorrect API key provided".into() });
    assert!(ServerKind::OpenAi.hint(&e, gemma_desk_core::Lang::En).unwrap().contains("API key"));
    let c = client_at(&format!("{}/v1", emu.url()), Some("sk-test"));
    assert_eq!(c.list_models().await.unwrap().len(), 3);
    c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap();
    let with_key = &emu.requests()[1..]; // the first went without
    assert!(with_key.len() >= 3);
    for r in with_key {
        assert_eq!(r.header("authorization"), Some("Bearer sk-test"), "{}", r.path);
    }
    assert!(OpenAiClient::new(base_url("h").unwrap(), Some("bad\nkey"), quick_options()).is_err());
}

#[tokio::test]
async fn dropping_the_chat_closes_the_connection_and_the_server_keeps_serving() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["tick "; 200]).delay_ms(20));
    let c = client(&emu);
    let mut n = 0;
    let r = tokio::time::timeout(Duration::from_millis(300), c.chat(&hi("gemma3:4b"), |_| n += 1)).await;
    assert!(r.is_err(), "still streaming when cancelled");
    assert!(n > 0 && n < 200);
    let start = std::time::Instant::now();
    while !emu.requests_to("/v1/chat/completions")[0].client_disconnected {
        assert!(start.elapsed() < Duration::from_secs(5), "the server never saw the client go");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emu.push_reply(Reply::text("still here"));
    assert_eq!(c.chat(&hi("gemma3:4b"), |_| {}).await.unwrap().content, "still here");
}

#[tokio::test]
async fn native_tool_calls_come_back_parsed() {
    let emu = Emulator::start();
    emu.push_reply(Reply::with_tool_calls(
        json!([{"function": {"name": "weekday", "arguments": {"year": 2025, "month": 3, "day": 14}}}]),
    ));
    let mut req = hi("qwen3:0.6b");
    req.tools = vec![json!({"type": "function", "function": {"name": "weekday", "parameters": {"type": "object"}}})];
    let out = client(&emu).chat(&req, |_| {}).await.unwrap();
    assert_eq!(out.done_reason.as_deref(), Some("tool_calls"));
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].function.name, "weekday");
    assert_eq!(out.tool_calls[0].function.arguments, json!({"year": 2025, "month": 3, "day": 14}));
    assert_eq!(chat_bodies(&emu)[0]["tools"][0]["function"]["name"], "weekday");
}

/// A server that is not Ollama: it answers each path with a scripted raw body and 404 otherwise,
/// and records the paths asked for.
struct Scripted {
    url: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn start(routes: Vec<(&'static str, &'static str, String)>) -> Scripted {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = paths.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                seen.lock().unwrap().push(path.clone());
                let (status, ctype, body) = match routes.iter().find(|(p, _, _)| *p == path) {
                    Some((_, ctype, body)) => ("200 OK", *ctype, body.clone()),
                    None => ("404 Not Found", "application/json", r#"{"detail":"Not Found"}"#.to_string()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
            }
        });
        Scripted { url, paths }
    }
}

const MODELS: &str = r#"{"object":"list","data":[{"id":"/models/gemma-3-1b-it-Q4_K_M.gguf","object":"model"},{"id":"google/gemma-3-4b-it","object":"model"}]}"#;

fn sse(events: &[&str]) -> String {
    // CRLF line ends, as some servers send them.
    events.iter().map(|e| format!("data: {e}\r\n\r\n")).collect()
}

#[tokio::test]
async fn other_servers_get_capabilities_guessed_from_names() {
    let server = Scripted::start(vec![("/v1/models", "application/json", MODELS.into())]);
    let c = client_at(&server.url, None);
    let backend = Backend::from(c.clone());
    let s = backend.status().await.unwrap();
    assert!(s.capabilities_guessed && s.version.is_none());
    assert!(!s.models[0].can(Capability::Vision) && s.models[1].can(Capability::Vision));
    assert_eq!(s.models[1].family.as_deref(), Some("gemma3"));
    assert!(server.paths.lock().unwrap().contains(&"/api/version".to_string()), "asked whether it is Ollama");
    // The best guess is chosen; a guess never blocks a model the user named.
    assert_eq!(c.resolve_model(None, &[Capability::Vision]).await.unwrap(), "google/gemma-3-4b-it");
    let named = c.resolve_model(Some("/models/gemma-3-1b-it-Q4_K_M.gguf"), &[Capability::Vision]).await;
    assert_eq!(named.unwrap(), "/models/gemma-3-1b-it-Q4_K_M.gguf");
    assert!(!backend.supports_native_tools("google/gemma-3-4b-it").await.unwrap(), "tools are never guessed");
    // What the user sets wins.
    let set =
        c.with_capability_overrides([("google/gemma-3-4b-it".to_string(), vec!["completion".to_string()])].into());
    let e = set.resolve_model(Some("google/gemma-3-4b-it"), &[Capability::Vision]).await.unwrap_err();
    assert!(matches!(e, Error::ModelUnable { .. }));
}

#[tokio::test]
async fn pieces_other_servers_send_are_understood() {
    let stream = sse(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"Let me check."},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"weekday","arguments":"{\"year\": 2025, "}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"month\": 3, \"day\": 14}"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"timings":{"predicted_per_second":42.5}}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9}}"#,
        "[DONE]",
    ]);
    let no_done = sse(&[r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#]);
    let cut = sse(&[r#"{"choices":[{"index":0,"delta":{"content":"par"},"finish_reason":null}]}"#]);
    let whole = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"all at once"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#;
    let server = Scripted::start(vec![
        ("/a/v1/chat/completions", "text/event-stream", stream),
        ("/b/v1/chat/completions", "text/event-stream", no_done),
        ("/c/v1/chat/completions", "text/event-stream", cut),
        ("/d/v1/chat/completions", "application/json", whole.into()),
    ]);
    let at = |p: &str| client_at(&format!("{}/{p}/v1", server.url), None);
    let mut seen = String::new();
    let out = at("a").chat(&hi("m"), |d| seen.push_str(d)).await.unwrap();
    assert_eq!(seen, "Let me check.");
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].function.arguments, json!({"year": 2025, "month": 3, "day": 14}));
    assert_eq!(out.done_reason.as_deref(), Some("tool_calls"));
    assert_eq!((out.prompt_tokens, out.completion_tokens), (Some(12), Some(9)));
    assert_eq!(out.tokens_per_second, Some(42.5));
    // A finish reason without `[DONE]` is a complete answer; neither is a cut.
    assert_eq!(at("b").chat(&hi("m"), |_| {}).await.unwrap().content, "ok");
    assert_eq!(at("c").chat(&hi("m"), |_| {}).await.unwrap_err(), Error::ConnectionCut);
    // A server that ignores `stream: true`.
    let mut seen = String::new();
    let out = at("d").chat(&hi("m"), |d| seen.push_str(d)).await.unwrap();
    assert_eq!((out.content.as_str(), seen.as_str()), ("all at once", "all at once"));
    assert_eq!(out.completion_tokens, Some(4));
}
