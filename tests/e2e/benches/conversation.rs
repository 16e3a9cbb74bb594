//! A conversation of 2,000 messages: time to open it, and whether scrolling through it stays smooth.
//!
//! `cargo bench -p gemma-desk-e2e --bench conversation` (about 2 minutes with the release app, more with a debug
//! one). `GEMMA_DESK_BENCH_APP` picks the binary (see startup.rs); `GEMMA_DESK_BENCH_MESSAGES=N` changes the size
//! (default 2000).
//!
//! Before the app starts, its data folder (`GEMMA_DESK_DATA_DIR`) is filled through the core's `store::Store`
//! with one conversation of 1,000 questions and 1,000 answers in realistic Markdown (paragraphs, lists, code in
//! four languages, tables, quotes, some maths; every tenth answer long; every code block different). Then:
//! 0. In this process: what the `open_conversation` command does in Rust (read the store, render each answer's
//!    Markdown, serialise to JSON), timed part by part.
//! 1. Open, in the app under WebDriver: the conversation is clicked in the sidebar from a script that notes the
//!    time; a MutationObserver notes when the last message is in the page, and the next animation frame when it is
//!    painted. Frames are recorded for 3 s more (highlighting code loads and runs after the first paint).
//! 2. Where the time goes: `open_conversation` invoked on its own from the page (Rust + IPC), and — as a
//!    diagnosis, not a change to the app — the page's `renderMessages` (ui/sidebar.js) with `scrollDown`
//!    (ui/chat.js) made a no-op during the loop, since it forces a layout of the whole list after every message it
//!    adds.
//! 3. Scroll: from the bottom towards the top, one window height per animation frame, for at most 30 s, noting
//!    every frame gap; then the same with only the last 100 messages displayed (a diagnosis: the cost per frame
//!    grows with the number of messages in the page).
mod support;

use gemma_desk_core::store::{NewMessage, Store};
use gemma_desk_e2e::Profile;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{fmt, median, percentile, Gui, Table};

const OPEN_GOAL_MS: f64 = 1000.0; // "opens smoothly": no stated number; one second is used as the yardstick

/// A small deterministic generator: the same conversation every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "the", "model", "answer", "time", "zone", "value", "function", "request", "server", "memory", "stream", "token",
    "window", "photo", "caption", "format", "result", "error", "simple", "quickly", "because", "usually", "every",
    "which", "local", "Ollama", "Gemma", "context", "length", "prompt", "return", "string", "number", "list",
];

fn sentence(r: &mut Rng) -> String {
    let n = 8 + r.below(14);
    let mut s: Vec<String> = (0..n).map(|_| r.pick(WORDS).to_string()).collect();
    if r.below(4) == 0 {
        let i = r.below(n);
        s[i] = format!("`{}`", s[i]);
    }
    if r.below(5) == 0 {
        let i = r.below(n);
        s[i] = format!("**{}**", s[i]);
    }
    let mut out = s.join(" ");
    out[..1].make_ascii_uppercase();
    out + "."
}

fn paragraph(r: &mut Rng) -> String {
    (0..2 + r.below(4)).map(|_| sentence(r)).collect::<Vec<_>>().join(" ")
}

fn code_block(r: &mut Rng, i: usize) -> String {
    // Every block differs (the page caches highlighting by text).
    let (lang, comment) = match r.below(4) {
        0 => ("rust", "//"),
        1 => ("python", "#"),
        2 => ("javascript", "//"),
        _ => ("bash", "#"),
    };
    let body = match lang {
        "rust" => "fn parse(line: &str) -> Option<(String, u32)> {\n    let (name, n) = line.split_once('=')?;\n    Some((name.trim().to_string(), n.trim().parse().ok()?))\n}\n\nfn main() {\n    for line in std::io::stdin().lines() {\n        if let Some((k, v)) = parse(&line.unwrap()) {\n            println!(\"{k}: {v}\");\n        }\n    }\n}",
        "python" => "import json\nfrom datetime import datetime, timezone\n\ndef load(path):\n    with open(path, encoding=\"utf-8\") as f:\n        return [json.loads(line) for line in f if line.strip()]\n\nfor item in load(\"events.jsonl\"):\n    at = datetime.fromtimestamp(item[\"ts\"], tz=timezone.utc)\n    print(at.isoformat(), item[\"name\"])",
        "javascript" => "async function fetchAll(urls) {\n  const results = await Promise.allSettled(urls.map((u) => fetch(u)));\n  return results\n    .filter((r) => r.status === \"fulfilled\")\n    .map((r) => r.value.status);\n}\n\nfetchAll([\"/a\", \"/b\"]).then(console.log);",
        _ => "#!/bin/sh\nset -eu\nfor f in *.jpg; do\n  convert \"$f\" -resize 896x896 \"small/$f\"\ndone\necho \"done: $(ls small | wc -l) files\"",
    };
    format!("```{lang}\n{comment} answer {i}, part {}\n{}\n```", r.below(1000), body)
}

