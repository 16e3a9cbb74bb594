//! Checks the emulator's wire behaviour with a real HTTP client.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use ollama_emulator::{silent_wav, Emulator, ModelSpec, Reply};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    // No proxy: a proxy from the environment must not see loopback traffic.
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn ndjson(text: &str) -> Vec<Value> {
    assert!(text.ends_with('\n'), "NDJSON ends with a newline: {text:?}");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"))).collect()
}

async fn post(emu: &Emulator, path: &str, body: Value) -> reqwest::Response {
    client().post(format!("{}{path}", emu.url())).json(&body).send().await.unwrap()
}

async fn post_raw(emu: &Emulator, path: &str, body: &str) -> (u16, Value) {
    let r = client().post(format!("{}{path}", emu.url())).body(body.to_string()).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Waits (briefly) until `cond` holds.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test]
async fn root_version_and_404() {
    let emu = Emulator::start();
    let c = client();
    let r = c.get(emu.url()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "Ollama is running");
    let r = c.head(emu.url()).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let v: Value = c.get(format!("{}/api/version", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"version": "0.12.10"}));
    emu.set_version("0.6.2");
    let v: Value = c.get(format!("{}/api/version", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["version"], "0.6.2");

    let r = c.get(format!("{}/api/nope", emu.url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(content_type(&r), "text/plain");
    assert_eq!(r.text().await.unwrap(), "404 page not found");
    let r = c.get(format!("{}/api/chat", emu.url())).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn tags_and_show() {
    let emu = Emulator::start();
    let v: Value = client().get(format!("{}/api/tags", emu.url())).send().await.unwrap().json().await.unwrap();
    let models = v["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gemma3:4b", "gemma3:1b", "qwen3:0.6b"]);
    let m = &models[0];
    assert_eq!(m["model"], "gemma3:4b");
    assert_eq!(m["size"], 3_338_801_804u64);
    assert_eq!(m["digest"].as_str().unwrap().len(), 64);
    assert!(m["modified_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        m["details"],
        json!({"parent_model":"","format":"gguf","family":"gemma3","families":["gemma3"],
               "parameter_size":"4.3B","quantization_level":"Q4_K_M"})
    );

    let r = post(&emu, "/api/show", json!({"model": "gemma3:4b"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "application/json; charset=utf-8");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["capabilities"], json!(["completion", "vision"]));
    assert_eq!(v["model_info"]["general.architecture"], "gemma3");
    assert_eq!(v["model_info"]["gemma3.context_length"], 131072);
    assert_eq!(v["model_info"]["gemma3.vision.image_size"], 896);
    assert!(v["model_info"]["general.parameter_count"].as_u64().unwrap() > 4_000_000_000);
    for k in ["license", "modelfile", "parameters", "template", "modified_at"] {
        assert!(v[k].is_string(), "{k}");
    }
    let v: Value = post(&emu, "/api/show", json!({"model": "gemma3:1b"})).await.json().await.unwrap();
    assert!(v["model_info"].get("gemma3.vision.image_size").is_none());

    let r = post(&emu, "/api/show", json!({"model": "nope:1b"})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "model 'nope:1b' not found"}));

    emu.set_models(vec![ModelSpec::gemma3_270m()]);
    let v: Value = client().get(format!("{}/api/tags", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["models"][0]["name"], "gemma3:270m");
    assert_eq!(v["models"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn chat_streams_ndjson_with_a_final_done_line() {
    let emu = Emulator::start();
    let r =
        post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"ping pong"}]})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "application/x-ndjson");
    let lines = ndjson(&r.text().await.unwrap());
    assert!(lines.len() > 3);
    let (done, chunks) = lines.split_last().unwrap();
    let mut text = String::new();
    for c in chunks {
        assert_eq!(c["model"], "gemma3:4b");
        assert_eq!(c["done"], false);
        assert_eq!(c["message"]["role"], "assistant");
        assert!(c["created_at"].as_str().unwrap().contains('T'));
        text.push_str(c["message"]["content"].as_str().unwrap());
    }
    assert_eq!(text, "Hello from the emulator. You said: ping pong");
    assert_eq!(done["done"], true);
    assert_eq!(done["done_reason"], "stop");
    assert_eq!(done["message"], json!({"role":"assistant","content":""}));
    for k in
        ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"]
    {
        assert!(done[k].as_u64().unwrap() > 0, "{k}");
    }
    assert_eq!(done["eval_count"], chunks.len());
}

#[tokio::test]
async fn chat_without_stream_returns_one_object() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Bonjour", " à", " tous"]).done_reason("length"));
    let r = post(
        &emu,
        "/api/chat",
        json!({"model":"gemma3:1b","stream":false,"messages":[{"role":"user","content":"hi"}]}),
    )
    .await;
    assert_eq!(content_type(&r), "application/json; charset=utf-8");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"]["content"], "Bonjour à tous");
    assert_eq!(v["done"], true);
    assert_eq!(v["done_reason"], "length");

    // No messages: the model is just loaded.
    let v: Value = post(&emu, "/api/chat", json!({"model":"gemma3:1b"})).await.json().await.unwrap();
    assert_eq!(v["done_reason"], "load");
    let ps: Value = client().get(format!("{}/api/ps", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(ps["models"][0]["name"], "gemma3:1b");
    assert!(ps["models"][0]["expires_at"].is_string());
}

#[tokio::test]
async fn generate_uses_response_and_context() {
    let emu = Emulator::start();
    let r = post(&emu, "/api/generate", json!({"model":"gemma3:1b","prompt":"why?"})).await;
    assert_eq!(content_type(&r), "application/x-ndjson");
    let lines = ndjson(&r.text().await.unwrap());
    let (done, chunks) = lines.split_last().unwrap();
    let text: String = chunks.iter().map(|c| c["response"].as_str().unwrap()).collect();
    assert_eq!(text, "Hello from the emulator. You said: why?");
    assert!(chunks.iter().all(|c| c.get("message").is_none()));
    assert_eq!(done["done"], true);
    assert_eq!(done["response"], "");
    assert!(!done["context"].as_array().unwrap().is_empty());

    let v: Value = post(&emu, "/api/generate", json!({"model":"gemma3:1b","prompt":"x","stream":false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["response"], "Hello from the emulator. You said: x");
    assert!(v["context"].is_array());
}

#[tokio::test]
async fn validation_errors_match_ollama() {
    let emu = Emulator::start();
    let chat = |body: &'static str| {
        let emu = &emu;
        async move { post_raw(emu, "/api/chat", body).await }
    };
    assert_eq!(chat("").await, (400, json!({"error": "missing request body"})));
    assert_eq!(
        chat("{bad").await,
        (400, json!({"error": "invalid character 'b' looking for beginning of object key string"}))
    );
    assert_eq!(
        chat(r#"{"model":5}"#).await,
        (400, json!({"error": "json: cannot unmarshal number into Go struct field ChatRequest.model of type string"}))
    );
    assert_eq!(chat(r#"{"messages":[]}"#).await, (400, json!({"error": "model is required"})));
    assert_eq!(
        chat(r#"{"model":"llama9:1b","messages":[]}"#).await,
        (404, json!({"error": "model \"llama9:1b\" not found, try pulling it first"}))
    );
    let tools = r#"{"model":"gemma3:4b","messages":[{"role":"user","content":"x"}],
        "tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}"#;
    assert_eq!(
        chat(tools).await,
        (400, json!({"error": "registry.ollama.ai/library/gemma3:4b does not support tools"}))
    );
    assert_eq!(
        chat(r#"{"model":"gemma3:1b","think":true,"messages":[{"role":"user","content":"x"}]}"#).await,
        (400, json!({"error": "\"gemma3:1b\" does not support thinking"}))
    );

    let img = |model: &str, image: &str| {
        json!({"model": model, "messages":[{"role":"user","content":"see","images":[image]}]}).to_string()
    };
    let (s, v) = post_raw(&emu, "/api/chat", &img("gemma3:1b", PNG_1X1)).await;
    assert_eq!(s, 500);
    assert_eq!(
        v["error"],
        "Failed to create new sequence: failed to process inputs: this model is missing data required for image input"
    );
    let data_url = format!("data:image/png;base64,{PNG_1X1}");
    assert_eq!(
        post_raw(&emu, "/api/chat", &img("gemma3:4b", &data_url)).await,
        (400, json!({"error": "illegal base64 data at input byte 4"}))
    );
    let (s, v) = post_raw(&emu, "/api/chat", &img("gemma3:4b", "R0lGODlhAQABAAAAACw=")).await;
    assert_eq!(s, 500);
    assert_eq!(v["error"], "Failed to create new sequence: failed to process inputs: image: unknown format");
    // A real PNG to a vision model is fine.
    let r = post(
        &emu,
        "/api/chat",
        json!({"model":"gemma3:4b","stream":false,
               "messages":[{"role":"user","content":"see","images":[PNG_1X1]}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Tools are fine on a tools-capable model.
    let r = client()
        .post(format!("{}/api/chat", emu.url()))
        .body(tools.replace("gemma3:4b", "qwen3:0.6b"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // /api/generate reports unknown models its own way.
    assert_eq!(
        post_raw(&emu, "/api/generate", r#"{"model":"x:1","prompt":"p"}"#).await,
        (404, json!({"error": "model 'x:1' not found"}))
    );
    assert_eq!(post_raw(&emu, "/api/generate", "  ").await, (400, json!({"error": "missing request body"})));
}

#[tokio::test]
async fn scripted_errors_and_status() {
    let emu = Emulator::start();
    let body = json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]});

    emu.push_reply(Reply::chunks(&["a", "b", "c"]).error_after(2, "model runner has unexpectedly stopped"));
    let r = post(&emu, "/api/chat", body.clone()).await;
    assert_eq!(r.status(), 200);
    let lines = ndjson(&r.text().await.unwrap());
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["message"]["content"], "b");
    assert_eq!(lines[2], json!({"error": "model runner has unexpectedly stopped"}));

    emu.push_reply(
        Reply::text("never").status(503, "server busy, please try again.  maximum pending requests exceeded"),
    );
    let r = post(&emu, "/api/chat", body.clone()).await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "server busy, please try again.  maximum pending requests exceeded"
    );

    // Non-streamed: a failed generation is a 500.
    emu.push_reply(Reply::text("a b").error_after(1, "boom"));
    let mut nb = body.clone();
    nb["stream"] = json!(false);
    let r = post(&emu, "/api/chat", nb).await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "boom"}));
}

#[tokio::test]
async fn replies_can_target_a_model_and_call_tools() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("for qwen").for_model("qwen3:0.6b"));
    emu.push_reply(Reply::text("for anyone"));
    let ask = |model: &'static str| {
        let emu = &emu;
        async move {
            let v: Value = post(
                emu,
                "/api/chat",
                json!({"model": model, "stream": false, "messages":[{"role":"user","content":"q"}]}),
            )
            .await
            .json()
            .await
            .unwrap();
            v["message"]["content"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(ask("gemma3:4b").await, "for anyone");
    assert_eq!(ask("qwen3:0.6b").await, "for qwen");
    assert!(ask("qwen3:0.6b").await.starts_with("Hello from the emulator."));

    let calls = json!([{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]);
    emu.push_reply(Reply::with_tool_calls(calls.clone()));
    let r = post(
        &emu,
        "/api/chat",
        json!({"model":"qwen3:0.6b","messages":[{"role":"user","content":"weather?"}],
               "tools":[{"type":"function","function":{"name":"get_weather"}}]}),
    )
    .await;
    let lines = ndjson(&r.text().await.unwrap());
    let with_calls: Vec<&Value> = lines.iter().filter(|l| l["message"].get("tool_calls").is_some()).collect();
    assert_eq!(with_calls.len(), 1);
    assert_eq!(with_calls[0]["message"]["tool_calls"], calls);
    assert_eq!(lines.last().unwrap()["done"], true);

    emu.push_reply(Reply::text("checking").tool_calls(calls.clone()));
    let v: Value = post(
        &emu,
        "/api/chat",
        json!({"model":"qwen3:0.6b","stream":false,"messages":[{"role":"user","content":"w"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["message"]["content"], "checking");
    assert_eq!(v["message"]["tool_calls"], calls);
}

#[tokio::test]
async fn cut_after_truncates_the_body() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["one", " two", " three"]).cut_after(2));
    let r = post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]})).await;
    assert_eq!(r.status(), 200);
    let err = r.text().await.expect_err("a cut stream must fail to read");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    // The emulator cut it: that is not a client disconnect.
    assert!(!emu.requests_to("/api/chat")[0].client_disconnected);
}

#[tokio::test]
async fn stalled_stream_notices_the_client_leaving() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["one", " two", " three"]).stall_after(1));
    let mut r = post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]})).await;
    let first = r.chunk().await.unwrap().unwrap();
    let first: Value = serde_json::from_slice(first.trim_ascii_end()).unwrap();
    assert_eq!(first["message"]["content"], "one");
    // Nothing more arrives while stalled.
    let more = tokio::time::timeout(Duration::from_millis(150), r.chunk()).await;
    assert!(more.is_err(), "the stream should be stalled");
    assert!(!emu.requests_to("/api/chat")[0].client_disconnected);
    drop(r); // the app's Stop button
    assert!(
        eventually(|| emu.requests_to("/api/chat")[0].client_disconnected).await,
        "dropping the response must be recorded as a disconnect"
    );

    // A stream read to the end is not a disconnect.
    let r = post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]})).await;
    r.text().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!emu.requests_to("/api/chat")[1].client_disconnected);
}

