//! Streaming overhead without a GUI: time to first token and per-token cost of the core's clients, against a
//! raw HTTP client reading the same emulator stream in the same run.
//!
//! `cargo bench -p gemma-desk-e2e --bench streaming` (about a minute; `GEMMA_DESK_BENCH_RUNS=N` sets the
//! repetitions per scenario, default 25).
//!
//! Paths measured, one after another in every repetition (the order rotates, so all see the same machine state):
//! - `raw`: reqwest, one client kept for the whole run, splitting the body into lines and parsing each with
//!   serde_json itself (NDJSON), or reading `data:` lines (SSE). The baseline.
//! - `core`: `OllamaClient::chat` / `OpenAiClient::chat`, one client kept for the whole run.
//! - `agent`: `agent::answer` with time tools off (the plain path).
//! - `agent+tools`: `agent::answer` with time tools on, as the app sends every answer by default. Gemma 3 has no
//!   native tools, so this is the ReAct loop: `/api/show` first, then the answer, held back until the streamer
//!   knows it is prose and not a tool call.
//! - `app`: what `chat_send` (src-tauri/src/chat.rs) does, without Tauri, through the same code: `Turn::send` (the
//!   user's message saved, the answer started in the store), the kept client (`AppState::backend()` keeps one per
//!   server), then `Turn::answer` (the history read back, the agent with tools, every event written to the
//!   store's `StreamWriter`), every event serialised as the app hands it to the webview.
//!
//! Time to first token: from the call to the first text handed to the caller. Per-token cost: wall time from the
//! first to the last token divided by the tokens between, and the bench thread's CPU time per token (all client
//! work runs on it: a current-thread runtime; the emulator has its own thread).
mod support;

use futures_util::StreamExt;
use gemma_desk_core::agent::{self, AgentEvent, AnswerRequest};
use gemma_desk_core::store::Store;
use gemma_desk_core::turn::{Turn, TurnEvent};
use gemma_desk_core::{Backend, ChatRequest, ClientOptions, Message, OllamaClient, OpenAiClient};
use gemma_desk_e2e::emulator::{Emulator, Reply};
use reqwest::Url;
use std::time::Instant;
use support::{fmt, fmt_diff, median, percentile, verdict, Table};

const MODEL: &str = "gemma3:4b";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Api {
    Ndjson,
    Sse,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Raw,
    Core,
    Agent,
    AgentTools,
    App,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Raw => "raw reqwest",
            Path::Core => "core client",
            Path::Agent => "agent (tools off)",
            Path::AgentTools => "agent+tools (ReAct)",
            Path::App => "app path (chat_send)",
        }
    }
}

struct Scenario {
    name: &'static str,
    api: Api,
    tokens: usize,
    /// Before the response headers (a model loading / reading the prompt).
    first_byte_delay_ms: u64,
    /// Before every token.
    delay_ms: u64,
    paths: &'static [Path],
    runs: usize,
}

/// One measured answer.
#[derive(Default, Clone)]
struct Sample {
    ttft_ms: f64,
    per_token_us: f64,
    cpu_per_token_us: f64,
    total_ms: f64,
    /// App path only: saving the question and starting the answer in the store, before any request.
    store_ms: f64,
    /// App path only: getting the HTTP client (`AppState::backend()` keeps one per server: a clone).
    client_ms: f64,
}

/// This thread's CPU time so far (ns), from /proc/thread-self/schedstat.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn tokens(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i:04} ")).collect()
}

struct Timing {
    start: Instant,
    first: Option<Instant>,
    last: Option<Instant>,
    deltas: usize,
}

impl Timing {
    fn new() -> Timing {
        Timing { start: Instant::now(), first: None, last: None, deltas: 0 }
    }
    fn token(&mut self) {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.last = Some(now);
        self.deltas += 1;
    }
}

struct Bench {
    emu: Emulator,
    /// What every client talks to: see `support::Proxy` (why the emulator's stream goes through it).
    url: String,
    raw: reqwest::Client,
    ollama: OllamaClient,
    openai: OpenAiClient,
    store: Store,
    _store_dir: tempfile::TempDir,
}