fn answer(r: &mut Rng, i: usize) -> String {
    let mut parts = vec![paragraph(r)];
    let blocks = if i.is_multiple_of(10) { 9 } else { 1 + r.below(3) };
    for _ in 0..blocks {
        parts.push(match r.below(7) {
            0 => (0..3 + r.below(4)).map(|_| format!("- {}", sentence(r))).collect::<Vec<_>>().join("\n"),
            1 => (1..=3 + r.below(3)).map(|k| format!("{k}. {}", sentence(r))).collect::<Vec<_>>().join("\n"),
            2 | 3 => code_block(r, i),
            4 => {
                let mut t = "| Zone | Offset | Local time |\n| --- | --- | --- |".to_string();
                for _ in 0..3 + r.below(4) {
                    t += &format!(
                        "\n| {} | +{:02}:00 | {:02}:{:02} |",
                        r.pick(WORDS),
                        r.below(14),
                        r.below(24),
                        r.below(60)
                    );
                }
                t
            }
            5 => format!("> {}", sentence(r)),
            _ => {
                format!("### {}\n\n{} The offset is $\\Delta t = t_{{{i}}} - t_1$ hours.", r.pick(WORDS), paragraph(r))
            }
        });
        parts.push(paragraph(r));
    }
    parts.join("\n\n")
}

fn question(r: &mut Rng) -> String {
    let q = [
        "How do I convert this time to Tokyo time?",
        "Can you write a function that parses these lines?",
        "What does this error mean, and how do I fix it?",
        "Summarise the differences in a table, please.",
        "Why is my script slow on large folders?",
    ];
    format!("{} {}", q[r.below(q.len())], if r.below(3) == 0 { sentence(r) } else { String::new() })
}

/// What `open_conversation` does in Rust, timed in this process (no IPC): (reading the store, rendering every
/// answer's Markdown, serialising the view to JSON) in ms, and the JSON's size.
fn rust_side(dir: &std::path::Path, id: i64) -> (f64, f64, f64, usize) {
    let store = Store::open(dir).unwrap();
    let t = Instant::now();
    let view = store.open_conversation(id).unwrap();
    let read = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let html: Vec<Option<String>> = view
        .messages
        .iter()
        .map(|m| (m.role == gemma_desk_core::Role::Assistant).then(|| gemma_desk_core::markdown::render(&m.content)))
        .collect();
    let render = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let json = serde_json::to_string(&(&view, &html)).unwrap();
    let serialise = t.elapsed().as_secs_f64() * 1e3;
    (read, render, serialise, json.len())
}

/// Fills a new store in `dir` with one conversation of `n` messages; returns (its id, characters, seconds).
fn fill(dir: &std::path::Path, n: usize) -> (i64, usize, f64) {
    let started = Instant::now();
    let store = Store::open(dir).expect("open the store");
    let conv = store.create_conversation("Benchmark: a long conversation").unwrap();
    let mut r = Rng(0x9e3779b97f4a7c15);
    let mut chars = 0;
    for i in 0..n / 2 {
        let q = question(&mut r);
        let a = answer(&mut r, i);
        chars += q.len() + a.len();
        store.append(conv.id, NewMessage::user(q)).unwrap();
        store.append(conv.id, NewMessage::assistant(a, "gemma3:4b")).unwrap();
    }
    (conv.id, chars, started.elapsed().as_secs_f64())
}

const CLICK_AND_WATCH: &str = r#"
  const b = window.__bench, want = arguments[0];
  b.opened = null; b.painted = null;
  const list = document.getElementById('messages');
  const obs = new MutationObserver(() => {
    // The conversation's last message (the page holds only the newest ones at first).
    const msgs = list.querySelectorAll('.msg');
    if (b.opened !== null || !msgs.length || msgs[msgs.length - 1].dataset.id !== String(want)) return;
    const last = msgs[msgs.length - 1].querySelector('.body');
    if (!last || !last.innerHTML) return;
    b.opened = b.now();
    obs.disconnect();
    requestAnimationFrame(() => {
      b.painted = b.now();
      b.fromBottomAtPaint = list.scrollHeight - list.scrollTop - list.clientHeight;
    });
  });
  obs.observe(list, { childList: true });
  b.clicked = b.now();
  document.querySelector('#conversation-list .conv').click();
  return b.clicked;
"#;