#[tokio::test]
async fn delays_are_applied() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["a", "b"]).first_byte_delay_ms(150).delay_ms(50));
    let start = Instant::now();
    let r = post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]})).await;
    assert!(start.elapsed() >= Duration::from_millis(150));
    let lines = ndjson(&r.text().await.unwrap());
    assert!(start.elapsed() >= Duration::from_millis(250));
    assert_eq!(lines.len(), 3);
}

#[tokio::test]
async fn origin_check() {
    let emu = Emulator::start();
    let c = client();
    let get = |origin: Option<&'static str>| {
        let mut rb = c.get(format!("{}/api/tags", emu.url()));
        if let Some(o) = origin {
            rb = rb.header("Origin", o);
        }
        async move { rb.send().await.unwrap() }
    };
    for bad in ["http://tauri.localhost", "https://tauri.localhost", "null", "http://example.com"] {
        let r = get(Some(bad)).await;
        assert_eq!(r.status(), 403, "{bad}");
        assert_eq!(r.text().await.unwrap(), "", "{bad}");
    }
    for ok in ["http://localhost:1420", "http://127.0.0.1", "https://0.0.0.0:9", "tauri://localhost"] {
        let r = get(Some(ok)).await;
        assert_eq!(r.status(), 200, "{ok}");
        assert_eq!(r.headers()["access-control-allow-origin"], ok);
    }
    assert_eq!(get(None).await.status(), 200);
    // OLLAMA_ORIGINS-style extras.
    emu.set_allowed_origins(vec!["http://tauri.localhost".into()]);
    assert_eq!(get(Some("http://tauri.localhost")).await.status(), 200);
    // Rejected requests are still recorded.
    assert!(emu.requests_to("/api/tags").iter().any(|r| r.header("origin") == Some("null")));
}

