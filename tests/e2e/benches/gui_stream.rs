//! Streaming through the real GUI: time to first token in the page against a raw client on the same emulator
//! stream, and whether the window keeps up with 1,000 tokens/s without freezing.
//!
//! `cargo bench -p gemma-desk-e2e --bench gui_stream` (about 1½ minutes). `GEMMA_DESK_BENCH_RUNS=N` sets the
//! time-to-first-token repetitions (default 8); `GEMMA_DESK_BENCH_APP` picks the binary (see startup.rs).
//!
//! The app talks to the Ollama emulator through a small TCP proxy in this bench that notes the wall-clock time
//! of every read in both directions: when a request reached the "server" and when each token left it. In the
//! page, a MutationObserver (installed with WebDriver's execute script) notes when the answer's text changes,
//! and a requestAnimationFrame loop notes every frame, all in wall-clock milliseconds
//! (`performance.timeOrigin + performance.now()`), so both sides share one clock.
//!
//! 1. Time to first token: a short answer (the first token 25 ms after the request, as a loaded model answers),
//!    sent from the page exactly as Enter sends it (`send()` in ui/chat.js), with time tools on (the app's
//!    default: for Gemma 3 that is the ReAct loop) and off, interleaved with a raw reqwest client reading the
//!    same reply through the same proxy.
//! 2. 1,000 tokens/s for 5 s (5,000 tokens, one NDJSON line each, paced by the proxy: see `support::Proxy`):
//!    frame gaps while streaming, how far the page's text lags behind the stream, and the app's CPU use.
//! 3. The same 5,000 tokens as fast as the emulator sends them.
//! 4. Gemma 4's thinking: from the first thinking token leaving the server to it painted in the answer's thinking
//!    panel, against a raw client reading the same reply's first thinking token through the same proxy.
mod support;

use futures_util::StreamExt;
use gemma_desk_e2e::emulator::{Emulator, ModelSpec, Reply};
use gemma_desk_e2e::Profile;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{fmt, fmt_diff, median, percentile, unix_ms, verdict, Gui, Proxy, Table};

// ---------- the page side ----------

/// Installed once: notes every change of the last answer's text length (`samples`: [time, length]), the first
/// text (`first`) and the frame after it (`firstFrame`); `FRAME_RECORDER` notes every frame.
const OBSERVER: &str = r#"
  const b = window.__bench;
  if (!b.obs) {
    b.obs = new MutationObserver(() => {
      if (!b.armed) return;
      const bodies = document.querySelectorAll('#messages .msg.assistant .body');
      const body = bodies[bodies.length - 1];
      if (!body) return;
      const t = b.now();
      const thinking = body.parentElement.querySelector('details.thinking .thinking-body');
      if (thinking && thinking.textContent.length > 0 && b.thinkFirst === null) {
        b.thinkFirst = t;
        requestAnimationFrame(() => { b.thinkFrame = b.now(); });
      }
      const len = body.textContent.length;
      if (len > 0 && b.first === null) {
        b.first = t;
        requestAnimationFrame(() => { b.firstFrame = b.now(); });
      }
      const last = b.samples[b.samples.length - 1];
      if (!last || last[1] !== len) b.samples.push([t, len]);
    });
    b.obs.observe(document.getElementById('messages'), { childList: true, subtree: true, characterData: true });
  }
  return true;
"#;

/// A new chat (as the button does), left to settle before the next send.
const NEW_CHAT: &str = "window.__bench.ui.sidebar.newChat(); return true;";

/// Send `arguments[0]` as Enter does, with time tools `arguments[1]`; returns when it was sent.
const SEND: &str = r#"
  const b = window.__bench;
  b.ui.chat.setToolsToggle(arguments[1]);
  b.armed = true; b.first = null; b.firstFrame = null; b.samples = []; b.thinkFirst = null; b.thinkFrame = null;
  document.getElementById('prompt').value = arguments[0];
  b.sent = b.now();
  b.ui.chat.send();  // runs synchronously up to the command's invoke: the page's own part
  b.sendSync = b.now() - b.sent;
  return b.sent;
"#;