/// The parts on their own: the command, then building the page from its result. Each runs as one task; the
/// next frame after it is noted too.
const PARTS: &str = r#"
  const b = window.__bench, id = arguments[0], mode = arguments[1];
  b.part = null;
  if (mode === 'ipc') {
    const t = b.now();
    window.__TAURI__.core.invoke('open_conversation', { id, message: null }).then((v) => {
      const done = b.now();
      b.view = v;
      b.part = { ms: done - t, bytes: JSON.stringify(v).length, messages: v.messages.length };
    });
    return true;
  }
  const messages = b.view.messages;
  const t = b.now();
  b.ui.sidebar.renderMessages(messages);
  const built = b.now();
  requestAnimationFrame(() => { b.part = { ms: built - t, painted: b.now() - t, inPage: document.querySelectorAll('#messages .msg').length }; });
  return true;
"#;

const SCROLL_UP: &str = r#"
  const b = window.__bench, m = document.getElementById('messages');
  m.scrollTop = m.scrollHeight;
  b.scroll = null;
  b.scrolling = { steps: 0, top: m.scrollTop };
  requestAnimationFrame(() => {
    const start = b.now();
    const finish = (why) => requestAnimationFrame(() => {
      b.scroll = { start, end: b.now(), steps: b.scrolling.steps, height: m.scrollHeight, view: m.clientHeight, why };
    });
    const step = () => {
      const before = m.scrollTop;
      m.scrollTop = Math.max(0, before - m.clientHeight);
      b.scrolling.steps++;
      b.scrolling.top = m.scrollTop;
      if (m.scrollTop <= 0) finish('top');
      else if (m.scrollTop >= before) finish('stuck at ' + m.scrollTop);
      else if (b.now() - start > arguments[0]) finish('stopped after ' + arguments[0] / 1000 + ' s, ' + Math.round(100 * (1 - m.scrollTop / m.scrollHeight)) + '% of the way up');
      else requestAnimationFrame(step);
    };
    step();
  });
  return [m.scrollHeight, m.clientHeight, m.scrollTop];
"#;