impl Bench {
    fn reply(&self, s: &Scenario) -> Reply {
        let t = tokens(s.tokens);
        Reply::chunks(&t.iter().map(String::as_str).collect::<Vec<_>>())
            .first_byte_delay_ms(s.first_byte_delay_ms)
            .delay_ms(s.delay_ms)
    }

    /// The kept client for `api` (the app keeps one per server, as this does).
    fn backend(&self, api: Api) -> Backend {
        match api {
            Api::Ndjson => Backend::Ollama(self.ollama.clone()),
            Api::Sse => Backend::OpenAi(self.openai.clone()),
        }
    }

    async fn run(&self, s: &Scenario, path: Path) -> Sample {
        self.emu.push_reply(self.reply(s));
        let messages = vec![Message::user("Count for me, please.")];
        let cpu0 = thread_cpu_ns();
        let mut t = Timing::new();
        let mut text = String::new();
        let mut store_ms = f64::NAN;
        let mut client_ms = f64::NAN;
        match path {
            Path::Raw => self.raw_chat(s.api, &mut t, &mut text).await,
            Path::Core => {
                let req = ChatRequest::new(MODEL, messages);
                let out = match s.api {
                    Api::Ndjson => self.ollama.chat(&req, |_| t.token()).await,
                    Api::Sse => self.openai.chat(&req, |_| t.token()).await,
                };
                text = out.expect("core chat").content;
            }
            Path::Agent | Path::AgentTools => {
                let mut req = AnswerRequest::new(MODEL, messages);
                req.tools = path == Path::AgentTools;
                let backend = self.backend(s.api);
                let out = agent::answer(&backend, req, &mut |e| {
                    if let AgentEvent::Delta { .. } = e {
                        t.token()
                    }
                })
                .await;
                text = out.expect("agent answer").answer;
            }
            Path::App => {
                // chat_send: saved before it is sent, the answer started in the store.
                let store_start = Instant::now();
                let turn = Turn::send(&self.store, None, "Count for me, please.", Vec::new(), MODEL).unwrap();
                store_ms = store_start.elapsed().as_secs_f64() * 1e3;
                let client_start = Instant::now();
                let backend = self.backend(s.api);
                client_ms = client_start.elapsed().as_secs_f64() * 1e3;
                let request = |history| AnswerRequest { tools: true, ..AnswerRequest::new(MODEL, history) };
                let saved = turn
                    .answer(&backend, request, &mut |event| {
                        // What the app hands to the webview's channel (chat.rs's `page_event`).
                        let page = match &event {
                            TurnEvent::Started { conversation, user, answer_id } => {
                                serde_json::json!({ "conversation": conversation, "user": user, "answer_id": answer_id })
                            }
                            TurnEvent::Agent(agent_event) => serde_json::to_value(agent_event).unwrap_or_default(),
                        };
                        std::hint::black_box(page);
                        if let TurnEvent::Agent(AgentEvent::Delta { .. }) = event {
                            t.token()
                        }
                    })
                    .await
                    .expect("app-path answer");
                text = saved.answer.content;
            }
        }
        let end = Instant::now();
        let cpu = thread_cpu_ns() - cpu0;
        let n = s.tokens;
        // (The ReAct parser trims the answer's last space.)
        assert_eq!(text.trim_end().len(), n * 6 - 1, "{path:?} got the whole answer");
        let first = t.first.expect("a first token");
        let last = t.last.unwrap();
        Sample {
            ttft_ms: (first - t.start).as_secs_f64() * 1e3,
            per_token_us: if n > 1 { (last - first).as_secs_f64() * 1e6 / (n - 1) as f64 } else { f64::NAN },
            cpu_per_token_us: cpu as f64 / 1e3 / n as f64,
            total_ms: (end - t.start).as_secs_f64() * 1e3,
            store_ms,
            client_ms,
        }
    }