#[tokio::test]
async fn pull_streams_progress_and_installs() {
    let emu = Emulator::start();
    emu.set_pull_delay_ms(1);
    let r = post(&emu, "/api/pull", json!({"model": "gemma3:270m"})).await;
    assert_eq!(content_type(&r), "application/x-ndjson");
    let lines = ndjson(&r.text().await.unwrap());
    assert_eq!(lines[0], json!({"status": "pulling manifest"}));
    let layer: Vec<&Value> = lines.iter().filter(|l| l.get("digest").is_some()).collect();
    let digests: std::collections::BTreeSet<&str> = layer.iter().map(|l| l["digest"].as_str().unwrap()).collect();
    // Weights, template, license, params, then the config blob, one after another.
    assert_eq!(digests.len(), 5);
    let order: Vec<&str> = layer.iter().map(|l| l["digest"].as_str().unwrap()).collect();
    let mut firsts = order.clone();
    firsts.dedup();
    assert_eq!(firsts.len(), 5, "each layer finishes before the next starts: {order:?}");
    for l in &layer {
        let digest = l["digest"].as_str().unwrap();
        assert!(digest.starts_with("sha256:") && digest.len() == 71);
        assert_eq!(l["status"], format!("pulling {}", &digest[7..19]));
        assert!(l["total"].as_u64().unwrap() > 0);
        if let Some(c) = l.get("completed") {
            assert!(c.as_u64().unwrap() > 0 && c.as_u64() <= l["total"].as_u64());
        }
    }
    assert!(layer[0].get("completed").is_none());
    let total: u64 = layer.iter().filter(|l| l.get("completed").is_none()).map(|l| l["total"].as_u64().unwrap()).sum();
    assert_eq!(total, ModelSpec::gemma3_270m().size);
    let statuses: Vec<&str> = lines.iter().map(|l| l["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"verifying sha256 digest"));
    assert!(statuses.contains(&"writing manifest"));
    assert_eq!(*statuses.last().unwrap(), "success");
    assert!(!statuses.contains(&"removing unused layers"), "a fresh pull has nothing to prune");
    for digest in &digests {
        let done: Vec<u64> = layer
            .iter()
            .filter(|l| l["digest"] == *digest)
            .map(|l| l.get("completed").and_then(Value::as_u64).unwrap_or(0))
            .collect();
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{digest}: {done:?}");
    }

    let v: Value = client().get(format!("{}/api/tags", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["models"][0]["name"], "gemma3:270m", "newest first");

    // Pulled again: every blob is already there, reported once and complete.
    let again = ndjson(&post(&emu, "/api/pull", json!({"model": "gemma3:270m"})).await.text().await.unwrap());
    let layer: Vec<&Value> = again.iter().filter(|l| l.get("digest").is_some()).collect();
    assert_eq!(layer.len(), 5);
    assert!(layer.iter().all(|l| l["completed"] == l["total"]), "{layer:?}");
    assert_eq!(again.last().unwrap(), &json!({"status": "success"}));

    let lines = ndjson(&post(&emu, "/api/pull", json!({"model": "nope:7b"})).await.text().await.unwrap());
    assert_eq!(
        lines,
        vec![json!({"status": "pulling manifest"}), json!({"error": "pull model manifest: file does not exist"})]
    );

    let r = post(&emu, "/api/pull", json!({"model": "gemma3:12b", "stream": false})).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "success"}));
    let r = post(&emu, "/api/show", json!({"model": "gemma3:12b"})).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn scripted_pull_failures_install_nothing() {
    let emu = Emulator::start();
    emu.push_pull_reply(Reply::default().error_after(3, "max retries exceeded: unexpected EOF"));
    let r = post(&emu, "/api/pull", json!({"model": "gemma3:12b"})).await;
    assert_eq!(r.status(), 200, "the error comes inside the stream");
    let lines = ndjson(&r.text().await.unwrap());
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3], json!({"error": "max retries exceeded: unexpected EOF"}));
    assert!(lines[1]["digest"].is_string());
    let shown = post(&emu, "/api/show", json!({"model": "gemma3:12b"})).await;
    assert_eq!(shown.status(), 404, "a failed pull installs nothing");

    // Scripts apply only to their model, and a status fails before anything streams.
    emu.push_pull_reply(
        Reply::default().status(500, "pull model manifest: 412: requires a newer version").for_model("x:1b"),
    );
    let r = post(&emu, "/api/pull", json!({"model": "gemma3:270m"})).await;
    assert_eq!(ndjson(&r.text().await.unwrap()).last().unwrap(), &json!({"status": "success"}));
    let r = post(&emu, "/api/pull", json!({"model": "x:1b"})).await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "pull model manifest: 412: requires a newer version");
}

