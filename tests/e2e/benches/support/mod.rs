//! Shared by the benchmarks in `tests/e2e/benches/`: statistics, the summary tables they print, which
//! app binary they measure, the app's process tree and its memory, and a WebDriver session with the app.
//!
//! Kept here rather than in `tests/e2e/src/lib.rs` (the GUI tests' harness), which it builds on: `Display`,
//! `Profile`, `Proc` and `start_driver` come from there.
#![allow(dead_code)] // each bench uses a part

use fantoccini::Client;
use gemma_desk_e2e::{start_driver, Display, Proc, Profile};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------- numbers ----------

/// Wall clock in milliseconds since the Unix epoch (fractional): comparable with the page's
/// `performance.timeOrigin + performance.now()` and with the app's `at_unix_ms`.
pub fn unix_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted values; NaN when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// "met (…)" or "MISSED by …" for a goal `value <= limit`, in `unit`.
pub fn verdict(value: f64, limit: f64, unit: &str) -> String {
    if value.is_nan() {
        "not measured".into()
    } else if value <= limit {
        format!("met ({} {unit} to spare)", fmt(limit - value))
    } else {
        format!("MISSED by {} {unit}", fmt(value - limit))
    }
}

/// A number with sensible precision for a table.
pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A signed difference, e.g. "+1.23".
pub fn fmt_diff(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v >= 0.0 {
        format!("+{}", fmt(v))
    } else {
        fmt(v)
    }
}

/// A summary table, printed as Markdown so it can be pasted into docs/performance.md as it is.
pub struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, headers: &[&str]) -> Table {
        Table { title: title.into(), headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let n = self.headers.len();
        let mut width = vec![3; n];
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = (0..n)
                .map(|i| {
                    let c = cells.get(i).map(String::as_str).unwrap_or("");
                    format!("{c}{}", " ".repeat(width[i] - c.chars().count()))
                })
                .collect();
            format!("| {} |", padded.join(" | "))
        };
        println!("\n### {}\n", self.title);
        println!("{}", line(&self.headers));
        println!("|{}|", width.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|"));
        for r in &self.rows {
            println!("{}", line(r));
        }
        println!();
    }
}

/// One line about the machine and its load, printed at the top of every bench: numbers taken while
/// something else keeps the cores busy (a build) are noisy.
pub fn print_machine() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("PRETTY_NAME=")).map(|l| l[12..].trim_matches('"').to_string()))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let webkit = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "libwebkit2gtk-4.1-0"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    println!(
        "machine: {cores} cores, {os}, WebKitGTK {webkit}; load average {} (1/5/15 min){}",
        load.join(" "),
        if load.first().and_then(|l| l.parse::<f64>().ok()).unwrap_or(0.0) > 0.5 {
            " -- something else is running: figures are noisy"
        } else {
            ""
        }
    );
}

/// How many repetitions: `GEMMA_DESK_BENCH_RUNS`, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("GEMMA_DESK_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

// ---------- the app under test ----------

fn workspace_target() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// The app binary to measure: `GEMMA_DESK_BENCH_APP` when set, else the release build
/// (`target/release/gemma-desk`) when there is one, else the debug e2e build (`target/debug/gemma-desk-e2e`).
/// Printed, with its size and age, so every figure says which build it is for.
pub fn app_binary() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("GEMMA_DESK_BENCH_APP") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![workspace_target().join("release/gemma-desk"), workspace_target().join("debug/gemma-desk-e2e")],
    };
    let app = candidates.iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "no app binary: build one (cargo build --release -p gemma-desk, or ./dev test for the debug e2e build) \
             or set GEMMA_DESK_BENCH_APP; looked for {candidates:?}"
        )
    });
    let app = app.canonicalize().unwrap();
    let meta = std::fs::metadata(&app).unwrap();
    let age = meta.modified().ok().and_then(|m| m.elapsed().ok()).map(|d| d.as_secs() / 60).unwrap_or(0);
    let kind = if app.to_string_lossy().contains("/release/") {
        "RELEASE build"
    } else if app.to_string_lossy().contains("/debug/") {
        "DEBUG build (dependencies at opt-level 1, the core at 2, the app crate at 0): slower than what ships"
    } else {
        "build of unknown profile"
    };
    println!("app: {} ({kind}; {:.1} MB, built {age} min ago)", app.display(), meta.len() as f64 / 1e6);
    app
}

