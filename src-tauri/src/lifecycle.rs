//! The app's life as a desktop program: one instance per profile, the window where the user left it, a clean
//! exit on Ctrl+Q or a signal (so window state and logs are saved), and when the window first painted.

use crate::logging;
use std::path::PathBuf;
use std::sync::OnceLock;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_window_state::StateFlags;

/// What is remembered of the window: size, position and whether it was maximised (not visibility: the app
/// always opens visible; not fullscreen: reopening fullscreen surprises more than it helps).
pub fn remembered() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// The name a running instance holds (on Linux, on the session D-Bus). A separate data folder
/// (`GEMMA_DESK_DATA_DIR`: portable installs, tests) is a separate app instance; the same folder is not, so
/// two windows never write one database.
pub fn instance_id(identifier: &str) -> String {
    match gemma_desk_core::settings::data_dir_override() {
        Some(dir) => {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            // FNV-1a: stable across builds (std's hasher is not), and a D-Bus name element must not start with a digit.
            let hash = dir
                .as_os_str()
                .as_encoded_bytes()
                .iter()
                .fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3));
            format!("{identifier}.p{hash:016x}")
        }
        None => identifier.to_string(),
    }
}

/// A second launch lands here (in the first instance): bring the window to the front.
pub fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    tracing::info!("a second launch asked for the window");
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// SIGTERM (logout, `kill`), SIGINT and SIGHUP end the app the way closing it does, so the window state is saved.
pub fn exit_on_signals<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
                (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
            else {
                tracing::warn!("cannot listen for signals: they will end the app abruptly");
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = hup.recv() => {}
            }
            tracing::info!("stopping on a signal");
            app.exit(0);
        });
    }
    #[cfg(not(unix))]
    let _ = app;
}

/// What the shell knows about itself, for the About box and diagnostics.
pub struct Shell {
    pub log_dir: Option<PathBuf>,
    first_paint_ms: OnceLock<u64>,
    last_status: std::sync::Mutex<String>,
}

impl Shell {
    pub fn new(log_dir: Option<PathBuf>) -> Self {
        Shell { log_dir, first_paint_ms: OnceLock::new(), last_status: Default::default() }
    }

    /// Whether `status` differs from the last one noted (and notes it).
    pub fn status_changed(&self, status: &str) -> bool {
        let mut last = self.last_status.lock().unwrap();
        if *last == status {
            return false;
        }
        *last = status.to_string();
        true
    }

    pub fn first_paint_ms(&self) -> Option<u64> {
        self.first_paint_ms.get().copied()
    }
}

/// The page says it has painted its first usable screen: logged once, with the time since the process started
/// (what users feel as start-up time; the benchmark reads this line).
#[tauri::command]
pub fn ui_ready(shell: tauri::State<'_, Shell>) {
    let ms = logging::since_start_ms();
    if shell.first_paint_ms.set(ms).is_ok() {
        let at_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        tracing::info!(since_start_ms = ms, at_unix_ms, "first paint");
    }
}

/// Ctrl+Q: leave the way closing the window does (window state saved, answers in flight stop).
#[tauri::command]
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    tracing::info!("quit from the keyboard");
    app.exit(0);
}