#[tokio::test]
async fn delete_removes_models() {
    let emu = Emulator::start();
    let c = client();
    let del = |model: &'static str| c.delete(format!("{}/api/delete", emu.url())).json(&json!({"model": model})).send();
    let r = del("gemma3:1b").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    let r = del("gemma3:1b").await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "model 'gemma3:1b' not found"}));
}

#[tokio::test]
async fn openai_models_and_non_streamed_default() {
    let emu = Emulator::start();
    let v: Value = client().get(format!("{}/v1/models", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "gemma3:4b");
    assert_eq!(v["data"][0]["object"], "model");
    assert_eq!(v["data"][0]["owned_by"], "library");
    assert!(v["data"][0]["created"].as_i64().unwrap() > 1_600_000_000);

    let r = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"gemma3:4b","messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"what is"},
                {"type":"image_url","image_url":{"url": format!("data:image/png;base64,{PNG_1X1}")}}]}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("application/json"));
    let v: Value = r.json().await.unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["system_fingerprint"], "fp_ollama");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from the emulator. You said: what is");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn openai_streams_sse_until_done() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Hi", " there"]));
    let r = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"gemma3:4b","stream":true,"stream_options":{"include_usage":true},
               "messages":[{"role":"user","content":"x"}]}),
    )
    .await;
    assert_eq!(content_type(&r), "text/event-stream");
    let text = r.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("every event is a data line"))
        .collect();
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "Hi");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[0]["choices"][0]["finish_reason"].is_null());
    assert_eq!(chunks[1]["choices"][0]["delta"]["content"], " there");
    assert_eq!(chunks[2]["choices"][0]["delta"]["content"], "");
    assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[3]["choices"], json!([]));
    assert!(chunks[3]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(chunks.len(), 4);
}