/// The environment the app runs with in every bench: the isolated profile, its own data folder, the given
/// server, English, X11 without GPU compositing (Xvfb has no GPU).
pub fn app_env(profile: &Profile, data_dir: &Path, ollama_host: &str) -> Vec<(String, String)> {
    let mut env = profile.env();
    env.push(("GEMMA_DESK_DATA_DIR".into(), data_dir.display().to_string()));
    env.push(("OLLAMA_HOST".into(), ollama_host.into()));
    env.push(("LANG".into(), "en_US.UTF-8".into()));
    env.push(("GDK_BACKEND".into(), "x11".into()));
    env.push(("WEBKIT_DISABLE_COMPOSITING_MODE".into(), "1".into()));
    env
}

// ---------- processes and memory ----------

/// The parent of `pid`, from /proc/<pid>/stat (the field after the parenthesised command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every live descendant of `root` (children, grandchildren, …), found by walking /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|pid| Some((pid, parent_of(pid)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &all {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

/// A process's name as people know it: argv[0]'s file name (WebKit's helpers are truncated in `comm`).
pub fn process_name(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let name = String::from_utf8_lossy(argv0).rsplit('/').next().unwrap_or_default().to_string();
    if name.is_empty() {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
    } else {
        name
    }
}

/// (PSS, RSS) of one process in kB, from /proc/<pid>/smaps_rollup.
pub fn pss_rss_kb(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        s.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("Pss:")?, field("Rss:")?))
}

/// Pages only this process maps (Private_Clean + Private_Dirty), in kB: its unique set size.
pub fn private_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        s.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some(field("Private_Clean:")? + field("Private_Dirty:")?)
}

