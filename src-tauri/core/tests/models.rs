//! Model management against the emulator: pulling with progress, failures and cancellation,
//! deleting, and the details the model picker shows.

use gemma_desk_core::client::host::parse_host;
use gemma_desk_core::{ClientOptions, Error, Lang, OllamaClient, PullPhase, PullProgress};
use ollama_emulator::{Emulator, ModelSpec, Reply};
use std::time::{Duration, Instant};

fn client(emu: &Emulator) -> OllamaClient {
    let opts = ClientOptions {
        first_byte_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    };
    OllamaClient::new(parse_host(&emu.url()).unwrap(), opts).unwrap()
}

async fn installed(c: &OllamaClient) -> Vec<String> {
    c.list_models().await.unwrap().into_iter().map(|m| m.name).collect()
}

#[tokio::test]
async fn pull_reports_steady_progress_to_the_full_size_and_installs() {
    let emu = Emulator::start();
    emu.set_pull_delay_ms(2);
    let c = client(&emu);
    let mut seen: Vec<PullProgress> = Vec::new();
    let out = c.pull("gemma3:270m", |p| seen.push(p.clone())).await.unwrap();

    let size = ModelSpec::gemma3_270m().size;
    assert_eq!(out.model, "gemma3:270m");
    assert_eq!(out.total, size);
    assert_eq!(out.downloaded, size, "nothing was on disk before");
    assert!(seen.len() > 10, "a report per line: {}", seen.len());
    for w in seen.windows(2) {
        assert!(w[1].completed >= w[0].completed, "{:?} then {:?}", w[0], w[1]);
        assert!(w[1].total >= w[0].total);
        assert!(w[1].fraction.unwrap_or(0.0) >= w[0].fraction.unwrap_or(0.0));
        assert!(w[1].elapsed_ms >= w[0].elapsed_ms);
    }
    let mut phases: Vec<PullPhase> = seen.iter().map(|p| p.phase).collect();
    phases.dedup();
    assert_eq!(
        phases,
        [PullPhase::Manifest, PullPhase::Downloading, PullPhase::Verifying, PullPhase::Writing, PullPhase::Done]
    );
    let last_download = seen.iter().rev().find(|p| p.phase == PullPhase::Downloading).unwrap();
    assert_eq!((last_download.completed, last_download.total), (size, size));
    assert_eq!(last_download.layers, 5);
    assert_eq!(seen.last().unwrap().fraction, Some(1.0));

    assert_eq!(installed(&c).await[0], "gemma3:270m", "listed, newest first");
    let req = &emu.requests_to("/api/pull")[0];
    assert_eq!(req.body, serde_json::json!({"model": "gemma3:270m", "stream": true}));
    assert!(!req.headers.contains_key("origin"));
    assert!(!req.client_disconnected, "a finished pull reads its answer to the end");

    // Pulled again, everything is on disk: complete at once, nothing downloaded.
    let again = c.pull("gemma3:270m", |_| {}).await.unwrap();
    assert_eq!((again.total, again.downloaded), (size, 0));
}

#[tokio::test]
async fn an_unknown_model_is_a_model_problem() {
    let emu = Emulator::start();
    let c = client(&emu);
    let mut phases = Vec::new();
    let err = c.pull("gemma9:99b", |p| phases.push(p.phase)).await.unwrap_err();
    assert_eq!(err, Error::UnknownModel { model: "gemma9:99b".into() });
    assert_eq!(err.exit_code(), 4);
    assert!(err.hint(Lang::En).unwrap().contains("ollama.com/library"));
    assert_eq!(phases, [PullPhase::Manifest]);
    // An empty name never reaches Ollama.
    assert_eq!(c.pull("  ", |_| {}).await.unwrap_err().kind(), "usage");
    assert_eq!(emu.requests_to("/api/pull").len(), 1);
}

#[tokio::test]
async fn an_error_mid_pull_is_reported_and_installs_nothing() {
    let emu = Emulator::start();
    emu.push_pull_reply(Reply::default().error_after(4, "max retries exceeded: unexpected EOF"));
    let c = client(&emu);
    let mut last = None;
    let err = c.pull("gemma3:12b", |p| last = Some(p.clone())).await.unwrap_err();
    assert_eq!(
        err,
        Error::PullFailed { model: "gemma3:12b".into(), message: Some("max retries exceeded: unexpected EOF".into()) }
    );
    assert_eq!(err.exit_code(), 1);
    assert!(err.hint(Lang::En).unwrap().contains("resumes"));
    let last = last.expect("progress came before the error");
    assert_eq!(last.phase, PullPhase::Downloading);
    assert!(last.completed > 0 && last.completed < last.total, "{last:?}");
    assert!(!installed(&c).await.contains(&"gemma3:12b".to_string()));
}