const DONE: &str = r#"
  const b = window.__bench;
  if (b.first === null || b.firstFrame === null || document.querySelector('.msg.assistant.streaming')) return null;
  b.armed = false;
  return {
    sent: b.sent, sendSync: b.sendSync, first: b.first, firstFrame: b.firstFrame, samples: b.samples,
    thinkFirst: b.thinkFirst, thinkFrame: b.thinkFrame,
  };
"#;

fn tokens(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i:04} ")).collect()
}

fn reply(n: usize, delay_ms: u64) -> Reply {
    let t = tokens(n);
    Reply::chunks(&t.iter().map(String::as_str).collect::<Vec<_>>()).delay_ms(delay_ms)
}

/// Total CPU seconds (user + system) of a process, from /proc/<pid>/stat.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some(close) = stat.rfind(')') else { return 0.0 };
    let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let ticks: f64 =
        f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ
}

fn tree_cpu(root: u32) -> Vec<(String, u32, f64)> {
    std::iter::once(root)
        .chain(support::descendants(root))
        .map(|p| (support::process_name(p), p, cpu_secs(p)))
        .collect()
}

/// A new chat, then a moment for what it starts (the sidebar refresh) to finish, as a person takes to type.
async fn new_chat(gui: &Gui) {
    gui.js(NEW_CHAT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The round trip of one trivial command (`app_info`) from the page, median of 20 (ms): the IPC's own cost.
const IPC_ROUND_TRIP: &str = r#"
  const b = window.__bench, done = arguments[arguments.length - 1];
  (async () => {
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t = b.now();
      await window.__TAURI__.core.invoke('app_info');
      times.push(b.now() - t);
    }
    times.sort((x, y) => x - y);
    done(times[10]);
  })();
"#;

/// A raw client through the proxy: (sent, first token) in wall-clock ms.
async fn raw_first_token(http: &reqwest::Client, url: &str) -> (f64, f64) {
    raw_first(http, url, "gemma3:4b", "content").await
}

/// A raw client through the proxy asking `model`: (sent, first non-empty `message.<field>`) in wall-clock ms.
async fn raw_first(http: &reqwest::Client, url: &str, model: &str, field: &str) -> (f64, f64) {
    let body =
        json!({"model": model, "messages": [{"role": "user", "content": "Count for me, please."}], "stream": true});
    let sent = unix_ms();
    let resp = http.post(format!("{url}/api/chat")).json(&body).send().await.unwrap();
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut first = None;
    while let Some(chunk) = stream.next().await {
        buf.extend_from_slice(&chunk.unwrap());
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let v: Value = serde_json::from_slice(&line).unwrap();
            if first.is_none() && v["message"][field].as_str().is_some_and(|c| !c.is_empty()) {
                first = Some(unix_ms());
            }
        }
    }
    (sent, first.expect("the raw client got a token"))
}