/// Where a process's PSS goes: (mapping, PSS kB) grouped by mapped file (`[anon]` for anonymous memory, e.g.
/// malloc arenas and the JavaScript heap; `[heap]` for brk), largest first.
pub fn pss_by_mapping(pid: u32) -> Vec<(String, u64)> {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else { return Vec::new() };
    let mut by: std::collections::HashMap<String, u64> = Default::default();
    let mut current = String::new();
    for line in s.lines() {
        let mut parts = line.split_whitespace();
        let first = parts.next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            // A mapping's header: address perms offset dev inode [path]
            let path: Vec<&str> = parts.skip(4).collect();
            current = if path.is_empty() { "[anon]".into() } else { path.join(" ") };
            if let Some(name) = current.rsplit('/').next().filter(|_| current.starts_with('/')) {
                current = name.to_string();
            }
        } else if first == "Pss:" {
            *by.entry(current.clone()).or_default() += parts.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().collect();
    v.sort_by_key(|m| std::cmp::Reverse(m.1));
    v
}

/// Memory of the app and all its descendants: (name, pid, PSS kB, RSS kB) per process.
pub fn tree_memory(root: u32) -> Vec<(String, u32, u64, u64)> {
    std::iter::once(root)
        .chain(descendants(root))
        .filter_map(|pid| {
            let (pss, rss) = pss_rss_kb(pid)?;
            Some((process_name(pid), pid, pss, rss))
        })
        .collect()
}

/// Stop processes this bench started (by pid): SIGTERM, then SIGKILL after 3 s.
pub fn stop_pids(pids: &[u32]) {
    let alive = |pid: &u32| Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(*pid);
    let live: Vec<u32> = pids.iter().copied().filter(alive).collect();
    if live.is_empty() {
        return;
    }
    for pid in &live {
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && live.iter().any(alive) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in live.iter().filter(|p| alive(p)) {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(true)
}

// ---------- the app's log ----------

/// The app's `first paint` log line in `data_dir/logs/gemma-desk.*.log`, if written yet:
/// (`since_start_ms`, `at_unix_ms`).
pub fn first_paint_from_log(data_dir: &Path) -> Option<(f64, f64)> {
    let dir = std::fs::read_dir(data_dir.join("logs")).ok()?;
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !(name.starts_with("gemma-desk.") && name.contains(".log")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("first paint")) {
            let num = |key: &str| -> Option<f64> {
                let at = line.find(key)? + key.len();
                let digits: String = line[at..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                digits.parse().ok()
            };
            return Some((num("since_start_ms=")?, num("at_unix_ms=")?));
        }
    }
    None
}

/// Whether the X display shows something painted in the window's corner (the app's top bar and sidebar:
/// text, a logo) rather than one flat colour. Used only when the app writes no `first paint` line.
pub fn screen_painted(display: &str) -> bool {
    screen_painted_at(display, "480x240+0+0")
}

/// Whether the screen's region `geometry` (ImageMagick's WxH+X+Y) shows more than a few flat colours.
pub fn screen_painted_at(display: &str, geometry: &str) -> bool {
    let out = Command::new("import")
        .args(["-display", display, "-window", "root", "-crop", geometry, "+repage", "-depth", "8", "rgb:-"])
        .output();
    let Ok(out) = out else { return false };
    let mut colours = std::collections::HashSet::new();
    for px in out.stdout.chunks_exact(3) {
        colours.insert((px[0] as u32) << 16 | (px[1] as u32) << 8 | px[2] as u32);
        if colours.len() > 40 {
            return true;
        }
    }
    false
}

// ---------- a WebDriver session with the app ----------

/// The app under WebDriver (tauri-driver + WebKitWebDriver) on its own display, as the GUI tests drive it.
pub struct Gui {
    pub client: Client,
    pub display: Display,
    pub driver: Option<Proc>,
}

impl Gui {
    pub async fn launch(app: &Path, env: &[(String, String)]) -> Gui {
        let display = Display::start();
        let (driver, port) = start_driver(&display, env);
        let client = gemma_desk_e2e::webdriver_session(port, app).await;
        let gui = Gui { client, display, driver: Some(driver) };
        gui.wait("the page to load", Duration::from_secs(60), "return !!document.getElementById('status')").await;
        gui
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{e}: {script}"))
    }

    pub async fn js_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("{e}: {script}"))
    }

    /// Poll a script until it returns something truthy; that value is returned.
    pub async fn wait(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(script).await;
            if !matches!(v, Value::Null | Value::Bool(false)) && v != json!("") && v != json!(0) {
                return v;
            }
            if start.elapsed() > timeout {
                self.screenshot(&format!("bench-timeout-{}", what.replace(' ', "-"))).await;
                panic!("timed out after {timeout:?} waiting for {what}; last value {v}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Installs `UI_MODULES`.
    pub async fn ui_modules(&self) {
        let v = self.client.execute_async(UI_MODULES, vec![]).await.unwrap_or_else(|e| panic!("{e}: UI_MODULES"));
        assert_eq!(v, json!(true), "the page's modules");
    }

    pub async fn wait_connected(&self) {
        self.wait(
            "the connected status",
            Duration::from_secs(60),
            "return document.getElementById('status').dataset.state === 'connected'",
        )
        .await;
    }

    /// The pid of the app process (a child of WebKitWebDriver, under tauri-driver).
    pub fn app_pid(&self, app: &Path) -> Option<u32> {
        let driver = self.driver.as_ref()?.0.id();
        let name = app.file_name()?.to_string_lossy().to_string();
        descendants(driver).into_iter().find(|&p| process_name(p) == name)
    }

    /// A screenshot of the X display (as the GUI tests take them), into tests/e2e/artifacts/.
    pub async fn screenshot(&self, name: &str) {
        let path = gemma_desk_e2e::artifacts_dir().join(format!("{name}.png"));
        let _ = Command::new("import")
            .args(["-display", &self.display.name, "-window", "root", "-crop", "1100x760+0+0", "+repage"])
            .arg(&path)
            .status();
    }

    /// Close the session, stop tauri-driver (and with it the app), and make sure nothing of the app lives on.
    pub async fn close(mut self) {
        let tree = self.driver.as_ref().map(|d| descendants(d.0.id())).unwrap_or_default();
        let _ = self.client.clone().close().await;
        drop(self.driver.take());
        stop_pids(&tree);
    }
}

/// The page's own ES modules a bench calls into, as `window.__bench.ui.chat` and `.sidebar` (ui/chat.js,
/// ui/sidebar.js): the app keeps them off `window`, and importing one again gives the instance the app uses.
/// Installed with `execute_async`.
pub const UI_MODULES: &str = r#"
  const done = arguments[arguments.length - 1];
  const b = (window.__bench = window.__bench || {});
  Promise.all([import('./chat.js'), import('./sidebar.js')]).then(([chat, sidebar]) => {
    b.ui = { chat, sidebar };
    done(true);
  }, (e) => done('import failed: ' + e));
"#;

/// A page-side recorder installed with `execute`: a `requestAnimationFrame` loop noting every frame's time,
/// in wall-clock milliseconds (`performance.timeOrigin + performance.now()`), in `window.__bench.frames`.
pub const FRAME_RECORDER: &str = r#"
  const b = (window.__bench = window.__bench || {});
  b.now = () => performance.timeOrigin + performance.now();
  b.frames = [];
  if (!b.rafRunning) {
    b.rafRunning = true;
    const tick = () => { b.frames.push(b.now()); if (b.frames.length > 20000) b.frames.shift(); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }
  return b.now();
"#;

/// Frame gaps (ms) between `from` and `to` (wall-clock ms) out of recorded frame times.
pub fn frame_gaps(frames: &[f64], from: f64, to: f64) -> Vec<f64> {
    let inside: Vec<f64> = frames.iter().copied().filter(|&t| t >= from && t <= to).collect();
    let mut gaps: Vec<f64> = inside.windows(2).map(|w| w[1] - w[0]).collect();
    // The gap that spans `from` counts too (a freeze that started just before).
    if let (Some(first), Some(before)) = (inside.first(), frames.iter().rev().find(|&&t| t < from)) {
        gaps.push(first - before);
    }
    gaps
}

pub fn as_f64s(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

// ---------- a proxy in front of the emulator ----------

/// One read that passed the proxy.
pub struct Read {
    at: f64,
    conn: u64,
    /// From the server to the app (a response), else from the app to the server (a request).
    from_server: bool,
    data: Vec<u8>,
}

/// A TCP proxy in front of the emulator, on its own thread, for three reasons:
/// - it notes the wall-clock time of every write it passes on, in both directions (when `recording`): when a
///   request reached the "server", when each token left it;
/// - it can pace streamed responses ([`Proxy::pace`]): the emulator waits whole milliseconds between tokens
///   with a timer that wakes late on a busy machine (1 ms apart gave ~400 tokens/s here), so for a steady rate
///   it sends them at once and the proxy releases one chunk (one NDJSON line, one token) on schedule, sending
///   whatever is due when its own timer wakes late, so the average rate is exact;
/// - it acknowledges what the emulator sends at once (TCP_QUICKACK after every read). The emulator's sockets
///   have Nagle's algorithm on (no TCP_NODELAY; Ollama's Go server has it off), so on a reused keep-alive
///   connection a small write waits for the ACK of the previous one, which the receiver delays by ~40 ms:
///   the agent's `/api/show` then `/api/chat` on one connection stalled ~40 ms once per answer. That is the
///   emulator, not the app; measured through this proxy it is gone for every path alike.
#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    shared: Arc<ProxyShared>,
}

struct ProxyShared {
    log: Mutex<Vec<Read>>,
    recording: std::sync::atomic::AtomicBool,
    /// Chunks per second for streamed (chunked) responses that start from now on; 0: as they come.
    pace: std::sync::atomic::AtomicU64,
}

impl Proxy {
    /// Listens on a free port and forwards every connection to `upstream`, on its own thread.
    pub fn start(upstream: u16, recording: bool) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(ProxyShared { log: Mutex::new(Vec::new()), recording: recording.into(), pace: 0.into() });
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let mut next = 0u64;
                while let Ok((client, _)) = listener.accept().await {
                    next += 1;
                    let conn = next;
                    let state = state.clone();
                    tokio::spawn(async move {
                        let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let _ = socket2::SockRef::from(&server).set_tcp_quickack(true);
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::join!(requests(cr, sw, conn, state.clone()), responses(sr, cw, conn, state));
                    });
                }
            });
        });
        Proxy { port, shared }
    }

    /// Pace streamed responses that start from now on at `chunks_per_sec` (0: pass them on as they come).
    pub fn pace(&self, chunks_per_sec: u64) {
        self.shared.pace.store(chunks_per_sec, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the log is now: analyse only what comes after.
    pub fn mark(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    /// When each request (by its path) reached the proxy after `mark`: (time, path).
    pub fn requests(&self, mark: usize) -> Vec<(f64, String)> {
        let log = self.shared.log.lock().unwrap();
        log[mark..]
            .iter()
            .filter(|r| !r.from_server)
            .filter_map(|r| {
                let line = std::str::from_utf8(&r.data[..r.data.len().min(200)]).ok()?.lines().next()?.to_string();
                let mut parts = line.split(' ');
                let method = parts.next()?;
                let path = parts.next()?;
                matches!(method, "GET" | "POST" | "DELETE" | "HEAD").then(|| (r.at, path.to_string()))
            })
            .collect()
    }

    /// When each token `tNNNN` left the server after `mark`, by its number: the time of the read that
    /// completed it (a token may straddle two reads).
    pub fn token_times(&self, mark: usize, n: usize) -> Vec<Option<f64>> {
        self.times_of(mark, n, b"\"content\":\"t")
    }

    /// [`token_times`](Self::token_times) for thinking tokens (`"thinking":"tNNNN`), as Gemma 4 streams them.
    pub fn thinking_times(&self, mark: usize, n: usize) -> Vec<Option<f64>> {
        self.times_of(mark, n, b"\"thinking\":\"t")
    }

    fn times_of(&self, mark: usize, n: usize, needle: &[u8]) -> Vec<Option<f64>> {
        let log = self.shared.log.lock().unwrap();
        let mut out = vec![None; n];
        // Per connection: the bytes from the server, and where each write ended with its time.
        type Stream = (Vec<u8>, Vec<(usize, f64)>);
        let mut streams: std::collections::BTreeMap<u64, Stream> = Default::default();
        for r in log[mark..].iter().filter(|r| r.from_server) {
            let (bytes, ends) = streams.entry(r.conn).or_default();
            bytes.extend_from_slice(&r.data);
            ends.push((bytes.len(), r.at));
        }
        for (bytes, ends) in streams.values() {
            let mut i = 0;
            while let Some(off) = find(&bytes[i..], needle) {
                let start = i + off + needle.len();
                let end = start + 4;
                if end > bytes.len() {
                    break;
                }
                if let Some(k) = std::str::from_utf8(&bytes[start..end]).ok().and_then(|d| d.parse::<usize>().ok()) {
                    let at = ends.iter().find(|(e, _)| *e >= end).map(|(_, t)| *t);
                    if k < n && out[k].is_none() {
                        out[k] = at;
                    }
                }
                i = end;
            }
        }
        out
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl ProxyShared {
    fn note(&self, conn: u64, from_server: bool, at: f64, data: &[u8]) {
        if self.recording.load(std::sync::atomic::Ordering::Relaxed) {
            // Requests: their first line is enough.
            let keep = if from_server { data.len() } else { data.len().min(256) };
            self.log.lock().unwrap().push(Read { at, conn, from_server, data: data[..keep].to_vec() });
        }
    }
}

/// App → emulator: passed on as it comes.
async fn requests(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    conn: u64,
    state: Arc<ProxyShared>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        let at = unix_ms();
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        state.note(conn, false, at, &buf[..n]);
    }
    let _ = to.shutdown().await;
}

/// Where a response stream is, for pacing: HTTP/1.1 responses one after another on a connection, each with a
/// `Content-Length` body or chunked.
enum At {
    Head,
    Body(usize),
    Chunks { paced: u64, start: Option<Instant>, sent: u64 },
}

/// Emulator → app: responses parsed just enough to pace their chunks.
async fn responses(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    conn: u64,
    state: Arc<ProxyShared>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut at = At::Head;
    'read: while let Ok(n @ 1..) = from.read(&mut buf).await {
        // Quick-ack mode is not permanent: ask for it again after every read.
        let _ = socket2::SockRef::from(from.as_ref()).set_tcp_quickack(true);
        pending.extend_from_slice(&buf[..n]);
        loop {
            // The next complete piece to pass on, and when.
            let (len, due) = match &mut at {
                At::Head => {
                    let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else { break };
                    let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                    let header =
                        |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
                    at = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
                        let paced = state.pace.load(std::sync::atomic::Ordering::SeqCst);
                        At::Chunks { paced, start: None, sent: 0 }
                    } else {
                        match header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
                            Some(len) if len > 0 => At::Body(len),
                            _ => At::Head,
                        }
                    };
                    (end + 4, None)
                }
                At::Body(left) => {
                    let len = (*left).min(pending.len());
                    if len == 0 {
                        break;
                    }
                    *left -= len;
                    if *left == 0 {
                        at = At::Head;
                    }
                    (len, None)
                }
                At::Chunks { paced, start, sent } => {
                    let Some(line_end) = pending.windows(2).position(|w| w == b"\r\n") else { break };
                    let size_text = String::from_utf8_lossy(&pending[..line_end]).to_string();
                    let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else {
                        // Not what was expected: stop parsing, pass the rest on as it comes.
                        at = At::Body(usize::MAX);
                        continue;
                    };
                    // The last chunk is `0\r\n\r\n` (no trailers from the emulator).
                    let len = line_end + 2 + size + 2;
                    if pending.len() < len {
                        break;
                    }
                    if size == 0 {
                        at = At::Head;
                        (len, None)
                    } else if *paced > 0 {
                        let first = *start.get_or_insert_with(Instant::now);
                        let due = first + Duration::from_secs_f64(*sent as f64 / *paced as f64);
                        *sent += 1;
                        (len, Some(due))
                    } else {
                        (len, None)
                    }
                }
            };
            if let Some(due) = due {
                tokio::time::sleep_until(due.into()).await;
            }
            let piece: Vec<u8> = pending.drain(..len).collect();
            let now = unix_ms();
            if to.write_all(&piece).await.is_err() {
                break 'read;
            }
            state.note(conn, true, now, &piece);
        }
    }
    if !pending.is_empty() {
        let _ = to.write_all(&pending).await;
    }
    let _ = to.shutdown().await;
}