#[tokio::test]
async fn openai_errors_and_api_key() {
    let emu = Emulator::start();
    let (s, v) = post_raw(
        &emu,
        "/v1/chat/completions",
        r#"{"model":"gemma3:4b","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error":{"message":"invalid image input","type":"invalid_request_error","param":null,"code":null}})
    );
    let (s, v) =
        post_raw(&emu, "/v1/chat/completions", r#"{"model":"x:1","messages":[{"role":"user","content":"x"}]}"#).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["type"], "not_found_error");
    let (s, v) = post_raw(
        &emu,
        "/v1/chat/completions",
        r#"{"model":"gemma3:4b","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["message"], "registry.ollama.ai/library/gemma3:4b does not support tools");
    let (s, v) = post_raw(&emu, "/v1/chat/completions", r#"{"model":"gemma3:4b","messages":[]}"#).await;
    assert_eq!((s, v["error"]["message"].as_str()), (400, Some("[] is too short - 'messages'")));

    emu.push_reply(Reply::text("x").status(500, "model runner has unexpectedly stopped"));
    let (s, v) =
        post_raw(&emu, "/v1/chat/completions", r#"{"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]}"#)
            .await;
    assert_eq!(s, 500);
    assert_eq!(v["error"]["type"], "api_error");

    emu.set_api_key(Some("sekrit".into()));
    let c = client();
    let r = c.get(format!("{}/v1/models", emu.url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
    let r = c.get(format!("{}/v1/models", emu.url())).bearer_auth("sekrit").send().await.unwrap();
    assert_eq!(r.status(), 200);
    emu.set_api_key(None);
    let r = c.get(format!("{}/v1/models", emu.url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn openai_tool_calls() {
    let emu = Emulator::start();
    emu.push_reply(Reply::with_tool_calls(json!([{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}])));
    let v: Value = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"qwen3:0.6b","messages":[{"role":"user","content":"w"}],
               "tools":[{"type":"function","function":{"name":"get_weather"}}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn requests_are_recorded() {
    let emu = Emulator::start();
    client()
        .post(format!("{}/api/chat", emu.url()))
        .header("X-Trace", "abc")
        .json(&json!({"model":"gemma3:4b","stream":false,"messages":[{"role":"user","content":"hey"}]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client().post(format!("{}/api/show", emu.url())).body("not json").send().await.unwrap();
    client().get(format!("{}/api/tags", emu.url())).send().await.unwrap();

    let all = emu.requests();
    assert_eq!(all.len(), 3);
    let chat = &emu.requests_to("/api/chat")[0];
    assert_eq!(chat.method, "POST");
    assert_eq!(chat.header("x-trace"), Some("abc"));
    assert_eq!(chat.headers["content-type"], "application/json");
    assert_eq!(chat.body["messages"][0]["content"], "hey");
    assert!(!chat.client_disconnected);
    assert_eq!(emu.requests_to("/api/show")[0].body, json!("not json"));
    assert_eq!(emu.requests_to("/api/tags")[0].body, Value::Null);
    // Serializable, for the control endpoint and for test logs.
    let s = serde_json::to_value(chat).unwrap();
    assert_eq!(s["path"], "/api/chat");

    emu.reset();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn control_endpoints_drive_the_emulator() {
    let emu = Emulator::start();
    let c = client();
    let ctl = |path: &str, body: Value| c.post(format!("{}/_emulator/{path}", emu.url())).json(&body).send();
    assert!(ctl("replies", json!([{"chunks": ["from", " http"]}, {"chunks": ["second"]}]))
        .await
        .unwrap()
        .status()
        .is_success());
    assert!(ctl("version", json!({"version": "9.9.9"})).await.unwrap().status().is_success());
    assert!(ctl("models", json!([{"name": "tiny:1m", "capabilities": ["completion"]}]))
        .await
        .unwrap()
        .status()
        .is_success());
    assert!(ctl("pull_delay", json!({"ms": 0})).await.unwrap().status().is_success());

    let v: Value =
        post(&emu, "/api/chat", json!({"model":"tiny:1m","stream":false,"messages":[{"role":"user","content":"x"}]}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(v["message"]["content"], "from http");
    let v: Value = c.get(format!("{}/api/version", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["version"], "9.9.9");

    let recorded: Vec<Value> =
        c.get(format!("{}/_emulator/requests", emu.url())).send().await.unwrap().json().await.unwrap();
    let paths: Vec<&str> = recorded.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/api/chat", "/api/version"], "control calls are not recorded");

    assert!(ctl("reset", json!(null)).await.unwrap().status().is_success());
    assert!(emu.requests().is_empty());
    let v: Value = c.get(format!("{}/api/version", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["version"], "0.12.10");
}

/// The handle works from plain synchronous tests too; checked here with a raw socket.
#[test]
fn works_from_sync_code_over_raw_http() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["x"]).cut_after(1));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = r#"{"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]}"#;
    write!(
        s,
        "POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200 OK"));
    assert!(raw.contains("transfer-encoding: chunked"));
    assert!(raw.contains("\"content\":\"x\""));
    // Cut: the connection closed without the terminating zero-length chunk.
    assert!(!raw.ends_with("0\r\n\r\n"), "{raw:?}");
    assert_eq!(emu.requests().len(), 1);
}

#[tokio::test]
async fn leaving_during_first_byte_delay_is_a_disconnect() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("slow").first_byte_delay_ms(5_000));
    let r = client()
        .post(format!("{}/api/chat", emu.url()))
        .timeout(Duration::from_millis(150))
        .json(&json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]}))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    assert!(eventually(|| emu.requests_to("/api/chat")[0].client_disconnected).await);
}

#[tokio::test]
async fn dropping_the_emulator_closes_open_streams() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["a", "b"]).stall_after(1));
    let mut r = post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"x"}]})).await;
    r.chunk().await.unwrap().unwrap();
    let start = Instant::now();
    drop(emu);
    assert!(start.elapsed() < Duration::from_secs(1), "Drop must not wait for streams");
    let rest = tokio::time::timeout(Duration::from_secs(2), r.chunk()).await;
    assert!(rest.expect("the socket closes").is_err());
}

// ---------------------------------------------------------------------------------------------
// Gemma 4 on Ollama 0.30+ (GEMMA4-FACTS.md)

fn gemma4_emulator() -> Emulator {
    let emu = Emulator::start();
    let mut models = ModelSpec::gemma4_all();
    models.extend(ModelSpec::defaults());
    emu.set_models(models);
    emu
}

async fn get(emu: &Emulator, path: &str) -> Value {
    client().get(format!("{}{path}", emu.url())).send().await.unwrap().json().await.unwrap()
}

/// The `data:` events of an SSE body, without `[DONE]`.
fn sse_chunks(text: &str) -> Vec<Value> {
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    text.split("\n\n")
        .filter(|e| !e.is_empty() && *e != "data: [DONE]")
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The start of a PNG of this size: enough for the emulator, which reads the header only.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(width.to_be_bytes());
    b.extend(height.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// A turn that thinks, then calls `get_time` for two zones at once, as scripts write calls:
/// without ids or indexes.
fn two_time_calls(thinking: &str, a: &str, b: &str) -> Reply {
    Reply::default().thinking(thinking).tool_calls(json!([
        {"function":{"name":"get_time","arguments":{"timezone":a}}},
        {"function":{"name":"get_time","arguments":{"timezone":b}}},
    ]))
}

fn is_call_id(id: &Value) -> bool {
    let id = id.as_str().unwrap_or_default();
    id.len() == 13 && id.starts_with("call_") && id[5..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[tokio::test]
async fn gemma4_tags_leave_out_vision_audio_and_context_that_show_reports() {
    let emu = gemma4_emulator();
    let v = get(&emu, "/api/tags").await;
    let models = v["models"].as_array().unwrap();
    let entry = |name: &str| models.iter().find(|m| m["name"] == name).unwrap().clone();

    let e4b = entry("gemma4:e4b");
    assert_eq!(e4b["capabilities"], json!(["completion", "tools", "thinking"]));
    assert_eq!(e4b["details"]["family"], "gemma4");
    assert!(e4b["details"].get("context_length").is_none());
    assert!(e4b.get("remote_host").is_none());

    let cloud = entry("gemma4:31b-cloud");
    assert_eq!(cloud["remote_model"], "gemma4:31b");
    assert_eq!(cloud["remote_host"], "https://ollama.com:443");
    assert!(cloud["size"].as_u64().unwrap() < 1000);
    assert_eq!(cloud["details"]["context_length"], 262144);
    assert_eq!(cloud["capabilities"], json!(["completion", "vision", "tools", "thinking"]));

    // Gemma 3 is listed exactly as before: no capabilities, no context length.
    let g3 = entry("gemma3:4b");
    assert!(g3.get("capabilities").is_none());
    assert!(g3["details"].get("context_length").is_none());

    let show = |model: &'static str| {
        let emu = &emu;
        async move { post(emu, "/api/show", json!({ "model": model })).await.json::<Value>().await.unwrap() }
    };
    for (model, caps) in [
        ("gemma4:e2b", json!(["completion", "vision", "audio", "tools", "thinking"])),
        ("gemma4:e4b", json!(["completion", "vision", "audio", "tools", "thinking"])),
        ("gemma4:12b", json!(["completion", "vision", "audio", "tools", "thinking"])),
        ("gemma4:26b", json!(["completion", "vision", "tools", "thinking"])),
        ("gemma4:31b", json!(["completion", "vision", "tools", "thinking"])),
    ] {
        let v = show(model).await;
        assert_eq!(v["capabilities"], caps, "{model}");
        assert_eq!(v["model_info"]["general.architecture"], "gemma4");
        assert!(v["model_info"].get("gemma4.vision.image_size").is_none(), "{model}");
    }
    let e4b = show("gemma4:e4b").await;
    assert_eq!(e4b["model_info"]["gemma4.context_length"], 131072);
    assert_eq!(e4b["model_info"]["gemma4.vision.patch_size"], 16);
    assert_eq!(e4b["model_info"]["gemma4.audio.conv_kernel_size"], 5);
    assert!(show("gemma4:31b").await["model_info"].get("gemma4.audio.block_count").is_none());
    assert_eq!(show("gemma4:26b").await["model_info"]["gemma4.expert_count"], 128);
    assert_eq!(show("gemma4:12b").await["projector_info"]["clip.has_audio_encoder"], true);
    assert!(e4b.get("projector_info").is_none());

    // The other reading of §1: a server that lists everything.
    emu.set_models(vec![ModelSpec::gemma4_e4b().with_complete_listing()]);
    let v = get(&emu, "/api/tags").await;
    assert_eq!(v["models"][0]["capabilities"], json!(["completion", "vision", "audio", "tools", "thinking"]));
    assert_eq!(v["models"][0]["details"]["context_length"], 131072);
}

#[tokio::test]
async fn a_loaded_gemma4_shows_its_context_length_in_ps() {
    let emu = gemma4_emulator();
    let body = json!({"model":"gemma4:e4b","stream":false,"options":{"num_ctx":32768},
                      "messages":[{"role":"user","content":"hi"}]});
    assert_eq!(post(&emu, "/api/chat", body).await.status(), 200);
    let ps = get(&emu, "/api/ps").await;
    assert_eq!(ps["models"][0]["name"], "gemma4:e4b");
    assert_eq!(ps["models"][0]["context_length"], 32768);
    assert_eq!(ps["models"][0]["details"]["family"], "gemma4");
}

#[tokio::test]
async fn thinking_streams_before_the_content_unless_think_is_false() {
    let emu = gemma4_emulator();
    let ask = |think: Option<Value>| {
        let mut body = json!({"model":"gemma4:e4b","messages":[{"role":"user","content":"capital of France?"}]});
        if let Some(t) = think {
            body["think"] = t;
        }
        emu.push_reply(Reply::text("Paris.").thinking("The user asks about France."));
        let emu = &emu;
        async move { ndjson(&post(emu, "/api/chat", body).await.text().await.unwrap()) }
    };

    // Omitted: Gemma 4 thinks by default (§3).
    let lines = ask(None).await;
    let thinking: String = lines.iter().filter_map(|l| l["message"]["thinking"].as_str()).collect();
    assert_eq!(thinking, "The user asks about France.");
    let first = &lines[0]["message"];
    assert_eq!((first["role"].as_str(), first["content"].as_str()), (Some("assistant"), Some("")));
    let first_content = lines.iter().position(|l| l["message"]["content"] != "").unwrap();
    let last_thinking = lines.iter().rposition(|l| l["message"].get("thinking").is_some()).unwrap();
    assert!(last_thinking < first_content, "thinking comes first");
    let content: String = lines.iter().map(|l| l["message"]["content"].as_str().unwrap()).collect();
    assert_eq!(content, "Paris.");
    let done = lines.last().unwrap();
    assert_eq!((done["done"].as_bool(), done["done_reason"].as_str()), (Some(true), Some("stop")));
    assert!(done["message"].get("thinking").is_none());

    for level in ["low", "medium", "high", "max"] {
        let lines = ask(Some(json!(level))).await;
        assert!(lines[0]["message"]["thinking"].is_string(), "{level}");
    }
    let lines = ask(Some(json!(false))).await;
    assert!(lines.iter().all(|l| l["message"].get("thinking").is_none()));
    assert_eq!(lines[0]["message"]["content"], "Paris.");

    // Not streamed: one message with both.
    emu.push_reply(Reply::text("Paris.").thinking("Easy."));
    let v: Value = post(
        &emu,
        "/api/chat",
        json!({"model":"gemma4:e4b","stream":false,"think":true,"messages":[{"role":"user","content":"q"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["message"], json!({"role":"assistant","content":"Paris.","thinking":"Easy."}));

    // A model that does not think never sends scripted thinking.
    emu.push_reply(Reply::text("Paris.").thinking("hidden"));
    let lines = ndjson(
        &post(&emu, "/api/chat", json!({"model":"gemma3:4b","messages":[{"role":"user","content":"q"}]}))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(lines.iter().all(|l| l["message"].get("thinking").is_none()));
}

#[tokio::test]
async fn think_errors_use_ollamas_exact_text() {
    let emu = gemma4_emulator();
    let chat = |model: &str, think: Value| {
        json!({"model": model, "think": think, "stream": false, "messages":[{"role":"user","content":"x"}]}).to_string()
    };
    assert_eq!(
        post_raw(&emu, "/api/chat", &chat("gemma4:e4b", json!("extreme"))).await,
        (
            400,
            json!({"error": "invalid think value: \"extreme\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)"})
        )
    );
    for think in [json!(true), json!("high"), json!("max")] {
        assert_eq!(
            post_raw(&emu, "/api/chat", &chat("gemma3:4b", think)).await,
            (400, json!({"error": "\"gemma3:4b\" does not support thinking"}))
        );
    }
    let (status, _) = post_raw(&emu, "/api/chat", &chat("gemma3:4b", json!(false))).await;
    assert_eq!(status, 200, "think:false is accepted by any model");
    // The emulator's older thinking model keeps 0.12's answer to levels.
    assert_eq!(
        post_raw(&emu, "/api/chat", &chat("qwen3:0.6b", json!("low"))).await,
        (400, json!({"error": "think value \"low\" is not supported for this model"}))
    );
}

#[tokio::test]
async fn generate_drops_gemma4s_default_thinking_unless_told_otherwise() {
    let emu = gemma4_emulator();
    let generate = |think: Option<bool>| {
        let mut body = json!({"model":"gemma4:e2b","prompt":"why?"});
        if let Some(t) = think {
            body["think"] = json!(t);
        }
        emu.push_reply(Reply::text("Because.").thinking("Hmm."));
        let emu = &emu;
        async move { ndjson(&post(emu, "/api/generate", body).await.text().await.unwrap()) }
    };
    let thinking = |lines: &[Value]| -> String { lines.iter().filter_map(|l| l["thinking"].as_str()).collect() };
    assert_eq!(thinking(&generate(None).await), "", "⚠ §3: prompted to think, thinking thrown away");
    let lines = generate(Some(true)).await;
    assert_eq!(thinking(&lines), "Hmm.");
    assert_eq!(lines[0]["response"], "");
    assert!(lines.iter().all(|l| l.get("message").is_none()));

    emu.set_models(vec![ModelSpec { generate_drops_default_thinking: false, ..ModelSpec::gemma4_e2b() }]);
    assert_eq!(thinking(&generate(None).await), "Hmm.");
}

#[tokio::test]
async fn gemma4_tool_calls_arrive_in_one_chunk_with_ids_and_indexes_after_thinking() {
    let emu = gemma4_emulator();
    let tools = json!([{"type":"function","function":{"name":"get_time","description":"Current time",
        "parameters":{"type":"object","properties":{"timezone":{"type":"string"}},"required":["timezone"]}}}]);
    emu.push_reply(two_time_calls("Two cities, two calls.", "Asia/Shanghai", "America/New_York"));
    let r = post(
        &emu,
        "/api/chat",
        json!({"model":"gemma4:26b","tools":tools,"messages":[{"role":"user","content":"Shanghai and New York?"}]}),
    )
    .await;
    let lines = ndjson(&r.text().await.unwrap());
    let with_calls: Vec<usize> =
        (0..lines.len()).filter(|&i| lines[i]["message"].get("tool_calls").is_some()).collect();
    assert_eq!(with_calls.len(), 1, "all calls in one chunk");
    let at = with_calls[0];
    assert!(lines[..at].iter().all(|l| l["message"]["thinking"].is_string()), "calls come after the thinking");
    let calls = lines[at]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for (i, call) in calls.iter().enumerate() {
        assert!(is_call_id(&call["id"]), "{call}");
        assert_eq!(call["function"]["index"], i);
        assert_eq!(call["function"]["name"], "get_time");
    }
    assert_eq!(calls[1]["function"]["arguments"], json!({"timezone":"America/New_York"}));
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    let done = lines.last().unwrap();
    assert_eq!((done["done"].as_bool(), done["done_reason"].as_str()), (Some(true), Some("stop")));

    // The loop goes on: results named by tool_name or by tool_call_id, thinking sent back.
    let assistant = json!({"role":"assistant","content":"","thinking":"Two cities, two calls.","tool_calls":calls});
    let body = json!({"model":"gemma4:26b","stream":false,"tools":tools,"messages":[
        {"role":"user","content":"Shanghai and New York?"},
        assistant,
        {"role":"tool","content":"2025-01-15T09:30:00+08:00","tool_name":"get_time"},
        {"role":"tool","content":"2025-01-14T20:30:00-05:00","tool_call_id":calls[1]["id"]},
    ]});
    emu.push_reply(Reply::text("09:30 and 20:30."));
    let r = post(&emu, "/api/chat", body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["message"]["content"], "09:30 and 20:30.");
    let sent = &emu.requests_to("/api/chat")[1].body;
    assert_eq!(sent["messages"][3]["tool_call_id"], calls[1]["id"]);

    // A call id of the wrong type fails like Go's decoder.
    let bad = json!({"model":"gemma4:26b","messages":[{"role":"tool","content":"x","tool_call_id":7}]});
    assert_eq!(
        post_raw(&emu, "/api/chat", &bad.to_string()).await,
        (
            400,
            json!({"error": "json: cannot unmarshal number into Go struct field Message.messages.tool_call_id of type string"})
        )
    );
    // Gemma 3 has no tools at all.
    let g3 = json!({"model":"gemma3:4b","tools":tools,"messages":[{"role":"user","content":"x"}]});
    assert_eq!(
        post_raw(&emu, "/api/chat", &g3.to_string()).await,
        (400, json!({"error": "registry.ollama.ai/library/gemma3:4b does not support tools"}))
    );
}

#[tokio::test]
async fn a_mangled_tool_call_ends_the_turn_empty_or_as_raw_text() {
    let emu = gemma4_emulator();
    let ask = || {
        let emu = &emu;
        async move {
            let body = json!({"model":"gemma4:e4b","messages":[{"role":"user","content":"time in Tokyo?"}],
                "tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}]});
            ndjson(&post(emu, "/api/chat", body).await.text().await.unwrap())
        }
    };
    let raw = "call:get_time{timezone='Asia/Tokyo'}";

    // #17882: the call is swallowed — thinking, then nothing: no tool_calls, no content.
    emu.push_reply(Reply::mangled_tool_call(raw).thinking("Call the tool."));
    let lines = ask().await;
    assert!(lines.iter().all(|l| l["message"].get("tool_calls").is_none()));
    assert!(lines.iter().all(|l| l["message"]["content"] == ""));
    assert_eq!(lines[0]["message"]["thinking"], "Call");
    assert_eq!(lines.last().unwrap()["done_reason"], "stop");

    // ⚠ The other reading: the raw text arrives as content.
    emu.push_reply(Reply::mangled_tool_call(raw).mangled_call_as_content());
    let lines = ask().await;
    let content: String = lines.iter().map(|l| l["message"]["content"].as_str().unwrap()).collect();
    assert_eq!(content, raw);
    assert!(lines.iter().all(|l| l["message"].get("tool_calls").is_none()));
}

#[tokio::test]
async fn audio_in_images_reaches_models_that_hear_and_is_recorded() {
    let emu = gemma4_emulator();
    let clip = silent_wav(16_000, 1, 2_500);
    let mp3 = b"ID3\x04\0\0\0\0\0\0\xFF\xFB\x90\x00".to_vec();
    let ask = |model: &str, media: &[u8]| {
        json!({"model": model, "stream": false,
               "messages":[{"role":"user","content":"what is said?","images":[b64(media)]}]})
        .to_string()
    };
    for model in ["gemma4:e2b", "gemma4:e4b", "gemma4:12b"] {
        let (status, v) = post_raw(&emu, "/api/chat", &ask(model, &clip)).await;
        assert_eq!(status, 200, "{model}: {v}");
    }
    let (status, _) = post_raw(&emu, "/api/chat", &ask("gemma4:e4b", &mp3)).await;
    assert_eq!(status, 200);
    let (status, _) = post_raw(
        &emu,
        "/api/generate",
        &json!({"model":"gemma4:e2b","prompt":"?","stream":false,"images":[b64(&clip)]}).to_string(),
    )
    .await;
    assert_eq!(status, 200);

    let recorded = emu.requests_to("/api/chat");
    let media = &recorded[0].media;
    assert_eq!(media.len(), 1);
    assert_eq!((media[0].kind.as_str(), media[0].format.as_str()), ("audio", "wav"));
    assert_eq!((media[0].sample_rate, media[0].channels, media[0].bits_per_sample), (Some(16_000), Some(1), Some(16)));
    assert_eq!(media[0].duration_ms, Some(2_500));
    assert_eq!(media[0].bytes, clip.len());
    assert_eq!(recorded[3].media[0].format, "mp3");
    assert_eq!(emu.requests_to("/api/generate")[0].media[0].duration_ms, Some(2_500));
    // The log served over HTTP carries it too.
    let log = get(&emu, "/_emulator/requests").await;
    assert_eq!(log[0]["media"][0]["sample_rate"], 16000);

    // Models that cannot hear: Gemma 4's big ones (⚠ the text) and Gemma 3's text-only ones.
    let (status, v) = post_raw(&emu, "/api/chat", &ask("gemma4:31b", &clip)).await;
    assert_eq!(status, 500);
    assert_eq!(
        v["error"],
        "Failed to create new sequence: failed to process inputs: this model is missing data required for audio input"
    );
    let (status, v) = post_raw(&emu, "/api/chat", &ask("gemma3:1b", &png_header(4, 4))).await;
    assert_eq!(status, 500);
    assert_eq!(
        v["error"],
        "Failed to create new sequence: failed to process inputs: this model is missing data required for image input"
    );
}

#[tokio::test]
async fn image_sizes_are_recorded_and_image_max_tokens_is_accepted() {
    let emu = gemma4_emulator();
    let body = json!({"model":"gemma4:e4b","stream":false,"options":{"image_max_tokens":1120},
        "messages":[{"role":"user","content":"read this","images":[b64(&png_header(1344, 756)), PNG_1X1]}]});
    let r = post(&emu, "/api/chat", body).await;
    assert_eq!(r.status(), 200);
    let chat = &emu.requests_to("/api/chat")[0];
    let sizes: Vec<_> = chat.media.iter().map(|m| (m.kind.as_str(), m.format.as_str(), m.width, m.height)).collect();
    assert_eq!(sizes, [("image", "png", Some(1344), Some(756)), ("image", "png", Some(1), Some(1))]);
    assert_eq!(chat.body["options"]["image_max_tokens"], 1120);
}

#[tokio::test]
async fn openai_reasoning_effort_maps_to_think_and_streams_delta_reasoning() {
    let emu = gemma4_emulator();
    let ask = |extra: Value, reply: Reply| {
        emu.push_reply(reply);
        let mut body = json!({"model":"gemma4:e4b","stream":true,"messages":[{"role":"user","content":"q"}]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let emu = &emu;
        async move { sse_chunks(&post(emu, "/v1/chat/completions", body).await.text().await.unwrap()) }
    };
    let reasoning = |chunks: &[Value]| -> String {
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["reasoning"].as_str()).collect()
    };

    // Omitted: the model's default, thinking on; reasoning chunks carry content "".
    let chunks = ask(json!({}), Reply::chunks(&["Paris."]).thinking_chunks(&["Let me", " see."])).await;
    assert_eq!(reasoning(&chunks), "Let me see.");
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role":"assistant","content":"","reasoning":"Let me"}));
    assert_eq!(chunks[2]["choices"][0]["delta"]["content"], "Paris.");
    assert!(chunks[2]["choices"][0]["delta"].get("reasoning").is_none());
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");

    // A message holding both is split: reasoning (no content), then the content.
    let chunks = ask(json!({}), Reply::chunks(&["Paris."]).thinking_chunks(&["Hmm."]).thinking_joins_content()).await;
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role":"assistant","reasoning":"Hmm."}));
    assert_eq!(chunks[1]["choices"][0]["delta"], json!({"role":"assistant","content":"Paris."}));

    for (extra, thinks) in [
        (json!({"reasoning_effort":"none"}), false),
        (json!({"reasoning_effort":"minimal"}), true),
        (json!({"reasoning_effort":"xhigh"}), true),
        (json!({"reasoning":{"effort":"none"},"reasoning_effort":"high"}), false),
    ] {
        let chunks = ask(extra.clone(), Reply::text("A.").thinking("B.")).await;
        assert_eq!(reasoning(&chunks) == "B.", thinks, "{extra}");
    }
    // Not streamed: message.reasoning.
    emu.push_reply(Reply::text("A.").thinking("B."));
    let v: Value = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"gemma4:e4b","reasoning_effort":"high","messages":[{"role":"user","content":"q"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["choices"][0]["message"], json!({"role":"assistant","content":"A.","reasoning":"B."}));

    let (s, v) = post_raw(
        &emu,
        "/v1/chat/completions",
        r#"{"model":"gemma4:e4b","reasoning_effort":"huge","messages":[{"role":"user","content":"q"}]}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error":{"message":"invalid reasoning value: \"huge\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")",
                        "type":"invalid_request_error","param":null,"code":null}})
    );
    let (s, v) = post_raw(
        &emu,
        "/v1/chat/completions",
        r#"{"model":"gemma3:4b","reasoning_effort":"high","messages":[{"role":"user","content":"q"}]}"#,
    )
    .await;
    assert_eq!((s, v["error"]["message"].as_str()), (400, Some("\"gemma3:4b\" does not support thinking")));
}

#[tokio::test]
async fn openai_tool_calls_stream_with_ids_and_finish_with_tool_calls() {
    let emu = gemma4_emulator();
    emu.push_reply(two_time_calls("Two calls.", "Asia/Tokyo", "Europe/Paris"));
    let text = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"gemma4:31b","stream":true,"messages":[{"role":"user","content":"Tokyo and Paris?"}],
               "tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}]}),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = sse_chunks(&text);
    let with_calls: Vec<&Value> =
        chunks.iter().filter(|c| c["choices"][0]["delta"].get("tool_calls").is_some()).collect();
    assert_eq!(with_calls.len(), 1);
    let calls = with_calls[0]["choices"][0]["delta"]["tool_calls"].as_array().unwrap();
    for (i, call) in calls.iter().enumerate() {
        assert!(is_call_id(&call["id"]), "{call}");
        assert_eq!((call["index"].as_u64(), call["type"].as_str()), (Some(i as u64), Some("function")));
    }
    assert_eq!(calls[0]["function"]["arguments"], "{\"timezone\":\"Asia/Tokyo\"}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["reasoning"], "Two");
    let last = chunks.last().unwrap();
    assert_eq!(
        (last["choices"][0]["delta"]["content"].as_str(), last["choices"][0]["finish_reason"].as_str()),
        (Some(""), Some("tool_calls"))
    );

    // A mangled call: nothing to call, finish_reason stop (#18390 saw the same on /v1).
    emu.push_reply(Reply::mangled_tool_call("call:get_time{timezone=Asia/Tokyo}"));
    let v: Value = post(
        &emu,
        "/v1/chat/completions",
        json!({"model":"gemma4:31b","messages":[{"role":"user","content":"Tokyo?"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["choices"][0]["message"], json!({"role":"assistant","content":""}));
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn openai_input_audio_parts_join_the_images() {
    let emu = gemma4_emulator();
    let clip = silent_wav(16_000, 1, 1_000);
    let body = |model: &str, audio: Value| {
        json!({"model": model, "messages":[{"role":"user","content":[
            {"type":"text","text":"transcribe"},
            {"type":"input_audio","input_audio": audio},
        ]}]})
        .to_string()
    };
    let (s, v) =
        post_raw(&emu, "/v1/chat/completions", &body("gemma4:e4b", json!({"data": b64(&clip), "format":"wav"}))).await;
    assert_eq!(s, 200, "{v}");
    let media = &emu.requests_to("/v1/chat/completions")[0].media;
    assert_eq!((media[0].format.as_str(), media[0].duration_ms), ("wav", Some(1_000)));

    let message = |model: &str, audio: Value| {
        let body = body(model, audio);
        let emu = &emu;
        async move {
            let (s, v) = post_raw(emu, "/v1/chat/completions", &body).await;
            (s, v["error"]["message"].as_str().unwrap_or_default().to_string())
        }
    };
    assert_eq!(
        message("gemma4:e4b", json!({"format":"wav"})).await,
        (400, "invalid input_audio format: missing data".into())
    );
    assert_eq!(message("gemma4:e4b", json!("x")).await, (400, "invalid input_audio format".into()));
    assert_eq!(
        message("gemma4:e4b", json!({"data":"data:audio/wav;base64,AAAA"})).await,
        (400, "invalid input_audio base64 data: illegal base64 data at input byte 4".into())
    );
    let (s, _) = message("gemma4:26b", json!({"data": b64(&clip)})).await;
    assert_eq!(s, 500, "26b cannot hear");
}