#[derive(Default)]
struct Ttft {
    total: Vec<f64>,
    /// Sent → the request for the answer reached the server.
    before_request: Vec<f64>,
    /// Of that, the page's own synchronous work in `send()` before the command is invoked.
    page_part: Vec<f64>,
    /// First token left the server → in the page.
    delivery: Vec<f64>,
    /// First token in the page → the frame that shows it.
    to_frame: Vec<f64>,
    vs_raw: Vec<f64>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    support::print_machine();
    let app = support::app_binary();
    let runs = support::runs(8);
    let emu = Emulator::start();
    let mut models = ModelSpec::defaults();
    models.push(ModelSpec::gemma4_e4b());
    emu.set_models(models);
    let proxy = Proxy::start(emu.port(), true);
    let profile = Profile::new();
    let data_dir = profile.dir.path().join("data");
    let env = support::app_env(&profile, &data_dir, &proxy.url());
    let gui = Gui::launch(&app, &env).await;
    gui.wait_connected().await;
    gui.js(support::FRAME_RECORDER).await;
    gui.ui_modules().await;
    gui.js(OBSERVER).await;
    // The page's clock against ours: the page's reading must fall inside the round trip.
    let before = unix_ms();
    let page = gui.js("return window.__bench.now()").await.as_f64().unwrap();
    let after = unix_ms();
    println!(
        "clocks: page − bench = {:+.2} ms (within a {:.2} ms round trip: {})",
        page - (before + after) / 2.0,
        after - before,
        if page >= before - 1.0 && page <= after + 1.0 { "consistent" } else { "NOT consistent: timings are off" }
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Warm up: the first answer loads lazy code in the page and the app.
    for tools in [true, false] {
        emu.push_reply(reply(20, 25));
        new_chat(&gui).await;
        gui.js_with(SEND, vec![json!("Warm up"), json!(tools)]).await;
        gui.wait("the warm-up answer", Duration::from_secs(30), DONE).await;
    }

    // ---- 1. time to first token ----
    let started = Instant::now();
    let mut raw_total = Vec::new();
    let mut raw_delivery = Vec::new();
    let mut gui_ttft: [Ttft; 2] = Default::default(); // [tools on, tools off]
    for rep in 0..runs {
        emu.push_reply(reply(20, 25));
        let mark = proxy.mark();
        let (sent, first) = raw_first_token(&http, &proxy.url()).await;
        let tok = proxy.token_times(mark, 1)[0].expect("the proxy saw the raw client's first token");
        let raw = first - sent;
        raw_total.push(raw);
        raw_delivery.push(first - tok);
        for k in 0..2 {
            let which = (rep + k) % 2;
            let tools = which == 0;
            emu.push_reply(reply(20, 25));
            new_chat(&gui).await;
            let mark = proxy.mark();
            gui.js_with(SEND, vec![json!(format!("Count for me ({rep})")), json!(tools)]).await;
            let r = gui.wait("the answer", Duration::from_secs(30), DONE).await;
            let (sent, first, frame) =
                (r["sent"].as_f64().unwrap(), r["first"].as_f64().unwrap(), r["firstFrame"].as_f64().unwrap());
            let chat_at = proxy
                .requests(mark)
                .into_iter()
                .find(|(_, p)| p == "/api/chat")
                .map(|(t, _)| t)
                .expect("the app's request");
            let tok = proxy.token_times(mark, 1)[0].expect("the proxy saw the app's first token");
            let m = &mut gui_ttft[which];
            m.total.push(first - sent);
            m.before_request.push(chat_at - sent);
            m.page_part.push(r["sendSync"].as_f64().unwrap_or(f64::NAN));
            m.delivery.push(first - tok);
            m.to_frame.push(frame - first);
            m.vs_raw.push((first - sent) - raw);
        }
    }
    let mut t = Table::new(
        &format!(
            "Time to first token, GUI vs raw client — {runs} runs each, interleaved, first token 25 ms after the request ({:.0} s)",
            started.elapsed().as_secs_f64()
        ),
        &[
            "path",
            "TTFT median (ms)",
            "TTFT p95 (ms)",
            "− raw (ms, paired median)",
            "sent → request at server (ms; of which page's send())",
            "token left server → in page (ms)",
            "in page → frame (ms)",
        ],
    );
    t.row(vec![
        "raw reqwest (baseline)".into(),
        fmt(median(&raw_total)),
        fmt(percentile(&raw_total, 95.0)),
        "baseline".into(),
        "–".into(),
        fmt(median(&raw_delivery)),
        "–".into(),
    ]);
    for (which, name) in [(0, "GUI, time tools on (default; ReAct for Gemma 3)"), (1, "GUI, time tools off")] {
        let m = &gui_ttft[which];
        t.row(vec![
            name.into(),
            fmt(median(&m.total)),
            fmt(percentile(&m.total, 95.0)),
            fmt_diff(median(&m.vs_raw)),
            format!("{} ({})", fmt(median(&m.before_request)), fmt(median(&m.page_part))),
            fmt(median(&m.delivery)),
            fmt(median(&m.to_frame)),
        ]);
    }
    t.print();
    let ipc = gui.client.execute_async(IPC_ROUND_TRIP, vec![]).await.ok().and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    println!(
        "For scale: one trivial command's round trip from the page (invoke('app_info')) takes {} ms (median of 20). \
         \"sent → request at server\" is the app's work before it asks the server: the chat_send command's IPC, \
         saving the question and starting the answer in SQLite (each a committed, fsynced transaction), a new \
         HTTP client and connection per answer, and with time tools /api/show first.",
        fmt(ipc)
    );

    // ---- 4. Gemma 4's first thinking token ----
    let thinking_reply = || {
        let t = tokens(20);
        Reply::chunks(&["Done."]).thinking_chunks(&t.iter().map(String::as_str).collect::<Vec<_>>()).delay_ms(25)
    };
    let pick = |model: &str| {
        format!("const s = document.getElementById('model-select'); s.value = '{model}'; s.dispatchEvent(new Event('change')); return true;")
    };
    gui.js(&pick("gemma4:e4b")).await;
    emu.push_reply(thinking_reply());
    new_chat(&gui).await;
    gui.js_with(SEND, vec![json!("Warm up thinking"), json!(false)]).await;
    gui.wait("the warm-up thinking answer", Duration::from_secs(30), DONE).await;
    let (mut think_gui, mut think_raw, mut think_frame, mut think_vs_raw) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for rep in 0..runs {
        emu.push_reply(thinking_reply());
        let mark = proxy.mark();
        let (_, first) = raw_first(&http, &proxy.url(), "gemma4:e4b", "thinking").await;
        let tok = proxy.thinking_times(mark, 1)[0].expect("the proxy saw the raw client's first thinking token");
        let raw = first - tok;
        think_raw.push(raw);
        emu.push_reply(thinking_reply());
        new_chat(&gui).await;
        let mark = proxy.mark();
        gui.js_with(SEND, vec![json!(format!("Think for me ({rep})")), json!(false)]).await;
        let r = gui.wait("the thinking answer", Duration::from_secs(30), DONE).await;
        let tok = proxy.thinking_times(mark, 1)[0].expect("the proxy saw the app's first thinking token");
        let (Some(shown), Some(frame)) = (r["thinkFirst"].as_f64(), r["thinkFrame"].as_f64()) else {
            panic!("the thinking panel never showed text: {r}")
        };
        think_gui.push(shown - tok);
        think_frame.push(frame - tok);
        think_vs_raw.push((frame - tok) - raw);
    }
    gui.js(&pick("gemma3:4b")).await;
    let mut th = Table::new(
        &format!("Gemma 4: first thinking token left the server → shown — {runs} runs, 25 ms between tokens"),
        &[
            "path",
            "→ in page / raw client (ms, median)",
            "p95 (ms)",
            "→ painted frame (ms, median)",
            "painted − raw (ms)",
        ],
    );
    th.row(vec![
        "raw reqwest (baseline)".into(),
        fmt(median(&think_raw)),
        fmt(percentile(&think_raw, 95.0)),
        "–".into(),
        "baseline".into(),
    ]);
    th.row(vec![
        "GUI thinking panel".into(),
        fmt(median(&think_gui)),
        fmt(percentile(&think_gui, 95.0)),
        fmt(median(&think_frame)),
        fmt_diff(median(&think_vs_raw)),
    ]);
    th.print();

    // ---- 2 and 3. a fast stream ----
    let app_pid = gui.app_pid(&app);
    let mut fast = Table::new(
        "A fast stream of 5,000 tokens through the GUI (time tools on, the default)",
        &[
            "stream",
            "rate sent (tokens/s)",
            "frames > 50 ms",
            "longest frame gap (ms)",
            "frame gap p95 (ms)",
            "page updates",
            "lag behind stream, median / max (ms)",
            "last token → in page (ms)",
            "app CPU (s): UI / web / other",
        ],
    );
    let mut keeps_up = Vec::new();
    for (name, pace) in [("1,000 tokens/s", 1000u64), ("as fast as the emulator sends", 0)] {
        const N: usize = 5000;
        emu.push_reply(reply(N, 0));
        proxy.pace(pace);
        new_chat(&gui).await;
        let cpu_before = app_pid.map(tree_cpu).unwrap_or_default();
        let mark = proxy.mark();
        gui.js_with(SEND, vec![json!(format!("Stream {name}")), json!(true)]).await;
        let r = gui.wait("the long answer", Duration::from_secs(120), DONE).await;
        proxy.pace(0);
        let cpu_after = app_pid.map(tree_cpu).unwrap_or_default();
        let frames = support::as_f64s(&gui.js("return window.__bench.frames").await);
        let times = proxy.token_times(mark, N);
        let (Some(t0), Some(t_last)) = (times[0], times[N - 1]) else { panic!("the proxy missed tokens") };
        let rate = (N - 1) as f64 / ((t_last - t0) / 1000.0);
        let samples: Vec<(f64, usize)> = r["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s[0].as_f64().unwrap(), s[1].as_u64().unwrap() as usize))
            .collect();
        // "t0000 t0001 … t4999": six characters a token, the last one's space trimmed.
        let full = N * 6 - 1;
        let done_at = samples.iter().find(|(_, len)| *len >= full).map(|(t, _)| *t).expect("the whole answer shown");
        let lags: Vec<f64> = samples
            .iter()
            .filter(|(_, len)| *len > 0)
            .filter_map(|(t, len)| {
                let shown = ((len + 1) / 6).clamp(1, N);
                Some(t - times[shown - 1]?)
            })
            .collect();
        let gaps = support::frame_gaps(&frames, t0, done_at);
        let long = gaps.iter().filter(|&&g| g > 50.0).count();
        let cpu = |sel: &dyn Fn(&str) -> bool| -> f64 {
            cpu_after
                .iter()
                .filter(|(n, _, _)| sel(n))
                .map(|(_, p, c)| c - cpu_before.iter().find(|(_, q, _)| q == p).map(|x| x.2).unwrap_or(0.0))
                .sum()
        };
        let app_name = app.file_name().unwrap().to_string_lossy().to_string();
        let ui = cpu(&|n| n == app_name);
        let web = cpu(&|n| n.starts_with("WebKitWebProces"));
        let other = cpu(&|n| n != app_name && !n.starts_with("WebKitWebProces"));
        fast.row(vec![
            name.into(),
            fmt(rate),
            long.to_string(),
            fmt(support::max(&gaps)),
            fmt(percentile(&gaps, 95.0)),
            samples.len().to_string(),
            format!("{} / {}", fmt(median(&lags)), fmt(support::max(&lags))),
            fmt(done_at - t_last),
            format!("{} / {} / {} over {:.1} s", fmt(ui), fmt(web), fmt(other), (done_at - t0) / 1000.0),
        ]);
        if pace == 1000 {
            keeps_up.push((long, support::max(&gaps), done_at - t_last, rate));
        }
    }
    fast.print();

    let mut g = Table::new("Summary", &["figure", "goal", "measured", "verdict"]);
    for (which, name) in [(0, "tools on (default)"), (1, "tools off")] {
        let d = median(&gui_ttft[which].vs_raw);
        g.row(vec![
            format!("GUI time to first token − raw client, {name}"),
            "≤ 5 ms".into(),
            format!("{} ms", fmt_diff(d)),
            verdict(d, 5.0, "ms"),
        ]);
    }
    let d = median(&think_vs_raw);
    g.row(vec![
        "Gemma 4 thinking painted − raw client's first thinking token".into(),
        "≤ one token interval (25 ms)".into(),
        format!("{} ms", fmt_diff(d)),
        verdict(d, 25.0, "ms"),
    ]);
    if let Some((long, worst, lag, rate)) = keeps_up.first() {
        g.row(vec![
            format!("keeps up with 1,000 tokens/s (sent at {} tokens/s)", fmt(*rate)),
            "no frame > 50 ms".into(),
            format!(
                "{long} frames > 50 ms, longest {} ms; all shown {} ms after the last token",
                fmt(*worst),
                fmt(*lag)
            ),
            if *long == 0 { "met".into() } else { format!("MISSED: {long} frames over 50 ms") },
        ]);
    }
    g.print();
    println!(
        "The page shows an answer by re-rendering its Markdown (a `render_markdown` call) at most every 80 ms \
         (ui/markdown.js `streamer`): the text in the page is up to that much behind the stream by design."
    );
    gui.close().await;
}