    /// The baseline: a plain reqwest client that reads the stream itself.
    async fn raw_chat(&self, api: Api, t: &mut Timing, text: &mut String) {
        let (url, body) = match api {
            Api::Ndjson => (
                format!("{}/api/chat", self.url),
                serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": "Count for me, please."}], "stream": true}),
            ),
            Api::Sse => (
                format!("{}/v1/chat/completions", self.url),
                serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": "Count for me, please."}], "stream": true}),
            ),
        };
        let resp = self.raw.post(url).json(&body).send().await.expect("raw request");
        assert!(resp.status().is_success());
        let mut body = resp.bytes_stream();
        let mut buf: Vec<u8> = Vec::new();
        'read: while let Some(chunk) = body.next().await {
            buf.extend_from_slice(&chunk.expect("raw body"));
            while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                let line = &line[..line.len() - 1];
                match api {
                    Api::Ndjson => {
                        if line.is_empty() {
                            continue;
                        }
                        let v: serde_json::Value = serde_json::from_slice(line).expect("an NDJSON line");
                        if let Some(c) = v["message"]["content"].as_str().filter(|c| !c.is_empty()) {
                            t.token();
                            text.push_str(c);
                        }
                        if v["done"] == true {
                            break 'read;
                        }
                    }
                    Api::Sse => {
                        let Some(data) = line.strip_prefix(b"data: ") else { continue };
                        if data == b"[DONE]" {
                            break 'read;
                        }
                        let v: serde_json::Value = serde_json::from_slice(data).expect("an SSE event");
                        if let Some(c) = v["choices"][0]["delta"]["content"].as_str().filter(|c| !c.is_empty()) {
                            t.token();
                            text.push_str(c);
                        }
                    }
                }
            }
        }
    }
}

