//! The About box (version, licences, the model's own terms) and "Copy diagnostics".

use crate::error::CmdResult;
use crate::lifecycle::Shell;
use crate::state::AppState;
use gemma_desk_core::diagnostics::{self, Diagnostics};
use serde::{Deserialize, Serialize};
use tauri::State;

/// Where Google publishes the terms Gemma models come under: they bind the models, not this app.
pub const GEMMA_TERMS: &str = "https://ai.google.dev/gemma/terms";

/// The Rust crates compiled into the app and their licences, generated from Cargo.lock (see the test
/// `third_party_licences_are_current` in tests/e2e/tests/shell.rs, which also regenerates it).
const CRATES: &str = include_str!("../licenses.json");

/// Scripts shipped in `ui/vendor` (their licence texts are beside them).
const SCRIPTS: &[(&str, &str, &str)] = &[("highlight.js", "11.12.0", "BSD-3-Clause"), ("KaTeX", "0.19.1", "MIT")];

#[derive(Serialize, Deserialize)]
pub struct Component {
    name: String,
    version: String,
    license: String,
}

#[derive(Serialize)]
pub struct About {
    version: &'static str,
    license: &'static str,
    tauri: &'static str,
    webview: Option<String>,
    gemma_terms: &'static str,
    components: Vec<Component>,
}

#[tauri::command]
pub fn about() -> About {
    let mut components: Vec<Component> = SCRIPTS
        .iter()
        .map(|(n, v, l)| Component { name: n.to_string(), version: v.to_string(), license: l.to_string() })
        .collect();
    components.extend(serde_json::from_str::<Vec<Component>>(CRATES).unwrap_or_default());
    About {
        version: env!("CARGO_PKG_VERSION"),
        license: env!("CARGO_PKG_LICENSE"),
        tauri: tauri::VERSION,
        webview: tauri::webview_version().ok(),
        gemma_terms: GEMMA_TERMS,
        components,
    }
}

/// The diagnostics report (no conversation content, no secrets: see `core::diagnostics`), shown to the user
/// before it is copied.
#[tauri::command]
pub async fn diagnostics(state: State<'_, AppState>, shell: State<'_, Shell>) -> CmdResult<String> {
    let settings = state.settings.lock().unwrap().clone();
    let store = match state.conversations() {
        Ok(s) => (Some(s.path().to_path_buf()), s.stats()),
        Err(e) => (None, Err(e)),
    };
    let mut runtime = vec![("Tauri", tauri::VERSION.to_string())];
    if let Ok(v) = tauri::webview_version() {
        runtime.push(("WebView", v));
    }
    Ok(diagnostics::report(&Diagnostics {
        app_version: env!("CARGO_PKG_VERSION"),
        runtime,
        settings: &settings,
        system_lang: state.system_lang,
        store,
        log_dir: shell.log_dir.as_deref(),
        first_paint_ms: shell.first_paint_ms(),
    }))
}
