//! Cold start to first interactive paint, and idle memory of all the app's processes together.
//!
//! `cargo bench -p gemma-desk-e2e --bench startup` (about a minute). `GEMMA_DESK_BENCH_RUNS=N` sets the number of
//! starts (default 7); `GEMMA_DESK_BENCH_APP=/path/to/gemma-desk` measures that binary (default: the release build
//! if there is one, else the debug e2e build).
//!
//! Each start: a fresh profile (HOME, XDG folders, `GEMMA_DESK_DATA_DIR`: an empty data folder, as on first run),
//! the app launched directly (no WebDriver) on an Xvfb display with `GDK_BACKEND=x11
//! WEBKIT_DISABLE_COMPOSITING_MODE=1`, talking to the Ollama emulator. The app logs
//! `first paint since_start_ms=… at_unix_ms=…` (src-tauri/src/lifecycle.rs) once the page has painted its first
//! usable screen; the bench measures from just before its spawn to `at_unix_ms`. Binaries and libraries are in the
//! page cache (a start right after boot would be slower; the first start is shown separately).
//!
//! Idle memory: one more start, left idle 10 s after its first paint, then PSS and RSS (from
//! /proc/<pid>/smaps_rollup) of the app and every descendant (WebKitWebProcess, WebKitNetworkProcess, and any
//! sandbox helpers), each listed.
mod support;

use gemma_desk_e2e::emulator::Emulator;
use gemma_desk_e2e::{Display, Proc, Profile};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{fmt, median, unix_ms, verdict, Table};

const PAINT_GOAL_MS: f64 = 1500.0;
const MEMORY_GOAL_MB: f64 = 150.0;

/// How the first paint is seen: the app's own log line, or (for builds without it) the screen changing.
#[derive(Clone, Copy, PartialEq)]
enum Detect {
    Log,
    Screen,
}

struct Start {
    /// From spawn to first paint, wall clock.
    spawn_to_paint_ms: f64,
    /// The app's own count, from its process start (None when seen on screen).
    since_start_ms: Option<f64>,
    app: Proc,
    data_dir: std::path::PathBuf,
    _profile: Profile,
}