fn main() {
    support::print_machine();
    let profile = if cfg!(debug_assertions) { "debug (numbers are not what ships)" } else { "release (bench profile)" };
    println!(
        "bench built in {profile}; emulator and a quick-ack proxy in front of it (see support::Proxy) on threads of \
         their own, clients on one current-thread runtime"
    );
    let runs = support::runs(25);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start();
    let proxy = support::Proxy::start(emu.port(), false);
    let url = proxy.url();
    let bench = Bench {
        raw: reqwest::Client::builder().no_proxy().build().unwrap(),
        ollama: OllamaClient::new(Url::parse(&url).unwrap(), ClientOptions::default()).unwrap(),
        openai: OpenAiClient::new(Url::parse(&format!("{url}/v1/")).unwrap(), None, ClientOptions::default()).unwrap(),
        url,
        store: Store::open(store_dir.path()).unwrap(),
        _store_dir: store_dir,
        emu,
    };
    use Path::*;
    const ALL: &[Path] = &[Raw, Core, Agent, AgentTools, App];
    const SSE: &[Path] = &[Raw, Core, Agent, AgentTools, App];
    let scenarios = [
        Scenario {
            name: "/api/chat NDJSON, 2,000 tokens, no delay",
            api: Api::Ndjson,
            tokens: 2000,
            first_byte_delay_ms: 0,
            delay_ms: 0,
            paths: ALL,
            runs,
        },
        Scenario {
            name: "/api/chat NDJSON, 20 tokens, 100 ms before the first byte",
            api: Api::Ndjson,
            tokens: 20,
            first_byte_delay_ms: 100,
            delay_ms: 0,
            paths: ALL,
            runs: runs.min(15),
        },
        Scenario {
            name: "/api/chat NDJSON, 12 tokens at 40 tokens/s (25 ms each)",
            api: Api::Ndjson,
            tokens: 12,
            first_byte_delay_ms: 0,
            delay_ms: 25,
            paths: ALL,
            runs: runs.min(15),
        },
        Scenario {
            name: "/v1 SSE, 2,000 tokens, no delay",
            api: Api::Sse,
            tokens: 2000,
            first_byte_delay_ms: 0,
            delay_ms: 0,
            paths: SSE,
            runs,
        },
        Scenario {
            name: "/v1 SSE, 20 tokens, 100 ms before the first byte",
            api: Api::Sse,
            tokens: 20,
            first_byte_delay_ms: 100,
            delay_ms: 0,
            paths: SSE,
            runs: runs.min(15),
        },
    ];

    let mut goal = Table::new(
        "Goal: time to first token within 5 ms of the raw client (median of paired differences)",
        &["scenario", "path", "TTFT − raw (ms)", "goal ≤ 5 ms"],
    );
    for s in &scenarios {
        let started = Instant::now();
        // Warm up every path (connections, lazy statics, the emulator's first replies).
        rt.block_on(async {
            for &p in s.paths {
                bench.run(s, p).await;
            }
        });
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); s.paths.len()];
        for rep in 0..s.runs {
            for k in 0..s.paths.len() {
                let i = (rep + k) % s.paths.len(); // rotate the order
                samples[i].push(rt.block_on(bench.run(s, s.paths[i])));
            }
        }
        let raw = &samples[0];
        let mut t = Table::new(
            &format!("{} — {} runs, interleaved ({:.0} s)", s.name, s.runs, started.elapsed().as_secs_f64()),
            &[
                "path",
                "TTFT median (ms)",
                "TTFT p95 (ms)",
                "TTFT − raw (ms)",
                "per token median (µs)",
                "per token p95 (µs)",
                "per token − raw (µs)",
                "CPU/token (µs)",
                "CPU/token − raw (µs)",
                "whole answer median (ms)",
            ],
        );
        let mut app_note = String::new();
        for (i, &p) in s.paths.iter().enumerate() {
            let col = |f: fn(&Sample) -> f64| samples[i].iter().map(f).collect::<Vec<f64>>();
            // Paired differences: repetition r of this path against repetition r of raw.
            let diff = |f: fn(&Sample) -> f64| {
                median(&samples[i].iter().zip(raw).map(|(a, b)| f(a) - f(b)).collect::<Vec<f64>>())
            };
            let ttft = col(|x| x.ttft_ms);
            let per = col(|x| x.per_token_us);
            let cpu = col(|x| x.cpu_per_token_us);
            let d_ttft = diff(|x| x.ttft_ms);
            t.row(vec![
                p.name().into(),
                fmt(median(&ttft)),
                fmt(percentile(&ttft, 95.0)),
                if p == Raw { "baseline".into() } else { fmt_diff(d_ttft) },
                fmt(median(&per)),
                fmt(percentile(&per, 95.0)),
                if p == Raw { "baseline".into() } else { fmt_diff(diff(|x| x.per_token_us)) },
                fmt(median(&cpu)),
                if p == Raw { "baseline".into() } else { fmt_diff(diff(|x| x.cpu_per_token_us)) },
                fmt(median(&col(|x| x.total_ms))),
            ]);
            if p == App {
                let store = col(|x| x.store_ms);
                let client = col(|x| x.client_ms);
                app_note = format!(
                    "App path, before its request: saving the question and starting the answer in SQLite {} ms \
                     (median; p95 {} ms), getting the kept HTTP client {} ms (median; p95 {} ms).",
                    fmt(median(&store)),
                    fmt(percentile(&store, 95.0)),
                    fmt(median(&client)),
                    fmt(percentile(&client, 95.0))
                );
            }
            if p != Raw {
                goal.row(vec![s.name.into(), p.name().into(), fmt_diff(d_ttft), verdict(d_ttft, 5.0, "ms")]);
            }
        }
        t.print();
        println!("{app_note}");
    }
    goal.print();
    println!(
        "Why agent+tools and the app path start later: with tools on (the app's default) and a model without native \
         tools (Gemma 3), the agent first asks /api/show whether the model has tools, and its ReAct streamer holds \
         back a start that could still become a label (\"Th…\", \"Act…\"); the app path also saves the question \
         and starts the answer in SQLite (three fsynced transactions) before it sends."
    );
}
