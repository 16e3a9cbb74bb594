//! The app's log: one file a day in the app's log folder, the last week kept, so a user can send what
//! happened without a terminal. What is logged: what the app did and how it went (server kind, model, timings,
//! errors). Never what the user wrote or the model answered, never keys.
//!
//! `GEMMA_DESK_LOG` takes a tracing filter (e.g. `debug`) to say more.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

/// Log files are `gemma-desk.YYYY-MM-DD.log`.
pub const FILE_PREFIX: &str = "gemma-desk";
/// Daily files kept: a week of history is enough to report a problem, and bounds the folder's size.
const KEEP_FILES: usize = 7;

static START: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the process; call first thing in `main`.
pub fn mark_start() {
    START.get_or_init(Instant::now);
}

/// Milliseconds since [`mark_start`].
pub fn since_start_ms() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Starts writing the log into `dir`. Logging is a help, not a duty: if the folder cannot be written the app
/// runs without a log (and says so on stderr and in the diagnostics).
pub fn init(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the log folder {}: {e}", dir.display()))?;
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", dir.display()))?;
    // Ours at info; the libraries' own chatter only when something goes wrong.
    let filter = EnvFilter::try_from_env("GEMMA_DESK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,gemma_desk=info,gemma_desk_core=info"));
    // Written as each event happens (no background writer): the last lines before a crash are the useful ones.
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(file).with_ansi(false).with_target(true))
        .try_init()
        .map_err(|e| e.to_string())?;
    // A panic is logged before the default hook prints it (which nobody sees in a desktop app).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(target: "gemma_desk", "panic: {info}");
        default_hook(info);
    }));
    Ok(())
}

/// What of an error's message goes in the log: errors about servers, models and storage are logged in full;
/// errors that may quote a server's reply or model output (server, stream, protocol, other) by kind only.
pub fn error_detail<'a>(kind: &str, message: &'a str) -> &'a str {
    const QUOTES_NOTHING: &[&str] = &[
        "unreachable",
        "not_ollama",
        "model_not_found",
        "model_unable",
        "no_suitable_model",
        "unknown_model",
        "pull_failed",
        "busy",
        "connection_cut",
        "stalled",
        "cancelled",
        "keychain",
        "storage",
        "storage_read_only",
        "storage_not_found",
    ];
    if QUOTES_NOTHING.contains(&kind) {
        message
    } else {
        "(not logged: it may quote the server's reply)"
    }
}