#[tokio::test]
async fn a_refusal_before_streaming_keeps_ollamas_reason() {
    let emu = Emulator::start();
    let msg = "pull model manifest: 412: The model you are attempting to pull requires a newer version of Ollama.";
    emu.push_pull_reply(Reply::default().status(500, msg));
    let err = client(&emu).pull("gemma3:4b", |_| {}).await.unwrap_err();
    assert_eq!(err, Error::PullFailed { model: "gemma3:4b".into(), message: Some(msg.into()) });
    assert!(err.hint(Lang::En).unwrap().contains("ollama.com/download"), "{:?}", err.hint(Lang::En));
}

#[tokio::test]
async fn a_cut_or_silent_connection_fails_the_pull() {
    let emu = Emulator::start();
    let c = client(&emu);
    emu.push_pull_reply(Reply::default().cut_after(3));
    let err = c.pull("gemma3:12b", |_| {}).await.unwrap_err();
    assert_eq!(err, Error::PullFailed { model: "gemma3:12b".into(), message: None });
    assert!(err.message(Lang::En).contains("connection to Ollama was cut"));

    emu.push_pull_reply(Reply::default().stall_after(3));
    let err = c.pull("gemma3:12b", |_| {}).await.unwrap_err();
    assert_eq!(err, Error::Stalled { secs: 1 });
    // Neither left a model behind, and the client hung up on the silent one.
    assert!(!installed(&c).await.contains(&"gemma3:12b".to_string()));
    assert!(
        wait_for(|| emu.requests_to("/api/pull")[1].client_disconnected).await,
        "{:?}",
        emu.requests_to("/api/pull")
    );
}

#[tokio::test]
async fn dropping_the_pull_cancels_it() {
    let emu = Emulator::start();
    emu.set_pull_delay_ms(100);
    let c = client(&emu);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let pull = c.pull("gemma3:27b", |p| {
        if p.phase == PullPhase::Downloading {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        }
    });
    tokio::select! {
        r = pull => panic!("the pull should still be running: {r:?}"),
        _ = rx => {}
    }
    assert!(wait_for(|| emu.requests_to("/api/pull")[0].client_disconnected).await, "Ollama must see the client leave");
    assert!(!installed(&c).await.contains(&"gemma3:27b".to_string()));
}

#[tokio::test]
async fn delete_removes_a_model_once() {
    let emu = Emulator::start();
    let c = client(&emu);
    assert!(installed(&c).await.contains(&"gemma3:1b".to_string()));
    c.delete("gemma3:1b").await.unwrap();
    assert!(!installed(&c).await.contains(&"gemma3:1b".to_string()));
    let req = &emu.requests_to("/api/delete")[0];
    assert_eq!((req.method.as_str(), &req.body), ("DELETE", &serde_json::json!({"model": "gemma3:1b"})));
    let err = c.delete("gemma3:1b").await.unwrap_err();
    assert_eq!(err, Error::ModelNotFound { model: "gemma3:1b".into() });
    assert_eq!(err.exit_code(), 4);
}

#[tokio::test]
async fn details_gather_show_and_size() {
    let emu = Emulator::start();
    let c = client(&emu);
    let d = c.details("gemma3:4b").await.unwrap();
    assert_eq!(d.name, "gemma3:4b");
    assert_eq!(d.family.as_deref(), Some("gemma3"));
    assert_eq!(d.parameter_size.as_deref(), Some("4.3B"));
    assert_eq!(d.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(d.format.as_deref(), Some("gguf"));
    assert_eq!(d.context_length, Some(131_072));
    assert_eq!(d.capabilities, ["completion", "vision"]);
    assert_eq!(d.vision_image_size, Some(896));
    assert_eq!(d.size, Some(ModelSpec::gemma3_4b().size));
    assert!(d.parameter_count.unwrap() > 4_000_000_000, "{:?}", d.parameter_count);
    assert!(d.modified_at.as_deref().unwrap().ends_with('Z'));

    let small = c.details("gemma3:1b").await.unwrap();
    assert_eq!((small.vision_image_size, small.context_length), (None, Some(32_768)));
    assert_eq!(small.capabilities, ["completion"]);

    // `gemma3` is `gemma3:latest`, which is not installed here.
    assert_eq!(c.details("gemma3").await.unwrap_err(), Error::ModelNotFound { model: "gemma3".into() });

    // What the webview receives.
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["vision_image_size"], 896);
    assert_eq!(v["size"], ModelSpec::gemma3_4b().size);
}

/// Polls `probe` for up to five seconds: a hang-up reaches the emulator asynchronously, and the
/// client's connection task must get to run (so this sleeps the async way) to close the socket.
async fn wait_for(mut probe: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if probe() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