async fn wait_part(gui: &Gui, what: &str) -> Value {
    gui.wait(what, Duration::from_secs(60), "return window.__bench.part").await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    support::print_machine();
    let app = support::app_binary();
    let n: usize = std::env::var("GEMMA_DESK_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let profile = Profile::new();
    let data_dir = profile.dir.path().join("data");
    let (conv_id, chars, fill_secs) = fill(&data_dir, n);
    let last_id = Store::open(&data_dir).unwrap().open_conversation(conv_id).unwrap().messages.last().unwrap().id;
    println!(
        "filled: {n} messages, {:.1} MB of text, in {fill_secs:.1} s through Store::append (each a committed, fsynced transaction)",
        chars as f64 / 1e6
    );
    // The same reading, rendering and serialising the command does, timed here: the IPC is the rest.
    let mut rust = Vec::new();
    for _ in 0..3 {
        rust.push(rust_side(&data_dir, conv_id));
    }
    rust.sort_by(|a, b| (a.0 + a.1 + a.2).total_cmp(&(b.0 + b.1 + b.2)));
    let (read_ms, render_ms, json_ms, json_len) = rust[1];
    let emu = gemma_desk_e2e::emulator::Emulator::start();
    let env = support::app_env(&profile, &data_dir, &emu.url());
    let gui = Gui::launch(&app, &env).await;
    gui.wait_connected().await;
    gui.wait(
        "the conversation in the sidebar",
        Duration::from_secs(30),
        "return document.querySelector('#conversation-list .conv')",
    )
    .await;
    gui.js(support::FRAME_RECORDER).await;
    gui.ui_modules().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // ---- 1. open it as a user does ----
    let clicked = gui.js_with(CLICK_AND_WATCH, vec![json!(last_id)]).await.as_f64().unwrap();
    let r = gui
        .wait(
            "the last message painted",
            Duration::from_secs(120),
            "const b = window.__bench; return b.painted && [b.opened, b.painted]",
        )
        .await;
    let (opened, painted) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let frames = support::as_f64s(&gui.js("return window.__bench.frames").await);
    let after = support::frame_gaps(&frames, painted, painted + 3000.0);
    let long_after: Vec<f64> = after.iter().copied().filter(|&g| g > 50.0).collect();
    let from_bottom = gui
        .js("const m = document.getElementById('messages'); return [window.__bench.fromBottomAtPaint, m.scrollHeight - m.scrollTop - m.clientHeight]")
        .await;
    gui.screenshot("bench-conversation-open").await;

    // ---- 2. where the time goes ----
    gui.js_with(PARTS, vec![json!(conv_id), json!("ipc")]).await;
    let ipc = wait_part(&gui, "open_conversation alone").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    gui.js_with(PARTS, vec![json!(conv_id), json!("render")]).await;
    let render = wait_part(&gui, "renderMessages").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut t = Table::new(
        &format!("Opening a conversation of {n} messages ({:.1} MB of Markdown)", chars as f64 / 1e6),
        &["figure", "measured"],
    );
    t.row(vec!["click → last message in the page (ms)".into(), fmt(opened - clicked)]);
    t.row(vec!["click → painted (ms)".into(), fmt(painted - clicked)]);
    t.row(vec![
        "after the paint: frames > 50 ms in the next 3 s (longest, ms)".into(),
        format!("{} ({})", long_after.len(), fmt(support::max(&after))),
    ]);
    t.row(vec![
        "distance from the bottom when painted / 3 s later (px)".into(),
        format!(
            "{} / {}",
            fmt(from_bottom[0].as_f64().unwrap_or(f64::NAN)),
            fmt(from_bottom[1].as_f64().unwrap_or(f64::NAN))
        ),
    ]);
    t.row(vec![
        format!(
            "part: in Rust (this process, {} build): read the store / render Markdown / to JSON (ms)",
            if cfg!(debug_assertions) { "debug" } else { "release" }
        ),
        format!("{} / {} / {} ({:.1} MB)", fmt(read_ms), fmt(render_ms), fmt(json_ms), json_len as f64 / 1e6),
    ]);
    t.row(vec![
        "part: open_conversation command alone, Rust + IPC (ms; JSON size)".into(),
        format!(
            "{} ({:.1} MB)",
            fmt(ipc["ms"].as_f64().unwrap_or(f64::NAN)),
            ipc["bytes"].as_f64().unwrap_or(0.0) / 1e6
        ),
    ]);
    t.row(vec![
        "part: the page's renderMessages on that result, highlighting loaded (ms; to painted; messages put in the page)"
            .into(),
        format!(
            "{} ({}; {})",
            fmt(render["ms"].as_f64().unwrap_or(f64::NAN)),
            fmt(render["painted"].as_f64().unwrap_or(f64::NAN)),
            render["inPage"].as_u64().unwrap_or(0)
        ),
    ]);
    t.print();

    // ---- 3. scroll to the top (at most 30 s): first from the newest page, earlier pages coming in as it goes; then
    // again with all of them in the page; then with only the last 100 displayed ----
    let mut sc = Table::new(
        "Scrolling from the bottom to the top, one window height per frame",
        &[
            "messages displayed",
            "steps",
            "time (ms)",
            "at 60 fps (ms)",
            "frame gap median / p95 / max (ms)",
            "frames > 50 ms",
            "ended",
        ],
    );
    let mut main_gaps = Vec::new();
    for (label, prep) in [
        ("the newest, earlier ones added on the way up".to_string(), "return 1"),
        (format!("all {n} (second pass)"), "return 1"),
        (
            "last 100 (diagnosis: the rest display:none)".to_string(),
            "const all = [...document.querySelectorAll('#messages .msg')]; all.slice(0, all.length - 100).forEach((e) => { e.style.display = 'none'; }); return 1",
        ),
    ] {
        gui.js(prep).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        gui.js("window.__bench.frames = []").await;
        gui.js_with(SCROLL_UP, vec![json!(30000)]).await;
        // No polling while it scrolls (each WebDriver call is a task on the page's thread).
        tokio::time::sleep(Duration::from_secs(5)).await;
        let s = gui.wait("the scroll to the top", Duration::from_secs(60), "return window.__bench.scroll").await;
        let frames = support::as_f64s(&gui.js("return window.__bench.frames").await);
        let (start, end) = (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap());
        let gaps = support::frame_gaps(&frames, start, end);
        let steps = s["steps"].as_f64().unwrap();
        sc.row(vec![
            label,
            format!("{steps:.0} of {:.0} px", s["view"].as_f64().unwrap_or(0.0)),
            fmt(end - start),
            fmt(steps * 1000.0 / 60.0),
            format!("{} / {} / {}", fmt(median(&gaps)), fmt(percentile(&gaps, 95.0)), fmt(support::max(&gaps))),
            gaps.iter().filter(|&&g| g > 50.0).count().to_string(),
            s["why"].as_str().unwrap_or("").to_string(),
        ]);
        if main_gaps.is_empty() {
            main_gaps = gaps;
        }
    }
    sc.print();
    let gaps = main_gaps;

    let open_ms = painted - clicked;
    let mut g = Table::new("Summary", &["figure", "goal", "measured", "verdict"]);
    g.row(vec![
        format!("time to open {n} messages (click → painted)"),
        format!("smooth; ≤ {OPEN_GOAL_MS:.0} ms used as the yardstick"),
        format!("{} ms", fmt(open_ms)),
        support::verdict(open_ms, OPEN_GOAL_MS, "ms"),
    ]);
    let long = gaps.iter().filter(|&&g| g > 50.0).count();
    g.row(vec![
        "scrolling it: frames > 50 ms".into(),
        "none".into(),
        format!("{long} (longest {} ms)", fmt(support::max(&gaps))),
        if long == 0 { "met".into() } else { format!("MISSED: {long} frames over 50 ms") },
    ]);
    g.print();
    gui.close().await;
}
