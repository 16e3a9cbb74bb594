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
//! sandbox helpers), each listed, with the largest mappings of each.
//!
//! Baseline, in the same run: WebKitGTK's own MiniBrowser (from libwebkit2gtk-4.1-0) showing a one-paragraph
//! local page, same display and environment, started between the app's starts: the floor any WebKitGTK window
//! pays. Its first paint is seen on screen (a capture of the page's area until it shows text), so it is an upper
//! bound by about one capture (~50 ms).
mod support;

use gemma_desk_e2e::emulator::Emulator;
use gemma_desk_e2e::{Display, Proc, Profile};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{fmt, median, unix_ms, verdict, Table};

const PAINT_GOAL_MS: f64 = 1500.0;
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/// The baseline's page: text over the region the capture looks at (below MiniBrowser's toolbar).
const BASELINE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>baseline</title>\
<body style='margin:0;font:28px sans-serif'><p style='padding:120px 60px'>A WebKitGTK window showing one paragraph: \
the floor any app built on WebKitGTK pays, measured beside Gemma Desk in the same run.</p>";
const BASELINE_REGION: &str = "600x160+40+140";
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

/// MiniBrowser on `page`: (spawn → page painted in ms, the process).
fn launch_baseline(display: &Display, page: &Path) -> (f64, Proc, Profile) {
    let profile = Profile::new();
    let data_dir = profile.dir.path().join("data");
    let mut cmd = Command::new(MINIBROWSER);
    cmd.arg(format!("file://{}", page.display()))
        .env_remove("WAYLAND_DISPLAY")
        .env("DISPLAY", &display.name)
        .envs(support::app_env(&profile, &data_dir, "http://127.0.0.1:9"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let spawned_at = unix_ms();
    let started = Instant::now();
    let p = Proc(cmd.spawn().expect("start MiniBrowser"));
    loop {
        let before = unix_ms();
        if support::screen_painted_at(&display.name, BASELINE_REGION) {
            return ((before + unix_ms()) / 2.0 - spawned_at, p, profile);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "MiniBrowser did not paint its page in 60 s");
    }
}

fn stop_proc(p: Proc) {
    let tree = support::descendants(p.0.id());
    drop(p);
    support::stop_pids(&tree);
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
    let baseline_dir = tempfile::tempdir().unwrap();
    let page = baseline_dir.path().join("baseline.html");
    std::fs::write(&page, BASELINE_PAGE).unwrap();
    let has_baseline = Path::new(MINIBROWSER).is_file();
    if !has_baseline {
        println!("(no {MINIBROWSER}: no baseline)");
    }
    let mut baseline_paint = Vec::new();

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
        if has_baseline {
            let (ms, p, _profile) = launch_baseline(&display, &page);
            baseline_paint.push(ms);
            std::thread::sleep(Duration::from_millis(300));
            stop_proc(p);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    t.print();
    if has_baseline {
        println!(
            "Baseline, MiniBrowser spawn → its page painted (seen on screen), starts interleaved with the app's: {} ms \
             (median of starts 2…; all: {})",
            fmt(median(&baseline_paint.iter().skip(1).copied().collect::<Vec<_>>())),
            baseline_paint.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(", ")
        );
    }
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
        m.row(vec![
            name.clone(),
            p.to_string(),
            fmt(*ps as f64 / 1024.0),
            fmt(*rs as f64 / 1024.0),
            fmt(uss as f64 / 1024.0),
        ]);
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
    println!("Where it goes (PSS by mapping, largest five per process):");
    for (name, p, _, _) in &procs {
        let top: Vec<String> = support::pss_by_mapping(*p)
            .into_iter()
            .take(5)
            .map(|(m, kb)| format!("{m} {:.1}", kb as f64 / 1024.0))
            .collect();
        println!("  {name}: {} (MB)", top.join(", "));
    }
    let log_dir = s.data_dir.join("logs");
    stop(s);

    // The baseline's idle memory, measured the same way.
    let mut base_pss_mb = f64::NAN;
    if has_baseline {
        std::thread::sleep(Duration::from_millis(500));
        let (_, p, _profile) = launch_baseline(&display, &page);
        std::thread::sleep(Duration::from_secs(10));
        let procs = support::tree_memory(p.0.id());
        let mut b = Table::new(
            "Baseline: MiniBrowser showing one paragraph, 10 s after its first paint",
            &["process", "PSS (MB)", "RSS (MB)", "private (MB)"],
        );
        let (mut ps, mut rs, mut pv) = (0u64, 0u64, 0u64);
        for (name, pid, pss, rss) in &procs {
            let uss = support::private_kb(*pid).unwrap_or(0);
            b.row(vec![name.clone(), fmt(*pss as f64 / 1024.0), fmt(*rss as f64 / 1024.0), fmt(uss as f64 / 1024.0)]);
            ps += pss;
            rs += rss;
            pv += uss;
        }
        base_pss_mb = ps as f64 / 1024.0;
        b.row(vec![
            format!("total ({} processes)", procs.len()),
            fmt(base_pss_mb),
            fmt(rs as f64 / 1024.0),
            fmt(pv as f64 / 1024.0),
        ]);
        b.print();
        stop_proc(p);
    }

    let mut g = Table::new("Summary", &["figure", "goal", "measured", "verdict"]);
    let base_med = median(&baseline_paint.iter().skip(1).copied().collect::<Vec<_>>());
    g.row(vec![
        "cold start → first interactive paint (median of starts 2…)".into(),
        format!("< {PAINT_GOAL_MS:.0} ms"),
        format!(
            "{} ms (first start {} ms); MiniBrowser baseline {} ms, app − baseline {} ms",
            fmt(med),
            fmt(spawn_to_paint[0]),
            fmt(base_med),
            support::fmt_diff(med - base_med)
        ),
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
        format!(
            "{} MB (RSS {} MB, private {} MB); MiniBrowser baseline {} MB, app − baseline {} MB",
            fmt(pss_mb),
            fmt(rss as f64 / 1024.0),
            fmt(private as f64 / 1024.0),
            fmt(base_pss_mb),
            support::fmt_diff(pss_mb - base_pss_mb)
        ),
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