fn launch(app: &Path, display: &Display, emu: &Emulator, detect: Detect) -> Start {
    let profile = Profile::new();
    let data_dir = profile.dir.path().join("data");
    let mut cmd = Command::new(app);
    cmd.env_remove("WAYLAND_DISPLAY")
        .env_remove("OLLAMA_HOST")
        .env("DISPLAY", &display.name)
        .envs(support::app_env(&profile, &data_dir, &emu.url()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(profile.dir.path().join("stderr.txt")).unwrap());
    let spawned_at = unix_ms();
    let started = Instant::now();
    let app_proc = Proc(cmd.spawn().expect("start the app"));
    loop {
        match detect {
            Detect::Log => {
                if let Some((since, at)) = support::first_paint_from_log(&data_dir) {
                    return Start {
                        spawn_to_paint_ms: at - spawned_at,
                        since_start_ms: Some(since),
                        app: app_proc,
                        data_dir,
                        _profile: profile,
                    };
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Detect::Screen => {
                let before = unix_ms();
                if support::screen_painted(&display.name) {
                    // Painted at some moment during this capture: take its middle.
                    let at = (before + unix_ms()) / 2.0;
                    return Start {
                        spawn_to_paint_ms: at - spawned_at,
                        since_start_ms: None,
                        app: app_proc,
                        data_dir,
                        _profile: profile,
                    };
                }
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            let err = std::fs::read_to_string(profile.dir.path().join("stderr.txt")).unwrap_or_default();
            panic!("no first paint after 60 s; the app's stderr:\n{err}");
        }
    }
}

/// Stop the app and anything it started.
fn stop(start: Start) {
    let pid = start.app.0.id();
    let tree = support::descendants(pid);
    drop(start.app); // SIGTERM: the app exits as when closed
    support::stop_pids(&tree);
}

fn main() {
    support::print_machine();
    let app = support::app_binary();
    let runs = support::runs(7);
    // The log line's text is in every binary that writes it.
    let detect = if std::fs::read(&app).map(|b| b.windows(11).any(|w| w == b"first paint")).unwrap_or(false) {
        println!("first paint: from the app's log line (`first paint since_start_ms=… at_unix_ms=…`)");
        Detect::Log
    } else {
        println!(
            "first paint: this build writes no `first paint` log line; seen on screen instead (ImageMagick captures \
             of the window's corner until it is not one flat colour; ± one capture, about 50 ms)"
        );
        Detect::Screen
    };
    let emu = Emulator::start();
    let display = Display::start();

    let mut spawn_to_paint = Vec::new();
    let mut since_start = Vec::new();
    let mut t = Table::new(
        &format!("Cold start to first interactive paint — {runs} starts"),
        &["start", "spawn → first paint (ms)", "app's since_start_ms", "spawn → main (ms)"],
    );
    for i in 0..runs {
        let s = launch(&app, &display, &emu, detect);
        let before_main = s.since_start_ms.map(|m| s.spawn_to_paint_ms - m).unwrap_or(f64::NAN);
        t.row(vec![
            format!("{}{}", i + 1, if i == 0 { " (first)" } else { "" }),
            fmt(s.spawn_to_paint_ms),
            s.since_start_ms.map(fmt).unwrap_or_else(|| "–".into()),
            fmt(before_main),
        ]);
        spawn_to_paint.push(s.spawn_to_paint_ms);
        if let Some(m) = s.since_start_ms {
            since_start.push(m);
        }
        // Let it finish what it started (the status check) so that stopping it is a normal close.
        std::thread::sleep(Duration::from_millis(300));
        stop(s);
        std::thread::sleep(Duration::from_millis(300));
    }
    t.print();
    let later: Vec<f64> = spawn_to_paint.iter().skip(1).copied().collect();
    let med = median(if later.is_empty() { &spawn_to_paint } else { &later });

    // Idle memory: one more start, idle 10 s after it painted.
    let s = launch(&app, &display, &emu, detect);
    std::thread::sleep(Duration::from_secs(10));
    let pid = s.app.0.id();
    let procs = support::tree_memory(pid);
    let mut m = Table::new(
        "Idle memory, 10 s after the first paint (all the app's processes)",
        &["process", "pid", "PSS (MB)", "RSS (MB)", "private (MB)"],
    );
    let (mut pss, mut rss, mut private) = (0u64, 0u64, 0u64);
    for (name, p, ps, rs) in &procs {
        let uss = support::private_kb(*p).unwrap_or(0);
        m.row(vec![name.clone(), p.to_string(), fmt(*ps as f64 / 1024.0), fmt(*rs as f64 / 1024.0), fmt(uss as f64 / 1024.0)]);
        pss += ps;
        rss += rs;
        private += uss;
    }
    let pss_mb = pss as f64 / 1024.0;
    m.row(vec![
        format!("total ({} processes)", procs.len()),
        String::new(),
        fmt(pss_mb),
        fmt(rss as f64 / 1024.0),
        fmt(private as f64 / 1024.0),
    ]);
    m.print();
    let log_dir = s.data_dir.join("logs");
    stop(s);

    let mut g = Table::new("Summary", &["figure", "goal", "measured", "verdict"]);
    g.row(vec![
        "cold start → first interactive paint (median of starts 2…)".into(),
        format!("< {PAINT_GOAL_MS:.0} ms"),
        format!("{} ms (first start {} ms)", fmt(med), fmt(spawn_to_paint[0])),
        verdict(med, PAINT_GOAL_MS, "ms"),
    ]);
    if !since_start.is_empty() {
        g.row(vec![
            "…of which after the process started (app's since_start_ms, median)".into(),
            String::new(),
            format!("{} ms", fmt(median(&since_start))),
            String::new(),
        ]);
    }
    g.row(vec![
        "idle memory, PSS of all the app's processes".into(),
        format!("< {MEMORY_GOAL_MB:.0} MB"),
        format!("{} MB (RSS {} MB, private {} MB)", fmt(pss_mb), fmt(rss as f64 / 1024.0), fmt(private as f64 / 1024.0)),
        verdict(pss_mb, MEMORY_GOAL_MB, "MB"),
    ]);
    g.print();
    println!(
        "MB = 2^20 bytes here. PSS shares each shared page among the processes mapping it (so it adds up across \
         processes); RSS counts shared libraries in full in every process; private = pages no other process maps."
    );
    if detect == Detect::Log {
        println!("(last start's log folder was {})", log_dir.display());
    }
}
